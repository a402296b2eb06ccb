//! IAM, proven from the tests: every AWS call a function's handler makes on
//! the local stack is recorded (the function, from a task-local set around
//! each handler; the IAM action, the resource and the condition keys AWS
//! would evaluate, from an SDK interceptor), and `iam-check` evaluates each
//! against that function's policy in `infra/template.yaml`
//! (the `iam_policy` module). Calls outside a handler (setup, seeding, tests
//! reading the store) are not any function's and are not recorded.
//!
//! AWS's semantics, as recorded:
//! - a transaction needs each item's own action (`dynamodb:PutItem`,
//!   `UpdateItem`, `DeleteItem`, `ConditionCheckItem`) on its table;
//! - a query of an index needs `dynamodb:Query` on `<table>/index/<name>`;
//! - `HeadObject` and a presigned GET need `s3:GetObject` on the object, and
//!   a `HeadObject` answered 404 also `s3:ListBucket` on the bucket (S3
//!   answers 403 otherwise), evaluated without an `s3:prefix`;
//! - `ListObjectsV2` needs `s3:ListBucket` with `s3:prefix`;
//! - the challenge list's read and write need `wafv2:GetRegexPatternSet`
//!   and `wafv2:UpdateRegexPatternSet` on the set;
//! - a comune's App IO key needs `secretsmanager:GetSecretValue` on its
//!   secret;
//! - `SendRawEmail` needs `ses:SendRawEmail` on the sender's identity with
//!   `ses:FromAddress`; an SMS `Publish` needs `sns:Publish` on `*`.
//!
//! Table and bucket names are written as `{table}` and `{bucket}`: the
//! checker puts in the template's.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use serde::{Deserialize, Serialize};

tokio::task_local! {
    /// The function (its binary) whose handler is running.
    pub static FUNCTION: &'static str;
}

/// One permission a call needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Need {
    pub function: String,
    /// e.g. `dynamodb:GetItem`.
    pub action: String,
    /// An ARN, with `{table}` / `{bucket}` for the stack's names.
    pub resource: String,
    /// Condition keys and their values in the request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, String>,
    /// The SDK operation, for the report.
    pub operation: String,
}

const REGION: &str = "eu-south-1";
const ACCOUNT: &str = "123456789012";

fn table_arn(_name: &str) -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{{table}}")
}

/// Where the needs go: `IAM_CALLS_FILE` (JSON lines, appended), when set.
fn sink() -> &'static Mutex<Option<std::fs::File>> {
    static SINK: std::sync::OnceLock<Mutex<Option<std::fs::File>>> = std::sync::OnceLock::new();
    SINK.get_or_init(|| {
        Mutex::new(std::env::var("IAM_CALLS_FILE").ok().and_then(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
        }))
    })
}

