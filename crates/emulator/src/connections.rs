//! The accept loop of every listener `devfault serve` runs (the displays, the ThinQ cloud, its
//! TLS port, the admin API), with the limits a hostile or broken client meets.
//!
//! `axum::serve` sets no header timer, no idle timer and no connection cap: a few hundred idle
//! sockets, or a client sending one header byte every few seconds, held the emulator hostage
//! (issue 11). This loop serves each connection with hyper's HTTP/1.1 server directly, so that:
//!
//! - a request head larger than [`ConnectionLimits::max_header_bytes`] is answered 431 by the
//!   HTTP parser (which writes that answer itself, with an empty body: hyper has no hook for a
//!   vendor envelope there; the same holds for its 400 on an unparsable head);
//! - a head that has not fully arrived [`ConnectionLimits::header_timeout`] after the
//!   connection started waiting for it (a slowloris client) closes the connection;
//! - a connection with no request in flight and no byte in either direction for
//!   [`ConnectionLimits::idle_timeout`] is closed;
//! - a TLS handshake not finished within [`ConnectionLimits::handshake_timeout`] is dropped;
//! - past [`ConnectionLimits::max_connections`] open connections, a new one is answered 503
//!   with the listener's [`Refusal`] and closed (a TLS one is closed: plain HTTP would be
//!   garbage to it);
//! - a client that half-closes its side after a complete request still gets its answer;
//! - once the shutdown future resolves, idle connections close at once and the others get
//!   [`ConnectionLimits::shutdown_grace`] to finish before they are dropped.
//!
//! Each connection of a [`FaultListener`](crate::faults::FaultListener) carries its [`ConnectionControl`] into the request's
//! extensions (as `ConnectInfo<ConnectionControl>`), as `into_make_service_with_connect_info`
//! did, so `reset` and `no_answer` rules still cut the TCP stream.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::faults::{ConnectionControl, FaultStream};

/// Takes over a TLS connection that negotiated another ALPN protocol than HTTP (see
/// [`Diversion`]).
pub type Divert<Io, Addr> = Arc<dyn Fn(tokio_rustls::server::TlsStream<Io>, Addr) + Send + Sync>;

/// A TLS connection whose client negotiated this ALPN protocol is handed to the function
/// instead of the HTTP server: the ThinQ cloud's TLS port serves MQTT to `x-amzn-mqtt-ca`
/// clients, one port for HTTPS and MQTT as AWS IoT does on 443.
pub type Diversion<Io, Addr> = (&'static [u8], Divert<Io, Addr>);

/// The limits of one listener. Every field has a `devfault serve` flag of the same name
/// (`--max-header-bytes`, `--header-timeout`...); the defaults are what a client that behaves
/// never meets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ConnectionLimits {
    /// The largest request head (request line and headers) in bytes; larger is answered 431
    /// and the connection closed. 8 KiB to 1 MiB ([`MIN_HEADER_BYTES`], [`MAX_HEADER_BYTES`]);
    /// default 16 KiB, as common HTTP servers and embedded devices accept.
    pub max_header_bytes: usize,
    /// How long a request head may take to arrive, counted from when the connection starts
    /// waiting for it (at accept, and after each answer). Default 10 s.
    pub header_timeout: Duration,
    /// How long a connection may stay silent (no byte either way) with no request in flight
    /// before it is closed. Default 5 s.
    pub idle_timeout: Duration,
    /// How long a TLS client may take to finish its handshake. Default 5 s.
    pub handshake_timeout: Duration,
    /// The most connections open at once on one listener; past it, new ones are refused
    /// politely (503 and closed). Default 512.
    pub max_connections: usize,
    /// How long stopping waits for requests in flight before dropping their connections.
    /// Default 500 ms, so that SIGTERM ends the process within a second.
    pub shutdown_grace: Duration,
}

