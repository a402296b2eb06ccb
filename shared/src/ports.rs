//! The traits the domain needs from the world. Production implements them
//! with DynamoDB, SES and S3 (`crate::aws`); tests use the same adapters
//! against a local emulator. Only the clock has an in-process test double.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::application::{Application, Attachment, AttachmentAccess, Status};
use crate::domain::roster::RosterEntry;
use crate::domain::security_code::CodeState;
use crate::domain::tenant::Tenant;
use crate::domain::values::{MobilePhone, TenantSlug};
use crate::domain::window::Window;

/// Why a storage call failed, as far as the caller needs to know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A condition (version, uniqueness) did not hold: nothing was written.
    #[error("conditional write failed")]
    Conflict,
    /// Throttled or temporarily unreachable: retry later, nothing written.
    #[error("storage temporarily unavailable")]
    Unavailable,
    /// Anything else. The text is for logs and carries no personal data.
    #[error("storage error: {0}")]
    Other(String),
}

/// A stored value with the version its conditional writes must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

/// Why creating an application failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    /// The pupil already has an application in that window.
    #[error("duplicate pupil")]
    DuplicatePupil,
    /// A submission in the same service and school year holds the pupil.
    #[error("pupil held")]
    Held,
    /// The family already has credentials for the pupil: the new ones
    /// were not written (nor anything else).
    #[error("credentials exist")]
    CredentialsExist,
    /// The creating session already named another guardian.
    #[error("guardian mismatch")]
    GuardianMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why recording a submission failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The drawn user code is taken in this tenant: draw another.
    #[error("user code taken")]
    UserCodeTaken,
    /// The application changed since it was read.
    #[error("version conflict")]
    Conflict,
    /// Another application holds the pupil for this service and year.
    #[error("pupil held")]
    Held,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why storing a roster entry failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterWriteError {
    /// The user code belongs to an application of this year, not to the
    /// roster: the line cannot take it.
    #[error("user code taken")]
    UserCodeTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an outbox message is. Its text is made from the stored application
/// when it is sent, so the outbox itself holds no personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The credentials letter of a submission.
    Credentials,
    /// The office's decision (confirmed or rejected).
    Decision,
    /// The temporary password of a family's first draft for a pupil: drawn
    /// when it is sent, so that no secret waits in the outbox.
    Password,
    /// The reminder of drafts in a window about to close, one per family
    /// address and window, naming every pupil still in draft.
    Reminder,
    /// The family gave the application up (or the office recorded it).
    Withdrawal,
    /// A place freed and this application came within the places.
    PlaceAvailable,
    /// The office moved the application to the waiting list.
    Waitlisted,
    /// The office corrected the ranking criteria the family declared.
    Criteria,
    /// The office asked the family for changes (its message, the due time).
    ChangesRequested,
    /// The one reminder 48 hours before a request's due time.
    ChangesReminder,
}

impl MessageKind {
    pub fn code(self) -> &'static str {
        match self {
            MessageKind::Credentials => "credentials",
            MessageKind::Decision => "decision",
            MessageKind::Password => "password",
            MessageKind::Reminder => "reminder",
            MessageKind::Withdrawal => "withdrawal",
            MessageKind::PlaceAvailable => "place_available",
            MessageKind::Waitlisted => "waitlisted",
            MessageKind::Criteria => "criteria",
            MessageKind::ChangesRequested => "changes_requested",
            MessageKind::ChangesReminder => "changes_reminder",
        }
    }
}

/// A mail owed to a guardian, written in the same transaction as the state
/// change that owes it, deleted once the mail service accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub tenant: TenantSlug,
    /// `<application id>-<kind>`: one message of a kind per application.
    pub id: String,
    pub application_id: String,
    pub kind: MessageKind,
    /// Sending attempts so far.
    pub attempts: u32,
    /// Not to be tried before this (the backoff, or a sender's lease).
    pub due: OffsetDateTime,
    /// What is left to send: the mail, then (where owed) the App IO
    /// message.
    pub stage: Stage,
}

/// The step of an outbox message still to be done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Stage {
    #[default]
    Mail,
    /// The mail was accepted; the App IO message is owed.
    AppIo,
}

