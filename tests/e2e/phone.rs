//! Mobile phone verification on `demo-sms`, the seeded tenant that requires
//! it: the code by SMS, wrong codes, the limits (per number and per
//! session), the comune's hourly thresholds (a challenge, never a refusal),
//! and a submission refused until the guardian's number is proved.

use crate::helpers::*;
use serde_json::{Value, json};

const TENANT: &str = "demo-sms";
const WINDOW: &str = "w-refezione-2026";

fn path(rest: &str) -> String {
    format!("/v1/{TENANT}/{rest}")
}

async fn ask(app: &TestApp, token: Option<&str>, phone: &str) -> Reply {
    let body = json!({ "phone": phone });
    match token {
        Some(t) => app.post_auth(&path("phone-codes"), t, body).await,
        None => app.post(&path("phone-codes"), body).await,
    }
}

async fn prove(app: &TestApp, token: &str, phone: &str, code: &str) -> Reply {
    app.post_auth(
        &path("sessions"),
        token,
        json!({ "phone": phone, "code": code }),
    )
    .await
}

/// A family on `demo-sms` with a complete draft whose guardian's phone is
/// `phone`: (token, email, application id, body).
async fn family_with_draft(app: &TestApp, phone: &str) -> (String, String, String, Value) {
    let email = unique_email("sms");
    let token = app.email_session_in(TENANT, &email).await;
    let mut body = application_body(WINDOW, &pupil_code(), &guardian_code(), &email);
    body["guardian"]["phone"] = json!(phone);
    let r = app
        .post_auth(&path("applications"), &token, body.clone())
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    (token, email, id, body)
}

async fn submit(app: &TestApp, token: &str, id: &str) -> Reply {
    app.post_auth(
        &path(&format!("applications/{id}/submit")),
        token,
        json!({}),
    )
    .await
}

fn assert_phone_not_verified(r: &Reply) {
    assert_eq!((r.status, r.code()), (422, "incomplete"), "{:?}", r.body);
    assert_eq!(r.body["error"]["fields"][0]["field"], "guardian.phone");
    assert_eq!(r.body["error"]["fields"][0]["code"], "not_verified");
}

/// The whole path: submit refused, a code by SMS naming the comune, a wrong
/// code, the right one, then the submission; the office sees the phone
/// proved.
#[tokio::test]
async fn a_family_proves_its_mobile_before_submitting() {
    let app = shared_app();
    let phone = unique_mobile();
    let written = format!("{} {} {}", &phone[3..6], &phone[6..9], &phone[9..]);
    let (token, _, id, _) = family_with_draft(app, &written).await;
    let r = app.get(&path("windows")).await;
    assert_eq!(r.body["tenant"]["require_verified_phone"], true);

    assert_phone_not_verified(&submit(app, &token, &id).await);

    let r = ask(app, Some(&token), &written).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body, json!({ "expires_in": 600, "resend_after": 60 }));
    let sms = app.sms_to(&phone).await;
    assert_eq!(sms.len(), 1, "one SMS to the E.164 number: {sms:?}");
    let text = sms[0]["text"].as_str().unwrap_or("");
    assert!(text.contains("Comune di Esempio"), "{text}");
    assert!(sms[0]["sent_at"].is_string());
    let code = app.latest_sms_code(&phone).await;

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = prove(app, &token, &phone, wrong).await;
    assert_eq!((r.status, r.code()), (401, "invalid_code"), "{:?}", r.body);
    assert_eq!(r.body["error"]["attempts_left"], 4);

    let r = prove(app, &token, &written, &code).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["session"]["phone"], phone.as_str());
    assert!(r.body["session"]["email"].is_string(), "the email stays");
    let proved = session_token(&r);
    // A code is used once.
    let r = prove(app, &proved, &phone, &code).await;
    assert_eq!((r.status, r.code()), (410, "code_expired"), "{:?}", r.body);

    let r = submit(app, &proved, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let staff = app.staff_token(TENANT).await;
    let r = app
        .get_auth(&path(&format!("staff/applications/{id}")), &staff)
        .await;
    assert_eq!(r.body["verification"]["phone"], true, "{:?}", r.body);
    assert_eq!(r.body["verification"]["email"], true);
}

