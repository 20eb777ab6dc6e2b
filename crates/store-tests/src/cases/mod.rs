//! The contract cases, one public async function each, named as the sentence it checks.
//! Each takes a fresh, migrated, empty store.

mod admin;
mod audit;
mod bulk;
mod housekeeping;
mod keys;
mod mail;
mod passwords;
mod rotation;
mod schema;
mod sessions;
mod tokens;
mod users;

pub use admin::*;
pub use audit::*;
pub use bulk::*;
pub use housekeeping::*;
pub use keys::*;
pub use mail::*;
pub use passwords::*;
pub use rotation::*;
pub use schema::*;
pub use sessions::*;
pub use tokens::*;
pub use users::*;
