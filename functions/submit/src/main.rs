#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::run_lambda(fn_submit::handle).await
}
