//! The fiscal-code login with the mailed password: forced change, the
//! password rule, one answer for every wrong combination, the lock-out.

use crate::helpers::*;
use serde_json::json;

/// A new family's draft: the pupil's fiscal code, the mailed temporary
/// password and the application's id.
async fn draft_with_password() -> (String, String, String) {
    let app = shared_app();
    let Family {
        id, email, pupil, ..
    } = app.complete_draft(&app.open_window_id().await, "pw").await;
    (pupil, app.mailed_password(&email).await, id)
}

#[tokio::test]
async fn the_mailed_password_opens_a_session_that_must_change_it() {
    let app = shared_app();
    let (pupil, password, id) = draft_with_password().await;
    let r = app.password_login(&pupil, &password).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["session"]["must_change_password"], true);
    assert_eq!(r.body["session"]["email"], serde_json::Value::Null);
    let temp_token = session_token(&r);

    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &temp_token)
        .await;
    assert_eq!((r.status, r.code()), (403, "password_change_required"));
    // A second session with the same temporary password (another device,
    // or whoever else read the mail).
    let r = app.password_login(&pupil, &password).await;
    let other_temp_token = session_token(&r);

    for weak in [
        "corta1",
        "solamentelettere",
        &format!("x{}1", pupil.to_lowercase()),
    ] {
        let r = app.change_password(&temp_token, &password, weak).await;
        assert_eq!((r.status, r.code()), (422, "weak_password"), "{weak}");
        assert_eq!(r.body["error"]["fields"][0]["field"], "new");
    }
    let r = app
        .change_password(&temp_token, "sbagliata-123", "mela-verde-42")
        .await;
    assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
    let r = app
        .change_password(&temp_token, &password, "mela-verde-42")
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);

    // The session that changed the password goes on with the same token
    // ("403 until POST /password succeeds"); the other one does not.
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &temp_token)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &other_temp_token)
        .await;
    assert_eq!((r.status, r.code()), (403, "password_change_required"));
    // Proving an email on top of it gives a session without the flag.
    let address = unique_email("pw-merge");
    let r = app.prove_email(Some(&temp_token), &address).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["session"]["must_change_password"], false);
    assert_eq!(r.body["session"]["email"], json!(address));

    // The temporary password is gone; the personal one works.
    let r = app.password_login(&pupil, &password).await;
    assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
    let r = app
        .password_login(&pupil.to_lowercase(), "mela-verde-42")
        .await;
    let token = session_token(&r);
    assert_eq!(r.body["session"]["must_change_password"], false);
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &token)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.get_auth("/v1/demo/applications", &token).await;
    assert_eq!(r.body["applications"].as_array().map(Vec::len), Some(1));
    // The returning parent can keep editing the draft.
    let mut body = r.body["applications"][0].clone();
    for k in [
        "id",
        "status",
        "version",
        "first_saved_at",
        "updated_at",
        "submitted_at",
        "decided_at",
        "decision_reason",
        "user_code",
        "fee_band",
        "missing",
    ] {
        body.as_object_mut().expect("object").remove(k);
    }
    body["pupil"]["section"] = json!("C");
    let r = app
        .put_auth(
            &format!("/v1/demo/applications/{id}"),
            &token,
            Some("\"1\""),
            body,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test]
async fn wrong_combinations_get_one_answer_and_lock_after_five() {
    let app = shared_app();
    let (pupil, password, _) = draft_with_password().await;
    let unknown = app.password_login(&pupil_code(), &password).await;
    let malformed = app.password_login("NOTACODE", &password).await;
    let wrong = app.password_login(&pupil, "sbagliata-000").await;
    for r in [&unknown, &malformed, &wrong] {
        assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
    }
    assert_eq!(
        unknown.body["error"]["message"],
        wrong.body["error"]["message"]
    );
    for _ in 0..4 {
        let r = app.password_login(&pupil, "sbagliata-000").await;
        assert_eq!(r.status, 401);
    }
    // Five failures: even the right password is refused for 15 minutes.
    let r = app.password_login(&pupil, &password).await;
    assert_eq!((r.status, r.code()), (429, "too_many_attempts"));
    let retry = r.retry_after().expect("Retry-After");
    assert!(retry > 0 && retry <= 900, "{retry}");
}

#[tokio::test]
async fn someone_elses_draft_never_replaces_a_pupils_password() {
    let app = shared_app();
    let (pupil, password, _) = draft_with_password().await;
    // A second window of the same service (a later phase), where the
    // pupil has no application yet.
    let second = app.new_window(&app.staff_token("demo").await).await;
    // Someone who knows the fiscal code proves their own address and saves
    // a draft there: allowed, but no password for them.
    let Family {
        email: intruder, ..
    } = app.complete_draft_for(&second, &pupil, "intruder").await;
    let mails = app.mails_to(&intruder).await;
    assert!(
        mails
            .iter()
            .all(|m| !m["text"].as_str().unwrap_or("").contains("Password: ")),
        "a password was mailed to the intruder"
    );
    // The family's password still works.
    let r = app.password_login(&pupil, &password).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}
