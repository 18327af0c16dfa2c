//! Hostile messages end to end (issue 15): the built-in suite (a 50 MB
//! attachment, 10,000 header fields, MIME 1,000 deep, 100,000 links, 10 MB
//! single-line headers, garbage, NULs, invalid UTF-8, CR-only lines, broken
//! MIME and quoted-printable, the href crash and its friends) and every file
//! under fuzz/regressions and fuzz/seeds, when there is a fuzz/ directory.
//! `impostor scan` gives each file exactly one verdict or one error;
//! `impostor serve` answers each with JSON and stays up. Nothing here is
//! timed: benches/hostile_scan.rs prints how long each case takes.

#[path = "../../features/tests/support/mod.rs"]
mod builders;
mod hostile_suite;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The suite written into a fresh temporary directory, and its file names.
fn suite() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let (names, fuzz) = hostile_suite::write_suite(&repo(), dir.path());
    let builtin = names.len() - fuzz.unwrap_or(0);
    match fuzz {
        Some(n) => eprintln!("hostile suite: {builtin} built-in cases and {n} fuzz files"),
        None => eprintln!(
            "hostile suite: {builtin} built-in cases; no fuzz/ directory, so no fuzz files"
        ),
    }
    assert!(builtin >= 50, "the built-in suite always runs: {names:?}");
    (dir, names)
}

/// A verdict (score in [0, 1], a level, no error) or a non-empty error and
/// no verdict field: `what` says which file, for the failure message.
fn assert_verdict_or_error(what: &str, v: &serde_json::Value) {
    assert!(v.is_object(), "{what}: not a JSON object: {v}");
    match v["error"].as_str() {
        Some(e) => {
            assert!(!e.trim().is_empty(), "{what}: an empty error: {v}");
            for field in ["score", "level", "flagged", "reasons", "techniques"] {
                assert!(
                    v.get(field).is_none(),
                    "{what}: an error and a {field}: {v}"
                );
            }
        }
        None => {
            assert!(v["error"].is_null(), "{what}: error is not a string: {v}");
            let score = v["score"].as_f64();
            assert!(
                score.is_some_and(|s| (0.0..=1.0).contains(&s)),
                "{what}: neither an error nor a score in [0, 1]: {v}"
            );
            let level = v["level"].as_str().unwrap_or("");
            assert!(
                ["none", "low", "medium", "high"].contains(&level),
                "{what}: no level: {v}"
            );
            assert!(v["flagged"].is_boolean(), "{what}: {v}");
            assert!(
                v["reasons"].is_array() && v["techniques"].is_array(),
                "{what}: {v}"
            );
        }
    }
}

#[test]
fn scan_gives_every_hostile_file_exactly_one_verdict_or_one_error() {
    let (dir, names) = suite();
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(["scan", "--format", "ndjson"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let code = out.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "impostor scan ended with {:?} (101 is a panic, none a signal):\n{stderr}",
        out.status
    );

    let mut by_file: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a line that is not JSON ({e}): {line:.300}"));
        let path = v["path"].as_str().unwrap_or_else(|| panic!("no path: {v}"));
        let file = Path::new(path)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        by_file.entry(file).or_default().push(v);
    }
    let mut errors = 0;
    for name in &names {
        let records = by_file.remove(name).unwrap_or_default();
        // A fuzz file that starts like an mbox or an archive is read as a
        // container: one record for each message in it, at least one.
        let head: Vec<u8> = std::fs::read(dir.path().join(name))
            .unwrap()
            .into_iter()
            .take(512)
            .collect();
        if name.starts_with("fuzz-") && hostile_suite::is_container(&head) {
            assert!(!records.is_empty(), "{name}: no record\n{stderr}");
        } else {
            assert_eq!(
                records.len(),
                1,
                "{name}: {} records, want one: {records:?}\n{stderr}",
                records.len()
            );
        }
        for r in &records {
            assert_verdict_or_error(name, r);
            if r["error"].is_string() {
                errors += 1;
                eprintln!("{name}: error: {}", r["error"]);
            } else {
                eprintln!("{name}: {} {}", r["level"], r["score"]);
            }
        }
    }
    assert!(
        by_file.is_empty(),
        "records for files not in the suite: {by_file:?}"
    );
    // The empty file at least gets an error: exit status 1 says so.
    assert!(errors >= 1);
    assert_eq!(code, Some(1), "some messages could not be read:\n{stderr}");
}

/// `impostor serve --listen 127.0.0.1:0`, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the service and waits for the address it says it bound.
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_impostor"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pipe = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Reads standard error to the end so that the service never blocks
        // on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("impostor serve: listening on http://") {
                    let addr = rest.split_whitespace().next().unwrap_or("");
                    let _ = tx.send(addr.parse::<SocketAddr>().ok());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Some(a)) => a,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("impostor serve did not say where it listens: {other:?}");
            }
        };
        Server { child, addr }
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// One request on a fresh connection: (status, body).
    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let mut s = TcpStream::connect(self.addr).unwrap();
        // Only so that a hung service fails the test instead of hanging it.
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(120))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        // A service that answers early (413) may close before the body is in.
        let _ = s.write_all(body);
        let mut reply = Vec::new();
        let read = s.read_to_end(&mut reply);
        let text = String::from_utf8_lossy(&reply).into_owned();
        let status = text
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP status ({read:?}): {text:.300}"));
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        (status, body)
    }
}

#[test]
fn serve_answers_every_hostile_file_with_json_and_stays_up() {
    let (dir, names) = suite();
    let mut server = Server::start();
    let mut seen = BTreeMap::<u16, usize>::new();
    for name in &names {
        let bytes = std::fs::read(dir.path().join(name)).unwrap();
        let (status, body) = server.request("POST", "/v1/scan", &bytes);
        drop(bytes);
        eprintln!("{name}: {status} {body:.200}");
        assert!(
            [200, 413, 422, 500, 503].contains(&status),
            "{name}: status {status}: {body}"
        );
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{name}: status {status}, not JSON ({e}): {body:.300}"));
        assert_verdict_or_error(name, &v);
        assert_eq!(
            status == 200,
            v["error"].is_null(),
            "{name}: a verdict is a 200, an error is not: {status} {v}"
        );
        *seen.entry(status).or_default() += 1;

        let (status, health) = server.request("GET", "/healthz", b"");
        assert_eq!(status, 200, "after {name}: /healthz {status}: {health}");
        let health: serde_json::Value = serde_json::from_str(&health).unwrap();
        assert_eq!(health["status"], "ok", "after {name}: {health}");
        assert!(server.running(), "impostor serve ended after {name}");
    }
    eprintln!("statuses: {seen:?}");
    // Over the 20 MiB default: refused by length. The empty file: 422.
    assert!(seen.get(&413).is_some_and(|n| *n >= 2), "{seen:?}");
    assert!(seen.get(&422).is_some_and(|n| *n >= 1), "{seen:?}");
    assert!(seen.get(&200).is_some_and(|n| *n >= 40), "{seen:?}");
    assert!(server.running());
}
