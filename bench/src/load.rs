//! The opening morning: many families at once (`BENCH_FAMILIES`, 200), each
//! doing the whole parent journey over HTTP against the bench's stack, all
//! started together: the windows, a code by mail, a session, the first
//! step of the form (a temporary password by mail), the rest of the form,
//! the submission clicked twice at once as a double click does, the
//! documents and the three PDFs. Every request's latency and every
//! unexpected answer is kept; then the audit: every submitted family has
//! exactly one user code, all distinct, and exactly one mail of each kind
//! (nothing lost, nothing doubled). The whole run is counted by the
//! stack's counter, for the partition-load model (`crate::partitions`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::counter::{Counter, Tally};
use crate::journey::{self, Client, Reply};
use crate::stack::Stack;

/// The steps of a family, in order (indexes into `LoadRun::steps`).
pub const STEPS: [&str; 8] = [
    "GET windows",
    "POST email-codes (the code by mail)",
    "POST sessions (email + code)",
    "POST applications (first step; password by mail)",
    "PUT application (the rest of the form)",
    "POST submit (double click: two at once)",
    "GET documents (presigned links)",
    "download a PDF (presigned S3 GET)",
];
const WINDOWS: usize = 0;
const EMAIL_CODES: usize = 1;
const SESSIONS: usize = 2;
const CREATE: usize = 3;
const UPDATE: usize = 4;
const SUBMIT: usize = 5;
const DOCUMENTS: usize = 6;
const DOWNLOAD: usize = 7;

/// The kind of a mail, told by its subject (`shared/src/documents/mail.rs`;
/// the Italian text comes first in every language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    Code,
    Password,
    Letter,
    Other,
}

pub fn mail_kind(subject: &str) -> MailKind {
    if subject.contains("Codice di sicurezza") {
        MailKind::Code
    } else if subject.contains("la tua password") {
        MailKind::Password
    } else if subject.contains("lettera credenziali") {
        MailKind::Letter
    } else {
        MailKind::Other
    }
}

/// The latencies of one step, every request of every family.
#[derive(Debug, Clone, Default)]
pub struct StepStats {
    pub name: &'static str,
    pub latencies_ms: Vec<f64>,
    /// Answers that were not the step's success but are allowed by the
    /// contract (a double click's `412 version_conflict`).
    pub expected_other: u64,
    pub errors: u64,
}

/// What the audit found.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    pub families: usize,
    /// Families whose submission answered 200.
    pub submitted: usize,
    /// Families whose application reads back `submitted` with a user
    /// code: those, and any whose submission was written although its
    /// answer was an error (a time-out after the write).
    pub read_back: usize,
    /// Of `read_back`, those whose submission answered an error.
    pub written_unanswered: usize,
    pub user_codes_distinct: usize,
    /// Mails to the run's families, by kind.
    pub code_mails: usize,
    pub password_mails: usize,
    pub letters: usize,
    pub other_mails: usize,
    /// Messages of the run's applications still owed in the store's
    /// outbox (sent later by the scheduled run: late, not lost).
    pub owed: usize,
    /// Of those, credentials letters.
    pub owed_letters: usize,
    pub problems: Vec<String>,
}

/// One load run.
#[derive(Debug, Clone, Default)]
pub struct LoadRun {
    pub families: usize,
    /// From the start signal to the last family's last answer.
    pub wall: Duration,
    pub steps: Vec<StepStats>,
    /// Unexpected answers: (step, `status code`) → count.
    pub errors: BTreeMap<(usize, String), u64>,
    /// How the two answers of each double click came back.
    pub double_clicks: BTreeMap<String, u64>,
    /// Reads of the whole mail outbox to find the families' codes.
    pub outbox_reads: u64,
    pub audit: Audit,
    /// What the run asked of AWS (the audit's reads not included).
    pub tally: Tally,
    /// What the emulator's log says went wrong on its side meanwhile.
    pub emulator: Option<EmulatorTrouble>,
}

