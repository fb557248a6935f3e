//! How many probe observations per second the pure decision core takes, with many services
//! and a steady churn of incidents: the ceiling on what one monitor can watch.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gameday::monitor::decide::Decider;
use gameday::monitor::decide::policy::{EscalationLevel, FailoverMode, ServicePolicy};
use gameday::time::Timestamp;

fn decider(services: usize) -> (Decider, Vec<String>) {
    let policy = ServicePolicy {
        alert_after: 3,
        failover_after: 6,
        recover_after: 2,
        failover: FailoverMode::Automatic,
    };
    let names: Vec<String> = (0..services).map(|i| format!("service-{i:04}")).collect();
    let levels = vec![
        EscalationLevel { notify: "primary".into(), ack_timeout: Duration::from_secs(300) },
        EscalationLevel { notify: "secondary".into(), ack_timeout: Duration::from_secs(600) },
    ];
    (Decider::new(names.iter().map(|n| (n.clone(), policy)), levels), names)
}

fn observe(c: &mut Criterion) {
    let mut group = c.benchmark_group("decider_observe");
    for services in [10, 1000] {
        let rounds = 100u64;
        group.throughput(Throughput::Elements(services as u64 * rounds));
        group.bench_with_input(BenchmarkId::from_parameter(services), &services, |b, &services| {
            b.iter(|| {
                let (mut core, names) = decider(services);
                let mut events = 0;
                for round in 0..rounds {
                    let now = Timestamp::from_millis(round * 10_000);
                    for (i, name) in names.iter().enumerate() {
                        // One service in ten goes through an outage of eight probes per 20.
                        let ok = i % 10 != 0 || round % 20 >= 8;
                        events += core.observe(name, ok, now).map_or(0, |e| e.len());
                    }
                    events += core.tick(now).len();
                }
                black_box(events)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, observe);
criterion_main!(benches);
