//! The `save-draft` function: `POST applications` ("Salva bozza"),
//! `PUT applications/{id}` ("Modifica iscrizione"), attachments, and
//! `POST renewals` ("Rinnova iscrizione"), which creates a renewal draft.

use lambda_http::Request;

use shared::app::App;
use shared::domain::application::ApplicationBody;
use shared::domain::error::Error;
use shared::http::json;
use shared::http::views;
use shared::http::{self, HttpResponse, json_with_etag, load_tenant, parse_json};
use shared::ops::sessions::Gate;
use shared::ops::{applications, attachments, renewals};

pub const BINARY: &str = "save-draft";
pub const CREATE: &str = "POST /v1/{tenant}/applications";
pub const UPDATE: &str = "PUT /v1/{tenant}/applications/{id}";
pub const ATTACH: &str = "POST /v1/{tenant}/applications/{id}/attachments";
pub const RENEW: &str = "POST /v1/{tenant}/renewals";
pub const ROUTES: &[&str] = &[CREATE, UPDATE, ATTACH, RENEW];

pub async fn handle(app: App, req: Request) -> HttpResponse {
    http::serve(&app, req, route).await
}

async fn route(app: App, req: Request) -> Result<HttpResponse, Error> {
    match http::route_key(&req).as_deref() {
        Some(CREATE) => create(app, req).await,
        Some(UPDATE) => update(app, req).await,
        Some(ATTACH) => attach(app, req).await,
        Some(RENEW) => renew(app, req).await,
        _ => Err(Error::RouteNotFound),
    }
}

async fn create(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
    let body: ApplicationBody = parse_json(&req)?;
    let saved = applications::create_draft(&app, &tenant, &session, body).await?;
    Ok(json_with_etag(
        201,
        &views::application(&saved.application, &saved.missing),
        saved.application.version,
    ))
}

async fn update(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
    let id = http::path_param(&req, "id")?;
    let body: ApplicationBody = parse_json(&req)?;
    let if_match = http::if_match(&req)?;
    let saved = applications::update(&app, &tenant, &session, &id, body, if_match).await?;
    Ok(json_with_etag(
        200,
        &views::application(&saved.application, &saved.missing),
        saved.application.version,
    ))
}

async fn attach(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
    let id = http::path_param(&req, "id")?;
    let body: attachments::UploadRequest = parse_json(&req)?;
    let link = attachments::create(&app, &tenant, &session, &id, body).await?;
    Ok(json(201, &link))
}

async fn renew(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
    let body: renewals::RenewalRequest = parse_json(&req)?;
    let created = renewals::create(&app, &tenant, &session, body).await?;
    let missing = applications::missing(&app, &tenant, &created).await?;
    Ok(json_with_etag(
        201,
        &views::application(&created, &missing),
        created.version,
    ))
}
