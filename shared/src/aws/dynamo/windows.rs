//! `WindowStore`: windows under the tenant's partition (`WINDOW#<id>`),
//! indexed in `WINDOWS#OPEN` until their close is recorded.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::codec::{OPEN_WINDOWS, decode_tenant_window, decode_window, encode_window, window_data};
use super::{
    DATA, DynamoStore, GSI1_PK, GSI1_SK, PK, SK, condition_failed, map_err, s, tenant_pk,
    time_sort, window_sk, written,
};
use crate::domain::values::TenantSlug;
use crate::domain::window::Window;
use crate::ports::{StoreError, WindowStore};

#[async_trait]
impl WindowStore for DynamoStore {
    async fn list_windows(&self, tenant: &TenantSlug) -> Result<Vec<Window>, StoreError> {
        self.query_prefix(tenant_pk(tenant), "WINDOW#")
            .await?
            .iter()
            .map(decode_window)
            .collect()
    }

    async fn get_window(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
    ) -> Result<Option<Window>, StoreError> {
        self.get_as(tenant_pk(tenant), &window_sk(window_id), decode_window)
            .await
    }

    async fn put_window(&self, tenant: &TenantSlug, window: &Window) -> Result<(), StoreError> {
        self.put(encode_window(tenant, window)?).await
    }

    async fn replace_window(
        &self,
        tenant: &TenantSlug,
        previous: &Window,
        next: &Window,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode_window(tenant, next)?))
            .condition_expression("#data = :old")
            .expression_attribute_names("#data", DATA)
            .expression_attribute_values(":old", window_data(previous)?)
            .send()
            .await
            .map_err(|e| map_err(e, condition_failed))?;
        Ok(())
    }

    async fn windows_closing_by(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<(TenantSlug, Window)>, StoreError> {
        // Every sort key up to "<now>#~" sorts before any window closing
        // after now ('~' is after every slug character).
        let upper = time_sort(now, "~");
        let query = self.index_up_to(OPEN_WINDOWS.into(), upper);
        let mut due = Vec::new();
        for item in self.query_all(query).await? {
            let (tenant, window) = decode_tenant_window(&item)?;
            if window.closed_at.is_none() && window.closes_at <= now {
                due.push((tenant, window));
            }
        }
        Ok(due)
    }

    async fn record_window_closed(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let Some(item) = self.get(tenant_pk(tenant), &window_sk(window_id)).await? else {
            return Ok(false);
        };
        let mut window = decode_window(&item)?;
        if window.closed_at.is_some() {
            return Ok(false);
        }
        let previous_data = item
            .get(DATA)
            .cloned()
            .ok_or_else(|| StoreError::Other("item without data".into()))?;
        window.closed_at = Some(at);
        // Conditional on the data read: a concurrent run or a staff change in
        // between makes this a no-op rather than a lost update.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(tenant_pk(tenant)))
            .key(SK, s(window_sk(window_id)))
            .update_expression("SET #data = :new REMOVE #gpk, #gsk")
            .condition_expression("#data = :old")
            .expression_attribute_names("#data", DATA)
            .expression_attribute_names("#gpk", GSI1_PK)
            .expression_attribute_names("#gsk", GSI1_SK)
            .expression_attribute_values(":new", window_data(&window)?)
            .expression_attribute_values(":old", previous_data)
            .send()
            .await;
        Ok(written(result)?.is_some())
    }
}
