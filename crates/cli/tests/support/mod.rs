//! What the CLI tests share: the `impostor` binary run to completion, a
//! running `impostor milter` or `impostor serve`, a raw HTTP/1.1 client,
//! the seed scenarios and mail histories. The milter protocol's client
//! side is in [`milter_client`].

#![allow(dead_code)]

pub mod milter_client;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `impostor ARGS` in `dir` (or here) and fails the test, with its
/// standard error, unless it succeeds.
pub fn impostor_ok(args: &[&str], dir: Option<&std::path::Path>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_impostor"));
    command.args(args);
    if let Some(d) = dir {
        command.current_dir(d);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "impostor {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `impostor ARGS` to completion, standard input empty, and returns
/// what it did, success or not.
pub fn impostor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the impostor binary runs")
}

/// [`impostor`] as (exit code, or -1 on a signal; standard output;
/// standard error), both outputs read lossily as UTF-8.
pub fn impostor_code(args: &[&str]) -> (i32, String, String) {
    let out = impostor(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `impostor ARGS` and returns its standard output; fails the test,
/// with its standard error, unless it succeeds.
pub fn ok(args: &[&str]) -> String {
    let out = impostor(args);
    assert!(
        out.status.success(),
        "impostor {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `impostor gen` into DIR/NAME with `ham` and `attacks` messages from
/// `seed`; fails the test unless it succeeds. Returns DIR/NAME.
pub fn gen_corpus(dir: &Path, name: &str, ham: &str, attacks: &str, seed: &str) -> PathBuf {
    let out = dir.join(name);
    let (code, _, err) = impostor_code(&[
        "gen",
        "-o",
        p(&out),
        "--ham",
        ham,
        "--attacks",
        attacks,
        "--seed",
        seed,
    ]);
    assert_eq!(code, 0, "{err}");
    out
}

/// A path as an argument (the tests' paths are UTF-8).
pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Copies models/default into `to` (created as needed); returns `to`.
pub fn copy_default_model(to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for f in std::fs::read_dir(repo().join("models/default")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
    to.to_path_buf()
}

/// One HTTP/1.1 request to `addr` on a fresh connection (`Connection:
/// close`, a Content-Length always, `headers` as (name, value)), read with
/// a 30 s timeout: (status, the response's header block, body), read
/// lossily as UTF-8. A server that answers early (413) may close before
/// the body is in: that is not an error here.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status line from {addr}: {line:?}"));
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);
    let text = String::from_utf8_lossy(&rest);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_string(), body.to_string())
}

/// An `impostor serve` child on a free loopback port, killed on drop; its
/// output discarded.
pub struct Served {
    child: Child,
    /// Where it listens, `127.0.0.1:PORT`.
    pub addr: String,
}

impl Served {
    /// Starts `impostor serve BEFORE_LISTEN --listen 127.0.0.1:PORT EXTRA`
    /// with `env` added, and waits (at most 60 s) until the port accepts.
    pub fn start(before_listen: &[&str], extra: &[&str], env: &[(&str, &str)]) -> Served {
        Served::start_within(before_listen, extra, env, Duration::from_secs(60))
    }

    /// [`Served::start`], waiting at most `limit` for the port.
    pub fn start_within(
        before_listen: &[&str],
        extra: &[&str],
        env: &[(&str, &str)],
        limit: Duration,
    ) -> Served {
        let addr = format!("127.0.0.1:{}", free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_impostor"))
            .envs(env.iter().copied())
            .arg("serve")
            .args(before_listen)
            .args(["--listen", &addr])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Served { child, addr };
        let deadline = Instant::now() + limit;
        while TcpStream::connect(&server.addr).is_err() {
            assert!(Instant::now() < deadline, "impostor serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// One [`http`] request to it: (status, body).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        let (status, _, body) = http(&self.addr, method, path, headers, body);
        (status, body)
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Moves a file's modification time a minute ahead, bytes unchanged: a
/// model watcher then sees a new artifact whatever the file system's
/// timestamp granularity.
pub fn touch_later(path: &std::path::Path) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(60);
    file.set_modified(later).unwrap();
}

/// The seed scenarios in ../shared; their absence fails the test (CI
/// provides ../shared, see .ci/run).
pub fn seed_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/scenarios/seed");
    assert!(
        dir.join("org.toml").is_file(),
        "{} is missing: these tests need ../shared beside the clone",
        dir.display()
    );
    dir
}

/// An `impostor milter` child, killed on drop, its standard error kept.
pub struct Milter {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Milter {
    /// Starts `impostor milter --listen 127.0.0.1:0 ARGS` and waits for the
    /// address it bound.
    pub fn start(args: &[&str]) -> Milter {
        Milter::start_with_env(args, &[])
    }

    /// [`Milter::start`] with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Milter {
        let mut command = Command::new(env!("CARGO_BIN_EXE_impostor"));
        command
            .envs(env.iter().copied())
            .arg("milter")
            .args(["--listen", "127.0.0.1:0"])
            .args(args);
        Milter::spawn(command)
    }

    /// Runs `command`, a milter however started (another binary, another
    /// user: the installed package's test starts the systemd unit's
    /// command line), and waits for the address it says it bound. The
    /// process killed on drop is the command's own: it must exec the
    /// milter, not fork it (setpriv, not runuser).
    pub fn spawn(mut command: Command) -> Milter {
        let spawned = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = spawned.unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("impostor milter: listening on ") {
                    let _ = tx.send(a.parse::<SocketAddr>().ok());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Some(a)) => a,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "impostor milter did not start listening:\n{}",
                    stderr.lock().unwrap().join("\n")
                );
            }
        };
        Milter {
            child,
            addr,
            stderr,
        }
    }

    /// Everything it printed on standard error so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Waits (at most 30 s: a loaded machine is slow to reload) for a line of standard error containing
    /// `needle`; the log so far on failure.
    pub fn wait_log(&self, needle: &str) {
        for _ in 0..300 {
            if self.log().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no {needle:?} in the milter's log:\n{}", self.log());
    }

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Milter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Milter {
    /// Sends SIGTERM and waits (at most 30 s) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid} failed");
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("impostor milter ignored SIGTERM for 30 s:\n{}", self.log());
    }
}

/// Seconds since 1970 by the system clock.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An RFC 5322 date of a Unix time (UTC).
pub fn rfc5322_date(t: i64) -> String {
    mail_parser::DateTime::from_timestamp(t).to_rfc822()
}

/// A message a mailbox of `org_domain` sent to a colleague, `t` seconds
/// after 1970, submitted from `client_ip` through the org's mail server
/// (`mail.ORG`, then `mx1.ORG`, whose Authentication-Results say DKIM
/// and DMARC pass): what a history learns as that mailbox's habits.
pub fn internal_message(
    from: &str,
    to: &str,
    client_ip: &str,
    t: i64,
    subject: &str,
    body: &str,
) -> String {
    let domain = from.rsplit_once('@').map_or("", |(_, d)| d);
    let date = rfc5322_date(t);
    format!(
        "Return-Path: <{from}>\r\n\
         Authentication-Results: mx1.{domain};\r\n\
         \tspf=pass smtp.mailfrom={domain};\r\n\
         \tdkim=pass header.d={domain} header.s=s1;\r\n\
         \tdmarc=pass header.from={domain}\r\n\
         Received: from mail.{domain} (mail.{domain} [203.0.113.10])\r\n\
         \tby mx1.{domain} (Postfix) with ESMTPS id A{t}\r\n\
         \tfor <{to}>; {date}\r\n\
         Received: from [{client_ip}] (unknown [{client_ip}])\r\n\
         \tby mail.{domain} (Postfix) with ESMTPSA id B{t};\r\n\
         \t{date}\r\n\
         From: <{from}>\r\n\
         To: <{to}>\r\n\
         Subject: {subject}\r\n\
         Date: {date}\r\n\
         Message-ID: <{t}.{}@{domain}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         {body}\r\n",
        from.len()
    )
}

/// A message from outside, `t` seconds after 1970, as the org's MX
/// (`mx1.ORG`) received it from `client_ip`.
pub fn inbound_message(
    from: &str,
    to: &str,
    client_ip: &str,
    t: i64,
    subject: &str,
    body: &str,
) -> String {
    let from_domain = from.rsplit_once('@').map_or("", |(_, d)| d);
    let to_domain = to.rsplit_once('@').map_or("", |(_, d)| d);
    let date = rfc5322_date(t);
    format!(
        "Return-Path: <{from}>\r\n\
         Received: from mail.{from_domain} (mail.{from_domain} [{client_ip}])\r\n\
         \tby mx1.{to_domain} (Postfix) with ESMTPS id C{t}\r\n\
         \tfor <{to}>; {date}\r\n\
         From: <{from}>\r\n\
         To: <{to}>\r\n\
         Subject: {subject}\r\n\
         Date: {date}\r\n\
         Message-ID: <{t}.{}@{from_domain}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         {body}\r\n",
        from.len()
    )
}

/// Writes a mail history of `org_domain` into `dir`, one .eml a message,
/// dated over the last 60 days: `vendors` outside correspondents writing
/// 5 messages each (from 198.51.100.0/24), and `mailbox` (a mailbox of the
/// org) writing 8 messages to `colleague` from its usual network
/// 10.8.2.0/24, three of them about paying invoices. Returns the number
/// of messages written.
pub fn write_mail_history(
    dir: &std::path::Path,
    org_domain: &str,
    mailbox: &str,
    colleague: &str,
    vendors: usize,
) -> usize {
    std::fs::create_dir_all(dir).unwrap();
    let start = unix_now() - 60 * 86_400;
    let mut n = 0;
    for v in 0..vendors {
        for k in 0..5 {
            let t = start + (v * 5 + k) as i64 * 3_600 * 7;
            let m = inbound_message(
                &format!("sales@vendor{v}.example"),
                &format!("buyer@{org_domain}"),
                &format!("198.51.100.{}", 10 + v % 200),
                t,
                &format!("Catalogue update {k}"),
                "Our spring catalogue is out; prices are unchanged.",
            );
            std::fs::write(dir.join(format!("v{v:03}-{k}.eml")), m).unwrap();
            n += 1;
        }
    }
    for k in 0..8 {
        let t = start + 86_400 * (k + 1) as i64;
        let body = if k % 3 == 0 {
            "Please process the payment of the approved Brightwater invoice the usual way."
        } else {
            "Notes from this morning's meeting are in the shared folder."
        };
        let m = internal_message(
            mailbox,
            colleague,
            &format!("10.8.2.{}", 30 + k),
            t,
            &format!("Weekly notes {k}"),
            body,
        );
        std::fs::write(dir.join(format!("i{k}.eml")), m).unwrap();
        n += 1;
    }
    n
}

/// Writes, into `dir`, the built-in model (models/default) stamped with
/// this build's feature schema and given four history rules, so the
/// history tests do not depend on what the default model learnt:
/// `test_history_account_compromise` (a floor: flagged),
/// `test_history_new_network` (+1.5), and `test_history_never_written_to`
/// (+25: a sender the organisation never wrote to is flagged, so a test
/// sees solicitation change a verdict). Returns `dir`.
pub fn history_model(dir: &std::path::Path) -> PathBuf {
    use impostor_model::artifact::{self, Manifest, SchemaStamp};
    let src = repo().join("models/default");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(src.join("manifest.json")).unwrap()).unwrap();
    m["feature_schema"] = serde_json::to_value(SchemaStamp::current()).unwrap();
    let rules = m["model"]["rules"]["rules"].as_array_mut().unwrap();
    rules.retain(|r| {
        !r["rule"]["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("test_history_"))
    });
    rules.push(serde_json::json!({"weight": 3.0, "rule": {
        "code": "test_history_account_compromise",
        "says": "A genuine mailbox departs from its history while asking for money or credentials",
        "indicates": "account_compromise",
        "floor": "flagged",
        "when": {"flag": "history_account_compromise_flag"}}}));
    rules.push(serde_json::json!({"weight": 1.5, "rule": {
        "code": "test_history_new_network",
        "says": "An internal mailbox sends from a network it never used",
        "indicates": "account_compromise",
        "when": {"flag": "history_new_network_flag"}}}));
    rules.push(serde_json::json!({"weight": 25.0, "rule": {
        "code": "test_history_never_written_to",
        "says": "The organisation has never written to this sender",
        "indicates": "payment",
        "when": {"flag": "history_never_written_to_flag"}}}));
    let manifest: Manifest = serde_json::from_value(m).unwrap();
    let files: Vec<(String, Vec<u8>)> = manifest
        .files
        .keys()
        .map(|name| (name.clone(), std::fs::read(src.join(name)).unwrap()))
        .collect();
    artifact::write(dir, manifest, &files).unwrap();
    artifact::load(dir).unwrap_or_else(|e| panic!("the history test model loads: {e}"));
    dir.to_path_buf()
}

/// The codes of a scan record's or a verdict's reasons.
pub fn reason_codes(verdict: &serde_json::Value) -> Vec<String> {
    verdict["reasons"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|x| x["code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `impostor lookalike ARGS -` with `domains` on its standard input, one a
/// line: its exit code and one JSON answer per domain, in order. Fails the
/// test unless it exits 0, or 1 (some domain could not be judged).
pub fn lookalike_answers<S: AsRef<std::ffi::OsStr>>(
    args: &[S],
    domains: &[&str],
) -> (Option<i32>, Vec<serde_json::Value>) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .arg("lookalike")
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("impostor runs");
    let input: String = domains.iter().map(|d| format!("{d}\n")).collect();
    let mut stdin = child.stdin.take().expect("a piped stdin");
    // Written from a thread: the answers fill the pipe meanwhile.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("impostor lookalike ends");
    writer
        .join()
        .expect("the writer ends")
        .expect("stdin takes the domains");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "impostor lookalike failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .expect("UTF-8 answers")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(answers.len(), domains.len(), "one answer per domain");
    (out.status.code(), answers)
}
