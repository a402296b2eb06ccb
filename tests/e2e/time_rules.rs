//! Rules about time, driven over HTTP with the stack's clock moved forward.
//! One test function, on a stack of its own: it moves that stack's clock
//! by a month and closes its open window.

use crate::helpers::*;

#[tokio::test]
async fn codes_expire_caps_hold_and_windows_close() {
    let app = spawn_app();

    // A code is good for 10 minutes, to the second.
    let email = unique_email("expiry");
    let code = app.code_for(&email).await;
    app.clock.advance(600);
    let r = app.email_login(None, &email, &code).await;
    assert_eq!((r.status, r.code()), (410, "code_expired"));

    // At most 5 codes per address in an hour, even with the cooldown kept.
    let email = unique_email("hourly");
    for i in 0..5 {
        let r = app.request_code(&email).await;
        assert_eq!(r.status, 202, "code {i}: {:?}", r.body);
        app.clock.advance(61);
    }
    let r = app.request_code(&email).await;
    assert_eq!((r.status, r.code()), (429, "too_many_requests"));
    let retry = r.retry_after().expect("Retry-After");
    assert!(retry > 3000 && retry <= 3600 - 5 * 61 + 1, "{retry}");
    app.clock.advance(retry);
    assert_eq!(app.request_code(&email).await.status, 202);

    // A newly requested code replaces the old one, whose mail is now stale.
    let email = unique_email("replace");
    let old = app.code_for(&email).await;
    app.clock.advance(61);
    let new = app.code_for(&email).await;
    if old != new {
        let r = app.email_login(None, &email, &old).await;
        assert_eq!((r.status, r.code()), (401, "invalid_code"));
    }
    let r = app.email_login(None, &email, &new).await;
    assert_eq!(r.status, 201, "{:?}", r.body);

    // Submissions racing the window's close: each one is either submitted
    // before the close or refused and left a draft, never half-written.
    let r = app.get("/v1/demo/windows").await;
    let open = r.body["windows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["status"] == "open").cloned())
        .expect("open window");
    let window_id = open["id"].as_str().expect("id").to_owned();
    let closes_at = time::OffsetDateTime::parse(
        open["closes_at"].as_str().expect("closes_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("rfc3339");
    let email = unique_email("closing");
    let token = app.email_session(&email).await;
    let guardian = guardian_code();
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(
            app.new_draft(
                &token,
                application_body(&window_id, &pupil_code(), &guardian, &email),
            )
            .await,
        );
    }
    // Within 48 hours of the close: one reminder for the guardian, however
    // many drafts and however many runs.
    let reminders = |mails: &[serde_json::Value]| {
        mails
            .iter()
            .filter(|m| {
                m["subject"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Promemoria"))
            })
            .count()
    };
    let to_close = (closes_at - app.ports.clock.now()).whole_seconds();
    app.clock.advance(to_close - 47 * 3600);
    let runs = [app.run_close_windows().await, app.run_close_windows().await];
    assert!(runs.iter().all(|r| r.status == 200));
    let mails = app.mails_to(&email).await;
    assert_eq!(reminders(&mails), 1);
    let reminder = mails
        .iter()
        .rev()
        .find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|t| t.starts_with("Promemoria"))
        })
        .expect("reminder");
    assert!(
        reminder["text"]
            .as_str()
            .is_some_and(|t| t.contains("Invia iscrizione"))
    );
    // A month later the old session has expired: log in again.
    let to_close = (closes_at - app.ports.clock.now()).whole_seconds();
    app.clock.advance(to_close - 60);
    let r = app
        .get_auth(&format!("/v1/demo/applications/{}", ids[0]), &token)
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let token = app.email_session(&email).await;
    // Two seconds before the close (real time runs on): accepted.
    let to_close = (closes_at - app.ports.clock.now()).whole_seconds();
    app.clock.advance(to_close - 2);
    let first = ids.remove(0);
    let r = app.submit(&token, &first).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // The rest race the close.
    let handles: Vec<_> = ids
        .iter()
        .map(|id| {
            let (id, token) = (id.clone(), token.clone());
            tokio::spawn(async move { app.submit(&token, &id).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    app.clock.advance(2);
    for (h, id) in handles.into_iter().zip(&ids) {
        let r = h.await.expect("task");
        let stored = app
            .get_auth(&format!("/v1/demo/applications/{id}"), &token)
            .await
            .body;
        match r.status {
            200 => {
                let at = time::OffsetDateTime::parse(
                    stored["submitted_at"].as_str().expect("submitted_at"),
                    &time::format_description::well_known::Rfc3339,
                )
                .expect("rfc3339");
                assert!(at < closes_at, "submitted at {at}, after the close");
                assert_eq!(stored["status"], "submitted");
                assert!(stored["user_code"].is_string());
            }
            409 => {
                assert_eq!(r.code(), "window_closed");
                assert_eq!(stored["status"], "draft");
                assert_eq!(stored["version"], 1);
                assert!(stored["user_code"].is_null());
            }
            other => panic!("unexpected {other}: {:?}", r.body),
        }
    }
    // After the close, to the second: refused, and drafts cannot change.
    let last = ids.last().expect("id");
    let r = app.submit(&token, last).await;
    assert!(
        r.status == 200 || (r.status, r.code()) == (409, "window_closed"),
        "{:?}",
        r.body
    );

    // The windows follow the clock; the scheduled function records the
    // close once, however often it runs.
    let r = app.get("/v1/demo/windows").await;
    let same = r.body["windows"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["id"] == open["id"]).cloned())
        .expect("same window");
    assert_eq!(same["status"], "closed");
    let runs = [app.run_close_windows().await, app.run_close_windows().await];
    let total = |key: &str| -> u64 {
        runs.iter()
            .map(|r| r.body[key].as_u64().unwrap_or(99))
            .sum()
    };
    // Every window of the stack's tenants that closed is recorded by the
    // first run (this one, `demo-sms`'s twin of it, any other of the same
    // close), none again by the second.
    assert!(
        runs[0].body["windows_closed"].as_u64().unwrap_or(0) >= 1,
        "{:?}",
        runs[0].body
    );
    assert_eq!(runs[1].body["windows_closed"], 0, "{:?}", runs[1].body);
    // The drafts left behind are expired, never deleted; submitted ones
    // stay as they are. (A new code for the address only after the cooldown.)
    app.clock.advance(61);
    let token = app.email_session(&email).await;
    let mine = app.get_auth("/v1/demo/applications", &token).await.body["applications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let expired = mine.iter().filter(|a| a["status"] == "expired").count() as u64;
    assert_eq!(total("drafts_expired"), expired);
    assert!(
        mine.iter()
            .all(|a| a["status"] == "expired" || a["status"] == "submitted")
    );
    assert!(mine.iter().any(|a| a["status"] == "submitted"));
    assert_eq!(reminders(&app.mails_to(&email).await), 1);
}
