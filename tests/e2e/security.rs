//! The security suite over HTTP: attacks on parent session tokens, a parent
//! token on every staff route, IDOR across parents and across tenants on
//! every route that takes an id, and the presigned links (short-lived, no
//! personal data). Staff-token attacks are in `staff.rs`, ID-token attacks
//! in `spid.rs`, brute force on codes in `parent_email_session.rs` and on
//! passwords in `passwords.rs`; the log scan runs after all tests in
//! `make test` (`local/log_scan.py`).

use crate::helpers::*;
use serde_json::{Value, json};
use shared::domain::values::TenantSlug;
use shared::ops::sessions::{self as auth, SessionClaims};

/// Every parent route that takes an application id, with a body that would
/// be accepted from the owner.
fn id_routes(id: &str, window: &str, email: &str) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("GET", format!("/applications/{id}"), None),
        ("GET", format!("/applications/{id}/documents"), None),
        (
            "PUT",
            format!("/applications/{id}"),
            Some(application_body(
                window,
                &pupil_code(),
                &guardian_code(),
                email,
            )),
        ),
        (
            "POST",
            format!("/applications/{id}/submit"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("/applications/{id}/attachments"),
            Some(json!({ "kind": "isee", "filename": "isee.pdf",
                         "content_type": "application/pdf", "size": 1000 })),
        ),
    ]
}

async fn call(method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
    let url = shared_app().url(path);
    let mut request = match method {
        "GET" => client().get(url),
        "PUT" => client().put(url),
        _ => client().post(url),
    }
    .bearer_auth(token);
    if let Some(b) = body {
        request = request.json(&b);
    }
    send(request).await
}

#[tokio::test]
async fn forged_and_misused_parent_sessions_are_refused() {
    let app = shared_app();
    let email = unique_email("tokens");
    let good = app.email_session(&email).await;
    let path = "/v1/demo/applications";
    assert_eq!(app.get_auth(path, &good).await.status, 200);

    let demo = TenantSlug::parse("demo").expect("slug");
    let now = app.ports.clock.now();
    let claims = |f: &dyn Fn(&mut SessionClaims)| {
        let mut c = SessionClaims::new(&app.ports.config, &demo, now, "s-attack".into());
        c.email = Some(email.clone());
        f(&mut c);
        auth::issue(&app.ports.config, &c).expect("sign")
    };
    let tampered = jwt::tampered(&good, |c| c["email"] = json!(unique_email("someone-else")));
    let none = jwt::unsigned(&good);
    // HS256 with a key of our own choosing (not the deployment's).
    let other_key = shared::config::Config::new("t", "b", "m@x.it", &[7u8; 32]).expect("config");
    let forged = auth::issue(
        &other_key,
        &SessionClaims::new(&other_key, &demo, now, "s-forged".into()),
    )
    .expect("sign");
    // An RS256 header on our HMAC signature (algorithm confusion).
    let confused = jwt::with_header(&good, r#"{"alg":"RS256","typ":"JWT"}"#);
    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            claims(&|c| {
                c.iat -= 3600;
                c.exp = now.unix_timestamp() - 1;
            }),
        ),
        ("wrong audience", claims(&|c| c.aud = "staff".into())),
        (
            "wrong issuer",
            claims(&|c| c.iss = "https://evil.example".into()),
        ),
        ("tampered", tampered),
        ("alg none", none),
        ("another key", forged),
        ("algorithm confusion", confused),
        ("garbage", "a.b.c".into()),
    ];
    for (what, token) in &cases {
        remember(token);
        let r = app.get_auth(path, token).await;
        assert_eq!(
            (r.status, r.code()),
            (401, "unauthorized"),
            "{what}: {:?}",
            r.body
        );
    }

    // A valid session of this tenant on another tenant: nothing is found.
    let r = app.get_auth("/v1/altro-ente/applications", &good).await;
    assert_eq!(r.status, 404, "{:?}", r.body);

    // A parent token on every staff route: forbidden.
    let staff_routes = [
        ("GET", "/v1/demo/staff/applications".to_owned(), None),
        ("GET", "/v1/demo/staff/applications/app-x".to_owned(), None),
        (
            "POST",
            "/v1/demo/staff/applications/app-x/confirm".to_owned(),
            Some(json!({})),
        ),
        (
            "POST",
            "/v1/demo/staff/applications/app-x/reject".to_owned(),
            Some(json!({ "reason": "x" })),
        ),
        ("POST", "/v1/demo/staff/windows".to_owned(), Some(json!({}))),
        (
            "GET",
            "/v1/demo/staff/windows/w-refezione-2026/roster.csv".to_owned(),
            None,
        ),
    ];
    for (method, path, body) in staff_routes {
        let r = call(method, &path, &good, body).await;
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{method} {path}");
    }
}

