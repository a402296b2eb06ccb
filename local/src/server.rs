//! The dev server: HTTP/1.1 on loopback, routing each request by the
//! template's routes to the linked handler, with the request shaped as API
//! Gateway (HTTP API, payload 2.0, `$default` stage) hands it to Lambda.
//! Also serves the `/_local/` endpoints of the contract.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::app::App;
use shared::domain::error::Error;
use shared::domain::values::TenantSlug;
use shared::http::{HttpResponse, error_response, json};

use crate::oidc;
use crate::registry::{Match, Router, query_map};
use crate::{emulator, web};

type HyperResponse = hyper::Response<Full<Bytes>>;

/// A Lambda request is at most 6 MB; the handlers enforce the contract's
/// 64 KiB (JSON) and 5 MiB (roster CSV). This bounds what is buffered.
const MAX_BUFFERED_BODY: usize = 6 * 1024 * 1024;

pub use crate::idp::{
    LocalIdp, OIDC_CLIENT_ID, STAFF_CLIENT_ID, STAFF_IDP_PATH, StaffIdp, oidc_provider,
};

pub struct State {
    pub(crate) app: App,
    router: Router,
    emulator_url: String,
    staff: LocalIdp,
    pub(crate) oidc: LocalIdp,
    /// This server's origin, e.g. `http://127.0.0.1:3000`.
    pub(crate) base: String,
    /// The SPID/CIE stand-in's authorization codes not yet exchanged.
    pub(crate) codes: oidc::Codes,
    /// When this server first saw each SMS in the emulator (which keeps no
    /// time for them): the `sent_at` of `GET /_local/sms-outbox`.
    sms_seen: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// The App IO stand-in, where the stack sends to it.
    app_io: Option<crate::app_io::StandIn>,
}

impl State {
    pub fn new(
        app: App,
        router: Router,
        emulator_url: String,
        staff: LocalIdp,
        oidc: LocalIdp,
        base: String,
    ) -> Self {
        Self {
            app,
            router,
            emulator_url,
            staff,
            oidc,
            base,
            codes: oidc::Codes::default(),
            sms_seen: Default::default(),
            app_io: None,
        }
    }

    /// With the App IO stand-in at `/_local/app-io`.
    pub fn with_app_io(mut self, stand_in: crate::app_io::StandIn) -> Self {
        self.app_io = Some(stand_in);
        self
    }

    /// Stamp each SMS with the time this server first saw it.
    fn stamp(&self, messages: &mut [emulator::SmsMessage]) {
        let now = shared::http::views::rfc3339(self.app.clock.now());
        let mut seen = self
            .sms_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for m in messages {
            m.sent_at = Some(
                seen.entry(m.id.clone())
                    .or_insert_with(|| now.clone())
                    .clone(),
            );
        }
    }

    /// The SPID/CIE stand-in's view of this server, now.
    fn stand_in(&self) -> oidc::StandIn<'_> {
        oidc::StandIn {
            idp: &self.oidc,
            base: &self.base,
            codes: &self.codes,
            now: self.app.clock.now().unix_timestamp(),
        }
    }
}

/// A clear message for a port that cannot be bound.
pub fn bind_error(addr: SocketAddr, err: &std::io::Error) -> String {
    if err.kind() == std::io::ErrorKind::AddrInUse {
        format!(
            "port {} is already in use: is `make dev` already running in another terminal? \
Stop it, or choose another port with PORT=…",
            addr.port()
        )
    } else {
        format!("cannot listen on {addr}: {err}")
    }
}

/// Accept connections until `shutdown` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(&state, req, peer.ip()).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
}

fn new_request_id() -> String {
    shared::ops::random_id("req").unwrap_or_else(|_| "req-local".into())
}

