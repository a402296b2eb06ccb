//! Test support: the stacks (dev server with its own table and bucket) the
//! tests drive over HTTP, in front of the one emulator that `make test`
//! started for the whole run (`AWS_ENDPOINT_URL`), and the helpers on them.
//!
//! Most tests share one stack (`shared_app`); a test that moves the clock
//! or makes AWS fail spawns one of its own (`spawn_app`). Every stack
//! reaches the emulator through one gate, which lets one call at a time
//! through: the emulator's transactions are not isolated (see
//! `local/src/faults.rs`), so two stacks must not interleave their calls.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use shared::app::App;
use shared::ports::OffsetClock;

/// One running stack, and the helpers that drive it.
pub struct TestApp {
    /// The local staff identity provider (trusted by `demo`).
    pub staff: local::server::LocalIdp,
    /// The local SPID/CIE stand-in.
    pub oidc: local::server::LocalIdp,
    /// The dev server, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// Where the stack reaches the emulator (the gate).
    pub emulator: String,
    /// This stack's DynamoDB table (for audits).
    pub table: String,
    /// The ports and the configuration every handler of the stack gets.
    pub ports: App,
    /// The stack's clock: moving it moves this stack only.
    pub clock: OffsetClock,
    /// The switches of the fault proxy between this stack and the gate.
    pub faults: Arc<local::faults::Faults>,
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        shared::ops::random_id("t")
            .expect("random")
            .trim_start_matches("t-")
    )
}

/// This test binary's name, for its log and secrets files.
fn binary_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "tests".into())
}

/// With `TEST_LOG_DIR` set (as `make test` does), the stacks' logs go to
/// `<dir>/<binary>.log` at info level, as in production, and every secret
/// a test uses is written to `<dir>/<binary>.secrets`: the log scan of
/// `make test` then checks that no log line contains any of them.
fn log_to_file() {
    let Ok(dir) = std::env::var("TEST_LOG_DIR") else {
        return;
    };
    let _ = std::fs::create_dir_all(&dir);
    let Ok(file) = std::fs::File::create(format!("{dir}/{}.log", binary_name())) else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(std::sync::Mutex::new(file))
        // Exactly the filter production builds from its `RUST_LOG=info`.
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            shared::logging::directives(Some("info")),
        ))
        .try_init();
}

/// Note a value that must never appear in a log (see `log_to_file`).
pub fn remember(secret: &str) {
    use std::io::Write;
    let Ok(dir) = std::env::var("TEST_LOG_DIR") else {
        return;
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(format!("{dir}/{}.secrets", binary_name()))
    {
        let _ = writeln!(f, "{secret}");
    }
}

/// The runtime that serves every stack of this process and the gate. It
/// runs on threads of its own, so it outlives every `#[tokio::test]`.
fn servers() -> &'static tokio::runtime::Runtime {
    static SERVERS: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    SERVERS.get_or_init(|| {
        log_to_file();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("stacks")
            .enable_all()
            .build()
            .expect("runtime")
    })
}

/// Run `task` on the servers' runtime (forever, if it never ends) and wait,
/// from any test, for what it reports.
fn on_servers<T, F>(task: impl FnOnce(std::sync::mpsc::Sender<T>) -> F) -> T
where
    T: Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    servers().spawn(task(tx));
    rx.recv_timeout(Duration::from_secs(120))
        .expect("the servers' runtime did not answer")
}

/// The one way to the emulator for every stack of this process.
fn gate() -> String {
    static GATE: OnceLock<String> = OnceLock::new();
    GATE.get_or_init(|| {
        let emulator = std::env::var("AWS_ENDPOINT_URL").expect(
            "AWS_ENDPOINT_URL is not set: run the tests with `make test`, which starts the emulator",
        );
        on_servers(|tx| async move {
            let gate = local::faults::start(emulator, Arc::default()).await;
            let _ = tx.send(gate);
        })
        .expect("the gate to the emulator starts")
    })
    .clone()
}

