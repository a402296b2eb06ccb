//! Last year's roster and its renewals over HTTP: the staff import (every
//! kind of bad line, idempotence, whole-file errors), the renewal rules
//! (arrears, someone else's pupil, twice in a window, a pupil leaving the
//! school), the seeded roster of `make dev`, and a renewal walked from the
//! SPID login to the office's confirmation.

use crate::helpers::*;
use serde_json::{Value, json};

const HEADER: &str = "user_code,service,pupil_fiscal_code,pupil_first_name,pupil_last_name,pupil_birth_date,school,grade,section,guardian_fiscal_code,guardian_first_name,guardian_last_name,guardian_email,guardian_phone,balance_cents";

/// One roster line, of a girl born 2015-05-01 (like `pupil_code()`).
struct Line {
    code: String,
    service: &'static str,
    pupil: String,
    first: &'static str,
    birth: &'static str,
    school: &'static str,
    grade: &'static str,
    guardian: String,
    email: String,
    phone: &'static str,
    balance: &'static str,
}

impl Line {
    fn new(guardian: &str, email: &str) -> Self {
        Self {
            code: user_code(),
            service: "refezione",
            pupil: pupil_code(),
            first: "Maria",
            birth: "2015-05-01",
            school: "Primaria G. Mazzini",
            grade: "2",
            guardian: guardian.to_owned(),
            email: email.to_owned(),
            phone: "+393331234567",
            balance: "0",
        }
    }

    fn csv(&self) -> String {
        format!(
            "{},{},{},{},Rossi,{},{},{},B,{},Anna,Bianchi,{},{},{}",
            self.code,
            self.service,
            self.pupil,
            self.first,
            self.birth,
            self.school,
            self.grade,
            self.guardian,
            self.email,
            self.phone,
            self.balance
        )
    }
}

fn file(lines: &[String]) -> Vec<u8> {
    format!("{HEADER}\n{}\n", lines.join("\n")).into_bytes()
}

async fn import(staff: &str, body: Vec<u8>) -> Reply {
    let app = shared_app();
    app.post_csv("/v1/demo/staff/roster-imports", staff, "text/csv", body)
        .await
}

async fn import_ok(staff: &str, lines: &[String]) {
    let r = import(staff, file(lines)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["rejected"], json!([]), "{:?}", r.body);
}

/// A fiscal code with a wrong check character.
fn broken(code: &str) -> String {
    let last = code.chars().last().expect("a code");
    let other = if last == 'A' { 'B' } else { 'A' };
    format!("{}{other}", &code[..15])
}

/// "Rinnova iscrizione" of the pupil with user code `code` in `window`.
async fn renew(token: &str, code: &str, window: &str) -> Reply {
    shared_app()
        .post_auth(
            "/v1/demo/renewals",
            token,
            json!({ "user_code": code, "window_id": window }),
        )
        .await
}

