//! TLS for the virtual ThinQ cloud: a self-signed certificate for LG's real API host names
//! and the TLS configuration the cloud's listener serves with.
//!
//! Why it exists: LG's `thinqconnect` SDK has no base-URL setting; it always builds
//! `https://api-{kic,aic,eic}.lgthinq.com/...`. A client can be pointed at the emulator by
//! patching the SDK's URL builder (plain HTTP), or, leaving the SDK untouched, by giving it an
//! HTTP session whose resolver maps `*.lgthinq.com` to the emulator's loopback port (the
//! reference's "approach B"). The second way sends real `https://` requests with the real
//! `Host` header, so the emulator has to answer TLS: that is this module. The certificate is
//! self-signed and made fresh at every start, so a client either skips verification (as the
//! resolver recipe does) or trusts [`SelfSigned::certificate_der`] explicitly; nothing here is
//! ever valid for the real hosts on the internet. `devfault serve --thinq-tls [ADDR]` runs the
//! cloud's router (with its fault layer) on such a listener beside the plain one
//! ([`crate::server::ServeConfig::thinq_tls_addr`]), through the same hardened accept loop as
//! every listener ([`crate::connections::serve_limited`], which bounds the handshake and hands
//! connections that negotiate ALPN `x-amzn-mqtt-ca` to the MQTT broker); there its certificate
//! comes from the cloud's CA instead ([`crate::thinq::mqtt::ca`]).
//!
//! ```
//! use devfault_emulator::tls::SelfSigned;
//!
//! let certificate = SelfSigned::generate().expect("a certificate");
//! let acceptor = certificate.acceptor().expect("an acceptor");
//! # let _ = acceptor;
//! ```

use std::fmt;
use std::sync::Arc;

use devfault_thinq::region::Region;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The loopback names a local client may use instead of LG's hosts.
pub const LOOPBACK_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// The names the certificate is valid for: the ThinQ Connect API host of each of the SDK's
/// three regions (`api-kic.lgthinq.com`, from devfault-thinq's region table), then
/// [`LOOPBACK_NAMES`].
pub fn host_names() -> Vec<String> {
    let regions = Region::ALL.into_iter().map(Region::host);
    regions.chain(LOOPBACK_NAMES.map(str::to_owned)).collect()
}

/// The protocol offered in ALPN: the emulator's servers speak HTTP/1.1.
pub const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

/// Making the certificate or the TLS configuration failed.
#[derive(Debug)]
pub struct TlsError {
    message: String,
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TlsError {}

/// A self-signed certificate for [`host_names`] with its private key (ECDSA P-256), made at
/// run time: no key material is stored in the repository.
pub struct SelfSigned {
    certificate: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl fmt::Debug for SelfSigned {
    // The private key stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelfSigned")
            .field("names", &host_names())
            .field("certificate_bytes", &self.certificate.len())
            .finish_non_exhaustive()
    }
}

impl SelfSigned {
    /// Makes a fresh key pair and a certificate for [`host_names`], signed by itself.
    pub fn generate() -> Result<SelfSigned, TlsError> {
        let names = host_names();
        let certified = rcgen::generate_simple_self_signed(names).map_err(|error| TlsError {
            message: format!(
                "cannot make a self-signed certificate for {:?}: {error}",
                host_names()
            ),
        })?;
        Ok(SelfSigned {
            certificate: certified.cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()),
        })
    }

