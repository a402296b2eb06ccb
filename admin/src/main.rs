//! `admin`: the IT officer's command on a deployed stack (or, through
//! `make admin ARGS='…'`, on the stack `make dev` runs). AWS credentials
//! and region come from the environment as for the functions
//! (`AWS_ENDPOINT_URL` points it at an emulator); `TABLE_NAME` names the
//! stack's table (the `TableName` output of the stack).
//!
//! ```text
//! admin tenant validate FILE
//! admin tenant apply FILE [--dry-run]
//! admin tenant export SLUG
//! admin window create --tenant SLUG --service S --school-year YYYY/YYYY
//!                     --opens RFC3339 --closes RFC3339 [--capacity N] [--ranking first_come|points]
//! admin window list --tenant SLUG
//! admin staff invite|list|remove --tenant SLUG [--email ADDRESS]
//! admin retention --tenant SLUG [--dry-run]
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use shared::app::App;
use shared::domain::tenant_rules::Target;
use shared::domain::values::TenantSlug;
use shared::ports::SystemClock;

const USAGE: &str = "usage:
  admin tenant validate FILE
  admin tenant apply FILE [--dry-run]
  admin tenant export SLUG
  admin window create --tenant SLUG --service refezione|pre_post_scuola|trasporto
        --school-year 2026/2027 --opens 2026-04-01T07:00:00Z --closes 2026-04-30T21:59:59Z
        [--capacity N] [--ranking first_come|points]
  admin window list --tenant SLUG
  admin staff invite --tenant SLUG --email ADDRESS
  admin staff list --tenant SLUG
  admin staff remove --tenant SLUG --email ADDRESS
  admin retention --tenant SLUG [--dry-run]

environment: TABLE_NAME (the stack's table), AWS credentials and region as
for the AWS CLI; AWS_ENDPOINT_URL for an emulator; ADMIN_TARGET=local
allows the local stack's loopback addresses in tenant files; for staff,
STAFF_USER_POOL_ID and STAFF_CLIENT_ID (the stack's outputs StaffUserPoolId
and StaffClientId).";

/// A failure: its message, and whether it was the caller's usage.
enum Failure {
    Usage(String),
    Failed(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Failed(s)
    }
}

fn usage(message: &str) -> Failure {
    Failure::Usage(message.to_owned())
}

/// `--name value` options and positional arguments.
struct Args {
    positional: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

impl Args {
    fn parse(raw: &[String], flags: &[&str]) -> Result<Self, Failure> {
        let mut positional = Vec::new();
        let mut options = Vec::new();
        let mut it = raw.iter();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                if flags.contains(&name) {
                    options.push((name.to_owned(), None));
                } else {
                    let value = it
                        .next()
                        .ok_or_else(|| usage(&format!("--{name} needs a value")))?;
                    options.push((name.to_owned(), Some(value.clone())));
                }
            } else {
                positional.push(a.clone());
            }
        }
        Ok(Self {
            positional,
            options,
        })
    }

    fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    fn required(&self, name: &str) -> Result<&str, Failure> {
        self.value(name)
            .ok_or_else(|| usage(&format!("--{name} is required")))
    }

    fn only(&self, allowed: &[&str]) -> Result<(), Failure> {
        match self
            .options
            .iter()
            .find(|(n, _)| !allowed.contains(&n.as_str()))
        {
            Some((n, _)) => Err(usage(&format!("unknown option --{n}"))),
            None => Ok(()),
        }
    }
}

fn target() -> Target {
    match std::env::var("ADMIN_TARGET").as_deref() {
        Ok("local") => Target::Local,
        _ => Target::Deployed,
    }
}

/// The stack's ports: the table from `TABLE_NAME`; the admin never mails,
/// stores files or hashes personal data, so the rest is not configured.
async fn app() -> Result<App, Failure> {
    let table = std::env::var("TABLE_NAME")
        .map_err(|_| Failure::Failed("TABLE_NAME is not set (the stack's table name)".into()))?;
    let secret = shared::ops::random_bytes::<32>().map_err(|e| e.to_string())?;
    let config = shared::config::Config::new(table, "unused", "unused@invalid", &secret)?;
    let clients = shared::aws::Clients::from_env().await;
    Ok(App::with_aws(&clients, config, Arc::new(SystemClock)))
}

fn read(path: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::Failed(format!("cannot read {path}: {e}")))
}