#[tokio::test]
async fn a_roster_import_reports_every_bad_line_and_changes_nothing_twice() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let email = unique_email("roster");
    let guardian = guardian_code();
    let good = Line::new(&guardian, &email);
    let mut quoted = Line::new(&guardian, &email);
    quoted.school = "\"Primaria \"\"Don Milani\"\", plesso 2\"";
    let bad = |f: &dyn Fn(&mut Line)| {
        let mut l = Line::new(&guardian, &email);
        f(&mut l);
        l.csv()
    };
    let lines = vec![
        good.csv(),                                 // 2
        quoted.csv(),                               // 3
        bad(&|l| l.code = "1234567".into()),        // 4
        bad(&|l| l.service = "piscina"),            // 5
        bad(&|l| l.pupil = broken(&l.pupil)),       // 6
        bad(&|l| l.birth = "2015-05-02"),           // 7
        bad(&|l| l.birth = "01/05/2015"),           // 8
        bad(&|l| l.guardian = broken(&l.guardian)), // 9
        bad(&|l| l.email = "anna@".into()),         // 10
        bad(&|l| l.phone = "12"),                   // 11
        bad(&|l| l.balance = "dieci"),              // 12
        "1,2,3".to_owned(),                         // 13
        bad(&|l| l.first = "M4ria"),                // 14
        bad(&|l| l.school = ""),                    // 15
        bad(&|l| l.grade = ""),                     // 16
        bad(&|l| l.code = good.code.clone()),       // 17: another pupil
        "".to_owned(),                              // 18: blank, skipped
        bad(&|l| l.balance = "-99999999999"),       // 19
    ];
    // With a byte-order mark and Windows line ends, as Excel saves it.
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend(
        String::from_utf8(file(&lines))
            .expect("utf-8")
            .replace('\n', "\r\n")
            .into_bytes(),
    );
    let r = import(&staff, body.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["imported"], 2, "{:?}", r.body);
    assert_eq!(r.body["unchanged"], 0);
    let got: Vec<(u64, &str, &str)> = r.body["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|x| {
            (
                x["line"].as_u64().unwrap_or(0),
                x["code"].as_str().unwrap_or(""),
                x["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (4, "invalid_user_code", "user_code"),
            (5, "invalid_service", "service"),
            (6, "invalid_fiscal_code", "pupil_fiscal_code"),
            (7, "birth_date_mismatch", "pupil_birth_date"),
            (8, "invalid_birth_date", "pupil_birth_date"),
            (9, "invalid_fiscal_code", "guardian_fiscal_code"),
            (10, "invalid_email", "guardian_email"),
            (11, "invalid_phone", "guardian_phone"),
            (12, "invalid_balance", "balance_cents"),
            (13, "wrong_column_count", ""),
            (14, "invalid_name", "pupil_first_name"),
            (15, "invalid_school", "school"),
            (16, "invalid_grade", "grade"),
            (17, "duplicate_user_code", "user_code"),
            (19, "invalid_balance", "balance_cents"),
        ]
    );
    // No personal data comes back in the report.
    assert!(!r.body.to_string().contains(&guardian));

    // The same file again: the same answer, nothing written.
    let again = import(&staff, body).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["imported"], 2);
    assert_eq!(again.body["unchanged"], 2);
    assert_eq!(again.body["rejected"], r.body["rejected"]);

    // The parent named by the good lines sees both pupils, quotes intact.
    let token = app.email_session(&email).await;
    let r = app.get_auth("/v1/demo/renewals", &token).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let list = r.body["renewable"].as_array().expect("list");
    assert_eq!(list.len(), 2, "{:?}", r.body);
    assert!(
        list.iter()
            .any(|x| x["pupil"]["school"] == "Primaria \"Don Milani\", plesso 2")
    );
    assert!(list.iter().all(|x| x["blocked"].is_null()));

    // A changed balance is an update of the same entry, not a new one.
    let mut owing = Line::new(&guardian, &email);
    owing.code = good.code.clone();
    owing.pupil = good.pupil.clone();
    owing.balance = "-1";
    let r = import(&staff, file(&[owing.csv()])).await;
    assert_eq!(
        (r.body["imported"].as_u64(), r.body["unchanged"].as_u64()),
        (Some(1), Some(0))
    );
    let r = app.get_auth("/v1/demo/renewals", &token).await;
    let list = r.body["renewable"].as_array().expect("list");
    assert_eq!(list.len(), 2);
    let entry = list
        .iter()
        .find(|x| x["user_code"] == good.code.as_str())
        .expect("the updated entry");
    assert_eq!(entry["blocked"], "payment_arrears");
}

