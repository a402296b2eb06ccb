//! The whole journey, as a parent and an office live it, over HTTP against
//! the dev server: security code by mail, draft, the mailed password, the
//! forced change, the return with fiscal code and password, the summary,
//! "Invia iscrizione", the credentials letter and the PDFs, the office's
//! confirmation, "Stato iscrizione: Confermata".

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn a_parent_enrolls_and_the_office_confirms() {
    let app = shared_app();
    // 1. The windows, then the email code and the session.
    let windows = app.get("/v1/demo/windows").await;
    assert_eq!(windows.status, 200);
    let window = app.open_window_id().await;
    let email = unique_email("journey");
    let token = app.email_session(&email).await;

    // 2. "Salva bozza" with the first step only.
    let pupil = pupil_code();
    let guardian = guardian_code();
    let mut body = application_body(&window, &pupil, &guardian, &email);
    let first_step = json!({
        "window_id": window, "kind": "new",
        "pupil": body["pupil"], "guardian": { "fiscal_code": guardian, "first_name": "Anna", "last_name": "Bianchi" },
        "declarations": { "privacy": true }
    });
    let r = app.save_draft(&token, first_step).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    assert!(!r.body["missing"].as_array().expect("missing").is_empty());
    let password = app.mailed_password(&email).await;
    remember("girasole-2025");

    // 3. Later, from another device: fiscal code and password, forced change.
    let r = app.password_login(&pupil, &password).await;
    let temporary = session_token(&r);
    let r = app
        .change_password(&temporary, &password, "girasole-2025")
        .await;
    assert_eq!(r.status, 204);
    let r = app.password_login(&pupil, "girasole-2025").await;
    let returning = session_token(&r);

    // 4. The rest of the form ("Modifica iscrizione"), the summary, "Invia".
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &returning)
        .await;
    let etag = r.header("etag").expect("etag").to_owned();
    body["pupil"]["section"] = json!("A");
    let r = app
        .put_auth(
            &format!("/v1/demo/applications/{id}"),
            &returning,
            Some(&etag),
            body.clone(),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["missing"], json!([]));
    let etag = r.header("etag").expect("etag").to_owned();
    let r = send(
        client()
            .post(app.url(&format!("/v1/demo/applications/{id}/submit")))
            .bearer_auth(&returning)
            .header("if-match", etag),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "submitted");
    let user_code = r.body["user_code"].as_str().expect("user code").to_owned();

    // 5. The credentials letter by mail; the PDFs through short links.
    let mails = app.mails_to(&email).await;
    assert!(mails.iter().any(
        |m| m["attachments"][0]["filename"] == "lettera-credenziali.pdf"
            && m["text"].as_str().is_some_and(|t| t.contains(&user_code))
    ));
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}/documents"), &returning)
        .await;
    assert_eq!(r.status, 200);
    for d in r.body["documents"].as_array().expect("documents") {
        let bytes = download(d["url"].as_str().expect("url")).await;
        assert!(bytes.starts_with(b"%PDF-"));
    }

    // 6. The office finds it and confirms it.
    let staff = app.staff_token("demo").await;
    let r = app
        .get_auth(
            &format!("/v1/demo/staff/applications?window_id={window}&status=submitted&limit=100"),
            &staff,
        )
        .await;
    assert!(
        r.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|a| a["id"] == id.as_str())
    );
    let r = app.confirm(&staff, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // 7. "Stato iscrizione: Confermata", by mail and on the portal.
    assert!(app.mails_to(&email).await.iter().any(|m| {
        m["text"]
            .as_str()
            .is_some_and(|t| t.contains("Stato iscrizione: Confermata"))
    }));
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &returning)
        .await;
    assert_eq!(r.body["status"], "confirmed");
    for key in ["first_saved_at", "updated_at", "submitted_at", "decided_at"] {
        assert!(r.body[key].is_string(), "{key}");
    }
}
