//! The password policy: what a new password must be. Checked before any hashing.

use std::collections::HashSet;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// The shipped list of the 20,000 most common passwords (one per line, `#` comments).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Which rules apply beyond length and the blocklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyMode {
    /// The user's notes: an upper-case letter, a lower-case letter and a digit.
    Classic,
    /// NIST SP 800-63B: length and blocklist only.
    Nist,
}

/// A password policy.
///
/// ```
/// use authgate_core::policy::{PasswordPolicy, PolicyMode};
/// let p = PasswordPolicy::default();
/// assert!(p.check("Correct7Horse", None).is_ok());
/// assert!(p.check("short1A", None).is_err());
/// assert!(p.check("Password1", None).is_err()); // common
/// ```
#[derive(Debug, Clone)]
pub struct PasswordPolicy {
    /// Classic or NIST mode.
    pub mode: PolicyMode,
    /// Fewest characters (Unicode scalar values after NFKC).
    pub min_chars: usize,
    /// Most characters.
    pub max_chars: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            mode: PolicyMode::Classic,
            min_chars: 8,
            max_chars: 128,
        }
    }
}

/// The longest password, in bytes, looked at at all: anything longer is refused before any
/// other work (4 bytes per character at the 128-character maximum, plus slack).
pub const MAX_PASSWORD_BYTES: usize = 1024;

impl PasswordPolicy {
    /// The rules as one sentence, for a hint next to a password field.
    ///
    /// ```
    /// use authgate_core::policy::PasswordPolicy;
    /// assert_eq!(
    ///     PasswordPolicy::default().describe(),
    ///     "At least 8 characters, with an upper-case letter, a lower-case letter and a digit; not a common password."
    /// );
    /// ```
    pub fn describe(&self) -> String {
        let length = format!("At least {} characters", self.min_chars);
        match self.mode {
            PolicyMode::Classic => format!(
                "{length}, with an upper-case letter, a lower-case letter and a digit; not a common password."
            ),
            PolicyMode::Nist => format!("{length}; not a common password."),
        }
    }

    /// Checks a new password. `email_local` is the lower-cased part before `@` of the
    /// account's email, refused as a substring when at least 3 characters long.
    /// Returns every problem found, as sentences.
    pub fn check(&self, password: &str, email_local: Option<&str>) -> Result<(), Vec<String>> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(vec![format!(
                "must be at most {} characters",
                self.max_chars
            )]);
        }
        let normalized = normalize(password);
        let chars = normalized.chars().count();
        let mut problems = Vec::new();
        if chars < self.min_chars {
            problems.push(format!("must be at least {} characters", self.min_chars));
        }
        if chars > self.max_chars {
            problems.push(format!("must be at most {} characters", self.max_chars));
        }
        if self.mode == PolicyMode::Classic {
            if !normalized.chars().any(char::is_uppercase) {
                problems.push("must contain an upper-case letter".into());
            }
            if !normalized.chars().any(char::is_lowercase) {
                problems.push("must contain a lower-case letter".into());
            }
            if !normalized.chars().any(|c| c.is_ascii_digit()) {
                problems.push("must contain a digit".into());
            }
        }
        let lower = normalized.to_lowercase();
        if common_passwords().contains(lower.as_str()) {
            problems.push("is too common; choose a less predictable password".into());
        }
        if let Some(local) = email_local.filter(|l| l.chars().count() >= 3) {
            if lower.contains(local) {
                problems.push("must not contain your email address".into());
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// NFKC normalization (NIST 800-63B 5.1.1.2), so the same password typed on two keyboards
/// hashes the same.
pub fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_shipped_blocklist_has_at_least_ten_thousand_entries() {
        assert!(common_passwords().len() >= 10_000);
    }

    #[test]
    fn classic_policy_names_each_missing_class() {
        let errs = PasswordPolicy::default()
            .check("abcdefghij", None)
            .unwrap_err();
        assert!(errs.iter().any(|e| e.contains("upper-case")));
        assert!(errs.iter().any(|e| e.contains("digit")));
        assert!(!errs.iter().any(|e| e.contains("lower-case")));
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        let p = PasswordPolicy::default();
        assert!(p.check("Password123", None).is_err());
        assert!(p.check("Qwerty123", None).is_err());
    }

    #[test]
    fn a_password_containing_the_email_local_part_is_refused() {
        let p = PasswordPolicy::default();
        assert!(p.check("xXJohnDoe2024", Some("johndoe")).is_err());
        assert!(p.check("xXJohnDoe2024", Some("alice")).is_ok());
    }

    #[test]
    fn nist_mode_needs_only_length_and_not_common() {
        let p = PasswordPolicy {
            mode: PolicyMode::Nist,
            ..Default::default()
        };
        assert!(p.check("correct horse battery staple", None).is_ok());
        assert!(p.check("password", None).is_err());
    }

    #[test]
    fn the_whole_password_counts_beyond_72_bytes() {
        let p = PasswordPolicy::default();
        assert!(p.check(&format!("Aa1{}", "x".repeat(125)), None).is_ok());
        assert!(p.check(&format!("Aa1{}", "x".repeat(126)), None).is_err());
    }

    #[test]
    fn an_enormous_password_is_refused_without_normalizing_it() {
        assert!(PasswordPolicy::default()
            .check(&"A1a".repeat(100_000), None)
            .is_err());
    }

    proptest! {
        #[test]
        fn accepted_passwords_satisfy_every_classic_rule(pw in "\\PC{0,140}") {
            if PasswordPolicy::default().check(&pw, None).is_ok() {
                let n = normalize(&pw);
                let count = n.chars().count();
                prop_assert!((8..=128).contains(&count));
                prop_assert!(n.chars().any(char::is_uppercase));
                prop_assert!(n.chars().any(char::is_lowercase));
                prop_assert!(n.chars().any(|c| c.is_ascii_digit()));
            }
        }

        #[test]
        fn length_alone_decides_nist_mode_for_random_strings(pw in "[a-z]{20,40}[0-9]{3}") {
            let p = PasswordPolicy { mode: PolicyMode::Nist, ..Default::default() };
            prop_assert!(p.check(&pw, None).is_ok());
        }
    }
}
