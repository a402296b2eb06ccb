//! The journey of `tests/journey.rs`, step by step over HTTP against the
//! bench's stack: each step is one request (one Lambda invocation behind API
//! Gateway), measured for what it asked of AWS, its wall time and the CPU
//! time of this process (client, handler and SDK together).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::counter::{Counter, Storage, Tally};

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn str(&self, pointer: &str) -> Result<String, String> {
        self.body
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("no {pointer} in {}", self.body))
    }

    pub fn expect(self, status: u16, what: &str) -> Result<Self, String> {
        if self.status == status {
            Ok(self)
        } else {
            Err(format!(
                "{what}: expected {status}, got {}: {}",
                self.status, self.body
            ))
        }
    }
}

/// An HTTP client of the stack.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    pub base: String,
}

impl Client {
    pub fn new(base: &str) -> Result<Self, String> {
        Self::with_timeout(base, Duration::from_secs(60))
    }

    /// A client whose requests give up after `timeout`.
    pub fn with_timeout(base: &str, timeout: Duration) -> Result<Self, String> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .no_proxy()
                .build()
                .map_err(|e| e.to_string())?,
            base: base.to_owned(),
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Reply, String> {
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(|e| e.to_string())?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Result<Reply, String> {
        let mut r = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        self.send(r).await
    }

    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Result<Reply, String> {
        let mut r = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        self.send(r).await
    }

    pub async fn post_if_match(
        &self,
        path: &str,
        token: &str,
        etag: &str,
        body: Option<Value>,
    ) -> Result<Reply, String> {
        let mut r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("if-match", etag);
        if let Some(b) = body {
            r = r.json(&b);
        }
        self.send(r).await
    }

    pub async fn put(
        &self,
        path: &str,
        token: &str,
        etag: &str,
        body: Value,
    ) -> Result<Reply, String> {
        let r = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("if-match", etag)
            .json(&body);
        self.send(r).await
    }

    /// A presigned link, fetched as a browser would: the bytes.
    pub async fn download(&self, url: &str) -> Result<usize, String> {
        let r = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!("download: {}", r.status()));
        }
        Ok(r.bytes().await.map_err(|e| e.to_string())?.len())
    }

    /// A presigned link, fetched as a browser would: the status and the
    /// number of bytes.
    pub async fn fetch(&self, url: &str) -> Result<(u16, usize), String> {
        let r = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        Ok((status, r.bytes().await.map_err(|e| e.to_string())?.len()))
    }

    /// Every mail the emulator accepted for `to`, oldest first.
    pub async fn mails_to(&self, to: &str) -> Result<Vec<Value>, String> {
        let reply = self
            .get("/_local/outbox", None)
            .await?
            .expect(200, "outbox")?;
        Ok(reply.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| {
                m["to"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|t| t.as_str() == Some(to)))
            })
            .collect())
    }

    /// The 6-digit code of the newest security-code mail to `to`.
    pub async fn latest_code(&self, to: &str) -> Result<String, String> {
        let mails = self.mails_to(to).await?;
        let text = mails
            .last()
            .and_then(|m| m["text"].as_str())
            .ok_or("no security code mail")?;
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .map(str::to_owned)
            .ok_or_else(|| "no 6-digit code in the mail".to_string())
    }

    /// The temporary password of the newest mail to `to` that has one.
    pub async fn mailed_password(&self, to: &str) -> Result<String, String> {
        self.mails_to(to)
            .await?
            .iter()
            .rev()
            .find_map(|m| m["text"].as_str().and_then(local::samples::password_in))
            .ok_or_else(|| "no mailed password".to_string())
    }

    /// Prove an email on `demo`: the session token.
    pub async fn email_session(&self, email: &str) -> Result<String, String> {
        self.post("/v1/demo/email-codes", None, json!({ "email": email }))
            .await?
            .expect(202, "email code")?;
        let code = self.latest_code(email).await?;
        self.post(
            "/v1/demo/sessions",
            None,
            json!({ "email": email, "code": code }),
        )
        .await?
        .expect(201, "session")?
        .str("/token")
    }

    /// A staff token of the local staff identity provider.
    pub async fn staff_token(&self) -> Result<String, String> {
        self.post("/_local/staff-token", None, json!({ "tenant": "demo" }))
            .await?
            .expect(200, "staff token")?
            .str("/token")
    }

    /// The demo tenant's open window.
    pub async fn open_window(&self) -> Result<String, String> {
        let r = self.get("/v1/demo/windows", None).await?;
        r.body["windows"]
            .as_array()
            .and_then(|w| w.iter().find(|w| w["status"] == "open"))
            .and_then(|w| w["id"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| "no open window".to_string())
    }

    /// A complete draft for a new pupil: (id, etag).
    pub async fn complete_draft(
        &self,
        token: &str,
        window: &str,
        guardian: &str,
        email: &str,
    ) -> Result<(String, String), String> {
        let body = application_body(window, &pupil_code()?, guardian, email);
        let r = self
            .post("/v1/demo/applications", Some(token), body)
            .await?
            .expect(201, "complete draft")?;
        let etag = r.header("etag").ok_or("no etag")?;
        Ok((r.str("/id")?, etag))
    }

    /// A submitted application for a new pupil: its id.
    pub async fn submitted(
        &self,
        token: &str,
        window: &str,
        guardian: &str,
        email: &str,
    ) -> Result<String, String> {
        let (id, etag) = self.complete_draft(token, window, guardian, email).await?;
        self.post_if_match(
            &format!("/v1/demo/applications/{id}/submit"),
            token,
            &etag,
            None,
        )
        .await?
        .expect(200, "submit")?;
        Ok(id)
    }
}

