//! Criterion benchmarks of what a request spends CPU on: the three PDFs of
//! an application (with the demo tenant's texts), validation, fiscal codes,
//! session tokens, keyed hashes and the password hash. Run by `make bench`
//! as `bench-domain --bench` with `CRITERION_HOME` set; the report reads the
//! estimates from there. The PDFs' sizes go to `pdf-sizes.json` beside them.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use shared::config::Config;
use shared::documents::application_docs::{Kind, render_kind};
use shared::domain::application::{
    Application, ApplicationBody, Context, FeeBand, Owner, Status, validate,
};
use shared::domain::fiscal_code::FiscalCode;
use shared::domain::tenant::Tenant;
use shared::domain::values::{Email, TenantSlug};
use shared::domain::window::Window;
use shared::ops::sessions::{self as auth, SessionClaims};
use time::macros::datetime;

/// A valid fiscal code: `first15` and the check character that fits, so
/// that the benchmarks measure the success path.
fn valid(first15: &str) -> String {
    ('A'..='Z')
        .map(|c| format!("{first15}{c}"))
        .find(|c| FiscalCode::parse(c).is_ok())
        .unwrap_or_else(|| {
            eprintln!("no check character fits {first15}");
            std::process::exit(1)
        })
}

fn pupil() -> String {
    valid("RSSMRA15E41A662")
}

fn guardian() -> String {
    valid("BNCNNA80A41A662")
}

fn tenant() -> Tenant {
    let path = local::workspace_root().join("local/seed/demo.json");
    local::seed::tenant_of_file(&path).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    })
}

fn body() -> serde_json::Value {
    json!({
        "window_id": "w-refezione-2026", "kind": "new",
        "pupil": { "fiscal_code": pupil(), "first_name": "Niccolò", "last_name": "D'Angelo",
                   "birth_date": "2015-05-01", "school": "Primaria «G. Mazzini»", "grade": "3", "section": "B" },
        "guardian": { "fiscal_code": guardian(), "first_name": "Anna", "last_name": "Bianchi",
                      "relationship": "madre", "email": "anna@example.it", "phone": "+393331234567",
                      "address": { "street": "Via Roma 1", "city": "Corato", "postal_code": "70033", "province": "BA" } },
        "service": { "diet": { "kind": "religious", "notes": "Niente carne di maiale" }, "days": ["mon", "wed", "fri"] },
        "isee": null,
        "declarations": { "privacy": true, "regulation": true, "truthfulness": true }
    })
}

fn sample() -> (Tenant, Application, Window) {
    let body: ApplicationBody = serde_json::from_value(body()).unwrap_or_default();
    let at = datetime!(2026-04-22 09:15 UTC);
    let application = Application {
        id: "app-bench".into(),
        window_id: "w-refezione-2026".into(),
        kind: "new".into(),
        body,
        status: Status::Submitted,
        version: 3,
        first_saved_at: at,
        updated_at: at,
        submitted_at: Some(at),
        decided_at: None,
        decision_reason: None,
        user_code: Some("48213977".into()),
        fee_band: Some(FeeBand {
            code: "D".into(),
            fee_cents: 550,
        }),
        owner: Owner::default(),
        pupil_fiscal_code: pupil(),
        guardian_fiscal_code: guardian(),
        history: Vec::new(),
        contested: false,
        proved_phone: None,
        rank_key: None,
        change_request: None,
        counted_as: None,
    };
    let window: Window = serde_json::from_value(json!({
        "id": "w-refezione-2026", "service": "refezione", "school_year": "2026/2027",
        "opens_at": "2026-04-15T07:00:00Z", "closes_at": "2026-05-31T21:59:59Z"
    }))
    .unwrap_or_else(|e| {
        eprintln!("window: {e}");
        std::process::exit(1)
    });
    (tenant(), application, window)
}

fn pdfs(c: &mut Criterion) {
    let (tenant, application, window) = sample();
    let now = application.updated_at;
    let mut sizes = serde_json::Map::new();
    let mut group = c.benchmark_group("pdf");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for kind in Kind::ALL {
        match render_kind(kind, &tenant, &application, &window, now) {
            Ok(pdf) => {
                sizes.insert(kind.code().into(), json!(pdf.len()));
            }
            Err(e) => {
                eprintln!("{}: {e}", kind.code());
                std::process::exit(1);
            }
        }
        group.bench_function(kind.code(), |b| {
            b.iter(|| render_kind(black_box(kind), &tenant, &application, &window, now))
        });
    }
    group.finish();
    if let Ok(home) = std::env::var("CRITERION_HOME") {
        let _ = std::fs::create_dir_all(&home);
        let _ = std::fs::write(
            std::path::Path::new(&home).join("pdf-sizes.json"),
            serde_json::Value::Object(sizes).to_string(),
        );
    }
}

fn domain(c: &mut Criterion) {
    let complete: ApplicationBody = serde_json::from_value(body()).unwrap_or_default();
    let mut first_step = complete.clone();
    first_step.service = None;
    first_step.guardian = first_step.guardian.map(|mut g| {
        g.address = None;
        g.email = None;
        g.phone = None;
        g
    });
    let ctx = Context {
        today: datetime!(2026-04-22 09:15 UTC).date(),
        has_medical_certificate: false,
        isee_attachment_uploaded: false,
        form: Some(shared::domain::application::Form::meals()),
    };
    let config = Config::new("t", "b", "m@example.it", &[7u8; 32]).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let slug = TenantSlug::parse("demo").unwrap_or_else(|_| std::process::exit(1));
    let now = time::OffsetDateTime::now_utc();
    let code = pupil();
    let report = validate(&complete, &ctx);
    if !report.invalid.is_empty() || !report.missing.is_empty() {
        eprintln!("the benchmark's application is not complete: {report:?}");
        std::process::exit(1);
    }

    let mut group = c.benchmark_group("domain");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("fiscal_code_parse", |b| {
        b.iter(|| FiscalCode::parse(black_box(&code)))
    });
    group.bench_function("validate_complete", |b| {
        b.iter(|| validate(black_box(&complete), &ctx))
    });
    group.bench_function("validate_first_step", |b| {
        b.iter(|| validate(black_box(&first_step), &ctx))
    });
    group.bench_function("email_parse", |b| {
        b.iter(|| Email::parse(black_box("anna.bianchi@example.it")))
    });
    group.bench_function("keyed_hash", |b| {
        b.iter(|| config.keyed_hash("pupil", "demo", black_box(&code)))
    });
    group.bench_function("session_issue_verify", |b| {
        b.iter(|| {
            let mut claims = SessionClaims::new(&config, &slug, now, "s-bench".into());
            claims.email = Some("anna@example.it".into());
            auth::issue(&config, &claims)
                .ok()
                .and_then(|t| auth::verify(&config, &t, &slug, now).ok())
        })
    });
    group.finish();

    let phc = shared::ops::passwords::hash("girasole-2025").unwrap_or_default();
    let mut group = c.benchmark_group("password");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("argon2id_hash", |b| {
        b.iter(|| shared::ops::passwords::hash(black_box("girasole-2025")))
    });
    group.bench_function("argon2id_verify", |b| {
        b.iter(|| shared::ops::passwords::verify(black_box("girasole-2025"), &phc))
    });
    group.finish();
}

criterion_group!(benches, pdfs, domain);
criterion_main!(benches);
