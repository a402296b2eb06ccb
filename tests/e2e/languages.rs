//! Every family can do it: the API's error messages in the family's
//! language (`Accept-Language`), the mails with the family's language under
//! the Italian, several children enrolled in one go under one guardian, and
//! the App IO messages of each status change to a guardian proved with
//! SPID/CIE (contract: Languages, App IO).

use crate::helpers::*;
use serde_json::{Value, json};

async fn bad_email_in(accept_language: Option<&str>) -> Reply {
    let app = shared_app();
    let mut request = client()
        .post(app.url("/v1/demo/email-codes"))
        .json(&json!({ "email": "not an address" }));
    if let Some(l) = accept_language {
        request = request.header("Accept-Language", l);
    }
    send(request).await
}

#[tokio::test]
async fn an_api_error_reads_in_each_language_of_the_portal() {
    let italian = bad_email_in(None).await;
    assert_eq!(italian.status, 400, "{:?}", italian.body);
    let it_message = italian.body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let it_field = italian.body["error"]["fields"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(it_message.contains("email"), "{it_message}");
    let mut seen = vec![it_message.clone()];
    for (header, marker) in [
        ("en", "email"),
        ("ar", "البريد"),
        ("ro", "e-mail"),
        ("uk", "електронн"),
        ("sq", "email"),
    ] {
        let r = bad_email_in(Some(header)).await;
        // The same error, the same code and field: only the words change.
        assert_eq!((r.status, r.code()), (400, "invalid_email"), "{header}");
        assert_eq!(r.fields(), vec!["email"], "{header}");
        let message = r.body["error"]["message"].as_str().unwrap_or("");
        let field = r.body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap_or("");
        assert!(!message.is_empty() && !field.is_empty(), "{header}");
        assert_ne!(message, it_message, "{header}: {message}");
        assert_ne!(field, it_field, "{header}: {field}");
        assert!(
            message.to_lowercase().contains(marker) || field.to_lowercase().contains(marker),
            "{header}: {message} / {field}"
        );
        assert!(!seen.contains(&message.to_owned()), "{header}: {message}");
        seen.push(message.to_owned());
    }
    // The highest-weighted range of ours wins; anything else is Italian.
    let en = bad_email_in(Some("en")).await.body["error"]["message"].clone();
    assert_eq!(
        bad_email_in(Some("en-GB,en;q=0.9")).await.body["error"]["message"],
        en
    );
    assert_eq!(
        bad_email_in(Some("de-DE,de;q=0.9,en;q=0.8")).await.body["error"]["message"],
        en
    );
    assert_eq!(
        bad_email_in(Some("de-DE,fr;q=0.9")).await.body["error"]["message"],
        it_message.as_str()
    );
    assert_eq!(
        bad_email_in(Some("it,en;q=0.9")).await.body["error"]["message"],
        it_message.as_str()
    );
    // Field errors of a form, in Romanian, keep their paths and codes.
    let app = shared_app();
    let token = app.email_session(&unique_email("lang-ro")).await;
    let r = send(
        client()
            .post(app.url("/v1/demo/applications"))
            .bearer_auth(&token)
            .header("Accept-Language", "ro-RO")
            .json(
                &json!({ "window_id": app.open_window_id().await, "kind": "new",
                           "pupil": { "fiscal_code": "RSSMRA15E41A662X" } }),
            ),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_fields"),
        "{:?}",
        r.body
    );
    assert_eq!(r.fields(), vec!["pupil.fiscal_code"]);
    let field = r.body["error"]["fields"][0]["message"]
        .as_str()
        .unwrap_or("");
    assert!(
        field.contains("cod") && !field.contains("non valido"),
        "{field}"
    );
}

#[tokio::test]
async fn mails_carry_the_family_language_under_the_italian() {
    let app = shared_app();
    let email = unique_email("lang-uk");
    // The security code mail follows the request's Accept-Language.
    let r = send(
        client()
            .post(app.url("/v1/demo/email-codes"))
            .header("Accept-Language", "uk")
            .json(&json!({ "email": email })),
    )
    .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let mails = app.mails_to(&email).await;
    let text = mails
        .last()
        .and_then(|m| m["text"].as_str())
        .unwrap_or("")
        .to_owned();
    let (italian, ukrainian) = text
        .split_once("——— Українська ———")
        .expect("a Ukrainian part");
    assert!(italian.contains("Gentile genitore") && italian.contains("codice di sicurezza"));
    assert!(
        ukrainian
            .chars()
            .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
        "{ukrainian}"
    );
    let code = app.latest_code(&email).await;
    assert!(ukrainian.contains(&code), "the code in both parts");
    let token = session_token(&app.email_login(None, &email, &code).await);

    // An application with `language: "uk"`: its letter has both texts.
    let window = app.open_window_id().await;
    let mut body = application_body(&window, &pupil_code(), &guardian_code(), &email);
    body["language"] = json!("uk");
    let id = app.new_draft(&token, body.clone()).await;
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &token)
        .await;
    assert_eq!(
        r.body["language"], "uk",
        "the language is kept: {:?}",
        r.body
    );
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let user_code = r.body["user_code"].as_str().expect("user code").to_owned();
    let letter = app
        .mails_about(&email, "lettera credenziali")
        .await
        .pop()
        .expect("the credentials letter");
    let text = letter["text"].as_str().unwrap_or("");
    let html = letter["html"].as_str().unwrap_or("");
    let (italian, ukrainian) = text.split_once("——— Українська ———").expect("both texts");
    assert!(italian.contains("è stata inviata correttamente") && italian.contains(&user_code));
    assert!(ukrainian.contains(&user_code) && !ukrainian.contains("inviata correttamente"));
    assert!(
        html.contains("lang=\"uk\""),
        "the HTML marks the translation"
    );
    // The PDF stays Italian: the official act.
    assert_eq!(
        letter["attachments"][0]["filename"],
        "lettera-credenziali.pdf"
    );

    // A language the portal does not have is a field error.
    body["language"] = json!("de");
    let r = app
        .put_auth(&format!("/v1/demo/applications/{id}"), &token, None, body)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_fields"),
        "{:?}",
        r.body
    );
    assert_eq!(r.fields(), vec!["language"]);
}

