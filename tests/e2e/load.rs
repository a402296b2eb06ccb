//! Load and integrity: many parents at once run the whole journey against
//! the dev server and the emulator (loopback only, bounded in count), with
//! double clicks, retries and pupils contested by two families; then the
//! table is audited. The emulator, not our code, bounds the throughput
//! here, so the figures are printed and the audit is the assertion.
//! `LOAD_PARENTS` sets the number of parents (default 40).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::helpers::*;
use serde_json::Value;

struct Outcome {
    email: String,
    pupil: String,
    id: Option<String>,
    submitted: bool,
    steps: Vec<(&'static str, Duration)>,
}

impl Outcome {
    /// Another family's application holds the pupil: nothing submitted.
    fn refused(email: String, pupil: String, steps: Vec<(&'static str, Duration)>) -> Self {
        Self {
            email,
            pupil,
            id: None,
            submitted: false,
            steps,
        }
    }
}

async fn timed<F: std::future::Future<Output = Reply>>(
    steps: &mut Vec<(&'static str, Duration)>,
    name: &'static str,
    f: F,
) -> Reply {
    let started = Instant::now();
    let r = f.await;
    steps.push((name, started.elapsed()));
    r
}

/// One family: code, session, draft, then "Invia iscrizione" clicked twice
/// at once and retried once more.
async fn family(window: String, pupil: String) -> Outcome {
    let app = shared_app();
    let mut steps = Vec::new();
    let email = unique_email("load");
    let r = timed(&mut steps, "email code", app.request_code(&email)).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let code = app.latest_code(&email).await;
    let r = timed(&mut steps, "session", app.email_login(None, &email, &code)).await;
    let token = session_token(&r);
    let r = timed(
        &mut steps,
        "draft",
        app.save_draft(
            &token,
            application_body(&window, &pupil, &guardian_code(), &email),
        ),
    )
    .await;
    if r.status == 409 {
        assert_eq!(r.code(), "duplicate_pupil");
        return Outcome::refused(email, pupil, steps);
    }
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    let started = Instant::now();
    let (a, b) = tokio::join!(app.submit(&token, &id), app.submit(&token, &id));
    steps.push(("submit (double click)", started.elapsed()));
    let retry = app.submit(&token, &id).await;
    if a.status == 409 {
        // Another family's submission holds the pupil: every click agrees.
        for r in [&a, &b, &retry] {
            assert_eq!(
                (r.status, r.code()),
                (409, "duplicate_pupil"),
                "{:?}",
                r.body
            );
        }
        return Outcome::refused(email, pupil, steps);
    }
    for r in [&a, &b, &retry] {
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    assert_eq!(a.body["user_code"], b.body["user_code"]);
    assert_eq!(a.body["user_code"], retry.body["user_code"]);
    Outcome {
        email,
        pupil,
        id: Some(id),
        submitted: true,
        steps,
    }
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or_default()
}

#[tokio::test]
async fn many_parents_at_once_and_the_table_stays_whole() {
    let app = shared_app();
    let parents: usize = std::env::var("LOAD_PARENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    // A window of its own: its counts are this test's alone.
    let staff = app.staff_token("demo").await;
    let window = app.new_window(&staff).await;
    // Every fifth pupil is contested: two families enroll the same child.
    let mut pupils: Vec<String> = (0..parents).map(|_| pupil_code()).collect();
    let contested = parents / 5;
    for i in 0..contested {
        pupils[2 * i + 1] = pupils[2 * i].clone();
    }
    let started = Instant::now();
    let tasks: Vec<_> = pupils
        .iter()
        .map(|p| tokio::spawn(family(window.clone(), p.clone())))
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("a family's task"));
    }
    let elapsed = started.elapsed();

    // Figures (not assertions).
    let mut by_step: HashMap<&str, Vec<Duration>> = HashMap::new();
    for o in &outcomes {
        for (name, d) in &o.steps {
            by_step.entry(name).or_default().push(*d);
        }
    }
    println!("load: {parents} parents ({contested} pupils contested) in {elapsed:.2?}");
    let mut names: Vec<_> = by_step.keys().copied().collect();
    names.sort();
    for name in names {
        let v = by_step[name].clone();
        println!(
            "load: {name:<22} n={:<3} p50={:>7.1?} p95={:>7.1?}",
            v.len(),
            percentile(v.clone(), 0.5),
            percentile(v, 0.95)
        );
    }

    // Each contested pupil: exactly one family got through.
    let distinct: HashSet<&String> = pupils.iter().collect();
    let submitted: Vec<&Outcome> = outcomes.iter().filter(|o| o.submitted).collect();
    assert_eq!(submitted.len(), distinct.len(), "one application per pupil");

    // The audit of the table.
    let clients =
        shared::aws::Clients::from_sdk_config(&local::emulator::sdk_config(&app.emulator).await);
    let mut items = Vec::new();
    let mut pages = clients
        .dynamodb
        .scan()
        .table_name(&app.table)
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        items.push(item.expect("scan"));
    }
    let text = |item: &HashMap<String, _>, k: &str| -> String {
        item.get(k)
            .and_then(|v: &shared::aws_sdk_dynamodb::types::AttributeValue| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let apps: HashMap<String, Value> = items
        .iter()
        .filter(|i| text(i, "sk") == "APP")
        .map(|i| {
            let v: Value = serde_json::from_str(&text(i, "data")).expect("application json");
            (v["id"].as_str().unwrap_or_default().to_owned(), v)
        })
        .collect();
    let mut user_codes: HashSet<String> = HashSet::new();
    let mut pupils_in_window: HashSet<String> = HashSet::new();
    for o in &submitted {
        let id = o.id.as_deref().expect("id");
        let stored = apps
            .get(id)
            .expect("no lost write: the application is stored");
        assert_eq!(stored["status"], "submitted", "{id}");
        // Submitted once (version 2), then perhaps marked contested by the
        // other family's attempt (3).
        let contested = u64::from(stored["contested"] == true);
        assert_eq!(
            stored["version"],
            2 + contested,
            "{id}: one submission, whatever the clicks"
        );
        assert_eq!(stored["pupil_fiscal_code"], o.pupil.as_str());
        let code = stored["user_code"]
            .as_str()
            .expect("a user code")
            .to_owned();
        assert!(
            user_codes.insert(code.clone()),
            "user code {code} given twice"
        );
        let holds: Vec<_> = items
            .iter()
            .filter(|i| text(i, "sk") == "USERCODE" && text(i, "app_id") == id)
            .collect();
        assert_eq!(holds.len(), 1, "{id}: exactly one user code reservation");
        assert!(text(holds[0], "pk").ends_with(&format!("#USERCODE#{code}")));
        let pupil_holds = items
            .iter()
            .filter(|i| text(i, "sk").starts_with("HOLD#") && text(i, "app_id") == id)
            .count();
        assert_eq!(pupil_holds, 1, "{id}: exactly one hold of the pupil");
        assert!(pupils_in_window.insert(o.pupil.clone()), "duplicate pupil");
        let outbox = items
            .iter()
            .filter(|i| text(i, "sk") == "OUTBOX" && text(i, "app_id") == id)
            .count();
        assert_eq!(outbox, 0, "{id}: the letter is still owed");
    }
    // The window's counts (sharded counters moved in each transaction)
    // agree with the applications stored, status by status.
    let mut stored_counts: HashMap<String, u64> = HashMap::new();
    for v in apps.values().filter(|v| v["window_id"] == window.as_str()) {
        *stored_counts
            .entry(v["status"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let stats = app
        .get_auth(&format!("/v1/demo/staff/windows/{window}/stats"), &staff)
        .await;
    assert_eq!(stats.status, 200, "{:?}", stats.body);
    for (status, n) in stats.body["counts"].as_object().expect("counts") {
        assert_eq!(
            n.as_u64(),
            Some(stored_counts.get(status).copied().unwrap_or(0)),
            "count of {status}: {:?} against {stored_counts:?}",
            stats.body
        );
    }
    // Exactly one credentials letter per submitted family.
    let messages = app.get("/_local/outbox").await.body["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for o in &submitted {
        let letters = messages
            .iter()
            .filter(|m| {
                m["to"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|x| x == o.email.as_str()))
                    && m["subject"]
                        .as_str()
                        .is_some_and(|s| s.contains("lettera credenziali"))
            })
            .count();
        assert_eq!(letters, 1, "one credentials letter");
    }
    println!(
        "load: audit of {} items: {} applications, {} user codes, no duplicate, no lost write, one letter each",
        items.len(),
        apps.len(),
        user_codes.len()
    );
}
