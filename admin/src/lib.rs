//! The IT officer's command (`admin`), as a library that the local stack
//! seeds its tenants with: a comune's configuration lives in a tenant
//! file (YAML, reviewed in git), is validated with every problem at once,
//! applied with a diff (idempotent, conditional on the version read, so
//! two applies cannot interleave) and exported back.

pub mod staff;
pub mod tenant_file;

pub use tenant_file::{Applied, apply, export, parse};
