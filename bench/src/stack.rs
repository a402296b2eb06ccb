//! The local stack of `make dev` (same template routes, handlers, seed and
//! local identity providers, from the `local` crate), started with AWS
//! clients of the bench's own that carry the request counter.

use std::net::SocketAddr;
use std::sync::Arc;

use local::server::{LocalIdp, State};
use shared::app::App;
use shared::aws::{Clients, setup};
use shared::aws_config::SdkConfig;
use shared::config::Config;
use shared::ports::SystemClock;

use crate::counter::{Counter, Interceptor};

pub const TABLE: &str = "bench-enrollment";
pub const BUCKET: &str = "bench-enrollment-documents";
pub const MAIL_FROM: &str = "no-reply@iscrizioni.comune.example.it";

/// A running stack.
pub struct Stack {
    pub base: String,
    pub app: App,
    pub staff: LocalIdp,
    /// The deployment secret, handed to the function binaries too, so that
    /// the sessions made here are valid there.
    pub secret: String,
    pub emulator_url: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// Clients like `Clients::from_sdk_config`, each with the counter.
pub fn counted_clients(sdk: &SdkConfig, counter: &Arc<Counter>) -> Clients {
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(sdk)
        .interceptor(Interceptor(counter.clone()))
        .build();
    let ses = aws_sdk_ses::config::Builder::from(sdk)
        .interceptor(Interceptor(counter.clone()))
        .build();
    let s3 = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .interceptor(Interceptor(counter.clone()))
        .build();
    let sns = aws_sdk_sns::config::Builder::from(sdk)
        .interceptor(Interceptor(counter.clone()))
        .build();
    let secrets = aws_sdk_secretsmanager::config::Builder::from(sdk)
        .interceptor(Interceptor(counter.clone()))
        .build();
    Clients {
        secrets: aws_sdk_secretsmanager::Client::from_conf(secrets),
        dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb),
        ses: aws_sdk_ses::Client::from_conf(ses),
        s3: aws_sdk_s3::Client::from_conf(s3),
        sns: aws_sdk_sns::Client::from_conf(sns),
    }
}

/// Create the table, bucket and sender, seed the `demo` tenant, and serve
/// on a free loopback port (as `local::start` does).
pub async fn start(emulator_url: &str, counter: &Arc<Counter>) -> Result<Stack, String> {
    let root = local::workspace_root();
    let routes = local::template::load(&root.join("infra/template.yaml"))?;
    let router = local::registry::Router::new(&routes)?;
    let sdk = local::emulator::sdk_config(emulator_url).await;
    let clients = counted_clients(&sdk, counter);
    setup::ensure_all(&clients, TABLE, BUCKET, MAIL_FROM).await?;
    let secret =
        shared::config::hex(&shared::ops::random_bytes::<32>().map_err(|e| e.to_string())?);
    let config = Config::new(TABLE, BUCKET, MAIL_FROM, secret.as_bytes())?;
    let app = App::with_aws(&clients, config, Arc::new(SystemClock));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(|e| format!("bench stack: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let base = format!("http://{addr}");
    let staff = LocalIdp::generate(
        "bench-staff-1",
        &format!("{base}{}", local::server::STAFF_IDP_PATH),
    )?;
    let oidc = LocalIdp::generate("bench-spid-1", &format!("{base}/_local/oidc"))?;
    local::seed::seed_file(
        &app,
        &root.join("local/seed/demo.json"),
        local::seed::Trust {
            staff: Some(staff.trust()),
            oidc: Some(local::server::oidc_provider(&base)),
        },
    )
    .await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let state = Arc::new(State::new(
        app.clone(),
        router,
        emulator_url.to_owned(),
        staff.clone(),
        oidc,
        base.clone(),
    ));
    tokio::spawn(local::server::serve(listener, state, rx));
    Ok(Stack {
        base,
        app,
        staff,
        secret,
        emulator_url: emulator_url.to_owned(),
        _shutdown: tx,
    })
}

/// Start the emulator (moto, from the project's `.venv`) on a free port:
/// the local stack's, with its DynamoDB requests served one at a time
/// (`bench/emulator/serial.py` says why: moto's DynamoDB is not
/// thread-safe, which many families at once would otherwise hit).
pub async fn emulator(log: &std::path::Path) -> Result<(tokio::process::Child, String), String> {
    let port = local::emulator::free_port()?;
    let python = local::emulator::moto_binary();
    if !python.exists() {
        return Err(format!(
            "{} not found: run `make dev` (it installs the local tools) or `make venv`",
            python.display()
        ));
    }
    let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let child = tokio::process::Command::new(python)
        .arg(local::workspace_root().join("bench/emulator/serial.py"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let url = format!("http://127.0.0.1:{port}");
    local::emulator::wait_ready(&url, std::time::Duration::from_secs(30)).await?;
    Ok((child, url))
}
