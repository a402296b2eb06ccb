//! SPID/CIE login through the tenant's OpenID Connect provider (the local
//! stand-in), the merge with a verified email, and every way to fake a
//! token: all `401 invalid_id_token`. And the browser login against the
//! stand-in: the authorization code flow with PKCE.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

fn provider() -> (String, String) {
    (
        shared_app().url("/_local/oidc"),
        local::server::OIDC_CLIENT_ID.to_owned(),
    )
}

fn claims(fiscal: &str) -> Value {
    let app = shared_app();
    let (iss, aud) = provider();
    let now = app.ports.clock.now().unix_timestamp();
    json!({
        "iss": iss, "aud": aud, "sub": "spid-user", "iat": now, "exp": now + 300,
        "jti": shared::ops::random_id("jti").expect("id"),
        "https://attributes.eid.gov.it/fiscal_number": format!("TINIT-{fiscal}"),
    })
}

async fn login(token: &str) -> Reply {
    shared_app().spid_login(None, token).await
}

#[tokio::test]
async fn a_spid_login_gives_the_guardians_fiscal_code_once() {
    let app = shared_app();
    let guardian = guardian_code();
    let id_token = app.id_token(&guardian).await;
    let r = login(&id_token).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["session"]["guardian_fiscal_code"], guardian.as_str());
    assert_eq!(r.body["session"]["email"], Value::Null);
    let spid = session_token(&r);

    // Once only.
    let r = login(&id_token).await;
    assert_eq!((r.status, r.code()), (401, "invalid_id_token"));

    // SPID alone cannot create applications: a verified email is needed.
    let window = app.open_window_id().await;
    let email = unique_email("spid");
    let r = app
        .save_draft(
            &spid,
            application_body(&window, &pupil_code(), &guardian, &email),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "email_verification_required"));

    // Merge: the SPID session proves the email too; one token carries both.
    let r = app.prove_email(Some(&spid), &email).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["session"]["guardian_fiscal_code"], guardian.as_str());
    assert_eq!(r.body["session"]["email"], email.as_str());
    let both = session_token(&r);

    // The guardian on the application must be the person who logged in.
    let r = app
        .save_draft(
            &both,
            application_body(&window, &pupil_code(), &guardian_code(), &email),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));
    assert_eq!(
        r.body["error"]["fields"][0]["field"],
        "guardian.fiscal_code"
    );
    app.new_draft(
        &both,
        application_body(&window, &pupil_code(), &guardian, &email),
    )
    .await;

    // The broker's renamed claim works as well.
    let mut c = claims(&guardian_code());
    let fiscal = c["https://attributes.eid.gov.it/fiscal_number"].clone();
    c.as_object_mut()
        .expect("object")
        .remove("https://attributes.eid.gov.it/fiscal_number");
    c["fiscal_number"] = fiscal;
    let r = login(&app.oidc.sign(&c).expect("sign")).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

