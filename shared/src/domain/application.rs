//! The application ("domanda d'iscrizione"): one pupil in one window.
//!
//! The body is kept as the parent sent it (every part optional, so that a
//! draft can be partial); `validate` checks every value that is present and
//! reports each bad one as a field error with its dotted path, `missing`
//! lists what still blocks submission. The state machine is `Status`.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::error::{Error, FieldError};
use super::fiscal_code::FiscalCode;
use super::services::{AFTER_SCHOOL_SLOT, ServiceView};
use super::values::{Email, Phone, PostalCode, Province};
use super::window::Service;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pupil {
    #[serde(default)]
    pub fiscal_code: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub school: Option<String>,
    #[serde(default)]
    pub grade: Option<String>,
    #[serde(default)]
    pub section: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub province: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guardian {
    #[serde(default)]
    pub fiscal_code: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub relationship: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<Address>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diet {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// An adult who may meet the child (at the bus stop, after school care).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegate {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub fiscal_code: Option<String>,
    /// "nonna", "zio", "vicina di casa".
    #[serde(default)]
    pub relationship: Option<String>,
}

/// The school bus part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transport {
    #[serde(default)]
    pub stop_id: Option<String>,
    /// `to_school`, `from_school`, `both`.
    #[serde(default)]
    pub direction: Option<String>,
    /// `true`: the parents authorize the child to get off the bus alone
    /// (art. 19-bis of law 172/2017); `false`: a parent or a delegate is
    /// at the stop.
    #[serde(default)]
    pub autonomous_exit: Option<bool>,
    #[serde(default)]
    pub delegates: Option<Vec<Delegate>>,
}

/// Who meets the child after after-school care.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pickup {
    #[serde(default)]
    pub autonomous_exit: Option<bool>,
    #[serde(default)]
    pub delegates: Option<Vec<Delegate>>,
}

/// The part of the window's service: diet and days for meals, slots and
/// days (and who meets the child after school) for care, the stop for the
/// bus; declared ranking criteria for any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceChoice {
    #[serde(default)]
    pub diet: Option<Diet>,
    #[serde(default)]
    pub days: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup: Option<Pickup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Isee {
    #[serde(default)]
    pub isee_cents: Option<i64>,
    #[serde(default)]
    pub attachment_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declarations {
    #[serde(default)]
    pub privacy: Option<bool>,
    #[serde(default)]
    pub regulation: Option<bool>,
    #[serde(default)]
    pub truthfulness: Option<bool>,
}

/// The body of create and update, as the contract shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationBody {
    #[serde(default)]
    pub window_id: Option<String>,
    /// The office's request as a read shows it: a client that sends back
    /// what it read may keep it; it is ignored, never stored.
    #[serde(default, skip_serializing, rename = "change_request")]
    pub echoed_change_request: Option<serde_json::Value>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub pupil: Option<Pupil>,
    #[serde(default)]
    pub guardian: Option<Guardian>,
    #[serde(default)]
    pub service: Option<ServiceChoice>,
    /// `null` (or absent): no ISEE declared, the highest fee band applies.
    #[serde(default)]
    pub isee: Option<Isee>,
    #[serde(default)]
    pub declarations: Option<Declarations>,
    /// The family's language of the portal: its mails carry a translation
    /// under the Italian text. Absent: Italian only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<crate::domain::language::Lang>,
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Submitted,
    Confirmed,
    Rejected,
    Expired,
    /// The family gave the place up ("rinuncia").
    Withdrawn,
    /// Beyond the places, moved to the waiting list by the office.
    Waitlisted,
    /// The office asked the family for a change (a missing document): the
    /// family may edit and submit again until the request's due time.
    ChangesRequested,
}

impl Status {
    /// Every status, in the order the office's counts list them.
    pub const ALL: [Status; 8] = [
        Status::Draft,
        Status::Submitted,
        Status::ChangesRequested,
        Status::Waitlisted,
        Status::Confirmed,
        Status::Rejected,
        Status::Withdrawn,
        Status::Expired,
    ];
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Confirmed => "confirmed",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
            Status::Withdrawn => "withdrawn",
            Status::Waitlisted => "waitlisted",
            Status::ChangesRequested => "changes_requested",
        }
    }

    /// The Italian label of the "Stato iscrizione" box.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Bozza (non ancora inviata)",
            Status::Submitted => "Inviata, in attesa di conferma",
            Status::Confirmed => "Confermata",
            Status::Rejected => "Respinta",
            Status::Expired => "Scaduta (bozza non inviata entro la chiusura)",
            Status::Withdrawn => "Ritirata (rinuncia della famiglia)",
            Status::Waitlisted => "In lista d'attesa",
            Status::ChangesRequested => "Da integrare: il Comune ha chiesto modifiche",
        }
    }

    /// Whether the parent may still change the application (for
    /// `changes_requested`, until the request's due time).
    pub fn editable(self) -> bool {
        matches!(
            self,
            Status::Draft | Status::Submitted | Status::ChangesRequested
        )
    }

    /// Whether the family may still give the application up.
    pub fn withdrawable(self) -> bool {
        matches!(
            self,
            Status::Draft
                | Status::Submitted
                | Status::Confirmed
                | Status::Waitlisted
                | Status::ChangesRequested
        )
    }
}

