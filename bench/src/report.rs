//! `docs/performance.md`, written from one run's measurements.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::coldstart::Measurement;
use crate::counter::Tally;
use crate::journey::{Journey, Step};
use crate::load::LoadRun;
use crate::machine::Machine;
use crate::partitions::{self, Class, Kind, RATE, READ_LIMIT, WRITE_LIMIT};

// ---- assumptions of the cost model ---------------------------------------
// List prices in USD as published for US East (N. Virginia), the region
// whose prices are quoted everywhere; the deployment is assumed in
// eu-south-1 (Milan), whose prices are the same or somewhat higher: the
// report shows the total +20% as well. To be checked against the AWS price
// list before anyone relies on them.

/// Lambda, arm64, per GB-second (first 7.5 billion GB-s a month).
pub const LAMBDA_GB_S: f64 = 0.000_013_333_4;
/// Lambda, per request.
pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
/// API Gateway REST API, per request (first 333 million a month).
pub const REST_API_REQUEST: f64 = 3.50 / 1e6;
/// AWS WAF, per request inspected by the API's web ACL (the ACL's and its
/// rules' monthly fees are per deployment, not per enrollment).
pub const WAF_REQUEST: f64 = 0.60 / 1e6;
/// DynamoDB on demand (Standard table class), per write request unit.
pub const DYNAMODB_WRU: f64 = 0.625 / 1e6;
/// DynamoDB on demand, per read request unit.
pub const DYNAMODB_RRU: f64 = 0.125 / 1e6;
/// DynamoDB storage, per GB-month (after the free 25 GB, ignored here).
pub const DYNAMODB_STORAGE_GB_MONTH: f64 = 0.25;
/// DynamoDB point-in-time recovery, per GB-month.
pub const DYNAMODB_PITR_GB_MONTH: f64 = 0.20;
/// SES, per message sent (outbound, $0.10 per 1,000).
pub const SES_MESSAGE: f64 = 0.10 / 1000.0;
/// SES, per GB of attachments.
pub const SES_ATTACHMENT_GB: f64 = 0.12;
/// S3 Standard, PUT/COPY/POST/LIST requests ($0.005 per 1,000).
pub const S3_PUT: f64 = 0.005 / 1000.0;
/// S3 Standard, GET/HEAD requests ($0.0004 per 1,000).
pub const S3_GET: f64 = 0.0004 / 1000.0;
/// S3 Standard storage, per GB-month.
pub const S3_STORAGE_GB_MONTH: f64 = 0.023;
/// CloudWatch Logs ingestion, per GB.
pub const LOGS_INGESTION_GB: f64 = 0.50;
/// Logs written per invocation: our lines plus Lambda's START/END/REPORT.
pub const LOG_BYTES_PER_INVOCATION: f64 = 1024.0;

/// The functions' memory (template: `MemorySize: 512`).
pub const MEMORY_MB: f64 = 512.0;
/// Lambda gives a full vCPU at 1,769 MB, a share below: CPU-bound time
/// measured here on one core is scaled by 1769 / 512.
pub const CPU_SCALE: f64 = 1769.0 / MEMORY_MB;
/// Assumed round trips in the region (the emulator's are not AWS's).
pub const DYNAMODB_MS: f64 = 8.0;
pub const S3_MS: f64 = 25.0;
pub const SES_MS: f64 = 60.0;
/// Share of invocations that are cold starts (billed since August 2025).
pub const COLD_SHARE: f64 = 0.10;

/// The exchange rate assumed for the euro figures: 1 EUR = 1.16 USD.
pub const USD_PER_EUR: f64 = 1.16;

const GB: f64 = 1e9;
const ENROLLMENTS: f64 = 10_000.0;

/// Criterion's estimate of one benchmark.
#[derive(Debug, Clone)]
pub struct Estimate {
    pub id: String,
    pub mean_ns: f64,
    pub lower_ns: f64,
    pub upper_ns: f64,
}

/// The cold starts of one function with one event.
#[derive(Debug, Clone)]
pub struct ColdRow {
    pub function: String,
    /// What the first invocation was.
    pub event: String,
    /// A request of the journey (with a session, real work) rather than a
    /// sample event of `events/`.
    pub work: bool,
    /// A stage of `init-probe`, not a function.
    pub probe: Option<u8>,
    pub runs: Vec<Measurement>,
}

/// One run of the scheduled function.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub label: String,
    pub tally: Tally,
    pub cpu: Duration,
}

/// Everything a report is made of.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub machine: Machine,
    pub load_after: String,
    pub runs: usize,
    /// (binary, bytes, zip bytes).
    pub sizes: Vec<(String, u64, u64)>,
    pub cold: Vec<ColdRow>,
    pub journeys: Vec<Journey>,
    pub scheduled: Vec<Scheduled>,
    pub criterion: Vec<Estimate>,
    pub pdf_sizes: BTreeMap<String, u64>,
    /// The tenant configuration item read by every request, bytes.
    pub tenant_item: usize,
    /// The largest application item of the journey, bytes.
    pub application_item: usize,
    /// How long the measuring took (the build is before it).
    pub harness: Duration,
    /// How long the release builds took, when `local/bench.sh` says.
    pub build_secs: Option<u64>,
    /// The load run of many families at once, with its partition model.
    pub load: Option<LoadRun>,
    /// The zips `make package` wrote, if it was run.
    pub package: Option<PackageZips>,
}

/// The function zips of `make package` (`target/package/zips`).
#[derive(Debug, Clone, Default)]
pub struct PackageZips {
    /// The architecture of the binaries inside, from their ELF header.
    pub arch: String,
    /// (zip, bytes).
    pub zips: Vec<(String, u64)>,
}

// ---- statistics ------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The nearest-rank percentile `p` (0–100) of `values`.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn mb(bytes: u64) -> String {
    format!("{:.2}", bytes as f64 / 1024.0 / 1024.0)
}

fn eur(usd: f64) -> String {
    format!("€{:.2}", usd / USD_PER_EUR)
}

fn usd(v: f64) -> String {
    if v >= 1.0 {
        format!("${v:.2}")
    } else if v >= 0.01 {
        format!("${v:.3}")
    } else {
        format!("${v:.4}")
    }
}