/// The emulator's own failures during the run, from its log.
#[derive(Debug, Clone, Default)]
pub struct EmulatorTrouble {
    /// Requests it answered with a 500.
    pub http_500: u64,
    /// The exceptions of its tracebacks, by their last line.
    pub exceptions: BTreeMap<String, u64>,
}

impl EmulatorTrouble {
    /// Read what `log` gained after its first `from` bytes.
    pub fn read(log: &Path, from: u64) -> Option<Self> {
        let text = std::fs::read(log).ok()?;
        let text = String::from_utf8_lossy(text.get(from as usize..)?).into_owned();
        let mut t = Self::default();
        for line in text.lines().map(strip_ansi) {
            if line.contains("HTTP/1.1\" 500 ") {
                t.http_500 += 1;
            }
            // `RuntimeError: …`, `botocore.exceptions.X: …`: a traceback's
            // last line.
            if let Some((name, message)) = line.split_once(": ")
                && !name.starts_with(' ')
                && (name.ends_with("Error") || name.ends_with("Exception"))
                && !name.contains(' ')
            {
                let message: String = message.chars().take(80).collect();
                *t.exceptions
                    .entry(format!("{name}: {message}"))
                    .or_default() += 1;
            }
        }
        Some(t)
    }
}

/// A log line without its terminal colours.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ … letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl LoadRun {
    /// Enrollments the run submitted (as stored): the model's
    /// denominator.
    pub fn enrollments(&self) -> usize {
        self.audit.read_back.max(self.audit.submitted)
    }
}

/// How one answer is classed.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Success,
    /// Not the success, but allowed by the contract.
    Allowed,
    /// Anything else: `status code`, or why there was no answer.
    Error(String),
}

/// `status code` of an answer (the contract's `/error/code`, `-` without
/// one).
fn label(reply: &Reply) -> String {
    let code = reply
        .body
        .pointer("/error/code")
        .or_else(|| reply.body.pointer("/code"))
        .and_then(Value::as_str);
    format!("{} {}", reply.status, code.unwrap_or("-"))
}

fn outcome(reply: &Result<Reply, String>, expected: u16) -> Outcome {
    match reply {
        Ok(r) if r.status == expected => Outcome::Success,
        Ok(r) => Outcome::Error(label(r)),
        Err(e) => Outcome::Error(format!("no answer ({})", short(e))),
    }
}

fn short(e: &str) -> String {
    e.chars().take(60).collect()
}

/// One request's record.
#[derive(Debug, Clone)]
struct Sample {
    step: usize,
    ms: f64,
    outcome: Outcome,
}

/// What one family did.
#[derive(Debug, Clone, Default)]
struct Family {
    email: String,
    samples: Vec<Sample>,
    /// Where it stopped, if it did.
    stopped: Option<String>,
    token: Option<String>,
    application: Option<String>,
    /// The steps that reached their success.
    reached: HashSet<usize>,
    /// The user codes the submit answers carried.
    submit_codes: Vec<String>,
    double_click: Option<String>,
    problems: Vec<String>,
}

impl Family {
    /// Keep one answer; `true` when it is the step's success.
    fn record(
        &mut self,
        step: usize,
        ms: f64,
        reply: &Result<Reply, String>,
        expected: u16,
    ) -> bool {
        let outcome = outcome(reply, expected);
        let ok = outcome == Outcome::Success;
        if let Outcome::Error(e) = &outcome
            && self.stopped.is_none()
        {
            self.stopped = Some(format!("{}: {e}", STEPS[step]));
        }
        if ok {
            self.reached.insert(step);
        }
        self.samples.push(Sample { step, ms, outcome });
        ok
    }
}

async fn timed<F: Future<Output = Result<Reply, String>>>(f: F) -> (f64, Result<Reply, String>) {
    let started = Instant::now();
    let reply = f.await;
    (started.elapsed().as_secs_f64() * 1000.0, reply)
}

