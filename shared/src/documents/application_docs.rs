//! The three documents of a submitted application, composed from the
//! application and the tenant's configuration and rendered by `pdf`:
//! the summary ("riepilogo della domanda"), the credentials letter
//! ("lettera credenziali") and the information notice ("informativa").
//! Object keys and file names carry no personal data.

use time::OffsetDateTime;

use super::pdf::{Block, Document, Header, render};
use crate::domain::application::{Application, Delegate, ServiceChoice, Status};
use crate::domain::error::Error;
use crate::domain::services::ServiceView;
use crate::domain::tenant::Tenant;
use crate::domain::window::{Service, Window};

/// The kinds of document, as the contract names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Summary,
    Credentials,
    Information,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Summary, Kind::Credentials, Kind::Information];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Summary => "summary",
            Kind::Credentials => "credentials",
            Kind::Information => "information",
        }
    }

    /// The download name: no names, no codes.
    pub fn filename(self) -> &'static str {
        match self {
            Kind::Summary => "riepilogo-domanda.pdf",
            Kind::Credentials => "lettera-credenziali.pdf",
            Kind::Information => "informativa-servizio.pdf",
        }
    }
}

/// Where a document of an application version lives in the bucket.
pub fn object_key(tenant: &Tenant, application: &Application, kind: Kind) -> String {
    format!(
        "{}v{}/{}.pdf",
        prefix(tenant, application),
        application.version,
        kind.code()
    )
}

/// Where every version of an application's documents is kept.
pub fn prefix(tenant: &Tenant, application: &Application) -> String {
    format!("documents/{}/{}/", tenant.slug, application.id)
}

fn header(tenant: &Tenant) -> Header {
    Header {
        organisation: tenant.name.clone(),
        lines: vec![
            "Ufficio servizi scolastici".into(),
            format!("{} · {}", tenant.contact_email, tenant.phone),
        ],
    }
}

/// `22/04/2025 09:15` (UTC, as stored).
pub fn italian_datetime(t: OffsetDateTime) -> String {
    format!(
        "{:02}/{:02}/{} {:02}:{:02} (UTC)",
        t.day(),
        u8::from(t.month()),
        t.year(),
        t.hour(),
        t.minute()
    )
}

fn italian_date(iso: &str) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => format!("{d}/{m}/{y}"),
        _ => iso.to_owned(),
    }
}

/// `€ 3,50`.
pub fn euro(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let units = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    format!("{sign}€ {grouped},{:02}", c % 100)
}

fn day_name(d: &str) -> &'static str {
    match d {
        "mon" => "lunedì",
        "tue" => "martedì",
        "wed" => "mercoledì",
        "thu" => "giovedì",
        "fri" => "venerdì",
        "sat" => "sabato",
        _ => "?",
    }
}

fn diet_name(kind: &str) -> &'static str {
    match kind {
        "none" => "nessuna",
        "medical" => "sanitaria (con certificato medico)",
        "religious" => "etico-religiosa",
        "vegetarian" => "vegetariana",
        _ => "?",
    }
}

fn relationship_name(r: &str) -> &'static str {
    match r {
        "madre" => "madre",
        "padre" => "padre",
        "tutore" => "tutore",
        _ => "?",
    }
}

fn yes(v: Option<bool>) -> String {
    if v == Some(true) {
        "sì".into()
    } else {
        "no".into()
    }
}

fn or_dash(v: Option<&String>) -> String {
    v.map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "—".into())
}

fn generated(now: OffsetDateTime) -> String {
    format!("Documento generato il {}", italian_datetime(now))
}

