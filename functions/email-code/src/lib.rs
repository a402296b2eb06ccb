//! The `email-code` function: `POST email-codes` and `POST phone-codes`
//! (send a security code by mail or SMS), `POST sessions` (open a parent
//! session, or prove a phone in one) and `POST password`.

use lambda_http::Request;
use serde::Deserialize;
use serde_json::Value;

use shared::app::App;
use shared::domain::error::{Error, FieldError};
use shared::domain::values::{Email, MobilePhone};
use shared::http::{self, HttpResponse, json, load_tenant, parse_json, views};
use shared::ops::sessions::{self, Gate};
use shared::ops::{email_codes, passwords, phone_codes, spid};

/// The binary name in `infra/template.yaml`.
pub const BINARY: &str = "email-code";
pub const EMAIL_CODES: &str = "POST /v1/{tenant}/email-codes";
pub const PHONE_CODES: &str = "POST /v1/{tenant}/phone-codes";
pub const SESSIONS: &str = "POST /v1/{tenant}/sessions";
/// The routes this function serves (checked against the template).
pub const PASSWORD: &str = "POST /v1/{tenant}/password";
pub const ROUTES: &[&str] = &[EMAIL_CODES, PHONE_CODES, SESSIONS, PASSWORD];

pub async fn handle(app: App, req: Request) -> HttpResponse {
    http::serve(&app, req, route).await
}

async fn route(app: App, req: Request) -> Result<HttpResponse, Error> {
    match http::route_key(&req).as_deref() {
        Some(EMAIL_CODES) => request_code(app, req).await,
        Some(PHONE_CODES) => request_phone_code(app, req).await,
        Some(SESSIONS) => open_session(app, req).await,
        Some(PASSWORD) => change_password(app, req).await,
        _ => Err(Error::RouteNotFound),
    }
}

fn invalid_email() -> Error {
    Error::InvalidEmail(FieldError::new(
        "email",
        "invalid",
        "Inserisci un indirizzo email valido, ad esempio nome@esempio.it.",
    ))
}

fn parse_email(value: Option<&Value>) -> Result<Email, Error> {
    value
        .and_then(Value::as_str)
        .and_then(|s| Email::parse(s).ok())
        .ok_or_else(invalid_email)
}

fn parse_phone(value: Option<&Value>) -> Result<MobilePhone, Error> {
    value
        .and_then(Value::as_str)
        .and_then(|s| MobilePhone::parse(s).ok())
        .ok_or_else(Error::invalid_phone)
}

fn parse_code(value: &Value) -> Result<&str, Error> {
    value
        .as_str()
        .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            Error::InvalidFields(vec![FieldError::new(
                "code",
                "invalid",
                "Il codice di sicurezza è formato da 6 cifre.",
            )])
        })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRequest {
    #[serde(default)]
    email: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneCodeRequest {
    #[serde(default)]
    phone: Option<Value>,
}

async fn request_phone_code(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
    let body: PhoneCodeRequest = parse_json(&req)?;
    let phone = parse_phone(body.phone.as_ref())?;
    let client = http::client(&app, &req);
    let sent = phone_codes::request_code(
        &app,
        &tenant,
        &session,
        &phone,
        &client,
        http::language(&req),
    )
    .await?;
    Ok(json(202, &views::code_sent(&sent)))
}

async fn request_code(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let body: CodeRequest = parse_json(&req)?;
    let email = parse_email(body.email.as_ref())?;
    let client = http::client(&app, &req);
    let sent =
        email_codes::request_code(&app, &tenant, &email, &client, http::language(&req)).await?;
    Ok(json(202, &views::code_sent(&sent)))
}

/// The four bodies of `POST /sessions`, read loosely so that each missing
/// or malformed part gets its own field error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionRequest {
    #[serde(default)]
    email: Option<Value>,
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    phone: Option<Value>,
    #[serde(default)]
    fiscal_code: Option<Value>,
    #[serde(default)]
    password: Option<Value>,
    #[serde(default)]
    id_token: Option<Value>,
    /// The OpenID Connect `nonce` of the authorization request, checked
    /// against the ID token's when given.
    #[serde(default)]
    nonce: Option<Value>,
}

fn required(field: &str, message: &str) -> FieldError {
    FieldError::new(field, "required", message)
}

