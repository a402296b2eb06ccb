//! "Invia iscrizione" over HTTP: the complete-form check, the user code, the
//! fee band, the documents behind presigned links, the credentials letter,
//! and nothing twice under retries and races.

use crate::helpers::*;
use serde_json::{Value, json};

/// A new parent's complete draft in the open window.
async fn draft(tag: &str) -> Family {
    let app = shared_app();
    app.complete_draft(&app.open_window_id().await, tag).await
}

/// The credentials letters mailed to `email`.
async fn credentials_mails(email: &str) -> Vec<serde_json::Value> {
    shared_app().mails_about(email, "lettera credenziali").await
}

#[tokio::test]
async fn submit_enrolls_once_and_documents_follow() {
    let app = shared_app();
    let Family {
        id,
        token,
        email,
        body,
        ..
    } = draft("submit").await;
    let path = format!("/v1/demo/applications/{id}");

    let r = app.get_auth(&format!("{path}/documents"), &token).await;
    assert_eq!((r.status, r.code()), (409, "not_submitted"));

    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let submitted = r.body.clone();
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["version"], 2);
    assert_eq!(r.header("etag"), Some("\"2\""));
    let user_code = submitted["user_code"]
        .as_str()
        .expect("user code")
        .to_owned();
    assert!(user_code.len() == 8 && user_code.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(
        submitted["fee_band"],
        json!({ "code": "D", "fee_cents": 550 })
    );
    assert!(
        submitted["submitted_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(submitted["missing"], json!([]));

    // The credentials letter, with the PDF attached.
    let letters = credentials_mails(&email).await;
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert!(
        letter["text"]
            .as_str()
            .is_some_and(|t| t.contains(&user_code))
    );
    let attachment = &letter["attachments"][0];
    assert_eq!(attachment["filename"], "lettera-credenziali.pdf");
    assert_eq!(attachment["content_type"], "application/pdf");
    assert!(attachment["size"].as_u64().is_some_and(|s| s > 1000));
    let subject = letter["subject"].as_str().unwrap_or("");
    assert!(!subject.contains(body["pupil"]["fiscal_code"].as_str().unwrap_or("-")));

    // Again: the same application, nothing sent twice.
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["user_code"], user_code.as_str());
    assert_eq!(r.body["version"], 2);
    assert_eq!(credentials_mails(&email).await.len(), 1);

    // Documents: three private PDFs behind 300-second links.
    let r = app.get_auth(&format!("{path}/documents"), &token).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let docs = r.body["documents"].as_array().expect("documents").clone();
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["summary", "credentials", "information"]);
    let pupil_code = body["pupil"]["fiscal_code"].as_str().expect("code");
    for d in &docs {
        assert_eq!(d["expires_in"], 300);
        let url = d["url"].as_str().expect("url");
        assert!(url.contains("X-Amz-Expires=300"), "{url}");
        for secret in [
            pupil_code,
            "Maria",
            "Rossi",
            email.as_str(),
            user_code.as_str(),
        ] {
            assert!(!url.contains(secret), "{url} names {secret}");
        }
        assert!(d["filename"].as_str().is_some_and(|f| f.ends_with(".pdf")));
        let bytes = download(url).await;
        assert!(bytes.starts_with(b"%PDF-"));
        let text = pdf_text(&bytes);
        assert!(text.contains("Comune di Esempio"), "{text}");
        match d["kind"].as_str() {
            Some("summary") => {
                for needle in [
                    "Riepilogo della domanda",
                    "Maria",
                    pupil_code,
                    "Refezione scolastica",
                    "€ 5,50",
                    "lunedì",
                ] {
                    assert!(text.contains(needle), "summary lacks {needle}: {text}");
                }
            }
            Some("credentials") => {
                assert!(text.contains(&user_code), "{text}");
                assert!(text.contains("Come disdire un pasto"), "{text}");
                assert!(text.contains("ricaricare"), "{text}");
            }
            _ => {
                assert!(text.contains("art. 13"), "{text}");
                assert!(text.contains("Regole del servizio"), "{text}");
            }
        }
    }

    // A submitted application stays editable while the window is open, and
    // must stay complete.
    let mut incomplete = body.clone();
    incomplete["guardian"]["phone"] = serde_json::Value::Null;
    let r = app.put_auth(&path, &token, Some("\"2\""), incomplete).await;
    assert_eq!((r.status, r.code()), (422, "incomplete"));
    let mut changed = body.clone();
    changed["pupil"]["section"] = json!("D");
    let r = app.put_auth(&path, &token, Some("\"2\""), changed).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "submitted");
    assert_eq!(r.body["version"], 3);
    assert_eq!(r.body["user_code"], user_code.as_str());
    let r = app.get_auth(&format!("{path}/documents"), &token).await;
    let summary = r.body["documents"][0]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let text = pdf_text(&download(&summary).await);
    let section = text
        .split("Sezione")
        .nth(1)
        .map(|rest| rest.split_whitespace().next().unwrap_or(""))
        .unwrap_or("");
    assert_eq!(
        section, "D",
        "the new section is in the new summary: {text}"
    );
}

