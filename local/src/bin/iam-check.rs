//! `iam-check FILE`: every AWS call the tests recorded (`IAM_CALLS_FILE`,
//! written by `local::iam`), checked against its function's policy in
//! `infra/template.yaml`. A call the policy does not allow fails `make
//! test`, and so does a grant that no call needed (remove it).

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: iam-check CALLS_FILE");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("iam-check: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut needs = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match serde_json::from_str::<local::iam::Need>(line) {
            Ok(n) => needs.push(n),
            Err(e) => {
                eprintln!("iam-check: {path}:{}: {e}", i + 1);
                return ExitCode::FAILURE;
            }
        }
    }
    let template =
        match std::fs::read_to_string(local::workspace_root().join("infra/template.yaml")) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("iam-check: {e}");
                return ExitCode::FAILURE;
            }
        };
    let report = match local::iam_policy::check(&template, local::MAIL_FROM, &needs) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("iam-check: {e}");
            return ExitCode::FAILURE;
        }
    };
    let functions: std::collections::BTreeSet<&str> =
        needs.iter().map(|n| n.function.as_str()).collect();
    for unused in &report.unused {
        eprintln!("iam: UNUSED grant, no recorded call needs it: {unused}");
    }
    if report.denied.is_empty() && report.unused.is_empty() {
        println!(
            "iam: {} recorded calls, {} distinct, of {} functions ({}): every one allowed by its function's policy",
            needs.len(),
            report.checked,
            functions.len(),
            functions.iter().copied().collect::<Vec<_>>().join(", ")
        );
        return ExitCode::SUCCESS;
    }
    for d in &report.denied {
        eprintln!(
            "iam: DENIED {} {} on {} {:?} ({})",
            d.function, d.action, d.resource, d.context, d.operation
        );
    }
    eprintln!(
        "iam: {} calls the template's policies do not allow, {} grants no call needs (remove them)",
        report.denied.len(),
        report.unused.len()
    );
    ExitCode::FAILURE
}
