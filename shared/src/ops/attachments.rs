//! Uploads of the ISEE attestation and the medical certificate: a record
//! of the declared file and a presigned PUT link for exactly that type and
//! size. Health data lives only in the private bucket, under a key that
//! names no person. Whether the file really arrived is checked when the
//! application is validated (`missing`, submission).

use serde::{Deserialize, Serialize};

use super::sessions::SessionClaims;
use crate::app::App;
use crate::domain::application::{
    ATTACHMENT_KINDS, ATTACHMENT_TYPES, Attachment, MAX_ATTACHMENT_BYTES,
};
use crate::domain::error::{Error, FieldError};
use crate::domain::tenant::Tenant;

/// Upload links live this long.
pub const UPLOAD_TTL_SECS: u64 = 300;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct UploadLink {
    pub attachment_id: String,
    pub upload_url: String,
    pub expires_in: u64,
}

fn check(req: &UploadRequest) -> Result<(), Error> {
    let mut errors = Vec::new();
    if !ATTACHMENT_KINDS.contains(&req.kind.as_str()) {
        errors.push(FieldError::new(
            "kind",
            "invalid",
            "Tipo di allegato non valido: «isee» o «medical_certificate».",
        ));
    }
    let name = req.filename.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "filename",
            "invalid",
            "Nome del file non valido.",
        ));
    }
    if !ATTACHMENT_TYPES.contains(&req.content_type.as_str()) {
        errors.push(FieldError::new(
            "content_type",
            "invalid",
            "Formato non ammesso: allega un PDF, un JPEG o un PNG.",
        ));
    }
    if req.size == 0 || req.size > MAX_ATTACHMENT_BYTES {
        errors.push(FieldError::new(
            "size",
            "too_large",
            "Il file deve essere di almeno 1 byte e al massimo 5 MiB.",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidFields(errors))
    }
}

/// `POST applications/{id}/attachments`.
pub async fn create(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    application_id: &str,
    req: UploadRequest,
) -> Result<UploadLink, Error> {
    check(&req)?;
    let a = super::sessions::load_own(app, tenant, session, application_id).await?;
    if !a.status.editable() {
        return Err(Error::NotEditable);
    }
    let id = super::random_id("att")?;
    let object_key = format!("attachments/{}/{}/{}", tenant.slug, a.id, id);
    let attachment = Attachment {
        id: id.clone(),
        kind: req.kind,
        filename: req.filename.trim().to_owned(),
        content_type: req.content_type,
        size: req.size,
        object_key,
        created_at: app.clock.now(),
        confirmed: false,
    };
    // One file per kind: the new one replaces the old, whose file goes.
    let previous: Vec<Attachment> = app
        .store
        .attachments(&tenant.slug, &a.id)
        .await?
        .into_iter()
        .filter(|p| p.kind == attachment.kind)
        .collect();
    app.store
        .put_attachment(&tenant.slug, &a.id, &attachment)
        .await?;
    for old in previous {
        app.documents.delete(&old.object_key).await?;
        app.store
            .delete_attachment(&tenant.slug, &a.id, &old.id)
            .await?;
    }
    let upload_url = app
        .documents
        .presign_put(
            &attachment.object_key,
            &attachment.content_type,
            attachment.size,
            UPLOAD_TTL_SECS,
        )
        .await?;
    tracing::info!(application = %a.id, attachment = %id, kind = %attachment.kind, "upload link issued");
    Ok(UploadLink {
        attachment_id: id,
        upload_url,
        expires_in: UPLOAD_TTL_SECS,
    })
}
