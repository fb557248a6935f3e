//! The command line: raw flags parsed by clap, then dispatched to one command each.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check;
use crate::diagnostic::LoadError;
use crate::exit;
use crate::monitor::store::JsonlStore;
use crate::monitor::{self, MonitorConfig};
use crate::net::TokioNet;
use crate::scenario::Scenario;
use crate::sweep::jitter::Jitter;
use crate::time::SystemClock;

/// gameday: does your failover plan hold before 3 a.m. comes?
#[derive(Debug, Parser)]
#[command(name = "gameday", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// Report format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The human report.
    #[default]
    Text,
    /// The same, machine-readable.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every scenario under the given files or folders on all cores and judge each against
    /// what it is meant to show (exit 1 when one does not, 3 for invalid files, 4 for none).
    Check {
        /// Scenario files or folders (searched for `*.toml`).
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Also write a JUnit XML report here.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Scenarios run at once (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Also write each scenario's SVG timeline and postmortem draft into this folder.
        #[arg(long, value_name = "DIR")]
        reports: Option<PathBuf>,
        /// Run only slice K of N of the scenario files (for a CI matrix).
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
    },
    /// Run one scenario under many seeds on all cores and print the spread of RTO, RPO, lost
    /// writes and each phase (exit 1 when any seed misses a target).
    Sweep {
        /// The scenario file.
        file: PathBuf,
        /// `N` for seeds 1 to N, or `A..B` for A up to (not including) B.
        #[arg(long, default_value = "100")]
        seeds: String,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Also write a JUnit XML report here (one testcase per seed).
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Runs at once (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only slice K of N of the seeds (for a CI matrix; combine with `gameday merge`).
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Spread the scenario's fixed timings (replication lag, promotion, scale-up, latency,
        /// fixed ack and decision delays) by up to ±PCT per seed, like `20%`.
        #[arg(long, value_name = "PCT")]
        jitter: Option<String>,
        /// When a seed misses a target, shrink the worst such seed to the smallest scenario
        /// that still misses the same targets, and write it here (default:
        /// `<scenario stem>.shrunk.toml` in the current directory).
        #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
        shrink: Option<Option<PathBuf>>,
        /// Most simulation runs a shrink may take.
        #[arg(long, value_name = "N", default_value_t = crate::sweep::shrink::DEFAULT_MAX_RUNS)]
        shrink_runs: usize,
    },
    /// Combine the `--format json` outputs of sharded sweeps into one report.
    Merge {
        /// The JSON files of the shards.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Also write a JUnit XML report here (one testcase per seed, as `sweep --junit`).
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Run one scenario in the simulated world and judge its targets (exit 1 when one is missed).
    Run {
        /// The scenario file.
        file: PathBuf,
        /// Seed to run with (default: the scenario's own `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Report format on stdout.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Run twice and compare the reports byte for byte (exit 5 when they differ).
        #[arg(long)]
        check_determinism: bool,
        /// Also draw the incident timeline as an SVG picture here.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Also write a Markdown postmortem draft here.
        #[arg(long, value_name = "FILE")]
        postmortem: Option<PathBuf>,
        /// Spread the scenario's fixed timings by up to ±PCT, drawn for the seed, as `sweep
        /// --jitter` does (so that a jittered seed of a sweep can be rerun alone).
        #[arg(long, value_name = "PCT")]
        jitter: Option<String>,
    },
    /// Bound every phase, the RTO and the RPO from the scenario's configuration alone, without
    /// simulating; compare them with the targets and list known pitfalls (exit 1 when a target
    /// cannot be met even in the best case).
    Plan {
        /// The scenario file.
        file: PathBuf,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Run the health monitor for real against real HTTP endpoints.
    Monitor {
        /// The monitor's TOML config (see examples/monitor.toml).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Log format on stderr; the level comes from RUST_LOG (default info).
        #[arg(long, value_enum, default_value_t)]
        log_format: LogFormat,
        /// Validate the config and exit without starting.
        #[arg(long)]
        check: bool,
    },
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check { paths, format, junit, jobs, reports, shard } => {
            let shard = match shard.as_deref().map(crate::sweep::parse_shard).transpose() {
                Ok(shard) => shard,
                Err(e) => return usage_error(&e),
            };
            check_command(&paths, format, junit.as_deref(), jobs, reports.as_deref(), shard)
        }
        Command::Run { file, seed, format, check_determinism, svg, postmortem, jitter } => {
            let jitter = match parse_jitter(jitter.as_deref()) {
                Ok(jitter) => jitter,
                Err(e) => return usage_error(&e),
            };
            let outputs = Outputs { svg: svg.as_deref(), postmortem: postmortem.as_deref() };
            run_command(&file, seed, jitter, format, check_determinism, outputs)
        }
        Command::Sweep { file, seeds, format, junit, jobs, shard, jitter, shrink, shrink_runs } => {
            let seeds = crate::sweep::parse_seeds(&seeds).and_then(|seeds| {
                match shard.as_deref().map(crate::sweep::parse_shard).transpose()? {
                    Some((k, n)) => Ok(crate::sweep::shard(&seeds, k, n)),
                    None => Ok(seeds),
                }
            });
            let options = seeds.and_then(|seeds| {
                if shrink_runs == 0 {
                    return Err("--shrink-runs 0: a shrink needs at least one run".to_owned());
                }
                let shrink = shrink.map(|out| out.unwrap_or_else(|| default_shrink_path(&file)));
                Ok(SweepOptions { seeds, jitter: parse_jitter(jitter.as_deref())?, shrink, shrink_runs })
            });
            match options {
                Ok(options) => sweep_command(&file, &options, format, junit.as_deref(), jobs),
                Err(e) => usage_error(&e),
            }
        }
        Command::Merge { files, format, junit } => merge_command(&files, format, junit.as_deref()),
        Command::Plan { file, format } => plan_command(&file, format),
        Command::Monitor { config, log_format, check } => monitor_command(&config, log_format, check),
    }
}

/// Prints a load error the way a person wants to read it: a span-pointing report per mistake.
fn report_load_error(err: &LoadError) {
    match err {
        LoadError::Invalid(problems) => {
            // One report per mistake: the `file:line:column: message` line, then the source
            // quoted with the span underlined.
            let handler = miette::GraphicalReportHandler::new();
            for problem in problems {
                let mut out = String::new();
                match handler.render_report(&mut out, problem) {
                    Ok(()) => eprintln!("{out}"),
                    Err(_) => eprintln!("error: {problem}"),
                }
            }
        }
        other => eprintln!("error: {other}"),
    }
}

/// Where `run` writes its extra renderings of the report.
struct Outputs<'a> {
    svg: Option<&'a std::path::Path>,
    postmortem: Option<&'a std::path::Path>,
}

/// Writes the SVG and postmortem renderings that were asked for.
fn write_outputs(report: &crate::Report, outputs: &Outputs<'_>) -> std::io::Result<()> {
    if let Some(path) = outputs.svg {
        std::fs::write(path, report.to_svg()).map_err(|e| with_path(path, e))?;
    }
    if let Some(path) = outputs.postmortem {
        std::fs::write(path, report.to_postmortem()).map_err(|e| with_path(path, e))?;
    }
    Ok(())
}

fn with_path(path: &std::path::Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn parse_jitter(spec: Option<&str>) -> Result<Jitter, String> {
    spec.map_or(Ok(Jitter::NONE), Jitter::parse)
}

/// `<scenario stem>.shrunk.toml` in the current directory.
fn default_shrink_path(scenario: &std::path::Path) -> PathBuf {
    let stem = scenario.file_stem().map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(format!("{stem}.shrunk.toml"))
}

fn run_command(
    path: &std::path::Path,
    seed: Option<u64>,
    jitter: Jitter,
    format: Format,
    check_determinism: bool,
    outputs: Outputs<'_>,
) -> ExitCode {
    let scenario = match Scenario::from_file(path) {
        Ok(scenario) => scenario,
        Err(e) => {
            report_load_error(&e);
            return ExitCode::from(e.exit_code());
        }
    };
    let seed = seed.unwrap_or(scenario.seed);
    let scenario = jitter.apply(&scenario, seed);
    let render = |report: &crate::Report| match format {
        Format::Text => report.to_text(),
        Format::Json => report.to_json(),
    };
    let run = || {
        scenario.run_with_seed(seed).map(|mut report| {
            report.jitter = jitter;
            report
        })
    };
    let report = match run() {
        Ok(report) => report,
        Err(e) => {
            eprintln!("internal error (a bug in gameday, not in the scenario): {e}");
            return ExitCode::from(exit::RUNTIME);
        }
    };
    let output = render(&report);
    if check_determinism {
        let again = run().map(|r| render(&r));
        if again.as_deref().ok() != Some(output.as_str()) {
            eprintln!(
                "non-determinism: two runs of {} with seed {seed} gave different reports",
                path.display()
            );
            if let Ok(again) = again {
                if let Some((line, (a, b))) =
                    output.lines().zip(again.lines()).enumerate().find(|(_, (a, b))| a != b)
                {
                    eprintln!("first difference at line {}:\n  first:  {a}\n  second: {b}", line + 1);
                }
            }
            return ExitCode::from(exit::NON_DETERMINISM);
        }
    }
    if let Err(e) = write_outputs(&report, &outputs) {
        eprintln!("error: cannot write {e}");
        return ExitCode::from(exit::RUNTIME);
    }
    println!("{output}");
    ExitCode::from(report.exit_code())
}

fn plan_command(path: &std::path::Path, format: Format) -> ExitCode {
    let scenario = match Scenario::from_file(path) {
        Ok(scenario) => scenario,
        Err(e) => {
            report_load_error(&e);
            return ExitCode::from(e.exit_code());
        }
    };
    let plan = crate::plan::plan(&scenario);
    match format {
        Format::Text => print!("{}", plan.to_text()),
        Format::Json => println!("{}", plan.to_json()),
    }
    ExitCode::from(plan.exit_code())
}

fn check_command(
    paths: &[PathBuf],
    format: Format,
    junit: Option<&std::path::Path>,
    jobs: Option<usize>,
    reports: Option<&std::path::Path>,
    shard: Option<(usize, usize)>,
) -> ExitCode {
    let files = match check::discover::scenario_files(paths) {
        Ok(files) if !files.is_empty() => match shard {
            Some((k, n)) => crate::sweep::shard(&files, k, n),
            None => files,
        },
        Ok(_) => {
            eprintln!("error: no scenario (*.toml) found under {}", show_paths(paths));
            return ExitCode::from(exit::NOT_FOUND);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::NOT_FOUND);
        }
    };
    let mut scenarios = Vec::new();
    let mut invalid = 0;
    for file in &files {
        match Scenario::from_file(file) {
            Ok(scenario) => scenarios.push(scenario),
            Err(e) => {
                report_load_error(&e);
                invalid += 1;
            }
        }
    }
    if invalid > 0 {
        eprintln!("{invalid} of {} scenario files are invalid; nothing was run", files.len());
        return ExitCode::from(exit::INVALID_INPUT);
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let progress = progress_bar(scenarios.len());
    let outcomes = check::run_all(&scenarios, jobs, |outcome| {
        if let Some(bar) = &progress {
            bar.set_message(outcome.name.clone());
            bar.inc(1);
        }
    });
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(dir) = reports {
        if let Err(e) = write_reports(dir, &outcomes) {
            eprintln!("error: cannot write reports: {e}");
            return ExitCode::from(exit::RUNTIME);
        }
    }
    if let Some(path) = junit {
        if let Err(e) = std::fs::write(path, check::junit::render(&outcomes)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(exit::RUNTIME);
        }
    }
    match format {
        Format::Text => print!("{}", check::summary::render(&outcomes)),
        Format::Json => println!("{}", check_json(&outcomes)),
    }
    if outcomes.iter().all(|o| o.ok) {
        ExitCode::from(exit::SUCCESS)
    } else {
        ExitCode::from(exit::TARGET_MISSED)
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(exit::USAGE)
}

fn merge_command(files: &[PathBuf], format: Format, junit: Option<&std::path::Path>) -> ExitCode {
    let mut parts = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                return ExitCode::from(exit::NOT_FOUND);
            }
        };
        match serde_json::from_str::<crate::sweep::Summary>(&text) {
            Ok(part) => parts.push(part),
            Err(e) => {
                eprintln!(
                    "error: {}:{}:{}: not a `gameday sweep --format json` output: {e}",
                    file.display(),
                    e.line(),
                    e.column()
                );
                return ExitCode::from(exit::INVALID_INPUT);
            }
        }
    }
    let summary = match crate::sweep::Summary::merge(parts) {
        Ok(summary) => summary,
        Err(e) => return usage_error(&e),
    };
    if let Err(code) = publish(&summary, format, junit) {
        return code;
    }
    sweep_exit(&summary)
}