#[tokio::test]
async fn whole_file_errors_and_who_may_import() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let line = Line::new(&guardian_code(), &unique_email("whole")).csv();

    let r = app
        .post_csv(
            "/v1/demo/staff/roster-imports",
            &staff,
            "application/json",
            file(std::slice::from_ref(&line)),
        )
        .await;
    assert_eq!((r.status, r.code()), (415, "unsupported_media_type"));

    let r = import(&staff, b"codice,servizio\n1,2\n".to_vec()).await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));
    assert_eq!(r.body["error"]["fields"][0]["field"], "header");

    let r = import(&staff, Vec::new()).await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));
    assert_eq!(r.body["error"]["fields"][0]["code"], "empty");

    let r = import(&staff, vec![0xff, 0xfe, 0x00]).await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));

    // 10,001 lines: refused whole, before anything is written.
    let many: Vec<String> = std::iter::repeat_n(line.clone(), 10_001).collect();
    let r = import(&staff, file(&many)).await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"));

    let big = vec![b'x'; 5 * 1024 * 1024 + 1];
    let r = import(&staff, big).await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"));

    // A parent's token is not a staff token; no token is no access.
    let parent = app.email_session(&unique_email("notstaff")).await;
    let r = import(&parent, file(std::slice::from_ref(&line))).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{:?}", r.body);
    let r = send(
        client()
            .post(app.url("/v1/demo/staff/roster-imports"))
            .header("content-type", "text/csv")
            .body(file(&[line])),
    )
    .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn renewals_follow_the_rules() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let window = app.open_window_id().await;
    let email = unique_email("renewer");
    let guardian = guardian_code();
    let staying = Line::new(&guardian, &email);
    let mut owing = Line::new(&guardian, &email);
    owing.balance = "-4200";
    let mut leaving = Line::new(&guardian, &email);
    leaving.grade = "5";
    let other = Line::new(&guardian_code(), &unique_email("someone-else"));
    import_ok(
        &staff,
        &[staying.csv(), owing.csv(), leaving.csv(), other.csv()],
    )
    .await;

    // SPID alone lists the pupils, but renewing needs a verified email.
    let spid_only = app.spid_session(&guardian, None).await;
    let r = app.get_auth("/v1/demo/renewals", &spid_only).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let list = r.body["renewable"].as_array().expect("list").clone();
    assert_eq!(list.len(), 3, "{:?}", r.body);
    let blocked = |code: &str| {
        list.iter()
            .find(|x| x["user_code"] == code)
            .map(|x| x["blocked"].clone())
    };
    assert_eq!(blocked(&staying.code), Some(Value::Null));
    assert_eq!(blocked(&owing.code), Some(json!("payment_arrears")));
    assert_eq!(blocked(&other.code), None);
    let r = renew(&spid_only, &staying.code, &window).await;
    assert_eq!((r.status, r.code()), (403, "email_verification_required"));

    // The email first, then SPID on the same session: one token, both.
    let by_email = app.email_session(&email).await;
    let id_token = app.id_token(&guardian).await;
    let r = app.spid_login(Some(&by_email), &id_token).await;
    let token = session_token(&r);
    assert_eq!(r.body["session"]["email"], email.as_str());

    // Arrears block, with how to pay.
    let r = renew(&token, &owing.code, &window).await;
    assert_eq!(
        (r.status, r.code()),
        (409, "payment_arrears"),
        "{:?}",
        r.body
    );
    let message = r.body["error"]["message"].as_str().unwrap_or("");
    assert!(message.starts_with("L'iscrizione al servizio è bloccata da pagamenti insoluti"));
    assert!(message.contains("pagoPA"), "{message}");
    assert!(!message.contains("4200") && !message.contains("42,00"));

    // Someone else's pupil, or no pupil at all: not found.
    for code in [other.code.clone(), user_code()] {
        let r = renew(&token, &code, &window).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{:?}", r.body);
    }
    let r = renew(&token, "12ab", &window).await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));
    let r = app
        .post_auth(
            "/v1/demo/renewals",
            &token,
            json!({ "user_code": staying.code, "window_id": window, "extra": 1 }),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "unknown_field"));

    // A closed window.
    let r = renew(&token, &staying.code, "w-trasporto-2025").await;
    assert_eq!((r.status, r.code()), (409, "window_closed"));

    // The renewal: prefilled, one grade up, the same user code.
    let r = renew(&token, &staying.code, &window).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["kind"], "renewal");
    assert_eq!(r.body["status"], "draft");
    assert_eq!(r.body["user_code"], staying.code.as_str());
    assert_eq!(r.body["pupil"]["fiscal_code"], staying.pupil.as_str());
    assert_eq!(r.body["pupil"]["grade"], "3");
    assert_eq!(r.body["guardian"]["fiscal_code"], guardian.as_str());
    let missing = r.body["missing"].as_array().expect("missing");
    assert!(missing.contains(&json!("declarations.privacy")));
    assert!(!missing.contains(&json!("pupil.grade")));

    // Twice in one window, as a renewal or as a new enrollment.
    let r = renew(&token, &staying.code, &window).await;
    assert_eq!((r.status, r.code()), (409, "duplicate_pupil"));
    let r = app
        .save_draft(
            &token,
            application_body(&window, &staying.pupil, &guardian, &email),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "duplicate_pupil"));

    // Drafts of renewals come only from /renewals.
    let mut body = application_body(&window, &pupil_code(), &guardian, &email);
    body["kind"] = json!("renewal");
    let r = app.save_draft(&token, body).await;
    assert_eq!((r.status, r.code()), (422, "invalid_fields"));

    // A pupil leaving the last grade: school and grade to fill in again.
    let r = renew(&token, &leaving.code, &window).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["pupil"]["school"], Value::Null);
    assert_eq!(r.body["pupil"]["grade"], Value::Null);
    let missing = r.body["missing"].as_array().expect("missing");
    assert!(missing.contains(&json!("pupil.school")), "{missing:?}");
    assert!(missing.contains(&json!("pupil.grade")), "{missing:?}");

    // By email alone (no SPID) the same guardian finds the same pupils.
    let r = app.get_auth("/v1/demo/renewals", &by_email).await;
    assert_eq!(r.body["renewable"].as_array().map(Vec::len), Some(3));
    // Another parent sees none of them.
    let stranger = app.email_session(&unique_email("stranger")).await;
    let r = app.get_auth("/v1/demo/renewals", &stranger).await;
    assert_eq!(r.body["renewable"], json!([]));
}

