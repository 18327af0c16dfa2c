//! [`History`]: the logic over a [`Store`]. It answers a message's
//! questions ([`History::snapshot`]), learns messages after a delay
//! ([`History::observe`]), and forgets, expires and bounds.

use crate::memory::MemoryStore;
use crate::store::{Expired, Observation, Store};
use crate::HistoryError;
use impostor_features::sender_history::{
    Flow, HistorySnapshot, ImitatedCorrespondent, MessageFacts, SenderProfile, UnixTime,
};
use impostor_features::LookalikeIndex;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How a store learns and forgets. [`HistoryParams::check`] validates it
/// into [`CheckedHistoryParams`], which [`History`] holds.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryParams {
    /// Seconds before a message counts in the history: an attacker cannot
    /// make an address known by writing first and attacking a minute
    /// later.
    pub delay_secs: i64,
    /// Seconds a profile or Message-ID is kept after it was last seen.
    pub retention_secs: i64,
    /// Most profiles kept; the least recently seen go first.
    pub max_profiles: usize,
    /// Most Message-ID hashes kept; the oldest go first.
    pub max_message_ids: usize,
}

impl Default for HistoryParams {
    fn default() -> Self {
        HistoryParams {
            delay_secs: 4 * 3_600,
            retention_secs: 400 * 86_400,
            max_profiles: 1_000_000,
            max_message_ids: 5_000_000,
        }
    }
}

/// [`HistoryParams`] known to be in range.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedHistoryParams(HistoryParams);

impl HistoryParams {
    /// Checks every parameter's range.
    pub fn check(self) -> Result<CheckedHistoryParams, HistoryError> {
        let refuse = |name, message: &str| {
            Err(HistoryError::Param {
                name,
                message: message.to_string(),
            })
        };
        if !(0..=30 * 86_400).contains(&self.delay_secs) {
            return refuse("delay", "must be between 0 and 30 days");
        }
        if self.retention_secs < 86_400 {
            return refuse("retention", "must be one day or more");
        }
        if self.max_profiles == 0 || self.max_message_ids == 0 {
            return refuse("size bound", "must be at least 1");
        }
        Ok(CheckedHistoryParams(self))
    }
}

impl std::ops::Deref for CheckedHistoryParams {
    type Target = HistoryParams;
    fn deref(&self) -> &HistoryParams {
        &self.0
    }
}

/// Observations learnt between two expiry passes.
const EXPIRE_EVERY: u64 = 10_000;

/// Pending observations taken from the store at a time.
const TAKE_BATCH: usize = 1_024;

/// The correspondents' lookalike index is rebuilt after this many more
/// messages were learnt (or a twentieth of all, when more).
const REBUILD_AFTER: u64 = 200;

/// The sender history of one organisation over one store.
pub struct History {
    store: Box<dyn Store>,
    params: CheckedHistoryParams,
    salt: [u8; 32],
    /// The latest message time seen: "now" for a message without a date.
    clock: AtomicI64,
    since_expiry: AtomicU64,
    correspondents: Mutex<Option<Arc<Correspondents>>>,
}

struct Correspondents {
    learned: u64,
    domains: HashSet<String>,
    index: LookalikeIndex,
}

/// What a store holds, for `impostor history show` and logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HistoryStats {
    /// Messages learnt.
    pub learned: u64,
    /// Messages waiting for their delay.
    pub pending: u64,
    /// Profiles kept.
    pub profiles: u64,
}

impl History {
    /// The history over `store`.
    pub fn new(
        store: Box<dyn Store>,
        params: CheckedHistoryParams,
    ) -> Result<History, HistoryError> {
        let salt = store.salt()?;
        Ok(History {
            store,
            params,
            salt,
            clock: AtomicI64::new(i64::MIN),
            since_expiry: AtomicU64::new(0),
            correspondents: Mutex::new(None),
        })
    }

