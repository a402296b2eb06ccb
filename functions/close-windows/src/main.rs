use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use shared::app::App;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::logging::init();
    let app = App::from_env().await.map_err(lambda_runtime::Error::from)?;
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
