//! The storage trait every backend implements, and the records it holds.

use crate::HistoryError;
use impostor_features::sender_history::{MessageFacts, SenderProfile, UnixTime};
use serde::{Deserialize, Serialize};

/// One message waiting for its delay to pass before the store learns it.
/// Only addresses, domains, networks and hashes: bank accounts, Message-IDs
/// and references are hashed with the store's salt before they get here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// When the message was written or received.
    pub time: UnixTime,
    /// Its facts, with `bank_accounts` emptied and `message_id` /
    /// `references` replaced by their salted hashes.
    pub facts: MessageFacts,
    /// Its bank accounts, as salted hashes.
    pub account_hashes: Vec<String>,
    /// Whether a detector flagged it.
    pub flagged: bool,
}

/// What an expiry pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Expired {
    /// Profiles removed (too old, or the oldest past the size bound).
    pub profiles: u64,
    /// Message-ID hashes removed.
    pub message_ids: u64,
}

/// A backend: where profiles, Message-ID hashes and pending observations
/// live. [`crate::History`] holds the logic; a backend only stores, so
/// every backend behaves alike (one test suite runs on each).
///
/// Keys are sender keys ([`MessageFacts::sender_key`]): an address or a
/// registrable domain. Message ids arrive hashed.
pub trait Store: Send + Sync {
    /// Names the store in messages ("redb file x.redb", "redis://…").
    fn describe(&self) -> String;
    /// The store's salt, made once when the store is created and kept.
    fn salt(&self) -> Result<[u8; 32], HistoryError>;
    /// Messages learnt in all.
    fn learned(&self) -> Result<u64, HistoryError>;
    /// One profile.
    fn profile(&self, key: &str) -> Result<Option<SenderProfile>, HistoryError>;
    /// Whether each key has a profile.
    fn known(&self, keys: &[String]) -> Result<Vec<bool>, HistoryError> {
        keys.iter()
            .map(|k| self.profile(k).map(|p| p.is_some()))
            .collect()
    }
    /// Writes profiles (replacing those of the same keys), adds message id
    /// hashes with their times, and adds `learned` to the count, together.
    fn write(
        &self,
        profiles: &[SenderProfile],
        message_ids: &[(String, UnixTime)],
        learned: u64,
    ) -> Result<(), HistoryError>;
    /// Removes one profile; whether it existed.
    fn forget(&self, key: &str) -> Result<bool, HistoryError>;
    /// Whether any of these message id hashes was stored.
    fn any_message_id(&self, hashes: &[String]) -> Result<bool, HistoryError>;
    /// Queues an observation until `due`.
    fn push_pending(&self, due: UnixTime, observation: &Observation) -> Result<(), HistoryError>;
    /// Takes (removes and returns) up to `max` observations due at or
    /// before `now`, earliest first. With several gateways on one store
    /// each observation is taken once.
    fn take_due(&self, now: UnixTime, max: usize) -> Result<Vec<Observation>, HistoryError>;
    /// Observations still waiting.
    fn pending(&self) -> Result<u64, HistoryError>;
    /// Domain keys (no `@`) that are correspondents: the organisation
    /// wrote to them, or they sent three messages or more.
    fn correspondents(&self) -> Result<Vec<String>, HistoryError>;
    /// Every profile key (for expiry and listing).
    fn keys(&self) -> Result<Vec<String>, HistoryError>;
    /// Removes profiles last seen before `before`, then the least recently
    /// seen past `max_profiles`; message ids older than `before`, then the
    /// oldest past `max_message_ids`.
    fn expire(
        &self,
        before: UnixTime,
        max_profiles: usize,
        max_message_ids: usize,
    ) -> Result<Expired, HistoryError>;
    /// Makes every write so far durable.
    fn sync(&self) -> Result<(), HistoryError>;
}

/// Whether a profile is a correspondent (see [`Store::correspondents`]).
pub fn is_correspondent(p: &SenderProfile) -> bool {
    !p.key.contains('@') && (p.outbound > 0 || p.inbound >= 3)
}
