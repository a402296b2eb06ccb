//! Every sample event in `events/` goes through its function's handler,
//! exactly as Lambda would hand it over (HTTP API, payload 2.0), and every
//! route of the template has at least one sample event.

use std::collections::BTreeSet;

use crate::helpers::shared_app;
use lambda_http::Body;

fn events_dir() -> std::path::PathBuf {
    local::workspace_root().join("events")
}

#[tokio::test]
async fn every_http_event_goes_through_its_handler() {
    let ports = shared_app().ports.clone();
    let declared = local::template::load(&local::workspace_root().join("infra/template.yaml"))
        .expect("template");
    let mut covered = BTreeSet::new();
    let mut count = 0;
    for function in local::registry::http_functions() {
        let dir = events_dir().join(function.binary);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("event file");
            let request = lambda_http::request::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not an HTTP API event: {e}", file.display()));
            let route = shared::http::route_key(&request)
                .unwrap_or_else(|| panic!("{}: no routeKey", file.display()));
            assert!(
                function.routes.contains(&route.as_str()),
                "{}: route {route} is not served by {}",
                file.display(),
                function.binary
            );
            covered.insert(route.clone());
            let response = (function.handler)(ports.clone(), request).await;
            let status = response.status().as_u16();
            assert!(status < 500, "{}: answered {status}", file.display());
            assert!(
                response.headers().contains_key("x-request-id"),
                "{}",
                file.display()
            );
            let body = match response.body() {
                Body::Text(t) => t.clone(),
                _ => String::new(),
            };
            let json: serde_json::Value = serde_json::from_str(&body)
                .unwrap_or_else(|_| panic!("{}: body is not JSON", file.display()));
            if status >= 400 {
                assert!(json["error"]["code"].is_string(), "{}", file.display());
            }
            // The expected status is the number the file name starts with.
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let expected: u16 = name
                .split(['-', '.'])
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name}: name it <status>-<what>.json"));
            assert_eq!(status, expected, "{}: {body}", file.display());
            count += 1;
        }
    }
    for route in &declared.routes {
        assert!(
            covered.contains(&route.route_key()),
            "no sample event for {}",
            route.route_key()
        );
    }
    assert!(count >= declared.routes.len());
}

#[tokio::test]
async fn the_scheduled_event_runs_the_close() {
    let app = shared_app();
    let file = events_dir().join("close-windows/schedule.json");
    let text = std::fs::read_to_string(&file).expect("schedule event");
    let event: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(event["detail-type"], "Scheduled Event");
    let report = fn_close_windows::run(&app.ports).await.expect("runs");
    // Whatever was due is closed; a second run finds nothing left.
    let again = fn_close_windows::run(&app.ports).await.expect("runs again");
    assert_eq!(
        again.close.windows_closed, 0,
        "first run closed {}",
        report.close.windows_closed
    );
}
