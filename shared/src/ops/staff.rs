//! The office's side: the list of applications (by window and status,
//! newest submission first, cursor paging over the index: no scans), one
//! application with its history, confirm and reject (mailed to the
//! guardian), windows, and the roster CSV for schools.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::changes::{self, Change, Pupil};
use super::retry::{self, Attempt};
use crate::app::App;
use crate::domain::application::{Application, HistoryEntry, Status};
use crate::domain::error::{Error, FieldError};
use crate::domain::ranking::{MAX_CAPACITY, Ranking};
use crate::domain::tenant::Tenant;
use crate::domain::values::SchoolYear;
use crate::domain::window::{Service, Window};
use crate::ports::{ApplicationStore, MessageKind, StoreError};

pub const PAGE_SIZE: usize = 50;

/// What the list shows without a status filter: the office's work.
const DEFAULT_STATUSES: [Status; 5] = [
    Status::Submitted,
    Status::ChangesRequested,
    Status::Waitlisted,
    Status::Confirmed,
    Status::Rejected,
];

#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    /// Index of the (window, status) partition.
    p: usize,
    /// Position inside it.
    k: Option<String>,
}

fn bad_cursor() -> Error {
    Error::InvalidFields(vec![FieldError::new(
        "cursor",
        "invalid",
        "Indicatore di pagina non valido: ricarica l'elenco.",
    )])
}

fn parse_status(raw: &str) -> Result<Status, Error> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).map_err(|_| {
        Error::InvalidFields(vec![FieldError::new(
            "status",
            "invalid",
            "Stato non valido: draft, submitted, changes_requested, waitlisted, confirmed, rejected, withdrawn o expired.",
        )])
    })
}

/// `GET staff/applications`.
pub async fn list(
    app: &App,
    tenant: &Tenant,
    window_id: Option<&str>,
    status: Option<&str>,
    cursor: Option<&str>,
    limit: Option<&str>,
) -> Result<(Vec<Application>, Option<String>), Error> {
    let page_size = match limit.filter(|l| !l.is_empty()) {
        None => PAGE_SIZE,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                Error::InvalidFields(vec![FieldError::new(
                    "limit",
                    "invalid",
                    "Il numero di risultati per pagina va da 1 a 100.",
                )])
            })?,
    };
    let statuses: Vec<Status> = match status.filter(|s| !s.is_empty()) {
        Some(s) => vec![parse_status(s)?],
        None => DEFAULT_STATUSES.to_vec(),
    };
    let mut windows = app.store.list_windows(&tenant.slug).await?;
    windows.sort_by(|a, b| b.opens_at.cmp(&a.opens_at).then(a.id.cmp(&b.id)));
    if let Some(w) = window_id.filter(|w| !w.is_empty()) {
        windows.retain(|x| x.id == w);
    }
    let partitions: Vec<(String, Status)> = windows
        .iter()
        .flat_map(|w| statuses.iter().map(move |s| (w.id.clone(), *s)))
        .collect();
    let mut position = match cursor.filter(|c| !c.is_empty()) {
        Some(c) => URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Cursor>(&bytes).ok())
            .ok_or_else(bad_cursor)?,
        None => Cursor { p: 0, k: None },
    };
    let mut items = Vec::new();
    // A window's counts (one request) tell which of its statuses are
    // empty: those are skipped rather than read shard by shard.
    let mut counts: Vec<(String, Vec<(Status, i64)>)> = Vec::new();
    while position.p < partitions.len() && items.len() < page_size {
        let (window, status) = &partitions[position.p];
        if position.k.is_none() {
            if !counts.iter().any(|(w, _)| w == window) {
                let c = app.store.window_counts(&tenant.slug, window).await?;
                counts.push((window.clone(), c));
            }
            let empty = counts
                .iter()
                .filter(|(w, _)| w == window)
                .flat_map(|(_, c)| c)
                .any(|(s, n)| s == status && *n <= 0);
            if empty {
                position.p += 1;
                continue;
            }
        }
        let (page, next) = app
            .store
            .window_applications(
                &tenant.slug,
                window,
                *status,
                page_size - items.len(),
                position.k.take(),
            )
            .await?;
        items.extend(page);
        match next {
            Some(k) => position.k = Some(k),
            None => position.p += 1,
        }
    }
    let next_cursor = (position.p < partitions.len())
        .then(|| serde_json::to_vec(&position).ok())
        .flatten()
        .map(|bytes| URL_SAFE_NO_PAD.encode(bytes));
    Ok((items, next_cursor))
}

