//! Which hosts a scenario's world has and where they sit: a pure function of the scenario,
//! shared by the simulated world that builds them and the plan that reasons about them.

use super::model::{Place, Scenario};

/// The object-store host of the backups kept in `region`.
pub fn store_host(region: &str) -> String {
    format!("{region}-store")
}

/// The region in a per-region host's name (`us-east-1-db` -> `us-east-1`).
pub fn host_region(host: &str) -> Option<&str> {
    host.strip_suffix("-app").or_else(|| host.strip_suffix("-db")).or_else(|| host.strip_suffix("-store"))
}

impl Scenario {
    /// Every host name of the world, in registration order: per region `<region>-app` (when a
    /// service is deployed there), `<region>-db` (a database node), `<region>-store` (the
    /// backups' object store); then `dns`, `monitor`, `pager`, `clients`.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts = Vec::new();
        for region in &self.regions {
            let has_app =
                self.services.iter().any(|s| s.primary == *region || s.standby.as_ref() == Some(region));
            let has_db = self
                .database
                .as_ref()
                .is_some_and(|d| d.primary == *region || d.replica.as_ref() == Some(region));
            if has_app {
                hosts.push(format!("{region}-app"));
            }
            if has_db {
                hosts.push(format!("{region}-db"));
            }
            if self.backups.as_ref().is_some_and(|b| b.store == *region) {
                hosts.push(store_host(region));
            }
        }
        hosts.extend(["dns", "monitor", "pager", "clients"].map(String::from));
        hosts
    }

    /// The hosts that sit in `region`, the monitor and the clients included when placed there.
    pub fn hosts_in(&self, region: &str) -> Vec<String> {
        let mut hosts: Vec<String> =
            self.hosts().into_iter().filter(|h| host_region(h) == Some(region)).collect();
        if self.monitor.region.as_deref() == Some(region) {
            hosts.push("monitor".to_owned());
        }
        if self.traffic.region.as_deref() == Some(region) {
            hosts.push("clients".to_owned());
        }
        hosts
    }

    /// The hosts a fault's place names: a region's hosts, or the one host.
    pub fn hosts_of(&self, place: &Place) -> Vec<String> {
        match place {
            Place::Region(r) => self.hosts_in(r),
            Place::Host(h) => vec![h.clone()],
        }
    }

    /// The region `host` sits in, when it sits in one.
    pub fn region_of<'a>(&'a self, host: &'a str) -> Option<&'a str> {
        match host {
            "monitor" => self.monitor.region.as_deref(),
            "clients" => self.traffic.region.as_deref(),
            _ => host_region(host),
        }
    }
}
