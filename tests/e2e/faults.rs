//! Nothing is lost when AWS fails. The stack runs behind the fault proxy
//! (`local/src/faults.rs`), which makes DynamoDB, SES or S3 answer as AWS
//! does under pressure while the production adapters and the SDK's own
//! retries run unchanged. The scenarios share a stack of their own, whose
//! switches and clock no other test sees, and take turns on it.

use crate::helpers::*;
use local::faults::Fault;
use serde_json::{Value, json};

/// The stack of these scenarios, and the turn on it: hold the turn while
/// the scenario runs.
async fn turn() -> (tokio::sync::MutexGuard<'static, ()>, &'static TestApp) {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    static APP: std::sync::OnceLock<&'static TestApp> = std::sync::OnceLock::new();
    let turn = TURN.lock().await;
    (turn, APP.get_or_init(spawn_app))
}

/// A new family's complete draft on `app`.
async fn draft(app: &TestApp) -> Family {
    app.complete_draft(&app.open_window_id().await, "faults")
        .await
}

async fn scheduled_run(app: &TestApp) -> Value {
    let r = app.run_close_windows().await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn mails_refused_by_ses_go_out_later_exactly_once() {
    let (_turn, app) = turn().await;
    let Family {
        id, token, email, ..
    } = draft(app).await;
    let letters_before = app.mails_to(&email).await.len();

    // "Invia iscrizione" while SES throttles: still a stored, valid
    // submission with its user code; the letter waits in the outbox.
    app.faults.set(Fault::Ses, true);
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "submitted");
    let user_code = r.body["user_code"].as_str().expect("user code").to_owned();
    let staff = app.staff_token("demo").await;
    let r = app.confirm(&staff, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // A scheduled run while SES still fails sends nothing, loses nothing.
    app.clock.advance(61);
    let report = scheduled_run(app).await;
    assert_eq!(report["mails"]["sent"], 0, "{report}");
    app.faults.clear();
    assert_eq!(app.mails_to(&email).await.len(), letters_before);

    // SES is back; the next run after the backoff sends both, once.
    app.clock.advance(121);
    let report = scheduled_run(app).await;
    assert!(report["mails"]["sent"].as_u64() >= Some(2), "{report}");
    let report = scheduled_run(app).await;
    assert_eq!(report["mails"]["sent"], 0, "{report}");
    let mails = app.mails_to(&email).await;
    assert_eq!(mails.len(), letters_before + 2);
    let letter = mails
        .iter()
        .find(|m| m["attachments"].as_array().is_some_and(|a| !a.is_empty()))
        .expect("the credentials letter");
    assert!(letter["text"].as_str().unwrap_or("").contains(&user_code));
    assert_eq!(
        app.mails_about(&email, "Iscrizione confermata").await.len(),
        1
    );
}

#[tokio::test]
async fn documents_that_s3_refused_are_made_on_the_next_request() {
    let (_turn, app) = turn().await;
    let Family {
        id, token, email, ..
    } = draft(app).await;

    app.faults.set(Fault::S3, true);
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let version = r.body["version"].as_u64().expect("version");
    // The letter's PDF is made in memory: it went out anyway.
    assert!(
        app.mails_to(&email)
            .await
            .iter()
            .any(|m| m["attachments"].as_array().is_some_and(|a| !a.is_empty()))
    );
    // While S3 fails the documents answer 503 with Retry-After.
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}/documents"), &token)
        .await;
    r.assert_unavailable();
    app.faults.clear();

    let key = format!("documents/demo/{id}/v{version}/summary.pdf");
    assert!(!app.ports.documents.exists(&key).await.expect("head"));
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}/documents"), &token)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["documents"].as_array().map(Vec::len), Some(3));
    assert!(app.ports.documents.exists(&key).await.expect("head"));
}

