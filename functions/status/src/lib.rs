//! The `status` function: what parents read (windows, their applications
//! and documents, the pupils they may renew) and the OpenAPI document.

use lambda_http::Request;
use serde::Serialize;

use shared::app::App;
use shared::domain::error::Error;
use shared::domain::tenant::Tenant;
use shared::http::views;
use shared::http::{self, HttpResponse, json, json_with_etag, load_tenant};
use shared::ops::sessions::Gate;
use shared::ops::windows::{self, WindowView};
use shared::ops::{applications, documents as docs, places, renewals};

pub const BINARY: &str = "status";
pub const WINDOWS: &str = "GET /v1/{tenant}/windows";
pub const SERVICES: &str = "GET /v1/{tenant}/services";
pub const LIST: &str = "GET /v1/{tenant}/applications";
pub const READ: &str = "GET /v1/{tenant}/applications/{id}";
pub const DOCUMENTS: &str = "GET /v1/{tenant}/applications/{id}/documents";
pub const RENEWALS: &str = "GET /v1/{tenant}/renewals";
pub const OPENAPI: &str = "GET /v1/openapi.json";
pub const ROUTES: &[&str] = &[WINDOWS, SERVICES, LIST, READ, DOCUMENTS, RENEWALS, OPENAPI];

/// The contract, machine-readable: `docs/openapi.json`, built in.
pub const OPENAPI_DOCUMENT: &str = include_str!("../../../docs/openapi.json");

pub async fn handle(app: App, req: Request) -> HttpResponse {
    http::serve(&app, req, route).await
}

async fn route(app: App, req: Request) -> Result<HttpResponse, Error> {
    match http::route_key(&req).as_deref() {
        Some(WINDOWS) => list_windows(app, req).await,
        Some(SERVICES) => list_services(app, req).await,
        Some(LIST) => list_applications(app, req).await,
        Some(READ) => read_application(app, req).await,
        Some(DOCUMENTS) => documents(app, req).await,
        Some(RENEWALS) => renewable(app, req).await,
        Some(OPENAPI) => Ok(openapi()),
        _ => Err(Error::RouteNotFound),
    }
}

#[derive(Serialize)]
struct TenantView<'a> {
    slug: &'a str,
    name: &'a str,
    contact_email: &'a str,
    phone: &'a str,
    /// Submit needs the guardian's mobile number proved by SMS.
    require_verified_phone: bool,
}

#[derive(Serialize)]
struct WindowsResponse<'a> {
    tenant: TenantView<'a>,
    windows: Vec<WindowView>,
}

fn tenant_view(t: &Tenant) -> TenantView<'_> {
    TenantView {
        slug: t.slug.as_str(),
        name: &t.name,
        contact_email: t.contact_email.as_str(),
        phone: &t.phone,
        require_verified_phone: t.require_verified_phone,
    }
}

async fn list_windows(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let windows = windows::list(&app, &tenant).await?;
    Ok(json(
        200,
        &WindowsResponse {
            tenant: tenant_view(&tenant),
            windows,
        },
    ))
}

/// What each service's form offers: public, no personal data, cacheable.
async fn list_services(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let mut response = json(
        200,
        &serde_json::json!({ "services": tenant.service_views(), "schools": tenant.school_names() }),
    );
    response.headers_mut().insert(
        lambda_http::http::header::CACHE_CONTROL,
        lambda_http::http::HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

async fn list_applications(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
    let mut items = Vec::new();
    for a in applications::list(&app, &tenant, &session).await? {
        let missing = applications::missing(&app, &tenant, &a).await?;
        let rank = places::rank_of(&app, &tenant, &a).await?;
        items.push(views::with_rank(views::application(&a, &missing), rank));
    }
    Ok(json(200, &serde_json::json!({ "applications": items })))
}

async fn read_application(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
    let id = http::path_param(&req, "id")?;
    let (a, missing) = applications::read_with_missing(&app, &tenant, &session, &id).await?;
    Ok(json_with_etag(
        200,
        &views::with_rank(
            views::application(&a, &missing),
            places::rank_of(&app, &tenant, &a).await?,
        ),
        a.version,
    ))
}

async fn documents(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
    let id = http::path_param(&req, "id")?;
    let links = docs::links(&app, &tenant, &session, &id).await?;
    Ok(json(200, &serde_json::json!({ "documents": links })))
}

async fn renewable(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
    let renewable = renewals::list(&app, &tenant, &session).await?;
    Ok(json(200, &serde_json::json!({ "renewable": renewable })))
}

fn openapi() -> HttpResponse {
    let mut response = lambda_http::Response::new(lambda_http::Body::Text(OPENAPI_DOCUMENT.into()));
    response.headers_mut().insert(
        lambda_http::http::header::CONTENT_TYPE,
        lambda_http::http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response.headers_mut().insert(
        lambda_http::http::header::CACHE_CONTROL,
        lambda_http::http::HeaderValue::from_static("public, max-age=300"),
    );
    response
}
