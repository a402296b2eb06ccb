//! Places and waiting lists: the order of a window's applications that
//! hold a pupil. Confirmed ones come first (by `decided_at`), then the
//! others by the window's ranking: `first_come` (by `submitted_at`) or
//! `points` (the declared criteria's points, highest first, then
//! `submitted_at`). The order is a sortable key per application; a
//! position is the number of keys below it, plus one. Nothing counts
//! places: no per-window item takes a write per submission.

use serde::Serialize;
use time::OffsetDateTime;

use super::application::{Application, Status};
pub use super::window::Ranking;

/// The most places a window may have.
pub const MAX_CAPACITY: u32 = 100_000;
/// Points above this are clipped in the key (no real criteria reach it).
const MAX_POINTS: u32 = 999_999;

/// An application's place as reads show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rank {
    pub position: u32,
    pub points: u32,
    pub within_capacity: bool,
}

/// Whether an application in `status` holds its pupil, and so a place in
/// the order.
pub fn holds_place(status: Status) -> bool {
    matches!(
        status,
        Status::Submitted | Status::Waitlisted | Status::Confirmed | Status::ChangesRequested
    )
}

fn nanos(t: OffsetDateTime) -> String {
    format!("{:020}", t.unix_timestamp_nanos().max(0))
}

/// The application's key in its window's order, or `None` when it holds
/// no place (a draft, a rejected or withdrawn one). Keys compare as
/// strings: `0…` (confirmed) before `1…` (the others).
pub fn rank_key(a: &Application, ranking: Ranking, points: u32) -> Option<String> {
    if !holds_place(a.status) {
        return None;
    }
    if a.status == Status::Confirmed {
        let at = a.decided_at.or(a.submitted_at)?;
        return Some(format!("0#{}#{}", nanos(at), a.id));
    }
    let at = a.submitted_at?;
    Some(match ranking {
        Ranking::FirstCome => format!("1#{}#{}", nanos(at), a.id),
        Ranking::Points => format!(
            "1#{:06}#{}#{}",
            MAX_POINTS - points.min(MAX_POINTS),
            nanos(at),
            a.id
        ),
    })
}

/// The rank of the application at `position` in a window of `capacity`.
pub fn rank(position: u32, points: u32, capacity: u32) -> Rank {
    Rank {
        position,
        points,
        within_capacity: position <= capacity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn app(id: &str, status: Status, submitted: OffsetDateTime) -> Application {
        serde_json::from_value(serde_json::json!({
            "id": id, "window_id": "w", "kind": "new", "body": {}, "status": status,
            "version": 1, "first_saved_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "submitted_at": submitted.format(&time::format_description::well_known::Rfc3339).expect("t"),
            "owner": {}, "pupil_fiscal_code": "X", "guardian_fiscal_code": "Y"
        }))
        .expect("application")
    }

    #[test]
    fn confirmed_first_then_points_then_time() {
        let early = app("app-a", Status::Submitted, datetime!(2026-01-01 08:00 UTC));
        let late = app("app-b", Status::Submitted, datetime!(2026-01-01 09:00 UTC));
        let mut confirmed = app("app-c", Status::Submitted, datetime!(2026-01-01 10:00 UTC));
        confirmed.status = Status::Confirmed;
        confirmed.decided_at = Some(datetime!(2026-01-02 10:00 UTC));
        // First come: by submission time, the confirmed one first.
        let mut keys = [
            rank_key(&late, Ranking::FirstCome, 0),
            rank_key(&confirmed, Ranking::FirstCome, 0),
            rank_key(&early, Ranking::FirstCome, 0),
        ];
        keys.sort();
        let ids: Vec<&str> = keys
            .iter()
            .flatten()
            .map(|k| k.rsplit('#').next().unwrap_or(""))
            .collect();
        assert_eq!(ids, ["app-c", "app-a", "app-b"]);
        // Points beat an earlier submission; equal points go by time.
        let more = rank_key(&late, Ranking::Points, 5);
        let fewer = rank_key(&early, Ranking::Points, 3);
        assert!(more < fewer);
        assert!(rank_key(&early, Ranking::Points, 5) < more);
        assert!(rank_key(&confirmed, Ranking::Points, 0) < more);
        // No place without holding the pupil.
        let mut draft = early.clone();
        draft.status = Status::Draft;
        assert_eq!(rank_key(&draft, Ranking::FirstCome, 0), None);
        draft.status = Status::Withdrawn;
        assert_eq!(rank_key(&draft, Ranking::FirstCome, 0), None);
        assert!(rank(3, 5, 3).within_capacity && !rank(4, 5, 3).within_capacity);
    }
}