/// The summary: every field the parent gave, the fee band, the dates.
pub fn summary(tenant: &Tenant, a: &Application, window: &Window, now: OffsetDateTime) -> Document {
    let b = &a.body;
    let p = b.pupil.clone().unwrap_or_default();
    let g = b.guardian.clone().unwrap_or_default();
    let addr = g.address.clone().unwrap_or_default();
    let s = b.service.clone().unwrap_or_default();
    let view = tenant.service(window.service);
    let decl = b.declarations.clone().unwrap_or_default();
    let mut state = vec![
        ("Stato".to_string(), a.status.label().to_string()),
        (
            "Primo salvataggio".into(),
            italian_datetime(a.first_saved_at),
        ),
        ("Ultima modifica".into(), italian_datetime(a.updated_at)),
    ];
    if let Some(t) = a.submitted_at {
        state.push(("Invio".into(), italian_datetime(t)));
    }
    if let Some(code) = &a.user_code {
        state.push(("Codice utente".into(), code.clone()));
    }
    if let Some(band) = &a.fee_band {
        let unit = if window.service == Service::Refezione {
            " a pasto"
        } else {
            ""
        };
        state.push((
            "Fascia tariffaria".into(),
            format!("{} – {}{unit}", band.code, euro(band.fee_cents)),
        ));
    }
    let isee = match &b.isee {
        Some(i) => vec![
            (
                "Valore ISEE".to_string(),
                i.isee_cents.map(euro).unwrap_or_else(|| "—".into()),
            ),
            (
                "Attestazione allegata".into(),
                yes(Some(i.attachment_id.is_some())),
            ),
        ],
        None => vec![(
            "ISEE".to_string(),
            "non dichiarato: si applica la fascia massima".to_string(),
        )],
    };
    Document {
        title: "Riepilogo della domanda d'iscrizione".into(),
        subtitle: Some(format!(
            "{} – anno scolastico {}",
            tenant.service(window.service).name,
            window.school_year
        )),
        header: header(tenant),
        blocks: vec![
            Block::Heading("Domanda".into()),
            Block::Fields(
                [
                    vec![
                        ("Numero domanda".to_string(), a.id.clone()),
                        (
                            "Tipo".into(),
                            if a.kind == "renewal" {
                                "rinnovo"
                            } else {
                                "nuova iscrizione"
                            }
                            .into(),
                        ),
                    ],
                    state,
                ]
                .concat(),
            ),
            Block::Heading("Alunno".into()),
            Block::Fields(vec![
                (
                    "Cognome e nome".into(),
                    format!(
                        "{} {}",
                        or_dash(p.last_name.as_ref()),
                        or_dash(p.first_name.as_ref())
                    ),
                ),
                ("Codice fiscale".into(), a.pupil_fiscal_code.clone()),
                (
                    "Data di nascita".into(),
                    p.birth_date
                        .as_deref()
                        .map(italian_date)
                        .unwrap_or_else(|| "—".into()),
                ),
                ("Scuola".into(), or_dash(p.school.as_ref())),
                ("Classe".into(), or_dash(p.grade.as_ref())),
                ("Sezione".into(), or_dash(p.section.as_ref())),
            ]),
            Block::Heading("Genitore o tutore".into()),
            Block::Fields(vec![
                (
                    "Cognome e nome".into(),
                    format!(
                        "{} {}",
                        or_dash(g.last_name.as_ref()),
                        or_dash(g.first_name.as_ref())
                    ),
                ),
                ("Codice fiscale".into(), a.guardian_fiscal_code.clone()),
                (
                    "Rapporto con l'alunno".into(),
                    g.relationship
                        .as_deref()
                        .map(relationship_name)
                        .unwrap_or("—")
                        .into(),
                ),
                ("Email".into(), or_dash(g.email.as_ref())),
                ("Telefono".into(), or_dash(g.phone.as_ref())),
                (
                    "Indirizzo".into(),
                    format!(
                        "{}, {} {} ({})",
                        or_dash(addr.street.as_ref()),
                        or_dash(addr.postal_code.as_ref()),
                        or_dash(addr.city.as_ref()),
                        or_dash(addr.province.as_ref())
                    ),
                ),
            ]),
            Block::Heading("Servizio".into()),
            Block::Fields(service_rows(&view, &s)),
            Block::Heading("ISEE".into()),
            Block::Fields(isee),
            Block::Heading("Dichiarazioni".into()),
            Block::Fields(vec![
                (
                    "Presa visione dell'informativa privacy (art. 13 GDPR)".into(),
                    yes(decl.privacy),
                ),
                (
                    "Accettazione del regolamento del servizio".into(),
                    yes(decl.regulation),
                ),
                (
                    "Dichiarazione sostitutiva (DPR 445/2000)".into(),
                    yes(decl.truthfulness),
                ),
            ]),
            Block::Spacer,
            Block::Paragraph(if a.status == Status::Draft {
                "Attenzione: questa è una bozza, non un'iscrizione. Per iscrivere l'alunno invia la domanda entro la chiusura del periodo di iscrizione.".into()
            } else {
                "La domanda è stata inviata. L'ufficio la verificherà e ti comunicherà l'esito via email.".into()
            }),
        ],
        footer: generated(now),
    }
}

