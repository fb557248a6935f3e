//! A validated scenario: what `scenario::parse` produces and the simulated world consumes.
//! Every value here has passed validation (DESIGN.md sections 3 and 8).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::monitor::decide::policy::EscalationLevel;

/// One scenario file, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file it came from (for reports and reproduction lines).
    pub path: PathBuf,
    /// Human name.
    pub name: String,
    /// Default seed; `--seed` overrides.
    pub seed: u64,
    /// Simulated time to run.
    pub duration: Duration,
    /// Simulation tick; network hops are quantized to it. Default 50 ms.
    pub tick: Duration,
    /// Targets to assert; each present one gets a verdict.
    pub targets: Targets,
    /// Declared regions, in file order.
    pub regions: Vec<String>,
    /// One-way latencies between pairs of regions.
    pub latency: Vec<Latency>,
    /// Services, in file order.
    pub services: Vec<Service>,
    /// The replicated database, if any.
    pub database: Option<Database>,
    /// The database's backup plan, if any (`[backups]`).
    pub backups: Option<Backups>,
    /// DNS settings.
    pub dns: Dns,
    /// Synthetic customers.
    pub traffic: Traffic,
    /// The monitor's settings.
    pub monitor: MonitorSettings,
    /// Escalation chain, level 1 first.
    pub escalation: Vec<EscalationLevel>,
    /// Responders by name (the names `escalation.notify` uses).
    pub responders: BTreeMap<String, Responder>,
    /// Faults, sorted by `at` (stable for equal times).
    pub faults: Vec<Fault>,
    /// What the scenario is meant to show: a plan that holds, or one that does not.
    pub expect: Expectation,
}

/// What a scenario is meant to show (`expect`, `expect_missed`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Expectation {
    /// Every target is met (the default).
    #[default]
    Pass,
    /// The plan does not hold: some target is missed. When `missed` names targets (by their
    /// `[targets]` key: `rto`, `rpo`, `detect`, ...), exactly those must be missed.
    Fail {
        /// The targets that must be missed; empty means any.
        missed: Vec<String>,
    },
}

/// Targets; `None` means not asserted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Targets {
    /// Fault to restored.
    pub rto: Option<Duration>,
    /// Data loss window.
    pub rpo: Option<Duration>,
    /// Fault to first alert.
    pub detect: Option<Duration>,
    /// Fault to first page.
    pub page: Option<Duration>,
    /// First page to first acknowledgement.
    pub acknowledge: Option<Duration>,
    /// Fault to failover completed.
    pub mitigate: Option<Duration>,
    /// Failover completed to restored.
    pub recover: Option<Duration>,
    /// Minimum availability over the scenario, 0..1.
    pub availability: Option<f64>,
    /// Most acknowledged writes that may be lost (0 is allowed: "lose nothing"). Unlike the
    /// RPO, it also catches split-brain writes acknowledged after the fault.
    pub lost_writes: Option<u64>,
    /// Overrides `t_fault` (default: the first fault's `at`).
    pub incident_start: Option<Duration>,
}

/// A one-way latency between two regions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latency {
    /// The two regions.
    pub between: (String, String),
    /// One-way delay.
    pub one_way: Duration,
}

/// How ready the standby is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StandbyMode {
    /// Serving at its capacity all along.
    Hot,
    /// Running, serves nothing until scaled up (takes `scale_up`).
    Warm,
    /// Not running at all until scaled up (takes `scale_up`).
    Cold,
}

/// A service placed in a region, with an optional standby in another.
#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    /// Unique name; also its DNS name.
    pub name: String,
    /// Region of the primary deployment.
    pub primary: String,
    /// Region of the standby, if any (never the primary's).
    pub standby: Option<String>,
    /// Standby readiness.
    pub standby_mode: StandbyMode,
    /// Time for a warm or cold standby to serve after the scale-up call.
    pub scale_up: Duration,
    /// Fraction of the offered load the standby can take (0..=1; load above is 503).
    pub capacity: f64,
    /// What the monitor's runbook does for this service.
    pub runbook: Runbook,
}

/// How long a service takes to come back after the `restart` runbook restarts it.
pub const RESTART_TIME: Duration = Duration::from_secs(10);

/// The remedy the monitor's runbook applies when it acts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Runbook {
    /// Promote the replica, move DNS to the standby (the default).
    #[default]
    Failover,
    /// Restart the service where it runs (for faults a restart clears, like pool exhaustion).
    Restart,
    /// Restore the database from its backups to just before the corruption (for a bad
    /// `DELETE`, which replication copies to the replica). Always an operator's call.
    Restore,
}

