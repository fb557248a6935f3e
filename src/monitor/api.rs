//! The status API (axum), served over any [`Net`](crate::net::Net) listener.
//!
//! Reads and writes both go through the engine's queue; handlers hold no state of their own.

use std::io;
use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::monitor::engine::{ApiRefusal, EngineGone, EngineHandle};
use crate::monitor::event::{IncidentId, Severity};
use crate::monitor::metrics::Metrics;
use crate::net::NetListener;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    /// The engine.
    pub engine: EngineHandle,
    /// Metrics to render.
    pub metrics: Metrics,
    /// Bearer token required on POSTs, when set.
    pub token: Option<String>,
}

/// A JSON error body with its status.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

impl IntoResponse for EngineGone {
    fn into_response(self) -> Response {
        error(StatusCode::SERVICE_UNAVAILABLE, self.to_string())
    }
}

fn refusal(r: ApiRefusal) -> Response {
    match r {
        ApiRefusal::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        ApiRefusal::Conflict(m) => error(StatusCode::CONFLICT, m),
    }
}

/// The router with every endpoint.
pub fn router(state: ApiState) -> Router {
    let writes = Router::new()
        .route("/api/webhook/test", post(test_alert))
        .route("/api/incidents", post(declare))
        .route("/api/incidents/{id}/ack", post(acknowledge))
        .route("/api/incidents/{id}/resolve", post(resolve))
        .route("/api/failover/{service}", post(failover))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/api/status", get(status))
        .route("/api/status/{service}", get(service_status))
        .route("/api/incidents", get(incidents))
        .route("/api/failovers", get(failovers))
        .route("/metrics", get(metrics))
        .merge(writes)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .method_not_allowed_fallback(|method: Method| async move {
            error(StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not allowed here"))
        })
        .with_state(state)
}

/// Compares without an early exit, so response time does not reveal how much of a guess matched.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_token(
    State(state): State<ApiState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = &state.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| same_secret(g.as_bytes(), token.as_bytes())) {
            let mut response = error(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static header"));
            return response;
        }
    }
    next.run(request).await
}

async fn status(State(state): State<ApiState>) -> Result<Response, EngineGone> {
    Ok(Json(state.engine.status().await?).into_response())
}

async fn service_status(
    State(state): State<ApiState>,
    service: Result<Path<String>, PathRejection>,
) -> Result<Response, EngineGone> {
    let Ok(Path(service)) = service else {
        return Ok(error(StatusCode::BAD_REQUEST, "bad service name"));
    };
    let status = state.engine.status().await?;
    Ok(match status.services.into_iter().find(|s| s.name == service) {
        Some(s) => Json(s).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("no service named {service:?} is monitored")),
    })
}

async fn incidents(State(state): State<ApiState>) -> Result<Response, EngineGone> {
    Ok(Json(state.engine.incidents().await?).into_response())
}

async fn failovers(State(state): State<ApiState>) -> Result<Response, EngineGone> {
    Ok(Json(state.engine.failovers().await?).into_response())
}

async fn metrics(State(state): State<ApiState>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], state.metrics.render()).into_response()
}

async fn test_alert(State(state): State<ApiState>) -> Result<Response, EngineGone> {
    let channels = state.engine.test_alert().await?;
    Ok(if channels.is_empty() {
        error(StatusCode::CONFLICT, "no alert channel is configured ([alerts] slack_url or pagerduty_url)")
    } else {
        (StatusCode::ACCEPTED, Json(json!({"queued": channels, "severity": "SEV4"}))).into_response()
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    by: String,
}

fn bad_incident_id() -> Response {
    error(StatusCode::BAD_REQUEST, "incident ids are positive integers")
}

async fn acknowledge(
    State(state): State<ApiState>,
    id: Result<Path<u64>, PathRejection>,
    body: Bytes,
) -> Result<Response, EngineGone> {
    let Ok(Path(id)) = id.map(|Path(id)| Path(IncidentId(id))) else {
        return Ok(bad_incident_id());
    };
    // The body is optional: an empty POST acknowledges as "api".
    let by = if body.iter().all(u8::is_ascii_whitespace) {
        "api".to_owned()
    } else {
        match serde_json::from_slice::<AckBody>(&body) {
            Ok(b) if !b.by.trim().is_empty() => b.by,
            Ok(_) => {
                return Ok(error(StatusCode::UNPROCESSABLE_ENTITY, "\"by\" must not be empty"));
            }
            Err(e) => {
                return Ok(error(
                    StatusCode::BAD_REQUEST,
                    format!("expected {{\"by\": \"<who>\"}} or no body: {e}"),
                ));
            }
        }
    };
    Ok(match state.engine.acknowledge(id, by).await? {
        Ok(view) => Json(view).into_response(),
        Err(r) => refusal(r),
    })
}

async fn resolve(
    State(state): State<ApiState>,
    id: Result<Path<u64>, PathRejection>,
) -> Result<Response, EngineGone> {
    let Ok(Path(id)) = id.map(|Path(id)| Path(IncidentId(id))) else {
        return Ok(bad_incident_id());
    };
    Ok(match state.engine.resolve(id).await? {
        Ok(view) => Json(view).into_response(),
        Err(r) => refusal(r),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclareBody {
    service: String,
    #[serde(default = "default_declared_severity")]
    severity: Severity,
    report: String,
}

fn default_declared_severity() -> Severity {
    Severity::Sev2
}

/// Declares an incident on a person's word: what probes cannot see (missing rows, a customer
/// report). `{"service": .., "report": .., "severity": "SEV2"}`; 201 with the incident.
async fn declare(State(state): State<ApiState>, body: Bytes) -> Result<Response, EngineGone> {
    let body = match serde_json::from_slice::<DeclareBody>(&body) {
        Ok(b) if !b.report.trim().is_empty() => b,
        Ok(_) => return Ok(error(StatusCode::UNPROCESSABLE_ENTITY, "\"report\" must not be empty")),
        Err(e) => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                format!(
                    "expected {{\"service\": \"<name>\", \"report\": \"<what was seen>\", \"severity\": \"SEV1\".. \"SEV4\"}}: {e}"
                ),
            ));
        }
    };
    Ok(match state.engine.declare(body.service, body.severity, body.report).await? {
        Ok(view) => (StatusCode::CREATED, Json(view)).into_response(),
        Err(r) => refusal(r),
    })
}

async fn failover(
    State(state): State<ApiState>,
    service: Result<Path<String>, PathRejection>,
) -> Result<Response, EngineGone> {
    let Ok(Path(service)) = service else {
        return Ok(error(StatusCode::BAD_REQUEST, "bad service name"));
    };
    Ok(match state.engine.request_failover(service.clone()).await? {
        Ok(incident) => {
            let body = json!({"service": service, "incident": incident, "status": "started"});
            (StatusCode::ACCEPTED, Json(body)).into_response()
        }
        Err(r) => refusal(r),
    })
}

/// Adapts a [`NetListener`] to what `axum::serve` accepts.
pub struct ServeListener<L>(pub L);

impl<L: NetListener> axum::serve::Listener for ServeListener<L> {
    type Io = L::Stream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok(conn) => return conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}
