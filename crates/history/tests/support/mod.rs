//! What the backend tests share: a private `redis-server` per test, and
//! one way to open a history on each backend.

use impostor_history::{FileStore, History, HistoryParams, MemoryStore, RedisStore, Store};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// A `redis-server` on a free loopback port, killed when dropped.
pub struct RedisServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts one and waits until it answers PING.
    pub fn start() -> RedisServer {
        assert!(
            Path::new(REDIS_SERVER).exists(),
            "{REDIS_SERVER} is missing: install redis-server (Debian package; .ci/setup does it)"
        );
        let dir = tempfile::tempdir().expect("a temporary folder for redis-server");
        // A port found free may be taken before the server binds it: try a
        // few.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            let mut child = Command::new(REDIS_SERVER)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if ping(port) {
                    return RedisServer {
                        child,
                        port,
                        _dir: dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not answer PING on a loopback port after five tries");
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

fn ping(port: u16) -> bool {
    let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}")) else {
        return false;
    };
    let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_millis(200)) else {
        return false;
    };
    redis::cmd("PING")
        .query::<String>(&mut conn)
        .is_ok_and(|p| p == "PONG")
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// [`MemoryStore`].
    Memory,
    /// [`FileStore`] in a temporary folder.
    File,
    /// [`RedisStore`] on a private server.
    Redis,
}

/// One test's store: where it lives, kept alive as long as the test.
pub struct Fixture {
    pub kind: Kind,
    dir: tempfile::TempDir,
    redis: Option<RedisServer>,
    prefix: String,
}

impl Fixture {
    /// A fresh store of `kind` for the test `name` (the Redis prefix).
    pub fn new(kind: Kind, name: &str) -> Fixture {
        Fixture {
            kind,
            dir: tempfile::tempdir().expect("a temporary folder"),
            redis: (kind == Kind::Redis).then(RedisServer::start),
            prefix: format!("t-{}", name.replace('_', "-")),
        }
    }

    /// The embedded store's file.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("history.redb")
    }

    /// The store's URL with this test's prefix.
    pub fn url(&self) -> String {
        let server = self.redis.as_ref().expect("a Redis fixture");
        format!("{}?prefix={}", server.url(), self.prefix)
    }

    /// A new handle on this fixture's store (a new, empty store for
    /// memory).
    pub fn store(&self) -> Box<dyn Store> {
        match self.kind {
            Kind::Memory => Box::new(MemoryStore::new([7; 32])),
            Kind::File => Box::new(FileStore::open(&self.path()).expect("the file store opens")),
            Kind::Redis => Box::new(RedisStore::connect(&self.url()).expect("Redis answers")),
        }
    }

    /// A history over a new handle on the store.
    pub fn history(&self, params: HistoryParams) -> History {
        let params = params.check().expect("parameters in range");
        History::new(self.store(), params).expect("the history opens")
    }

    /// Everything the store holds, as bytes to search: the file itself,
    /// every value under the Redis prefix, or (memory) every profile.
    pub fn stored_bytes(&self, history: &History) -> Vec<u8> {
        match self.kind {
            Kind::Memory => {
                let mut out = Vec::new();
                for k in history.keys().expect("keys") {
                    let p = history.profile(&k).expect("a profile");
                    out.extend(serde_json::to_vec(&p).expect("json"));
                }
                out
            }
            Kind::File => {
                history.sync().expect("sync");
                std::fs::read(self.path()).expect("the store file reads")
            }
            Kind::Redis => redis_dump(&self.url(), &self.prefix),
        }
    }
}

/// Every key and value under `prefix`, read with SCAN and the type's
/// read command.
fn redis_dump(url: &str, prefix: &str) -> Vec<u8> {
    let base = url.split_once('?').map_or(url, |(b, _)| b);
    let client = redis::Client::open(base).expect("redis url");
    let mut conn = client.get_connection().expect("redis connection");
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .query(&mut conn)
            .expect("SCAN");
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert!(!keys.is_empty(), "nothing stored under {prefix}:");
    let mut out = Vec::new();
    for k in keys {
        out.extend(k.as_bytes());
        let kind: String = redis::cmd("TYPE").arg(&k).query(&mut conn).expect("TYPE");
        let values: Vec<Vec<u8>> = match kind.as_str() {
            "string" => vec![redis::cmd("GET").arg(&k).query(&mut conn).expect("GET")],
            "zset" => redis::cmd("ZRANGE")
                .arg(&k)
                .arg(0)
                .arg(-1)
                .query(&mut conn)
                .expect("ZRANGE"),
            "set" => redis::cmd("SMEMBERS")
                .arg(&k)
                .query(&mut conn)
                .expect("SMEMBERS"),
            other => panic!("{k} has type {other}, which the store never makes"),
        };
        for v in values {
            out.extend(v);
        }
    }
    out
}
