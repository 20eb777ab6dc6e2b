//! The arguments of the administrative subcommands: `authgate user list|show|set-role|
//! disable|enable|delete|sessions|revoke-sessions|send-reset` and `authgate audit`. They act
//! on the running server through its admin socket (see `AUTHGATE_ADMIN_SOCKET`).

use clap::Args;

/// How an account is named on the command line: its id, email address or username.
#[derive(Debug, Args)]
pub struct UserRef {
    /// The account: its id, its email address or its username (any case).
    #[arg(value_name = "USER")]
    pub user: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `authgate user list`.
#[derive(Debug, Args)]
pub struct ListUsers {
    /// Only accounts whose email or username starts with this (any case).
    #[arg(long, short = 'q', value_name = "PREFIX")]
    pub query: Option<String>,
    /// Only accounts with this role.
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Only disabled accounts.
    #[arg(long, conflicts_with = "enabled")]
    pub disabled: bool,
    /// Only enabled accounts.
    #[arg(long)]
    pub enabled: bool,
    /// Page size, 1 to 100.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u32,
    /// Continue after a previous page (the cursor it printed).
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `authgate user set-role`.
#[derive(Debug, Args)]
pub struct SetRole {
    /// The account.
    #[command(flatten)]
    pub user: UserRef,
    /// The new role (one of AUTHGATE_ROLES).
    #[arg(value_name = "ROLE")]
    pub role: String,
}

/// Arguments of `authgate user delete`.
#[derive(Debug, Args)]
pub struct DeleteUser {
    /// The account.
    #[command(flatten)]
    pub user: UserRef,
    /// Confirm: the account, its sessions, tokens and mail are erased for good.
    #[arg(long)]
    pub yes: bool,
}

/// Arguments of `authgate user revoke-sessions`.
#[derive(Debug, Args)]
pub struct RevokeSessions {
    /// The account.
    #[command(flatten)]
    pub user: UserRef,
    /// End only this session (default: all of them).
    #[arg(long, value_name = "SESSION_ID")]
    pub session: Option<String>,
}

/// Arguments of `authgate user send-reset`.
#[derive(Debug, Args)]
pub struct SendReset {
    /// The account.
    #[command(flatten)]
    pub user: UserRef,
    /// Also end every session of the account.
    #[arg(long)]
    pub end_sessions: bool,
}

/// Arguments of `authgate audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only events concerning this account (id, email or username).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Only events of this type, e.g. login_failed.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Only events at or after this time (RFC 3339, e.g. 2025-01-31T00:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Page size, 1 to 100.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u32,
    /// Continue after a previous page (the cursor it printed).
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}
