//! The domain crate shared by every Lambda function of the enrollment system.

pub mod app;
pub mod aws;
pub mod config;
pub mod documents;
pub mod domain;
pub mod http;
pub mod logging;
pub mod ops;
pub mod ports;