#[tokio::test]
async fn incomplete_applications_are_not_submitted() {
    let app = shared_app();
    let email = unique_email("incomplete");
    let token = app.email_session(&email).await;
    let window = app.open_window_id().await;
    let partial = json!({
        "window_id": window,
        "pupil": { "fiscal_code": pupil_code(), "first_name": "Luca", "last_name": "Verdi" },
        "guardian": { "fiscal_code": guardian_code(), "first_name": "Anna", "last_name": "Verdi" },
        "declarations": { "privacy": true }
    });
    let id = app.new_draft(&token, partial).await;
    let r = app.submit(&token, &id).await;
    assert_eq!((r.status, r.code()), (422, "incomplete"));
    let fields = r.fields();
    assert!(fields.contains(&"guardian.phone") && fields.contains(&"declarations.truthfulness"));
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &token)
        .await;
    assert_eq!(
        (r.body["status"].as_str(), r.body["version"].as_u64()),
        (Some("draft"), Some(1))
    );

    let other = app.email_session(&unique_email("intruder")).await;
    let r = app.submit(&other, &id).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
}

#[tokio::test]
async fn ten_parallel_submits_give_one_user_code_and_one_mail() {
    let app = shared_app();
    let Family {
        id, token, email, ..
    } = draft("tenfold").await;
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let (id, token) = (id.clone(), token.clone());
            tokio::spawn(async move { app.submit(&token, &id).await })
        })
        .collect();
    let mut codes = Vec::new();
    for h in handles {
        let r = h.await.expect("task");
        assert_eq!(r.status, 200, "{:?}", r.body);
        codes.push(r.body["user_code"].as_str().expect("code").to_owned());
    }
    codes.dedup();
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(credentials_mails(&email).await.len(), 1);
}

#[tokio::test]
async fn attachments_are_uploaded_privately_and_checked_at_submission() {
    let app = shared_app();
    let Family {
        id,
        token,
        mut body,
        ..
    } = draft("attach").await;
    let path = format!("/v1/demo/applications/{id}");
    body["service"]["diet"] = json!({ "kind": "medical", "notes": "Celiachia" });
    body["isee"] = json!({ "isee_cents": 1_250_000 });
    let r = app.put_auth(&path, &token, None, body.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let missing = r.body["missing"].as_array().cloned().unwrap_or_default();
    assert!(
        missing.contains(&json!("attachments.medical_certificate")),
        "{missing:?}"
    );
    assert!(
        missing.contains(&json!("isee.attachment_id")),
        "{missing:?}"
    );

    for (bad, field) in [
        (
            json!({ "kind": "isee", "filename": "a.pdf", "content_type": "application/pdf", "size": 6 * 1024 * 1024 }),
            "size",
        ),
        (
            json!({ "kind": "isee", "filename": "a.exe", "content_type": "application/x-msdownload", "size": 10 }),
            "content_type",
        ),
        (
            json!({ "kind": "passport", "filename": "a.pdf", "content_type": "application/pdf", "size": 10 }),
            "kind",
        ),
    ] {
        let r = app
            .post_auth(&format!("{path}/attachments"), &token, bad)
            .await;
        assert_eq!((r.status, r.code()), (422, "invalid_fields"));
        assert_eq!(r.body["error"]["fields"][0]["field"], field);
    }

    let pdf = b"%PDF-1.4 attestazione ISEE di prova".to_vec();
    let mut ids = Vec::new();
    for kind in ["isee", "medical_certificate"] {
        let r = app.request_upload(&token, &id, kind, pdf.len()).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["expires_in"], 300);
        let url = r.body["upload_url"].as_str().expect("url").to_owned();
        assert!(!url.contains("Maria") && !url.contains("Rossi"), "{url}");
        // A browser sends the link with its type and body only: the
        // signature must not cover any other header (security page F3).
        let signed = url
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("X-Amz-SignedHeaders="))
            .expect("signed headers");
        assert!(
            signed
                .split("%3B")
                .all(|h| ["content-length", "content-type", "host"].contains(&h)),
            "{signed}"
        );
        ids.push((
            kind,
            r.body["attachment_id"].as_str().expect("id").to_owned(),
            url,
        ));
    }
    // Declared but not uploaded yet: still missing.
    body["isee"]["attachment_id"] = json!(ids[0].1);
    let r = app.put_auth(&path, &token, None, body.clone()).await;
    assert!(
        r.body["missing"]
            .as_array()
            .is_some_and(|m| m.contains(&json!("isee.attachment_id")))
    );
    let r = app.submit(&token, &id).await;
    assert_eq!((r.status, r.code()), (422, "incomplete"));

    for (_, _, url) in &ids {
        upload(url, &pdf).await;
    }
    let r = app.get_auth(&path, &token).await;
    assert_eq!(r.body["missing"], json!([]), "{:?}", r.body);
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["fee_band"]["code"], "B");
    let version = r.body["version"].as_u64().expect("version");

    // The band follows every change: without the ISEE, the highest band.
    body["isee"] = Value::Null;
    let r = app.put_auth(&path, &token, None, body.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "submitted");
    assert_eq!(r.body["fee_band"]["code"], "D", "{:?}", r.body);

    // The office decides only on the version it saw: 412 on the older one,
    // and nothing changes.
    let staff = app.staff_token("demo").await;
    let confirm = |v: u64| {
        let staff = staff.clone();
        let id = id.clone();
        async move {
            send(
                client()
                    .post(app.url(&format!("/v1/demo/staff/applications/{id}/confirm")))
                    .bearer_auth(staff)
                    .header("if-match", format!("\"{v}\"")),
            )
            .await
        }
    };
    let r = confirm(version).await;
    assert_eq!(
        (r.status, r.code()),
        (412, "version_conflict"),
        "{:?}",
        r.body
    );
    let r = app.get_auth(&path, &token).await;
    assert_eq!(r.body["status"], "submitted");
    let r = confirm(r.body["version"].as_u64().expect("version")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "confirmed");
}

