//! Logging set-up: JSON lines in Lambda (`LOG_FORMAT=json`), readable text
//! locally. Every request runs in a span that carries its request id.
//! Rule: no email address, fiscal code, name, code, password, token or
//! presigned link is ever a field or part of a message.

use tracing_subscriber::EnvFilter;

/// Crates whose `info` and `debug` lines describe requests in detail (the
/// SDK's retries and endpoints, connection set-up): kept at `warn`
/// whatever `RUST_LOG` says, unless it names them itself. The log scan of
/// `make test` ran with exactly these directives.
const QUIET: &[&str] = &[
    "aws_config",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sdk_dynamodb",
    "aws_sdk_s3",
    "aws_sdk_ses",
    "aws_sdk_sns",
    "hyper",
    "hyper_util",
    "rustls",
    "reqwest",
];

/// The filter for a `RUST_LOG` value (`None`: unset): its directives, `info`
/// when empty, plus `warn` for each quiet crate it does not name.
pub fn directives(rust_log: Option<&str>) -> String {
    let given = rust_log.map(str::trim).filter(|v| !v.is_empty());
    let mut out = given.unwrap_or("info").to_owned();
    for krate in QUIET {
        let named = given.is_some_and(|v| {
            v.split(',')
                .any(|d| d.trim().split(['=', '[', ':']).next() == Some(*krate))
        });
        if !named {
            out.push_str(&format!(",{krate}=warn"));
        }
    }
    out
}

/// Install the global subscriber once; later calls are no-ops.
pub fn init() {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = EnvFilter::try_new(directives(rust_log.as_deref()))
        .unwrap_or_else(|_| EnvFilter::new(directives(None)));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .without_time()
            .try_init()
    } else {
        builder.compact().try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_stays_quiet_whatever_rust_log_says() {
        // The template sets `RUST_LOG=info`: that alone once let the SDK's
        // request lines through in production.
        for given in [
            None,
            Some(""),
            Some("info"),
            Some("debug"),
            Some("warn,shared=debug"),
        ] {
            let d = directives(given);
            for krate in QUIET {
                assert!(d.contains(&format!("{krate}=warn")), "{given:?}: {d}");
            }
            assert!(EnvFilter::try_new(&d).is_ok(), "{d}");
        }
        assert!(directives(Some("debug")).starts_with("debug,"));
        // Naming a quiet crate on purpose (debugging the SDK) is respected.
        let d = directives(Some("info,aws_smithy_runtime=debug"));
        assert!(d.contains("aws_smithy_runtime=debug"));
        assert!(!d.contains("aws_smithy_runtime=warn"));
        assert!(d.contains("aws_smithy_runtime_api=warn"));
    }
}