/// Writes a sweep's JUnit file (when asked) and prints its summary: what `sweep` and `merge`
/// both end with. A JUnit file that cannot be written is a runtime error.
fn publish(
    summary: &crate::sweep::Summary,
    format: Format,
    junit: Option<&std::path::Path>,
) -> Result<(), ExitCode> {
    if let Some(path) = junit {
        if let Err(e) = std::fs::write(path, summary.junit()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return Err(ExitCode::from(exit::RUNTIME));
        }
    }
    match format {
        Format::Text => print!("{}", summary.text()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&summary.json()).unwrap_or_default()),
    }
    Ok(())
}

/// 0 when every seed met its targets, 1 when one missed.
fn sweep_exit(summary: &crate::sweep::Summary) -> ExitCode {
    if summary.failing().is_empty() {
        ExitCode::from(exit::SUCCESS)
    } else {
        ExitCode::from(exit::TARGET_MISSED)
    }
}

/// What `sweep` runs besides the scenario, validated.
struct SweepOptions {
    seeds: Vec<u64>,
    jitter: Jitter,
    /// Where to write the shrunk scenario, when asked to shrink.
    shrink: Option<PathBuf>,
    shrink_runs: usize,
}

fn sweep_command(
    path: &std::path::Path,
    options: &SweepOptions,
    format: Format,
    junit: Option<&std::path::Path>,
    jobs: Option<usize>,
) -> ExitCode {
    let SweepOptions { seeds, jitter, .. } = options;
    let scenario = match Scenario::from_file(path) {
        Ok(scenario) => scenario,
        Err(e) => {
            report_load_error(&e);
            return ExitCode::from(e.exit_code());
        }
    };
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let progress = progress_bar(seeds.len());
    let outcomes = crate::sweep::run(&scenario, seeds, *jitter, jobs, |_| {
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    });
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let summary = crate::sweep::Summary::new(&scenario, *jitter, &outcomes);
    if let Err(code) = publish(&summary, format, junit) {
        return code;
    }
    if let Some(out) = &options.shrink {
        let shrink = crate::sweep::shrink::Options { max_runs: options.shrink_runs, jobs };
        if let Err(e) = shrink_command(&scenario, &summary, *jitter, out, shrink) {
            eprintln!("error: {e}");
            return ExitCode::from(exit::RUNTIME);
        }
    }
    sweep_exit(&summary)
}

