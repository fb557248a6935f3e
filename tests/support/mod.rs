//! Real HTTP components for the monitor's end-to-end tests: a recording server whose answers a
//! test controls per path, a tiny client, and a way to run the monitor against them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use gameday::diagnostic::SourceFile;
use gameday::monitor::store::IncidentStore;
use gameday::monitor::{self, MonitorConfig, RunningMonitor};
use gameday::net::TokioNet;
use gameday::time::SystemClock;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::time::Instant;

/// How the recording server answers one path.
#[derive(Clone, Debug)]
pub enum Behavior {
    /// Always this status.
    Status(u16),
    /// These statuses for the next requests, then the fallback.
    Script(Vec<u16>, u16),
    /// Never answer.
    Hang,
}

/// One request the server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub body: String,
    pub at: Instant,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Default)]
struct RecorderState {
    seen: Vec<Seen>,
    behaviors: BTreeMap<String, Behavior>,
}

/// An HTTP server on 127.0.0.1 that records every request and answers as told (200 by default).
#[derive(Clone)]
pub struct Recorder {
    pub addr: SocketAddr,
    state: Arc<Mutex<RecorderState>>,
}

impl Recorder {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(RecorderState::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = state.clone();
        let app = Router::new().fallback(move |method: Method, uri: Uri, body: Bytes| {
            let state = shared.clone();
            async move { answer(state, method, uri, body).await }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set(&self, path: &str, behavior: Behavior) {
        self.state.lock().unwrap().behaviors.insert(path.to_owned(), behavior);
    }

    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.state.lock().unwrap().seen.iter().filter(|s| s.path == path).cloned().collect()
    }

    pub fn all(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn bodies(&self, path: &str) -> Vec<Value> {
        self.seen(path).iter().map(Seen::json).collect()
    }
}

async fn answer(state: Arc<Mutex<RecorderState>>, method: Method, uri: Uri, body: Bytes) -> StatusCode {
    let path = uri.path().to_owned();
    let behavior = {
        let mut s = state.lock().unwrap();
        s.seen.push(Seen {
            method: method.to_string(),
            path: path.clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Instant::now(),
        });
        let behavior = s.behaviors.get(&path).cloned().unwrap_or(Behavior::Status(200));
        if let Behavior::Script(script, fallback) = &behavior {
            let next = script.first().copied().unwrap_or(*fallback);
            let rest = script.iter().skip(1).copied().collect();
            s.behaviors.insert(path.clone(), Behavior::Script(rest, *fallback));
            return StatusCode::from_u16(next).unwrap();
        }
        behavior
    };
    match behavior {
        Behavior::Status(code) => StatusCode::from_u16(code).unwrap(),
        Behavior::Hang => std::future::pending().await,
        Behavior::Script(..) => unreachable!("answered above"),
    }
}

/// A response from [`request`].
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP request with optional bearer token and body.
pub async fn request(
    method: &str,
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let mut builder = hyper::Request::builder().method(method).uri(path).header("host", addr.to_string());
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let req = builder.body(Full::new(Bytes::from(body.unwrap_or("").to_owned()))).unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let content_type =
        resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Reply { status, content_type, body: String::from_utf8_lossy(&body).into_owned() }
}

pub async fn get(addr: SocketAddr, path: &str) -> Reply {
    request("GET", addr, path, None, None).await
}

pub async fn post(addr: SocketAddr, path: &str, body: Option<&str>) -> Reply {
    request("POST", addr, path, None, body).await
}

/// Polls `check` every 10 ms until it returns `Some`, failing the test after `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Parses a config written in a test.
pub fn config(text: &str) -> MonitorConfig {
    MonitorConfig::parse(&SourceFile::new("test.toml", text))
        .unwrap_or_else(|e| panic!("bad test config: {e}"))
}

/// Starts the real monitor on real sockets with the API on an OS-chosen port.
pub async fn start_monitor<S: IncidentStore>(config: MonitorConfig, store: S) -> RunningMonitor {
    monitor::start(config, TokioNet, SystemClock, store).await.expect("monitor starts")
}

/// PagerDuty events received, as (event_action, dedup_key, custom_details).
pub fn pagerduty_events(receiver: &Recorder) -> Vec<(String, String, Value)> {
    receiver
        .bodies("/pagerduty")
        .into_iter()
        .map(|b| {
            (
                b["event_action"].as_str().unwrap_or_default().to_owned(),
                b["dedup_key"].as_str().unwrap_or_default().to_owned(),
                b["payload"]["custom_details"].clone(),
            )
        })
        .collect()
}

/// Slack texts received.
pub fn slack_texts(receiver: &Recorder) -> Vec<String> {
    receiver.bodies("/slack").into_iter().map(|b| b["text"].as_str().unwrap_or_default().to_owned()).collect()
}
