//! The one error type of the system and its single mapping to the contract's
//! error body: a stable snake_case `code`, an Italian `message` for people and,
//! for validation errors, the offending `fields` as dotted paths.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::domain::language::{Lang, localize, tr};

/// One offending field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Dotted path into the request body, e.g. `guardian.phone`.
    pub field: String,
    /// Stable code for programs, e.g. `required`, `invalid`.
    pub code: &'static str,
    /// Italian text for people. Never echoes the submitted value.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// Everything that can go wrong, as the contract names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("tenant not found")]
    TenantNotFound,
    #[error("not found")]
    NotFound,
    #[error("route not found")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("body is not valid JSON")]
    InvalidJson,
    #[error("unknown field in body")]
    UnknownField(FieldError),
    #[error("body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("invalid email")]
    InvalidEmail(FieldError),
    #[error("invalid phone")]
    InvalidPhone(FieldError),
    #[error("invalid fields")]
    InvalidFields(Vec<FieldError>),
    #[error("incomplete")]
    Incomplete(Vec<FieldError>),
    #[error("rate limited")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("invalid code")]
    InvalidCode { attempts_left: u8 },
    #[error("code expired")]
    CodeExpired,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("invalid id token")]
    InvalidIdToken,
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: Option<u64> },
    #[error("window closed")]
    WindowClosed,
    /// The office's contacts, for the message.
    #[error("duplicate pupil")]
    DuplicatePupil(String),
    #[error("guardian mismatch")]
    GuardianMismatch,
    #[error("not editable")]
    NotEditable,
    #[error("version conflict")]
    VersionConflict,
    #[error("invalid transition")]
    InvalidTransition,
    /// Confirmation beyond the window's places.
    #[error("no places")]
    NoPlaces,
    #[error("not submitted")]
    NotSubmitted,
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("weak password")]
    WeakPassword(Vec<FieldError>),
    #[error("verified email required")]
    EmailRequired,
    /// Renewal blocked by unpaid balance. The text says how to pay: the
    /// comune's own top-up instructions and its office (never the amount
    /// or the pupil).
    #[error("payment arrears")]
    PaymentArrears { top_up: String, office: String },
    /// An uploaded file (a roster import) over its size or line limit.
    #[error("file too large")]
    FileTooLarge,
    /// A CSV route called with another content type.
    #[error("csv required")]
    CsvRequired,
    #[error("service unavailable")]
    Unavailable { retry_after_secs: u64 },
    /// An internal fault. The detail is for the logs only (never personal
    /// data), the client sees a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// `400 invalid_phone`: not a mobile number an SMS can reach.
    pub fn invalid_phone() -> Self {
        Error::InvalidPhone(FieldError::new(
            "phone",
            "invalid",
            "Inserisci un numero di cellulare valido (per un numero estero, con il prefisso \
internazionale, ad esempio +44…). I numeri di rete fissa non ricevono SMS.",
        ))
    }

    pub fn status(&self) -> u16 {
        match self {
            Error::TenantNotFound | Error::NotFound | Error::RouteNotFound => 404,
            Error::MethodNotAllowed => 405,
            Error::Unauthorized
            | Error::InvalidCode { .. }
            | Error::InvalidCredentials
            | Error::InvalidIdToken => 401,
            Error::Forbidden => 403,
            Error::InvalidJson
            | Error::UnknownField(_)
            | Error::InvalidEmail(_)
            | Error::InvalidPhone(_) => 400,
            Error::PayloadTooLarge | Error::FileTooLarge => 413,
            Error::UnsupportedMediaType | Error::CsvRequired => 415,
            Error::InvalidFields(_) | Error::Incomplete(_) => 422,
            Error::TooManyRequests { .. } | Error::TooManyAttempts { .. } => 429,
            Error::CodeExpired => 410,
            Error::WindowClosed
            | Error::DuplicatePupil(_)
            | Error::GuardianMismatch
            | Error::NotEditable
            | Error::NotSubmitted
            | Error::InvalidTransition
            | Error::NoPlaces
            | Error::PaymentArrears { .. } => 409,
            Error::VersionConflict => 412,
            Error::EmailRequired | Error::PasswordChangeRequired => 403,
            Error::WeakPassword(_) => 422,
            Error::Unavailable { .. } => 503,
            Error::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::TenantNotFound => "tenant_not_found",
            Error::NotFound | Error::RouteNotFound => "not_found",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::Unauthorized => "unauthorized",
            Error::Forbidden => "forbidden",
            Error::InvalidJson => "invalid_json",
            Error::UnknownField(_) => "unknown_field",
            Error::PayloadTooLarge | Error::FileTooLarge => "payload_too_large",
            Error::UnsupportedMediaType | Error::CsvRequired => "unsupported_media_type",
            Error::InvalidEmail(_) => "invalid_email",
            Error::InvalidPhone(_) => "invalid_phone",
            Error::InvalidFields(_) => "invalid_fields",
            Error::Incomplete(_) => "incomplete",
            Error::TooManyRequests { .. } => "too_many_requests",
            Error::InvalidCode { .. } => "invalid_code",
            Error::CodeExpired => "code_expired",
            Error::InvalidCredentials => "invalid_credentials",
            Error::InvalidIdToken => "invalid_id_token",
            Error::TooManyAttempts { .. } => "too_many_attempts",
            Error::WindowClosed => "window_closed",
            Error::DuplicatePupil(_) => "duplicate_pupil",
            Error::GuardianMismatch => "guardian_mismatch",
            Error::NotEditable => "not_editable",
            Error::NotSubmitted => "not_submitted",
            Error::InvalidTransition => "invalid_transition",
            Error::NoPlaces => "no_places",
            Error::VersionConflict => "version_conflict",
            Error::EmailRequired => "email_verification_required",
            Error::PaymentArrears { .. } => "payment_arrears",
            Error::PasswordChangeRequired => "password_change_required",
            Error::WeakPassword(_) => "weak_password",
            Error::Unavailable { .. } => "service_unavailable",
            Error::Internal(_) => "internal_error",
        }
    }

    /// The message in Italian.
    pub fn message(&self) -> String {
        self.message_in(Lang::It)
    }

    /// The message in `lang` (Italian where the catalogue lacks it).
    pub fn message_in(&self, lang: Lang) -> String {
        let t = |template: &str| tr(lang, template, &[]);
        match self {
            Error::TenantNotFound => t("Comune non trovato: controlla l'indirizzo."),
            Error::NotFound => t("Risorsa non trovata."),
            Error::RouteNotFound => t("Indirizzo non trovato."),
            Error::MethodNotAllowed => t("Metodo non consentito per questo indirizzo."),
            Error::Unauthorized => t("Accesso non valido o scaduto: effettua di nuovo l'accesso."),
            Error::Forbidden => t("Non hai i permessi per questa operazione."),
            Error::InvalidJson => t("Il corpo della richiesta non è un JSON valido."),
            Error::UnknownField(f) => tr(
                lang,
                "Il campo «{field}» non è previsto.",
                &[("field", &f.field)],
            ),
            Error::PayloadTooLarge => {
                t("La richiesta supera la dimensione massima consentita (64 KiB).")
            }
            Error::UnsupportedMediaType => {
                t("La richiesta deve essere in formato JSON (Content-Type: application/json).")
            }
            Error::FileTooLarge => t("Il file supera il limite di 5 MiB o di 10.000 righe: \
dividilo in più file e caricali uno alla volta."),
            Error::CsvRequired => t(
                "Il file deve essere in formato CSV (Content-Type: text/csv), codificato in UTF-8.",
            ),
            Error::PaymentArrears { top_up, office } => {
                let how = tr(
                    lang,
                    "L'iscrizione al servizio è bloccata da pagamenti insoluti. Dopo il \
pagamento potrai rinnovare l'iscrizione. Per informazioni contatta l'ufficio scuola del {office}.",
                    &[("office", office)],
                );
                if top_up.is_empty() {
                    how
                } else {
                    // The comune's own instructions, as it wrote them.
                    format!("{how} {top_up}")
                }
            }
            Error::InvalidEmail(_) => t("Indirizzo email non valido."),
            Error::InvalidPhone(_) => t("Numero di cellulare non valido."),
            Error::InvalidFields(_) => t("Alcuni dati non sono validi: correggi i campi indicati."),
            Error::Incomplete(_) => t("Domanda incompleta: compila i campi indicati."),
            Error::TooManyRequests { retry_after_secs } => tr(
                lang,
                "Troppe richieste: riprova tra {duration}.",
                &[("duration", &duration(lang, *retry_after_secs))],
            ),
            Error::InvalidCode { attempts_left: 0 } => {
                t("Codice di sicurezza errato. Non hai più tentativi: richiedi un nuovo codice.")
            }
            Error::InvalidCode { attempts_left: 1 } => {
                t("Codice di sicurezza errato. Ti resta un solo tentativo.")
            }
            Error::InvalidCode { attempts_left } => tr(
                lang,
                "Codice di sicurezza errato. Tentativi rimasti: {n}.",
                &[("n", &attempts_left.to_string())],
            ),
            Error::CodeExpired => {
                t("Il codice di sicurezza è scaduto o è già stato usato: richiedine uno nuovo.")
            }
            Error::InvalidCredentials => t("Codice fiscale o password non corretti."),
            Error::InvalidIdToken => t("Accesso con SPID o CIE non riuscito: riprova ad accedere."),
            Error::TooManyAttempts { .. } => {
                t("Troppi tentativi errati: il codice non è più valido, richiedine uno nuovo.")
            }
            Error::WindowClosed => t(
                "Il periodo di iscrizione è chiuso: non è più possibile inviare o modificare domande.",
            ),
            Error::DuplicatePupil(office) => tr(
                lang,
                "Esiste già una domanda per questo alunno in questo periodo di iscrizione. Se \
l'hai presentata tu, accedi con il codice fiscale dell'alunno e la password che ti abbiamo inviato \
via email; altrimenti contatta l'ufficio scuola del {office}.",
                &[("office", office)],
            ),
            Error::GuardianMismatch => t(
                "Tutte le domande dei fratelli presentate in questa sessione \
devono indicare lo stesso genitore o tutore.",
            ),
            Error::NotEditable => t(
                "La domanda non è più modificabile: è già stata confermata, respinta o è scaduta.",
            ),
            Error::VersionConflict => t(
                "La domanda è stata modificata nel frattempo (ad esempio in \
un'altra scheda): ricarica la pagina per vedere la versione aggiornata.",
            ),
            Error::NoPlaces => t(
                "Posti esauriti: la domanda è oltre i posti disponibili. Si può \
confermare quando un posto si libera, oppure spostarla in lista d'attesa.",
            ),
            Error::InvalidTransition => {
                t("Operazione non consentita nello stato attuale della domanda.")
            }
            Error::NotSubmitted => t("La domanda non è ancora stata inviata: i documenti sono \
disponibili dopo «Invia iscrizione»."),
            Error::PasswordChangeRequired => t(
                "Hai effettuato l'accesso con una password temporanea: scegline una personale per continuare.",
            ),
            Error::WeakPassword(_) => {
                t("La nuova password non è abbastanza sicura: usa almeno 10 \
caratteri, con lettere e numeri, senza il codice fiscale.")
            }
            Error::EmailRequired => {
                t("Per presentare una domanda devi prima verificare il tuo indirizzo email.")
            }
            Error::Unavailable { .. } => {
                t("Il servizio è momentaneamente non disponibile: riprova tra poco.")
            }
            Error::Internal(_) => t("Si è verificato un errore imprevisto. Riprova più tardi."),
        }
    }

    /// Seconds for the `Retry-After` header, where the error has one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::TooManyRequests { retry_after_secs }
            | Error::Unavailable { retry_after_secs } => Some(*retry_after_secs),
            Error::TooManyAttempts { retry_after_secs } => *retry_after_secs,
            _ => None,
        }
    }

    pub fn fields(&self) -> Option<&[FieldError]> {
        match self {
            Error::InvalidFields(f) | Error::Incomplete(f) | Error::WeakPassword(f) => Some(f),
            Error::UnknownField(f) | Error::InvalidEmail(f) | Error::InvalidPhone(f) => {
                Some(std::slice::from_ref(f))
            }
            _ => None,
        }
    }

    /// The contract's error body: `{ "error": { code, message, fields?, … } }`.
    pub fn to_body(&self) -> Value {
        self.to_body_in(Lang::It)
    }

    /// The error body with the messages (the error's and each field's) in
    /// `lang`.
    pub fn to_body_in(&self, lang: Lang) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code()));
        error.insert("message".into(), json!(self.message_in(lang)));
        if let Some(fields) = self.fields() {
            let fields: Vec<FieldError> = fields
                .iter()
                .map(|f| FieldError {
                    message: localize(lang, &f.message),
                    ..f.clone()
                })
                .collect();
            error.insert("fields".into(), json!(fields));
        }
        match self {
            Error::InvalidCode { attempts_left } => {
                error.insert("attempts_left".into(), json!(attempts_left));
            }
            _ => {
                if let Some(secs) = self.retry_after() {
                    error.insert("retry_after".into(), json!(secs));
                }
            }
        }
        json!({ "error": error })
    }
}

