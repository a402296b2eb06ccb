//! The App IO messages about an application's status: a subject and a
//! markdown body within App IO's limits (subject 10–120 characters, body
//! 80–10,000), Italian first and the family's language under it. Only
//! what the message needs: the pupil's first name, the service, the
//! status; never a fiscal code, a surname, a diet or an amount.

use crate::domain::application::{Application, Status};
use crate::domain::language::{Lang, fill, tr};
use crate::domain::tenant::Tenant;
use crate::ports::{IoMessage, MessageKind};

/// App IO's `MessageSubject`: 10 to 120 characters.
pub const SUBJECT_CHARS: std::ops::RangeInclusive<usize> = 10..=120;
/// App IO's `MessageBodyMarkdown`: 80 to 10,000 characters.
pub const MARKDOWN_CHARS: std::ops::RangeInclusive<usize> = 80..=10_000;

/// The kinds of mail whose status change also goes to the App IO.
pub fn owed_for(kind: MessageKind) -> bool {
    matches!(
        kind,
        MessageKind::Credentials
            | MessageKind::Decision
            | MessageKind::ChangesRequested
            | MessageKind::Waitlisted
            | MessageKind::PlaceAvailable
            | MessageKind::Withdrawal
    )
}

/// The citizen the App IO message goes to: the guardian, only when the
/// family proved that fiscal code with SPID/CIE (the session that created
/// the application), and only for a tenant with an App IO service.
pub fn recipient<'a>(tenant: &Tenant, a: &'a Application, kind: MessageKind) -> Option<&'a str> {
    tenant.app_io.as_ref()?;
    if !owed_for(kind) {
        return None;
    }
    a.owner
        .spid_fiscal_code
        .as_deref()
        .filter(|fc| !a.guardian_fiscal_code.is_empty() && *fc == a.guardian_fiscal_code)
}

/// Markdown's special characters escaped, so a name shows as written.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_{}[]()#+-.!<>|~".contains(c) {
            out.push('\\');
        }
        if !c.is_control() {
            out.push(c);
        }
    }
    out
}

/// Cut to at most `max` characters, on a character boundary.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// The subject, the sentence and the status line of a status change.
fn wording(
    kind: MessageKind,
    status: Status,
) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match kind {
        MessageKind::Credentials => (
            "Iscrizione inviata",
            "La domanda d'iscrizione di {first_name} al servizio «{service}» è stata inviata. L'ufficio la verificherà e ti comunicherà l'esito.",
            "Stato iscrizione: Inviata",
        ),
        MessageKind::Decision if status == Status::Confirmed => (
            "Iscrizione confermata",
            "L'iscrizione di {first_name} al servizio «{service}» è stata confermata: il servizio è attivo.",
            "Stato iscrizione: Confermata",
        ),
        MessageKind::Decision => (
            "Iscrizione respinta",
            "La domanda d'iscrizione di {first_name} al servizio «{service}» è stata respinta. La motivazione è nel portale e nell'email che ti abbiamo inviato.",
            "Stato iscrizione: Respinta",
        ),
        MessageKind::ChangesRequested => (
            "Richiesta di integrazione della domanda",
            "L'ufficio chiede di modificare o integrare la domanda d'iscrizione di {first_name} al servizio «{service}». Che cosa e fino a quando è scritto nel portale e nell'email che ti abbiamo inviato.",
            "Stato iscrizione: Da integrare",
        ),
        MessageKind::Waitlisted => (
            "Domanda in lista d'attesa",
            "La domanda d'iscrizione di {first_name} al servizio «{service}» è in lista d'attesa: i posti disponibili sono esauriti. Se un posto si libera, ti scriveremo.",
            "Stato iscrizione: In lista d'attesa",
        ),
        MessageKind::PlaceAvailable => (
            "Posto disponibile",
            "Si è liberato un posto: la domanda d'iscrizione di {first_name} al servizio «{service}» ora rientra nei posti disponibili. L'ufficio ti comunicherà la conferma.",
            "Stato iscrizione: Inviata",
        ),
        MessageKind::Withdrawal => (
            "Rinuncia registrata",
            "È stata registrata la rinuncia alla domanda d'iscrizione di {first_name} al servizio «{service}»: il posto è stato liberato.",
            "Stato iscrizione: Ritirata",
        ),
        _ => return None,
    })
}

const WHERE: &str = "Trovi i dettagli e i documenti nel portale delle iscrizioni del {comune}, in «Stato iscrizione».";

