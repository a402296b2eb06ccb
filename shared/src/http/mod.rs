//! What every handler shares: the request wrapper (request id, logging,
//! error mapping), body parsing with the contract's errors, path
//! parameters, the response shape, and parent sessions.

pub mod staff;
pub mod views;

use std::future::Future;
use std::time::Instant;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::app::App;
use crate::domain::error::{Error, FieldError};
use crate::domain::language::Lang;
use crate::domain::tenant::Tenant;
use crate::domain::values::TenantSlug;
use crate::ops::sessions::{self, Gate, SessionClaims};

/// Request bodies are at most 64 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub type HttpResponse = Response<Body>;

/// The route key API Gateway matched, e.g. `POST /v1/{tenant}/sessions`:
/// the method and the REST API's resource path (the dev server sets the
/// same), or `None` outside API Gateway.
pub fn route_key(req: &Request) -> Option<String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx
            .resource_path
            .as_ref()
            .map(|path| format!("{} {path}", ctx.http_method)),
        _ => None,
    }
}

fn request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .or_else(|| {
        req.lambda_context_ref()
            .map(|c| c.request_id.clone())
            .filter(|id| !id.is_empty())
    })
    .unwrap_or_else(|| "-".into())
}

/// Run one request through `handler`: a span with the request id, the
/// error mapped to the contract's body, `X-Request-Id` on every response,
/// one log line with route, status and duration (never personal data).
pub async fn serve<F, Fut>(app: &App, req: Request, handler: F) -> HttpResponse
where
    F: FnOnce(App, Request) -> Fut,
    Fut: Future<Output = Result<HttpResponse, Error>>,
{
    let started = Instant::now();
    let id = request_id(&req);
    let route = route_key(&req).unwrap_or_else(|| "-".into());
    let lang = language(&req);
    let span = tracing::info_span!("request", request_id = %id, route = %route);
    async move {
        let mut response = match handler(app.clone(), req).await {
            Ok(r) => r,
            Err(err) => {
                if let Error::Internal(detail) = &err {
                    tracing::error!(detail = %detail, "internal error");
                }
                error_response_in(&err, lang)
            }
        };
        if let Ok(v) = HeaderValue::from_str(&id) {
            response.headers_mut().insert("x-request-id", v);
        }
        tracing::info!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "handled"
        );
        response
    }
    .instrument(span)
    .await
}

/// A JSON response.
pub fn json<T: Serialize>(status: u16, value: &T) -> HttpResponse {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The language a request asks for with `Accept-Language`.
pub fn language(req: &Request) -> Lang {
    Lang::from_accept_language(header_value(req, "accept-language"))
}

/// The contract's error response, in Italian.
pub fn error_response(err: &Error) -> HttpResponse {
    error_response_in(err, Lang::It)
}

/// The contract's error response with its messages in `lang`, with
/// `Retry-After` where it applies.
pub fn error_response_in(err: &Error, lang: Lang) -> HttpResponse {
    let mut response = json(err.status(), &err.to_body_in(lang));
    if let Some(secs) = err.retry_after()
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// The body as bytes, whatever way API Gateway handed it over.
fn raw_body(req: &Request) -> &[u8] {
    match req.body() {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// The body as bytes, checked against the size limit.
fn body_bytes(req: &Request) -> Result<&[u8], Error> {
    let bytes = raw_body(req);
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Error::PayloadTooLarge);
    }
    Ok(bytes)
}

/// The media type of the body, lower case, without parameters.
fn media_type(req: &Request) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A CSV upload's bytes: `text/csv` (or `application/csv`), at most
/// `max` bytes. Its lines are checked by the caller.
pub fn csv_body(req: &Request, max: usize) -> Result<&[u8], Error> {
    let media = media_type(req);
    if media != "text/csv" && media != "application/csv" {
        return Err(Error::CsvRequired);
    }
    let bytes = raw_body(req);
    if bytes.len() > max {
        return Err(Error::FileTooLarge);
    }
    Ok(bytes)
}

/// Parse a JSON body into `T` (which denies unknown fields): size limit,
/// content type, syntax, unknown fields and wrong types each get the
/// contract's error, with the dotted path of the offending field.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    let bytes = body_bytes(req)?;
    let media = media_type(req);
    if media != "application/json" && !media.ends_with("+json") {
        return Err(Error::UnsupportedMediaType);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        classify_json_error(&path, &inner)
    })?;
    de.end().map_err(|_| Error::InvalidJson)?;
    Ok(value)
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." {
        field.to_owned()
    } else if path == field || path.ends_with(&format!(".{field}")) {
        // serde_path_to_error already ends the path with an unknown field.
        path.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message.get(start..)?.find('`')?;
    message.get(start..start + len)
}

