//! What a database node holds: its WAL (customers' writes and destructive statements, in
//! commit order), the rows committed before the scenario started, and which rows a bad
//! `DELETE` removed. Pure data: the node's HTTP handlers, the replication stream and the
//! restore all go through it, and the measurement reads the serving node's copy at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::backup::{Ms, ms};

/// Row ids with this bit set are rows committed before the scenario started (their index in
/// commit order); the others are customers' write ids.
pub const HISTORY_ROW: u64 = 1 << 63;

/// One WAL record's operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A customer's write, by its id.
    Write(u64),
    /// A statement deleting the selected rows committed before it (`ppm` of them, in parts
    /// per million).
    Delete {
        /// Share of the rows it selects, in parts per million.
        ppm: u32,
    },
}

/// One committed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalEntry {
    /// Log sequence number, from 1.
    pub lsn: u64,
    /// What it did.
    pub op: Op,
    /// When it committed (simulated time).
    pub committed: Duration,
}

impl WalEntry {
    /// The replication stream's line for it: `lsn committed_ms w<id>` or `... d<ppm>`.
    pub fn to_line(&self) -> String {
        let op = match self.op {
            Op::Write(id) => format!("w{id}"),
            Op::Delete { ppm } => format!("d{ppm}"),
        };
        format!("{} {} {op}\n", self.lsn, self.committed.as_millis())
    }

    /// Parses [`WalEntry::to_line`]'s output.
    pub fn from_line(line: &str) -> Option<WalEntry> {
        let mut parts = line.split(' ');
        let lsn = parts.next()?.parse().ok()?;
        let committed = Duration::from_millis(parts.next()?.parse().ok()?);
        let op = parts.next()?;
        let op = match op.split_at_checked(1)? {
            ("w", id) => Op::Write(id.parse().ok()?),
            ("d", ppm) => Op::Delete { ppm: ppm.parse().ok()? },
            _ => return None,
        };
        Some(WalEntry { lsn, op, committed })
    }
}

/// The rows committed before the scenario: `rate` per second over `span` before the start,
/// evenly spaced (row `i` commits at `-span + i / rate`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct History {
    /// Rows per second.
    pub rate: f64,
    /// How long before the start they begin.
    pub span: Duration,
}

impl History {
    /// How many rows it has.
    pub fn rows(&self) -> u64 {
        (self.rate * self.span.as_secs_f64()) as u64
    }

    /// When row `index` committed.
    pub fn committed(&self, index: u64) -> Ms {
        -ms(self.span) + (index as f64 * 1000.0 / self.rate) as Ms
    }

    /// How many rows committed at or before `at`.
    pub fn rows_until(&self, at: Ms) -> u64 {
        let since = at + ms(self.span);
        if since < 0 {
            return 0;
        }
        ((since as f64 / 1000.0 * self.rate).floor() as u64 + 1).min(self.rows())
    }
}

/// Whether a delete of `ppm` parts per million selects `row`: a fixed hash of the id, so
/// every node and every run agrees.
pub fn selects(ppm: u32, row: u64) -> bool {
    let mut z = row.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z % 1_000_000 < u64::from(ppm)
}

/// One node's data.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    wal: Vec<WalEntry>,
    /// Write id -> commit time, for lookups.
    index: BTreeMap<u64, Duration>,
    /// Deletes in the WAL: (commit time, ppm).
    deletes: Vec<(Ms, u32)>,
    history: Option<History>,
    /// Rows of the history held: those committed at or before this instant (0 when intact).
    history_until: Ms,
}

impl Rows {
    /// A node holding `history` and nothing since.
    pub fn new(history: Option<History>) -> Rows {
        Rows { history, ..Rows::default() }
    }

    /// The WAL.
    pub fn wal(&self) -> &[WalEntry] {
        &self.wal
    }

    /// The next LSN.
    pub fn next_lsn(&self) -> u64 {
        self.wal.len() as u64 + 1
    }

    /// Appends a record committed by this node, or received in order from the primary.
    pub fn push(&mut self, op: Op, committed: Duration) -> u64 {
        let lsn = self.next_lsn();
        self.wal.push(WalEntry { lsn, op, committed });
        match op {
            Op::Write(id) => {
                self.index.entry(id).or_insert(committed);
            }
            Op::Delete { ppm } => self.deletes.push((ms(committed), ppm)),
        }
        lsn
    }

    fn deleted(&self, row: u64, committed: Ms) -> bool {
        self.deletes.iter().any(|&(at, ppm)| committed < at && selects(ppm, row))
    }

