//! Places and waiting lists: positions derived from the window's order,
//! the capacity bound at confirmation, the waiting list, a freed place
//! announced to the family that comes within it, the ranking list.

use crate::helpers::*;
use serde_json::{Value, json};

/// A new open care window of `demo` with `capacity` places and `ranking`.
async fn window(app: &TestApp, staff: &str, capacity: u32, ranking: &str) -> String {
    let now = app.ports.clock.now();
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .expect("format")
    };
    let r = app
        .post_auth(
            "/v1/demo/staff/windows",
            staff,
            json!({ "service": "pre_post_scuola", "school_year": "2026/2027",
                    "opens_at": fmt(now - time::Duration::days(1)),
                    "closes_at": fmt(now + time::Duration::days(20)),
                    "capacity": capacity, "ranking": ranking }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["capacity"], capacity);
    assert_eq!(r.body["ranking"], ranking);
    r.body["id"].as_str().expect("id").to_owned()
}

/// A family's submitted care application in `window` declaring `criteria`.
async fn submitted(app: &TestApp, window: &str, tag: &str, criteria: &[&str]) -> Family {
    let family = draft(app, window, tag, criteria).await;
    let r = app.submit(&family.token, &family.id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    family
}

async fn draft(app: &TestApp, window: &str, tag: &str, criteria: &[&str]) -> Family {
    let email = unique_email(tag);
    let token = app.email_session(&email).await;
    let pupil = pupil_code();
    let mut body = application_body(window, &pupil, &guardian_code(), &email);
    body["service"] = json!({ "slots": ["pre"], "days": ["mon", "tue"], "criteria": criteria });
    let id = app.new_draft(&token, body.clone()).await;
    Family {
        id,
        token,
        email,
        pupil,
        body,
    }
}

async fn rank(app: &TestApp, family: &Family) -> Value {
    let r = app
        .get_auth(
            &format!("/v1/demo/applications/{}", family.id),
            &family.token,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["rank"].clone()
}

#[tokio::test]
async fn one_place_two_families_and_a_withdrawal_promotes_the_second() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let w = window(app, &staff, 1, "first_come").await;
    let first = submitted(app, &w, "place-first", &[]).await;
    let second = submitted(app, &w, "place-second", &[]).await;
    assert_eq!(
        rank(app, &first).await,
        json!({ "position": 1, "points": 0, "within_capacity": true })
    );
    assert_eq!(rank(app, &second).await["position"], 2);
    assert_eq!(rank(app, &second).await["within_capacity"], false);
    // The capacity binds at confirmation.
    let r = app.confirm(&staff, &second.id).await;
    assert_eq!((r.status, r.code()), (409, "no_places"), "{:?}", r.body);
    // The office moves it to the waiting list; the family is told.
    let r = app
        .post_auth(
            &format!("/v1/demo/staff/applications/{}/waitlist", second.id),
            &staff,
            json!({}),
        )
        .await;
    assert_eq!(r.body["status"], "waitlisted", "{:?}", r.body);
    assert_eq!(
        app.mails_about(&second.email, "lista d'attesa").await.len(),
        1
    );
    assert_eq!(app.confirm(&staff, &first.id).await.status, 200);
    // The first family withdraws: the place goes to the second, mailed.
    let r = app
        .post_auth(
            &format!("/v1/demo/applications/{}/withdraw", first.id),
            &first.token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(rank(app, &first).await, Value::Null, "no place any more");
    assert_eq!(
        rank(app, &second).await,
        json!({ "position": 1, "points": 0, "within_capacity": true })
    );
    let mails = app.mails_about(&second.email, "Posto disponibile").await;
    assert_eq!(mails.len(), 1, "one mail");
    let r = app.confirm(&staff, &second.id).await;
    assert_eq!(
        r.status, 200,
        "from the waiting list, now within: {:?}",
        r.body
    );
    // The ranking list: position, code, pupil, points, status; no fiscal code.
    let r = send(
        client()
            .get(app.url(&format!("/v1/demo/staff/windows/{w}/ranking.csv")))
            .bearer_auth(&staff),
    )
    .await;
    assert_eq!(r.status, 200);
    let text = r.body.as_str().unwrap_or("").to_owned();
    assert!(text.starts_with("\"position\",\"user_code\""), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(!text.contains(&second.pupil), "no fiscal code");
}

#[tokio::test]
async fn points_beat_an_earlier_submission() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let w = window(app, &staff, 1, "points").await;
    let early = submitted(app, &w, "points-early", &["sibling"]).await;
    let late = submitted(app, &w, "points-late", &["both_working", "single_parent"]).await;
    assert_eq!(
        rank(app, &late).await,
        json!({ "position": 1, "points": 7, "within_capacity": true })
    );
    assert_eq!(
        rank(app, &early).await,
        json!({ "position": 2, "points": 1, "within_capacity": false })
    );
    assert_eq!(app.confirm(&staff, &early.id).await.code(), "no_places");
    // The office checks the declarations: the late family is not a
    // single parent, and the early one's places change with it.
    let path = format!("/v1/demo/staff/applications/{}/criteria", late.id);
    let r = app
        .post_auth(&path, &staff, json!({ "criteria": ["rich"] }))
        .await;
    assert_eq!(
        r.body["error"]["fields"][0]["field"], "criteria",
        "{:?}",
        r.body
    );
    let r = app
        .post_auth(&path, &staff, json!({ "criteria": [] }))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["rank"],
        json!({ "position": 2, "points": 0, "within_capacity": false })
    );
    let last = r.body["history"].as_array().and_then(|h| h.last().cloned());
    assert!(
        last.and_then(|h| h["reason"].as_str().map(str::to_owned))
            .is_some_and(|r| r.starts_with("Criteri corretti dall'ufficio"))
    );
    assert_eq!(
        app.mails_about(&late.email, "Criteri della graduatoria")
            .await
            .len(),
        1
    );
    assert_eq!(rank(app, &early).await["position"], 1);
    // A window without places has no rank.
    let meals = app.open_window_id().await;
    let family = app.submitted_application(&meals, "no-places").await;
    assert_eq!(rank(app, &family).await, Value::Null);
}

#[tokio::test]
async fn ten_parallel_submits_for_three_places_leave_positions_one_to_ten() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let w = window(app, &staff, 3, "first_come").await;
    let mut families = Vec::new();
    for i in 0..10 {
        families.push(draft(app, &w, &format!("parallel-{i}"), &[]).await);
    }
    let submits: Vec<_> = families
        .iter()
        .map(|f| {
            let (token, id) = (f.token.clone(), f.id.clone());
            tokio::spawn(async move { shared_app().submit(&token, &id).await.status })
        })
        .collect();
    for s in submits {
        assert_eq!(s.await.expect("task"), 200);
    }
    let mut positions = Vec::new();
    let mut within = 0;
    for f in &families {
        let r = rank(app, f).await;
        positions.push(r["position"].as_u64().expect("position"));
        within += usize::from(r["within_capacity"] == true);
    }
    positions.sort_unstable();
    assert_eq!(positions, (1..=10).collect::<Vec<u64>>());
    assert_eq!(within, 3);
}

