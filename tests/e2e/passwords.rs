//! The fiscal-code login with the mailed password: forced change, the
//! password rule, one answer for every wrong combination, the lock-out.

use crate::helpers::*;
use serde_json::json;

/// A new family's draft: the pupil's fiscal code, the mailed temporary
/// password and the application's id.
async fn draft_with_password() -> (String, String, String) {
    let (pupil, password, id, _) = draft_with_password_to().await;
    (pupil, password, id)
}

/// The same, with the address the password was mailed to.
async fn draft_with_password_to() -> (String, String, String, String) {
    let app = shared_app();
    let Family {
        id, email, pupil, ..
    } = app.complete_draft(&app.open_window_id().await, "pw").await;
    (pupil, app.mailed_password(&email).await, id, email)
}

#[tokio::test]
async fn the_mailed_password_opens_a_session_that_must_change_it() {
    let app = shared_app();
    let (pupil, password, id, email) = draft_with_password_to().await;
    let r = app.password_login(&pupil, &password).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["session"]["must_change_password"], true);
    // The session holds, as verified, the address the password went to.
    assert_eq!(r.body["session"]["email"], email.as_str());
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
        "rank",
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
async fn each_family_has_its_own_password_which_opens_only_its_own_applications() {
    let app = shared_app();
    let (pupil, password, family_app, _) = draft_with_password_to().await;
    // A second window of the same service (a later phase).
    let second = app.new_window(&app.staff_token("demo").await).await;
    // A stranger who computed the fiscal code proves their own address and
    // saves a draft for the same pupil: allowed (a draft reserves nothing),
    // with a password of their own, mailed to their own address.
    let Family {
        email: intruder,
        id: intruder_app,
        ..
    } = app.complete_draft_for(&second, &pupil, "intruder").await;
    let intruder_password = app.mailed_password(&intruder).await;
    assert_ne!(intruder_password, password);
    // The stranger's password opens the stranger's draft only.
    let r = app.password_login(&pupil, &intruder_password).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let token = session_token(&r);
    let token = {
        let r = app
            .change_password(&token, &intruder_password, "Intruso-Segreto-2026")
            .await;
        assert_eq!(r.status, 204, "{:?}", r.body);
        remember("Intruso-Segreto-2026");
        session_token(&app.password_login(&pupil, "Intruso-Segreto-2026").await)
    };
    let r = app
        .get_auth(&format!("/v1/demo/applications/{family_app}"), &token)
        .await;
    assert_eq!(r.status, 404, "another family's application: {:?}", r.body);
    let r = app
        .get_auth(&format!("/v1/demo/applications/{intruder_app}"), &token)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // The family's password still works, and opens the family's own only.
    let r = app.password_login(&pupil, &password).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// A temporary password not used within 30 days stops working: the login
/// then gets the one answer of every wrong combination.
#[tokio::test]
async fn a_temporary_password_expires_after_30_days() {
    let app = spawn_app();
    let Family { email, pupil, .. } = app
        .complete_draft(&app.open_window_id().await, "expiry")
        .await;
    let password = app.mailed_password(&email).await;
    app.clock.advance(29 * 86_400);
    let r = app.password_login(&pupil, &password).await;
    assert_eq!(r.status, 201, "still valid on day 29: {:?}", r.body);
    app.clock.advance(86_400);
    let r = app.password_login(&pupil, &password).await;
    assert_eq!(
        (r.status, r.code()),
        (401, "invalid_credentials"),
        "{:?}",
        r.body
    );
}

/// The family's second draft for the same pupil (another window) owes no
/// new password: the first one, mailed once, keeps working; the
/// transaction that found the family's credentials wrote nothing twice.
#[tokio::test]
async fn a_second_draft_for_the_pupil_keeps_the_familys_password() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let other = app.new_window(&staff).await;
    let Family {
        token,
        email,
        pupil,
        mut body,
        ..
    } = app.complete_draft(&app.open_window_id().await, "pw2").await;
    let password = app.mailed_password(&email).await;
    body["window_id"] = json!(other);
    let r = app.save_draft(&token, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        app.mails_about(&email, "password").await.len(),
        1,
        "one password mail"
    );
    let r = app.password_login(&pupil, &password).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}