/// A stack of its own: its table, bucket, clock and fault switches. For
/// the tests that move the clock or make AWS fail; it serves until the
/// test process exits.
pub fn spawn_app() -> &'static TestApp {
    let gate = gate();
    let app = on_servers(|tx| async move {
        let table = unique("test-table");
        let options = local::Options {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            emulator_url: gate,
            table: table.clone(),
            bucket: unique("test-bucket"),
            mail_from: "no-reply@iscrizioni.comune.example.it".into(),
            secret: None,
            fault_proxy: true,
        };
        let running = match local::start(options).await {
            Ok(running) => running,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        let _ = tx.send(Ok(TestApp {
            staff: running.staff.clone(),
            oidc: running.oidc.clone(),
            base: running.base_url(),
            emulator: running.emulator_url.clone(),
            table,
            ports: running.app.clone(),
            clock: running.clock.clone(),
            faults: running.faults.clone().expect("the fault proxy"),
        }));
        // Serve until the test process exits.
        std::future::pending::<()>().await;
        drop(running);
    })
    .expect("the local stack starts");
    Box::leak(Box::new(app))
}

/// The stack most tests share, started on first use.
pub fn shared_app() -> &'static TestApp {
    static SHARED: OnceLock<&'static TestApp> = OnceLock::new();
    SHARED.get_or_init(spawn_app)
}

/// A unique address, so that tests never see each other's mail or limits.
pub fn unique_email(tag: &str) -> String {
    let email = format!("{}@example.it", unique(tag));
    remember(&email);
    email
}

/// A fresh Italian mobile number, in E.164 (remembered: personal data).
pub fn unique_mobile() -> String {
    let phone = format!(
        "+39333{:07}",
        shared::ops::random_below(10_000_000).expect("random")
    );
    remember(&phone);
    phone
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The error code of a contract error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The fields a contract error body names, in its order.
    pub fn fields(&self) -> Vec<&str> {
        self.body["error"]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect()
    }

    /// The `Retry-After` header, in seconds.
    pub fn retry_after(&self) -> Option<i64> {
        self.header("retry-after").and_then(|v| v.parse().ok())
    }

    /// AWS did not answer: `503 service_unavailable` with `Retry-After`,
    /// never a 500.
    pub fn assert_unavailable(&self) {
        assert_eq!(
            (self.status, self.code()),
            (503, "service_unavailable"),
            "{:?}",
            self.body
        );
        assert!(
            self.retry_after().is_some(),
            "Retry-After: {:?}",
            self.headers
        );
    }
}

pub async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body read");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// The body behind a (presigned) link.
/// The text of a PDF, as `pdftotext` reads it.
pub fn pdf_text(bytes: &[u8]) -> String {
    let dir =
        std::env::temp_dir().join(format!("pdf-{}", shared::ops::random_id("t").expect("id")));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("doc.pdf");
    std::fs::write(&file, bytes).expect("write");
    let out = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by `make test`");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub async fn download(url: &str) -> Vec<u8> {
    reqwest::get(url)
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes")
        .to_vec()
}

pub use local::samples::{application_body, password_in};

/// `local::samples`' fiscal code, recorded for the log scan.
fn remembered(code: Result<String, String>) -> String {
    let code = code.expect("a check character fits");
    remember(&code);
    code
}

/// A girl born on 2015-05-01 in Corato.
pub fn pupil_code() -> String {
    remembered(local::samples::pupil_code())
}

/// A woman born on 1980-01-01 in Corato.
pub fn guardian_code() -> String {
    remembered(local::samples::guardian_code())
}

/// A random 8-digit user code.
pub fn user_code() -> String {
    (10_000_000 + shared::ops::random_below(90_000_000).expect("random")).to_string()
}

/// A new family's application: its id, the parent's session, the parent's
/// (unique) address, the pupil's fiscal code and the body it was saved with.
pub struct Family {
    pub id: String,
    pub token: String,
    pub email: String,
    pub pupil: String,
    pub body: Value,
}

/// The token of a reply that opened a session (`201`), recorded for the
/// log scan.
pub fn session_token(reply: &Reply) -> String {
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let token = reply.body["token"].as_str().expect("token").to_owned();
    remember(&token);
    token
}

impl TestApp {
    /// The address of `path` on this stack.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    // Requests.