fn classify_json_error(path: &str, err: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => Error::InvalidJson,
        Category::Data => {
            let message = err.to_string();
            if message.starts_with("unknown field") {
                let name = backticked(&message).unwrap_or("?");
                let field = join(path, name);
                Error::UnknownField(FieldError::new(
                    field.clone(),
                    "unknown_field",
                    format!("Il campo «{field}» non è previsto."),
                ))
            } else if message.starts_with("missing field") {
                let name = backticked(&message).unwrap_or("?");
                Error::InvalidFields(vec![FieldError::new(
                    join(path, name),
                    "required",
                    "Campo obbligatorio.",
                )])
            } else {
                let field = if path.is_empty() || path == "." {
                    "body".to_owned()
                } else {
                    path.to_owned()
                };
                Error::InvalidFields(vec![FieldError::new(
                    field,
                    "invalid",
                    "Valore non valido per questo campo.",
                )])
            }
        }
    }
}

/// The `{tenant}` path parameter. A malformed slug cannot name a tenant.
pub fn tenant_slug(req: &Request) -> Result<TenantSlug, Error> {
    req.path_parameters_ref()
        .and_then(|p| p.first("tenant"))
        .and_then(|raw| TenantSlug::parse(raw).ok())
        .ok_or(Error::TenantNotFound)
}

/// The tenant of the request, or `404 tenant_not_found`.
pub async fn load_tenant(app: &App, req: &Request) -> Result<Tenant, Error> {
    crate::ops::tenants::tenant(app, &tenant_slug(req)?).await
}

/// The header in which the edge hands over the viewer's address: CloudFront
/// sets it on every API request, replacing whatever the viewer sent (the
/// `ApiViewerAddress` function of `infra/template.yaml`), and the API's
/// web ACL lets through only requests carrying the edge's origin secret,
/// so the value is the edge's word. The dev server sets it the same way.
pub const VIEWER_ADDRESS_HEADER: &str = "x-viewer-address";

/// The client's address (the viewer's, from the edge), as the keyed hash
/// that stands for it in the guessing bounds; without the header, the
/// source address API Gateway saw.
pub fn client(app: &App, req: &Request) -> String {
    let viewer = req
        .headers()
        .get(VIEWER_ADDRESS_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let address = viewer.or_else(|| match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
        _ => None,
    });
    crate::ops::clients::key(app, address.as_deref().unwrap_or("unknown"))
}

/// The `Authorization: Bearer …` token, if any.
pub fn bearer_token(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
}

/// The parent session of the request, through the password-change gate
/// (`401`, `403 password_change_required`; see `ops::sessions`).
pub async fn parent_session(
    app: &App,
    req: &Request,
    tenant: &Tenant,
    gate: Gate,
) -> Result<SessionClaims, Error> {
    sessions::authenticate(app, tenant, bearer_token(req), gate).await
}

/// A path parameter other than the tenant (`404` when absent or empty).
pub fn path_param(req: &Request, name: &str) -> Result<String, Error> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .filter(|v| !v.is_empty() && v.len() <= 100)
        .map(str::to_owned)
        .ok_or(Error::NotFound)
}

