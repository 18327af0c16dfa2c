//! The Redis backend: several gateways share one view of the history.
//!
//! Every key lies under `PREFIX:` (default `impostor`, or `?prefix=NAME`
//! in the URL, so several organisations can share a server):
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `salt` | string | the salt, hex (set once: `SET NX`) |
//! | `learned` | string | messages learnt (`INCRBY`) |
//! | `p:KEY` | string | one profile, JSON |
//! | `seen` | sorted set | profile keys by last seen (expiry) |
//! | `mids` | sorted set | Message-ID hashes by time (expiry, bound) |
//! | `pending` | sorted set | observations by due time |
//! | `pending:seq` | string | the pending members' sequence |
//! | `correspondents` | set | correspondent domain keys |
//!
//! Taking due observations and expiring are Lua scripts, so with several
//! gateways each observation is taken once and expiry never races a
//! write. Durability is the server's (its RDB/AOF settings).

use crate::store::{is_correspondent, Expired, Observation, Store};
use crate::HistoryError;
use impostor_features::sender_history::{SenderProfile, UnixTime};
use redis::{Client, Connection, ConnectionLike, RedisError, Script};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long to wait for the server to accept, answer or take a command:
/// a dead Redis is an error, not a hang.
const TIMEOUT: Duration = Duration::from_secs(2);

/// The prefix when the URL names none.
const DEFAULT_PREFIX: &str = "impostor";

/// Observations one take script moves (Lua's `unpack` has a stack limit).
const TAKE_CHUNK: usize = 1_000;

/// Profiles or message ids one expiry script removes (a script blocks
/// the server while it runs).
const EXPIRE_CHUNK: usize = 1_000;

/// Takes up to ARGV[2] members scored at most ARGV[1], earliest first,
/// and removes them, atomically.
const TAKE_SCRIPT: &str = r"
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #items > 0 then
  redis.call('ZREM', KEYS[1], unpack(items))
end
return items
";

/// Removes, from the lowest score, the members scored below ARGV[1] and
/// then more while the set holds over ARGV[2]; at most ARGV[3]. With
/// ARGV[4] non-empty the members are profile keys: their `ARGV[4]..key`
/// records and their place in the correspondents set KEYS[2] go too.
/// Returns how many were removed.
const EXPIRE_SCRIPT: &str = r"
local n = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[1])
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2])
if excess > n then n = excess end
if n > tonumber(ARGV[3]) then n = tonumber(ARGV[3]) end
if n <= 0 then return 0 end
local victims = redis.call('ZRANGE', KEYS[1], 0, n - 1)
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - 1)
if ARGV[4] ~= '' then
  for _, k in ipairs(victims) do
    redis.call('DEL', ARGV[4] .. k)
  end
  redis.call('SREM', KEYS[2], unpack(victims))
end
return #victims
";

/// A store on a Redis server.
pub struct RedisStore {
    client: Client,
    /// The connection, made again after an I/O error or timeout (a
    /// timed-out reply would otherwise answer the next command).
    conn: Mutex<Option<Connection>>,
    /// The URL without password, for messages.
    shown: String,
    prefix: String,
    salt: [u8; 32],
    take: Script,
    expire: Script,
}

impl RedisStore {
    /// Connects to `url`: `redis://[USER:PASSWORD@]HOST:PORT[/DB][?prefix=NAME]`.
    /// The first gateway on a prefix sets its salt; the others read it.
    pub fn connect(url: &str) -> Result<RedisStore, HistoryError> {
        let parsed = parse_url(url)?;
        let refuse = |message: String| HistoryError::Redis {
            url: parsed.shown.clone(),
            message,
        };
        let client = Client::open(parsed.client_url.as_str()).map_err(|e| refuse(e.to_string()))?;
        let mut store = RedisStore {
            client,
            conn: Mutex::new(None),
            shown: parsed.shown.clone(),
            prefix: parsed.prefix,
            salt: [0; 32],
            take: Script::new(TAKE_SCRIPT),
            expire: Script::new(EXPIRE_SCRIPT),
        };
        store.salt = store.init_salt()?;
        Ok(store)
    }

