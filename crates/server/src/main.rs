//! `authgate`: parse the command line, load the configuration, set up logging, run the
//! subcommand. Exit codes: 0 success, 1 failure, 2 bad configuration or usage.

use std::process::ExitCode;

use authgate_server::cli::Cli;
use authgate_server::{commands, telemetry, Config};

fn main() -> ExitCode {
    let cli = Cli::parse_args();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => return fail(&e.to_string(), 2),
    };
    if let Err(e) = telemetry::init(config.log_format, &config.log_filter) {
        return fail(&e, 1);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}"), 1),
    };
    match runtime.block_on(commands::run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string(), e.exit_code()),
    }
}

/// Prints each line of `message` as `error: ...` on stderr and returns `code`.
fn fail(message: &str, code: u8) -> ExitCode {
    for line in message.lines() {
        eprintln!("error: {line}");
    }
    ExitCode::from(code)
}
