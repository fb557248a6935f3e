//! Where the event stream survives restarts.
//!
//! Production appends JSON Lines to a file and fsyncs each record; a simulation keeps the
//! records outside the monitor's host so that they outlive a crash, as a disk would.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::monitor::event::Record;

/// An append-only log of [`Record`]s.
///
/// The methods are synchronous: an append is one small write and one fsync, and keeping them
/// out of the async machinery keeps the simulated world free of blocking-pool threads.
pub trait IncidentStore: Send + 'static {
    /// Every record stored so far, in order. Unreadable records are skipped with a warning.
    fn load(&mut self) -> io::Result<Vec<Record>>;

    /// Appends one record durably.
    fn append(&mut self, record: &Record) -> io::Result<()>;
}

/// JSON Lines on disk, one fsynced record per line.
#[derive(Debug)]
pub struct JsonlStore {
    path: PathBuf,
    file: File,
}

impl JsonlStore {
    /// Opens (creating if needed) the log at `path`.
    ///
    /// A torn last line, left by a crash mid-write, is cut off with a warning so that the next
    /// append starts on a line of its own.
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path)?;
        let mut text = Vec::new();
        file.read_to_end(&mut text)?;
        if text.last().is_some_and(|&b| b != b'\n') {
            let keep = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            tracing::warn!(
                path = %path.display(),
                dropped_bytes = text.len() - keep,
                "incident store ends in a torn record (crash mid-write?); dropping it"
            );
            file.set_len(keep as u64)?;
            file.sync_all()?;
        }
        Ok(Self { path: path.to_owned(), file })
    }
}

impl IncidentStore for JsonlStore {
    fn load(&mut self) -> io::Result<Vec<Record>> {
        self.file.seek(SeekFrom::Start(0))?;
        let mut records = Vec::new();
        for (i, line) in BufReader::new(&self.file).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(&line) {
                Ok(r) => records.push(r),
                Err(e) => tracing::warn!(
                    path = %self.path.display(),
                    line = i + 1,
                    error = %e,
                    "skipping an unreadable record in the incident store"
                ),
            }
        }
        Ok(records)
    }

    fn append(&mut self, record: &Record) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }
}

/// Records in memory, shared by handle: the simulated world's "disk", and a test double.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    records: Arc<Mutex<Vec<Record>>>,
}

impl MemoryStore {
    /// A copy of everything stored.
    pub fn records(&self) -> Vec<Record> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl IncidentStore for MemoryStore {
    fn load(&mut self) -> io::Result<Vec<Record>> {
        Ok(self.records())
    }

    fn append(&mut self, record: &Record) -> io::Result<()> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner).push(record.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::event::{Event, Health};
    use crate::time::Timestamp;

    fn record(seq: u64) -> Record {
        Record {
            seq,
            at: Timestamp::from_millis(seq * 1000),
            event: Event::HealthChanged {
                service: "api".into(),
                from: Health::Healthy,
                to: Health::Degraded,
            },
        }
    }

    #[test]
    fn survives_reopen_and_drops_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("incidents.jsonl");
        let mut store = JsonlStore::open(&path).unwrap();
        store.append(&record(1)).unwrap();
        store.append(&record(2)).unwrap();
        drop(store);
        // A crash mid-write leaves half a line.
        OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"seq\":3,\"at\":").unwrap();

        let mut store = JsonlStore::open(&path).unwrap();
        assert_eq!(store.load().unwrap(), vec![record(1), record(2)]);
        store.append(&record(3)).unwrap();
        assert_eq!(store.load().unwrap(), vec![record(1), record(2), record(3)]);
    }

    #[test]
    fn skips_a_corrupt_line_in_the_middle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("incidents.jsonl");
        let good = serde_json::to_string(&record(1)).unwrap();
        std::fs::write(&path, format!("{good}\nnot json\n{good}\n")).unwrap();
        assert_eq!(JsonlStore::open(&path).unwrap().load().unwrap().len(), 2);
    }
}
