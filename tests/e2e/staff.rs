//! The office's side over HTTP: staff tokens (and every way to fake one),
//! the list with paging, decisions and their mails, windows, the roster.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn confirm_and_reject_with_mails_and_history() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let window = app.open_window_id().await;
    let Family {
        id,
        token: parent,
        email,
        ..
    } = app.submitted_application(&window, "staffcase").await;

    let r = app
        .get_auth(&format!("/v1/demo/staff/applications/{id}"), &staff)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "submitted");
    let history = r.body["history"].as_array().expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["from"], "draft");
    assert_eq!(history[1]["to"], "submitted");

    let r = app.confirm(&staff, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "confirmed");
    assert!(r.body["decided_at"].is_string());
    assert_eq!(r.body["history"].as_array().map(Vec::len), Some(3));
    let r = app.confirm(&staff, &id).await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"));
    let r = app.reject(&staff, &id, json!({ "reason": "x" })).await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"));

    let mails = app.mails_about(&email, "Iscrizione confermata").await;
    let mail = mails.first().expect("confirmation mail");
    assert!(
        mail["text"]
            .as_str()
            .is_some_and(|t| t.contains("Stato iscrizione: Confermata"))
    );

    // The parent sees it; a confirmed application cannot be changed.
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &parent)
        .await;
    assert_eq!(r.body["status"], "confirmed");
    assert!(r.body["decided_at"].is_string());

    let Family {
        id: other,
        email: other_email,
        ..
    } = app.submitted_application(&window, "staffcase").await;
    let r = app.reject(&staff, &other, json!({})).await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));
    assert_eq!(r.body["error"]["fields"][0]["field"], "reason");
    let reason = "Residenza fuori dal Comune: il servizio è riservato ai residenti.";
    let r = app
        .reject(&staff, &other, json!({ "reason": reason }))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "rejected");
    assert!(
        r.body["decision_reason"]
            .as_str()
            .is_some_and(|s| s.starts_with("Residenza"))
    );
    let mails = app.mails_about(&other_email, "Iscrizione respinta").await;
    let mail = mails.first().expect("rejection mail");
    assert!(
        mail["text"]
            .as_str()
            .is_some_and(|t| t.contains("Residenza fuori dal Comune"))
    );

    // Drafts are not decided.
    let draft = app.complete_draft(&window, "draftonly").await.id;
    let r = app.confirm(&staff, &draft).await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"));
    let r = app
        .get_auth("/v1/demo/staff/applications/app-does-not-exist", &staff)
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
}

#[tokio::test]
async fn staff_list_pages_newest_first_and_the_roster() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let window = app.new_window(&staff).await;
    // Nine submissions over the index's shards, some in the same second:
    // newest first, ties by id, whichever shard holds each.
    let mut ids = Vec::new();
    for i in 0..9 {
        ids.push(app.submitted_application(&window, "staffcase").await.id);
        if i % 3 == 2 {
            app.clock.advance(1);
        }
    }
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path =
            format!("/v1/demo/staff/applications?window_id={window}&status=submitted&limit=2");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = app.get_auth(&path, &staff).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let items = r.body["items"].as_array().expect("items");
        pages.push(items.len());
        for item in items {
            // The list orders by the second of the submission, then the id.
            let at = item["submitted_at"].as_str().expect("submitted_at");
            let second = at.get(..19).expect("RFC 3339 time").to_owned();
            seen.push((second, item["id"].as_str().expect("id").to_owned()));
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut newest_first = seen.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, newest_first);
    let mut all: Vec<&String> = seen.iter().map(|(_, id)| id).collect();
    all.sort();
    let mut expected: Vec<&String> = ids.iter().collect();
    expected.sort();
    assert_eq!(all, expected, "every application once");
    // Exact pages: full ones, then the rest, and no empty page at the end.
    assert_eq!(pages, [2, 2, 2, 2, 1]);

    let r = app
        .get_auth("/v1/demo/staff/applications?cursor=rubbish", &staff)
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));
    let r = app
        .get_auth("/v1/demo/staff/applications?status=maybe", &staff)
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));

    let r = app.confirm(&staff, &ids[0]).await;
    assert_eq!(r.status, 200);
    let r = app
        .get_auth(
            &format!("/v1/demo/staff/windows/{window}/roster.csv"),
            &staff,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv"))
    );
    let csv = r.body.as_str().expect("csv text").to_owned();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "\"user_code\",\"pupil_last_name\",\"pupil_first_name\",\"pupil_fiscal_code\",\"school\",\"grade\",\"section\",\"diet\",\"status\""
        ),
        "every field quoted; the diet only as its kind"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 9, "{csv}");
    assert_eq!(
        rows.iter()
            .filter(|r| r.ends_with(",\"confirmed\""))
            .count(),
        1
    );
    assert!(rows.iter().all(|r| r.contains("Primaria G. Mazzini")));
}

