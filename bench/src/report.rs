//! `docs/performance.md`, written from one run's measurements.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::coldstart::Measurement;
use crate::counter::Tally;
use crate::journey::{Journey, Step};
use crate::machine::Machine;

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

fn model(inputs: &Inputs) -> Option<Model> {
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
        if let Some(function) = step.function {
            m.invocations += 1.0;
            m.lambda_ms += lambda_ms(step, cpu) + COLD_SHARE * init_of(function) * CPU_SCALE;
        }
        m.rru += step.tally.rru;
        m.wru += step.tally.wru;
        m.index_wru += step.tally.index_wru;
        m.transact_wru += step.tally.transact_wru;
        for (k, u) in &step.tally.index_partitions {
            *m.index_partitions.entry(k.clone()).or_default() += u;
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
    o.line("## Summary");
    o.blank();
    o.line("| goal | measured | met |");
    o.line("|---|---|---|");
    o.line(format!(
        "| init within 2× the Rust hello world | worst {worst_ratio:.2}× (hello {hello:.1} ms median; see \"Where the init goes\") | {} |",
        ok(worst_ratio <= 2.0)
    ));
    o.line(format!(
        "| peak memory of one invocation under 40 MB | worst {worst_peak:.1} MiB (VmHWM) | {} |",
        ok(worst_peak < 40.0)
    ));
    if let (Some(model), Some(journey)) = (&model, inputs.journeys.first()) {
        let requests: u64 = journey.steps.iter().map(|s| s.tally.dynamodb_calls()).sum();
        o.line(format!(
            "| DynamoDB per enrollment (the journey below) | {requests} requests, {} RRU, {} WRU, in {:.0} invocations | — |",
            units(model.rru),
            units(model.wru),
            model.invocations
        ));
        let total: f64 = model.lines.iter().map(|l| l.cost).sum();
        o.line(format!(
            "| cost of 10,000 enrollments (assumed prices, below) | {} one-off, +{} per month of storage | — |",
            usd(total),
            usd(model.storage_month.iter().map(|l| l.cost).sum())
        ));
    }
    o.blank();

    // ---- cold starts
    o.line("## Cold start");
    o.blank();
    o.line(format!(
        "Each release binary is spawned against a local stand-in for the Lambda Runtime API (`bench/src/coldstart.rs`: \
`GET …/invocation/next` with the `Lambda-Runtime-*` headers, `POST …/response`, `…/error`, `…/init/error`) with \
the environment Lambda gives a function (`AWS_LAMBDA_*`, 512 MB, credentials, region, the template's variables, \
`AWS_ENDPOINT_URL` at the emulator). **Init** is the time from the spawn to its first request for work \
(process start, logging, configuration, SDK configuration and clients, runtime client); **first response** is the \
time from the spawn to the response of the first invocation, AWS calls included. {} runs of each, interleaved, \
after one warm-up round (so the binary is in the page cache, as Lambda's code cache would have it).",
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
a query summing its items); a write of an item that is or was in `gsi1` (projection ALL) writes the index too, twice \
when its index key changes (counted in the WRU, shown in brackets). Update sizes are taken as the old item's. Run {} times; \
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
        .index_partitions
        .iter()
        .map(|(k, u)| format!("`{k}` {}", units(*u)))
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
        "| **total, one-off** | | **{}** (+20%: {}) |",
        usd(total),
        usd(total * 1.2)
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
    let _ = inputs;
    o.blank();
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
about {concurrency:.0} concurrent executions. **Which keys take the writes:** each parent's own code record \
(`TENANT#t#ADDR#<hmac(email)>`), the application (`TENANT#t#APP#<random id>`), the pupil's guard and credentials \
(`TENANT#t#PUPIL#<hmac>`), the family's owner links and guardian lock (`TENANT#t#OWNER#<hmac>`), a random user-code \
reservation (`TENANT#t#USERCODE#<8 random digits>`) and an outbox item (`TENANT#t#OUTBOX#<id>`): partition keys per \
person, per application or random, so DynamoDB spreads them over its partitions, and nothing that every submission \
increments exists (no counter, no sequence). **Why none is hot:** the keys shared by many requests are few and bounded. \
The index partition of a window's status (`gsi1`: `TENANT#t#WINDOW#w#draft`, `…#submitted`, `…#confirmed`) takes an \
index write for each application written in that window: it is the warmest key. Of the {} index WRU of one enrollment \
(counted as transactional, twice, where they are), the busiest partition, `{busiest}`, takes {}: its 1,000 WRU/s limit \
holds {index_limit:.0} enrollments a second, {:.0}× the plan, and since its sort key is a timestamp adaptive capacity \
cannot split it further: past that the status partitions would need sharding, as the outbox's index already is \
(8 shards). The tenant's configuration (`TENANT#t`/`CONFIG`, {} bytes, {config_rru:.0} RRU strongly \
consistent) is read by every request: {config_reads:.0} RRU/s at this rate against the 3,000 RRU/s of one partition, \
enough for about {config_limit:.0} enrollments a second; a short per-container cache of it would remove that ceiling. \
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
