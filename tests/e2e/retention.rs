//! The comune's retention rule: what it keeps past its retention is
//! erased once a day by the scheduled function (applications, their files,
//! links and holds, the window and its counts), after a dry run that
//! changes nothing; what is within it stays.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn applications_past_the_retention_are_erased_with_their_files() {
    let app = spawn_app();
    let staff = app.staff_token("demo").await;
    let now = app.ports.clock.now();
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .expect("format")
    };
    // A window of a school year long gone (five years after 2019/2020
    // ended), open now only so that a family can apply in it.
    let r = app
        .post_auth(
            "/v1/demo/staff/windows",
            &staff,
            json!({ "service": "refezione", "school_year": "2019/2020",
                    "opens_at": fmt(now - time::Duration::days(1)),
                    "closes_at": fmt(now + time::Duration::days(20)) }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let old = r.body["id"].as_str().expect("id").to_owned();
    let gone = app.submitted_application(&old, "erased").await;
    let pdf = b"%PDF-1.4 certificato".to_vec();
    let r = app
        .request_upload(&gone.token, &gone.id, "medical_certificate", pdf.len())
        .await;
    upload(r.body["upload_url"].as_str().expect("url"), &pdf).await;
    let kept = app
        .submitted_application(&app.open_window_id().await, "kept")
        .await;

    let tenant = app
        .ports
        .store
        .get_tenant(&shared::domain::values::TenantSlug::parse("demo").expect("slug"))
        .await
        .expect("read")
        .expect("demo");
    assert_eq!(tenant.retention_years, 5);
    // The dry run reports and changes nothing.
    let dry = shared::ops::retention::run_tenant(&app.ports, &tenant, true)
        .await
        .expect("dry run");
    assert_eq!(dry.windows_erased, 1, "{dry:?}");
    assert_eq!(dry.applications_erased, 1);
    assert!(
        dry.files_erased >= 2,
        "the PDFs and the certificate: {dry:?}"
    );
    let path = format!("/v1/demo/staff/applications/{}", gone.id);
    assert_eq!(app.get_auth(&path, &staff).await.status, 200);

    // The scheduled run erases, once a day.
    let r = app.run_close_windows().await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["retention"]["applications_erased"], 1,
        "{:?}",
        r.body
    );
    assert_eq!(app.get_auth(&path, &staff).await.status, 404);
    let r = app
        .get_auth(&format!("/v1/demo/applications/{}", gone.id), &gone.token)
        .await;
    assert_eq!(r.status, 404);
    let files = app
        .ports
        .documents
        .list(&format!("documents/demo/{}/", gone.id))
        .await
        .expect("list");
    assert!(files.is_empty(), "{files:?}");
    let files = app
        .ports
        .documents
        .list(&format!("attachments/demo/{}/", gone.id))
        .await
        .expect("list");
    assert!(files.is_empty(), "{files:?}");
    let windows = app.get("/v1/demo/windows").await;
    assert!(
        !windows.body["windows"]
            .as_array()
            .expect("windows")
            .iter()
            .any(|w| w["id"] == old.as_str())
    );
    let r = app
        .get_auth(&format!("/v1/demo/staff/windows/{old}/stats"), &staff)
        .await;
    assert_eq!(r.status, 404);
    // Within the retention: kept.
    let r = app
        .get_auth(&format!("/v1/demo/staff/applications/{}", kept.id), &staff)
        .await;
    assert_eq!(r.status, 200);
    // The family's list no longer names it.
    let r = app.get_auth("/v1/demo/applications", &gone.token).await;
    assert!(!r.body.to_string().contains(&gone.id), "{:?}", r.body);
    // Again the same day: nothing more.
    let r = app.run_close_windows().await;
    assert_eq!(r.body["retention"]["applications_erased"], 0);
}
