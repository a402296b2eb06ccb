//! Parent sessions and the family's identity, in one place: the session
//! token (a short-lived JWT signed by us: HS256 pinned, `iss`, `aud`, `exp`,
//! `sub` required, tenant checked), opening, renewing and merging a session,
//! the password-change gate every parent route passes through, the keyed
//! hashes under which an identity is filed, and the rule that says which
//! applications a session may touch.
//!
//! A session carries only what its holder proved: a verified email, a
//! SPID/CIE fiscal code, or a pupil's fiscal code with its password.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::app::App;
use crate::config::Config;
use crate::domain::application::Application;
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::values::TenantSlug;

/// Sessions last 30 minutes.
pub const SESSION_TTL_SECS: i64 = 1800;
/// The audience of parent session tokens; other token kinds use others.
pub const SESSION_AUDIENCE: &str = "parent-session";

/// The claims of a parent session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    pub iss: String,
    pub aud: String,
    /// A random session id (not personal data).
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub tenant: String,
    /// The verified email address, if proven in this session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The mobile number (E.164) proved with an SMS code in this session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The guardian's fiscal code from SPID/CIE, if logged in that way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spid_fiscal_code: Option<String>,
    /// Keyed hash of the pupil's fiscal code, for a session opened with the
    /// pupil's fiscal code and password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pupil: Option<String>,
    /// For such a session, the family whose password it was: the keyed
    /// hash of the address the password was mailed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Set for a session opened with a temporary password.
    #[serde(default)]
    pub must_change_password: bool,
}

impl SessionClaims {
    pub fn new(config: &Config, tenant: &TenantSlug, now: OffsetDateTime, sub: String) -> Self {
        let iat = now.unix_timestamp();
        Self {
            iss: config.session_issuer.clone(),
            aud: SESSION_AUDIENCE.into(),
            sub,
            iat,
            exp: iat + SESSION_TTL_SECS,
            tenant: tenant.to_string(),
            email: None,
            phone: None,
            spid_fiscal_code: None,
            pupil: None,
            family: None,
            must_change_password: false,
        }
    }

    pub fn expires_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.exp).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// Sign a session token.
pub fn issue(config: &Config, claims: &SessionClaims) -> Result<String, Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(config.session_key()),
    )
    .map_err(|e| Error::Internal(format!("session signing failed: {e}")))
}

/// Verify a session token for `tenant` at `now` (our clock, not the
/// library's: expiry follows the injected clock). Any failure is `401`,
/// except a valid session of another tenant: `404`.
pub fn verify(
    config: &Config,
    token: &str,
    tenant: &TenantSlug,
    now: OffsetDateTime,
) -> Result<SessionClaims, Error> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[config.session_issuer.as_str()]);
    validation.set_audience(&[SESSION_AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    // Expiry is checked below against the injected clock, to the second.
    validation.validate_exp = false;
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<SessionClaims>(
        token,
        &DecodingKey::from_secret(config.session_key()),
        &validation,
    )
    .map_err(|_| Error::Unauthorized)?;
    let claims = data.claims;
    if now.unix_timestamp() >= claims.exp {
        return Err(Error::Unauthorized);
    }
    // A valid session of another tenant: nothing here is the caller's, and
    // whether it exists is not revealed (the contract's "wrong tenant").
    if claims.tenant != tenant.as_str() {
        return Err(Error::NotFound);
    }
    Ok(claims)
}

/// A session just opened: its signed token and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub token: String,
    pub claims: SessionClaims,
}

/// The claims a login starts from: the caller's valid session renewed for
/// another 30 minutes (a login on top of a session merges the two
/// identities), or a new session.
pub fn renew_or_new(
    app: &App,
    tenant: &Tenant,
    existing: Option<SessionClaims>,
) -> Result<SessionClaims, Error> {
    let now = app.clock.now();
    Ok(match existing {
        Some(mut claims) => {
            claims.iat = now.unix_timestamp();
            claims.exp = claims.iat + SESSION_TTL_SECS;
            claims
        }
        None => SessionClaims::new(&app.config, &tenant.slug, now, super::random_id("s")?),
    })
}

