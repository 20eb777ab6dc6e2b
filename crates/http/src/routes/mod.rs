//! Routers per feature; each handler is small and documented for OpenAPI.

pub mod account;
pub mod admin;
pub mod audit;
pub(crate) mod introspect;
pub mod meta;
pub mod recovery;
pub mod sessions;
pub mod tokens;