fn record(needs: &[Need]) {
    let Ok(mut guard) = sink().lock() else {
        return;
    };
    let Some(file) = guard.as_mut() else {
        return;
    };
    let mut text = String::new();
    for n in needs {
        if let Ok(line) = serde_json::to_string(n) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    // One write per call: appends of whole lines do not interleave.
    let _ = file.write_all(text.as_bytes());
}

/// The needs of one S3 or SES or SNS or DynamoDB input, by its type.
fn needs_of(
    function: &str,
    operation: &str,
    input: &aws_smithy_runtime_api::client::interceptors::context::Input,
) -> Vec<Need> {
    let need = |action: &str, resource: String, context: BTreeMap<String, String>| Need {
        function: function.to_owned(),
        action: action.to_owned(),
        resource,
        context,
        operation: operation.to_owned(),
    };
    let none = BTreeMap::new;
    use aws_sdk_dynamodb::operation as ddb;
    if let Some(i) = input.downcast_ref::<ddb::get_item::GetItemInput>() {
        return vec![need(
            "dynamodb:GetItem",
            table_arn(i.table_name().unwrap_or("")),
            none(),
        )];
    }
    if let Some(i) = input.downcast_ref::<ddb::put_item::PutItemInput>() {
        return vec![need(
            "dynamodb:PutItem",
            table_arn(i.table_name().unwrap_or("")),
            none(),
        )];
    }
    if let Some(i) = input.downcast_ref::<ddb::update_item::UpdateItemInput>() {
        return vec![need(
            "dynamodb:UpdateItem",
            table_arn(i.table_name().unwrap_or("")),
            none(),
        )];
    }
    if let Some(i) = input.downcast_ref::<ddb::delete_item::DeleteItemInput>() {
        return vec![need(
            "dynamodb:DeleteItem",
            table_arn(i.table_name().unwrap_or("")),
            none(),
        )];
    }
    if let Some(i) = input.downcast_ref::<ddb::query::QueryInput>() {
        let mut arn = table_arn(i.table_name().unwrap_or(""));
        if let Some(index) = i.index_name() {
            arn = format!("{arn}/index/{index}");
        }
        return vec![need("dynamodb:Query", arn, none())];
    }
    if let Some(i) = input.downcast_ref::<ddb::scan::ScanInput>() {
        return vec![need(
            "dynamodb:Scan",
            table_arn(i.table_name().unwrap_or("")),
            none(),
        )];
    }
    if let Some(i) = input.downcast_ref::<ddb::batch_get_item::BatchGetItemInput>() {
        return i
            .request_items()
            .map(|m| {
                m.keys()
                    .map(|t| need("dynamodb:BatchGetItem", table_arn(t), none()))
                    .collect()
            })
            .unwrap_or_default();
    }
    if let Some(i) = input.downcast_ref::<ddb::batch_write_item::BatchWriteItemInput>() {
        return i
            .request_items()
            .map(|m| {
                m.keys()
                    .map(|t| need("dynamodb:BatchWriteItem", table_arn(t), none()))
                    .collect()
            })
            .unwrap_or_default();
    }
    if let Some(i) = input.downcast_ref::<ddb::transact_write_items::TransactWriteItemsInput>() {
        let mut out = Vec::new();
        for item in i.transact_items() {
            if let Some(p) = item.put() {
                out.push(need("dynamodb:PutItem", table_arn(p.table_name()), none()));
            }
            if let Some(u) = item.update() {
                out.push(need(
                    "dynamodb:UpdateItem",
                    table_arn(u.table_name()),
                    none(),
                ));
            }
            if let Some(d) = item.delete() {
                out.push(need(
                    "dynamodb:DeleteItem",
                    table_arn(d.table_name()),
                    none(),
                ));
            }
            if let Some(c) = item.condition_check() {
                out.push(need(
                    "dynamodb:ConditionCheckItem",
                    table_arn(c.table_name()),
                    none(),
                ));
            }
        }
        return out;
    }
    use aws_sdk_s3::operation as s3;
    let object = |key: Option<&str>| format!("arn:aws:s3:::{{bucket}}/{}", key.unwrap_or(""));
    if let Some(i) = input.downcast_ref::<s3::head_object::HeadObjectInput>() {
        return vec![need("s3:GetObject", object(i.key()), none())];
    }
    if let Some(i) = input.downcast_ref::<s3::get_object::GetObjectInput>() {
        return vec![need("s3:GetObject", object(i.key()), none())];
    }
    if let Some(i) = input.downcast_ref::<s3::put_object::PutObjectInput>() {
        return vec![need("s3:PutObject", object(i.key()), none())];
    }
    if let Some(i) = input.downcast_ref::<s3::delete_object::DeleteObjectInput>() {
        return vec![need("s3:DeleteObject", object(i.key()), none())];
    }
    if let Some(i) = input.downcast_ref::<s3::list_objects_v2::ListObjectsV2Input>() {
        let mut context = BTreeMap::new();
        if let Some(prefix) = i.prefix() {
            context.insert("s3:prefix".to_owned(), prefix.to_owned());
        }
        return vec![need(
            "s3:ListBucket",
            "arn:aws:s3:::{bucket}".into(),
            context,
        )];
    }
    if let Some(i) =
        input.downcast_ref::<aws_sdk_ses::operation::send_raw_email::SendRawEmailInput>()
    {
        // Without `Source`, SES (and IAM's `ses:FromAddress`) take the
        // raw message's `From` header.
        let from = match i.source().filter(|f| !f.is_empty()) {
            Some(f) => f.to_owned(),
            None => i
                .raw_message()
                .map(|m| from_header(m.data().as_ref()))
                .unwrap_or_default(),
        };
        let domain = from
            .rsplit_once('@')
            .map(|(_, d)| d.to_owned())
            .unwrap_or_default();
        let context = BTreeMap::from([("ses:FromAddress".to_owned(), from)]);
        return vec![need(
            "ses:SendRawEmail",
            format!("arn:aws:ses:{REGION}:{ACCOUNT}:identity/{domain}"),
            context,
        )];
    }
    if let Some(i) = input.downcast_ref::<aws_sdk_sns::operation::publish::PublishInput>() {
        let resource = match (i.topic_arn(), i.target_arn()) {
            (Some(t), _) | (None, Some(t)) => t.to_owned(),
            (None, None) => "*".to_owned(),
        };
        return vec![need("sns:Publish", resource, none())];
    }
    if let Some(i) = input
        .downcast_ref::<aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueInput>()
    {
        // The local stack names its secrets after its table; the stack's
        // are `<stack>/app-io/<slug>`, with the random suffix AWS adds.
        let id = i.secret_id().unwrap_or("");
        let slug = id.rsplit_once("/app-io/").map_or(id, |(_, slug)| slug);
        return vec![need(
            "secretsmanager:GetSecretValue",
            format!(
                "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{{stack}}/app-io/{slug}-AbCdEf"
            ),
            none(),
        )];
    }
    use aws_sdk_wafv2::operation as waf;
    let challenges = || CHALLENGES_ARN.to_owned();
    if input
        .downcast_ref::<waf::get_regex_pattern_set::GetRegexPatternSetInput>()
        .is_some()
    {
        return vec![need("wafv2:GetRegexPatternSet", challenges(), none())];
    }
    if input
        .downcast_ref::<waf::update_regex_pattern_set::UpdateRegexPatternSetInput>()
        .is_some()
    {
        return vec![need("wafv2:UpdateRegexPatternSet", challenges(), none())];
    }
    vec![need(&format!("unknown:{operation}"), "*".into(), none())]
}

/// The challenge list's ARN as recorded and as the checker resolves the
/// template's `!GetAtt ChallengedPaths.Arn` (the stack's own set).
pub const CHALLENGES_ARN: &str =
    "arn:aws:wafv2:eu-south-1:123456789012:regional/regexpatternset/{challenges}";

/// The address of a raw message's `From` header (`Name <a@b>` or `a@b`).
fn from_header(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(value) = line
            .strip_prefix("From:")
            .or_else(|| line.strip_prefix("from:"))
        {
            let value = value.trim();
            return match (value.rfind('<'), value.rfind('>')) {
                (Some(a), Some(b)) if a < b => value[a + 1..b].to_owned(),
                _ => value.to_owned(),
            };
        }
    }
    String::new()
}

