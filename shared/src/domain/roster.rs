//! Last year's users ("anagrafiche"), imported by staff from CSV: every
//! line validated on its own, bad lines reported with their line number
//! and a stable code, never blocking the good ones. Pure: parsing and
//! rules only.

use serde::{Deserialize, Serialize};
use time::Date;

use super::application::{ApplicationBody, Guardian, Pupil, ServiceChoice, Transport};
use super::fiscal_code::FiscalCode;
use super::tenant::Tenant;
use super::values::{Email, Phone};
use super::window::Service;

/// The header row of the contract, in this order.
pub const HEADER: [&str; 15] = [
    "user_code",
    "service",
    "pupil_fiscal_code",
    "pupil_first_name",
    "pupil_last_name",
    "pupil_birth_date",
    "school",
    "grade",
    "section",
    "guardian_fiscal_code",
    "guardian_first_name",
    "guardian_last_name",
    "guardian_email",
    "guardian_phone",
    "balance_cents",
];

/// An optional last column: last year's bus stop (`trasporto` lines), so
/// that a bus renewal starts from it.
pub const STOP_COLUMN: &str = "stop_id";

/// At most this many data lines in one import.
pub const MAX_LINES: usize = 10_000;

/// One pupil of last year, in one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntry {
    pub user_code: String,
    pub service: Service,
    pub pupil_fiscal_code: String,
    pub pupil_first_name: String,
    pub pupil_last_name: String,
    pub pupil_birth_date: String,
    pub school: String,
    pub grade: String,
    pub section: String,
    pub guardian_fiscal_code: String,
    pub guardian_first_name: String,
    pub guardian_last_name: String,
    pub guardian_email: Option<String>,
    pub guardian_phone: Option<String>,
    /// The prepaid balance; negative is a debt.
    pub balance_cents: i64,
    /// Last year's bus stop (the optional `stop_id` column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_id: Option<String>,
}

impl RosterEntry {
    /// A balance below minus the tenant's tolerance blocks the renewal.
    pub fn in_arrears(&self, tenant: &Tenant) -> bool {
        self.balance_cents < -tenant.arrears_tolerance_cents.abs()
    }
}

/// A refused line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub line: u64,
    pub code: &'static str,
    /// The column at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

/// Why a whole file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    Empty,
    BadHeader,
    TooManyLines,
    NotUtf8,
}

/// The file, line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub entries: Vec<(u64, RosterEntry)>,
    pub rejected: Vec<Rejected>,
}

fn name_ok(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty()
        && t.chars().count() <= 80
        && t.chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '’' | '-' | '.'))
}

fn text_ok(s: &str, max: usize) -> bool {
    let t = s.trim();
    !t.is_empty() && t.chars().count() <= max && !t.chars().any(char::is_control)
}

