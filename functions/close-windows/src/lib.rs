//! The `close-windows` function, run by an EventBridge schedule every five
//! minutes: closes the windows whose time has passed (their drafts become
//! `expired`, never deleted) and reminds, once, the guardians with a draft
//! in a window closing within 48 hours.
//! EventBridge delivers at least once: every step is idempotent.

use shared::app::App;
use shared::domain::error::Error;
use shared::ops::windows::{self, CloseReport};

pub const BINARY: &str = "close-windows";

/// One run, now.
pub async fn run(app: &App) -> Result<CloseReport, Error> {
    let report = windows::close_due(app).await?;
    tracing::info!(
        windows_closed = report.windows_closed,
        "scheduled close done"
    );
    Ok(report)
}
