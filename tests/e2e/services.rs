//! Every service its own form: `GET services`, the school bus and
//! pre/post-school care end to end on the seeded `demo` tenant, each part
//! validated against the window's service, and the PDFs read back.

use crate::helpers::*;
use serde_json::{Value, json};

const BUS: &str = "w-trasporto-2026";
const CARE: &str = "w-pre-post-2026";

/// A meal body turned into one for `window` with the service part `part`.
fn body_for(window: &str, email: &str, part: Value) -> Value {
    let mut body = application_body(window, &pupil_code(), &guardian_code(), email);
    body["service"] = part;
    body
}

/// A draft of `window` with the service part `part`, which must be refused
/// with `422`: the first field error's path and code.
async fn refused(
    app: &TestApp,
    token: &str,
    window: &str,
    email: &str,
    part: Value,
) -> (String, String) {
    let r = app.save_draft(token, body_for(window, email, part)).await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    let first = &r.body["error"]["fields"][0];
    (
        first["field"].as_str().unwrap_or("").to_owned(),
        first["code"].as_str().unwrap_or("").to_owned(),
    )
}

/// The documents of application `id`, by kind, as text.
async fn documents(app: &TestApp, token: &str, id: &str) -> Vec<(String, String)> {
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}/documents"), token)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut out = Vec::new();
    for d in r.body["documents"].as_array().expect("documents") {
        let bytes = download(d["url"].as_str().expect("url")).await;
        out.push((
            d["kind"].as_str().unwrap_or("").to_owned(),
            pdf_text(&bytes),
        ));
    }
    out
}

fn text_of<'a>(docs: &'a [(String, String)], kind: &str) -> &'a str {
    docs.iter()
        .find(|(k, _)| k == kind)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| panic!("no {kind} document"))
}

#[tokio::test]
async fn the_services_say_what_their_forms_need() {
    let app = shared_app();
    let r = app.get("/v1/demo/services").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(
        r.header("cache-control")
            .is_some_and(|c| c.contains("public"))
    );
    let services = r.body["services"].as_array().expect("services");
    let by = |code: &str| {
        services
            .iter()
            .find(|s| s["service"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("{code}"))
    };
    let bus = by("trasporto");
    assert!(bus["stops"].as_array().is_some_and(|s| s.len() >= 2));
    assert!(bus["stops"][0]["route"].is_string());
    assert!(bus["fee_bands"].as_array().is_some_and(|b| !b.is_empty()));
    let care = by("pre_post_scuola");
    let slots: Vec<&str> = care["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(slots, ["pre", "post"]);
    assert!(care["criteria"].as_array().is_some_and(|c| c.len() >= 2));
    assert!(care["criteria"][0]["points"].is_u64());
    let meals = by("refezione");
    assert_eq!(meals["name"], "Refezione scolastica");
    assert!(meals.get("stops").is_none());
    assert_eq!(app.get("/v1/nowhere/services").await.status, 404);
}

/// A bus family end to end: the stop, the direction, the delegates; each
/// wrong part refused on its path; the PDFs speak of the bus only.
#[tokio::test]
async fn a_family_enrolls_a_child_on_the_bus() {
    let app = shared_app();
    let email = unique_email("bus");
    let token = app.email_session(&email).await;
    // A meal part on a bus application, and an unknown stop.
    let meal = body_for(
        BUS,
        &email,
        json!({ "diet": { "kind": "none", "notes": "" }, "days": ["mon"] }),
    );
    let r = app.save_draft(&token, meal).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_fields"),
        "{:?}",
        r.body
    );
    let fields = &r.body["error"]["fields"];
    assert!(
        fields.as_array().is_some_and(|f| f
            .iter()
            .any(|f| f["field"] == "service.diet" && f["code"] == "not_applicable")),
        "{fields}"
    );
    let part = json!({ "transport": { "stop_id": "st-nowhere" } });
    let (field, _) = refused(app, &token, BUS, &email, part).await;
    assert_eq!(field, "service.transport.stop_id");
    let delegate = |n: usize| {
        json!({ "first_name": "Lucia", "last_name": format!("Delegata{}", ["a", "b", "c", "d", "e"][n]),
                "fiscal_code": guardian_code(), "relationship": "nonna" })
    };
    let five: Vec<Value> = (0..5).map(delegate).collect();
    let part = json!({ "transport": { "stop_id": "st-piazza-roma", "direction": "both",
                                      "autonomous_exit": false, "delegates": five } });
    let (field, _) = refused(app, &token, BUS, &email, part).await;
    assert_eq!(field, "service.transport.delegates");

    // A draft without the direction: submit says what is missing.
    let body = body_for(
        BUS,
        &email,
        json!({ "transport": { "stop_id": "st-piazza-roma", "autonomous_exit": false,
                "delegates": [delegate(0)] } }),
    );
    let id = app.new_draft(&token, body.clone()).await;
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &token)
        .await;
    assert_eq!(r.body["missing"], json!(["service.transport.direction"]));
    assert_eq!(r.body["service"]["transport"]["stop_id"], "st-piazza-roma");
    let r = app.submit(&token, &id).await;
    assert_eq!((r.status, r.code()), (422, "incomplete"));
    assert_eq!(
        r.body["error"]["fields"][0]["field"],
        "service.transport.direction"
    );
    let mut body = body;
    body["service"]["transport"]["direction"] = json!("both");
    let r = app
        .put_auth(&format!("/v1/demo/applications/{id}"), &token, None, body)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["fee_band"]["code"], "B", "the bus's own bands");

    let docs = documents(app, &token, &id).await;
    let summary = text_of(&docs, "summary");
    for needle in [
        "Trasporto scolastico",
        "Piazza Roma (Linea 1)",
        "andata e ritorno",
        "Lucia Delegataa (nonna)",
    ] {
        assert!(summary.contains(needle), "«{needle}» in:\n{summary}");
    }
    assert!(!summary.contains("Dieta"), "{summary}");
    for (kind, text) in &docs {
        assert!(
            !text.contains("pasto") && !text.contains("pasti"),
            "{kind} speaks of meals:\n{text}"
        );
    }
    let letter = app.mails_about(&email, "lettera credenziali").await;
    let text = letter.last().and_then(|m| m["text"].as_str()).unwrap_or("");
    assert!(!text.contains("pasti"), "{text}");

    // Authorizing the child to get off alone: no delegates then.
    let email = unique_email("bus-alone");
    let token = app.email_session(&email).await;
    let part = json!({ "transport": { "stop_id": "st-stazione", "direction": "from_school",
                                      "autonomous_exit": true, "delegates": [delegate(1)] } });
    let refusal = refused(app, &token, BUS, &email, part).await;
    assert_eq!(
        refusal,
        (
            "service.transport.delegates".into(),
            "not_applicable".into()
        )
    );
    let id = app
        .new_draft(
            &token,
            body_for(
                BUS,
                &email,
                json!({ "transport": { "stop_id": "st-stazione", "direction": "from_school",
                        "autonomous_exit": true } }),
            ),
        )
        .await;
    assert_eq!(app.submit(&token, &id).await.status, 200);
    let docs = documents(app, &token, &id).await;
    let summary = text_of(&docs, "summary");
    for needle in ["solo ritorno", "scendere da solo", "19-bis", "172"] {
        assert!(summary.contains(needle), "«{needle}» in:\n{summary}");
    }
}

