//! The harness of `make bench` (after `local/bench.sh` has built the
//! release binaries and run the criterion benchmarks): sizes, the journey's
//! requests, the scheduled run, the cold starts, then `docs/performance.md`.
//!
//! Settings (environment): `BENCH_RUNS` cold starts per function and event
//! (10), `BENCH_JOURNEYS` journeys (5), `BENCH_FAMILIES` families of the
//! load run (200), `BENCH_OUTPUT` the report (`docs/performance.md`),
//! `CRITERION_HOME` where the criterion estimates are
//! (`target/bench/criterion`), `CARGO_TARGET_DIR` where the release
//! binaries are (`target`). `BENCH_ONLY=load` runs only the load run and
//! its partition model, needs no release binary (a debug build will do),
//! and prints those two sections instead of rewriting the report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use bench::coldstart::{self, HttpEvent, Shuffle, Target};
use bench::counter::Counter;
use bench::journey::{self, Client};
use bench::load;
use bench::machine::{self, Machine};
use bench::report::{self, ColdRow, Estimate, Inputs, PackageZips, Scheduled};
use bench::stack::{self, Stack};
use serde_json::{Value, json};

/// The functions, in the template's order of the journey.
const FUNCTIONS: [&str; 6] = [
    "email-code",
    "save-draft",
    "submit",
    "status",
    "confirm",
    "close-windows",
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The first invocation of a cold start.
#[derive(Debug, Clone)]
enum Event {
    /// A sample event of `events/` as it is.
    Sample(&'static str),
    /// The sample code request, for a new address each time.
    EmailCode,
    /// `POST sessions` with a pupil's fiscal code and password (argon2id).
    Login,
    /// `POST applications` for a new pupil (argon2id, SES).
    Draft,
    /// `POST …/submit` of a complete draft (PDFs, S3, SES).
    Submit,
    /// `GET …/documents` of a submitted application (presigned links).
    Documents,
    /// The office's `POST …/confirm` of a submitted application (SES).
    Confirm,
}

struct Variant {
    target: Target,
    event: Event,
    label: String,
    work: bool,
    probe: Option<u8>,
    expected: u16,
}

/// What the real-work events need, made through the stack.
struct Prep {
    client: Client,
    template: Value,
    window: String,
    guardian: String,
    email: String,
    token: String,
    login: (String, String),
    documents: String,
    staff: String,
}

impl Prep {
    async fn new(stack: &Stack, root: &Path) -> Result<Self, String> {
        let client = Client::new(&stack.base)?;
        let template = read_json(&root.join("events/status/200-get-windows.json"))?;
        let window = client.open_window().await?;
        let guardian = journey::guardian_code()?;
        let email = journey::unique_email("cold")?;
        let token = client.email_session(&email).await?;
        // A pupil with a mailed password, for the password logins.
        let pupil = journey::pupil_code()?;
        client
            .post(
                "/v1/demo/applications",
                Some(&token),
                journey::first_step_body(&window, &pupil, &guardian),
            )
            .await?
            .expect(201, "draft for the login")?;
        let password = client.mailed_password(&email).await?;
        let documents = client.submitted(&token, &window, &guardian, &email).await?;
        let staff = client.staff_token().await?;
        Ok(Self {
            client,
            template,
            window,
            guardian,
            email,
            token,
            login: (pupil, password),
            documents,
            staff,
        })
    }

    /// A fresh parent session (they last 30 minutes), and a submitted
    /// application of its own for the documents.
    async fn refresh(&mut self) -> Result<(), String> {
        self.email = journey::unique_email("cold")?;
        self.token = self.client.email_session(&self.email).await?;
        self.documents = self
            .client
            .submitted(&self.token, &self.window, &self.guardian, &self.email)
            .await?;
        Ok(())
    }

    fn bearer(token: &str) -> Vec<(&'static str, String)> {
        vec![("authorization", format!("Bearer {token}"))]
    }

    async fn event(&self, root: &Path, event: &Event) -> Result<Value, String> {
        let tenant = || ("tenant", "demo".to_string());
        Ok(match event {
            Event::Sample(path) => read_json(&root.join(path))?,
            Event::EmailCode => coldstart::with_email(
                &read_json(&root.join("events/email-code/202-post-email-codes.json"))?,
                &journey::unique_email("cold-code")?,
            ),
            Event::Login => HttpEvent {
                route_key: fn_email_code::SESSIONS,
                path: "/v1/demo/sessions".into(),
                params: vec![tenant()],
                query: vec![],
                headers: vec![],
                body: Some(json!({ "fiscal_code": self.login.0, "password": self.login.1 })),
            }
            .build(&self.template),
            Event::Draft => HttpEvent {
                route_key: fn_save_draft::CREATE,
                path: "/v1/demo/applications".into(),
                params: vec![tenant()],
                query: vec![],
                headers: Self::bearer(&self.token),
                body: Some(journey::first_step_body(
                    &self.window,
                    &journey::pupil_code()?,
                    &self.guardian,
                )),
            }
            .build(&self.template),
            Event::Submit => {
                let (id, etag) = self
                    .client
                    .complete_draft(&self.token, &self.window, &self.guardian, &self.email)
                    .await?;
                let mut headers = Self::bearer(&self.token);
                headers.push(("if-match", etag));
                HttpEvent {
                    route_key: fn_submit::SUBMIT,
                    path: format!("/v1/demo/applications/{id}/submit"),
                    params: vec![tenant(), ("id", id)],
                    query: vec![],
                    headers,
                    body: None,
                }
                .build(&self.template)
            }
            Event::Documents => HttpEvent {
                route_key: fn_status::DOCUMENTS,
                path: format!("/v1/demo/applications/{}/documents", self.documents),
                params: vec![tenant(), ("id", self.documents.clone())],
                query: vec![],
                headers: Self::bearer(&self.token),
                body: None,
            }
            .build(&self.template),
            Event::Confirm => {
                let id = self
                    .client
                    .submitted(&self.token, &self.window, &self.guardian, &self.email)
                    .await?;
                HttpEvent {
                    route_key: fn_confirm::CONFIRM,
                    path: format!("/v1/demo/staff/applications/{id}/confirm"),
                    params: vec![tenant(), ("id", id)],
                    query: vec![],
                    headers: Self::bearer(&self.staff),
                    body: Some(json!({})),
                }
                .build(&self.template)
            }
        })
    }
}

fn variants(bin: &Path, stack: &Stack) -> Vec<Variant> {
    let config = [
        ("TABLE_NAME", stack::TABLE),
        ("BUCKET_NAME", stack::BUCKET),
        ("MAIL_FROM", stack::MAIL_FROM),
        ("APP_SECRET", stack.secret.as_str()),
        ("LOG_FORMAT", "json"),
        ("RUST_LOG", "info"),
        ("AWS_ENDPOINT_URL", stack.emulator_url.as_str()),
    ];
    let target = |function: &str| Target {
        function: function.to_owned(),
        binary: bin.join(function),
        env: coldstart::lambda_env(function, &config),
    };
    let sample = |function: &str, event: Event, file: &str, expected: u16| Variant {
        target: target(function),
        event,
        label: format!("`{file}`"),
        work: false,
        probe: None,
        expected,
    };
    let work = |function: &str, event: Event, label: &str, expected: u16| Variant {
        target: target(function),
        event,
        label: label.to_owned(),
        work: true,
        probe: None,
        expected,
    };
    let probe = |stage: u8, label: &str| {
        let function = format!("init-probe-{stage}");
        let mut env = coldstart::lambda_env(&function, &config);
        env.push(("PROBE_STAGE".into(), stage.to_string()));
        Variant {
            target: Target {
                function,
                binary: bin.join("init-probe"),
                env,
            },
            event: Event::Sample("events/status/200-get-windows.json"),
            label: label.to_owned(),
            work: false,
            probe: Some(stage),
            expected: 200,
        }
    };
    let mut list = vec![
        sample(
            "hello",
            Event::Sample("events/status/200-get-windows.json"),
            "status/200-get-windows.json",
            200,
        ),
        sample(
            "email-code",
            Event::EmailCode,
            "email-code/202-post-email-codes.json (a new address each run)",
            202,
        ),
        sample(
            "save-draft",
            Event::Sample("events/save-draft/401-post-applications-no-session.json"),
            "save-draft/401-post-applications-no-session.json",
            401,
        ),
        sample(
            "submit",
            Event::Sample("events/submit/401-post-submit-no-session.json"),
            "submit/401-post-submit-no-session.json",
            401,
        ),
        sample(
            "status",
            Event::Sample("events/status/200-get-windows.json"),
            "status/200-get-windows.json",
            200,
        ),
        sample(
            "confirm",
            Event::Sample("events/confirm/401-get-staff-applications-no-token.json"),
            "confirm/401-get-staff-applications-no-token.json",
            401,
        ),
        sample(
            "close-windows",
            Event::Sample("events/close-windows/schedule.json"),
            "close-windows/schedule.json (EventBridge)",
            0,
        ),
        work(
            "email-code",
            Event::Login,
            "`POST sessions` with fiscal code and password (argon2id verify)",
            201,
        ),
        work(
            "save-draft",
            Event::Draft,
            "`POST applications` for a new pupil (argon2id hash, password mail)",
            201,
        ),
        work(
            "submit",
            Event::Submit,
            "`POST …/submit` of a complete draft (3 PDFs, S3, letter with PDF)",
            200,
        ),
        work(
            "status",
            Event::Documents,
            "`GET …/documents` of a submitted application (presigned links)",
            200,
        ),
        work(
            "confirm",
            Event::Confirm,
            "`POST staff/…/confirm` (decision mail)",
            200,
        ),
        probe(
            0,
            "the hello world linked with the shared crate, nothing else",
        ),
        probe(1, "+ logging set up (`shared::logging::init`)"),
        probe(
            2,
            "+ the SDK configuration loaded (`aws_config::defaults(…).load()`)",
        ),
        probe(
            3,
            "+ `App::from_env` (configuration, SDK configuration, three clients): all a function does",
        ),
    ];
    // The largest step above is the SDK's HTTPS client reading the system's
    // root certificates: here a bundle file and a hashed directory of them.
    // The same function with the roots read from the bundle alone shows
    // what that layout costs.
    let bundle = "/etc/ssl/certs/ca-certificates.crt";
    if Path::new(bundle).exists() {
        let mut v = sample(
            "status",
            Event::Sample("events/status/200-get-windows.json"),
            "",
            200,
        );
        v.target.env.push(("SSL_CERT_FILE".into(), bundle.into()));
        v.label = format!(
            "`status` with the root certificates read from one bundle file (`SSL_CERT_FILE={bundle}`)"
        );
        v.probe = Some(9);
        list.push(v);
    }
    list
}

async fn cold_starts(
    root: &Path,
    bin: &Path,
    logs: &Path,
    stack: &Stack,
    runs: usize,
) -> Result<Vec<ColdRow>, String> {
    let variants = variants(bin, stack);
    let mut prep = Prep::new(stack, root).await?;
    let mut rows: Vec<ColdRow> = variants
        .iter()
        .map(|v| ColdRow {
            function: v.target.function.clone(),
            event: v.label.clone(),
            work: v.work,
            probe: v.probe,
            runs: Vec::new(),
        })
        .collect();
    std::fs::create_dir_all(logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    // Round 0 warms the page cache and is not kept; the variants are
    // interleaved, in a new random order every round, so that a change of
    // load (or a neighbour's cache) touches them all alike.
    let mut shuffle = Shuffle::from_clock();
    let mut order: Vec<usize> = (0..variants.len()).collect();
    for round in 0..=runs {
        eprintln!("  cold starts: round {round} of {runs}");
        prep.refresh().await?;
        shuffle.shuffle(&mut order);
        for &i in &order {
            let (variant, row) = (&variants[i], &mut rows[i]);
            let event = prep.event(root, &variant.event).await?;
            let log = logs.join(format!(
                "{}{}.log",
                variant.target.function,
                if variant.work { "-work" } else { "" }
            ));
            let m = coldstart::measure(&variant.target, &event, &log).await?;
            let answered = m.status.unwrap_or(0);
            let failed = matches!(
                m.outcome,
                coldstart::Outcome::Error(_) | coldstart::Outcome::InitError(_)
            );
            if answered != variant.expected || failed {
                return Err(format!(
                    "{} ({}): answered {answered}, expected {} ({:?}); its log: {}",
                    variant.target.function,
                    variant.label,
                    variant.expected,
                    m.outcome,
                    log.display()
                ));
            }
            if round > 0 {
                row.runs.push(m);
            }
        }
    }
    Ok(rows)
}

/// Criterion's estimates under `dir` (`<group>/<bench>/new/`), and the PDF
/// sizes the benchmark wrote.
fn criterion_estimates(dir: &Path) -> (Vec<Estimate>, BTreeMap<String, u64>) {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|n| n == "new") {
                let (Ok(b), Ok(e)) = (
                    read_json(&path.join("benchmark.json")),
                    read_json(&path.join("estimates.json")),
                ) else {
                    continue;
                };
                let mean = &e["mean"];
                out.push(Estimate {
                    id: b["full_id"].as_str().unwrap_or("?").to_owned(),
                    mean_ns: mean["point_estimate"].as_f64().unwrap_or(f64::NAN),
                    lower_ns: mean["confidence_interval"]["lower_bound"]
                        .as_f64()
                        .unwrap_or(f64::NAN),
                    upper_ns: mean["confidence_interval"]["upper_bound"]
                        .as_f64()
                        .unwrap_or(f64::NAN),
                });
            } else if path
                .file_name()
                .is_none_or(|n| n != "base" && n != "report")
            {
                stack.push(path);
            }
        }
    }
    let order = |id: &str| match id.split('/').next() {
        Some("pdf") => 0,
        Some("domain") => 1,
        _ => 2,
    };
    out.sort_by(|a, b| (order(&a.id), &a.id).cmp(&(order(&b.id), &b.id)));
    let sizes = read_json(&dir.join("pdf-sizes.json"))
        .ok()
        .and_then(|v| v.as_object().cloned())
        .map(|m| {
            m.into_iter()
                .filter_map(|(k, v)| v.as_u64().map(|n| (k, n)))
                .collect()
        })
        .unwrap_or_default();
    (out, sizes)
}