/// A proof is kept by the application while its number is unchanged: a
/// draft saved in a session with the proved phone may be submitted later
/// from a session without it; a changed number must be proved again.
#[tokio::test]
async fn a_proof_lasts_while_the_number_is_unchanged() {
    let app = shared_app();
    let phone = unique_mobile();
    let (token, _, id, mut body) = family_with_draft(app, &phone).await;
    assert_eq!(ask(app, Some(&token), &phone).await.status, 202);
    let code = app.latest_sms_code(&phone).await;
    let proved = session_token(&prove(app, &token, &phone, &code).await);
    // Saved with the proved session: the application keeps the proof.
    let r = app
        .put_auth(
            &path(&format!("applications/{id}")),
            &proved,
            None,
            body.clone(),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Another number, saved from the session that never proved it.
    body["guardian"]["phone"] = json!(unique_mobile());
    let r = app
        .put_auth(
            &path(&format!("applications/{id}")),
            &token,
            None,
            body.clone(),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_phone_not_verified(&submit(app, &token, &id).await);
    // Back to the proved number, from the session without the phone.
    body["guardian"]["phone"] = json!(phone);
    let r = app
        .put_auth(&path(&format!("applications/{id}")), &proved, None, body)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = submit(app, &token, &id).await;
    assert_eq!(r.status, 200, "proved for this application: {:?}", r.body);
}

/// Who may ask: a session with a verified email, for a mobile number.
#[tokio::test]
async fn only_a_session_with_a_proved_email_may_ask_for_a_mobile() {
    let app = shared_app();
    let phone = unique_mobile();
    let r = ask(app, None, &phone).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"), "{:?}", r.body);
    // A SPID session without an email.
    let id_token = app.id_token(&guardian_code()).await;
    let r = app
        .post(&path("sessions"), json!({ "id_token": id_token }))
        .await;
    let spid = session_token(&r);
    let r = ask(app, Some(&spid), &phone).await;
    assert_eq!(
        (r.status, r.code()),
        (403, "email_verification_required"),
        "{:?}",
        r.body
    );
    let r = prove(app, &spid, &phone, "123456").await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    // A session of another tenant is not one here.
    let demo = app.email_session(&unique_email("demo")).await;
    assert_eq!(ask(app, Some(&demo), &phone).await.status, 404);

    let email = unique_email("sms-kinds");
    let token = app.email_session_in(TENANT, &email).await;
    for bad in ["+39 06 1234567", "080 0000000", "12345", "not a phone", ""] {
        let r = ask(app, Some(&token), bad).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "invalid_phone"),
            "{bad}: {:?}",
            r.body
        );
        assert_eq!(r.body["error"]["fields"][0]["field"], "phone");
    }
    let r = app
        .post_auth(
            &path("phone-codes"),
            &token,
            json!({ "phone": 3331234567u64 }),
        )
        .await;
    assert_eq!(r.code(), "invalid_phone", "{:?}", r.body);
    let r = app
        .post_auth(
            &path("phone-codes"),
            &token,
            json!({ "phone": phone, "x": 1 }),
        )
        .await;
    assert_eq!(r.code(), "unknown_field", "{:?}", r.body);
    // A foreign mobile is welcome (one test asks for it: no cooldown).
    let foreign = "+44 7911 123456";
    let r = ask(app, Some(&token), foreign).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(app.sms_to(&foreign.replace(' ', "")).await.len(), 1);
    // Nothing was sent to a refused number.
    assert!(app.sms_to("+39061234567").await.is_empty());
}

/// The limits: a resend waits a minute; three numbers a session; the
/// tenant's hourly cap, past which nothing is sent.
#[tokio::test]
async fn sms_are_limited_per_number_session_and_tenant() {
    let app = shared_app();
    let token = app
        .email_session_in(TENANT, &unique_email("sms-limits"))
        .await;
    let first = unique_mobile();
    assert_eq!(ask(app, Some(&token), &first).await.status, 202);
    let r = ask(app, Some(&token), &first).await;
    assert_eq!((r.status, r.code()), (429, "too_many_requests"));
    assert!(r.header("retry-after").is_some());
    assert_eq!(app.sms_to(&first).await.len(), 1);
    for _ in 0..2 {
        assert_eq!(ask(app, Some(&token), &unique_mobile()).await.status, 202);
    }
    let fourth = unique_mobile();
    let r = ask(app, Some(&token), &fourth).await;
    assert_eq!(
        (r.status, r.code()),
        (429, "too_many_requests"),
        "{:?}",
        r.body
    );
    assert!(r.header("retry-after").is_some());
    assert!(app.sms_to(&fourth).await.is_empty());
    // A session merged with another login keeps its count.
    let id_token = app.id_token(&guardian_code()).await;
    let merged = session_token(
        &app.post_auth(&path("sessions"), &token, json!({ "id_token": id_token }))
            .await,
    );
    assert_eq!(ask(app, Some(&merged), &fourth).await.status, 429);
}

