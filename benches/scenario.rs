//! Simulated seconds per wall second (criterion's "elements/s", one element per simulated
//! second): the bundled 2 h region outage against the floor, a bare turmoil simulation with the
//! same hosts and ticks and no application code; and 1 against 20 services, to show that
//! services are tasks, not hosts.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gameday::Scenario;
use gameday::diagnostic::SourceFile;

const BASE: &str = include_str!("../scenarios/region-outage.toml");

fn scenario(text: &str) -> Scenario {
    Scenario::parse(&SourceFile::new("bench.toml", text)).expect("valid bench scenario")
}

/// The bundled scenario with `n` services instead of one sharing the same total offered load
/// (20 requests per second), run for `minutes`: what grows is the number of services, not the
/// traffic.
fn with_services(n: usize, minutes: u64) -> Scenario {
    let one = "[[services]]\nname = \"order-service\"\nprimary = \"us-east-1\"\nstandby = \"us-west-2\"\nstandby_mode = \"warm\"    # hot | warm | cold\nscale_up = \"4m\"\ncapacity = 1.0\n";
    assert!(BASE.contains(one), "the bundled scenario changed; update the bench");
    let many: String = (0..n).map(|i| one.replace("order-service", &format!("service-{i:02}"))).collect();
    assert!(BASE.contains("\nrate = \"20/s\""), "the bundled scenario changed; update the bench");
    let text = BASE
        .replace(one, &many)
        .replace("\nduration = \"2h\"", &format!("\nduration = \"{minutes}m\""))
        .replace("\nrate = \"20/s\"", &format!("\nrate = \"{}/m\"", 1200 / n));
    scenario(&text)
}

/// A turmoil simulation with the same host names and tick, whose hosts do nothing.
fn bare_turmoil(scenario: &Scenario) {
    let mut sim = turmoil::Builder::new()
        .simulation_duration(scenario.duration + Duration::from_secs(60))
        .tick_duration(scenario.tick)
        .build();
    for host in [
        "us-east-1-app",
        "us-east-1-db",
        "us-west-2-app",
        "us-west-2-db",
        "dns",
        "monitor",
        "pager",
        "clients",
    ] {
        sim.host(host, || async {
            std::future::pending::<()>().await;
            Ok(())
        });
    }
    while sim.elapsed() < scenario.duration {
        sim.step().expect("idle hosts never fail");
    }
}

fn region_outage(c: &mut Criterion) {
    let scenario = Scenario::from_file("scenarios/region-outage.toml".as_ref()).expect("bundled scenario");
    let mut group = c.benchmark_group("region_outage_2h");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    group.throughput(Throughput::Elements(scenario.duration.as_secs()));
    group.bench_function("gameday", |b| b.iter(|| scenario.run().expect("runs")));
    group.bench_function("bare_turmoil_floor", |b| b.iter(|| bare_turmoil(&scenario)));
    group.finish();
}

fn services(c: &mut Criterion) {
    let mut group = c.benchmark_group("services_20m");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    for n in [1, 20] {
        let scenario = with_services(n, 20);
        group.throughput(Throughput::Elements(scenario.duration.as_secs()));
        group.bench_with_input(BenchmarkId::from_parameter(n), &scenario, |b, s| {
            b.iter(|| s.run().expect("runs"))
        });
    }
    group.finish();
}

criterion_group!(benches, region_outage, services);
criterion_main!(benches);