fn check_line(
    fields: &[String],
    tenant: &Tenant,
) -> Result<RosterEntry, (&'static str, Option<&'static str>)> {
    let f = |i: usize| fields.get(i).map(|s| s.trim()).unwrap_or("");
    let user_code = f(0);
    if user_code.len() != 8 || !user_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(("invalid_user_code", Some("user_code")));
    }
    let service: Service = serde_json::from_value(serde_json::Value::String(f(1).to_owned()))
        .map_err(|_| ("invalid_service", Some("service")))?;
    if !tenant.offers(service) {
        return Err(("service_not_offered", Some("service")));
    }
    let pupil =
        FiscalCode::parse(f(2)).map_err(|_| ("invalid_fiscal_code", Some("pupil_fiscal_code")))?;
    if !name_ok(f(3)) {
        return Err(("invalid_name", Some("pupil_first_name")));
    }
    if !name_ok(f(4)) {
        return Err(("invalid_name", Some("pupil_last_name")));
    }
    let birth = Date::parse(f(5), &time::format_description::well_known::Iso8601::DATE)
        .ok()
        .filter(|_| f(5).len() == 10)
        .ok_or(("invalid_birth_date", Some("pupil_birth_date")))?;
    let (day, month) = pupil.birth_day_month();
    if birth.day() != day
        || birth.month() != month
        || birth.year().rem_euclid(100) as u8 != pupil.birth_year_two_digits()
    {
        return Err(("birth_date_mismatch", Some("pupil_birth_date")));
    }
    if !text_ok(f(6), 120) {
        return Err(("invalid_school", Some("school")));
    }
    if !text_ok(f(7), 10) {
        return Err(("invalid_grade", Some("grade")));
    }
    if !f(8).is_empty() && !text_ok(f(8), 10) {
        return Err(("invalid_section", Some("section")));
    }
    let guardian = FiscalCode::parse(f(9))
        .map_err(|_| ("invalid_fiscal_code", Some("guardian_fiscal_code")))?;
    if !name_ok(f(10)) {
        return Err(("invalid_name", Some("guardian_first_name")));
    }
    if !name_ok(f(11)) {
        return Err(("invalid_name", Some("guardian_last_name")));
    }
    let email = match f(12) {
        "" => None,
        raw => Some(
            Email::parse(raw)
                .map_err(|_| ("invalid_email", Some("guardian_email")))?
                .to_string(),
        ),
    };
    let phone = match f(13) {
        "" => None,
        raw => Some(
            Phone::parse(raw)
                .map_err(|_| ("invalid_phone", Some("guardian_phone")))?
                .to_string(),
        ),
    };
    let balance_cents: i64 = f(14)
        .parse()
        .ok()
        .filter(|v: &i64| v.abs() <= 100_000_000)
        .ok_or(("invalid_balance", Some("balance_cents")))?;
    Ok(RosterEntry {
        user_code: user_code.to_owned(),
        service,
        pupil_fiscal_code: pupil.to_string(),
        pupil_first_name: f(3).to_owned(),
        pupil_last_name: f(4).to_owned(),
        pupil_birth_date: f(5).to_owned(),
        school: f(6).to_owned(),
        grade: f(7).to_owned(),
        section: f(8).to_owned(),
        guardian_fiscal_code: guardian.to_string(),
        guardian_first_name: f(10).to_owned(),
        guardian_last_name: f(11).to_owned(),
        guardian_email: email,
        guardian_phone: phone,
        balance_cents,
        stop_id: match f(15) {
            "" => None,
            stop if service == Service::Trasporto && text_ok(stop, 80) => Some(stop.to_owned()),
            _ => return Err(("invalid_stop", Some(STOP_COLUMN))),
        },
    })
}

/// Parse and check a roster file. Line numbers are the file's own (the
/// header is line 1).
pub fn parse(bytes: &[u8], tenant: &Tenant) -> Result<Parsed, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err(FileError::NotUtf8);
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FileError::Empty);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|_| FileError::BadHeader)?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    // The contract's columns, then optionally `stop_id`.
    let with_stop =
        header.len() == HEADER.len() + 1 && header.last().map(String::as_str) == Some(STOP_COLUMN);
    if header[..header.len().min(HEADER.len())] != HEADER
        || (header.len() != HEADER.len() && !with_stop)
    {
        return Err(FileError::BadHeader);
    }
    let columns = header.len();
    // The file's own line number of a byte offset (whatever the line
    // ends), counted on from the previous record: records come in order.
    let mut counted = (0usize, 1u64);
    let mut line_at = |byte: u64| -> u64 {
        let mut end = usize::try_from(byte)
            .unwrap_or(bytes.len())
            .min(bytes.len());
        // After a CRLF the reader reports the record at the LF it has yet
        // to skip; a record starts after its leading line ends.
        while end < bytes.len() && matches!(bytes[end], b'\r' | b'\n') {
            end += 1;
        }
        let (from, line) = counted;
        if end >= from {
            let more = bytes[from..end].iter().filter(|b| **b == b'\n').count() as u64;
            counted = (end, line + more);
        }
        counted.1
    };
    let mut parsed = Parsed::default();
    // The pupil and service each user code named first.
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    let mut count = 0;
    for record in reader.records() {
        let (line, fields): (u64, Vec<String>) = match record {
            Ok(r) => (
                r.position().map(|p| line_at(p.byte())).unwrap_or(0),
                r.iter().map(str::to_owned).collect(),
            ),
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                parsed.rejected.push(Rejected {
                    line,
                    code: "unreadable_line",
                    field: None,
                });
                continue;
            }
        };
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        count += 1;
        if count > MAX_LINES {
            return Err(FileError::TooManyLines);
        }
        if fields.len() != columns {
            parsed.rejected.push(Rejected {
                line,
                code: "wrong_column_count",
                field: None,
            });
            continue;
        }
        match check_line(&fields, tenant) {
            Ok(entry) => {
                // One user code names one pupil in one service.
                let identity = format!("{}:{}", entry.pupil_fiscal_code, entry.service.code());
                let first = seen
                    .entry(entry.user_code.clone())
                    .or_insert_with(|| identity.clone());
                if *first != identity {
                    parsed.rejected.push(Rejected {
                        line,
                        code: "duplicate_user_code",
                        field: Some("user_code"),
                    });
                    continue;
                }
                parsed.entries.push((line, entry));
            }
            Err((code, field)) => parsed.rejected.push(Rejected { line, code, field }),
        }
    }
    Ok(parsed)
}

