//! The families' languages: which one a request or an application asks
//! for, and the catalogues that translate the Italian texts people read
//! (the API's error messages, the mails, the SMS). Italian is the source:
//! a catalogue maps an Italian text, or an Italian template with
//! `{placeholders}`, to its translation with the same placeholders.
//! A text no catalogue knows stays Italian.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

/// A language of the portal. Italian is the default and the language of
/// the official acts (PDFs, the binding text of declarations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    It,
    En,
    Ar,
    Ro,
    Uk,
    Sq,
}

impl Lang {
    pub const ALL: [Lang; 6] = [Lang::It, Lang::En, Lang::Ar, Lang::Ro, Lang::Uk, Lang::Sq];
    /// The languages with a catalogue (all but Italian).
    pub const TRANSLATED: [Lang; 5] = [Lang::En, Lang::Ar, Lang::Ro, Lang::Uk, Lang::Sq];

    pub fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
            Lang::Ar => "ar",
            Lang::Ro => "ro",
            Lang::Uk => "uk",
            Lang::Sq => "sq",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code))
    }

    /// The language of an `Accept-Language` header: the highest-weighted
    /// range whose primary subtag is one of ours (the first on a tie);
    /// anything else, or nothing, is Italian.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::It;
        };
        let mut best: Option<(Lang, u16)> = None;
        for range in header.split(',').take(32) {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split(['-', '_']).next().unwrap_or("");
            let Some(lang) = Lang::from_code(primary) else {
                continue;
            };
            let mut weight = 1000u16;
            for p in parts {
                if let Some(q) = p.trim().strip_prefix("q=") {
                    weight = parse_weight(q.trim()).unwrap_or(0);
                }
            }
            if weight > 0 && best.is_none_or(|(_, w)| weight > w) {
                best = Some((lang, weight));
            }
        }
        best.map(|(l, _)| l).unwrap_or(Lang::It)
    }

    /// The language's name in itself.
    pub fn name(self) -> &'static str {
        match self {
            Lang::It => "Italiano",
            Lang::En => "English",
            Lang::Ar => "العربية",
            Lang::Ro => "Română",
            Lang::Uk => "Українська",
            Lang::Sq => "Shqip",
        }
    }

    /// The text direction of the language.
    pub fn is_rtl(self) -> bool {
        self == Lang::Ar
    }
}

/// A quality value (`0`, `0.5`, `1.000`) in thousandths.
fn parse_weight(q: &str) -> Option<u16> {
    let value: f32 = q.parse().ok()?;
    if !(0.0..=1.0).contains(&value) {
        return None;
    }
    Some((value * 1000.0).round() as u16)
}

/// One entry of a catalogue, split at its placeholders for matching.
struct Template {
    /// The literal pieces between placeholders (one more than `names`).
    pieces: Vec<String>,
    names: Vec<String>,
    translation: String,
}

struct Catalogue {
    exact: HashMap<String, String>,
    templates: Vec<Template>,
}

/// The catalogue files, one per translated language.
pub fn catalogue_source(lang: Lang) -> &'static str {
    match lang {
        Lang::It => "{}",
        Lang::En => include_str!("../../i18n/en.json"),
        Lang::Ar => include_str!("../../i18n/ar.json"),
        Lang::Ro => include_str!("../../i18n/ro.json"),
        Lang::Uk => include_str!("../../i18n/uk.json"),
        Lang::Sq => include_str!("../../i18n/sq.json"),
    }
}

/// Split a template at its `{name}` placeholders.
pub fn split_template(template: &str) -> (Vec<String>, Vec<String>) {
    let mut pieces = Vec::new();
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '?')
        {
            break;
        }
        pieces.push(rest[..open].to_owned());
        names.push(name.to_owned());
        rest = &rest[open + close + 1..];
    }
    pieces.push(rest.to_owned());
    (pieces, names)
}

fn catalogue(lang: Lang) -> &'static Catalogue {
    static CATALOGUES: OnceLock<HashMap<Lang, Catalogue>> = OnceLock::new();
    let all = CATALOGUES.get_or_init(|| {
        Lang::ALL
            .into_iter()
            .map(|l| {
                let entries: HashMap<String, String> =
                    serde_json::from_str(catalogue_source(l)).unwrap_or_default();
                let templates = entries
                    .iter()
                    .filter(|(k, _)| k.contains('{'))
                    .map(|(k, v)| {
                        let (pieces, names) = split_template(k);
                        Template {
                            pieces,
                            names,
                            translation: v.clone(),
                        }
                    })
                    .filter(|t| !t.names.is_empty())
                    .collect();
                (
                    l,
                    Catalogue {
                        exact: entries,
                        templates,
                    },
                )
            })
            .collect()
    });
    &all[&lang]
}

