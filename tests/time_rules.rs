//! Rules about time, driven over HTTP with the stack's clock moved forward.
//! One test function: the clock of this process's stack is shared.

use e2e::*;
use serde_json::json;

#[tokio::test]
async fn codes_expire_caps_hold_and_windows_close() {
    let s = stack();

    // A code is good for 10 minutes, to the second.
    let email = unique_email("expiry");
    assert_eq!(
        post("/v1/demo/email-codes", json!({ "email": email }))
            .await
            .status,
        202
    );
    let code = latest_code(&email).await;
    s.clock.advance(600);
    let r = post("/v1/demo/sessions", json!({ "email": email, "code": code })).await;
    assert_eq!((r.status, r.code()), (410, "code_expired"));

    // At most 5 codes per address in an hour, even with the cooldown kept.
    let email = unique_email("hourly");
    for i in 0..5 {
        let r = post("/v1/demo/email-codes", json!({ "email": email })).await;
        assert_eq!(r.status, 202, "code {i}: {:?}", r.body);
        s.clock.advance(61);
    }
    let r = post("/v1/demo/email-codes", json!({ "email": email })).await;
    assert_eq!((r.status, r.code()), (429, "too_many_requests"));
    let retry: i64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry > 3000 && retry <= 3600 - 5 * 61 + 1, "{retry}");
    s.clock.advance(retry);
    assert_eq!(
        post("/v1/demo/email-codes", json!({ "email": email }))
            .await
            .status,
        202
    );

    // A newly requested code replaces the old one, whose mail is now stale.
    let email = unique_email("replace");
    assert_eq!(
        post("/v1/demo/email-codes", json!({ "email": email }))
            .await
            .status,
        202
    );
    let old = latest_code(&email).await;
    s.clock.advance(61);
    assert_eq!(
        post("/v1/demo/email-codes", json!({ "email": email }))
            .await
            .status,
        202
    );
    let new = latest_code(&email).await;
    if old != new {
        let r = post("/v1/demo/sessions", json!({ "email": email, "code": old })).await;
        assert_eq!((r.status, r.code()), (401, "invalid_code"));
    }
    let r = post("/v1/demo/sessions", json!({ "email": email, "code": new })).await;
    assert_eq!(r.status, 201, "{:?}", r.body);

    // A session lasts 30 minutes; the windows follow the clock.
    let r = get("/v1/demo/windows").await;
    let open = r.body["windows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["status"] == "open").cloned())
        .expect("open window");
    let r = post("/_local/run/close-windows", json!({})).await;
    assert_eq!(
        (r.status, r.body["windows_closed"].as_u64()),
        (200, Some(0))
    );
    s.clock.advance(31 * 24 * 3600);
    let r = get("/v1/demo/windows").await;
    let same = r.body["windows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["id"] == open["id"]).cloned())
        .expect("same window");
    assert_eq!(same["status"], "closed");
    // The scheduled function records the close once, however often it runs.
    let runs = [
        post("/_local/run/close-windows", json!({})).await,
        post("/_local/run/close-windows", json!({})).await,
    ];
    let closed: u64 = runs
        .iter()
        .map(|r| r.body["windows_closed"].as_u64().unwrap_or(99))
        .sum();
    assert_eq!(closed, 1);
}
