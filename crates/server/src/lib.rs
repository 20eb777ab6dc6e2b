//! The `authgate` binary's library: configuration, logging, store selection, the server
//! ([`App`]) and the command line. `main.rs` only wires these together; integration tests
//! use [`App`] and [`Config`] to run a server in-process on port 0.
//!
//! ```no_run
//! # async fn demo() -> Result<(), authgate_server::Error> {
//! use std::collections::HashMap;
//! use authgate_server::{App, Config};
//! let env = HashMap::from([("AUTHGATE_BIND".to_string(), "127.0.0.1:0".to_string())]);
//! let app = App::build(Config::from_sources(None, &env)?).await?;
//! println!("listening on {}", app.local_addr());
//! app.run(async { tokio::signal::ctrl_c().await.ok(); }).await
//! # }
//! ```

#![warn(missing_docs)]

mod admin_client;
mod admin_commands;
mod admin_socket;
pub mod app;
mod assemble;
mod background;
pub mod cli;
pub mod cli_admin;
pub mod commands;
pub mod config;
pub mod error;
mod import;
mod listeners;
mod metrics;
mod pages;
pub mod password;
mod redirect;
mod serve;
pub mod signals;
pub mod store;
pub mod telemetry;
mod tls;

pub use app::App;
pub use config::{Config, ConfigError};
pub use error::Error;
