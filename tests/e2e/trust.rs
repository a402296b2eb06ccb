//! Trust: a party gets only what it proved. The attacks of the security
//! read (a stranger squatting a child, mail to an address nobody proved,
//! a login token bound to another login) each fail over HTTP.

use crate::helpers::*;
use serde_json::{Value, json};

/// Reproduced attack 1: a stranger who computed a child's fiscal code
/// saves a draft first. It reserves nothing: the real family enrolls the
/// child, the stranger's submission is refused, and the office sees the
/// family's application marked contested. A rejection frees the pupil.
#[tokio::test]
async fn a_stranger_cannot_take_a_child() {
    let app = shared_app();
    let window = app.open_window_id().await;
    let pupil = pupil_code();
    let stranger = app.complete_draft_for(&window, &pupil, "squatter").await;
    let family = app.complete_draft_for(&window, &pupil, "family").await;
    let r = app.submit(&family.token, &family.id).await;
    assert_eq!(r.status, 200, "the real family enrolls: {:?}", r.body);

    let r = app.submit(&stranger.token, &stranger.id).await;
    assert_eq!(
        (r.status, r.code()),
        (409, "duplicate_pupil"),
        "{:?}",
        r.body
    );
    let staff = app.staff_token("demo").await;
    let path = format!("/v1/demo/staff/applications/{}", family.id);
    let r = app.get_auth(&path, &staff).await;
    assert_eq!(r.body["contested"], true);
    // A new draft for a held pupil is refused at once.
    let late = unique_email("late");
    let token = app.email_session(&late).await;
    let r = app
        .save_draft(
            &token,
            application_body(&window, &pupil, &guardian_code(), &late),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (409, "duplicate_pupil"),
        "{:?}",
        r.body
    );

    // The office rejects the family's application: the pupil is free again.
    let r = app
        .reject(&staff, &family.id, json!({ "reason": "Domanda duplicata" }))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.submit(&stranger.token, &stranger.id).await;
    assert_eq!(r.status, 200, "a rejection frees the pupil: {:?}", r.body);
    // And the rejected family may start again in the same window.
    let r = app.save_draft(&family.token, family.body.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (409, "duplicate_pupil"),
        "held again: {:?}",
        r.body
    );
}