    pub async fn get(&self, path: &str) -> Reply {
        send(client().get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        send(client().post(self.url(path)).json(&body)).await
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Reply {
        send(client().get(self.url(path)).bearer_auth(token)).await
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: Value) -> Reply {
        send(client().post(self.url(path)).bearer_auth(token).json(&body)).await
    }

    pub async fn put_auth(
        &self,
        path: &str,
        token: &str,
        if_match: Option<&str>,
        body: Value,
    ) -> Reply {
        let mut request = client().put(self.url(path)).bearer_auth(token).json(&body);
        if let Some(v) = if_match {
            request = request.header("if-match", v);
        }
        send(request).await
    }

    pub async fn patch_auth(&self, path: &str, token: &str, body: Value) -> Reply {
        send(
            client()
                .patch(self.url(path))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    /// A CSV upload with a bearer token.
    pub async fn post_csv(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        send(
            client()
                .post(self.url(path))
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }

    // The mail the emulator accepted.

    /// Every mail the emulator accepted for `to`, oldest first.
    pub async fn mails_to(&self, to: &str) -> Vec<Value> {
        let reply = self.get("/_local/outbox").await;
        assert_eq!(reply.status, 200, "outbox: {:?}", reply.body);
        reply.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| {
                m["to"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|t| t.as_str() == Some(to)))
            })
            .collect()
    }

    /// The mails to `to` whose subject contains `what`, oldest first.
    pub async fn mails_about(&self, to: &str, what: &str) -> Vec<Value> {
        self.mails_to(to)
            .await
            .into_iter()
            .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains(what)))
            .collect()
    }

    /// The 6-digit code of the newest security-code mail to `to`.
    pub async fn latest_code(&self, to: &str) -> String {
        let mails = self.mails_to(to).await;
        let mail = mails.last().expect("a security code mail");
        let text = mail["text"].as_str().unwrap_or("");
        let code = text
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a 6-digit code in the mail")
            .to_owned();
        remember(&code);
        code
    }

    /// Every SMS the emulator accepted for `to` (E.164), oldest first.
    pub async fn sms_to(&self, to: &str) -> Vec<Value> {
        let reply = self.get("/_local/sms-outbox").await;
        assert_eq!(reply.status, 200, "sms outbox: {:?}", reply.body);
        reply.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m["to"].as_str() == Some(to))
            .collect()
    }

    /// The 6-digit code of the newest SMS to `to`.
    pub async fn latest_sms_code(&self, to: &str) -> String {
        let messages = self.sms_to(to).await;
        let sms = messages.last().expect("an SMS");
        let code = sms["text"]
            .as_str()
            .unwrap_or("")
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a 6-digit code in the SMS")
            .to_owned();
        remember(&code);
        code
    }

    /// A parent session of a proved `email` on `tenant`: its token.
    pub async fn email_session_in(&self, tenant: &str, email: &str) -> String {
        let r = self
            .post(
                &format!("/v1/{tenant}/email-codes"),
                json!({ "email": email }),
            )
            .await;
        assert_eq!(r.status, 202, "{:?}", r.body);
        let code = self.latest_code(email).await;
        session_token(
            &self
                .post(
                    &format!("/v1/{tenant}/sessions"),
                    json!({ "email": email, "code": code }),
                )
                .await,
        )
    }

    /// The temporary password of the newest mail to `email` that has one.
    pub async fn mailed_password(&self, email: &str) -> String {
        let password = self
            .mails_to(email)
            .await
            .iter()
            .rev()
            .find_map(|m| m["text"].as_str().and_then(password_in))
            .expect("a mail with a `Password: …` line");
        remember(&password);
        password
    }

    // Parent sessions on tenant `demo`.

    /// "Invia codice": `POST /v1/demo/email-codes` for `email`.
    pub async fn request_code(&self, email: &str) -> Reply {
        self.post("/v1/demo/email-codes", json!({ "email": email }))
            .await
    }

    /// Ask for a security code for `email` (accepted) and read it from the
    /// outbox.
    pub async fn code_for(&self, email: &str) -> String {
        let r = self.request_code(email).await;
        assert_eq!(r.status, 202, "{:?}", r.body);
        self.latest_code(email).await
    }

    /// `POST /v1/demo/sessions` with `body`, merged into the session
    /// `bearer` when there is one.
    pub async fn open_session(&self, bearer: Option<&str>, body: Value) -> Reply {
        match bearer {
            Some(token) => self.post_auth("/v1/demo/sessions", token, body).await,
            None => self.post("/v1/demo/sessions", body).await,
        }
    }

    /// A session with `email` and its `code`.
    pub async fn email_login(&self, bearer: Option<&str>, email: &str, code: &str) -> Reply {
        self.open_session(bearer, json!({ "email": email, "code": code }))
            .await
    }