/// `GET staff/applications?q=`: the applications with this exact user code
/// or pupil fiscal code, in any window, newest first. Found through the
/// user code's reservation and the pupil's links (filed under a keyed
/// hash): no scan.
pub async fn search(app: &App, tenant: &Tenant, q: &str) -> Result<Vec<Application>, Error> {
    let q = q.trim();
    let mut found = if q.len() == 8 && q.bytes().all(|b| b.is_ascii_digit()) {
        match app.store.user_code_application(&tenant.slug, q).await? {
            Some(id) => app
                .store
                .get_application(&tenant.slug, &id)
                .await?
                .into_iter()
                .collect(),
            // Last year's code: the renewals of its pupil that carry it.
            None => match app.store.roster_entry(&tenant.slug, q).await? {
                Some(entry) => {
                    let pupil = super::sessions::pupil_key(app, tenant, &entry.pupil_fiscal_code);
                    app.store
                        .pupil_applications(&tenant.slug, &pupil)
                        .await?
                        .into_iter()
                        .filter(|a| a.user_code.as_deref() == Some(q))
                        .collect()
                }
                None => Vec::new(),
            },
        }
    } else if let Ok(code) = crate::domain::fiscal_code::FiscalCode::parse(q) {
        let pupil = super::sessions::pupil_key(app, tenant, code.as_str());
        app.store.pupil_applications(&tenant.slug, &pupil).await?
    } else {
        return Err(Error::InvalidFields(vec![FieldError::new(
            "q",
            "invalid",
            "Cerca con il codice utente (8 cifre) o il codice fiscale dell'alunno.",
        )]));
    };
    found.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
    Ok(found)
}

