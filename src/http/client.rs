//! One HTTP/1 request over a fresh connection from the [`Net`] seam, under one deadline.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Method;
use hyper::header::{CONTENT_TYPE, HOST, RETRY_AFTER, USER_AGENT};
use hyper_util::rt::TokioIo;
use thiserror::Error;

use crate::http::Endpoint;
use crate::net::Net;

/// Responses larger than this are cut off as an error: a health check or webhook answer has no
/// business being bigger, and an unbounded read is a way for a broken peer to hurt the monitor.
const MAX_BODY: usize = 64 * 1024;

/// What came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body, at most 64 KiB.
    pub body: Bytes,
    /// `Retry-After` in seconds, when present and numeric.
    pub retry_after: Option<Duration>,
}

/// Why no response came back.
#[derive(Debug, Error)]
pub enum HttpError {
    /// The deadline passed before the whole response arrived.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The peer refused the connection.
    #[error("connection refused")]
    Refused,
    /// Connecting failed for another reason.
    #[error("connect failed: {0}")]
    Connect(io::Error),
    /// The connection broke or the peer spoke bad HTTP.
    #[error("{0}")]
    Protocol(String),
}

/// Sends one request to `endpoint` and reads the whole response, all within `deadline`.
///
/// A new connection per request: probes must see what a new client would see, and webhook
/// deliveries are rare enough that pooling buys nothing.
pub async fn send<N: Net>(
    net: &N,
    method: Method,
    endpoint: &Endpoint,
    body: Option<(&'static str, Bytes)>,
    deadline: Duration,
) -> Result<Response, HttpError> {
    tokio::time::timeout(deadline, exchange(net, method, endpoint, body, deadline))
        .await
        .unwrap_or(Err(HttpError::Timeout(deadline)))
}

async fn exchange<N: Net>(
    net: &N,
    method: Method,
    endpoint: &Endpoint,
    body: Option<(&'static str, Bytes)>,
    deadline: Duration,
) -> Result<Response, HttpError> {
    let stream = net.connect(&endpoint.host, endpoint.port).await.map_err(|e| {
        if e.kind() == io::ErrorKind::ConnectionRefused { HttpError::Refused } else { HttpError::Connect(e) }
    })?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| HttpError::Protocol(format!("handshake failed: {e}")))?;
    // The connection task ends when the response is read and `sender` dropped; the timeout
    // bounds it when a peer stalls after the caller has given up.
    tokio::spawn(async move {
        let _ = tokio::time::timeout(deadline, conn).await;
    });

    let mut request = hyper::Request::builder()
        .method(method)
        .uri(endpoint.path.as_str())
        .header(HOST, endpoint.authority())
        .header(USER_AGENT, concat!("gameday/", env!("CARGO_PKG_VERSION")));
    let payload = match body {
        Some((content_type, bytes)) => {
            request = request.header(CONTENT_TYPE, content_type);
            bytes
        }
        None => Bytes::new(),
    };
    let request =
        request.body(Full::new(payload)).map_err(|e| HttpError::Protocol(format!("bad request: {e}")))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| HttpError::Protocol(format!("request failed: {e}")))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| HttpError::Protocol(format!("reading the body failed: {e}")))?
        .to_bytes();
    Ok(Response { status, body, retry_after })
}
