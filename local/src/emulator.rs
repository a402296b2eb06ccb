//! The local emulator of DynamoDB, SES and S3 (moto server, from the
//! project's `.venv`): start it, wait for it, read the mails it accepted.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_config_shim::*;
use mail_parser::{MessageParser, MimeHeaders};
use serde::Serialize;
use serde_json::Value;

/// Re-exports of the SDK pieces used to point clients at the emulator.
mod aws_config_shim {
    pub use shared::aws_config::{BehaviorVersion, Region, SdkConfig};
    pub use shared::aws_credential_types::Credentials;
}

/// An SDK configuration for the emulator: fixed test credentials (so the
/// SDK never looks for real ones), a region, short timeouts.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    shared::aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("eu-south-1"))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "local-emulator",
        ))
        .timeout_config(
            shared::aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .load()
        .await
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// The Python of the project's virtual environment, which has moto.
pub fn moto_binary() -> PathBuf {
    crate::workspace_root().join(".venv/bin/python")
}

/// moto's server as the local stack runs it (`local/emulator.py`: moto
/// unchanged but for what its dashboard tracks).
pub fn emulator_script() -> PathBuf {
    crate::workspace_root().join("local/emulator.py")
}

/// Start moto on `port`; it is killed when the returned child is dropped.
pub async fn spawn(port: u16, log: &std::path::Path) -> Result<tokio::process::Child, String> {
    let binary = moto_binary();
    if !binary.exists() {
        return Err(format!(
            "{} not found: run `make dev` (it installs the local tools) or `make venv`",
            binary.display()
        ));
    }
    let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
    let child = tokio::process::Command::new(binary)
        .arg(emulator_script())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file))
        .stderr(Stdio::from(log_err))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    wait_ready(&format!("http://127.0.0.1:{port}"), Duration::from_secs(30)).await?;
    Ok(child)
}

/// Wait until the emulator answers.
pub async fn wait_ready(url: &str, timeout: Duration) -> Result<(), String> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + timeout;
    loop {
        if client
            .get(format!("{url}/moto-api/"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the emulator at {url} did not answer within {timeout:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// One accepted mail, as `GET /_local/outbox` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<OutboxAttachment>,
    pub sent_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxAttachment {
    pub filename: String,
    pub content_type: String,
    pub size: usize,
}

/// Moto's state dump, retried: `data.json` walks every model of every
/// service, and a write landing in the middle of the walk (another test's
/// DynamoDB item, an S3 upload) makes it fail with a 500 now and then.
async fn emulator_state(url: &str) -> Result<Value, String> {
    const ATTEMPTS: u32 = 6;
    let client = reqwest::Client::new();
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let reply = client.get(format!("{url}/moto-api/data.json")).send().await;
        last = match reply {
            Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                Ok(data) => return Ok(data),
                Err(e) => format!("emulator data unreadable: {e}"),
            },
            Ok(r) => format!("emulator answered {}", r.status()),
            Err(e) => format!("emulator unreachable: {e}"),
        };
        if attempt < ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
        }
    }
    Err(last)
}

/// Every message the emulated SES accepted, oldest first.
pub async fn outbox(url: &str) -> Result<Vec<OutboxMessage>, String> {
    let data = emulator_state(url).await?;
    let mut messages = Vec::new();
    let raw = data
        .pointer("/ses/RawMessage")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for entry in raw {
        let to: Vec<String> = entry
            .get("destinations")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let raw_data = entry.get("raw_data").and_then(Value::as_str).unwrap_or("");
        let Some(parsed) = MessageParser::default().parse(raw_data) else {
            continue;
        };
        let attachments = parsed
            .attachments()
            .map(|a| OutboxAttachment {
                filename: a.attachment_name().unwrap_or("").to_owned(),
                content_type: a
                    .content_type()
                    .map(|ct| match ct.subtype() {
                        Some(sub) => format!("{}/{}", ct.ctype(), sub),
                        None => ct.ctype().to_owned(),
                    })
                    .unwrap_or_default(),
                size: a.contents().len(),
            })
            .collect();
        messages.push(OutboxMessage {
            to,
            subject: parsed.subject().unwrap_or("").to_owned(),
            text: parsed
                .body_text(0)
                .map(|t| t.into_owned())
                .unwrap_or_default(),
            html: parsed
                .body_html(0)
                .map(|t| t.into_owned())
                .unwrap_or_default(),
            attachments,
            sent_at: parsed.date().map(|d| d.to_rfc3339()),
        });
    }
    Ok(messages)
}

/// One accepted SMS, as `GET /_local/sms-outbox` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SmsMessage {
    pub to: String,
    pub text: String,
    pub sent_at: Option<String>,
    /// The emulator's message id (not in the contract's shape).
    #[serde(skip)]
    pub id: String,
}

/// Every SMS the emulated SNS accepted, oldest first. The emulator keeps
/// no time for them: `sent_at` is filled in by the caller.
pub async fn sms_outbox(url: &str) -> Result<Vec<SmsMessage>, String> {
    let data = emulator_state(url).await?;
    let field = |entry: &Value, name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    Ok(data
        .pointer("/sns/SMS")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|e| SmsMessage {
                    to: field(e, "phone_number"),
                    text: field(e, "message"),
                    sent_at: None,
                    id: field(e, "message_id"),
                })
                .collect()
        })
        .unwrap_or_default())
}