/// Parse and check a tenant file: the configuration, or every problem
/// printed.
fn checked(path: &str) -> Result<shared::domain::tenant::Tenant, Failure> {
    admin::parse(&read(path)?, target()).map_err(|problems| {
        for p in &problems {
            if p.path.is_empty() {
                eprintln!("{path}: {}", p.message);
            } else {
                eprintln!("{path}: {}: {}", p.path, p.message);
            }
        }
        Failure::Failed(format!(
            "{path}: {} problem{}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        ))
    })
}

async fn tenant(raw: &[String]) -> Result<(), Failure> {
    let Some((command, rest)) = raw.split_first() else {
        return Err(usage("tenant: validate, apply or export"));
    };
    let args = Args::parse(rest, &["dry-run"])?;
    match (command.as_str(), args.positional.as_slice()) {
        ("validate", [file]) => {
            args.only(&[])?;
            let t = checked(file)?;
            println!("{file}: a valid configuration of {} ({})", t.slug, t.name);
            Ok(())
        }
        ("apply", [file]) => {
            args.only(&["dry-run"])?;
            let t = checked(file)?;
            let dry = args.flag("dry-run");
            let app = app().await?;
            let slug = t.slug.clone();
            let applied = admin::apply(app.store.as_ref(), t, dry).await?;
            for line in &applied.changes {
                println!("{line}");
            }
            let what = match (
                applied.created,
                applied.changes.is_empty(),
                applied.written,
                dry,
            ) {
                (_, true, _, _) => format!("{slug}: no change"),
                (true, _, true, _) => format!("{slug}: created"),
                (false, _, true, _) => format!("{slug}: {} changes written", applied.changes.len()),
                (_, _, _, true) => format!("{slug}: dry run, nothing written"),
                _ => format!("{slug}: nothing written"),
            };
            println!("{what}");
            Ok(())
        }
        ("export", [slug]) => {
            args.only(&[])?;
            let app = app().await?;
            print!("{}", admin::export(app.store.as_ref(), slug).await?);
            Ok(())
        }
        _ => Err(usage(
            "tenant: validate FILE, apply FILE [--dry-run] or export SLUG",
        )),
    }
}

async fn window(raw: &[String]) -> Result<(), Failure> {
    let Some((command, rest)) = raw.split_first() else {
        return Err(usage("window: create or list"));
    };
    let args = Args::parse(rest, &[])?;
    if !args.positional.is_empty() {
        return Err(usage("window: options only"));
    }
    let slug = args.required("tenant")?;
    let slug =
        TenantSlug::parse(slug).map_err(|_| usage(&format!("{slug:?} is not a tenant slug")))?;
    match command.as_str() {
        "create" => {
            args.only(&[
                "tenant",
                "service",
                "school-year",
                "opens",
                "closes",
                "capacity",
                "ranking",
            ])?;
            let app = app().await?;
            let tenant = load(&app, &slug).await?;
            let capacity = match args.value("capacity") {
                None => None,
                Some(n) => Some(serde_json::Value::from(
                    n.parse::<u64>()
                        .map_err(|_| usage("--capacity is a whole number"))?,
                )),
            };
            let body = shared::ops::staff::NewWindow {
                service: serde_json::Value::from(args.required("service")?),
                school_year: args.required("school-year")?.to_owned(),
                opens_at: args.required("opens")?.to_owned(),
                closes_at: args.required("closes")?.to_owned(),
                capacity,
                ranking: args.value("ranking").map(serde_json::Value::from),
            };
            match shared::ops::staff::create_window(&app, &tenant, body).await {
                Ok(w) => {
                    println!("{}", window_line(&tenant, &w, app.clock.now()));
                    Ok(())
                }
                Err(shared::domain::error::Error::InvalidFields(fields)) => {
                    for f in &fields {
                        eprintln!("{}: {}", f.field, f.message);
                    }
                    Err(Failure::Failed("the window was not created".into()))
                }
                Err(e) => Err(Failure::Failed(e.message())),
            }
        }
        "list" => {
            args.only(&["tenant"])?;
            let app = app().await?;
            let tenant = load(&app, &slug).await?;
            let mut windows = app
                .store
                .list_windows(&tenant.slug)
                .await
                .map_err(|e| e.to_string())?;
            windows.sort_by(|a, b| a.opens_at.cmp(&b.opens_at).then(a.id.cmp(&b.id)));
            for w in &windows {
                println!("{}", window_line(&tenant, w, app.clock.now()));
            }
            if windows.is_empty() {
                println!("{}: no windows", tenant.slug);
            }
            Ok(())
        }
        _ => Err(usage("window: create or list")),
    }
}

fn window_line(
    tenant: &shared::domain::tenant::Tenant,
    w: &shared::domain::window::Window,
    now: time::OffsetDateTime,
) -> String {
    let v = shared::ops::windows::WindowView::new(tenant, w, now);
    let rfc = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    format!(
        "{}\t{}\t{}\t{} .. {}\t{}\tplaces: {}",
        v.id,
        v.service_name,
        v.school_year,
        rfc(v.opens_at),
        rfc(v.closes_at),
        serde_json::to_value(v.status)
            .ok()
            .and_then(|s| s.as_str().map(str::to_owned))
            .unwrap_or_default(),
        v.capacity.map_or("unlimited".to_owned(), |c| c.to_string())
    )
}

async fn staff(raw: &[String]) -> Result<(), Failure> {
    let Some((command, rest)) = raw.split_first() else {
        return Err(usage("staff: invite, list or remove"));
    };
    let args = Args::parse(rest, &[])?;
    if !args.positional.is_empty() {
        return Err(usage("staff: options only"));
    }
    let slug = args.required("tenant")?;
    let slug =
        TenantSlug::parse(slug).map_err(|_| usage(&format!("{slug:?} is not a tenant slug")))?;
    let email = |args: &Args| -> Result<shared::domain::values::Email, Failure> {
        let raw = args.required("email")?;
        shared::domain::values::Email::parse(raw)
            .map_err(|_| usage(&format!("{raw:?} is not an email address")))
    };
    let pool_id = std::env::var("STAFF_USER_POOL_ID").map_err(|_| {
        Failure::Failed("STAFF_USER_POOL_ID is not set (the stack's StaffUserPoolId output)".into())
    })?;
    let app = app().await?;
    let tenant = load(&app, &slug).await?;
    let sdk = shared::aws::sdk_config_from_env().await;
    let pool = admin::staff::Pool {
        client: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
        pool_id,
        app_client_id: std::env::var("STAFF_CLIENT_ID")
            .ok()
            .filter(|v| !v.is_empty()),
    };
    match command.as_str() {
        "invite" => {
            args.only(&["tenant", "email"])?;
            let email = email(&args)?;
            let invited = pool.invite(&tenant, &email).await?;
            if invited.created {
                println!("{email}: account created; Cognito mails the temporary password");
            } else {
                println!("{email}: existing account");
            }
            println!("{email}: staff of {}", tenant.slug);
            if let Some(url) = invited.callback_added {
                println!("sign-in address registered: {url}");
            }
            if !invited.other_comuni.is_empty() {
                eprintln!(
                    "warning: {email} is staff of {} too: an account of several comuni gets no staff claims; give each comune its own account",
                    invited.other_comuni.join(", ")
                );
            }
            Ok(())
        }
        "list" => {
            args.only(&["tenant"])?;
            let members = pool.list(&tenant).await?;
            for m in &members {
                println!(
                    "{}\t{}\t{}",
                    m.email,
                    m.status,
                    if m.enabled { "enabled" } else { "disabled" }
                );
            }
            if members.is_empty() {
                println!("{}: no staff", tenant.slug);
            }
            Ok(())
        }
        "remove" => {
            args.only(&["tenant", "email"])?;
            let email = email(&args)?;
            if pool.remove(&tenant, &email).await? {
                println!("{email}: no longer staff of {}", tenant.slug);
                Ok(())
            } else {
                Err(Failure::Failed(format!(
                    "{email} is not staff of {}",
                    tenant.slug
                )))
            }
        }
        _ => Err(usage("staff: invite, list or remove")),
    }
}

/// `admin retention --tenant SLUG [--dry-run]`: what the comune keeps past
/// its retention, erased (or only listed), as the scheduled function does
/// daily.
async fn retention(raw: &[String]) -> Result<(), Failure> {
    let args = Args::parse(raw, &["dry-run"])?;
    args.only(&["tenant", "dry-run"])?;
    if !args.positional.is_empty() {
        return Err(usage("retention: options only"));
    }
    let slug = args.required("tenant")?;
    let slug =
        TenantSlug::parse(slug).map_err(|_| usage(&format!("{slug:?} is not a tenant slug")))?;
    let app = app().await?;
    let tenant = load(&app, &slug).await?;
    let dry = args.flag("dry-run");
    let report = shared::ops::retention::run_tenant(&app, &tenant, dry)
        .await
        .map_err(|e| Failure::Failed(e.message()))?;
    for w in &report.windows {
        println!("{w}");
    }
    println!(
        "{}: {} windows, {} applications, {} files {} (retention: {} school years)",
        tenant.slug,
        report.windows_erased,
        report.applications_erased,
        report.files_erased,
        if dry {
            "past their retention (dry run, nothing erased)"
        } else {
            "erased"
        },
        tenant.retention_years
    );
    Ok(())
}

async fn load(app: &App, slug: &TenantSlug) -> Result<shared::domain::tenant::Tenant, Failure> {
    app.store
        .get_tenant(slug)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| Failure::Failed(format!("no tenant {slug}: apply its tenant file first")))
}

#[tokio::main]
async fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let result = match raw.split_first() {
        Some((area, rest)) if area == "tenant" => tenant(rest).await,
        Some((area, rest)) if area == "window" => window(rest).await,
        Some((area, rest)) if area == "staff" => staff(rest).await,
        Some((area, rest)) if area == "retention" => retention(rest).await,
        Some((area, _)) if area == "--help" || area == "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(usage("tenant, window, staff or retention")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("admin: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("admin: {message}");
            ExitCode::FAILURE
        }
    }
}
