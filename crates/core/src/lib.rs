//! authgate-core: the rules of authgate, with no HTTP and no SQL in them.
//!
//! Data flows one way: the HTTP layer parses requests into the domain types of [`domain`],
//! calls [`service::AuthService`], which applies the rules and talks to storage only through
//! the traits of [`store`]. Backends (SQLite, PostgreSQL, MongoDB) implement those traits in
//! their own crates.

pub mod audit;
pub mod clock;
pub mod config;
pub mod cursor;
pub mod domain;
pub mod durations;
pub mod error;
pub mod hashing;
pub mod invalidation;
pub mod keys;
pub mod limits;
pub mod live_cache;
pub mod mail;
pub mod policy;
pub mod secret;
pub mod service;
pub mod store;
mod token_crypto;
pub mod tokens;
mod verified_tokens;
pub use verified_tokens::VERIFIED_TOKENS_CAPACITY;

pub use config::AuthConfig;
pub use error::{AuthError, StoreError};
pub use service::AuthService;
pub use store::Store;
