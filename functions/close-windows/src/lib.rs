//! The `close-windows` function, run by an EventBridge schedule every five
//! minutes: records the close of every window whose time has passed.
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
