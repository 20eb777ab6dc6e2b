//! authgate's MongoDB store.
//!
//! [`MongoStore`] implements every trait of [`authgate_core::Store`] on the official `mongodb`
//! driver and is held to the shared contract suite in `authgate-store-tests`, like the SQL
//! stores. Its parts:
//!
//! - collections `users`, `sessions`, `refresh_tokens`, `one_time_tokens`, `mail_queue`,
//!   `signing_keys` and `audit_events`, each document keyed by its string id in `_id`, times
//!   as BSON dates;
//! - `migrate()` creates the indexes (unique emails and usernames, look-ups, TTL expiry);
//! - driver errors become [`authgate_core::StoreError`]s in one place (`error.rs`): a duplicate
//!   key is a `Conflict` naming the field, an unreachable server is `Unavailable`;
//! - the all-or-nothing writes (opening a session, issuing a one-time token with its mail,
//!   rotating a refresh token) are transactions on a replica set or sharded cluster, and
//!   carefully ordered writes on a standalone server, which the store announces with a warning
//!   when it connects;
//! - single-document decisions (rotating a refresh token, consuming a one-time token, claiming
//!   a mail) are one guarded `find_one_and_update` each, atomic on any server.
//!
//! With the `testing` feature, [`testing`] gives other crates' tests a fresh database per test.

#![warn(missing_docs)]

mod admin;
mod atomic;
mod audit;
mod codec;
mod collections;
mod error;
mod housekeeping;
mod indexes;
mod keys;
mod mail;
mod rotation;
mod sessions;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod users;

pub use store::{MongoOptions, MongoStore, DEFAULT_DATABASE};
