//! The functions linked into the dev server, and the router built from the
//! template's routes. The server refuses to start if a route in the
//! template has no handler here, or a handler serves a route the template
//! does not declare, or a function of the template is not linked.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;

use lambda_http::Request;
use shared::app::App;
use shared::http::HttpResponse;

use crate::template::Declared;

pub type BoxFuture = Pin<Box<dyn Future<Output = HttpResponse> + Send>>;
pub type Handler = fn(App, Request) -> BoxFuture;

/// An HTTP function: its binary name, the routes it serves, its handler.
pub struct HttpFunction {
    pub binary: &'static str,
    pub routes: &'static [&'static str],
    pub handler: Handler,
}

/// Every function of the system, as linked here.
pub fn http_functions() -> Vec<HttpFunction> {
    vec![
        HttpFunction {
            binary: fn_email_code::BINARY,
            routes: fn_email_code::ROUTES,
            handler: |app, req| Box::pin(fn_email_code::handle(app, req)),
        },
        HttpFunction {
            binary: fn_save_draft::BINARY,
            routes: fn_save_draft::ROUTES,
            handler: |app, req| Box::pin(fn_save_draft::handle(app, req)),
        },
        HttpFunction {
            binary: fn_submit::BINARY,
            routes: fn_submit::ROUTES,
            handler: |app, req| Box::pin(fn_submit::handle(app, req)),
        },
        HttpFunction {
            binary: fn_confirm::BINARY,
            routes: fn_confirm::ROUTES,
            handler: |app, req| Box::pin(fn_confirm::handle(app, req)),
        },
        HttpFunction {
            binary: fn_status::BINARY,
            routes: fn_status::ROUTES,
            handler: |app, req| Box::pin(fn_status::handle(app, req)),
        },
    ]
}

/// Functions without HTTP routes: the scheduled one (run by
/// `/_local/run/<job>`) and the staff pool's pre-token trigger (run by
/// `/_local/staff-token` on the staff stand-in's tokens).
pub const SCHEDULED: &[&str] = &[fn_close_windows::BINARY, fn_staff_token::BINARY];

/// One route: its method, its path split into segments, its handler.
pub struct Route {
    /// The function (binary) that serves it.
    pub binary: &'static str,
    pub method: String,
    pub route_key: String,
    segments: Vec<Segment>,
    pub handler: Handler,
}

enum Segment {
    Literal(String),
    Param(String),
}

/// What a request path matched.
pub enum Match<'a> {
    Found(&'a Route, BTreeMap<String, String>),
    /// The path exists with these methods only.
    WrongMethod(Vec<String>),
    None,
}

pub struct Router {
    routes: Vec<Route>,
}

fn split(path: &str) -> Vec<&str> {
    path.trim_matches('/').split('/').collect()
}