#[tokio::test]
async fn windows_are_created_and_changed() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let window = app.new_window(&staff).await;
    let r = app.get("/v1/demo/windows").await;
    assert!(
        r.body["windows"]
            .as_array()
            .is_some_and(|w| w.iter().any(|x| x["id"] == window.as_str()))
    );
    let path = format!("/v1/demo/staff/windows/{window}");
    let r = app
        .patch_auth(
            &path,
            &staff,
            json!({ "closes_at": "2020-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_fields"),
        "before the opening"
    );
    let closes = (app.ports.clock.now() + time::Duration::days(40))
        .replace_nanosecond(0)
        .expect("ns")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("fmt");
    let r = app
        .patch_auth(&path, &staff, json!({ "closes_at": closes }))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["closes_at"], closes.as_str());
    for bad in [
        json!({ "service": "piscina", "school_year": "2026/2027", "opens_at": "2026-01-01T00:00:00Z", "closes_at": "2026-02-01T00:00:00Z" }),
        json!({ "service": "refezione", "school_year": "2026/2028", "opens_at": "2026-01-01T00:00:00Z", "closes_at": "2026-02-01T00:00:00Z" }),
        json!({ "service": "refezione", "school_year": "2026/2027", "opens_at": "2026-03-01T00:00:00Z", "closes_at": "2026-02-01T00:00:00Z" }),
        json!({ "service": "refezione", "school_year": "2026/2027", "opens_at": "ieri", "closes_at": "2026-02-01T00:00:00Z" }),
    ] {
        let r = app
            .post_auth("/v1/demo/staff/windows", &staff, bad.clone())
            .await;
        assert_eq!((r.status, r.code()), (422, "invalid_fields"), "{bad}");
    }
    let r = app
        .patch_auth(
            "/v1/demo/staff/windows/w-none",
            &staff,
            json!({ "closes_at": closes }),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
}

#[tokio::test]
async fn only_staff_of_the_tenant_get_in() {
    let app = shared_app();
    let path = "/v1/demo/staff/applications";
    let r = app.get(path).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));

    let parent = app.email_session(&unique_email("notstaff")).await;
    let r = app.get_auth(path, &parent).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));

    // Another tenant's staff, trusted by that tenant only.
    let foreign = app.other_tenant("altro-comune").await;
    let r = app.get_auth(path, &foreign).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app
        .get_auth("/v1/altro-comune/staff/applications", &foreign)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["items"], json!([]));

    // Tampered, unsigned, expired.
    let good = app.staff_token("demo").await;
    let tampered = jwt::tampered(&good, |c| c["role"] = json!("admin"));
    let none = jwt::unsigned(&good);
    let hs = jwt::with_header(&good, r#"{"alg":"HS256","typ":"JWT"}"#);
    for bad in [tampered, none, hs, "garbage".to_string()] {
        let r = app.get_auth(path, &bad).await;
        assert_eq!((r.status, r.code()), (401, "unauthorized"), "{bad}");
    }
    let expired = app
        .staff
        .token("demo", app.ports.clock.now().unix_timestamp() - 9 * 3600)
        .expect("token");
    let r = app.get_auth(path, &expired).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
}

/// Search by exact user code or pupil fiscal code, in any window; a
/// family's token gets nothing of it.
#[tokio::test]
async fn staff_find_an_application_by_user_code_or_fiscal_code() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let window = app.open_window_id().await;
    let family = app.submitted_application(&window, "searched").await;
    let r = app
        .get_auth(
            &format!("/v1/demo/applications/{}", family.id),
            &family.token,
        )
        .await;
    let code = r.body["user_code"].as_str().expect("user code").to_owned();
    let search = |q: String| {
        let staff = staff.clone();
        async move {
            shared_app()
                .get_auth(&format!("/v1/demo/staff/applications?q={q}"), &staff)
                .await
        }
    };
    let ids = |r: &Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let r = search(code.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(ids(&r), vec![family.id.clone()]);
    assert!(r.body["next_cursor"].is_null());
    // The same pupil in another window: both found by the fiscal code.
    let mut body = family.body.clone();
    body["window_id"] = json!("w-trasporto-2026");
    body["service"] = json!({ "transport": { "stop_id": "st-stazione", "direction": "both",
                                              "autonomous_exit": false } });
    let other = app.new_draft(&family.token, body).await;
    let r = search(family.pupil.to_lowercase()).await;
    let mut found = ids(&r);
    found.sort();
    let mut expected = vec![family.id.clone(), other];
    expected.sort();
    assert_eq!(found, expected);
    // Unknown values find nothing; anything else is a field error.
    assert_eq!(ids(&search(user_code()).await).len(), 0);
    assert_eq!(ids(&search(pupil_code()).await).len(), 0);
    let r = search("Rossi".into()).await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));
    assert_eq!(r.body["error"]["fields"][0]["field"], "q");
    // Not for families, nor for another comune's staff.
    let r = app
        .get_auth(
            &format!("/v1/demo/staff/applications?q={code}"),
            &family.token,
        )
        .await;
    assert_eq!(r.status, 403);
    let elsewhere = app.other_tenant("altrove-search").await;
    let r = app
        .get_auth(&format!("/v1/demo/staff/applications?q={code}"), &elsewhere)
        .await;
    assert_eq!(r.status, 404);
}

/// The deployment's staff pool: the claims come from the user's group
/// through the pre-token trigger's code; a user in no comune, or in
/// several, gets no role, and a member of another comune sees nothing.
#[tokio::test]
async fn staff_sign_in_through_the_pool_needs_one_comune_group() {
    let app = shared_app();
    let now = app.ports.clock.now().unix_timestamp();
    let list = "/v1/demo/staff/applications";
    let token = |groups: &[&str]| {
        let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
        let t = app.staff.pool_token(&groups, now).expect("token");
        remember(&t);
        t
    };
    let r = app.get_auth(list, &token(&["demo"])).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.get_auth(list, &token(&[])).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app.get_auth(list, &token(&["demo", "altrove"])).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app.get_auth(list, &token(&["altrove"])).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    // Signed by another key of the same name: refused.
    let forged = local::server::LocalIdp::generate("local-staff-1", &app.staff.issuer)
        .expect("key")
        .pool_token(&["demo".to_owned()], now)
        .expect("token");
    let r = app.get_auth(list, &forged).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
}
