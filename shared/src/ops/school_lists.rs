//! The weekly lists for schools: every Monday morning each school of a
//! tenant's configuration receives, by mail, the list of its pupils with a
//! confirmed enrollment, one CSV per service (the roster's columns and
//! quoting, the diet only as its kind).
//!
//! Once per school and week: a claim per (school, ISO week) is taken
//! before the mail is sent, so that a schedule that fires twice, or two
//! runs at once, send one mail; a mail the service refuses gives its claim
//! back, and the next run of the morning tries again.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use crate::app::App;
use crate::documents::mail;
use crate::domain::application::{Application, Status};
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::window::{Service, Window};
use crate::ports::MailAttachment;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SchoolListsReport {
    /// Schools mailed by this run.
    pub lists_sent: usize,
    /// Schools already mailed this week.
    pub lists_already_sent: usize,
    /// Schools whose mail failed (tried again by the next run).
    pub lists_failed: usize,
}

/// `2026-W49`: the ISO week of `t`.
pub fn iso_week(t: OffsetDateTime) -> String {
    let (year, week, _) = t.date().to_iso_week_date();
    format!("{year}-W{week:02}")
}

/// The windows whose confirmed pupils are this week's lists: per service,
/// those of the latest school year among the windows opened by now.
fn current_windows(windows: Vec<Window>, now: OffsetDateTime) -> Vec<Window> {
    let mut latest: BTreeMap<Service, String> = BTreeMap::new();
    for w in windows.iter().filter(|w| w.opens_at <= now) {
        let year = w.school_year.to_string();
        let entry = latest.entry(w.service).or_insert_with(|| year.clone());
        if year > *entry {
            *entry = year;
        }
    }
    windows
        .into_iter()
        .filter(|w| w.opens_at <= now && latest.get(&w.service) == Some(&w.school_year.to_string()))
        .collect()
}

/// The run: every tenant with schools, every school once this week.
pub async fn send_weekly(app: &App) -> Result<SchoolListsReport, Error> {
    let mut report = SchoolListsReport::default();
    for tenant in app.store.list_tenants().await? {
        if tenant.schools.is_empty() {
            continue;
        }
        send_tenant(app, &tenant, &mut report).await?;
    }
    tracing::info!(
        lists_sent = report.lists_sent,
        lists_already_sent = report.lists_already_sent,
        lists_failed = report.lists_failed,
        "school lists done"
    );
    Ok(report)
}

async fn send_tenant(
    app: &App,
    tenant: &Tenant,
    report: &mut SchoolListsReport,
) -> Result<(), Error> {
    let now = app.clock.now();
    let week = iso_week(now);
    let windows = current_windows(app.store.list_windows(&tenant.slug).await?, now);
    // Confirmed pupils by school name, then by service.
    let mut by_school: BTreeMap<String, BTreeMap<Service, Vec<Application>>> = BTreeMap::new();
    for w in windows.iter().filter(|w| tenant.offers(w.service)) {
        for a in super::staff::all_in(app, tenant, &w.id, Status::Confirmed).await? {
            let Some(school) = a
                .body
                .pupil
                .as_ref()
                .and_then(|p| p.school.as_deref())
                .map(|s| s.trim().to_owned())
            else {
                continue;
            };
            by_school
                .entry(school)
                .or_default()
                .entry(w.service)
                .or_default()
                .push(a);
        }
    }
    for school in &tenant.schools {
        let key = app.config.keyed_hash(
            "school-list",
            tenant.slug.as_str(),
            &format!("{week}:{}", school.name),
        );
        if !app
            .store
            .claim_once(
                &tenant.slug,
                "school-list",
                &key,
                Some(now + Duration::days(30)),
            )
            .await?
        {
            report.lists_already_sent += 1;
            continue;
        }
        let mut lists = Vec::new();
        for (service, rows) in by_school.remove(&school.name).unwrap_or_default() {
            lists.push(MailAttachment {
                filename: format!("iscritti-{}-{week}.csv", service_file_name(service)),
                content_type: "text/csv; charset=utf-8".into(),
                data: super::staff::pupils_csv(rows)?.into_bytes(),
            });
        }
        let message = mail::school_list(tenant, &school.email, &school.name, &week, lists);
        match app.mailer.send(&message).await {
            Ok(()) => report.lists_sent += 1,
            Err(e) => {
                // Given back: the next run of the morning tries again.
                tracing::warn!(tenant = %tenant.slug, error = %e, "school list not sent");
                app.store
                    .release_claim(&tenant.slug, "school-list", &key)
                    .await?;
                report.lists_failed += 1;
            }
        }
    }
    Ok(())
}

/// The service's part of a list's file name.
fn service_file_name(service: Service) -> &'static str {
    match service {
        Service::Refezione => "refezione",
        Service::Trasporto => "trasporto",
        Service::PrePostScuola => "pre-post-scuola",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn weeks_are_iso_weeks() {
        assert_eq!(iso_week(datetime!(2026-12-07 06:00 UTC)), "2026-W50");
        assert_eq!(iso_week(datetime!(2027-01-04 06:00 UTC)), "2027-W01");
        // The last days of 2026 belong to 2026's week 53.
        assert_eq!(iso_week(datetime!(2027-01-01 06:00 UTC)), "2026-W53");
    }
}
