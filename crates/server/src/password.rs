//! Reading a new account's password: one line from standard input (piped), or a hidden
//! prompt with confirmation on a terminal.

use std::io::{BufRead, IsTerminal};

use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;

/// Reads the password from standard input: prompts twice (input hidden) on a terminal,
/// else reads one line. Refuses an empty password.
pub fn read_new_password() -> Result<SecretString, Error> {
    if std::io::stdin().is_terminal() {
        let first = prompt("Password: ")?;
        let second = prompt("Repeat password: ")?;
        if first.expose_secret() != second.expose_secret() {
            return Err(Error::Input("the passwords do not match".into()));
        }
        non_empty(first)
    } else {
        read_line(std::io::stdin().lock())
    }
}

/// Reads one line; strips the line ending (`\n` or `\r\n`) and nothing else.
pub fn read_line(mut input: impl BufRead) -> Result<SecretString, Error> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(|source| Error::Io {
        context: "cannot read the password from standard input".into(),
        source,
    })?;
    let trimmed = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line);
    non_empty(SecretString::from(trimmed.to_owned()))
}

fn prompt(text: &str) -> Result<SecretString, Error> {
    rpassword::prompt_password(text)
        .map(SecretString::from)
        .map_err(|source| Error::Io {
            context: "cannot read the password from the terminal".into(),
            source,
        })
}

fn non_empty(password: SecretString) -> Result<SecretString, Error> {
    if password.expose_secret().is_empty() {
        return Err(Error::Input(
            "the password is empty; give it on standard input, e.g. `echo 'S3cret-pass' | authgate user create ...`".into(),
        ));
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> Result<String, Error> {
        read_line(input.as_bytes()).map(|s| s.expose_secret().to_owned())
    }

    #[test]
    fn the_trailing_newline_is_stripped_and_nothing_else() {
        assert_eq!(read("Correct7Horse\n").unwrap(), "Correct7Horse");
        assert_eq!(read("Correct7Horse\r\n").unwrap(), "Correct7Horse");
        assert_eq!(read(" with spaces \n").unwrap(), " with spaces ");
        assert_eq!(read("no-newline").unwrap(), "no-newline");
    }

    #[test]
    fn only_the_first_line_is_read() {
        assert_eq!(read("first\nsecond\n").unwrap(), "first");
    }

    #[test]
    fn an_empty_password_is_refused() {
        assert!(matches!(read("\n"), Err(Error::Input(_))));
        assert!(matches!(read(""), Err(Error::Input(_))));
    }
}
