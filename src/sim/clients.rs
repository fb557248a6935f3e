//! Synthetic customers on the `clients` host: each service gets `rate` requests per second,
//! reads and writes mixed by `write_ratio` with a seeded RNG, every outcome recorded.
//! Requests take turns among [`CUSTOMERS`] customers, each with its own kept-alive
//! connections and its own resolver cache whose
//! first answer expires at a seeded point of its TTL, so that after a DNS change customers
//! move over across one TTL, as a real population does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::Method;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::measure::{RequestKind, RequestRecord};
use crate::scenario::Traffic;
use crate::sim::dns::{Overrun, Resolver};
use crate::sim::ground::Ground;
use crate::sim::net::sim_now;
use crate::sim::pool::Pool;

/// One customer: a DNS cache and the connections it keeps open.
pub struct Customer {
    resolver: Resolver,
    connections: Pool,
}

/// How many customers (each with its own DNS cache) share the offered load.
pub const CUSTOMERS: usize = 50;

/// One service the clients call.
#[derive(Clone, Debug)]
pub struct Target {
    /// Service name (also its DNS name).
    pub service: String,
    /// Its port.
    pub port: u16,
}

/// Runs the customers until the host stops.
pub async fn run(
    targets: Vec<Target>,
    traffic: Traffic,
    overrun: Overrun,
    ground: Ground,
    seed: u64,
    write_ids: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let mut phases = ChaCha8Rng::seed_from_u64(seed ^ 0xCAC4E);
    let customers: Vec<Arc<Customer>> = (0..CUSTOMERS)
        .map(|_| {
            let resolver = Resolver::with_phase(overrun.clone(), phases.random::<f64>());
            Arc::new(Customer { resolver, connections: Pool::default() })
        })
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, target) in targets.into_iter().enumerate() {
        let (customers, ground, write_ids) = (customers.clone(), ground.clone(), write_ids.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (0xC11E + index as u64));
        let Traffic { rate, write_ratio, timeout, .. } = traffic.clone();
        tasks.spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            for turn in 0usize.. {
                ticks.tick().await;
                let customer = customers[turn % customers.len()].clone();
                let write = rng.random::<f64>() < write_ratio;
                // Ids come from a counter outside the host: unique even across a restart of it.
                let write_id = write.then(|| write_ids.fetch_add(1, Ordering::Relaxed) + 1);
                tokio::spawn(request(target.clone(), write_id, timeout, customer, ground.clone()));
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

async fn request(
    target: Target,
    write_id: Option<u64>,
    timeout: Duration,
    customer: Arc<Customer>,
    ground: Ground,
) {
    let sent = sim_now();
    let host = customer.resolver.resolve(&target.service).await;
    let ok = match &host {
        None => false,
        Some(host) => {
            let (method, path, body) = match write_id {
                Some(id) => (Method::POST, "/api/write", Some(id.to_string())),
                None => (Method::GET, "/api/read", None),
            };
            let left = timeout.saturating_sub(sim_now() - sent);
            let answer = customer.connections.call(method, host, target.port, path, body, left).await;
            matches!(answer, Some((200, _)))
        }
    };
    let kind = if write_id.is_some() { RequestKind::Write } else { RequestKind::Read };
    ground.request(RequestRecord {
        sent,
        done: sim_now(),
        service: target.service,
        kind,
        ok,
        write_id,
        host,
    });
}
