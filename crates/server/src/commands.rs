//! What each subcommand does, once the configuration is loaded and logging is set up.

use std::collections::BTreeMap;

use authgate_core::keys::rotate_signing_key;
use authgate_core::service::RegisterRequest;
use authgate_core::AuthError;
use authgate_http::dto::UserDto;

use crate::app::App;
use crate::assemble::system_clock;
use crate::cli::{Command, CreateUser, KeysCommand, UserCommand};
use crate::config::Config;
use crate::error::{describe, Error};
use crate::password::read_new_password;
use crate::signals::shutdown_signal;
use crate::store::open_migrated;

/// Runs one subcommand to completion.
pub async fn run(command: Command, config: Config) -> Result<(), Error> {
    match command {
        Command::Serve => {
            // Before the build opens any socket, so a signal is never met without a handler.
            let stop = shutdown_signal();
            App::build(config).await?.run(stop).await
        }
        Command::Migrate => {
            open_migrated(&config).await?;
            tracing::info!("the database schema is up to date");
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => create_user(config, args).await,
        Command::User(other) => crate::admin_commands::user(other, &config).await,
        Command::Audit(args) => crate::admin_commands::audit(args, &config).await,
        Command::Keys(KeysCommand::Rotate) => rotate_keys(config).await,
        Command::Import(args) => crate::import::run(config, args).await,
    }
}

async fn create_user(config: Config, args: CreateUser) -> Result<(), Error> {
    let password = read_new_password()?;
    let store = open_migrated(&config).await?;
    let service = crate::assemble::service(&config, store, system_clock(), None).await?;
    let request = RegisterRequest {
        email: args.email,
        password: Some(password),
        name: args.name,
        first_name: args.first_name,
        last_name: args.last_name,
        username: args.username,
        role: Some(args.role),
    };
    let user = service
        .create_user(request)
        .await
        .map_err(|e| Error::Input(user_error(&e)))?;
    let json = serde_json::to_string_pretty(&UserDto::from(user)).expect("a user serializes");
    println!("{json}");
    Ok(())
}

/// A refusal of `user create`, naming the command-line flags rather than API fields.
fn user_error(e: &AuthError) -> String {
    let flag = |field: &str| match field {
        "password" => "password (stdin)".to_owned(),
        "firstName" => "--first-name".to_owned(),
        "lastName" => "--last-name".to_owned(),
        other => format!("--{other}"),
    };
    match e {
        AuthError::Validation { details, .. } => {
            let problems: BTreeMap<String, String> = details
                .iter()
                .map(|(field, problems)| (flag(field), problems.join(", ")))
                .collect();
            let lines: Vec<String> = problems.iter().map(|(f, p)| format!("{f}: {p}")).collect();
            format!("cannot create the user: {}", lines.join("; "))
        }
        AuthError::Conflict { field } => {
            format!("cannot create the user: {} is already taken", flag(field))
        }
        other => format!("cannot create the user: {}", describe(other)),
    }
}

async fn rotate_keys(config: Config) -> Result<(), Error> {
    let store = open_migrated(&config).await?;
    let kid = rotate_signing_key(store.as_ref(), system_clock().now())
        .await
        .map_err(Error::auth("cannot rotate the signing key"))?;
    if config.jwt_secret.is_some() {
        tracing::warn!("AUTHGATE_JWT_SECRET is set: tokens are signed with HS256 and the new key is unused until it is unset");
    }
    tracing::info!(%kid, "new signing key; running instances sign with it within a minute");
    println!(
        "{}",
        serde_json::json!({ "kid": kid, "algorithm": "EdDSA" })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problems_name_the_command_line_flags() {
        let mut details = authgate_core::error::ValidationDetails::new();
        details.insert("firstName".into(), vec!["is required".into()]);
        details.insert("password".into(), vec!["must contain a digit".into()]);
        let msg = user_error(&AuthError::Validation {
            message: "Validation failed".into(),
            details,
        });
        assert!(msg.contains("--first-name: is required"), "{msg}");
        assert!(
            msg.contains("password (stdin): must contain a digit"),
            "{msg}"
        );
        let taken = user_error(&AuthError::Conflict { field: "email" });
        assert_eq!(taken, "cannot create the user: --email is already taken");
    }
}