fn to_hyper(response: HttpResponse) -> HyperResponse {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

fn local_error(err: &Error, request_id: &str) -> HyperResponse {
    let mut response = error_response(err);
    if let Ok(v) = request_id.parse() {
        response.headers_mut().insert("x-request-id", v);
    }
    to_hyper(response)
}

/// The portal's files, and its configuration for this stack.
fn portal(state: &State, path: &str, head: bool) -> HyperResponse {
    if path == "/config.json" {
        return to_hyper(json(200, &web::config(&state.base)));
    }
    let root = crate::workspace_root().join("web/dist");
    if !root.join("portal.html").is_file() {
        return web::not_built();
    }
    let csp = web::content_security_policy(&state.emulator_url);
    web::serve(&root, path, &csp, head)
        .unwrap_or_else(|| local_error(&Error::RouteNotFound, &new_request_id()))
}

/// One request from `peer`, whose address is the request's source address
/// as API Gateway reports it (tests connect from several loopback
/// addresses to be several clients).
async fn handle(
    state: &State,
    req: hyper::Request<Incoming>,
    peer: std::net::IpAddr,
) -> HyperResponse {
    let request_id = new_request_id();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    if let Some(local) = path.strip_prefix("/_local/") {
        let local = local.to_owned();
        return local_endpoint(state, req, &method, &local, &request_id).await;
    }
    if !(path == "/v1" || path.starts_with("/v1/")) && (method == "GET" || method == "HEAD") {
        return portal(state, &path, method == "HEAD");
    }
    let (route_key, params, handler, binary) = match state.router.find(&method, &path) {
        Match::Found(route, params) => {
            (route.route_key.clone(), params, route.handler, route.binary)
        }
        Match::WrongMethod(allowed) => {
            let mut response = local_error(&Error::MethodNotAllowed, &request_id);
            if let Ok(v) = allowed.join(", ").parse() {
                response.headers_mut().insert("allow", v);
            }
            return response;
        }
        Match::None => return local_error(&Error::RouteNotFound, &request_id),
    };
    let (mut parts, body) = req.into_parts();
    let bytes = match Limited::new(body, MAX_BUFFERED_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return local_error(&Error::PayloadTooLarge, &request_id),
    };
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    };
    let query = query_map(parts.uri.query());
    // As the REST API's proxy integration builds it: the resource path
    // matched, the stage, the source address.
    let mut context = ApiGatewayProxyRequestContext::default();
    context.resource_path = route_key.split_once(' ').map(|(_, p)| p.to_owned());
    context.request_id = Some(request_id.clone());
    context.stage = Some("api".into());
    context.http_method = parts.method.clone();
    context.path = Some(format!("/api{path}"));
    context.identity.source_ip = Some(peer.to_string());
    // As the edge does: the viewer's address, whatever the viewer sent.
    if let Ok(v) = peer.to_string().parse() {
        parts.headers.insert(shared::http::VIEWER_ADDRESS_HEADER, v);
    }
    let request = lambda_http::http::Request::from_parts(parts, body)
        .with_path_parameters(params.into_iter().collect::<HashMap<_, _>>())
        .with_query_string_parameters(query)
        .with_request_context(RequestContext::ApiGatewayV1(context));
    // As that function: its AWS calls are recorded under its name.
    to_hyper(
        crate::iam::FUNCTION
            .scope(binary, handler(state.app.clone(), request))
            .await,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffTokenRequest {
    tenant: String,
}

/// `POST /_local/id-token`: what the SPID/CIE stand-in would hand back
/// after a login.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdTokenRequest {
    fiscal_number: String,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
}

/// The claim's value is taken as given (`TINIT-` included).
fn id_token(state: &State, body: IdTokenRequest) -> Result<HttpResponse, Error> {
    let now = state.app.clock.now().unix_timestamp();
    let who = oidc::Identity {
        fiscal_number: body.fiscal_number,
        given_name: body.given_name,
        family_name: body.family_name,
    };
    let token = oidc::sign_id_token(&state.oidc, &state.base, now, &who, None)?;
    Ok(json(200, &json!({ "id_token": token })))
}

async fn read_json<T: for<'de> Deserialize<'de>>(
    req: hyper::Request<Incoming>,
) -> Result<T, Error> {
    let bytes = Limited::new(req.into_body(), 64 * 1024)
        .collect()
        .await
        .map_err(|_| Error::PayloadTooLarge)?
        .to_bytes();
    serde_json::from_slice(&bytes).map_err(|_| Error::InvalidJson)
}

/// An `application/x-www-form-urlencoded` body (at most 64 KiB), as
/// `query_map` reads a query string.
async fn read_form(req: hyper::Request<Incoming>) -> Result<HashMap<String, Vec<String>>, Error> {
    let is_form = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(Error::UnsupportedMediaType);
    }
    let bytes = Limited::new(req.into_body(), 64 * 1024)
        .collect()
        .await
        .map_err(|_| Error::PayloadTooLarge)?
        .to_bytes();
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::UnsupportedMediaType)?;
    Ok(query_map(Some(text)))
}