async fn open_session(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let body: SessionRequest = parse_json(&req)?;
    if let SessionRequest {
        phone: Some(phone),
        code,
        email: None,
        fiscal_code: None,
        password: None,
        id_token: None,
        nonce: None,
    } = &body
    {
        // Proving a phone needs the session it is proved in.
        let session = http::parent_session(&app, &req, &tenant, Gate::Changed).await?;
        let phone = parse_phone(Some(phone))?;
        let code = parse_code(code.as_ref().ok_or_else(|| {
            Error::InvalidFields(vec![required(
                "code",
                "Inserisci il codice di sicurezza ricevuto via SMS.",
            )])
        })?)?;
        let client = http::client(&app, &req);
        let opened =
            phone_codes::verify_code(&app, &tenant, session, &phone, code, &client).await?;
        return Ok(json(201, &views::session(&opened)));
    }
    // A valid session of this tenant in the Authorization header is merged
    // into the new one.
    let existing = sessions::mergeable(&app, &tenant, http::bearer_token(&req)).await?;
    let client = http::client(&app, &req);
    let opened = match &body {
        SessionRequest {
            email: Some(email),
            code: Some(code),
            phone: None,
            fiscal_code: None,
            password: None,
            id_token: None,
            nonce: None,
        } => {
            let email = parse_email(Some(email))?;
            let code = parse_code(code)?;
            email_codes::verify_code(&app, &tenant, &email, code, &client, existing).await?
        }
        SessionRequest {
            fiscal_code: Some(fiscal_code),
            password: Some(password),
            email: None,
            code: None,
            phone: None,
            id_token: None,
            nonce: None,
        } => {
            let (Some(fiscal_code), Some(password)) = (fiscal_code.as_str(), password.as_str())
            else {
                return Err(Error::InvalidCredentials);
            };
            passwords::login(&app, &tenant, fiscal_code, password, &client, existing).await?
        }
        SessionRequest {
            id_token: Some(token),
            email: None,
            code: None,
            phone: None,
            fiscal_code: None,
            password: None,
            nonce,
        } => {
            let token = token.as_str().ok_or(Error::InvalidIdToken)?;
            let nonce = match nonce {
                None => None,
                Some(n) => Some(n.as_str().ok_or(Error::InvalidIdToken)?),
            };
            spid::login(&app, &tenant, token, nonce, existing).await?
        }
        SessionRequest {
            email: Some(_),
            code: None,
            ..
        } => {
            return Err(Error::InvalidFields(vec![required(
                "code",
                "Inserisci il codice di sicurezza ricevuto via email.",
            )]));
        }
        SessionRequest {
            email: None,
            code: Some(_),
            phone: None,
            ..
        } => {
            return Err(Error::InvalidFields(vec![required(
                "email",
                "Inserisci l'indirizzo email a cui hai ricevuto il codice.",
            )]));
        }
        SessionRequest {
            fiscal_code: Some(_),
            password: None,
            ..
        } => {
            return Err(Error::InvalidFields(vec![required(
                "password",
                "Inserisci la password.",
            )]));
        }
        SessionRequest {
            fiscal_code: None,
            password: Some(_),
            ..
        } => {
            return Err(Error::InvalidFields(vec![required(
                "fiscal_code",
                "Inserisci il codice fiscale dell'alunno.",
            )]));
        }
        _ => {
            return Err(Error::InvalidFields(vec![FieldError::new(
                "body",
                "invalid",
                "Indica un solo modo di accesso: email e codice di sicurezza, codice fiscale e \
password, oppure SPID/CIE (o, in una sessione aperta, cellulare e codice ricevuto via SMS).",
            )]));
        }
    };
    Ok(json(201, &views::session(&opened)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current: String,
    new: String,
}

async fn change_password(app: App, req: Request) -> Result<HttpResponse, Error> {
    let tenant = load_tenant(&app, &req).await?;
    let session = http::parent_session(&app, &req, &tenant, Gate::PasswordChange).await?;
    let body: PasswordChange = parse_json(&req)?;
    passwords::change(&app, &tenant, &session, &body.current, &body.new).await?;
    let mut response = json(204, &serde_json::Value::Null);
    *response.body_mut() = lambda_http::Body::Empty;
    response
        .headers_mut()
        .remove(lambda_http::http::header::CONTENT_TYPE);
    Ok(response)
}
