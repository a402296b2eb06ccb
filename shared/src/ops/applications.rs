//! Applications from the parent's side: save a draft, update it, read it,
//! list one's own. Every write is conditional: a guard item per pupil and
//! window (in the same transaction as the application), the version for
//! updates.

use super::sessions::{
    SessionClaims, check_guardian_email, family_of, guardian_key, load_own, owner_keys, pupil_key,
    require_email_or_password,
};
use crate::app::App;
use crate::domain::application::{
    self, Application, ApplicationBody, Attachment, Context, FeeBand, Form, HistoryEntry, Owner,
    Status,
};
use crate::domain::error::{Error, FieldError};
use crate::domain::fiscal_code::FiscalCode;
use crate::domain::tenant::Tenant;
use crate::domain::window::{Service, Window};
use crate::ports::{
    ApplicationKeys, CreateError, Hold, MessageKind, OutboxMessage, Owed, StoreError,
};

use super::retry::{self, Attempt};

/// Whether a look at the uploads records what it finds (writes do; reads,
/// which may run in a function that only reads, do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Uploads {
    Record,
    Look,
}

/// What the window's service offers the form, if the window is known.
pub(crate) fn form_of(tenant: &Tenant, window: Option<&Window>) -> Option<Form> {
    form_of_service(tenant, window.map(|w| w.service))
}

/// The form of a window's service, when the tenant offers it.
fn form_of_service(tenant: &Tenant, service: Option<Service>) -> Option<Form> {
    service.filter(|s| tenant.offers(*s)).map(|s| Form {
        schools: tenant.school_names(),
        ..Form::of(&tenant.service(s))
    })
}

/// The facts validation needs besides the body: today, the window's
/// service, and which uploads of the application really reached the bucket.
pub(crate) async fn context(
    app: &App,
    tenant: &Tenant,
    application_id: Option<&str>,
    body: &ApplicationBody,
    window: Option<&Window>,
    uploads: Uploads,
) -> Result<Context, Error> {
    context_of(
        app,
        tenant,
        application_id,
        body,
        form_of(tenant, window),
        uploads,
        None,
    )
    .await
}

/// `context`, with the application's attachment records when the caller
/// read them already.
pub(crate) async fn context_with(
    app: &App,
    tenant: &Tenant,
    application_id: &str,
    body: &ApplicationBody,
    window: Option<&Window>,
    uploads: Uploads,
    attachments: Vec<Attachment>,
) -> Result<Context, Error> {
    context_of(
        app,
        tenant,
        Some(application_id),
        body,
        form_of(tenant, window),
        uploads,
        Some(attachments),
    )
    .await
}

async fn context_of(
    app: &App,
    tenant: &Tenant,
    application_id: Option<&str>,
    body: &ApplicationBody,
    form: Option<Form>,
    uploads: Uploads,
    known: Option<Vec<Attachment>>,
) -> Result<Context, Error> {
    let mut ctx = Context {
        today: app.clock.now().date(),
        has_medical_certificate: false,
        isee_attachment_uploaded: false,
        form,
    };
    let Some(id) = application_id else {
        return Ok(ctx);
    };
    let wanted_isee = body.isee.as_ref().and_then(|i| i.attachment_id.as_deref());
    let attachments = match known {
        Some(known) => known,
        None => app.store.attachments(&tenant.slug, id).await?,
    };
    for att in attachments {
        let relevant = att.kind == "medical_certificate" || Some(att.id.as_str()) == wanted_isee;
        if !relevant {
            continue;
        }
        if !uploaded(app, tenant, id, &att, uploads).await? {
            continue;
        }
        if att.kind == "medical_certificate" {
            ctx.has_medical_certificate = true;
        }
        if att.kind == "isee" && Some(att.id.as_str()) == wanted_isee {
            ctx.isee_attachment_uploaded = true;
        }
    }
    Ok(ctx)
}

/// The fee band an application's body gives now: from its declared ISEE,
/// the highest band without one. Computed on submission and on every
/// later change, so that it always follows the ISEE the application has.
pub fn fee_band(tenant: &Tenant, service: Service, body: &ApplicationBody) -> Option<FeeBand> {
    let isee = body.isee.as_ref().and_then(|i| i.isee_cents);
    tenant.service(service).fee_band(isee).map(|b| FeeBand {
        code: b.code.clone(),
        fee_cents: b.fee_cents,
    })
}