/// Whether the language's catalogue has this Italian text or template.
pub fn knows(lang: Lang, italian: &str) -> bool {
    lang == Lang::It || catalogue(lang).exact.contains_key(italian)
}

/// Fill a template's `{name}` placeholders.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let (pieces, names) = split_template(template);
    let mut out = String::with_capacity(template.len() + 32);
    for (i, piece) in pieces.iter().enumerate() {
        out.push_str(piece);
        if let Some(name) = names.get(i) {
            match args.iter().find(|(n, _)| n == name) {
                Some((_, v)) => out.push_str(v),
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            }
        }
    }
    out
}

/// An Italian template in `lang`, its placeholders filled.
pub fn tr(lang: Lang, template: &str, args: &[(&str, &str)]) -> String {
    let translated = match lang {
        Lang::It => template,
        _ => match catalogue(lang).exact.get(template) {
            Some(t) => t.as_str(),
            None => {
                missed(template);
                template
            }
        },
    };
    fill(translated, args)
}

/// An Italian text already rendered (a field error's message) in `lang`:
/// the catalogue's exact entry, else the first template it matches, its
/// placeholders carried over; else the Italian text.
pub fn localize(lang: Lang, italian: &str) -> String {
    if lang == Lang::It {
        return italian.to_owned();
    }
    let cat = catalogue(lang);
    if let Some(t) = cat.exact.get(italian) {
        return t.clone();
    }
    for t in &cat.templates {
        if let Some(values) = match_template(&t.pieces, italian) {
            let args: Vec<(&str, &str)> = t
                .names
                .iter()
                .map(String::as_str)
                .zip(values.iter().copied())
                .collect();
            return fill(&t.translation, &args);
        }
    }
    missed(italian);
    italian.to_owned()
}

#[cfg(test)]
thread_local! {
    static MISSES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A text no catalogue had: recorded for the coverage tests.
fn missed(_italian: &str) {
    #[cfg(test)]
    MISSES.with(|m| m.borrow_mut().push(_italian.to_owned()));
}

/// The texts this thread asked for and some catalogue lacked, since the
/// last call (tests only).
#[cfg(test)]
pub fn take_misses() -> Vec<String> {
    MISSES.with(|m| std::mem::take(&mut *m.borrow_mut()))
}

/// The placeholder values when `text` is the template of `pieces` filled:
/// each value runs to the first place the next piece follows (the last
/// piece must end the text).
fn match_template<'a>(pieces: &[String], text: &'a str) -> Option<Vec<&'a str>> {
    let (first, rest) = pieces.split_first()?;
    let mut remaining = text.strip_prefix(first.as_str())?;
    let mut values = Vec::with_capacity(rest.len());
    for (i, piece) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let end = if last {
            if !remaining.ends_with(piece.as_str()) {
                return None;
            }
            remaining.len() - piece.len()
        } else if piece.is_empty() {
            return None;
        } else {
            remaining.find(piece.as_str())?
        };
        let value = &remaining[..end];
        if value.is_empty() {
            return None;
        }
        values.push(value);
        remaining = &remaining[end + piece.len()..];
    }
    Some(values)
}

/// Every key of a catalogue, for the catalogue tests.
pub fn keys(lang: Lang) -> Vec<&'static str> {
    catalogue(lang).exact.keys().map(String::as_str).collect()
}