    /// Prove `email`: ask for a code, read it from the outbox and open a
    /// session with it (merged into `bearer`). The reply, as it came.
    pub async fn prove_email(&self, bearer: Option<&str>, email: &str) -> Reply {
        let code = self.code_for(email).await;
        self.email_login(bearer, email, &code).await
    }

    /// A parent session of a proved `email`: its token.
    pub async fn email_session(&self, email: &str) -> String {
        session_token(&self.prove_email(None, email).await)
    }

    /// A session with the pupil's fiscal code and a password.
    pub async fn password_login(&self, fiscal_code: &str, password: &str) -> Reply {
        self.open_session(
            None,
            json!({ "fiscal_code": fiscal_code, "password": password }),
        )
        .await
    }

    /// `POST /v1/demo/password` in the session `token`.
    pub async fn change_password(&self, token: &str, current: &str, new: &str) -> Reply {
        self.post_auth(
            "/v1/demo/password",
            token,
            json!({ "current": current, "new": new }),
        )
        .await
    }

    /// An ID token of the local SPID/CIE stand-in for `fiscal_code`.
    pub async fn id_token(&self, fiscal_code: &str) -> String {
        let r = self.post(
            "/_local/id-token",
            json!({ "fiscal_number": format!("TINIT-{fiscal_code}"), "given_name": "Nome", "family_name": "Cognome" }),
        )
        .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let token = r.body["id_token"].as_str().expect("id_token").to_owned();
        remember(&token);
        token
    }

    /// A session with a SPID/CIE ID token (merged into `bearer`).
    pub async fn spid_login(&self, bearer: Option<&str>, id_token: &str) -> Reply {
        self.open_session(bearer, json!({ "id_token": id_token }))
            .await
    }

    /// A SPID/CIE session for the person with `fiscal_code`, through the
    /// local stand-in provider, optionally merged with a proved `email`.
    pub async fn spid_session(&self, fiscal_code: &str, email: Option<&str>) -> String {
        let id_token = self.id_token(fiscal_code).await;
        let token = session_token(&self.spid_login(None, &id_token).await);
        match email {
            Some(email) => session_token(&self.prove_email(Some(&token), email).await),
            None => token,
        }
    }

    // Applications.

    /// The id of the demo tenant's open window.
    pub async fn open_window_id(&self) -> String {
        let r = self.get("/v1/demo/windows").await;
        r.body["windows"]
            .as_array()
            .and_then(|w| w.iter().find(|w| w["status"] == "open"))
            .and_then(|w| w["id"].as_str())
            .expect("an open window")
            .to_owned()
    }

    /// "Salva bozza" of a new application: `POST /v1/demo/applications`.
    pub async fn save_draft(&self, token: &str, body: Value) -> Reply {
        self.post_auth("/v1/demo/applications", token, body).await
    }