/// Whether an attachment's file arrived: once seen in storage with an
/// acceptable size, the record says so and storage is not asked again (one
/// `HeadObject` per upload, not one per read).
async fn uploaded(
    app: &App,
    tenant: &Tenant,
    application_id: &str,
    att: &Attachment,
    uploads: Uploads,
) -> Result<bool, Error> {
    if att.confirmed {
        return Ok(true);
    }
    let arrived = app
        .documents
        .size(&att.object_key)
        .await?
        .is_some_and(|size| size > 0 && size <= application::MAX_ATTACHMENT_BYTES);
    if arrived && uploads == Uploads::Record {
        let confirmed = Attachment {
            confirmed: true,
            ..att.clone()
        };
        // Best effort: a lost write only costs another look next time, and
        // a record replaced meanwhile (a newer upload) stays deleted.
        match app
            .store
            .replace_attachment(&tenant.slug, application_id, &confirmed)
            .await
        {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => tracing::warn!(error = %e, "upload confirmation not recorded"),
        }
    }
    Ok(arrived)
}

/// `missing` of an application now.
pub async fn missing(app: &App, tenant: &Tenant, a: &Application) -> Result<Vec<String>, Error> {
    missing_of(app, tenant, a, None).await
}

/// "Riepilogo", "Stato iscrizione": the caller's application and what it
/// still lacks, from one read of its partition (and the window's service,
/// which this process keeps).
pub async fn read_with_missing(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    id: &str,
) -> Result<(Application, Vec<String>), Error> {
    let (a, attachments) =
        super::sessions::load_own_with_attachments(app, tenant, session, id).await?;
    let missing = missing_of(app, tenant, &a, Some(attachments)).await?;
    Ok((a, missing))
}

async fn missing_of(
    app: &App,
    tenant: &Tenant,
    a: &Application,
    attachments: Option<Vec<Attachment>>,
) -> Result<Vec<String>, Error> {
    // Only the window's service matters here, and it never changes: this
    // process keeps it once read.
    let service = match app.tenants.window_service(&tenant.slug, &a.window_id) {
        Some(s) => Some(s),
        None => {
            let window = app.store.get_window(&tenant.slug, &a.window_id).await?;
            if let Some(w) = &window {
                app.tenants
                    .keep_window_service(&tenant.slug, &w.id, w.service);
            }
            window.map(|w| w.service)
        }
    };
    let ctx = context_of(
        app,
        tenant,
        Some(&a.id),
        &a.body,
        form_of_service(tenant, service),
        Uploads::Look,
        attachments,
    )
    .await?;
    Ok(application::validate(&a.body, &ctx).missing)
}

/// The window of `window_id`, if it exists for a service the tenant offers.
pub(crate) async fn find_window(
    app: &App,
    tenant: &Tenant,
    window_id: Option<&str>,
) -> Result<Option<Window>, Error> {
    let Some(id) = window_id.filter(|w| !w.trim().is_empty()) else {
        return Ok(None);
    };
    Ok(super::tenants::window(app, tenant, id)
        .await?
        .filter(|w| tenant.offers(w.service)))
}

pub(crate) async fn open_window(
    app: &App,
    tenant: &Tenant,
    window_id: &str,
) -> Result<Window, Error> {
    let window = find_window(app, tenant, Some(window_id)).await?;
    check_open(app, window)
}

/// The error for a `window_id` that names no window of the tenant.
fn unknown_window() -> Error {
    Error::InvalidFields(vec![FieldError::new(
        "window_id",
        "invalid",
        "Periodo di iscrizione inesistente.",
    )])
}

/// `window` (looked up before), which must exist and be open.
pub(crate) fn check_open(app: &App, window: Option<Window>) -> Result<Window, Error> {
    let window = window.ok_or_else(unknown_window)?;
    if !window.is_open(app.clock.now()) {
        return Err(Error::WindowClosed);
    }
    Ok(window)
}

/// `POST applications`: save a new draft.
/// An application just written, and what it still lacks for submission
/// (from the same look at its window and attachments that checked it).
pub struct Saved {
    pub application: Application,
    pub missing: Vec<String>,
}

