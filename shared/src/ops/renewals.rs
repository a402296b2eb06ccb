//! Renewals ("Rinnova iscrizione"): last year's users imported by staff
//! (the roster), shown to the guardian they name, and renewed into a
//! `renewal` draft that keeps last year's user code. Blocked by arrears.

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::sessions::SessionClaims;
use crate::app::App;
use crate::domain::application::{Application, Pupil};
use crate::domain::error::{Error, FieldError};
use crate::domain::fiscal_code::FiscalCode;
use crate::domain::roster::{self, FileError, Rejected, RosterEntry};
use crate::domain::tenant::Tenant;
use crate::domain::window::Service;
use crate::ports::RosterWriteError;

use super::applications::{fresh, open_window, store_new};
use super::sessions::{email_identity, owner_keys, spid_identity};

/// A roster import is at most 5 MiB (and `roster::MAX_LINES` lines).
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;

/// Entries written at once during an import: enough to import 10,000
/// lines well within API Gateway's 30 seconds, few enough not to throttle
/// an on-demand table that starts cold.
const PARALLEL_WRITES: usize = 16;

/// The answer to an import.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    /// Good lines, now in the roster.
    pub imported: usize,
    /// Of those, the lines that were already stored exactly so.
    pub unchanged: usize,
    pub rejected: Vec<Rejected>,
}

/// The identities a roster entry is filed under: those of its guardian, as
/// sessions have them, so a SPID login finds the guardian's fiscal code and
/// an email session the guardian's address.
fn roster_links(app: &App, tenant: &Tenant, entry: &RosterEntry) -> Vec<String> {
    let mut links = vec![spid_identity(app, tenant, &entry.guardian_fiscal_code)];
    if let Some(email) = &entry.guardian_email {
        links.push(email_identity(app, tenant, email));
    }
    links
}

fn file_error(e: FileError) -> Error {
    let field =
        |code, message: &str| Error::InvalidFields(vec![FieldError::new("file", code, message)]);
    match e {
        FileError::Empty => field("empty", "Il file è vuoto."),
        FileError::NotUtf8 => field(
            "not_utf8",
            "Il file deve essere codificato in UTF-8 (in Excel: «Salva con nome», «CSV UTF-8»).",
        ),
        FileError::BadHeader => Error::InvalidFields(vec![FieldError::new(
            "header",
            "invalid_header",
            format!(
                "La prima riga deve essere l'intestazione: {}.",
                roster::HEADER.join(",")
            ),
        )]),
        FileError::TooManyLines => Error::FileTooLarge,
    }
}

/// `POST staff/roster-imports`: every good line stored (or left as it is
/// when unchanged), every bad one reported with its line and code. A store
/// failure midway answers 503; lines already written stay, and importing
/// the file again completes it (an import is idempotent).
pub async fn import(app: &App, tenant: &Tenant, bytes: &[u8]) -> Result<ImportReport, Error> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(Error::FileTooLarge);
    }
    let parsed = roster::parse(bytes, tenant).map_err(file_error)?;
    let mut report = ImportReport {
        imported: 0,
        unchanged: 0,
        rejected: parsed.rejected,
    };
    let mut pending = parsed.entries.into_iter();
    let mut tasks = JoinSet::new();
    loop {
        while tasks.len() < PARALLEL_WRITES {
            let Some((line, entry)) = pending.next() else {
                break;
            };
            let links = roster_links(app, tenant, &entry);
            let store = app.store.clone();
            let slug = tenant.slug.clone();
            tasks.spawn(async move { (line, store.put_roster_entry(&slug, &entry, &links).await) });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (line, result) = joined.map_err(|e| Error::Internal(format!("import task: {e}")))?;
        match result {
            Ok(written) => {
                report.imported += 1;
                if !written {
                    report.unchanged += 1;
                }
            }
            Err(RosterWriteError::UserCodeTaken) => report.rejected.push(Rejected {
                line,
                code: "user_code_taken",
                field: Some("user_code"),
            }),
            Err(RosterWriteError::Store(e)) => {
                tasks.abort_all();
                return Err(e.into());
            }
        }
    }
    report.rejected.sort_by_key(|r| r.line);
    tracing::info!(
        imported = report.imported,
        unchanged = report.unchanged,
        rejected = report.rejected.len(),
        "roster imported"
    );
    Ok(report)
}

/// Whether last year's entry names the caller as guardian.
fn belongs(session: &SessionClaims, entry: &RosterEntry) -> bool {
    let by_spid = session
        .spid_fiscal_code
        .as_ref()
        .is_some_and(|fc| *fc == entry.guardian_fiscal_code);
    let by_email = session.email.is_some() && session.email == entry.guardian_email;
    by_spid || by_email
}