#[tokio::test]
async fn a_throttled_database_write_is_503_and_leaves_nothing_behind() {
    let (_turn, app) = turn().await;
    let window = app.open_window_id().await;
    let email = unique_email("throttled");
    let token = app.email_session(&email).await;
    let body = application_body(&window, &pupil_code(), &guardian_code(), &email);

    // A draft: 503 with Retry-After, and no trace of it (no guard either).
    app.faults.set(Fault::DynamoDbWrites, true);
    let r = app.save_draft(&token, body.clone()).await;
    app.faults.clear();
    r.assert_unavailable();
    let r = app.get_auth("/v1/demo/applications", &token).await;
    assert_eq!(r.body["applications"], json!([]));
    let id = app.new_draft(&token, body).await;

    // A submit: 503, still a draft at the same version, no user code.
    app.faults.set(Fault::DynamoDbWrites, true);
    let r = app.submit(&token, &id).await;
    app.faults.clear();
    r.assert_unavailable();
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &token)
        .await;
    assert_eq!(r.body["status"], "draft");
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.body["user_code"], Value::Null);
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // An email code: 503 and no mail (nothing stored, nothing sent).
    let other = unique_email("throttled-code");
    app.faults.set(Fault::DynamoDbWrites, true);
    let r = app.request_code(&other).await;
    app.faults.clear();
    r.assert_unavailable();
    assert!(app.mails_to(&other).await.is_empty());
    let r = app.request_code(&other).await;
    assert_eq!(r.status, 202, "{:?}", r.body);

    // Reads failing too: 503, never 500.
    app.faults.set(Fault::DynamoDb, true);
    let r = app.get("/v1/demo/windows").await;
    app.faults.clear();
    r.assert_unavailable();
}

/// The temporary password of a first draft is owed through the outbox: a
/// mail SES refused goes out later, once, with a password that works; the
/// password drawn for the refused mail never does.
#[tokio::test]
async fn a_temporary_password_that_ses_refused_goes_out_later() {
    let (_turn, app) = turn().await;
    let window = app.open_window_id().await;
    let email = unique_email("pw-later");
    let token = app.email_session(&email).await;
    let pupil = pupil_code();
    app.faults.set(Fault::Ses, true);
    let r = app
        .save_draft(
            &token,
            application_body(&window, &pupil, &guardian_code(), &email),
        )
        .await;
    assert_eq!(r.status, 201, "the draft is saved: {:?}", r.body);
    app.clock.advance(61);
    let report = scheduled_run(app).await;
    assert_eq!(report["mails"]["sent"], 0, "{report}");
    app.faults.clear();
    assert!(app.mails_about(&email, "password").await.is_empty());

    app.clock.advance(121);
    let report = scheduled_run(app).await;
    assert!(report["mails"]["sent"].as_u64() >= Some(1), "{report}");
    let report = scheduled_run(app).await;
    assert_eq!(report["mails"]["sent"], 0, "{report}");
    let password = app.mailed_password(&email).await;
    let mails = app
        .mails_to(&email)
        .await
        .into_iter()
        .filter(|m| m["text"].as_str().unwrap_or("").contains("Password: "))
        .count();
    assert_eq!(mails, 1, "one password mail");
    let r = app.password_login(&pupil, &password).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// A reminder is owed through the outbox too: while SES refuses it, it
/// waits; then it goes out once, however many runs.
#[tokio::test]
async fn a_reminder_that_ses_refused_goes_out_later_once() {
    let (_turn, app) = turn().await;
    let staff = app.staff_token("demo").await;
    let window = app.new_window(&staff).await;
    // The window closes within 48 hours.
    let closes = (app.ports.clock.now() + time::Duration::hours(24))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let r = app
        .patch_auth(
            &format!("/v1/demo/staff/windows/{window}"),
            &staff,
            json!({ "closes_at": closes }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let family = app.complete_draft(&window, "reminded").await;
    let reminders = || async { app.mails_about(&family.email, "Promemoria").await.len() };
    app.faults.set(Fault::Ses, true);
    scheduled_run(app).await;
    app.faults.clear();
    assert_eq!(reminders().await, 0);
    app.clock.advance(61);
    scheduled_run(app).await;
    scheduled_run(app).await;
    assert_eq!(reminders().await, 1, "sent once, after SES came back");
}

#[tokio::test]
async fn app_io_down_once_sends_its_message_later_exactly_once() {
    let (_turn, app) = turn().await;
    let guardian = guardian_code();
    let email = unique_email("io-down");
    let token = app.spid_session(&guardian, Some(&email)).await;
    let body = application_body(
        &app.open_window_id().await,
        &pupil_code(),
        &guardian,
        &email,
    );
    let id = app.new_draft(&token, body).await;
    app.faults.set(Fault::AppIo, true);
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "submitted all the same: {:?}", r.body);
    // The mail went at once; the App IO message waits.
    assert_eq!(
        app.mails_about(&email, "lettera credenziali").await.len(),
        1
    );
    assert!(
        crate::languages::io_messages(app, &guardian)
            .await
            .is_empty()
    );
    app.clock.advance(61);
    scheduled_run(app).await;
    assert!(
        crate::languages::io_messages(app, &guardian)
            .await
            .is_empty()
    );
    app.faults.clear();

    // App IO is back: the next run after the backoff sends it, once, and
    // the mail is not sent again.
    app.clock.advance(121);
    scheduled_run(app).await;
    scheduled_run(app).await;
    app.clock.advance(3600);
    scheduled_run(app).await;
    let got = crate::languages::io_messages(app, &guardian).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0]["subject"]
            .as_str()
            .unwrap_or("")
            .starts_with("Iscrizione inviata")
    );
    assert_eq!(
        app.mails_about(&email, "lettera credenziali").await.len(),
        1
    );
}

