//! The TCP listener devices are served on: each connection it accepts carries a
//! [`ConnectionControl`], so `reset` and `no_answer` rules can end it with a TCP RST.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A handle on the TCP connection a request came on, which a `reset` or `no_answer` rule uses
/// to end it without a response.
///
/// [`crate::server`] serves devices with a listener that puts one in each request's
/// extensions (as `ConnectInfo<ConnectionControl>`); once [`ConnectionControl::abort`] is
/// called, the connection's next read or write fails, its socket is set to linger 0, and
/// closing it sends a TCP RST.
#[derive(Clone, Default, Debug)]
pub struct ConnectionControl {
    aborted: Arc<AtomicBool>,
}

impl ConnectionControl {
    /// A handle for a new connection.
    pub fn new() -> ConnectionControl {
        ConnectionControl::default()
    }

    /// Asks for the connection to be reset.
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
    }

    /// True once [`ConnectionControl::abort`] was called.
    pub fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::SeqCst)
    }
}

/// A TCP listener for devices: each connection it accepts carries a [`ConnectionControl`], so
/// `reset` and `no_answer` rules can end it with a TCP RST.
#[derive(Debug)]
pub struct FaultListener {
    inner: TcpListener,
}

impl FaultListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener) -> FaultListener {
        FaultListener { inner }
    }
}

impl Listener for FaultListener {
    type Io = FaultStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (FaultStream, SocketAddr) {
        let (inner, addr) = Listener::accept(&mut self.inner).await;
        (FaultStream { inner, control: ConnectionControl::new(), lingering: false }, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Connected<IncomingStream<'_, FaultListener>> for ConnectionControl {
    fn connect_info(stream: IncomingStream<'_, FaultListener>) -> ConnectionControl {
        stream.io().control.clone()
    }
}

/// A connection accepted by a [`FaultListener`]: a TCP stream that fails every read and
/// write once its [`ConnectionControl`] is aborted, with linger 0 so that closing it sends a
/// TCP RST instead of a FIN.
#[derive(Debug)]
pub struct FaultStream {
    inner: TcpStream,
    control: ConnectionControl,
    lingering: bool,
}

impl FaultStream {
    /// The handle that `reset` and `no_answer` rules abort this connection with (for a
    /// server that wraps the stream, such as the TLS side of
    /// [`crate::connections::serve_limited`]).
    pub fn control(&self) -> &ConnectionControl {
        &self.control
    }

    /// The reset error once aborted (setting linger 0 the first time).
    fn aborted(&mut self) -> Option<io::Error> {
        if !self.control.is_aborted() {
            return None;
        }
        if !self.lingering {
            self.lingering = true;
            // Without linger 0 the close would be a FIN; a reset is what the rule asks for,
            // and a failure here still closes the connection without a response.
            let _ = self.inner.set_zero_linger();
        }
        Some(io::Error::new(io::ErrorKind::ConnectionReset, "reset by a devfault fault rule"))
    }
}

impl AsyncRead for FaultStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(error) = self.aborted() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(error) = self.aborted() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(error) = self.aborted() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(error) = self.aborted() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(error) = self.aborted() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves a device's router (wrapped by [`with_faults`](super::with_faults)) on a [`FaultListener`] until
/// `shutdown` resolves; connections in a hold end when [`Faults::release_holds`](super::Faults::release_holds) is called.
pub async fn serve_device(
    listener: FaultListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<ConnectionControl>())
        .with_graceful_shutdown(shutdown)
        .await
}