/// A comune past its hourly thresholds of code mails and SMS: no family
/// is refused (every code is sent), the scheduled run puts its two code
/// paths on the web ACL's challenge list, leaves other comuni off it, and
/// takes them off once an hour has passed under the thresholds.
#[tokio::test]
async fn a_comune_over_its_code_thresholds_is_challenged_never_refused() {
    let app = spawn_app();
    let slug = "code-cap";
    let mut tenant: shared::domain::tenant::Tenant = serde_json::from_value(json!({
        "slug": slug, "name": "Comune di Prova", "contact_email": "ufficio@prova.example.it",
        "phone": "+39 06 1234567", "services": ["refezione"],
        "require_verified_phone": true, "sms_per_hour": 2, "code_mails_per_hour": 3
    }))
    .expect("tenant");
    tenant.staff_auth = None;
    local::seed::seed_tenant(&app.ports, &tenant, &[])
        .await
        .expect("seed");
    let list = app
        .ports
        .challenges
        .clone()
        .expect("the stack keeps a challenge list");
    // Four code mails and three SMS: one past each threshold, all sent.
    for n in 0..4 {
        let email = unique_email(&format!("cap{n}"));
        let token = app.email_session_in(slug, &email).await;
        if n == 3 {
            break;
        }
        let phone = unique_mobile();
        let r = app
            .post_auth(
                &format!("/v1/{slug}/phone-codes"),
                &token,
                json!({ "phone": phone }),
            )
            .await;
        assert_eq!(r.status, 202, "{:?}", r.body);
        assert_eq!(app.sms_to(&phone).await.len(), 1);
    }
    let mail = format!("/v1/{slug}/email-codes$");
    let sms = format!("/v1/{slug}/phone-codes$");
    assert!(
        !list.get().await.expect("list").contains(&mail),
        "not before the scheduled run"
    );
    let run = app.run_close_windows().await;
    assert_eq!(run.status, 200, "{:?}", run.body);
    assert_eq!(
        run.body["challenges"],
        json!({ "challenged_paths": 2, "changed": true })
    );
    let on: Vec<String> = list.get().await.expect("list").into_iter().collect();
    assert_eq!(on, vec![mail.clone(), sms.clone(), "^$".to_owned()]);
    // The seeded comuni, under their thresholds, are not challenged; a
    // second run changes nothing.
    let again = app.run_close_windows().await;
    assert_eq!(again.body["challenges"]["changed"], json!(false));
    // The next hour still remembers the last; the one after is quiet.
    app.clock.advance(3600);
    app.run_close_windows().await;
    assert!(list.get().await.expect("list").contains(&mail));
    app.clock.advance(3600);
    let quiet = app.run_close_windows().await;
    assert_eq!(
        quiet.body["challenges"],
        json!({ "challenged_paths": 0, "changed": true })
    );
    let off: Vec<String> = list.get().await.expect("list").into_iter().collect();
    assert_eq!(off, vec!["^$".to_owned()]);
}

/// Two tabs of one session ask for a fourth number at once: one wins.
#[tokio::test]
async fn two_tabs_cannot_slip_past_the_numbers_limit() {
    let app = shared_app();
    let token = app
        .email_session_in(TENANT, &unique_email("sms-tabs"))
        .await;
    for _ in 0..2 {
        assert_eq!(ask(app, Some(&token), &unique_mobile()).await.status, 202);
    }
    let (a, b) = (unique_mobile(), unique_mobile());
    let (ra, rb) = tokio::join!(ask(app, Some(&token), &a), ask(app, Some(&token), &b));
    let mut statuses = [ra.status, rb.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 429], "{:?} {:?}", ra.body, rb.body);
}