#[tokio::test]
async fn the_seeded_roster_renews_one_pupil_and_blocks_the_other() {
    let app = shared_app();
    let window = app.open_window_id().await;
    // Marco Esposito, Giulia's father, in good standing.
    let token = app
        .spid_session("SPSMRC82L09A662D", Some(&unique_email("marco")))
        .await;
    let r = app.get_auth("/v1/demo/renewals", &token).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let list = r.body["renewable"].as_array().expect("list");
    assert_eq!(list.len(), 1, "{:?}", r.body);
    assert_eq!(list[0]["pupil"]["first_name"], "Giulia");
    assert_eq!(list[0]["blocked"], Value::Null);
    let code = list[0]["user_code"].as_str().expect("code").to_owned();
    let r = renew(&token, &code, &window).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["pupil"]["grade"], "4");

    // Paola Ferri, Luca's mother, owes 42 euro.
    let token = app
        .spid_session("FRRPLA85T60A662Y", Some(&unique_email("paola")))
        .await;
    let r = app.get_auth("/v1/demo/renewals", &token).await;
    let list = r.body["renewable"].as_array().expect("list");
    assert_eq!(list.len(), 1, "{:?}", r.body);
    assert_eq!(list[0]["blocked"], "payment_arrears");
    let code = list[0]["user_code"].as_str().expect("code").to_owned();
    let r = renew(&token, &code, &window).await;
    assert_eq!((r.status, r.code()), (409, "payment_arrears"));
}