/// The smallest [`ConnectionLimits::max_header_bytes`]: hyper's smallest read buffer.
pub const MIN_HEADER_BYTES: usize = 8 * 1024;

/// The largest [`ConnectionLimits::max_header_bytes`].
pub const MAX_HEADER_BYTES: usize = 1024 * 1024;

/// The most connections [`ConnectionLimits::max_connections`] may allow on one listener.
pub const MAX_CONNECTIONS: usize = 65_536;

/// The longest any of the timeouts may be set to: an hour.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// At most this many refusals (the 503 written to a connection past the cap) are in progress
/// at once; past that, a connection over the cap is closed without a word.
const MAX_REFUSING: usize = 256;

/// How long writing a refusal may take.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// How long a refused connection is drained of what its client sent before it is closed.
const REFUSAL_DRAIN: Duration = Duration::from_millis(100);

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            max_header_bytes: 16 * 1024,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(5),
            max_connections: 512,
            shutdown_grace: Duration::from_millis(500),
        }
    }
}

impl ConnectionLimits {
    /// Checks every limit against its range; the error names the field, the value and the
    /// range (in the flags' words, since `serve` reports it as is).
    pub fn check(&self) -> Result<(), String> {
        if !(MIN_HEADER_BYTES..=MAX_HEADER_BYTES).contains(&self.max_header_bytes) {
            return Err(format!(
                "--max-header-bytes {}: give {MIN_HEADER_BYTES} to {MAX_HEADER_BYTES}",
                self.max_header_bytes
            ));
        }
        if !(1..=MAX_CONNECTIONS).contains(&self.max_connections) {
            return Err(format!(
                "--max-connections {}: give 1 to {MAX_CONNECTIONS}",
                self.max_connections
            ));
        }
        for (flag, value, zero_ok) in [
            ("--header-timeout", self.header_timeout, false),
            ("--idle-timeout", self.idle_timeout, false),
            ("--handshake-timeout", self.handshake_timeout, false),
            ("--shutdown-grace", self.shutdown_grace, true),
        ] {
            if (value.is_zero() && !zero_ok) || value > MAX_TIMEOUT {
                let low = if zero_ok { "0" } else { "more than 0" };
                return Err(format!(
                    "{flag} {} ms: give {low} to {} s",
                    value.as_millis(),
                    MAX_TIMEOUT.as_secs()
                ));
            }
        }
        Ok(())
    }
}

/// What a connection past [`ConnectionLimits::max_connections`] is sent before it is closed:
/// a whole HTTP/1.1 503 response, in the listener's envelope.
#[derive(Clone, PartialEq, Eq)]
pub struct Refusal {
    bytes: Arc<[u8]>,
}

impl fmt::Debug for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Refusal").field(&String::from_utf8_lossy(&self.bytes)).finish()
    }
}

impl Refusal {
    /// A 503 with this JSON body, `Retry-After: 1` and `Connection: close`.
    pub fn json(body: &str) -> Refusal {
        let head = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
            body.len()
        );
        Refusal { bytes: Arc::from([head.as_bytes(), body.as_bytes()].concat()) }
    }

    /// The response as sent.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A stream a listener accepts, with the [`ConnectionControl`] that `reset` rules use when it
/// has one.
pub trait Controlled {
    /// The connection's control handle, if the listener made one.
    fn connection_control(&self) -> Option<ConnectionControl>;
}

impl Controlled for TcpStream {
    fn connection_control(&self) -> Option<ConnectionControl> {
        None
    }
}