async fn scheduled(stack: &Stack, counter: &Arc<Counter>) -> Result<Vec<Scheduled>, String> {
    let mut out = Vec::new();
    for label in [
        "first run after the journeys",
        "next run (the steady state: nothing due)",
    ] {
        let _ = counter.take();
        let cpu = journey::cpu_time();
        fn_close_windows::run(&stack.app)
            .await
            .map_err(|e| format!("close-windows: {e}"))?;
        out.push(Scheduled {
            label: label.to_owned(),
            cpu: journey::cpu_time().saturating_sub(cpu),
            tally: counter.take(),
        });
    }
    Ok(out)
}

/// The zips `make package` left in `target/package/zips`, if any.
fn package_zips(root: &Path) -> Option<PackageZips> {
    let dir = root.join("target/package/zips");
    let mut zips: Vec<(String, u64, PathBuf)> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "zip"))
        .filter_map(|p| {
            let name = p.file_stem()?.to_string_lossy().into_owned();
            Some((name, std::fs::metadata(&p).ok()?.len(), p))
        })
        .collect();
    zips.sort();
    let arch = zips
        .first()
        .and_then(|(_, _, p)| machine::zip_arch(p))
        .unwrap_or_else(|| "unknown".into());
    (!zips.is_empty()).then(|| PackageZips {
        arch,
        zips: zips.into_iter().map(|(n, b, _)| (n, b)).collect(),
    })
}