#[tokio::test]
async fn two_children_enrolled_in_one_go_under_one_guardian() {
    let app = shared_app();
    let window = app.open_window_id().await;
    let email = unique_email("siblings");
    let token = app.email_session(&email).await;
    let guardian = guardian_code();
    let mut ids = Vec::new();
    for first in ["Maria", "Luca"] {
        let mut body = application_body(&window, &pupil_code(), &guardian, &email);
        body["pupil"]["first_name"] = json!(first);
        ids.push(app.new_draft(&token, body).await);
    }
    // A third child under another guardian is refused in this session.
    let other = application_body(&window, &pupil_code(), &guardian_code(), &email);
    let r = app.save_draft(&token, other).await;
    assert_eq!(
        (r.status, r.code()),
        (409, "guardian_mismatch"),
        "{:?}",
        r.body
    );

    // "Invia tutte": each its own submission, its own user code.
    let mut codes = Vec::new();
    for id in &ids {
        let r = app.submit(&token, id).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["status"], "submitted");
        codes.push(r.body["user_code"].as_str().expect("user code").to_owned());
    }
    assert_ne!(codes[0], codes[1]);
    // The family's page lists both, each with its status.
    let r = app.get_auth("/v1/demo/applications", &token).await;
    assert_eq!(r.status, 200);
    let listed: Vec<&Value> = r.body["applications"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| ids.iter().any(|id| x["id"] == id.as_str()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(listed.len(), 2, "{:?}", r.body);
    assert!(listed.iter().all(|a| a["status"] == "submitted"));
    // One letter per child.
    assert_eq!(
        app.mails_about(&email, "lettera credenziali").await.len(),
        2
    );
}

/// What the App IO stand-in received for `fiscal_code`.
pub async fn io_messages(app: &TestApp, fiscal_code: &str) -> Vec<Value> {
    let r = app.get("/_local/io-messages").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m["fiscal_code"] == fiscal_code)
        .collect()
}

/// A family proved with SPID/CIE (and an email) submits for a new pupil.
async fn spid_submission(
    app: &TestApp,
    guardian: &str,
    language: Option<&str>,
) -> (String, String) {
    let email = unique_email("io");
    let token = app.spid_session(guardian, Some(&email)).await;
    let mut body = application_body(&app.open_window_id().await, &pupil_code(), guardian, &email);
    if let Some(l) = language {
        body["language"] = json!(l);
    }
    let id = app.new_draft(&token, body).await;
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    (id, token)
}

#[tokio::test]
async fn app_io_messages_on_submit_and_confirm_only_to_a_spid_proved_guardian() {
    let app = shared_app();
    let guardian = guardian_code();
    let (id, _) = spid_submission(app, &guardian, Some("ar")).await;
    let got = io_messages(app, &guardian).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let subject = got[0]["subject"].as_str().unwrap_or("");
    let markdown = got[0]["markdown"].as_str().unwrap_or("");
    assert!(subject.starts_with("Iscrizione inviata"), "{subject}");
    assert!((10..=120).contains(&subject.chars().count()));
    assert!((80..=10_000).contains(&markdown.chars().count()));
    assert!(
        markdown.contains("**Maria**") && !markdown.contains("Rossi"),
        "{markdown}"
    );
    assert!(
        markdown.contains("Stato iscrizione")
            && markdown
                .chars()
                .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
    );
    assert!(!markdown.contains(&guardian) && !subject.contains(&guardian));

    let staff = app.staff_token("demo").await;
    let r = app.confirm(&staff, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let got = io_messages(app, &guardian).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[1]["subject"]
            .as_str()
            .unwrap_or("")
            .starts_with("Iscrizione confermata")
    );

    // A family that proved only an email: mail, and no App IO message.
    let family = app
        .submitted_application(&app.open_window_id().await, "io-email")
        .await;
    let fc = family.body["guardian"]["fiscal_code"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(io_messages(app, &fc).await.is_empty());
    assert_eq!(
        app.mails_about(&family.email, "lettera credenziali")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn no_app_io_message_to_a_citizen_who_does_not_allow_the_sender() {
    let app = shared_app();
    // Opted out in the stand-in's seed (local/seed/app-io.json).
    let opted_out = "VRDLCU80A01H501G";
    let email = unique_email("io-out");
    let token = app.spid_session(opted_out, Some(&email)).await;
    let body = application_body(
        &app.open_window_id().await,
        &pupil_code(),
        opted_out,
        &email,
    );
    let id = app.new_draft(&token, body).await;
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(io_messages(app, opted_out).await.is_empty());
    // The mail went, and nothing waits in the outbox for App IO.
    assert_eq!(
        app.mails_about(&email, "lettera credenziali").await.len(),
        1
    );
    let r = app.run_close_windows().await;
    assert_eq!(r.status, 200);
    assert!(io_messages(app, opted_out).await.is_empty());
}
