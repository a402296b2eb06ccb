//! The end-to-end tests, in one binary: the dev server (`local`) with the
//! handlers of every function, on free ports, in front of the one emulator
//! that `make test` starts, driven over the public HTTP contract. One
//! module per area; `helpers` starts the stacks and drives them. `handlers`
//! calls the functions' handlers directly, on requests built as API Gateway
//! builds them.

mod helpers;

mod adapters;
mod applications;
mod events;
mod faults;
mod handlers;
mod journey;
mod languages;
mod load;
mod office;
mod openapi;
mod parent_email_session;
mod passwords;
mod phone;
mod places;
mod renewals;
mod retention;
mod security;
mod services;
mod spid;
mod staff;
mod submission;
mod time_rules;
mod trust;
mod withdrawal;
