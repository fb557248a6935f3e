//! The replicated database: a primary and an optional replica, each on its own `<region>-db`
//! host. A WAL with LSNs, async replication with a lag that faults can set, ramp or stop, sync
//! replication (commit waits for the replica), promotion taking `promote_time`, and fencing
//! epochs. Node state lives outside the hosts (it is their disk) and survives crashes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use hyper::Method;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Notify;

use crate::measure::WorldEventKind;
use crate::net::Net;
use crate::scenario::{Backups, Fault, Replication};
use crate::sim::ground::Ground;
use crate::sim::net::{SimNet, sim_now};
use crate::sim::rows::{Op, Rows, WalEntry};
use crate::sim::serve::{call, serve};

/// Client and admin API port.
pub const PORT: u16 = 5432;
/// Replication stream port.
pub const REPLICATION_PORT: u16 = 5433;

mod restore;

/// A node's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Accepts writes (unless fenced).
    Primary,
    /// Applies the replication stream.
    Replica,
    /// Becoming primary; accepts nothing.
    Promoting,
    /// Being restored from backups; accepts nothing.
    Restoring,
}

/// One database node's durable state.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its role.
    pub role: Role,
    /// The highest epoch it knows.
    pub epoch: u64,
    /// Fenced: a higher epoch exists; it refuses writes.
    pub fenced: bool,
    /// Its data: WAL, history rows, deletions.
    pub rows: Rows,
}

/// The replication lag over time: constant, or ramping linearly between two values.
#[derive(Clone, Copy, Debug)]
pub struct Lag {
    from: Duration,
    to: Duration,
    start: Duration,
    end: Duration,
}

impl Lag {
    /// A constant lag.
    pub fn constant(lag: Duration) -> Self {
        Self { from: lag, to: lag, start: Duration::ZERO, end: Duration::ZERO }
    }

    /// The lag at `t`.
    pub fn at(&self, t: Duration) -> Duration {
        if t >= self.end || self.end <= self.start {
            return self.to;
        }
        if t <= self.start {
            return self.from;
        }
        let f = (t - self.start).as_secs_f64() / (self.end - self.start).as_secs_f64();
        let (a, b) = (self.from.as_secs_f64(), self.to.as_secs_f64());
        Duration::from_secs_f64(a + (b - a) * f)
    }

    /// A ramp from the lag at `now` to `to`, reached after `ramp`.
    pub fn ramp(&self, now: Duration, to: Duration, ramp: Duration) -> Self {
        Self { from: self.at(now), to, start: now, end: now + ramp }
    }
}

/// Everything about the database pair.
#[derive(Debug)]
pub struct Cluster {
    /// Nodes by host name.
    pub nodes: BTreeMap<String, Node>,
    /// Primary host at the start.
    pub primary: String,
    /// Replica host, if any.
    pub replica: Option<String>,
    /// Async or sync.
    pub mode: Replication,
    /// Current lag setting.
    pub lag: Lag,
    /// Replication paused by a fault.
    pub stopped: bool,
    /// Highest LSN the replica has acknowledged.
    pub acked: u64,
    /// Promotion duration.
    pub promote_time: Duration,
    /// Whether promotion fences the old primary.
    pub fencing: bool,
    /// Bumped when a restore replaces the data: replication streams restart from scratch.
    pub generation: u64,
    /// The backup plan and where the copies go, when there is one.
    pub backups: Option<BackupSetup>,
    /// WAL archiving stopped by a fault.
    pub archive_stopped: bool,
}

/// The backup plan as the database nodes need it.
#[derive(Clone, Debug)]
pub struct BackupSetup {
    /// The plan.
    pub plan: Backups,
    /// The object-store host.
    pub store: String,
    /// The scenario's faults (which copies are written corrupt).
    pub faults: Vec<Fault>,
    /// When the scenario ends (no backups are scheduled past it).
    pub end: Duration,
}

/// Shared handle to the cluster, plus a wake-up for replication and sync commits.
#[derive(Clone, Debug)]
pub struct SharedCluster {
    inner: Arc<Mutex<Cluster>>,
    changed: Arc<Notify>,
}

