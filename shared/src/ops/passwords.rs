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