/// The grade after this one, or `None` when the pupil leaves the school
/// (the last grade of a primaria is 5, of an infanzia or a secondaria 3).
/// A grade that is not a number is kept as it is.
pub fn next_grade(school: &str, grade: &str) -> Option<String> {
    let Ok(g) = grade.trim().parse::<u8>() else {
        return Some(grade.trim().to_owned());
    };
    let s = school.to_lowercase();
    let last = if s.contains("infanzia") || s.contains("secondaria") || s.contains("media") {
        3
    } else {
        5
    };
    (g < last).then(|| (g + 1).to_string())
}

/// A renewal's body, prefilled from last year: the pupil one grade up (a
/// pupil leaving the last grade of a school has school, grade and section
/// cleared, so that they show as missing), the guardian as last year when
/// `guardian_fiscal_code` is last year's guardian, otherwise only that
/// code. The declarations are made again every year.
pub fn renewal_body(
    entry: &RosterEntry,
    window_id: &str,
    guardian_fiscal_code: &str,
) -> ApplicationBody {
    let next = next_grade(&entry.school, &entry.grade);
    let stays = next.is_some();
    let same_guardian = guardian_fiscal_code == entry.guardian_fiscal_code;
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    ApplicationBody {
        echoed_change_request: None,
        language: None,
        window_id: Some(window_id.to_owned()),
        kind: Some("renewal".into()),
        pupil: Some(Pupil {
            fiscal_code: Some(entry.pupil_fiscal_code.clone()),
            first_name: some(&entry.pupil_first_name),
            last_name: some(&entry.pupil_last_name),
            birth_date: some(&entry.pupil_birth_date),
            school: if stays { some(&entry.school) } else { None },
            grade: next,
            section: if stays { some(&entry.section) } else { None },
        }),
        guardian: Some(if same_guardian {
            Guardian {
                fiscal_code: Some(entry.guardian_fiscal_code.clone()),
                first_name: some(&entry.guardian_first_name),
                last_name: some(&entry.guardian_last_name),
                email: entry.guardian_email.clone(),
                phone: entry.guardian_phone.clone(),
                ..Guardian::default()
            }
        } else {
            Guardian {
                fiscal_code: Some(guardian_fiscal_code.to_owned()),
                ..Guardian::default()
            }
        }),
        // A bus pupil starts from last year's stop.
        service: entry.stop_id.as_ref().map(|stop| ServiceChoice {
            transport: Some(Transport {
                stop_id: Some(stop.clone()),
                ..Transport::default()
            }),
            ..ServiceChoice::default()
        }),
        isee: None,
        declarations: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Tenant {
        serde_json::from_value(serde_json::json!({
            "slug": "demo", "name": "Comune di Esempio", "contact_email": "a@b.it", "phone": "080",
            "services": ["refezione", "trasporto"]
        }))
        .expect("tenant")
    }

    const HEAD: &str = "user_code,service,pupil_fiscal_code,pupil_first_name,pupil_last_name,pupil_birth_date,school,grade,section,guardian_fiscal_code,guardian_first_name,guardian_last_name,guardian_email,guardian_phone,balance_cents";
    const GOOD: &str = "48213977,refezione,SPSGLI16C54C983Q,Giulia,Esposito,2016-03-14,Primaria G. Mazzini,2,A,SPSMRC82L09A662D,Marco,Esposito,marco.esposito@example.it,+393331234567,1500";

    #[test]
    fn good_lines_with_bom_crlf_and_quotes() {
        let file = format!(
            "\u{feff}{HEAD}\r\n{GOOD}\r\n\"58213977\",\"refezione\",FRRLCU15R02C983A,Luca,\"Ferri\",2015-10-02,\"Primaria \"\"Don Milani\"\", plesso 2\",5,B,FRRPLA85T60A662Y,Paola,Ferri,,,\"-4200\"\r\n"
        );
        let p = parse(file.as_bytes(), &tenant()).expect("parsed");
        assert_eq!(p.rejected, vec![]);
        assert_eq!(p.entries.len(), 2);
        assert_eq!(
            p.entries.iter().map(|e| e.0).collect::<Vec<_>>(),
            vec![2, 3],
            "{:?}",
            p.entries.iter().map(|e| e.0).collect::<Vec<_>>()
        );
        assert_eq!(p.entries[1].1.school, "Primaria \"Don Milani\", plesso 2");
        assert_eq!(p.entries[1].1.balance_cents, -4200);
        assert_eq!(p.entries[1].1.guardian_email, None);
    }

    #[test]
    fn every_kind_of_bad_line_is_reported_and_the_good_ones_kept() {
        let lines = [
            GOOD.to_string(),                                         // 2 ok
            GOOD.replacen("48213977", "4821397", 1),                  // 3
            GOOD.replacen("refezione", "piscina", 1),                 // 4
            GOOD.replacen("refezione", "pre_post_scuola", 1),         // 5 not offered
            GOOD.replacen("SPSGLI16C54C983Q", "SPSGLI16C54C983X", 1), // 6
            GOOD.replacen("2016-03-14", "2016-03-15", 1),             // 7
            GOOD.replacen("2016-03-14", "14/03/2016", 1),             // 8
            GOOD.replacen("SPSMRC82L09A662D", "SPSMRC82L09A662X", 1), // 9
            GOOD.replacen("marco.esposito@example.it", "marco@", 1),  // 10
            GOOD.replacen("+393331234567", "12", 1),                  // 11
            GOOD.replacen(",1500", ",quindici", 1),                   // 12
            "48213977,refezione,troppo,poche".to_string(),            // 13
            GOOD.replacen("Giulia", "G1ulia", 1),                     // 14
            GOOD.replacen("SPSGLI16C54C983Q", "FRRLCU15R02C983A", 1)
                .replacen("2016-03-14", "2015-10-02", 1), // 15 same code, other pupil
        ];
        let file = format!("{HEAD}\n{}\n", lines.join("\n"));
        let p = parse(file.as_bytes(), &tenant()).expect("parsed");
        assert_eq!(p.entries.len(), 1);
        let got: Vec<(u64, &str)> = p.rejected.iter().map(|r| (r.line, r.code)).collect();
        assert_eq!(
            got,
            vec![
                (3, "invalid_user_code"),
                (4, "invalid_service"),
                (5, "service_not_offered"),
                (6, "invalid_fiscal_code"),
                (7, "birth_date_mismatch"),
                (8, "invalid_birth_date"),
                (9, "invalid_fiscal_code"),
                (10, "invalid_email"),
                (11, "invalid_phone"),
                (12, "invalid_balance"),
                (13, "wrong_column_count"),
                (14, "invalid_name"),
                (15, "duplicate_user_code"),
            ]
        );
    }

    #[test]
    fn whole_file_errors() {
        assert_eq!(parse(b"", &tenant()), Err(FileError::Empty));
        assert_eq!(
            parse(b"a,b,c\n1,2,3\n", &tenant()),
            Err(FileError::BadHeader)
        );
        assert_eq!(parse(b"\xff\xfe", &tenant()), Err(FileError::NotUtf8));
        let many = format!("{HEAD}\n{}", format!("{GOOD}\n").repeat(MAX_LINES + 1));
        assert_eq!(
            parse(many.as_bytes(), &tenant()),
            Err(FileError::TooManyLines)
        );
    }

    #[test]
    fn grades_move_up_and_pupils_leave_the_last_one() {
        assert_eq!(next_grade("Primaria G. Mazzini", "2"), Some("3".into()));
        assert_eq!(next_grade("Primaria G. Mazzini", "5"), None);
        assert_eq!(next_grade("Scuola dell'infanzia Arcobaleno", "3"), None);
        assert_eq!(
            next_grade("Secondaria di primo grado Dante", "2"),
            Some("3".into())
        );
        assert_eq!(next_grade("Secondaria di primo grado Dante", "3"), None);
        assert_eq!(next_grade("Primaria", "II"), Some("II".into()));
    }

    #[test]
    fn renewal_bodies_move_up_or_clear_the_school() {
        let t = tenant();
        let file = format!(
            "{HEAD}\n{GOOD}\n{}\n",
            GOOD.replacen("48213977", "48213978", 1)
                .replacen(",2,A,", ",5,B,", 1)
        );
        let entries = parse(file.as_bytes(), &t).expect("parsed").entries;
        let staying = renewal_body(&entries[0].1, "w-1", "SPSMRC82L09A662D");
        let pupil = staying.pupil.clone().unwrap_or_default();
        assert_eq!(staying.kind.as_deref(), Some("renewal"));
        assert_eq!(staying.window_id.as_deref(), Some("w-1"));
        assert_eq!(pupil.grade.as_deref(), Some("3"));
        assert_eq!(pupil.school.as_deref(), Some("Primaria G. Mazzini"));
        assert_eq!(pupil.section.as_deref(), Some("A"));
        let guardian = staying.guardian.clone().unwrap_or_default();
        assert_eq!(guardian.first_name.as_deref(), Some("Marco"));
        assert_eq!(guardian.email.as_deref(), Some("marco.esposito@example.it"));
        assert_eq!(guardian.relationship, None);
        assert_eq!(staying.declarations, None);

        let leaving = renewal_body(&entries[1].1, "w-1", "SPSMRC82L09A662D");
        let pupil = leaving.pupil.unwrap_or_default();
        assert_eq!(
            (pupil.school, pupil.grade, pupil.section),
            (None, None, None)
        );
        assert_eq!(pupil.first_name.as_deref(), Some("Giulia"));

        let other = renewal_body(&entries[0].1, "w-1", "FRRPLA85T60A662Y");
        let guardian = other.guardian.unwrap_or_default();
        assert_eq!(guardian.fiscal_code.as_deref(), Some("FRRPLA85T60A662Y"));
        assert_eq!((guardian.first_name, guardian.email), (None, None));
    }

    #[test]
    fn arrears_follow_the_tolerance() {
        let mut t = tenant();
        let mut e = parse(format!("{HEAD}\n{GOOD}\n").as_bytes(), &t)
            .expect("parsed")
            .entries
            .remove(0)
            .1;
        e.balance_cents = -1;
        assert!(e.in_arrears(&t));
        t.arrears_tolerance_cents = 500;
        assert!(!e.in_arrears(&t));
        e.balance_cents = -501;
        assert!(e.in_arrears(&t));
    }

    #[test]
    fn a_bus_line_may_carry_last_years_stop() {
        let t: Tenant = serde_json::from_value(serde_json::json!({
            "slug": "demo", "name": "Comune", "contact_email": "a@b.it", "phone": "080",
            "services": ["refezione", "trasporto"]
        }))
        .expect("tenant");
        let line = |service: &str, stop: &str| {
            format!(
                "{HEAD},stop_id\n48213977,{service},SPSGLI16C54C983Q,Giulia,Esposito,2016-03-14,Primaria,2,A,SPSMRC82L09A662D,Marco,Esposito,,,0,{stop}\n"
            )
        };
        let parsed = parse(line("trasporto", "st-1").as_bytes(), &t).expect("parsed");
        let entry = &parsed.entries[0].1;
        assert_eq!(entry.stop_id.as_deref(), Some("st-1"));
        let body = renewal_body(entry, "w-bus", "SPSMRC82L09A662D");
        let transport = body.service.and_then(|s| s.transport).expect("transport");
        assert_eq!(transport.stop_id.as_deref(), Some("st-1"));
        let parsed = parse(line("refezione", "st-1").as_bytes(), &t).expect("parsed");
        assert_eq!(parsed.rejected[0].code, "invalid_stop");
        let parsed = parse(line("refezione", "").as_bytes(), &t).expect("parsed");
        assert!(parsed.rejected.is_empty() && parsed.entries[0].1.stop_id.is_none());
        assert!(parse(format!("{HEAD},other\n").as_bytes(), &t).is_err());
    }
}