impl OutboxMessage {
    pub fn new(
        tenant: &TenantSlug,
        application_id: &str,
        kind: MessageKind,
        due: OffsetDateTime,
    ) -> Self {
        Self {
            tenant: tenant.clone(),
            id: format!("{application_id}-{}", kind.code()),
            application_id: application_id.to_owned(),
            kind,
            attempts: 0,
            due,
            stage: Stage::Mail,
        }
    }
}

/// What an application is filed under besides its own partition: erased
/// with it when the comune's retention period ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// Its pupil's link, and the pupil's hold if it is this application's.
    pub hold: Hold,
    /// Its family's identities: their links and guards.
    pub owners: Vec<String>,
}

/// The due time of an application's request for changes, kept where the
/// scheduled function finds it (reminder, return to `submitted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeTimer {
    pub tenant: TenantSlug,
    pub application_id: String,
    pub due_at: OffsetDateTime,
}

/// The keyed hashes under which an application is filed (never personal
/// data in clear).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationKeys {
    /// The pupil (a pupil's applications, for fiscal-code logins).
    pub pupil: String,
    /// The guardian named in the application.
    pub guardian: String,
    /// The identities of the creating session (email, SPID): the family.
    /// Each holds one live application per pupil and window.
    pub owners: Vec<String>,
}

/// What holds a pupil: one submitted (or later) application per pupil,
/// service and school year, whichever family it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The pupil's keyed hash.
    pub pupil: String,
    /// The service's code and the school year, e.g. `refezione`, `2025/2026`.
    pub service: String,
    pub school_year: String,
}

/// What a rejection (or a withdrawal) lets go of: the pupil's hold, and
/// the family's own guards on the pupil in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub hold: Hold,
    /// The family's identities (as `ApplicationKeys::owners`).
    pub owners: Vec<String>,
}

/// What a new draft owes its family, written in its transaction: the mail
/// and, on a family's first draft for the pupil, the temporary password
/// that mail carries.
#[derive(Debug, Clone, Copy)]
pub struct Owed<'a> {
    pub message: &'a OutboxMessage,
    /// The family's identity (keyed hash) and its new credentials: written
    /// only where the family has none for the pupil.
    pub credentials: Option<(&'a str, &'a Credentials)>,
}

/// A pupil's login credentials ("Password: …" mailed on the first draft).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Credentials {
    /// argon2id PHC string.
    pub password_hash: String,
    /// A temporary (mailed) password must be changed at the first login.
    pub temporary: bool,
    /// Failed logins in the current 15-minute span, per client (a keyed
    /// hash of its address): a stranger's wrong passwords lock the stranger
    /// out, not the family.
    #[serde(default, rename = "client_failures")]
    pub failures: std::collections::BTreeMap<String, Vec<i64>>,
    /// The session (`sub`) whose `POST /password` set the current password:
    /// that session, opened with the temporary one, may go on with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_in: Option<String>,
    /// The verified address the password was mailed to: a session opened
    /// with it holds that address as verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// When a temporary password was issued (unix seconds): it expires
    /// after 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<i64>,
    /// The outbox message whose mail carries this password: a later
    /// attempt of that message (its first may not have reached the
    /// family) draws a new one in its place; any other finds the family
    /// served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailed_by: Option<String>,
}

/// A municipality's configuration.
#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn get_tenant(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError>;
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    /// Every tenant (for the scheduled jobs that concern each).
    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    /// The configuration with its version (0 for one written without).
    async fn get_tenant_versioned(
        &self,
        slug: &TenantSlug,
    ) -> Result<Option<Versioned<Tenant>>, StoreError>;
    /// Write the configuration as version `expected + 1` if the stored one
    /// is still at `expected` (`None`: only if there is none); `Conflict`
    /// otherwise.
    async fn replace_tenant(
        &self,
        tenant: &Tenant,
        expected: Option<u64>,
    ) -> Result<(), StoreError>;
}