fn units(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn duration_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

impl ColdRow {
    fn values(&self, f: impl Fn(&Measurement) -> f64) -> Vec<f64> {
        self.runs.iter().map(f).collect()
    }

    pub fn init_median(&self) -> f64 {
        median(&self.values(|m| ms(m.init)))
    }

    fn init_p90(&self) -> f64 {
        percentile(&self.values(|m| ms(m.init)), 90.0)
    }

    fn response_median(&self) -> f64 {
        median(&self.values(|m| ms(m.first_response)))
    }

    fn response_p90(&self) -> f64 {
        percentile(&self.values(|m| ms(m.first_response)), 90.0)
    }

    pub fn peak_max(&self) -> f64 {
        self.runs
            .iter()
            .map(|m| mib(m.peak_kib))
            .fold(0.0, f64::max)
    }

    fn peak_median(&self) -> f64 {
        median(&self.values(|m| mib(m.peak_kib)))
    }

    fn statuses(&self) -> String {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for m in &self.runs {
            let s = match (&m.status, &m.outcome) {
                (Some(s), _) => s.to_string(),
                (None, crate::coldstart::Outcome::Response(_)) => "ok".into(),
                (None, crate::coldstart::Outcome::Error(_)) => "error".into(),
                (None, crate::coldstart::Outcome::InitError(_)) => "init error".into(),
            };
            *seen.entry(s).or_default() += 1;
        }
        seen.into_iter()
            .map(|(s, n)| {
                if n == self.runs.len() {
                    s
                } else {
                    format!("{s} ×{n}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

// ---- the journey and the cost model ---------------------------------------

/// Per-step medians over the journeys (CPU and wall time).
fn step_medians(journeys: &[Journey], i: usize) -> (f64, f64) {
    let cpu: Vec<f64> = journeys
        .iter()
        .filter_map(|j| j.steps.get(i))
        .map(|s| ms(s.cpu))
        .collect();
    let wall: Vec<f64> = journeys
        .iter()
        .filter_map(|j| j.steps.get(i))
        .map(|s| ms(s.wall))
        .collect();
    (median(&cpu), median(&wall))
}

/// The billed duration we assume in Lambda for a step: its CPU time at a
/// 512 MB share of a vCPU, plus the assumed round trips.
fn lambda_ms(step: &Step, cpu_ms: f64) -> f64 {
    cpu_ms * CPU_SCALE
        + step.tally.dynamodb_calls() as f64 * DYNAMODB_MS
        + (step.tally.s3_put_class() + step.tally.s3_get_class()) as f64 * S3_MS
        + step.tally.count("SES:") as f64 * SES_MS
}

/// One line of the cost model.
struct Line {
    service: &'static str,
    quantity: String,
    cost: f64,
}

struct Model {
    invocations: f64,
    lambda_ms: f64,
    rru: f64,
    wru: f64,
    index_wru: f64,
    /// Index WRU of one enrollment by index partition key.
    index_partitions: BTreeMap<String, f64>,
    transact_wru: f64,
    ses_messages: f64,
    ses_bytes: f64,
    s3_put: f64,
    s3_get: f64,
    s3_bytes: f64,
    dynamodb_bytes: f64,
    lines: Vec<Line>,
    storage_month: Vec<Line>,
    scheduled_month: Vec<Line>,
}

/// The steps of the email-code path that a family logging in with SPID or
/// CIE does not take: the code by mail, the code session, and the logins
/// and change of the temporary password (a SPID session is owed none).
fn email_path_only(name: &str) -> bool {
    name.starts_with("POST email-codes")
        || name.starts_with("POST sessions")
        || name.starts_with("POST password")
}

/// How a family proves who it is, for the cost model.
#[derive(Clone, Copy, PartialEq)]
enum Login {
    /// The journey as measured: email code, temporary password.
    Email,
    /// The same enrollment by a SPID/CIE family, derived from it.
    Spid,
}

fn model(inputs: &Inputs) -> Option<Model> {
    model_for(inputs, Login::Email)
}

/// The cost model of one enrollment. `Login::Spid` drops the email-path
/// steps and the temporary password's mail (a SPID session is owed none)
/// and counts one invocation for the SPID login, as heavy as the measured
/// code session (the assertion's check and a session written).
fn model_for(inputs: &Inputs, login: Login) -> Option<Model> {
    let journey = inputs.journeys.first()?;
    let init_of = |function: &str| {
        inputs
            .cold
            .iter()
            .find(|c| c.function == function && !c.work)
            .map(ColdRow::init_median)
            .unwrap_or(0.0)
    };
    let mut m = Model {
        invocations: 0.0,
        lambda_ms: 0.0,
        rru: 0.0,
        wru: 0.0,
        index_wru: 0.0,
        index_partitions: BTreeMap::new(),
        transact_wru: 0.0,
        ses_messages: 0.0,
        ses_bytes: 0.0,
        s3_put: 0.0,
        s3_get: 0.0,
        s3_bytes: 0.0,
        dynamodb_bytes: journey.storage.billed_bytes() as f64,
        lines: Vec::new(),
        storage_month: Vec::new(),
        scheduled_month: Vec::new(),
    };
    for (i, step) in journey.steps.iter().enumerate() {
        let (cpu, _) = step_medians(&inputs.journeys, i);
        if login == Login::Spid {
            if step.name.starts_with("POST sessions (email + code)") {
                // Stands for the SPID login's own invocation.
                m.invocations += 1.0;
                m.lambda_ms += lambda_ms(step, cpu);
                m.rru += step.tally.rru;
                m.wru += step.tally.wru;
                continue;
            }
            if email_path_only(step.name) {
                continue;
            }
            if step.name.starts_with("POST applications") {
                m.ses_messages -= 1.0;
            }
        }
        if let Some(function) = step.function {
            m.invocations += 1.0;
            m.lambda_ms += lambda_ms(step, cpu) + COLD_SHARE * init_of(function) * CPU_SCALE;
        }
        m.rru += step.tally.rru;
        m.wru += step.tally.wru;
        m.index_wru += step.tally.index_wru;
        m.transact_wru += step.tally.transact_wru;
        for (k, u) in step.tally.index_partitions() {
            *m.index_partitions.entry(k.to_owned()).or_default() += u;
        }
        m.ses_messages += step.tally.ses_messages() as f64;
        m.ses_bytes += step.tally.ses_bytes as f64;
        m.s3_put += step.tally.s3_put_class() as f64;
        m.s3_get += (step.tally.s3_get_class() + step.presigned_gets) as f64;
        m.s3_bytes += step.tally.s3_put_bytes as f64;
    }
    let n = ENROLLMENTS;
    let gb_s = m.lambda_ms / 1000.0 * (MEMORY_MB / 1024.0);
    m.lines = vec![
        Line {
            service: "Lambda requests",
            quantity: format!("{:.0} invocations", m.invocations * n),
            cost: m.invocations * n * LAMBDA_REQUEST,
        },
        Line {
            service: "Lambda duration (arm64, 512 MB)",
            quantity: format!("{:.0} GB-s", gb_s * n),
            cost: gb_s * n * LAMBDA_GB_S,
        },
        Line {
            service: "API Gateway REST API",
            quantity: format!("{:.0} requests", m.invocations * n),
            cost: m.invocations * n * REST_API_REQUEST,
        },
        Line {
            service: "AWS WAF (requests inspected)",
            quantity: format!("{:.0} requests", m.invocations * n),
            cost: m.invocations * n * WAF_REQUEST,
        },
        Line {
            service: "DynamoDB writes (on demand)",
            quantity: format!("{:.0} WRU", m.wru * n),
            cost: m.wru * n * DYNAMODB_WRU,
        },
        Line {
            service: "DynamoDB reads (on demand)",
            quantity: format!("{:.0} RRU", m.rru * n),
            cost: m.rru * n * DYNAMODB_RRU,
        },
        Line {
            service: "SES messages",
            quantity: format!("{:.0} mails", m.ses_messages * n),
            cost: m.ses_messages * n * SES_MESSAGE,
        },
        Line {
            service: "SES attachments (upper bound: whole messages)",
            quantity: format!("{:.2} GB", m.ses_bytes * n / GB),
            cost: m.ses_bytes * n / GB * SES_ATTACHMENT_GB,
        },
        Line {
            service: "S3 requests",
            quantity: format!(
                "{:.0} PUT/LIST + {:.0} GET/HEAD",
                m.s3_put * n,
                m.s3_get * n
            ),
            cost: m.s3_put * n * S3_PUT + m.s3_get * n * S3_GET,
        },
        Line {
            service: "CloudWatch Logs ingestion",
            quantity: format!(
                "{:.2} GB",
                m.invocations * n * LOG_BYTES_PER_INVOCATION / GB
            ),
            cost: m.invocations * n * LOG_BYTES_PER_INVOCATION / GB * LOGS_INGESTION_GB,
        },
    ];
    m.storage_month = vec![
        Line {
            service: "DynamoDB storage + PITR",
            quantity: format!("{:.3} GB", m.dynamodb_bytes * n / GB),
            cost: m.dynamodb_bytes * n / GB * (DYNAMODB_STORAGE_GB_MONTH + DYNAMODB_PITR_GB_MONTH),
        },
        Line {
            service: "S3 storage (documents)",
            quantity: format!("{:.3} GB", m.s3_bytes * n / GB),
            cost: m.s3_bytes * n / GB * S3_STORAGE_GB_MONTH,
        },
    ];
    // The schedule runs every 5 minutes whatever the enrollments: its
    // steady state is a run with nothing due.
    if let Some(idle) = inputs.scheduled.last() {
        let runs = 30.0 * 24.0 * 12.0;
        let ms_per_run = ms(idle.cpu) * CPU_SCALE
            + idle.tally.dynamodb_calls() as f64 * DYNAMODB_MS
            + COLD_SHARE * init_of("close-windows") * CPU_SCALE;
        let gb_s = ms_per_run / 1000.0 * (MEMORY_MB / 1024.0) * runs;
        m.scheduled_month = vec![
            Line {
                service: "close-windows: Lambda (requests + duration)",
                quantity: format!("{runs:.0} runs, {gb_s:.0} GB-s"),
                cost: runs * LAMBDA_REQUEST + gb_s * LAMBDA_GB_S,
            },
            Line {
                service: "close-windows: DynamoDB reads",
                quantity: format!("{:.0} RRU", idle.tally.rru * runs),
                cost: idle.tally.rru * runs * DYNAMODB_RRU,
            },
        ];
    }
    Some(m)
}

// ---- the document ------------------------------------------------------------

struct Out(String);

impl Out {
    fn line(&mut self, s: impl AsRef<str>) {
        self.0.push_str(s.as_ref());
        self.0.push('\n');
    }

    fn blank(&mut self) {
        self.0.push('\n');
    }
}

fn ok(pass: bool) -> &'static str {
    if pass { "yes" } else { "**no**" }
}

pub fn render(inputs: &Inputs) -> String {
    let mut o = Out(String::new());
    let m = &inputs.machine;
    o.line("# Performance");
    o.blank();
    o.line("<!-- Written by `make bench` (bench/, local/bench.sh). Do not edit by hand: run it again. -->");
    o.blank();
    o.line(format!(
        "Measured on **{}** (`date -u`) by `make bench`, on an {} machine: {} (`/proc/cpuinfo`), {} logical CPUs \
(`nproc`), {} RAM, Linux {}; release builds with {}. Load average before/after the measurements: {} / {}. The \
measurements took {:.0} s{}.",
        m.date,
        m.arch,
        m.cpu,
        m.nproc,
        m.memory,
        m.kernel,
        m.rustc,
        m.load,
        inputs.load_after,
        inputs.harness.as_secs_f64(),
        inputs
            .build_secs
            .map(|b| format!(", after {b} s of release builds"))
            .unwrap_or_default()
    ));
    o.blank();
    o.line("Read every figure with these in mind:");
    o.blank();
    o.line(format!(
        "- The machine has {} cores, shared with other builds and tests while this ran: times are noisy; \
medians and p90 over {} runs are reported, and the ratios (ours / hello world, measured side by side, interleaved) are \
more robust than the absolutes.",
        m.nproc, inputs.runs
    ));
    o.line(format!(
        "- The binaries are {} Linux builds (`cargo build --release`, the workspace profile: opt-level s, thin LTO, \
one codegen unit, stripped, panic = abort). Production is arm64 (Graviton) built by cargo-lambda with Zig, \
and the published anchors below are arm64 in AWS: compare ratios, not milliseconds.",
        m.arch
    ));
    o.line("- AWS is the local emulator (moto) over plain HTTP on loopback: no TLS handshake, no network, but a Python \
server's latency. In AWS the first call of a cold start also pays a TLS handshake (see PITFALLS: about 0.9 s at 128 MB, far less at 512 MB).");
    o.line("- Nothing here is a test: no figure fails the build. The goals are checked in the summary and left for people to judge.");
    o.blank();

    // ---- summary
    let hello = inputs
        .cold
        .iter()
        .find(|c| c.function == "hello")
        .map(ColdRow::init_median)
        .unwrap_or(f64::NAN);
    let functions: Vec<&ColdRow> = inputs
        .cold
        .iter()
        .filter(|c| c.function != "hello" && !c.work && c.probe.is_none())
        .collect();
    let worst_ratio = functions
        .iter()
        .map(|c| c.init_median() / hello)
        .fold(0.0, f64::max);
    let worst_peak = inputs
        .cold
        .iter()
        .filter(|c| c.function != "hello" && c.probe.is_none())
        .map(ColdRow::peak_max)
        .fold(0.0, f64::max);
    let model = model(inputs);
    render_summary(
        &mut o,
        inputs,
        hello,
        &functions,
        worst_peak,
        model.as_ref(),
    );

    // ---- cold starts
    o.line("## Cold start");
    o.blank();
    o.line(format!(
        "Each release binary is spawned against a local stand-in for the Lambda Runtime API (`bench/src/coldstart.rs`: \
`GET …/invocation/next` with the `Lambda-Runtime-*` headers, `POST …/response`, `…/error`, `…/init/error`) with \
the environment Lambda gives a function (`AWS_LAMBDA_*`, 512 MB, credentials, region, the template's variables, \
`AWS_ENDPOINT_URL` at the emulator). **Init** is the time from the spawn to its first request for work \
(process start, logging, configuration, SDK configuration and clients, runtime client); **first response** is the \
time from the spawn to the response of the first invocation, AWS calls included. {} runs of each, interleaved in a new random \
order every round, after one warm-up round (so the binary is in the page cache, as Lambda's code cache would have it).",
        inputs.runs
    ));
    o.blank();
    o.line("| function | init median | init p90 | init / hello | first response median | p90 | first event | answer |");
    o.line("|---|---|---|---|---|---|---|---|");
    for c in inputs.cold.iter().filter(|c| !c.work && c.probe.is_none()) {
        o.line(format!(
            "| `{}` | {:.1} ms | {:.1} ms | {:.2}× | {:.1} ms | {:.1} ms | {} | {} |",
            c.function,
            c.init_median(),
            c.init_p90(),
            c.init_median() / hello,
            c.response_median(),
            c.response_p90(),
            c.event,
            c.statuses()
        ));
    }
    o.blank();
    o.line("The same cold starts with a first invocation that does the real work of the journey (a session, a password \
hash, a draft with its mail, a submission with its three PDFs, S3 uploads and the letter, a confirmation with its mail), \
events of the same shape made with a real session or staff token:");
    o.blank();
    o.line("| function | first invocation | first response median | p90 | answer |");
    o.line("|---|---|---|---|---|");
    for c in inputs.cold.iter().filter(|c| c.work) {
        o.line(format!(
            "| `{}` | {} | {:.1} ms | {:.1} ms | {} |",
            c.function,
            c.event,
            c.response_median(),
            c.response_p90(),
            c.statuses()
        ));
    }
    o.blank();
    render_probes(&mut o, inputs, hello, &functions);
    o.line("Published anchors (30-day medians of a daily public benchmark of hello-world functions, arm64 in AWS), for \
the order of magnitude; only our ratio to the hello world built here carries over:");
    o.blank();
    o.line("| runtime | init (published) | the same ratio applied to our worst function |");
    o.line("|---|---|---|");
    for (runtime, anchor) in [
        ("Rust, provided.al2023 arm64", 14.0),
        ("Python 3.13", 77.0),
        ("Node.js 22", 125.0),
        ("Java 21", 235.0),
    ] {
        let note = if anchor == 14.0 {
            format!(
                "≈ {:.0} ms for ours ({worst_ratio:.2} × 14 ms)",
                worst_ratio * 14.0
            )
        } else {
            format!("ours ≈ {:.1}× faster", anchor / (worst_ratio * 14.0))
        };
        o.line(format!("| {runtime} | ~{anchor:.0} ms | {note} |"));
    }
    o.line("| a published Rust + DynamoDB sample | warm p50 5 ms / p99 20 ms, cold p50 123 ms end to end | not comparable with the loopback figures above: it includes the network, TLS and API Gateway |");
    o.blank();

    // ---- memory
    o.line("## Peak memory");
    o.blank();
    o.line("Peak resident set (VmHWM of `/proc/<pid>/status`) over init and one invocation, read after the first \
response, before the process is killed. MiB, as Lambda's \"MB\". The goal is under 40 MB, so that the 512 MB \
setting buys CPU (a 512/1769 share of a vCPU), not room.");
    o.blank();
    o.line("| function | first event: median / max | real work: median / max | under 40 MB |");
    o.line("|---|---|---|---|");
    let mut names: Vec<&str> = Vec::new();
    for c in inputs.cold.iter().filter(|c| c.probe.is_none()) {
        if !names.contains(&c.function.as_str()) {
            names.push(c.function.as_str());
        }
    }
    for name in names {
        let sample = inputs.cold.iter().find(|c| c.function == name && !c.work);
        let work = inputs.cold.iter().find(|c| c.function == name && c.work);
        let cell = |c: Option<&ColdRow>| {
            c.map(|c| format!("{:.1} / {:.1} MiB", c.peak_median(), c.peak_max()))
                .unwrap_or_else(|| "—".into())
        };
        let worst = sample
            .map(ColdRow::peak_max)
            .unwrap_or(0.0)
            .max(work.map(ColdRow::peak_max).unwrap_or(0.0));
        o.line(format!(
            "| `{name}` | {} | {} | {} |",
            cell(sample),
            cell(work),
            ok(worst < 40.0)
        ));
    }
    o.blank();
    o.line("The password hash (argon2id, the crate's defaults: 19 MiB, 2 passes) is the largest single allocation; \
it runs in `email-code` (password logins and changes) and `save-draft` (the temporary password of a new pupil).");
    o.blank();

    // ---- sizes
    o.line("## Binary and package size");
    o.blank();
    o.line(format!(
        "Release binaries ({}), and each zipped as `bootstrap` with deflate, as the Lambda package is.",
        m.arch
    ));
    o.blank();
    o.line("| binary | size | zip |");
    o.line("|---|---|---|");
    for (name, bytes, zip) in &inputs.sizes {
        o.line(format!(
            "| `{name}` | {} MB | {} MB |",
            mb(*bytes),
            mb(*zip)
        ));
    }
    o.blank();

    // ---- criterion
    o.line("## PDFs and domain operations (criterion)");
    o.blank();
    o.line("`bench/src/bin/bench-domain.rs`, with criterion (mean and its 95% confidence interval; one core of this \
machine; in Lambda at 512 MB multiply CPU time by about 3.5). The PDFs are rendered for the demo tenant's texts and a \
complete application.");
    o.blank();
    o.line("| benchmark | mean | 95% CI | output |");
    o.line("|---|---|---|---|");
    for e in &inputs.criterion {
        let output =
            e.id.strip_prefix("pdf/")
                .and_then(|k| inputs.pdf_sizes.get(k))
                .map(|b| format!("{:.1} KB PDF", *b as f64 / 1024.0))
                .unwrap_or_default();
        o.line(format!(
            "| `{}` | {} | {} – {} | {output} |",
            e.id,
            duration_ns(e.mean_ns),
            duration_ns(e.lower_ns),
            duration_ns(e.upper_ns)
        ));
    }
    o.blank();

    // ---- journey
    render_journey(&mut o, inputs);

    // ---- many families at once, and the partition model
    if let Some(run) = &inputs.load {
        render_load(&mut o, run);
        render_partitions(&mut o, run);
    }

    // ---- cost
    if let Some(model) = &model {
        render_cost(&mut o, inputs, model);
        render_opening(&mut o, inputs, model);
    }

    o.line("## Reproduce");
    o.blank();
    o.line("```sh");
    o.line("make bench            # builds, measures, rewrites this file");
    o.line("BENCH_RUNS=20 make bench   # more cold starts per function");
    o.line("```");
    o.blank();
    o.line("`local/bench.sh` builds the six functions (`cargo build --release`, one package set, as for deployment) \
and the bench crate, runs the criterion benchmarks, then `bench-report`, which starts the emulator, the local stack \
with counted SDK clients, runs the journeys and the cold starts and writes this file. Raw criterion data and the \
functions' logs are under `target/bench/`.");
    o.0
}

/// The DynamoDB round trips of the journey step named `name` (or starting
/// with it, when `prefix`), the most over the journeys.
fn round_trips(inputs: &Inputs, name: &str, prefix: bool) -> Option<u64> {
    inputs
        .journeys
        .iter()
        .filter_map(|j| {
            j.steps
                .iter()
                .find(|s| s.name == name || (prefix && s.name.starts_with(name)))
                .map(|s| s.tally.dynamodb_calls())
        })
        .max()
}

/// The issue's targets, each with what this run measured.
fn render_summary(
    o: &mut Out,
    inputs: &Inputs,
    hello: f64,
    functions: &[&ColdRow],
    worst_peak: f64,
    model: Option<&Model>,
) {
    const ZIP_LIMIT: u64 = 5 * 1024 * 1024;
    o.line("## Summary");
    o.blank();
    o.line("| what | now | target | met |");
    o.line("|---|---|---|---|");
    for c in functions {
        let ratio = c.init_median() / hello;
        o.line(format!(
            "| init of `{}` / a hello world | {ratio:.2}× ({:.1} ms / {hello:.1} ms, medians) | ≤ 2× | {} |",
            c.function,
            c.init_median(),
            ok(ratio <= 2.0)
        ));
    }
    for (what, name, prefix, target) in [
        ("submit", "POST submit", true, 4),
        (
            "draft save (`POST applications`)",
            "POST applications",
            true,
            3,
        ),
        (
            "draft update (`PUT application`)",
            "PUT application",
            true,
            3,
        ),
        ("`GET application`", "GET application", false, 2),
    ] {
        match round_trips(inputs, name, prefix) {
            Some(n) => o.line(format!(
                "| DynamoDB round trips: {what} | {n} | ≤ {target} | {} |",
                ok(n <= target)
            )),
            None => o.line(format!(
                "| DynamoDB round trips: {what} | not measured | ≤ {target} | — |"
            )),
        }
    }
    let worst_zip = inputs
        .sizes
        .iter()
        .filter(|(name, _, _)| name != "hello")
        .max_by_key(|(_, _, zip)| *zip);
    if let Some((name, _, zip)) = worst_zip {
        o.line(format!(
            "| zip of every function, {} (`cargo build --release`, zipped here) | largest {} MB (`{name}`) | ≤ 5 MB | {} |",
            inputs.machine.arch,
            mb(*zip),
            ok(*zip <= ZIP_LIMIT)
        ));
    }
    match inputs.package.as_ref().and_then(|p| {
        p.zips
            .iter()
            .max_by_key(|(_, b)| *b)
            .map(|largest| (p, largest))
    }) {
        Some((p, (name, bytes))) => {
            let arch = if p.arch == "aarch64" {
                "arm64".to_owned()
            } else {
                format!("{}, not arm64: `ARCH={} make package`", p.arch, p.arch)
            };
            o.line(format!(
                "| zip of every function, `make package` (cargo-lambda, `target/package/zips`; {arch}) | largest {} MB (`{name}`) | ≤ 5 MB | {} |",
                mb(*bytes),
                ok(*bytes <= ZIP_LIMIT)
            ));
        }
        None => o.line(
            "| zip of every function, arm64 (`make package`) | not built (`target/package/zips` absent) | ≤ 5 MB | — |",
        ),
    }
    match inputs.load.as_ref().map(|run| {
        let classes = partitions::model(&run.tally.partitions, run.enrollments(), RATE);
        (
            partitions::sustainable(&classes, RATE, false).map(|(r, c)| (r, c.class.clone())),
            run.enrollments(),
        )
    }) {
        Some((Some((rate, class)), n)) => o.line(format!(
            "| submissions a second in one window before any partition passes its limit (model of {n} enrollments, below) | {rate:.0} (first: `{class}`) | ≥ 2,000 | {} |",
            ok(rate >= 2000.0)
        )),
        _ => o.line(
            "| submissions a second in one window before any partition passes its limit (model) | not measured | ≥ 2,000 | — |",
        ),
    }
    o.line(format!(
        "| peak RSS of one invocation (VmHWM) | worst {worst_peak:.1} MiB | < 40 MiB | {} |",
        ok(worst_peak < 40.0)
    ));
    if let Some(model) = model {
        let total: f64 = model.lines.iter().map(|l| l.cost).sum();
        o.line(format!(
            "| cost per 10,000 enrollments, families with email code (assumed US East prices, below; 1 EUR = {USD_PER_EUR} USD) | {} = {} one-off (+20% for Milan: {}), +{} a month of storage | ≤ €4 | {} |",
            usd(total),
            eur(total),
            eur(total * 1.2),
            usd(model.storage_month.iter().map(|l| l.cost).sum()),
            ok(total / USD_PER_EUR <= 4.0)
        ));
        if let Some(spid) = model_for(inputs, Login::Spid) {
            let total: f64 = spid.lines.iter().map(|l| l.cost).sum();
            o.line(format!(
                "| the same, families with SPID or CIE (derived: no code, no temporary password; see \"Cost\") | {} = {} one-off (+20% for Milan: {}) | ≤ €4 | {} |",
                usd(total),
                eur(total),
                eur(total * 1.2),
                ok(total / USD_PER_EUR <= 4.0)
            ));
        }
    }
    o.blank();
}

/// The load run's two sections alone (for `BENCH_ONLY=load`).
pub fn render_load_sections(run: &LoadRun) -> String {
    let mut o = Out(String::new());
    render_load(&mut o, run);
    render_partitions(&mut o, run);
    o.0
}

fn render_load(o: &mut Out, run: &LoadRun) {
    let a = &run.audit;
    o.line(format!(
        "## Opening morning: {} families at once",
        run.families
    ));
    o.blank();
    o.line(format!(
        "`bench/src/load.rs`: {} families (`BENCH_FAMILIES`), each a tokio task, all released at once by a barrier, do \
the parent's journey over HTTP against the local stack above (the same handlers as in Lambda, in one process: one \
\"container\" on this machine's cores, in front of the Python emulator): `GET windows`, `POST email-codes`, the code \
read from the local mail outbox (one read serves every family whose code was sent before it began: {} reads in all), \
`POST sessions`, `POST applications` with the first step (the temporary password is mailed), `PUT` of the rest of the \
form with `If-Match`, `POST …/submit` twice at once with the same `If-Match` (a double click), `GET …/documents` and \
the three PDFs through their presigned links. All of it took {:.1} s ({:.1} submissions a second here: a figure of this \
machine and its emulator, not of AWS). Latencies are of every request, in ms, queueing on this machine included. \
The emulator serves DynamoDB requests one at a time (`bench/emulator/serial.py`: moto's DynamoDB is not thread-safe; \
so each request is atomic, as in DynamoDB, but two conflicting transactions run one after the other instead of one \
being cancelled with `TransactionConflict`, which the emulator never answers).",
        run.families,
        run.outbox_reads,
        run.wall.as_secs_f64(),
        run.enrollments() as f64 / run.wall.as_secs_f64().max(1e-9),
    ));
    o.blank();
    o.line("| step | requests | p50 | p95 | p99 | max | allowed other answers | errors |");
    o.line("|---|---|---|---|---|---|---|---|");
    for s in &run.steps {
        let l = &s.latencies_ms;
        if l.is_empty() {
            o.line(format!("| {} | 0 | | | | | | |", s.name));
            continue;
        }
        o.line(format!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} |",
            s.name,
            l.len(),
            percentile(l, 50.0),
            percentile(l, 95.0),
            percentile(l, 99.0),
            l.iter().copied().fold(0.0, f64::max),
            s.expected_other,
            if s.errors > 0 {
                format!("**{}**", s.errors)
            } else {
                "0".into()
            }
        ));
    }
    o.blank();
    if run.errors.is_empty() {
        o.line("No request had an unexpected answer (no 5xx, no 429, no timeout).");
    } else {
        o.line("Unexpected answers, by step, HTTP status and contract `code`:");
        o.blank();
        o.line("| step | answer | count |");
        o.line("|---|---|---|");
        for ((step, answer), n) in &run.errors {
            o.line(format!(
                "| {} | `{answer}` | {n} |",
                run.steps.get(*step).map_or("?", |s| s.name)
            ));
        }
    }
    o.blank();
    let operations: u64 = run.tally.calls.values().sum();
    let failed: Vec<String> = run
        .tally
        .errors
        .iter()
        .map(|(k, n)| format!("`{k}` ×{n}"))
        .collect();
    let mut trouble = format!(
        "The stack's SDK clients made {operations} AWS operations; {} HTTP attempts were answered ({} more than the \
operations: retries after a 5xx or throttling). {}",
        run.tally.attempts,
        run.tally.attempts.saturating_sub(operations),
        if failed.is_empty() {
            "None failed.".to_owned()
        } else {
            format!(
                "Failed in the end: {} (the functions give an AWS call 5 s an attempt and 12 s in all, \
`shared/src/aws/mod.rs`; a timed-out request is a 503 to the family).",
                failed.join(", ")
            )
        }
    );
    if let Some(e) = run.emulator.as_ref().filter(|e| e.http_500 > 0) {
        let kinds: Vec<String> = e
            .exceptions
            .iter()
            .map(|(k, n)| format!("`{k}` ×{n}"))
            .collect();
        trouble.push_str(&format!(
            " **The emulator itself failed {} requests with a 500** ({}): a fault of moto, not of DynamoDB. The SDK \
retries such a 500 and the request fails (503) when every attempt did. Read the errors and the audit below with that \
in mind.",
            e.http_500,
            if kinds.is_empty() {
                "no traceback".to_owned()
            } else {
                kinds.join(", ")
            }
        ));
    }
    o.line(trouble);
    o.blank();
    o.line("The double clicks, by their two answers (the contract: a repeated submit that succeeded answers `200` with \
the same application and sends nothing twice; a stale `If-Match` is `412 version_conflict`; both are expected). In \
DynamoDB two overlapping transactions on one item cancel one with `TransactionConflict`, which the store maps to a 503 \
(`Cancelled::into_error`) rather than to another look at the application: there a double click's second answer can be \
a 503 even when nothing else is wrong, which this emulator cannot show:");
    o.blank();
    o.line("| the two answers | families |");
    o.line("|---|---|");
    for (pair, n) in &run.double_clicks {
        o.line(format!("| {pair} | {n} |"));
    }
    o.blank();
    o.line("**The audit.** Each submitted application read back (`GET application`: `submitted`, a `user_code`), the \
user codes compared, and the mail outbox read once at the end, its mails counted per address (told apart by subject: \
the code, the temporary password, the credentials letter); the store's outbox is asked for messages still owed:");
    o.blank();
    let submitted = a.submitted;
    let reached = |n: usize, expected: usize| {
        if n == expected {
            format!("{n}")
        } else {
            format!("**{n}** (expected {expected})")
        }
    };
    o.line("| check | count |");
    o.line("|---|---|");
    o.line(format!("| families | {} |", a.families));
    o.line(format!(
        "| submitted (submit answered 200) | {} |",
        reached(submitted, a.families)
    ));
    o.line(format!(
        "| read back `submitted` with a user code | {} |",
        reached(a.read_back, submitted)
    ));
    if a.written_unanswered > 0 {
        o.line(format!(
            "| of which submitted although the submit answered an error (written, then the answer lost) | {} |",
            a.written_unanswered
        ));
    }
    o.line(format!(
        "| distinct user codes | {} |",
        reached(a.user_codes_distinct, a.read_back)
    ));
    o.line(format!("| security-code mails | {} |", a.code_mails));
    o.line(format!(
        "| temporary-password mails | {} |",
        a.password_mails
    ));
    o.line(format!(
        "| credentials letters (sent + owed) | {} |",
        reached(a.letters + a.owed_letters, a.read_back)
    ));
    o.line(format!(
        "| other mails to these families | {} |",
        a.other_mails
    ));
    o.line(format!(
        "| messages still owed in the store's outbox (late, not lost: the scheduled run sends them) | {} |",
        a.owed
    ));
    o.line(format!("| problems | {} |", a.problems.len()));
    o.blank();
    if a.problems.is_empty() {
        o.line("Nothing lost, nothing doubled: every family has exactly one code mail, one temporary password, one \
user code of its own and one credentials letter (sent, or owed in the outbox for the scheduled run).");
    } else {
        o.line("Problems:");
        o.blank();
        const SHOWN: usize = 25;
        for p in a.problems.iter().take(SHOWN) {
            o.line(format!("- {p}"));
        }
        if a.problems.len() > SHOWN {
            o.line(format!("- … and {} more", a.problems.len() - SHOWN));
        }
    }
    o.blank();
}

/// `1,234` or `12.3` for a rate.
fn per_second(v: f64) -> String {
    if v >= 100.0 {
        let n = v.round() as u64;
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{v:.1}")
    }
}

fn render_partitions(o: &mut Out, run: &LoadRun) {
    let n = run.enrollments();
    let t = &run.tally;
    let classes = partitions::model(&t.partitions, n, RATE);
    o.line("## Partition load at 2,000 submissions a second");
    o.blank();
    if n == 0 {
        o.line("No enrollment was submitted in the load run: no model.");
        o.blank();
        return;
    }
    o.line(format!(
        "From the counter's tallies of the whole load run above ({n} submitted enrollments; {} DynamoDB requests, {} RRU, \
{} WRU in all, i.e. {:.1} requests, {:.1} RRU and {:.1} WRU per enrollment), with every unit attributed to the partition \
key it lands on: a table write to the item's `pk` (twice in a transaction), a `GetItem` or `Query` to the key it reads \
(a query's index tells `table`, `gsi1` or `gsi2`), an index write to the item's `gsi1pk` (projection ALL: every write of \
an indexed item) or `gsi2pk` (KEYS_ONLY: only when the entry is put or removed). DynamoDB serves at most \
{WRITE_LIMIT:.0} WCU and {READ_LIMIT:.0} RCU a second per partition key value, in the table and in each index.",
        t.dynamodb_calls(),
        units(t.rru),
        units(t.wru),
        t.dynamodb_calls() as f64 / n as f64,
        t.rru / n as f64,
        t.wru / n as f64,
    ));
    o.blank();
    if n < run.families {
        o.line(format!(
            "{} of the {} families did not submit (see above): the units of their steps are in the tallies but not in \
the {n} enrollments they are divided by, so the figures below overstate the load per enrollment (by up to {:.1}×).",
            run.families - n,
            run.families,
            run.families as f64 / n as f64
        ));
        o.blank();
    }
    o.line(format!(
        "**Keys every enrollment may touch** scale with the rate: a key's load at 2,000 submissions a second is its units \
in the run / {n} × 2,000. Keys are grouped by replacing what is per person or random (application ids, keyed hashes, \
8-digit user codes, addresses) with a placeholder; a family of keys ending `#<n>` is a sharded key, listed with its \
busiest shard (the true maximum over the shards the run touched) and the mean per shard. Busiest first:"
    ));
    o.blank();
    o.line("| key class | kind | keys seen | requests/s | RRU/s | WRU/s | mean per shard (RRU/s, WRU/s) | within the limit |");
    o.line("|---|---|---|---|---|---|---|---|");
    let mut doubled = false;
    for c in classes.iter().filter(|c| c.kind != Kind::PerItem) {
        // An index entry written by a transaction: counted twice, an upper
        // bound; what it would be counted once.
        let index = c.class.starts_with("gsi");
        doubled |= index && c.peak.transact_wru > 0.0;
        let once = |r: &partitions::Rate| {
            if index && r.transact_wru > 0.0 {
                format!("{} ({}¹)", per_second(r.wru), per_second(r.wru_single()))
            } else {
                per_second(r.wru)
            }
        };
        let busiest = match c.kind {
            Kind::Sharded => format!(
                " (busiest `#{}`)",
                c.busiest.rsplit('#').next().unwrap_or("?")
            ),
            _ => String::new(),
        };
        o.line(format!(
            "| `{}`{busiest} | {} | {} | {} | {} | {} | {} | {} |",
            c.class,
            c.kind.label(),
            c.keys,
            per_second(c.peak.requests),
            per_second(c.peak.rru),
            once(&c.peak),
            c.mean
                .map(|m| format!("{}, {}", per_second(m.rru), once(&m)))
                .unwrap_or_else(|| "—".into()),
            ok(c.peak.within())
        ));
    }
    o.blank();
    if doubled {
        o.line("¹ The index writes of a transaction are counted twice above, as the table's are (DynamoDB documents \
the doubling for the items a transaction writes; whether the index entries it propagates are doubled too is not \
documented as clearly): the figure in brackets counts them once. The verdict uses the doubled figure.");
        o.blank();
    }
    // What the shared keys' units are, item by item.
    let shared: Vec<&Class> = classes
        .iter()
        .filter(|c| c.kind == Kind::Shared && c.peak.utilisation() > 0.05)
        .collect();
    if !shared.is_empty() {
        o.line("The shared keys item by item (sort key; `Query` for the reads of a query), at 2,000 a second:");
        o.blank();
        for c in shared {
            let mut items: Vec<(&String, partitions::Rate)> = t
                .items
                .iter()
                .filter(|((label, _), _)| *label == c.busiest)
                .map(|((_, item), l)| (item, partitions::Rate::scaled(l, n, RATE)))
                .collect();
            items.sort_by(|a, b| b.1.utilisation().total_cmp(&a.1.utilisation()));
            let parts: Vec<String> = items
                .iter()
                .take(6)
                .map(|(item, r)| {
                    let mut what = Vec::new();
                    if r.rru > 0.0 {
                        what.push(format!("{} RRU/s", per_second(r.rru)));
                    }
                    if r.wru > 0.0 {
                        what.push(format!("{} WRU/s", per_second(r.wru)));
                    }
                    format!(
                        "`{item}` {} ({} requests/s)",
                        what.join(" + "),
                        per_second(r.requests)
                    )
                })
                .collect();
            o.line(format!("- `{}`: {}.", c.busiest, parts.join("; ")));
        }
        o.blank();
    }
    let per_item: Vec<&Class> = classes.iter().filter(|c| c.kind == Kind::PerItem).collect();
    if !per_item.is_empty() {
        o.line("**Keys of one family** (its application, its pupil, its address, its user code, its messages) are \
touched by that family only, whatever the rate: their load does not grow with the number of families. Shown with the \
busiest key's units over the whole run, which stay within the limit even if they all fell in one second:");
        o.blank();
        o.line("| key class | keys seen | busiest key: requests | RRU | WRU | within the limit |");
        o.line("|---|---|---|---|---|---|");
        for c in per_item {
            o.line(format!(
                "| `{}` | {} | {:.0} | {} | {} | {} |",
                c.class,
                c.keys,
                c.peak.requests,
                units(c.peak.rru),
                units(c.peak.wru),
                ok(c.peak.within())
            ));
        }
        o.blank();
    }
    let busiest = partitions::sustainable(&classes, RATE, false);
    let even = partitions::sustainable(&classes, RATE, true);
    if let Some((rate, c)) = busiest {
        o.line(format!(
            "**Submissions a second in one window before a partition passes its limit: about {}** (2,000 × the \
smallest limit / load at 2,000 over the shared and sharded keys), first reached by `{}` at {} WRU/s and {} RRU/s at \
2,000 a second; target ≥ 2,000: {}.{}",
            per_second(rate),
            c.class,
            per_second(c.peak.wru),
            per_second(c.peak.rru),
            ok(rate >= 2000.0),
            match even {
                Some((r, e)) if (r - rate).abs() > 0.5 => format!(
                    " With the sharded keys' writes evenly spread (their mean shard rather than the busiest one seen): \
about {}, first reached by `{}`.",
                    per_second(r),
                    e.class
                ),
                _ => String::new(),
            }
        ));
        o.blank();
    }
    o.line(format!(
        "Read with care: the sample is {n} enrollments. A sharded key's {n} enrollments fall on 16 to 32 shards, a few \
each, so the busiest shard seen is above the mean by chance and overstates what an even spread gives at scale (the \
mean per shard is shown beside it); a shard number drawn from a random id is even at scale. The tenant's \
configuration (`table TENANT#<tenant>`, item `CONFIG`) is kept by each container for 30 s (`Config::tenant_ttl`): the \
run's reads of it are one process's, and at scale its read load is per warm container (one read every 30 s each: 1,000 \
containers read it about 33 times a second), not per request, whatever the row above extrapolates (in this run most \
of its reads are misses of requests that arrived together before the first read came back: one process serves all the \
families at once, where a Lambda container serves one request at a time). A class with a \
placeholder but fewer keys than half the families is counted as shared, to be safe: here every family came from one \
address (127.0.0.1), so a key per client address (`CLIENT#<hash>`) is one key for all of them, as behind one NAT. Reads that count \
entries below a key (`Select: COUNT` on `gsi2`, for windows with places) grow with the window's size, which a run of \
{n} does not show."
    ));
    o.blank();
}

fn render_probes(o: &mut Out, inputs: &Inputs, hello: f64, functions: &[&ColdRow]) {
    let probes: Vec<&ColdRow> = inputs.cold.iter().filter(|c| c.probe.is_some()).collect();
    if probes.is_empty() {
        return;
    }
    o.line("Where the init goes: `init-probe` is the same hello world linked with the whole shared crate (a binary of \
a function's size), doing only the first steps of a function's start, one more per row, measured in the same rounds:");
    o.blank();
    o.line("| init of | median | p90 | step | / hello |");
    o.line("|---|---|---|---|---|");
    o.line(format!("| `hello` (2 MB) | {hello:.1} ms | | | 1.00× |"));
    let mut previous = hello;
    for p in probes.iter().filter(|p| p.probe < Some(9)) {
        let m = p.init_median();
        o.line(format!(
            "| {} | {m:.1} ms | {:.1} ms | {:+.1} ms | {:.2}× |",
            p.event,
            p.init_p90(),
            m - previous,
            m / hello
        ));
        previous = m;
    }
    let mean =
        functions.iter().map(|c| c.init_median()).sum::<f64>() / functions.len().max(1) as f64;
    o.line(format!(
        "| the six functions (mean of their medians) | {mean:.1} ms | | {:+.1} ms | {:.2}× |",
        mean - previous,
        mean / hello
    ));
    let mut bundle_ratio = None;
    for p in probes.iter().filter(|p| p.probe >= Some(9)) {
        let m = p.init_median();
        bundle_ratio = Some(m / hello);
        o.line(format!(
            "| {} | {m:.1} ms | {:.1} ms | {:+.1} ms vs the functions | {:.2}× |",
            p.event,
            p.init_p90(),
            m - mean,
            m / hello
        ));
    }
    o.blank();
    o.line("Almost all of the difference is the SDK configuration: loading it builds the HTTPS client, which reads the \
system's root certificates (`rustls-native-certs`: on this Debian machine a 220 KB bundle and then every file of the \
hashed `/etc/ssl/certs` directory, about 150 files, as `strace` shows). That is paid once per cold start, and only moves \
to the first request if the clients are made lazily. The last row shows how much of it is this machine's layout of the \
trust store; what it costs on Lambda's Amazon Linux 2023 can only be measured there (the CloudWatch `REPORT` line's \
`Init Duration`).");
    if let Some(r) = bundle_ratio {
        o.blank();
        o.line(format!(
            "With the roots read from one file a function starts at {r:.2}× the hello world: {} A cheaper HTTPS set-up \
(root certificates compiled in rather than read from disk, for instance) is the lever, to be tried and measured on \
Lambda itself: the whole difference is about {:.0} ms here, small next to the first call's TLS handshake there.",
            if r <= 2.0 {
                "with a trust store laid out that way the 2× goal would be met."
            } else {
                "the trust store's layout is not the whole miss; the rest is the SDK's configuration and clients."
            },
            mean - hello
        ));
    }
    o.blank();
}

fn render_journey(o: &mut Out, inputs: &Inputs) {
    let Some(first) = inputs.journeys.first() else {
        return;
    };
    o.line("## DynamoDB, SES and S3 per step of the journey");
    o.blank();
    o.line(format!(
        "The journey of `tests/journey.rs`, request by request, against the local stack (the same handlers as in \
Lambda) whose DynamoDB, SES and S3 clients carry a counting interceptor (`bench/src/counter.rs`): every SDK operation \
is counted under its step. Consumed capacity is computed by DynamoDB's published rules from the items the SDK sends \
and receives (the emulator reports a constant): 1 WRU per started KB of the larger of the old and the new item, twice \
in a transaction; 1 RRU per started 4 KB read (strongly consistent; half for eventually consistent and index queries, \
a query summing its items); a write of an item that is or was in `gsi1` (projection ALL) writes that index too, twice \
when its index key changes, and `gsi2` (KEYS_ONLY) is written only when an entry is put, removed or moved (index \
writes counted in the WRU, shown in brackets). Update sizes are taken as the old item's. Run {} times; \
counts from the first, times are medians (wall: over loopback against the emulator; CPU: this whole process, client \
and server).",
        inputs.journeys.len()
    ));
    o.blank();
    o.line("| # | step | function | DynamoDB requests | RRU | WRU (index) | SES mails | S3 | wall | CPU |");
    o.line("|---|---|---|---|---|---|---|---|---|---|");
    let mut total = Tally::default();
    let mut presigned = 0;
    for (i, step) in first.steps.iter().enumerate() {
        let (cpu, wall) = step_medians(&inputs.journeys, i);
        let t = &step.tally;
        let s3 = {
            let mut parts = Vec::new();
            for (k, n) in &t.calls {
                if let Some(op) = k.strip_prefix("S3:") {
                    parts.push(format!("{op} {n}"));
                }
            }
            if step.presigned_gets > 0 {
                parts.push(format!("presigned GET {}", step.presigned_gets));
            }
            if parts.is_empty() {
                "—".into()
            } else {
                parts.join(", ")
            }
        };
        o.line(format!(
            "| {} | {}{} | {} | {} | {} | {} ({}) | {} | {s3} | {wall:.1} ms | {cpu:.1} ms |",
            i + 1,
            step.name,
            if step.office { " *(office)*" } else { "" },
            step.function
                .map(|f| format!("`{f}`"))
                .unwrap_or_else(|| "— (S3)".into()),
            t.dynamodb_summary(),
            units(t.rru),
            units(t.wru),
            units(t.index_wru),
            t.ses_messages(),
        ));
        total.add(t);
        presigned += step.presigned_gets;
    }
    o.line(format!(
        "| | **one enrollment** | {} invocations | **{} requests** | **{}** | **{} ({})** | **{}** | {} PUT/LIST, {} GET/HEAD | | |",
        first.steps.iter().filter(|s| s.function.is_some()).count(),
        total.dynamodb_calls(),
        units(total.rru),
        units(total.wru),
        units(total.index_wru),
        total.ses_messages(),
        total.s3_put_class(),
        total.s3_get_class() + presigned,
    ));
    o.blank();
    // Are the journeys alike? (The office's list grows with the window.)
    let differing: Vec<&str> = first
        .steps
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            inputs.journeys.iter().skip(1).any(|j| {
                j.steps.get(*i).is_none_or(|o| {
                    o.tally.calls != s.tally.calls
                        || (o.tally.rru - s.tally.rru).abs() > f64::EPSILON
                        || (o.tally.wru - s.tally.wru).abs() > f64::EPSILON
                })
            })
        })
        .map(|(_, s)| s.name)
        .collect();
    if differing.is_empty() {
        o.line(format!(
            "Every one of the {} journeys made exactly these requests.",
            inputs.journeys.len()
        ));
    } else {
        o.line(format!(
            "Steps whose counts differed between the {} journeys: {} (the office's list reads every application of the \
window in the page, up to 100: its RRU grows with the window; a full page of applications like these is about {} RRU).",
            inputs.journeys.len(),
            differing.join("; "),
            units((100 * inputs.application_item).div_ceil(4096) as f64 * 0.5)
        ));
    }
    o.blank();
    let partitions: Vec<String> = total
        .index_partitions()
        .map(|(k, u)| format!("`{k}` {}", units(u)))
        .collect();
    if !partitions.is_empty() {
        o.line(format!(
            "Index WRU of one enrollment by index partition: {}.",
            partitions.join(", ")
        ));
        o.blank();
    }
    o.line(format!(
        "Storage one enrollment leaves in the table: {} items, {} bytes with DynamoDB's 100-byte overhead per item \
and the index entries (the application item is {} bytes; the tenant configuration read by every request {} bytes); in S3 {} KB of PDFs.",
        first.storage.items,
        first.storage.billed_bytes(),
        inputs.application_item,
        inputs.tenant_item,
        total.s3_put_bytes / 1024
    ));
    o.blank();
    if !inputs.scheduled.is_empty() {
        o.line("The scheduled function (`close-windows`, every 5 minutes: closes due windows, expires drafts, reminds, \
delivers the outbox), run in-process against the same stack:");
        o.blank();
        o.line("| run | DynamoDB requests | RRU | WRU | SES | CPU |");
        o.line("|---|---|---|---|---|---|");
        for s in &inputs.scheduled {
            o.line(format!(
                "| {} | {} | {} | {} | {} | {:.1} ms |",
                s.label,
                s.tally.dynamodb_summary(),
                units(s.tally.rru),
                units(s.tally.wru),
                s.tally.ses_messages(),
                ms(s.cpu)
            ));
        }
        o.blank();
    }
}

fn render_cost(o: &mut Out, inputs: &Inputs, model: &Model) {
    o.line("## Cost per 10,000 enrollments");
    o.blank();
    o.line("Assumed **region: eu-south-1 (Milan)**, where the template deploys. The prices are the public list prices \
of US East (N. Virginia), the ones quoted everywhere; Milan's are equal or somewhat higher, so the total is also \
shown +20%. **They are assumptions: check them against the current AWS price list (or the pricing calculator) for \
the region before using these figures.** Free tiers are ignored.");
    o.blank();
    o.line("| price assumed | USD |");
    o.line("|---|---|");
    for (what, price) in [
        ("Lambda arm64, per GB-second", format!("{LAMBDA_GB_S}")),
        (
            "Lambda, per million requests",
            format!("{:.2}", LAMBDA_REQUEST * 1e6),
        ),
        (
            "API Gateway REST API, per million requests",
            format!("{:.2}", REST_API_REQUEST * 1e6),
        ),
        (
            "AWS WAF, per million requests",
            format!("{:.2}", WAF_REQUEST * 1e6),
        ),
        (
            "DynamoDB on demand, per million write request units",
            format!("{:.3}", DYNAMODB_WRU * 1e6),
        ),
        (
            "DynamoDB on demand, per million read request units",
            format!("{:.3}", DYNAMODB_RRU * 1e6),
        ),
        (
            "DynamoDB storage / PITR, per GB-month",
            format!("{DYNAMODB_STORAGE_GB_MONTH} / {DYNAMODB_PITR_GB_MONTH}"),
        ),
        (
            "SES, per 1,000 mails",
            format!("{:.2}", SES_MESSAGE * 1000.0),
        ),
        ("SES attachments, per GB", format!("{SES_ATTACHMENT_GB}")),
        (
            "S3 PUT/COPY/POST/LIST, per 1,000",
            format!("{}", S3_PUT * 1000.0),
        ),
        ("S3 GET/HEAD, per 1,000", format!("{}", S3_GET * 1000.0)),
        (
            "S3 Standard storage, per GB-month",
            format!("{S3_STORAGE_GB_MONTH}"),
        ),
        (
            "CloudWatch Logs ingestion, per GB",
            format!("{LOGS_INGESTION_GB}"),
        ),
        (
            "the euro, for the figures in EUR (an assumed rate)",
            format!("1 EUR = {USD_PER_EUR} USD"),
        ),
    ] {
        o.line(format!("| {what} | {price} |"));
    }
    o.blank();
    o.line(format!(
        "Lambda duration is not measurable here; it is estimated per invocation as the step's CPU time above × {CPU_SCALE:.2} \
(512 MB is 512/1769 of a vCPU) + {DYNAMODB_MS:.0} ms per DynamoDB request + {S3_MS:.0} ms per S3 request + {SES_MS:.0} ms \
per SES request (assumed in-region round trips), plus {:.0}% of invocations paying a cold start's init (billed since \
August 2025) at the same CPU scale: {:.0} ms per enrollment in all, {:.1} ms per invocation on average. One enrollment is \
the whole journey above: {:.0} invocations, {} RRU, {} WRU, {:.0} mails, {:.0} S3 PUT/LIST and {:.0} GET/HEAD (the office's \
list page counted once per enrollment, which overstates it).",
        COLD_SHARE * 100.0,
        model.lambda_ms,
        model.lambda_ms / model.invocations.max(1.0),
        model.invocations,
        units(model.rru),
        units(model.wru),
        model.ses_messages,
        model.s3_put,
        model.s3_get
    ));
    o.blank();
    o.line("| service | quantity for 10,000 enrollments | cost |");
    o.line("|---|---|---|");
    let mut total = 0.0;
    for l in &model.lines {
        o.line(format!(
            "| {} | {} | {} |",
            l.service,
            l.quantity,
            usd(l.cost)
        ));
        total += l.cost;
    }
    o.line(format!(
        "| **total, one-off** | | **{}** (+20%: {}) = **{}** (+20%: {}) |",
        usd(total),
        usd(total * 1.2),
        eur(total),
        eur(total * 1.2)
    ));
    o.blank();
    o.line("Kept for the school year (per month, for the data of 10,000 enrollments):");
    o.blank();
    o.line("| service | quantity | per month |");
    o.line("|---|---|---|");
    for l in &model.storage_month {
        o.line(format!(
            "| {} | {} | {} |",
            l.service,
            l.quantity,
            usd(l.cost)
        ));
    }
    o.blank();
    if !model.scheduled_month.is_empty() {
        o.line("Fixed, whatever the number of enrollments (per month, from the idle scheduled run above):");
        o.blank();
        o.line("| service | quantity | per month |");
        o.line("|---|---|---|");
        for l in &model.scheduled_month {
            o.line(format!(
                "| {} | {} | {} |",
                l.service,
                l.quantity,
                usd(l.cost)
            ));
        }
        o.line("| Secrets Manager (the session secret) | 1 secret | $0.40 |");
        o.blank();
    }
    let share = |prefix: &str| {
        let part: f64 = model
            .lines
            .iter()
            .filter(|l| l.service.starts_with(prefix))
            .map(|l| l.cost)
            .sum();
        if total > 0.0 {
            part / total * 100.0
        } else {
            0.0
        }
    };
    o.line(format!(
        "Mail is the cost: SES is {:.0}% of the one-off total (four mails per enrollment: the code, the temporary \
password, the credentials letter with its PDF, the decision), DynamoDB {:.0}% ({} of the {} WRU of an enrollment are \
in transactions, which cost twice), Lambda {:.0}%, API Gateway {:.0}%, S3 {:.0}%. A village of 100 enrollments a year \
pays cents; a city with 50,000 enrollments about {} for its season, plus storage.",
        share("SES"),
        share("DynamoDB"),
        units(model.transact_wru),
        units(model.wru),
        share("Lambda"),
        share("API Gateway"),
        share("S3"),
        usd(total * 5.0),
    ));
    o.blank();
    if let Some(spid) = model_for(inputs, Login::Spid) {
        let spid_total: f64 = spid.lines.iter().map(|l| l.cost).sum();
        o.line(format!(
            "**Why the email path stays above €4, and who is under it.** The four mails are the contract's (`../shared/API.md`: the code proves the address, the first draft of an email-code session mails a temporary password, the submission mails the letter, a decision is mailed): at $0.10 per 1,000, SES alone is $4.00 = {} of every 10,000 such enrollments, before anything else. A family that logs in with SPID or CIE (the way the law makes the default for public services) needs neither the code nor the password: the same journey without steps 2 to 7 and the password's mail, with one invocation for the SPID login counted as heavy as the code session, costs **{} = {}** per 10,000 ({:.0} mails, {:.1} invocations each). A comune's season costs between the two, by its share of SPID families: with half of them, about {}.",
            eur(4.0),
            usd(spid_total),
            eur(spid_total),
            spid.ses_messages,
            spid.invocations,
            eur((total + spid_total) / 2.0),
        ));
        o.blank();
    }
}

fn render_opening(o: &mut Out, inputs: &Inputs, model: &Model) {
    // A city of a million: about 50,000 applications to the main window,
    // planned for 25 enrollments a second at the opening (a quarter of the
    // city in the first hour is 3.5 a second; 25 leaves a 7× margin for the
    // first minutes' rush).
    let rate = 25.0;
    let parent_invocations = inputs
        .journeys
        .first()
        .map(|j| {
            j.steps
                .iter()
                .filter(|s| s.function.is_some() && !s.office)
                .count()
        })
        .unwrap_or(0) as f64;
    let rps = rate * parent_invocations;
    let mean_ms = model.lambda_ms / model.invocations.max(1.0);
    let concurrency = rps * mean_ms / 1000.0;
    let config_rru = inputs.tenant_item.max(1).div_ceil(4096) as f64;
    let config_reads = rps * config_rru;
    let config_limit = 3000.0 / (parent_invocations.max(1.0) * config_rru);
    let (busiest, busiest_wru) = model
        .index_partitions
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(k, u)| (k.clone(), *u))
        .unwrap_or_default();
    let index_limit = 1000.0 / busiest_wru.max(1.0);
    let mails = rate * model.ses_messages;
    o.line("## The opening morning at city scale");
    o.blank();
    o.line(format!(
        "Plan for a city of a million: about 50,000 applications to the main window, and {rate:.0} enrollments a second in \
the first minutes (a quarter of them in the first hour would be 3.5 a second). Each enrollment is {parent_invocations:.0} \
requests of the parent, so the functions see about {rps:.0} requests a second, and at the estimated {mean_ms:.0} ms each \
about {concurrency:.0} concurrent executions. **Which keys take the load:** the section \"Partition load at 2,000 \
submissions a second\" above measures every partition key of the whole journey, from a run of many families: the keys \
of one family (its code record, application, pupil, owner links, user code, outbox items) are spread by DynamoDB \
whatever the rate; the keys every enrollment touches (a window's index partitions, counters) are the ones that limit. \
Of the {} index WRU of one journey here (counted as transactional, twice, where they are), the busiest index partition, \
`{busiest}`, takes {}: its 1,000 WRU/s limit alone holds {index_limit:.0} enrollments a second, {:.0}× this plan. \
The tenant's configuration (`TENANT#t`/`CONFIG`, {} bytes, {config_rru:.0} RRU strongly \
consistent) would be read by every request without the per-container cache ({config_reads:.0} RRU/s at this rate against \
the 3,000 RRU/s of one partition, enough for about {config_limit:.0} enrollments a second); each container keeps it for \
30 s, so its reads follow the number of warm containers, not the requests (\"Partition load\" above measures every key). \
**Where the limits are:** Lambda's account concurrency (1,000 by default per region, but new accounts start lower; \
each function scales by 1,000 executions every 10 seconds), far above the {concurrency:.0} needed; DynamoDB on demand: a \
new table serves 4,000 writes and 12,000 reads a second at once, and up to twice its previous peak (more than that \
within 30 minutes may be throttled; the per-table default quota is 40,000 RRU and WRU a second), against about {:.0} WRU/s here; and **SES, the real limit**: {mails:.0} mails a second \
({:.0} per enrollment) against a sending rate that is 1 a second in the sandbox and typically 14 a second (50,000 a day) \
when an account leaves it (the window's 50,000 enrollments send about {:.0} mails, many of them on the first day). The security-code mail is sent within the request: \
if SES throttles, the parent gets a 503 with `Retry-After` and asks again; the temporary password of a new pupil is \
also mailed within the request, and a throttled one is only tried again with the pupil's next draft (a gap to close, \
through the outbox, before a city opens); the credentials letters and decisions wait in the outbox and are retried. **What to raise before a big window opens:** the SES maximum send rate and daily quota (a \
support request, allow days), the Lambda concurrent-executions quota if the account is new, the table's warm throughput \
(on-demand \"pre-warming\", so that the first minutes do not wait for DynamoDB to double), and alarms on throttles \
(DynamoDB `ThrottledRequests`, Lambda `Throttles`, SES `Send` vs quota) for the morning itself.",
        units(model.index_wru),
        units(busiest_wru),
        index_limit / rate,
        inputs.tenant_item,
        rate * model.wru,
        model.ses_messages,
        50_000.0 * model.ses_messages
    ));
    o.blank();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 100.0);
        assert_eq!(percentile(&v, 95.0), 190.0);
        assert_eq!(percentile(&v, 99.0), 198.0);
        assert_eq!(percentile(&v, 100.0), 200.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn a_report_renders_without_measurements() {
        let inputs = Inputs {
            load: Some(LoadRun::default()),
            package: Some(PackageZips {
                arch: "x86_64".into(),
                zips: vec![("SubmitFunction".into(), 7_000_000)],
            }),
            ..Inputs::default()
        };
        let text = render(&inputs);
        assert!(text.contains("| what | now | target | met |"));
        assert!(text.contains("largest 6.68 MB (`SubmitFunction`) | ≤ 5 MB | **no** |"));
        assert!(text.contains("## Opening morning: 0 families at once"));
        assert!(text.contains("## Partition load at 2,000 submissions a second"));
    }

    #[test]
    fn rates_read_well() {
        assert_eq!(per_second(4000.0), "4,000");
        assert_eq!(per_second(123_456.4), "123,456");
        assert_eq!(per_second(12.34), "12.3");
        assert_eq!(eur(4.64), "€4.00");
    }
}
