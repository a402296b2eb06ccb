//! SPID/CIE login through the tenant's OpenID Connect provider (the local
//! stand-in), the merge with a verified email, and every way to fake a
//! token: all `401 invalid_id_token`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use e2e::*;
use serde_json::{Value, json};

fn provider() -> (String, String) {
    let base = &stack().base;
    (
        format!("{base}/_local/oidc"),
        local::server::OIDC_CLIENT_ID.to_owned(),
    )
}

fn claims(fiscal: &str) -> Value {
    let (iss, aud) = provider();
    let now = stack().app.clock.now().unix_timestamp();
    json!({
        "iss": iss, "aud": aud, "sub": "spid-user", "iat": now, "exp": now + 300,
        "jti": shared::ops::random_id("jti").expect("id"),
        "https://attributes.eid.gov.it/fiscal_number": format!("TINIT-{fiscal}"),
    })
}

async fn login(token: &str) -> Reply {
    post("/v1/demo/sessions", json!({ "id_token": token })).await
}

#[tokio::test]
async fn a_spid_login_gives_the_guardians_fiscal_code_once() {
    let guardian = guardian_code();
    let r = post(
        "/_local/id-token",
        json!({ "fiscal_number": format!("TINIT-{guardian}"), "given_name": "Anna", "family_name": "Bianchi" }),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let id_token = r.body["id_token"].as_str().expect("token").to_owned();
    let r = login(&id_token).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["session"]["guardian_fiscal_code"], guardian.as_str());
    assert_eq!(r.body["session"]["email"], Value::Null);
    let spid = r.body["token"].as_str().expect("token").to_owned();

    // Once only.
    let r = login(&id_token).await;
    assert_eq!((r.status, r.code()), (401, "invalid_id_token"));

    // SPID alone cannot create applications: a verified email is needed.
    let window = open_window_id().await;
    let email = unique_email("spid");
    let r = post_auth(
        "/v1/demo/applications",
        &spid,
        application_body(&window, &pupil_code(), &guardian, &email),
    )
    .await;
    assert_eq!((r.status, r.code()), (403, "email_verification_required"));

    // Merge: the SPID session proves the email too; one token carries both.
    assert_eq!(
        post("/v1/demo/email-codes", json!({ "email": email }))
            .await
            .status,
        202
    );
    let code = latest_code(&email).await;
    let r = post_auth(
        "/v1/demo/sessions",
        &spid,
        json!({ "email": email, "code": code }),
    )
    .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["session"]["guardian_fiscal_code"], guardian.as_str());
    assert_eq!(r.body["session"]["email"], email.as_str());
    let both = r.body["token"].as_str().expect("token").to_owned();

    // The guardian on the application must be the person who logged in.
    let r = post_auth(
        "/v1/demo/applications",
        &both,
        application_body(&window, &pupil_code(), &guardian_code(), &email),
    )
    .await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));
    assert_eq!(
        r.body["error"]["fields"][0]["field"],
        "guardian.fiscal_code"
    );
    let r = post_auth(
        "/v1/demo/applications",
        &both,
        application_body(&window, &pupil_code(), &guardian, &email),
    )
    .await;
    assert_eq!(r.status, 201, "{:?}", r.body);

    // The broker's renamed claim works as well.
    let mut c = claims(&guardian_code());
    let fiscal = c["https://attributes.eid.gov.it/fiscal_number"].clone();
    c.as_object_mut()
        .expect("object")
        .remove("https://attributes.eid.gov.it/fiscal_number");
    c["fiscal_number"] = fiscal;
    let r = login(&stack().oidc.sign(&c).expect("sign")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

#[tokio::test]
async fn every_forged_token_is_refused() {
    let s = stack();
    let good = claims(&guardian_code());
    let sign = |c: &Value| s.oidc.sign(c).expect("sign");
    let now = s.app.clock.now().unix_timestamp();
    let mut cases: Vec<(&str, String)> = Vec::new();

    let other_key = local::server::LocalIdp::generate("local-spid-1").expect("key");
    cases.push((
        "forged with another key",
        other_key.sign(&good).expect("sign"),
    ));
    let mut c = good.clone();
    c["exp"] = json!(now - 1);
    cases.push(("expired", sign(&c)));
    let mut c = good.clone();
    c["aud"] = json!("another-client");
    cases.push(("wrong audience", sign(&c)));
    let mut c = good.clone();
    c["iss"] = json!("https://evil.example/oidc");
    cases.push(("wrong issuer", sign(&c)));
    let mut c = good.clone();
    c["iat"] = json!(now + 3600);
    cases.push(("issued in the future", sign(&c)));
    let mut c = good.clone();
    c.as_object_mut()
        .expect("object")
        .remove("https://attributes.eid.gov.it/fiscal_number");
    cases.push(("no fiscal number", sign(&c)));
    let mut c = good.clone();
    c["https://attributes.eid.gov.it/fiscal_number"] = json!("TINIT-RSSMRA15E41A662X");
    cases.push(("invalid fiscal number", sign(&c)));
    let mut c = good.clone();
    c.as_object_mut().expect("object").remove("exp");
    cases.push(("no exp", sign(&c)));

    let valid = sign(&good);
    let parts: Vec<&str> = valid.split('.').collect();
    cases.push((
        "alg none",
        format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        ),
    ));
    // HS256 "signed" with the provider's public key (key confusion).
    let header = B64.encode(r#"{"alg":"HS256","typ":"JWT","kid":"local-spid-1"}"#);
    let signing_input = format!("{header}.{}", parts[1]);
    let public = s.oidc.jwks.to_string();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, public.as_bytes());
    let mac = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes());
    cases.push((
        "HS256 with the public key",
        format!("{signing_input}.{}", B64.encode(mac.as_ref())),
    ));
    let mut tampered: Value =
        serde_json::from_slice(&B64.decode(parts[1]).expect("b64")).expect("json");
    tampered["https://attributes.eid.gov.it/fiscal_number"] =
        json!(format!("TINIT-{}", guardian_code()));
    cases.push((
        "tampered",
        format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(tampered.to_string()),
            parts[2]
        ),
    ));
    cases.push(("garbage", "not.a.token".into()));

    for (what, token) in &cases {
        let r = login(token).await;
        assert_eq!(
            (r.status, r.code()),
            (401, "invalid_id_token"),
            "{what}: {:?}",
            r.body
        );
    }
    // The untouched token still works (none of the above used it up).
    assert_eq!(login(&valid).await.status, 201);
}
