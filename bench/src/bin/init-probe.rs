//! Where a function's init goes: the hello world of `hello.rs`, linked with
//! the whole shared crate (so its binary is the size of a function's), doing
//! only the first `PROBE_STAGE` steps of a function's start before it asks
//! for work: 0 nothing, 1 logging, 2 logging and the SDK configuration, 3
//! logging and `App::from_env` (configuration, SDK configuration, the three
//! clients), which is all a function does before `lambda_http::run`.

use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let stage: u8 = std::env::var("PROBE_STAGE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if stage >= 1 {
        shared::logging::init();
    }
    let mut keep = None;
    if stage == 2 {
        // As `Clients::from_env` loads it.
        let sdk = shared::aws::sdk_config_from_env().await;
        keep = Some(sdk.region().map(ToString::to_string));
    }
    if stage >= 3 {
        let app = shared::app::App::from_env().await.map_err(Error::from)?;
        keep = Some(Some(app.config.table_name.clone()));
    }
    lambda_http::run(service_fn(move |_req: Request| {
        let _ = &keep;
        async { Ok::<_, Error>("hello") }
    }))
    .await
}
