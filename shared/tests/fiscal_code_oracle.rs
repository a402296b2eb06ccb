//! Checks `shared::domain::fiscal_code` against an independent oracle: the
//! fixture `tests/fixtures/fiscal_codes.json` holds thousands of valid and
//! corrupted codes with the verdicts of PyPI's `python-codicefiscale`, made by
//! `scripts/fiscal-code-oracle/generate.py` (see its docstring to rerun it).
//!
//! The oracle resolves the century from its clock, which the generator froze
//! at `oracle_today`; the fixture's birth dates run from 1930 to 2024, where
//! the oracle's rule (year only, then 100 years back) and ours (whole date)
//! agree for that `today`, so `birth_date(oracle_today)` must match exactly.

use std::path::Path;

use serde::Deserialize;
use shared::domain::fiscal_code::{FiscalCode, Sex};
use time::Date;
use time::macros::format_description;

#[derive(Deserialize)]
struct Fixture {
    oracle: String,
    oracle_today: String,
    valid: usize,
    invalid: usize,
    codes: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    code: String,
    valid: bool,
    kind: String,
    birth_date: Option<String>,
    sex: Option<String>,
    omocode: Option<bool>,
}

fn iso_date(s: &str) -> Result<Date, time::error::Parse> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
}

fn load() -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fiscal_codes.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad fixture {}: {e}", path.display()))
}

/// What our parser says about an entry the oracle accepts, if it disagrees.
fn check_valid(entry: &Entry, today: Date) -> Option<String> {
    let fc = match FiscalCode::parse(&entry.code) {
        Ok(fc) => fc,
        Err(e) => return Some(format!("oracle: valid, ours: {e:?} ({e})")),
    };
    let mut problems = Vec::new();
    let sex = match fc.sex() {
        Sex::M => "M",
        Sex::F => "F",
    };
    if entry.sex.as_deref() != Some(sex) {
        problems.push(format!("sex: oracle {:?}, ours {sex}", entry.sex));
    }
    let ours = fc.birth_date(today);
    match entry.birth_date.as_deref().map(iso_date) {
        Some(Ok(expected)) if expected == ours => {}
        other => problems.push(format!("birth date: oracle {other:?}, ours {ours}")),
    }
    if entry.omocode != Some(fc.is_omocode()) {
        problems.push(format!(
            "omocode: oracle {:?}, ours {}",
            entry.omocode,
            fc.is_omocode()
        ));
    }
    if fc.as_str() != entry.code.trim().to_uppercase() {
        problems.push(format!("normalised to {fc}"));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

#[test]
fn agrees_with_python_codicefiscale_on_every_code() {
    let fixture = load();
    let today = iso_date(&fixture.oracle_today).expect("oracle_today is YYYY-MM-DD");

    let valid = fixture.codes.iter().filter(|e| e.valid).count();
    let invalid = fixture.codes.len() - valid;
    let omocodic = fixture
        .codes
        .iter()
        .filter(|e| e.omocode == Some(true))
        .count();
    assert_eq!((valid, invalid), (fixture.valid, fixture.invalid));
    assert!(valid >= 1000, "only {valid} valid codes in the fixture");
    assert!(
        invalid >= 1000,
        "only {invalid} invalid codes in the fixture"
    );
    assert!(
        omocodic >= 200,
        "only {omocodic} omocodic codes in the fixture"
    );

    let mut disagreements = Vec::new();
    for entry in &fixture.codes {
        let problem = if entry.valid {
            check_valid(entry, today)
        } else {
            FiscalCode::parse(&entry.code)
                .ok()
                .map(|fc| format!("oracle: invalid, ours: valid ({fc})"))
        };
        if let Some(problem) = problem {
            disagreements.push(format!("{:?} [{}]: {problem}", entry.code, entry.kind));
        }
    }

    assert!(
        disagreements.is_empty(),
        "{} of {} codes disagree with {}:\n{}",
        disagreements.len(),
        fixture.codes.len(),
        fixture.oracle,
        disagreements.join("\n")
    );
}