/// The families' codes, read from the mail outbox: one reader at a time,
/// and a read serves every family whose code was sent before it began, so
/// that 200 families cost a few reads of the outbox, not 200.
struct Codes {
    emulator: String,
    state: tokio::sync::Mutex<(Option<Instant>, HashMap<String, String>)>,
    reads: AtomicU64,
}

impl Codes {
    /// The code mailed to `email`, whose request was answered at `sent`.
    async fn code(&self, email: &str, sent: Instant) -> Result<String, String> {
        let mut state = self.state.lock().await;
        if state.0.is_none_or(|read| read < sent) {
            let began = Instant::now();
            let mails = local::emulator::outbox(&self.emulator).await?;
            self.reads.fetch_add(1, Ordering::Relaxed);
            let mut codes = HashMap::new();
            // Oldest first: the newest code of an address wins.
            for m in mails
                .iter()
                .filter(|m| mail_kind(&m.subject) == MailKind::Code)
            {
                if let Some(code) = six_digits(&m.text) {
                    for to in &m.to {
                        codes.insert(to.clone(), code.clone());
                    }
                }
            }
            *state = (Some(began), codes);
        }
        state
            .1
            .get(email)
            .cloned()
            .ok_or_else(|| "no security code mail".to_string())
    }
}

/// The first 6-digit number of a text.
pub fn six_digits(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_owned)
}

/// Both answers of a double click, and how the pair is classed.
fn double_click(a: &Result<Reply, String>, b: &Result<Reply, String>) -> (Vec<Outcome>, String) {
    let ok = |r: &Result<Reply, String>| r.as_ref().is_ok_and(|r| r.status == 200);
    let allowed = |r: &Result<Reply, String>| {
        r.as_ref()
            .is_ok_and(|r| r.status == 412 && label(r) == "412 version_conflict")
    };
    let class = |r: &Result<Reply, String>| {
        if ok(r) {
            Outcome::Success
        } else if allowed(r) {
            Outcome::Allowed
        } else {
            outcome(r, 200)
        }
    };
    let outcomes = vec![class(a), class(b)];
    let describe = |r: &Result<Reply, String>| match r {
        Ok(r) => label(r),
        Err(_) => "no answer".into(),
    };
    let pair = match (ok(a), ok(b)) {
        (true, true) => "200 and 200 (the same application)".to_string(),
        (true, false) => format!("200 and {}", describe(b)),
        (false, true) => format!("200 and {}", describe(a)),
        (false, false) => format!("{} and {} (not submitted)", describe(a), describe(b)),
    };
    (outcomes, pair)
}