#[tokio::test]
async fn every_forged_token_is_refused() {
    let app = shared_app();
    let good = claims(&guardian_code());
    let sign = |c: &Value| app.oidc.sign(c).expect("sign");
    let now = app.ports.clock.now().unix_timestamp();
    let mut cases: Vec<(&str, String)> = Vec::new();

    let other_key =
        local::server::LocalIdp::generate("local-spid-1", "http://127.0.0.1/_local/oidc")
            .expect("key");
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
    cases.push(("alg none", jwt::unsigned(&valid)));
    // HS256 "signed" with the provider's public key (key confusion).
    let confused = jwt::with_header(
        &valid,
        r#"{"alg":"HS256","typ":"JWT","kid":"local-spid-1"}"#,
    );
    let signing_input = confused.rsplit_once('.').expect("a JWT").0;
    let public = app.oidc.jwks.to_string();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, public.as_bytes());
    let mac = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes());
    cases.push((
        "HS256 with the public key",
        format!("{signing_input}.{}", B64.encode(mac.as_ref())),
    ));
    cases.push((
        "tampered",
        jwt::tampered(&valid, |c| {
            c["https://attributes.eid.gov.it/fiscal_number"] =
                json!(format!("TINIT-{}", guardian_code()));
        }),
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

// The browser login: authorization code flow with PKCE (S256) against the
// local stand-in, as the portal drives it.

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

/// `application/x-www-form-urlencoded`, or a query string.
fn encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let v: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The stand-in's login page for the authorization request `query`.
async fn authorize(query: &str) -> Reply {
    let app = shared_app();
    send(no_redirects().get(app.url(&format!("/_local/oidc/authorize?{query}")))).await
}

async fn post_form(path: &str, pairs: &[(&str, &str)]) -> Reply {
    let app = shared_app();
    send(
        no_redirects()
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(pairs)),
    )
    .await
}

/// The query parameters of a `Location`.
fn location_query(location: &str) -> std::collections::HashMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            (
                k.to_owned(),
                local::registry::percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// A PKCE verifier and its S256 challenge.
fn pkce() -> (String, String) {
    let verifier = B64.encode(shared::ops::random_bytes::<32>().expect("random"));
    let challenge = B64.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    (verifier, challenge)
}

fn redirect_uri() -> String {
    let app = shared_app();
    app.url("/demo/")
}

/// The authorization request's parameters.
fn authorize_params(
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", local::server::OIDC_CLIENT_ID.into()),
        ("redirect_uri", redirect_uri.into()),
        ("state", state.into()),
        ("nonce", "n-0S6_WzA2Mj".into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

fn borrowed<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// "Entra" on the stand-in's page as `fiscal`: the code and the state that
/// came back to the portal.
async fn sign_in(fiscal: &str, state: &str, challenge: &str) -> (String, String) {
    let mut form = authorize_params(&redirect_uri(), state, challenge);
    form.push(("fiscal_number", fiscal.into()));
    form.push(("given_name", "Marco".into()));
    form.push(("family_name", "Esposito".into()));
    let r = post_form("/_local/oidc/authorize", &borrowed(&form)).await;
    assert_eq!(r.status, 303, "{:?}", r.body);
    let location = r.header("location").expect("location").to_owned();
    assert!(
        location.starts_with(&format!("{}?", redirect_uri())),
        "{location}"
    );
    let query = location_query(&location);
    (
        query.get("code").expect("code").clone(),
        query.get("state").expect("state").clone(),
    )
}

async fn exchange(code: &str, verifier: &str) -> Reply {
    post_form(
        "/_local/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri()),
            ("client_id", local::server::OIDC_CLIENT_ID),
            ("code_verifier", verifier),
        ],
    )
    .await
}

#[tokio::test]
async fn the_browser_login_with_pkce_gives_a_token_once() {
    let guardian = guardian_code();
    let (verifier, challenge) = pkce();
    // Reflected values are escaped, and come back unchanged.
    let state = r#"st-<"a'&b">"#;
    let query = encode(&borrowed(&authorize_params(
        &redirect_uri(),
        state,
        &challenge,
    )));
    let r = authorize(&query).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let page = r.body.as_str().expect("html");
    assert!(page.contains(r#"<html lang="it">"#), "{page}");
    assert!(
        page.contains("<h1>Provider SPID/CIE di prova</h1>"),
        "{page}"
    );
    assert!(
        page.contains(r#"name="state" value="st-&lt;&quot;a&#39;&amp;b&quot;&gt;""#),
        "{page}"
    );
    assert!(page.contains(r#"value="SPSMRC82L09A662D""#), "{page}");
    assert!(!page.contains("<script"), "{page}");

    let (code, back) = sign_in(&guardian, state, &challenge).await;
    assert_eq!(back, state);
    remember(&code);

    let r = exchange(&code, &verifier).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 300);
    let id_token = r.body["id_token"].as_str().expect("id_token").to_owned();
    remember(&id_token);
    let claims = jwt::claims(&id_token);
    assert_eq!(
        claims["https://attributes.eid.gov.it/fiscal_number"],
        format!("TINIT-{guardian}")
    );
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["given_name"], "Marco");

    // A code is good once.
    let r = exchange(&code, &verifier).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let r = login(&id_token).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["session"]["guardian_fiscal_code"], guardian.as_str());
}

#[tokio::test]
async fn a_wrong_verifier_uses_the_code_up() {
    let app = shared_app();
    let (verifier, challenge) = pkce();
    let (code, _) = sign_in(&guardian_code(), "s-1", &challenge).await;
    let (other, _) = pkce();
    let r = exchange(&code, &other).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Even the right verifier comes too late now.
    let r = exchange(&code, &verifier).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Another redirect_uri than the request's is refused as well.
    let (verifier, challenge) = pkce();
    let (code, _) = sign_in(&guardian_code(), "s-2", &challenge).await;
    let r = post_form(
        "/_local/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &app.url("/altro/")),
            ("client_id", local::server::OIDC_CLIENT_ID),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A request without a verifier is malformed.
    let r = post_form(
        "/_local/oidc/token",
        &[("grant_type", "authorization_code"), ("code", "code-x")],
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn a_bad_authorization_request_never_redirects() {
    let app = shared_app();
    let (_, challenge) = pkce();
    let port = app.base.rsplit(':').next().expect("port").to_owned();
    let foreign = [
        "https://evil.example/cb".to_owned(),
        format!("http://127.0.0.1:{port}.evil.example/"),
        format!("http://127.0.0.1:{port}@evil.example/"),
    ];
    for uri in &foreign {
        let params = authorize_params(uri, "s-1", &challenge);
        let query = encode(&borrowed(&params));
        let r = authorize(&query).await;
        assert_eq!(r.status, 400, "{uri}");
        assert_eq!(r.header("location"), None, "{uri}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        let page = r.body.as_str().expect("html");
        assert!(page.contains(r#"<html lang="it">"#), "{page}");

        // Nor does the form, with "Entra" or "Annulla".
        let mut form = params.clone();
        form.push(("fiscal_number", guardian_code()));
        let r = post_form("/_local/oidc/authorize", &borrowed(&form)).await;
        assert_eq!((r.status, r.header("location")), (400, None), "{uri}");
        form.push(("cancel", "1".into()));
        let r = post_form("/_local/oidc/authorize", &borrowed(&form)).await;
        assert_eq!((r.status, r.header("location")), (400, None), "{uri}");
    }
    // No PKCE, or not S256: refused too.
    for (name, value) in [("code_challenge_method", "plain"), ("code_challenge", "")] {
        let mut params = authorize_params(&redirect_uri(), "s-1", &challenge);
        params.retain(|(k, _)| *k != name);
        params.push((name, value.into()));
        let query = encode(&borrowed(&params));
        let r = authorize(&query).await;
        assert_eq!((r.status, r.header("location")), (400, None), "{name}");
    }
}

#[tokio::test]
async fn annulla_goes_back_with_access_denied() {
    let (_, challenge) = pkce();
    let mut form = authorize_params(&redirect_uri(), "s-annulla", &challenge);
    form.push(("fiscal_number", "SPSMRC82L09A662D".into()));
    form.push(("cancel", "1".into()));
    let r = post_form("/_local/oidc/authorize", &borrowed(&form)).await;
    assert_eq!(r.status, 303, "{:?}", r.body);
    let location = r.header("location").expect("location");
    assert!(
        location.starts_with(&format!("{}?", redirect_uri())),
        "{location}"
    );
    let query = location_query(location);
    assert_eq!(
        query.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert_eq!(query.get("state").map(String::as_str), Some("s-annulla"));
    assert_eq!(query.get("code"), None);
}
