//! argon2id hashing and verification into caller-owned memory, so a hashing thread reuses
//! one buffer instead of allocating `m_cost` KiB per password.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::pool::Scratch;

/// Hashes `password` with a fresh random salt into a PHC string (`$argon2id$v=19$...`).
pub(crate) fn hash(
    params: &Params,
    password: &[u8],
    scratch: &mut Scratch,
) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_buf)
        .map_err(|e| e.to_string())?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let keep = params.block_count();
    let output = Output::init_with(len, |out| {
        with_blocks(scratch, params.block_count(), keep, |blocks| {
            argon.hash_password_into_with_memory(password, salt_bytes, out, blocks)
        })
        .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the argon2 hash `stored` (any variant, version and
/// parameters the hash names). `keep` is how many blocks the scratch buffer may keep
/// afterwards: a hash with a larger `m_cost` gets a one-off buffer.
pub(crate) fn verify(
    stored: &PasswordHash<'_>,
    password: &[u8],
    scratch: &mut Scratch,
    keep: usize,
) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm) else {
        return false;
    };
    let version = match stored.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(stored) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = Output::init_with(expected.len(), |out| {
        with_blocks(scratch, params.block_count(), keep, |blocks| {
            argon.hash_password_into_with_memory(password, salt_bytes, out, blocks)
        })
        .map_err(|_| argon2::password_hash::Error::Crypto)
    });
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|c| c == expected)
}

/// Runs `f` on `needed` blocks of `scratch`, growing it up to `keep` blocks; a larger need
/// gets a temporary buffer so one odd stored hash cannot pin extra memory for good.
fn with_blocks<T>(
    scratch: &mut Scratch,
    needed: usize,
    keep: usize,
    f: impl FnOnce(&mut [Block]) -> T,
) -> T {
    if needed > keep {
        return f(&mut vec![Block::default(); needed]);
    }
    if scratch.len() < needed {
        scratch.resize(needed, Block::default());
    }
    f(&mut scratch[..needed])
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    fn small() -> Params {
        Params::new(1024, 1, 1, None).unwrap()
    }

    #[test]
    fn our_hashes_verify_with_the_argon2_crate_and_its_hashes_with_ours() {
        let mut scratch = Scratch::new();
        let ours = hash(&small(), b"Correct7Horse", &mut scratch).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, small());
        assert!(reference.verify_password(b"Correct7Horse", &parsed).is_ok());

        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = reference.hash_password(b"Correct7Horse", &salt).unwrap();
        assert!(verify(&theirs, b"Correct7Horse", &mut scratch, 1024));
        assert!(!verify(&theirs, b"Correct7Horsf", &mut scratch, 1024));
    }

    #[test]
    fn a_reused_dirty_buffer_gives_the_same_result_as_a_fresh_one() {
        let mut scratch = vec![Block::default(); 1024];
        let stored = hash(&small(), b"first password", &mut scratch).unwrap();
        // The buffer now holds the previous computation's state.
        let parsed = PasswordHash::new(&stored).unwrap();
        assert!(verify(&parsed, b"first password", &mut scratch, 1024));
        assert!(verify(
            &parsed,
            b"first password",
            &mut Scratch::new(),
            1024
        ));
    }

    #[test]
    fn other_variants_and_larger_costs_verify_without_growing_the_kept_buffer() {
        let big = Params::new(4096, 1, 1, None).unwrap();
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x10, big);
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let stored = argon2i.hash_password(b"Correct7Horse", &salt).unwrap();
        let mut scratch = Scratch::new();
        assert!(verify(&stored, b"Correct7Horse", &mut scratch, 1024));
        assert!(
            scratch.is_empty(),
            "a one-off buffer served the larger hash"
        );
    }
}
