//! A change the office or the family records on a stored application (a
//! decision, a move to the waiting list, corrected criteria, a
//! withdrawal): its new key in the window's order, the write conditional on
//! the version read, the mail it owes and, when it frees the pupil, the
//! release of the pupil's hold and the family's guards, all in one
//! transaction; then the mail is sent and a freed place announced.

use crate::app::App;
use crate::domain::application::Application;
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::window::Window;
use crate::ports::{MessageKind, Release, StoreError};

use super::retry::Attempt;
use super::{outbox, places};

/// Whether a change gives the pupil (and its place) up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pupil {
    Kept,
    Freed,
}

/// What a change owes besides the application itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Change {
    /// The mail it owes the family.
    pub kind: MessageKind,
    pub pupil: Pupil,
    /// Its name in the log.
    pub what: &'static str,
}

/// Write `next` over `current` with what `change` owes; `Again` when
/// another write came first.
pub(crate) async fn record(
    app: &App,
    tenant: &Tenant,
    window: &Window,
    current: &Application,
    mut next: Application,
    change: Change,
) -> Result<Attempt<Application>, Error> {
    let Change { kind, pupil, what } = change;
    places::rekey(tenant, window, &mut next);
    // Named by the version it comes with: a change may be made twice (a
    // second request for changes, criteria corrected again) while the
    // first mail still waits.
    let mail = outbox::owed_again(tenant, &next, kind, next.updated_at);
    let release = (pupil == Pupil::Freed).then(|| Release {
        hold: super::applications::hold_of(app, tenant, current, window),
        owners: super::sessions::family_of(app, tenant, current),
    });
    match app
        .store
        .put_application_with_message(
            &tenant.slug,
            &next,
            current.version,
            &mail,
            release.as_ref(),
        )
        .await
    {
        Ok(()) => {
            tracing::info!(application = %next.id, status = next.status.code(), change = what, "application changed");
            outbox::deliver_now(
                app,
                &mail,
                outbox::InHand {
                    tenant,
                    application: &next,
                    window: Some(window),
                    password: None,
                },
            )
            .await;
            if pupil == Pupil::Freed && current.rank_key.is_some() {
                places::place_freed(app, tenant, window).await;
            }
            Ok(Attempt::Done(next))
        }
        Err(StoreError::Conflict) => Ok(Attempt::Again),
        Err(e) => Err(e.into()),
    }
}
