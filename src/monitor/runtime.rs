//! Wiring: the engine, one probe task per service, the notifier workers and the status API,
//! started together and stopped in an order that loses nothing.

use std::net::SocketAddr;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::monitor::api::{ApiState, ServeListener, router};
use crate::monitor::config::MonitorConfig;
use crate::monitor::engine::Engine;
use crate::monitor::metrics::Metrics;
use crate::monitor::notify::Notifier;
use crate::monitor::probe::run_probe_loop;
use crate::monitor::store::IncidentStore;
use crate::net::{Net, NetListener};
use crate::time::Clock;

/// How long a shutdown waits for queued notifications to go out.
const DRAIN: Duration = Duration::from_secs(5);

/// Why the monitor could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// The incident store could not be read.
    #[error("cannot read the incident store: {0}")]
    Store(std::io::Error),
    /// The status API could not listen.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}

/// A monitor that is running.
pub struct RunningMonitor {
    api_addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningMonitor {
    /// Where the status API actually listens (after binding port 0, the chosen port).
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// Stops probing, finishes the API's in-flight requests, then gives queued notifications
    /// up to five seconds to go out before returning.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Starts the monitor: restores history from `store`, binds the API, starts probing.
pub async fn start<N: Net, C: Clock, S: IncidentStore>(
    config: MonitorConfig,
    net: N,
    clock: C,
    store: S,
) -> Result<RunningMonitor, StartError> {
    let metrics = Metrics::new();
    let mut notifier_workers = JoinSet::new();
    let notifier = Notifier::start(&net, &config.alerts, &metrics, &mut notifier_workers);
    let engine = Engine::restore(&config, store, clock.clone(), net.clone(), notifier, metrics.clone())
        .map_err(StartError::Store)?;
    let listener = net.bind(config.api.listen).await.map_err(|e| StartError::Bind(config.api.listen, e))?;
    let api_addr = listener.local_addr().map_err(|e| StartError::Bind(config.api.listen, e))?;

    let handle = engine.handle();
    let engine_task = tokio::spawn(engine.run());
    let mut probes = JoinSet::new();
    for service in &config.services {
        probes.spawn(run_probe_loop(
            net.clone(),
            clock.clone(),
            service.clone(),
            metrics.clone(),
            handle.clone(),
        ));
    }
    let state = ApiState { engine: handle, metrics, token: config.api.token.clone() };
    let (stop, stopped) = oneshot::channel::<()>();
    let (api_stop, api_stopped) = oneshot::channel::<()>();
    let api = tokio::spawn(async move {
        let serve = axum::serve(ServeListener(listener), router(state)).with_graceful_shutdown(async move {
            let _ = api_stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "status API stopped");
        }
    });
    tracing::info!(%api_addr, services = config.services.len(), "monitor started");

    let task = tokio::spawn(async move {
        let _ = stopped.await;
        probes.abort_all();
        let _ = api_stop.send(());
        let _ = tokio::time::timeout(DRAIN, api).await;
        // Dropping the engine drops the notifier's queues; the workers then drain and end.
        engine_task.abort();
        let _ = engine_task.await;
        let drained = async { while notifier_workers.join_next().await.is_some() {} };
        if tokio::time::timeout(DRAIN, drained).await.is_err() {
            tracing::warn!("notifications still queued at shutdown were not delivered");
        }
        tracing::info!("monitor stopped");
    });
    Ok(RunningMonitor { api_addr, stop, task })
}
