//! The local stack: the same handlers as in Lambda, routed by the routes of
//! `infra/template.yaml`, in front of a local emulator of DynamoDB, SES and
//! S3 (moto). Used by `make dev` and by the end-to-end tests.

pub mod app_io;
pub mod emulator;
pub mod faults;
pub mod iam;
pub mod iam_policy;
pub mod idp;
pub mod oidc;
pub mod registry;
pub mod samples;
pub mod seed;
pub mod server;
pub mod template;
pub mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use shared::app::App;
use shared::aws::setup;
use shared::config::Config;
use shared::ports::OffsetClock;

/// The workspace root (where `infra/` and `local/` are).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The sender of the local stacks' mail (the template's `MailFrom` for the
/// IAM check).
pub const MAIL_FROM: &str = "no-reply@iscrizioni.comune.example.it";

/// How to start the stack.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to serve on; port 0 picks a free one.
    pub addr: SocketAddr,
    /// The emulator's endpoint, e.g. `http://127.0.0.1:5000`.
    pub emulator_url: String,
    pub table: String,
    pub bucket: String,
    pub mail_from: String,
    /// At least 32 bytes; a random one when `None`.
    pub secret: Option<String>,
    /// Put the fault proxy between the stack and the emulator (tests).
    pub fault_proxy: bool,
}

/// A running stack.
pub struct Running {
    pub addr: SocketAddr,
    pub app: App,
    pub clock: OffsetClock,
    pub emulator_url: String,
    /// The local staff identity provider (tests trust it for their own
    /// tenants and mint tokens with it).
    pub staff: server::LocalIdp,
    /// The local SPID/CIE stand-in.
    pub oidc: server::LocalIdp,
    /// The fault switches, when the stack runs behind the fault proxy.
    pub faults: Option<Arc<faults::Faults>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop serving and wait for the server task.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Create the resources, seed the `demo` tenant, and serve.
pub async fn start(options: Options) -> Result<Running, String> {
    let routes = template::load(&workspace_root().join("infra/template.yaml"))?;
    let router = registry::Router::new(&routes)?;
    let (aws_url, faults) = if options.fault_proxy {
        let faults = Arc::new(faults::Faults::default());
        let url = faults::start(options.emulator_url.clone(), faults.clone()).await?;
        (url, Some(faults))
    } else {
        (options.emulator_url.clone(), None)
    };
    // Every call a handler makes is recorded for the IAM check (`iam`).
    let sdk = emulator::sdk_config(&aws_url).await;
    let clients = iam::recorded_clients(&sdk);
    let challenge_set =
        ensure_challenge_set(&sdk, &format!("{}-challenged-paths", options.table)).await?;
    let challenge_list = fn_close_windows::waf::WafChallengeList::new(
        iam::recorded_wafv2(&sdk),
        challenge_set.0.clone(),
        challenge_set.1.clone(),
    );
    setup::ensure_all(
        &clients,
        &options.table,
        &options.bucket,
        &options.mail_from,
    )
    .await?;
    let secret = match options.secret {
        Some(s) => s,
        None => shared::config::hex(&shared::ops::random_bytes::<32>().map_err(|e| e.to_string())?),
    };
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|e| server::bind_error(options.addr, &e))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let base = format!("http://{addr}");
    let staff = server::LocalIdp::generate(
        "local-staff-1",
        &format!("{base}{}", server::STAFF_IDP_PATH),
    )?;
    let mut config = Config::new(
        &options.table,
        &options.bucket,
        &options.mail_from,
        secret.as_bytes(),
    )?;
    // The staff stand-in is the deployment's staff user pool.
    config.staff_pool = Some(staff.pool());
    // App IO: the stand-in on this server, the comuni's keys in the
    // emulated Secrets Manager as in the stack (`<prefix><slug>`).
    let app_io_key =
        shared::config::hex(&shared::ops::random_bytes::<16>().map_err(|e| e.to_string())?);
    let app_io_prefix = format!("{}/app-io/", options.table);
    store_app_io_keys(&sdk, &app_io_prefix, &app_io_key).await?;
    config.app_io_url = format!("{base}/_local/app-io");
    config.app_io_secret_prefix = Some(app_io_prefix);
    // One App serves every function here; in AWS each function's process
    // reads the key itself. Not kept, each function's read is recorded for
    // the IAM check.
    config.app_io_key_ttl = std::time::Duration::ZERO;
    let clock = OffsetClock::default();
    let mut app = App::with_aws(&clients, config, Arc::new(clock.clone()));
    // The web ACL's challenge list (`ChallengedPaths` of the template).
    app.challenges = Some(Arc::new(challenge_list));
    let oidc = server::LocalIdp::generate("local-spid-1", &format!("{base}/_local/oidc"))?;
    for file in seed::FILES {
        seed::seed_file(
            &app,
            &workspace_root().join(file),
            seed::Trust {
                // Staff sign in through the deployment's pool (below).
                staff: None,
                oidc: Some(server::oidc_provider(&base)),
            },
        )
        .await?;
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let app_io_seed: app_io::Seed = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join(app_io::SEED_FILE))
            .map_err(|e| format!("{}: {e}", app_io::SEED_FILE))?,
    )
    .map_err(|e| format!("{}: {e}", app_io::SEED_FILE))?;
    let state = Arc::new(
        server::State::new(
            app.clone(),
            router,
            options.emulator_url.clone(),
            staff.clone(),
            oidc.clone(),
            base,
        )
        .with_app_io(app_io::StandIn::new(
            app_io_key,
            app_io_seed,
            faults.clone(),
        )),
    );
    let task = tokio::spawn(server::serve(listener, state, rx));
    Ok(Running {
        addr,
        app,
        clock,
        emulator_url: options.emulator_url,
        staff,
        oidc,
        faults,
        shutdown: Some(tx),
        task,
    })
}