pub const KINDS: &[&str] = &["new", "renewal"];
pub const RELATIONSHIPS: &[&str] = &["madre", "padre", "tutore"];
pub const DIET_KINDS: &[&str] = &["none", "medical", "religious", "vegetarian"];
pub const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat"];
/// At most a million euro: anything above is a typing error.
pub const MAX_ISEE_CENTS: i64 = 100_000_000;

/// What validation found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Values present but wrong: the write is refused (`422 invalid_fields`).
    pub invalid: Vec<FieldError>,
    /// Dotted paths still needed for submission.
    pub missing: Vec<String>,
}

/// What the window's service offers the form: its stops, slots and
/// criteria (their ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub service: Service,
    pub stops: Vec<String>,
    pub slots: Vec<String>,
    pub criteria: Vec<String>,
    /// The tenant's schools (names); empty: any school name.
    pub schools: Vec<String>,
}

impl Form {
    pub fn of(view: &ServiceView) -> Self {
        Self {
            service: view.service,
            stops: view.stops.iter().map(|s| s.id.clone()).collect(),
            slots: view.slots.iter().map(|s| s.id.clone()).collect(),
            criteria: view.criteria.iter().map(|c| c.code.clone()).collect(),
            schools: Vec::new(),
        }
    }

    /// School meals, which offer nothing to choose from.
    pub fn meals() -> Self {
        Self {
            service: Service::Refezione,
            stops: Vec::new(),
            slots: Vec::new(),
            criteria: Vec::new(),
            schools: Vec::new(),
        }
    }
}

/// Facts from outside the body that the rules need.
#[derive(Debug, Clone)]
pub struct Context {
    pub today: Date,
    /// A medical certificate has been uploaded for this application.
    pub has_medical_certificate: bool,
    /// The ISEE attachment named in the body has been uploaded.
    pub isee_attachment_uploaded: bool,
    /// The window's service and its choices; `None` when the window is not
    /// known (the body is then checked as a meal one, and the window's
    /// own error follows).
    pub form: Option<Form>,
}

/// Delegates one child may have.
pub const MAX_DELEGATES: usize = 4;
/// A bus ride's directions.
pub const DIRECTIONS: &[&str] = &["to_school", "from_school", "both"];

fn text_ok(s: &str, max: usize) -> bool {
    let t = s.trim();
    !t.is_empty() && t.chars().count() <= max && !t.chars().any(char::is_control)
}

fn name_ok(s: &str) -> bool {
    text_ok(s, 80)
        && s.trim()
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '’' | '-' | '.'))
}

struct Checker<'a> {
    report: &'a mut Report,
}

impl Checker<'_> {
    fn invalid(&mut self, field: &str, message: &str) {
        self.report
            .invalid
            .push(FieldError::new(field, "invalid", message));
    }

    fn missing(&mut self, field: &str) {
        self.report.missing.push(field.to_owned());
    }

    /// A part of another service than the window's.
    fn not_applicable(&mut self, field: &str, present: bool) {
        if present {
            self.report.invalid.push(FieldError::new(
                field,
                "not_applicable",
                "Questa parte non riguarda il servizio scelto: toglila dalla domanda.",
            ));
        }
    }

    /// Days of the week: at least one, known, no repeats.
    fn days(&mut self, field: &str, days: Option<&Vec<String>>) {
        match days {
            None => self.missing(field),
            Some(days) if days.is_empty() => self.missing(field),
            Some(days) => {
                let mut seen = Vec::new();
                for d in days {
                    if !DAYS.contains(&d.as_str()) || seen.contains(d) {
                        self.invalid(
                            field,
                            "Giorni non validi: usa mon, tue, wed, thu, fri, sat, senza ripetizioni.",
                        );
                        break;
                    }
                    seen.push(d.clone());
                }
            }
        }
    }

    /// Ids chosen from `allowed`: known, no repeats; at least one when
    /// `required`.
    fn chosen(
        &mut self,
        field: &str,
        values: Option<&Vec<String>>,
        allowed: &[String],
        required: bool,
        message: &str,
    ) {
        match values {
            None => {
                if required {
                    self.missing(field);
                }
            }
            Some(v) if v.is_empty() => {
                if required {
                    self.missing(field);
                }
            }
            Some(v) => {
                let mut seen: Vec<&String> = Vec::new();
                for id in v {
                    if !allowed.contains(id) || seen.contains(&id) {
                        self.invalid(field, message);
                        break;
                    }
                    seen.push(id);
                }
            }
        }
    }

    /// Who meets the child (`prefix` is `service.transport` or
    /// `service.pickup`): the authorization, or up to four delegates.
    fn meeting(&mut self, prefix: &str, exit: Option<bool>, delegates: Option<&Vec<Delegate>>) {
        let path = format!("{prefix}.delegates");
        match exit {
            None => self.missing(&format!("{prefix}.autonomous_exit")),
            Some(true) => self.not_applicable(&path, delegates.is_some_and(|d| !d.is_empty())),
            Some(false) => {}
        }
        let Some(delegates) = delegates else {
            return;
        };
        if delegates.len() > MAX_DELEGATES {
            self.invalid(&path, "Puoi indicare al massimo 4 persone delegate.");
            return;
        }
        for (i, d) in delegates.iter().enumerate() {
            let at = |f: &str| format!("{path}.{i}.{f}");
            self.text(
                &at("first_name"),
                d.first_name.as_ref(),
                name_ok,
                "Nome della persona delegata non valido.",
            );
            self.text(
                &at("last_name"),
                d.last_name.as_ref(),
                name_ok,
                "Cognome della persona delegata non valido.",
            );
            self.text(
                &at("fiscal_code"),
                d.fiscal_code.as_ref(),
                |v| FiscalCode::parse(v).is_ok(),
                "Codice fiscale della persona delegata non valido.",
            );
            self.text(
                &at("relationship"),
                d.relationship.as_ref(),
                |v| text_ok(v, 40),
                "Indica la relazione con l'alunno (ad esempio nonna).",
            );
        }
    }

    /// A required text value: missing if absent or blank, invalid if `ok`
    /// refuses it.
    fn text(
        &mut self,
        field: &str,
        value: Option<&String>,
        ok: impl Fn(&str) -> bool,
        message: &str,
    ) {
        match value.map(|v| v.trim()) {
            None | Some("") => self.missing(field),
            Some(v) => {
                if !ok(v) {
                    self.invalid(field, message);
                }
            }
        }
    }

    fn one_of(&mut self, field: &str, value: Option<&String>, allowed: &[&str], message: &str) {
        self.text(field, value, |v| allowed.contains(&v), message);
    }
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        &time::format_description::well_known::Iso8601::DATE,
    )
    .ok()
    .filter(|_| s.trim().len() == 10)
}

