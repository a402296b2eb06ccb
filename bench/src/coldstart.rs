//! Cold starts: a release binary is spawned against a local stand-in for
//! the Lambda Runtime API (the part of it a custom runtime uses: `next`,
//! `response`, `error`, `init/error`), with the environment Lambda gives
//! it. Measured from the spawn: its first request for work (init: process
//! start, logging, configuration, SDK configuration, the runtime client)
//! and its first response (init plus one invocation, AWS calls included);
//! then its peak resident memory (VmHWM) before it is killed.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";

/// How the first invocation ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Vec<u8>),
    Error(Vec<u8>),
    InitError(Vec<u8>),
}

type Signal<T> = Mutex<Option<tokio::sync::oneshot::Sender<T>>>;

fn fire<T>(signal: &Signal<T>, value: T) {
    if let Some(tx) = signal.lock().unwrap_or_else(PoisonError::into_inner).take() {
        let _ = tx.send(value);
    }
}

struct Api {
    function: String,
    event: Vec<u8>,
    request_id: String,
    served: AtomicBool,
    next: Signal<Instant>,
    done: Signal<(Instant, Outcome)>,
    closed: tokio::sync::watch::Receiver<bool>,
}

type Resp = hyper::Response<Full<Bytes>>;

fn reply(status: u16, body: &str) -> Resp {
    let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_owned())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
    r
}

fn epoch_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