impl SharedCluster {
    /// A new cluster.
    pub fn new(cluster: Cluster) -> Self {
        Self { inner: Arc::new(Mutex::new(cluster)), changed: Arc::new(Notify::new()) }
    }

    /// Runs `f` on the cluster and wakes whoever waits for a change (replication, sync commits).
    pub fn with<T>(&self, f: impl FnOnce(&mut Cluster) -> T) -> T {
        let out = self.peek(f);
        self.changed.notify_waiters();
        out
    }

    /// Runs `f` on the cluster without waking anyone: for reads inside wait loops, where a
    /// wake-up of one's own would spin.
    pub fn peek<T>(&self, f: impl FnOnce(&mut Cluster) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The node that serves at the end (the unfenced primary with the highest epoch) and its
    /// data.
    pub fn serving(&self) -> Option<(String, Rows)> {
        self.peek(|c| c.serving().map(|(h, n)| (h.clone(), n.rows.clone())))
    }
}

impl Cluster {
    /// The unfenced primary with the highest epoch.
    pub fn serving(&self) -> Option<(&String, &Node)> {
        self.nodes.iter().filter(|(_, n)| n.role == Role::Primary && !n.fenced).max_by_key(|(_, n)| n.epoch)
    }

    /// The serving node, to change.
    pub fn serving_mut(&mut self) -> Option<&mut Node> {
        let host = self.serving()?.0.clone();
        self.nodes.get_mut(&host)
    }
}

#[derive(Clone)]
pub(crate) struct DbState {
    pub(crate) host: String,
    pub(crate) cluster: SharedCluster,
    pub(crate) ground: Ground,
}

/// Runs one database node on the current host: its API, and the replication stream in the
/// role it has.
pub async fn run_node(host: String, cluster: SharedCluster, ground: Ground) -> std::io::Result<()> {
    let state = DbState { host: host.clone(), cluster: cluster.clone(), ground: ground.clone() };
    tokio::spawn(replication_receiver(state.clone()));
    tokio::spawn(replication_sender(state.clone()));
    if cluster.peek(|c| c.backups.is_some()) {
        tokio::spawn(restore::backup_agent(state.clone()));
        tokio::spawn(restore::wal_archiver(state.clone()));
    }
    let router = Router::new()
        .route("/health", get(health))
        .route("/read", get(read))
        .route("/write", post(write))
        .route("/admin/promote", post(promote))
        .route("/admin/fence", post(fence))
        .route("/admin/restore", post(restore::restore))
        .with_state(state);
    serve(PORT, router).await
}

fn serving(s: &DbState) -> bool {
    s.cluster.peek(|c| c.nodes.get(&s.host).is_some_and(|n| n.role == Role::Primary && !n.fenced))
}

async fn health(State(s): State<DbState>) -> StatusCode {
    if serving(&s) { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }
}

/// A read: with a row id in the body, 404 when this node does not hold that row.
async fn read(State(s): State<DbState>, body: String) -> StatusCode {
    let row = body.trim();
    if row.is_empty() {
        return health(State(s)).await;
    }
    let Ok(row) = row.parse::<u64>() else { return StatusCode::BAD_REQUEST };
    let held = s.cluster.peek(|c| {
        c.nodes.get(&s.host).filter(|n| n.role == Role::Primary && !n.fenced).map(|n| n.rows.holds(row))
    });
    match held {
        None => StatusCode::SERVICE_UNAVAILABLE,
        Some(true) => StatusCode::OK,
        Some(false) => StatusCode::NOT_FOUND,
    }
}

async fn write(State(s): State<DbState>, body: String) -> StatusCode {
    let Ok(write_id) = body.trim().parse::<u64>() else { return StatusCode::BAD_REQUEST };
    let committed = s.cluster.with(|c| {
        // A promoted replica has nobody left to wait for: it commits on its own.
        let sync = c.mode == Replication::Sync && c.replica.as_ref().is_some_and(|r| *r != s.host);
        let node = c.nodes.get_mut(&s.host).filter(|n| n.role == Role::Primary && !n.fenced)?;
        let lsn = node.rows.push(Op::Write(write_id), sim_now());
        Some((lsn, sync))
    });
    let Some((lsn, sync)) = committed else { return StatusCode::SERVICE_UNAVAILABLE };
    if sync {
        // Commit waits for the replica; without it the client gets no acknowledgement.
        let acked = tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                let notified = s.cluster.changed.notified();
                if s.cluster.peek(|c| c.acked >= lsn) {
                    return;
                }
                notified.await;
            }
        })
        .await;
        if acked.is_err() {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    StatusCode::OK
}

