//! The local SPID/CIE stand-in's browser login: the OpenID Connect
//! authorization code flow with PKCE (S256), as a SPID/CIE broker offers
//! it to the portal.
//!
//! - `GET /_local/oidc/authorize?…`: a page where the developer says who
//!   logs in (no real identity check: local stack only);
//! - `POST /_local/oidc/authorize`: that page's form; `303` back to the
//!   portal's `redirect_uri` with a one-time `code` (or with
//!   `error=access_denied` on "Annulla");
//! - `POST /_local/oidc/token`: the code and the PKCE verifier for an ID
//!   token signed with the stand-in's key (the same one
//!   `POST /_local/id-token` mints).
//!
//! A `redirect_uri` must be on the dev server's own origin, so the stand-in
//! never sends a browser (or a code) anywhere else; a request it refuses is
//! a `400` page, never a redirect.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use lambda_http::Body;
use serde_json::json;
use shared::documents::mail::escape_html;
use shared::domain::error::Error;
use shared::http::{HttpResponse, error_response};
use shared::ops::spid::FISCAL_NUMBER_CLAIM;

use crate::idp::{LocalIdp, OIDC_CLIENT_ID, oidc_provider};

/// How long an authorization code can be exchanged.
pub const CODE_TTL_SECS: i64 = 300;
/// How long an ID token is valid.
pub const ID_TOKEN_TTL_SECS: i64 = 300;

/// What the login page proposes.
const DEFAULT_FISCAL_NUMBER: &str = "SPSMRC82L09A662D";
const DEFAULT_GIVEN_NAME: &str = "Marco";
const DEFAULT_FAMILY_NAME: &str = "Esposito";

/// Bounds on what is reflected or stored.
const MAX_PARAM: usize = 1024;
const MAX_REDIRECT_URI: usize = 2048;
const MAX_NAME: usize = 100;

/// Form fields and query parameters (repeated keys kept).
pub type Params = HashMap<String, Vec<String>>;

/// Who logs in, as the ID token says.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The claim's value, `TINIT-` included.
    pub fiscal_number: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

/// Sign an ID token of the stand-in served at `base`, for `who`, issued
/// at `now`; with `nonce` when the authorization request had one.
pub fn sign_id_token(
    idp: &LocalIdp,
    base: &str,
    now: i64,
    who: &Identity,
    nonce: Option<&str>,
) -> Result<String, Error> {
    let provider = oidc_provider(base);
    let mut claims = json!({
        "iss": provider.issuer,
        "aud": provider.client_id,
        "sub": shared::ops::random_id("spid")?,
        "iat": now,
        "exp": now + ID_TOKEN_TTL_SECS,
        "jti": shared::ops::random_id("jti")?,
        FISCAL_NUMBER_CLAIM: who.fiscal_number,
        "given_name": who.given_name,
        "family_name": who.family_name,
    });
    if let (Some(nonce), Some(object)) = (nonce, claims.as_object_mut()) {
        object.insert("nonce".into(), json!(nonce));
    }
    idp.sign(&claims)
}

/// What an authorization code stands for until it is exchanged.
struct Grant {
    identity: Identity,
    nonce: Option<String>,
    code_challenge: String,
    redirect_uri: String,
    client_id: String,
    expires_at: i64,
}

/// The authorization codes not yet exchanged (in memory: one dev server).
#[derive(Default)]
pub struct Codes {
    grants: Mutex<HashMap<String, Grant>>,
}

impl Codes {
    /// A new one-time code for `grant` (expired codes are dropped).
    fn issue(&self, grant: Grant, now: i64) -> Result<String, Error> {
        let code = shared::ops::random_id("code")?;
        let mut grants = self.grants.lock().unwrap_or_else(PoisonError::into_inner);
        grants.retain(|_, g| g.expires_at > now);
        grants.insert(code.clone(), grant);
        Ok(code)
    }