/// Sign the claims of a login.
pub fn open(app: &App, claims: SessionClaims) -> Result<Opened, Error> {
    Ok(Opened {
        token: issue(&app.config, &claims)?,
        claims,
    })
}

/// Which routes a session with a temporary password may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Every parent route: a temporary password must be changed first.
    Changed,
    /// `POST /password` itself.
    PasswordChange,
}

/// The parent session of a request: `401` without a valid token, `403
/// password_change_required` for a temporary-password session (unless the
/// gate lets the password change through) until `POST /password` succeeds
/// with it. Sessions are stateless, so only such a session costs a read of
/// the pupil's credentials.
pub async fn authenticate(
    app: &App,
    tenant: &Tenant,
    token: Option<&str>,
    gate: Gate,
) -> Result<SessionClaims, Error> {
    let token = token.ok_or(Error::Unauthorized)?;
    let mut claims = verify(&app.config, token, &tenant.slug, app.clock.now())?;
    if gate == Gate::Changed && !settle_password_change(app, tenant, &mut claims).await? {
        return Err(Error::PasswordChangeRequired);
    }
    Ok(claims)
}

/// The caller's session that a login merges into the new one: a valid
/// session of this tenant; an invalid or expired token is simply not used.
/// A temporary-password session that has changed the password since
/// merges as a normal one.
pub async fn mergeable(
    app: &App,
    tenant: &Tenant,
    token: Option<&str>,
) -> Result<Option<SessionClaims>, Error> {
    let Some(mut claims) =
        token.and_then(|t| verify(&app.config, t, &tenant.slug, app.clock.now()).ok())
    else {
        return Ok(None);
    };
    settle_password_change(app, tenant, &mut claims).await?;
    Ok(Some(claims))
}

/// Clear `must_change_password` when this very session has changed the
/// password since; `false` while the change is still owed.
async fn settle_password_change(
    app: &App,
    tenant: &Tenant,
    claims: &mut SessionClaims,
) -> Result<bool, Error> {
    if !claims.must_change_password {
        return Ok(true);
    }
    if changed_in_session(app, tenant, claims).await? {
        claims.must_change_password = false;
        return Ok(true);
    }
    Ok(false)
}

/// Whether the temporary-password session `session` has since set the
/// pupil's password with `POST /password` (and nobody changed it after).
async fn changed_in_session(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
) -> Result<bool, Error> {
    let (Some(pupil), Some(family)) = (&session.pupil, &session.family) else {
        return Ok(false);
    };
    let stored = app
        .store
        .get_credentials(&tenant.slug, pupil, family)
        .await?;
    Ok(stored.is_some_and(|c| {
        !c.value.temporary && c.value.changed_in.as_deref() == Some(session.sub.as_str())
    }))
}

/// The keyed hash under which a pupil is filed (uniqueness per window,
/// credentials, fiscal-code logins).
pub fn pupil_key(app: &App, tenant: &Tenant, fiscal_code: &str) -> String {
    app.config
        .keyed_hash("pupil", tenant.slug.as_str(), fiscal_code)
}

/// The keyed hash of the guardian named in an application (the siblings
/// rule: one guardian per creating session).
pub fn guardian_key(app: &App, tenant: &Tenant, fiscal_code: &str) -> String {
    app.config
        .keyed_hash("guardian", tenant.slug.as_str(), fiscal_code)
}

/// The keyed hash under which a verified email is an identity: sessions'
/// applications and last year's roster are filed under it alike.
pub fn email_identity(app: &App, tenant: &Tenant, email: &str) -> String {
    app.config
        .keyed_hash("owner-email", tenant.slug.as_str(), email)
}