/// The seeded comuni's App IO keys, as the stack keeps them: one secret
/// per tenant, `<prefix><slug>` (made, or given a new value).
async fn store_app_io_keys(
    sdk: &shared::aws_config::SdkConfig,
    prefix: &str,
    key: &str,
) -> Result<(), String> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let err = |e: &dyn std::fmt::Display| format!("app io key: {e}");
    for slug in seed::SLUGS {
        let name = format!("{prefix}{slug}");
        let made = client
            .create_secret()
            .name(&name)
            .secret_string(key)
            .send()
            .await;
        if let Err(e) = made {
            let exists = e
                .as_service_error()
                .is_some_and(|s| s.is_resource_exists_exception());
            if !exists {
                return Err(err(&aws_sdk_secretsmanager::error::DisplayErrorContext(&e)));
            }
            client
                .put_secret_value()
                .secret_id(&name)
                .secret_string(key)
                .send()
                .await
                .map_err(|e| err(&aws_sdk_secretsmanager::error::DisplayErrorContext(&e)))?;
        }
    }
    Ok(())
}

/// The stack's challenge list, as the template's `ChallengedPaths`: found
/// by name, or made with the pattern that matches nothing. Its name and id.
async fn ensure_challenge_set(
    sdk: &shared::aws_config::SdkConfig,
    name: &str,
) -> Result<(String, String), String> {
    use aws_sdk_wafv2::types::{Regex, Scope};
    let client = aws_sdk_wafv2::Client::new(sdk);
    let err = |e: &dyn std::fmt::Display| format!("challenge list: {e}");
    let listed = client
        .list_regex_pattern_sets()
        .scope(Scope::Regional)
        .send()
        .await
        .map_err(|e| err(&aws_sdk_wafv2::error::DisplayErrorContext(&e)))?;
    if let Some(found) = listed
        .regex_pattern_sets()
        .iter()
        .find(|s| s.name() == Some(name))
    {
        return Ok((name.to_owned(), found.id().unwrap_or_default().to_owned()));
    }
    let made = client
        .create_regex_pattern_set()
        .name(name)
        .scope(Scope::Regional)
        .regular_expression_list(
            Regex::builder()
                .regex_string(shared::ops::code_volume::NO_PATH)
                .build(),
        )
        .send()
        .await
        .map_err(|e| err(&aws_sdk_wafv2::error::DisplayErrorContext(&e)))?;
    let id = made
        .summary()
        .and_then(|s| s.id())
        .ok_or_else(|| "challenge list: no id".to_owned())?;
    Ok((name.to_owned(), id.to_owned()))
}
