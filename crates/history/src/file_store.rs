//! The embedded backend: one redb file, for one gateway.
//!
//! Writes commit without fsync (redb's `Durability::None`); [`Store::sync`]
//! and a periodic durable commit (every [`DURABLE_EVERY`] or
//! [`DURABLE_COMMITS`] commits, whichever comes first) make them
//! durable. A crash loses at most that recent, unsynced work; redb's
//! copy-on-write commits never leave the file half written. redb locks
//! the file: a second process is refused with a message that says so.

use crate::history::random_salt;
use crate::store::{is_correspondent, Expired, Observation, Store};
use crate::HistoryError;
use impostor_features::sender_history::{SenderProfile, UnixTime};
use redb::{
    Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, WriteTransaction,
};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The salt (32 bytes), the learned count and the next pending sequence
/// number (u64, little-endian).
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Profile key → its last_seen (i64, little-endian) then its JSON: the
/// prefix lets a write move the age index without decoding the profile.
const PROFILES: TableDefinition<&str, &[u8]> = TableDefinition::new("profiles");
/// (last_seen, key): profiles in expiry order.
const PROFILE_AGE: TableDefinition<(i64, &str), ()> = TableDefinition::new("profile_age");
/// Message-ID hash → time.
const MESSAGE_IDS: TableDefinition<&str, i64> = TableDefinition::new("message_ids");
/// (time, hash): message ids in expiry order.
const MESSAGE_AGE: TableDefinition<(i64, &str), ()> = TableDefinition::new("message_age");
/// (due, sequence) → JSON observation: the earliest due first, so taking
/// costs only what is taken.
const PENDING: TableDefinition<(i64, u64), &[u8]> = TableDefinition::new("pending");
/// Domain keys that are correspondents.
const CORRESPONDENTS: TableDefinition<&str, ()> = TableDefinition::new("correspondents");

const SALT: &str = "salt";
const LEARNED: &str = "learned";
const NEXT_PENDING: &str = "next_pending";

/// The longest a lazy commit stays undurable.
const DURABLE_EVERY: Duration = Duration::from_secs(5);
/// Lazy commits between two durable ones (redb keeps the pages a lazy
/// commit freed until a durable one: this bounds the file's growth).
const DURABLE_COMMITS: u32 = 1_000;

/// Profiles or message ids an expiry pass removes per transaction.
const EXPIRE_CHUNK: usize = 10_000;

/// A store in one redb file.
pub struct FileStore {
    db: Database,
    path: PathBuf,
    salt: [u8; 32],
    lazy: Mutex<Lazy>,
}

/// Lazy commits since the last durable one.
struct Lazy {
    commits: u32,
    since: Instant,
}

