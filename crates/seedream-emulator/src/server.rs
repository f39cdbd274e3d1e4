//! The accept loop, one task per connection (TLS handshake, then HTTP/1.1 or HTTP/2 by hyper-util's
//! auto builder), and the bookkeeping that lets shutdown join every task it started.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;

use crate::service;
use crate::state::{OpenConnection, State};
use crate::{EmulatorConfig, SharedState, tls};

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `task`, but gives up `grace` after shutdown starts.
async fn bounded<F: Future>(task: F, mut shutdown: watch::Receiver<bool>, grace: Duration) {
    tokio::select! {
        _ = task => {}
        () = async {
            let _ = shutdown.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        } => {}
    }
}

/// Hyper's executor (for HTTP/2 streams): tracked, and bounded by shutdown.
#[derive(Clone)]
struct TrackedExecutor {
    state: SharedState,
}

impl<F> hyper::rt::Executor<F> for TrackedExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        let shutdown = self.state.shutdown_signal();
        let grace = self.state.config.shutdown_grace;
        self.state.tracker.spawn(bounded(future, shutdown, grace));
    }
}

/// The server behind an [`EmulatorHandle`](crate::EmulatorHandle).
pub(crate) struct Server {
    state: SharedState,
    certificate_pem: Option<String>,
}

pub(crate) async fn start(config: EmulatorConfig) -> io::Result<crate::EmulatorHandle> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?;
    let addr = listener.local_addr()?;
    let (acceptor, certificate_pem) = if config.tls {
        let (server_config, pem) = tls::self_signed()?;
        (Some(TlsAcceptor::from(server_config)), Some(pem))
    } else {
        (None, None)
    };
    let state = Arc::new(State::new(config, addr)?);
    state.tracker.spawn(accept_loop(state.clone(), listener, acceptor));
    Ok(crate::EmulatorHandle { server: Server { state, certificate_pem } })
}

impl Server {
    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn tls(&self) -> bool {
        self.certificate_pem.is_some()
    }

    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    pub async fn shutdown(self) {
        self.state.begin_shutdown();
        self.state.tracker.wait_idle().await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Without `shutdown()`, the tasks still stop; nobody waits for them.
        self.state.begin_shutdown();
    }
}

async fn accept_loop(state: SharedState, listener: TcpListener, acceptor: Option<TlsAcceptor>) {
    let mut shutdown = state.shutdown_signal();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        };
        match accepted {
            Ok((stream, _peer)) => {
                let open = state.open_connection();
                state.tracker.spawn(connection(state.clone(), stream, acceptor.clone(), open));
            }
            // Out of file descriptors and the like: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

async fn connection(state: SharedState, stream: TcpStream, acceptor: Option<TlsAcceptor>, _open: OpenConnection) {
    let _ = stream.set_nodelay(true);
    match acceptor {
        None => serve(state, stream).await,
        Some(acceptor) => {
            let mut shutdown = state.shutdown_signal();
            let handshake = tokio::select! {
                done = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => done,
                _ = shutdown.wait_for(|stopping| *stopping) => return,
            };
            if let Ok(Ok(tls_stream)) = handshake {
                serve(state, tls_stream).await;
            }
        }
    }
}

async fn serve<I>(state: SharedState, io: I)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TrackedExecutor { state: state.clone() });
    builder.http1().timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(30));
    builder.http2().timer(TokioTimer::new());
    let handler = state.clone();
    // `stale_keep_alive`: whether this connection has answered, and the signal to drop it unanswered.
    let answered = Arc::new(AtomicBool::new(false));
    let drop_it = Arc::new(Notify::new());
    let (answered_here, drop_here) = (answered.clone(), drop_it.clone());
    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let state = handler.clone();
        let reused = answered_here.swap(true, Ordering::SeqCst);
        let stale = reused
            && state.config.stale_keep_alive
            && request.method() == hyper::Method::GET
            && request.uri().path().starts_with(crate::state::FILES);
        let drop_it = drop_here.clone();
        async move {
            if stale {
                state.stale_closes.fetch_add(1, Ordering::Relaxed);
                drop_it.notify_one();
                std::future::pending::<()>().await;
            }
            Ok::<_, Infallible>(service::handle(state, request).await)
        }
    });
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut shutdown = state.shutdown_signal();
    tokio::select! {
        _ = connection.as_mut() => return,
        () = drop_it.notified() => return,
        _ = shutdown.wait_for(|stopping| *stopping) => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(state.config.shutdown_grace, connection).await;
}
