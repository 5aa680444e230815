//! HTTP clients for the external APIs (Proxmox VE, Cloudflare, PowerDNS, HestiaCP).
//!
//! TLS is rustls with the ring provider, so no second OpenSSL is loaded into PHP's process.
//! Certificates are verified by default, against the Mozilla roots and the system's CA bundle;
//! a server with a self-signed certificate (a Proxmox node out of the box) is trusted by pinning
//! the SHA-256 fingerprint of its certificate. There is no "accept anything" mode.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Where the system keeps its CA bundle (Debian, Ubuntu; RHEL and derivatives).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// How a server's certificate is trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// A certificate chain to a known CA, for the host name asked for.
    Verified,
    /// Exactly the certificate with this SHA-256 fingerprint (self-signed clusters).
    Pinned([u8; 32]),
}

impl Trust {
    /// `Pinned` from a fingerprint as Proxmox shows it (`AB:CD:...`, 32 bytes, colons or not,
    /// any case); `Verified` when `fingerprint` is empty.
    ///
    /// # Errors
    /// [`Error::Validation`] on `field` when it is not 64 hex digits.
    pub fn from_fingerprint(fingerprint: &str, field: &str) -> Result<Trust> {
        let hex: String = fingerprint
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .collect();
        if hex.is_empty() {
            return Ok(Trust::Verified);
        }
        let bad = || {
            Error::validation(
                field,
                "must be the certificate's SHA-256 fingerprint: 32 hex bytes such as AB:CD:...:EF (Proxmox: Node > System > Certificates)",
            )
        };
        if hex.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Trust::Pinned(out))
    }
}

/// The SHA-256 fingerprint of a DER certificate as `AB:CD:...`.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The trusted roots, read once per process: every client built afterwards shares them.
fn roots() -> Arc<RootCertStore> {
    static ROOTS: once_cell::sync::Lazy<Arc<RootCertStore>> =
        once_cell::sync::Lazy::new(|| Arc::new(load_roots()));
    ROOTS.clone()
}

fn load_roots() -> RootCertStore {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for bundle in SYSTEM_BUNDLES {
        if let Ok(certs) = CertificateDer::pem_file_iter(bundle) {
            let certs: Vec<_> = certs.filter_map(|c| c.ok()).collect();
            roots.add_parsable_certificates(certs);
            break;
        }
    }
    roots
}

/// Accepts exactly one certificate, by fingerprint; handshake signatures are still checked.
#[derive(Debug)]
struct PinnedCertificate {
    sha256: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let seen: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if seen == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "certificate fingerprint {} does not match the pinned one",
                fingerprint(end_entity.as_ref())
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Options of a client.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// The whole request, connect to last byte.
    pub timeout: Duration,
    pub trust: Trust,
}

/// A client with `options`.
///
/// # Errors
/// [`Error::Validation`] on `field` only if TLS cannot be set up (a broken CA bundle).
pub fn client(options: &ClientOptions) -> Result<reqwest::Client> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::validation("tls", e.to_string()))?;
    let tls = match &options.trust {
        Trust::Verified => builder
            .with_root_certificates(roots())
            .with_no_client_auth(),
        Trust::Pinned(sha256) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCertificate {
                sha256: *sha256,
                provider,
            }))
            .with_no_client_auth(),
    };
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(options.timeout)
        .connect_timeout(options.timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("puq-proxmox-kvm/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::validation("tls", format!("unable to build the HTTP client - {e}")))
}

/// A transport failure in words an admin can act on (`timed out after 10 s`, `connection
/// refused`, `certificate ...`), without the URL's query string.
pub fn describe(err: &reqwest::Error) -> String {
    use std::error::Error as _;
    if err.is_timeout() {
        return "no answer before the timeout (raise it in Settings if the server is slow)".into();
    }
    let mut text = match err.url() {
        Some(url) => err.to_string().replace(
            url.as_str(),
            url.as_str().split('?').next().unwrap_or_default(),
        ),
        None => err.to_string(),
    };
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_as_proxmox_shows_them() {
        let shown = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
        let Trust::Pinned(bytes) = Trust::from_fingerprint(shown, "fingerprint").unwrap() else {
            panic!("expected a pin");
        };
        assert_eq!(bytes[0], 0xAB);
        assert_eq!(bytes[31], 0x89);
        assert_eq!(
            Trust::from_fingerprint(&shown.to_lowercase().replace(':', ""), "f").unwrap(),
            Trust::Pinned(bytes)
        );
        assert_eq!(Trust::from_fingerprint(" ", "f").unwrap(), Trust::Verified);
        for bad in ["AB:CD", &"G".repeat(64)] {
            let err = Trust::from_fingerprint(bad, "fingerprint").unwrap_err();
            assert_eq!(err.field(), Some("fingerprint"));
        }
    }

    #[test]
    fn fingerprint_formats_with_colons() {
        let f = fingerprint(b"certificate");
        assert_eq!(f.len(), 32 * 3 - 1);
        assert!(f.chars().all(|c| c == ':' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn clients_build_for_both_trust_modes() {
        for trust in [Trust::Verified, Trust::Pinned([7; 32])] {
            client(&ClientOptions {
                timeout: Duration::from_secs(5),
                trust,
            })
            .unwrap();
        }
    }
}
