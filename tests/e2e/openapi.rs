//! The OpenAPI document is the machine-readable contract: it documents
//! exactly the routes of the SAM template (none missing, none extra), and
//! the API serves it at `GET /v1/openapi.json`.

use std::collections::BTreeSet;

use crate::helpers::*;
use serde_json::Value;

/// `docs/openapi.json`, the document `GET /v1/openapi.json` serves.
pub(crate) fn document() -> Value {
    let path = local::workspace_root().join("docs/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("docs/openapi.json")).expect("json")
}

#[test]
fn the_document_covers_exactly_the_templates_routes() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            assert!(
                operation["operationId"].is_string(),
                "{method} {path}: operationId"
            );
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                !responses.contains_key("500"),
                "{method} {path}: a 500 is never part of the contract"
            );
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let template = local::template::load(&local::workspace_root().join("infra/template.yaml"))
        .expect("template");
    let deployed: BTreeSet<String> = template.routes.iter().map(|r| r.route_key()).collect();
    let undocumented: Vec<_> = deployed.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&deployed).collect();
    assert!(
        undocumented.is_empty(),
        "routes without documentation: {undocumented:?}"
    );
    assert!(
        missing.is_empty(),
        "documented but not deployed: {missing:?}"
    );
}

#[tokio::test]
async fn the_api_serves_its_document() {
    let app = shared_app();
    let r = app.get("/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-request-id").is_some());
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
    );
    assert_eq!(r.body, document());
}