/// Check every value present; list what is missing for submission.
pub fn validate(body: &ApplicationBody, ctx: &Context) -> Report {
    let mut report = Report::default();
    let mut c = Checker {
        report: &mut report,
    };

    c.text(
        "window_id",
        body.window_id.as_ref(),
        |v| text_ok(v, 80),
        "Periodo di iscrizione non valido.",
    );
    c.one_of(
        "kind",
        body.kind.as_ref(),
        KINDS,
        "Il tipo di domanda deve essere «new» o «renewal».",
    );

    let pupil = body.pupil.clone().unwrap_or_default();
    let pupil_code = pupil.fiscal_code.as_deref().map(FiscalCode::parse);
    c.text(
        "pupil.fiscal_code",
        pupil.fiscal_code.as_ref(),
        |v| FiscalCode::parse(v).is_ok(),
        "Codice fiscale dell'alunno non valido: controlla le 16 lettere e cifre.",
    );
    c.text(
        "pupil.first_name",
        pupil.first_name.as_ref(),
        name_ok,
        "Nome dell'alunno non valido.",
    );
    c.text(
        "pupil.last_name",
        pupil.last_name.as_ref(),
        name_ok,
        "Cognome dell'alunno non valido.",
    );
    match pupil.birth_date.as_deref().map(str::trim) {
        None | Some("") => c.missing("pupil.birth_date"),
        Some(raw) => match parse_date(raw) {
            None => c.invalid(
                "pupil.birth_date",
                "Data di nascita non valida: usa il formato AAAA-MM-GG.",
            ),
            Some(date) if date > ctx.today => c.invalid(
                "pupil.birth_date",
                "La data di nascita non può essere nel futuro.",
            ),
            Some(date) => {
                if let Some(Ok(code)) = &pupil_code {
                    let (day, month) = code.birth_day_month();
                    let agrees = date.day() == day
                        && date.month() == month
                        && (date.year().rem_euclid(100)) as u8 == code.birth_year_two_digits();
                    if !agrees {
                        c.invalid(
                            "pupil.birth_date",
                            "La data di nascita non corrisponde al codice fiscale dell'alunno.",
                        );
                    }
                }
            }
        },
    }
    c.text(
        "pupil.school",
        pupil.school.as_ref(),
        |v| text_ok(v, 120),
        "Nome della scuola non valido.",
    );
    if let (Some(school), Some(form)) = (pupil.school.as_deref(), ctx.form.as_ref())
        && !form.schools.is_empty()
        && text_ok(school, 120)
        && !form.schools.iter().any(|s| s == school.trim())
    {
        c.report.invalid.push(FieldError::new(
            "pupil.school",
            "unknown_school",
            "Scuola non tra quelle del Comune: scegli dall'elenco.",
        ));
    }
    c.text(
        "pupil.grade",
        pupil.grade.as_ref(),
        |v| text_ok(v, 10) && v.chars().all(|ch| ch.is_alphanumeric() || ch == ' '),
        "Classe non valida.",
    );
    if let Some(section) = pupil.section.as_deref()
        && !section.trim().is_empty()
        && !(text_ok(section, 10)
            && section
                .trim()
                .chars()
                .all(|ch| ch.is_alphanumeric() || ch == ' '))
    {
        c.invalid("pupil.section", "Sezione non valida.");
    }

    let guardian = body.guardian.clone().unwrap_or_default();
    c.text(
        "guardian.fiscal_code",
        guardian.fiscal_code.as_ref(),
        |v| FiscalCode::parse(v).is_ok(),
        "Codice fiscale del genitore non valido: controlla le 16 lettere e cifre.",
    );
    c.text(
        "guardian.first_name",
        guardian.first_name.as_ref(),
        name_ok,
        "Nome non valido.",
    );
    c.text(
        "guardian.last_name",
        guardian.last_name.as_ref(),
        name_ok,
        "Cognome non valido.",
    );
    c.one_of(
        "guardian.relationship",
        guardian.relationship.as_ref(),
        RELATIONSHIPS,
        "Indica se sei madre, padre o tutore.",
    );
    c.text(
        "guardian.email",
        guardian.email.as_ref(),
        |v| Email::parse(v).is_ok(),
        "Indirizzo email non valido.",
    );
    c.text(
        "guardian.phone",
        guardian.phone.as_ref(),
        |v| Phone::parse(v).is_ok(),
        "Numero di telefono non valido: indica un cellulare o un fisso italiano, oppure un numero estero con il prefisso internazionale (+…).",
    );
    let address = guardian.address.clone().unwrap_or_default();
    c.text(
        "guardian.address.street",
        address.street.as_ref(),
        |v| text_ok(v, 120),
        "Indirizzo non valido.",
    );
    c.text(
        "guardian.address.city",
        address.city.as_ref(),
        |v| text_ok(v, 80),
        "Comune non valido.",
    );
    c.text(
        "guardian.address.postal_code",
        address.postal_code.as_ref(),
        |v| PostalCode::parse(v).is_ok(),
        "Il CAP è formato da 5 cifre.",
    );
    c.text(
        "guardian.address.province",
        address.province.as_ref(),
        |v| Province::parse(v).is_ok(),
        "Sigla della provincia non valida (ad esempio BA).",
    );
    if let (Some(Ok(p)), Some(Ok(g))) = (
        &pupil_code,
        guardian.fiscal_code.as_deref().map(FiscalCode::parse),
    ) && p == &g
    {
        c.invalid(
            "guardian.fiscal_code",
            "Il codice fiscale del genitore non può essere quello dell'alunno.",
        );
    }

    let service = body.service.clone().unwrap_or_default();
    let form = ctx.form.clone().unwrap_or_else(Form::meals);
    let meals = form.service == Service::Refezione;
    let care = form.service == Service::PrePostScuola;
    let bus = form.service == Service::Trasporto;
    if meals {
        let diet = service.diet.clone().unwrap_or_default();
        c.one_of(
            "service.diet.kind",
            diet.kind.as_ref(),
            DIET_KINDS,
            "Tipo di dieta non valido.",
        );
        if let Some(notes) = &diet.notes
            && notes.chars().count() > 1000
        {
            c.invalid(
                "service.diet.notes",
                "Le note possono avere al massimo 1000 caratteri.",
            );
        }
        if diet.kind.as_deref() == Some("medical") && !ctx.has_medical_certificate {
            c.missing("attachments.medical_certificate");
        }
    } else {
        c.not_applicable("service.diet", service.diet.is_some());
    }
    if meals || care {
        c.days("service.days", service.days.as_ref());
    } else {
        c.not_applicable("service.days", service.days.is_some());
    }
    if care {
        c.chosen(
            "service.slots",
            service.slots.as_ref(),
            &form.slots,
            true,
            "Fasce orarie non valide: scegli tra quelle del servizio, senza ripetizioni.",
        );
        let after_school = service
            .slots
            .as_ref()
            .is_some_and(|s| s.iter().any(|id| id == AFTER_SCHOOL_SLOT));
        if after_school {
            let pickup = service.pickup.clone().unwrap_or_default();
            c.meeting(
                "service.pickup",
                pickup.autonomous_exit,
                pickup.delegates.as_ref(),
            );
        } else {
            c.not_applicable("service.pickup", service.pickup.is_some());
        }
    } else {
        c.not_applicable("service.slots", service.slots.is_some());
        c.not_applicable("service.pickup", service.pickup.is_some());
    }
    if bus {
        let transport = service.transport.clone().unwrap_or_default();
        c.text(
            "service.transport.stop_id",
            transport.stop_id.as_ref(),
            |v| form.stops.iter().any(|s| s == v),
            "Fermata inesistente: scegli una fermata dall'elenco.",
        );
        c.one_of(
            "service.transport.direction",
            transport.direction.as_ref(),
            DIRECTIONS,
            "Indica se l'alunno viaggia all'andata, al ritorno o in entrambi i sensi.",
        );
        c.meeting(
            "service.transport",
            transport.autonomous_exit,
            transport.delegates.as_ref(),
        );
    } else {
        c.not_applicable("service.transport", service.transport.is_some());
    }
    if form.criteria.is_empty() {
        c.not_applicable(
            "service.criteria",
            service.criteria.as_ref().is_some_and(|v| !v.is_empty()),
        );
    } else {
        c.chosen(
            "service.criteria",
            service.criteria.as_ref(),
            &form.criteria,
            false,
            "Criteri non validi: scegli tra quelli del servizio, senza ripetizioni.",
        );
    }

    if let Some(isee) = &body.isee {
        match isee.isee_cents {
            None => c.missing("isee.isee_cents"),
            Some(v) if !(0..=MAX_ISEE_CENTS).contains(&v) => c.invalid(
                "isee.isee_cents",
                "Valore ISEE non valido (in centesimi di euro, da 0 a 1.000.000 €).",
            ),
            Some(_) => {}
        }
        match isee.attachment_id.as_deref().map(str::trim) {
            None | Some("") => c.missing("isee.attachment_id"),
            Some(_) if !ctx.isee_attachment_uploaded => c.missing("isee.attachment_id"),
            Some(_) => {}
        }
    }

    let decl = body.declarations.clone().unwrap_or_default();
    for (field, value) in [
        ("declarations.privacy", decl.privacy),
        ("declarations.regulation", decl.regulation),
        ("declarations.truthfulness", decl.truthfulness),
    ] {
        if value != Some(true) {
            c.missing(field);
        }
    }
    report
}

