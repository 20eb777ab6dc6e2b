//! Black-box tests of the HTTP API over a real socket: each test starts its own authgate
//! (in-process, 127.0.0.1 port 0, its own database) and talks to it with `reqwest`. The
//! `process` module runs the real `authgate` binary instead.
//!
//! One test binary (zero2prod style) so the suite links once. Run it with
//! `cargo test -p authgate --test api`; `TEST_LOG=1` (or a filter such as
//! `TEST_LOG=authgate_core=debug`) shows the servers' logs; `AUTHGATE_TEST_BACKEND` picks the
//! store (see `helpers::Backend`).

mod helpers;

mod admin;
mod admin_users;
mod audit;
mod authorization_header;
mod bad_input;
mod brute_force;
mod caches;
mod change_password_limits;
mod connections;
mod cookie_rules;
mod cookies_csrf;
mod cors;
mod disconnects;
mod durability;
mod email_change;
mod forward_auth;
mod introspect;
mod keys;
mod login;
mod logout;
mod mail_flows;
mod mail_links;
mod me;
mod me_account;
mod meta;
mod metrics;
mod nginx;
mod nodes;
mod openapi;
mod overload;
mod pages_flows;
mod pages_security;
mod pool_size;
mod process;
mod process_admin;
mod recovery;
mod refresh;
mod register;
mod sessions;
mod store_outage;
mod tls;
mod tokens_forged;
mod tour;