/// Reproduced attack 2: a complete application naming an address nobody
/// proved got the credentials letter there. Now `guardian.email` must be
/// the session's verified address, on create and on update.
#[tokio::test]
async fn mail_goes_only_to_a_proved_address() {
    let app = shared_app();
    let window = app.open_window_id().await;
    let email = unique_email("proved");
    let token = app.email_session(&email).await;
    let victim = unique_email("elsewhere");
    let r = app
        .save_draft(
            &token,
            application_body(&window, &pupil_code(), &guardian_code(), &victim),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_fields"),
        "{:?}",
        r.body
    );
    assert_eq!(r.body["error"]["fields"][0]["field"], "guardian.email");
    assert_eq!(r.body["error"]["fields"][0]["code"], "not_verified");

    // The verified address in another case is the same address.
    let mut body = application_body(&window, &pupil_code(), &guardian_code(), &email);
    body["guardian"]["email"] = json!(email.to_uppercase());
    let id = app.new_draft(&token, body.clone()).await;
    let path = format!("/v1/demo/applications/{id}");
    body["guardian"]["email"] = json!(victim);
    let r = app.put_auth(&path, &token, None, body.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_fields"),
        "{:?}",
        r.body
    );
    assert_eq!(r.body["error"]["fields"][0]["code"], "not_verified");
    // Without an address a draft saves; the submission needs the proved one.
    body["guardian"]["email"] = Value::Null;
    let r = app.put_auth(&path, &token, None, body.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    body["guardian"]["email"] = json!(email);
    let r = app.put_auth(&path, &token, None, body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(
        app.mails_to(&victim).await.is_empty(),
        "nothing to the unproved address"
    );
    assert!(
        !app.mails_about(&email, "lettera credenziali")
            .await
            .is_empty(),
        "the letter went to the proved address"
    );
}

/// An ID token carries the `nonce` of the login that asked for it: a client
/// that sends its own nonce gets a session only for a token bound to it.
#[tokio::test]
async fn an_id_token_must_carry_the_logins_nonce() {
    let app = shared_app();
    let id_token = app.id_token(&guardian_code()).await;
    let r = app
        .open_session(
            None,
            json!({ "id_token": id_token, "nonce": "n-del-portale" }),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (401, "invalid_id_token"),
        "{:?}",
        r.body
    );
    let r = app
        .open_session(None, json!({ "id_token": id_token, "nonce": 7 }))
        .await;
    assert_eq!(r.status, 401, "{:?}", r.body);
    // A nonce beside another login is not a login.
    let r = app
        .open_session(
            None,
            json!({ "email": unique_email("n"), "code": "123456", "nonce": "x" }),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_fields"),
        "{:?}",
        r.body
    );
}

/// The roster for schools: every field quoted, a formula made inert also
/// after a `;` (where Italian spreadsheets split cells).
#[tokio::test]
async fn the_lists_cannot_carry_a_formula() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let window = app.new_window(&staff).await;
    let email = unique_email("csv");
    let token = app.email_session(&email).await;
    let mut body = application_body(&window, &pupil_code(), &guardian_code(), &email);
    // The school is one of the comune's; the diet's notes are free text,
    // and reach the caterer's list.
    body["service"]["diet"] = json!({ "kind": "vegetarian",
        "notes": "Niente uova;=HYPERLINK(\"http://x\")" });
    let id = app.new_draft(&token, body).await;
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .post_auth(
            &format!("/v1/demo/staff/applications/{id}/confirm"),
            &staff,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .get_auth(
            &format!("/v1/demo/staff/windows/{window}/diets.csv"),
            &staff,
        )
        .await;
    assert_eq!(r.status, 200);
    let csv = r.body.as_str().expect("csv").to_owned();
    assert!(
        csv.contains("\"Niente uova;'=HYPERLINK(\"\"http://x\"\")\""),
        "{csv}"
    );
    assert!(!csv.contains(";=HYPERLINK"), "{csv}");
    // The roster for schools has the diet's kind, never its notes.
    let r = app
        .get_auth(
            &format!("/v1/demo/staff/windows/{window}/roster.csv"),
            &staff,
        )
        .await;
    let csv = r.body.as_str().expect("csv").to_owned();
    assert!(csv.contains("\"vegetariana\""), "{csv}");
    assert!(!csv.contains("uova"), "{csv}");
}

/// A client at another address (this machine's 127.0.0.x addresses stand
/// for the clients of the world).
fn stranger(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
            127, 0, 0, last,
        )))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

/// `POST /v1/demo/sessions` with `body`, from `client`.
async fn login_from(client: &reqwest::Client, body: Value) -> Reply {
    send(
        client
            .post(shared_app().url("/v1/demo/sessions"))
            .json(&body),
    )
    .await
}

/// Guesses cost the guesser: a stranger's wrong codes do not kill the
/// family's code (5 from the requester, 10 from anyone), and a stranger's
/// wrong passwords lock the stranger out, not the family.
#[tokio::test]
async fn a_strangers_guesses_cost_the_stranger_not_the_family() {
    let app = shared_app();
    let email = unique_email("guessed");
    let r = app.request_code(&email).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let code = app.latest_code(&email).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let guesser = stranger(2);
    for left in (4..10).rev() {
        let r = login_from(&guesser, json!({ "email": email, "code": wrong })).await;
        assert_eq!((r.status, r.code()), (401, "invalid_code"), "{:?}", r.body);
        assert_eq!(r.body["error"]["attempts_left"], left, "{:?}", r.body);
    }
    // Six wrong guesses later, the family's code still opens its session.
    let r = app.email_login(None, &email, &code).await;
    assert_eq!(r.status, 201, "{:?}", r.body);

    // Passwords: five wrong ones from the stranger lock the stranger only.
    let family = app
        .complete_draft(&app.open_window_id().await, "locked")
        .await;
    let password = app.mailed_password(&family.email).await;
    let guesser = stranger(3);
    for _ in 0..5 {
        let r = login_from(
            &guesser,
            json!({ "fiscal_code": family.pupil, "password": "Sbagliata-0000" }),
        )
        .await;
        assert_eq!(
            (r.status, r.code()),
            (401, "invalid_credentials"),
            "{:?}",
            r.body
        );
    }
    let r = login_from(
        &guesser,
        json!({ "fiscal_code": family.pupil, "password": password }),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (429, "too_many_attempts"),
        "{:?}",
        r.body
    );
    let r = app.password_login(&family.pupil, &password).await;
    assert_eq!(r.status, 201, "the family is not locked out: {:?}", r.body);
}
