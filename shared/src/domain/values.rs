//! Small value types that cannot hold invalid data: once constructed, an
//! `Email` is a well-formed address, a `TenantSlug` a valid slug, and so on.
//! Parsing errors are plain enums; the HTTP layer turns them into field
//! errors with Italian messages.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw)
                    .map_err(|_| serde::de::Error::custom(concat!("invalid ", stringify!($name))))
            }
        }
        impl std::str::FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }
    };
}

/// The input does not make a valid value of the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid value")]
pub struct InvalidValue;

/// An email address, trimmed and lower-cased. Deliberately simple and strict:
/// what a parent can type and a mail server accepts (no quoted local parts,
/// no IP literals).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);
string_value!(Email);

impl Email {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let s = input.trim().to_lowercase();
        if s.len() > 254 || s.len() < 6 {
            return Err(InvalidValue);
        }
        let (local, domain) = s.split_once('@').ok_or(InvalidValue)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if local_ok && domain_ok {
            Ok(Email(s))
        } else {
            Err(InvalidValue)
        }
    }
}

/// A phone number in E.164: an Italian one, mobile (3xx…) or landline
/// (0…), stored as `+39` followed by the national number, or a foreign
/// one written with its international prefix (`+44…`, `0044…`) that
/// libphonenumber's metadata finds valid (many families have a foreign
/// number). Spaces, dots, dashes, slashes and brackets are accepted as
/// separators; without a prefix the number is Italian.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);
string_value!(Phone);

/// The separators people type inside a phone number, dropped.
fn compact_phone(input: &str) -> String {
    input
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '/' | '(' | ')'))
        .collect()
}

/// A number in international form (`+CC…` or `00CC…`) of a country other
/// than Italy, parsed with libphonenumber's metadata; `None` for an Italian
/// or national-form number.
fn foreign_number(compact: &str) -> Option<Result<phonenumber::PhoneNumber, InvalidValue>> {
    let international = compact
        .strip_prefix('+')
        .or_else(|| compact.strip_prefix("00"))?;
    if international.starts_with("39") {
        return None;
    }
    if !international.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Err(InvalidValue));
    }
    Some(phonenumber::parse(None, format!("+{international}")).map_err(|_| InvalidValue))
}

fn e164(number: &phonenumber::PhoneNumber) -> String {
    number.format().mode(phonenumber::Mode::E164).to_string()
}

impl Phone {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let compact = compact_phone(input);
        if let Some(foreign) = foreign_number(&compact) {
            let number = foreign?;
            return if phonenumber::is_valid(&number) {
                Ok(Phone(e164(&number)))
            } else {
                Err(InvalidValue)
            };
        }
        let national = compact
            .strip_prefix("+39")
            .or_else(|| compact.strip_prefix("0039"))
            .unwrap_or(&compact);
        if !national.chars().all(|c| c.is_ascii_digit()) {
            return Err(InvalidValue);
        }
        let ok = match national.as_bytes().first() {
            // Mobile numbers: 3 followed by 8 or 9 digits.
            Some(b'3') => (9..=10).contains(&national.len()),
            // Landlines keep the leading 0: 6 to 11 digits in all.
            Some(b'0') => (6..=11).contains(&national.len()),
            _ => false,
        };
        if ok {
            Ok(Phone(format!("+39{national}")))
        } else {
            Err(InvalidValue)
        }
    }
}

/// A mobile number of any country, in E.164, that an SMS can reach: valid
/// by libphonenumber's metadata and of the mobile kind (or, where the
/// numbering plan cannot tell, as in North America, "fixed line or
/// mobile"). Without an international prefix (`+` or `00`) the number is
/// Italian.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MobilePhone(String);
string_value!(MobilePhone);

