//! The timeline picture (`Report::to_svg`) and the postmortem draft (`Report::to_postmortem`)
//! of a run of `scenarios/region-outage.toml` shortened to 30 minutes: well-formed, complete,
//! carrying the measured numbers, deterministic. The postmortem is a reviewed snapshot in
//! `snapshots/`.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use gameday::diagnostic::SourceFile;
use gameday::measure::{
    self, Observations, RequestKind, RequestRecord, WorldEvent, WorldEventKind, format_ratio,
};
use gameday::report::svg::SuccessCurve;
use gameday::report::{Report, format_duration};
use gameday::scenario::Targets;
use gameday::{Scenario, report};

const PATH: &str = "scenarios/region-outage.toml";

/// `scenarios/region-outage.toml` with a 30-minute run instead of 2 hours.
fn short_run() -> Report {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(PATH))
        .expect("the region outage scenario exists");
    assert!(text.contains("\nduration = \"2h\""), "the scenario's duration line changed");
    let text = text.replace("\nduration = \"2h\"", "\nduration = \"30m\"");
    let scenario = Scenario::parse(&SourceFile::new(PATH, text)).unwrap_or_else(|e| panic!("{e}"));
    scenario.run().expect("the simulation runs")
}

/// One run shared by the tests that only read it.
fn report() -> &'static Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT.get_or_init(short_run)
}

// ---------------------------------------------------------------------------------------------
// A minimal XML well-formedness check: one root element, balanced and properly nested tags,
// quoted attributes without `<`, and `&` only as a known entity or character reference.

fn check_entities(s: &str, at: usize) -> Result<(), String> {
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or_else(|| format!("bare '&' near byte {at}"))?;
        let name = &after[..end];
        let known = ["amp", "lt", "gt", "quot", "apos"].contains(&name)
            || (name.starts_with("#x") && name.len() > 2 && name[2..].chars().all(|c| c.is_ascii_hexdigit()))
            || (name.starts_with('#') && name.len() > 1 && name[1..].chars().all(|c| c.is_ascii_digit()));
        if !known {
            return Err(format!("unknown entity &{name}; near byte {at}"));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_:.-".contains(c))
}

/// Parses `name attr="v" ...` (without `<`, `/` or `>`); returns the element name.
fn check_tag(inner: &str, at: usize) -> Result<String, String> {
    let inner = inner.trim_end();
    let (name, mut rest) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
    if !is_name(name) {
        return Err(format!("bad element name {name:?} at byte {at}"));
    }
    let mut seen = BTreeSet::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(name.to_string());
        }
        let eq = rest.find('=').ok_or_else(|| format!("attribute without value in <{name}> at byte {at}"))?;
        let attr = rest[..eq].trim();
        if !is_name(attr) || !seen.insert(attr.to_string()) {
            return Err(format!("bad or repeated attribute {attr:?} in <{name}> at byte {at}"));
        }
        let value = rest[eq + 1..].trim_start();
        let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'');
        let quote = quote.ok_or_else(|| format!("unquoted attribute {attr} in <{name}> at byte {at}"))?;
        let end = value[1..].find(quote).ok_or_else(|| format!("unterminated {attr} in <{name}>"))?;
        let v = &value[1..1 + end];
        if v.contains('<') {
            return Err(format!("'<' in attribute {attr} of <{name}> at byte {at}"));
        }
        check_entities(v, at)?;
        rest = &value[end + 2..];
        if rest.starts_with(|c: char| !c.is_whitespace()) {
            return Err(format!("no space after attribute {attr} in <{name}> at byte {at}"));
        }
    }
}

