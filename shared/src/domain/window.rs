//! Enrollment windows ("finestre", "periodi di iscrizione") and services.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::values::SchoolYear;

/// What a pupil enrolls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Refezione,
    PrePostScuola,
    Trasporto,
}

impl Service {
    pub const ALL: [Service; 3] = [
        Service::Refezione,
        Service::PrePostScuola,
        Service::Trasporto,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Service::Refezione => "refezione",
            Service::PrePostScuola => "pre_post_scuola",
            Service::Trasporto => "trasporto",
        }
    }

    /// The Italian name shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Service::Refezione => "Refezione scolastica",
            Service::PrePostScuola => "Pre e post scuola",
            Service::Trasporto => "Trasporto scolastico",
        }
    }
}

/// How a window ranks applicants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ranking {
    #[default]
    FirstCome,
    Points,
}

/// Where a window stands at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowStatus {
    Scheduled,
    Open,
    Closed,
}

/// One service's enrollment period in one school year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub id: String,
    pub service: Service,
    pub school_year: SchoolYear,
    #[serde(with = "time::serde::rfc3339")]
    pub opens_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub closes_at: OffsetDateTime,
    /// Set when staff (or the scheduled function) closed the window; a
    /// window is closed from this instant on even before `closes_at`.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    /// Places: `None` is unlimited. The capacity binds when staff confirm.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// How applicants beyond the places are ordered.
    #[serde(default)]
    pub ranking: Ranking,
}

impl Window {
    /// Scheduled before `opens_at`; open from `opens_at` (inclusive) to
    /// `closes_at` (exclusive: at the closing second it is already closed);
    /// closed after, or from an explicit close.
    pub fn status(&self, now: OffsetDateTime) -> WindowStatus {
        if self.closed_at.is_some_and(|c| now >= c) || now >= self.closes_at {
            WindowStatus::Closed
        } else if now < self.opens_at {
            WindowStatus::Scheduled
        } else {
            WindowStatus::Open
        }
    }

    pub fn is_open(&self, now: OffsetDateTime) -> bool {
        self.status(now) == WindowStatus::Open
    }

    /// Whether the scheduled function should record the close now.
    pub fn due_to_close(&self, now: OffsetDateTime) -> bool {
        self.closed_at.is_none() && now >= self.closes_at
    }
    /// When the window's applications and files are erased: `years`
    /// school years after its school year ends (31 August of its second
    /// calendar year), at 00:00 UTC of 1 September.
    pub fn erasable_from(&self, years: u32) -> OffsetDateTime {
        let year =
            i32::from(self.school_year.first_year()) + 1 + i32::try_from(years).unwrap_or(50);
        time::Date::from_calendar_date(year, time::Month::September, 1)
            .map(|d| d.midnight().assume_utc())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH + time::Duration::days(365 * 200))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_window_is_erasable_years_after_its_school_year() {
        let mut w = window();
        w.school_year = SchoolYear::parse("2020/2021").expect("year");
        assert_eq!(w.erasable_from(5), datetime!(2026-09-01 00:00 UTC));
        assert_eq!(w.erasable_from(1), datetime!(2022-09-01 00:00 UTC));
    }

    fn window() -> Window {
        Window {
            id: "w-1".into(),
            service: Service::Refezione,
            school_year: SchoolYear::parse("2025/2026").unwrap_or_else(|_| unreachable!()),
            opens_at: datetime!(2025-04-22 07:00 UTC),
            closes_at: datetime!(2025-05-31 21:59:59 UTC),
            closed_at: None,
            capacity: None,
            ranking: Default::default(),
        }
    }

    #[test]
    fn status_follows_the_clock_to_the_second() {
        let w = window();
        assert_eq!(
            w.status(datetime!(2025-04-22 06:59:59 UTC)),
            WindowStatus::Scheduled
        );
        assert_eq!(
            w.status(datetime!(2025-04-22 07:00 UTC)),
            WindowStatus::Open
        );
        assert_eq!(
            w.status(datetime!(2025-05-31 21:59:58 UTC)),
            WindowStatus::Open
        );
        assert_eq!(
            w.status(datetime!(2025-05-31 21:59:59 UTC)),
            WindowStatus::Closed
        );
        assert!(!w.is_open(datetime!(2026-01-01 00:00 UTC)));
    }

    #[test]
    fn an_explicit_close_wins() {
        let mut w = window();
        w.closed_at = Some(datetime!(2025-05-01 10:00 UTC));
        assert_eq!(
            w.status(datetime!(2025-04-30 10:00 UTC)),
            WindowStatus::Open
        );
        assert_eq!(
            w.status(datetime!(2025-05-01 10:00 UTC)),
            WindowStatus::Closed
        );
        assert!(!w.due_to_close(datetime!(2025-06-01 00:00 UTC)));
    }

    #[test]
    fn due_to_close_only_after_closes_at() {
        let w = window();
        assert!(!w.due_to_close(datetime!(2025-05-31 21:59:58 UTC)));
        assert!(w.due_to_close(datetime!(2025-05-31 21:59:59 UTC)));
    }

    #[test]
    fn services_have_codes_and_names() {
        for s in Service::ALL {
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", s.code()));
            assert!(!s.name().is_empty());
        }
    }
}
