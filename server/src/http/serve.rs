//! Accepting connections, with the time limits a server facing the internet needs.
//!
//! `axum::serve` sets no read timeouts, so a client that sends half a request line, or a body
//! one byte a minute, holds a connection (and its memory) forever. Here every connection reads
//! its request head within [`ConnectionTimeouts::header_read`] (10 s; idle keep-alive
//! connections close after the same time), and a request body that pauses longer than
//! [`ConnectionTimeouts::body_idle`] (30 s) between chunks is cut off — uploads of any size still
//! work, as long as they keep moving.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

use super::AppState;
use crate::config::ConnectionTimeouts;

/// How long stopping waits for open connections (event streams included) to finish.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Middleware: cuts off request bodies that stop moving (see the module documentation).
pub async fn body_timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let idle = state.config.timeouts.body_idle;
    let req = req.map(|body| axum::body::Body::new(TimeoutBody::new(idle, body)));
    next.run(req).await
}

/// Serves `router` on `listener` until `shutdown` resolves (the server keeps answering while
/// it runs), then lets open connections finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: ConnectionTimeouts,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers are small and latency matters (the sandbox's own sends come through here).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let service = router
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req.map(axum::body::Body::new)
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after the drain timeout; closing them");
    }
    Ok(())
}