/// The database's backup plan: what is copied when, where the copies live, how fast they come
/// back. Every backup is anchored to the full backups: differentials count from the newest
/// full, incrementals from the newest backup of any kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Backups {
    /// Region of the object store holding every copy (3-2-1: it matters when a region fails).
    pub store: String,
    /// Size of the database, in bytes: what a full backup restores.
    pub size: u64,
    /// Data changed per second, in bytes: sizes differentials, incrementals and WAL.
    pub change_rate: f64,
    /// Restore throughput (download and apply), in bytes per second.
    pub restore_rate: f64,
    /// Time between full backups.
    pub full: Duration,
    /// Age of the newest full backup when the scenario starts.
    pub full_age: Duration,
    /// Time between differential backups (since the newest full), if taken.
    pub differential: Option<Duration>,
    /// Time between incremental backups (since the newest backup), if taken.
    pub incremental: Option<Duration>,
    /// Continuous WAL archiving: WAL shipped to the store every this long, if on.
    pub wal_archive: Option<Duration>,
    /// How long the database and its schedule have run before the scenario starts; copies
    /// older than this are gone (retention).
    pub history: Duration,
    /// Restore drills: the newest chain restored into an isolated copy every this long, if
    /// scheduled.
    pub drill: Option<Duration>,
}

/// The kinds of backup copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BackupKind {
    /// The whole database.
    Full,
    /// Everything changed since the newest full.
    Differential,
    /// Everything changed since the newest backup of any kind.
    Incremental,
}

impl BackupKind {
    /// The TOML name.
    pub fn name(self) -> &'static str {
        match self {
            BackupKind::Full => "full",
            BackupKind::Differential => "differential",
            BackupKind::Incremental => "incremental",
        }
    }
}

/// Replication mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replication {
    /// The replica receives each WAL record `lag` after commit.
    Async,
    /// Commit waits for the replica's acknowledgement.
    Sync,
}

/// The database pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Database {
    /// Region of the primary node.
    pub primary: String,
    /// Region of the replica, if any.
    pub replica: Option<String>,
    /// Async or sync.
    pub replication: Replication,
    /// Async replication lag at the start.
    pub lag: Duration,
    /// Time a promotion takes.
    pub promote_time: Duration,
    /// Whether promotion fences the old primary with a higher epoch.
    pub fencing: bool,
}

/// DNS settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dns {
    /// TTL of every record.
    pub ttl: Duration,
    /// Route 53-style health-checked failover of service records, if configured.
    pub health_check: Option<DnsHealthCheck>,
}

/// DNS health checks: the record switches to the standby after `failures` failed checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsHealthCheck {
    /// Time between checks.
    pub interval: Duration,
    /// Consecutive failures before switching.
    pub failures: u32,
}

/// Synthetic customers.
#[derive(Clone, Debug, PartialEq)]
pub struct Traffic {
    /// Requests per second, per service.
    pub rate: f64,
    /// Fraction of requests that are writes.
    pub write_ratio: f64,
    /// "Restored" means at least this success ratio ...
    pub success_threshold: f64,
    /// ... sustained over this window.
    pub window: Duration,
    /// Region the clients sit in (`None`: outside every region).
    pub region: Option<String>,
    /// Client request deadline. Default 5 s.
    pub timeout: Duration,
    /// Reads look up one existing row (a customer opening one of the orders) and fail when it
    /// is missing; otherwise reads only need the database up. Default: on when a `bad_delete`
    /// fault is scripted.
    pub read_rows: bool,
}

/// Automatic or manual failover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailoverMode {
    /// The monitor runs the steps at `failover_after`.
    Automatic,
    /// A responder triggers it `decide_after` after acknowledging.
    Manual,
}

/// The monitor's settings from `[monitor]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorSettings {
    /// Region the monitor runs in (`None`: outside every region).
    pub region: Option<String>,
    /// Probe interval.
    pub interval: Duration,
    /// Probe timeout.
    pub timeout: Duration,
    /// Failures that alert.
    pub alert_after: u32,
    /// Failures that fail over.
    pub failover_after: u32,
    /// Successes that recover. Default 1.
    pub recover_after: u32,
    /// Automatic or manual.
    pub failover: FailoverMode,
}

/// How long a responder takes to acknowledge a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AckDelay {
    /// Always this long.
    Fixed(Duration),
    /// Drawn uniformly from this range (inclusive) with the scenario's seed.
    Range(Duration, Duration),
    /// Never acknowledges.
    Never,
}

/// A simulated human on call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Responder {
    /// Time from page to acknowledgement.
    pub ack_after: AckDelay,
    /// Manual failover: time from acknowledgement to triggering failover.
    pub decide_after: Option<Duration>,
}