impl Controlled for FaultStream {
    fn connection_control(&self) -> Option<ConnectionControl> {
        Some(self.control().clone())
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` resolves; over TLS when
/// `tls` is given (the handshake bounded by [`ConnectionLimits::handshake_timeout`]).
/// Connections past the cap get `refusal` (plain listeners) or are closed (TLS).
pub async fn serve_limited<L>(
    mut listener: L,
    tls: Option<TlsAcceptor>,
    divert: Option<Diversion<L::Io, L::Addr>>,
    router: Router,
    limits: ConnectionLimits,
    refusal: Refusal,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()>
where
    L: Listener,
    L::Io: Controlled,
{
    let builder = Arc::new(http1_builder(&limits));
    let (stop, stopped) = watch::channel(false);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            (io, addr) = listener.accept() => {
                if let Ok(permit) = Arc::clone(&permits).try_acquire_owned() {
                    let connection = Connection {
                        builder: Arc::clone(&builder),
                        router: router.clone(),
                        limits,
                        stopped: stopped.clone(),
                    };
                    let tls = tls.clone();
                    let divert = divert.clone();
                    connections.spawn(async move {
                        let _permit = permit;
                        connection.run(io, addr, tls, divert).await;
                    });
                } else if tls.is_none()
                    && let Ok(permit) = Arc::clone(&refusing).try_acquire_owned()
                {
                    let refusal = refusal.clone();
                    connections.spawn(async move {
                        let _permit = permit;
                        refuse(io, &refusal).await;
                    });
                }
                // Else: over the cap on TLS, or too many refusals in progress; dropping the
                // stream closes it.
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    stop.send_replace(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(limits.shutdown_grace, drained).await;
    connections.abort_all();
    Ok(())
}

/// hyper's HTTP/1.1 server settings for these limits.
fn http1_builder(limits: &ConnectionLimits) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        // The header timeout is the connection's own timer (see `Connection::serve`): hyper's
        // armed a fresh timer for every request, which cost the request path about 4 % more
        // instructions (scripts/bench-instructions).
        .header_read_timeout(None)
        .max_header_size(limits.max_header_bytes)
        // The read buffer may not be smaller than hyper's minimum; past the head size, a head
        // still incomplete fills it and is refused 431 before it grows further.
        .max_buf_size(limits.max_header_bytes.max(MIN_HEADER_BYTES))
        .half_close(true)
        .keep_alive(true);
    builder
}

/// Writes the refusal, closes the sending side, and reads (and drops) what the client sent
/// meanwhile, so that closing does not reset the connection before the client read the 503.
async fn refuse<I: AsyncRead + AsyncWrite + Unpin>(mut io: I, refusal: &Refusal) {
    let written = tokio::time::timeout(REFUSAL_TIME, async {
        io.write_all(refusal.as_bytes()).await?;
        io.shutdown().await
    })
    .await;
    if !matches!(written, Ok(Ok(()))) {
        return;
    }
    let _ = tokio::time::timeout(REFUSAL_DRAIN, async {
        let mut sink = [0u8; 4096];
        let mut left = 64 * 1024usize;
        while left > 0 {
            let read = io.read(&mut sink).await?;
            if read == 0 {
                break;
            }
            left = left.saturating_sub(read);
        }
        Ok::<(), io::Error>(())
    })
    .await;
}

/// One accepted connection and what serving it needs.
struct Connection {
    builder: Arc<hyper::server::conn::http1::Builder>,
    router: Router,
    limits: ConnectionLimits,
    stopped: watch::Receiver<bool>,
}

impl Connection {
    async fn run<I, A>(
        self,
        io: I,
        addr: A,
        tls: Option<TlsAcceptor>,
        divert: Option<Diversion<I, A>>,
    ) where
        I: AsyncRead + AsyncWrite + Controlled + Unpin + Send + 'static,
    {
        let control = io.connection_control();
        match tls {
            None => self.serve(io, control).await,
            Some(acceptor) => {
                let handshake = acceptor.accept(io);
                // Not TLS, refused, or too slow: the client sees its connection close.
                if let Ok(Ok(stream)) =
                    tokio::time::timeout(self.limits.handshake_timeout, handshake).await
                {
                    if let Some((protocol, divert)) = &divert
                        && stream.get_ref().1.alpn_protocol() == Some(*protocol)
                    {
                        divert(stream, addr);
                        return;
                    }
                    self.serve(stream, control).await;
                }
            }
        }
    }

    async fn serve<I>(mut self, io: I, control: Option<ConnectionControl>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Arc::new(Activity::default());
        let io = TokioIo::new(Tracked { inner: io, activity: Arc::clone(&activity) });
        let router = self.router;
        let service = {
            let activity = Arc::clone(&activity);
            hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                if let Some(control) = &control {
                    request.extensions_mut().insert(ConnectInfo(control.clone()));
                }
                let busy = Busy::start(&activity);
                let router = router.clone();
                async move {
                    // In flight until its body is sent whole: a streamed answer (the
                    // dashboard's journal events) may stay silent longer than the idle
                    // timeout without being an idle connection.
                    // A body of known length leaves with the head and stays unwrapped (the
                    // common case: no extra box on every answer).
                    let response = router.oneshot(request).await;
                    response.map(|response| {
                        if axum::body::HttpBody::size_hint(response.body()).exact().is_some() {
                            drop(busy);
                            return response;
                        }
                        response.map(|body| axum::body::Body::new(Answering { body, _busy: busy }))
                    })
                }
            })
        };
        let connection = self.builder.serve_connection(io, service);
        tokio::pin!(connection);
        // One timer for both limits, ticking four times per the shorter: a connection is
        // closed after one to one and a quarter of either. Idle: no byte either way and no
        // request in flight. Header: no request started (its head whole) for the header
        // timeout while none was in flight, bytes or not (a slowloris head).
        let limits = self.limits;
        let tick =
            (limits.idle_timeout.min(limits.header_timeout) / 4).max(Duration::from_millis(5));
        let ticks_for = |limit: Duration| {
            u32::try_from(limit.as_millis().div_ceil(tick.as_millis().max(1))).unwrap_or(u32::MAX)
        };
        let (idle_ticks, header_ticks) =
            (ticks_for(limits.idle_timeout), ticks_for(limits.header_timeout));
        let mut silent_ticks = 0u32;
        let mut waiting_ticks = 0u32;
        let mut last_started = 0u64;
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        let mut stopping = *self.stopped.borrow();
        if stopping {
            connection.as_mut().graceful_shutdown();
        }
        loop {
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = interval.tick() => {
                    let started = activity.started.load(Ordering::Relaxed);
                    let busy = started != activity.finished.load(Ordering::Relaxed);
                    let touched = activity.touched.swap(false, Ordering::Relaxed);
                    silent_ticks = if touched || busy { 0 } else { silent_ticks + 1 };
                    waiting_ticks = if busy || started != last_started { 0 } else { waiting_ticks + 1 };
                    last_started = started;
                    // Dropping the connection closes it; no request is in flight.
                    if silent_ticks >= idle_ticks || waiting_ticks >= header_ticks {
                        return;
                    }
                }
                changed = self.stopped.changed(), if !stopping => {
                    stopping = true;
                    if changed.is_ok() {
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }
}

/// What the connection's timer looks at: whether a byte moved since its last tick, and how
/// many requests were started and finished (in flight: the difference).
#[derive(Default, Debug)]
struct Activity {
    touched: AtomicBool,
    started: AtomicU64,
    finished: AtomicU64,
}

/// A response body that keeps its request counted in flight ([`Busy`]) until the body is
/// sent whole or dropped.
struct Answering {
    body: axum::body::Body,
    _busy: Busy,
}

impl axum::body::HttpBody for Answering {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A request in flight, counted in [`Activity::busy`] until dropped (answered, or the
/// connection closed under it).
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: &Arc<Activity>) -> Busy {
        activity.started.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::Relaxed);
    }
}

/// A stream that marks [`Activity::touched`] whenever bytes move.
struct Tracked<I> {
    inner: I,
    activity: Arc<Activity>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Tracked<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touched.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Tracked<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.touched.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.touched.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[path = "connections_tests.rs"]
mod tests;