/// What a HeadObject that came back 404 also needed.
#[derive(Debug, Clone)]
struct PendingHead {
    function: String,
}

impl Storable for PendingHead {
    type Storer = StoreReplace<Self>;
}

/// The interceptor on the local stack's AWS clients.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recorder;

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "IAM needs recorder"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(function) = FUNCTION.try_with(|f| *f) else {
            return Ok(());
        };
        let operation = cfg
            .load::<Metadata>()
            .map(|m| format!("{}:{}", m.service(), m.name()))
            .unwrap_or_else(|| "?".into());
        let needs = needs_of(function, &operation, context.input());
        record(&needs);
        if operation.ends_with(":HeadObject") {
            cfg.interceptor_state().store_put(PendingHead {
                function: function.to_owned(),
            });
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(pending) = cfg.load::<PendingHead>() else {
            return Ok(());
        };
        let missing = context
            .response()
            .is_some_and(|r| r.status().as_u16() == 404);
        if missing {
            record(&[Need {
                function: pending.function.clone(),
                action: "s3:ListBucket".into(),
                resource: "arn:aws:s3:::{bucket}".into(),
                context: BTreeMap::new(),
                operation: "S3:HeadObject (404)".into(),
            }]);
        }
        Ok(())
    }
}

/// The stack's AWS clients with the recorder on each.
/// A WAF client whose calls are recorded (the scheduled function's).
pub fn recorded_wafv2(sdk: &shared::aws_config::SdkConfig) -> aws_sdk_wafv2::Client {
    aws_sdk_wafv2::Client::from_conf(
        aws_sdk_wafv2::config::Builder::from(sdk)
            .interceptor(Recorder)
            .build(),
    )
}

pub fn recorded_clients(sdk: &shared::aws_config::SdkConfig) -> shared::aws::Clients {
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(sdk)
        .interceptor(Recorder)
        .build();
    let ses = aws_sdk_ses::config::Builder::from(sdk)
        .interceptor(Recorder)
        .build();
    let s3 = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .interceptor(Recorder)
        .build();
    let sns = aws_sdk_sns::config::Builder::from(sdk)
        .interceptor(Recorder)
        .build();
    let secrets = aws_sdk_secretsmanager::config::Builder::from(sdk)
        .interceptor(Recorder)
        .build();
    shared::aws::Clients {
        secrets: aws_sdk_secretsmanager::Client::from_conf(secrets),
        dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb),
        ses: aws_sdk_ses::Client::from_conf(ses),
        s3: aws_sdk_s3::Client::from_conf(s3),
        sns: aws_sdk_sns::Client::from_conf(sns),
    }
}