/// The fields a draft needs: pupil and guardian names and fiscal codes, and
/// the privacy consent.
pub const DRAFT_MINIMUM: &[&str] = &[
    "pupil.fiscal_code",
    "pupil.first_name",
    "pupil.last_name",
    "guardian.fiscal_code",
    "guardian.first_name",
    "guardian.last_name",
    "declarations.privacy",
];

fn required_message(field: &str) -> String {
    match field {
        "declarations.privacy" => {
            "Per salvare la domanda devi prendere visione dell'informativa sulla privacy.".into()
        }
        "declarations.regulation" => "Devi accettare il regolamento del servizio.".into(),
        "declarations.truthfulness" => {
            "Devi confermare la dichiarazione sostitutiva (DPR 445/2000).".into()
        }
        "attachments.medical_certificate" => {
            "Per la dieta sanitaria allega il certificato medico.".into()
        }
        "isee.attachment_id" => "Allega l'attestazione ISEE.".into(),
        "service.slots" => "Scegli almeno una fascia oraria.".into(),
        "service.days" => "Scegli almeno un giorno.".into(),
        "service.transport.stop_id" => "Scegli la fermata.".into(),
        "service.transport.direction" => {
            "Indica se l'alunno viaggia all'andata, al ritorno o in entrambi i sensi.".into()
        }
        "service.transport.autonomous_exit" | "service.pickup.autonomous_exit" => {
            "Indica se autorizzi l'uscita autonoma o chi accoglie l'alunno.".into()
        }
        _ => "Campo obbligatorio.".into(),
    }
}