    /// A history in memory (replays and tests).
    pub fn memory(params: CheckedHistoryParams) -> History {
        let store = MemoryStore::new(*b"impostor replay: salt in memory.");
        History::new(Box::new(store), params).unwrap_or_else(|_| unreachable!("memory salt"))
    }

    /// Opens the store `spec` names: `memory:`, `redis://HOST:PORT[/DB]`
    /// (with `?prefix=NAME` for several organisations on one server), or
    /// a file path (the embedded store; created when missing).
    pub fn open(spec: &str, params: CheckedHistoryParams) -> Result<History, HistoryError> {
        let store: Box<dyn Store> = if spec == "memory:" {
            Box::new(MemoryStore::new(random_salt()?))
        } else if spec.starts_with("redis://") {
            Box::new(crate::redis_store::RedisStore::connect(spec)?)
        } else if spec.is_empty() || spec.contains("://") {
            return Err(HistoryError::Spec(spec.to_string()));
        } else {
            Box::new(crate::file_store::FileStore::open(std::path::Path::new(
                spec,
            ))?)
        };
        History::new(store, params)
    }

    /// The store, in words.
    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// The parameters.
    pub fn params(&self) -> &HistoryParams {
        &self.params
    }

    /// What the store knew about `facts` before this message: pending
    /// observations now due are learnt first ("now" is the message's time,
    /// or the latest seen for one without a date).
    pub fn snapshot(&self, facts: &MessageFacts) -> Result<HistorySnapshot, HistoryError> {
        let now = self.now_for(facts);
        self.apply_due(now)?;
        let sender = match &facts.sender_key {
            Some(k) => self.store.profile(k)?,
            None => None,
        };
        let reply_to_known = self.store.known(&facts.reply_to_keys)?;
        let thread_known = if facts.references.is_empty() {
            None
        } else {
            let hashes: Vec<String> = facts.references.iter().map(|r| self.hash(r)).collect();
            Some(self.store.any_message_id(&hashes)?)
        };
        let bank_accounts_known = facts
            .bank_accounts
            .iter()
            .map(|a| {
                let h = self.hash(a);
                sender
                    .as_ref()
                    .is_some_and(|p| p.bank_accounts.contains(&h))
            })
            .collect();
        Ok(HistorySnapshot {
            learned_messages: self.store.learned()?,
            sender,
            reply_to_known,
            thread_known,
            bank_accounts_known,
            imitated_correspondents: self.imitations(&facts.lookalike_candidates)?,
        })
    }

    /// Queues a message to be learnt once the delay has passed;
    /// `flagged`: a detector flagged it (it then only counts against its
    /// sender, and never makes a new sender known).
    pub fn observe(&self, facts: &MessageFacts, flagged: bool) -> Result<(), HistoryError> {
        let observation = self.observation(facts, flagged);
        if self.params.delay_secs == 0 {
            return self.learn(&[observation]);
        }
        // The organisation's own messages are threads at once: a
        // colleague's or a vendor's reply minutes later names them, and an
        // outsider cannot make the organisation send.
        if let (true, false, Some(id)) = (
            facts.flow.is_from_inside(),
            flagged || facts.sender_failed,
            &observation.facts.message_id,
        ) {
            self.store
                .write(&[], &[(id.clone(), observation.time)], 0)?;
        }
        let due = observation.time.saturating_add(self.params.delay_secs);
        self.store.push_pending(due, &observation)
    }

    /// Learns a message at once, without the delay (importing an archive
    /// of the organisation's past mail).
    pub fn learn_now(&self, facts: &MessageFacts, flagged: bool) -> Result<(), HistoryError> {
        let observation = self.observation(facts, flagged);
        self.learn(&[observation])
    }

    /// Learns many messages at once, in one write (import batches).
    pub fn learn_all(&self, messages: &[(MessageFacts, bool)]) -> Result<(), HistoryError> {
        let observations: Vec<Observation> = messages
            .iter()
            .map(|(f, flagged)| self.observation(f, *flagged))
            .collect();
        self.learn(&observations)
    }