async fn local_endpoint(
    state: &State,
    req: hyper::Request<Incoming>,
    method: &str,
    path: &str,
    request_id: &str,
) -> HyperResponse {
    let result: Result<HttpResponse, Error> = match (method, path) {
        ("GET", "outbox") => emulator::outbox(&state.emulator_url)
            .await
            .map(|messages| json(200, &json!({ "messages": messages })))
            .map_err(Error::Internal),
        ("GET", "sms-outbox") => sms_outbox(state).await,
        ("POST", "staff-token") => match read_json::<StaffTokenRequest>(req).await {
            Ok(body) => staff_token(state, &body.tenant).await,
            Err(e) => Err(e),
        },
        ("POST", "id-token") => match read_json::<IdTokenRequest>(req).await {
            Ok(body) => id_token(state, body),
            Err(e) => Err(e),
        },
        ("GET", "oidc/jwks.json") => Ok(json(200, &state.oidc.jwks)),
        ("GET", "staff-idp/.well-known/jwks.json") => Ok(json(200, &state.staff.jwks)),
        ("GET", "oidc/authorize") => Ok(oidc::authorize_page(&state.stand_in(), req.uri().query())),
        ("POST", "oidc/authorize") => {
            let form = read_form(req).await;
            Ok(oidc::authorize_submit(&state.stand_in(), form))
        }
        ("POST", "oidc/token") => {
            let form = read_form(req).await;
            Ok(oidc::token(&state.stand_in(), form))
        }
        ("GET", "io-messages") => state
            .app_io
            .as_ref()
            .map(crate::app_io::StandIn::received)
            .ok_or(Error::RouteNotFound),
        ("POST", "app-io/profiles" | "app-io/messages") => match &state.app_io {
            None => Err(Error::RouteNotFound),
            Some(io) => {
                let key = req
                    .headers()
                    .get("ocp-apim-subscription-key")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match read_json::<Value>(req).await {
                    Ok(body) if path == "app-io/profiles" => Ok(io.profiles(key.as_deref(), &body)),
                    Ok(body) => Ok(io.messages(
                        key.as_deref(),
                        &body,
                        &shared::http::views::rfc3339(state.app.clock.now()),
                    )),
                    Err(e) => Err(e),
                }
            }
        },
        ("POST", "run/close-windows") => crate::iam::FUNCTION
            .scope(fn_close_windows::BINARY, fn_close_windows::run(&state.app))
            .await
            .map(|report| json(200, &report)),
        ("POST", "run/school-lists") => crate::iam::FUNCTION
            .scope(
                fn_close_windows::BINARY,
                fn_close_windows::run_school_lists(&state.app),
            )
            .await
            .map(|report| json(200, &report)),
        _ => Err(Error::RouteNotFound),
    };
    let mut response = result.unwrap_or_else(|e| {
        if let Error::Internal(detail) = &e {
            tracing::error!(detail = %detail, endpoint = path, "local endpoint failed");
        }
        error_response(&e)
    });
    if let Ok(v) = request_id.parse() {
        response.headers_mut().insert("x-request-id", v);
    }
    to_hyper(response)
}

/// `GET /_local/sms-outbox`: every SMS the emulated SNS accepted.
async fn sms_outbox(state: &State) -> Result<HttpResponse, Error> {
    let mut messages = emulator::sms_outbox(&state.emulator_url)
        .await
        .map_err(Error::Internal)?;
    state.stamp(&mut messages);
    Ok(json(200, &json!({ "messages": messages })))
}

async fn staff_token(state: &State, tenant: &str) -> Result<HttpResponse, Error> {
    let slug = TenantSlug::parse(tenant).map_err(|_| Error::TenantNotFound)?;
    state
        .app
        .store
        .get_tenant(&slug)
        .await?
        .ok_or(Error::TenantNotFound)?;
    // A member of the comune's group, through the pool's trigger code.
    let token = state
        .staff
        .pool_token(&[slug.to_string()], state.app.clock.now().unix_timestamp())?;
    Ok(json(200, &json!({ "token": token })))
}
