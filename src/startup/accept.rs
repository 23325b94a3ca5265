//! The accept loop: HTTP/1.1 connections served by hyper, each a task of one `JoinSet`
//! so that those still open at the shutdown deadline can be dropped.

use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Accepts connections until `stopping` is cancelled, then lets each finish the response
/// it is sending and waits for them all, or, once `closing` is cancelled, drops them.
/// HTTP/1.1 only: TLS and HTTP/2 are the reverse proxy's (docs/deploy.md).
pub(super) async fn run(
    listener: TcpListener,
    router: axum::Router,
    header_read_timeout: Duration,
    stopping: CancellationToken,
    closing: CancellationToken,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    // Each connection's task, so that those still open at the deadline can be dropped.
    // (A token watched by every connection would take two locks, shared by all of them,
    // on every wake of every connection.)
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most likely: wait for some to close.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopping.cancelled() => break,
        };
        // The set holds live connections only: finished ones go as new ones come.
        while connections.try_join_next().is_some() {}
        // Nagle's algorithm would hold back small SSE writes for the client's delayed ACK
        // (about 40 ms on the first token).
        let _ = tcp.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service)));
        connections.spawn(async move {
            // A client that hangs up mid-request, or sends garbage, is its own business.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    // No new connections: the port is closed now, not when the process exits.
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = closing.cancelled() => {}
    }
    // Past the deadline, what is still open is dropped, and what it was sending with it.
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}
