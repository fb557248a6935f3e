//! The real health monitor: probes, decisions, notifications, failover, status API, store.

pub mod api;
pub mod config;
pub mod decide;
pub mod engine;
pub mod event;
pub mod failover;
pub mod ledger;
pub mod metrics;
pub mod notify;
pub mod probe;
pub mod runtime;
pub mod store;

pub use config::MonitorConfig;
pub use runtime::{RunningMonitor, StartError, start};
