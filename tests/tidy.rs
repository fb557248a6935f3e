//! The invariants of ARCHITECTURE.md that a reader can check by looking, checked here by a
//! test: what must not depend on what, and where the real clock may be read.

use std::path::Path;

/// Every `.rs` file under `dir` (or `dir` itself when it is a file), with its text.
fn sources(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if Path::new(dir).is_file() {
        return vec![(dir.to_owned(), std::fs::read_to_string(dir).unwrap())];
    }
    let mut stack = vec![Path::new(dir).to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path.display().to_string(), text));
            }
        }
    }
    assert!(!out.is_empty(), "no sources under {dir}");
    out
}

#[track_caller]
fn assert_absent(dir: &str, forbidden: &[&str], why: &str) {
    for (path, text) in sources(dir) {
        for needle in forbidden {
            assert!(!text.contains(needle), "{path} mentions {needle:?}: {why}");
        }
    }
}

#[test]
fn the_decision_core_does_no_io_and_reads_no_clock() {
    assert_absent(
        "src/monitor/decide",
        &["tokio", "hyper", "axum", "std::io", "SystemTime", "Instant", "Clock"],
        "the decision core is pure; instants are arguments",
    );
}

#[test]
fn the_monitor_never_names_the_simulator() {
    assert_absent("src/monitor", &["turmoil", "crate::sim"], "the monitor runs unchanged in both worlds");
}

#[test]
fn the_simulated_world_uses_only_simulated_seams() {
    assert_absent(
        "src/sim",
        &["SystemClock", "TokioNet", "tokio::net", "SystemTime::now", "thread_rng", "HashMap"],
        "a simulated run must not touch the real clock, real sockets or unordered maps",
    );
}

#[test]
fn the_real_clock_is_read_in_one_place_only() {
    let readers: Vec<String> = sources("src")
        .into_iter()
        .filter(|(_, text)| text.contains("SystemTime::now()"))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(readers, vec!["src/time.rs".to_owned()], "SystemClock is the one sanctioned reader");
}

#[test]
fn scenarios_and_measurements_know_nothing_of_the_world_that_produced_them() {
    assert_absent("src/scenario", &["turmoil", "crate::sim", "crate::measure"], "the format is independent");
    assert_absent(
        "src/measure",
        &["turmoil", "crate::sim", "crate::monitor"],
        "measurement reads ground truth only",
    );
    assert_absent(
        "src/report",
        &["turmoil", "crate::sim"],
        "a report renders a measurement, whatever produced it",
    );
}