/// `GET staff/applications/{id}`: any application of the tenant.
pub async fn read(
    applications: &dyn ApplicationStore,
    tenant: &Tenant,
    id: &str,
) -> Result<Application, Error> {
    applications
        .get_application(&tenant.slug, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Confirm (`reason` is `None`) or reject an application: only from
/// `submitted`, conditional on its version, then the guardian is mailed.
/// With `if_match`, only the version the operator saw is decided: a family's
/// later change is `412`, never confirmed unseen.
pub async fn decide(
    app: &App,
    tenant: &Tenant,
    id: &str,
    staff: &str,
    confirm: bool,
    reason: Option<String>,
    if_match: Option<u64>,
) -> Result<Application, Error> {
    let reason = match (confirm, reason.map(|r| r.trim().to_owned())) {
        (true, _) => None,
        (false, Some(r)) if !r.is_empty() && r.chars().count() <= 1000 => Some(r),
        (false, _) => {
            return Err(Error::InvalidFields(vec![FieldError::new(
                "reason",
                "required",
                "Indica la motivazione (al massimo 1000 caratteri): sarà comunicata al genitore.",
            )]));
        }
    };
    let reason = &reason;
    retry::optimistic(retry::ATTEMPTS, move || async move {
        let current = read(app.store.as_ref(), tenant, id).await?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(Error::VersionConflict);
        }
        // Confirm from `submitted`, or from `waitlisted` once within the
        // places; reject from either, or while changes are requested.
        let allowed = match current.status {
            Status::Submitted | Status::Waitlisted => true,
            Status::ChangesRequested => !confirm,
            _ => false,
        };
        if !allowed {
            return Err(Error::InvalidTransition);
        }
        let window = super::documents::window_of(app, tenant, &current).await?;
        if confirm {
            super::places::check_within(app, tenant, &window, &current).await?;
        }
        let now = app.clock.now();
        let to = if confirm {
            Status::Confirmed
        } else {
            Status::Rejected
        };
        let mut next = current.clone();
        next.status = to;
        next.version = current.version + 1;
        next.decided_at = Some(now);
        next.updated_at = now;
        next.decision_reason = reason.clone();
        next.change_request = None;
        next.history.push(HistoryEntry {
            at: now,
            by: format!("staff:{staff}"),
            from: Some(current.status),
            to,
            reason: None,
        });
        let pupil = if confirm {
            Pupil::Kept
        } else {
            // A rejection frees the pupil, also for the family that applied.
            Pupil::Freed
        };
        let change = Change {
            kind: MessageKind::Decision,
            pupil,
            what: "decision recorded",
        };
        changes::record(app, tenant, &window, &current, next, change).await
    })
    .await
}

/// At most this many ids in one bulk confirm.
pub const MAX_BULK: usize = 100;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkConfirm {
    pub ids: Vec<String>,
    #[serde(default)]
    pub versions: Option<Vec<u64>>,
}

/// One id's result of a bulk confirm: its status now, or its error code.
#[derive(Debug, Clone, Serialize)]
pub struct BulkResult {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<BulkError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BulkError {
    pub code: &'static str,
}

/// `POST staff/applications/confirm`: each id as a single confirm (its
/// mail, its history, the places, its version as `If-Match`), one after
/// the other in the order given, so that the places are counted as each
/// is confirmed. Safe to repeat: an id already confirmed answers
/// `invalid_transition` and nothing is sent twice.
pub async fn confirm_many(
    app: &App,
    tenant: &Tenant,
    staff: &str,
    body: BulkConfirm,
) -> Result<Vec<BulkResult>, Error> {
    let mut errors = Vec::new();
    if body.ids.is_empty() || body.ids.len() > MAX_BULK {
        errors.push(FieldError::new(
            "ids",
            "invalid",
            "Indica da 1 a 100 domande da confermare.",
        ));
    }
    if body.ids.iter().any(|id| id.is_empty() || id.len() > 80) {
        errors.push(FieldError::new(
            "ids",
            "invalid",
            "Identificativo di domanda non valido.",
        ));
    }
    if body
        .versions
        .as_ref()
        .is_some_and(|v| v.len() != body.ids.len())
    {
        errors.push(FieldError::new(
            "versions",
            "invalid",
            "Le versioni devono essere tante quante le domande, nello stesso ordine.",
        ));
    }
    if !errors.is_empty() {
        return Err(Error::InvalidFields(errors));
    }
    let mut results = Vec::with_capacity(body.ids.len());
    for (i, id) in body.ids.iter().enumerate() {
        let version = body.versions.as_ref().map(|v| v[i]);
        let result = match decide(app, tenant, id, staff, true, None, version).await {
            Ok(a) => BulkResult {
                id: id.clone(),
                status: Some(a.status),
                error: None,
            },
            // Each its own answer, the store's trouble too (that id can be
            // confirmed again: nothing of it was written).
            Err(e) => BulkResult {
                id: id.clone(),
                status: None,
                error: Some(BulkError { code: e.code() }),
            },
        };
        results.push(result);
    }
    Ok(results)
}

/// `GET staff/windows/{id}/stats`: how many applications the window has
/// in each status, from its counter items (one batch read of 16 small
/// items, whatever the window's size), and its places.
pub async fn stats(
    app: &App,
    tenant: &Tenant,
    window_id: &str,
) -> Result<(Vec<(Status, i64)>, Option<u32>), Error> {
    let window = app
        .store
        .get_window(&tenant.slug, window_id)
        .await?
        .ok_or(Error::NotFound)?;
    let counts = app.store.window_counts(&tenant.slug, window_id).await?;
    Ok((counts, window.capacity))
}

/// `POST staff/applications/{id}/waitlist`: a `submitted` application
/// moves to the waiting list (it keeps its place in the order), and the
/// family is mailed.
pub async fn waitlist(
    app: &App,
    tenant: &Tenant,
    id: &str,
    staff: &str,
    if_match: Option<u64>,
) -> Result<Application, Error> {
    retry::optimistic(retry::ATTEMPTS, move || async move {
        let current = read(app.store.as_ref(), tenant, id).await?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(Error::VersionConflict);
        }
        if current.status != Status::Submitted {
            return Err(Error::InvalidTransition);
        }
        let window = super::documents::window_of(app, tenant, &current).await?;
        let now = app.clock.now();
        let mut next = current.clone();
        next.status = Status::Waitlisted;
        next.version = current.version + 1;
        next.updated_at = now;
        next.history.push(HistoryEntry {
            at: now,
            by: format!("staff:{staff}"),
            from: Some(current.status),
            to: Status::Waitlisted,
            reason: None,
        });
        let change = Change {
            kind: MessageKind::Waitlisted,
            pupil: Pupil::Kept,
            what: "waitlisted",
        };
        changes::record(app, tenant, &window, &current, next, change).await
    })
    .await
}

/// `POST staff/applications/{id}/criteria`: the office corrects the
/// ranking criteria a family declared (after checking them, DPR 445/2000).
/// The place follows, the history says who and what, the family is mailed.
pub async fn correct_criteria(
    app: &App,
    tenant: &Tenant,
    id: &str,
    staff: &str,
    criteria: Vec<String>,
) -> Result<Application, Error> {
    let criteria = &criteria;
    retry::optimistic(retry::ATTEMPTS, move || async move {
        let current = read(app.store.as_ref(), tenant, id).await?;
        if !matches!(current.status, Status::Submitted | Status::Waitlisted) {
            return Err(Error::InvalidTransition);
        }
        let window = super::documents::window_of(app, tenant, &current).await?;
        let view = tenant.service(window.service);
        let mut seen: Vec<&String> = Vec::new();
        for c in criteria {
            if view.criterion(c).is_none() || seen.contains(&c) {
                return Err(Error::InvalidFields(vec![FieldError::new(
                    "criteria",
                    "invalid",
                    "Criteri non validi: scegli tra quelli del servizio, senza ripetizioni.",
                )]));
            }
            seen.push(c);
        }
        let now = app.clock.now();
        let mut next = current.clone();
        let mut service = next.body.service.clone().unwrap_or_default();
        service.criteria = Some(criteria.clone());
        next.body.service = Some(service);
        next.version = current.version + 1;
        next.updated_at = now;
        let labels: Vec<&str> = criteria
            .iter()
            .filter_map(|c| view.criterion(c).map(|k| k.label.as_str()))
            .collect();
        next.history.push(HistoryEntry {
            at: now,
            by: format!("staff:{staff}"),
            from: Some(current.status),
            to: current.status,
            reason: Some(if labels.is_empty() {
                "Criteri corretti dall'ufficio: nessuno".into()
            } else {
                format!("Criteri corretti dall'ufficio: {}", labels.join("; "))
            }),
        });
        let change = Change {
            kind: MessageKind::Criteria,
            pupil: Pupil::Kept,
            what: "criteria corrected",
        };
        changes::record(app, tenant, &window, &current, next, change).await
    })
    .await
}

/// `GET staff/windows/{id}/ranking.csv`: the window's order ("graduatoria"):
/// position, user code, pupil, points, status. No fiscal codes, no health
/// data.
pub async fn ranking_csv(app: &App, tenant: &Tenant, window_id: &str) -> Result<String, Error> {
    let window = app
        .store
        .get_window(&tenant.slug, window_id)
        .await?
        .ok_or(Error::NotFound)?;
    let ids = app
        .store
        .ranked_first(&tenant.slug, window_id, usize::MAX)
        .await?;
    let mut out = csv_writer();
    let header = [
        "position",
        "user_code",
        "pupil_last_name",
        "pupil_first_name",
        "points",
        "status",
        "within_capacity",
    ];
    out.write_record(header)
        .map_err(|e| Error::Internal(format!("csv: {e}")))?;
    for (i, id) in ids.iter().enumerate() {
        let Some(a) = app.store.get_application(&tenant.slug, id).await? else {
            continue;
        };
        let position = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let pupil = a.body.pupil.clone().unwrap_or_default();
        let within = window.capacity.is_none_or(|c| position <= c);
        out.write_record([
            position.to_string(),
            a.user_code.clone().unwrap_or_default(),
            spreadsheet_safe(pupil.last_name.as_deref().unwrap_or("")),
            spreadsheet_safe(pupil.first_name.as_deref().unwrap_or("")),
            super::places::points(tenant, &window, &a).to_string(),
            a.status.label().to_owned(),
            if within { "sì" } else { "no" }.to_owned(),
        ])
        .map_err(|e| Error::Internal(format!("csv: {e}")))?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Internal(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(format!("csv: {e}")))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWindow {
    pub service: serde_json::Value,
    pub school_year: String,
    pub opens_at: String,
    pub closes_at: String,
    /// Places: a whole number from 1, or `null` for unlimited.
    #[serde(default)]
    pub capacity: Option<serde_json::Value>,
    /// `first_come` (the default) or `points`.
    #[serde(default)]
    pub ranking: Option<serde_json::Value>,
}

/// A window's places from a request: `null` (unlimited) or 1..=MAX.
fn parse_capacity(raw: Option<&serde_json::Value>) -> Result<Option<u32>, FieldError> {
    match raw {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=u64::from(MAX_CAPACITY)).contains(n))
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                FieldError::new(
                    "capacity",
                    "invalid",
                    "Posti non validi: un numero intero da 1 a 100000, oppure null per nessun limite.",
                )
            }),
    }
}

