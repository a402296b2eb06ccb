//! The SES mailer: every message goes out as MIME (multipart/alternative
//! text + HTML, plus attachments) through SendRawEmail.

use async_trait::async_trait;
use aws_sdk_ses::Client;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use mail_builder::MessageBuilder;

use crate::ports::{Mail, MailError, Mailer};

#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }
}

/// The MIME text of a message, exactly as it is handed to SES.
pub fn render_mime(from: &str, mail: &Mail) -> Result<Vec<u8>, MailError> {
    let mut builder = MessageBuilder::new()
        .from(from.to_owned())
        .to(mail.to.clone())
        .subject(mail.subject.clone())
        .text_body(mail.text.clone())
        .html_body(mail.html.clone());
    for a in &mail.attachments {
        builder = builder.attachment(a.content_type.clone(), a.filename.clone(), a.data.clone());
    }
    builder
        .write_to_vec()
        .map_err(|e| MailError::Rejected(format!("mime: {e}")))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let mime = render_mime(&self.from, mail)?;
        let raw = RawMessage::builder()
            .data(Blob::new(mime))
            .build()
            .map_err(|e| MailError::Rejected(format!("raw message: {e}")))?;
        match self.client.send_raw_email().raw_message(raw).send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                let transient = super::is_transient(&err);
                let what = super::describe(&err);
                tracing::warn!(error = %what, transient, "ses send failed");
                if transient {
                    Err(MailError::Unavailable)
                } else {
                    Err(MailError::Rejected(what))
                }
            }
        }
    }
}
