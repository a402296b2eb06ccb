//! The portal's static files (`web/dist`, built by `make web`), served by
//! the dev server beside the API exactly as CloudFront serves them in AWS:
//! `/{tenant}/…` is the parent portal, `/{tenant}/staff/…` the back-office,
//! `/_assets/…` the scripts, styles and fonts, and a few top-level pages.
//! The same rewrite rules are the CloudFront function of the template.

use std::path::{Path, PathBuf};

use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::json;

type HyperResponse = hyper::Response<Full<Bytes>>;

/// The security headers of every page (the template's response headers
/// policy sets the same). Scripts and styles only from the portal's own
/// origin: no inline script, style element or style attribute (the fonts
/// come as a stylesheet, `web/build.mjs`; scripts set styles through the
/// CSSOM, which the policy allows). `connect_extra` is where the browser
/// may send uploads (the document bucket).
pub fn content_security_policy(connect_extra: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self' {connect_extra}; \
frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )
}

/// What a path of the portal maps to, as a file under `web/dist`.
pub fn resolve(path: &str) -> Option<Resolved> {
    if path == "/" {
        return Some(Resolved::File("index.html".into()));
    }
    let rest = path.strip_prefix('/')?;
    if rest
        .split('/')
        .any(|s| s == ".." || s == "." || s.contains('\\'))
    {
        return None;
    }
    if let Some(asset) = rest.strip_prefix("_assets/") {
        return (!asset.is_empty()).then(|| Resolved::File(format!("_assets/{asset}")));
    }
    if !rest.contains('/') {
        // Top-level pages (privacy notice, accessibility statement).
        if rest.ends_with(".html") || rest == "favicon.ico" {
            return Some(Resolved::File(rest.into()));
        }
        // `/demo` → `/demo/`.
        return is_slug(rest).then(|| Resolved::Redirect(format!("/{rest}/")));
    }
    let (tenant, inner) = rest.split_once('/')?;
    if !is_slug(tenant) {
        return None;
    }
    if inner == "staff" {
        return Some(Resolved::Redirect(format!("/{tenant}/staff/")));
    }
    if inner.starts_with("staff/") {
        return Some(Resolved::File("staff.html".into()));
    }
    Some(Resolved::File("portal.html".into()))
}

#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    File(String),
    Redirect(String),
}

fn is_slug(s: &str) -> bool {
    (2..=40).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The portal's configuration for this stack: how "Entra con SPID / CIE"
/// and the staff sign-in work. In AWS the deployment writes the same file
/// (`config.json`) with the broker's and Cognito's addresses.
pub fn config(base: &str) -> serde_json::Value {
    json!({
        "spid": {
            "authorize_url": format!("{base}/_local/oidc/authorize"),
            "token_url": format!("{base}/_local/oidc/token"),
            "client_id": crate::idp::OIDC_CLIENT_ID,
            "provider_name": "Provider SPID/CIE di prova (solo in locale)"
        },
        "staff_sign_in": { "kind": "local", "token_url": format!("{base}/_local/staff-token") }
    })
}

/// Serve `path` (GET or HEAD) from `root`; `None` when nothing is there.
pub fn serve(root: &Path, path: &str, csp: &str, head: bool) -> Option<HyperResponse> {
    let resolved = resolve(path)?;
    let builder = hyper::Response::builder()
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .header("x-frame-options", "DENY")
        .header("content-security-policy", csp);
    let response = match resolved {
        Resolved::Redirect(to) => builder
            .status(308)
            .header("location", to)
            .body(Full::new(Bytes::new())),
        Resolved::File(rel) => {
            let file: PathBuf = root.join(&rel);
            let bytes = std::fs::read(&file).ok()?;
            let len = bytes.len();
            builder
                .status(200)
                .header("content-type", content_type(&file))
                .header("content-length", len)
                .header("cache-control", "no-cache")
                .body(Full::new(if head {
                    Bytes::new()
                } else {
                    Bytes::from(bytes)
                }))
        }
    };
    response.ok()
}

/// A page for `make dev` when the portal was not built.
pub fn not_built() -> HyperResponse {
    let mut response = hyper::Response::new(Full::new(Bytes::from_static(
        "Il portale non è stato compilato: esegui `make web` (o `make dev`).\n".as_bytes(),
    )));
    *response.status_mut() = hyper::StatusCode::SERVICE_UNAVAILABLE;
    if let Ok(v) = "text/plain; charset=utf-8".parse() {
        response.headers_mut().insert("content-type", v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(s: &str) -> Option<Resolved> {
        Some(Resolved::File(s.into()))
    }

    #[test]
    fn portal_paths() {
        assert_eq!(resolve("/"), file("index.html"));
        assert_eq!(resolve("/demo/"), file("portal.html"));
        assert_eq!(resolve("/demo/domande"), file("portal.html"));
        assert_eq!(resolve("/demo/staff/"), file("staff.html"));
        assert_eq!(resolve("/demo/staff/domande/app-1"), file("staff.html"));
        assert_eq!(resolve("/demo"), Some(Resolved::Redirect("/demo/".into())));
        assert_eq!(
            resolve("/demo/staff"),
            Some(Resolved::Redirect("/demo/staff/".into()))
        );
        assert_eq!(resolve("/_assets/js/app.js"), file("_assets/js/app.js"));
        assert_eq!(resolve("/privacy.html"), file("privacy.html"));
    }

    #[test]
    fn nothing_outside_the_portal() {
        assert_eq!(resolve("/_assets/../../Cargo.toml"), None);
        assert_eq!(resolve("/demo/../x"), None);
        assert_eq!(resolve("/Demo/"), None);
        assert_eq!(resolve("/a/"), None);
        assert_eq!(resolve("/_assets/"), None);
    }
}
