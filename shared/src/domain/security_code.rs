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
/// Wrong codes from the client that requested the code before it is dead.
pub const MAX_ATTEMPTS: u8 = 5;
/// Wrong codes from anyone (the requester included) before it is dead: a
/// third party's guesses cost the family's code only past this.
pub const MAX_ATTEMPTS_ANYONE: u8 = 10;
const HOUR: i64 = 3600;

/// What is stored for one address of one tenant. The code itself is never
/// stored, only its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeState {
    pub code_hash: String,
    pub issued_at: i64,
    pub expires_at: i64,
    /// Wrong attempts against the current code from its requester.
    pub failed_attempts: u8,
    /// Wrong attempts from other clients.
    #[serde(default)]
    pub failed_others: u8,
    /// The keyed hash of the client that requested the current code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
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
    client: &str,
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
        failed_others: 0,
        requester: Some(client.to_owned()),
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

impl CodeState {
    fn is_requester(&self, client: &str) -> bool {
        self.requester.as_deref().is_none_or(|r| r == client)
    }

    /// Wrong attempts `client` may still make against this code.
    fn attempts_left(&self, client: &str) -> u8 {
        let total = self.failed_attempts.saturating_add(self.failed_others);
        let anyone = MAX_ATTEMPTS_ANYONE.saturating_sub(total);
        if self.is_requester(client) {
            anyone.min(MAX_ATTEMPTS.saturating_sub(self.failed_attempts))
        } else {
            anyone
        }
    }
}

/// Check a code from `client` (a keyed hash of its address). `matches`
/// tells whether the submitted code's hash equals the stored one (compared
/// in constant time by the caller). Wrong codes count per client: 5 from
/// the client that requested the code, or 10 from anyone, kill it.
pub fn verify(state: Option<&CodeState>, matches: bool, now: i64, client: &str) -> Verification {
    let Some(state) = state else {
        return Verification {
            next: None,
            outcome: Err(Error::CodeExpired),
        };
    };
    if state.attempts_left(client) == 0 {
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
        if next.is_requester(client) {
            next.failed_attempts = next.failed_attempts.saturating_add(1);
        } else {
            next.failed_others = next.failed_others.saturating_add(1);
        }
        let attempts_left = next.attempts_left(client);
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
        issue(None, "h".into(), now, "c").expect("first code")
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
            issue(Some(&s), "h2".into(), T0 + 10, "c"),
            Err(Error::TooManyRequests {
                retry_after_secs: 50
            })
        );
        assert_eq!(
            issue(Some(&s), "h2".into(), T0 + 59, "c"),
            Err(Error::TooManyRequests {
                retry_after_secs: 1
            })
        );
        let s2 = issue(Some(&s), "h2".into(), T0 + 60, "c").expect("after cooldown");
        assert_eq!(s2.sent_at, vec![T0, T0 + 60]);
        assert_eq!(s2.failed_attempts, 0);
    }

    #[test]
    fn at_most_five_codes_per_rolling_hour() {
        let mut s = issued(T0);
        for i in 1..5 {
            s = issue(Some(&s), format!("h{i}"), T0 + i * 60, "c").expect("within cap");
        }
        assert_eq!(s.sent_at.len(), 5);
        let err = issue(Some(&s), "h6".into(), T0 + 5 * 60, "c").expect_err("sixth in the hour");
        assert_eq!(
            err,
            Error::TooManyRequests {
                retry_after_secs: 3600 - 300
            }
        );
        // One hour after the first, one slot is free again.
        let s = issue(Some(&s), "h7".into(), T0 + 3600, "c").expect("slot freed");
        assert_eq!(s.sent_at.len(), 5);
        assert_eq!(s.sent_at.first(), Some(&(T0 + 60)));
    }

    #[test]
    fn right_code_is_accepted_once() {
        let s = issued(T0);
        let v = verify(Some(&s), true, T0 + 100, "c");
        assert_eq!(v.outcome, Ok(()));
        let consumed = v.next.expect("stored");
        assert!(consumed.consumed);
        assert_eq!(
            verify(Some(&consumed), true, T0 + 101, "c").outcome,
            Err(Error::CodeExpired)
        );
    }

    #[test]
    fn wrong_codes_count_down_and_then_the_code_is_dead() {
        let mut s = issued(T0);
        for left in (0..5).rev() {
            let v = verify(Some(&s), false, T0 + 1, "c");
            assert_eq!(
                v.outcome,
                Err(Error::InvalidCode {
                    attempts_left: left
                })
            );
            s = v.next.expect("counted");
        }
        // Even the right code is refused now.
        let v = verify(Some(&s), true, T0 + 2, "c");
        assert_eq!(
            v.outcome,
            Err(Error::TooManyAttempts {
                retry_after_secs: None
            })
        );
        assert_eq!(v.next, None);
        // A new code (after the cooldown) starts a fresh count.
        let fresh = issue(Some(&s), "new".into(), T0 + 61, "c").expect("new code");
        assert_eq!(verify(Some(&fresh), true, T0 + 62, "c").outcome, Ok(()));
    }

    #[test]
    fn a_third_partys_guesses_cost_the_guesser_not_the_family() {
        let s = issued(T0);
        // Four wrong guesses from a stranger: the family still has its five.
        let mut s2 = s.clone();
        for left in (6..10).rev() {
            let v = verify(Some(&s2), false, T0 + 1, "stranger");
            assert_eq!(
                v.outcome,
                Err(Error::InvalidCode {
                    attempts_left: left
                })
            );
            s2 = v.next.expect("counted");
        }
        assert_eq!(verify(Some(&s2), true, T0 + 2, "c").outcome, Ok(()));
        // Ten from anyone kill it, for the family too.
        let mut s3 = s;
        for _ in 0..10 {
            s3 = verify(Some(&s3), false, T0 + 1, "stranger")
                .next
                .expect("counted");
        }
        assert_eq!(
            verify(Some(&s3), true, T0 + 2, "c").outcome,
            Err(Error::TooManyAttempts {
                retry_after_secs: None
            })
        );
    }

    #[test]
    fn expiry_is_checked_to_the_second() {
        let s = issued(T0);
        assert_eq!(verify(Some(&s), true, T0 + 599, "c").outcome, Ok(()));
        assert_eq!(
            verify(Some(&s), true, T0 + 600, "c").outcome,
            Err(Error::CodeExpired)
        );
    }

    #[test]
    fn no_code_means_expired() {
        assert_eq!(verify(None, true, T0, "c").outcome, Err(Error::CodeExpired));
    }
}