/// Pre/post-school care: slots among the tenant's, days, and after school
/// who meets the child; the declared criteria on the summary.
#[tokio::test]
async fn a_family_enrolls_a_child_in_pre_and_post_school_care() {
    let app = shared_app();
    let email = unique_email("care");
    let token = app.email_session(&email).await;
    for (part, field, code) in [
        (
            json!({ "slots": ["pre", "evening"], "days": ["mon"] }),
            "service.slots",
            "invalid",
        ),
        (
            json!({ "slots": ["pre"], "days": ["mon"], "transport": { "stop_id": "st-piazza-roma" } }),
            "service.transport",
            "not_applicable",
        ),
        (
            json!({ "slots": ["pre"], "days": ["mon"], "criteria": ["rich"] }),
            "service.criteria",
            "invalid",
        ),
        (
            json!({ "slots": ["pre"], "days": ["mon"], "pickup": { "autonomous_exit": true } }),
            "service.pickup",
            "not_applicable",
        ),
    ] {
        let refusal = refused(app, &token, CARE, &email, part).await;
        assert_eq!(refusal, (field.to_owned(), code.to_owned()));
    }

    let id = app
        .new_draft(
            &token,
            body_for(
                CARE,
                &email,
                json!({ "slots": ["pre", "post"], "days": ["mon", "wed", "fri"],
                        "criteria": ["both_working", "sibling"] }),
            ),
        )
        .await;
    let r = app.submit(&token, &id).await;
    assert_eq!(
        r.body["error"]["fields"][0]["field"],
        "service.pickup.autonomous_exit"
    );
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &token)
        .await;
    let mut body = r.body.clone();
    body["service"]["pickup"] = json!({ "autonomous_exit": false, "delegates": [
        { "first_name": "Mario", "last_name": "Verdi", "fiscal_code": guardian_code(), "relationship": "zio" } ] });
    let body = json!({ "window_id": CARE, "kind": "new", "pupil": body["pupil"], "guardian": body["guardian"],
                       "service": body["service"], "isee": null, "declarations": body["declarations"] });
    let r = app
        .put_auth(&format!("/v1/demo/applications/{id}"), &token, None, body)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let docs = documents(app, &token, &id).await;
    let summary = text_of(&docs, "summary");
    for needle in [
        "Pre scuola 7:30–8:30",
        "Post scuola 13:30–16:30",
        "lunedì, mercoledì, venerdì",
        "Mario Verdi (zio)",
        "(3 punti)",
    ] {
        assert!(summary.contains(needle), "«{needle}» in:\n{summary}");
    }
    assert!(!text_of(&docs, "credentials").contains("disdire"));
}
