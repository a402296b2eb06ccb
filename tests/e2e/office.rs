//! The office's daily work (issue 14): the family's uploads read by staff
//! (a medical certificate's opening in the history), the request-changes
//! loop, bulk confirm, the counts per status, the caterer's list and the
//! weekly lists for schools.

use serde_json::{Value, json};

use crate::helpers::*;

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

/// A complete draft with a medical diet and an ISEE, both files uploaded,
/// then submitted.
async fn submitted_with_uploads(app: &TestApp, window: &str) -> Family {
    let family = app.complete_draft(window, "uploads").await;
    let path = format!("/v1/demo/applications/{}", family.id);
    let pdf = b"%PDF-1.4 allegato di prova".to_vec();
    let mut body = family.body.clone();
    body["service"]["diet"] = json!({ "kind": "medical", "notes": "Celiachia" });
    let mut isee = String::new();
    for kind in ["isee", "medical_certificate"] {
        let r = app
            .request_upload(&family.token, &family.id, kind, pdf.len())
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        upload(r.body["upload_url"].as_str().expect("url"), &pdf).await;
        if kind == "isee" {
            isee = r.body["attachment_id"].as_str().expect("id").to_owned();
        }
    }
    body["isee"] = json!({ "isee_cents": 1_250_000, "attachment_id": isee });
    let r = app.put_auth(&path, &family.token, None, body.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.submit(&family.token, &family.id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    Family { body, ..family }
}

#[tokio::test]
async fn an_operator_opens_the_isee_and_the_certificate_and_the_opening_is_in_the_history() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let window = app.new_window(&staff).await;
    let family = submitted_with_uploads(app, &window).await;
    let path = format!("/v1/demo/staff/applications/{}", family.id);

    let r = app.get_auth(&format!("{path}/attachments"), &staff).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let list = r.body["attachments"].as_array().expect("list").clone();
    let kinds: Vec<&str> = list.iter().filter_map(|a| a["kind"].as_str()).collect();
    assert_eq!(kinds, ["isee", "medical_certificate"]);
    for a in &list {
        assert_eq!(a["expires_in"], 300);
        assert_eq!(a["content_type"], "application/pdf");
        assert_eq!(a["filename"], "Certificato Maria Rossi.pdf");
        let url = a["url"].as_str().expect("url");
        // The link names no person: the download is named by its kind.
        assert!(!url.contains("Maria") && !url.contains("Rossi"), "{url}");
        let bytes = download(url).await;
        assert!(bytes.starts_with(b"%PDF"), "the file itself");
    }

    // The certificate's opening is in the history staff read (who, when,
    // which); the ISEE's is not health data.
    let r = app.get_auth(&path, &staff).await;
    let history = r.body["history"].as_array().expect("history").clone();
    let opened: Vec<&Value> = history
        .iter()
        .filter(|h| h["event"] == "attachment_opened")
        .collect();
    assert_eq!(opened.len(), 1, "{history:?}");
    assert_eq!(opened[0]["kind"], "medical_certificate");
    assert!(
        opened[0]["by"]
            .as_str()
            .is_some_and(|b| b.starts_with("staff:"))
    );
    assert_eq!(opened[0]["attachment_id"], list[1]["attachment_id"]);
    // Opening it again is another record.
    app.get_auth(&format!("{path}/attachments"), &staff).await;
    let r = app.get_auth(&path, &staff).await;
    let count = r.body["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|h| h["event"] == "attachment_opened")
        .count();
    assert_eq!(count, 2);
    // The parent's read has no history, the staff-only view's things.
    let r = app
        .get_auth(
            &format!("/v1/demo/applications/{}", family.id),
            &family.token,
        )
        .await;
    assert!(r.body.get("history").is_none(), "{:?}", r.body);
    // Another tenant's staff: nothing.
    let other = app.other_tenant("altrove-att").await;
    let r = app
        .get_auth(
            &format!(
                "/v1/altrove-att/staff/applications/{}/attachments",
                family.id
            ),
            &other,
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app
        .get_auth(
            &format!("/v1/demo/staff/applications/{}/attachments", family.id),
            &other,
        )
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);
}

#[tokio::test]
async fn a_parent_token_gets_nothing_from_the_office_routes() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let window = app.new_window(&staff).await;
    let family = app.submitted_application(&window, "no-office").await;
    let id = &family.id;
    let token = &family.token;
    let gets = [
        format!("/v1/demo/staff/applications/{id}/attachments"),
        format!("/v1/demo/staff/windows/{window}/stats"),
        format!("/v1/demo/staff/windows/{window}/diets.csv"),
        format!("/v1/demo/staff/applications?q={}", family.pupil),
    ];
    for path in &gets {
        let r = app.get_auth(path, token).await;
        assert!([401, 403, 404].contains(&r.status), "{path}: {}", r.status);
        assert!(r.status != 200);
    }
    let posts = [
        (
            format!("/v1/demo/staff/applications/{id}/request-changes"),
            json!({ "message": "x", "due_at": rfc3339(app.ports.clock.now() + time::Duration::days(3)) }),
        ),
        (
            "/v1/demo/staff/applications/confirm".to_owned(),
            json!({ "ids": [id] }),
        ),
    ];
    for (path, body) in &posts {
        let r = app.post_auth(path, token, body.clone()).await;
        assert!([401, 403, 404].contains(&r.status), "{path}: {}", r.status);
    }
    // Nothing changed.
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), token)
        .await;
    assert_eq!(r.body["status"], "submitted");
}

