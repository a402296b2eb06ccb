//! The routes declared in `infra/template.yaml`: the one list of paths that
//! the deployment, the dev server and the tests share.

use std::path::Path;

use serde_norway::Value;

/// One HTTP route of one function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteDecl {
    /// The function's binary (`Metadata.BuildProperties.Binary`).
    pub binary: String,
    pub method: String,
    /// e.g. `/v1/{tenant}/sessions`.
    pub path: String,
}

impl RouteDecl {
    /// API Gateway's route key, e.g. `POST /v1/{tenant}/sessions`.
    pub fn route_key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// What the template declares.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    pub routes: Vec<RouteDecl>,
    /// Binaries of the functions that have no HTTP route (scheduled ones).
    pub other_functions: Vec<String>,
}

pub fn load(path: &Path) -> Result<Declared, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text)
}

/// The template's functions: (resource name, binary, resource).
fn functions(doc: &Value) -> Result<Vec<(String, String, &Value)>, String> {
    let resources = doc
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or("template has no Resources")?;
    let mut out = Vec::new();
    for (name, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap_or("?").to_owned();
        let binary = resource
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("function {name} has no Metadata.BuildProperties.Binary"))?
            .to_owned();
        out.push((name, binary, resource));
    }
    Ok(out)
}

fn yaml(text: &str) -> Result<Value, String> {
    serde_norway::from_str(text).map_err(|e| format!("template is not valid YAML: {e}"))
}

pub fn parse(text: &str) -> Result<Declared, String> {
    let doc = yaml(text)?;
    let mut declared = Declared::default();
    for (name, binary, resource) in functions(&doc)? {
        let mut has_route = false;
        if let Some(events) = resource
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_mapping)
        {
            for (_, event) in events {
                if event.get("Type").and_then(Value::as_str) != Some("Api") {
                    continue;
                }
                let props = event.get("Properties");
                let path = props.and_then(|p| p.get("Path")).and_then(Value::as_str);
                let method = props.and_then(|p| p.get("Method")).and_then(Value::as_str);
                let (Some(path), Some(method)) = (path, method) else {
                    return Err(format!("an Api event of {name} lacks Path or Method"));
                };
                has_route = true;
                declared.routes.push(RouteDecl {
                    binary: binary.clone(),
                    method: method.to_ascii_uppercase(),
                    path: path.to_owned(),
                });
            }
        }
        if !has_route {
            declared.other_functions.push(binary);
        }
    }
    declared.routes.sort();
    Ok(declared)
}

/// Every statement of every function's inline policies, with the
/// function's binary and the statement's actions.
pub fn statements(text: &str) -> Result<Vec<(String, Vec<String>, Value)>, String> {
    let doc = yaml(text)?;
    let mut out = Vec::new();
    for (_, binary, resource) in functions(&doc)? {
        let policies = resource
            .get("Properties")
            .and_then(|p| p.get("Policies"))
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for statement in policies
            .iter()
            .filter_map(|p| p.get("Statement").and_then(Value::as_sequence))
            .flatten()
        {
            let actions: Vec<String> = match statement.get("Action") {
                Some(Value::String(a)) => vec![a.clone()],
                Some(Value::Sequence(list)) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            };
            out.push((binary.clone(), actions, statement.clone()));
        }
    }
    Ok(out)
}

/// For each function (by its binary), the S3 actions its inline policies
/// allow and whether a `s3:ListBucket` grant carries an `s3:prefix`
/// condition.
pub fn s3_grants(text: &str) -> Result<Vec<(String, Vec<String>, bool)>, String> {
    let doc = yaml(text)?;
    let all = statements(text)?;
    let mut out = Vec::new();
    for (_, binary, _) in functions(&doc)? {
        let mut actions = Vec::new();
        let mut scoped_list = false;
        for (_, listed, statement) in all.iter().filter(|(b, _, _)| *b == binary) {
            let s3: Vec<String> = listed
                .iter()
                .filter(|a| a.starts_with("s3:"))
                .cloned()
                .collect();
            if s3.iter().any(|a| a == "s3:ListBucket") {
                scoped_list |= statement
                    .get("Condition")
                    .and_then(|c| c.get("StringLike"))
                    .and_then(|c| c.get("s3:prefix"))
                    .is_some();
            }
            actions.extend(s3);
        }
        out.push((binary, actions, scoped_list));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In AWS, a HEAD or GET of a missing key answers 403, not 404, unless
    /// the caller may list the bucket; the emulator has no IAM, so only this
    /// check sees it. Every function that reads objects may list their
    /// prefixes, and no more.
    #[test]
    fn functions_that_read_objects_may_list_their_prefixes() {
        let text = std::fs::read_to_string(crate::workspace_root().join("infra/template.yaml"))
            .expect("template");
        let grants = s3_grants(&text).expect("parses");
        assert!(
            grants
                .iter()
                .any(|(_, a, _)| a.iter().any(|x| x == "s3:GetObject"))
        );
        for (binary, actions, scoped_list) in &grants {
            if actions.iter().any(|a| a == "s3:GetObject") {
                assert!(
                    *scoped_list,
                    "{binary} reads objects without a scoped s3:ListBucket"
                );
            }
            if actions.iter().any(|a| a == "s3:ListBucket") {
                assert!(*scoped_list, "{binary} may list the whole bucket");
            }
        }
    }

    /// SMS cost money: only the function that sends security codes may
    /// publish, and only to phone numbers (publishing to any topic is
    /// denied).
    #[test]
    fn only_the_code_sender_may_publish_and_only_sms() {
        let text = std::fs::read_to_string(crate::workspace_root().join("infra/template.yaml"))
            .expect("template");
        let publishes: Vec<_> = statements(&text)
            .expect("parses")
            .into_iter()
            .filter(|(_, actions, _)| actions.iter().any(|a| a.starts_with("sns:")))
            .collect();
        let effect = |s: &Value| s.get("Effect").and_then(Value::as_str).map(str::to_owned);
        let allowed: Vec<_> = publishes
            .iter()
            .filter(|(_, _, s)| effect(s).as_deref() == Some("Allow"))
            .collect();
        assert_eq!(allowed.len(), 1, "{allowed:?}");
        let (binary, actions, _) = allowed[0];
        assert_eq!(binary, "email-code");
        assert_eq!(actions, &vec!["sns:Publish".to_string()]);
        let topics_denied = publishes.iter().any(|(b, actions, s)| {
            b == "email-code"
                && effect(s).as_deref() == Some("Deny")
                && actions.iter().any(|a| a == "sns:Publish")
                && serde_norway::to_string(s.get("Resource").unwrap_or(&Value::Null))
                    .is_ok_and(|r| r.contains(":sns:*:*:*"))
        });
        assert!(topics_denied, "email-code may publish to topics");
    }

    #[test]
    fn reads_routes_and_scheduled_functions() {
        let yaml = r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  A:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: rust-cargolambda, BuildProperties: { Binary: a } }
    Properties:
      Role: !GetAtt R.Arn
      Events:
        One: { Type: Api, Properties: { RestApiId: !Ref Api, Path: "/v1/{tenant}/x", Method: post } }
  B:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: b } }
    Properties:
      Events:
        Tick: { Type: Schedule, Properties: { Schedule: rate(5 minutes) } }
  T: { Type: AWS::DynamoDB::Table }
"#;
        let d = parse(yaml).expect("parses");
        assert_eq!(d.routes.len(), 1);
        assert_eq!(d.routes[0].route_key(), "POST /v1/{tenant}/x");
        assert_eq!(d.other_functions, vec!["b".to_string()]);
    }
}