#[tokio::test]
async fn a_renewal_from_spid_login_to_the_offices_confirmation() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let window = app.open_window_id().await;
    let email = unique_email("spidrenewal");
    let guardian = guardian_code();
    let line = Line::new(&guardian, &email);
    import_ok(&staff, &[line.csv()]).await;

    // "Entra con SPID", then the email code on the same session.
    let token = app.spid_session(&guardian, Some(&email)).await;

    // "Anagrafiche > Rinnova iscrizione".
    let r = app.get_auth("/v1/demo/renewals", &token).await;
    assert_eq!(r.body["renewable"][0]["user_code"], line.code.as_str());
    let r = renew(&token, &line.code, &window).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    let version = r.body["version"].as_u64().expect("version");

    // Checked and completed like any application.
    let mut guardian_part = r.body["guardian"].clone();
    guardian_part["relationship"] = json!("madre");
    guardian_part["address"] = json!({ "street": "Via Roma 1", "city": "Corato",
                                       "postal_code": "70033", "province": "BA" });
    let body = json!({
        "window_id": window, "kind": "renewal",
        "pupil": r.body["pupil"], "guardian": guardian_part,
        "service": { "diet": { "kind": "vegetarian", "notes": "" },
                     "days": ["mon", "tue", "wed", "thu", "fri"] },
        "isee": null,
        "declarations": { "privacy": true, "regulation": true, "truthfulness": true }
    });
    let r = app
        .put_auth(
            &format!("/v1/demo/applications/{id}"),
            &token,
            Some(&format!("\"{version}\"")),
            body,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["missing"], json!([]));

    // "Invia iscrizione": the same user code as last year.
    let r = app.submit(&token, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "submitted");
    assert_eq!(r.body["user_code"], line.code.as_str());
    // Repeating it changes nothing.
    let again = app.submit(&token, &id).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["version"], r.body["version"]);
    let letters: Vec<Value> = app
        .mails_to(&email)
        .await
        .into_iter()
        .filter(|m| m["attachments"].as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    assert_eq!(letters.len(), 1, "one credentials letter");
    assert!(
        letters[0]["text"]
            .as_str()
            .unwrap_or("")
            .contains(&line.code)
    );

    // The office confirms; the parent reads "Confermata".
    let r = app.confirm(&staff, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .get_auth(&format!("/v1/demo/applications/{id}"), &token)
        .await;
    assert_eq!(r.body["status"], "confirmed");
    assert_eq!(r.body["kind"], "renewal");
    assert_eq!(r.body["user_code"], line.code.as_str());
}

/// A bus pupil's renewal starts from last year's stop (the roster's
/// optional `stop_id` column), if the bus still stops there.
#[tokio::test]
async fn a_bus_pupil_renews_from_last_years_stop() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let email = unique_email("bus-renewal");
    let guardian = guardian_code();
    let mut kept = Line::new(&guardian, &email);
    kept.service = "trasporto";
    let mut moved = Line::new(&guardian, &email);
    moved.service = "trasporto";
    let body = format!(
        "{HEADER},stop_id\n{},st-via-bari\n{},st-gone\n",
        kept.csv(),
        moved.csv()
    );
    let r = import(&staff, body.into_bytes()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["rejected"], json!([]), "{:?}", r.body);
    // A stop on a meal line is refused, with its column.
    let meal = Line::new(&guardian, &email);
    let r = import(
        &staff,
        format!("{HEADER},stop_id\n{},st-via-bari\n", meal.csv()).into_bytes(),
    )
    .await;
    assert_eq!(
        r.body["rejected"][0]["code"], "invalid_stop",
        "{:?}",
        r.body
    );

    let token = app.email_session(&email).await;
    let r = renew(&token, &kept.code, "w-trasporto-2026").await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["service"]["transport"]["stop_id"], "st-via-bari");
    assert!(r.body["service"]["diet"].is_null(), "no meal part");
    let r = renew(&token, &moved.code, "w-trasporto-2026").await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(
        r.body["service"]["transport"]["stop_id"].is_null(),
        "a stop the bus no longer has is not kept: {:?}",
        r.body["service"]
    );
    let _: &Value = &r.body;
}

/// A renewal keeps last year's code, held by the roster: the office's
/// search by that code finds the renewal through the roster's pupil.
#[tokio::test]
async fn the_office_finds_a_renewal_by_last_years_code() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let email = unique_email("renewal-search");
    let line = Line::new(&guardian_code(), &email);
    import_ok(&staff, &[line.csv()]).await;
    let search = format!("/v1/demo/staff/applications?q={}", line.code);
    let r = app.get_auth(&search, &staff).await;
    assert_eq!(r.body["items"], json!([]), "nothing renewed yet");
    let token = app.email_session(&email).await;
    let r = renew(&token, &line.code, "w-refezione-2026").await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].clone();
    let r = app.get_auth(&search, &staff).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let found: Vec<Value> = r.body["items"]
        .as_array()
        .map(|a| a.iter().map(|x| x["id"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(found, vec![id]);
}

/// Last year's school that the comune no longer lists is left for the
/// family to choose again.
#[tokio::test]
async fn a_school_no_longer_listed_is_not_prefilled() {
    let app = shared_app();
    let staff = app.staff_token("demo").await;
    let window = app.open_window_id().await;
    let email = unique_email("closed-school");
    let mut line = Line::new(&guardian_code(), &email);
    line.school = "Primaria Chiusa";
    import_ok(&staff, &[line.csv()]).await;
    let token = app.email_session(&email).await;
    let r = renew(&token, &line.code, &window).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["pupil"]["school"], Value::Null);
    assert_eq!(r.body["pupil"]["grade"], "3");
    let missing = r.body["missing"].as_array().expect("missing");
    assert!(missing.contains(&json!("pupil.school")), "{missing:?}");
}
