//! Mail texts, in Italian, plain text and HTML, with the tenant's name and
//! contacts. Subjects never carry personal data.

use crate::domain::security_code::CODE_TTL_SECS;
use crate::domain::services::ServiceView;
use crate::domain::tenant::Tenant;
use crate::domain::values::Email;
use crate::domain::window::Service;
use crate::ports::Mail;

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

fn signature_text(tenant: &Tenant) -> String {
    format!(
        "{}\nUfficio servizi scolastici\nEmail: {} · Telefono: {}",
        tenant.name, tenant.contact_email, tenant.phone
    )
}

fn html_page(tenant: &Tenant, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"it\"><head><meta charset=\"utf-8\"><title>{name}</title></head>\
<body style=\"font-family: 'Titillium Web', Arial, sans-serif; color: #1a1a1a; max-width: 640px;\">\
<p style=\"font-size: 1.1em; font-weight: 600; color: #0066cc;\">{name}</p>{body}\
<hr><p style=\"font-size: 0.9em; color: #5c6f82;\">{name}<br>Ufficio servizi scolastici<br>\
Email: {email} · Telefono: {phone}</p></body></html>",
        name = escape_html(&tenant.name),
        email = escape_html(tenant.contact_email.as_str()),
        phone = escape_html(&tenant.phone),
    )
}

/// The security code message ("Codice di sicurezza").
pub fn security_code(tenant: &Tenant, to: &Email, code: &str) -> Mail {
    let minutes = CODE_TTL_SECS / 60;
    let subject = format!(
        "Codice di sicurezza per le iscrizioni scolastiche – {}",
        tenant.name
    );
    let text = format!(
        "Gentile genitore,\n\n\
ecco il codice di sicurezza che hai richiesto per le iscrizioni ai servizi scolastici \
({name}):\n\n\
{code}\n\n\
Inseriscilo nella pagina da cui lo hai richiesto. Il codice è valido per {minutes} minuti \
e può essere usato una sola volta.\n\n\
Se non hai richiesto tu questo codice, ignora questo messaggio: senza il codice nessuno può \
accedere a nome tuo.\n\n\
Questo è un messaggio automatico: per informazioni scrivi all'ufficio ai recapiti qui sotto.\n\n\
{signature}\n",
        name = tenant.name,
        signature = signature_text(tenant),
    );
    let html = html_page(
        tenant,
        &format!(
            "<p>Gentile genitore,</p><p>ecco il codice di sicurezza che hai richiesto per le \
iscrizioni ai servizi scolastici ({name}):</p>\
<p style=\"font-size: 2em; font-weight: 700; letter-spacing: 0.2em;\">{code}</p>\
<p>Inseriscilo nella pagina da cui lo hai richiesto. Il codice è valido per {minutes} minuti \
e può essere usato una sola volta.</p>\
<p>Se non hai richiesto tu questo codice, ignora questo messaggio: senza il codice nessuno può \
accedere a nome tuo.</p>\
<p>Questo è un messaggio automatico: per informazioni scrivi all'ufficio ai recapiti qui sotto.</p>",
            name = escape_html(&tenant.name),
            code = escape_html(code),
        ),
    );
    Mail {
        to: vec![to.to_string()],
        subject,
        text,
        html,
        attachments: Vec::new(),
    }
}

/// The temporary password mailed on the first draft. The subject carries no
/// personal data; the body names the pupil so the parent knows which child
/// the password is for.
pub fn temporary_password(tenant: &Tenant, to: &Email, pupil_name: &str, password: &str) -> Mail {
    let subject = format!(
        "Domanda d'iscrizione salvata: la tua password – {}",
        tenant.name
    );
    let text = format!(
        "Gentile genitore,\n\n\
la domanda d'iscrizione di {pupil} è stata salvata come bozza. Attenzione: una bozza non è \
un'iscrizione; per iscrivere l'alunno devi completare la domanda e premere «Invia iscrizione» \
entro la chiusura del periodo di iscrizione.\n\n\
Per riprendere la domanda in qualsiasi momento accedi con il codice fiscale dell'alunno e \
questa password temporanea:\n\n\
Password: {password}\n\n\
Al primo accesso ti verrà chiesto di sceglierne una personale (almeno 10 caratteri, con \
lettere e numeri).\n\n\
Se non hai compilato tu questa domanda, scrivi subito all'ufficio ai recapiti qui sotto.\n\n\
{signature}\n",
        pupil = pupil_name,
        signature = signature_text(tenant),
    );
    let html = html_page(
        tenant,
        &format!(
            "<p>Gentile genitore,</p><p>la domanda d'iscrizione di <strong>{pupil}</strong> è \
stata salvata come bozza. Attenzione: una bozza non è un'iscrizione; per iscrivere l'alunno devi \
completare la domanda e premere «Invia iscrizione» entro la chiusura del periodo di iscrizione.</p>\
<p>Per riprendere la domanda in qualsiasi momento accedi con il codice fiscale dell'alunno e \
questa password temporanea:</p><p style=\"font-size: 1.4em; font-family: monospace;\">Password: {password}</p>\
<p>Al primo accesso ti verrà chiesto di sceglierne una personale (almeno 10 caratteri, con \
lettere e numeri).</p><p>Se non hai compilato tu questa domanda, scrivi subito all'ufficio ai \
recapiti qui sotto.</p>",
            pupil = escape_html(pupil_name),
            password = escape_html(password),
        ),
    );
    Mail {
        to: vec![to.to_string()],
        subject,
        text,
        html,
        attachments: Vec::new(),
    }
}

