//! SMS texts: short, plain, in the GSM alphabet (its accented letters
//! included), so that one message of 160 characters carries them.

use crate::domain::security_code::CODE_TTL_SECS;
use crate::domain::tenant::Tenant;

/// The longest municipality name an SMS carries whole.
const NAME_CHARS: usize = 50;

/// The security code, with who sends it and for how long it is valid.
pub fn security_code(tenant: &Tenant, code: &str) -> String {
    let name: String = tenant.name.chars().take(NAME_CHARS).collect();
    format!(
        "{code} è il codice di sicurezza per le iscrizioni scolastiche ({name}). Vale {minutes} \
minuti. Non comunicarlo a nessuno.",
        minutes = CODE_TTL_SECS / 60,
    )
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
        let text = security_code(&tenant("Comune di Esempio"), "042917");
        assert!(text.starts_with("042917 "), "{text}");
        assert!(text.contains("Comune di Esempio"));
        assert!(text.contains("10 minuti"));
        assert!(
            text.chars().count() <= 160,
            "{} chars",
            text.chars().count()
        );
        let long = security_code(&tenant(&"Comune di San Giorgio ".repeat(10)), "000000");
        assert!(
            long.chars().count() <= 160,
            "{} chars",
            long.chars().count()
        );
    }
}
