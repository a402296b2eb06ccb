//! `ApplicationStore`: applications (`TENANT#<slug>#APP#<id>` / `APP`, in
//! the staff list's index), their attachments, the pupil guard, the owner
//! locks and links, and the transactions of a state change with the mail
//! it owes.

use async_trait::async_trait;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, KeysAndAttributes, Put, Select, TransactWriteItem, Update,
};
use time::OffsetDateTime;

use super::codec::{
    APP_ID, CHANGES_DUE, PUPIL_APP, count_attr, count_pk, count_shard, decode_access,
    decode_application, decode_attachment, decode_change_timer, decode_counts, encode_access,
    encode_application, encode_attachment, encode_change_timer, encode_credentials,
    encode_family_guard, encode_hold, encode_outbox, encode_owner_link, encode_pupil_link,
    encode_user_code_reservation, family_guard_sk, hold_sk, link_target, rank_pk, staff_list_pk,
};
use super::{
    COUNT_SHARDS, DynamoStore, GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_PK, GSI2_SK, PK, RANK_SHARDS, SK,
    STATUS_SHARDS, VERSION, application_pk, map_err, n, owner_pk, pupil_pk, put_item, s, time_sort,
    transaction_put, user_code_pk, written,
};
use crate::domain::application::{Application, Attachment, AttachmentAccess, Status};
use crate::domain::values::TenantSlug;
use crate::ports::{
    ApplicationKeys, ApplicationStore, ChangeTimer, CreateError, Erasure, Hold, OutboxMessage,
    Owed, Release, StoreError, SubmitError,
};

/// One shard of a staff-list merge: the items read and not yet taken,
/// newest first, and where its next page starts.
struct ShardReader {
    pk: String,
    items: std::collections::VecDeque<(String, Application)>,
    start: Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
    done: bool,
}

impl DynamoStore {
    /// A page of one staff-list partition, newest first, older than `after`.
    fn staff_list_page(
        &self,
        gpk: &str,
        after: Option<&str>,
        page: i32,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .expression_attribute_names("#pk", GSI1_PK)
            .expression_attribute_values(":pk", s(gpk))
            .scan_index_forward(false)
            .limit(page);
        match after {
            Some(gsk) => query
                .key_condition_expression("#pk = :pk AND #sk < :after")
                .expression_attribute_names("#sk", GSI1_SK)
                .expression_attribute_values(":after", s(gsk)),
            None => query.key_condition_expression("#pk = :pk"),
        }
    }
}

/// The condition of a put that must create its item.
const NEW: Option<&str> = Some("attribute_not_exists(#pk)");

/// A transaction's replacement of an application still at `expected`.
fn application_at_version(
    table: &str,
    tenant: &TenantSlug,
    application: &Application,
    expected: u64,
) -> Result<TransactWriteItem, StoreError> {
    transaction_put(
        Put::builder()
            .table_name(table)
            .set_item(Some(encode_application(tenant, application)?))
            .condition_expression("#v = :v")
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_values(":v", n(expected)),
    )
}

/// A transaction's hold of the pupil for `application_id`: taken if free,
/// kept if already its own.
fn take_hold(
    table: &str,
    tenant: &TenantSlug,
    hold: &Hold,
    application_id: &str,
) -> Result<TransactWriteItem, StoreError> {
    transaction_put(
        Put::builder()
            .table_name(table)
            .set_item(Some(encode_hold(tenant, hold, application_id)))
            .condition_expression("attribute_not_exists(#pk) OR #a = :a")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#a", APP_ID)
            .expression_attribute_values(":a", s(application_id)),
    )
}

/// A transaction's check that no submission holds the pupil in `hold`'s
/// service and school year.
fn not_held(
    table: &str,
    tenant: &TenantSlug,
    hold: &Hold,
) -> Result<TransactWriteItem, StoreError> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .key(PK, s(pupil_pk(tenant, &hold.pupil)))
        .key(SK, s(hold_sk(hold)))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PK)
        .build()
        .map_err(|e| StoreError::Other(format!("transaction check: {e}")))?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// A transaction's delete of one item, with an optional condition on its