impl MobilePhone {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let compact = compact_phone(input);
        // Digits only (libphonenumber would read letters as a keypad's).
        let digits = compact.strip_prefix('+').unwrap_or(&compact);
        if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue);
        }
        let international = compact
            .strip_prefix('+')
            .or_else(|| compact.strip_prefix("00"));
        let number = match international {
            Some(rest) => phonenumber::parse(None, format!("+{rest}")),
            None => phonenumber::parse(Some(phonenumber::country::Id::IT), &compact),
        }
        .map_err(|_| InvalidValue)?;
        let mobile = matches!(
            number.number_type(&phonenumber::metadata::DATABASE),
            phonenumber::Type::Mobile | phonenumber::Type::FixedLineOrMobile
        );
        if phonenumber::is_valid(&number) && mobile {
            Ok(MobilePhone(e164(&number)))
        } else {
            Err(InvalidValue)
        }
    }

    /// Whether `phone` (a guardian's number) is this number: both are E.164.
    pub fn is(&self, phone: &str) -> bool {
        Phone::parse(phone).is_ok_and(|p| p.as_str() == self.0)
    }
}

/// A CAP: five digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalCode(String);
string_value!(PostalCode);

impl PostalCode {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let s = input.trim();
        if s.len() == 5 && s.chars().all(|c| c.is_ascii_digit()) {
            Ok(PostalCode(s.to_owned()))
        } else {
            Err(InvalidValue)
        }
    }
}

/// The two-letter codes of the Italian provinces and metropolitan cities
/// (sigle automobilistiche), including the historical ones still found on
/// documents.
const PROVINCES: &[&str] = &[
    "AG", "AL", "AN", "AO", "AP", "AQ", "AR", "AT", "AV", "BA", "BG", "BI", "BL", "BN", "BO", "BR",
    "BS", "BT", "BZ", "CA", "CB", "CE", "CH", "CI", "CL", "CN", "CO", "CR", "CS", "CT", "CZ", "EN",
    "FC", "FE", "FG", "FI", "FM", "FR", "GE", "GO", "GR", "IM", "IS", "KR", "LC", "LE", "LI", "LO",
    "LT", "LU", "MB", "MC", "ME", "MI", "MN", "MO", "MS", "MT", "NA", "NO", "NU", "OG", "OR", "OT",
    "PA", "PC", "PD", "PE", "PG", "PI", "PN", "PO", "PR", "PT", "PU", "PV", "PZ", "RA", "RC", "RE",
    "RG", "RI", "RM", "RN", "RO", "SA", "SI", "SO", "SP", "SR", "SS", "SU", "SV", "TA", "TE", "TN",
    "TO", "TP", "TR", "TS", "TV", "UD", "VA", "VB", "VC", "VE", "VI", "VR", "VS", "VT", "VV",
];

/// A province code, upper-case, one of the Italian sigle.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Province(String);
string_value!(Province);

impl Province {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let s = input.trim().to_ascii_uppercase();
        if PROVINCES.contains(&s.as_str()) {
            Ok(Province(s))
        } else {
            Err(InvalidValue)
        }
    }
}

/// A municipality's slug in the URL: `[a-z0-9-]{2,40}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantSlug(String);
string_value!(TenantSlug);

impl TenantSlug {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let ok = (2..=40).contains(&input.len())
            && input
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(TenantSlug(input.to_owned()))
        } else {
            Err(InvalidValue)
        }
    }
}

/// A school year, `2025/2026`: two consecutive years.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchoolYear(String);
string_value!(SchoolYear);

