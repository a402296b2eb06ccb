//! Passwords for fiscal-code logins: random temporary passwords, argon2id
//! hashes (never the password itself), the strength rule of the contract.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::domain::error::Error;

/// Letters and digits that cannot be confused when copied from a mail.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";

/// A random temporary password: 12 characters, at least one letter and one
/// digit.
pub fn temporary() -> Result<String, Error> {
    loop {
        let mut out = String::with_capacity(12);
        for _ in 0..12 {
            let i = super::random_below(ALPHABET.len() as u32)? as usize;
            out.push(char::from(ALPHABET[i]));
        }
        if out.chars().any(|c| c.is_ascii_digit()) && out.chars().any(|c| c.is_ascii_alphabetic()) {
            return Ok(out);
        }
    }
}

/// An argon2id PHC string.
pub fn hash(password: &str) -> Result<String, Error> {
    let salt_bytes = super::random_bytes::<16>()?;
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| Error::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing: {e}")))
}

/// Whether `password` matches the stored PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The contract's rule: at least 10 characters, a letter and a digit, and
/// not containing the fiscal code.
pub fn strong_enough(password: &str, fiscal_code: &str) -> bool {
    password.chars().count() >= 10
        && password.chars().count() <= 128
        && password.chars().any(char::is_alphabetic)
        && password.chars().any(|c| c.is_ascii_digit())
        && !password
            .to_uppercase()
            .contains(&fiscal_code.to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_are_strong_and_differ() {
        let a = temporary().expect("password");
        let b = temporary().expect("password");
        assert_eq!(a.len(), 12);
        assert_ne!(a, b);
        assert!(strong_enough(&a, "RSSMRA15E41A662S"));
    }

    #[test]
    fn hashes_verify_and_are_salted() {
        let h1 = hash("Corretta-123").expect("hash");
        let h2 = hash("Corretta-123").expect("hash");
        assert!(h1.starts_with("$argon2id$"));
        assert_ne!(h1, h2);
        assert!(verify("Corretta-123", &h1));
        assert!(!verify("corretta-123", &h1));
        assert!(!verify("Corretta-123", "not a hash"));
    }

    #[test]
    fn strength_rule() {
        let fc = "RSSMRA15E41A662S";
        assert!(strong_enough("mela-verde-42", fc));
        assert!(!strong_enough("corta1", fc));
        assert!(!strong_enough("solamentelettere", fc));
        assert!(!strong_enough("1234567890123", fc));
        assert!(!strong_enough("xrssmra15e41a662s1", fc));
    }
}

/// Failed logins allowed in the window before the lock-out.
pub const MAX_FAILURES: usize = 5;
/// The lock-out window, seconds.
pub const FAILURE_WINDOW_SECS: i64 = 15 * 60;
/// A temporary password expires this many days after it was mailed.
pub const TEMPORARY_PASSWORD_DAYS: i64 = 30;

mod flows {
    use crate::app::App;
    use crate::domain::error::{Error, FieldError};
    use crate::domain::fiscal_code::FiscalCode;
    use crate::domain::tenant::Tenant;
    use crate::ops::clients;
    use crate::ops::retry::{self, Attempt};
    use crate::ops::sessions::{self, Opened, SessionClaims};
    use crate::ports::{Credentials, StoreError, Versioned};

    use super::{FAILURE_WINDOW_SECS, MAX_FAILURES};

    /// A hash to verify against when there is no account, so that a wrong
    /// fiscal code takes as long as a wrong password.
    fn decoy_hash() -> &'static str {
        static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DECOY.get_or_init(|| super::hash("decoy-password-0").unwrap_or_default())
    }

    /// A temporary password not used within 30 days stops working (the
    /// family's next draft mails a new one).
    pub fn expired(c: &Credentials, now: i64) -> bool {
        c.temporary
            && c.issued_at
                .is_some_and(|at| now - at >= super::TEMPORARY_PASSWORD_DAYS * 86_400)
    }

    /// This client's recent failures on a family's login.
    fn failed(c: &Credentials, client: &str, now: i64) -> Vec<i64> {
        c.failures
            .get(client)
            .map(|f| recent(f, now))
            .unwrap_or_default()
    }

    /// The credentials with this client's failure counted (or cleared), and
    /// every other client's stale failures dropped.
    fn with_failures(c: &Credentials, client: &str, now: i64, failure: bool) -> Credentials {
        let mut failures: std::collections::BTreeMap<String, Vec<i64>> = c
            .failures
            .iter()
            .map(|(k, v)| (k.clone(), recent(v, now)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        if failure {
            failures.entry(client.to_owned()).or_default().push(now);
        } else {
            failures.remove(client);
        }
        Credentials {
            failures,
            ..c.clone()
        }
    }

    fn recent(failures: &[i64], now: i64) -> Vec<i64> {
        failures
            .iter()
            .copied()
            .filter(|t| now - t < FAILURE_WINDOW_SECS)
            .collect()
    }

    /// `POST /sessions {fiscal_code, password}`. One answer for every wrong
    /// combination; 5 failures in 15 minutes lock the pupil's login. Each
    /// family that saved a draft for the pupil has its own password, which
    /// opens only that family's applications; a temporary password expires
    /// after 30 days.
    pub async fn login(
        app: &App,
        tenant: &Tenant,
        fiscal_code: &str,
        password: &str,
        client: &str,
        existing: Option<SessionClaims>,
    ) -> Result<Opened, Error> {
        clients::within_budget(app, client).await?;
        let Ok(code) = FiscalCode::parse(fiscal_code) else {
            let _ = super::verify(password, decoy_hash());
            clients::wrong_guess(app, client).await;
            return Err(Error::InvalidCredentials);
        };
        let key = sessions::pupil_key(app, tenant, code.as_str());
        let pupil = &key;
        let (family, credentials) = retry::optimistic(retry::ATTEMPTS, move || async move {
            let now = app.clock.now().unix_timestamp();
            let candidates = app.store.pupil_credentials(&tenant.slug, pupil).await?;
            if candidates.is_empty() {
                let _ = super::verify(password, decoy_hash());
                clients::wrong_guess(app, client).await;
                return Err(Error::InvalidCredentials);
            }
            let open: Vec<&(String, Versioned<Credentials>)> = candidates
                .iter()
                .filter(|(_, c)| failed(&c.value, client, now).len() < MAX_FAILURES)
                .collect();
            if open.is_empty() {
                let soonest = candidates
                    .iter()
                    .filter_map(|(_, c)| failed(&c.value, client, now).first().copied())
                    .min()
                    .unwrap_or(now);
                return Err(Error::TooManyAttempts {
                    retry_after_secs: Some(
                        (soonest + FAILURE_WINDOW_SECS - now).max(1).unsigned_abs(),
                    ),
                });
            }
            let matched = open.iter().find(|(_, c)| {
                !expired(&c.value, now) && super::verify(password, &c.value.password_hash)
            });
            // The failure counts, for this client, on every family's login
            // that could have matched; a success clears this client's.
            let writes: Vec<(&String, &Versioned<Credentials>, Credentials)> = match matched {
                Some((family, c)) => vec![(family, c, with_failures(&c.value, client, now, false))],
                None => open
                    .iter()
                    .map(|(family, c)| (family, c, with_failures(&c.value, client, now, true)))
                    .collect(),
            };
            for (family, c, next) in writes {
                match app
                    .store
                    .put_credentials(&tenant.slug, pupil, family, &next, Some(c.version))
                    .await
                {
                    Ok(()) => {}
                    Err(StoreError::Conflict) => return Ok(Attempt::Again),
                    Err(e) => return Err(e.into()),
                }
            }
            match matched {
                Some((family, c)) => Ok(Attempt::Done((family.clone(), c.value.clone()))),
                None => {
                    clients::wrong_guess(app, client).await;
                    Err(Error::InvalidCredentials)
                }
            }
        })
        .await?;
        let mut claims = sessions::renew_or_new(app, tenant, existing)?;
        claims.pupil = Some(key);
        claims.family = Some(family);
        claims.must_change_password = credentials.temporary;
        // The password was mailed there: the session holds that address as
        // verified (a merge keeps an address the session proved itself).
        if claims.email.is_none() {
            claims.email = credentials.email.clone();
        }
        tracing::info!(
            temporary = credentials.temporary,
            "session opened with a password"
        );
        sessions::open(app, claims)
    }

    /// `POST /password {current, new}` for a session opened with the
    /// pupil's fiscal code and password.
    pub async fn change(
        app: &App,
        tenant: &Tenant,
        session: &SessionClaims,
        current: &str,
        new: &str,
    ) -> Result<(), Error> {
        let (Some(key), Some(family)) = (&session.pupil, &session.family) else {
            return Err(Error::Forbidden);
        };
        let stored = app
            .store
            .get_credentials(&tenant.slug, key, family)
            .await?
            .ok_or(Error::InvalidCredentials)?;
        if !super::verify(current, &stored.value.password_hash) {
            return Err(Error::InvalidCredentials);
        }
        // The rule needs the pupil's fiscal code: find it through the
        // pupil's applications (the credentials store only its hash).
        let applications = app.store.pupil_applications(&tenant.slug, key).await?;
        let fiscal_code = applications
            .first()
            .map(|a| a.pupil_fiscal_code.clone())
            .unwrap_or_default();
        if !super::strong_enough(new, &fiscal_code) || new == current {
            return Err(Error::WeakPassword(vec![FieldError::new(
                "new",
                "weak_password",
                "Almeno 10 caratteri, con lettere e numeri, diversa dalla password attuale e senza il codice fiscale.",
            )]));
        }
        let next = Credentials {
            password_hash: super::hash(new)?,
            temporary: false,
            failures: Default::default(),
            changed_in: Some(session.sub.clone()),
            issued_at: None,
            ..stored.value.clone()
        };
        match app
            .store
            .put_credentials(&tenant.slug, key, family, &next, Some(stored.version))
            .await
        {
            Ok(()) => {
                tracing::info!("password changed");
                Ok(())
            }
            Err(StoreError::Conflict) => Err(retry::busy()),
            Err(e) => Err(e.into()),
        }
    }
}

pub use flows::{change, expired, login};