/// A network endpoint of a fault: a whole region or one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// Every host of a region.
    Region(String),
    /// One host (`<region>-app`, `<region>-db`, `dns`, `monitor`, `pager`, `clients`).
    Host(String),
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// Partition the region from everything, then crash its hosts.
    RegionOutage {
        /// The region.
        region: String,
    },
    /// Crash one host.
    HostCrash {
        /// The host.
        host: String,
    },
    /// Connections between the two sides fail.
    Partition {
        /// Side A.
        a: Place,
        /// Side B.
        b: Place,
        /// Only A to B.
        oneway: bool,
    },
    /// Extra one-way latency between the two sides.
    Latency {
        /// Side A.
        a: Place,
        /// Side B.
        b: Place,
        /// One-way delay.
        one_way: Duration,
    },
    /// Messages between the two sides are held, never delivered.
    Blackhole {
        /// Side A.
        a: Place,
        /// Side B.
        b: Place,
    },
    /// A service answers `status` for a fraction of requests.
    HttpErrors {
        /// The service.
        service: String,
        /// Only its deployment in this region (`None`: every deployment).
        region: Option<String>,
        /// Status to answer (default 503).
        status: u16,
        /// Fraction of requests affected, 0..=1.
        ratio: f64,
    },
    /// A service answers after an extra delay.
    SlowResponses {
        /// The service.
        service: String,
        /// Only this region's deployment.
        region: Option<String>,
        /// Extra delay.
        delay: Duration,
    },
    /// A service fails every request until restarted.
    PoolExhaustion {
        /// The service.
        service: String,
        /// Only this region's deployment.
        region: Option<String>,
    },
    /// Set (or ramp to) a replication lag.
    ReplicationLag {
        /// The new lag.
        lag: Duration,
        /// Time to reach it linearly.
        ramp: Option<Duration>,
    },
    /// Replication stops.
    ReplicationStop,
    /// Clients keep DNS answers this much past their TTL.
    DnsTtlOverrun {
        /// Extra time.
        overrun: Duration,
    },
    /// A deployment's capacity drops.
    CapacityLimit {
        /// The service.
        service: String,
        /// The region.
        region: String,
        /// New capacity fraction.
        capacity: f64,
    },
    /// A responder does not acknowledge anything.
    ResponderAbsent {
        /// The responder.
        responder: String,
    },
    /// The monitor host crashes; it restarts when `for` ends.
    MonitorCrash,
    /// A statement deletes rows it should not have: a logical corruption, committed and
    /// replicated like any write.
    BadDelete {
        /// Fraction of the rows it deletes, 0..=1.
        ratio: f64,
    },
    /// The newest backup copy of this kind existing at `at` fails verification.
    BackupCorrupt {
        /// Which kind of copy.
        backup: BackupKind,
    },
    /// WAL archiving silently stops (until `for` ends).
    ArchiveStop,
    /// Customers tell support that data is missing; support declares an incident on the
    /// service with the monitor (health checks do not see missing rows).
    UserReport {
        /// The service reported.
        service: String,
    },
}

/// A scheduled fault.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// When it starts.
    pub at: Duration,
    /// How long it lasts (`None`: until the end).
    pub duration: Option<Duration>,
    /// What it does.
    pub kind: FaultKind,
}

impl FaultKind {
    /// The TOML `kind` name.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::RegionOutage { .. } => "region_outage",
            FaultKind::HostCrash { .. } => "host_crash",
            FaultKind::Partition { .. } => "partition",
            FaultKind::Latency { .. } => "latency",
            FaultKind::Blackhole { .. } => "blackhole",
            FaultKind::HttpErrors { .. } => "http_errors",
            FaultKind::SlowResponses { .. } => "slow_responses",
            FaultKind::PoolExhaustion { .. } => "pool_exhaustion",
            FaultKind::ReplicationLag { .. } => "replication_lag",
            FaultKind::ReplicationStop => "replication_stop",
            FaultKind::DnsTtlOverrun { .. } => "dns_ttl_overrun",
            FaultKind::CapacityLimit { .. } => "capacity_limit",
            FaultKind::ResponderAbsent { .. } => "responder_absent",
            FaultKind::MonitorCrash => "monitor_crash",
            FaultKind::BadDelete { .. } => "bad_delete",
            FaultKind::BackupCorrupt { .. } => "backup_corrupt",
            FaultKind::ArchiveStop => "archive_stop",
            FaultKind::UserReport { .. } => "user_report",
        }
    }

    /// A latent fault changes nothing customers see when it happens (a corrupt copy, a
    /// stopped archiver, a report about an earlier fault): it does not start the incident
    /// (`t_fault`) and does not end a restoration window.
    pub fn is_latent(&self) -> bool {
        matches!(
            self,
            FaultKind::BackupCorrupt { .. } | FaultKind::ArchiveStop | FaultKind::UserReport { .. }
        )
    }
}
