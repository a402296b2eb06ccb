//! Keys of external identity providers (SPID/CIE OpenID Connect): fetched
//! from the provider's JWKS address and kept at most an hour, so that a
//! key the provider withdrew stops opening sessions; fetched again (at most
//! once a minute) when a token names a key the cached set lacks, so a key
//! rotation needs no redeploy.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use tokio::sync::Mutex;

use crate::domain::error::Error;

/// An unknown key is looked for again at most this often.
const REFRESH_AFTER: Duration = Duration::from_secs(60);
/// A fetched set is trusted this long, then fetched again.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// What to do with a request for a key, given the cache.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// The cached set has the key and is fresh.
    Use,
    /// The cached set is fresh, lacks the key, and was fetched under a
    /// minute ago: the provider has no such key.
    Missing,
    /// Fetch the set (none cached, stale, or an unknown key to look for).
    Fetch,
}

fn step(age: Option<Duration>, has_key: bool) -> Step {
    match age {
        Some(age) if age < MAX_AGE && has_key => Step::Use,
        Some(age) if age < REFRESH_AFTER && !has_key => Step::Missing,
        _ => Step::Fetch,
    }
}

struct Cached {
    set: JwkSet,
    fetched: Instant,
}

fn cache() -> &'static Mutex<HashMap<String, Cached>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Cached>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            // The configured address is checked (HTTPS); a redirect would
            // lead past that check.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

/// HTTPS, or plain HTTP to the loopback interface (the local stand-in).
pub fn allowed_uri(uri: &str) -> bool {
    if uri.starts_with("https://") {
        return true;
    }
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

fn find<'a>(set: &'a JwkSet, kid: Option<&str>) -> Option<&'a Jwk> {
    match kid {
        Some(kid) => set.find(kid),
        None if set.keys.len() == 1 => set.keys.first(),
        None => None,
    }
}

async fn fetch(uri: &str) -> Result<JwkSet, Error> {
    let unavailable = || Error::Unavailable {
        retry_after_secs: 5,
    };
    let response = client().get(uri).send().await.map_err(|e| {
        tracing::warn!(error = %e, "jwks fetch failed");
        unavailable()
    })?;
    if !response.status().is_success() {
        tracing::warn!(status = response.status().as_u16(), "jwks fetch refused");
        return Err(unavailable());
    }
    response.json::<JwkSet>().await.map_err(|_| {
        tracing::warn!("jwks document unreadable");
        unavailable()
    })
}

/// The key `kid` of the JWKS at `uri` (the only key when `kid` is absent).
/// `Ok(None)` when the provider has no such key.
pub async fn key(uri: &str, kid: Option<&str>) -> Result<Option<Jwk>, Error> {
    if !allowed_uri(uri) {
        return Err(Error::Internal("jwks address must be https".into()));
    }
    let mut cache = cache().lock().await;
    let cached = cache.get(uri);
    let has_key = cached.is_some_and(|c| find(&c.set, kid).is_some());
    match step(cached.map(|c| c.fetched.elapsed()), has_key) {
        Step::Use => return Ok(cached.and_then(|c| find(&c.set, kid).cloned())),
        Step::Missing => return Ok(None),
        Step::Fetch => {}
    }
    let set = fetch(uri).await?;
    let found = find(&set, kid).cloned();
    cache.insert(
        uri.to_owned(),
        Cached {
            set,
            fetched: Instant::now(),
        },
    );
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fetched_again_hourly_and_when_unknown() {
        let secs = Duration::from_secs;
        assert_eq!(step(None, false), Step::Fetch);
        assert_eq!(step(Some(secs(10)), true), Step::Use);
        assert_eq!(step(Some(secs(3599)), true), Step::Use);
        // A known key is not trusted past the hour: a withdrawn key stops.
        assert_eq!(step(Some(secs(3600)), true), Step::Fetch);
        // An unknown key: looked for again, at most once a minute.
        assert_eq!(step(Some(secs(10)), false), Step::Missing);
        assert_eq!(step(Some(secs(60)), false), Step::Fetch);
    }

    #[test]
    fn only_https_or_loopback() {
        assert!(allowed_uri("https://login.example.it/jwks"));
        assert!(allowed_uri("http://127.0.0.1:3000/_local/oidc/jwks.json"));
        assert!(allowed_uri("http://localhost/jwks"));
        assert!(!allowed_uri("http://login.example.it/jwks"));
        assert!(!allowed_uri("http://127.0.0.1.evil.example/jwks"));
        assert!(!allowed_uri("ftp://127.0.0.1/jwks"));
        assert!(!allowed_uri("file:///etc/passwd"));
    }
}
