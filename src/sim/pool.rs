//! Kept-alive HTTP/1 connections for the world's own high-volume traffic (customers to apps,
//! apps to databases), as real clients and connection pools keep them. A connection that
//! fails or times out is dropped, never reused.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use crate::net::Net;
use crate::sim::net::SimNet;

type Sender = SendRequest<Full<Bytes>>;

/// Idle connections by `(host, port)`.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<BTreeMap<(String, u16), Vec<Sender>>>,
}

impl Pool {
    fn take(&self, key: &(String, u16)) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let senders = idle.get_mut(key)?;
        while let Some(sender) = senders.pop() {
            if sender.is_ready() {
                return Some(sender);
            }
        }
        None
    }

    fn give_back(&self, key: (String, u16), sender: Sender) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).entry(key).or_default().push(sender);
    }

    /// One request over a kept-alive connection (a new one when none is idle), all within
    /// `deadline`; `Some(status, body)` when an answer came in time.
    pub async fn call(
        &self,
        method: Method,
        host: &str,
        port: u16,
        path: &str,
        body: Option<String>,
        deadline: Duration,
    ) -> Option<(u16, Bytes)> {
        let key = (host.to_owned(), port);
        let exchange = async {
            let mut sender = match self.take(&key) {
                Some(sender) => sender,
                None => {
                    let stream = SimNet.connect(host, port).await.ok()?;
                    let (sender, conn) =
                        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
                    tokio::spawn(conn);
                    sender
                }
            };
            let request = hyper::Request::builder()
                .method(method)
                .uri(path)
                .header(hyper::header::HOST, host)
                .body(Full::new(body.map(Bytes::from).unwrap_or_default()))
                .ok()?;
            let response = sender.send_request(request).await.ok()?;
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.ok()?.to_bytes();
            self.give_back(key.clone(), sender);
            Some((status, bytes))
        };
        tokio::time::timeout(deadline, exchange).await.ok().flatten()
    }
}
