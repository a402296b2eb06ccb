//! The smallest lambda_http function: the yardstick of every cold start.
//! Same crate versions, features and release profile as the functions, no
//! AWS clients, no configuration, no logging.

use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_req: Request| async {
        Ok::<_, Error>("hello")
    }))
    .await
}
