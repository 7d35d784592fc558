//! TLS with rustls (the `ring` provider): the server certificate and key
//! from PEM files, and optional client-certificate verification against a CA
//! file (mTLS), as the API server's webhook kubeconfig can present.
//!
//! With a CA file, a client certificate, *if presented*, must chain to it or
//! the handshake fails; whether one was presented is then checked per
//! request on the audit path only, so that kubelet probes (`/healthz`,
//! `/readyz`) and Prometheus (`/metrics`) work without one. ALPN offers
//! HTTP/2 and HTTP/1.1. The files are read again on SIGHUP ([`TlsFiles::load`]
//! is cheap), so renewed certificates are used without a restart.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or holds nothing usable.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the combination (e.g. key does not match certificate).
    #[error("TLS setup: {0}")]
    Rustls(String),
}

/// The files TLS is configured from.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
    /// CA certificates for client certificates (mTLS), if any.
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    /// Reads the files and builds a rustls server configuration.
    pub fn load(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let certs = read_certs(&self.cert)?;
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| TlsError::File {
            path: self.key.clone(),
            reason: format!("no usable private key: {e}"),
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for cert in read_certs(ca)? {
                    roots.add(cert).map_err(|e| TlsError::File {
                        path: ca.clone(),
                        reason: format!("bad CA certificate: {e}"),
                    })?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .allow_unauthenticated()
                        .build()
                        .map_err(|e| TlsError::Rustls(e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |reason: String| TlsError::File {
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(format!("cannot read: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(fail("no CERTIFICATE block found".to_owned()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_and_key_load() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        std::fs::write(dir.path().join("c.pem"), cert.cert.pem()).unwrap();
        std::fs::write(dir.path().join("k.pem"), cert.signing_key.serialize_pem()).unwrap();
        let files = TlsFiles {
            cert: dir.path().join("c.pem"),
            key: dir.path().join("k.pem"),
            client_ca: Some(dir.path().join("c.pem")),
        };
        let config = files.load().unwrap();
        assert_eq!(config.alpn_protocols[0], b"h2");
    }

    #[test]
    fn a_missing_key_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        std::fs::write(dir.path().join("c.pem"), cert.cert.pem()).unwrap();
        std::fs::write(dir.path().join("k.pem"), "not a key").unwrap();
        let files = TlsFiles {
            cert: dir.path().join("c.pem"),
            key: dir.path().join("k.pem"),
            client_ca: None,
        };
        let err = files.load().unwrap_err().to_string();
        assert!(err.contains("k.pem"), "{err}");
    }
}