fn field_errors(fields: &[String]) -> Vec<FieldError> {
    fields
        .iter()
        .map(|f| FieldError::new(f.clone(), "required", required_message(f)))
        .collect()
}

/// Decide whether a body may be stored as a draft: invalid values are
/// `422 invalid_fields`; a missing minimum is `422 incomplete`.
pub fn check_draft(report: &Report) -> Result<(), Error> {
    if !report.invalid.is_empty() {
        return Err(Error::InvalidFields(report.invalid.clone()));
    }
    let lacking: Vec<String> = DRAFT_MINIMUM
        .iter()
        .filter(|f| report.missing.iter().any(|m| m == *f))
        .map(|f| (*f).to_owned())
        .collect();
    if lacking.is_empty() {
        Ok(())
    } else {
        Err(Error::Incomplete(field_errors(&lacking)))
    }
}

/// Decide whether a body is complete for submission.
pub fn check_complete(report: &Report) -> Result<(), Error> {
    if !report.invalid.is_empty() {
        return Err(Error::InvalidFields(report.invalid.clone()));
    }
    if report.missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Incomplete(field_errors(&report.missing)))
    }
}

/// One entry of an application's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `parent`, `staff`, `system`.
    pub by: String,
    pub from: Option<Status>,
    pub to: Status,
    /// Why, when the office recorded it (a withdrawal on the family's behalf).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_phone_is_proved_by_the_same_number_in_any_writing() {
        use super::phone_proof;
        let proved = [None, Some("+393331234567")];
        assert_eq!(
            phone_proof(Some("333 123 4567"), &proved).as_deref(),
            Some("+393331234567")
        );
        assert_eq!(
            phone_proof(Some("0039 333-1234567"), &proved).as_deref(),
            Some("+393331234567")
        );
        assert_eq!(phone_proof(Some("333 123 4568"), &proved), None);
        assert_eq!(phone_proof(None, &proved), None);
        assert_eq!(phone_proof(Some("333 123 4567"), &[None, None]), None);
    }

    use super::*;
    use time::macros::date;

    fn ctx() -> Context {
        Context {
            today: date!(2025 - 04 - 22),
            has_medical_certificate: false,
            isee_attachment_uploaded: false,
            form: None,
        }
    }

    /// A complete body; the pupil's code is computed to be valid.
    fn complete() -> ApplicationBody {
        serde_json::from_value(serde_json::json!({
            "window_id": "w-1", "kind": "new",
            "pupil": { "fiscal_code": "RSSMRA15E41A662S", "first_name": "Maria", "last_name": "Rossi",
                       "birth_date": "2015-05-01", "school": "Primaria G. Mazzini", "grade": "3", "section": "B" },
            "guardian": { "fiscal_code": "BNCNNA80A41A662C", "first_name": "Anna", "last_name": "Bianchi",
                          "relationship": "madre", "email": "anna@example.it", "phone": "+393331234567",
                          "address": { "street": "Via Roma 1", "city": "Corato", "postal_code": "70033", "province": "BA" } },
            "service": { "diet": { "kind": "none", "notes": "" }, "days": ["mon","tue","wed","thu","fri"] },
            "isee": null,
            "declarations": { "privacy": true, "regulation": true, "truthfulness": true }
        }))
        .expect("body")
    }

    fn fix_codes(mut body: ApplicationBody) -> ApplicationBody {
        // Make the check characters right whatever they were typed as.
        for code in [
            body.pupil.as_mut().and_then(|p| p.fiscal_code.as_mut()),
            body.guardian.as_mut().and_then(|g| g.fiscal_code.as_mut()),
        ]
        .into_iter()
        .flatten()
        {
            for c in 'A'..='Z' {
                let candidate = format!("{}{c}", &code[..15]);
                if FiscalCode::parse(&candidate).is_ok() {
                    *code = candidate;
                    break;
                }
            }
        }
        body
    }

    #[test]
    fn a_complete_body_has_nothing_missing() {
        let r = validate(&fix_codes(complete()), &ctx());
        assert_eq!(r.invalid, vec![]);
        assert_eq!(r.missing, Vec::<String>::new());
        assert!(check_complete(&r).is_ok());
        assert!(check_draft(&r).is_ok());
    }

    #[test]
    fn an_empty_body_misses_the_draft_minimum() {
        let r = validate(&ApplicationBody::default(), &ctx());
        let err = check_draft(&r).expect_err("incomplete");
        assert_eq!(err.code(), "incomplete");
        let fields: Vec<&str> = err
            .fields()
            .unwrap_or(&[])
            .iter()
            .map(|f| f.field.as_str())
            .collect();
        assert_eq!(fields, DRAFT_MINIMUM);
    }

    #[test]
    fn bad_values_are_field_errors() {
        let mut b = fix_codes(complete());
        if let Some(g) = b.guardian.as_mut() {
            g.phone = Some("12345".into());
            g.email = Some("anna".into());
            if let Some(a) = g.address.as_mut() {
                a.postal_code = Some("7003".into());
                a.province = Some("XX".into());
            }
        }
        if let Some(p) = b.pupil.as_mut() {
            p.fiscal_code = Some("RSSMRA15E41A662X".into());
        }
        let r = validate(&b, &ctx());
        let fields: Vec<&str> = r.invalid.iter().map(|f| f.field.as_str()).collect();
        for f in [
            "pupil.fiscal_code",
            "guardian.email",
            "guardian.phone",
            "guardian.address.postal_code",
            "guardian.address.province",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        assert_eq!(
            check_draft(&r).expect_err("invalid").code(),
            "invalid_fields"
        );
    }

    #[test]
    fn birth_date_must_agree_with_the_fiscal_code() {
        let mut b = fix_codes(complete());
        if let Some(p) = b.pupil.as_mut() {
            p.birth_date = Some("2015-05-02".into());
        }
        let r = validate(&b, &ctx());
        assert!(r.invalid.iter().any(|f| f.field == "pupil.birth_date"));
        if let Some(p) = b.pupil.as_mut() {
            p.birth_date = Some("2015-13-01".into());
        }
        assert!(
            validate(&b, &ctx())
                .invalid
                .iter()
                .any(|f| f.field == "pupil.birth_date")
        );
    }

    #[test]
    fn medical_diet_needs_a_certificate_and_isee_an_attachment() {
        let mut b = fix_codes(complete());
        if let Some(s) = b.service.as_mut() {
            s.diet = Some(Diet {
                kind: Some("medical".into()),
                notes: Some("Celiachia".into()),
            });
        }
        b.isee = Some(Isee {
            isee_cents: Some(1_250_000),
            attachment_id: Some("att-1".into()),
        });
        let r = validate(&b, &ctx());
        assert!(
            r.missing
                .contains(&"attachments.medical_certificate".to_string())
        );
        assert!(r.missing.contains(&"isee.attachment_id".to_string()));
        let ok = Context {
            has_medical_certificate: true,
            isee_attachment_uploaded: true,
            ..ctx()
        };
        assert!(validate(&b, &ok).missing.is_empty());
    }

    #[test]
    fn declarations_must_all_be_true_to_submit() {
        let mut b = fix_codes(complete());
        b.declarations = Some(Declarations {
            privacy: Some(true),
            regulation: Some(false),
            truthfulness: None,
        });
        let r = validate(&b, &ctx());
        assert!(check_draft(&r).is_ok());
        let err = check_complete(&r).expect_err("incomplete");
        assert_eq!(err.code(), "incomplete");
        assert_eq!(
            r.missing,
            vec!["declarations.regulation", "declarations.truthfulness"]
        );
    }

    #[test]
    fn unknown_enum_values_and_days() {
        let mut b = fix_codes(complete());
        b.kind = Some("other".into());
        if let Some(s) = b.service.as_mut() {
            s.days = Some(vec!["mon".into(), "mon".into()]);
        }
        if let Some(g) = b.guardian.as_mut() {
            g.relationship = Some("zio".into());
        }
        let r = validate(&b, &ctx());
        let fields: Vec<&str> = r.invalid.iter().map(|f| f.field.as_str()).collect();
        assert!(fields.contains(&"kind"));
        assert!(fields.contains(&"service.days"));
        assert!(fields.contains(&"guardian.relationship"));
    }

    #[test]
    fn statuses() {
        assert!(Status::Draft.editable());
        assert!(Status::Submitted.editable());
        assert!(!Status::Confirmed.editable());
        assert!(!Status::Expired.editable());
        assert_eq!(
            serde_json::to_string(&Status::Submitted).unwrap_or_default(),
            "\"submitted\""
        );
    }

    fn form(service: Service) -> Context {
        Context {
            form: Some(Form {
                service,
                stops: vec!["st-1".into(), "st-2".into()],
                slots: vec!["pre".into(), "post".into()],
                criteria: vec!["work".into(), "far".into()],
                schools: Vec::new(),
            }),
            ..ctx()
        }
    }

    fn with_service(service: serde_json::Value) -> ApplicationBody {
        let mut b = fix_codes(complete());
        b.service = Some(serde_json::from_value(service).expect("service part"));
        b
    }

    fn codes_at(report: &Report, path: &str) -> Vec<&'static str> {
        report
            .invalid
            .iter()
            .filter(|f| f.field == path)
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn each_service_asks_its_own_part() {
        let delegate = serde_json::json!({ "first_name": "Lucia", "last_name": "Bianchi",
            "fiscal_code": "RSSMRA80A41A662E", "relationship": "nonna" });
        // The bus: a stop, a direction, the authorization or delegates.
        let bus = with_service(serde_json::json!({ "transport": { "stop_id": "st-1",
            "direction": "both", "autonomous_exit": false, "delegates": [delegate] } }));
        let r = validate(&bus, &form(Service::Trasporto));
        assert!(r.invalid.is_empty() && r.missing.is_empty(), "{r:?}");
        let r = validate(
            &with_service(serde_json::json!({ "transport": {} })),
            &form(Service::Trasporto),
        );
        for m in [
            "service.transport.stop_id",
            "service.transport.direction",
            "service.transport.autonomous_exit",
        ] {
            assert!(r.missing.iter().any(|x| x == m), "{m}: {r:?}");
        }
        let r = validate(
            &with_service(
                serde_json::json!({ "transport": { "stop_id": "st-9", "direction": "up",
                "autonomous_exit": true, "delegates": [delegate] } }),
            ),
            &form(Service::Trasporto),
        );
        assert_eq!(codes_at(&r, "service.transport.stop_id"), ["invalid"]);
        assert_eq!(codes_at(&r, "service.transport.direction"), ["invalid"]);
        assert_eq!(
            codes_at(&r, "service.transport.delegates"),
            ["not_applicable"]
        );
        let five = serde_json::json!({ "transport": { "stop_id": "st-1", "direction": "both",
            "autonomous_exit": false, "delegates": [delegate, delegate, delegate, delegate, delegate] } });
        let r = validate(&with_service(five), &form(Service::Trasporto));
        assert_eq!(codes_at(&r, "service.transport.delegates"), ["invalid"]);
        let bad = serde_json::json!({ "transport": { "stop_id": "st-1", "direction": "both",
            "autonomous_exit": false, "delegates": [{ "first_name": "Lucia", "last_name": "B",
            "fiscal_code": "RSSMRA80A41A662X", "relationship": "nonna" }] } });
        let r = validate(&with_service(bad), &form(Service::Trasporto));
        assert_eq!(
            codes_at(&r, "service.transport.delegates.0.fiscal_code"),
            ["invalid"]
        );
        // Meal parts on a bus application, a stop on a meal one.
        let r = validate(&fix_codes(complete()), &form(Service::Trasporto));
        assert_eq!(codes_at(&r, "service.diet"), ["not_applicable"]);
        assert_eq!(codes_at(&r, "service.days"), ["not_applicable"]);
        let mut meal = fix_codes(complete());
        meal.service.as_mut().expect("service").transport = Some(Transport::default());
        let r = validate(&meal, &form(Service::Refezione));
        assert_eq!(codes_at(&r, "service.transport"), ["not_applicable"]);

        // Care: slots among the tenant's, days; after school, who meets the child.
        let care = with_service(serde_json::json!({ "slots": ["pre"], "days": ["mon", "wed"] }));
        let r = validate(&care, &form(Service::PrePostScuola));
        assert!(r.invalid.is_empty() && r.missing.is_empty(), "{r:?}");
        let r = validate(
            &with_service(serde_json::json!({ "slots": ["pre", "post"], "days": ["mon"] })),
            &form(Service::PrePostScuola),
        );
        assert_eq!(r.missing, ["service.pickup.autonomous_exit"]);
        let r = validate(
            &with_service(serde_json::json!({ "slots": ["post"], "days": ["mon"],
                "pickup": { "autonomous_exit": false, "delegates": [delegate] } })),
            &form(Service::PrePostScuola),
        );
        assert!(r.invalid.is_empty() && r.missing.is_empty(), "{r:?}");
        let r = validate(
            &with_service(
                serde_json::json!({ "slots": ["pre", "pre", "night"], "days": ["mon"],
                "pickup": { "autonomous_exit": true }, "diet": { "kind": "none" } }),
            ),
            &form(Service::PrePostScuola),
        );
        assert_eq!(codes_at(&r, "service.slots"), ["invalid"]);
        assert_eq!(codes_at(&r, "service.pickup"), ["not_applicable"]);
        assert_eq!(codes_at(&r, "service.diet"), ["not_applicable"]);
        let r = validate(
            &with_service(serde_json::json!({})),
            &form(Service::PrePostScuola),
        );
        assert!(
            r.missing.iter().any(|m| m == "service.slots")
                && r.missing.iter().any(|m| m == "service.days")
        );

        // Criteria: among the service's, or none where it has none.
        let mut b = care.clone();
        b.service.as_mut().expect("service").criteria = Some(vec!["work".into(), "far".into()]);
        assert!(
            validate(&b, &form(Service::PrePostScuola))
                .invalid
                .is_empty()
        );
        b.service.as_mut().expect("service").criteria = Some(vec!["rich".into()]);
        assert_eq!(
            codes_at(
                &validate(&b, &form(Service::PrePostScuola)),
                "service.criteria"
            ),
            ["invalid"]
        );
        let mut meal = fix_codes(complete());
        meal.service.as_mut().expect("service").criteria = Some(vec!["work".into()]);
        assert_eq!(
            codes_at(&validate(&meal, &ctx()), "service.criteria"),
            ["not_applicable"]
        );
    }
}