    /// The same, which must be saved: the new application's id.
    pub async fn new_draft(&self, token: &str, body: Value) -> String {
        let r = self.save_draft(token, body).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// "Invia iscrizione" of application `id`.
    pub async fn submit(&self, token: &str, id: &str) -> Reply {
        self.post_auth(
            &format!("/v1/demo/applications/{id}/submit"),
            token,
            json!({}),
        )
        .await
    }

    /// A new parent (address tagged `tag`) saves a complete draft in `window`.
    pub async fn complete_draft(&self, window: &str, tag: &str) -> Family {
        self.complete_draft_for(window, &pupil_code(), tag).await
    }

    /// The same for the pupil with fiscal code `pupil`.
    pub async fn complete_draft_for(&self, window: &str, pupil: &str, tag: &str) -> Family {
        let email = unique_email(tag);
        let token = self.email_session(&email).await;
        let pupil = pupil.to_owned();
        let body = application_body(window, &pupil, &guardian_code(), &email);
        let id = self.new_draft(&token, body.clone()).await;
        Family {
            id,
            token,
            email,
            pupil,
            body,
        }
    }

    /// The same, then "Invia iscrizione".
    pub async fn submitted_application(&self, window: &str, tag: &str) -> Family {
        let family = self.complete_draft(window, tag).await;
        let r = self.submit(&family.token, &family.id).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        family
    }

    /// "Allega": an upload link for a PDF of `size` bytes of `kind` on
    /// application `id`.
    pub async fn request_upload(&self, token: &str, id: &str, kind: &str, size: usize) -> Reply {
        self.post_auth(
            &format!("/v1/demo/applications/{id}/attachments"),
            token,
            json!({ "kind": kind, "filename": "Certificato Maria Rossi.pdf",
                "content_type": "application/pdf", "size": size }),
        )
        .await
    }

    // The office.

    /// A staff token of the local staff identity provider for `tenant`.
    pub async fn staff_token(&self, tenant: &str) -> String {
        let r = self
            .post("/_local/staff-token", json!({ "tenant": tenant }))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let token = r.body["token"].as_str().expect("token").to_owned();
        remember(&token);
        token
    }

    /// The office confirms application `id` of `demo`.
    pub async fn confirm(&self, staff: &str, id: &str) -> Reply {
        self.post_auth(
            &format!("/v1/demo/staff/applications/{id}/confirm"),
            staff,
            json!({}),
        )
        .await
    }

    /// The office rejects application `id` of `demo` with `body`.
    pub async fn reject(&self, staff: &str, id: &str, body: Value) -> Reply {
        self.post_auth(
            &format!("/v1/demo/staff/applications/{id}/reject"),
            staff,
            body,
        )
        .await
    }

    /// A second open `refezione` window of `demo`, created by the office.
    pub async fn new_window(&self, staff: &str) -> String {
        let now = self.ports.clock.now();
        let fmt = |t: time::OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .expect("format")
        };
        let r = self
            .post_auth(
                "/v1/demo/staff/windows",
                staff,
                json!({ "service": "refezione", "school_year": "2026/2027",
                        "opens_at": fmt(now - time::Duration::days(1)),
                        "closes_at": fmt(now + time::Duration::days(20)) }),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["status"], "open");
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// Another tenant, `slug`, whose staff the local staff provider signs
    /// for: a staff token of it, issued now.
    pub async fn other_tenant(&self, slug: &str) -> String {
        let mut tenant: shared::domain::tenant::Tenant = serde_json::from_value(json!({
            "slug": slug, "name": "Comune di Altrove", "contact_email": "ufficio@altrove.example.it",
            "phone": "+39 06 1234567", "services": ["refezione"]
        }))
        .expect("tenant");
        tenant.staff_auth = Some(self.staff.trust());
        local::seed::seed_tenant(&self.ports, &tenant, &[])
            .await
            .expect("seed");
        let token = self
            .staff
            .token(slug, self.ports.clock.now().unix_timestamp())
            .expect("token");
        remember(&token);
        token
    }

    /// One run of the scheduled function (`close-windows`) on this stack.
    pub async fn run_close_windows(&self) -> Reply {
        self.post("/_local/run/close-windows", json!({})).await
    }
}

/// Forgeries of a signed JWT, for the attacks on tokens.
pub mod jwt {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use serde_json::Value;

    fn parts(token: &str) -> Vec<&str> {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "a JWT: {token}");
        parts
    }

    /// The claims of `token`, unverified.
    pub fn claims(token: &str) -> Value {
        serde_json::from_slice(&B64.decode(parts(token)[1]).expect("base64")).expect("json")
    }

    /// `token` with its claims changed by `edit` and its own signature.
    pub fn tampered(token: &str, edit: impl FnOnce(&mut Value)) -> String {
        let mut claims = claims(token);
        edit(&mut claims);
        let parts = parts(token);
        format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(claims.to_string()),
            parts[2]
        )
    }

    /// `token` under another `header` (JSON), with its own claims and
    /// signature (algorithm confusion).
    pub fn with_header(token: &str, header: &str) -> String {
        let parts = parts(token);
        format!("{}.{}.{}", B64.encode(header), parts[1], parts[2])
    }

    /// `token`'s claims, unsigned (`alg: none`).
    pub fn unsigned(token: &str) -> String {
        format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            parts(token)[1]
        )
    }
}

/// The browser's upload of `pdf` through a presigned link.
pub async fn upload(url: &str, pdf: &[u8]) {
    let r = client()
        .put(url)
        .header("content-type", "application/pdf")
        .body(pdf.to_vec())
        .send()
        .await
        .expect("upload");
    assert!(r.status().is_success(), "upload answered {}", r.status());
}
