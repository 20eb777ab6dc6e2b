//! The shared secrets that authenticate callers of token introspection
//! (`AUTHGATE_INTROSPECTION_SECRETS`): kept only as SHA-256 digests, compared in constant time.

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// A set of accepted secrets. Several let a secret be rotated without downtime: add the new
/// one, move the callers over, remove the old one. `Debug` shows only how many there are.
#[derive(Clone)]
pub struct CallerSecrets {
    digests: Vec<[u8; 32]>,
}

impl CallerSecrets {
    /// The set of `secrets` (validated by the caller: at least 32 bytes each); `None` when
    /// there are none.
    pub fn new<S: AsRef<[u8]>>(secrets: &[S]) -> Option<Self> {
        let digests: Vec<[u8; 32]> = secrets.iter().map(|s| digest(s.as_ref())).collect();
        (!digests.is_empty()).then_some(CallerSecrets { digests })
    }

    /// Whether `presented` is one of the secrets. Every secret is compared, each in constant
    /// time, and digests are compared rather than the secrets, so neither the position of a
    /// first wrong byte nor a secret's length shows in the time taken.
    pub fn accepts(&self, presented: &[u8]) -> bool {
        let presented = digest(presented);
        let found = self
            .digests
            .iter()
            .fold(Choice::from(0), |found, d| found | d.ct_eq(&presented));
        found.into()
    }
}

impl std::fmt::Debug for CallerSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CallerSecrets({} redacted)", self.digests.len())
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "a-first-caller-secret-of-32-bytes-or-more";
    const B: &str = "another-caller-secret-of-32-bytes-or-more";

    #[test]
    fn every_listed_secret_is_accepted_and_nothing_else() {
        let secrets = CallerSecrets::new(&[A, B]).expect("two secrets");
        assert!(secrets.accepts(A.as_bytes()));
        assert!(secrets.accepts(B.as_bytes()));
        assert!(!secrets.accepts(b""));
        assert!(!secrets.accepts(&A.as_bytes()[..A.len() - 1]));
        assert!(!secrets.accepts(format!("{A}x").as_bytes()));
    }

    #[test]
    fn no_secrets_means_no_set_and_debug_shows_none_of_them() {
        assert!(CallerSecrets::new::<&str>(&[]).is_none());
        let shown = format!("{:?}", CallerSecrets::new(&[A]).unwrap());
        assert!(!shown.contains(A), "{shown}");
        assert!(shown.contains("1 redacted"), "{shown}");
    }
}
