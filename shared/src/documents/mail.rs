//! Mail texts, plain text and HTML, with the tenant's name and contacts.
//! Italian first; when the family chose another language of the portal,
//! the same text in that language follows, under the Italian one (the
//! catalogues of `domain::language`). Subjects never carry personal data.

use crate::domain::language::{Lang, fill, tr};
use crate::domain::security_code::CODE_TTL_SECS;
use crate::domain::services::ServiceView;
use crate::domain::tenant::Tenant;
use crate::domain::values::Email;
use crate::domain::window::Service;
use crate::ports::{Mail, MailAttachment};

/// Escape text for HTML.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// How a paragraph shows in the HTML part.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    /// The security code: large, spaced.
    Code,
    /// The temporary password: monospace.
    Secret,
    /// The status line: larger.
    Status,
    /// The office's own words: quoted as written, never translated.
    Verbatim,
}

/// One paragraph: an Italian template and the values of its placeholders.
struct Para {
    template: &'static str,
    args: Vec<(&'static str, String)>,
    style: Style,
}

fn para(template: &'static str, args: &[(&'static str, &str)]) -> Para {
    Para {
        template,
        args: args.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        style: Style::Plain,
    }
}

fn styled(style: Style, template: &'static str, args: &[(&'static str, &str)]) -> Para {
    Para {
        style,
        ..para(template, args)
    }
}

impl Para {
    fn render(&self, lang: Lang) -> String {
        let args: Vec<(&str, &str)> = self.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if matches!(self.style, Style::Verbatim | Style::Code) {
            fill(self.template, &args)
        } else {
            tr(lang, self.template, &args)
        }
    }
}

/// A mail to a family or a school: greeting, paragraphs, signature.
struct Letter<'a> {
    tenant: &'a Tenant,
    greeting: &'static str,
    paragraphs: Vec<Para>,
}

impl Letter<'_> {
    fn block_text(&self, lang: Lang) -> String {
        let mut out = tr(lang, self.greeting, &[]);
        for p in &self.paragraphs {
            out.push_str("\n\n");
            out.push_str(&p.render(lang));
        }
        out
    }

    fn block_html(&self, lang: Lang) -> String {
        let mut out = format!("<p>{}</p>", escape_html(&tr(lang, self.greeting, &[])));
        for p in &self.paragraphs {
            let text = escape_html(&p.render(lang));
            let style = match p.style {
                Style::Plain => "",
                Style::Code => {
                    " style=\"font-size: 2em; font-weight: 700; letter-spacing: 0.2em;\""
                }
                Style::Secret => " style=\"font-size: 1.4em; font-family: monospace;\"",
                Style::Status => " style=\"font-size: 1.2em; font-weight: 600;\"",
                Style::Verbatim => " style=\"font-style: italic;\"",
            };
            out.push_str(&format!("<p{style}>{text}</p>"));
        }
        out
    }

    fn signature(&self, lang: Lang) -> [String; 3] {
        let t = self.tenant;
        [
            t.name.clone(),
            tr(lang, "Ufficio servizi scolastici", &[]),
            tr(
                lang,
                "Email: {email} · Telefono: {phone}",
                &[("email", t.contact_email.as_str()), ("phone", &t.phone)],
            ),
        ]
    }

    /// The mail: Italian, then `lang`'s text under it (unless Italian).
    fn mail(
        &self,
        to: &Email,
        subject: String,
        lang: Lang,
        attachments: Vec<MailAttachment>,
    ) -> Mail {
        let translated = (lang != Lang::It).then_some(lang);
        let mut text = self.block_text(Lang::It);
        if let Some(l) = translated {
            text.push_str(&format!("\n\n——— {} ———\n\n", l.name()));
            text.push_str(&self.block_text(l));
        }
        text.push_str("\n\n");
        text.push_str(&self.signature(Lang::It).join("\n"));
        text.push('\n');
        let name = escape_html(&self.tenant.name);
        let mut body = self.block_html(Lang::It);
        if let Some(l) = translated {
            body.push_str(&format!(
                "<hr><div lang=\"{code}\" dir=\"{dir}\">{block}</div>",
                code = l.code(),
                dir = if l.is_rtl() { "rtl" } else { "ltr" },
                block = self.block_html(l),
            ));
        }
        let signature: Vec<String> = self
            .signature(Lang::It)
            .iter()
            .map(|l| escape_html(l))
            .collect();
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"it\"><head><meta charset=\"utf-8\"><title>{name}</title></head>\
<body style=\"font-family: 'Titillium Web', Arial, sans-serif; color: #1a1a1a; max-width: 640px;\">\
<p style=\"font-size: 1.1em; font-weight: 600; color: #0066cc;\">{name}</p>{body}\
<hr><p style=\"font-size: 0.9em; color: #5c6f82;\">{signature}</p></body></html>",
            signature = signature.join("<br>"),
        );
        Mail {
            to: vec![to.to_string()],
            subject,
            text,
            html,
            attachments,
        }
    }
}

