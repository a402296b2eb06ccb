//! Uploads of the ISEE attestation and the medical certificate: a record
//! of the declared file and a presigned PUT link for exactly that type and
//! size. Health data lives only in the private bucket, under a key that
//! names no person. Whether the file really arrived is checked when the
//! application is validated (`missing`, submission).

use serde::{Deserialize, Serialize};

use super::sessions::SessionClaims;
use crate::app::App;
use crate::domain::application::{
    ATTACHMENT_KINDS, ATTACHMENT_TYPES, Attachment, AttachmentAccess, MAX_ATTACHMENT_BYTES, Status,
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
    if a.status == Status::ChangesRequested
        && a.change_request
            .as_ref()
            .is_none_or(|r| app.clock.now() > r.due_at)
    {
        return Err(Error::WindowClosed);
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

/// Staff read links to the files live this long.
pub const READ_TTL_SECS: u64 = 300;

/// An uploaded file as staff see it: what the family declared and a
/// short-lived link.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentLink {
    pub attachment_id: String,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub url: String,
    pub expires_in: u64,
}

/// `GET staff/applications/{id}/attachments`: the files the family
/// uploaded (records whose file never arrived are left out), each through
/// a link of 300 s. Opening a medical certificate is health data: each
/// listing that hands out its link is recorded first (who, when, which),
/// for the history staff read; no link without its record.
pub async fn for_staff(
    app: &App,
    tenant: &Tenant,
    staff: &str,
    application_id: &str,
) -> Result<Vec<AttachmentLink>, Error> {
    let a = super::staff::read(app.store.as_ref(), tenant, application_id).await?;
    let mut out = Vec::new();
    let mut records = app.store.attachments(&tenant.slug, &a.id).await?;
    records.sort_by(|x, y| x.kind.cmp(&y.kind).then(x.created_at.cmp(&y.created_at)));
    for att in records {
        let arrived = att.confirmed
            || app
                .documents
                .size(&att.object_key)
                .await?
                .is_some_and(|size| size > 0 && size <= MAX_ATTACHMENT_BYTES);
        if !arrived {
            continue;
        }
        if att.kind == "medical_certificate" {
            let access = AttachmentAccess {
                id: super::random_id("acc")?,
                at: app.clock.now(),
                by: format!("staff:{staff}"),
                attachment_id: att.id.clone(),
                kind: att.kind.clone(),
            };
            app.store
                .record_access(&tenant.slug, &a.id, &access)
                .await?;
            tracing::info!(application = %a.id, attachment = %att.id, "medical certificate opened by staff");
        }
        // The link names the file by its kind: the name the family gave it
        // may carry a name, and a link is a URL.
        let url = app
            .documents
            .presign_get(&att.object_key, &download_name(&att), READ_TTL_SECS)
            .await?;
        out.push(AttachmentLink {
            attachment_id: att.id,
            kind: att.kind,
            filename: att.filename,
            content_type: att.content_type,
            size: att.size,
            url,
            expires_in: READ_TTL_SECS,
        });
    }
    Ok(out)
}

/// The neutral name a staff download gets: the kind and the type's
/// extension, never the family's file name.
fn download_name(att: &Attachment) -> String {
    let base = if att.kind == "isee" {
        "attestazione-isee"
    } else {
        "certificato-medico"
    };
    let extension = match att.content_type.as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        _ => "pdf",
    };
    format!("{base}.{extension}")
}