pub async fn create_draft(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    mut body: ApplicationBody,
) -> Result<Saved, Error> {
    let Some(email) = session.email.clone() else {
        return Err(Error::EmailRequired);
    };
    if body.kind.is_none() {
        body.kind = Some("new".into());
    }
    let found = find_window(app, tenant, body.window_id.as_deref()).await?;
    // Nothing is saved in a closed window, whatever the body says.
    if found.as_ref().is_some_and(|w| !w.is_open(app.clock.now())) {
        return Err(Error::WindowClosed);
    }
    let ctx = context(app, tenant, None, &body, found.as_ref(), Uploads::Look).await?;
    let report = application::validate(&body, &ctx);
    application::check_draft(&report)?;
    check_guardian_email(&body, &[Some(&email)])?;
    if body.kind.as_deref() != Some("new") {
        return Err(Error::InvalidFields(vec![FieldError::new(
            "kind",
            "invalid",
            "Il rinnovo si presenta dalla sezione «Rinnova iscrizione».",
        )]));
    }
    let window_id = body
        .window_id
        .clone()
        .filter(|w| !w.trim().is_empty())
        .ok_or_else(|| {
            Error::Incomplete(vec![FieldError::new(
                "window_id",
                "required",
                "Scegli il servizio e il periodo di iscrizione.",
            )])
        })?;
    let window = check_open(app, found.filter(|w| w.id == window_id))?;
    let (pupil, guardian) = Application::codes_of(&body)?;
    if let Some(spid) = &session.spid_fiscal_code
        && spid != guardian.as_str()
    {
        return Err(Error::InvalidFields(vec![FieldError::new(
            "guardian.fiscal_code",
            "mismatch",
            "Il genitore della domanda deve essere la persona che ha effettuato l'accesso con SPID o CIE.",
        )]));
    }
    let application = fresh(
        app, session, &email, window_id, "new", body, &pupil, &guardian,
    )?;
    store_new(app, tenant, session, &application, &window).await?;
    Ok(Saved {
        missing: application::validate(&application.body, &ctx).missing,
        application,
    })
}

/// A new draft of this session, not yet stored.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fresh(
    app: &App,
    session: &SessionClaims,
    email: &str,
    window_id: String,
    kind: &str,
    body: ApplicationBody,
    pupil: &FiscalCode,
    guardian: &FiscalCode,
) -> Result<Application, Error> {
    let now = app.clock.now();
    let proved_phone = application::phone_proof(
        body.guardian.as_ref().and_then(|g| g.phone.as_deref()),
        &[session.phone.as_deref()],
    );
    Ok(Application {
        id: super::random_id("app")?,
        window_id,
        kind: kind.into(),
        body,
        status: Status::Draft,
        version: 1,
        first_saved_at: now,
        updated_at: now,
        submitted_at: None,
        decided_at: None,
        decision_reason: None,
        user_code: None,
        fee_band: None,
        owner: Owner {
            email: Some(email.to_owned()),
            spid_fiscal_code: session.spid_fiscal_code.clone(),
        },
        pupil_fiscal_code: pupil.to_string(),
        guardian_fiscal_code: guardian.to_string(),
        history: vec![HistoryEntry {
            at: now,
            by: "parent".into(),
            from: None,
            to: Status::Draft,
            reason: None,
        }],
        contested: false,
        proved_phone,
        rank_key: None,
        change_request: None,
        counted_as: None,
    })
}

/// The contract's `duplicate_pupil`, naming the office to contact.
pub(crate) fn duplicate_pupil(tenant: &Tenant) -> Error {
    Error::DuplicatePupil(format!(
        "{}: {}, {}",
        tenant.name, tenant.contact_email, tenant.phone
    ))
}

/// What would hold the pupil of `a` once submitted in `window`.
pub(crate) fn hold_of(app: &App, tenant: &Tenant, a: &Application, window: &Window) -> Hold {
    Hold {
        pupil: pupil_key(app, tenant, &a.pupil_fiscal_code),
        service: window.service.code().to_owned(),
        school_year: window.school_year.to_string(),
    }
}

/// Another family's application holds the pupil: mark it `contested` for
/// the office (at most once; a lost race is harmless) and refuse.
pub(crate) async fn refuse_held(app: &App, tenant: &Tenant, holder_id: &str) -> Error {
    let result = retry::optimistic(retry::ATTEMPTS, move || async move {
        let Some(holder) = app.store.get_application(&tenant.slug, holder_id).await? else {
            return Ok(Attempt::Done(()));
        };
        if holder.contested {
            return Ok(Attempt::Done(()));
        }
        let mut next = holder.clone();
        next.contested = true;
        next.version = holder.version + 1;
        match app
            .store
            .put_application(&tenant.slug, &next, holder.version)
            .await
        {
            Ok(()) => Ok(Attempt::Done(())),
            Err(StoreError::Conflict) => Ok(Attempt::Again),
            Err(e) => Err(e.into()),
        }
    })
    .await;
    match result {
        Ok(()) => tracing::warn!(application = %holder_id, "pupil contested"),
        Err(e) => tracing::error!(application = %holder_id, error = %e, "contest not recorded"),
    }
    duplicate_pupil(tenant)
}