fn parse_ranking(raw: Option<&serde_json::Value>) -> Result<Option<Ranking>, FieldError> {
    match raw {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|_| {
            FieldError::new(
                "ranking",
                "invalid",
                "Graduatoria non valida: first_come (ordine di invio) o points (punteggio).",
            )
        }),
    }
}

/// An RFC 3339 time, kept in UTC (the contract's times are UTC whatever
/// offset the client wrote).
fn parse_time(field: &str, raw: &str) -> Result<OffsetDateTime, FieldError> {
    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|t| t.to_offset(time::UtcOffset::UTC))
        .map_err(|_| {
            FieldError::new(
                field,
                "invalid",
                "Data e ora non valide: usa il formato RFC 3339, ad esempio 2025-04-22T07:00:00Z.",
            )
        })
}

/// `POST staff/windows`.
pub async fn create_window(app: &App, tenant: &Tenant, body: NewWindow) -> Result<Window, Error> {
    let mut errors = Vec::new();
    let service: Option<Service> = serde_json::from_value(body.service.clone())
        .ok()
        .filter(|s| tenant.offers(*s));
    if service.is_none() {
        errors.push(FieldError::new(
            "service",
            "invalid",
            "Servizio non valido o non offerto dal Comune.",
        ));
    }
    let year = SchoolYear::parse(&body.school_year).ok();
    if year.is_none() {
        errors.push(FieldError::new(
            "school_year",
            "invalid",
            "Anno scolastico non valido, ad esempio 2025/2026.",
        ));
    }
    let opens = parse_time("opens_at", &body.opens_at)
        .map_err(|e| errors.push(e))
        .ok();
    let closes = parse_time("closes_at", &body.closes_at)
        .map_err(|e| errors.push(e))
        .ok();
    if let (Some(o), Some(c)) = (opens, closes)
        && c <= o
    {
        errors.push(FieldError::new(
            "closes_at",
            "invalid",
            "La chiusura deve essere successiva all'apertura.",
        ));
    }
    let capacity = parse_capacity(body.capacity.as_ref())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let ranking = parse_ranking(body.ranking.as_ref())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
        .unwrap_or_default();
    let (Some(service), Some(school_year), Some(opens_at), Some(closes_at), true) =
        (service, year, opens, closes, errors.is_empty())
    else {
        return Err(Error::InvalidFields(errors));
    };
    let window = Window {
        id: super::random_id("w")?,
        service,
        school_year,
        opens_at,
        closes_at,
        closed_at: None,
        capacity,
        ranking,
    };
    app.store.put_window(&tenant.slug, &window).await?;
    app.tenants.forget_windows(&tenant.slug);
    tracing::info!(window = %window.id, "window created");
    Ok(window)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowPatch {
    #[serde(default)]
    pub closes_at: Option<String>,
    /// Present (even `null`): the new places.
    #[serde(default, deserialize_with = "present")]
    pub capacity: Option<Option<serde_json::Value>>,
    #[serde(default)]
    pub ranking: Option<serde_json::Value>,
}

/// A field that is there, even as `null`, is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<serde_json::Value>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

/// `PATCH staff/windows/{id}`: extend or shorten (a time now or in the
/// past closes it at once; a later time reopens a window closed by time).
pub async fn patch_window(
    app: &App,
    tenant: &Tenant,
    id: &str,
    patch: WindowPatch,
) -> Result<Window, Error> {
    let mut errors = Vec::new();
    let closes_at = patch
        .closes_at
        .as_deref()
        .map(|raw| parse_time("closes_at", raw))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    // `Some(None)`: the places are now unlimited.
    let capacity: Option<Option<u32>> = match patch.capacity.as_ref() {
        None => None,
        Some(raw) => parse_capacity(raw.as_ref())
            .map_err(|e| errors.push(e))
            .ok(),
    };
    let ranking = parse_ranking(patch.ranking.as_ref())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if patch.closes_at.is_none() && patch.capacity.is_none() && patch.ranking.is_none() {
        errors.push(FieldError::new(
            "closes_at",
            "required",
            "Indica che cosa cambiare: closes_at, capacity o ranking.",
        ));
    }
    if !errors.is_empty() {
        return Err(Error::InvalidFields(errors));
    }
    retry::optimistic(retry::ATTEMPTS, move || async move {
        let current = app
            .store
            .get_window(&tenant.slug, id)
            .await?
            .ok_or(Error::NotFound)?;
        let mut next = current.clone();
        if let Some(closes_at) = closes_at {
            if closes_at <= current.opens_at {
                return Err(Error::InvalidFields(vec![FieldError::new(
                    "closes_at",
                    "invalid",
                    "La chiusura deve essere successiva all'apertura.",
                )]));
            }
            next.closes_at = closes_at;
            // The scheduled function records the close again if it is due.
            next.closed_at = None;
        }
        if let Some(capacity) = capacity {
            next.capacity = capacity;
        }
        if let Some(ranking) = ranking {
            next.ranking = ranking;
        }
        match app
            .store
            .replace_window(&tenant.slug, &current, &next)
            .await
        {
            Ok(()) => {
                app.tenants.forget_windows(&tenant.slug);
                tracing::info!(window = %id, "window changed");
                Ok(Attempt::Done(next))
            }
            Err(StoreError::Conflict) => Ok(Attempt::Again),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

fn diet_label(kind: Option<&str>) -> &'static str {
    match kind {
        Some("none") => "nessuna",
        Some("medical") => "sanitaria",
        Some("religious") => "etico-religiosa",
        Some("vegetarian") => "vegetariana",
        _ => "",
    }
}

/// A cell a spreadsheet will not run as a formula: text that parents typed
/// and that starts with `=`, `+`, `-`, `@` (or a tab or carriage return)
/// gets a leading apostrophe (OWASP, "CSV injection"); so does every part
/// after a `;`, where Italian spreadsheets split a line into cells.
fn spreadsheet_safe(cell: &str) -> String {
    cell.split(';')
        .map(|part| {
            if part.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{part}")
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// A CSV writer for staff lists: every field quoted (RFC 4180), so that no
/// spreadsheet guesses a type or splits a cell.
fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new())
}

/// Every application of a window in `status`, page by page over the
/// staff list's index (what a list for schools or the caterer reads).
pub(crate) async fn all_in(
    app: &App,
    tenant: &Tenant,
    window_id: &str,
    status: Status,
) -> Result<Vec<Application>, Error> {
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = app
            .store
            .window_applications(&tenant.slug, window_id, status, 500, after)
            .await?;
        rows.extend(page);
        match next {
            Some(k) => after = Some(k),
            None => return Ok(rows),
        }
    }
}

/// By pupil's last then first name, as schools read a list.
fn by_pupil_name(rows: &mut [Application]) {
    rows.sort_by_cached_key(|x| {
        let p = x.body.pupil.clone().unwrap_or_default();
        (
            p.last_name.unwrap_or_default().to_lowercase(),
            p.first_name.unwrap_or_default().to_lowercase(),
            x.id.clone(),
        )
    });
}

fn finish(out: csv::Writer<Vec<u8>>) -> Result<String, Error> {
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Internal(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(format!("csv: {e}")))
}

fn csv_error(e: csv::Error) -> Error {
    Error::Internal(format!("csv: {e}"))
}

/// `GET staff/windows/{id}/roster.csv`: one row per submitted or confirmed
/// application, for schools.
pub async fn roster_csv(app: &App, tenant: &Tenant, window_id: &str) -> Result<String, Error> {
    app.store
        .get_window(&tenant.slug, window_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut rows = all_in(app, tenant, window_id, Status::Submitted).await?;
    rows.extend(all_in(app, tenant, window_id, Status::Confirmed).await?);
    pupils_csv(rows)
}

/// The roster's rows (a school's weekly list is the same, of its
/// confirmed pupils): user code, names, fiscal code, school, grade,
/// section, the diet's kind (never its notes), status.
pub(crate) fn pupils_csv(mut rows: Vec<Application>) -> Result<String, Error> {
    by_pupil_name(&mut rows);
    let mut out = csv_writer();
    let header = [
        "user_code",
        "pupil_last_name",
        "pupil_first_name",
        "pupil_fiscal_code",
        "school",
        "grade",
        "section",
        "diet",
        "status",
    ];
    out.write_record(header).map_err(csv_error)?;
    for a in &rows {
        let p = a.body.pupil.clone().unwrap_or_default();
        let diet = a
            .body
            .service
            .clone()
            .unwrap_or_default()
            .diet
            .unwrap_or_default();
        out.write_record(
            [
                a.user_code.as_deref().unwrap_or(""),
                p.last_name.as_deref().unwrap_or("").trim(),
                p.first_name.as_deref().unwrap_or("").trim(),
                a.pupil_fiscal_code.as_str(),
                p.school.as_deref().unwrap_or("").trim(),
                p.grade.as_deref().unwrap_or("").trim(),
                p.section.as_deref().unwrap_or("").trim(),
                // The kind only: notes and certificates are health data,
                // for the caterer's list alone.
                diet_label(diet.kind.as_deref()),
                a.status.code(),
            ]
            .map(spreadsheet_safe),
        )
        .map_err(csv_error)?;
    }
    finish(out)
}

/// `GET staff/windows/{id}/diets.csv`: for the caterer, the confirmed
/// applications with a special diet: user code, pupil, school, grade,
/// section, the diet's kind and notes. The only list with health data.
pub async fn diets_csv(app: &App, tenant: &Tenant, window_id: &str) -> Result<String, Error> {
    app.store
        .get_window(&tenant.slug, window_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut rows: Vec<Application> = all_in(app, tenant, window_id, Status::Confirmed)
        .await?
        .into_iter()
        .filter(|a| {
            a.body
                .service
                .as_ref()
                .and_then(|s| s.diet.as_ref())
                .and_then(|d| d.kind.as_deref())
                .is_some_and(|k| k != "none")
        })
        .collect();
    by_pupil_name(&mut rows);
    let mut out = csv_writer();
    let header = [
        "user_code",
        "pupil_last_name",
        "pupil_first_name",
        "school",
        "grade",
        "section",
        "diet",
        "diet_notes",
    ];
    out.write_record(header).map_err(csv_error)?;
    for a in &rows {
        let p = a.body.pupil.clone().unwrap_or_default();
        let diet = a
            .body
            .service
            .clone()
            .unwrap_or_default()
            .diet
            .unwrap_or_default();
        out.write_record(
            [
                a.user_code.as_deref().unwrap_or(""),
                p.last_name.as_deref().unwrap_or("").trim(),
                p.first_name.as_deref().unwrap_or("").trim(),
                p.school.as_deref().unwrap_or("").trim(),
                p.grade.as_deref().unwrap_or("").trim(),
                p.section.as_deref().unwrap_or("").trim(),
                diet_label(diet.kind.as_deref()),
                diet.notes.as_deref().unwrap_or("").trim(),
            ]
            .map(spreadsheet_safe),
        )
        .map_err(csv_error)?;
    }
    finish(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("-1+2"), "'-1+2");
        assert_eq!(
            spreadsheet_safe("Primaria G. Mazzini"),
            "Primaria G. Mazzini"
        );
        // After a `;` too: Italian spreadsheets split cells there.
        assert_eq!(
            spreadsheet_safe("Rossi;=cmd|' /C calc'!A0"),
            "Rossi;'=cmd|' /C calc'!A0"
        );
        assert_eq!(spreadsheet_safe("a; b;@x;+1"), "a; b;'@x;'+1");
    }

    #[test]
    fn every_field_is_quoted() {
        let mut out = csv_writer();
        assert!(out.write_record(["48213977", "Rossi", ""]).is_ok());
        let text = String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default();
        assert_eq!(text, "\"48213977\",\"Rossi\",\"\"\n");
    }
}