fn well_formed(doc: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut i = 0;
    let bytes = doc.as_bytes();
    while i < doc.len() {
        let Some(lt) = doc[i..].find('<').map(|p| p + i) else {
            if !doc[i..].trim().is_empty() {
                return Err("text after the root element".into());
            }
            break;
        };
        let text = &doc[i..lt];
        if stack.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root element at byte {i}"));
        }
        check_entities(text, i)?;
        if text.contains('>') {
            return Err(format!("bare '>' in text at byte {i}"));
        }
        let rest = &doc[lt..];
        if let Some(body) = rest.strip_prefix("<?") {
            let end = body.find("?>").ok_or("unterminated processing instruction")?;
            if lt != 0 {
                return Err("XML declaration not at the start".into());
            }
            i = lt + 2 + end + 2;
            continue;
        }
        if let Some(body) = rest.strip_prefix("<!--") {
            let end = body.find("-->").ok_or("unterminated comment")?;
            i = lt + 4 + end + 3;
            continue;
        }
        // Find the closing '>' outside quotes.
        let mut j = lt + 1;
        let mut quote: Option<u8> = None;
        while j < bytes.len() {
            match (quote, bytes[j]) {
                (None, b'"' | b'\'') => quote = Some(bytes[j]),
                (Some(q), c) if c == q => quote = None,
                (None, b'>') => break,
                (None, b'<') => return Err(format!("'<' inside a tag at byte {j}")),
                _ => {}
            }
            j += 1;
        }
        if j >= bytes.len() {
            return Err(format!("unterminated tag at byte {lt}"));
        }
        let inner = &doc[lt + 1..j];
        if let Some(name) = inner.strip_prefix('/') {
            let open = stack.pop().ok_or_else(|| format!("</{name}> closes nothing at byte {lt}"))?;
            if open != name.trim() {
                return Err(format!("</{}> closes <{open}> at byte {lt}", name.trim()));
            }
        } else if let Some(inner) = inner.strip_suffix('/') {
            check_tag(inner, lt)?;
            if stack.is_empty() {
                roots += 1;
            }
        } else {
            let name = check_tag(inner, lt)?;
            if stack.is_empty() {
                roots += 1;
            }
            stack.push(name);
        }
        i = j + 1;
    }
    match (stack.last(), roots) {
        (Some(open), _) => Err(format!("<{open}> is never closed")),
        (None, 1) => Ok(()),
        (None, k) => Err(format!("{k} root elements")),
    }
}

