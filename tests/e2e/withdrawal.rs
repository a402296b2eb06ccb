//! "Rinuncia": the family gives an application up, or the office records
//! it on the family's behalf; the family is mailed and the pupil is free
//! again, for another family and for the one that withdrew.

use crate::helpers::*;
use serde_json::json;

async fn withdraw(app: &TestApp, token: &str, id: &str) -> Reply {
    app.post_auth(
        &format!("/v1/demo/applications/{id}/withdraw"),
        token,
        json!({}),
    )
    .await
}

#[tokio::test]
async fn a_family_withdraws_and_the_pupil_is_free_again() {
    let app = shared_app();
    let window = app.open_window_id().await;
    let pupil = pupil_code();
    let other = app.complete_draft_for(&window, &pupil, "next").await;
    let family = app.complete_draft_for(&window, &pupil, "withdraws").await;
    assert_eq!(app.submit(&family.token, &family.id).await.status, 200);
    let r = app.submit(&other.token, &other.id).await;
    assert_eq!(r.code(), "duplicate_pupil", "held while submitted");
    // Someone else's application is not found.
    assert_eq!(withdraw(app, &other.token, &family.id).await.status, 404);

    let r = withdraw(app, &family.token, &family.id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "withdrawn");
    let mails = app.mails_about(&family.email, "Rinuncia registrata").await;
    assert_eq!(mails.len(), 1, "one mail");
    assert!(
        mails[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Stato iscrizione: Ritirata"))
    );
    // Twice is not a second withdrawal.
    let r = withdraw(app, &family.token, &family.id).await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"));
    // The pupil is free: the other family enrolls, and the family that
    // withdrew could have started again.
    let r = app.submit(&other.token, &other.id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let staff = app.staff_token("demo").await;
    let r = app
        .get_auth(
            &format!("/v1/demo/staff/applications/{}", family.id),
            &staff,
        )
        .await;
    let last = r.body["history"].as_array().and_then(|h| h.last().cloned());
    assert_eq!(
        last.map(|h| (h["by"].clone(), h["to"].clone())),
        Some((json!("parent"), json!("withdrawn")))
    );
}

#[tokio::test]
async fn a_draft_or_a_confirmed_application_may_be_withdrawn_and_the_family_starts_again() {
    let app = shared_app();
    let window = app.open_window_id().await;
    let draft = app.complete_draft(&window, "draft-withdraws").await;
    let r = withdraw(app, &draft.token, &draft.id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // The family's guard is gone: a new draft for the same pupil is saved.
    let r = app.save_draft(&draft.token, draft.body.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);

    let confirmed = app
        .submitted_application(&window, "confirmed-withdraws")
        .await;
    let staff = app.staff_token("demo").await;
    assert_eq!(app.confirm(&staff, &confirmed.id).await.status, 200);
    let r = withdraw(app, &confirmed.token, &confirmed.id).await;
    assert_eq!(r.body["status"], "withdrawn", "{:?}", r.body);
    // A rejected one is over already.
    let rejected = app.submitted_application(&window, "rejected").await;
    let r = app
        .reject(
            &staff,
            &rejected.id,
            json!({ "reason": "Residenza fuori dal Comune" }),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = withdraw(app, &rejected.token, &rejected.id).await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"));
}

#[tokio::test]
async fn the_office_records_a_withdrawal_with_its_reason() {
    let app = shared_app();
    let window = app.open_window_id().await;
    let family = app.submitted_application(&window, "phoned").await;
    let staff = app.staff_token("demo").await;
    let path = format!("/v1/demo/staff/applications/{}/withdraw", family.id);
    let r = app.post_auth(&path, &staff, json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_fields"),
        "{:?}",
        r.body
    );
    assert_eq!(r.body["error"]["fields"][0]["field"], "reason");
    // A parent session is not staff.
    assert_eq!(
        app.post_auth(&path, &family.token, json!({ "reason": "x" }))
            .await
            .status,
        403
    );
    let r = app
        .post_auth(
            &path,
            &staff,
            json!({ "reason": "La madre ha telefonato: trasferimento in altro Comune." }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "withdrawn");
    let last = r.body["history"].as_array().and_then(|h| h.last().cloned());
    let last = last.expect("history");
    assert!(last["by"].as_str().is_some_and(|b| b.starts_with("staff:")));
    assert_eq!(
        last["reason"],
        "La madre ha telefonato: trasferimento in altro Comune."
    );
    assert_eq!(
        app.mails_about(&family.email, "Rinuncia registrata")
            .await
            .len(),
        1
    );
    let r = app
        .post_auth(&path, &staff, json!({ "reason": "Di nuovo" }))
        .await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"));
}