    /// Whether the node holds `row` (a customer's write id, or a history row).
    pub fn holds(&self, row: u64) -> bool {
        if row & HISTORY_ROW != 0 {
            let index = row & !HISTORY_ROW;
            let Some(h) = self.history.filter(|h| index < h.rows()) else { return false };
            let committed = h.committed(index);
            committed <= self.history_until && !self.deleted(row, committed)
        } else {
            self.index.get(&row).is_some_and(|c| !self.deleted(row, ms(*c)))
        }
    }

    /// Commits a `DELETE` of the rows `ppm` selects among those committed before `at`; returns
    /// how many rows the node held that it removed.
    pub fn delete(&mut self, ppm: u32, at: Duration) -> u64 {
        let history = self.history.map_or(0, |h| {
            (0..h.rows_until(self.history_until))
                .map(|i| HISTORY_ROW | i)
                .filter(|&row| selects(ppm, row) && !self.deleted(row, h.committed(row & !HISTORY_ROW)))
                .count()
        });
        let writes = self
            .index
            .iter()
            .filter(|&(&id, &c)| c < at && selects(ppm, id) && !self.deleted(id, ms(c)))
            .count();
        self.push(Op::Delete { ppm }, at);
        (history + writes) as u64
    }

    /// The commit time of the newest destructive statement, if any.
    pub fn last_delete(&self) -> Option<Ms> {
        self.deletes.last().map(|d| d.0)
    }

    /// Customers' write ids the node holds.
    pub fn write_ids(&self) -> Vec<u64> {
        self.index.iter().filter(|(id, c)| !self.deleted(**id, ms(**c))).map(|(id, _)| *id).collect()
    }

    /// History rows the node does not hold, and the commit time of the oldest of them.
    pub fn history_lost(&self) -> (u64, Option<Ms>) {
        let Some(h) = self.history else { return (0, None) };
        let mut lost = 0;
        let mut oldest = None;
        // Deleted rows are found by their hash; there are few enough deletes to scan with.
        if !self.deletes.is_empty() {
            for index in 0..h.rows_until(self.history_until) {
                let row = HISTORY_ROW | index;
                if self.deleted(row, h.committed(index)) {
                    lost += 1;
                    oldest.get_or_insert(h.committed(index));
                }
            }
        }
        let held = h.rows_until(self.history_until);
        if held < h.rows() {
            lost += h.rows() - held;
            oldest = Some(oldest.map_or(h.committed(held), |o: Ms| o.min(h.committed(held))));
        }
        (lost, oldest)
    }

    /// The node's data as it stood at `point`: what a restore to that point brings back.
    pub fn as_of(&self, point: Ms) -> Rows {
        let mut restored = Rows::new(self.history);
        restored.history_until = self.history_until.min(point);
        for e in self.wal.iter().filter(|e| ms(e.committed) <= point) {
            restored.push(e.op, e.committed);
        }
        restored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_round_trips() {
        for op in [Op::Write(42), Op::Delete { ppm: 200_000 }] {
            let e = WalEntry { lsn: 7, op, committed: Duration::from_millis(1234) };
            assert_eq!(WalEntry::from_line(e.to_line().trim_end()), Some(e));
        }
        assert_eq!(WalEntry::from_line("7 12 x1"), None);
    }

    #[test]
    fn a_delete_removes_the_selected_older_rows_and_a_restore_before_it_brings_them_back() {
        let history = History { rate: 10.0, span: Duration::from_secs(1000) };
        let mut rows = Rows::new(Some(history));
        for id in 1..=1000 {
            rows.push(Op::Write(id), Duration::from_secs(id));
        }
        let held = |r: &Rows| r.write_ids().len() as u64 + history.rows() - r.history_lost().0;
        let before = held(&rows);
        let removed = rows.delete(250_000, Duration::from_millis(500_500));
        assert_eq!(removed, before - held(&rows), "it counts what it removed");
        rows.push(Op::Write(5000), Duration::from_secs(600));
        let held = rows.write_ids().len();
        // About a quarter of the 500 writes before the delete are gone; none after it.
        assert!((350..=400).contains(&(held - 501)), "{held}");
        assert!(rows.holds(5000));
        let (lost, oldest) = rows.history_lost();
        assert!((2200..=2800).contains(&lost), "{lost} of 10000 history rows");
        assert!(
            oldest.is_some_and(|o| o < history.committed(100)),
            "the oldest deleted row is among the first"
        );

        let restored = rows.as_of(500_000);
        assert_eq!(restored.write_ids().len(), 500);
        assert_eq!(restored.history_lost(), (0, None));
        let older = rows.as_of(-100_000);
        assert_eq!(older.write_ids().len(), 0);
        let (lost, oldest) = older.history_lost();
        assert_eq!(lost, 999, "the last 100 s of history at 10 rows/s, but for the row at -100 s");
        assert_eq!(oldest, Some(-100_000 + 100));
    }
}