    /// Learns every pending observation due at or before `now`; how many.
    pub fn apply_due(&self, now: UnixTime) -> Result<usize, HistoryError> {
        let mut done = 0;
        loop {
            let batch = self.store.take_due(now, TAKE_BATCH)?;
            if batch.is_empty() {
                return Ok(done);
            }
            done += batch.len();
            self.learn(&batch)?;
        }
    }

    /// Learns every pending observation, due or not.
    pub fn apply_all_pending(&self) -> Result<usize, HistoryError> {
        self.apply_due(UnixTime::MAX)
    }

    /// One profile, by key (an address or a registrable domain).
    pub fn profile(&self, key: &str) -> Result<Option<SenderProfile>, HistoryError> {
        self.store.profile(&key.trim().to_ascii_lowercase())
    }

    /// Forgets one key; whether it was known.
    pub fn forget(&self, key: &str) -> Result<bool, HistoryError> {
        let key = key.trim().to_ascii_lowercase();
        let forgotten = self.store.forget(&key)?;
        self.store.sync()?;
        if forgotten {
            self.invalidate_correspondents();
        }
        Ok(forgotten)
    }

    /// Every profile key, sorted.
    pub fn keys(&self) -> Result<Vec<String>, HistoryError> {
        self.store.keys()
    }

    /// Removes what is older than the retention before `now`, and the
    /// oldest past the size bounds.
    pub fn expire(&self, now: UnixTime) -> Result<Expired, HistoryError> {
        let before = now.saturating_sub(self.params.retention_secs);
        let expired = self.store.expire(
            before,
            self.params.max_profiles,
            self.params.max_message_ids,
        )?;
        if expired.profiles > 0 {
            self.invalidate_correspondents();
        }
        Ok(expired)
    }

    /// Counts of what the store holds.
    pub fn stats(&self) -> Result<HistoryStats, HistoryError> {
        Ok(HistoryStats {
            learned: self.store.learned()?,
            pending: self.store.pending()?,
            profiles: self.store.keys()?.len() as u64,
        })
    }

    /// Makes every write durable (the embedded store commits lazily).
    pub fn sync(&self) -> Result<(), HistoryError> {
        self.store.sync()
    }

    /// The latest message time seen.
    pub fn clock(&self) -> Option<UnixTime> {
        let t = self.clock.load(Ordering::Relaxed);
        (t != i64::MIN).then_some(t)
    }

    fn now_for(&self, facts: &MessageFacts) -> UnixTime {
        match facts.time {
            Some(t) => {
                self.clock.fetch_max(t, Ordering::Relaxed);
                t
            }
            None => self.clock().unwrap_or(0),
        }
    }

    /// The salted hash of a bank account or Message-ID (hex, 128 bits).
    fn hash(&self, text: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(text.as_bytes());
        let digest = h.finalize();
        hex::encode(digest.get(..16).unwrap_or_default())
    }

    fn observation(&self, facts: &MessageFacts, flagged: bool) -> Observation {
        let time = self.now_for(facts);
        let mut kept = facts.clone();
        kept.time = Some(time);
        let account_hashes = kept.bank_accounts.iter().map(|a| self.hash(a)).collect();
        kept.bank_accounts.clear();
        kept.message_id = kept.message_id.as_deref().map(|id| self.hash(id));
        kept.references = kept.references.iter().map(|r| self.hash(r)).collect();
        Observation {
            time,
            facts: kept,
            account_hashes,
            flagged,
        }
    }

