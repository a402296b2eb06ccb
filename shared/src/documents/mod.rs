//! What the system writes for people: mail texts (and, later, the PDFs).

pub mod mail;