/// The whole loop: the office asks, the family edits after the window's
/// close and sends again (same user code, first submission kept), a second
/// request is reminded once 48 hours before its due time, then refused
/// after it and returned to the office by the scheduled function.
#[tokio::test]
async fn the_office_asks_for_changes_and_the_family_answers_after_the_close() {
    let app = spawn_app();
    let staff = app.staff_token("demo").await;
    let window = app.new_window(&staff).await;
    let family = app.submitted_application(&window, "changes").await;
    let path = format!("/v1/demo/applications/{}", family.id);
    let staff_path = format!("/v1/demo/staff/applications/{}", family.id);
    let first = app.get_auth(&path, &family.token).await.body;
    let user_code = first["user_code"].clone();

    // Bad requests change nothing.
    for body in [
        json!({ "message": "", "due_at": rfc3339(app.ports.clock.now() + time::Duration::days(3)) }),
        json!({ "message": "Allega l'ISEE.", "due_at": rfc3339(app.ports.clock.now() - time::Duration::days(1)) }),
        json!({ "message": "Allega l'ISEE." }),
    ] {
        let r = app
            .post_auth(&format!("{staff_path}/request-changes"), &staff, body)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (422, "invalid_fields"),
            "{:?}",
            r.body
        );
    }
    let due = app.ports.clock.now() + time::Duration::days(10);
    let r = app
        .post_auth(
            &format!("{staff_path}/request-changes"),
            &staff,
            json!({ "message": "La sezione indicata non esiste: correggila.", "due_at": rfc3339(due) }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "changes_requested");
    // Only from `submitted`.
    let r = app
        .post_auth(
            &format!("{staff_path}/request-changes"),
            &staff,
            json!({ "message": "Di nuovo.", "due_at": rfc3339(due) }),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"));
    // Confirm waits for the family; the mail carries the message.
    let r = app.confirm(&staff, &family.id).await;
    assert_eq!((r.status, r.code()), (409, "invalid_transition"));
    let mails = app.mails_about(&family.email, "integrazione").await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let text = mails[0]["text"].as_str().expect("text");
    assert!(text.contains("La sezione indicata non esiste"), "{text}");
    assert!(
        text.contains("anche se il periodo di iscrizione è chiuso"),
        "{text}"
    );

    // The family reads the request.
    let r = app.get_auth(&path, &family.token).await;
    assert_eq!(r.body["status"], "changes_requested");
    assert_eq!(
        r.body["change_request"]["message"],
        "La sezione indicata non esiste: correggila."
    );

    // The window closes; the family still edits and sends again.
    let r = app
        .patch_auth(
            &format!("/v1/demo/staff/windows/{window}"),
            &staff,
            json!({ "closes_at": rfc3339(app.ports.clock.now() - time::Duration::seconds(1)) }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut body = family.body.clone();
    body["pupil"]["section"] = json!("A");
    let r = app.put_auth(&path, &family.token, None, body.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "changes_requested");
    // It still must be complete.
    let mut incomplete = body.clone();
    incomplete["declarations"]["truthfulness"] = json!(false);
    let r = app.put_auth(&path, &family.token, None, incomplete).await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    let r = app.submit(&family.token, &family.id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "submitted");
    assert_eq!(r.body["user_code"], user_code);
    assert_eq!(r.body["submitted_at"], first["submitted_at"]);
    assert!(r.body.get("change_request").is_none());
    // A repeated submit changes nothing.
    let again = app.submit(&family.token, &family.id).await;
    assert_eq!(again.body["version"], r.body["version"]);
    // The window is closed for everything else.
    let r = app.put_auth(&path, &family.token, None, body.clone()).await;
    assert_eq!((r.status, r.code()), (409, "window_closed"));

    // A second request, close to its due time: one reminder, however many
    // runs, then after the due time a refusal and the return.
    let due = app.ports.clock.now() + time::Duration::days(3);
    let r = app
        .post_auth(
            &format!("{staff_path}/request-changes"),
            &staff,
            json!({ "message": "Manca il certificato.", "due_at": rfc3339(due) }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.run_close_windows().await;
    assert!(
        app.mails_about(&family.email, "Promemoria")
            .await
            .is_empty()
    );
    app.clock.advance(2 * 86_400);
    let (a, b) = tokio::join!(app.run_close_windows(), app.run_close_windows());
    assert_eq!((a.status, b.status), (200, 200));
    app.run_close_windows().await;
    let reminders = app.mails_about(&family.email, "Promemoria").await;
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    app.clock.advance(86_400 + 60);
    // Days later, a new session of the same family.
    let token = app.email_session(&family.email).await;
    let r = app.put_auth(&path, &token, None, body.clone()).await;
    assert_eq!((r.status, r.code()), (409, "window_closed"));
    let r = app.submit(&token, &family.id).await;
    assert_eq!((r.status, r.code()), (409, "window_closed"));
    let r = app.run_close_windows().await;
    assert_eq!(r.body["changes_returned"], 1, "{:?}", r.body);
    let staff = app.staff_token("demo").await;
    let r = app.get_auth(&staff_path, &staff).await;
    assert_eq!(r.body["status"], "submitted");
    assert_eq!(r.body["submitted_at"], first["submitted_at"]);
    let steps: Vec<(String, String)> = r.body["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| {
            (
                h["by"]
                    .as_str()
                    .unwrap_or_default()
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                h["to"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("parent", "draft"),
        ("parent", "submitted"),
        ("staff", "changes_requested"),
        ("parent", "submitted"),
        ("staff", "changes_requested"),
        ("system", "submitted"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(steps, expected);
    // The office decides now.
    let r = app.confirm(&staff, &family.id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// Confirm many: each as a single confirm, with one of another tenant, one
/// already confirmed and one beyond the places; safe to repeat.
#[tokio::test]
async fn bulk_confirm_answers_each_id_as_a_single_confirm() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let now = app.ports.clock.now();
    let r = app
        .post_auth(
            "/v1/demo/staff/windows",
            &staff,
            json!({ "service": "refezione", "school_year": "2026/2027",
                    "opens_at": rfc3339(now - time::Duration::days(1)),
                    "closes_at": rfc3339(now + time::Duration::days(20)),
                    "capacity": 2 }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let window = r.body["id"].as_str().expect("id").to_owned();
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            app.submitted_application(&window, &format!("bulk{i}"))
                .await
                .id,
        );
    }
    let confirmed = app.confirm(&staff, &ids[0]).await;
    assert_eq!(confirmed.status, 200);
    // Another tenant's application, by its id.
    let other_staff = app.other_tenant("altrove-bulk").await;
    let r = app
        .post_auth(
            "/v1/altrove-bulk/staff/applications/confirm",
            &other_staff,
            json!({ "ids": [ids[1]] }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["results"][0]["error"]["code"], "not_found");
    let version = app
        .get_auth(&format!("/v1/demo/staff/applications/{}", ids[1]), &staff)
        .await
        .body["version"]
        .as_u64()
        .expect("version");
    let version2 = app
        .get_auth(&format!("/v1/demo/staff/applications/{}", ids[2]), &staff)
        .await
        .body["version"]
        .as_u64()
        .expect("version");
    let r = app
        .post_auth(
            "/v1/demo/staff/applications/confirm",
            &staff,
            json!({ "ids": [ids[0], ids[1], ids[2], "app-of-nobody"],
                    "versions": [confirmed.body["version"], version, version2, 1] }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let results = r.body["results"].as_array().expect("results");
    assert_eq!(results[0]["error"]["code"], "invalid_transition");
    assert_eq!(results[1]["status"], "confirmed");
    assert_eq!(results[2]["error"]["code"], "no_places");
    assert_eq!(results[3]["error"]["code"], "not_found");
    // Repeated: nothing confirmed twice, nothing mailed twice.
    let r = app
        .post_auth(
            "/v1/demo/staff/applications/confirm",
            &staff,
            json!({ "ids": [ids[1]] }),
        )
        .await;
    assert_eq!(r.body["results"][0]["error"]["code"], "invalid_transition");
    // A stale version is the single confirm's 412 code.
    let r = app
        .post_auth(
            "/v1/demo/staff/applications/confirm",
            &staff,
            json!({ "ids": [ids[2]], "versions": [0] }),
        )
        .await;
    assert_eq!(r.body["results"][0]["error"]["code"], "version_conflict");
    // Bad requests.
    let too_many: Vec<String> = (0..101).map(|i| format!("app-{i}")).collect();
    for body in [
        json!({ "ids": [] }),
        json!({ "ids": too_many }),
        json!({ "ids": [ids[2]], "versions": [1, 2] }),
    ] {
        let r = app
            .post_auth("/v1/demo/staff/applications/confirm", &staff, body)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (422, "invalid_fields"),
            "{:?}",
            r.body
        );
    }
    let stats = app
        .get_auth(&format!("/v1/demo/staff/windows/{window}/stats"), &staff)
        .await;
    assert_eq!(stats.body["counts"]["confirmed"], 2, "{:?}", stats.body);
    assert_eq!(stats.body["counts"]["submitted"], 1);
    assert_eq!(stats.body["capacity"], 2);
}

#[tokio::test]
async fn the_counts_follow_a_mixed_set_of_operations() {
    let app = spawn_app();
    let staff = app.staff_token("demo").await;
    let window = app.new_window(&staff).await;
    let stats = || async {
        let r = app
            .get_auth(&format!("/v1/demo/staff/windows/{window}/stats"), &staff)
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body
    };
    let zero = stats().await;
    let counts = zero["counts"].as_object().expect("counts");
    assert_eq!(counts.len(), 8, "every status: {counts:?}");
    assert!(counts.values().all(|v| v == 0));
    assert_eq!(zero["capacity"], Value::Null);

    let drafts = [
        app.complete_draft(&window, "c0").await,
        app.complete_draft(&window, "c1").await,
    ];
    let mut submitted = Vec::new();
    for i in 0..5 {
        submitted.push(app.submitted_application(&window, &format!("s{i}")).await);
    }
    // Two tabs submit the same draft at once: counted once.
    let (a, b) = tokio::join!(
        app.submit(&drafts[1].token, &drafts[1].id),
        app.submit(&drafts[1].token, &drafts[1].id)
    );
    assert_eq!((a.status, b.status), (200, 200));
    app.confirm(&staff, &submitted[0].id).await;
    app.confirm(&staff, &submitted[1].id).await;
    app.reject(
        &staff,
        &submitted[2].id,
        json!({ "reason": "Non residente." }),
    )
    .await;
    let r = app
        .post_auth(
            &format!("/v1/demo/applications/{}/withdraw", submitted[3].id),
            &submitted[3].token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .post_auth(
            &format!(
                "/v1/demo/staff/applications/{}/request-changes",
                submitted[4].id
            ),
            &staff,
            json!({ "message": "Allega il certificato.",
                    "due_at": rfc3339(app.ports.clock.now() + time::Duration::days(5)) }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let body = stats().await;
    let expect = json!({ "draft": 1, "submitted": 1, "changes_requested": 1, "waitlisted": 0,
        "confirmed": 2, "rejected": 1, "withdrawn": 1, "expired": 0 });
    assert_eq!(body["counts"], expect);
    // The window closes: the remaining draft expires.
    app.patch_auth(
        &format!("/v1/demo/staff/windows/{window}"),
        &staff,
        json!({ "closes_at": rfc3339(app.ports.clock.now() - time::Duration::seconds(1)) }),
    )
    .await;
    app.run_close_windows().await;
    let body = stats().await;
    assert_eq!(body["counts"]["draft"], 0);
    assert_eq!(body["counts"]["expired"], 1);
    // Unknown window, other tenant.
    let r = app
        .get_auth("/v1/demo/staff/windows/w-nope/stats", &staff)
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
}

#[tokio::test]
async fn the_caterer_gets_the_special_diets_and_nothing_else() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let window = app.new_window(&staff).await;
    let with_diet = submitted_with_uploads(app, &window).await;
    let plain = app.submitted_application(&window, "plain").await;
    let unconfirmed = submitted_with_uploads(app, &window).await;
    for id in [&with_diet.id, &plain.id] {
        assert_eq!(app.confirm(&staff, id).await.status, 200);
    }
    let r = app
        .get_auth(
            &format!("/v1/demo/staff/windows/{window}/diets.csv"),
            &staff,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"diete.csv\"")
    );
    let csv = r.body.as_str().expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "\"user_code\",\"pupil_last_name\",\"pupil_first_name\",\"school\",\"grade\",\"section\",\"diet\",\"diet_notes\""
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains("\"sanitaria\",\"Celiachia\""), "{csv}");
    assert!(!csv.contains(&with_diet.pupil), "no fiscal code: {csv}");
    let _ = unconfirmed;
}

/// Every school of the comune gets its confirmed pupils once a week, even
/// when two runs come at once.
#[tokio::test]
async fn two_concurrent_runs_of_the_weekly_lists_send_one_mail_per_school() {
    let app = spawn_app();
    let staff = app.staff_token("demo").await;
    let window = app.open_window_id().await;
    let confirmed = app.submitted_application(&window, "school").await;
    assert_eq!(app.confirm(&staff, &confirmed.id).await.status, 200);
    let (a, b) = tokio::join!(
        app.post("/_local/run/school-lists", json!({})),
        app.post("/_local/run/school-lists", json!({}))
    );
    assert_eq!((a.status, b.status), (200, 200));
    let sent =
        a.body["lists_sent"].as_u64().unwrap_or(0) + b.body["lists_sent"].as_u64().unwrap_or(0);
    let services = app.get("/v1/demo/services").await;
    let schools = services.body["schools"].as_array().expect("schools").len();
    assert!(schools >= 2);
    assert_eq!(sent as usize, schools, "{:?} {:?}", a.body, b.body);
    let mazzini = "segreteria.mazzini@scuole.example.it";
    let mails = app.mails_to(mazzini).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let attachments = mails[0]["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 1, "{mails:?}");
    assert!(
        attachments[0]["filename"]
            .as_str()
            .is_some_and(|f| f.starts_with("iscritti-refezione-") && f.ends_with(".csv"))
    );
    // A third run the same week sends nothing.
    let r = app.post("/_local/run/school-lists", json!({})).await;
    assert_eq!(r.body["lists_sent"], 0);
    assert_eq!(r.body["lists_already_sent"], schools);
    // Next week, again.
    app.clock.advance(7 * 86_400);
    let r = app.post("/_local/run/school-lists", json!({})).await;
    assert_eq!(r.body["lists_sent"], schools);
    assert_eq!(app.mails_to(mazzini).await.len(), 2);
}

#[tokio::test]
async fn the_school_is_one_of_the_comunes() {
    let app = shared_app();
    let r = app.get("/v1/demo/services").await;
    let schools = r.body["schools"].as_array().expect("schools");
    assert!(schools.contains(&json!("Primaria G. Mazzini")));
    let email = unique_email("school");
    let token = app.email_session(&email).await;
    let window = app.open_window_id().await;
    let mut body = application_body(&window, &pupil_code(), &guardian_code(), &email);
    body["pupil"]["school"] = json!("Scuola che non c'è");
    let r = app.save_draft(&token, body).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_fields"),
        "{:?}",
        r.body
    );
    assert_eq!(r.body["error"]["fields"][0]["field"], "pupil.school");
    assert_eq!(r.body["error"]["fields"][0]["code"], "unknown_school");
}
