//! Drafts over HTTP: save, read, list, update with optimistic concurrency,
//! one application per pupil and window, one guardian per session, the
//! temporary password mail.

use crate::helpers::*;
use serde_json::{Value, json};

#[tokio::test]
async fn a_draft_is_saved_read_listed_and_the_password_mailed() {
    let app = shared_app();
    let email = unique_email("draft");
    let token = app.email_session(&email).await;
    let window = app.open_window_id().await;
    let body = application_body(&window, &pupil_code(), &guardian_code(), &email);

    let r = app.post("/v1/demo/applications", body.clone()).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));

    let r = app.save_draft(&token, body.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.header("etag"), Some("\"1\""));
    let a = &r.body;
    let id = a["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("app-"));
    assert_eq!(a["status"], "draft");
    assert_eq!(a["version"], 1);
    assert_eq!(a["kind"], "new");
    assert_eq!(a["missing"], json!([]));
    assert_eq!(a["user_code"], serde_json::Value::Null);
    assert_eq!(a["submitted_at"], serde_json::Value::Null);
    assert_eq!(a["pupil"]["first_name"], "Maria");
    assert!(
        a["first_saved_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let mails = app.mails_to(&email).await;
    let password_mail = mails.last().expect("password mail");
    let subject = password_mail["subject"].as_str().unwrap_or("");
    assert!(subject.contains("password"), "{subject}");
    assert!(!subject.contains(a["pupil"]["fiscal_code"].as_str().unwrap_or("-")));
    let text = password_mail["text"].as_str().unwrap_or("");
    let password = password_in(text).expect("a `Password: …` line");
    remember(&password);
    assert!(password.len() >= 10);

    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &token)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(r.header("etag"), Some("\"1\""));

    let r = app.get_auth("/v1/demo/applications", &token).await;
    assert_eq!(r.status, 200);
    let ids: Vec<&str> = r.body["applications"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);

    // Someone else's application does not exist for another parent.
    let other = app.email_session(&unique_email("other")).await;
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &other)
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app
        .put_auth(&format!("/v1/demo/applications/{id}"), &other, None, body)
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app.get_auth("/v1/demo/applications", &other).await;
    assert_eq!(r.body["applications"], json!([]));
}

#[tokio::test]
async fn updates_follow_the_version() {
    let app = shared_app();
    let email = unique_email("update");
    let token = app.email_session(&email).await;
    let window = app.open_window_id().await;
    let mut body = application_body(&window, &pupil_code(), &guardian_code(), &email);
    let id = app.new_draft(&token, body.clone()).await;
    let path = format!("/v1/demo/applications/{id}");

    body["guardian"]["phone"] = json!("080 1234567");
    let r = app
        .put_auth(&path, &token, Some("\"1\""), body.clone())
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(r.body["guardian"]["phone"], "080 1234567");

    let r = app
        .put_auth(&path, &token, Some("\"1\""), body.clone())
        .await;
    assert_eq!((r.status, r.code()), (412, "version_conflict"));

    // Two tabs with the same version: one wins, the other is told.
    let (a, b) = tokio::join!(
        app.put_auth(&path, &token, Some("\"2\""), body.clone()),
        app.put_auth(&path, &token, Some("\"2\""), body.clone())
    );
    let mut statuses = vec![a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 412]);
    let r = app.get_auth(&path, &token).await;
    assert_eq!(r.body["version"], 3);

    // Bad values change nothing.
    body["guardian"]["address"]["postal_code"] = json!("7003");
    let r = app
        .put_auth(&path, &token, Some("\"3\""), body.clone())
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));
    assert_eq!(
        r.body["error"]["fields"][0]["field"],
        "guardian.address.postal_code"
    );
    assert_eq!(app.get_auth(&path, &token).await.body["version"], 3);
}

#[tokio::test]
async fn one_live_application_per_family_pupil_and_window() {
    let app = shared_app();
    let window = app.open_window_id().await;
    let first = app.complete_draft(&window, "first").await;
    // The same family again, same pupil and window: its own duplicate.
    let r = app.save_draft(&first.token, first.body.clone()).await;
    assert_eq!((r.status, r.code()), (409, "duplicate_pupil"));
    let message = r.body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("codice fiscale")
            && message.contains("password")
            && message.contains("scuola@comune.example.it"),
        "the message names the password login and the office: {message}"
    );
}