fn days_text(days: Option<&Vec<String>>) -> String {
    days.map(|d| d.iter().map(|x| day_name(x)).collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|| "—".into())
}

/// The law that lets parents authorize a child under 14 to leave alone.
pub const AUTONOMOUS_EXIT_LAW: &str = "art. 19-bis del decreto-legge 16 ottobre 2017, n. 148, \
convertito dalla legge 4 dicembre 2017, n. 172";

/// Who meets the child, and the delegates.
fn meeting_rows(
    exit: Option<bool>,
    delegates: Option<&Vec<Delegate>>,
    alone: &str,
) -> Vec<(String, String)> {
    let exit_text = match exit {
        Some(true) => format!(
            "sì: i genitori autorizzano l'alunno a {alone} e sollevano il personale dalla \
vigilanza dopo quel momento ({AUTONOMOUS_EXIT_LAW})"
        ),
        Some(false) => "no: lo accoglie un genitore o una persona delegata".into(),
        None => "—".into(),
    };
    let mut rows = vec![("Uscita autonoma".to_string(), exit_text)];
    if exit == Some(false) {
        let list: Vec<String> = delegates
            .map(|d| {
                d.iter()
                    .map(|d| {
                        format!(
                            "{} {} ({}), codice fiscale {}",
                            or_dash(d.first_name.as_ref()),
                            or_dash(d.last_name.as_ref()),
                            or_dash(d.relationship.as_ref()),
                            or_dash(d.fiscal_code.as_ref()).to_uppercase()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        rows.push((
            "Persone delegate".into(),
            if list.is_empty() {
                "nessuna: lo accoglie sempre un genitore".into()
            } else {
                list.join("\n")
            },
        ));
    }
    rows
}

/// The service part of the summary: only what the window's service asks.
fn service_rows(view: &ServiceView, s: &ServiceChoice) -> Vec<(String, String)> {
    let mut rows = vec![("Servizio".to_string(), view.name.clone())];
    match view.service {
        Service::Refezione => {
            let diet = s.diet.clone().unwrap_or_default();
            rows.extend([
                (
                    "Dieta".into(),
                    diet.kind.as_deref().map(diet_name).unwrap_or("—").into(),
                ),
                ("Note sulla dieta".into(), or_dash(diet.notes.as_ref())),
                ("Giorni".into(), days_text(s.days.as_ref())),
            ]);
        }
        Service::PrePostScuola => {
            let slots = s
                .slots
                .as_ref()
                .map(|ids| {
                    ids.iter()
                        .map(|id| view.slot(id).map_or(id.clone(), |slot| slot.name.clone()))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| "—".into());
            rows.push(("Fasce orarie".into(), slots));
            rows.push(("Giorni".into(), days_text(s.days.as_ref())));
            if let Some(pickup) = &s.pickup {
                rows.extend(meeting_rows(
                    pickup.autonomous_exit,
                    pickup.delegates.as_ref(),
                    "uscire da solo al termine del post scuola",
                ));
            }
        }
        Service::Trasporto => {
            let t = s.transport.clone().unwrap_or_default();
            let stop = t
                .stop_id
                .as_deref()
                .map(|id| {
                    view.stop(id)
                        .map_or(id.to_owned(), |st| format!("{} ({})", st.name, st.route))
                })
                .unwrap_or_else(|| "—".into());
            let direction = match t.direction.as_deref() {
                Some("to_school") => "solo andata (verso la scuola)",
                Some("from_school") => "solo ritorno (dalla scuola)",
                Some("both") => "andata e ritorno",
                _ => "—",
            };
            rows.push(("Fermata".into(), stop));
            rows.push(("Viaggi".into(), direction.into()));
            rows.extend(meeting_rows(
                t.autonomous_exit,
                t.delegates.as_ref(),
                "scendere da solo dallo scuolabus alla fermata del ritorno",
            ));
        }
    }
    if let Some(criteria) = s.criteria.as_ref().filter(|c| !c.is_empty()) {
        let declared: Vec<String> = criteria
            .iter()
            .map(|code| {
                view.criterion(code).map_or(code.clone(), |c| {
                    format!("{} ({} punti)", c.label, c.points)
                })
            })
            .collect();
        rows.push((
            "Criteri dichiarati (DPR 445/2000)".into(),
            declared.join("\n"),
        ));
    }
    rows
}

fn paragraphs(texts: &[String], fallback: &str) -> Vec<Block> {
    if texts.is_empty() {
        vec![Block::Paragraph(fallback.to_owned())]
    } else {
        texts.iter().cloned().map(Block::Paragraph).collect()
    }
}

/// The credentials letter: the user code, how to pay (top up the balance,
/// for meals), how to cancel a meal (meals only), how to log in.
pub fn credentials(
    tenant: &Tenant,
    a: &Application,
    window: &Window,
    now: OffsetDateTime,
) -> Document {
    let p = a.body.pupil.clone().unwrap_or_default();
    let view = tenant.service(window.service);
    let info = &view.information;
    let meals = window.service == Service::Refezione;
    let mut blocks = vec![
        Block::Paragraph(format!(
            "Gentile genitore, la domanda d'iscrizione di {} {} al servizio «{}» per l'anno scolastico {} è stata inviata.",
            or_dash(p.first_name.as_ref()),
            or_dash(p.last_name.as_ref()),
            view.name,
            window.school_year
        )),
        Block::Heading("Il tuo codice utente".into()),
        Block::Fields(vec![
            (
                "Codice utente".into(),
                a.user_code.clone().unwrap_or_else(|| "—".into()),
            ),
            (
                "Codice fiscale dell'alunno".into(),
                a.pupil_fiscal_code.clone(),
            ),
        ]),
        Block::Paragraph(if meals {
            "Conserva questa lettera: il codice utente serve per ricaricare il credito e per disdire i pasti.".into()
        } else {
            "Conserva questa lettera: il codice utente serve per i pagamenti e per ogni comunicazione con l'ufficio.".into()
        }),
        Block::Heading(
            if meals {
                "Come ricaricare il credito"
            } else {
                "Come pagare"
            }
            .into(),
        ),
    ];
    blocks.extend(paragraphs(
        &info.top_up,
        if meals {
            "Per ricaricare il credito rivolgiti all'ufficio."
        } else {
            "Per i pagamenti rivolgiti all'ufficio."
        },
    ));
    if meals {
        blocks.push(Block::Heading("Come disdire un pasto".into()));
        blocks.extend(paragraphs(
            &info.meal_cancellation,
            "Per disdire un pasto rivolgiti all'ufficio.",
        ));
    }
    blocks.push(Block::Heading("Come accedere".into()));
    blocks.push(Block::Bullets(vec![
        format!(
            "Portale: {}",
            if info.portal_url.is_empty() {
                "il portale iscrizioni del Comune"
            } else {
                info.portal_url.as_str()
            }
        ),
        "Accedi con SPID o CIE, oppure con il codice fiscale dell'alunno e la tua password.".into(),
        "Da «Stato iscrizione» vedi se la domanda è stata confermata.".into(),
    ]));
    Document {
        title: "Lettera credenziali".into(),
        subtitle: Some(format!(
            "{} – anno scolastico {}",
            tenant.service(window.service).name,
            window.school_year
        )),
        header: header(tenant),
        blocks,
        footer: generated(now),
    }
}

/// The information notice: the service rules and the privacy notice.
pub fn information(tenant: &Tenant, window: &Window, now: OffsetDateTime) -> Document {
    let view = tenant.service(window.service);
    let info = &view.information;
    let mut blocks = vec![Block::Heading("Regole del servizio".into())];
    blocks.extend(paragraphs(
        &info.service_rules,
        "Le regole del servizio sono disponibili presso l'ufficio.",
    ));
    blocks.push(Block::Heading(
        "Informativa sul trattamento dei dati personali (art. 13 GDPR)".into(),
    ));
    blocks.extend(paragraphs(
        &info.privacy_notice,
        "L'informativa privacy è disponibile presso l'ufficio.",
    ));
    Document {
        title: "Informativa sul servizio".into(),
        subtitle: Some(format!(
            "{} – anno scolastico {}",
            tenant.service(window.service).name,
            window.school_year
        )),
        header: header(tenant),
        blocks,
        footer: generated(now),
    }
}

/// Render one document of an application.
pub fn render_kind(
    kind: Kind,
    tenant: &Tenant,
    a: &Application,
    window: &Window,
    now: OffsetDateTime,
) -> Result<Vec<u8>, Error> {
    let doc = match kind {
        Kind::Summary => summary(tenant, a, window, now),
        Kind::Credentials => credentials(tenant, a, window, now),
        Kind::Information => information(tenant, window, now),
    };
    render(&doc).map_err(|e| Error::Internal(format!("pdf {}: {e}", kind.code())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_the_italian_way() {
        assert_eq!(euro(350), "€ 3,50");
        assert_eq!(euro(1_250_000), "€ 12.500,00");
        assert_eq!(euro(-1_500), "-€ 15,00");
        assert_eq!(euro(5), "€ 0,05");
    }

    fn sample() -> (Tenant, Application, Window) {
        use crate::domain::application::{ApplicationBody, FeeBand, Owner};
        use time::macros::datetime;
        let tenant: Tenant = serde_json::from_value(serde_json::json!({
            "slug": "demo", "name": "Comune di Esempio", "contact_email": "scuola@comune.example.it",
            "phone": "+39 080 0000000", "services": ["refezione"],
            "information": { "service_rules": ["Il servizio è erogato nei giorni di rientro."],
                              "privacy_notice": ["Titolare del trattamento è il Comune di Esempio."],
                              "top_up": ["Ricarica con pagoPA."], "meal_cancellation": ["Disdici entro le 9:30."],
                              "portal_url": "https://iscrizioni.example.it/demo/" }
        }))
        .expect("tenant");
        let body: ApplicationBody = serde_json::from_value(serde_json::json!({
            "window_id": "w-1", "kind": "new",
            "pupil": { "fiscal_code": "RSSMRA15E41A662S", "first_name": "Niccolò", "last_name": "D'Angelo",
                       "birth_date": "2015-05-01", "school": "Primaria «G. Mazzini»", "grade": "3", "section": "B" },
            "guardian": { "fiscal_code": "BNCNNA80A41A662C", "first_name": "Anna", "last_name": "Bianchi",
                          "relationship": "madre", "email": "anna@example.it", "phone": "+393331234567",
                          "address": { "street": "Via Roma 1", "city": "Corato", "postal_code": "70033", "province": "BA" } },
            "service": { "diet": { "kind": "religious", "notes": "Niente carne di maiale" }, "days": ["mon", "wed", "fri"] },
            "isee": { "isee_cents": 1250000, "attachment_id": "att-1" },
            "declarations": { "privacy": true, "regulation": true, "truthfulness": true }
        }))
        .expect("body");
        let at = datetime!(2025-04-22 09:15 UTC);
        let a = Application {
            id: "app-1".into(),
            window_id: "w-1".into(),
            kind: "new".into(),
            body,
            status: Status::Submitted,
            version: 2,
            first_saved_at: at,
            updated_at: at,
            submitted_at: Some(at),
            decided_at: None,
            decision_reason: None,
            user_code: Some("48213977".into()),
            fee_band: Some(FeeBand {
                code: "B".into(),
                fee_cents: 350,
            }),
            owner: Owner::default(),
            pupil_fiscal_code: "RSSMRA15E41A662S".into(),
            guardian_fiscal_code: "BNCNNA80A41A662C".into(),
            history: Vec::new(),
            contested: false,
            proved_phone: None,
            rank_key: None,
            change_request: None,
            counted_as: None,
        };
        let window: Window = serde_json::from_value(serde_json::json!({
            "id": "w-1", "service": "refezione", "school_year": "2025/2026",
            "opens_at": "2025-04-22T07:00:00Z", "closes_at": "2025-05-31T21:59:59Z"
        }))
        .expect("window");
        (tenant, a, window)
    }

    fn text_of(pdf: &[u8]) -> String {
        let path = std::env::temp_dir().join(format!(
            "doc-{}.pdf",
            crate::ops::random_id("t").unwrap_or_default()
        ));
        std::fs::write(&path, pdf).expect("write");
        let out = std::process::Command::new("pdftotext")
            .args(["-layout"])
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils) must be installed: `make test` installs it");
        let _ = std::fs::remove_file(&path);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn the_three_documents_read_back_in_italian() {
        let (tenant, a, window) = sample();
        let now = a.updated_at;
        for (kind, needles) in [
            (
                Kind::Summary,
                vec![
                    "Riepilogo della domanda",
                    "Niccolò",
                    "D'Angelo",
                    "«G. Mazzini»",
                    "€ 12.500,00",
                    "€ 3,50",
                    "mercoledì",
                    "etico-religiosa",
                    "Inviata, in attesa di conferma",
                ],
            ),
            (
                Kind::Credentials,
                vec![
                    "Lettera credenziali",
                    "48213977",
                    "Come ricaricare il credito",
                    "Come disdire un pasto",
                    "pagoPA",
                    "Niccolò",
                ],
            ),
            (
                Kind::Information,
                vec![
                    "Informativa",
                    "Regole del servizio",
                    "art. 13 GDPR",
                    "Titolare del trattamento",
                ],
            ),
        ] {
            let started = std::time::Instant::now();
            let pdf = render_kind(kind, &tenant, &a, &window, now).expect("render");
            let elapsed = started.elapsed();
            println!(
                "{}: {} bytes, rendered in {:?}",
                kind.code(),
                pdf.len(),
                elapsed
            );
            let text = text_of(&pdf);
            for n in needles {
                assert!(
                    text.contains(n),
                    "{}: «{n}» missing in:\n{text}",
                    kind.code()
                );
            }
        }
    }

    /// The same application on the bus, or in pre/post-school care: each
    /// document speaks of its own service, never of meals.
    #[test]
    fn bus_and_care_documents_speak_of_their_own_service() {
        let (mut tenant, mut a, mut window) = sample();
        tenant.services = vec![Service::Trasporto, Service::PrePostScuola];
        tenant.service_settings = serde_json::from_value(serde_json::json!({
            "trasporto": {
                "information": { "service_rules": ["Lo scuolabus passa alle 7:40."],
                                 "top_up": ["Paga la quota annuale con pagoPA."] },
                "fee_bands": [ { "code": "T", "fee_cents": 20000 } ],
                "stops": [ { "id": "st-1", "name": "Piazza Roma", "route": "Linea 1" } ]
            },
            "pre_post_scuola": {
                "slots": [ { "id": "pre", "name": "Pre scuola 7:30–8:30" },
                           { "id": "post", "name": "Post scuola 13:30–16:30" } ],
                "criteria": [ { "code": "work", "label": "Entrambi i genitori lavorano", "points": 3 } ]
            }
        }))
        .expect("settings");
        window.service = Service::Trasporto;
        a.fee_band = Some(crate::domain::application::FeeBand {
            code: "T".into(),
            fee_cents: 20000,
        });
        a.body.service = Some(
            serde_json::from_value(serde_json::json!({ "transport": {
                "stop_id": "st-1", "direction": "both", "autonomous_exit": false,
                "delegates": [ { "first_name": "Lucia", "last_name": "Bianchi",
                                 "fiscal_code": "BNCLCU50A41A662X", "relationship": "nonna" } ] } }))
            .expect("bus part"),
        );
        let now = a.updated_at;
        let summary = text_of(&render_kind(Kind::Summary, &tenant, &a, &window, now).expect("pdf"));
        for needle in [
            "Trasporto scolastico",
            "Piazza Roma (Linea 1)",
            "andata e ritorno",
            "Lucia Bianchi (nonna)",
            "T – € 200,00",
        ] {
            assert!(
                summary.contains(needle),
                "«{needle}» missing in:\n{summary}"
            );
        }
        assert!(
            !summary.contains("Dieta") && !summary.contains("a pasto"),
            "{summary}"
        );
        let letter =
            text_of(&render_kind(Kind::Credentials, &tenant, &a, &window, now).expect("pdf"));
        assert!(
            letter.contains("Come pagare") && letter.contains("quota annuale"),
            "{letter}"
        );
        assert!(
            !letter.contains("pasto") && !letter.contains("pasti"),
            "no meal text:\n{letter}"
        );
        let notice =
            text_of(&render_kind(Kind::Information, &tenant, &a, &window, now).expect("pdf"));
        assert!(
            notice.contains("7:40") && notice.contains("Titolare del trattamento"),
            "{notice}"
        );
        // The authorization, with its legal reference.
        a.body.service = Some(
            serde_json::from_value(serde_json::json!({ "transport": {
                "stop_id": "st-1", "direction": "from_school", "autonomous_exit": true } }))
            .expect("bus part"),
        );
        let summary = text_of(&render_kind(Kind::Summary, &tenant, &a, &window, now).expect("pdf"));
        for needle in ["solo ritorno", "scendere da solo", "19-bis", "172"] {
            assert!(
                summary.contains(needle),
                "«{needle}» missing in:\n{summary}"
            );
        }

        window.service = Service::PrePostScuola;
        a.body.service = Some(
            serde_json::from_value(
                serde_json::json!({ "slots": ["pre", "post"], "days": ["mon", "wed"],
                "pickup": { "autonomous_exit": false, "delegates": [] }, "criteria": ["work"] }),
            )
            .expect("care part"),
        );
        let summary = text_of(&render_kind(Kind::Summary, &tenant, &a, &window, now).expect("pdf"));
        for needle in [
            "Pre scuola 7:30–8:30",
            "Post scuola 13:30–16:30",
            "lunedì, mercoledì",
            "lo accoglie sempre un genitore",
            "Entrambi i genitori lavorano (3 punti)",
        ] {
            assert!(
                summary.contains(needle),
                "«{needle}» missing in:\n{summary}"
            );
        }
        let letter =
            text_of(&render_kind(Kind::Credentials, &tenant, &a, &window, now).expect("pdf"));
        assert!(!letter.contains("disdire"), "{letter}");
    }

    #[test]
    fn file_names_carry_no_personal_data() {
        for k in Kind::ALL {
            assert!(k.filename().ends_with(".pdf"));
            assert!(
                k.filename()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c == '.')
            );
        }
    }
}