impl FileStore {
    /// Opens (creating when missing) the store at `path`. Its folder must
    /// exist. A new store gets a random salt. Refused while another
    /// process (or another handle in this one) has the file open.
    pub fn open(path: &Path) -> Result<FileStore, HistoryError> {
        let file_error = |message: String| HistoryError::File {
            path: path.to_path_buf(),
            message,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(file_error(format!(
                    "the folder {} does not exist; create it first",
                    parent.display()
                )));
            }
        }
        if path.is_dir() {
            return Err(file_error("is a folder, not a store file".into()));
        }
        let db = Database::create(path).map_err(|e| match e {
            DatabaseError::DatabaseAlreadyOpen => file_error(
                "it is open in another impostor process (the file is locked); \
                 share one store between processes with Redis"
                    .into(),
            ),
            other => file_error(format!("cannot open it as a store: {other}")),
        })?;
        let mut store = FileStore {
            db,
            path: path.to_path_buf(),
            salt: [0; 32],
            lazy: Mutex::new(Lazy {
                commits: 0,
                since: Instant::now(),
            }),
        };
        store.salt = store.init()?;
        Ok(store)
    }

    /// Creates the tables and the salt when missing (one durable commit);
    /// the salt.
    fn init(&self) -> Result<[u8; 32], HistoryError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        let salt = {
            let mut meta = txn.open_table(META).map_err(|e| self.err(e))?;
            let stored = meta
                .get(SALT)
                .map_err(|e| self.err(e))?
                .map(|v| v.value().to_vec());
            match stored {
                Some(bytes) => <[u8; 32]>::try_from(bytes.as_slice())
                    .map_err(|_| self.corrupt("the salt is not 32 bytes".into()))?,
                None => {
                    let salt = random_salt()?;
                    meta.insert(SALT, salt.as_slice())
                        .map_err(|e| self.err(e))?;
                    salt
                }
            }
        };
        txn.open_table(PROFILES).map_err(|e| self.err(e))?;
        txn.open_table(PROFILE_AGE).map_err(|e| self.err(e))?;
        txn.open_table(MESSAGE_IDS).map_err(|e| self.err(e))?;
        txn.open_table(MESSAGE_AGE).map_err(|e| self.err(e))?;
        txn.open_table(PENDING).map_err(|e| self.err(e))?;
        txn.open_table(CORRESPONDENTS).map_err(|e| self.err(e))?;
        txn.commit().map_err(|e| self.err(e))?;
        Ok(salt)
    }

    fn err(&self, e: impl std::fmt::Display) -> HistoryError {
        HistoryError::File {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    fn corrupt(&self, message: String) -> HistoryError {
        HistoryError::Corrupt {
            store: self.describe(),
            message,
        }
    }

    /// A write transaction that commits lazily (see the module's doc).
    fn begin(&self) -> Result<WriteTransaction, HistoryError> {
        let mut txn = self.db.begin_write().map_err(|e| self.err(e))?;
        let durable = {
            let mut lazy = self.lazy.lock().unwrap_or_else(|e| e.into_inner());
            lazy.commits += 1;
            let durable = lazy.commits >= DURABLE_COMMITS || lazy.since.elapsed() >= DURABLE_EVERY;
            if durable {
                lazy.commits = 0;
                lazy.since = Instant::now();
            }
            durable
        };
        if !durable {
            txn.set_durability(Durability::None)
                .map_err(|e| self.err(e))?;
        }
        Ok(txn)
    }

    fn counter(
        &self,
        meta: &impl ReadableTable<&'static str, &'static [u8]>,
        name: &str,
    ) -> Result<u64, HistoryError> {
        match meta.get(name).map_err(|e| self.err(e))? {
            None => Ok(0),
            Some(v) => <[u8; 8]>::try_from(v.value())
                .map(u64::from_le_bytes)
                .map_err(|_| self.corrupt(format!("the {name} counter is not 8 bytes"))),
        }
    }

    fn decode_profile(&self, bytes: &[u8]) -> Result<SenderProfile, HistoryError> {
        let json = bytes
            .get(8..)
            .ok_or_else(|| self.corrupt("a profile record is too short".into()))?;
        serde_json::from_slice(json).map_err(|e| self.corrupt(format!("a profile: {e}")))
    }

    fn last_seen_of(&self, bytes: &[u8]) -> Result<i64, HistoryError> {
        bytes
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_le_bytes)
            .ok_or_else(|| self.corrupt("a profile record is too short".into()))
    }

    /// Removes profiles from the least recently seen: those seen before
    /// `before`, then more while over `max`; at most [`EXPIRE_CHUNK`] in
    /// one transaction; how many.
    fn expire_profiles(&self, before: UnixTime, max: usize) -> Result<u64, HistoryError> {
        let txn = self.begin()?;
        let removed = {
            let mut profiles = txn.open_table(PROFILES).map_err(|e| self.err(e))?;
            let mut age = txn.open_table(PROFILE_AGE).map_err(|e| self.err(e))?;
            let mut corr = txn.open_table(CORRESPONDENTS).map_err(|e| self.err(e))?;
            let total = profiles.len().map_err(|e| self.err(e))?;
            let excess = usize::try_from(total)
                .unwrap_or(usize::MAX)
                .saturating_sub(max);
            let mut victims: Vec<(i64, String)> = Vec::new();
            for entry in age.iter().map_err(|e| self.err(e))? {
                let (k, _) = entry.map_err(|e| self.err(e))?;
                let (seen, key) = k.value();
                if victims.len() >= EXPIRE_CHUNK || (seen >= before && victims.len() >= excess) {
                    break;
                }
                victims.push((seen, key.to_string()));
            }
            for (seen, key) in &victims {
                age.remove((*seen, key.as_str())).map_err(|e| self.err(e))?;
                profiles.remove(key.as_str()).map_err(|e| self.err(e))?;
                corr.remove(key.as_str()).map_err(|e| self.err(e))?;
            }
            victims.len() as u64
        };
        txn.commit().map_err(|e| self.err(e))?;
        Ok(removed)
    }

    /// Like [`FileStore::expire_profiles`], for message ids.
    fn expire_message_ids(&self, before: UnixTime, max: usize) -> Result<u64, HistoryError> {
        let txn = self.begin()?;
        let removed = {
            let mut ids = txn.open_table(MESSAGE_IDS).map_err(|e| self.err(e))?;
            let mut age = txn.open_table(MESSAGE_AGE).map_err(|e| self.err(e))?;
            let total = ids.len().map_err(|e| self.err(e))?;
            let excess = usize::try_from(total)
                .unwrap_or(usize::MAX)
                .saturating_sub(max);
            let mut victims: Vec<(i64, String)> = Vec::new();
            for entry in age.iter().map_err(|e| self.err(e))? {
                let (k, _) = entry.map_err(|e| self.err(e))?;
                let (time, hash) = k.value();
                if victims.len() >= EXPIRE_CHUNK || (time >= before && victims.len() >= excess) {
                    break;
                }
                victims.push((time, hash.to_string()));
            }
            for (time, hash) in &victims {
                age.remove((*time, hash.as_str()))
                    .map_err(|e| self.err(e))?;
                ids.remove(hash.as_str()).map_err(|e| self.err(e))?;
            }
            victims.len() as u64
        };
        txn.commit().map_err(|e| self.err(e))?;
        Ok(removed)
    }
}

