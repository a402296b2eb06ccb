//! The `confirm` function: every `/staff/` route. Staff tokens are checked
//! here (role, tenant) even though API Gateway's JWT authorizer checked
//! them first.

use lambda_http::http::{HeaderValue, header};
use lambda_http::{Body, Request, RequestExt};

use shared::app::App;
use shared::domain::application::Application;
use shared::domain::error::Error;
use shared::domain::tenant::Tenant;
use shared::http::staff::{StaffClaims, staff_session};
use shared::http::views;
use shared::http::{self, HttpResponse, json, json_with_etag, load_tenant, parse_json};
use shared::ops::staff;
use shared::ops::windows::WindowView;
use shared::ops::{applications, attachments, change_requests, places, renewals, withdrawal};

pub const BINARY: &str = "confirm";
pub const LIST: &str = "GET /v1/{tenant}/staff/applications";
pub const READ: &str = "GET /v1/{tenant}/staff/applications/{id}";
pub const CONFIRM: &str = "POST /v1/{tenant}/staff/applications/{id}/confirm";
pub const REJECT: &str = "POST /v1/{tenant}/staff/applications/{id}/reject";
pub const WITHDRAW: &str = "POST /v1/{tenant}/staff/applications/{id}/withdraw";
pub const WAITLIST: &str = "POST /v1/{tenant}/staff/applications/{id}/waitlist";
pub const CRITERIA: &str = "POST /v1/{tenant}/staff/applications/{id}/criteria";
pub const RANKING: &str = "GET /v1/{tenant}/staff/windows/{id}/ranking.csv";
pub const CREATE_WINDOW: &str = "POST /v1/{tenant}/staff/windows";
pub const PATCH_WINDOW: &str = "PATCH /v1/{tenant}/staff/windows/{id}";
pub const ROSTER: &str = "GET /v1/{tenant}/staff/windows/{id}/roster.csv";
pub const IMPORT_ROSTER: &str = "POST /v1/{tenant}/staff/roster-imports";
pub const ATTACHMENTS: &str = "GET /v1/{tenant}/staff/applications/{id}/attachments";
pub const REQUEST_CHANGES: &str = "POST /v1/{tenant}/staff/applications/{id}/request-changes";
pub const CONFIRM_MANY: &str = "POST /v1/{tenant}/staff/applications/confirm";
pub const STATS: &str = "GET /v1/{tenant}/staff/windows/{id}/stats";
pub const DIETS: &str = "GET /v1/{tenant}/staff/windows/{id}/diets.csv";
pub const ROUTES: &[&str] = &[
    LIST,
    READ,
    CONFIRM,
    REJECT,
    WITHDRAW,
    WAITLIST,
    CRITERIA,
    RANKING,
    CREATE_WINDOW,
    PATCH_WINDOW,
    ROSTER,
    IMPORT_ROSTER,
    ATTACHMENTS,
    REQUEST_CHANGES,
    CONFIRM_MANY,
    STATS,
    DIETS,
];

pub async fn handle(app: App, req: Request) -> HttpResponse {
    http::serve(&app, req, route).await
}

async fn route(app: App, req: Request) -> Result<HttpResponse, Error> {
    let route = http::route_key(&req).ok_or(Error::RouteNotFound)?;
    if !ROUTES.contains(&route.as_str()) {
        return Err(Error::RouteNotFound);
    }
    let tenant = load_tenant(&app, &req).await?;
    let who = staff_session(&app, &req, &tenant).await?;
    match route.as_str() {
        LIST => list(&app, &req, &tenant).await,
        READ => read(&app, &req, &tenant).await,
        CONFIRM => decide(&app, &req, &tenant, &who, true).await,
        REJECT => decide(&app, &req, &tenant, &who, false).await,
        WITHDRAW => withdraw(&app, &req, &tenant, &who).await,
        WAITLIST => waitlist(&app, &req, &tenant, &who).await,
        CRITERIA => criteria(&app, &req, &tenant, &who).await,
        RANKING => ranking(&app, &req, &tenant).await,
        CREATE_WINDOW => create_window(&app, &req, &tenant).await,
        PATCH_WINDOW => patch_window(&app, &req, &tenant).await,
        IMPORT_ROSTER => import_roster(&app, &req, &tenant).await,
        ATTACHMENTS => attachments(&app, &req, &tenant, &who).await,
        REQUEST_CHANGES => request_changes(&app, &req, &tenant, &who).await,
        CONFIRM_MANY => confirm_many(&app, &req, &tenant, &who).await,
        STATS => stats(&app, &req, &tenant).await,
        DIETS => diets(&app, &req, &tenant).await,
        _ => roster(&app, &req, &tenant).await,
    }
}

