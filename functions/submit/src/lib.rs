//! The `submit` function: `POST applications/{id}/submit` ("Invia
//! iscrizione") and `POST applications/{id}/withdraw` ("Rinuncia").

use lambda_http::Request;

use shared::app::App;
use shared::domain::error::Error;
use shared::http::views;
use shared::http::{self, HttpResponse, json_with_etag, load_tenant};
use shared::ops::sessions::Gate;
use shared::ops::{applications, places, submission, withdrawal};

pub const BINARY: &str = "submit";
pub const SUBMIT: &str = "POST /v1/{tenant}/applications/{id}/submit";
pub const WITHDRAW: &str = "POST /v1/{tenant}/applications/{id}/withdraw";
pub const ROUTES: &[&str] = &[SUBMIT, WITHDRAW];

pub async fn handle(app: App, req: Request) -> HttpResponse {
    http::serve(&app, req, route).await
}

async fn route(app: App, req: Request) -> Result<HttpResponse, Error> {
    match http::route_key(&req).as_deref() {
        Some(SUBMIT) => submit(app, req).await,
        Some(WITHDRAW) => withdraw(app, req).await,
        _ => Err(Error::RouteNotFound),
    }
}

async fn submit(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
    let id = http::path_param(&req, "id")?;
    let if_match = http::if_match(&req)?;
    let submission::Submitted {
        application: submitted,
        window,
    } = submission::submit(&app, &tenant, &session, &id, if_match).await?;
    let rank = match &window {
        Some(w) => places::rank(&app, &tenant, w, &submitted).await?,
        None => places::rank_of(&app, &tenant, &submitted).await?,
    };
    // Nothing is missing: the submission just proved the application
    // complete (and a submitted one stays complete through any update), so
    // the window and attachments are not read again to say so.
    Ok(json_with_etag(
        200,
        &views::with_rank(views::application(&submitted, &[]), rank),
        submitted.version,
    ))
}

async fn withdraw(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
    let id = http::path_param(&req, "id")?;
    let actor = withdrawal::Actor::Family(&session);
    let withdrawn = withdrawal::withdraw(&app, &tenant, actor, &id).await?;
    let missing = applications::missing(&app, &tenant, &withdrawn).await?;
    Ok(json_with_etag(
        200,
        &views::application(&withdrawn, &missing),
        withdrawn.version,
    ))
}