/// The App IO message of a status change, in Italian and (under it) in
/// the family's language. `None` for a kind App IO does not get.
pub fn status_message(
    tenant: &Tenant,
    a: &Application,
    service_name: &str,
    kind: MessageKind,
    fiscal_code: &str,
) -> Option<IoMessage> {
    let (subject, sentence, status) = wording(kind, a.status)?;
    let first_name = a
        .body
        .pupil
        .as_ref()
        .and_then(|p| p.first_name.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("l'alunno");
    let first_name = cut(first_name, 40);
    let service = cut(service_name, 60);
    let comune = cut(&tenant.name, 80);
    let block = |lang: Lang| {
        let args = [
            ("first_name", format!("**{}**", plain(&first_name))),
            ("service", plain(&service)),
            ("comune", plain(&comune)),
        ];
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        format!(
            "{}\n\n**{}**\n\n{}",
            tr(lang, sentence, &args),
            plain(&tr(lang, status, &[])),
            tr(lang, WHERE, &args)
        )
    };
    let mut markdown = block(Lang::It);
    let lang = a.body.language.unwrap_or_default();
    if lang != Lang::It {
        markdown.push_str(&format!("\n\n---\n\n{}", block(lang)));
    }
    let subject = cut(
        &fill(
            "{subject} – {service}",
            &[("subject", subject), ("service", &service)],
        ),
        *SUBJECT_CHARS.end(),
    );
    Some(IoMessage {
        fiscal_code: fiscal_code.to_owned(),
        subject,
        markdown: cut(&markdown, *MARKDOWN_CHARS.end()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::application::ApplicationBody;

    fn tenant(name: &str, io: bool) -> Tenant {
        let mut t: Tenant = serde_json::from_value(serde_json::json!({
            "slug": "demo", "name": name, "contact_email": "a@b.it", "phone": "080",
            "services": ["refezione"]
        }))
        .expect("tenant");
        if io {
            t.app_io = Some(crate::domain::tenant::AppIoService {
                service_id: "01EXAMPLE".into(),
            });
        }
        t
    }

    fn application(first_name: &str, lang: Option<Lang>, status: Status) -> Application {
        let body: ApplicationBody = serde_json::from_value(serde_json::json!({
            "pupil": { "first_name": first_name, "last_name": "Rossi",
                       "fiscal_code": "RSSMRA15E41A662Y" },
        }))
        .expect("body");
        let mut a: Application = serde_json::from_value(serde_json::json!({
            "id": "app-1", "window_id": "w-1", "kind": "new", "body": {}, "status": "submitted",
            "version": 1, "first_saved_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z", "owner": {},
            "pupil_fiscal_code": "RSSMRA15E41A662Y", "guardian_fiscal_code": "BNCNNA80A41A662F",
            "history": []
        }))
        .expect("application");
        a.body = ApplicationBody {
            language: lang,
            ..body
        };
        a.status = status;
        a
    }

    const KINDS: [MessageKind; 6] = [
        MessageKind::Credentials,
        MessageKind::Decision,
        MessageKind::ChangesRequested,
        MessageKind::Waitlisted,
        MessageKind::PlaceAvailable,
        MessageKind::Withdrawal,
    ];

    #[test]
    fn every_message_keeps_app_io_rules_in_every_language() {
        crate::domain::language::take_misses();
        for lang in Lang::ALL {
            for (name, comune, service) in [
                ("Maria", "Comune di Demo", "Refezione scolastica"),
                ("A", "X", "Y"),
                (
                    &*"Maria Antonietta ".repeat(20),
                    &*"Comune di San Giorgio ".repeat(20),
                    &*"Servizio ".repeat(40),
                ),
            ] {
                for status in [Status::Submitted, Status::Confirmed, Status::Rejected] {
                    for kind in KINDS {
                        let a = application(name, Some(lang), status);
                        let m = status_message(
                            &tenant(comune, true),
                            &a,
                            service,
                            kind,
                            "BNCNNA80A41A662F",
                        )
                        .expect("a message");
                        let s = m.subject.chars().count();
                        let b = m.markdown.chars().count();
                        assert!(SUBJECT_CHARS.contains(&s), "{s}: {}", m.subject);
                        assert!(MARKDOWN_CHARS.contains(&b), "{b}: {}", m.markdown);
                        assert!(!m.markdown.contains("Rossi") && !m.subject.contains("Rossi"));
                        assert!(!m.markdown.contains("RSSMRA") && !m.markdown.contains("BNCNNA"));
                        assert!(!m.subject.contains(name.trim()) || name.len() < 2);
                    }
                }
            }
        }
        assert_eq!(crate::domain::language::take_misses(), Vec::<String>::new());
    }

    #[test]
    fn the_family_language_follows_the_italian() {
        let a = application("Maria", Some(Lang::Uk), Status::Confirmed);
        let m = status_message(
            &tenant("Comune di Demo", true),
            &a,
            "Refezione scolastica",
            MessageKind::Decision,
            "X",
        )
        .expect("message");
        let (it, uk) = m.markdown.split_once("\n\n---\n\n").expect("two parts");
        assert!(it.contains("confermata") && it.contains("**Maria**"));
        assert!(!uk.contains("confermata") && uk.contains("**Maria**"));
    }

    #[test]
    fn only_a_guardian_proved_with_spid_of_a_comune_with_app_io() {
        let t = tenant("Comune di Demo", true);
        let mut a = application("Maria", None, Status::Submitted);
        assert_eq!(
            recipient(&t, &a, MessageKind::Credentials),
            None,
            "email only"
        );
        a.owner.spid_fiscal_code = Some("OTHER".into());
        assert_eq!(
            recipient(&t, &a, MessageKind::Credentials),
            None,
            "another person"
        );
        a.owner.spid_fiscal_code = Some(a.guardian_fiscal_code.clone());
        assert_eq!(
            recipient(&t, &a, MessageKind::Credentials),
            Some("BNCNNA80A41A662F")
        );
        assert_eq!(
            recipient(&t, &a, MessageKind::Password),
            None,
            "not a status change"
        );
        assert_eq!(recipient(&t, &a, MessageKind::Reminder), None);
        assert_eq!(
            recipient(&tenant("X", false), &a, MessageKind::Credentials),
            None
        );
    }

    #[test]
    fn names_cannot_inject_markdown() {
        let a = application("[x](http://evil)*", None, Status::Submitted);
        let m = status_message(
            &tenant("Comune", true),
            &a,
            "S",
            MessageKind::Credentials,
            "X",
        )
        .expect("message");
        assert!(
            m.markdown.contains("\\[x\\]\\(http://evil\\)\\*"),
            "{}",
            m.markdown
        );
    }
}
