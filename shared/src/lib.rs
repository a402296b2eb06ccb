//! The domain crate shared by every Lambda function of the enrollment system.

pub mod app;
pub mod aws;
pub mod cache;
pub mod config;
pub mod documents;
pub mod domain;
pub mod http;
pub mod logging;
pub mod ops;
pub mod ports;

// Re-exported for the local stack and the tests, so that they build SDK
// configurations with exactly the versions the adapters use.
pub use aws_config;
pub use aws_credential_types;
pub use aws_sdk_dynamodb;