#[tokio::test]
async fn two_families_submitting_one_pupil_at_once() {
    let app = shared_app();
    let window = app.open_window_id().await;
    let pupil = pupil_code();
    // A draft reserves nothing: both families save theirs.
    let (a, b) = tokio::join!(
        app.complete_draft_for(&window, &pupil, "race-a"),
        app.complete_draft_for(&window, &pupil, "race-b")
    );
    let (ra, rb) = tokio::join!(app.submit(&a.token, &a.id), app.submit(&b.token, &b.id));
    let mut statuses = vec![
        (ra.status, ra.code().to_owned()),
        (rb.status, rb.code().to_owned()),
    ];
    statuses.sort();
    assert_eq!(
        statuses,
        vec![(200, String::new()), (409, "duplicate_pupil".into())],
        "{:?} {:?}",
        ra.body,
        rb.body
    );
    // The winner is marked contested for the office; the loser stays a draft.
    let (winner, loser) = if ra.status == 200 { (&a, &b) } else { (&b, &a) };
    let staff = app.staff_token("demo").await;
    let r = app
        .get_auth(
            &format!("/v1/demo/staff/applications/{}", winner.id),
            &staff,
        )
        .await;
    assert_eq!(r.body["contested"], true, "{:?}", r.body);
    assert_eq!(r.body["verification"]["email"], true);
    assert_eq!(r.body["verification"]["spid"], false);
    let r = app
        .get_auth(&format!("/v1/demo/applications/{}", loser.id), &loser.token)
        .await;
    assert_eq!(r.body["status"], "draft");
    assert_eq!(r.body["user_code"], Value::Null);
}

#[tokio::test]
async fn siblings_from_one_session_name_one_guardian() {
    let app = shared_app();
    let window = app.open_window_id().await;
    let email = unique_email("siblings");
    let token = app.email_session(&email).await;
    let guardian = guardian_code();
    app.new_draft(
        &token,
        application_body(&window, &pupil_code(), &guardian, &email),
    )
    .await;
    let r = app
        .save_draft(
            &token,
            application_body(&window, &pupil_code(), &guardian, &email),
        )
        .await;
    assert_eq!(r.status, 201, "same guardian, second child: {:?}", r.body);
    let r = app
        .save_draft(
            &token,
            application_body(&window, &pupil_code(), &guardian_code(), &email),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "guardian_mismatch"));
    let r = app.get_auth("/v1/demo/applications", &token).await;
    assert_eq!(r.body["applications"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn drafts_need_the_minimum_and_valid_values() {
    let app = shared_app();
    let window = app.open_window_id().await;
    let email = unique_email("minimum");
    let token = app.email_session(&email).await;

    let r = app.save_draft(&token, json!({ "window_id": window })).await;
    assert_eq!((r.status, r.code()), (422, "incomplete"));
    let fields = r.fields();
    assert!(fields.contains(&"pupil.fiscal_code"));
    assert!(fields.contains(&"declarations.privacy"));

    // A partial draft is fine; `missing` says what is left.
    let partial = json!({
        "window_id": window,
        "pupil": { "fiscal_code": pupil_code(), "first_name": "Luca", "last_name": "Verdi" },
        "guardian": { "fiscal_code": guardian_code(), "first_name": "Anna", "last_name": "Verdi" },
        "declarations": { "privacy": true }
    });
    let r = app.save_draft(&token, partial).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let missing: Vec<&str> = r.body["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    for f in [
        "pupil.birth_date",
        "guardian.phone",
        "service.days",
        "declarations.regulation",
    ] {
        assert!(missing.contains(&f), "{f} in {missing:?}");
    }

    let mut bad = application_body(&window, &pupil_code(), &guardian_code(), &email);
    bad["pupil"]["fiscal_code"] = json!("RSSMRA15E41A662X");
    bad["guardian"]["email"] = json!("anna@");
    let r = app.save_draft(&token, bad).await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));

    let mut unknown = application_body(&window, &pupil_code(), &guardian_code(), &email);
    unknown["pupil"]["nickname"] = json!("Mari");
    let r = app.save_draft(&token, unknown).await;
    assert_eq!((r.status, r.code()), (400, "unknown_field"));
    assert_eq!(r.body["error"]["fields"][0]["field"], "pupil.nickname");

    let mut renewal = application_body(&window, &pupil_code(), &guardian_code(), &email);
    renewal["kind"] = json!("renewal");
    let r = app.save_draft(&token, renewal).await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));
}

#[tokio::test]
async fn closed_and_unknown_windows() {
    let app = shared_app();
    let email = unique_email("closed");
    let token = app.email_session(&email).await;
    let windows = app.get("/v1/demo/windows").await;
    let closed = windows.body["windows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["status"] == "closed"))
        .and_then(|w| w["id"].as_str())
        .expect("a closed window")
        .to_owned();
    let r = app
        .save_draft(
            &token,
            application_body(&closed, &pupil_code(), &guardian_code(), &email),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "window_closed"));
    let r = app
        .save_draft(
            &token,
            application_body("w-nope", &pupil_code(), &guardian_code(), &email),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));
}