/// Enrollment windows: a tenant's list, staff changes and the scheduled close.
#[async_trait]
pub trait WindowStore: Send + Sync {
    async fn list_windows(&self, tenant: &TenantSlug) -> Result<Vec<Window>, StoreError>;
    async fn get_window(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
    ) -> Result<Option<Window>, StoreError>;
    async fn put_window(&self, tenant: &TenantSlug, window: &Window) -> Result<(), StoreError>;
    /// Replace a window if it is still exactly `previous` (`Conflict`
    /// otherwise).
    async fn replace_window(
        &self,
        tenant: &TenantSlug,
        previous: &Window,
        next: &Window,
    ) -> Result<(), StoreError>;
    /// Windows of every tenant whose `closes_at` is at or before `by` and
    /// whose close has not been recorded yet.
    async fn windows_closing_by(
        &self,
        by: OffsetDateTime,
    ) -> Result<Vec<(TenantSlug, Window)>, StoreError>;
    /// Record a window's close. `Ok(false)` when it was already recorded
    /// (by a concurrent run, say).
    async fn record_window_closed(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

/// Markers of things that may happen once (a reminder, an ID token's use).
///
/// Its own trait because it belongs to no one concept: the SPID login
/// claims an ID token, the scheduled function a reminder; either would
/// otherwise depend on the other's trait for one method.
#[async_trait]
pub trait ClaimStore: Send + Sync {
    /// Claim something that may happen once: `true` for the first caller
    /// only. `key` is a keyed hash; `expires` lets the table's TTL clean up
    /// after it is moot.
    async fn claim_once(
        &self,
        tenant: &TenantSlug,
        kind: &str,
        key: &str,
        expires: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError>;
    /// Give a claim up (the thing it claimed failed and may be tried again).
    async fn release_claim(
        &self,
        tenant: &TenantSlug,
        kind: &str,
        key: &str,
    ) -> Result<(), StoreError>;
    /// The same claim, and with it (in one transaction) the mail it owes:
    /// `true` when both were written, `false` when claimed before.
    async fn claim_with_message(
        &self,
        tenant: &TenantSlug,
        kind: &str,
        key: &str,
        message: &OutboxMessage,
    ) -> Result<bool, StoreError>;
}

/// Applications with their attachments, guards, owner links and the
/// transactions that change their state (with the mail each owes).
#[async_trait]
pub trait ApplicationStore: Send + Sync {
    /// Create an application with the family's guards, the creating
    /// session's guardian lock and owner links, and what it owes (the mail
    /// of a temporary password, and the password itself), all in one
    /// transaction, which also checks that no submission holds the pupil
    /// (`hold`).
    async fn create_application(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        keys: &ApplicationKeys,
        hold: &Hold,
        owed: Option<Owed<'_>>,
    ) -> Result<(), CreateError>;
    async fn get_application(
        &self,
        tenant: &TenantSlug,
        id: &str,
    ) -> Result<Option<Application>, StoreError>;
    /// The application and its attachment records, in one read of its
    /// partition (strongly consistent, as `get_application`).
    async fn application_with_attachments(
        &self,
        tenant: &TenantSlug,
        id: &str,
    ) -> Result<Option<(Application, Vec<Attachment>)>, StoreError>;
    /// Replace the application if its stored version is still `expected`.
    async fn put_application(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        expected: u64,
    ) -> Result<(), StoreError>;
    /// Record a submission: reserve `reserve` (a newly drawn user code) in
    /// the tenant, take the pupil's `hold` (`Held` when another application
    /// has it) and replace the application (if still at `expected`), in one
    /// transaction. A renewal keeps last year's code, which the roster
    /// already holds: it passes `None`.
    async fn submit_application(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        expected: u64,
        reserve: Option<&str>,
        message: &OutboxMessage,
        hold: &Hold,
    ) -> Result<(), SubmitError>;
    /// The id of the application that holds the pupil, if any.
    async fn holder(&self, tenant: &TenantSlug, hold: &Hold) -> Result<Option<String>, StoreError>;
    /// How many applications of the window come before the order key
    /// `key` (`domain::ranking`): a count over the places index, which
    /// reads only the index keys below `key`.
    async fn ranked_before(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
        key: &str,
    ) -> Result<u32, StoreError>;
    /// The ids of the window's first `limit` applications in its order.
    async fn ranked_first(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;
    /// Replace the application if its stored version is still `expected`
    /// and queue `message`, in one transaction (`Conflict` otherwise); with
    /// `release`, the application's hold and its family's guards go in the
    /// same transaction.
    async fn put_application_with_message(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        expected: u64,
        message: &OutboxMessage,
        release: Option<&Release>,
    ) -> Result<(), StoreError>;
    /// A page of a window's applications in one status, newest submission
    /// first. `after` is the position returned by the previous page.
    async fn window_applications(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
        status: Status,
        limit: usize,
        after: Option<String>,
    ) -> Result<(Vec<Application>, Option<String>), StoreError>;
    /// The applications created by an owner identity.
    async fn owner_applications(
        &self,
        tenant: &TenantSlug,
        owner: &str,
    ) -> Result<Vec<Application>, StoreError>;
    /// The application a user code was drawn for (`None` for a code held
    /// by last year's roster, or unknown).
    async fn user_code_application(
        &self,
        tenant: &TenantSlug,
        user_code: &str,
    ) -> Result<Option<String>, StoreError>;
    /// The applications of a pupil (every window).
    async fn pupil_applications(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
    ) -> Result<Vec<Application>, StoreError>;
    async fn put_attachment(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
        attachment: &Attachment,
    ) -> Result<(), StoreError>;
    async fn attachments(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
    ) -> Result<Vec<Attachment>, StoreError>;
    /// Replace an attachment record only if it is still there (a record
    /// deleted meanwhile stays deleted): `Conflict` otherwise.
    async fn replace_attachment(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
        attachment: &Attachment,
    ) -> Result<(), StoreError>;
    /// Forget an attachment record (its file is deleted by the caller).
    async fn delete_attachment(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
        attachment_id: &str,
    ) -> Result<(), StoreError>;
    /// How many of a window's applications are in each status (every
    /// status, zeros included). The counts move in the same write as each
    /// change of status.
    async fn window_counts(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
    ) -> Result<Vec<(Status, i64)>, StoreError>;
    /// Record a staff member's opening of an attachment.
    async fn record_access(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
        access: &AttachmentAccess,
    ) -> Result<(), StoreError>;
    /// The recorded openings of an application's attachments, oldest first.
    async fn accesses(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
    ) -> Result<Vec<AttachmentAccess>, StoreError>;
    /// Set (or replace) the timer of an application's request for changes.
    async fn put_change_timer(&self, timer: &ChangeTimer) -> Result<(), StoreError>;
    /// The timers due by `by`, of every tenant, earliest first.
    async fn change_timers_due(&self, by: OffsetDateTime) -> Result<Vec<ChangeTimer>, StoreError>;
    /// Remove a timer (nothing happens when it is gone).
    async fn delete_change_timer(&self, timer: &ChangeTimer) -> Result<(), StoreError>;
    /// Erase an application: every item of its partition (attachment
    /// records, openings, timer), its pupil's and family's links and
    /// guards, and the pupil's hold and its user code's reservation where
    /// they are its own. Safe to repeat.
    async fn erase_application(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        erasure: &Erasure,
    ) -> Result<(), StoreError>;
    /// Erase a window and its counts.
    async fn erase_window(&self, tenant: &TenantSlug, window_id: &str) -> Result<(), StoreError>;
}

/// The security codes, one record per address (an email address or a
/// mobile number), and the limits on sending them by SMS.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// The code record of one address (`address_key` is a keyed hash of
    /// the address or number, never the address itself).
    async fn get_code(
        &self,
        tenant: &TenantSlug,
        address_key: &str,
    ) -> Result<Option<Versioned<CodeState>>, StoreError>;
    /// Write the record if its stored version is still `expected` (`None`:
    /// only if there is none). `Conflict` otherwise.
    async fn put_code(
        &self,
        tenant: &TenantSlug,
        address_key: &str,
        state: &CodeState,
        expected: Option<u64>,
    ) -> Result<(), StoreError>;
    /// Note that `session` asks for an SMS code to the number filed under
    /// `phone_key`: `false` (nothing written) when the session has already
    /// asked for `limit` other numbers. Atomic: two tabs cannot both slip
    /// in a fourth number. The note lasts until `purge_at`.
    async fn note_session_phone(
        &self,
        tenant: &TenantSlug,
        session: &str,
        phone_key: &str,
        limit: u32,
        purge_at: i64,
    ) -> Result<bool, StoreError>;
    /// Count one security code the tenant sent by `channel` (`MAIL`,
    /// `SMS`) in `hour` (Unix hours). The count is spread over shards, one
    /// taken by turns (a city's opening morning sends thousands a
    /// second): the answer is the count of the shard written, with it,
    /// and the number of shards.
    async fn count_code(
        &self,
        tenant: &TenantSlug,
        channel: &str,
        hour: i64,
    ) -> Result<(u64, u64), StoreError>;
    /// The codes the tenant sent by `channel` in `hour`.
    async fn code_count(
        &self,
        tenant: &TenantSlug,
        channel: &str,
        hour: i64,
    ) -> Result<u64, StoreError>;
}

/// The web ACL's list of challenged paths: regular expressions on the
/// request's URI path (`ops::code_volume`).
#[async_trait]
pub trait ChallengeList: Send + Sync {
    /// The patterns on the list now.
    async fn get(&self) -> Result<std::collections::BTreeSet<String>, String>;
    /// Make the list exactly `patterns` (conditional on the version read,
    /// so two runs cannot interleave); `Ok(true)` when it changed.
    async fn set(&self, patterns: &std::collections::BTreeSet<String>) -> Result<bool, String>;
}

/// A pupil's login credentials (the fiscal-code sessions' password).
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// The credentials a family received for a pupil (`family` is the
    /// keyed hash of the address the password was mailed to).
    async fn get_credentials(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
        family: &str,
    ) -> Result<Option<Versioned<Credentials>>, StoreError>;
    /// Every family's credentials for a pupil (a login tries each).
    async fn pupil_credentials(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
    ) -> Result<Vec<(String, Versioned<Credentials>)>, StoreError>;
    /// Write a family's credentials if the stored version is still
    /// `expected`; with `None` only if that family has none yet (`Conflict`
    /// otherwise): a password, once issued, is never replaced by a draft.
    async fn put_credentials(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
        family: &str,
        credentials: &Credentials,
        expected: Option<u64>,
    ) -> Result<(), StoreError>;
}

/// Wrong guesses (security codes, passwords) per client and hour, across
/// tenants: `client` is a keyed hash of the client's address, `hour` the
/// Unix hour.
#[async_trait]
pub trait GuessStore: Send + Sync {
    async fn wrong_guesses(&self, client: &str, hour: i64) -> Result<u32, StoreError>;
    async fn count_wrong_guess(&self, client: &str, hour: i64) -> Result<(), StoreError>;
}

/// Last year's roster: entries by user code and by guardian identity.
#[async_trait]
pub trait RosterStore: Send + Sync {
    /// Store last year's entry under its user code, filed under the keyed
    /// hashes `links` (its guardian's identities) and holding the user code
    /// in the tenant. `Ok(false)` when the stored entry is already exactly
    /// this one (a re-import changes nothing).
    async fn put_roster_entry(
        &self,
        tenant: &TenantSlug,
        entry: &RosterEntry,
        links: &[String],
    ) -> Result<bool, RosterWriteError>;
    async fn roster_entry(
        &self,
        tenant: &TenantSlug,
        user_code: &str,
    ) -> Result<Option<RosterEntry>, StoreError>;
    /// The entries filed under one guardian identity (a keyed hash).
    async fn roster_entries(
        &self,
        tenant: &TenantSlug,
        link: &str,
    ) -> Result<Vec<RosterEntry>, StoreError>;
}

/// The mails owed: due messages, the sender's lease, sent or retry later.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Outbox messages of every tenant due at `now`, oldest first.
    async fn due_messages(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Take a message to send it: only if it is still there and due at
    /// `now`; it then counts one more attempt and is not due again before
    /// `lease_until` (if the sender dies, another retries after that).
    /// `None` when another sender has it, or it was sent.
    async fn lease_message(
        &self,
        tenant: &TenantSlug,
        id: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<OutboxMessage>, StoreError>;
    /// The mail service accepted it: forget it.
    async fn message_sent(&self, tenant: &TenantSlug, id: &str) -> Result<(), StoreError>;
    /// The mail was accepted and an App IO message is owed: the message
    /// moves to that stage, its attempts start again, the lease stays.
    async fn message_to_app_io(&self, tenant: &TenantSlug, id: &str) -> Result<(), StoreError>;
    /// Sending failed: due again at `retry_at`.
    async fn message_failed(
        &self,
        tenant: &TenantSlug,
        id: &str,
        retry_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
}

/// The single table, seen through the access patterns of the domain: every
/// concept's trait together. `App.store` is a `dyn Store`; an operation
/// that needs one concept takes the narrower trait (`&dyn WindowStore`,
/// upcast from `&dyn Store`).
pub trait Store:
    TenantStore
    + WindowStore
    + ClaimStore
    + ApplicationStore
    + CodeStore
    + CredentialStore
    + GuessStore
    + RosterStore
    + OutboxStore
{
}

impl<T> Store for T where
    T: TenantStore
        + WindowStore
        + ClaimStore
        + ApplicationStore
        + CodeStore
        + CredentialStore
        + GuessStore
        + RosterStore
        + OutboxStore
        + ?Sized
{
}

/// A file attached to a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// One message, in plain text and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<MailAttachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("mail service temporarily unavailable")]
    Unavailable,
    #[error("mail rejected: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// One text message to a mobile number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub to: MobilePhone,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    #[error("sms service temporarily unavailable")]
    Unavailable,
    /// The service refused the number itself.
    #[error("sms refused the number")]
    InvalidNumber,
    #[error("sms rejected: {0}")]
    Rejected(String),
}

/// A message for a citizen in the App IO: to the fiscal code, a subject
/// and a markdown body (App IO's own limits: `documents::app_io`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoMessage {
    pub fiscal_code: String,
    pub subject: String,
    pub markdown: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppIoError {
    /// Down, throttling, not answering, or our key refused: try again
    /// later (an operator may have to fix the key).
    #[error("App IO unavailable: {0}")]
    Unavailable(String),
    /// It refused what we sent: sending it again will not help.
    #[error("App IO refused the message: {0}")]
    Refused(String),
}

/// The App IO API (PagoPA's `io-functions-services`), as a comune's
/// service sees it; the service's API key is the tenant's.
#[async_trait]
pub trait AppIo: Send + Sync {
    /// Whether the citizen has a profile whose preferences allow the
    /// tenant's service to write (`POST /profiles`); no profile is `false`.
    async fn sender_allowed(
        &self,
        tenant: &TenantSlug,
        fiscal_code: &str,
    ) -> Result<bool, AppIoError>;
    /// `POST /messages`: accepted for delivery.
    async fn send(&self, tenant: &TenantSlug, message: &IoMessage) -> Result<(), AppIoError>;
}

/// The SMS service. A message it accepted is not yet delivered: carriers
/// report delivery later, if at all.
#[async_trait]
pub trait Texter: Send + Sync {
    async fn send(&self, sms: &Sms) -> Result<(), SmsError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("document storage temporarily unavailable")]
    Unavailable,
    #[error("document not found")]
    NotFound,
    #[error("document storage error: {0}")]
    Other(String),
}

/// Private storage of documents and attachments, reachable by clients only
/// through short-lived presigned links. Keys never contain personal data.
#[async_trait]
pub trait DocumentStorage: Send + Sync {
    async fn put(&self, key: &str, content_type: &str, data: Vec<u8>) -> Result<(), DocumentError>;
    async fn get(&self, key: &str) -> Result<Vec<u8>, DocumentError>;
    async fn exists(&self, key: &str) -> Result<bool, DocumentError>;
    /// Delete an object (nothing happens when there is none).
    async fn delete(&self, key: &str) -> Result<(), DocumentError>;
    /// The keys under `prefix`.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, DocumentError>;
    /// The stored object's size, `None` when there is no object.
    async fn size(&self, key: &str) -> Result<Option<u64>, DocumentError>;
    /// A PUT link for exactly this content type and length, valid for
    /// `expires_in_secs`.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in_secs: u64,
    ) -> Result<String, DocumentError>;
    /// A GET link valid for `expires_in_secs`.
    async fn presign_get(
        &self,
        key: &str,
        filename: &str,
        expires_in_secs: u64,
    ) -> Result<String, DocumentError>;
}

/// The time, injected so that rules about time can be tested.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that tests (and the local stack) can move: the system time
/// plus an adjustable offset.
#[derive(Debug, Default, Clone)]
pub struct OffsetClock {
    offset_secs: Arc<AtomicI64>,
}

impl OffsetClock {
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::seconds(self.offset_secs.load(Ordering::SeqCst))
    }
}