    fn learn(&self, observations: &[Observation]) -> Result<(), HistoryError> {
        let mut profiles: HashMap<String, SenderProfile> = HashMap::new();
        let mut ids: Vec<(String, UnixTime)> = Vec::new();
        let mut learned = 0;
        for o in observations {
            learned += 1;
            let f = &o.facts;
            // A message whose sender failed authentication teaches nothing
            // about that sender, nor its thread.
            if f.sender_failed {
                continue;
            }
            if let Some(id) = &f.message_id {
                ids.push((id.clone(), o.time));
            }
            if let Some(key) = &f.sender_key {
                let known = self.profile_into(&mut profiles, key)?;
                match (known, o.flagged) {
                    (Some(p), true) => p.flagged += 1,
                    (None, true) => {}
                    (_, false) => {
                        let p = profiles
                            .entry(key.clone())
                            .or_insert_with(|| SenderProfile::new(key, o.time));
                        p.learn_sent(f, &o.account_hashes, false);
                    }
                }
            }
            if matches!(f.flow, Flow::Outbound | Flow::Internal) && !o.flagged {
                for r in &f.recipient_keys {
                    if Some(r) == f.sender_key.as_ref() {
                        continue;
                    }
                    self.profile_into(&mut profiles, r)?;
                    profiles
                        .entry(r.clone())
                        .or_insert_with(|| SenderProfile::new(r, o.time))
                        .learn_written_to(o.time);
                }
            }
        }
        let profiles: Vec<SenderProfile> = profiles.into_values().collect();
        self.store.write(&profiles, &ids, learned)?;
        let since = self.since_expiry.fetch_add(learned, Ordering::Relaxed) + learned;
        if since >= EXPIRE_EVERY {
            self.since_expiry.store(0, Ordering::Relaxed);
            if let Some(now) = self.clock() {
                self.expire(now)?;
            }
        }
        Ok(())
    }

    /// The profile of `key` in `profiles`, read from the store the first
    /// time; `None` when the store has none either.
    fn profile_into<'a>(
        &self,
        profiles: &'a mut HashMap<String, SenderProfile>,
        key: &str,
    ) -> Result<Option<&'a mut SenderProfile>, HistoryError> {
        if !profiles.contains_key(key) {
            match self.store.profile(key)? {
                Some(p) => {
                    profiles.insert(key.to_string(), p);
                }
                None => return Ok(None),
            }
        }
        Ok(profiles.get_mut(key))
    }

    fn invalidate_correspondents(&self) {
        *self
            .correspondents
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Candidates that imitate a correspondent's domain (and are not
    /// correspondents themselves).
    fn imitations(
        &self,
        candidates: &[String],
    ) -> Result<Vec<ImitatedCorrespondent>, HistoryError> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let learned = self.store.learned()?;
        let current = {
            let mut slot = self
                .correspondents
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let stale = slot.as_ref().is_none_or(|c| {
                learned.saturating_sub(c.learned) >= REBUILD_AFTER.max(c.learned / 20)
            });
            if stale {
                let domains: HashSet<String> = self.store.correspondents()?.into_iter().collect();
                let index = LookalikeIndex::new(domains.iter().map(String::as_str));
                *slot = Some(Arc::new(Correspondents {
                    learned,
                    domains,
                    index,
                }));
            }
            slot.clone()
        };
        let Some(c) = current else {
            return Ok(Vec::new());
        };
        Ok(candidates
            .iter()
            .filter(|d| !c.domains.contains(d.as_str()))
            .filter_map(|d| c.index.find(d))
            // Weak matches (popular domains) are not evidence, nor edits of
            // names under four letters: among thousands of correspondents
            // one is often a letter away from another real one.
            .filter(|m| {
                let label = m.target.split('.').next().unwrap_or("");
                m.strength >= 0.7 && label.chars().count() >= 5 && c.domains.contains(&m.target)
            })
            .map(|m| ImitatedCorrespondent {
                how: m
                    .kinds
                    .iter()
                    .map(|k| k.describe())
                    .collect::<Vec<_>>()
                    .join(", "),
                domain: m.domain,
                correspondent: m.target,
            })
            .collect())
    }
}

/// A new store's salt, from the operating system.
pub(crate) fn random_salt() -> Result<[u8; 32], HistoryError> {
    let mut salt = [0u8; 32];
    getrandom::getrandom(&mut salt).map_err(|e| HistoryError::Param {
        name: "salt",
        message: format!("the operating system gave no random bytes: {e}"),
    })?;
    Ok(salt)
}