/// The translation of one key, for the catalogue tests.
pub fn entry(lang: Lang, key: &str) -> Option<&'static str> {
    catalogue(lang).exact.get(key).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_highest_weighted_range_of_ours() {
        let l = |h: &str| Lang::from_accept_language(Some(h));
        assert_eq!(l("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(l("de-DE,de;q=0.9,ar;q=0.8"), Lang::Ar);
        assert_eq!(l("fr, uk;q=0.5, ro;q=0.7"), Lang::Ro);
        assert_eq!(l("sq"), Lang::Sq);
        assert_eq!(l("SQ-al"), Lang::Sq);
        assert_eq!(l("it-IT,en;q=0.9"), Lang::It);
        assert_eq!(l("en;q=0, ro;q=0.1"), Lang::Ro);
        assert_eq!(l("de, fr"), Lang::It);
        assert_eq!(l("*"), Lang::It);
        assert_eq!(l(""), Lang::It);
        assert_eq!(l("en;q=abc"), Lang::It);
        assert_eq!(Lang::from_accept_language(None), Lang::It);
    }

    #[test]
    fn templates_fill_and_match() {
        assert_eq!(fill("Tra {n} minuti.", &[("n", "5")]), "Tra 5 minuti.");
        assert_eq!(fill("Senza {x}.", &[]), "Senza {x}.");
        let (pieces, names) = split_template("Il campo «{field}» non è previsto.");
        assert_eq!(names, vec!["field"]);
        assert_eq!(
            match_template(&pieces, "Il campo «guardian.fax» non è previsto."),
            Some(vec!["guardian.fax"])
        );
        assert_eq!(match_template(&pieces, "Il campo «» non è previsto."), None);
        assert_eq!(match_template(&pieces, "Altro testo."), None);
        let (pieces, _) = split_template("{a} e {b}.");
        assert_eq!(
            match_template(&pieces, "uno e due."),
            Some(vec!["uno", "due"])
        );
    }

    #[test]
    fn every_catalogue_has_the_same_keys_none_empty_with_the_same_placeholders() {
        let italian: std::collections::BTreeSet<&str> = keys(Lang::En).into_iter().collect();
        assert!(italian.len() > 100, "{} keys", italian.len());
        for lang in Lang::TRANSLATED {
            let these: std::collections::BTreeSet<&str> = keys(lang).into_iter().collect();
            let missing: Vec<_> = italian.difference(&these).collect();
            let extra: Vec<_> = these.difference(&italian).collect();
            assert!(missing.is_empty(), "{}: missing {missing:?}", lang.code());
            assert!(extra.is_empty(), "{}: extra {extra:?}", lang.code());
            for key in &italian {
                let value = entry(lang, key).unwrap_or("");
                assert!(!value.trim().is_empty(), "{}: empty {key:?}", lang.code());
                let mut want = split_template(key).1;
                let mut got = split_template(value).1;
                want.sort();
                got.sort();
                assert_eq!(want, got, "{}: placeholders of {key:?}", lang.code());
                // Short keys may read the same ("Password: {password}").
                if key.split_whitespace().count() < 3 {
                    continue;
                }
                assert_ne!(value, *key, "{}: {key:?} is not translated", lang.code());
            }
        }
    }
}

/// Every text a family can read from the server is in every catalogue:
/// the errors, the mails, the SMS, and each Italian message literal of the
/// sources (found by a scan, so that a new message cannot slip through).
#[cfg(test)]
mod coverage {
    use super::*;
    use crate::domain::error::{Error, FieldError};

    fn all_errors() -> Vec<Error> {
        let f = || FieldError::new("x", "invalid", "Campo obbligatorio.");
        vec![
            Error::TenantNotFound,
            Error::NotFound,
            Error::RouteNotFound,
            Error::MethodNotAllowed,
            Error::Unauthorized,
            Error::Forbidden,
            Error::InvalidJson,
            Error::UnknownField(FieldError::new(
                "guardian.fax",
                "unknown_field",
                "Il campo «guardian.fax» non è previsto.",
            )),
            Error::PayloadTooLarge,
            Error::UnsupportedMediaType,
            Error::InvalidEmail(f()),
            Error::invalid_phone(),
            Error::InvalidFields(vec![f()]),
            Error::Incomplete(vec![f()]),
            Error::TooManyRequests {
                retry_after_secs: 1,
            },
            Error::TooManyRequests {
                retry_after_secs: 30,
            },
            Error::TooManyRequests {
                retry_after_secs: 60,
            },
            Error::TooManyRequests {
                retry_after_secs: 600,
            },
            Error::InvalidCode { attempts_left: 0 },
            Error::InvalidCode { attempts_left: 1 },
            Error::InvalidCode { attempts_left: 3 },
            Error::CodeExpired,
            Error::InvalidCredentials,
            Error::InvalidIdToken,
            Error::TooManyAttempts {
                retry_after_secs: None,
            },
            Error::WindowClosed,
            Error::DuplicatePupil("Comune di Demo: a@b.it, 080".into()),
            Error::GuardianMismatch,
            Error::NotEditable,
            Error::VersionConflict,
            Error::InvalidTransition,
            Error::NoPlaces,
            Error::NotSubmitted,
            Error::PasswordChangeRequired,
            Error::WeakPassword(vec![f()]),
            Error::EmailRequired,
            Error::PaymentArrears {
                top_up: String::new(),
                office: "Comune di Demo".into(),
            },
            Error::FileTooLarge,
            Error::CsvRequired,
            Error::Unavailable {
                retry_after_secs: 2,
            },
            Error::Internal("x".into()),
        ]
    }

    #[test]
    fn every_error_reads_in_every_language() {
        take_misses();
        for lang in Lang::TRANSLATED {
            for e in all_errors() {
                let body = e.to_body_in(lang);
                assert_ne!(
                    body["error"]["message"],
                    e.to_body()["error"]["message"],
                    "{}: {:?}",
                    lang.code(),
                    e
                );
            }
        }
        assert_eq!(take_misses(), Vec::<String>::new());
        let body = Error::UnknownField(FieldError::new(
            "guardian.fax",
            "unknown_field",
            "Il campo «guardian.fax» non è previsto.",
        ))
        .to_body_in(Lang::En);
        let field = body["error"]["fields"][0]["message"].as_str().unwrap_or("");
        assert!(field.contains("guardian.fax"), "{field}");
        assert!(!field.contains("previsto"), "{field}");
    }

    /// The string literals of a Rust source, as the compiler reads them
    /// (escapes and line continuations resolved), outside its test module.
    fn literals(source: &str) -> Vec<String> {
        let source = source
            .find("#[cfg(test)]\nmod tests")
            .map_or(source, |cut| &source[..cut]);
        let chars: Vec<char> = source.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '/' if chars.get(i + 1) == Some(&'/') => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                }
                '\'' => {
                    // A char literal ('x', '\n', '\''), or a lifetime.
                    if chars.get(i + 1) == Some(&'\\') {
                        i += 4;
                    } else if chars.get(i + 2) == Some(&'\'') {
                        i += 3;
                    } else {
                        i += 1;
                    }
                }
                '"' => {
                    let mut s = String::new();
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        if chars[i] == '\\' {
                            let e = chars.get(i + 1).copied().unwrap_or(' ');
                            i += 2;
                            match e {
                                '\n' => {
                                    while i < chars.len() && chars[i].is_whitespace() {
                                        i += 1;
                                    }
                                }
                                'n' => s.push('\n'),
                                't' => s.push('\t'),
                                other => s.push(other),
                            }
                            continue;
                        }
                        s.push(chars[i]);
                        i += 1;
                    }
                    out.push(s);
                    i += 1;
                }
                _ => i += 1,
            }
        }
        out
    }

    /// A literal that reads as an Italian sentence for people.
    fn italian(s: &str) -> bool {
        let words: Vec<&str> = s.split_whitespace().collect();
        let marker = s.chars().any(|c| "àèéìòù".contains(c))
            || words.iter().any(|w| {
                [
                    "il", "la", "di", "non", "per", "un", "una", "che", "del", "della", "le",
                    "gli", "dei", "al", "alla", "da", "con", "o",
                ]
                .contains(w)
            });
        words.len() >= 2
            && marker
            && s.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '{')
    }

    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("source dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Texts that stay Italian on purpose: the PDFs (official acts), the
    /// mails' subjects and the schools' lists, the labels of the PDFs.
    fn italian_only(file: &str, literal: &str) -> bool {
        file.ends_with("pdf.rs")
            || file.ends_with("application_docs.rs")
            || (file.ends_with("mail.rs")
                && (literal.starts_with("Gentile segreteria")
                    || literal.starts_with("questa settimana")
                    || literal.starts_with("in allegato l'elenco")
                    || literal.starts_with("Settimana ")
                    || literal.starts_with("Elenco settimanale")))
    }

    #[test]
    fn every_italian_message_of_the_sources_is_in_the_catalogues() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources(&root.join("src"), &mut files);
        sources(&root.join("../functions"), &mut files);
        let mut missing = Vec::new();
        for file in files {
            let name = file.to_string_lossy().into_owned();
            if name.contains("/target/") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("source");
            for literal in literals(&text) {
                if !italian(&literal) || italian_only(&name, &literal) {
                    continue;
                }
                if let Some(lang) = Lang::TRANSLATED.into_iter().find(|l| !knows(*l, &literal)) {
                    missing.push(format!("{} ({}): {literal}", name, lang.code()));
                }
            }
        }
        assert!(
            missing.len() < 40,
            "{} missing, e.g. {:#?}",
            missing.len(),
            &missing[..10.min(missing.len())]
        );
        assert_eq!(missing, Vec::<String>::new());
    }
}
