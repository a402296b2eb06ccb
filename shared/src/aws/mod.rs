//! The AWS implementations of the ports. Clients are built once per process
//! from aws-config, so `AWS_ENDPOINT_URL` (or the per-service variables)
//! points them at a local emulator without any code change.

pub mod app_io;
pub mod dynamo;
pub mod s3;
pub mod ses;
pub mod setup;
pub mod sns;

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// One set of AWS clients, shared by every request of a process.
#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub ses: aws_sdk_ses::Client,
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

/// The root certificates of Amazon Trust Services (Amazon Root CA 1 to 4
/// and Starfield Services Root CA - G2, which cross-signs them), as PEM,
/// from Mozilla's root program (Debian's `ca-certificates`).
const AWS_ROOTS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/tls/amazon-trust-services.pem"
));

/// The SDK configuration from the environment, with explicit timeouts (the
/// SDK has none; API Gateway gives up after 30 s), and one HTTPS client
/// for every service: one connection pool, one read of the trust store at
/// start (each client would otherwise build its own). In Lambda the
/// function's credentials are in the environment, so only that provider is
/// used there: the default chain's web-identity and profile providers build
/// clients of their own at start and are never the answer in Lambda.
///
/// In Lambda the HTTPS client trusts only the roots of Amazon Trust
/// Services, compiled in (`assets/tls`): every AWS endpoint is signed by
/// them, and the function then reads no trust store from disk at start
/// (the system's is about 150 files). Elsewhere (the admin command on an
/// officer's machine, behind whatever proxy) the system's roots.
pub async fn sdk_config_from_env() -> SdkConfig {
    use aws_smithy_http_client::tls;
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let mut https = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(
        tls::rustls_provider::CryptoMode::AwsLc,
    ));
    if in_lambda {
        https = https.tls_context(
            tls::TlsContext::builder()
                .with_trust_store(tls::TrustStore::empty().with_pem_certificate(AWS_ROOTS))
                .build()
                .unwrap_or_default(),
        );
    }
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).http_client(https.build_https());
    if in_lambda {
        loader = loader.credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        );
    }
    loader
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(12))
                .build(),
        )
        .load()
        .await
}

impl Clients {
    /// The clients on `sdk_config_from_env`.
    pub async fn from_env() -> Self {
        Self::from_sdk_config(&sdk_config_from_env().await)
    }

    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        // Against an emulator on an IP address, path-style bucket addressing
        // is required; in AWS virtual-hosted style is the default and right.
        let s3_conf = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            ses: aws_sdk_ses::Client::new(sdk),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            sns: aws_sdk_sns::Client::new(sdk),
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
        }
    }
}

/// The raw HTTP response of every SDK client.
pub(crate) type RawResponse = aws_sdk_dynamodb::config::http::HttpResponse;

/// Whether an SDK error is worth a retry later (throttling, time-outs,
/// service faults, any 5xx: a HEAD's error has no body to name its code)
/// rather than a fault of ours.
pub(crate) fn is_transient<E>(err: &aws_sdk_dynamodb::error::SdkError<E, RawResponse>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    use aws_sdk_dynamodb::error::SdkError;
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(e) if e.raw().status().is_server_error() => true,
        SdkError::ServiceError(e) => matches!(
            e.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "Throttling"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "SlowDown"
                    | "InternalError"
            )
        ),
        SdkError::ResponseError(_) => true,
        _ => false,
    }
}

/// A short, non-personal description of an SDK error for the logs.
pub(crate) fn describe<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    use aws_sdk_dynamodb::error::SdkError;
    match err {
        SdkError::ServiceError(e) => {
            format!("service error {}", e.err().code().unwrap_or("(no code)"))
        }
        SdkError::TimeoutError(_) => "timeout".into(),
        SdkError::DispatchFailure(_) => "dispatch failure".into(),
        SdkError::ResponseError(_) => "unreadable response".into(),
        SdkError::ConstructionFailure(_) => "request construction failure".into(),
        _ => "unknown SDK error".into(),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    /// The compiled-in roots are five well-formed certificates (the HTTPS
    /// client parses them at its first connection and panics on a bad one).
    #[test]
    fn the_aws_roots_are_five_certificates() {
        let pem = std::str::from_utf8(super::AWS_ROOTS).expect("ASCII");
        let blocks: Vec<&str> = pem
            .split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|b| b.split("-----END CERTIFICATE-----").next().unwrap_or(""))
            .collect();
        assert_eq!(blocks.len(), 5);
        for block in blocks {
            let der = STANDARD
                .decode(block.split_whitespace().collect::<String>())
                .expect("base64");
            // A DER SEQUENCE with a two-byte length: a certificate.
            assert_eq!(&der[..2], &[0x30, 0x82]);
            assert_eq!(
                usize::from(der[2]) * 256 + usize::from(der[3]) + 4,
                der.len()
            );
        }
    }
}
