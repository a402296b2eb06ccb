use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use shared::app::App;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::logging::init();
    let sdk = shared::aws::sdk_config_from_env().await;
    let mut app = App::from_sdk_config(&sdk).map_err(lambda_runtime::Error::from)?;
    app.challenges = fn_close_windows::waf::WafChallengeList::from_env(&sdk)
        .map(|l| std::sync::Arc::new(l) as std::sync::Arc<dyn shared::ports::ChallengeList>);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        async move {
            fn_close_windows::dispatch(&app, &event.payload)
                .await
                .map_err(|e| lambda_runtime::Error::from(e.to_string()))
        }
    }))
    .await
}
