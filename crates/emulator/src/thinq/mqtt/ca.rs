//! The cloud's certificate authority: one per cloud, made at start (an ECDSA P-256 key that
//! never leaves the process) or loaded from PEM files (`serve --thinq-ca CERT KEY`, so a test
//! suite can pin the CA it trusts across runs).
//!
//! Why a CA of its own: LG's SDK trusts whatever `AmazonRootCA1.pem` it downloaded and
//! presents a client certificate issued by `POST /client/certificate`; AWS IoT checks that
//! certificate against its CA. So the virtual cloud issues the client certificates (one per
//! ThinQ client id, the id in the subject's common name), and the broker's server certificate,
//! from the same CA, and serves that CA where the SDK looks for Amazon's.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData as _,
};
use tokio_rustls::rustls::RootCertStore;
use tokio_rustls::rustls::pki_types::{
    CertificateDer, CertificateSigningRequestDer, PrivateKeyDer, PrivatePkcs8KeyDer,
};
use x509_parser::prelude::FromDer as _;
use x509_parser::public_key::PublicKey;

/// The common name of a generated CA.
pub const CA_NAME: &str = "devfault ThinQ cloud CA";

/// The organization written into every client certificate.
const CLIENT_ORGANIZATION: &str = "devfault ThinQ client";

/// The largest CSR accepted, base64 included: an RSA-4096 CSR is under 2 KiB.
pub const MAX_CSR_BYTES: usize = 16 * 1024;

/// The key types a CSR may carry, as AWS IoT accepts them: RSA of at least 2048 bits, or
/// ECDSA on P-256 or P-384.
pub const ACCEPTED_KEYS: &str = "RSA of 2048 bits or more, or ECDSA P-256 or P-384";

/// Making, loading or using the CA failed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CaError(pub String);

impl fmt::Display for CaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CaError {}

/// Why a CSR was refused; every kind answers 1102 Unacceptable parameters, the detail (in
/// `x-devfault-reason`) says which.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CsrError {
    /// Longer than [`MAX_CSR_BYTES`].
    TooLong(usize),
    /// Not standard base64 (the SDK sends the PEM body without its header and footer lines).
    NotBase64(String),
    /// Base64, but not a DER PKCS#10 request (or its signature does not verify).
    NotCsr(String),
    /// A key type the cloud does not certify.
    KeyType(String),
}

impl fmt::Display for CsrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsrError::TooLong(n) => {
                write!(f, "csr is {n} bytes, more than {MAX_CSR_BYTES}")
            }
            CsrError::NotBase64(why) => write!(
                f,
                "csr is not base64 ({why}); send the PEM body without its BEGIN/END lines"
            ),
            CsrError::NotCsr(why) => write!(f, "csr is not a DER PKCS#10 request: {why}"),
            CsrError::KeyType(what) => {
                write!(f, "csr carries {what}; the cloud certifies {ACCEPTED_KEYS}")
            }
        }
    }
}

/// The cloud's CA: its issuer (key and name) and its certificate.
pub struct CloudCa {
    issuer: Issuer<'static, KeyPair>,
    certificate: CertificateDer<'static>,
    pem: String,
}

impl fmt::Debug for CloudCa {
    // The key stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudCa").field("certificate_bytes", &self.certificate.len()).finish()
    }
}

/// A certificate with its private key, as a TLS server presents it.
#[derive(Debug)]
pub struct ServerIdentity {
    /// The leaf, then the CA.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's key.
    pub key: PrivatePkcs8KeyDer<'static>,
}

impl ServerIdentity {
    /// The key as rustls takes it.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

impl CloudCa {
    /// A fresh CA: an ECDSA P-256 key and a self-signed CA certificate named [`CA_NAME`].
    pub fn generate() -> Result<CloudCa, CaError> {
        let key = KeyPair::generate().map_err(|e| CaError(format!("cannot make a CA key: {e}")))?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, CA_NAME);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let certificate = params
            .self_signed(&key)
            .map_err(|e| CaError(format!("cannot sign the CA certificate: {e}")))?;
        let pem = certificate.pem();
        let der = certificate.der().clone();
        Ok(CloudCa { issuer: Issuer::new(params, key), certificate: der, pem })
    }