/// The keyed hash under which a SPID/CIE fiscal code is an identity.
pub fn spid_identity(app: &App, tenant: &Tenant, fiscal_code: &str) -> String {
    app.config
        .keyed_hash("owner-spid", tenant.slug.as_str(), fiscal_code)
}

/// The keyed hashes of the session's identities (verified email, SPID).
pub fn owner_keys(app: &App, tenant: &Tenant, session: &SessionClaims) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(email) = &session.email {
        keys.push(email_identity(app, tenant, email));
    }
    if let Some(fc) = &session.spid_fiscal_code {
        keys.push(spid_identity(app, tenant, fc));
    }
    keys
}

/// Whether this session may see and change `application`: it was created
/// by the session's verified email or SPID identity, names the SPID
/// identity as guardian, or is of the pupil whose password opened it and
/// was created by the family that password was mailed to.
pub fn may_access(app: &App, tenant: &Tenant, session: &SessionClaims, a: &Application) -> bool {
    let by_email = session.email.is_some() && session.email == a.owner.email;
    let by_spid = session.spid_fiscal_code.as_ref().is_some_and(|fc| {
        a.owner.spid_fiscal_code.as_ref() == Some(fc) || &a.guardian_fiscal_code == fc
    });
    // A password opens only the pupil's applications that its own family
    // created (the family it was mailed to), never another family's.
    let by_pupil = session
        .pupil
        .as_ref()
        .is_some_and(|k| *k == pupil_key(app, tenant, &a.pupil_fiscal_code))
        && session.family.as_ref().is_some_and(|f| {
            a.owner
                .email
                .as_deref()
                .is_some_and(|e| *f == email_identity(app, tenant, e))
        });
    by_email || by_spid || by_pupil
}

/// The identities of the family that created `a` (as `owner_keys` gave
/// them when it was created).
pub fn family_of(app: &App, tenant: &Tenant, a: &Application) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(email) = &a.owner.email {
        keys.push(email_identity(app, tenant, email));
    }
    if let Some(fc) = &a.owner.spid_fiscal_code {
        keys.push(spid_identity(app, tenant, fc));
    }
    keys
}

/// The application `id` if this session may access it; `404` otherwise,
/// whether it exists or not.
pub async fn load_own(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    id: &str,
) -> Result<Application, Error> {
    let a = app
        .store
        .get_application(&tenant.slug, id)
        .await?
        .ok_or(Error::NotFound)?;
    if may_access(app, tenant, session, &a) {
        Ok(a)
    } else {
        Err(Error::NotFound)
    }
}

/// `load_own`, with the application's attachment records from the same
/// read.
pub async fn load_own_with_attachments(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    id: &str,
) -> Result<(Application, Vec<crate::domain::application::Attachment>), Error> {
    let (a, attachments) = app
        .store
        .application_with_attachments(&tenant.slug, id)
        .await?
        .ok_or(Error::NotFound)?;
    if may_access(app, tenant, session, &a) {
        Ok((a, attachments))
    } else {
        Err(Error::NotFound)
    }
}

/// The address mail about `a` goes to: the one its family proved, the
/// verified email of the session that created it. `guardian.email` may
/// only name that same address (see `check_guardian_email`), so a stranger
/// can never have a letter sent elsewhere.
pub fn proved_address(a: &Application) -> Option<crate::domain::values::Email> {
    a.owner
        .email
        .as_deref()
        .and_then(|e| crate::domain::values::Email::parse(e).ok())
}

