//! The rules of the email security code ("codice di sicurezza"): issuing,
//! resend cooldown, hourly cap, expiry, attempts, single use.
//!
//! Pure: the caller hashes codes and reads the clock; these functions only
//! decide. Times are Unix seconds.

use serde::{Deserialize, Serialize};

use super::error::Error;

/// A code is valid this long (seconds).
pub const CODE_TTL_SECS: i64 = 600;
/// A new code for the same address only after this many seconds.
pub const RESEND_AFTER_SECS: i64 = 60;
/// At most this many codes per address in any rolling hour.
pub const MAX_CODES_PER_HOUR: usize = 5;
/// Wrong codes before the code is dead.
pub const MAX_ATTEMPTS: u8 = 5;
const HOUR: i64 = 3600;

/// What is stored for one address of one tenant. The code itself is never
/// stored, only its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeState {
    pub code_hash: String,
    pub issued_at: i64,
    pub expires_at: i64,
    /// Wrong attempts against the current code.
    pub failed_attempts: u8,
    /// Set once the code opened a session: a code is used once.
    pub consumed: bool,
    /// When codes were sent in the last hour, oldest first.
    pub sent_at: Vec<i64>,
}

impl CodeState {
    /// Seconds after which the stored record is useless and may be deleted
    /// by the table's TTL (expiry itself is always checked in code).
    pub fn purge_after(&self) -> i64 {
        let last_send = self.sent_at.last().copied().unwrap_or(self.issued_at);
        (last_send + HOUR).max(self.expires_at) + 60
    }
}

/// Decide whether a new code may be sent now; if so, the state to store.
pub fn issue(
    previous: Option<&CodeState>,
    code_hash: String,
    now: i64,
) -> Result<CodeState, Error> {
    let mut sent_at: Vec<i64> = previous
        .map(|p| {
            p.sent_at
                .iter()
                .copied()
                .filter(|t| now - t < HOUR)
                .collect()
        })
        .unwrap_or_default();
    if let Some(last) = sent_at.last().copied() {
        let wait = RESEND_AFTER_SECS - (now - last);
        if wait > 0 {
            return Err(Error::TooManyRequests {
                retry_after_secs: wait.unsigned_abs(),
            });
        }
    }
    if sent_at.len() >= MAX_CODES_PER_HOUR {
        let oldest = sent_at.first().copied().unwrap_or(now);
        let wait = (oldest + HOUR - now).max(1);
        return Err(Error::TooManyRequests {
            retry_after_secs: wait.unsigned_abs(),
        });
    }
    sent_at.push(now);
    Ok(CodeState {
        code_hash,
        issued_at: now,
        expires_at: now + CODE_TTL_SECS,
        failed_attempts: 0,
        consumed: false,
        sent_at,
    })
}

/// The result of checking a code: the state to store in every case (a
/// wrong attempt must be counted), and whether the code was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub next: Option<CodeState>,
    pub outcome: Result<(), Error>,
}

/// Check a code. `matches` tells whether the submitted code's hash equals
/// the stored one (compared in constant time by the caller).
pub fn verify(state: Option<&CodeState>, matches: bool, now: i64) -> Verification {
    let Some(state) = state else {
        return Verification {
            next: None,
            outcome: Err(Error::CodeExpired),
        };
    };
    if state.failed_attempts >= MAX_ATTEMPTS {
        return Verification {
            next: None,
            outcome: Err(Error::TooManyAttempts {
                retry_after_secs: None,
            }),
        };
    }
    if state.consumed || now >= state.expires_at {
        return Verification {
            next: None,
            outcome: Err(Error::CodeExpired),
        };
    }
    let mut next = state.clone();
    if matches {
        next.consumed = true;
        Verification {
            next: Some(next),
            outcome: Ok(()),
        }
    } else {
        next.failed_attempts += 1;
        let attempts_left = MAX_ATTEMPTS - next.failed_attempts;
        Verification {
            next: Some(next),
            outcome: Err(Error::InvalidCode { attempts_left }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_750_000_000;

    fn issued(now: i64) -> CodeState {
        issue(None, "h".into(), now).expect("first code")
    }

    #[test]
    fn first_code_is_issued_for_ten_minutes() {
        let s = issued(T0);
        assert_eq!(s.expires_at, T0 + 600);
        assert_eq!(s.sent_at, vec![T0]);
        assert!(s.purge_after() >= T0 + 3600);
    }

    #[test]
    fn resend_waits_sixty_seconds() {
        let s = issued(T0);
        assert_eq!(
            issue(Some(&s), "h2".into(), T0 + 10),
            Err(Error::TooManyRequests {
                retry_after_secs: 50
            })
        );
        assert_eq!(
            issue(Some(&s), "h2".into(), T0 + 59),
            Err(Error::TooManyRequests {
                retry_after_secs: 1
            })
        );
        let s2 = issue(Some(&s), "h2".into(), T0 + 60).expect("after cooldown");
        assert_eq!(s2.sent_at, vec![T0, T0 + 60]);
        assert_eq!(s2.failed_attempts, 0);
    }

    #[test]
    fn at_most_five_codes_per_rolling_hour() {
        let mut s = issued(T0);
        for i in 1..5 {
            s = issue(Some(&s), format!("h{i}"), T0 + i * 60).expect("within cap");
        }
        assert_eq!(s.sent_at.len(), 5);
        let err = issue(Some(&s), "h6".into(), T0 + 5 * 60).expect_err("sixth in the hour");
        assert_eq!(
            err,
            Error::TooManyRequests {
                retry_after_secs: 3600 - 300
            }
        );
        // One hour after the first, one slot is free again.
        let s = issue(Some(&s), "h7".into(), T0 + 3600).expect("slot freed");
        assert_eq!(s.sent_at.len(), 5);
        assert_eq!(s.sent_at.first(), Some(&(T0 + 60)));
    }

    #[test]
    fn right_code_is_accepted_once() {
        let s = issued(T0);
        let v = verify(Some(&s), true, T0 + 100);
        assert_eq!(v.outcome, Ok(()));
        let consumed = v.next.expect("stored");
        assert!(consumed.consumed);
        assert_eq!(
            verify(Some(&consumed), true, T0 + 101).outcome,
            Err(Error::CodeExpired)
        );
    }

    #[test]
    fn wrong_codes_count_down_and_then_the_code_is_dead() {
        let mut s = issued(T0);
        for left in (0..5).rev() {
            let v = verify(Some(&s), false, T0 + 1);
            assert_eq!(
                v.outcome,
                Err(Error::InvalidCode {
                    attempts_left: left
                })
            );
            s = v.next.expect("counted");
        }
        // Even the right code is refused now.
        let v = verify(Some(&s), true, T0 + 2);
        assert_eq!(
            v.outcome,
            Err(Error::TooManyAttempts {
                retry_after_secs: None
            })
        );
        assert_eq!(v.next, None);
        // A new code (after the cooldown) starts a fresh count.
        let fresh = issue(Some(&s), "new".into(), T0 + 61).expect("new code");
        assert_eq!(verify(Some(&fresh), true, T0 + 62).outcome, Ok(()));
    }

    #[test]
    fn expiry_is_checked_to_the_second() {
        let s = issued(T0);
        assert_eq!(verify(Some(&s), true, T0 + 599).outcome, Ok(()));
        assert_eq!(
            verify(Some(&s), true, T0 + 600).outcome,
            Err(Error::CodeExpired)
        );
    }

    #[test]
    fn no_code_means_expired() {
        assert_eq!(verify(None, true, T0).outcome, Err(Error::CodeExpired));
    }
}
