//! How a long run (training, evaluation) reports to a person: the library
//! says what happened, the caller decides whether and how to show it.

/// Where a run reports: lines of its account, and counters of its stages.
pub trait Progress: Sync {
    /// One line of the run's account (what was read, left out, fitted,
    /// written).
    fn say(&self, line: &str);
    /// A line that matters even to a caller who wants no account (a peer
    /// skipped, so the comparison lacks it).
    fn warn(&self, line: &str);
    /// A stage that counts messages begins; `what` names it ("indexing"),
    /// `total` is its size when known. It ends when the handle is dropped.
    fn stage(&self, what: &str, total: Option<u64>) -> Box<dyn Stage + '_>;
}

/// A stage under way.
pub trait Stage: Sync {
    /// `n` messages done so far.
    fn done(&self, n: u64);
}

/// Reports nothing: for tests and callers that want no account.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn say(&self, _: &str) {}

    fn warn(&self, _: &str) {}

    fn stage(&self, _: &str, _: Option<u64>) -> Box<dyn Stage + '_> {
        Box::new(Silent)
    }
}

impl Stage for Silent {
    fn done(&self, _: u64) {}
}