    /// The grant of `code`, which is gone from then on.
    fn take(&self, code: &str) -> Option<Grant> {
        self.grants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(code)
    }
}

/// A checked authorization request.
struct AuthRequest {
    redirect_uri: String,
    state: String,
    nonce: Option<String>,
    code_challenge: String,
}

/// The only value of `name`, if any; a repeated parameter is an error.
fn one<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, String> {
    match params.get(name).map(Vec::as_slice) {
        None | Some([]) => Ok(None),
        Some([value]) => Ok(Some(value.as_str())),
        Some(_) => Err(format!("Il parametro {name} compare più di una volta.")),
    }
}

/// A required, non-empty parameter of at most `max` characters.
fn required<'a>(params: &'a Params, name: &str, max: usize) -> Result<&'a str, String> {
    match one(params, name)? {
        None | Some("") => Err(format!("Manca il parametro {name}.")),
        Some(v) if v.chars().count() > max => Err(format!("Il parametro {name} è troppo lungo.")),
        Some(v) => Ok(v),
    }
}

/// RFC 7636: 43 to 128 characters, letters, digits and `-._~`.
fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Check an authorization request (the query of the page, or its form).
/// The error is a sentence for the developer, in Italian.
fn check_request(base: &str, params: &Params) -> Result<AuthRequest, String> {
    let redirect_uri = required(params, "redirect_uri", MAX_REDIRECT_URI)?;
    let own = format!("{base}/");
    if !redirect_uri.starts_with(&own)
        || !redirect_uri.bytes().all(|b| b.is_ascii_graphic())
        || redirect_uri.contains('#')
    {
        return Err(format!(
            "L’indirizzo di ritorno (redirect_uri) deve essere una pagina di questo server \
locale, cioè iniziare con {own}, senza spazi né frammento (#)."
        ));
    }
    if one(params, "response_type")? != Some("code") {
        return Err("Il parametro response_type deve essere «code».".into());
    }
    if one(params, "client_id")? != Some(OIDC_CLIENT_ID) {
        return Err(format!(
            "Il parametro client_id deve essere «{OIDC_CLIENT_ID}», il portale locale."
        ));
    }
    if one(params, "code_challenge_method")? != Some("S256") {
        return Err("È richiesto PKCE con code_challenge_method=S256.".into());
    }
    let code_challenge = required(params, "code_challenge", 128)?;
    if !is_pkce_value(code_challenge) {
        return Err(
            "Il parametro code_challenge non è valido: deve essere l’hash SHA-256 del \
code_verifier in base64url, senza padding."
                .into(),
        );
    }
    let state = required(params, "state", MAX_PARAM)?;
    let nonce = match one(params, "nonce")? {
        None | Some("") => None,
        Some(n) if n.chars().count() > MAX_PARAM => {
            return Err("Il parametro nonce è troppo lungo.".into());
        }
        Some(n) => Some(n.to_owned()),
    };
    Ok(AuthRequest {
        redirect_uri: redirect_uri.to_owned(),
        state: state.to_owned(),
        nonce,
        code_challenge: code_challenge.to_owned(),
    })
}

/// Percent-encode everything but the unreserved characters (RFC 3986).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `redirect_uri` with `pairs` added to its query.
fn redirect_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut location = redirect_uri.to_owned();
    if !location.contains('?') {
        location.push('?');
    } else if !(location.ends_with('?') || location.ends_with('&')) {
        location.push('&');
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    location.push_str(&query.join("&"));
    location
}

fn response(status: u16, headers: &[(&str, &str)], body: Body) -> HttpResponse {
    let mut builder = lambda_http::http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(body)
        .unwrap_or_else(|e| error_response(&Error::Internal(format!("oidc response: {e}"))))
}

fn see_other(location: &str) -> HttpResponse {
    response(
        303,
        &[
            ("location", location),
            ("cache-control", "no-store"),
            ("referrer-policy", "no-referrer"),
        ],
        Body::Empty,
    )
}