    /// A CA from its certificate and its PKCS#8 private key, both PEM.
    pub fn load(certificate_pem: &str, key_pem: &str) -> Result<CloudCa, CaError> {
        let key = KeyPair::from_pem(key_pem).map_err(|e| {
            CaError(format!("the CA key is not a PEM PKCS#8 key rcgen can sign with: {e}"))
        })?;
        let der: CertificateDer<'static> = pem_der(certificate_pem, "CERTIFICATE")
            .ok_or_else(|| CaError("the CA certificate is not a PEM CERTIFICATE".to_owned()))?
            .into();
        let (_, parsed) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| CaError(format!("the CA certificate does not parse: {e}")))?;
        if !parsed.is_ca() {
            return Err(CaError(
                "the certificate given as CA is not a CA (basicConstraints)".into(),
            ));
        }
        if parsed.public_key().raw != key.subject_public_key_info().as_slice() {
            return Err(CaError("the CA key is not the key of the CA certificate".to_owned()));
        }
        let issuer = Issuer::from_ca_cert_der(&der, key)
            .map_err(|e| CaError(format!("the CA certificate cannot issue: {e}")))?;
        Ok(CloudCa { issuer, certificate: der, pem: certificate_pem.trim().to_owned() + "\n" })
    }

    /// The CA certificate, PEM: what the cloud serves as `AmazonRootCA1.pem`.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The CA certificate, DER.
    pub fn certificate_der(&self) -> &CertificateDer<'static> {
        &self.certificate
    }

    /// The CA as the only root of a store, for verifying client certificates.
    pub fn roots(&self) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        // A certificate this CA made or loaded (parsed above) is always a valid anchor.
        let _ = roots.add(self.certificate.clone());
        Arc::new(roots)
    }

    /// Signs the CSR `csr_base64` (the PEM body, as the SDK sends it) for the ThinQ client
    /// `client_id`: the certificate names the client in its common name (the broker reads it
    /// there), whatever subject the CSR asked for; it is good for client authentication only.
    /// Answers the certificate as PEM.
    pub fn issue_client(&self, client_id: &str, csr_base64: &str) -> Result<String, CsrError> {
        if csr_base64.len() > MAX_CSR_BYTES {
            return Err(CsrError::TooLong(csr_base64.len()));
        }
        let compact: String = csr_base64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| CsrError::NotBase64(e.to_string()))?;
        let (_, request) =
            x509_parser::certification_request::X509CertificationRequest::from_der(&der)
                .map_err(|e| CsrError::NotCsr(e.to_string()))?;
        let key = &request.certification_request_info.subject_pki;
        match key.parsed() {
            Ok(PublicKey::RSA(rsa)) if rsa.key_size() >= 2048 => {}
            Ok(PublicKey::RSA(rsa)) => {
                return Err(CsrError::KeyType(format!("an RSA key of {} bits", rsa.key_size())));
            }
            Ok(PublicKey::EC(point)) if matches!(point.key_size(), 256 | 384) => {}
            Ok(PublicKey::EC(point)) => {
                return Err(CsrError::KeyType(format!("an EC key of {} bits", point.key_size())));
            }
            Ok(_) | Err(_) => {
                return Err(CsrError::KeyType(format!(
                    "a key of algorithm {}",
                    key.algorithm.algorithm
                )));
            }
        }
        let mut csr = CertificateSigningRequestParams::from_der(
            &CertificateSigningRequestDer::from(der.as_slice()),
        )
        .map_err(|e| CsrError::NotCsr(e.to_string()))?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, client_id);
        params.distinguished_name.push(DnType::OrganizationName, CLIENT_ORGANIZATION);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        csr.params = params;
        let certificate =
            csr.signed_by(&self.issuer).map_err(|e| CsrError::NotCsr(e.to_string()))?;
        Ok(certificate.pem())
    }

    /// A fresh server certificate for `names` (host names or IP addresses) issued by this
    /// CA, for the broker and the TLS listener: a client that trusts the CA it fetched
    /// verifies them.
    pub fn issue_server(&self, names: &[&str]) -> Result<ServerIdentity, CaError> {
        let key =
            KeyPair::generate().map_err(|e| CaError(format!("cannot make a server key: {e}")))?;
        let owned: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(owned)
            .map_err(|e| CaError(format!("cannot name a certificate {names:?}: {e}")))?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or(""));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let certificate = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| CaError(format!("cannot issue a server certificate: {e}")))?;
        Ok(ServerIdentity {
            chain: vec![certificate.der().clone(), self.certificate.clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }
}

/// The DER inside the first PEM block labelled `label`.
pub(crate) fn pem_der(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// The client id a certificate this CA issued names (its subject's common name).
pub fn client_id_of(certificate: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate).ok()?;
    let name = parsed.subject().iter_common_name().next()?;
    name.as_str().ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSR as LG's SDK makes one (CN lg_thinq), the PEM body only.
    fn csr_body(key: &KeyPair) -> String {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, "lg_thinq");
        let pem = params.serialize_request(key).expect("a CSR").pem().expect("PEM");
        pem.lines().filter(|l| !l.starts_with("-----")).collect()
    }

    #[test]
    fn a_client_certificate_names_its_client_and_chains_to_the_ca() {
        let ca = CloudCa::generate().expect("a CA");
        let key = KeyPair::generate().expect("a key");
        let pem = ca.issue_client("thinq-open-abc", &csr_body(&key)).expect("issued");
        let der: CertificateDer<'static> = pem_der(&pem, "CERTIFICATE").expect("PEM").into();
        assert_eq!(client_id_of(&der).as_deref(), Some("thinq-open-abc"));
        let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("parses");
        let (_, root) = x509_parser::parse_x509_certificate(ca.certificate_der()).expect("CA");
        assert_eq!(cert.issuer(), root.subject());
        cert.verify_signature(Some(root.public_key())).expect("signed by the CA");
        assert_eq!(cert.public_key().raw, key.subject_public_key_info().as_slice(), "the CSR key");
    }

    #[test]
    fn bad_csrs_are_refused_by_kind() {
        let ca = CloudCa::generate().expect("a CA");
        assert!(matches!(ca.issue_client("c", "not base64!"), Err(CsrError::NotBase64(_))));
        assert!(matches!(ca.issue_client("c", "aGVsbG8="), Err(CsrError::NotCsr(_))));
        let long = "A".repeat(MAX_CSR_BYTES + 1);
        assert!(matches!(ca.issue_client("c", &long), Err(CsrError::TooLong(_))));
        let ed = KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("ed25519");
        let refused = ca.issue_client("c", &csr_body(&ed));
        assert!(matches!(refused, Err(CsrError::KeyType(_))), "{refused:?}");
        let text = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains(ACCEPTED_KEYS), "{text}");
    }

    #[test]
    fn a_ca_round_trips_through_pem_and_keeps_issuing() {
        let key = KeyPair::generate().expect("a key");
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "pinned CA");
        let cert = params.self_signed(&key).expect("self-signed");
        let ca = CloudCa::load(&cert.pem(), &key.serialize_pem()).expect("loads");
        assert_eq!(ca.certificate_der(), cert.der());
        let client = KeyPair::generate().expect("a key");
        assert!(ca.issue_client("c", &csr_body(&client)).is_ok());
        let other = KeyPair::generate().expect("another key");
        let error = CloudCa::load(&cert.pem(), &other.serialize_pem()).expect_err("wrong key");
        assert!(error.0.contains("not the key"), "{error}");
        let error = CloudCa::load("nothing", &key.serialize_pem()).expect_err("no PEM");
        assert!(error.0.contains("PEM CERTIFICATE"), "{error}");
    }

    #[test]
    fn a_server_certificate_names_its_hosts() {
        let ca = CloudCa::generate().expect("a CA");
        let server = ca.issue_server(&["localhost", "127.0.0.1"]).expect("issued");
        assert_eq!(server.chain.len(), 2);
        let (_, cert) = x509_parser::parse_x509_certificate(&server.chain[0]).expect("parses");
        let names = format!("{:?}", cert.subject_alternative_name());
        assert!(names.contains("localhost") && names.contains("127"), "{names}");
    }
}