/// A unique address.
pub fn unique_email(tag: &str) -> Result<String, String> {
    let id = shared::ops::random_id("b").map_err(|e| e.to_string())?;
    Ok(format!("{tag}-{}@example.it", id.trim_start_matches("b-")))
}

pub use local::samples::{application_body, fiscal_code, guardian_code, pupil_code};

/// The first step of the form only ("Salva bozza" early).
pub fn first_step_body(window_id: &str, pupil: &str, guardian: &str) -> Value {
    let full = application_body(window_id, pupil, guardian, "");
    json!({
        "window_id": window_id, "kind": "new",
        "pupil": full["pupil"],
        "guardian": { "fiscal_code": guardian, "first_name": "Anna", "last_name": "Bianchi" },
        "declarations": { "privacy": true }
    })
}

/// CPU time of this process so far (every thread).
pub fn cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// One measured step.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: &'static str,
    /// The Lambda function that serves it; `None` for what is not a Lambda
    /// invocation (the presigned downloads go to S3 directly).
    pub function: Option<&'static str>,
    /// Office work rather than the parent's (the list is per page, not per
    /// enrollment).
    pub office: bool,
    pub status: u16,
    pub wall: Duration,
    pub cpu: Duration,
    pub tally: Tally,
    /// S3 GETs made by the client through presigned links.
    pub presigned_gets: u64,
}

/// Measures steps.
pub struct Recorder {
    counter: Arc<Counter>,
    pub steps: Vec<Step>,
}

impl Recorder {
    pub fn new(counter: Arc<Counter>) -> Self {
        Self {
            counter,
            steps: Vec::new(),
        }
    }

    /// Run `request` as the step `name`; it must answer `expected`.
    pub async fn step(
        &mut self,
        name: &'static str,
        function: Option<&'static str>,
        expected: u16,
        request: impl Future<Output = Result<Reply, String>>,
    ) -> Result<Reply, String> {
        let _ = self.counter.take();
        let cpu = cpu_time();
        let started = Instant::now();
        let reply = request.await?;
        let wall = started.elapsed();
        let cpu = cpu_time().saturating_sub(cpu);
        let tally = self.counter.take();
        let reply = reply.expect(expected, name)?;
        self.steps.push(Step {
            name,
            function,
            office: false,
            status: reply.status,
            wall,
            cpu,
            tally,
            presigned_gets: 0,
        });
        Ok(reply)
    }

    fn last_is_office(&mut self) {
        if let Some(s) = self.steps.last_mut() {
            s.office = true;
        }
    }
}

/// One whole journey; what it stored is in `storage`.
#[derive(Debug, Clone)]
pub struct Journey {
    pub steps: Vec<Step>,
    pub storage: Storage,
}