/// The pages' only style, allowed by its hash (no inline script at all).
const STYLE: &str = "body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;color:#1a1a1a}\
main{max-width:36rem;margin:2rem auto;padding:0 1rem}\
.avviso{background:#fff4d6;border-left:.3rem solid #a66d00;padding:.5rem 1rem}\
label{display:block;margin-top:1rem;font-weight:600}\
input{font:inherit;width:100%;box-sizing:border-box;padding:.4rem;border:1px solid #5c6f82}\
.aiuto{margin:.25rem 0 0;font-size:.9rem}.errore{color:#a61b1b;font-weight:600}\
.azioni{display:flex;gap:1rem;margin-top:1.5rem}button{font:inherit;padding:.5rem 1.25rem}\
code{word-break:break-all}";

fn html(status: u16, title: &str, main: &str) -> HttpResponse {
    let hash = STANDARD.encode(digest::digest(&digest::SHA256, STYLE.as_bytes()).as_ref());
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; \
frame-ancestors 'none'; base-uri 'none'"
    );
    let page = format!(
        "<!doctype html>\n<html lang=\"it\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{main}</main>\n\
</body>\n</html>\n",
        title = escape_html(title),
    );
    response(
        status,
        &[
            ("content-type", "text/html; charset=utf-8"),
            ("content-security-policy", &csp),
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("cache-control", "no-store"),
        ],
        Body::Text(page),
    )
}

/// A request the stand-in refuses: `400`, no redirect.
fn bad_request(reason: &str) -> HttpResponse {
    html(
        400,
        "Richiesta di accesso non valida – provider SPID/CIE di prova",
        &format!(
            "<h1>Richiesta di accesso non valida</h1>\n<p>{}</p>\n\
<p>Il provider SPID/CIE di prova non può proseguire: torna al portale e riprova \
l’accesso.</p>\n",
            escape_html(reason)
        ),
    )
}

/// What the login form holds, and what was wrong with it.
struct FormValues<'a> {
    fiscal_number: &'a str,
    given_name: &'a str,
    family_name: &'a str,
    /// The field in error (its `name`) and the message.
    error: Option<(&'a str, String)>,
}

fn input(name: &str, label: &str, value: &str, extra: &str, values: &FormValues) -> String {
    let mut described = Vec::new();
    if name == "fiscal_number" {
        described.push("fiscal_number_aiuto");
    }
    let invalid = values
        .error
        .as_ref()
        .is_some_and(|(field, _)| *field == name);
    if invalid {
        described.push("errore");
    }
    let describedby = if described.is_empty() {
        String::new()
    } else {
        format!(" aria-describedby=\"{}\"", described.join(" "))
    };
    format!(
        "<label for=\"{name}\">{label}</label>\n\
<input id=\"{name}\" name=\"{name}\" type=\"text\" value=\"{value}\"{extra}{describedby}{invalid}>\n",
        value = escape_html(value),
        invalid = if invalid {
            " aria-invalid=\"true\""
        } else {
            ""
        },
    )
}

