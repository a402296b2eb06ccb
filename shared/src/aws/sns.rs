//! The SMS adapter: Amazon SNS `Publish` straight to a phone number
//! (no topic), as a transactional message so that carriers give it
//! priority over marketing traffic. A successful publish means SNS accepted
//! the message, not that the phone received it.

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::ports::{Sms, SmsError, Texter};

#[derive(Clone, Debug)]
pub struct SnsTexter {
    client: Client,
    /// The registered alphanumeric sender id (for Italian numbers), if any.
    sender_id: Option<String>,
}

impl SnsTexter {
    pub fn new(client: Client, sender_id: Option<String>) -> Self {
        Self { client, sender_id }
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, SmsError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| SmsError::Rejected(format!("message attribute: {e}")))
}

#[async_trait]
impl Texter for SnsTexter {
    async fn send(&self, sms: &Sms) -> Result<(), SmsError> {
        let mut publish = self
            .client
            .publish()
            .phone_number(sms.to.as_str())
            .message(&sms.text)
            .message_attributes("AWS.SNS.SMS.SMSType", string_attribute("Transactional")?);
        if let Some(sender) = &self.sender_id {
            publish = publish.message_attributes("AWS.SNS.SMS.SenderID", string_attribute(sender)?);
        }
        match publish.send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                let transient = super::is_transient(&err);
                let what = super::describe(&err);
                tracing::warn!(error = %what, transient, "sns publish failed");
                let code = err.as_service_error().and_then(|e| {
                    aws_sdk_sns::error::ProvideErrorMetadata::code(e).map(str::to_owned)
                });
                if transient {
                    Err(SmsError::Unavailable)
                } else if matches!(
                    code.as_deref(),
                    Some("InvalidParameter" | "InvalidParameterValue")
                ) {
                    Err(SmsError::InvalidNumber)
                } else {
                    Err(SmsError::Rejected(what))
                }
            }
        }
    }
}