async fn handle(api: Arc<Api>, req: hyper::Request<Incoming>) -> Resp {
    let at = Instant::now();
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    if method == hyper::Method::GET && path == NEXT {
        if api.served.swap(true, Ordering::SeqCst) {
            // The second request for work: held, as Lambda freezes the
            // environment here, until the run is over.
            let mut closed = api.closed.clone();
            let _ = closed.wait_for(|c| *c).await;
            return reply(410, "");
        }
        fire(&api.next, at);
        let mut r = hyper::Response::new(Full::new(Bytes::from(api.event.clone())));
        let headers = r.headers_mut();
        let pairs = [
            ("lambda-runtime-aws-request-id", api.request_id.clone()),
            (
                "lambda-runtime-deadline-ms",
                (epoch_ms() + 10_000).to_string(),
            ),
            (
                "lambda-runtime-invoked-function-arn",
                format!(
                    "arn:aws:lambda:eu-south-1:123456789012:function:{}",
                    api.function
                ),
            ),
            (
                "lambda-runtime-trace-id",
                "Root=1-6741a000-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0"
                    .to_owned(),
            ),
            ("content-type", "application/json".to_owned()),
        ];
        for (name, value) in pairs {
            if let Ok(v) = value.parse() {
                headers.insert(name, v);
            }
        }
        return r;
    }
    if method == hyper::Method::POST {
        let body = req
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes().to_vec())
            .unwrap_or_default();
        if path == INIT_ERROR {
            fire(&api.done, (at, Outcome::InitError(body)));
            return reply(202, r#"{"status":"OK"}"#);
        }
        if let Some(rest) = path.strip_prefix(INVOCATION) {
            if rest.ends_with("/response") {
                fire(&api.done, (at, Outcome::Response(body)));
                return reply(202, r#"{"status":"OK"}"#);
            }
            if rest.ends_with("/error") {
                fire(&api.done, (at, Outcome::Error(body)));
                return reply(202, r#"{"status":"OK"}"#);
            }
        }
    }
    reply(404, "")
}

/// One cold start.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Spawn to the first `GET …/invocation/next`.
    pub init: Duration,
    /// Spawn to the first response (or error) posted.
    pub first_response: Duration,
    /// Peak resident set (VmHWM), KiB, read after the first response.
    pub peak_kib: u64,
    /// The HTTP status of an API Gateway response; `None` for other events.
    pub status: Option<u16>,
    pub outcome: Outcome,
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// What a cold start needs: the binary and the environment of its
/// function (without the Runtime API address, which is per run).
#[derive(Debug, Clone)]
pub struct Target {
    pub function: String,
    pub binary: PathBuf,
    pub env: Vec<(String, String)>,
}

/// The environment Lambda gives a function (provided.al2023, 512 MB), and
/// the function's own configuration.
pub fn lambda_env(function: &str, config: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/23/[$LATEST]0123456789abcdef0123456789abcdef".to_owned(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_REGION", "eu-south-1".to_owned()),
        ("AWS_DEFAULT_REGION", "eu-south-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(
        config
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

/// Spawn `target`, hand it `event`, measure, kill it. Its output goes to
/// `log`.
pub async fn measure(target: &Target, event: &Value, log: &Path) -> Result<Measurement, String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("runtime API: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (next_tx, next_rx) = tokio::sync::oneshot::channel();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let (closed_tx, closed_rx) = tokio::sync::watch::channel(false);
    let api = Arc::new(Api {
        function: target.function.clone(),
        event: serde_json::to_vec(event).map_err(|e| e.to_string())?,
        request_id: shared::ops::random_id("req").map_err(|e| e.to_string())?,
        served: AtomicBool::new(false),
        next: Mutex::new(Some(next_tx)),
        done: Mutex::new(Some(done_tx)),
        closed: closed_rx,
    });
    let server = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let api = api.clone();
            connections.spawn(async move {
                let service = service_fn(move |req| {
                    let api = api.clone();
                    async move { Ok::<_, Infallible>(handle(api, req).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });

    let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut command = tokio::process::Command::new(&target.binary);
    command
        .env_clear()
        .envs(target.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .kill_on_drop(true);

    let spawned = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("{}: {e}", target.binary.display()))?;
    let pid = child.id().unwrap_or(0);
    let limit = Duration::from_secs(30);
    let result = async {
        let next_at = tokio::select! {
            at = next_rx => at.map_err(|_| "runtime API stopped".to_string())?,
            status = child.wait() => {
                return Err(format!("{} exited during init ({status:?}):\n{}", target.function, tail(log)));
            }
            _ = tokio::time::sleep(limit) => return Err(format!("{}: no request for work within {limit:?}", target.function)),
        };
        let (done_at, outcome) = tokio::select! {
            done = done_rx => done.map_err(|_| "runtime API stopped".to_string())?,
            status = child.wait() => {
                return Err(format!("{} exited during the invocation ({status:?}):\n{}", target.function, tail(log)));
            }
            _ = tokio::time::sleep(limit) => return Err(format!("{}: no response within {limit:?}", target.function)),
        };
        // Let the runtime reach its next request for work, as Lambda does
        // before it freezes the environment; then read the peak.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let peak_kib = status_kib(pid, "VmHWM:").unwrap_or(0);
        let status = match &outcome {
            Outcome::Response(body) => serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v["statusCode"].as_u64())
                .and_then(|s| u16::try_from(s).ok()),
            _ => None,
        };
        Ok(Measurement {
            init: next_at.saturating_duration_since(spawned),
            first_response: done_at.saturating_duration_since(spawned),
            peak_kib,
            status,
            outcome,
        })
    }
    .await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    let _ = closed_tx.send(true);
    server.abort();
    let _ = server.await;
    result
}

/// An API Gateway REST API proxy event (stage `api`, behind the edge) of
/// the shape of `template` (one of `events/`), for another request.
pub struct HttpEvent<'a> {
    pub route_key: &'a str,
    pub path: String,
    pub params: Vec<(&'a str, String)>,
    pub query: Vec<(&'a str, String)>,
    pub headers: Vec<(&'a str, String)>,
    pub body: Option<Value>,
}

impl HttpEvent<'_> {
    pub fn build(&self, template: &Value) -> Value {
        let mut e = template.clone();
        let (method, resource) = self.route_key.split_once(' ').unwrap_or(("GET", "/"));
        e["resource"] = json!(resource);
        e["path"] = json!(self.path);
        e["httpMethod"] = json!(method);
        e["requestContext"]["resourcePath"] = json!(resource);
        e["requestContext"]["httpMethod"] = json!(method);
        e["requestContext"]["path"] = json!(format!("/api{}", self.path));
        e["requestContext"]["requestId"] =
            json!(shared::ops::random_id("req").unwrap_or_else(|_| "req-bench".into()));
        e["requestContext"]["requestTimeEpoch"] = json!(epoch_ms() as u64);
        let params: serde_json::Map<String, Value> = self
            .params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        e["pathParameters"] = Value::Object(params);
        let single: serde_json::Map<String, Value> = self
            .query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let multi: serde_json::Map<String, Value> = self
            .query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!([v])))
            .collect();
        if self.query.is_empty() {
            e["queryStringParameters"] = Value::Null;
            e["multiValueQueryStringParameters"] = Value::Null;
        } else {
            e["queryStringParameters"] = Value::Object(single);
            e["multiValueQueryStringParameters"] = Value::Object(multi);
        }
        for (k, v) in &self.headers {
            e["headers"][*k] = json!(v);
        }
        match &self.body {
            Some(b) => {
                let text = b.to_string();
                e["headers"]["content-type"] = json!("application/json");
                e["headers"]["content-length"] = json!(text.len().to_string());
                e["body"] = json!(text);
                e["isBase64Encoded"] = json!(false);
            }
            None => {
                if let Some(o) = e.as_object_mut() {
                    o.remove("body");
                }
                if let Some(h) = e["headers"].as_object_mut() {
                    h.remove("content-type");
                    h.remove("content-length");
                }
            }
        }
        e
    }
}

/// A sample event with its JSON body's `email` replaced (each cold start of
/// `email-code` asks a code for a new address, so none meets the resend
/// cooldown of the one before).
pub fn with_email(event: &Value, email: &str) -> Value {
    let mut e = event.clone();
    if let Some(mut body) = e["body"]
        .as_str()
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
    {
        body["email"] = json!(email);
        let text = body.to_string();
        if e["headers"].get("content-length").is_some() {
            e["headers"]["content-length"] = json!(text.len().to_string());
        }
        e["body"] = json!(text);
    }
    e
}

/// A small xorshift generator seeded from the clock, for the order of the
/// cold starts within a round (no statistics rest on its quality).
#[derive(Debug, Clone)]
pub struct Shuffle(u64);

impl Shuffle {
    pub fn from_clock() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15);
        Self::seeded(nanos)
    }

    pub fn seeded(seed: u64) -> Self {
        // Never zero, the one state xorshift cannot leave.
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Shuffle;

    #[test]
    fn a_shuffle_is_a_permutation_and_changes_with_the_seed() {
        let mut a: Vec<usize> = (0..17).collect();
        Shuffle::seeded(42).shuffle(&mut a);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..17).collect::<Vec<_>>());
        let mut b: Vec<usize> = (0..17).collect();
        Shuffle::seeded(1001).shuffle(&mut b);
        assert_ne!(a, b);
    }
}
