//! authgate's SQL stores.
//!
//! [`SqliteStore`] is the embedded default: one file, no server. A `PostgresStore` will sit
//! beside it in `postgres/` with its own `migrations/postgres/`. Each backend implements every
//! trait of [`authgate_core::Store`] with its own SQL dialect and migrations, converts its
//! errors into [`authgate_core::StoreError`] in one place (`error.rs`), and is held to the
//! shared contract suite in `authgate-store-tests`.

#![warn(missing_docs)]

mod error;
pub mod sqlite;

pub use sqlite::{SqliteOptions, SqliteStore};