#[test]
fn the_well_formedness_check_catches_broken_documents() {
    assert!(
        well_formed(r#"<?xml version="1.0"?><svg a="1"><g><text>a &amp; b</text></g><rect/></svg>"#).is_ok()
    );
    for bad in [
        "<svg><g></svg>",
        "<svg></g>",
        "<svg>",
        "<svg/><svg/>",
        "<svg>a & b</svg>",
        "<svg a=1/>",
        r#"<svg a="<"/>"#,
        r#"<svg a="1" a="2"/>"#,
        r#"<svg a="1"b="2"/>"#,
        "<svg>x</svg>tail",
        "<svg>&nbsp;</svg>",
    ] {
        assert!(well_formed(bad).is_err(), "accepted {bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// The timeline picture.

#[test]
fn svg_is_well_formed_and_shows_every_lane() {
    let r = report();
    let m = &r.measurement;
    let svg = r.to_svg();
    well_formed(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert!(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "), "{svg}");
    assert!(svg.contains(r#"width="1200.0""#), "fixed width");
    for lane in [">Faults<", ">order-service<", ">Pages and acks<", ">Failover<", ">DNS<", ">Success ratio<"]
    {
        assert!(svg.contains(lane), "lane {lane} missing");
    }
    // The fault, the incident as the monitor paged it, the failover and DNS.
    for part in [
        "region_outage: region us-east-1 goes dark",
        ">INC-1 SEV3<",
        ">ack by primary<",
        ">page primary (level 1)<",
        ">db -&gt; us-west-2-db<",
        ">order-service -&gt; us-west-2-app<",
        "us-west-2-db is primary at epoch 2",
    ] {
        assert!(svg.contains(part), "{part} missing");
    }
    // RTO and RPO, labelled with the measured values and their targets.
    let rto = m.rto.expect("customers were restored");
    assert!(svg.contains(&format!(">RTO {} (target 15m: met)<", format_duration(rto))), "RTO label");
    let rpo = m.rpo.expect("an RPO");
    assert!(m.lost_writes > 0, "async replication loses writes");
    assert!(svg.contains(&format!(
        ">RPO {} ({} lost writes) (target 1m: met)<",
        format_duration(rpo),
        m.lost_writes
    )));
    assert!(svg.contains(">fault +00:10:00.000<"), "the fault's line");
    // The success ratio curve, the threshold dashed.
    assert!(svg.contains("<polyline points=\""), "the success curve");
    assert!(svg.contains(">threshold 99% over every 1m window<"));
    // The time axis: the whole run (+HH:MM ticks), then the incident zoomed.
    assert!(svg.contains(">+00:30<") && svg.contains(">+00:00<"), "whole-run axis");
    assert!(svg.contains(">detail below: "), "zoomed incident");
    // Fixed precision: every coordinate has exactly one decimal.
    for (attr, value) in geometry(&svg) {
        for number in
            value.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).filter(|t| !t.is_empty())
        {
            let one_decimal = number.split_once('.').is_some_and(|(_, frac)| frac.len() == 1);
            assert!(one_decimal || !value.contains('.'), "{attr}=\"{value}\": {number}");
        }
    }
}

/// The values of the geometry attributes (`x`, `y`, `width`, `points`, `d`, ...).
fn geometry(svg: &str) -> Vec<(&str, &str)> {
    const ATTRS: [&str; 12] =
        ["x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "width", "height", "points", "d"];
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("=\"") {
        let name_start = rest[..i].rfind(|c: char| c.is_whitespace()).map_or(0, |p| p + 1);
        let name = &rest[name_start..i];
        let value_end = rest[i + 2..].find('"').map_or(rest.len(), |e| i + 2 + e);
        if ATTRS.contains(&name) {
            out.push((name, &rest[i + 2..value_end]));
        }
        rest = &rest[(value_end + 1).min(rest.len())..];
    }
    out
}

#[test]
fn svg_and_postmortem_are_deterministic() {
    let again = short_run();
    assert_eq!(report().to_svg(), again.to_svg());
    assert_eq!(report().to_postmortem(), again.to_postmortem());
}

#[test]
fn json_report_does_not_carry_the_success_curve() {
    let json = report().to_json();
    assert!(!json.contains("success_curve"), "the JSON contract is unchanged");
    assert!(!report().success_curve.points.is_empty());
}

/// Builds a report from hand-made ground truth.
fn hand_report(name: &str, obs: &Observations, faults_at: &[Duration]) -> Report {
    let m = measure::measure(obs, &Targets::default(), faults_at, Duration::from_secs(60), 0.99);
    Report::new(name, "scenarios/odd <name>.toml", obs, m)
}

fn event(at_s: u64, source: &str, kind: WorldEventKind, details: &str) -> WorldEvent {
    WorldEvent { at: Duration::from_secs(at_s), source: source.into(), kind, details: details.into() }
}

fn request(sent_s: u64, ok: bool) -> RequestRecord {
    RequestRecord {
        sent: Duration::from_secs(sent_s),
        done: Duration::from_secs(sent_s),
        service: "svc".into(),
        kind: RequestKind::Read,
        ok,
        write_id: None,
        host: Some("a-app".into()),
    }
}

#[test]
fn svg_escapes_text_and_survives_an_empty_run() {
    // Nothing recorded at all: still one well-formed picture.
    let empty = hand_report("empty", &Observations::default(), &[]);
    let svg = empty.to_svg();
    well_formed(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert!(svg.contains(">no client request<") && svg.contains(">Monitor<"));
    assert!(!empty.to_postmortem().is_empty());

    // Markup-like text everywhere, a fault cleared, an incident opened and resolved.
    let nasty = "<b>&\"it's\" | *x* _y_ `z` [l](u)\u{1}";
    let obs = Observations {
        seed: 1,
        duration: Duration::from_secs(600),
        requests: (0..600).map(|s| request(s, !(100..160).contains(&s))).collect(),
        events: vec![
            event(100, "fault", WorldEventKind::FaultInjected, nasty),
            event(
                120,
                "pager:slack",
                WorldEventKind::AlertReceived,
                ":rotating_light: [SEV3] INC-4 svc is unhealthy: 3",
            ),
            event(125, "pager:pagerduty", WorldEventKind::PageReceived, "INC-4 level 1 paged on<call>"),
            event(
                140,
                "pager:slack",
                WorldEventKind::NotificationReceived,
                "[SEV2] INC-4 svc raised from SEV3 to SEV2: x",
            ),
            event(160, "fault", WorldEventKind::FaultCleared, nasty),
            event(
                190,
                "pager:slack",
                WorldEventKind::NotificationReceived,
                "[SEV2] INC-4 svc resolved: probes succeed again",
            ),
        ],
        ..Observations::default()
    };
    let r = hand_report(nasty, &obs, &[Duration::from_secs(100)]);
    let svg = r.to_svg();
    well_formed(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert!(svg.contains("&lt;b&gt;&amp;&quot;it&apos;s&quot;"), "escaped: {svg}");
    assert!(!svg.contains('\u{1}'), "control characters dropped");
    assert!(svg.contains(">INC-4 SEV3<") && svg.contains(">SEV2<"), "severity segments: {svg}");
    assert!(svg.contains(">page on&lt;call&gt; (level 1)<"));
    // Restored within the run: the RTO is spanned.
    assert!(svg.contains(">RTO "), "{svg}");

    let md = r.to_postmortem();
    assert!(
        md.starts_with("# Postmortem draft: \\<b>&\"it's\" \\| \\*x\\* \\_y\\_ \\`z\\` \\[l\\](u)\n"),
        "{md}"
    );
    assert!(md.contains("`gameday run 'scenarios/odd <name>.toml' --seed 1`"), "{md}");
}

#[test]
fn success_curve_buckets_send_times() {
    // 10 s buckets below 6000 s; skipped when empty; the ratio of ok requests sent in each.
    let requests: Vec<RequestRecord> = [(0, true), (5, false), (9, true), (10, true), (35, false)]
        .iter()
        .map(|&(s, ok)| request(s, ok))
        .collect();
    let c = SuccessCurve::of(&requests, Duration::from_secs(3600));
    assert_eq!(c.bucket, Duration::from_secs(10));
    assert_eq!(c.duration, Duration::from_secs(3600));
    let expected =
        vec![(Duration::ZERO, 2.0 / 3.0), (Duration::from_secs(10), 1.0), (Duration::from_secs(30), 0.0)];
    assert_eq!(c.points, expected);
    // Longer runs: at most 600 buckets.
    assert_eq!(SuccessCurve::of(&[], Duration::from_secs(7200)).bucket, Duration::from_secs(12));
    assert_eq!(SuccessCurve::of(&[], Duration::from_secs(86_400)).bucket, Duration::from_secs(144));
}

/// Renders the picture with headless Chromium when it is installed, as a person would see it.
#[test]
fn svg_renders_in_a_browser() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        eprintln!("skipped: no {} to render the SVG with", chromium.display());
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let svg = dir.path().join("timeline.svg");
    let png = dir.path().join("timeline.png");
    std::fs::write(&svg, report().to_svg()).expect("the SVG is written");
    let out = std::process::Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,800")
        .arg(&svg)
        .output()
        .expect("chromium runs");
    let bytes = std::fs::read(&png)
        .unwrap_or_else(|e| panic!("no PNG ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    // A blank 1200x800 page compresses to a few KB; the timeline is far richer.
    assert!(bytes.len() > 20_000, "a near-empty picture: {} bytes", bytes.len());
}

// ---------------------------------------------------------------------------------------------
// The postmortem draft.

#[test]
fn postmortem_has_every_section_with_the_measured_facts() {
    let r = report();
    let m = &r.measurement;
    let md = r.to_postmortem();
    let sections = [
        "# Postmortem draft: us-east-1 outage, warm standby in us-west-2\n",
        "\n## Summary\n",
        "\n## Impact\n",
        "\n## Timeline\n",
        "\n## Detection, response and recovery\n",
        "\n## Where the time went\n",
        "\n## Root cause\n",
        "\n## What went well\n",
        "\n## What went wrong\n",
        "\n## Action items\n",
        "\n## Reproduce\n",
    ];
    let mut from = 0;
    for s in sections {
        let at = md[from..].find(s).unwrap_or_else(|| panic!("{s:?} missing or out of order:\n{md}"));
        from += at + s.len();
    }
    let rto = format_duration(m.rto.expect("restored"));
    let facts = [
        format!("RTO {rto} (target 15m: met)"),
        format!("RPO {} (target 1m: met)", format_duration(m.rpo.expect("an RPO"))),
        format!(
            "| Failed requests | {} (error rate {}) |",
            m.requests.failed,
            format_ratio(m.error_rate.unwrap())
        ),
        format!("| Availability | {} |", format_ratio(m.availability.unwrap())),
        format!("| Lost writes | {} (none acknowledged after the fault) |", m.lost_writes),
        "| detect | fault -> first alert | ".to_string(),
        "**Dominant phase.** Most of the RTO went to mitigation".to_string(),
        "| mitigate (dominant) | ".to_string(),
        "| +00:10:00 | fault | fault injected | region_outage: region us-east-1 goes dark |".to_string(),
        "| Action | Kind (prevent / detect / mitigate) | Owner | Priority | Ticket |".to_string(),
        format!("Seed {}: `gameday run scenarios/region-outage.toml --seed {}`", r.seed, r.seed),
    ];
    for f in facts {
        assert!(md.contains(&f), "{f:?} missing:\n{md}");
    }
    // Every world event is a row of the timeline.
    let rows = md.lines().filter(|l| l.starts_with("| +")).count();
    assert_eq!(rows, r.timeline.len());
}

#[test]
fn postmortem_snapshot() {
    let md = report().to_postmortem();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("postmortem_region_outage_30m", md);
    });
}

#[test]
fn report_helpers_are_reexported() {
    // The two renderings hang off `Report` like the text and JSON ones.
    let r = report();
    assert_eq!(r.to_svg(), report::svg::render(r));
    assert_eq!(r.to_postmortem(), report::postmortem::render(r));
}
