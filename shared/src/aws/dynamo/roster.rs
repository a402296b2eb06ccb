//! `RosterStore`: last year's entries (`TENANT#<slug>#ROSTER#<user code>` /
//! `ENTRY`), the hold on their user codes and their links under the
//! guardian identities.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use super::codec::{
    ROSTER_LINK, USER_CODE, decode_roster_entry, encode_roster_entry, encode_roster_hold,
    encode_roster_link, roster_link_sk, roster_links,
};
use super::{DATA, DynamoStore, PK, SK, owner_pk, put_item, roster_pk, s, transaction_put};
use crate::domain::roster::RosterEntry;
use crate::domain::values::TenantSlug;
use crate::ports::{RosterStore, RosterWriteError, StoreError};

#[async_trait]
impl RosterStore for DynamoStore {
    async fn put_roster_entry(
        &self,
        tenant: &TenantSlug,
        entry: &RosterEntry,
        links: &[String],
    ) -> Result<bool, RosterWriteError> {
        let table = self.table.as_str();
        let pk = roster_pk(tenant, &entry.user_code);
        let mut wanted: Vec<String> = links.to_vec();
        wanted.sort();
        wanted.dedup();
        let item = encode_roster_entry(tenant, entry, &wanted)?;
        // Conditional on what was read: a concurrent import of the same
        // code makes the loser read again instead of losing an update.
        for _ in 0..3 {
            let old = self.get(pk.clone(), "ENTRY").await?;
            let old_links = old.as_ref().map(roster_links).unwrap_or_default();
            if let Some(stored) = &old {
                let mut sorted = old_links.clone();
                sorted.sort();
                if stored.get(DATA) == item.get(DATA) && sorted == wanted {
                    return Ok(false);
                }
            }
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(item.clone()))
                .expression_attribute_names("#pk", PK);
            let put = match old.as_ref().and_then(|i| i.get(DATA)) {
                Some(previous) => put
                    .condition_expression("attribute_exists(#pk) AND #data = :old")
                    .expression_attribute_names("#data", DATA)
                    .expression_attribute_values(":old", previous.clone()),
                None => put.condition_expression("attribute_not_exists(#pk)"),
            };
            // Action 0 is the entry, action 1 (first import only) the hold
            // on its user code, then the identity links.
            let mut actions = vec![transaction_put(put)?];
            if old.is_none() {
                actions.push(transaction_put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(encode_roster_hold(tenant, &entry.user_code)))
                        .condition_expression("attribute_not_exists(#pk) OR #roster = :yes")
                        .expression_attribute_names("#pk", PK)
                        .expression_attribute_names("#roster", "roster")
                        .expression_attribute_values(":yes", AttributeValue::Bool(true)),
                )?);
            }
            for link in &wanted {
                actions.push(put_item(
                    table,
                    encode_roster_link(tenant, link, &entry.user_code),
                    None,
                )?);
            }
            for stale in old_links.iter().filter(|l| !wanted.contains(l)) {
                let delete = Delete::builder()
                    .table_name(table)
                    .key(PK, s(owner_pk(tenant, stale)))
                    .key(SK, s(roster_link_sk(&entry.user_code)))
                    .build()
                    .map_err(|e| StoreError::Other(format!("transaction delete: {e}")))?;
                actions.push(TransactWriteItem::builder().delete(delete).build());
            }
            let Err(cancelled) = self.transact(actions).await else {
                return Ok(true);
            };
            if old.is_none() && cancelled.failed_at(1) {
                return Err(RosterWriteError::UserCodeTaken);
            }
            if cancelled.failed_at(0) {
                continue;
            }
            return Err(cancelled.into_error().into());
        }
        Err(StoreError::Unavailable.into())
    }

    async fn roster_entry(
        &self,
        tenant: &TenantSlug,
        user_code: &str,
    ) -> Result<Option<RosterEntry>, StoreError> {
        self.get_as(roster_pk(tenant, user_code), "ENTRY", decode_roster_entry)
            .await
    }

    async fn roster_entries(
        &self,
        tenant: &TenantSlug,
        link: &str,
    ) -> Result<Vec<RosterEntry>, StoreError> {
        let codes = self
            .linked(owner_pk(tenant, link), ROSTER_LINK, USER_CODE)
            .await?;
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            if let Some(entry) = self.roster_entry(tenant, &code).await? {
                out.push(entry);
            }
        }
        Ok(out)
    }
}