/// Shrinks the worst seed that missed a target and writes the result to `out`; says on stderr
/// what it did (stdout holds the sweep's report).
fn shrink_command(
    scenario: &Scenario,
    summary: &crate::sweep::Summary,
    jitter: Jitter,
    out: &std::path::Path,
    options: crate::sweep::shrink::Options,
) -> Result<(), String> {
    use crate::sweep::shrink;
    let Some(worst) = summary.worst_missing() else {
        eprintln!("shrink: no seed ran and missed a target; nothing to shrink");
        return Ok(());
    };
    eprintln!("shrink: seed {} missed {}; shrinking ...", worst.seed, worst.missed_targets().join(", "));
    let shrunk = shrink::shrink(scenario, worst.seed, jitter, out, options)?;
    let source = scenario.path.display().to_string();
    let text = crate::scenario::write::to_toml(&shrunk.scenario, &shrink::header(&shrunk, &source, jitter));
    std::fs::write(out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!("shrink: wrote {} ({})", out.display(), shrink::summary_line(scenario, &shrunk));
    for line in shrunk.report.missed_lines() {
        eprintln!("shrink:   {line}");
    }
    eprintln!("shrink: reproduce: {}", shrunk.report.reproduce_command());
    Ok(())
}

/// `<dir>/<scenario file stem>.svg` and `.md` for every scenario that ran.
fn write_reports(dir: &std::path::Path, outcomes: &[check::Outcome]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| with_path(dir, e))?;
    for outcome in outcomes {
        let (Ok(report), Some(stem)) = (&outcome.report, outcome.path.file_stem()) else { continue };
        let outputs = Outputs {
            svg: Some(&dir.join(stem).with_extension("svg")),
            postmortem: Some(&dir.join(stem).with_extension("md")),
        };
        write_outputs(report, &outputs)?;
    }
    Ok(())
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// A progress bar on a terminal; none when piped or under CI, where it would only be noise.
fn progress_bar(total: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} scenarios  {wide_msg}") {
        bar.set_style(style);
    }
    Some(bar)
}

