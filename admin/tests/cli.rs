//! The `admin` binary itself, against the emulator of `make test`: a
//! broken tenant file lists every problem; apply, apply again (no change),
//! export equals what was applied; a second comune made from an export by
//! the command, a window opened by the command, and a family enrolling a
//! child on it through the local stack.

use std::process::{Command, Output};

use serde_json::{Value, json};

fn admin(table: &str, emulator: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_admin"))
        .args(args)
        .env("TABLE_NAME", table)
        .env("AWS_ENDPOINT_URL", emulator)
        .env("AWS_REGION", "eu-south-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("ADMIN_TARGET", "local")
        .output()
        .expect("the admin binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_file(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "admin-cli-{}-{}",
        std::process::id(),
        shared::ops::random_below(1_000_000).unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write");
    path
}

#[tokio::test]
async fn an_it_officer_creates_a_second_comune_and_opens_it() {
    let Ok(emulator) = std::env::var("AWS_ENDPOINT_URL") else {
        panic!("run through make test (AWS_ENDPOINT_URL names the emulator)");
    };
    let table = format!(
        "admin-cli-{}",
        shared::ops::random_below(1_000_000_000).unwrap_or(0)
    );
    let running = local::start(local::Options {
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        emulator_url: emulator.clone(),
        table: table.clone(),
        bucket: format!("{table}-docs"),
        mail_from: "no-reply@iscrizioni.comune.example.it".into(),
        secret: None,
        fault_proxy: false,
    })
    .await
    .expect("the local stack");
    let base = running.base_url();

    // A broken file: every problem, each with its path, and exit 1.
    let demo = std::fs::read_to_string(local::workspace_root().join("local/seed/demo.yaml"))
        .expect("demo.yaml");
    let broken = demo
        .replacen("name: Comune di Esempio", "name: ''", 1)
        .replacen("  max_isee_cents: 1500000", "  max_isee_cents: 100", 1)
        .replacen("- id: st-piazza-roma", "- id: Piazza Roma", 1);
    let file = temp_file("broken.yaml", &broken);
    let out = admin(
        &table,
        &emulator,
        &["tenant", "validate", &file.to_string_lossy()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for path in [
        ": name: must not be empty",
        ": fee_bands.1.max_isee_cents: bands overlap",
        ": service_settings.trasporto.stops.0.id:",
        "3 problems",
    ] {
        assert!(err.contains(path), "{path} in {err}");
    }
    // Usage errors are exit 2.
    let out = admin(&table, &emulator, &["tenant", "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));

    // The seeded comune: applying its own file again changes nothing.
    let demo_file = local::workspace_root().join("local/seed/demo.yaml");
    let out = admin(
        &table,
        &emulator,
        &["tenant", "apply", &demo_file.to_string_lossy()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Only the stand-in's address may differ (this stack's port).
    let lines = text(&out.stdout);
    assert!(
        lines
            .lines()
            .all(|l| l.starts_with("~ oidc.") || l.starts_with("demo:")),
        "{lines}"
    );

    // Export, rename, apply: a second comune.
    let out = admin(&table, &emulator, &["tenant", "export", "demo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exported = text(&out.stdout);
    let second = exported
        .replacen("slug: demo\n", "slug: altrove\n", 1)
        .replacen("name: Comune di Esempio\n", "name: Comune di Altrove\n", 1);
    assert_ne!(second, exported, "the slug and name were renamed");
    let file = temp_file("altrove.yaml", &second);
    let path = file.to_string_lossy().into_owned();
    let out = admin(&table, &emulator, &["tenant", "apply", &path, "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("altrove: dry run, nothing written"));
    let r = reqwest::get(format!("{base}/v1/altrove/windows"))
        .await
        .expect("get");
    assert_eq!(r.status(), 404, "a dry run writes nothing");
    let out = admin(&table, &emulator, &["tenant", "apply", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("+ name: \"Comune di Altrove\""));
    assert!(
        text(&out.stdout).ends_with("altrove: created\n"),
        "{}",
        text(&out.stdout)
    );
    let out = admin(&table, &emulator, &["tenant", "apply", &path]);
    assert_eq!(text(&out.stdout), "altrove: no change\n");
    // The export is the file applied.
    let out = admin(&table, &emulator, &["tenant", "export", "altrove"]);
    let back = admin::parse(
        &text(&out.stdout),
        shared::domain::tenant_rules::Target::Local,
    )
    .expect("valid");
    let applied =
        admin::parse(&second, shared::domain::tenant_rules::Target::Local).expect("valid");
    assert_eq!(back, applied);

    // Two applies at once cannot interleave: a write names the version it
    // compared with, and a stale one is refused.
    let store = running.app.store.clone();
    let slug = shared::domain::values::TenantSlug::parse("altrove").expect("slug");
    let seen = store
        .get_tenant_versioned(&slug)
        .await
        .expect("read")
        .expect("stored");
    let mut first = seen.value.clone();
    first.phone = "+39 06 1111111".into();
    let written = admin::apply(store.as_ref(), first, false)
        .await
        .expect("apply");
    assert!(written.written);
    let mut stale = seen.value.clone();
    stale.phone = "+39 06 2222222".into();
    assert_eq!(
        store.replace_tenant(&stale, Some(seen.version)).await,
        Err(shared::ports::StoreError::Conflict)
    );
    let out = admin(&table, &emulator, &["tenant", "apply", &path]);
    assert!(
        text(&out.stdout).contains("~ phone: \"+39 06 1111111\" -> \"+39 080 0000000\""),
        "{}",
        text(&out.stdout)
    );

    // Its first window, by the command.
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .expect("format")
    };
    let now = time::OffsetDateTime::now_utc();
    let opens = fmt(now - time::Duration::hours(1));
    let closes = fmt(now + time::Duration::days(30));
    let out = admin(
        &table,
        &emulator,
        &[
            "window",
            "create",
            "--tenant",
            "altrove",
            "--service",
            "refezione",
            "--school-year",
            "2026/2027",
            "--opens",
            &opens,
            "--closes",
            &closes,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let window = text(&out.stdout)
        .split('\t')
        .next()
        .expect("the window id")
        .to_owned();
    let out = admin(
        &table,
        &emulator,
        &[
            "window",
            "create",
            "--tenant",
            "altrove",
            "--service",
            "nuoto",
            "--school-year",
            "2026",
            "--opens",
            "x",
            "--closes",
            "y",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("service:"),
        "{}",
        text(&out.stderr)
    );
    let out = admin(
        &table,
        &emulator,
        &["window", "list", "--tenant", "altrove"],
    );
    assert!(text(&out.stdout).contains(&window));
    assert!(
        text(&out.stdout).contains("\topen\t"),
        "{}",
        text(&out.stdout)
    );

    // A family enrolls a child in the new comune.
    let client = reqwest::Client::new();
    let post = |path: String, body: Value, token: Option<String>| {
        let mut r = client.post(format!("{base}/v1/altrove{path}")).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let email = format!(
        "altrove-{}@example.it",
        shared::ops::random_below(1_000_000).unwrap_or(0)
    );
    let r = post("/email-codes".into(), json!({ "email": email }), None)
        .await
        .expect("code");
    assert_eq!(r.status(), 202);
    let outbox: Value = reqwest::get(format!("{base}/_local/outbox"))
        .await
        .expect("outbox")
        .json()
        .await
        .expect("json");
    let mail = outbox["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["to"][0] == email.as_str()))
        .expect("the code mail")
        .clone();
    assert!(
        mail["text"]
            .as_str()
            .unwrap_or("")
            .contains("Comune di Altrove")
    );
    let code = mail["text"]
        .as_str()
        .unwrap_or("")
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a code")
        .to_owned();
    let r = post(
        "/sessions".into(),
        json!({ "email": email, "code": code }),
        None,
    )
    .await
    .expect("session");
    assert_eq!(r.status(), 201);
    let session: Value = r.json().await.expect("json");
    let token = session["token"].as_str().expect("token").to_owned();
    let body = local::samples::application_body(
        &window,
        &local::samples::pupil_code().expect("code"),
        &local::samples::guardian_code().expect("code"),
        &email,
    );
    let r = post("/applications".into(), body, Some(token.clone()))
        .await
        .expect("draft");
    assert_eq!(r.status(), 201);
    let draft: Value = r.json().await.expect("json");
    let id = draft["id"].as_str().expect("id");
    let r = post(format!("/applications/{id}/submit"), json!({}), Some(token))
        .await
        .expect("submit");
    assert_eq!(r.status(), 200);
    let submitted: Value = r.json().await.expect("json");
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["user_code"].as_str().map(str::len), Some(8));
    running.stop().await;
}

/// Staff accounts in a user pool of the emulator: invited into the
/// comune's group (its sign-in address registered on the app client),
/// listed, signed in (the pool's token names the group, and the trigger's
/// code turns it into the claims), removed.
#[tokio::test]
async fn an_it_officer_invites_lists_and_removes_staff() {
    use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, OAuthFlowType};
    use base64::Engine;
    let Ok(emulator) = std::env::var("AWS_ENDPOINT_URL") else {
        panic!("run through make test (AWS_ENDPOINT_URL names the emulator)");
    };
    let table = format!(
        "admin-staff-{}",
        shared::ops::random_below(1_000_000_000).unwrap_or(0)
    );
    let running = local::start(local::Options {
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        emulator_url: emulator.clone(),
        table: table.clone(),
        bucket: format!("{table}-docs"),
        mail_from: "no-reply@iscrizioni.comune.example.it".into(),
        secret: None,
        fault_proxy: false,
    })
    .await
    .expect("the local stack");
    let cognito =
        aws_sdk_cognitoidentityprovider::Client::new(&local::emulator::sdk_config(&emulator).await);
    let pool = cognito
        .create_user_pool()
        .pool_name(format!("{table}-staff"))
        .username_attributes(aws_sdk_cognitoidentityprovider::types::UsernameAttributeType::Email)
        .send()
        .await
        .expect("pool");
    let pool_id = pool
        .user_pool()
        .and_then(|p| p.id())
        .expect("id")
        .to_owned();
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("back-office")
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_scopes("openid")
        .callback_urls("http://localhost/")
        .send()
        .await
        .expect("client");
    let client_id = client
        .user_pool_client()
        .and_then(|c| c.client_id())
        .expect("client id")
        .to_owned();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_admin"))
            .args(args)
            .env("TABLE_NAME", &table)
            .env("AWS_ENDPOINT_URL", &emulator)
            .env("AWS_REGION", "eu-south-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("STAFF_USER_POOL_ID", &pool_id)
            .env("STAFF_CLIENT_ID", &client_id)
            .output()
            .expect("the admin binary runs")
    };
    let email = format!(
        "operatore-{}@comune.example.it",
        shared::ops::random_below(1_000_000).unwrap_or(0)
    );
    let out = run(&["staff", "invite", "--tenant", "demo", "--email", &email]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("account created"), "{said}");
    assert!(
        said.contains("sign-in address registered: http://127.0.0.1:3000/demo/staff/accesso"),
        "{said}"
    );
    let described = cognito
        .describe_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .send()
        .await
        .expect("client");
    let c = described.user_pool_client().expect("client");
    assert_eq!(
        c.callback_urls(),
        [
            "http://localhost/",
            "http://127.0.0.1:3000/demo/staff/accesso"
        ]
    );
    assert_eq!(c.allowed_o_auth_flows(), [OAuthFlowType::Code], "kept");
    // Again: nothing new.
    let out = run(&["staff", "invite", "--tenant", "demo", "--email", &email]);
    assert!(text(&out.stdout).contains("existing account"));
    assert!(!text(&out.stdout).contains("registered"));
    let out = run(&["staff", "list", "--tenant", "demo"]);
    assert!(text(&out.stdout).contains(&email), "{}", text(&out.stdout));
    let out = run(&[
        "staff",
        "invite",
        "--tenant",
        "demo",
        "--email",
        "not-an-address",
    ]);
    assert_eq!(out.status.code(), Some(2));

    // The staff member signs in: the pool's ID token names the group, and
    // the trigger's code gives the claims the API requires.
    cognito
        .admin_set_user_password()
        .user_pool_id(&pool_id)
        .username(&email)
        .password("Una-Password-Lunga-2026")
        .permanent(true)
        .send()
        .await
        .expect("password");
    let auth = cognito
        .admin_initiate_auth()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", &email)
        .auth_parameters("PASSWORD", "Una-Password-Lunga-2026")
        .send()
        .await
        .expect("sign-in");
    let id_token = auth
        .authentication_result()
        .and_then(|r| r.id_token())
        .expect("an ID token")
        .to_owned();
    let payload = id_token.split('.').nth(1).expect("payload");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64"),
    )
    .expect("json");
    assert_eq!(claims["cognito:groups"], json!(["demo"]));
    let event = json!({ "request": { "groupConfiguration": {
        "groupsToOverride": claims["cognito:groups"] } } });
    let out = fn_staff_token::handle(event);
    assert_eq!(
        out.pointer("/response/claimsOverrideDetails/claimsToAddOrOverride"),
        Some(&json!({ "role": "staff", "tenant": "demo" }))
    );

    // Removed: out of the comune (and, in no other, deleted).
    let out = run(&["staff", "remove", "--tenant", "demo", "--email", &email]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["staff", "list", "--tenant", "demo"]);
    assert_eq!(text(&out.stdout), "demo: no staff\n");
    let out = run(&["staff", "remove", "--tenant", "demo", "--email", &email]);
    assert_eq!(out.status.code(), Some(1));
    running.stop().await;
}