/// A withdrawal racing a confirmation for the last place: whichever comes
/// first, never more confirmed than places, and the one left waiting is
/// within the places once the other is gone.
#[tokio::test]
async fn a_withdrawal_racing_a_confirmation_never_overfills() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    for round in 0..3 {
        let w = window(app, &staff, 1, "first_come").await;
        let first = submitted(app, &w, &format!("race-first-{round}"), &[]).await;
        let second = submitted(app, &w, &format!("race-second-{round}"), &[]).await;
        let withdraw_path = format!("/v1/demo/applications/{}/withdraw", first.id);
        let (withdrawn, confirmed) = tokio::join!(
            app.post_auth(&withdraw_path, &first.token, json!({})),
            app.confirm(&staff, &second.id)
        );
        assert_eq!(withdrawn.status, 200, "{:?}", withdrawn.body);
        assert!(
            confirmed.status == 200 || confirmed.code() == "no_places",
            "{:?}",
            confirmed.body
        );
        let now = rank(app, &second).await;
        assert_eq!(now["position"], 1, "{now}");
        assert_eq!(now["within_capacity"], true);
        if confirmed.status != 200 {
            assert_eq!(app.confirm(&staff, &second.id).await.status, 200);
        }
        // One confirmed, the place full: a third family waits.
        let third = submitted(app, &w, &format!("race-third-{round}"), &[]).await;
        assert_eq!(app.confirm(&staff, &third.id).await.code(), "no_places");
    }
}
