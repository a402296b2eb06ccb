//! Domain operations: each reads and writes through the ports and applies
//! the pure rules of `crate::domain`. Handlers call exactly one of these.

pub mod applications;
pub mod attachments;
pub mod change_requests;
mod changes;
pub mod clients;
pub mod code_volume;
pub mod codes;
pub mod documents;
pub mod email_codes;
pub mod jwks;
pub mod outbox;
pub mod passwords;
pub mod phone_codes;
pub mod places;
mod port_errors;
pub mod renewals;
pub mod retention;
pub mod retry;
pub mod school_lists;
pub mod sessions;
pub mod spid;
pub mod staff;
pub mod submission;
pub mod tenants;
pub mod windows;
pub mod withdrawal;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::domain::error::Error;

/// `n` random bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| Error::Internal("random source failed".into()))?;
    Ok(buf)
}

/// A uniformly random number below `bound` (rejection sampling, no bias).
pub fn random_below(bound: u32) -> Result<u32, Error> {
    let limit = u32::MAX - (u32::MAX % bound);
    loop {
        let n = u32::from_be_bytes(random_bytes::<4>()?);
        if n < limit {
            return Ok(n % bound);
        }
    }
}

/// A random identifier with a readable prefix, e.g. `s-9f2c…`.
pub fn random_id(prefix: &str) -> Result<String, Error> {
    Ok(format!(
        "{prefix}-{}",
        crate::config::hex(&random_bytes::<12>()?)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_numbers_stay_in_range_and_vary() {
        let draws: Vec<u32> = (0..200)
            .map(|_| random_below(1_000_000).unwrap_or(0))
            .collect();
        assert!(draws.iter().all(|n| *n < 1_000_000));
        let mut unique = draws.clone();
        unique.sort_unstable();
        unique.dedup();
        assert!(unique.len() > 190);
        assert!(random_id("s").is_ok_and(|id| id.starts_with("s-") && id.len() == 26));
    }
}