/// `app_id`.
fn delete_item(
    table: &str,
    pk: String,
    sk: String,
    owned_by: Option<&str>,
) -> Result<TransactWriteItem, StoreError> {
    let mut delete = Delete::builder()
        .table_name(table)
        .key(PK, s(pk))
        .key(SK, s(sk));
    if let Some(id) = owned_by {
        delete = delete
            .condition_expression("attribute_not_exists(#pk) OR #a = :a")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#a", APP_ID)
            .expression_attribute_values(":a", s(id));
    }
    let delete = delete
        .build()
        .map_err(|e| StoreError::Other(format!("transaction delete: {e}")))?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// A transaction's move of the application's count in its window from
/// the status it is counted under to its status now (nothing when they
/// agree): one `ADD` on the counter item of its shard.
fn count_move(
    table: &str,
    tenant: &TenantSlug,
    application: &Application,
) -> Result<Option<TransactWriteItem>, StoreError> {
    if application.counted_as == Some(application.status) {
        return Ok(None);
    }
    let mut update = Update::builder()
        .table_name(table)
        .key(
            PK,
            s(count_pk(
                tenant,
                &application.window_id,
                count_shard(&application.id),
            )),
        )
        .key(SK, s("COUNT"))
        .expression_attribute_names("#to", count_attr(application.status))
        .expression_attribute_values(":one", n(1));
    update = match application.counted_as {
        None => update.update_expression("ADD #to :one"),
        Some(from) => update
            .update_expression("ADD #to :one, #from :minus")
            .expression_attribute_names("#from", count_attr(from))
            .expression_attribute_values(":minus", n(-1)),
    };
    let update = update
        .build()
        .map_err(|e| StoreError::Other(format!("transaction update: {e}")))?;
    Ok(Some(TransactWriteItem::builder().update(update).build()))
}

/// A transaction's lock of an owner identity on one guardian: siblings'
/// applications from one session name the same guardian.
fn guardian_lock(
    table: &str,
    tenant: &TenantSlug,
    owner: &str,
    guardian: &str,
) -> Result<TransactWriteItem, StoreError> {
    let lock = Update::builder()
        .table_name(table)
        .key(PK, s(owner_pk(tenant, owner)))
        .key(SK, s("GUARDIAN"))
        .update_expression("SET #g = :g")
        .condition_expression("attribute_not_exists(#pk) OR #g = :g")
        .expression_attribute_names("#pk", PK)
        .expression_attribute_names("#g", "guardian")
        .expression_attribute_values(":g", s(guardian))
        .build()
        .map_err(|e| StoreError::Other(format!("transaction update: {e}")))?;
    Ok(TransactWriteItem::builder().update(lock).build())
}

impl DynamoStore {
    /// The applications of `ids` that exist.
    async fn applications(
        &self,
        tenant: &TenantSlug,
        ids: Vec<String>,
    ) -> Result<Vec<Application>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(app) = self
                .get_as(application_pk(tenant, &id), "APP", decode_application)
                .await?
            {
                out.push(app);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl ApplicationStore for DynamoStore {
    async fn create_application(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        keys: &ApplicationKeys,
        hold: &Hold,
        owed: Option<Owed<'_>>,
    ) -> Result<(), CreateError> {
        let table = self.table.as_str();
        // Action 0 is the application, 1 the pupil's link, 2 the check that
        // no submission holds the pupil; then, per owner identity, its
        // guard on the pupil in this window, its guardian lock and its
        // link.
        let mut actions = vec![
            put_item(table, encode_application(tenant, application)?, NEW)?,
            put_item(
                table,
                encode_pupil_link(tenant, &keys.pupil, &application.id),
                None,
            )?,
            not_held(table, tenant, hold)?,
        ];
        const OWNERS: usize = 3;
        for owner in &keys.owners {
            actions.push(put_item(
                table,
                encode_family_guard(tenant, owner, &keys.pupil, application),
                NEW,
            )?);
            actions.push(guardian_lock(table, tenant, owner, &keys.guardian)?);
            actions.push(put_item(
                table,
                encode_owner_link(tenant, owner, &application.id),
                None,
            )?);
        }
        // Then the mail owed (a new id: it cannot fail but by a conflict)
        // and the password it carries (new, or the family has one).
        let owed_at = actions.len();
        let mut credentials_at = None;
        if let Some(owed) = owed {
            actions.push(put_item(table, encode_outbox(owed.message), NEW)?);
            if let Some((family, credentials)) = owed.credentials {
                credentials_at = Some(actions.len());
                actions.push(put_item(
                    table,
                    encode_credentials(tenant, &keys.pupil, family, credentials, 1)?,
                    NEW,
                )?);
            }
        }
        actions.extend(count_move(table, tenant, application)?);
        let Err(cancelled) = self.transact(actions).await else {
            return Ok(());
        };
        let owners = OWNERS..owed_at;
        if cancelled.failed_at(2) {
            return Err(CreateError::Held);
        }
        if cancelled
            .failed
            .iter()
            .any(|i| owners.contains(i) && (i - OWNERS).is_multiple_of(3))
        {
            return Err(CreateError::DuplicatePupil);
        }
        if cancelled.failed.iter().any(|i| owners.contains(i)) {
            return Err(CreateError::GuardianMismatch);
        }
        if credentials_at.is_some_and(|i| cancelled.failed_at(i)) {
            return Err(CreateError::CredentialsExist);
        }
        if cancelled.failed_at(owed_at) || cancelled.failed_at(0) {
            return Err(CreateError::Store(StoreError::Conflict));
        }
        Err(CreateError::Store(cancelled.into_error()))
    }

    async fn get_application(
        &self,
        tenant: &TenantSlug,
        id: &str,
    ) -> Result<Option<Application>, StoreError> {
        self.get_as(application_pk(tenant, id), "APP", decode_application)
            .await
    }

    async fn application_with_attachments(
        &self,
        tenant: &TenantSlug,
        id: &str,
    ) -> Result<Option<(Application, Vec<Attachment>)>, StoreError> {
        // The partition's items sort ACCESS#… < APP < ATT#… < CHANGES_DUE:
        // the range from APP to just past ATT# is the application and its
        // attachments.
        let items = self
            .query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .consistent_read(true)
                    .key_condition_expression("#pk = :pk AND #sk BETWEEN :app AND :past")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#sk", SK)
                    .expression_attribute_values(":pk", s(application_pk(tenant, id)))
                    .expression_attribute_values(":app", s("APP"))
                    .expression_attribute_values(":past", s("ATT$")),
            )
            .await?;
        let mut application = None;
        let mut attachments = Vec::new();
        for item in &items {
            match item.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str) {
                Some("APP") => application = Some(decode_application(item)?),
                Some(sk) if sk.starts_with("ATT#") => attachments.push(decode_attachment(item)?),
                _ => {}
            }
        }
        Ok(application.map(|a| (a, attachments)))
    }

    async fn put_application(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        expected: u64,
    ) -> Result<(), StoreError> {
        let table = self.table.as_str();
        let Some(count) = count_move(table, tenant, application)? else {
            return self
                .put_versioned(encode_application(tenant, application)?, Some(expected))
                .await;
        };
        let actions = vec![
            application_at_version(table, tenant, application, expected)?,
            count,
        ];
        let Err(cancelled) = self.transact(actions).await else {
            return Ok(());
        };
        if cancelled.failed_at(0) {
            return Err(StoreError::Conflict);
        }
        Err(cancelled.into_error())
    }

    async fn submit_application(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        expected: u64,
        reserve: Option<&str>,
        message: &OutboxMessage,
        hold: &Hold,
    ) -> Result<(), SubmitError> {
        let table = self.table.as_str();
        // Action 0 is the application, 1 the credentials letter owed, 2 the
        // pupil's hold, 3 the user code's reservation.
        let mut actions = vec![
            application_at_version(table, tenant, application, expected)?,
            put_item(table, encode_outbox(message), NEW)?,
            take_hold(table, tenant, hold, &application.id)?,
        ];
        if let Some(user_code) = reserve {
            actions.push(put_item(
                table,
                encode_user_code_reservation(tenant, user_code, &application.id),
                NEW,
            )?);
        }
        actions.extend(count_move(table, tenant, application)?);
        let Err(cancelled) = self.transact(actions).await else {
            return Ok(());
        };
        if cancelled.failed_at(0) || cancelled.failed_at(1) {
            return Err(SubmitError::Conflict);
        }
        if cancelled.failed_at(2) {
            return Err(SubmitError::Held);
        }
        if cancelled.failed_at(3) {
            return Err(SubmitError::UserCodeTaken);
        }
        if cancelled.raced() {
            // Another transaction on the same items (a double click's
            // twin): a fresh look at what is stored decides.
            return Err(SubmitError::Conflict);
        }
        Err(SubmitError::Store(cancelled.into_error()))
    }

    async fn put_application_with_message(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        expected: u64,
        message: &OutboxMessage,
        release: Option<&Release>,
    ) -> Result<(), StoreError> {
        let table = self.table.as_str();
        let mut actions = vec![
            application_at_version(table, tenant, application, expected)?,
            put_item(table, encode_outbox(message), NEW)?,
        ];
        if let Some(release) = release {
            actions.push(delete_item(
                table,
                pupil_pk(tenant, &release.hold.pupil),
                hold_sk(&release.hold),
                Some(&application.id),
            )?);
            for owner in &release.owners {
                actions.push(delete_item(
                    table,
                    owner_pk(tenant, owner),
                    family_guard_sk(&release.hold.pupil, &application.window_id),
                    Some(&application.id),
                )?);
            }
        }
        actions.extend(count_move(table, tenant, application)?);
        let Err(cancelled) = self.transact(actions).await else {
            return Ok(());
        };
        if !cancelled.failed.is_empty() {
            return Err(StoreError::Conflict);
        }
        Err(cancelled.into_error())
    }

    async fn window_applications(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
        status: Status,
        limit: usize,
        after: Option<String>,
    ) -> Result<(Vec<Application>, Option<String>), StoreError> {
        // The status's shards, merged newest first: every shard's next item
        // is in hand before the newest of them is taken, and a page reads
        // one item past its end, so the cursor (the last item's index sort
        // key, unique and ordered across shards) pages exactly.
        let limit = limit.max(1);
        let page = i32::try_from(limit.div_ceil(STATUS_SHARDS as usize) + 2).unwrap_or(4);
        let mut shards: Vec<ShardReader> = (0..STATUS_SHARDS)
            .map(|shard| ShardReader {
                pk: staff_list_pk(tenant, window_id, status.code(), shard),
                items: std::collections::VecDeque::new(),
                start: None,
                done: false,
            })
            .collect();
        let mut out: Vec<(String, Application)> = Vec::with_capacity(limit + 1);
        while out.len() <= limit {
            let mut reads = tokio::task::JoinSet::new();
            for (i, shard) in shards.iter().enumerate() {
                if shard.items.is_empty() && !shard.done {
                    let query = self.staff_list_page(&shard.pk, after.as_deref(), page);
                    let start = shard.start.clone();
                    reads.spawn(
                        async move { (i, query.set_exclusive_start_key(start).send().await) },
                    );
                }
            }
            while let Some(read) = reads.join_next().await {
                let (i, result) = read.map_err(|e| StoreError::Other(e.to_string()))?;
                let result = result.map_err(|e| map_err(e, |_| false))?;
                let shard = &mut shards[i];
                for item in result.items() {
                    let gsk = item
                        .get(GSI1_SK)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default();
                    shard.items.push_back((gsk, decode_application(item)?));
                }
                shard.start = result.last_evaluated_key().cloned();
                shard.done = shard.start.is_none();
            }
            let newest = shards
                .iter_mut()
                .filter(|s| !s.items.is_empty())
                .max_by(|a, b| a.items[0].0.cmp(&b.items[0].0));
            match newest.and_then(|s| s.items.pop_front()) {
                Some(next) => out.push(next),
                None => break,
            }
        }
        let next = if out.len() > limit {
            out.truncate(limit);
            out.last().map(|(gsk, _)| gsk.clone())
        } else {
            None
        };
        Ok((out.into_iter().map(|(_, a)| a).collect(), next))
    }

    async fn owner_applications(
        &self,
        tenant: &TenantSlug,
        owner: &str,
    ) -> Result<Vec<Application>, StoreError> {
        let ids = self.linked(owner_pk(tenant, owner), "APP#", APP_ID).await?;
        self.applications(tenant, ids).await
    }

    async fn pupil_applications(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
    ) -> Result<Vec<Application>, StoreError> {
        let ids = self
            .linked(pupil_pk(tenant, pupil), PUPIL_APP, APP_ID)
            .await?;
        self.applications(tenant, ids).await
    }

    async fn ranked_before(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
        key: &str,
    ) -> Result<u32, StoreError> {
        // The shards are counted at once, each page by page.
        let mut counts = tokio::task::JoinSet::new();
        for shard in 0..RANK_SHARDS {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI2)
                .key_condition_expression("#pk = :pk AND #sk < :sk")
                .expression_attribute_names("#pk", GSI2_PK)
                .expression_attribute_names("#sk", GSI2_SK)
                .expression_attribute_values(":pk", s(rank_pk(tenant, window_id, shard)))
                .expression_attribute_values(":sk", s(key))
                .select(Select::Count);
            counts.spawn(async move {
                let mut total: u32 = 0;
                let mut start = None;
                loop {
                    let page = query
                        .clone()
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .map_err(|e| map_err(e, |_| false))?;
                    total = total.saturating_add(u32::try_from(page.count()).unwrap_or(0));
                    start = page.last_evaluated_key().cloned();
                    if start.is_none() {
                        return Ok::<u32, StoreError>(total);
                    }
                }
            });
        }
        let mut total: u32 = 0;
        while let Some(count) = counts.join_next().await {
            let count = count.map_err(|e| StoreError::Other(e.to_string()))??;
            total = total.saturating_add(count);
        }
        Ok(total)
    }

    async fn ranked_first(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        // The first `limit` of each shard, merged: the first `limit` of all.
        let mut keyed: Vec<(String, String)> = Vec::new();
        for shard in 0..RANK_SHARDS {
            let mut start = None;
            let mut taken = 0usize;
            loop {
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(GSI2)
                    .key_condition_expression("#pk = :pk")
                    .expression_attribute_names("#pk", GSI2_PK)
                    .expression_attribute_values(":pk", s(rank_pk(tenant, window_id, shard)))
                    .limit(
                        i32::try_from(limit.saturating_sub(taken).clamp(1, 1000)).unwrap_or(1000),
                    )
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| map_err(e, |_| false))?;
                for item in page.items() {
                    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
                    if let (Some(sk), Some(pk)) = (text(GSI2_SK), text(PK)) {
                        let id = pk.rsplit("#APP#").next().unwrap_or_default().to_owned();
                        keyed.push((sk, id));
                        taken += 1;
                    }
                }
                start = page.last_evaluated_key().cloned();
                if start.is_none() || taken >= limit {
                    break;
                }
            }
        }
        keyed.sort();
        Ok(keyed.into_iter().take(limit).map(|(_, id)| id).collect())
    }

    async fn user_code_application(
        &self,
        tenant: &TenantSlug,
        user_code: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(user_code_pk(tenant, user_code), "USERCODE")
            .await?
            .and_then(|item| link_target(&item, APP_ID)))
    }

    async fn holder(&self, tenant: &TenantSlug, hold: &Hold) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(pupil_pk(tenant, &hold.pupil), &hold_sk(hold))
            .await?
            .and_then(|item| link_target(&item, APP_ID)))
    }

    async fn put_attachment(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
        attachment: &Attachment,
    ) -> Result<(), StoreError> {
        self.put(encode_attachment(tenant, application_id, attachment)?)
            .await
    }

    async fn attachments(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
    ) -> Result<Vec<Attachment>, StoreError> {
        self.query_prefix(application_pk(tenant, application_id), "ATT#")
            .await?
            .iter()
            .map(decode_attachment)
            .collect()
    }

    async fn delete_attachment(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
        attachment_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(application_pk(tenant, application_id)))
            .key(SK, s(format!("ATT#{attachment_id}")))
            .send()
            .await
            .map_err(|e| map_err(e, |_| false))?;
        Ok(())
    }

    async fn replace_attachment(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
        attachment: &Attachment,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode_attachment(tenant, application_id, attachment)?))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await
            .map_err(|e| map_err(e, |e| e.is_conditional_check_failed_exception()))?;
        Ok(())
    }

    async fn window_counts(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
    ) -> Result<Vec<(Status, i64)>, StoreError> {
        // One BatchGetItem of the window's counter items (16 keys, a few
        // hundred bytes each), strongly consistent.
        let mut keys = Vec::with_capacity(usize::from(COUNT_SHARDS));
        for shard in 0..COUNT_SHARDS {
            keys.push(HashMap::from([
                (PK.to_string(), s(count_pk(tenant, window_id, shard))),
                (SK.to_string(), s("COUNT")),
            ]));
        }
        let mut totals: Vec<(Status, i64)> = Status::ALL.iter().map(|st| (*st, 0)).collect();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Other(format!("batch get: {e}")))?,
        );
        // Unprocessed keys (throttling) are asked again, a few times.
        for _ in 0..5 {
            let Some(request) = pending.take() else { break };
            let out = self
                .client
                .batch_get_item()
                .request_items(self.table.clone(), request)
                .send()
                .await
                .map_err(|e| map_err(e, |_| false))?;
            for item in out
                .responses()
                .and_then(|r| r.get(&self.table))
                .into_iter()
                .flatten()
            {
                for (total, (_, count)) in totals.iter_mut().zip(decode_counts(item)) {
                    total.1 += count;
                }
            }
            pending = out
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .filter(|k| !k.keys().is_empty())
                .cloned();
        }
        if pending.is_some() {
            return Err(StoreError::Unavailable);
        }
        Ok(totals)
    }

    async fn record_access(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
        access: &AttachmentAccess,
    ) -> Result<(), StoreError> {
        self.put(encode_access(tenant, application_id, access)?)
            .await
    }

    async fn accesses(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
    ) -> Result<Vec<AttachmentAccess>, StoreError> {
        self.query_prefix(application_pk(tenant, application_id), "ACCESS#")
            .await?
            .iter()
            .map(decode_access)
            .collect()
    }

    async fn put_change_timer(&self, timer: &ChangeTimer) -> Result<(), StoreError> {
        self.put(encode_change_timer(timer)).await
    }

    async fn change_timers_due(&self, by: OffsetDateTime) -> Result<Vec<ChangeTimer>, StoreError> {
        let upper = time_sort(by, "~");
        self.query_all(self.index_up_to(CHANGES_DUE.to_owned(), upper))
            .await?
            .iter()
            .map(decode_change_timer)
            .collect()
    }

    async fn delete_change_timer(&self, timer: &ChangeTimer) -> Result<(), StoreError> {
        // Only the timer of that due time: a newer request keeps its own.
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(application_pk(&timer.tenant, &timer.application_id)))
            .key(SK, s("CHANGES_DUE"))
            .condition_expression("#due = :due")
            .expression_attribute_names("#due", "due")
            .expression_attribute_values(":due", n(timer.due_at.unix_timestamp()))
            .send()
            .await;
        written(result).map(drop)
    }

    async fn erase_application(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        erasure: &Erasure,
    ) -> Result<(), StoreError> {
        let id = application.id.as_str();
        // The links and guards first, the application last: a run cut
        // short finds the application again and finishes.
        let mut keys: Vec<(String, String, bool)> = vec![
            (
                pupil_pk(tenant, &erasure.hold.pupil),
                format!("APP#{id}"),
                false,
            ),
            (
                pupil_pk(tenant, &erasure.hold.pupil),
                hold_sk(&erasure.hold),
                true,
            ),
        ];
        for owner in &erasure.owners {
            keys.push((owner_pk(tenant, owner), format!("APP#{id}"), false));
            keys.push((
                owner_pk(tenant, owner),
                family_guard_sk(&erasure.hold.pupil, &application.window_id),
                true,
            ));
        }
        if let Some(code) = &application.user_code {
            keys.push((user_code_pk(tenant, code), "USERCODE".into(), true));
        }
        for (pk, sk, owned) in keys {
            let mut request = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key(PK, s(pk))
                .key(SK, s(sk));
            if owned {
                // Only what is this application's (a hold taken since by
                // another, a code kept by the roster, stay).
                request = request
                    .condition_expression("attribute_not_exists(#pk) OR #a = :a")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#a", APP_ID)
                    .expression_attribute_values(":a", s(id));
            }
            written(request.send().await)?;
        }
        let pk = application_pk(tenant, id);
        let mut sks: Vec<String> = self
            .query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("#pk = :pk")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_values(":pk", s(pk.clone())),
            )
            .await?
            .iter()
            .filter_map(|item| item.get(SK).and_then(|v| v.as_s().ok()).cloned())
            .collect();
        // The application item itself last.
        sks.sort_by_key(|sk| sk == "APP");
        for sk in sks {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key(PK, s(pk.clone()))
                .key(SK, s(sk))
                .send()
                .await
                .map_err(|e| map_err(e, |_| false))?;
        }
        Ok(())
    }

    async fn erase_window(&self, tenant: &TenantSlug, window_id: &str) -> Result<(), StoreError> {
        let mut keys: Vec<(String, String)> = (0..COUNT_SHARDS)
            .map(|shard| (count_pk(tenant, window_id, shard), "COUNT".to_owned()))
            .collect();
        keys.push((super::tenant_pk(tenant), super::window_sk(window_id)));
        for (pk, sk) in keys {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key(PK, s(pk))
                .key(SK, s(sk))
                .send()
                .await
                .map_err(|e| map_err(e, |_| false))?;
        }
        Ok(())
    }
}
