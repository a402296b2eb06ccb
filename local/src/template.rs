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

pub fn parse(text: &str) -> Result<Declared, String> {
    let doc: Value =
        serde_norway::from_str(text).map_err(|e| format!("template is not valid YAML: {e}"))?;
    let resources = doc
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or("template has no Resources")?;
    let mut declared = Declared::default();
    for (name, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap_or("?");
        let binary = resource
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("function {name} has no Metadata.BuildProperties.Binary"))?
            .to_owned();
        let mut has_route = false;
        if let Some(events) = resource
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_mapping)
        {
            for (_, event) in events {
                if event.get("Type").and_then(Value::as_str) != Some("HttpApi") {
                    continue;
                }
                let props = event.get("Properties");
                let path = props.and_then(|p| p.get("Path")).and_then(Value::as_str);
                let method = props.and_then(|p| p.get("Method")).and_then(Value::as_str);
                let (Some(path), Some(method)) = (path, method) else {
                    return Err(format!("an HttpApi event of {name} lacks Path or Method"));
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

#[cfg(test)]
mod tests {
    use super::*;

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
        One: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: "/v1/{tenant}/x", Method: post } }
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