    /// Sets the salt unless another gateway did, then reads it.
    fn init_salt(&self) -> Result<[u8; 32], HistoryError> {
        let fresh = hex::encode(crate::history::random_salt()?);
        let key = self.key("salt");
        let stored: Option<String> = self.run(|c| {
            redis::cmd("SET")
                .arg(&key)
                .arg(&fresh)
                .arg("NX")
                .query::<()>(c)?;
            redis::cmd("GET").arg(&key).query(c)
        })?;
        let stored =
            stored.ok_or_else(|| self.corrupt("the salt vanished just after it was set".into()))?;
        hex::decode(stored.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .ok_or_else(|| self.corrupt(format!("{key} is not 32 bytes in hex")))
    }

    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    fn profile_key(&self, key: &str) -> String {
        format!("{}:p:{key}", self.prefix)
    }

    fn corrupt(&self, message: String) -> HistoryError {
        HistoryError::Corrupt {
            store: self.shown.clone(),
            message,
        }
    }

    fn redis_error(&self, e: &RedisError) -> HistoryError {
        HistoryError::Redis {
            url: self.shown.clone(),
            message: e.to_string(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Connection>> {
        // A panic while holding the lock leaves at worst a connection that
        // the next error replaces.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the connection (made when missing); after an error that
    /// leaves the connection unusable it is dropped, and the next call
    /// connects anew.
    fn run<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, RedisError>,
    ) -> Result<T, HistoryError> {
        let mut slot = self.lock();
        if slot.is_none() {
            let conn = self
                .client
                .get_connection_with_timeout(TIMEOUT)
                .and_then(|c| {
                    c.set_read_timeout(Some(TIMEOUT))?;
                    c.set_write_timeout(Some(TIMEOUT))?;
                    Ok(c)
                })
                .map_err(|e| self.redis_error(&e))?;
            *slot = Some(conn);
        }
        let Some(conn) = slot.as_mut() else {
            unreachable!("the connection was just made");
        };
        match f(conn) {
            Ok(v) => Ok(v),
            Err(e) => {
                if e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_unrecoverable_error()
                    || !conn.is_open()
                {
                    *slot = None;
                }
                Err(self.redis_error(&e))
            }
        }
    }

    fn decode_profile(&self, json: &str) -> Result<SenderProfile, HistoryError> {
        serde_json::from_str(json).map_err(|e| self.corrupt(format!("a profile: {e}")))
    }

    /// Runs the expiry script on one sorted set until it removes no more.
    fn expire_set(
        &self,
        set: &str,
        before: UnixTime,
        max: usize,
        records: &str,
    ) -> Result<u64, HistoryError> {
        let set = self.key(set);
        let corr = self.key("correspondents");
        let mut total = 0u64;
        loop {
            let n: u64 = self.run(|c| {
                self.expire
                    .key(&set)
                    .key(&corr)
                    .arg(before)
                    .arg(max)
                    .arg(EXPIRE_CHUNK)
                    .arg(records)
                    .invoke(c)
            })?;
            total += n;
            if n < EXPIRE_CHUNK as u64 {
                return Ok(total);
            }
        }
    }
}

/// A Redis URL read apart.
struct ParsedUrl {
    /// What the client connects to: the URL without `prefix`.
    client_url: String,
    /// The URL without its password.
    shown: String,
    prefix: String,
}

/// Strips `prefix=NAME` from the query and the password from the shown
/// form. A prefix is letters, digits, `-`, `_` and `.` (so it never needs
/// escaping in a SCAN pattern).
fn parse_url(url: &str) -> Result<ParsedUrl, HistoryError> {
    let shown = hide_password(url);
    let refuse = |message: String| HistoryError::Redis {
        url: shown.clone(),
        message,
    };
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut prefix = None;
    let mut kept = Vec::new();
    for pair in query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
    {
        match pair.split_once('=') {
            Some(("prefix", name)) => prefix = Some(name.to_string()),
            _ => kept.push(pair),
        }
    }
    let prefix = prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_string());
    let prefix_ok = !prefix.is_empty()
        && prefix.len() <= 128
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !prefix_ok {
        return Err(refuse(format!(
            "prefix \"{prefix}\": give 1 to 128 letters, digits, '-', '_' or '.'"
        )));
    }
    let client_url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(ParsedUrl {
        client_url,
        shown,
        prefix,
    })
}

/// The URL with `user:password@` shown as `user@`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            if user.is_empty() {
                format!("{scheme}://{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_string(),
    }
}

/// A pending member: a zero-padded sequence number first, so members
/// due at the same second come out in the order they were queued, and
/// two equal observations stay two members.
fn pending_member(seq: u64, json: &str) -> String {
    format!("{seq:020}:{json}")
}

impl Store for RedisStore {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn salt(&self) -> Result<[u8; 32], HistoryError> {
        Ok(self.salt)
    }

    fn learned(&self) -> Result<u64, HistoryError> {
        let key = self.key("learned");
        let n: Option<u64> = self.run(|c| redis::cmd("GET").arg(&key).query(c))?;
        Ok(n.unwrap_or(0))
    }

    fn profile(&self, key: &str) -> Result<Option<SenderProfile>, HistoryError> {
        let k = self.profile_key(key);
        let json: Option<String> = self.run(|c| redis::cmd("GET").arg(&k).query(c))?;
        json.map(|j| self.decode_profile(&j)).transpose()
    }

    fn known(&self, keys: &[String]) -> Result<Vec<bool>, HistoryError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for k in keys {
            pipe.cmd("EXISTS").arg(self.profile_key(k));
        }
        let found: Vec<u64> = self.run(|c| pipe.query(c))?;
        Ok(found.into_iter().map(|n| n > 0).collect())
    }

    fn write(
        &self,
        profiles: &[SenderProfile],
        message_ids: &[(String, UnixTime)],
        learned: u64,
    ) -> Result<(), HistoryError> {
        let seen = self.key("seen");
        let corr = self.key("correspondents");
        let mids = self.key("mids");
        let mut pipe = redis::pipe();
        pipe.atomic();
        for p in profiles {
            let json = serde_json::to_string(p).map_err(|e| HistoryError::Redis {
                url: self.shown.clone(),
                message: format!("cannot encode a profile: {e}"),
            })?;
            pipe.cmd("SET")
                .arg(self.profile_key(&p.key))
                .arg(json)
                .ignore();
            pipe.cmd("ZADD")
                .arg(&seen)
                .arg(p.last_seen)
                .arg(&p.key)
                .ignore();
            if is_correspondent(p) {
                pipe.cmd("SADD").arg(&corr).arg(&p.key).ignore();
            }
        }
        for (id, time) in message_ids {
            pipe.cmd("ZADD").arg(&mids).arg(*time).arg(id).ignore();
        }
        pipe.cmd("INCRBY")
            .arg(self.key("learned"))
            .arg(learned)
            .ignore();
        self.run(|c| pipe.query::<()>(c))
    }

    fn forget(&self, key: &str) -> Result<bool, HistoryError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("DEL")
            .arg(self.profile_key(key))
            .cmd("ZREM")
            .arg(self.key("seen"))
            .arg(key)
            .ignore()
            .cmd("SREM")
            .arg(self.key("correspondents"))
            .arg(key)
            .ignore();
        let (deleted,): (u64,) = self.run(|c| pipe.query(c))?;
        Ok(deleted > 0)
    }