/// One renewable pupil, as `GET renewals` shows it.
#[derive(Debug, Serialize)]
pub struct Renewable {
    pub user_code: String,
    /// Last year's data.
    pub pupil: Pupil,
    pub service: Service,
    pub service_name: &'static str,
    /// `payment_arrears` when the balance blocks the renewal.
    pub blocked: Option<&'static str>,
}

/// `GET renewals`: the caller's pupils in last year's roster.
pub async fn list(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
) -> Result<Vec<Renewable>, Error> {
    let mut entries: Vec<RosterEntry> = Vec::new();
    for link in owner_keys(app, tenant, session) {
        for e in app.store.roster_entries(&tenant.slug, &link).await? {
            if belongs(session, &e) && !entries.iter().any(|x| x.user_code == e.user_code) {
                entries.push(e);
            }
        }
    }
    entries.sort_by(|a, b| {
        (&a.pupil_last_name, &a.pupil_first_name, a.service.code()).cmp(&(
            &b.pupil_last_name,
            &b.pupil_first_name,
            b.service.code(),
        ))
    });
    Ok(entries
        .into_iter()
        .map(|e| Renewable {
            blocked: e.in_arrears(tenant).then_some("payment_arrears"),
            service: e.service,
            service_name: e.service.name(),
            pupil: Pupil {
                fiscal_code: Some(e.pupil_fiscal_code),
                first_name: Some(e.pupil_first_name),
                last_name: Some(e.pupil_last_name),
                birth_date: Some(e.pupil_birth_date),
                school: Some(e.school),
                grade: Some(e.grade),
                section: Some(e.section).filter(|s| !s.is_empty()),
            },
            user_code: e.user_code,
        })
        .collect())
}

/// The body of `POST renewals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalRequest {
    pub user_code: String,
    pub window_id: String,
}

/// How to clear arrears: the tenant's top-up instructions and contacts.
fn payment_arrears(tenant: &Tenant) -> Error {
    Error::PaymentArrears {
        top_up: tenant.information.top_up.join(" "),
        office: format!(
            "{}: {}, {}",
            tenant.name, tenant.contact_email, tenant.phone
        ),
    }
}

/// `POST renewals`: a `renewal` draft prefilled from last year, keeping
/// its user code. Someone else's (or an unknown) user code is `404`.
pub async fn create(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    request: RenewalRequest,
) -> Result<Application, Error> {
    let Some(email) = session.email.clone() else {
        return Err(Error::EmailRequired);
    };
    let code = request.user_code.trim();
    if code.len() != 8 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidFields(vec![FieldError::new(
            "user_code",
            "invalid",
            "Il codice utente è di 8 cifre.",
        )]));
    }
    let entry = app
        .store
        .roster_entry(&tenant.slug, code)
        .await?
        .filter(|e| belongs(session, e))
        .ok_or(Error::NotFound)?;
    let window = open_window(app, tenant, request.window_id.trim()).await?;
    if window.service != entry.service {
        return Err(Error::InvalidFields(vec![FieldError::new(
            "window_id",
            "wrong_service",
            format!(
                "Questo periodo di iscrizione è per un altro servizio: il rinnovo riguarda il servizio «{service}».",
                service = entry.service.name()
            ),
        )]));
    }
    if entry.in_arrears(tenant) {
        return Err(payment_arrears(tenant));
    }
    // With SPID, the guardian is the person logged in.
    let guardian_code = session
        .spid_fiscal_code
        .clone()
        .unwrap_or_else(|| entry.guardian_fiscal_code.clone());
    let mut body = roster::renewal_body(&entry, &window.id, &guardian_code);
    // Last year's stop, if the bus still stops there.
    let view = tenant.service(window.service);
    if let Some(t) = body.service.as_mut().and_then(|s| s.transport.as_mut())
        && t.stop_id
            .as_deref()
            .is_some_and(|id| view.stop(id).is_none())
    {
        t.stop_id = None;
    }
    // Last year's school, if the comune still lists it.
    let schools = tenant.school_names();
    if let Some(p) = body.pupil.as_mut()
        && !schools.is_empty()
        && p.school
            .as_deref()
            .is_some_and(|s| !schools.iter().any(|n| n == s))
    {
        p.school = None;
    }
    // Last year's address is not proved: mail goes to the one this session
    // verified.
    if let Some(g) = body.guardian.as_mut() {
        g.email = Some(email.clone());
    }
    let stored = |raw: &str| {
        FiscalCode::parse(raw).map_err(|_| Error::Internal("roster fiscal code unreadable".into()))
    };
    let pupil = stored(&entry.pupil_fiscal_code)?;
    let guardian = stored(&guardian_code)?;
    let mut application = fresh(
        app,
        session,
        &email,
        window.id.clone(),
        "renewal",
        body,
        &pupil,
        &guardian,
    )?;
    application.user_code = Some(entry.user_code.clone());
    store_new(app, tenant, session, &application, &window).await?;
    Ok(application)
}
