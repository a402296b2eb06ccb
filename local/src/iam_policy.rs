//! A policy evaluator for the template's own policies: each function's
//! inline statements (`Effect`, `Action`, `Resource`, `Condition` with
//! `StringEquals` / `StringLike`), the template's intrinsic functions
//! resolved for a stack named `stack` in `eu-south-1`. A need is allowed
//! when an Allow statement of its function matches it and no Deny does
//! (AWS's rule for identity policies); a condition whose key the request
//! lacks does not hold.

use std::collections::{BTreeMap, BTreeSet};

use serde_norway::Value;

use crate::iam::Need;

const REGION: &str = "eu-south-1";
const ACCOUNT: &str = "123456789012";
const STACK: &str = "stack";

/// The table's ARN as recorded and as resolved.
fn table_arn() -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{{table}}")
}

fn bucket_name() -> String {
    format!("{STACK}-docs-{ACCOUNT}-{REGION}")
}

/// One statement of one function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub function: String,
    pub sid: String,
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// (operator, key, values).
    pub conditions: Vec<(String, String, Vec<String>)>,
}

fn tag_of(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_owned(),
            &t.value,
        )),
        _ => None,
    }
}

fn substitute(text: &str, vars: &BTreeMap<String, String>, mail_from: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        let value = match name {
            "AWS::Partition" => "aws".to_owned(),
            "AWS::Region" => REGION.to_owned(),
            "AWS::AccountId" => ACCOUNT.to_owned(),
            "AWS::StackName" => STACK.to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            "Table.Arn" => table_arn(),
            "ChallengedPaths.Arn" => crate::iam::CHALLENGES_ARN.to_owned(),
            "MailFrom" => mail_from.to_owned(),
            other => vars
                .get(other)
                .cloned()
                .unwrap_or_else(|| format!("${{{other}}}")),
        };
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A value of the template, resolved to strings.
fn resolve(v: &Value, mail_from: &str) -> Vec<String> {
    if let Some((tag, inner)) = tag_of(v) {
        return match tag.as_str() {
            "Sub" => match inner {
                Value::String(s) => vec![substitute(s, &BTreeMap::new(), mail_from)],
                Value::Sequence(parts) => {
                    let text = parts.first().and_then(Value::as_str).unwrap_or("");
                    let mut vars = BTreeMap::new();
                    if let Some(Value::Mapping(m)) = parts.get(1) {
                        for (k, v) in m {
                            if let (Some(k), Some(v)) =
                                (k.as_str(), resolve(v, mail_from).into_iter().next())
                            {
                                vars.insert(k.to_owned(), v);
                            }
                        }
                    }
                    vec![substitute(text, &vars, mail_from)]
                }
                _ => Vec::new(),
            },
            "GetAtt" => {
                let name = match inner {
                    Value::String(s) => s.clone(),
                    Value::Sequence(p) => p
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("."),
                    _ => String::new(),
                };
                if name == "Table.Arn" {
                    vec![table_arn()]
                } else if name == "ChallengedPaths.Arn" {
                    vec![crate::iam::CHALLENGES_ARN.to_owned()]
                } else {
                    vec![format!("getatt:{name}")]
                }
            }
            "Ref" => match inner.as_str() {
                Some("MailFrom") => vec![mail_from.to_owned()],
                Some(other) => vec![format!("ref:{other}")],
                None => Vec::new(),
            },
            "Split" => match inner {
                Value::Sequence(p) => {
                    let sep = p.first().and_then(Value::as_str).unwrap_or("");
                    let text = p
                        .get(1)
                        .and_then(|x| resolve(x, mail_from).into_iter().next())
                        .unwrap_or_default();
                    text.split(sep).map(str::to_owned).collect()
                }
                _ => Vec::new(),
            },
            "Select" => match inner {
                Value::Sequence(p) => {
                    let i = p.first().and_then(Value::as_u64).unwrap_or(0) as usize;
                    let list = p.get(1).map(|x| resolve(x, mail_from)).unwrap_or_default();
                    list.get(i).cloned().into_iter().collect()
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
    }
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(list) => list.iter().flat_map(|x| resolve(x, mail_from)).collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

/// Every statement of every function of the template.
pub fn statements(template: &str, mail_from: &str) -> Result<Vec<Statement>, String> {
    let mut out = Vec::new();
    for (function, _actions, s) in crate::template::statements(template)? {
        let get = |k: &str| s.get(k);
        let mut conditions = Vec::new();
        if let Some(Value::Mapping(ops)) = get("Condition") {
            for (op, keys) in ops {
                let Some(op) = op.as_str() else { continue };
                if let Value::Mapping(keys) = keys {
                    for (key, values) in keys {
                        if let Some(key) = key.as_str() {
                            conditions.push((
                                op.to_owned(),
                                key.to_owned(),
                                resolve(values, mail_from),
                            ));
                        }
                    }
                }
            }
        }
        out.push(Statement {
            function,
            sid: get("Sid").and_then(Value::as_str).unwrap_or("").to_owned(),
            allow: get("Effect").and_then(Value::as_str) == Some("Allow"),
            actions: get("Action")
                .map(|a| resolve(a, mail_from))
                .unwrap_or_default(),
            resources: get("Resource")
                .map(|r| resolve(r, mail_from))
                .unwrap_or_default(),
            conditions,
        });
    }
    Ok(out)
}

/// IAM's wildcard match: `*` any run, `?` one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Actions compare without regard to case, as IAM does.
fn action_matches(granted: &str, action: &str) -> bool {
    glob(&granted.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

fn matches(s: &Statement, need: &Need, resource: &str) -> bool {
    let action = s.actions.iter().any(|a| action_matches(a, &need.action));
    let res = s.resources.iter().any(|r| glob(r, resource));
    let conditions = s.conditions.iter().all(|(op, key, values)| {
        let Some(actual) = need.context.get(key) else {
            return false;
        };
        match op.as_str() {
            "StringEquals" => values.iter().any(|v| v == actual),
            "StringLike" => values.iter().any(|v| glob(v, actual)),
            _ => false,
        }
    });
    action && res && conditions
}

/// The need's resource as the template names it.
fn resolved(need: &Need) -> String {
    need.resource
        .replace("{bucket}", &bucket_name())
        .replace("{stack}", STACK)
}

/// Whether `need` is allowed by its function's statements; the statement
/// that allowed it.
pub fn allowed<'a>(statements: &'a [Statement], need: &Need) -> Option<&'a Statement> {
    let resource = resolved(need);
    let own = || statements.iter().filter(|s| s.function == need.function);
    if own().any(|s| !s.allow && matches(s, need, &resource)) {
        return None;
    }
    own().find(|s| s.allow && matches(s, need, &resource))
}

/// What the check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Distinct needs checked.
    pub checked: usize,
    /// Needs no statement allows.
    pub denied: Vec<Need>,
    /// Actions of Allow statements no need used: `function/Sid action`.
    pub unused: Vec<String>,
}

/// Check every need against the template.
pub fn check(template: &str, mail_from: &str, needs: &[Need]) -> Result<Report, String> {
    let statements = statements(template, mail_from)?;
    let distinct: BTreeSet<&Need> = needs.iter().collect();
    // (function, Sid, action as granted) that some allowed need used.
    let mut used: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
    let mut report = Report {
        checked: distinct.len(),
        ..Report::default()
    };
    for need in distinct {
        if allowed(&statements, need).is_none() {
            report.denied.push(need.clone());
            continue;
        }
        let resource = resolved(need);
        for s in statements
            .iter()
            .filter(|s| s.allow && s.function == need.function && matches(s, need, &resource))
        {
            for a in s.actions.iter().filter(|a| action_matches(a, &need.action)) {
                used.insert((&s.function, &s.sid, a));
            }
        }
    }
    let exercised: BTreeSet<&str> = needs.iter().map(|n| n.function.as_str()).collect();
    for s in statements
        .iter()
        .filter(|s| s.allow && exercised.contains(s.function.as_str()))
    {
        for a in &s.actions {
            if !used.contains(&(s.function.as_str(), s.sid.as_str(), a.as_str())) {
                report.unused.push(format!("{}/{} {a}", s.function, s.sid));
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &str = "no-reply@iscrizioni.comune.example.it";

    fn need(function: &str, action: &str, resource: &str, context: &[(&str, &str)]) -> Need {
        Need {
            function: function.into(),
            action: action.into(),
            resource: resource.into(),
            context: context
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            operation: "test".into(),
        }
    }

    fn template() -> String {
        std::fs::read_to_string(crate::workspace_root().join("infra/template.yaml"))
            .expect("template")
    }

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(glob(
            "arn:aws:s3:::b/attachments/*",
            "arn:aws:s3:::b/attachments/demo/a/x"
        ));
        assert!(!glob(
            "arn:aws:s3:::b/attachments/*",
            "arn:aws:s3:::b/documents/x"
        ));
        assert!(glob("dynamodb:*", "dynamodb:getitem"));
        assert!(glob("a?c", "abc") && !glob("a?c", "abbc"));
    }

    #[test]
    fn the_template_allows_what_the_functions_do_and_no_more() {
        let t = template();
        let table = table_arn();
        let calls = [
            need("confirm", "dynamodb:GetItem", &table, &[]),
            need(
                "confirm",
                "dynamodb:Query",
                &format!("{table}/index/gsi1"),
                &[],
            ),
            need(
                "confirm",
                "s3:ListBucket",
                "arn:aws:s3:::{bucket}",
                &[("s3:prefix", "attachments/demo/app-1/att-1")],
            ),
            need("email-code", "sns:Publish", "*", &[]),
            need(
                "close-windows",
                "ses:SendRawEmail",
                "arn:aws:ses:eu-south-1:123456789012:identity/iscrizioni.comune.example.it",
                &[("ses:FromAddress", MAIL)],
            ),
        ];
        let report = check(&t, MAIL, &calls).expect("check");
        assert_eq!(report.denied, Vec::<Need>::new());
        // Not allowed: another table, the whole bucket listed, a topic,
        // another sender, a scan.
        for denied in [
            need(
                "confirm",
                "dynamodb:GetItem",
                "arn:aws:dynamodb:eu-south-1:123456789012:table/other",
                &[],
            ),
            need("confirm", "s3:ListBucket", "arn:aws:s3:::{bucket}", &[]),
            need(
                "email-code",
                "sns:Publish",
                "arn:aws:sns:eu-south-1:123456789012:topic",
                &[],
            ),
            need(
                "close-windows",
                "ses:SendRawEmail",
                "arn:aws:ses:eu-south-1:123456789012:identity/iscrizioni.comune.example.it",
                &[("ses:FromAddress", "someone@else.it")],
            ),
            need("status", "dynamodb:Scan", &table, &[]),
        ] {
            let r = check(&t, MAIL, std::slice::from_ref(&denied)).expect("check");
            assert_eq!(r.denied, vec![denied.clone()], "{denied:?}");
        }
    }

    #[test]
    fn a_removed_grant_is_caught() {
        let t = template();
        let call = need("confirm", "dynamodb:BatchGetItem", &table_arn(), &[]);
        assert!(
            check(&t, MAIL, std::slice::from_ref(&call))
                .expect("check")
                .denied
                .is_empty()
        );
        let removed = t.replacen("                - dynamodb:BatchGetItem\n", "", 1);
        assert_ne!(removed, t, "the grant is in the template");
        let report = check(&removed, MAIL, std::slice::from_ref(&call)).expect("check");
        assert_eq!(report.denied, vec![call]);
    }

    #[test]
    fn a_grant_no_call_needs_is_reported() {
        let t = template();
        let calls = [need("email-code", "sns:Publish", "*", &[])];
        let report = check(&t, MAIL, &calls).expect("check");
        assert!(report.denied.is_empty());
        assert!(
            report
                .unused
                .contains(&"email-code/SendMailFromMailFrom ses:SendRawEmail".to_owned()),
            "{:?}",
            report.unused
        );
        assert!(
            !report
                .unused
                .iter()
                .any(|u| u.starts_with("email-code/SendSms")),
            "{:?}",
            report.unused
        );
        // Functions the run never called are not judged.
        assert!(
            !report.unused.iter().any(|u| u.starts_with("confirm/")),
            "{:?}",
            report.unused
        );
    }
}