/// The credentials letter, mailed on submission with the PDF attached.
pub fn credentials_letter(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: &str,
    pdf: Vec<u8>,
) -> Mail {
    let service_name = service.name.as_str();
    let instructions = if service.service == Service::Refezione {
        "con le istruzioni per ricaricare il credito e disdire i pasti"
    } else {
        "con il codice utente e le istruzioni per i pagamenti"
    };
    let subject = format!("Iscrizione inviata: lettera credenziali – {}", tenant.name);
    let text = format!(
        "Gentile genitore,\n\n\
la domanda d'iscrizione di {pupil} al servizio «{service}» è stata inviata correttamente.\n\n\
Il codice utente assegnato è: {user_code}\n\n\
In allegato trovi la lettera credenziali, {instructions}. L'ufficio verificherà la domanda e \
ti comunicherà l'esito via email; puoi seguirne lo stato dal portale in «Stato iscrizione».\n\n\
{signature}\n",
        pupil = pupil_name,
        service = service_name,
        signature = signature_text(tenant),
    );
    let html = html_page(
        tenant,
        &format!(
            "<p>Gentile genitore,</p><p>la domanda d'iscrizione di <strong>{pupil}</strong> al \
servizio «{service}» è stata inviata correttamente.</p><p>Il codice utente assegnato è: \
<strong>{user_code}</strong></p><p>In allegato trovi la lettera credenziali, {instructions}. \
L'ufficio verificherà la domanda e ti comunicherà l'esito via email; puoi seguirne lo stato dal \
portale in «Stato iscrizione».</p>",
            pupil = escape_html(pupil_name),
            service = escape_html(service_name),
            user_code = escape_html(user_code),
        ),
    );
    Mail {
        to: vec![to.to_string()],
        subject,
        text,
        html,
        attachments: vec![crate::ports::MailAttachment {
            filename: "lettera-credenziali.pdf".into(),
            content_type: "application/pdf".into(),
            data: pdf,
        }],
    }
}

/// The one reminder for a draft in a window that closes within 48 hours.
pub fn draft_reminder(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service_name: &str,
    closes: &str,
) -> Mail {
    let subject = format!(
        "Promemoria: domanda d'iscrizione non ancora inviata – {}",
        tenant.name
    );
    let text = format!(
        "Gentile genitore,\n\n\
la domanda d'iscrizione di {pupil} al servizio «{service}» è ancora una bozza. Una bozza non è \
un'iscrizione: senza l'invio l'alunno non risulta iscritto.\n\n\
Il periodo di iscrizione chiude il {closes}. Accedi al portale, controlla il riepilogo e premi \
«Invia iscrizione».\n\n\
{signature}\n",
        pupil = pupil_name,
        service = service_name,
        signature = signature_text(tenant),
    );
    let html = html_page(
        tenant,
        &format!(
            "<p>Gentile genitore,</p><p>la domanda d'iscrizione di <strong>{pupil}</strong> al \
servizio «{service}» è ancora una bozza. Una bozza non è un'iscrizione: senza l'invio l'alunno \
non risulta iscritto.</p><p>Il periodo di iscrizione chiude il <strong>{closes}</strong>. Accedi \
al portale, controlla il riepilogo e premi «Invia iscrizione».</p>",
            pupil = escape_html(pupil_name),
            service = escape_html(service_name),
            closes = escape_html(closes),
        ),
    );
    Mail {
        to: vec![to.to_string()],
        subject,
        text,
        html,
        attachments: Vec::new(),
    }
}