    fn any_message_id(&self, hashes: &[String]) -> Result<bool, HistoryError> {
        if hashes.is_empty() {
            return Ok(false);
        }
        let mids = self.key("mids");
        let mut pipe = redis::pipe();
        for h in hashes {
            pipe.cmd("ZSCORE").arg(&mids).arg(h);
        }
        let scores: Vec<Option<f64>> = self.run(|c| pipe.query(c))?;
        Ok(scores.iter().any(Option::is_some))
    }

    fn push_pending(&self, due: UnixTime, observation: &Observation) -> Result<(), HistoryError> {
        let json = serde_json::to_string(observation).map_err(|e| HistoryError::Redis {
            url: self.shown.clone(),
            message: format!("cannot encode an observation: {e}"),
        })?;
        let seq_key = self.key("pending:seq");
        let pending = self.key("pending");
        self.run(|c| {
            let seq: u64 = redis::cmd("INCR").arg(&seq_key).query(c)?;
            redis::cmd("ZADD")
                .arg(&pending)
                .arg(due)
                .arg(pending_member(seq, &json))
                .query::<()>(c)
        })
    }

    fn take_due(&self, now: UnixTime, max: usize) -> Result<Vec<Observation>, HistoryError> {
        let pending = self.key("pending");
        let mut out = Vec::new();
        while out.len() < max {
            let want = (max - out.len()).min(TAKE_CHUNK);
            let members: Vec<String> =
                self.run(|c| self.take.key(&pending).arg(now).arg(want).invoke(c))?;
            let got = members.len();
            for m in members {
                let json = m
                    .split_once(':')
                    .map(|(_, j)| j)
                    .ok_or_else(|| self.corrupt("a pending member has no sequence".into()))?;
                let o: Observation = serde_json::from_str(json)
                    .map_err(|e| self.corrupt(format!("a pending observation: {e}")))?;
                out.push(o);
            }
            if got < want {
                break;
            }
        }
        Ok(out)
    }