/// Store a new application with the family's guard (one live application
/// of its own per pupil and window), the session's guardian lock and owner
/// links; then, for sessions from the email-code path, mail a password for
/// fiscal-code logins. A draft reserves nothing: another family's draft
/// never blocks it, but a pupil another family's application already holds
/// (submitted or later, same service and year) is refused at once.
pub(crate) async fn store_new(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    application: &Application,
    window: &Window,
) -> Result<(), Error> {
    let keys = ApplicationKeys {
        pupil: pupil_key(app, tenant, &application.pupil_fiscal_code),
        guardian: guardian_key(app, tenant, &application.guardian_fiscal_code),
        owners: owner_keys(app, tenant, session),
    };
    let hold = hold_of(app, tenant, application, window);
    // Sessions from the email-code path are owed a password for
    // fiscal-code logins: its mail and (on the family's first draft for
    // the pupil) its hash go in the same transaction as the draft.
    let message = session
        .pupil
        .is_none()
        .then(|| super::outbox::owed(tenant, application, MessageKind::Password, app.clock.now()));
    let mut password = match (&message, super::sessions::proved_address(application)) {
        (Some(m), Some(to)) => Some(super::outbox::new_password(app, tenant, &to, m)?),
        _ => None,
    };
    fn owed<'a>(
        message: Option<&'a OutboxMessage>,
        password: Option<&'a super::outbox::NewPassword>,
    ) -> Option<Owed<'a>> {
        message.map(|message| Owed {
            message,
            credentials: password.map(|p| (p.family.as_str(), &p.credentials)),
        })
    }
    let mut created = app
        .store
        .create_application(
            &tenant.slug,
            application,
            &keys,
            &hold,
            owed(message.as_ref(), password.as_ref()),
        )
        .await;
    if matches!(created, Err(CreateError::CredentialsExist)) {
        // The family has a password for the pupil (another service, or a
        // withdrawn draft): the message decides when it is sent whether a
        // new one is owed.
        password = None;
        created = app
            .store
            .create_application(
                &tenant.slug,
                application,
                &keys,
                &hold,
                owed(message.as_ref(), None),
            )
            .await;
    }
    match created {
        Ok(()) => {}
        Err(CreateError::Held) => {
            let Some(holder_id) = app.store.holder(&tenant.slug, &hold).await? else {
                // Let go meanwhile: nothing was written; the family retries.
                return Err(StoreError::Unavailable.into());
            };
            let holder = app.store.get_application(&tenant.slug, &holder_id).await?;
            let ours = holder.as_ref().is_some_and(|h| {
                family_of(app, tenant, h)
                    .iter()
                    .any(|k| keys.owners.contains(k))
            });
            if ours {
                return Err(duplicate_pupil(tenant));
            }
            return Err(refuse_held(app, tenant, &holder_id).await);
        }
        Err(CreateError::DuplicatePupil) => return Err(duplicate_pupil(tenant)),
        Err(CreateError::GuardianMismatch) => return Err(Error::GuardianMismatch),
        // Written by a racing draft of the family between the two tries.
        Err(CreateError::CredentialsExist) => return Err(StoreError::Unavailable.into()),
        Err(CreateError::Store(e)) => return Err(e.into()),
    }
    tracing::info!(application = %application.id, kind = %application.kind, "draft created");
    if let Some(message) = &message {
        super::outbox::deliver_now(
            app,
            message,
            super::outbox::InHand {
                tenant,
                application,
                window: Some(window),
                password: password.as_ref().map(|p| p.password.as_str()),
            },
        )
        .await;
    }
    Ok(())
}

/// `GET applications/{id}`.
pub async fn read(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    id: &str,
) -> Result<Application, Error> {
    load_own(app, tenant, session, id).await
}

