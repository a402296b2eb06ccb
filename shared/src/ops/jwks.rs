//! Keys of external identity providers (SPID/CIE OpenID Connect): fetched
//! from the provider's JWKS address and kept for the life of the process;
//! fetched again (at most once a minute) when a token names a key the
//! cached set lacks, so a key rotation needs no redeploy.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use tokio::sync::Mutex;

use crate::domain::error::Error;

const REFRESH_AFTER: Duration = Duration::from_secs(60);

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
    if let Some(cached) = cache.get(uri) {
        if let Some(k) = find(&cached.set, kid) {
            return Ok(Some(k.clone()));
        }
        if cached.fetched.elapsed() < REFRESH_AFTER {
            return Ok(None);
        }
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