/// The staff view: the parent's view plus the history, `contested` and
/// what the family proved.
async fn staff_view(
    app: &App,
    tenant: &Tenant,
    a: &Application,
) -> Result<serde_json::Value, Error> {
    let missing = applications::missing(app, tenant, a).await?;
    Ok(views::staff_application(a, &missing))
}

/// One application as its page shows it: the staff view with the openings
/// of its medical certificate in the history (a query the list's items do
/// without).
async fn staff_detail(
    app: &App,
    tenant: &Tenant,
    a: &Application,
) -> Result<serde_json::Value, Error> {
    let accesses = app.store.accesses(&tenant.slug, &a.id).await?;
    Ok(views::with_accesses(
        staff_view(app, tenant, a).await?,
        &accesses,
    ))
}

fn query<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
}

async fn list(app: &App, req: &Request, tenant: &Tenant) -> Result<HttpResponse, Error> {
    if let Some(q) = query(req, "q").filter(|q| !q.trim().is_empty()) {
        let mut views = Vec::new();
        for a in &staff::search(app, tenant, q).await? {
            views.push(staff_view(app, tenant, a).await?);
        }
        return Ok(json(
            200,
            &serde_json::json!({ "items": views, "next_cursor": null }),
        ));
    }
    let (items, next) = staff::list(
        app,
        tenant,
        query(req, "window_id"),
        query(req, "status"),
        query(req, "cursor"),
        query(req, "limit"),
    )
    .await?;
    let mut views = Vec::with_capacity(items.len());
    for a in &items {
        views.push(staff_view(app, tenant, a).await?);
    }
    Ok(json(
        200,
        &serde_json::json!({ "items": views, "next_cursor": next }),
    ))
}

/// One application, with its place in the window's order (the list's
/// items leave it out: each would cost a count of the order).
async fn read(app: &App, req: &Request, tenant: &Tenant) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let a = staff::read(app.store.as_ref(), tenant, &id).await?;
    let rank = places::rank_of(app, tenant, &a).await?;
    let view = staff_detail(app, tenant, &a).await?;
    Ok(json_with_etag(
        200,
        &views::with_rank(view, rank),
        a.version,
    ))
}

/// The family's uploads through short-lived links; a medical
/// certificate's opening is recorded in the history.
async fn attachments(
    app: &App,
    req: &Request,
    tenant: &Tenant,
    who: &StaffClaims,
) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let links = attachments::for_staff(app, tenant, &who.sub, &id).await?;
    Ok(json(200, &serde_json::json!({ "attachments": links })))
}

async fn request_changes(
    app: &App,
    req: &Request,
    tenant: &Tenant,
    who: &StaffClaims,
) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let body: change_requests::NewRequest = parse_json(req)?;
    let if_match = http::if_match(req)?;
    let a = change_requests::request(app, tenant, &id, &who.sub, body, if_match).await?;
    Ok(json_with_etag(
        200,
        &staff_detail(app, tenant, &a).await?,
        a.version,
    ))
}

async fn confirm_many(
    app: &App,
    req: &Request,
    tenant: &Tenant,
    who: &StaffClaims,
) -> Result<HttpResponse, Error> {
    let body: staff::BulkConfirm = parse_json(req)?;
    let results = staff::confirm_many(app, tenant, &who.sub, body).await?;
    Ok(json(200, &serde_json::json!({ "results": results })))
}