#[tokio::test]
async fn no_parent_reaches_another_parents_application() {
    let app = shared_app();
    let window = app.open_window_id().await;
    let Family {
        id,
        token: owner,
        email: owner_email,
        ..
    } = app.submitted_application(&window, "victim").await;
    let before = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &owner)
        .await
        .body;

    // Another parent of the same tenant: 404 on every route, nothing changed.
    let intruder_email = unique_email("intruder");
    let intruder = app.email_session(&intruder_email).await;
    for (method, path, body) in id_routes(&id, &window, &intruder_email) {
        let r = call(method, &format!("/v1/demo{path}"), &intruder, body).await;
        assert_eq!(
            (r.status, r.code()),
            (404, "not_found"),
            "{method} {path}: {:?}",
            r.body
        );
    }
    let r = app.get_auth("/v1/demo/applications", &intruder).await;
    assert_eq!(r.body["applications"], json!([]));

    // The same through another tenant: its parents and its staff see nothing.
    let foreign_staff = app.other_tenant("altro-ente").await;
    for (method, path, body) in id_routes(&id, &window, &owner_email) {
        // The owner's own token, on the other tenant's path.
        let r = call(method, &format!("/v1/altro-ente{path}"), &owner, body).await;
        assert_eq!(r.status, 404, "{method} {path}: {:?}", r.body);
    }
    for path in [
        format!("/v1/demo/staff/applications/{id}"),
        format!("/v1/altro-ente/staff/applications/{id}"),
    ] {
        let r = app.get_auth(&path, &foreign_staff).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{path}");
    }
    let r = app
        .post_auth(
            &format!("/v1/altro-ente/staff/applications/{id}/confirm"),
            &foreign_staff,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404);

    let after = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &owner)
        .await
        .body;
    assert_eq!(before, after, "the application changed");
}

#[tokio::test]
async fn presigned_links_are_short_lived_and_name_no_one() {
    let app = shared_app();
    let Family {
        id,
        token,
        email,
        pupil,
        ..
    } = app
        .submitted_application(&app.open_window_id().await, "victim")
        .await;
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}/documents"), &token)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r2 = app
        .post_auth(
            &format!("/v1/demo/applications/{id}/attachments"),
            &token,
            json!({ "kind": "isee", "filename": "isee Rossi Maria.pdf",
                "content_type": "application/pdf", "size": 1000 }),
        )
        .await;
    // A submitted application still takes attachments while the window is open.
    assert_eq!(r2.status, 201, "{:?}", r2.body);
    let mut urls: Vec<(String, u64)> = r.body["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| {
            (
                d["url"].as_str().expect("url").to_owned(),
                d["expires_in"].as_u64().expect("expires_in"),
            )
        })
        .collect();
    urls.push((
        r2.body["upload_url"]
            .as_str()
            .expect("upload url")
            .to_owned(),
        r2.body["expires_in"].as_u64().expect("expires_in"),
    ));
    let local_part = email.split('@').next().unwrap_or("-").to_owned();
    for (url, expires_in) in urls {
        remember(&url);
        assert!(expires_in <= 300, "{expires_in}");
        let expiry: u64 = url
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("X-Amz-Expires="))
            .and_then(|v| v.parse().ok())
            .expect("a signed link with X-Amz-Expires");
        assert!(expiry <= 300, "a link valid for {expiry} s");
        let lower = url.to_lowercase();
        for personal in [
            pupil.to_lowercase(),
            local_part.to_lowercase(),
            "rossi".into(),
            "maria".into(),
        ] {
            assert!(!lower.contains(&personal), "a link names personal data");
        }
    }
}