/// "45 secondi", "1 minuto", "12 minuti": for messages about waiting.
pub fn italian_duration(secs: u64) -> String {
    duration(Lang::It, secs)
}

/// A wait in `lang`: seconds under a minute, else whole minutes up.
pub fn duration(lang: Lang, secs: u64) -> String {
    match secs {
        0 | 1 => tr(lang, "1 secondo", &[]),
        2..=59 => tr(lang, "{n} secondi", &[("n", &secs.to_string())]),
        _ => {
            let minutes = secs.div_ceil(60);
            if minutes == 1 {
                tr(lang, "1 minuto", &[])
            } else {
                tr(lang, "{n} minuti", &[("n", &minutes.to_string())])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_contract_shape() {
        let err = Error::InvalidFields(vec![FieldError::new(
            "guardian.phone",
            "required",
            "Il numero di cellulare è obbligatorio.",
        )]);
        assert_eq!(err.status(), 422);
        let body = err.to_body();
        assert_eq!(body["error"]["code"], "invalid_fields");
        assert_eq!(body["error"]["fields"][0]["field"], "guardian.phone");
        assert_eq!(body["error"]["fields"][0]["code"], "required");
    }

    #[test]
    fn invalid_code_carries_attempts_left() {
        let body = Error::InvalidCode { attempts_left: 3 }.to_body();
        assert_eq!(body["error"]["attempts_left"], 3);
        assert_eq!(body["error"]["code"], "invalid_code");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains('3')
        );
    }

    #[test]
    fn every_error_has_a_stable_code_and_an_italian_message() {
        let all = [
            Error::TenantNotFound,
            Error::NotFound,
            Error::Unauthorized,
            Error::Forbidden,
            Error::InvalidJson,
            Error::PayloadTooLarge,
            Error::UnsupportedMediaType,
            Error::TooManyRequests {
                retry_after_secs: 42,
            },
            Error::InvalidCode { attempts_left: 0 },
            Error::CodeExpired,
            Error::TooManyAttempts {
                retry_after_secs: None,
            },
            Error::Unavailable {
                retry_after_secs: 2,
            },
            Error::Internal("boom: table gone".into()),
        ];
        for e in all {
            let code = e.code();
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            let msg = e.message();
            assert!(!msg.is_empty());
            assert!(!msg.contains("boom"), "internal detail leaked: {msg}");
        }
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(italian_duration(1), "1 secondo");
        assert_eq!(italian_duration(45), "45 secondi");
        assert_eq!(italian_duration(60), "1 minuto");
        assert_eq!(italian_duration(61), "2 minuti");
    }

    #[test]
    fn retry_after_is_exposed() {
        let e = Error::TooManyRequests {
            retry_after_secs: 30,
        };
        assert_eq!(e.retry_after(), Some(30));
        assert_eq!(e.to_body()["error"]["retry_after"], 30);
        assert_eq!(Error::NotFound.retry_after(), None);
    }
}