/// Storage per family is bounded: a new file of a kind replaces (and
/// deletes) the previous one, only the current version of each document is
/// kept, and an upload seen once is not looked for again on every read.
#[tokio::test]
async fn one_file_per_kind_and_only_the_current_documents() {
    let app = shared_app();
    let Family {
        id,
        token,
        mut body,
        ..
    } = draft("storage").await;
    let path = format!("/v1/demo/applications/{id}");
    let pdf = b"%PDF-1.4 attestazione ISEE".to_vec();
    let attach = |kind: &'static str| {
        let (token, id, size) = (token.clone(), id.clone(), pdf.len());
        async move {
            let r = app.request_upload(&token, &id, kind, size).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            (
                r.body["attachment_id"].as_str().expect("id").to_owned(),
                r.body["upload_url"].as_str().expect("url").to_owned(),
            )
        }
    };
    let files = || async {
        app.ports
            .documents
            .list(&format!("attachments/demo/{id}/"))
            .await
            .expect("list")
    };
    let (first, url) = attach("isee").await;
    upload(&url, &pdf).await;
    assert_eq!(files().await.len(), 1);
    let (second, url) = attach("isee").await;
    upload(&url, &pdf).await;
    let kept = files().await;
    assert_eq!(kept.len(), 1, "the older ISEE file is deleted: {kept:?}");
    assert!(kept[0].ends_with(&second), "{kept:?}");
    assert!(!kept[0].ends_with(&first));

    // Naming the replaced attachment: missing; the current one: complete.
    body["isee"] = json!({ "isee_cents": 500_000, "attachment_id": first });
    let r = app.put_auth(&path, &token, None, body.clone()).await;
    assert!(
        r.body["missing"]
            .as_array()
            .is_some_and(|m| m.contains(&json!("isee.attachment_id"))),
        "{:?}",
        r.body
    );
    body["isee"]["attachment_id"] = json!(second);
    let r = app.put_auth(&path, &token, None, body.clone()).await;
    assert_eq!(r.body["missing"], json!([]), "{:?}", r.body);
    // The save saw the file and recorded it: reads trust the record.
    let stored = app
        .ports
        .store
        .attachments(
            &shared::domain::values::TenantSlug::parse("demo").expect("slug"),
            &id,
        )
        .await
        .expect("attachments");
    assert!(stored.iter().all(|a| a.confirmed), "{stored:?}");

    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let documents = || async {
        app.ports
            .documents
            .list(&format!("documents/demo/{id}/"))
            .await
            .expect("list")
    };
    let v = r.body["version"].as_u64().expect("version");
    let made = documents().await;
    assert_eq!(made.len(), 3, "{made:?}");
    assert!(
        made.iter().all(|k| k.contains(&format!("/v{v}/"))),
        "{made:?}"
    );
    // An edit makes them again; the older version goes.
    body["pupil"]["section"] = json!("C");
    let r = app.put_auth(&path, &token, None, body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let v = r.body["version"].as_u64().expect("version");
    let made = documents().await;
    assert_eq!(made.len(), 3, "only the current version: {made:?}");
    assert!(
        made.iter().all(|k| k.contains(&format!("/v{v}/"))),
        "{made:?}"
    );
}
