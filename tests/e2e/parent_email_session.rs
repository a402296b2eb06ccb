//! The first parent step over HTTP against the dev server: windows, the
//! security code by mail, the session, and every error of these endpoints.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn windows_of_the_demo_tenant() {
    let app = shared_app();
    let r = app.get("/v1/demo/windows").await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-request-id").is_some_and(|v| !v.is_empty()));
    assert!(
        r.header("content-type")
            .is_some_and(|v| v.starts_with("application/json"))
    );
    assert_eq!(r.body["tenant"]["slug"], "demo");
    assert_eq!(r.body["tenant"]["name"], "Comune di Esempio");
    assert!(r.body["tenant"]["contact_email"].is_string());
    assert!(r.body["tenant"]["phone"].is_string());
    let windows = r.body["windows"].as_array().expect("windows");
    let open = windows
        .iter()
        .find(|w| w["status"] == "open")
        .expect("an open window");
    assert_eq!(open["service"], "refezione");
    assert_eq!(open["service_name"], "Refezione scolastica");
    assert!(open["id"].as_str().is_some_and(|id| id.starts_with("w-")));
    let opens = open["opens_at"].as_str().expect("opens_at");
    assert!(opens.ends_with('Z'), "UTC RFC 3339: {opens}");
    assert!(windows.iter().any(|w| w["status"] == "closed"));
    assert!(
        windows
            .iter()
            .all(|w| w["school_year"].as_str().is_some_and(|y| y.len() == 9))
    );
}

#[tokio::test]
async fn unknown_tenants_are_404_everywhere() {
    let app = shared_app();
    for path in ["/v1/nowhere/windows", "/v1/NOPE/windows", "/v1/x/windows"] {
        let r = app.get(path).await;
        assert_eq!((r.status, r.code()), (404, "tenant_not_found"), "{path}");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let r = app
        .post("/v1/nowhere/email-codes", json!({ "email": "a@b.it" }))
        .await;
    assert_eq!((r.status, r.code()), (404, "tenant_not_found"));
    let r = app
        .post(
            "/v1/nowhere/sessions",
            json!({ "email": "a@b.it", "code": "123456" }),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "tenant_not_found"));
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let app = shared_app();
    let r = app.get("/v1/demo/nothing-here").await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app.get("/v1/demo/email-codes").await;
    assert_eq!((r.status, r.code()), (405, "method_not_allowed"));
}

