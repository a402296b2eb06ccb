//! SMS texts: short, plain, in the GSM alphabet (its accented letters
//! included), so that one message of 160 characters carries the Italian
//! text. A family that asked in another language gets its translation
//! after the Italian (a concatenated SMS: two to four parts, more for the
//! scripts outside the GSM alphabet).

use crate::domain::language::{Lang, fill, tr};
use crate::domain::security_code::CODE_TTL_SECS;
use crate::domain::tenant::Tenant;

/// The longest municipality name an SMS carries whole.
const NAME_CHARS: usize = 50;

const CODE_TEXT: &str = "{code} è il codice di sicurezza per le iscrizioni scolastiche ({comune}). Vale {minutes} minuti. Non comunicarlo a nessuno.";

/// The security code, with who sends it and for how long it is valid.
pub fn security_code(tenant: &Tenant, code: &str, lang: Lang) -> String {
    let name: String = tenant.name.chars().take(NAME_CHARS).collect();
    let minutes = (CODE_TTL_SECS / 60).to_string();
    let args = [
        ("code", code),
        ("comune", name.as_str()),
        ("minutes", &minutes),
    ];
    let italian = fill(CODE_TEXT, &args);
    if lang == Lang::It {
        italian
    } else {
        format!("{italian}\n{}", tr(lang, CODE_TEXT, &args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(name: &str) -> Tenant {
        serde_json::from_value(serde_json::json!({
            "slug": "demo", "name": name, "contact_email": "a@b.it", "phone": "080",
            "services": ["refezione"]
        }))
        .expect("tenant")
    }

    #[test]
    fn the_code_sms_fits_one_message_and_names_the_comune() {
        let text = security_code(&tenant("Comune di Esempio"), "042917", Lang::It);
        assert!(text.starts_with("042917 "), "{text}");
        assert!(text.contains("Comune di Esempio"));
        assert!(text.contains("10 minuti"));
        assert!(
            text.chars().count() <= 160,
            "{} chars",
            text.chars().count()
        );
        let long = security_code(
            &tenant(&"Comune di San Giorgio ".repeat(10)),
            "000000",
            Lang::It,
        );
        assert!(
            long.chars().count() <= 160,
            "{} chars",
            long.chars().count()
        );
    }
}
