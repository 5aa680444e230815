//! Secrets at rest (DNS provider tokens, passwords and keys): AES-256-GCM under a key derived
//! from WHMCS's `cc_encryption_hash`, so a database dump alone reveals none.
//!
//! Stored form: `v1:` followed by the hex of a random 96-bit nonce and the ciphertext with its
//! tag. The version prefix lets a later release change the scheme and still read old values.
//! The key is SHA-256 over a fixed context label and the hash: the label keeps this key apart
//! from anything else derived from the same hash.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// What the browser sees, and may send back, in place of a stored secret.
pub const KEEP: &str = "KEEP";

const CONTEXT: &[u8] = b"puq_proxmox_kvm/secrets/v1\0";
const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Seals and opens secrets with one installation's key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl SecretBox {
    /// The box for `key_material` (WHMCS's `cc_encryption_hash`).
    ///
    /// # Errors
    /// [`Error::Validation`] on `encryption_key` when it is missing or empty.
    pub fn new(key_material: Option<&str>) -> Result<SecretBox> {
        let material = key_material.map(str::trim).unwrap_or_default();
        if material.is_empty() {
            return Err(Error::validation(
                "encryption_key",
                "is not set - pass WHMCS's $cc_encryption_hash as encryption_key to Module::connect() so provider credentials can be stored encrypted",
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(CONTEXT);
        hasher.update(material.as_bytes());
        let key: [u8; 32] = hasher.finalize().into();
        Ok(SecretBox {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
        })
    }

    /// Encrypts `plain` with a fresh random nonce.
    ///
    /// # Errors
    /// [`Error::Database`] only if the cipher refuses (it does not for inputs under 64 GiB).
    pub fn seal(&self, plain: &str) -> Result<String> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .map_err(|_| Error::Database("unable to encrypt a secret".into()))?;
        let mut out = String::with_capacity(PREFIX.len() + 2 * (NONCE_LEN + sealed.len()));
        out.push_str(PREFIX);
        for b in nonce.iter().chain(sealed.iter()) {
            out.push_str(&format!("{b:02x}"));
        }
        Ok(out)
    }

    /// Decrypts a value made by [`SecretBox::seal`].
    ///
    /// # Errors
    /// [`Error::Database`] when the value is not in a known format, or was sealed under
    /// another key (the WHMCS encryption hash changed): the message says to enter it again.
    pub fn open(&self, stored: &str) -> Result<String> {
        let bad = |why: &str| {
            Error::Database(format!(
                "a stored secret {why} - enter the credential again on the DNS Zones page"
            ))
        };
        let hex = stored
            .strip_prefix(PREFIX)
            .ok_or_else(|| bad("is not in a format this version knows"))?;
        if hex.len() % 2 != 0 || hex.len() < 2 * (NONCE_LEN + 16) {
            return Err(bad("is truncated"));
        }
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad("is damaged"))?;
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| {
                bad("cannot be decrypted with this installation's key (was cc_encryption_hash in configuration.php changed?)")
            })?;
        String::from_utf8(plain).map_err(|_| bad("is damaged"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_with_fresh_nonces() {
        let b = SecretBox::new(Some("hash-1")).unwrap();
        let a1 = b.seal("token-123").unwrap();
        let a2 = b.seal("token-123").unwrap();
        assert_ne!(a1, a2, "every seal uses a new nonce");
        assert!(a1.starts_with("v1:") && !a1.contains("token"));
        assert_eq!(b.open(&a1).unwrap(), "token-123");
        assert_eq!(b.open(&b.seal("").unwrap()).unwrap(), "");
    }

    #[test]
    fn a_wrong_key_or_damaged_value_is_a_clear_error() {
        let sealed = SecretBox::new(Some("hash-1")).unwrap().seal("x").unwrap();
        let other = SecretBox::new(Some("hash-2")).unwrap();
        assert!(other
            .open(&sealed)
            .unwrap_err()
            .to_string()
            .contains("cc_encryption_hash"));
        for damaged in ["plain", "v1:zz", "v1:00", &sealed[..sealed.len() - 2]] {
            assert!(other.open(damaged).is_err(), "{damaged}");
        }
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let b1 = SecretBox::new(Some("hash-1")).unwrap();
        assert!(b1.open(&String::from_utf8(flipped).unwrap()).is_err());
    }

    #[test]
    fn a_missing_key_names_the_setting() {
        for k in [None, Some(""), Some("  ")] {
            assert_eq!(
                SecretBox::new(k)
                    .err()
                    .and_then(|e| e.field().map(str::to_string))
                    .as_deref(),
                Some("encryption_key")
            );
        }
    }
}