/// Uploads are at most 5 MiB.
pub const MAX_ATTACHMENT_BYTES: u64 = 5 * 1024 * 1024;
pub const ATTACHMENT_KINDS: &[&str] = &["isee", "medical_certificate"];
pub const ATTACHMENT_TYPES: &[&str] = &["application/pdf", "image/jpeg", "image/png"];

/// An uploaded file of an application (ISEE attestation, medical
/// certificate). The file itself lives in the private bucket; its name as
/// the parent gave it is kept here only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub object_key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The upload was seen in storage with an acceptable size: later reads
    /// trust this instead of asking the storage again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirmed: bool,
}

/// The fee band a submitted application falls in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeBand {
    pub code: String,
    pub fee_cents: i64,
}

/// Who created an application: the identities of the creating session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The verified email of the creating session.
    pub email: Option<String>,
    /// The SPID/CIE fiscal code of the creating session.
    pub spid_fiscal_code: Option<String>,
}

/// A stored application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    pub window_id: String,
    pub kind: String,
    pub body: ApplicationBody,
    pub status: Status,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub first_saved_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub decision_reason: Option<String>,
    #[serde(default)]
    pub user_code: Option<String>,
    #[serde(default)]
    pub fee_band: Option<FeeBand>,
    pub owner: Owner,
    /// Normalised pupil and guardian fiscal codes (fixed at creation).
    pub pupil_fiscal_code: String,
    pub guardian_fiscal_code: String,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// Another family tried to enroll the same pupil while this application
    /// held it: the office should look (shown to staff only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub contested: bool,
    /// The guardian's mobile number (E.164) as proved by an SMS code in a
    /// session that saved or submitted this application; it proves
    /// `guardian.phone` only while that number is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proved_phone: Option<String>,
    /// Its key in the window's order while it holds a place
    /// (`domain::ranking::rank_key`), kept up to date by every change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_key: Option<String>,
    /// The office's open request for changes (while `changes_requested`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_request: Option<ChangeRequest>,
    /// The status this application is counted under in its window's
    /// counts: the status as read from the store (`None` for one not yet
    /// stored). Never stored itself: the store compares it with `status`
    /// to move the count in the same write.
    #[serde(skip)]
    pub counted_as: Option<Status>,
}

