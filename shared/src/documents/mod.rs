//! What the system writes for people: mail texts and PDF documents.

pub mod application_docs;
pub mod mail;
pub mod pdf;
