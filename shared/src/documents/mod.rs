//! What the system writes for people: mail and SMS texts and PDF documents.

pub mod app_io;
pub mod application_docs;
pub mod mail;
pub mod pdf;
pub mod sms;