/// The login page for a checked request.
fn login_page(status: u16, request: &AuthRequest, values: &FormValues) -> HttpResponse {
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
            escape_html(value)
        )
    };
    let mut form = String::new();
    form.push_str(&hidden("response_type", "code"));
    form.push_str(&hidden("client_id", OIDC_CLIENT_ID));
    form.push_str(&hidden("redirect_uri", &request.redirect_uri));
    form.push_str(&hidden("state", &request.state));
    if let Some(nonce) = &request.nonce {
        form.push_str(&hidden("nonce", nonce));
    }
    form.push_str(&hidden("code_challenge", &request.code_challenge));
    form.push_str(&hidden("code_challenge_method", "S256"));
    form.push_str(&input(
        "fiscal_number",
        "Codice fiscale",
        values.fiscal_number,
        " required maxlength=\"22\" autocomplete=\"off\" autocapitalize=\"characters\" \
spellcheck=\"false\"",
        values,
    ));
    form.push_str(
        "<p id=\"fiscal_number_aiuto\" class=\"aiuto\">Senza il prefisso TINIT-: \
il token lo aggiunge come fa SPID.</p>\n",
    );
    form.push_str(&input(
        "given_name",
        "Nome",
        values.given_name,
        " autocomplete=\"given-name\"",
        values,
    ));
    form.push_str(&input(
        "family_name",
        "Cognome",
        values.family_name,
        " autocomplete=\"family-name\"",
        values,
    ));
    // "Entra" first: it is the button Invio presses.
    form.push_str(
        "<div class=\"azioni\">\n<button type=\"submit\">Entra</button>\n\
<button type=\"submit\" name=\"cancel\" value=\"1\" formnovalidate>Annulla</button>\n</div>\n",
    );
    let error = values
        .error
        .as_ref()
        .map(|(_, message)| {
            format!(
                "<p id=\"errore\" class=\"errore\" role=\"alert\">{}</p>\n",
                escape_html(message)
            )
        })
        .unwrap_or_default();
    html(
        status,
        "Accesso con SPID o CIE – provider di prova",
        &format!(
            "<h1>Provider SPID/CIE di prova</h1>\n\
<p class=\"avviso\">Questa pagina esiste solo nell’ambiente locale di sviluppo: simula \
l’accesso con SPID o CIE senza verificare l’identità. Non inserire dati personali reali.</p>\n\
<p>Scegli con quale identità entrare. Dopo l’accesso tornerai a <code>{back}</code>.</p>\n\
{error}<form method=\"post\" action=\"/_local/oidc/authorize\">\n{form}</form>\n",
            back = escape_html(&request.redirect_uri),
        ),
    )
}

/// What the stand-in's endpoints work with: its signing key, the server's
/// origin, the codes not yet exchanged, and the time (unix seconds).
pub struct StandIn<'a> {
    pub idp: &'a LocalIdp,
    pub base: &'a str,
    pub codes: &'a Codes,
    pub now: i64,
}

/// `GET /_local/oidc/authorize?…`: the login page.
pub fn authorize_page(stand: &StandIn, query: Option<&str>) -> HttpResponse {
    let params = crate::registry::query_map(query);
    match check_request(stand.base, &params) {
        Ok(request) => login_page(
            200,
            &request,
            &FormValues {
                fiscal_number: DEFAULT_FISCAL_NUMBER,
                given_name: DEFAULT_GIVEN_NAME,
                family_name: DEFAULT_FAMILY_NAME,
                error: None,
            },
        ),
        Err(reason) => bad_request(&reason),
    }
}

