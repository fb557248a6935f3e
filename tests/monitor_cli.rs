//! `gameday monitor` as a process: it starts, serves its API, writes its store, and stops
//! cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use gameday::monitor::event::{Event, Record};

/// A port on 127.0.0.1 where nothing listens: every probe of it is refused.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn runs_until_sigterm_then_exits_zero_with_its_history_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("incidents.jsonl");
    let config = dir.path().join("monitor.toml");
    std::fs::write(
        &config,
        format!(
            r#"[api]
listen = "127.0.0.1:0"
[store]
path = "{}"
[[services]]
name = "ledger"
url = "http://127.0.0.1:{}/health"
interval = "50ms"
timeout = "40ms"
alert_after = 1
failover_after = 1
"#,
            store.display(),
            closed_port()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["monitor", "--config", config.to_str().unwrap(), "--log-format", "json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let log: serde_json::Value = serde_json::from_str(&line).ok()?;
            (log["fields"]["message"] == "monitor started")
                .then(|| log["fields"]["api_addr"].as_str().unwrap().to_owned())
        })
        .expect("a 'monitor started' log line with api_addr");
    // Wait for the incident to be opened (the probe target refuses every connection).
    let mut opened = false;
    for _ in 0..200 {
        if http_get(&addr, "/api/incidents").contains("\"status\":\"open\"") {
            opened = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(opened, "no incident opened");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "clean shutdown on SIGTERM");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("monitor stopped")), "{rest:#?}");

    let records: Vec<Record> =
        std::fs::read_to_string(&store).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(records.iter().any(|r| matches!(r.event, Event::IncidentOpened { .. })), "{records:#?}");
}