    /// The certificate (DER), for a client that wants to verify the emulator rather than
    /// skip verification.
    pub fn certificate_der(&self) -> &CertificateDer<'static> {
        &self.certificate
    }

    /// A rustls server configuration presenting this certificate, with the `ring` provider
    /// (no process-wide default is installed or needed), TLS 1.2 and 1.3, ALPN `http/1.1`.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|error| TlsError {
                message: format!("the ring provider refuses TLS 1.2 and 1.3: {error}"),
            })?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.certificate.clone()],
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )
            .map_err(|error| TlsError {
                message: format!("rustls refuses the self-signed certificate: {error}"),
            })?;
        config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
        Ok(Arc::new(config))
    }

    /// A TLS acceptor for [`crate::connections::serve_limited`].
    pub fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        Ok(TlsAcceptor::from(self.server_config()?))
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::net::SocketAddr;
    use std::time::Duration;

    use axum::Router;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::watch;
    use tokio::task::JoinHandle;
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls::pki_types::ServerName;
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};

    use super::*;

    /// Every socket operation of a test is bounded by this.
    const STEP: Duration = Duration::from_secs(10);

    struct Server {
        addr: SocketAddr,
        stop: watch::Sender<bool>,
        task: JoinHandle<io::Result<()>>,
    }

    async fn start(certificate: &SelfSigned) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let router = Router::new().route(
            "/route",
            get(|headers: axum::http::HeaderMap| async move {
                let host = headers
                    .get("host")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                format!("hello from the cloud, host {host}")
            }),
        );
        let (stop, mut stopped) = watch::channel(false);
        let acceptor = certificate.acceptor().expect("acceptor");
        let task = tokio::spawn(crate::connections::serve_limited(
            listener,
            Some(acceptor),
            None,
            router,
            crate::connections::ConnectionLimits::default(),
            crate::connections::Refusal::json("{}"),
            async move {
                let _ = stopped.wait_for(|stopped| *stopped).await;
            },
        ));
        Server { addr, stop, task }
    }

    fn client_trusting(certificate: &SelfSigned) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        roots.add(certificate.certificate_der().clone()).expect("add the certificate");
        let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }

    /// One `GET /route` over TLS with SNI and `Host` set to `name`; the response as text.
    async fn get_route(
        connector: &TlsConnector,
        addr: SocketAddr,
        name: &str,
    ) -> io::Result<String> {
        fetch(connector, addr, name, "/route", "").await
    }

    /// One GET of `path` over TLS with SNI and `Host` set to `name`, and `headers` (each
    /// ending in CRLF); the response as text.
    async fn fetch(
        connector: &TlsConnector,
        addr: SocketAddr,
        name: &str,
        path: &str,
        headers: &str,
    ) -> io::Result<String> {
        let server_name = ServerName::try_from(name.to_owned())
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
        let tcp = tokio::time::timeout(STEP, TcpStream::connect(addr)).await??;
        let mut tls = tokio::time::timeout(STEP, connector.connect(server_name, tcp)).await??;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {name}\r\n{headers}Connection: close\r\n\r\n");
        tls.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        tokio::time::timeout(STEP, tls.read_to_end(&mut response)).await??;
        Ok(String::from_utf8_lossy(&response).into_owned())
    }

    async fn stop(server: Server) {
        server.stop.send_replace(true);
        let result = tokio::time::timeout(STEP, server.task)
            .await
            .expect("the server stops within the step")
            .expect("the server task did not panic");
        assert!(result.is_ok(), "serve_limited ended with {result:?}");
    }

    #[tokio::test]
    async fn every_host_name_is_served_over_verified_tls() {
        let certificate = SelfSigned::generate().expect("generate");
        let server = start(&certificate).await;
        let connector = client_trusting(&certificate);
        let names = host_names();
        assert_eq!(
            names[..3],
            ["api-kic.lgthinq.com", "api-aic.lgthinq.com", "api-eic.lgthinq.com"]
        );
        for name in &names {
            let response = get_route(&connector, server.addr, name)
                .await
                .unwrap_or_else(|error| panic!("GET /route as {name}: {error}"));
            assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{name}: {response}");
            assert!(
                response.ends_with(&format!("hello from the cloud, host {name}")),
                "{name}: {response}"
            );
        }
        stop(server).await;
    }

    #[tokio::test]
    async fn a_name_outside_the_certificate_is_refused_by_a_verifying_client() {
        let certificate = SelfSigned::generate().expect("generate");
        let server = start(&certificate).await;
        let connector = client_trusting(&certificate);
        let error = get_route(&connector, server.addr, "api.example.com")
            .await
            .expect_err("api.example.com is not in the certificate");
        assert!(error.to_string().contains("certificate"), "{error}");
        stop(server).await;
    }

    #[tokio::test]
    async fn a_certificate_from_another_start_is_not_trusted() {
        let served = SelfSigned::generate().expect("generate");
        let other = SelfSigned::generate().expect("generate");
        assert_ne!(served.certificate_der(), other.certificate_der(), "fresh at each start");
        let server = start(&served).await;
        let error = get_route(&client_trusting(&other), server.addr, "api-eic.lgthinq.com")
            .await
            .expect_err("the client trusts another certificate");
        assert!(error.to_string().contains("certificate"), "{error}");
        stop(server).await;
    }

    #[tokio::test]
    async fn plain_http_and_silent_clients_do_not_block_tls_clients() {
        let certificate = SelfSigned::generate().expect("generate");
        let server = start(&certificate).await;
        // A client that connects and says nothing (its handshake would wait for the timeout).
        let silent = TcpStream::connect(server.addr).await.expect("connect");
        // A client speaking plain HTTP to the TLS port: its connection is closed.
        let mut plain = TcpStream::connect(server.addr).await.expect("connect");
        plain.write_all(b"GET /route HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.expect("write");
        let mut answer = Vec::new();
        let read = tokio::time::timeout(STEP, plain.read_to_end(&mut answer)).await;
        assert!(
            matches!(read, Ok(Ok(_)) | Ok(Err(_))),
            "the plain-HTTP connection was not closed within {STEP:?}"
        );
        assert!(!String::from_utf8_lossy(&answer).contains("hello"), "answered in clear text");
        // Meanwhile a TLS client is served at once.
        let response = get_route(&client_trusting(&certificate), server.addr, "127.0.0.1")
            .await
            .expect("TLS client beside a silent one");
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        drop(silent);
        stop(server).await;
    }

    /// The six headers LG's SDK sends, for user 1 of the default household.
    const SDK_HEADERS: &str = "Authorization: Bearer thinqpat-devfault-0000\r\nx-country: DE\r\nx-message-id: zTL0BXUNT5KR0oZ7checHg\r\nx-client-id: devfault-tls-test\r\nx-api-key: v6GFvkweNo7DK7yD3ylIZ9w52aKBU0eJ7wLXkSR3\r\nx-service-phase: OP\r\n";

    #[tokio::test]
    async fn serve_answers_the_cloud_over_tls_and_reset_rules_cut_it() {
        use crate::faults::{ActionKind, RuleSpec};
        use crate::server::{ServeConfig, serve};

        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let config = ServeConfig {
            bravia_addr: any,
            admin_addr: any,
            thinq_addr: any,
            thinq_tls_addr: Some(any),
            ..ServeConfig::default()
        };
        let running = serve(config, std::future::pending()).await.expect("serve");
        let thinq = running.thinq();
        let addr = thinq.tls_addr.expect("a TLS listener was asked for");
        assert_ne!(addr, thinq.addr, "TLS has its own port");
        let certificate = thinq.tls_certificate.clone().expect("its certificate");
        let mut roots = RootCertStore::empty();
        roots.add(certificate).expect("add the certificate");
        let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = TlsConnector::from(Arc::new(config));

        let host = "api-eic.lgthinq.com";
        let response = fetch(&connector, addr, host, "/devices", SDK_HEADERS).await.expect("GET");
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.contains(r#""deviceId":"ac-living-room""#), "{response}");
        assert!(response.contains(r#""messageId":"zTL0BXUNT5KR0oZ7checHg""#), "{response}");

        // A reset rule ends the TLS connection without an answer, as on the plain port.
        running
            .admin()
            .faults()
            .add(RuleSpec { count: Some(1), ..RuleSpec::new(ActionKind::Reset) })
            .expect("a reset rule");
        let reset = fetch(&connector, addr, host, "/devices", SDK_HEADERS).await;
        assert!(
            reset.as_ref().map_or(true, |text| !text.contains("HTTP/1.1")),
            "the reset rule let an answer through: {reset:?}"
        );
        let again = fetch(&connector, addr, host, "/devices", SDK_HEADERS).await.expect("GET");
        assert!(again.starts_with("HTTP/1.1 200 OK\r\n"), "after the one reset: {again}");

        running.shutdown();
        tokio::time::timeout(STEP, running.wait())
            .await
            .expect("stops within the step")
            .expect("stops cleanly");
    }

    #[test]
    fn debug_output_leaves_the_key_out() {
        let certificate = SelfSigned::generate().expect("generate");
        let shown = format!("{certificate:?}");
        assert!(shown.contains("api-eic.lgthinq.com"), "{shown}");
        assert!(!shown.contains("key"), "{shown}");
    }
}