/// What the office asked the family to change, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequest {
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// `staff:<sub>`.
    pub by: String,
}

/// A staff member's opening of an attachment with health data, kept beside
/// the application and shown in the history staff read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentAccess {
    /// Its own random id (two openings in one second are two records).
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `staff:<sub>`.
    pub by: String,
    pub attachment_id: String,
    pub kind: String,
}

/// The proof that `guardian_phone` carries: the first of `proved` (the
/// session's verified phone, the application's earlier proof) that is the
/// same number in E.164, if any.
pub fn phone_proof(guardian_phone: Option<&str>, proved: &[Option<&str>]) -> Option<String> {
    let given = Phone::parse(guardian_phone?).ok()?;
    proved
        .iter()
        .flatten()
        .find(|p| Phone::parse(p).is_ok_and(|p| p == given))
        .map(|_| given.to_string())
}

impl Application {
    /// The guardian's phone as written now, if any.
    pub fn guardian_phone(&self) -> Option<&str> {
        self.body.guardian.as_ref().and_then(|g| g.phone.as_deref())
    }

    /// Whether `guardian.phone` is the number proved for this application.
    pub fn phone_proved(&self) -> bool {
        phone_proof(self.guardian_phone(), &[self.proved_phone.as_deref()]).is_some()
    }