/// `guardian.email`, when given, must be one of the `proved` addresses
/// (the session's verified email; on an update also the address the
/// application's family proved), compared case-insensitively: `422` with
/// `not_verified` otherwise.
pub fn check_guardian_email(
    body: &crate::domain::application::ApplicationBody,
    proved: &[Option<&str>],
) -> Result<(), Error> {
    let given = body
        .guardian
        .as_ref()
        .and_then(|g| g.email.as_deref())
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let Some(given) = given else {
        return Ok(());
    };
    if proved
        .iter()
        .flatten()
        .any(|p| given.eq_ignore_ascii_case(p.trim()))
    {
        return Ok(());
    }
    Err(Error::InvalidFields(vec![
        crate::domain::error::FieldError::new(
            "guardian.email",
            "not_verified",
            "Indica l'indirizzo email che hai verificato con il codice di sicurezza: le \
comunicazioni sulla domanda arrivano solo a un indirizzo verificato.",
        ),
    ]))
}

/// A session that may change applications: a verified email, or the
/// password mailed to the verified address.
pub fn require_email_or_password(session: &SessionClaims) -> Result<(), Error> {
    if session.email.is_none() && session.pupil.is_none() {
        return Err(Error::EmailRequired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use time::macros::datetime;

    fn config() -> Config {
        Config::new("t", "b", "m@x.it", &[9u8; 32]).expect("config")
    }

    fn demo() -> TenantSlug {
        TenantSlug::parse("demo").expect("slug")
    }

    const NOW: OffsetDateTime = datetime!(2025-04-22 08:00 UTC);

    fn token() -> String {
        let mut claims = SessionClaims::new(&config(), &demo(), NOW, "s-1".into());
        claims.email = Some("anna@example.it".into());
        issue(&config(), &claims).expect("token")
    }

    #[test]
    fn round_trip() {
        let claims = verify(&config(), &token(), &demo(), NOW).expect("valid");
        assert_eq!(claims.email.as_deref(), Some("anna@example.it"));
        assert_eq!(claims.exp - claims.iat, 1800);
    }

    #[test]
    fn expired_wrong_tenant_wrong_key_are_refused() {
        let t = token();
        assert!(verify(&config(), &t, &demo(), NOW + time::Duration::seconds(1800)).is_err());
        assert!(verify(&config(), &t, &demo(), NOW + time::Duration::seconds(1799)).is_ok());
        let other = TenantSlug::parse("other").expect("slug");
        assert_eq!(verify(&config(), &t, &other, NOW), Err(Error::NotFound));
        let other_key = Config::new("t", "b", "m", &[1u8; 32]).expect("config");
        assert_eq!(
            verify(&other_key, &t, &demo(), NOW),
            Err(Error::Unauthorized)
        );
    }

    #[test]
    fn alg_none_and_tampering_are_refused() {
        let t = token();
        let parts: Vec<&str> = t.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let forged = format!("{none_header}.{}.", parts[1]);
        assert!(verify(&config(), &forged, &demo(), NOW).is_err());
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        payload["tenant"] = "other".into();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            parts[2]
        );
        assert!(verify(&config(), &tampered, &demo(), NOW).is_err());
        assert!(verify(&config(), "garbage", &demo(), NOW).is_err());
    }

    #[test]
    fn guardian_email_must_be_a_proved_address() {
        let body = |email: Option<&str>| -> crate::domain::application::ApplicationBody {
            serde_json::from_value(serde_json::json!({ "guardian": { "email": email } }))
                .expect("body")
        };
        let proved = [Some("anna@example.it"), Some("famiglia@example.it")];
        assert!(check_guardian_email(&body(None), &proved).is_ok());
        assert!(check_guardian_email(&body(Some("Famiglia@Example.it ")), &proved).is_ok());
        let err =
            check_guardian_email(&body(Some("altro@example.it")), &proved).expect_err("not proved");
        assert_eq!(err.to_body()["error"]["fields"][0]["code"], "not_verified");
        assert!(check_guardian_email(&body(Some("anna@example.it")), &[None]).is_err());
    }

    #[test]
    fn wrong_audience_is_refused() {
        let mut claims = SessionClaims::new(&config(), &demo(), NOW, "s".into());
        claims.aud = "staff".into();
        let t = issue(&config(), &claims).expect("token");
        assert!(verify(&config(), &t, &demo(), NOW).is_err());
    }
}