/// The fiscal number as typed: spaces removed, upper case, an optional
/// `TINIT-` dropped; letters and digits, at most 16.
fn typed_fiscal_number(raw: &str) -> Option<String> {
    let code: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let code = code.strip_prefix("TINIT-").unwrap_or(&code).to_owned();
    ((1..=16).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(code)
}

/// An optional name: trimmed, `None` when empty.
fn typed_name(raw: &str) -> Option<String> {
    let name = raw.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// `POST /_local/oidc/authorize`: the login form.
pub fn authorize_submit(stand: &StandIn, form: Result<Params, Error>) -> HttpResponse {
    let Ok(params) = form else {
        return bad_request("Il modulo inviato non è valido.");
    };
    let request = match check_request(stand.base, &params) {
        Ok(r) => r,
        Err(reason) => return bad_request(&reason),
    };
    if params.contains_key("cancel") {
        return see_other(&redirect_to(
            &request.redirect_uri,
            &[("error", "access_denied"), ("state", &request.state)],
        ));
    }
    let field = |name: &str| one(&params, name).map(|v| v.unwrap_or(""));
    let (fiscal_raw, given_raw, family_raw) = match (
        field("fiscal_number"),
        field("given_name"),
        field("family_name"),
    ) {
        (Ok(f), Ok(g), Ok(n)) => (f, g, n),
        (Err(reason), _, _) | (_, Err(reason), _) | (_, _, Err(reason)) => {
            return bad_request(&reason);
        }
    };
    let refuse = |name: &'static str, message: &str| {
        login_page(
            400,
            &request,
            &FormValues {
                fiscal_number: fiscal_raw,
                given_name: given_raw,
                family_name: family_raw,
                error: Some((name, message.to_owned())),
            },
        )
    };
    let Some(fiscal_code) = typed_fiscal_number(fiscal_raw) else {
        return refuse(
            "fiscal_number",
            "Inserisci il codice fiscale: solo lettere e cifre, al massimo 16.",
        );
    };
    if given_raw.chars().count() > MAX_NAME {
        return refuse(
            "given_name",
            "Il nome è troppo lungo (al massimo 100 caratteri).",
        );
    }
    if family_raw.chars().count() > MAX_NAME {
        return refuse(
            "family_name",
            "Il cognome è troppo lungo (al massimo 100 caratteri).",
        );
    }
    let now = stand.now;
    let grant = Grant {
        identity: Identity {
            fiscal_number: format!("TINIT-{fiscal_code}"),
            given_name: typed_name(given_raw),
            family_name: typed_name(family_raw),
        },
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        redirect_uri: request.redirect_uri.clone(),
        client_id: OIDC_CLIENT_ID.into(),
        expires_at: now + CODE_TTL_SECS,
    };
    match stand.codes.issue(grant, now) {
        Ok(code) => see_other(&redirect_to(
            &request.redirect_uri,
            &[("code", &code), ("state", &request.state)],
        )),
        Err(e) => error_response(&e),
    }
}

/// An OAuth error of the token endpoint.
fn token_error(status: u16, error: &str, description: &str) -> HttpResponse {
    token_json(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

fn token_json(status: u16, body: &serde_json::Value) -> HttpResponse {
    response(
        status,
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("cache-control", "no-store"),
            ("pragma", "no-cache"),
        ],
        Body::Text(body.to_string()),
    )
}

/// `POST /_local/oidc/token`: a code and its PKCE verifier for an ID token.
pub fn token(stand: &StandIn, form: Result<Params, Error>) -> HttpResponse {
    let invalid_request = |description: &str| token_error(400, "invalid_request", description);
    let invalid_grant = |description: &str| token_error(400, "invalid_grant", description);
    let Ok(params) = form else {
        return invalid_request("the body must be an application/x-www-form-urlencoded form");
    };
    // The code is used up by the first request that names it, whatever
    // happens next.
    let grant = match one(&params, "code") {
        Ok(Some(code)) if !code.is_empty() => stand.codes.take(code),
        Ok(_) => return invalid_request("code is missing"),
        Err(_) => return invalid_request("code is repeated"),
    };
    let mut values = HashMap::new();
    for name in ["grant_type", "redirect_uri", "client_id", "code_verifier"] {
        match one(&params, name) {
            Ok(Some(v)) if !v.is_empty() => {
                values.insert(name, v);
            }
            Ok(_) => return invalid_request(&format!("{name} is missing")),
            Err(_) => return invalid_request(&format!("{name} is repeated")),
        }
    }
    let value = |name: &str| values.get(name).copied().unwrap_or("");
    if value("grant_type") != "authorization_code" {
        return token_error(
            400,
            "unsupported_grant_type",
            "only authorization_code is supported",
        );
    }
    let now = stand.now;
    let Some(grant) = grant else {
        return invalid_grant("unknown or already used code");
    };
    if now >= grant.expires_at {
        return invalid_grant("expired code");
    }
    if value("redirect_uri") != grant.redirect_uri || value("client_id") != grant.client_id {
        return invalid_grant("redirect_uri or client_id does not match the authorization request");
    }
    let verifier = value("code_verifier");
    let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    if !is_pkce_value(verifier)
        || aws_lc_rs::constant_time::verify_slices_are_equal(
            computed.as_bytes(),
            grant.code_challenge.as_bytes(),
        )
        .is_err()
    {
        return invalid_grant("code_verifier does not match the code_challenge");
    }
    match sign_id_token(
        stand.idp,
        stand.base,
        now,
        &grant.identity,
        grant.nonce.as_deref(),
    ) {
        Ok(id_token) => token_json(
            200,
            &json!({
                "id_token": id_token,
                "token_type": "Bearer",
                "expires_in": ID_TOKEN_TTL_SECS,
            }),
        ),
        Err(e) => error_response(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:3000";

    fn params(pairs: &[(&str, &str)]) -> Params {
        let mut map = Params::new();
        for (k, v) in pairs {
            map.entry((*k).to_owned())
                .or_default()
                .push((*v).to_owned());
        }
        map
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("response_type", "code"),
            ("client_id", OIDC_CLIENT_ID),
            ("redirect_uri", "http://127.0.0.1:3000/demo/"),
            ("state", "s1"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ]
    }

    fn with(name: &str, value: &str) -> Params {
        let mut map = params(&good());
        map.insert(name.to_owned(), vec![value.to_owned()]);
        map
    }

    #[test]
    fn a_good_request_passes() {
        let r = check_request(BASE, &params(&good()));
        assert!(r.is_ok_and(|r| r.state == "s1" && r.nonce.is_none()));
    }

    #[test]
    fn redirect_uris_stay_on_this_origin() {
        for uri in [
            "https://evil.example/cb",
            "http://127.0.0.1:3000",
            "http://127.0.0.1:30001/",
            "http://127.0.0.1:3000.evil.example/",
            "http://127.0.0.1:3000@evil.example/",
            "http://127.0.0.1:3000/demo/#x",
            "http://127.0.0.1:3000/demo/ x",
            "//evil.example/",
        ] {
            assert!(
                check_request(BASE, &with("redirect_uri", uri)).is_err(),
                "{uri}"
            );
        }
    }

    #[test]
    fn only_code_with_pkce_s256() {
        assert!(check_request(BASE, &with("response_type", "token")).is_err());
        assert!(check_request(BASE, &with("client_id", "other")).is_err());
        assert!(check_request(BASE, &with("code_challenge_method", "plain")).is_err());
        assert!(check_request(BASE, &with("code_challenge", "")).is_err());
        assert!(check_request(BASE, &with("code_challenge", "short")).is_err());
        assert!(check_request(BASE, &with("state", "")).is_err());
        let mut repeated = params(&good());
        repeated
            .entry("state".into())
            .or_default()
            .push("s2".into());
        assert!(check_request(BASE, &repeated).is_err());
    }

    #[test]
    fn the_rfc_7636_example_verifier_matches_its_challenge() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
        assert_eq!(computed, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn redirects_keep_the_query_and_encode() {
        assert_eq!(
            redirect_to("http://h/cb", &[("code", "c-1"), ("state", "a b&c")]),
            "http://h/cb?code=c-1&state=a%20b%26c"
        );
        assert_eq!(
            redirect_to("http://h/cb?x=1", &[("error", "access_denied")]),
            "http://h/cb?x=1&error=access_denied"
        );
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn fiscal_numbers_as_typed() {
        assert_eq!(
            typed_fiscal_number(" spsmrc82l09a662d "),
            Some("SPSMRC82L09A662D".into())
        );
        assert_eq!(
            typed_fiscal_number("TINIT-SPSMRC82L09A662D"),
            Some("SPSMRC82L09A662D".into())
        );
        assert_eq!(typed_fiscal_number(""), None);
        assert_eq!(typed_fiscal_number("SPSMRC82L09A662D1"), None);
        assert_eq!(typed_fiscal_number("<script>"), None);
    }
}
