//! Creates the table, the bucket and the mail identity, as the SAM template
//! does in AWS. Used by the local stack and the tests, never in Lambda.
//! Idempotent: what already exists is left as it is.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

use aws_sdk_s3::types::{
    BucketLocationConstraint, CorsConfiguration, CorsRule, CreateBucketConfiguration,
};

use super::Clients;
use super::dynamo::{GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_PK, GSI2_SK, PK, SK, TTL};

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, String> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| e.to_string())
}

fn attr(name: &str) -> Result<AttributeDefinition, String> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| e.to_string())
}

/// Create the table (same keys, index and TTL as `infra/template.yaml`).
pub async fn ensure_table(clients: &Clients, table: &str) -> Result<(), String> {
    let exists = clients
        .dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .is_ok();
    if !exists {
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(GSI1)
            .key_schema(key(GSI1_PK, KeyType::Hash)?)
            .key_schema(key(GSI1_SK, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(|e| e.to_string())?;
        let ranks = GlobalSecondaryIndex::builder()
            .index_name(GSI2)
            .key_schema(key(GSI2_PK, KeyType::Hash)?)
            .key_schema(key(GSI2_SK, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::KeysOnly)
                    .build(),
            )
            .build()
            .map_err(|e| e.to_string())?;
        clients
            .dynamodb
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            .attribute_definitions(attr(PK)?)
            .attribute_definitions(attr(SK)?)
            .attribute_definitions(attr(GSI1_PK)?)
            .attribute_definitions(attr(GSI1_SK)?)
            .attribute_definitions(attr(GSI2_PK)?)
            .attribute_definitions(attr(GSI2_SK)?)
            .global_secondary_indexes(gsi)
            .global_secondary_indexes(ranks)
            .send()
            .await
            .map_err(|e| format!("create table: {}", super::describe(&e)))?;
        clients
            .dynamodb
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL)
                    .enabled(true)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await
            .map_err(|e| format!("table ttl: {}", super::describe(&e)))?;
    }
    Ok(())
}

/// Create the private bucket, and let browsers upload to it.
pub async fn ensure_bucket(clients: &Clients, bucket: &str) -> Result<(), String> {
    if clients
        .s3
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
        .is_err()
    {
        create_bucket(clients, bucket).await?;
    }
    ensure_bucket_cors(clients, bucket).await
}

async fn create_bucket(clients: &Clients, bucket: &str) -> Result<(), String> {
    // Outside us-east-1 S3 wants the region as the location constraint.
    let region = clients
        .s3
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let mut request = clients.s3.create_bucket().bucket(bucket);
    if !region.is_empty() && region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    request
        .send()
        .await
        .map_err(|e| format!("create bucket: {}", super::describe(&e)))?;
    Ok(())
}

/// The portal PUTs attachments straight to presigned URLs of the bucket,
/// from another origin than the emulator's: the browser needs CORS. Any
/// origin, because the local stack runs on any port; the SAM template
/// allows only the portal's origin in AWS. Set every time (the same
/// configuration, so still idempotent).
async fn ensure_bucket_cors(clients: &Clients, bucket: &str) -> Result<(), String> {
    let rule = CorsRule::builder()
        .allowed_methods("PUT")
        .allowed_methods("GET")
        .allowed_methods("HEAD")
        .allowed_origins("*")
        .allowed_headers("*")
        .expose_headers("ETag")
        .max_age_seconds(300)
        .build()
        .map_err(|e| e.to_string())?;
    let cors = CorsConfiguration::builder()
        .cors_rules(rule)
        .build()
        .map_err(|e| e.to_string())?;
    clients
        .s3
        .put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(cors)
        .send()
        .await
        .map_err(|e| format!("bucket cors: {}", super::describe(&e)))?;
    Ok(())
}

/// Verify the sender identity (the emulator, like the SES sandbox, refuses
/// mail from an unverified sender).
pub async fn ensure_mail_identity(clients: &Clients, from: &str) -> Result<(), String> {
    clients
        .ses
        .verify_email_identity()
        .email_address(from)
        .send()
        .await
        .map_err(|e| format!("verify sender: {}", super::describe(&e)))?;
    Ok(())
}

/// All three.
pub async fn ensure_all(
    clients: &Clients,
    table: &str,
    bucket: &str,
    mail_from: &str,
) -> Result<(), String> {
    ensure_table(clients, table).await?;
    ensure_bucket(clients, bucket).await?;
    ensure_mail_identity(clients, mail_from).await
}