/// Promotes this replica: with fencing, the old primary is told the new epoch first (so it
/// stops acknowledging writes while the replica catches up on what was already shipped); then
/// promotion takes `promote_time`. Idempotent: a second call waits for the same promotion.
async fn promote(State(s): State<DbState>) -> StatusCode {
    let role = s.cluster.peek(|c| c.nodes.get(&s.host).map(|n| n.role));
    match role {
        Some(Role::Primary) => return StatusCode::OK,
        Some(Role::Promoting) => return wait_until_primary(&s).await,
        Some(Role::Restoring) => return StatusCode::CONFLICT,
        Some(Role::Replica) => {}
        None => return StatusCode::NOT_FOUND,
    }
    let (promote_time, epoch, old, fencing) = s.cluster.with(|c| {
        let old =
            c.nodes.iter().find(|(h, n)| **h != s.host && n.role == Role::Primary).map(|(h, _)| h.clone());
        let node = c.nodes.get_mut(&s.host).expect("the node exists");
        node.role = Role::Promoting;
        (c.promote_time, node.epoch + 1, old, c.fencing)
    });
    let source = format!("db:{}", s.host);
    s.ground.event(source.clone(), WorldEventKind::RunbookStarted, format!("promotion of {} begins", s.host));
    if let (true, Some(old)) = (fencing, old) {
        tokio::spawn(fence_until_acknowledged(old, epoch));
    }
    tokio::time::sleep(promote_time).await;
    s.cluster.with(|c| {
        let node = c.nodes.get_mut(&s.host).expect("the node exists");
        node.role = Role::Primary;
        node.epoch = epoch;
    });
    s.ground.event(source, WorldEventKind::Promoted, format!("{} is primary at epoch {epoch}", s.host));
    StatusCode::OK
}

async fn wait_until_primary(s: &DbState) -> StatusCode {
    loop {
        let notified = s.cluster.changed.notified();
        if s.cluster.peek(|c| c.nodes.get(&s.host).is_some_and(|n| n.role == Role::Primary)) {
            return StatusCode::OK;
        }
        notified.await;
    }
}