/// A header's value as text.
pub fn header_value<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The `If-Match` precondition: `"3"`, `W/"3"` or `3`; `*` (or an
/// empty header) matches anything; anything else is a version nobody has.
pub fn if_match(req: &Request) -> Result<Option<u64>, Error> {
    let Some(raw) = header_value(req, "if-match").map(str::trim) else {
        return Ok(None);
    };
    if raw == "*" || raw.is_empty() {
        return Ok(None);
    }
    raw.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<u64>()
        .map(Some)
        .map_err(|_| Error::VersionConflict)
}

/// A JSON response with `ETag: "<version>"`.
pub fn json_with_etag<T: Serialize>(status: u16, value: &T, version: u64) -> HttpResponse {
    let mut response = json(status, value);
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// Start a Lambda function: logging, the app built once, then the runtime.
pub async fn run_lambda<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(App, Request) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = HttpResponse> + Send,
{
    crate::logging::init();
    let app = App::from_env().await.map_err(|e| {
        tracing::error!(error = %e, "configuration error");
        lambda_http::Error::from(e)
    })?;
    lambda_http::run(lambda_http::service_fn(move |req: Request| {
        let app = app.clone();
        async move { Ok::<_, std::convert::Infallible>(handler(app, req).await) }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        phone: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        email: String,
        guardian: Option<Inner>,
    }

    fn req(body: &str, content_type: Option<&str>) -> Request {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/x");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder
            .body(Body::Text(body.to_owned()))
            .unwrap_or_default()
    }

    fn code(r: Result<Outer, Error>) -> &'static str {
        r.map(|_| "ok").unwrap_or_else(|e| e.code())
    }

    #[test]
    fn body_errors_follow_the_contract() {
        let j = Some("application/json");
        assert_eq!(code(parse_json(&req(r#"{"email":"a"}"#, j))), "ok");
        assert_eq!(
            code(parse_json(&req(
                r#"{"email":"a"}"#,
                Some("application/json; charset=utf-8")
            ))),
            "ok"
        );
        assert_eq!(code(parse_json(&req(r#"{"email":"a""#, j))), "invalid_json");
        assert_eq!(code(parse_json(&req("", j))), "invalid_json");
        assert_eq!(
            code(parse_json(&req(r#"{"email":"a"} x"#, j))),
            "invalid_json"
        );
        assert_eq!(
            code(parse_json(&req(r#"{"email":"a"}"#, None))),
            "unsupported_media_type"
        );
        assert_eq!(
            code(parse_json(&req(r#"{"email":"a"}"#, Some("text/plain")))),
            "unsupported_media_type"
        );
        let big = format!(r#"{{"email":"{}"}}"#, "a".repeat(MAX_BODY_BYTES));
        assert_eq!(code(parse_json(&req(&big, j))), "payload_too_large");
    }

    #[test]
    fn unknown_fields_name_their_path() {
        let err = parse_json::<Outer>(&req(
            r#"{"email":"a","guardian":{"phone":"1","fax":"2"}}"#,
            Some("application/json"),
        ))
        .expect_err("unknown field");
        assert_eq!(err.code(), "unknown_field");
        assert_eq!(err.status(), 400);
        assert_eq!(err.to_body()["error"]["fields"][0]["field"], "guardian.fax");
    }

    #[test]
    fn type_errors_and_missing_fields_are_field_errors() {
        let err = parse_json::<Outer>(&req(r#"{"email":5}"#, Some("application/json")))
            .expect_err("wrong type");
        assert_eq!(err.code(), "invalid_fields");
        assert_eq!(err.to_body()["error"]["fields"][0]["field"], "email");
        let err =
            parse_json::<Outer>(&req(r#"{}"#, Some("application/json"))).expect_err("missing");
        assert_eq!(err.to_body()["error"]["fields"][0]["field"], "email");
        assert_eq!(err.to_body()["error"]["fields"][0]["code"], "required");
        let err = parse_json::<Outer>(&req(r#"[1]"#, Some("application/json")))
            .expect_err("not an object");
        assert_eq!(err.code(), "invalid_fields");
    }

    #[test]
    fn bearer_tokens() {
        let r = lambda_http::http::Request::builder()
            .header("authorization", "Bearer abc.def")
            .body(Body::Empty)
            .unwrap_or_default();
        assert_eq!(bearer_token(&r), Some("abc.def"));
        let r = lambda_http::http::Request::builder()
            .header("authorization", "Basic abc")
            .body(Body::Empty)
            .unwrap_or_default();
        assert_eq!(bearer_token(&r), None);
    }
}