impl Router {
    /// Check the template against the linked functions and build the router.
    pub fn new(declared: &Declared) -> Result<Self, String> {
        let functions = http_functions();
        let mut problems = Vec::new();
        let declared_keys: BTreeSet<(String, String)> = declared
            .routes
            .iter()
            .map(|r| (r.binary.clone(), r.route_key()))
            .collect();
        let linked_keys: BTreeSet<(String, String)> = functions
            .iter()
            .flat_map(|f| {
                f.routes
                    .iter()
                    .map(|r| (f.binary.to_owned(), (*r).to_owned()))
            })
            .collect();
        for (binary, key) in declared_keys.difference(&linked_keys) {
            problems.push(format!(
                "route `{key}` of function `{binary}` in the template has no handler"
            ));
        }
        for (binary, key) in linked_keys.difference(&declared_keys) {
            problems.push(format!(
                "handler of `{binary}` serves `{key}`, which the template does not declare"
            ));
        }
        for binary in &declared.other_functions {
            if !SCHEDULED.contains(&binary.as_str()) {
                problems.push(format!("function `{binary}` of the template is not linked"));
            }
        }
        for binary in SCHEDULED {
            if !declared.other_functions.iter().any(|b| b == binary) {
                problems.push(format!(
                    "scheduled function `{binary}` is not in the template"
                ));
            }
        }
        if !problems.is_empty() {
            return Err(format!(
                "infra/template.yaml and the linked handlers disagree:\n  - {}",
                problems.join("\n  - ")
            ));
        }
        let mut routes = Vec::new();
        for decl in &declared.routes {
            let (binary, handler) = functions
                .iter()
                .find(|f| f.binary == decl.binary)
                .map(|f| (f.binary, f.handler))
                .ok_or_else(|| format!("no function `{}`", decl.binary))?;
            let segments = split(&decl.path)
                .into_iter()
                .map(
                    |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => Segment::Param(name.to_owned()),
                        None => Segment::Literal(s.to_owned()),
                    },
                )
                .collect();
            routes.push(Route {
                binary,
                method: decl.method.clone(),
                route_key: decl.route_key(),
                segments,
                handler,
            });
        }
        Ok(Self { routes })
    }

    /// Find the route of a request. Path parameters are percent-decoded.
    /// A path that a literal segment matches is that resource only
    /// (`/staff/applications/confirm` is not the application `confirm`).
    pub fn find(&self, method: &str, path: &str) -> Match<'_> {
        let parts = split(path);
        let literals = |r: &Route| {
            r.segments
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count()
        };
        let mut matching: Vec<(&Route, BTreeMap<String, String>)> = Vec::new();
        for route in &self.routes {
            if route.segments.len() != parts.len() {
                continue;
            }
            let mut params = BTreeMap::new();
            let matched = route
                .segments
                .iter()
                .zip(&parts)
                .all(|(seg, part)| match seg {
                    Segment::Literal(l) => l == part,
                    Segment::Param(name) => {
                        let decoded = percent_decode(part);
                        let ok = !decoded.is_empty();
                        params.insert(name.clone(), decoded);
                        ok
                    }
                });
            if matched {
                matching.push((route, params));
            }
        }
        let most = matching.iter().map(|(r, _)| literals(r)).max().unwrap_or(0);
        let mut allowed: Vec<String> = Vec::new();
        for (route, params) in matching {
            if literals(route) < most {
                continue;
            }
            if route.method == method {
                return Match::Found(route, params);
            }
            if !allowed.contains(&route.method) {
                allowed.push(route.method.clone());
            }
        }
        if allowed.is_empty() {
            Match::None
        } else {
            allowed.sort();
            Match::WrongMethod(allowed)
        }
    }
}

/// Decode `%XX` escapes; invalid escapes are kept as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query string (or form body) to the map API Gateway gives (repeated keys
/// kept, `+` is a space).
pub fn query_map(query: Option<&str>) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| percent_decode(&s.replace('+', " "));
        map.entry(decode(k)).or_default().push(decode(v));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::RouteDecl;

    fn declared() -> Declared {
        let mut routes = Vec::new();
        for f in http_functions() {
            for r in f.routes {
                let (method, path) = r.split_once(' ').expect("route key");
                routes.push(RouteDecl {
                    binary: f.binary.into(),
                    method: method.into(),
                    path: path.into(),
                });
            }
        }
        Declared {
            routes,
            other_functions: SCHEDULED.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn matches_routes_and_params() {
        let router = Router::new(&declared()).expect("consistent");
        match router.find("POST", "/v1/demo/sessions") {
            Match::Found(route, params) => {
                assert_eq!(route.route_key, "POST /v1/{tenant}/sessions");
                assert_eq!(params.get("tenant").map(String::as_str), Some("demo"));
            }
            _ => panic!("no match"),
        }
        assert!(matches!(
            router.find("GET", "/v1/demo/sessions"),
            Match::WrongMethod(m) if m == vec!["POST".to_owned()]
        ));
        assert!(matches!(
            router.find("GET", "/v1/demo/nothing"),
            Match::None
        ));
        assert!(matches!(router.find("GET", "/v1//windows"), Match::None));
    }

    #[test]
    fn refuses_a_template_route_without_handler_and_the_reverse() {
        let mut d = declared();
        d.routes.push(RouteDecl {
            binary: "status".into(),
            method: "GET".into(),
            path: "/v1/{tenant}/ghost".into(),
        });
        let err = Router::new(&d).err().expect("refused");
        assert!(err.contains("has no handler"), "{err}");
        let mut d = declared();
        d.routes.retain(|r| r.method != "GET");
        let err = Router::new(&d).err().expect("refused");
        assert!(err.contains("does not declare"), "{err}");
        let mut d = declared();
        d.other_functions.push("mystery".into());
        assert!(Router::new(&d).is_err());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%C3%A0"), "à");
    }
}