const PARENT: &str = "Gentile genitore,";

fn family_letter(tenant: &Tenant, paragraphs: Vec<Para>) -> Letter<'_> {
    Letter {
        tenant,
        greeting: PARENT,
        paragraphs,
    }
}

/// The subject: Italian, then (for a family that chose another language)
/// its translation, then the comune.
fn subject(
    lang: Lang,
    template: &'static str,
    tenant: &Tenant,
    args: &[(&'static str, &str)],
) -> String {
    let italian = fill(template, args);
    if lang == Lang::It {
        format!("{italian} – {}", tenant.name)
    } else {
        format!("{italian} · {} – {}", tr(lang, template, args), tenant.name)
    }
}

/// The security code message ("Codice di sicurezza"), in the language of
/// the request that asked for it under the Italian text.
pub fn security_code(tenant: &Tenant, to: &Email, code: &str, lang: Lang) -> Mail {
    let minutes = (CODE_TTL_SECS / 60).to_string();
    family_letter(
        tenant,
        vec![
            para(
                "ecco il codice di sicurezza che hai richiesto per le iscrizioni ai servizi scolastici ({comune}):",
                &[("comune", &tenant.name)],
            ),
            styled(Style::Code, "{code}", &[("code", code)]),
            para(
                "Inseriscilo nella pagina da cui lo hai richiesto. Il codice è valido per {minutes} minuti e può essere usato una sola volta.",
                &[("minutes", &minutes)],
            ),
            para(
                "Se non hai richiesto tu questo codice, ignora questo messaggio: senza il codice nessuno può accedere a nome tuo.",
                &[],
            ),
            para(
                "Questo è un messaggio automatico: per informazioni scrivi all'ufficio ai recapiti qui sotto.",
                &[],
            ),
        ],
    )
    .mail(
        to,
        subject(lang, "Codice di sicurezza per le iscrizioni scolastiche", tenant, &[]),
        lang,
        Vec::new(),
    )
}

/// The temporary password mailed on the first draft. The subject carries no
/// personal data; the body names the pupil so the parent knows which child
/// the password is for.
pub fn temporary_password(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    password: &str,
    lang: Lang,
) -> Mail {
    family_letter(
        tenant,
        vec![
            para(
                "la domanda d'iscrizione di {pupil} è stata salvata come bozza. Attenzione: una bozza non è un'iscrizione; per iscrivere l'alunno devi completare la domanda e premere «Invia iscrizione» entro la chiusura del periodo di iscrizione.",
                &[("pupil", pupil_name)],
            ),
            para(
                "Per riprendere la domanda in qualsiasi momento accedi con il codice fiscale dell'alunno e questa password temporanea:",
                &[],
            ),
            styled(Style::Secret, "Password: {password}", &[("password", password)]),
            para(
                "Al primo accesso ti verrà chiesto di sceglierne una personale (almeno 10 caratteri, con lettere e numeri).",
                &[],
            ),
            para(
                "Se non hai compilato tu questa domanda, scrivi subito all'ufficio ai recapiti qui sotto.",
                &[],
            ),
        ],
    )
    .mail(
        to,
        subject(lang, "Domanda d'iscrizione salvata: la tua password", tenant, &[]),
        lang,
        Vec::new(),
    )
}

/// The credentials letter, mailed on submission with the PDF attached.
pub fn credentials_letter(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: &str,
    pdf: Vec<u8>,
    lang: Lang,
) -> Mail {
    let attached = if service.service == Service::Refezione {
        "In allegato trovi la lettera credenziali, con le istruzioni per ricaricare il credito e disdire i pasti. L'ufficio verificherà la domanda e ti comunicherà l'esito via email; puoi seguirne lo stato dal portale in «Stato iscrizione»."
    } else {
        "In allegato trovi la lettera credenziali, con il codice utente e le istruzioni per i pagamenti. L'ufficio verificherà la domanda e ti comunicherà l'esito via email; puoi seguirne lo stato dal portale in «Stato iscrizione»."
    };
    family_letter(
        tenant,
        vec![
            para(
                "la domanda d'iscrizione di {pupil} al servizio «{service}» è stata inviata correttamente.",
                &[("pupil", pupil_name), ("service", &service.name)],
            ),
            styled(
                Style::Status,
                "Il codice utente assegnato è: {user_code}",
                &[("user_code", user_code)],
            ),
            para(attached, &[]),
        ],
    )
    .mail(
        to,
        subject(lang, "Iscrizione inviata: lettera credenziali", tenant, &[]),
        lang,
        vec![MailAttachment {
            filename: "lettera-credenziali.pdf".into(),
            content_type: "application/pdf".into(),
            data: pdf,
        }],
    )
}

/// The one reminder for a draft in a window that closes within 48 hours.
pub fn draft_reminder(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service_name: &str,
    closes: &str,
    lang: Lang,
) -> Mail {
    family_letter(
        tenant,
        vec![
            para(
                "la domanda d'iscrizione di {pupil} al servizio «{service}» è ancora una bozza. Una bozza non è un'iscrizione: senza l'invio l'alunno non risulta iscritto.",
                &[("pupil", pupil_name), ("service", service_name)],
            ),
            para(
                "Il periodo di iscrizione chiude il {closes}. Accedi al portale, controlla il riepilogo e premi «Invia iscrizione».",
                &[("closes", closes)],
            ),
        ],
    )
    .mail(
        to,
        subject(lang, "Promemoria: domanda d'iscrizione non ancora inviata", tenant, &[]),
        lang,
        Vec::new(),
    )
}

/// The office's decision, mailed to the guardian.
#[allow(clippy::too_many_arguments)]
pub fn decision(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: &str,
    confirmed: bool,
    reason: Option<&str>,
    lang: Lang,
) -> Mail {
    let (subject_template, status) = if confirmed {
        ("Iscrizione confermata", "Stato iscrizione: Confermata")
    } else {
        ("Iscrizione respinta", "Stato iscrizione: Respinta")
    };
    let next_steps = if confirmed && service.service == Service::Refezione {
        "L'iscrizione è attiva. Conserva la lettera credenziali: il codice utente serve per ricaricare il credito e disdire i pasti."
    } else if confirmed {
        "L'iscrizione è attiva. Conserva la lettera credenziali: il codice utente serve per i pagamenti e per ogni comunicazione con l'ufficio."
    } else {
        "Per chiarimenti o per presentare una nuova domanda, se il periodo di iscrizione è ancora aperto, contatta l'ufficio ai recapiti qui sotto."
    };
    let mut paragraphs = vec![
        para(
            "l'ufficio ha esaminato la domanda d'iscrizione di {pupil} al servizio «{service}» (codice utente {user_code}).",
            &[
                ("pupil", pupil_name),
                ("service", &service.name),
                ("user_code", user_code),
            ],
        ),
        styled(Style::Status, status, &[]),
    ];
    if let Some(r) = reason {
        paragraphs.push(para("Motivazione dell'ufficio:", &[]));
        paragraphs.push(styled(Style::Verbatim, "{reason}", &[("reason", r)]));
    }
    paragraphs.push(para(next_steps, &[]));
    family_letter(tenant, paragraphs).mail(
        to,
        subject(lang, subject_template, tenant, &[]),
        lang,
        Vec::new(),
    )
}

/// The first paragraph's subject: the application, named by pupil,
/// service and (once assigned) user code.
fn about(
    template_with_code: &'static str,
    template: &'static str,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
    extra: &[(&'static str, &str)],
) -> Para {
    let mut args = vec![("pupil", pupil_name), ("service", service.name.as_str())];
    args.extend_from_slice(extra);
    match user_code {
        Some(code) => {
            args.push(("user_code", code));
            para(template_with_code, &args)
        }
        None => para(template, &args),
    }
}

/// The withdrawal ("rinuncia"), confirmed to the family.
pub fn withdrawal(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
    lang: Lang,
) -> Mail {
    family_letter(
        tenant,
        vec![
            about(
                "è stata registrata la rinuncia alla domanda d'iscrizione di {pupil} al servizio «{service}» (codice utente {user_code}).",
                "è stata registrata la rinuncia alla domanda d'iscrizione di {pupil} al servizio «{service}».",
                pupil_name,
                service,
                user_code,
                &[],
            ),
            styled(Style::Status, "Stato iscrizione: Ritirata", &[]),
            para(
                "Il posto è stato liberato. Se è stato un errore, o per iscrivere di nuovo l'alunno mentre il periodo di iscrizione è aperto, presenta una nuova domanda dal portale o contatta l'ufficio ai recapiti qui sotto.",
                &[],
            ),
        ],
    )
    .mail(to, subject(lang, "Rinuncia registrata", tenant, &[]), lang, Vec::new())
}

/// A place freed and the application came within the places.
pub fn place_available(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
    lang: Lang,
) -> Mail {
    family_letter(
        tenant,
        vec![
            about(
                "si è liberato un posto: la domanda d'iscrizione di {pupil} al servizio «{service}» (codice utente {user_code}) ora rientra nei posti disponibili.",
                "si è liberato un posto: la domanda d'iscrizione di {pupil} al servizio «{service}» ora rientra nei posti disponibili.",
                pupil_name,
                service,
                user_code,
                &[],
            ),
            para(
                "L'ufficio la verificherà e ti comunicherà la conferma via email; puoi seguirne lo stato dal portale in «Stato iscrizione». Se non ti serve più, puoi rinunciare dal portale: il posto passerà alla famiglia successiva.",
                &[],
            ),
        ],
    )
    .mail(to, subject(lang, "Posto disponibile", tenant, &[]), lang, Vec::new())
}

/// The office moved the application to the waiting list.
pub fn waitlisted(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
    lang: Lang,
) -> Mail {
    family_letter(
        tenant,
        vec![
            about(
                "La domanda d'iscrizione di {pupil} al servizio «{service}» (codice utente {user_code}) è in lista d'attesa: i posti disponibili sono esauriti.",
                "La domanda d'iscrizione di {pupil} al servizio «{service}» è in lista d'attesa: i posti disponibili sono esauriti.",
                pupil_name,
                service,
                user_code,
                &[],
            ),
            styled(Style::Status, "Stato iscrizione: In lista d'attesa", &[]),
            para(
                "Se un posto si libera e la domanda rientra nei posti, ti scriveremo. La posizione in graduatoria è nel portale, in «Stato iscrizione».",
                &[],
            ),
        ],
    )
    .mail(to, subject(lang, "Domanda in lista d'attesa", tenant, &[]), lang, Vec::new())
}

/// The office corrected the declared ranking criteria.
pub fn criteria_corrected(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
    points: &u32,
    lang: Lang,
) -> Mail {
    let points = points.to_string();
    family_letter(
        tenant,
        vec![
            about(
                "l'ufficio ha verificato i criteri dichiarati per la domanda d'iscrizione di {pupil} al servizio «{service}» (codice utente {user_code}) e li ha corretti: ora valgono {points} punti.",
                "l'ufficio ha verificato i criteri dichiarati per la domanda d'iscrizione di {pupil} al servizio «{service}» e li ha corretti: ora valgono {points} punti.",
                pupil_name,
                service,
                user_code,
                &[("points", &points)],
            ),
            para(
                "La posizione in graduatoria aggiornata è nel portale, in «Stato iscrizione». Per chiarimenti contatta l'ufficio ai recapiti qui sotto.",
                &[],
            ),
        ],
    )
    .mail(to, subject(lang, "Criteri della graduatoria corretti", tenant, &[]), lang, Vec::new())
}

/// The office asks the family to change the application (a missing or
/// unreadable document), with its message and the due time.
#[allow(clippy::too_many_arguments)]
pub fn changes_requested(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
    message: &str,
    due: &str,
    lang: Lang,
) -> Mail {
    family_letter(
        tenant,
        vec![
            about(
                "l'ufficio ha esaminato la domanda d'iscrizione di {pupil} al servizio «{service}» (codice utente {user_code}) e chiede di modificarla o integrarla:",
                "l'ufficio ha esaminato la domanda d'iscrizione di {pupil} al servizio «{service}» e chiede di modificarla o integrarla:",
                pupil_name,
                service,
                user_code,
                &[],
            ),
            styled(Style::Verbatim, "«{message}»", &[("message", message.trim())]),
            para(
                "Puoi modificare la domanda e inviarla di nuovo dal portale, in «Stato iscrizione», entro il {due}, anche se il periodo di iscrizione è chiuso. Il codice utente e la posizione restano gli stessi. Dopo quella data la domanda torna all'ufficio così com'è.",
                &[("due", due)],
            ),
            styled(Style::Status, "Stato iscrizione: Da integrare", &[]),
        ],
    )
    .mail(
        to,
        subject(lang, "Richiesta di integrazione della domanda", tenant, &[]),
        lang,
        Vec::new(),
    )
}

/// The one reminder, 48 hours before the due time of a request for
/// changes still unanswered.
pub fn changes_reminder(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
    due: &str,
    lang: Lang,
) -> Mail {
    family_letter(
        tenant,
        vec![
            about(
                "ti ricordiamo che l'ufficio attende le modifiche richieste per la domanda d'iscrizione di {pupil} al servizio «{service}» (codice utente {user_code}).",
                "ti ricordiamo che l'ufficio attende le modifiche richieste per la domanda d'iscrizione di {pupil} al servizio «{service}».",
                pupil_name,
                service,
                user_code,
                &[],
            ),
            para(
                "Puoi modificare la domanda e inviarla di nuovo dal portale, in «Stato iscrizione», entro il {due}. Dopo quella data la domanda torna all'ufficio così com'è.",
                &[("due", due)],
            ),
        ],
    )
    .mail(
        to,
        subject(lang, "Promemoria: integrazione della domanda entro il {due}",
            tenant,
            &[("due", due)],
        ),
        lang,
        Vec::new(),
    )
}

/// A school's weekly list of its confirmed pupils: one CSV per service.
/// Schools get Italian only.
pub fn school_list(
    tenant: &Tenant,
    to: &Email,
    school: &str,
    week: &str,
    lists: Vec<MailAttachment>,
) -> Mail {
    let files = lists
        .iter()
        .map(|l| l.filename.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let body = if lists.is_empty() {
        para(
            "questa settimana non ci sono alunni della scuola con un'iscrizione confermata ai servizi del Comune.",
            &[],
        )
    } else {
        para(
            "in allegato l'elenco aggiornato degli alunni della scuola con un'iscrizione confermata, un file CSV per servizio ({files}). Contiene dati personali: conservalo con cura e non inoltrarlo fuori dalla scuola.",
            &[("files", &files)],
        )
    };
    Letter {
        tenant,
        greeting: "Gentile segreteria,",
        paragraphs: vec![para("Settimana {week}.", &[("week", week)]), body],
    }
    .mail(
        to,
        subject(
            Lang::It,
            "Elenco settimanale degli iscritti ai servizi – {school}",
            tenant,
            &[("school", school)],
        ),
        Lang::It,
        lists,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::TenantSlug;
    use crate::domain::window::Service;

    fn tenant() -> Tenant {
        Tenant {
            slug: TenantSlug::parse("demo").expect("slug"),
            name: "Comune di Esempio <&>".into(),
            contact_email: Email::parse("scuola@comune.example.it").expect("email"),
            phone: "+39 080 0000000".into(),
            services: vec![Service::Refezione],
            arrears_tolerance_cents: 0,
            fee_bands: Vec::new(),
            information: Default::default(),
            staff_auth: None,
            oidc: None,
            service_settings: Default::default(),
            require_verified_phone: false,
            sms_per_hour: 10,
            code_mails_per_hour: 100,
            schools: Vec::new(),
            retention_years: 5,
            app_io: None,
        }
    }

    #[test]
    fn security_code_mail_is_in_italian_and_carries_the_code() {
        let to = Email::parse("anna@example.it").expect("email");
        let m = security_code(&tenant(), &to, "042137", Lang::It);
        assert!(m.subject.contains("Codice di sicurezza"));
        assert!(!m.subject.contains("042137"));
        assert!(!m.subject.contains("anna"));
        assert!(m.text.contains("042137"));
        assert!(m.text.contains("è valido per 10 minuti"));
        assert!(m.text.contains("scuola@comune.example.it"));
        assert!(m.html.contains("042137"));
        assert!(m.html.contains("Comune di Esempio &lt;&amp;&gt;"));
        assert_eq!(m.to, vec!["anna@example.it".to_string()]);
    }

    #[test]
    fn every_family_mail_reads_in_every_language_under_the_italian() {
        use crate::domain::language::take_misses;
        let to = Email::parse("anna@example.it").expect("email");
        let t = tenant();
        let service = t.service(Service::Refezione);
        take_misses();
        for lang in Lang::TRANSLATED {
            let mails = [
                security_code(&t, &to, "042137", lang),
                temporary_password(&t, &to, "Maria Rossi", "ab3-Xy9", lang),
                credentials_letter(
                    &t,
                    &to,
                    "Maria Rossi",
                    &service,
                    "12345678",
                    Vec::new(),
                    lang,
                ),
                draft_reminder(
                    &t,
                    &to,
                    "Maria Rossi",
                    "Refezione",
                    "01/06/2026 12:00 (UTC)",
                    lang,
                ),
                decision(
                    &t,
                    &to,
                    "Maria Rossi",
                    &service,
                    "12345678",
                    true,
                    None,
                    lang,
                ),
                decision(
                    &t,
                    &to,
                    "Maria Rossi",
                    &service,
                    "12345678",
                    false,
                    Some("Fuori comune"),
                    lang,
                ),
                withdrawal(&t, &to, "Maria Rossi", &service, Some("12345678"), lang),
                withdrawal(&t, &to, "Maria Rossi", &service, None, lang),
                place_available(&t, &to, "Maria Rossi", &service, Some("12345678"), lang),
                place_available(&t, &to, "Maria Rossi", &service, None, lang),
                waitlisted(&t, &to, "Maria Rossi", &service, Some("12345678"), lang),
                waitlisted(&t, &to, "Maria Rossi", &service, None, lang),
                criteria_corrected(&t, &to, "Maria Rossi", &service, Some("12345678"), &7, lang),
                criteria_corrected(&t, &to, "Maria Rossi", &service, None, &7, lang),
                changes_requested(
                    &t,
                    &to,
                    "Maria Rossi",
                    &service,
                    Some("12345678"),
                    "Allegare ISEE",
                    "01/06/2026",
                    lang,
                ),
                changes_requested(
                    &t,
                    &to,
                    "Maria Rossi",
                    &service,
                    None,
                    "Allegare ISEE",
                    "01/06/2026",
                    lang,
                ),
                changes_reminder(
                    &t,
                    &to,
                    "Maria Rossi",
                    &service,
                    Some("12345678"),
                    "01/06/2026",
                    lang,
                ),
                changes_reminder(&t, &to, "Maria Rossi", &service, None, "01/06/2026", lang),
            ];
            for m in mails {
                let marker = format!("——— {} ———", lang.name());
                let (italian, translated) = m.text.split_once(&marker).expect("two parts");
                assert!(italian.starts_with("Gentile genitore,"), "{}", m.text);
                assert!(!translated.contains("Gentile genitore"), "{}", m.text);
                assert!(m.html.contains(&format!("lang=\"{}\"", lang.code())));
                assert!(m.subject.contains(" · "), "{}", m.subject);
            }
        }
        assert_eq!(take_misses(), Vec::<String>::new());
    }

    #[test]
    fn schools_and_italian_families_get_italian_only() {
        let to = Email::parse("anna@example.it").expect("email");
        let m = security_code(&tenant(), &to, "042137", Lang::It);
        assert!(!m.text.contains("———") && !m.subject.contains(" · "));
        let m = school_list(&tenant(), &to, "Primaria", "2026-W10", Vec::new());
        assert!(m.text.starts_with("Gentile segreteria,") && !m.text.contains("———"));
    }
}