fn user_code(reply: &Result<Reply, String>) -> Option<String> {
    reply
        .as_ref()
        .ok()
        .filter(|r| r.status == 200)
        .and_then(|r| r.body.pointer("/user_code"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// One family's journey.
async fn family(client: Client, codes: Arc<Codes>, email: String) -> Family {
    let mut f = Family {
        email: email.clone(),
        ..Family::default()
    };
    let (pupil, guardian) = match (journey::pupil_code(), journey::guardian_code()) {
        (Ok(p), Ok(g)) => (p, g),
        (Err(e), _) | (_, Err(e)) => {
            f.stopped = Some(format!("fiscal codes: {e}"));
            return f;
        }
    };

    let (ms, reply) = timed(client.get("/v1/demo/windows", None)).await;
    if !f.record(WINDOWS, ms, &reply, 200) {
        return f;
    }
    let Some(window) = reply.ok().and_then(|r| {
        r.body["windows"]
            .as_array()
            .and_then(|w| w.iter().find(|w| w["status"] == "open"))
            .and_then(|w| w["id"].as_str())
            .map(str::to_owned)
    }) else {
        f.stopped = Some("no open window".into());
        return f;
    };

    let (ms, reply) =
        timed(client.post("/v1/demo/email-codes", None, json!({ "email": email }))).await;
    let sent = Instant::now();
    if !f.record(EMAIL_CODES, ms, &reply, 202) {
        return f;
    }
    let code = match codes.code(&email, sent).await {
        Ok(c) => c,
        Err(e) => {
            f.stopped = Some(format!("the code mail: {e}"));
            return f;
        }
    };

    let (ms, reply) = timed(client.post(
        "/v1/demo/sessions",
        None,
        json!({ "email": email, "code": code }),
    ))
    .await;
    if !f.record(SESSIONS, ms, &reply, 201) {
        return f;
    }
    let Some(token) = reply.ok().and_then(|r| r.str("/token").ok()) else {
        f.stopped = Some("no session token".into());
        return f;
    };
    f.token = Some(token.clone());

    let (ms, reply) = timed(client.post(
        "/v1/demo/applications",
        Some(&token),
        journey::first_step_body(&window, &pupil, &guardian),
    ))
    .await;
    if !f.record(CREATE, ms, &reply, 201) {
        return f;
    }
    let Some((id, etag)) = reply
        .ok()
        .and_then(|r| Some((r.str("/id").ok()?, r.header("etag")?)))
    else {
        f.stopped = Some("no id or ETag in the draft's answer".into());
        return f;
    };
    f.application = Some(id.clone());

    let path = format!("/v1/demo/applications/{id}");
    let mut body = journey::application_body(&window, &pupil, &guardian, &email);
    body["pupil"]["section"] = json!("A");
    let (ms, reply) = timed(client.put(&path, &token, &etag, body)).await;
    if !f.record(UPDATE, ms, &reply, 200) {
        return f;
    }
    let Some(etag) = reply.ok().and_then(|r| r.header("etag")) else {
        f.stopped = Some("no ETag in the update's answer".into());
        return f;
    };

    // The double click: two submissions of the same version at once.
    let submit = format!("{path}/submit");
    let ((ms_a, a), (ms_b, b)) = tokio::join!(
        timed(client.post_if_match(&submit, &token, &etag, None)),
        timed(client.post_if_match(&submit, &token, &etag, None)),
    );
    let (outcomes, pair) = double_click(&a, &b);
    f.double_click = Some(pair);
    for ((ms, reply), outcome) in [(ms_a, &a), (ms_b, &b)].into_iter().zip(outcomes) {
        if outcome == Outcome::Success {
            f.reached.insert(SUBMIT);
        }
        if let Some(c) = user_code(reply) {
            f.submit_codes.push(c);
        }
        f.samples.push(Sample {
            step: SUBMIT,
            ms,
            outcome,
        });
    }
    if !f.reached.contains(&SUBMIT) {
        f.stopped = Some(format!(
            "{}: {}",
            STEPS[SUBMIT],
            f.double_click.clone().unwrap_or_default()
        ));
        return f;
    }
    f.submit_codes.dedup();
    if f.submit_codes.len() > 1 {
        f.problems.push(format!(
            "the double click answered two user codes: {}",
            f.submit_codes.join(", ")
        ));
    }

    let (ms, reply) = timed(client.get(&format!("{path}/documents"), Some(&token))).await;
    if !f.record(DOCUMENTS, ms, &reply, 200) {
        return f;
    }
    let urls: Vec<String> = reply
        .ok()
        .and_then(|r| {
            r.body["documents"].as_array().map(|d| {
                d.iter()
                    .filter_map(|d| d["url"].as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default();
    if urls.len() != 3 {
        f.problems
            .push(format!("{} documents listed, not 3", urls.len()));
    }
    for url in urls {
        let started = Instant::now();
        let got = client.fetch(&url).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let outcome = match got {
            Ok((200, bytes)) if bytes > 0 => Outcome::Success,
            Ok((200, _)) => Outcome::Error("200 empty".into()),
            Ok((status, _)) => Outcome::Error(format!("{status} -")),
            Err(e) => Outcome::Error(format!("no answer ({})", short(&e))),
        };
        if let Outcome::Error(e) = &outcome {
            f.problems.push(format!("{}: {e}", STEPS[DOWNLOAD]));
        }
        f.samples.push(Sample {
            step: DOWNLOAD,
            ms,
            outcome,
        });
    }
    f
}

/// Run `families` families at once against the stack, then audit them;
/// `emulator_log` is the emulator's log, read for its own failures.
pub async fn run(
    stack: &Stack,
    counter: &Arc<Counter>,
    families: usize,
    emulator_log: Option<&Path>,
) -> Result<LoadRun, String> {
    let log_from = emulator_log
        .and_then(|l| std::fs::metadata(l).ok())
        .map_or(0, |m| m.len());
    // Requests may queue for long behind 200 families on a small machine.
    let client = Client::with_timeout(&stack.base, Duration::from_secs(600))?;
    let codes = Arc::new(Codes {
        emulator: stack.emulator_url.clone(),
        state: tokio::sync::Mutex::new((None, HashMap::new())),
        reads: AtomicU64::new(0),
    });
    let start = Arc::new(tokio::sync::Barrier::new(families + 1));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..families {
        let email = journey::unique_email("load")?;
        let (client, codes, start) = (client.clone(), codes.clone(), start.clone());
        tasks.spawn(async move {
            start.wait().await;
            family(client, codes, email).await
        });
    }
    let _ = counter.take();
    start.wait().await;
    let began = Instant::now();
    let mut done = Vec::with_capacity(families);
    while let Some(f) = tasks.join_next().await {
        done.push(f.map_err(|e| format!("a family's task: {e}"))?);
    }
    let wall = began.elapsed();
    let tally = counter.take();
    let emulator = emulator_log.and_then(|l| EmulatorTrouble::read(l, log_from));

    let mut run = LoadRun {
        families,
        wall,
        steps: STEPS
            .iter()
            .map(|name| StepStats {
                name,
                ..StepStats::default()
            })
            .collect(),
        outbox_reads: codes.reads.load(Ordering::Relaxed),
        tally,
        emulator,
        ..LoadRun::default()
    };
    for f in &done {
        for s in &f.samples {
            let step = &mut run.steps[s.step];
            step.latencies_ms.push(s.ms);
            match &s.outcome {
                Outcome::Success => {}
                Outcome::Allowed => step.expected_other += 1,
                Outcome::Error(e) => {
                    step.errors += 1;
                    *run.errors.entry((s.step, e.clone())).or_default() += 1;
                }
            }
        }
        if let Some(pair) = &f.double_click {
            *run.double_clicks.entry(pair.clone()).or_default() += 1;
        }
    }
    run.audit = audit(stack, &client, &done).await?;
    // The audit's reads are not the journey's.
    let _ = counter.take();
    Ok(run)
}

/// Every family checked against what the stack kept and mailed.
async fn audit(stack: &Stack, client: &Client, done: &[Family]) -> Result<Audit, String> {
    let mut a = Audit {
        families: done.len(),
        ..Audit::default()
    };
    // Every application read back (a few at a time).
    let mut reads = tokio::task::JoinSet::new();
    let gate = Arc::new(tokio::sync::Semaphore::new(16));
    for (n, f) in done.iter().enumerate() {
        if let (Some(token), Some(id)) = (f.token.clone(), f.application.clone()) {
            let (client, gate) = (client.clone(), gate.clone());
            reads.spawn(async move {
                let _permit = gate.acquire_owned().await;
                let reply = client
                    .get(&format!("/v1/demo/applications/{id}"), Some(&token))
                    .await;
                (n, reply)
            });
        }
    }
    let mut read_back: HashMap<usize, Result<Reply, String>> = HashMap::new();
    while let Some(r) = reads.join_next().await {
        let (n, reply) = r.map_err(|e| format!("an audit read: {e}"))?;
        read_back.insert(n, reply);
    }

    // The mail, read once.
    let mails = local::emulator::outbox(&stack.emulator_url).await?;
    let mut by_address: HashMap<&str, HashMap<MailKind, usize>> = HashMap::new();
    for m in &mails {
        let kind = mail_kind(&m.subject);
        for to in &m.to {
            *by_address
                .entry(to.as_str())
                .or_default()
                .entry(kind)
                .or_default() += 1;
        }
    }
    // What the store's outbox still owes for the run's applications.
    let ids: HashMap<&str, usize> = done
        .iter()
        .enumerate()
        .filter_map(|(n, f)| f.application.as_deref().map(|id| (id, n)))
        .collect();
    let owed = stack
        .app
        .store
        .due_messages(
            time::OffsetDateTime::now_utc() + time::Duration::days(1),
            10_000,
        )
        .await
        .map_err(|e| format!("the store's outbox: {e:?}"))?;
    let mut owed_by: HashMap<usize, Vec<String>> = HashMap::new();
    for m in owed {
        if let Some(n) = ids.get(m.application_id.as_str()) {
            owed_by
                .entry(*n)
                .or_default()
                .push(m.kind.code().to_owned());
        }
    }

    let mut codes: HashMap<String, Vec<usize>> = HashMap::new();
    for (n, f) in done.iter().enumerate() {
        let who = format!("family {} ({})", n + 1, f.email);
        if let Some(why) = &f.stopped {
            a.problems.push(format!("{who}: stopped at {why}"));
        }
        for p in &f.problems {
            a.problems.push(format!("{who}: {p}"));
        }
        let answered = f.reached.contains(&SUBMIT);
        if answered {
            a.submitted += 1;
        }
        // What the store says: `Some(true)` submitted with a user code,
        // `Some(false)` not submitted, `None` unknown.
        let stored = match read_back.get(&n) {
            Some(Ok(r)) if r.status == 200 => {
                let status = r.body["status"].as_str().unwrap_or("?");
                match r.body["user_code"].as_str() {
                    Some(code) if status == "submitted" => {
                        a.read_back += 1;
                        if !answered {
                            a.written_unanswered += 1;
                        }
                        codes.entry(code.to_owned()).or_default().push(n);
                        if f.submit_codes.iter().any(|c| c != code) {
                            a.problems.push(format!(
                                "{who}: submit answered user code {}, read back {code}",
                                f.submit_codes.join(", ")
                            ));
                        }
                        Some(true)
                    }
                    _ => {
                        if answered {
                            a.problems.push(format!(
                                "{who}: submit answered 200, read back as {status} with user code {}",
                                r.body["user_code"]
                            ));
                        }
                        Some(false)
                    }
                }
            }
            Some(Ok(r)) => {
                a.problems
                    .push(format!("{who}: reading it back answered {}", label(r)));
                None
            }
            Some(Err(e)) => {
                a.problems.push(format!("{who}: reading it back: {e}"));
                None
            }
            None => None,
        };
        // Exactly one mail of each kind the family is owed; none of a
        // kind it is not; either when a failed step leaves it unknown
        // (an answer lost after the write), or when the message still
        // waits in the outbox (late, not lost).
        let got = by_address.get(f.email.as_str());
        let count = |k: MailKind| got.and_then(|g| g.get(&k)).copied().unwrap_or(0);
        let waiting = |kind: &str| owed_by.get(&n).is_some_and(|k| k.iter().any(|c| c == kind));
        let expect = |sure: bool, unknown: bool, kind: &str| {
            if sure && !waiting(kind) {
                (1, 1)
            } else if sure || unknown {
                (0, 1)
            } else {
                (0, 0)
            }
        };
        let has_application = f.application.is_some();
        for (kind, (low, high), name) in [
            (
                MailKind::Code,
                expect(f.reached.contains(&EMAIL_CODES), f.stopped.is_some(), ""),
                "code mails",
            ),
            (
                MailKind::Password,
                expect(
                    has_application,
                    f.stopped.is_some() && !has_application,
                    "password",
                ),
                "temporary-password mails",
            ),
            (
                MailKind::Letter,
                expect(
                    stored == Some(true),
                    stored.is_none() && answered,
                    "credentials",
                ),
                "credentials letters",
            ),
        ] {
            let n_mails = count(kind);
            match kind {
                MailKind::Code => a.code_mails += n_mails,
                MailKind::Password => a.password_mails += n_mails,
                _ => a.letters += n_mails,
            }
            if n_mails < low || n_mails > high {
                let still_owed = owed_by
                    .get(&n)
                    .map(|k| format!(" (still owed in the outbox: {})", k.join(", ")))
                    .unwrap_or_default();
                let expected = if low == high {
                    low.to_string()
                } else {
                    format!("{low} or {high}")
                };
                a.problems.push(format!(
                    "{who}: {n_mails} {name}, expected {expected}{still_owed}"
                ));
            }
        }
        a.other_mails += count(MailKind::Other);
        if let Some(kinds) = owed_by.get(&n) {
            a.owed += kinds.len();
            a.owed_letters += kinds.iter().filter(|k| *k == "credentials").count();
        }
    }
    a.user_codes_distinct = codes.len();
    for (code, holders) in &codes {
        if holders.len() > 1 {
            let list: Vec<String> = holders.iter().map(|n| (n + 1).to_string()).collect();
            a.problems.push(format!(
                "user code {code} given to families {}",
                list.join(", ")
            ));
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, code: Option<&str>) -> Result<Reply, String> {
        Ok(Reply {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: code.map_or(
                json!({ "user_code": "12345678" }),
                |c| json!({ "error": { "code": c, "message": "…" } }),
            ),
        })
    }

    #[test]
    fn a_double_click_may_answer_200_twice_or_200_and_412() {
        let (o, pair) = double_click(&reply(200, None), &reply(200, None));
        assert_eq!(o, vec![Outcome::Success, Outcome::Success]);
        assert_eq!(pair, "200 and 200 (the same application)");
        let (o, pair) = double_click(&reply(412, Some("version_conflict")), &reply(200, None));
        assert_eq!(o, vec![Outcome::Allowed, Outcome::Success]);
        assert_eq!(pair, "200 and 412 version_conflict");
        let (o, _) = double_click(&reply(200, None), &reply(500, Some("internal")));
        assert_eq!(o[1], Outcome::Error("500 internal".into()));
    }

    #[test]
    fn mails_are_told_apart_by_their_subject() {
        assert_eq!(
            mail_kind("Codice di sicurezza per le iscrizioni scolastiche – Comune di Esempio"),
            MailKind::Code
        );
        assert_eq!(
            mail_kind("Domanda d'iscrizione salvata: la tua password · Application saved – X"),
            MailKind::Password
        );
        assert_eq!(
            mail_kind("Iscrizione inviata: lettera credenziali – X"),
            MailKind::Letter
        );
        assert_eq!(
            six_digits("codice 12345678 e 042137."),
            Some("042137".into())
        );
    }

    #[test]
    fn the_emulator_log_is_read_for_its_failures() {
        let log = std::env::temp_dir().join(format!("bench-emulator-{}.log", std::process::id()));
        let text = "before\n127.0.0.1 - - [x] \"\u{1b}[35m\u{1b}[1mPOST / HTTP/1.1\u{1b}[0m\" 500 -\n\
Traceback (most recent call last):\n  File \"x.py\", line 1, in f\n\
RuntimeError: dictionary changed size during iteration\n";
        std::fs::write(&log, text).expect("a log");
        let t = EmulatorTrouble::read(&log, 7).expect("read");
        let _ = std::fs::remove_file(&log);
        assert_eq!(t.http_500, 1);
        assert_eq!(
            t.exceptions.into_iter().collect::<Vec<_>>(),
            vec![(
                "RuntimeError: dictionary changed size during iteration".to_string(),
                1
            )]
        );
    }
}
