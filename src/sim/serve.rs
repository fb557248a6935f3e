//! Serving an axum router on a port of a simulated host, and calling one.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use hyper::Method;

use crate::http::{self, Endpoint};
use crate::monitor::api::ServeListener;
use crate::net::Net;
use crate::sim::net::SimNet;

/// Serves `router` on `port` of the current host until the host stops.
pub async fn serve(port: u16, router: Router) -> std::io::Result<()> {
    let listener = SimNet.bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).await?;
    axum::serve(ServeListener(listener), router).await
}

/// One request from the current host; `Some(status, body)` when an answer came in time.
pub async fn call(
    method: Method,
    host: &str,
    port: u16,
    path: &str,
    body: Option<String>,
    deadline: Duration,
) -> Option<(u16, Bytes)> {
    let endpoint = Endpoint { host: host.to_owned(), port, path: path.to_owned() };
    let body = body.map(|b| ("text/plain", Bytes::from(b)));
    http::send(&SimNet, method, &endpoint, body, deadline).await.ok().map(|r| (r.status, r.body))
}