    fn pending(&self) -> Result<u64, HistoryError> {
        let pending = self.key("pending");
        self.run(|c| redis::cmd("ZCARD").arg(&pending).query(c))
    }

    fn correspondents(&self) -> Result<Vec<String>, HistoryError> {
        let corr = self.key("correspondents");
        let mut out: Vec<String> = self.run(|c| redis::cmd("SMEMBERS").arg(&corr).query(c))?;
        out.sort();
        Ok(out)
    }

    fn keys(&self) -> Result<Vec<String>, HistoryError> {
        let head = self.profile_key("");
        let pattern = format!("{head}*");
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = self.run(|c| {
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1_000)
                    .query(c)
            })?;
            keys.extend(
                batch
                    .into_iter()
                    .filter_map(|k| k.strip_prefix(head.as_str()).map(str::to_string)),
            );
            if next == 0 {
                break;
            }
            cursor = next;
        }
        // SCAN may return a key twice.
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    fn expire(
        &self,
        before: UnixTime,
        max_profiles: usize,
        max_message_ids: usize,
    ) -> Result<Expired, HistoryError> {
        let records = self.profile_key("");
        Ok(Expired {
            profiles: self.expire_set("seen", before, max_profiles, &records)?,
            message_ids: self.expire_set("mids", before, max_message_ids, "")?,
        })
    }

    fn sync(&self) -> Result<(), HistoryError> {
        // Every command was acknowledged; persistence is the server's.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_taken_out_of_the_url_and_the_password_hidden() {
        let p = parse_url("redis://u:secret@127.0.0.1:6379/2?prefix=acme&protocol=resp3").unwrap();
        assert_eq!(p.prefix, "acme");
        assert_eq!(
            p.client_url,
            "redis://u:secret@127.0.0.1:6379/2?protocol=resp3"
        );
        assert_eq!(
            p.shown,
            "redis://u@127.0.0.1:6379/2?prefix=acme&protocol=resp3"
        );
        let p = parse_url("redis://:secret@host:1").unwrap();
        assert_eq!(
            (p.prefix.as_str(), p.shown.as_str()),
            ("impostor", "redis://host:1")
        );
    }

    #[test]
    fn a_prefix_with_pattern_characters_is_refused() {
        assert!(parse_url("redis://h:1?prefix=a*b").is_err());
        assert!(parse_url("redis://h:1?prefix=").is_err());
    }

    #[test]
    fn pending_members_sort_in_queue_order() {
        assert!(pending_member(9, "{\"z\":1}") < pending_member(10, "{\"a\":1}"));
    }
}