/// Tells the old primary about the new epoch, retrying until it hears it (it may be
/// partitioned away; until it learns, it can accept split-brain writes).
async fn fence_until_acknowledged(old: String, epoch: u64) {
    loop {
        let answer =
            call(Method::POST, &old, PORT, "/admin/fence", Some(epoch.to_string()), Duration::from_secs(2))
                .await;
        if matches!(answer, Some((200, _))) {
            return;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

async fn fence(State(s): State<DbState>, body: String) -> StatusCode {
    let Ok(epoch) = body.trim().parse::<u64>() else { return StatusCode::BAD_REQUEST };
    let newly = s.cluster.with(|c| {
        let node = c.nodes.get_mut(&s.host)?;
        (epoch > node.epoch && !node.fenced).then(|| {
            node.fenced = true;
            node.epoch = epoch;
        })
    });
    if newly.is_some() {
        s.ground.event(
            format!("db:{}", s.host),
            WorldEventKind::Fenced,
            format!("{} fenced by epoch {epoch}", s.host),
        );
    }
    StatusCode::OK
}

/// Replica side: applies records in LSN order while it is a replica, acknowledging each.
async fn replication_receiver(s: DbState) -> std::io::Result<()> {
    let mut listener = SimNet.bind(([0, 0, 0, 0], REPLICATION_PORT).into()).await?;
    loop {
        let (stream, _) = crate::net::NetListener::accept(&mut listener).await?;
        let s = s.clone();
        tokio::spawn(async move {
            let (read, mut write) = tokio::io::split(stream);
            let last = s.cluster.peek(|c| c.nodes.get(&s.host).map_or(0, |n| n.rows.wal().len() as u64));
            write.write_all(format!("{last}\n").as_bytes()).await?;
            let mut lines = BufReader::new(read).lines();
            while let Some(line) = lines.next_line().await? {
                let Some(entry) = WalEntry::from_line(&line) else { break };
                let applied = s.cluster.with(|c| {
                    // A promoting replica still applies what the old primary shipped before it was fenced.
                    let node = c
                        .nodes
                        .get_mut(&s.host)
                        .filter(|n| matches!(n.role, Role::Replica | Role::Promoting))?;
                    if entry.lsn == node.rows.next_lsn() {
                        node.rows.push(entry.op, entry.committed);
                    }
                    Some(node.rows.wal().len() as u64)
                });
                let Some(applied) = applied else { break };
                write.write_all(format!("{applied}\n").as_bytes()).await?;
            }
            Ok::<(), std::io::Error>(())
        });
    }
}

/// Primary side: ships each record to the replica once it is due (commit time + lag),
/// reconnecting and resuming from the replica's last LSN after any break.
async fn replication_sender(s: DbState) {
    loop {
        let target = s.cluster.peek(|c| {
            let me = c.nodes.get(&s.host)?;
            // A fenced primary still ships what it committed before the fence: the promoting
            // replica applies it until promotion completes.
            (me.role == Role::Primary).then(|| c.replica.clone()).flatten().filter(|r| *r != s.host)
        });
        let Some(replica) = target else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        // A broken stream (crash, partition) is simply retried; the replica says where to resume.
        let _ = ship(&s, &replica).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn ship(s: &DbState, replica: &str) -> std::io::Result<()> {
    let stream = tokio::time::timeout(Duration::from_secs(2), SimNet.connect(replica, REPLICATION_PORT))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let (read, mut write) = tokio::io::split(stream);
    let mut acks = BufReader::new(read).lines();
    let first = acks.next_line().await?.ok_or(std::io::ErrorKind::UnexpectedEof)?;
    let mut next = first.trim().parse::<u64>().map_err(|_| std::io::ErrorKind::InvalidData)? + 1;
    let generation = s.cluster.peek(|c| c.generation);
    // Acknowledgements are read on their own task so a slow replica never blocks shipping.
    let cluster = s.cluster.clone();
    let reader = tokio::spawn(async move {
        while let Ok(Some(line)) = acks.next_line().await {
            if let Ok(lsn) = line.trim().parse::<u64>() {
                cluster.with(|c| c.acked = c.acked.max(lsn));
            }
        }
    });
    let result = async {
        loop {
            let notified = s.cluster.changed.notified();
            let (entry, due, still_primary) = s.cluster.peek(|c| {
                let me = c.nodes.get(&s.host);
                // A restore replaced the data: this stream's positions mean nothing any more.
                let still = me.is_some_and(|n| n.role == Role::Primary) && c.generation == generation;
                let entry = me
                    .and_then(|n| n.rows.wal().get(usize::try_from(next - 1).unwrap_or(usize::MAX)).copied());
                let due = entry.map(|e| {
                    if c.stopped {
                        None
                    } else if c.mode == Replication::Sync {
                        Some(e.committed)
                    } else {
                        Some(e.committed + c.lag.at(e.committed))
                    }
                });
                (entry, due, still)
            });
            if !still_primary {
                return Ok(());
            }
            match (entry, due.flatten()) {
                (Some(e), Some(due)) => {
                    let now = sim_now();
                    if due > now {
                        tokio::select! {
                            biased;
                            () = tokio::time::sleep(due - now) => {}
                            () = notified => {}
                        }
                        continue;
                    }
                    write.write_all(e.to_line().as_bytes()).await?;
                    next += 1;
                }
                // Nothing to ship yet, or shipping is stopped: wait for a change (or a while,
                // since lag ramps change due times without a notification).
                _ => {
                    tokio::select! {
                        biased;
                        () = notified => {}
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
    }
    .await;
    reader.abort();
    result
}
