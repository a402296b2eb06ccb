//! Sample data shared by the end-to-end tests and the benchmarks: valid
//! fiscal codes, a complete application body as the parent's form sends
//! it, and the temporary password as the mail states it.

use serde_json::{Value, json};

/// A valid fiscal code: six random letters, then `rest` (9 characters:
/// year, month letter, day, birthplace), then the check character that fits.
pub fn fiscal_code(rest: &str) -> Result<String, String> {
    let id = shared::ops::random_id("x").map_err(|e| e.to_string())?;
    let letters: String = id
        .trim_start_matches("x-")
        .bytes()
        .take(6)
        .map(|b| char::from(b'A' + (b % 26)))
        .collect();
    let first15 = format!("{letters}{rest}");
    ('A'..='Z')
        .map(|c| format!("{first15}{c}"))
        .find(|c| shared::domain::fiscal_code::FiscalCode::parse(c).is_ok())
        .ok_or_else(|| "no check character fits".to_string())
}

/// A girl born on 2015-05-01 in Corato.
pub fn pupil_code() -> Result<String, String> {
    fiscal_code("15E41A662")
}

/// A woman born on 1980-01-01 in Corato.
pub fn guardian_code() -> Result<String, String> {
    fiscal_code("80A41A662")
}

/// A complete application body.
pub fn application_body(window_id: &str, pupil: &str, guardian: &str, email: &str) -> Value {
    json!({
        "window_id": window_id,
        "kind": "new",
        "pupil": { "fiscal_code": pupil, "first_name": "Maria", "last_name": "Rossi",
                   "birth_date": "2015-05-01", "school": "Primaria G. Mazzini", "grade": "3", "section": "B" },
        "guardian": { "fiscal_code": guardian, "first_name": "Anna", "last_name": "Bianchi",
                      "relationship": "madre", "email": email, "phone": "+393331234567",
                      "address": { "street": "Via Roma 1", "city": "Corato", "postal_code": "70033", "province": "BA" } },
        "service": { "diet": { "kind": "none", "notes": "" }, "days": ["mon", "tue", "wed", "thu", "fri"] },
        "isee": null,
        "declarations": { "privacy": true, "regulation": true, "truthfulness": true }
    })
}

/// The temporary password in a mail's text (its "Password: …" line).
pub fn password_in(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Password: "))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_valid() {
        for code in [pupil_code(), guardian_code()] {
            let code = code.expect("a code");
            assert!(
                shared::domain::fiscal_code::FiscalCode::parse(&code).is_ok(),
                "{code}"
            );
        }
        assert_eq!(
            password_in("Gentile genitore,\n  Password: ab3-Xy9\nCordiali saluti").as_deref(),
            Some("ab3-Xy9")
        );
        assert_eq!(password_in("nessuna password"), None);
    }
}