    /// Whether the family may still write to this application at `now`:
    /// while the window is open, or, when the office asked for changes,
    /// until the request's due time even after the window's close.
    pub fn open_to_family(&self, window: &super::window::Window, now: OffsetDateTime) -> bool {
        match (&self.status, &self.change_request) {
            (Status::ChangesRequested, Some(request)) => now <= request.due_at,
            (Status::ChangesRequested, None) => false,
            _ => window.is_open(now),
        }
    }

    /// Whether the application must stay complete when the family changes
    /// it (it was submitted).
    pub fn must_stay_complete(&self) -> bool {
        matches!(self.status, Status::Submitted | Status::ChangesRequested)
    }

    /// "Maria Rossi": the pupil's first and last name as typed, for mails.
    pub fn pupil_name(&self) -> String {
        let p = self.body.pupil.as_ref();
        let part = |f: Option<&String>| f.map(|v| v.trim().to_owned()).unwrap_or_default();
        format!(
            "{} {}",
            part(p.and_then(|p| p.first_name.as_ref())),
            part(p.and_then(|p| p.last_name.as_ref()))
        )
        .trim()
        .to_owned()
    }

    /// The pupil's and the guardian's normalised codes of a body that passed
    /// `check_draft` (which guarantees both parse).
    pub fn codes_of(body: &ApplicationBody) -> Result<(FiscalCode, FiscalCode), Error> {
        let pupil = body
            .pupil
            .as_ref()
            .and_then(|p| p.fiscal_code.as_deref())
            .and_then(|c| FiscalCode::parse(c).ok());
        let guardian = body
            .guardian
            .as_ref()
            .and_then(|g| g.fiscal_code.as_deref())
            .and_then(|c| FiscalCode::parse(c).ok());
        match (pupil, guardian) {
            (Some(p), Some(g)) => Ok((p, g)),
            _ => Err(Error::Internal("codes_of on an unchecked body".into())),
        }
    }
}
