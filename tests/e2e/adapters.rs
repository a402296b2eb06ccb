//! The production adapters against the emulator, beyond what the HTTP
//! tests reach: private document storage and presigned links, the store's
//! conditional writes.

use crate::helpers::shared_app;
use shared::domain::security_code;
use shared::domain::values::TenantSlug;
use shared::ports::StoreError;

#[tokio::test]
async fn documents_are_private_and_served_by_short_presigned_links() {
    let docs = shared_app().ports.documents.clone();
    let key = "docs/app-3f9c/summary-v1.pdf";
    let body = b"%PDF-1.7 test".to_vec();
    assert!(!docs.exists(key).await.expect("head"));
    docs.put(key, "application/pdf", body.clone())
        .await
        .expect("put");
    assert!(docs.exists(key).await.expect("head"));
    assert_eq!(docs.get(key).await.expect("get"), body);

    let url = docs
        .presign_get(key, "riepilogo-domanda.pdf", 300)
        .await
        .expect("presign");
    assert!(url.contains("X-Amz-Expires=300"), "{url}");
    assert!(url.contains("X-Amz-Signature="));
    let fetched = reqwest::get(&url).await.expect("download");
    assert_eq!(fetched.status().as_u16(), 200);
    assert_eq!(fetched.bytes().await.expect("bytes").to_vec(), body);

    // Without the signature the object is not reachable.
    let unsigned = url.split('?').next().expect("base").to_owned();
    let r = reqwest::get(&unsigned).await.expect("request");
    assert_ne!(
        r.status().as_u16(),
        200,
        "a private object was served without a signature"
    );

    assert!(matches!(
        docs.get("docs/none.pdf").await,
        Err(shared::ports::DocumentError::NotFound)
    ));
}

#[tokio::test]
async fn code_records_are_written_only_on_the_version_read() {
    let store = shared_app().ports.store.clone();
    let tenant = TenantSlug::parse("demo").expect("slug");
    let key = "adapter-test-address-key";
    let first = security_code::issue(None, "h1".into(), 1_000, "client").expect("issue");
    store
        .put_code(&tenant, key, &first, None)
        .await
        .expect("first write");
    // A second "first write" loses.
    assert_eq!(
        store.put_code(&tenant, key, &first, None).await,
        Err(StoreError::Conflict)
    );
    let read = store
        .get_code(&tenant, key)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(read.value, first);
    let next =
        security_code::issue(Some(&read.value), "h2".into(), 1_100, "client").expect("issue");
    store
        .put_code(&tenant, key, &next, Some(read.version))
        .await
        .expect("write on the version read");
    // The same version again is stale now.
    assert_eq!(
        store
            .put_code(&tenant, key, &next, Some(read.version))
            .await,
        Err(StoreError::Conflict)
    );
}