/// `GET applications`: the caller's own, oldest first.
pub async fn list(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
) -> Result<Vec<Application>, Error> {
    let mut found: Vec<Application> = Vec::new();
    for key in owner_keys(app, tenant, session) {
        for a in app.store.owner_applications(&tenant.slug, &key).await? {
            if !found.iter().any(|f| f.id == a.id) {
                found.push(a);
            }
        }
    }
    if let Some(pupil) = &session.pupil {
        for a in app.store.pupil_applications(&tenant.slug, pupil).await? {
            if !found.iter().any(|f| f.id == a.id) {
                found.push(a);
            }
        }
    }
    found.sort_by_key(|a| a.first_saved_at);
    Ok(found)
}

fn unchanged(field: &str, message: &str) -> Error {
    Error::InvalidFields(vec![FieldError::new(field, "immutable", message)])
}

/// `PUT applications/{id}`: replace the body of a draft or of a submitted
/// application (which must stay complete) while the window is open.
pub async fn update(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    id: &str,
    mut body: ApplicationBody,
    if_match: Option<u64>,
) -> Result<Saved, Error> {
    require_email_or_password(session)?;
    let (current, attachments) =
        super::sessions::load_own_with_attachments(app, tenant, session, id).await?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(Error::VersionConflict);
    }
    if !current.status.editable() {
        return Err(Error::NotEditable);
    }
    if body.kind.is_none() {
        body.kind = Some(current.kind.clone());
    }
    let window = find_window(app, tenant, Some(&current.window_id)).await?;
    if window
        .as_ref()
        .is_some_and(|w| !current.open_to_family(w, app.clock.now()))
    {
        return Err(Error::WindowClosed);
    }
    let ctx = context_with(
        app,
        tenant,
        &current.id,
        &body,
        window.as_ref(),
        Uploads::Record,
        attachments,
    )
    .await?;
    let report = application::validate(&body, &ctx);
    application::check_draft(&report)?;
    if current.must_stay_complete() {
        application::check_complete(&report)?;
    }
    // The session's own address, or the one the application's family
    // proved (a password session, merged or not, holds it).
    check_guardian_email(
        &body,
        &[session.email.as_deref(), current.owner.email.as_deref()],
    )?;
    if body.kind.as_deref() != Some(current.kind.as_str()) {
        return Err(unchanged("kind", "Il tipo di domanda non si può cambiare."));
    }
    if body
        .window_id
        .as_deref()
        .is_some_and(|w| w != current.window_id)
    {
        return Err(unchanged(
            "window_id",
            "Il periodo di iscrizione non si può cambiare: presenta una nuova domanda.",
        ));
    }
    body.window_id = Some(current.window_id.clone());
    let (pupil, guardian) = Application::codes_of(&body)?;
    if pupil.as_str() != current.pupil_fiscal_code {
        return Err(unchanged(
            "pupil.fiscal_code",
            "Il codice fiscale dell'alunno non si può cambiare: presenta una nuova domanda.",
        ));
    }
    if guardian.as_str() != current.guardian_fiscal_code {
        return Err(unchanged(
            "guardian.fiscal_code",
            "Il codice fiscale del genitore non si può cambiare: per correggerlo contatta l'ufficio.",
        ));
    }
    // Open (checked above) for this application: the window, or the
    // office's request for changes.
    let window = window.ok_or_else(unknown_window)?;
    let mut next = current.clone();
    // A phone stays proved only while it is the number proved.
    next.proved_phone = application::phone_proof(
        body.guardian.as_ref().and_then(|g| g.phone.as_deref()),
        &[session.phone.as_deref(), current.proved_phone.as_deref()],
    );
    next.body = body;
    next.version = current.version + 1;
    next.updated_at = app.clock.now();
    if next.must_stay_complete() {
        // The band follows the ISEE the application has now, the place
        // the criteria it declares now.
        next.fee_band = fee_band(tenant, window.service, &next.body);
        super::places::rekey(tenant, &window, &mut next);
    }
    match app
        .store
        .put_application(&tenant.slug, &next, current.version)
        .await
    {
        Ok(()) => {
            // A submitted application's documents follow its data.
            if next.must_stay_complete() {
                super::documents::prepare_all_in(app, tenant, &next, &window, true).await;
            }
            Ok(Saved {
                missing: application::validate(&next.body, &ctx).missing,
                application: next,
            })
        }
        Err(StoreError::Conflict) => Err(Error::VersionConflict),
        Err(e) => Err(e.into()),
    }
}