/// The office's decision, mailed to the guardian.
pub fn decision(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: &str,
    confirmed: bool,
    reason: Option<&str>,
) -> Mail {
    let service_name = service.name.as_str();
    let (subject_word, status) = if confirmed {
        ("confermata", "Confermata")
    } else {
        ("respinta", "Respinta")
    };
    let subject = format!("Iscrizione {subject_word} – {}", tenant.name);
    let reason_text = reason
        .map(|r| format!("Motivazione dell'ufficio: {r}\n\n"))
        .unwrap_or_default();
    let next_steps = if confirmed && service.service == Service::Refezione {
        "L'iscrizione è attiva. Conserva la lettera credenziali: il codice utente serve per \
ricaricare il credito e disdire i pasti."
    } else if confirmed {
        "L'iscrizione è attiva. Conserva la lettera credenziali: il codice utente serve per i \
pagamenti e per ogni comunicazione con l'ufficio."
    } else {
        "Per chiarimenti o per presentare una nuova domanda, se il periodo di iscrizione è ancora \
aperto, contatta l'ufficio ai recapiti qui sotto."
    };
    let text = format!(
        "Gentile genitore,\n\n\
l'ufficio ha esaminato la domanda d'iscrizione di {pupil} al servizio «{service}» \
(codice utente {user_code}).\n\n\
Stato iscrizione: {status}\n\n\
{reason_text}{next_steps}\n\n\
{signature}\n",
        pupil = pupil_name,
        service = service_name,
        signature = signature_text(tenant),
    );
    let reason_html = reason
        .map(|r| format!("<p>Motivazione dell'ufficio: {}</p>", escape_html(r)))
        .unwrap_or_default();
    let html = html_page(
        tenant,
        &format!(
            "<p>Gentile genitore,</p><p>l'ufficio ha esaminato la domanda d'iscrizione di \
<strong>{pupil}</strong> al servizio «{service}» (codice utente {user_code}).</p>\
<p style=\"font-size: 1.2em;\">Stato iscrizione: <strong>{status}</strong></p>{reason_html}<p>{next}</p>",
            pupil = escape_html(pupil_name),
            service = escape_html(service_name),
            user_code = escape_html(user_code),
            next = escape_html(next_steps),
        ),
    );
    Mail {
        to: vec![to.to_string()],
        subject,
        text,
        html,
        attachments: Vec::new(),
    }
}

/// A mail to the family about its application: the greeting, the
/// paragraphs, the tenant's signature; text and HTML alike.
fn family_notice(tenant: &Tenant, to: &Email, subject: String, paragraphs: &[String]) -> Mail {
    let text = format!(
        "Gentile genitore,\n\n{}\n\n{}\n",
        paragraphs.join("\n\n"),
        signature_text(tenant)
    );
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape_html(p)))
        .collect();
    let html = html_page(tenant, &format!("<p>Gentile genitore,</p>{body}"));
    Mail {
        to: vec![to.to_string()],
        subject,
        text,
        html,
        attachments: Vec::new(),
    }
}

fn about(pupil_name: &str, service: &ServiceView, user_code: Option<&str>) -> String {
    let code = user_code
        .map(|c| format!(" (codice utente {c})"))
        .unwrap_or_default();
    format!(
        "la domanda d'iscrizione di {pupil_name} al servizio «{}»{code}",
        service.name
    )
}

/// The withdrawal ("rinuncia"), confirmed to the family.
pub fn withdrawal(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
) -> Mail {
    family_notice(
        tenant,
        to,
        format!("Rinuncia registrata – {}", tenant.name),
        &[
            format!("è stata registrata la rinuncia al{}.", about(pupil_name, service, user_code)),
            "Stato iscrizione: Ritirata".into(),
            "Il posto è stato liberato. Se è stato un errore, o per iscrivere di nuovo l'alunno mentre \
il periodo di iscrizione è aperto, presenta una nuova domanda dal portale o contatta l'ufficio ai \
recapiti qui sotto."
                .into(),
        ],
    )
}

/// A place freed and the application came within the places.
pub fn place_available(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
) -> Mail {
    family_notice(
        tenant,
        to,
        format!("Posto disponibile – {}", tenant.name),
        &[
            format!(
                "si è liberato un posto: {} ora rientra nei posti disponibili.",
                about(pupil_name, service, user_code)
            ),
            "L'ufficio la verificherà e ti comunicherà la conferma via email; puoi seguirne lo \
stato dal portale in «Stato iscrizione». Se non ti serve più, puoi rinunciare dal portale: il posto \
passerà alla famiglia successiva."
                .into(),
        ],
    )
}