#[tokio::test]
async fn the_email_code_journey() {
    let app = shared_app();
    let email = unique_email("journey");
    let r = app.request_code(&email).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body, json!({ "expires_in": 600, "resend_after": 60 }));

    let mails = app.mails_to(&email).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    let subject = mail["subject"].as_str().unwrap_or("");
    assert!(subject.contains("Codice di sicurezza"), "{subject}");
    assert!(subject.contains("Comune di Esempio"), "{subject}");
    let text = mail["text"].as_str().unwrap_or("");
    assert!(text.contains("è valido per 10 minuti"), "{text}");
    assert!(
        mail["html"]
            .as_str()
            .is_some_and(|h| h.contains("Comune di Esempio"))
    );
    assert!(mail["sent_at"].is_string());
    let code = app.latest_code(&email).await;

    let r = app.email_login(None, &email, &code).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["expires_in"], 1800);
    assert!(
        r.body["token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    let session = &r.body["session"];
    assert_eq!(session["tenant"], "demo");
    assert_eq!(session["email"], email.as_str());
    assert_eq!(session["guardian_fiscal_code"], serde_json::Value::Null);
    assert_eq!(session["must_change_password"], false);
    assert!(
        session["expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    // A code opens one session only.
    let r = app.email_login(None, &email, &code).await;
    assert_eq!((r.status, r.code()), (410, "code_expired"));
}

#[tokio::test]
async fn addresses_are_normalised() {
    let app = shared_app();
    let email = unique_email("case");
    let shouted = format!("  {}  ", email.to_uppercase());
    assert_eq!(app.request_code(&shouted).await.status, 202);
    let code = app.latest_code(&email).await;
    let r = app.email_login(None, &shouted, &code).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["session"]["email"], email.as_str());
}

#[tokio::test]
async fn resend_cooldown_answers_429_with_retry_after() {
    let app = shared_app();
    let email = unique_email("cooldown");
    assert_eq!(app.request_code(&email).await.status, 202);
    let r = app.request_code(&email).await;
    assert_eq!((r.status, r.code()), (429, "too_many_requests"));
    let retry = r.retry_after().expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(app.mails_to(&email).await.len(), 1, "nothing sent twice");
}

#[tokio::test]
async fn wrong_codes_count_down_then_the_code_is_dead() {
    let app = shared_app();
    let email = unique_email("wrong");
    let code = app.code_for(&email).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let r = app.email_login(None, &email, wrong).await;
        assert_eq!((r.status, r.code()), (401, "invalid_code"), "{:?}", r.body);
        assert_eq!(r.body["error"]["attempts_left"], left);
    }
    let r = app.email_login(None, &email, &code).await;
    assert_eq!((r.status, r.code()), (429, "too_many_attempts"));
}

#[tokio::test]
async fn a_code_for_another_address_or_tenant_does_not_work() {
    let app = shared_app();
    let a = unique_email("owner");
    let b = unique_email("thief");
    let code = app.code_for(&a).await;
    let r = app.email_login(None, &b, &code).await;
    assert_eq!((r.status, r.code()), (410, "code_expired"));
}

#[tokio::test]
async fn bad_bodies_get_the_contract_errors() {
    let app = shared_app();
    let url = app.url("/v1/demo/email-codes");
    for (body, status, code) in [
        (json!({ "email": "not-an-email" }), 400, "invalid_email"),
        (json!({ "email": 42 }), 400, "invalid_email"),
        (json!({}), 400, "invalid_email"),
        (
            json!({ "email": "a@b.it", "extra": 1 }),
            400,
            "unknown_field",
        ),
    ] {
        let r = app.post("/v1/demo/email-codes", body.clone()).await;
        assert_eq!((r.status, r.code()), (status, code), "{body}");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let r = app
        .post(
            "/v1/demo/email-codes",
            json!({ "email": "a@b.it", "extra": 1 }),
        )
        .await;
    assert_eq!(r.body["error"]["fields"][0]["field"], "extra");
    let r = app
        .post("/v1/demo/email-codes", json!({ "email": "nope" }))
        .await;
    assert_eq!(r.body["error"]["fields"][0]["field"], "email");

    let r = send(
        client()
            .post(&url)
            .header("content-type", "application/json")
            .body("{\"email\": "),
    )
    .await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"));
    let r = send(client().post(&url).body("{\"email\":\"a@b.it\"}")).await;
    assert_eq!((r.status, r.code()), (415, "unsupported_media_type"));
    let big = format!("{{\"email\":\"{}\"}}", "a".repeat(70 * 1024));
    let r = send(
        client()
            .post(&url)
            .header("content-type", "application/json")
            .body(big),
    )
    .await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"));
}

#[tokio::test]
async fn session_bodies_get_the_contract_errors() {
    let app = shared_app();
    for (body, status, code) in [
        (
            json!({ "email": "a@b.it", "code": "12ab56" }),
            422,
            "invalid_fields",
        ),
        (
            json!({ "email": "a@b.it", "code": 123456 }),
            422,
            "invalid_fields",
        ),
        (json!({ "email": "a@b.it" }), 422, "invalid_fields"),
        (json!({ "code": "123456" }), 422, "invalid_fields"),
        (json!({}), 422, "invalid_fields"),
        (
            json!({ "email": "bad", "code": "123456" }),
            400,
            "invalid_email",
        ),
        (
            json!({ "email": "a@b.it", "code": "123456", "x": 1 }),
            400,
            "unknown_field",
        ),
        (
            json!({ "fiscal_code": "RSSMRA80A01H501U", "password": "secret-123" }),
            401,
            "invalid_credentials",
        ),
        (json!({ "id_token": "a.b.c" }), 401, "invalid_id_token"),
    ] {
        let r = app.post("/v1/demo/sessions", body.clone()).await;
        assert_eq!((r.status, r.code()), (status, code), "{body}: {:?}", r.body);
    }
}

#[tokio::test]
async fn ten_parallel_requests_send_one_code() {
    let app = shared_app();
    let email = unique_email("burst");
    let requests = (0..10).map(|_| app.post("/v1/demo/email-codes", json!({ "email": email })));
    let replies = futures_join_all(requests).await;
    let accepted = replies.iter().filter(|r| r.status == 202).count();
    let limited = replies.iter().filter(|r| r.status == 429).count();
    assert_eq!(
        (accepted, limited),
        (1, 9),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(app.mails_to(&email).await.len(), 1);
}

#[tokio::test]
async fn parallel_use_of_one_code_opens_one_session() {
    let app = shared_app();
    let email = unique_email("race");
    let code = app.code_for(&email).await;
    let replies = futures_join_all(
        (0..6).map(|_| app.open_session(None, json!({ "email": email, "code": code }))),
    )
    .await;
    let opened = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        opened,
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(replies.iter().all(|r| r.status == 201 || r.status == 410));
}

#[tokio::test]
async fn a_bearer_session_is_merged_and_a_bad_one_ignored() {
    let app = shared_app();
    let first = unique_email("merge-a");
    let token = app.email_session(&first).await;
    let second = unique_email("merge-b");
    let r = app.prove_email(Some(&token), &second).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["session"]["email"], second.as_str());
    assert_ne!(r.body["token"], token.as_str());

    let third = unique_email("merge-c");
    let r = app.prove_email(Some("not.a.token"), &third).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// `join_all` without another dependency: spawn each future on the runtime.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<Reply>
where
    F: std::future::Future<Output = Reply> + Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}