impl SchoolYear {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let (a, b) = input.split_once('/').ok_or(InvalidValue)?;
        let digits = |s: &str| s.len() == 4 && s.chars().all(|c| c.is_ascii_digit());
        if !digits(a) || !digits(b) {
            return Err(InvalidValue);
        }
        let (a, b): (u16, u16) = (
            a.parse().map_err(|_| InvalidValue)?,
            b.parse().map_err(|_| InvalidValue)?,
        );
        if (2000..=2099).contains(&a) && b == a + 1 {
            Ok(SchoolYear(input.to_owned()))
        } else {
            Err(InvalidValue)
        }
    }

    pub fn first_year(&self) -> u16 {
        self.0.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "anna@example.it",
            " Anna.Bianchi+scuola@Comune.Corato.BA.it ",
            "a_b-c@x-y.eu",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            Email::parse(" Anna@Example.IT").map(|e| e.to_string()),
            Ok("anna@example.it".to_string())
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.it",
            "anna@example",
            "anna@@example.it",
            "anna @example.it",
            "anna@exa mple.it",
            ".anna@example.it",
            "an..na@example.it",
            "anna@-example.it",
            "anna@example.i",
            "anna@example.123",
            "annà@example.it",
            "anna@example..it",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.it", "a".repeat(65));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn phones() {
        for (input, norm) in [
            ("+393331234567", "+393331234567"),
            ("333 123 4567", "+393331234567"),
            ("0039 333-1234567", "+393331234567"),
            ("080 0000000", "+390800000000"),
            ("+39 06 1234567", "+39061234567"),
            ("3331234567", "+393331234567"),
            // Foreign numbers, with their international prefix.
            ("+44 20 7946 0958", "+442079460958"),
            ("0049 1512 3456789", "+4915123456789"),
        ] {
            assert_eq!(Phone::parse(input).map(|p| p.to_string()), Ok(norm.into()));
        }
        for bad in [
            "",
            "12345",
            "+44 20 7946",
            "+999 1234567",
            "333abc4567",
            "33312",
            "+3933312345678",
            "5551234567",
            "+39",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mobile_phones_of_any_country() {
        for (input, e164) in [
            ("+393331234567", "+393331234567"),
            ("333 123 4567", "+393331234567"),
            ("0039 347 1234567", "+393471234567"),
            ("+44 7911 123456", "+447911123456"),
            ("+40 721 234 567", "+40721234567"),
            ("+380 50 123 4567", "+380501234567"),
            ("+355 69 123 4567", "+355691234567"),
            ("+212 612 345678", "+212612345678"),
            // North America cannot tell a mobile from a landline.
            ("+1 520 878 2491", "+15208782491"),
        ] {
            assert_eq!(
                MobilePhone::parse(input).map(|p| p.to_string()),
                Ok(e164.into()),
                "{input}"
            );
        }
        for bad in [
            "",
            "+39 06 1234567",
            "080 0000000",
            "+44 20 7946 0958",
            "12345",
            "+393331",
            "333abc4567",
            "+999 1234567",
            "+39333123456789012345678",
        ] {
            assert!(MobilePhone::parse(bad).is_err(), "{bad}");
        }
        let mobile = MobilePhone::parse("+39 333 1234567").unwrap();
        assert!(mobile.is("333 123 4567"));
        assert!(mobile.is("0039 3331234567"));
        assert!(!mobile.is("333 123 4568"));
        assert!(!mobile.is("not a number"));
    }

    #[test]
    fn postal_codes_and_provinces() {
        assert!(PostalCode::parse("70033").is_ok());
        assert!(PostalCode::parse("7003").is_err());
        assert!(PostalCode::parse("700334").is_err());
        assert!(PostalCode::parse("7003a").is_err());
        assert_eq!(
            Province::parse("ba").map(|p| p.to_string()),
            Ok("BA".into())
        );
        assert!(Province::parse("RM").is_ok());
        assert!(Province::parse("XX").is_err());
        assert!(Province::parse("BAR").is_err());
        assert!(Province::parse("").is_err());
    }

    #[test]
    fn tenant_slugs() {
        for ok in ["demo", "corato", "san-giovanni-rotondo", "a1"] {
            assert!(TenantSlug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["d", "Demo", "demo_x", "de mo", "città", &"a".repeat(41), ""] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn school_years() {
        assert!(SchoolYear::parse("2025/2026").is_ok());
        assert_eq!(
            SchoolYear::parse("2025/2026").map(|y| y.first_year()),
            Ok(2025)
        );
        for bad in [
            "2025/2027",
            "2025-2026",
            "25/26",
            "2026/2025",
            "abcd/efgh",
            "",
        ] {
            assert!(SchoolYear::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_deserialize_through_parse() {
        let e: Result<Email, _> = serde_json::from_str("\"x@y.it\"");
        assert!(e.is_ok());
        let e: Result<Email, _> = serde_json::from_str("\"nope\"");
        assert!(e.is_err());
    }
}