/// The office moved the application to the waiting list.
pub fn waitlisted(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
) -> Mail {
    family_notice(
        tenant,
        to,
        format!("Domanda in lista d'attesa – {}", tenant.name),
        &[
            format!(
                "{} è in lista d'attesa: i posti disponibili sono esauriti.",
                capitalized(&about(pupil_name, service, user_code))
            ),
            "Stato iscrizione: In lista d'attesa".into(),
            "Se un posto si libera e la domanda rientra nei posti, ti scriveremo. La posizione in \
graduatoria è nel portale, in «Stato iscrizione»."
                .into(),
        ],
    )
}

/// The office corrected the declared ranking criteria.
pub fn criteria_corrected(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
    points: &u32,
) -> Mail {
    family_notice(
        tenant,
        to,
        format!("Criteri della graduatoria corretti – {}", tenant.name),
        &[
            format!(
                "l'ufficio ha verificato i criteri dichiarati per {} e li ha corretti: ora valgono {points} punti.",
                about(pupil_name, service, user_code)
            ),
            "La posizione in graduatoria aggiornata è nel portale, in «Stato iscrizione». Per \
chiarimenti contatta l'ufficio ai recapiti qui sotto."
                .into(),
        ],
    )
}

/// The office asks the family to change the application (a missing or
/// unreadable document), with its message and the due time.
pub fn changes_requested(
    tenant: &Tenant,
    to: &Email,
    pupil_name: &str,
    service: &ServiceView,
    user_code: Option<&str>,
    message: &str,
    due: &str,
) -> Mail {
    family_notice(
        tenant,
        to,
        format!("Richiesta di integrazione della domanda – {}", tenant.name),
        &[
            format!(
                "l'ufficio ha esaminato {} e chiede di modificarla o integrarla:",
                about(pupil_name, service, user_code)
            ),
            format!("«{}»", message.trim()),
            format!(
                "Puoi modificare la domanda e inviarla di nuovo dal portale, in «Stato iscrizione», entro il {due}, anche se il periodo di iscrizione è chiuso. Il codice utente e la posizione restano gli stessi. Dopo quella data la domanda torna all'ufficio così com'è."
            ),
            "Stato iscrizione: Da integrare".into(),
        ],
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
) -> Mail {
    family_notice(
        tenant,
        to,
        format!(
            "Promemoria: integrazione della domanda entro il {due} – {}",
            tenant.name
        ),
        &[
            format!(
                "ti ricordiamo che l'ufficio attende le modifiche richieste per {}.",
                about(pupil_name, service, user_code)
            ),
            format!(
                "Puoi modificare la domanda e inviarla di nuovo dal portale, in «Stato iscrizione», entro il {due}. Dopo quella data la domanda torna all'ufficio così com'è."
            ),
        ],
    )
}

/// A school's weekly list of its confirmed pupils: one CSV per service.
pub fn school_list(
    tenant: &Tenant,
    to: &Email,
    school: &str,
    week: &str,
    lists: Vec<crate::ports::MailAttachment>,
) -> Mail {
    let subject = format!(
        "Elenco settimanale degli iscritti ai servizi – {school} – {}",
        tenant.name
    );
    let body = if lists.is_empty() {
        "questa settimana non ci sono alunni della scuola con un'iscrizione confermata ai servizi del Comune."
            .to_owned()
    } else {
        format!(
            "in allegato l'elenco aggiornato degli alunni della scuola con un'iscrizione confermata, un file CSV per servizio ({}). Contiene dati personali: conservalo con cura e non inoltrarlo fuori dalla scuola.",
            lists
                .iter()
                .map(|l| l.filename.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let paragraphs = [format!("Settimana {week}."), body];
    let text = format!(
        "Gentile segreteria,\n\n{}\n\n{}\n",
        paragraphs.join("\n\n"),
        signature_text(tenant)
    );
    let html_body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape_html(p)))
        .collect();
    Mail {
        to: vec![to.to_string()],
        subject,
        text,
        html: html_page(tenant, &format!("<p>Gentile segreteria,</p>{html_body}")),
        attachments: lists,
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
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
        }
    }

    #[test]
    fn security_code_mail_is_in_italian_and_carries_the_code() {
        let to = Email::parse("anna@example.it").expect("email");
        let m = security_code(&tenant(), &to, "042137");
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
}
