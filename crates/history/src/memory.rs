//! The in-memory backend: replays (`--history-replay`, training) and
//! tests. Nothing survives the process.

use crate::store::{is_correspondent, Expired, Observation, Store};
use crate::HistoryError;
use impostor_features::sender_history::{SenderProfile, UnixTime};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

/// A store held in memory.
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    salt: [u8; 32],
    learned: u64,
    profiles: HashMap<String, SenderProfile>,
    message_ids: HashMap<String, UnixTime>,
    pending: BTreeMap<(UnixTime, u64), Observation>,
    next_pending: u64,
    correspondents: BTreeSet<String>,
}

impl MemoryStore {
    /// An empty store with a fixed salt (a replay's hashes never leave
    /// the process, so the salt needs no secrecy).
    pub fn new(salt: [u8; 32]) -> MemoryStore {
        MemoryStore {
            state: Mutex::new(State {
                salt,
                ..State::default()
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain data that
        // is still consistent enough to read.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store for MemoryStore {
    fn describe(&self) -> String {
        "memory".into()
    }

    fn salt(&self) -> Result<[u8; 32], HistoryError> {
        Ok(self.state().salt)
    }

    fn learned(&self) -> Result<u64, HistoryError> {
        Ok(self.state().learned)
    }

    fn profile(&self, key: &str) -> Result<Option<SenderProfile>, HistoryError> {
        Ok(self.state().profiles.get(key).cloned())
    }

    fn known(&self, keys: &[String]) -> Result<Vec<bool>, HistoryError> {
        let s = self.state();
        Ok(keys.iter().map(|k| s.profiles.contains_key(k)).collect())
    }

    fn write(
        &self,
        profiles: &[SenderProfile],
        message_ids: &[(String, UnixTime)],
        learned: u64,
    ) -> Result<(), HistoryError> {
        let mut s = self.state();
        for p in profiles {
            if is_correspondent(p) {
                s.correspondents.insert(p.key.clone());
            }
            s.profiles.insert(p.key.clone(), p.clone());
        }
        for (id, time) in message_ids {
            s.message_ids.insert(id.clone(), *time);
        }
        s.learned += learned;
        Ok(())
    }

    fn forget(&self, key: &str) -> Result<bool, HistoryError> {
        let mut s = self.state();
        s.correspondents.remove(key);
        Ok(s.profiles.remove(key).is_some())
    }

    fn any_message_id(&self, hashes: &[String]) -> Result<bool, HistoryError> {
        let s = self.state();
        Ok(hashes.iter().any(|h| s.message_ids.contains_key(h)))
    }

    fn push_pending(&self, due: UnixTime, observation: &Observation) -> Result<(), HistoryError> {
        let mut s = self.state();
        let n = s.next_pending;
        s.next_pending += 1;
        s.pending.insert((due, n), observation.clone());
        Ok(())
    }

    fn take_due(&self, now: UnixTime, max: usize) -> Result<Vec<Observation>, HistoryError> {
        let mut s = self.state();
        let mut taken = Vec::new();
        while taken.len() < max {
            let Some(entry) = s.pending.first_entry() else {
                break;
            };
            if entry.key().0 > now {
                break;
            }
            taken.push(entry.remove());
        }
        Ok(taken)
    }

    fn pending(&self) -> Result<u64, HistoryError> {
        Ok(self.state().pending.len() as u64)
    }

    fn correspondents(&self) -> Result<Vec<String>, HistoryError> {
        Ok(self.state().correspondents.iter().cloned().collect())
    }

    fn keys(&self) -> Result<Vec<String>, HistoryError> {
        let mut keys: Vec<String> = self.state().profiles.keys().cloned().collect();
        keys.sort();
        Ok(keys)
    }

    fn expire(
        &self,
        before: UnixTime,
        max_profiles: usize,
        max_message_ids: usize,
    ) -> Result<Expired, HistoryError> {
        let mut s = self.state();
        let mut out = Expired::default();
        let mut by_age: Vec<(UnixTime, String)> = s
            .profiles
            .values()
            .map(|p| (p.last_seen, p.key.clone()))
            .collect();
        by_age.sort();
        let excess = by_age.len().saturating_sub(max_profiles);
        for (i, (seen, key)) in by_age.into_iter().enumerate() {
            if seen < before || i < excess {
                s.profiles.remove(&key);
                s.correspondents.remove(&key);
                out.profiles += 1;
            }
        }
        let mut ids: Vec<(UnixTime, String)> =
            s.message_ids.iter().map(|(k, t)| (*t, k.clone())).collect();
        ids.sort();
        let excess = ids.len().saturating_sub(max_message_ids);
        for (i, (t, id)) in ids.into_iter().enumerate() {
            if t < before || i < excess {
                s.message_ids.remove(&id);
                out.message_ids += 1;
            }
        }
        Ok(out)
    }

    fn sync(&self) -> Result<(), HistoryError> {
        Ok(())
    }
}