/// `BENCH_ONLY=load`: the emulator, the stack and the load run, its two
/// sections printed.
async fn only_load(work: &Path, families: usize) -> Result<(), String> {
    eprintln!("bench: emulator and stack");
    let (mut emulator, url) = stack::emulator(&work.join("emulator.log")).await?;
    let counter = Counter::new();
    let stack = stack::start(&url, &counter).await?;
    eprintln!("bench: {families} families at once");
    let run = load::run(&stack, &counter, families, Some(&work.join("emulator.log"))).await;
    let _ = emulator.kill().await;
    println!("{}", report::render_load_sections(&run?));
    Ok(())
}

async fn run() -> Result<(), String> {
    let started = Instant::now();
    let root = local::workspace_root();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bin = target_dir.join("release");
    let work = target_dir.join("bench");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let families = env_usize("BENCH_FAMILIES", 200).max(1);
    match std::env::var("BENCH_ONLY").as_deref() {
        Ok("load") => return only_load(&work, families).await,
        Ok(other) if !other.is_empty() => {
            return Err(format!("BENCH_ONLY={other}: only `load` is known"));
        }
        _ => {}
    }
    let criterion_home = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| work.join("criterion"));
    let output = std::env::var_os("BENCH_OUTPUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("docs/performance.md"));
    let runs = env_usize("BENCH_RUNS", 10).max(1);
    let journeys = env_usize("BENCH_JOURNEYS", 5).max(1);
    let machine = Machine::read();

    eprintln!("bench: sizes");
    let mut sizes = Vec::new();
    for name in FUNCTIONS.iter().copied().chain(["hello"]) {
        let path = bin.join(name);
        let bytes = std::fs::metadata(&path)
            .map_err(|e| {
                format!(
                    "{}: {e} (run `make bench`, which builds it)",
                    path.display()
                )
            })?
            .len();
        sizes.push((name.to_owned(), bytes, machine::zip_size(&path, &work)?));
    }

    eprintln!("bench: emulator and stack");
    let (mut emulator, url) = stack::emulator(&work.join("emulator.log")).await?;
    let counter = Counter::new();
    let stack = stack::start(&url, &counter).await?;
    let client = Client::new(&stack.base)?;

    eprintln!("bench: {journeys} journeys");
    let mut all = Vec::new();
    for _ in 0..journeys {
        all.push(journey::run(&client, &counter).await?);
    }
    let scheduled = scheduled(&stack, &counter).await?;
    let tenant_item = counter.known_size("TENANT#demo", "CONFIG").unwrap_or(0);
    let application_item = counter.largest("TENANT#demo#APP#", "APP").unwrap_or(0);

    eprintln!("bench: cold starts ({runs} runs each, after a warm-up round)");
    let cold = cold_starts(&root, &bin, &work.join("logs"), &stack, runs).await?;

    // After the cold starts, whose set-up reads the mail outbox: the load
    // run fills it with hundreds of letters.
    eprintln!("bench: {families} families at once");
    let load = load::run(&stack, &counter, families, Some(&work.join("emulator.log"))).await?;

    let (criterion, pdf_sizes) = criterion_estimates(&criterion_home);
    if criterion.is_empty() {
        eprintln!(
            "bench: no criterion estimates under {} (run bench-domain --bench first)",
            criterion_home.display()
        );
    }
    let inputs = Inputs {
        machine,
        load_after: machine::load(),
        runs,
        sizes,
        cold,
        journeys: all,
        scheduled,
        criterion,
        pdf_sizes,
        tenant_item,
        application_item,
        harness: started.elapsed(),
        build_secs: std::env::var("BENCH_BUILD_SECS")
            .ok()
            .and_then(|v| v.parse().ok()),
        load: Some(load),
        package: package_zips(&root),
    };
    let text = report::render(&inputs);
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&output, text).map_err(|e| format!("{}: {e}", output.display()))?;
    eprintln!("bench: wrote {}", output.display());
    let _ = emulator.kill().await;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    // The in-process stack's logs, on stderr, only when asked for.
    if std::env::var_os("RUST_LOG").is_some() {
        shared::logging::init();
    }
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}
