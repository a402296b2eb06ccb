//! `GuessStore`: a client's wrong guesses in one hour, across tenants
//! (`CLIENT#<keyed hash>` / `GUESSES#<unix hour>`, a number `n`), gone
//! with the table's TTL an hour after the hour.

use async_trait::async_trait;

use super::{DynamoStore, PK, SK, TTL, map_err, n, s};
use crate::ports::{GuessStore, StoreError};

fn keys(client: &str, hour: i64) -> (String, String) {
    (format!("CLIENT#{client}"), format!("GUESSES#{hour}"))
}

#[async_trait]
impl GuessStore for DynamoStore {
    async fn wrong_guesses(&self, client: &str, hour: i64) -> Result<u32, StoreError> {
        let (pk, sk) = keys(client, hour);
        Ok(self
            .get(pk, &sk)
            .await?
            .and_then(|item| item.get("n").and_then(|v| v.as_n().ok()).cloned())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0))
    }

    async fn count_wrong_guess(&self, client: &str, hour: i64) -> Result<(), StoreError> {
        let (pk, sk) = keys(client, hour);
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .update_expression("ADD #n :one SET #ttl = :ttl")
            .expression_attribute_names("#n", "n")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n((hour + 2) * 3600))
            .send()
            .await
            .map_err(|e| map_err(e, |_| false))?;
        Ok(())
    }
}
