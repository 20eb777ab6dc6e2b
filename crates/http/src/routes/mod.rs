//! Routers per feature; each handler is small and documented for OpenAPI.

pub(crate) mod account;
pub(crate) mod admin;
pub(crate) mod admin_sessions;
pub(crate) mod audit;
pub(crate) mod email_change;
pub(crate) mod forward_auth;
pub(crate) mod introspect;
pub(crate) mod me;
pub(crate) mod meta;
pub(crate) mod recovery;
pub(crate) mod sessions;
pub(crate) mod tokens;