/// The journey of `tests/journey.rs`: windows, email code, session, first
/// draft (the mailed password), password login, forced change, login, the
/// rest of the form, submit, documents and their download, the office's
/// list and confirmation, the parent's status check.
pub async fn run(client: &Client, counter: &Arc<Counter>) -> Result<Journey, String> {
    let mut rec = Recorder::new(counter.clone());
    let _ = counter.take_written();
    let email = unique_email("journey")?;
    let pupil = pupil_code()?;
    let guardian = guardian_code()?;

    let windows = rec
        .step(
            "GET windows",
            Some("status"),
            200,
            client.get("/v1/demo/windows", None),
        )
        .await?;
    let window = windows.body["windows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["status"] == "open"))
        .and_then(|w| w["id"].as_str())
        .map(str::to_owned)
        .ok_or("no open window")?;

    rec.step(
        "POST email-codes (the code by mail)",
        Some("email-code"),
        202,
        client.post("/v1/demo/email-codes", None, json!({ "email": email })),
    )
    .await?;
    let code = client.latest_code(&email).await?;
    let token = rec
        .step(
            "POST sessions (email + code)",
            Some("email-code"),
            201,
            client.post(
                "/v1/demo/sessions",
                None,
                json!({ "email": email, "code": code }),
            ),
        )
        .await?
        .str("/token")?;

    let id = rec
        .step(
            "POST applications (first step; password by mail)",
            Some("save-draft"),
            201,
            client.post(
                "/v1/demo/applications",
                Some(&token),
                first_step_body(&window, &pupil, &guardian),
            ),
        )
        .await?
        .str("/id")?;
    let password = client.mailed_password(&email).await?;

    let temporary = rec
        .step(
            "POST sessions (fiscal code + temporary password)",
            Some("email-code"),
            201,
            client.post(
                "/v1/demo/sessions",
                None,
                json!({ "fiscal_code": pupil, "password": password }),
            ),
        )
        .await?
        .str("/token")?;
    let new_password = "girasole-2025";
    rec.step(
        "POST password (forced change)",
        Some("email-code"),
        204,
        client.post(
            "/v1/demo/password",
            Some(&temporary),
            json!({ "current": password, "new": new_password }),
        ),
    )
    .await?;
    let returning = rec
        .step(
            "POST sessions (fiscal code + new password)",
            Some("email-code"),
            201,
            client.post(
                "/v1/demo/sessions",
                None,
                json!({ "fiscal_code": pupil, "password": new_password }),
            ),
        )
        .await?
        .str("/token")?;

    let path = format!("/v1/demo/applications/{id}");
    let etag = rec
        .step(
            "GET application",
            Some("status"),
            200,
            client.get(&path, Some(&returning)),
        )
        .await?
        .header("etag")
        .ok_or("no etag")?;
    let mut body = application_body(&window, &pupil, &guardian, &email);
    body["pupil"]["section"] = json!("A");
    let etag = rec
        .step(
            "PUT application (the rest of the form)",
            Some("save-draft"),
            200,
            client.put(&path, &returning, &etag, body),
        )
        .await?
        .header("etag")
        .ok_or("no etag")?;
    rec.step(
        "POST submit (PDFs, letter by mail)",
        Some("submit"),
        200,
        client.post_if_match(&format!("{path}/submit"), &returning, &etag, None),
    )
    .await?;
    let documents = rec
        .step(
            "GET documents (presigned links)",
            Some("status"),
            200,
            client.get(&format!("{path}/documents"), Some(&returning)),
        )
        .await?;
    let urls: Vec<String> = documents.body["documents"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|d| d["url"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    // The downloads go from the browser to S3, not through a function.
    {
        let _ = counter.take();
        let cpu = cpu_time();
        let started = Instant::now();
        for url in &urls {
            client.download(url).await?;
        }
        rec.steps.push(Step {
            name: "download the PDFs (presigned S3 GET)",
            function: None,
            office: false,
            status: 200,
            wall: started.elapsed(),
            cpu: cpu_time().saturating_sub(cpu),
            tally: counter.take(),
            presigned_gets: urls.len() as u64,
        });
    }

    let staff = client.staff_token().await?;
    rec.step(
        "GET staff applications (a page of the office's list)",
        Some("confirm"),
        200,
        client.get(
            &format!("/v1/demo/staff/applications?window_id={window}&status=submitted&limit=100"),
            Some(&staff),
        ),
    )
    .await?;
    rec.last_is_office();
    rec.step(
        "POST confirm (decision by mail)",
        Some("confirm"),
        200,
        client.post(
            &format!("/v1/demo/staff/applications/{id}/confirm"),
            Some(&staff),
            json!({}),
        ),
    )
    .await?;
    rec.last_is_office();
    let last = rec
        .step(
            "GET application (Stato iscrizione)",
            Some("status"),
            200,
            client.get(&path, Some(&returning)),
        )
        .await?;
    if last.body["status"] != "confirmed" {
        return Err(format!("journey ended in {}", last.body["status"]));
    }
    Ok(Journey {
        steps: rec.steps,
        storage: counter.take_written(),
    })
}
