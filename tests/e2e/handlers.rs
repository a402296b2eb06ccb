//! Every function's handler on requests built as API Gateway hands them
//! over (HTTP API, payload 2.0: a route key and path parameters in the
//! request context), without the dev server or the emulator: routing, and
//! the answers given before any store call. The handlers get the production
//! wiring pointed at an address where nothing listens, with no retries: a
//! handler that reached a store would answer 503, so a 404 proves that it
//! did not. Nothing of the store is faked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde_json::Value;
use shared::app::App;
use shared::aws_config::retry::RetryConfig;
use shared::aws_config::timeout::TimeoutConfig;
use shared::aws_config::{BehaviorVersion, Region};
use shared::domain::error::Error;
use shared::http::HttpResponse;

use local::registry::Handler;

use crate::helpers::Reply;

/// The request id API Gateway would have given the request.
const REQUEST_ID: &str = "req-handler-test";

/// The production wiring (DynamoDB, SES, S3 adapters) in front of a port
/// where nothing listens: every AWS call fails at once, without retries.
async fn unreachable_app() -> App {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let sdk = shared::aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(Region::new("eu-south-1"))
        .credentials_provider(shared::aws_credential_types::Credentials::new(
            "test",
            "test",
            None,
            None,
            "handler-tests",
        ))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_timeout(Duration::from_secs(2))
                .build(),
        )
        .load()
        .await;
    let config = shared::config::Config::new(
        "handler-tests",
        "handler-tests",
        "no-reply@iscrizioni.comune.example.it",
        &[7u8; 32],
    )
    .expect("config");
    App::with_aws(
        &shared::aws::Clients::from_sdk_config(&sdk),
        config,
        Arc::new(shared::ports::SystemClock),
    )
}

/// A request for `route_key` (e.g. `GET /v1/{tenant}/windows`) with the
/// path parameters `params`, as API Gateway builds it; `None` for a
/// request without an API Gateway context.
fn request(route_key: Option<&str>, params: &[(&str, &str)]) -> Request {
    let (method, path) = route_key
        .and_then(|k| k.split_once(' '))
        .unwrap_or(("GET", "/"));
    let mut path = path.to_owned();
    for (name, value) in params {
        // The raw path is percent-encoded; the parameters are decoded.
        let encoded: String = value
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        path = path.replace(&format!("{{{name}}}"), &encoded);
    }
    let request = lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("https://api.iscrizioni.example.it{path}"))
        .header("content-type", "application/json")
        .body(Body::Text("{}".into()))
        .expect("request");
    let Some(route_key) = route_key else {
        return request;
    };
    let mut context = ApiGatewayProxyRequestContext::default();
    context.resource_path = Some(
        route_key
            .split_once(' ')
            .map_or(route_key, |(_, p)| p)
            .to_owned(),
    );
    context.request_id = Some(REQUEST_ID.into());
    context.stage = Some("api".into());
    context.http_method = request.method().clone();
    context.path = Some(format!("/api{path}"));
    let params: HashMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    request
        .with_path_parameters(params)
        .with_request_context(RequestContext::ApiGatewayV1(context))
}

/// A handler's response, read like one from the dev server.
fn reply(response: HttpResponse) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = match response.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::String(t.clone())),
        Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// Every route of every function: the function's binary, the route key and
/// the function's handler.
fn routes() -> Vec<(&'static str, &'static str, Handler)> {
    local::registry::http_functions()
        .into_iter()
        .flat_map(|f| f.routes.iter().map(move |r| (f.binary, *r, f.handler)))
        .collect()
}

/// The routes under `/v1/{tenant}/…`.
fn tenant_routes() -> Vec<(&'static str, Handler)> {
    routes()
        .into_iter()
        .filter(|(_, route, _)| route.contains("{tenant}"))
        .map(|(_, route, handler)| (route, handler))
        .collect()
}

/// `handler` on a request for `route_key` with `params`.
async fn call(
    handler: Handler,
    app: &App,
    route_key: Option<&str>,
    params: &[(&str, &str)],
) -> Reply {
    reply(handler(app.clone(), request(route_key, params)).await)
}

/// The contract's error: `status` and `code`, a message for people, JSON,
/// not cached.
fn assert_error(r: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{what}: {:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: {:?}",
        r.body
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8"),
        "{what}"
    );
    assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
}

#[tokio::test]
async fn a_route_key_a_function_does_not_serve_is_404() {
    let app = unreachable_app().await;
    let all = routes();
    let mut checked = 0;
    for function in local::registry::http_functions() {
        // Unknown to every function, another function's routes, and a
        // request without the context of API Gateway v2.
        let mut keys = vec![
            Some("GET /v1/{tenant}/nowhere"),
            Some("POST /v1/{tenant}/windows"),
            None,
        ];
        keys.extend(
            all.iter()
                .filter(|(binary, _, _)| *binary != function.binary)
                .map(|(_, route, _)| Some(*route)),
        );
        for key in keys {
            let what = format!("{} on {key:?}", function.binary);
            let r = call(function.handler, &app, key, &[("tenant", "demo")]).await;
            assert_error(&r, 404, "not_found", &what);
            let id = if key.is_some() { REQUEST_ID } else { "-" };
            assert_eq!(r.header("x-request-id"), Some(id), "{what}");
            checked += 1;
        }
    }
    assert!(checked > all.len(), "{checked}");
}

#[tokio::test]
async fn a_malformed_tenant_slug_is_404_tenant_not_found() {
    let app = unreachable_app().await;
    let long = "a".repeat(41);
    for (route, handler) in tenant_routes() {
        for slug in ["Demo", "x", "de mo", "demo_1", "..", long.as_str()] {
            let r = call(
                handler,
                &app,
                Some(route),
                &[("tenant", slug), ("id", "app-3f9c")],
            )
            .await;
            assert_error(&r, 404, "tenant_not_found", &format!("{route} as {slug:?}"));
            assert_eq!(r.header("x-request-id"), Some(REQUEST_ID));
        }
        let r = call(handler, &app, Some(route), &[]).await;
        assert_error(
            &r,
            404,
            "tenant_not_found",
            &format!("{route} without a tenant"),
        );
    }
}

#[tokio::test]
async fn the_openapi_document_needs_no_store() {
    let app = unreachable_app().await;
    // The one route outside every tenant: `GET /v1/openapi.json`.
    let untenanted: Vec<_> = routes()
        .into_iter()
        .filter(|(_, route, _)| !route.contains("{tenant}"))
        .collect();
    assert_eq!(untenanted.len(), 1);
    let (_, route, handler) = untenanted[0];
    let r = call(handler, &app, Some(route), &[]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("x-request-id"), Some(REQUEST_ID));
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
    );
    assert_eq!(r.body, crate::openapi::document());
}

#[tokio::test]
async fn a_store_out_of_reach_is_503_never_500() {
    let app = unreachable_app().await;
    for (route, handler) in tenant_routes() {
        let r = call(
            handler,
            &app,
            Some(route),
            &[("tenant", "demo"), ("id", "app-3f9c")],
        )
        .await;
        r.assert_unavailable();
        assert_eq!(r.header("x-request-id"), Some(REQUEST_ID), "{route}");
    }
    // The scheduled function fails the run, so that the schedule retries it.
    let err = fn_close_windows::run(&app).await.expect_err("an error");
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert_eq!(err.status(), 503);
}
