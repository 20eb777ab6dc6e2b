//! The command line: `authgate [--config FILE] <serve | migrate | user ... | audit | import |
//! keys rotate>`.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::cli_admin::{
    AuditArgs, DeleteUser, ListUsers, RevokeSessions, SendReset, SetRole, UserRef,
};
use crate::config::settings::env_help;

/// authgate: a self-hosted authentication service (sign-up, login, sessions, password
/// recovery) over a JSON API.
#[derive(Debug, Parser)]
#[command(name = "authgate", version, propagate_version = true)]
#[command(
    long_about = "authgate: a self-hosted authentication service (sign-up, login, sessions, \
password recovery) over a JSON API under /api/auth.\n\nStart it with `authgate serve`."
)]
pub struct Cli {
    /// TOML configuration file; AUTHGATE_* environment variables override its values.
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "AUTHGATE_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API server until SIGTERM or Ctrl-C (the usual way to start authgate).
    #[command(
        long_about = "Run the HTTP API server.\n\nOpens the database (creating an SQLite file \
on first start), applies pending schema migrations, loads or creates the signing keys, listens on \
AUTHGATE_BIND and serves until SIGTERM or Ctrl-C; then stops accepting connections, lets in-flight \
requests finish and exits with status 0."
    )]
    Serve,
    /// Create or upgrade the database schema, then exit.
    #[command(
        long_about = "Create or upgrade the database schema, then exit.\n\nSafe to run \
repeatedly and while other instances run; `serve` also does it at start."
    )]
    Migrate,
    /// Manage user accounts (all but `create` act on the running server).
    #[command(subcommand)]
    User(UserCommand),
    /// The audit trail across users, newest first (from the running server).
    #[command(
        long_about = "The audit trail across users, newest first, from the running server \
(through its admin socket, AUTHGATE_ADMIN_SOCKET). Filter by --user, --type and --since; a full \
page ends with the cursor of the next one.\n\nExample:\n  authgate audit --type login_failed \
--since 2025-01-31T00:00:00Z"
    )]
    Audit(AuditArgs),
    /// Manage the keys that sign access tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Import users exported from an Express + Mongoose app, keeping their bcrypt passwords.
    #[command(
        long_about = "Import users exported from another app (e.g. Express + Mongoose + \
bcrypt), keeping their passwords: bcrypt and argon2 hashes are stored as they are, and each \
user's hash is upgraded to argon2id at their next login. Plain-text passwords are refused.\n\n\
FILE (`-` for standard input) holds JSON lines (mongoexport's default) or a JSON array \
(mongoexport --jsonArray). Fields read: email, username, name, firstName, lastName, role, \
password (the hash), createdAt (RFC 3339 or {\"$date\": ...}), emailVerified or isVerified; \
_id and other fields are ignored, and every user gets a new id.\n\nEach record is imported on \
its own. A refused record (invalid field, email or username already taken, not JSON) is \
reported on stderr as `line N: field: problem` and skipped; N is the line number for JSON \
lines, the position for an array. At the end {\"imported\": n, \"rejected\": m} is printed on \
stdout. Exit status: 0 if every record was imported, 1 if any was rejected (the others are \
imported all the same) or the import could not run.\n\nWith --dry-run every record is \
checked (against the database too, if it exists) and nothing is written; the summary adds \
\"dryRun\": true.\n\nExample:\n  mongoexport --uri \
mongodb://localhost/myapp --collection users --out users.json\n  authgate import users.json \
--dry-run && authgate import users.json"
    )]
    Import(ImportArgs),
}

/// Arguments of `authgate import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export: JSON lines or a JSON array of user documents (`-` reads standard input).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Check every record (and existing accounts, if the database exists) without writing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `authgate user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (e.g. the first administrator); the password is read from stdin.
    #[command(
        long_about = "Create an account directly in the database, e.g. the first \
administrator. The email is marked verified and no session is opened.\n\nThe password is read \
from standard input (one line; the trailing newline is removed); on a terminal you are prompted \
for it twice with the input hidden. It must satisfy the password policy.\n\nThe created user is \
printed as JSON on standard output.\n\nExample:\n  echo 'Correct7Horse!' | authgate user create \
--email admin@example.com --name 'Site Admin' --role admin"
    )]
    Create(CreateUser),
    /// List accounts (search by email or username prefix, role, state).
    #[command(
        long_about = "List accounts of the running server, in creation order, through its \
admin socket (AUTHGATE_ADMIN_SOCKET). A full page ends with the cursor of the next one.\n\n\
Example:\n  authgate user list --query ada --role admin"
    )]
    List(ListUsers),
    /// Show one account with its session count and last login.
    Show(UserRef),
    /// Give an account another role; it takes effect at once.
    SetRole(SetRole),
    /// Disable an account: its sessions end at once, its logins are refused.
    Disable(UserRef),
    /// Enable a disabled account again.
    Enable(UserRef),
    /// Erase an account with its sessions, tokens and mail (needs --yes).
    Delete(DeleteUser),
    /// List an account's live sessions.
    Sessions(UserRef),
    /// End an account's sessions (all, or one with --session).
    RevokeSessions(RevokeSessions),
    /// Mail an account a password reset link.
    SendReset(SendReset),
}

/// Arguments of `authgate user create`.
#[derive(Debug, Args)]
pub struct CreateUser {
    /// Email address (required unless AUTHGATE_REQUIRE_EMAIL=false).
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,
    /// Username (3 to 32 letters, digits, '_', '.', '-').
    #[arg(long, value_name = "USERNAME")]
    pub username: Option<String>,
    /// Full display name (or give --first-name and --last-name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Given name.
    #[arg(long, value_name = "NAME")]
    pub first_name: Option<String>,
    /// Family name.
    #[arg(long, value_name = "NAME")]
    pub last_name: Option<String>,
    /// Role of the account, e.g. `admin` (any role may be given here).
    #[arg(long, value_name = "ROLE", default_value = "user")]
    pub role: String,
}

/// `authgate keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new Ed25519 signing key and retire the others.
    #[command(
        long_about = "Generate a new Ed25519 signing key and retire the others.\n\nRetired \
keys stay published at /.well-known/jwks.json until the tokens they signed have expired, so \
nobody is logged out. Running instances read the keys again every minute and sign with the new key from then on. Has no \
effect on signing while AUTHGATE_JWT_SECRET (HS256) is set.\n\nPrints the new key id as JSON."
    )]
    Rotate,
}

impl Cli {
    /// Parses the process arguments (exits with a usage message on error). `--help` also
    /// lists every configuration variable.
    pub fn parse_args() -> Cli {
        let command = Cli::command().after_long_help(env_help());
        let matches = command.get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn user_create_takes_its_fields_and_defaults_the_role() {
        let cli = Cli::try_parse_from([
            "authgate",
            "user",
            "create",
            "--email",
            "a@example.com",
            "--name",
            "A",
        ])
        .unwrap();
        let Command::User(UserCommand::Create(args)) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(args.email.as_deref(), Some("a@example.com"));
        assert_eq!(args.role, "user");
    }

    #[test]
    fn import_takes_a_file_and_an_optional_dry_run() {
        let cli = Cli::try_parse_from(["authgate", "import", "users.json", "--dry-run"]).unwrap();
        let Command::Import(args) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(
            (args.file, args.dry_run),
            (PathBuf::from("users.json"), true)
        );
    }

    #[test]
    fn a_subcommand_is_required_and_config_is_global() {
        assert!(Cli::try_parse_from(["authgate"]).is_err());
        let cli = Cli::try_parse_from(["authgate", "migrate", "--config", "a.toml"]).unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("a.toml")));
    }
}