/// A morning when SES takes one mail in four, for as long as it lasts:
/// families still save, submit and are confirmed; every mail SES refused
/// waits in the outbox and goes out later; in the end each family has
/// exactly one temporary password (one that works), one credentials
/// letter and one confirmation: nothing lost, nothing doubled.
#[tokio::test]
async fn a_sustained_ses_throttle_loses_and_doubles_no_mail() {
    let (_turn, app) = turn().await;
    let window = app.open_window_id().await;
    let staff = app.staff_token("demo").await;
    let mut families = Vec::new();
    for _ in 0..8 {
        let email = unique_email("throttle");
        let token = app.email_session(&email).await;
        families.push((email, token, pupil_code()));
    }
    app.faults.throttle_ses(4);
    let mut running = tokio::task::JoinSet::new();
    for (email, token, pupil) in families.clone() {
        let window = window.clone();
        let staff = staff.clone();
        running.spawn(async move {
            let body = application_body(&window, &pupil, &guardian_code(), &email);
            let id = app.new_draft(&token, body).await;
            let r = app.submit(&token, &id).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            let r = app.confirm(&staff, &id).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        });
    }
    while let Some(done) = running.join_next().await {
        done.expect("family");
    }
    let mut sent = 0;
    for (email, _, _) in &families {
        sent += app.mails_to(email).await.len();
    }
    // Each family's code mail, and not all of the three mails owed since.
    assert!(
        sent < 8 * 4,
        "the throttle deferred some mails: {sent} sent"
    );
    // Scheduled runs while the throttle goes on: some of what is owed goes
    // out, the rest waits.
    for _ in 0..3 {
        app.clock.advance(3_601);
        scheduled_run(app).await;
    }
    app.faults.clear();
    for _ in 0..3 {
        app.clock.advance(3_601);
        scheduled_run(app).await;
    }
    let report = scheduled_run(app).await;
    assert_eq!(report["mails"]["sent"], 0, "nothing left owed: {report}");
    for (email, _, pupil) in &families {
        let mails = app.mails_to(email).await;
        let passwords = app.mails_about(email, "password").await;
        assert_eq!(passwords.len(), 1, "one password mail");
        let letters = mails
            .iter()
            .filter(|m| m["attachments"].as_array().is_some_and(|a| !a.is_empty()))
            .count();
        assert_eq!(letters, 1, "one credentials letter");
        assert_eq!(
            app.mails_about(email, "Iscrizione confermata").await.len(),
            1,
            "one confirmation"
        );
        let password = app.mailed_password(email).await;
        let r = app.password_login(pupil, &password).await;
        assert_eq!(r.status, 201, "the mailed password works: {:?}", r.body);
    }
}