impl Store for FileStore {
    fn describe(&self) -> String {
        format!("embedded store {}", self.path.display())
    }

    fn salt(&self) -> Result<[u8; 32], HistoryError> {
        Ok(self.salt)
    }

    fn learned(&self) -> Result<u64, HistoryError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let meta = txn.open_table(META).map_err(|e| self.err(e))?;
        self.counter(&meta, LEARNED)
    }

    fn profile(&self, key: &str) -> Result<Option<SenderProfile>, HistoryError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let profiles = txn.open_table(PROFILES).map_err(|e| self.err(e))?;
        let found = profiles.get(key).map_err(|e| self.err(e))?;
        found.map(|v| self.decode_profile(v.value())).transpose()
    }

    fn known(&self, keys: &[String]) -> Result<Vec<bool>, HistoryError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let profiles = txn.open_table(PROFILES).map_err(|e| self.err(e))?;
        keys.iter()
            .map(|k| {
                profiles
                    .get(k.as_str())
                    .map(|v| v.is_some())
                    .map_err(|e| self.err(e))
            })
            .collect()
    }

    fn write(
        &self,
        profiles: &[SenderProfile],
        message_ids: &[(String, UnixTime)],
        learned: u64,
    ) -> Result<(), HistoryError> {
        let txn = self.begin()?;
        {
            let mut table = txn.open_table(PROFILES).map_err(|e| self.err(e))?;
            let mut age = txn.open_table(PROFILE_AGE).map_err(|e| self.err(e))?;
            let mut corr = txn.open_table(CORRESPONDENTS).map_err(|e| self.err(e))?;
            for p in profiles {
                let old_seen = table
                    .get(p.key.as_str())
                    .map_err(|e| self.err(e))?
                    .map(|v| self.last_seen_of(v.value()))
                    .transpose()?;
                if let Some(seen) = old_seen {
                    age.remove((seen, p.key.as_str()))
                        .map_err(|e| self.err(e))?;
                }
                let mut record = p.last_seen.to_le_bytes().to_vec();
                serde_json::to_writer(&mut record, p)
                    .map_err(|e| self.err(format!("cannot encode a profile: {e}")))?;
                table
                    .insert(p.key.as_str(), record.as_slice())
                    .map_err(|e| self.err(e))?;
                age.insert((p.last_seen, p.key.as_str()), ())
                    .map_err(|e| self.err(e))?;
                if is_correspondent(p) {
                    corr.insert(p.key.as_str(), ()).map_err(|e| self.err(e))?;
                }
            }
            let mut ids = txn.open_table(MESSAGE_IDS).map_err(|e| self.err(e))?;
            let mut id_age = txn.open_table(MESSAGE_AGE).map_err(|e| self.err(e))?;
            for (id, time) in message_ids {
                let old = ids
                    .insert(id.as_str(), *time)
                    .map_err(|e| self.err(e))?
                    .map(|v| v.value());
                if let Some(old) = old {
                    id_age.remove((old, id.as_str())).map_err(|e| self.err(e))?;
                }
                id_age
                    .insert((*time, id.as_str()), ())
                    .map_err(|e| self.err(e))?;
            }
            let mut meta = txn.open_table(META).map_err(|e| self.err(e))?;
            let count = self.counter(&meta, LEARNED)?.saturating_add(learned);
            meta.insert(LEARNED, count.to_le_bytes().as_slice())
                .map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))
    }

    fn forget(&self, key: &str) -> Result<bool, HistoryError> {
        let txn = self.begin()?;
        let existed = {
            let mut table = txn.open_table(PROFILES).map_err(|e| self.err(e))?;
            let mut age = txn.open_table(PROFILE_AGE).map_err(|e| self.err(e))?;
            let mut corr = txn.open_table(CORRESPONDENTS).map_err(|e| self.err(e))?;
            corr.remove(key).map_err(|e| self.err(e))?;
            let old_seen = table
                .remove(key)
                .map_err(|e| self.err(e))?
                .map(|v| self.last_seen_of(v.value()))
                .transpose()?;
            if let Some(seen) = old_seen {
                age.remove((seen, key)).map_err(|e| self.err(e))?;
            }
            old_seen.is_some()
        };
        txn.commit().map_err(|e| self.err(e))?;
        Ok(existed)
    }

    fn any_message_id(&self, hashes: &[String]) -> Result<bool, HistoryError> {
        if hashes.is_empty() {
            return Ok(false);
        }
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let ids = txn.open_table(MESSAGE_IDS).map_err(|e| self.err(e))?;
        for h in hashes {
            if ids.get(h.as_str()).map_err(|e| self.err(e))?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn push_pending(&self, due: UnixTime, observation: &Observation) -> Result<(), HistoryError> {
        let json = serde_json::to_vec(observation)
            .map_err(|e| self.err(format!("cannot encode an observation: {e}")))?;
        let txn = self.begin()?;
        {
            let mut meta = txn.open_table(META).map_err(|e| self.err(e))?;
            let seq = self.counter(&meta, NEXT_PENDING)?;
            meta.insert(NEXT_PENDING, seq.wrapping_add(1).to_le_bytes().as_slice())
                .map_err(|e| self.err(e))?;
            let mut pending = txn.open_table(PENDING).map_err(|e| self.err(e))?;
            pending
                .insert((due, seq), json.as_slice())
                .map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))
    }

    fn take_due(&self, now: UnixTime, max: usize) -> Result<Vec<Observation>, HistoryError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        // Peek first with a cheap read: most messages find nothing due,
        // and a read costs no commit.
        {
            let txn = self.db.begin_read().map_err(|e| self.err(e))?;
            let pending = txn.open_table(PENDING).map_err(|e| self.err(e))?;
            let first_due = pending
                .first()
                .map_err(|e| self.err(e))?
                .map(|(k, _)| k.value().0);
            if first_due.is_none_or(|due| due > now) {
                return Ok(Vec::new());
            }
        }
        let txn = self.begin()?;
        let mut raw: Vec<Vec<u8>> = Vec::new();
        {
            let mut pending = txn.open_table(PENDING).map_err(|e| self.err(e))?;
            while raw.len() < max {
                let first_due = pending
                    .first()
                    .map_err(|e| self.err(e))?
                    .map(|(k, _)| k.value().0);
                if first_due.is_none_or(|due| due > now) {
                    break;
                }
                if let Some((_, v)) = pending.pop_first().map_err(|e| self.err(e))? {
                    raw.push(v.value().to_vec());
                }
            }
        }
        txn.commit().map_err(|e| self.err(e))?;
        raw.iter()
            .map(|bytes| {
                serde_json::from_slice(bytes)
                    .map_err(|e| self.corrupt(format!("a pending observation: {e}")))
            })
            .collect()
    }

    fn pending(&self) -> Result<u64, HistoryError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let pending = txn.open_table(PENDING).map_err(|e| self.err(e))?;
        pending.len().map_err(|e| self.err(e))
    }

    fn correspondents(&self) -> Result<Vec<String>, HistoryError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let corr = txn.open_table(CORRESPONDENTS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for entry in corr.iter().map_err(|e| self.err(e))? {
            let (k, _) = entry.map_err(|e| self.err(e))?;
            out.push(k.value().to_string());
        }
        Ok(out)
    }

    fn keys(&self) -> Result<Vec<String>, HistoryError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let profiles = txn.open_table(PROFILES).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for entry in profiles.iter().map_err(|e| self.err(e))? {
            let (k, _) = entry.map_err(|e| self.err(e))?;
            out.push(k.value().to_string());
        }
        Ok(out)
    }

    fn expire(
        &self,
        before: UnixTime,
        max_profiles: usize,
        max_message_ids: usize,
    ) -> Result<Expired, HistoryError> {
        // In chunks, so one pass never holds a huge transaction.
        let mut out = Expired::default();
        loop {
            let n = self.expire_profiles(before, max_profiles)?;
            out.profiles += n;
            if n < EXPIRE_CHUNK as u64 {
                break;
            }
        }
        loop {
            let n = self.expire_message_ids(before, max_message_ids)?;
            out.message_ids += n;
            if n < EXPIRE_CHUNK as u64 {
                break;
            }
        }
        Ok(out)
    }

    fn sync(&self) -> Result<(), HistoryError> {
        // An empty durable commit makes every lazy commit before it durable.
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        txn.commit().map_err(|e| self.err(e))?;
        let mut lazy = self.lazy.lock().unwrap_or_else(|e| e.into_inner());
        lazy.commits = 0;
        lazy.since = Instant::now();
        Ok(())
    }
}

impl Drop for FileStore {
    fn drop(&mut self) {
        // Closing makes the lazy commits durable; an error here has no one
        // to go to, and the file stays consistent without it.
        let _ = self.sync();
    }
}