async fn stats(app: &App, req: &Request, tenant: &Tenant) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let (counts, capacity) = staff::stats(app, tenant, &id).await?;
    Ok(json(200, &views::stats(&counts, capacity)))
}

async fn diets(app: &App, req: &Request, tenant: &Tenant) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let csv = staff::diets_csv(app, tenant, &id).await?;
    Ok(csv_response(csv, "diete.csv"))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Reject {
    #[serde(default)]
    reason: Option<String>,
}

async fn decide(
    app: &App,
    req: &Request,
    tenant: &Tenant,
    who: &StaffClaims,
    confirm: bool,
) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let reason = if confirm {
        None
    } else {
        parse_json::<Reject>(req)?.reason
    };
    let if_match = http::if_match(req)?;
    let a = staff::decide(app, tenant, &id, &who.sub, confirm, reason, if_match).await?;
    Ok(json_with_etag(
        200,
        &staff_detail(app, tenant, &a).await?,
        a.version,
    ))
}

async fn waitlist(
    app: &App,
    req: &Request,
    tenant: &Tenant,
    who: &StaffClaims,
) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let if_match = http::if_match(req)?;
    let a = staff::waitlist(app, tenant, &id, &who.sub, if_match).await?;
    Ok(json_with_etag(
        200,
        &staff_detail(app, tenant, &a).await?,
        a.version,
    ))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Criteria {
    criteria: Vec<String>,
}

async fn criteria(
    app: &App,
    req: &Request,
    tenant: &Tenant,
    who: &StaffClaims,
) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let body: Criteria = parse_json(req)?;
    let a = staff::correct_criteria(app, tenant, &id, &who.sub, body.criteria).await?;
    let rank = places::rank_of(app, tenant, &a).await?;
    Ok(json_with_etag(
        200,
        &views::with_rank(staff_detail(app, tenant, &a).await?, rank),
        a.version,
    ))
}

async fn ranking(app: &App, req: &Request, tenant: &Tenant) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let csv = staff::ranking_csv(app, tenant, &id).await?;
    Ok(csv_response(csv, "graduatoria.csv"))
}

/// A withdrawal the family asked for by phone, recorded with its reason.
async fn withdraw(
    app: &App,
    req: &Request,
    tenant: &Tenant,
    who: &StaffClaims,
) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let reason = withdrawal::office_reason(parse_json::<Reject>(req)?.reason.as_deref())?;
    let actor = withdrawal::Actor::Office {
        staff: &who.sub,
        reason: &reason,
    };
    let a = withdrawal::withdraw(app, tenant, actor, &id).await?;
    Ok(json_with_etag(
        200,
        &staff_detail(app, tenant, &a).await?,
        a.version,
    ))
}

async fn create_window(app: &App, req: &Request, tenant: &Tenant) -> Result<HttpResponse, Error> {
    let body: staff::NewWindow = parse_json(req)?;
    let w = staff::create_window(app, tenant, body).await?;
    Ok(json(201, &WindowView::new(tenant, &w, app.clock.now())))
}

async fn patch_window(app: &App, req: &Request, tenant: &Tenant) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let body: staff::WindowPatch = parse_json(req)?;
    let w = staff::patch_window(app, tenant, &id, body).await?;
    Ok(json(200, &WindowView::new(tenant, &w, app.clock.now())))
}

async fn roster(app: &App, req: &Request, tenant: &Tenant) -> Result<HttpResponse, Error> {
    let id = http::path_param(req, "id")?;
    let csv = staff::roster_csv(app, tenant, &id).await?;
    Ok(csv_response(csv, "elenco-iscritti.csv"))
}

/// A CSV download, never cached.
fn csv_response(csv: String, filename: &'static str) -> HttpResponse {
    let mut response = lambda_http::Response::new(Body::Text(csv));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn import_roster(app: &App, req: &Request, tenant: &Tenant) -> Result<HttpResponse, Error> {
    let bytes = http::csv_body(req, renewals::MAX_IMPORT_BYTES)?;
    let report = renewals::import(app, tenant, bytes).await?;
    Ok(json(200, &report))
}
