//! A fault proxy in front of the emulator, for tests. The stack's AWS
//! clients talk to it and it forwards every call unchanged, unless a switch
//! is on: then the calls of that service fail as AWS fails under pressure
//! (DynamoDB throttling, SES throttling, S3 "slow down"). The production
//! adapters and the SDK's own retries run exactly as in AWS; only the
//! answers change. It also lets one call at a time through, because the
//! emulator's transactions are not isolated (see `start`). Never part of
//! `make dev`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// What can be made to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every DynamoDB write (put, update, delete, transactions); reads work.
    DynamoDbWrites,
    /// Every DynamoDB call.
    DynamoDb,
    /// Every SES call.
    Ses,
    /// Every S3 call (including presigned links served through the proxy).
    S3,
    /// The App IO stand-in answers 503 (it is not behind the proxy: it
    /// reads this switch itself).
    AppIo,
}

/// The switches, shared between the proxy and the tests.
#[derive(Debug, Default)]
pub struct Faults {
    dynamodb_writes: AtomicBool,
    dynamodb: AtomicBool,
    ses: AtomicBool,
    s3: AtomicBool,
    app_io: AtomicBool,
    /// A sustained SES throttle: only one call in this many is let
    /// through (0: off), as a sending rate far below the demand does.
    ses_one_in: AtomicU32,
    ses_calls: AtomicU32,
}

impl Faults {
    fn flag(&self, fault: Fault) -> &AtomicBool {
        match fault {
            Fault::DynamoDbWrites => &self.dynamodb_writes,
            Fault::DynamoDb => &self.dynamodb,
            Fault::Ses => &self.ses,
            Fault::S3 => &self.s3,
            Fault::AppIo => &self.app_io,
        }
    }

    pub fn set(&self, fault: Fault, on: bool) {
        self.flag(fault).store(on, Ordering::SeqCst);
    }

    /// Throttle SES: let one call in `n` through, refuse the others
    /// (`0` ends it).
    pub fn throttle_ses(&self, n: u32) {
        self.ses_calls.store(0, Ordering::SeqCst);
        self.ses_one_in.store(n, Ordering::SeqCst);
    }

    /// Whether this SES call is refused by the throttle.
    fn ses_throttled(&self) -> bool {
        let n = self.ses_one_in.load(Ordering::SeqCst);
        n > 1
            && !self
                .ses_calls
                .fetch_add(1, Ordering::SeqCst)
                .is_multiple_of(n)
    }

    pub fn clear(&self) {
        self.throttle_ses(0);
        for f in [
            Fault::DynamoDbWrites,
            Fault::DynamoDb,
            Fault::Ses,
            Fault::S3,
            Fault::AppIo,
        ] {
            self.set(f, false);
        }
    }

    pub fn on(&self, fault: Fault) -> bool {
        self.flag(fault).load(Ordering::SeqCst)
    }
}

/// The AWS service a request is for, from its SigV4 credential scope
/// (`…/<region>/<service>/aws4_request`, in the header or, for presigned
/// links, in the query).
fn service_of(req: &hyper::Request<Incoming>) -> String {
    let scope = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            req.uri()
                .query()
                .map(|q| q.replace("%2F", "/").replace("%2f", "/"))
        })
        .unwrap_or_default();
    scope
        .split("/aws4_request")
        .next()
        .and_then(|head| head.rsplit('/').next())
        .unwrap_or("")
        .to_owned()
}

const DYNAMODB_WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "TransactWriteItems",
    "BatchWriteItem",
];

/// The failure AWS would answer, if a switch applies to this request.
fn injected(
    faults: &Faults,
    req: &hyper::Request<Incoming>,
) -> Option<hyper::Response<Full<Bytes>>> {
    let service = service_of(req);
    let response = |status: u16, content_type: &str, body: &str| {
        let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_owned())));
        *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
        if let Ok(v) = content_type.parse() {
            r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
        }
        r
    };
    match service.as_str() {
        "dynamodb" => {
            let operation = req
                .headers()
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .and_then(|t| t.rsplit('.').next())
                .unwrap_or("");
            let write = DYNAMODB_WRITES.contains(&operation);
            (faults.on(Fault::DynamoDb) || (write && faults.on(Fault::DynamoDbWrites))).then(|| {
                response(
                    400,
                    "application/x-amz-json-1.0",
                    r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#,
                )
            })
        }
        "ses" => (faults.on(Fault::Ses) || faults.ses_throttled()).then(|| {
            response(
                400,
                "text/xml",
                r#"<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Maximum sending rate exceeded.</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"#,
            )
        }),
        "s3" => faults.on(Fault::S3).then(|| {
            response(
                503,
                "application/xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault-proxy</RequestId></Error>"#,
            )
        }),
        _ => None,
    }
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    req: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let bad_gateway = || {
        let mut r = hyper::Response::new(Full::new(Bytes::new()));
        *r.status_mut() = hyper::StatusCode::BAD_GATEWAY;
        r
    };
    let Ok(bytes) = body.collect().await.map(|c| c.to_bytes()) else {
        return bad_gateway();
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut request = client.request(parts.method.clone(), format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST && name != hyper::header::CONTENT_LENGTH {
            request = request.header(name, value);
        }
    }
    let Ok(answer) = request.body(bytes).send().await else {
        return bad_gateway();
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let Ok(body) = answer.bytes().await else {
        return bad_gateway();
    };
    let mut response = hyper::Response::new(Full::new(body));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if name != hyper::header::TRANSFER_ENCODING && name != hyper::header::CONNECTION {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

/// Start the proxy on a free loopback port; its URL is the stack's AWS
/// endpoint. It runs until the process exits.
pub async fn start(upstream: String, faults: Arc<Faults>) -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("fault proxy: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("fault proxy: {e}"))?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| format!("fault proxy client: {e}"))?;
    let upstream = Arc::new(upstream.trim_end_matches('/').to_owned());
    // One call at a time reaches the emulator. Its transactions are not
    // isolated: moto restores a deep copy of the whole table when one
    // fails, undoing whatever other requests wrote meanwhile (see
    // `transact_write_items` in moto/dynamodb/models). In AWS transactions
    // are atomic and isolated; serialising here gives the tests that
    // behaviour, at the emulator's pace.
    let one_at_a_time = Arc::new(tokio::sync::Mutex::new(()));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (client, upstream, faults, lock) = (
                client.clone(),
                upstream.clone(),
                faults.clone(),
                one_at_a_time.clone(),
            );
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<Incoming>| {
                    let (client, upstream, faults, lock) = (
                        client.clone(),
                        upstream.clone(),
                        faults.clone(),
                        lock.clone(),
                    );
                    async move {
                        if let Some(failure) = injected(&faults, &req) {
                            return Ok::<_, Infallible>(failure);
                        }
                        let _turn = lock.lock().await;
                        Ok(forward(&client, &upstream, req).await)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(format!("http://{addr}"))
}
