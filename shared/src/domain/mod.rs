//! Pure types and rules. No I/O, no async, no AWS: everything here is tested
//! without touching the network.

pub mod application;
pub mod error;
pub mod fiscal_code;
pub mod language;
pub mod ranking;
pub mod roster;
pub mod security_code;
pub mod services;
pub mod tenant;
pub mod tenant_rules;
pub mod values;
pub mod window;
