//! Optimistic concurrency, written once: read, decide, write on a
//! condition; when the condition fails (another writer came first), read
//! again and decide again. Every operation that retries goes through here.

use std::future::Future;

use crate::domain::error::Error;

/// What one attempt came to.
#[derive(Debug)]
pub enum Attempt<T> {
    /// Done: the answer.
    Done(T),
    /// Another writer changed what this attempt read: read and decide again.
    Again,
}

/// The usual number of attempts: a conflict means another writer won, and
/// four rounds outlast any burst of double clicks and retries.
pub const ATTEMPTS: usize = 4;

/// The answer when every attempt met a conflict: the client retries
/// shortly (`503` with `Retry-After: 1`).
pub fn busy() -> Error {
    Error::Unavailable {
        retry_after_secs: 1,
    }
}

/// Run `attempt` until it is done, at most `attempts` times; an error ends
/// the loop at once. Callers pass `move || async move { … }` over
/// references, so that each attempt's future borrows from the operation,
/// not from the closure (and stays `Send`).
pub async fn optimistic<T, F, Fut>(attempts: usize, mut attempt: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, Error>>,
{
    for _ in 0..attempts {
        if let Attempt::Done(value) = attempt().await? {
            return Ok(value);
        }
    }
    Err(busy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn retries_until_done_then_gives_up() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let calls = &calls;
        let done = optimistic(4, move || async move {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            Ok(if n < 3 {
                Attempt::Again
            } else {
                Attempt::Done(n)
            })
        })
        .await;
        assert_eq!(done, Ok(3));

        let gave_up: Result<(), Error> =
            optimistic(4, move || async move { Ok(Attempt::Again) }).await;
        assert_eq!(gave_up, Err(busy()));

        let failed: Result<(), Error> =
            optimistic(4, move || async move { Err(Error::NotFound) }).await;
        assert_eq!(failed, Err(Error::NotFound));
    }
}
