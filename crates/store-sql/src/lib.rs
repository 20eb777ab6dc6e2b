//! authgate's SQL stores.
//!
//! Two backends implement every trait of [`authgate_core::Store`], each with its own SQL
//! dialect and migrations (`migrations/<dialect>/`): [`SqliteStore`], the embedded default
//! (one file, no server), and [`PostgresStore`], for several instances sharing one database.
//! Both convert their errors into [`authgate_core::StoreError`] in one place (`error.rs`) and
//! are held to the shared contract suite in `authgate-store-tests`.
//!
//! With the `testing` feature, the `testing` module gives each test a fresh PostgreSQL database.

#![warn(missing_docs)]

mod columns;
mod error;
pub mod postgres;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;

pub use postgres::{PostgresOptions, PostgresStore};
pub use sqlite::{SqliteOptions, SqliteStore};
