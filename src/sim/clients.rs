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
use crate::sim::rows::{HISTORY_ROW, History};

/// The rows customers know exist (history rows, and every write they saw acknowledged), to
/// look one up on a read. Outside the `clients` host, so a restart of it forgets nothing.
#[derive(Clone, Debug, Default)]
pub struct KnownRows {
    history: u64,
    written: Arc<std::sync::Mutex<Vec<u64>>>,
}

impl KnownRows {
    /// Knows the rows of `history`, and nothing written yet.
    pub fn new(history: Option<History>) -> Self {
        KnownRows { history: history.map_or(0, |h| h.rows()), written: Arc::default() }
    }

    fn remember(&self, id: u64) {
        self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(id);
    }

    /// A row drawn uniformly among every row known to exist; `None` before any exists.
    fn pick(&self, rng: &mut ChaCha8Rng) -> Option<u64> {
        let written = self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let total = self.history + written.len() as u64;
        if total == 0 {
            return None;
        }
        let r = rng.random_range(0..total);
        Some(if r < self.history {
            HISTORY_ROW | r
        } else {
            written[usize::try_from(r - self.history).ok()?]
        })
    }
}

/// Where customers' ids come from.
pub struct Ids {
    /// The write-id counter (outside the host, so ids stay unique across a restart of it).
    pub writes: Arc<AtomicU64>,
    /// The rows they know, for reads that look one up.
    pub rows: KnownRows,
}

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
    ids: Ids,
) -> std::io::Result<()> {
    let Ids { writes: write_ids, rows } = ids;
    let mut phases = ChaCha8Rng::seed_from_u64(seed ^ 0xCAC4E);
    let customers: Vec<Arc<Customer>> = (0..CUSTOMERS)
        .map(|_| {
            let resolver = Resolver::with_phase(overrun.clone(), phases.random::<f64>());
            Arc::new(Customer { resolver, connections: Pool::default() })
        })
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, target) in targets.into_iter().enumerate() {
        let (customers, ground, write_ids, rows) =
            (customers.clone(), ground.clone(), write_ids.clone(), rows.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (0xC11E + index as u64));
        // Row choices draw from their own stream, so they leave every other draw as it was.
        let mut row_rng = ChaCha8Rng::seed_from_u64(seed ^ (0x20A5 + index as u64));
        let Traffic { rate, write_ratio, timeout, read_rows, .. } = traffic.clone();
        tasks.spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            for turn in 0usize.. {
                ticks.tick().await;
                let customer = customers[turn % customers.len()].clone();
                let write = rng.random::<f64>() < write_ratio;
                // Ids come from a counter outside the host: unique even across a restart of it.
                let write_id = write.then(|| write_ids.fetch_add(1, Ordering::Relaxed) + 1);
                let op = match write_id {
                    Some(id) => Op::Write(id),
                    None if read_rows => Op::Read(rows.pick(&mut row_rng)),
                    None => Op::Read(None),
                };
                let remember = read_rows.then(|| rows.clone());
                tokio::spawn(request(target.clone(), op, timeout, customer, ground.clone(), remember));
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// What one request does.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// Write a new row with this id.
    Write(u64),
    /// Read, looking up this row when given.
    Read(Option<u64>),
}

async fn request(
    target: Target,
    op: Op,
    timeout: Duration,
    customer: Arc<Customer>,
    ground: Ground,
    remember: Option<KnownRows>,
) {
    let sent = sim_now();
    let host = customer.resolver.resolve(&target.service).await;
    let write_id = match op {
        Op::Write(id) => Some(id),
        Op::Read(_) => None,
    };
    let ok = match &host {
        None => false,
        Some(host) => {
            let (method, path, body) = match op {
                Op::Write(id) => (Method::POST, "/api/write", Some(id.to_string())),
                Op::Read(row) => (Method::GET, "/api/read", row.map(|r| r.to_string())),
            };
            let left = timeout.saturating_sub(sim_now() - sent);
            let answer = customer.connections.call(method, host, target.port, path, body, left).await;
            matches!(answer, Some((200, _)))
        }
    };
    if let (true, Some(id), Some(rows)) = (ok, write_id, &remember) {
        rows.remember(id);
    }
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