fn check_json(outcomes: &[check::Outcome]) -> String {
    let scenarios: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let report = o
                .report
                .as_ref()
                .ok()
                .and_then(|r| serde_json::from_str::<serde_json::Value>(&r.to_json()).ok());
            serde_json::json!({
                "path": o.path.display().to_string(),
                "scenario": o.name,
                "seed": o.seed,
                "ok": o.ok,
                "why": o.why,
                "missed": o.missed(),
                "report": report,
            })
        })
        .collect();
    let passed = outcomes.iter().filter(|o| o.ok).count();
    let doc =
        serde_json::json!({"passed": passed, "failed": outcomes.len() - passed, "scenarios": scenarios});
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn monitor_command(path: &std::path::Path, log_format: LogFormat, check: bool) -> ExitCode {
    let config = match MonitorConfig::from_file(path) {
        Ok(config) => config,
        Err(e) => {
            report_load_error(&e);
            return ExitCode::from(e.exit_code());
        }
    };
    if check {
        println!("{}: ok ({} services)", path.display(), config.services.len());
        return ExitCode::from(exit::SUCCESS);
    }
    init_logging(log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::RUNTIME);
        }
    };
    runtime.block_on(async move {
        let store = match JsonlStore::open(&config.store_path) {
            Ok(store) => store,
            Err(e) => {
                eprintln!("error: cannot open the incident store {}: {e}", config.store_path.display());
                return ExitCode::from(exit::RUNTIME);
            }
        };
        let running = match monitor::start(config, TokioNet, SystemClock, store).await {
            Ok(running) => running,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(exit::RUNTIME);
            }
        };
        wait_for_signal().await;
        tracing::info!("shutting down");
        running.shutdown().await;
        ExitCode::from(exit::SUCCESS)
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    biased;
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
