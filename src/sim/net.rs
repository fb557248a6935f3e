//! The seams of the monitor, implemented over turmoil: simulated TCP and the simulated clock.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

use crate::net::{Net, NetListener};
use crate::time::{Clock, Timestamp, duration_millis};

/// Simulated time since the start of the run, as seen from inside a host.
pub fn sim_now() -> Duration {
    turmoil::sim_elapsed().unwrap_or_default()
}

/// TCP over turmoil's simulated network. Host names resolve through turmoil's static map.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimNet;

impl Net for SimNet {
    type Stream = turmoil::net::TcpStream;
    type Listener = SimListener;

    async fn connect(&self, host: &str, port: u16) -> io::Result<Self::Stream> {
        turmoil::net::TcpStream::connect((host, port)).await
    }

    async fn bind(&self, addr: SocketAddr) -> io::Result<Self::Listener> {
        turmoil::net::TcpListener::bind(addr).await.map(SimListener)
    }
}

/// A turmoil listener behind the [`NetListener`] seam.
pub struct SimListener(turmoil::net::TcpListener);

impl NetListener for SimListener {
    type Stream = turmoil::net::TcpStream;

    async fn accept(&mut self) -> io::Result<(Self::Stream, SocketAddr)> {
        self.0.accept().await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// The simulation's wall clock: its fixed epoch plus simulated time.
#[derive(Clone, Copy, Debug)]
pub struct SimClock;

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        let since = turmoil::since_epoch().unwrap_or_default();
        Timestamp::from_millis(duration_millis(since))
    }
}

/// The fixed epoch every simulation starts at: 2026-01-01T00:00:00Z. A fixed epoch keeps
/// timestamps in alerts and logs identical from run to run.
pub fn epoch() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}
