//! The Rspamd and SpamAssassin plugins of `integrations/` against the real
//! daemons from Debian's packages and a real `impostor serve`.
//!
//! Each daemon runs privately, as `scripts/baselines.sh` runs it: on free
//! 127.0.0.1 ports, its configuration and state in a temporary directory,
//! every network test off (the configuration of `datasets/baselines/`),
//! Rspamd's compiled Hyperscan databases shared in
//! `/var/tmp/impostor-baselines-hs`. On top of it, the plugin as a user
//! installs it, from the sample configuration with the URL of the test's
//! `impostor serve --org` (the seed scenarios' organisation).
//!
//! For each daemon: a forged seed message gets the IMPOSTOR_* symbols and
//! a harder action than the same daemon gives without the plugin; a
//! genuine one gets no level symbol; with Impostor gone (refused), then
//! hanging (timeout), the forged message gets IMPOSTOR_FAIL and otherwise
//! exactly the verdict of the daemon without the plugin.
//!
//! The daemons missing fails the tests with the command that installs
//! them: they never skip.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{free_port, repo, seed_dir};

const INSTALL: &str = "apt-get install rspamd spamassassin spamc spamd (or run .ci/setup)";

/// How long a daemon may take to answer after its start. A cold Rspamd
/// compiles its Hyperscan databases first (up to a minute on a loaded
/// machine); warm, it answers in a few seconds.
const START_LIMIT: Duration = Duration::from_secs(180);

/// The plugins' timeout in the test configuration, in seconds.
const PLUGIN_TIMEOUT_S: u64 = 1;

/// A forged message and a genuine one, with the SMTP envelope their own
/// Received and Return-Path headers record.
struct Mail {
    file: &'static str,
    client_ip: &'static str,
    helo: &'static str,
    mail_from: &'static str,
    rcpt: &'static str,
}

/// Seed 003: From shows the CFO's internal address, sent from an
/// xplornet.com account (header_from_spoof, envelope_from_spoof).
const FORGED: Mail = Mail {
    file: "003.eml",
    client_ip: "192.0.2.135",
    helo: "smtp.xplornet.com",
    mail_from: "dmcallister@xplornet.com",
    rcpt: "jessie@interface.com",
};

/// Seed 008: the real CEO, from the internal route.
const GENUINE: Mail = Mail {
    file: "008.eml",
    client_ip: "203.0.113.10",
    helo: "mail.interface.com",
    mail_from: "harry.potter@interface.com",
    rcpt: "jessie@interface.com",
};

const LEVEL_SYMBOLS: [&str; 3] = ["IMPOSTOR_HIGH", "IMPOSTOR_MEDIUM", "IMPOSTOR_LOW"];

fn message(mail: &Mail) -> Vec<u8> {
    std::fs::read(seed_dir().join(mail.file)).unwrap()
}

fn require(paths: &[&str]) {
    let missing: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| !Path::new(p).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "the gateway plugin tests need the daemons from Debian's packages; missing {}: {INSTALL}",
        missing.join(", ")
    );
}

fn output_ok(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{command:?} failed: {text}");
    text
}

fn is_root() -> bool {
    output_ok(Command::new("id").arg("-u")).trim() == "0"
}

/// A world-readable temporary directory: the daemons drop to their own
/// users when the tests run as root, and must reach their configuration.
fn run_dir(prefix: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Gives `paths` to `user` when running as root (the daemon writes there).
fn chown(user: &str, paths: &[&Path]) {
    if is_root() {
        let mut c = Command::new("chown");
        c.arg("-R").arg(format!("{user}:")).args(paths);
        output_ok(&mut c);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Replaces the one line starting with `key` in a sample configuration.
fn set_line(text: &str, key: &str, line: &str) -> String {
    let mut found = 0;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with(key) {
                found += 1;
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_eq!(found, 1, "expected one line starting {key:?} in\n{text}");
    out.join("\n") + "\n"
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(30);
    format!("---- {}\n{}", path.display(), lines[from..].join("\n"))
}

/// A child process stopped with SIGTERM (its workers go with it), then
/// killed if it lingers, when dropped.
struct Daemon {
    child: Child,
    name: &'static str,
    logs: Vec<PathBuf>,
}

impl Daemon {
    fn spawn(name: &'static str, command: &mut Command, logs: Vec<PathBuf>) -> Daemon {
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}; {INSTALL}"));
        Daemon { child, name, logs }
    }

    fn logs(&self) -> String {
        self.logs
            .iter()
            .map(|p| tail(p))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until `ready` holds, failing if the daemon exits or the
    /// limit passes.
    fn wait_until(&mut self, limit: Duration, ready: impl Fn() -> bool) {
        let t0 = Instant::now();
        loop {
            if ready() {
                println!("{} answers after {:?}", self.name, t0.elapsed());
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "{} exited during startup ({status}):\n{}",
                    self.name,
                    self.logs()
                );
            }
            assert!(
                t0.elapsed() < limit,
                "{} does not answer after {limit:?}:\n{}",
                self.name,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Every socket the daemon and its workers listen on is on 127.0.0.1.
    fn assert_loopback_only(&self) {
        let main = self.child.id().to_string();
        let children = Command::new("pgrep")
            .args(["-P", &main])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let pids: Vec<String> = std::iter::once(main)
            .chain(children.split_whitespace().map(str::to_string))
            .collect();
        let ss = Command::new("ss")
            .arg("-Htulnp")
            .output()
            .unwrap_or_else(|e| panic!("cannot run ss ({e}): apt-get install iproute2"));
        let ss = String::from_utf8_lossy(&ss.stdout);
        let mine: Vec<&str> = ss
            .lines()
            .filter(|l| pids.iter().any(|p| l.contains(&format!("pid={p},"))))
            .collect();
        assert!(!mine.is_empty(), "{} listens nowhere?\n{ss}", self.name);
        for line in mine {
            let local = line.split_whitespace().nth(4).unwrap_or_default();
            assert!(
                local.starts_with("127.0.0.1:"),
                "{} listens beyond loopback: {line}",
                self.name
            );
        }
    }

    fn stop(&mut self) {
        if self.child.try_wait().unwrap().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `impostor serve` for the seed organisation, on a free loopback port.
fn start_impostor(dir: &Path) -> (Daemon, u16) {
    let port = free_port();
    let log = dir.join("impostor.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_impostor"));
    command
        .args(["serve", "--quiet", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--org")
        .arg(seed_dir().join("org.toml"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut serve = Daemon::spawn("impostor serve", &mut command, vec![log]);
    serve.wait_until(Duration::from_secs(60), || {
        http(port, "GET", "/healthz", &[], b"").is_some_and(|(status, _)| status == 200)
    });
    (serve, port)
}

/// One HTTP/1.1 request on 127.0.0.1:`port`: (status, body), or None when
/// nothing answers.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(raw.get(..split)?).into_owned();
    let mut body = raw.get(split + 4..)?.to_vec();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body)?;
    }
    Some((status, body))
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(data.get(..eol)?).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = data.get(eol + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// A listener on `port` that accepts connections and never answers: an
/// Impostor that hangs. Ends when the test process does.
fn hanging_listener(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:{port} again: {e}"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
}

/// The Hyperscan cache `scripts/baselines.sh` keeps, when this user (or
/// _rspamd, as root) owns it; otherwise None (Rspamd compiles into its
/// run directory).
fn hyperscan_cache() -> Option<PathBuf> {
    let cache = PathBuf::from(
        std::env::var("BASELINES_HS_CACHE")
            .unwrap_or_else(|_| "/var/tmp/impostor-baselines-hs".into()),
    );
    if cache.as_os_str().is_empty() {
        return None;
    }
    let _ = std::fs::create_dir_all(&cache);
    let owner = |p: &Path| {
        Command::new("stat")
            .args(["-c", "%U"])
            .arg(p)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let want = if is_root() {
        if owner(&cache).as_deref() == Some("root") {
            chown("_rspamd", &[&cache]);
            let _ = Command::new("chmod").arg("700").arg(&cache).status();
        }
        "_rspamd".to_string()
    } else {
        output_ok(Command::new("id").arg("-un")).trim().to_string()
    };
    (owner(&cache).as_deref() == Some(want.as_str())).then_some(cache)
}

// ---------------------------------------------------------------- Rspamd

struct Rspamd {
    daemon: Daemon,
    port: u16,
}

/// What Rspamd said of one message.
#[derive(Debug)]
struct RspamdResult {
    action: String,
    score: f64,
    symbols: serde_json::Map<String, serde_json::Value>,
}

impl RspamdResult {
    fn has(&self, symbol: &str) -> bool {
        self.symbols.contains_key(symbol)
    }

    fn options(&self, symbol: &str) -> Vec<String> {
        self.symbols[symbol]["options"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|o| o.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The symbols other than Impostor's.
    fn others(&self) -> Vec<String> {
        self.symbols
            .keys()
            .filter(|k| !k.starts_with("IMPOSTOR_"))
            .cloned()
            .collect()
    }
}

impl Rspamd {
    fn start(dir: &Path, impostor_port: u16) -> Rspamd {
        let conf = dir.join("conf");
        copy_tree(&repo().join("datasets/baselines/rspamd"), &conf);
        // The plugin as the README installs it: plugins.d/ and the sample
        // configuration in local.d/, included from rspamd.conf.local.
        std::fs::create_dir_all(conf.join("plugins.d")).unwrap();
        std::fs::copy(
            repo().join("integrations/rspamd/impostor.lua"),
            conf.join("plugins.d/impostor.lua"),
        )
        .unwrap();
        let sample =
            std::fs::read_to_string(repo().join("integrations/rspamd/impostor.conf")).unwrap();
        let sample = set_line(
            &sample,
            "url =",
            &format!("url = \"http://127.0.0.1:{impostor_port}/v1/scan\";"),
        );
        let sample = set_line(
            &sample,
            "timeout =",
            &format!("timeout = {PLUGIN_TIMEOUT_S}s;"),
        );
        std::fs::write(conf.join("local.d/impostor.conf"), sample).unwrap();
        std::fs::write(
            conf.join("rspamd.conf.local"),
            "impostor {\n  .include(try=true,priority=1,duplicate=merge) \
             \"$LOCAL_CONFDIR/local.d/impostor.conf\"\n}\n",
        )
        .unwrap();
        let (db, run, log) = (dir.join("db"), dir.join("run"), dir.join("log"));
        for d in [&db, &run, &log] {
            std::fs::create_dir_all(d).unwrap();
        }
        chown("_rspamd", &[&db, &run, &log]);
        let port = free_port();
        let hs_cache = hyperscan_cache().unwrap_or_else(|| db.clone());
        let vars: Vec<String> = [
            ("CONFDIR", PathBuf::from("/etc/rspamd")),
            ("LOCAL_CONFDIR", conf.clone()),
            ("DBDIR", db.clone()),
            ("RUNDIR", run.clone()),
            ("LOGDIR", log.clone()),
            ("NORMAL_PORT", PathBuf::from(port.to_string())),
            ("HS_CACHE_DIR", hs_cache),
        ]
        .iter()
        .map(|(k, v)| format!("--var={k}={}", v.display()))
        .collect();
        let config = conf.join("rspamd.conf");

        // Lua errors surface here, named, rather than as a missing symbol.
        let test = output_ok(
            Command::new("rspamadm")
                .args(&vars)
                .arg("configtest")
                .arg("-c")
                .arg(&config),
        );
        let complaints: Vec<&str> = test
            .lines()
            .filter(|l| l.to_ascii_lowercase().contains("impostor"))
            .collect();
        assert!(
            complaints.is_empty() && test.contains("syntax OK"),
            "rspamadm configtest with the plugin: {test}"
        );

        let mut command = Command::new("rspamd");
        command.arg("-f");
        if is_root() {
            command.args(["-u", "_rspamd", "-g", "_rspamd"]);
        }
        command
            .arg("-c")
            .arg(&config)
            .args(&vars)
            .stdout(std::fs::File::create(dir.join("stderr.log")).unwrap())
            .stderr(std::fs::File::create(dir.join("stderr2.log")).unwrap());
        let mut daemon = Daemon::spawn(
            "rspamd",
            &mut command,
            vec![
                dir.join("stderr.log"),
                dir.join("stderr2.log"),
                log.join("rspamd.log"),
            ],
        );
        daemon.wait_until(START_LIMIT, || {
            http(port, "GET", "/ping", &[], b"")
                .is_some_and(|(s, b)| s == 200 && String::from_utf8_lossy(&b).contains("pong"))
        });
        daemon.assert_loopback_only();
        let plugin_log = std::fs::read_to_string(log.join("rspamd.log")).unwrap_or_default();
        assert!(
            plugin_log.contains(&format!(
                "impostor: verdicts from http://127.0.0.1:{impostor_port}/v1/scan"
            )),
            "the plugin did not load with the test's URL:\n{}",
            daemon.logs()
        );
        Rspamd { daemon, port }
    }

    /// /checkv2 with the envelope as an MTA passes it; `plugin` false turns
    /// the plugin's check off for this message (Rspamd's Settings header),
    /// which is the same daemon without the plugin.
    ///
    /// The client's reverse name is given as Postfix gives it for a host
    /// without one ("unknown"), so Rspamd looks nothing up: its lookups go
    /// to a closed loopback port, and once it counts that server down the
    /// RDNS_* symbols came and went with the timing of the checks.
    fn check(&self, mail: &Mail, plugin: bool) -> RspamdResult {
        let mut headers = vec![
            ("IP", mail.client_ip),
            ("Hostname", "unknown"),
            ("Helo", mail.helo),
            ("From", mail.mail_from),
            ("Rcpt", mail.rcpt),
        ];
        if !plugin {
            headers.push(("Settings", r#"{"symbols_disabled": ["IMPOSTOR_CHECK"]}"#));
        }
        let (status, body) = http(self.port, "POST", "/checkv2", &headers, &message(mail))
            .unwrap_or_else(|| panic!("rspamd does not answer:\n{}", self.daemon.logs()));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "rspamd answered {status} {e}: {}",
                String::from_utf8_lossy(&body)
            )
        });
        assert_eq!(status, 200, "{v}");
        RspamdResult {
            action: v["action"].as_str().unwrap_or_default().to_string(),
            score: v["score"].as_f64().unwrap_or(f64::NAN),
            symbols: v["symbols"].as_object().cloned().unwrap_or_default(),
        }
    }
}

/// The forged message with Impostor unreachable: IMPOSTOR_FAIL carrying
/// `why`, and otherwise the verdict of the daemon without the plugin.
fn assert_rspamd_fails_open(rspamd: &Rspamd, without: &RspamdResult, why: &str) -> RspamdResult {
    let r = rspamd.check(&FORGED, true);
    assert!(r.has("IMPOSTOR_FAIL"), "{why}: no IMPOSTOR_FAIL in {r:?}");
    let options = r.options("IMPOSTOR_FAIL").join(" ").to_ascii_lowercase();
    assert!(
        options.contains(why),
        "IMPOSTOR_FAIL options {options:?}, want {why:?}"
    );
    assert_eq!(
        r.symbols["IMPOSTOR_FAIL"]["score"].as_f64(),
        Some(0.0),
        "{r:?}"
    );
    let impostor: Vec<&String> = r
        .symbols
        .keys()
        .filter(|k| k.starts_with("IMPOSTOR_"))
        .collect();
    assert_eq!(impostor, ["IMPOSTOR_FAIL"], "{why}: {r:?}");
    assert_eq!(r.others(), without.others(), "{why}: other symbols changed");
    assert_eq!(r.action, without.action, "{why}: {r:?}");
    assert!(
        (r.score - without.score).abs() < 1e-6,
        "{why}: {r:?} vs {without:?}"
    );
    r
}

#[test]
fn rspamd_with_the_plugin_flags_a_forged_message_and_fails_open_when_impostor_is_down() {
    require(&[
        "/usr/bin/rspamd",
        "/usr/bin/rspamadm",
        "/etc/rspamd/common.conf",
    ]);
    let dir = run_dir("impostor-rspamd-plugin-");
    let (mut impostor, impostor_port) = start_impostor(dir.path());
    let rspamd = Rspamd::start(dir.path(), impostor_port);

    // A header-From spoof of the CFO.
    let without = rspamd.check(&FORGED, false);
    let with = rspamd.check(&FORGED, true);
    println!(
        "forged without the plugin: {} {}",
        without.action, without.score
    );
    println!(
        "forged with the plugin: {} {}: {:?}",
        with.action,
        with.score,
        with.symbols.keys()
    );
    assert!(
        without.symbols.keys().all(|k| !k.starts_with("IMPOSTOR_")),
        "{without:?}"
    );
    assert!(with.has("IMPOSTOR_HIGH"), "{with:?}");
    assert!(with.has("IMPOSTOR_HEADER_FROM_SPOOF"), "{with:?}");
    assert!(!with.has("IMPOSTOR_FAIL"), "{with:?}");
    assert_eq!(with.symbols["IMPOSTOR_HIGH"]["score"].as_f64(), Some(15.0));
    let reasons = with.options("IMPOSTOR_HIGH");
    assert!(
        (1..=3).contains(&reasons.len())
            && reasons.iter().all(|r| r.ends_with(')') && r.contains("(+")),
        "reasons as options: {reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("internal_domain_from_outside") || r.starts_with("dmarc_fail")),
        "{reasons:?}"
    );
    assert_eq!(
        with.others(),
        without.others(),
        "the plugin changed other symbols"
    );
    assert_ne!(without.action, "reject", "{without:?}");
    assert_eq!(with.action, "reject", "{with:?}");
    assert!(
        with.score >= without.score + 15.0,
        "{with:?} vs {without:?}"
    );

    // The real CEO asking the usual way.
    let genuine = rspamd.check(&GENUINE, true);
    let genuine_without = rspamd.check(&GENUINE, false);
    for s in LEVEL_SYMBOLS.iter().chain(&["IMPOSTOR_FAIL"]) {
        assert!(!genuine.has(s), "genuine message got {s}: {genuine:?}");
    }
    assert_eq!(genuine.action, genuine_without.action, "{genuine:?}");

    // Impostor stopped: connection refused.
    impostor.stop();
    assert_rspamd_fails_open(&rspamd, &without, "refused");

    // Impostor hanging: the plugin's timeout, and no longer.
    hanging_listener(impostor_port);
    let t0 = Instant::now();
    assert_rspamd_fails_open(&rspamd, &without, "timeout");
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(PLUGIN_TIMEOUT_S * 1000 - 100)
            && took < Duration::from_secs(PLUGIN_TIMEOUT_S + 5),
        "a hanging Impostor held the scan {took:?}"
    );
}

// ---------------------------------------------------------- SpamAssassin

/// What spamd (through spamc) said of one message.
#[derive(Debug)]
struct SpamResult {
    spam: bool,
    score: f64,
    tests: Vec<String>,
    impostor_header: Option<String>,
}

impl SpamResult {
    fn has(&self, test: &str) -> bool {
        self.tests.iter().any(|t| t == test)
    }

    fn others(&self) -> Vec<String> {
        self.tests
            .iter()
            .filter(|t| !t.starts_with("IMPOSTOR_"))
            .cloned()
            .collect()
    }
}

struct Spamd {
    daemon: Daemon,
    port: u16,
}

impl Spamd {
    /// spamd with the baseline's configuration, and with the plugin as the
    /// README installs it (Impostor.pm and impostor.cf in the site
    /// configuration) when `impostor_port` is given.
    fn spawn(dir: &Path, impostor_port: Option<u16>) -> Spamd {
        let conf = dir.join("conf");
        let home = dir.join("home");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        for entry in std::fs::read_dir("/etc/spamassassin").unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "pre") {
                std::fs::copy(&path, conf.join(path.file_name().unwrap())).unwrap();
            }
        }
        std::fs::copy(
            repo().join("datasets/baselines/spamassassin/local.cf"),
            conf.join("local.cf"),
        )
        .unwrap();
        if let Some(port) = impostor_port {
            std::fs::copy(
                repo().join("integrations/spamassassin/Impostor.pm"),
                conf.join("Impostor.pm"),
            )
            .unwrap();
            let sample =
                std::fs::read_to_string(repo().join("integrations/spamassassin/impostor.cf"))
                    .unwrap();
            let sample = set_line(
                &sample,
                "impostor_url ",
                &format!("impostor_url http://127.0.0.1:{port}/v1/scan"),
            );
            let sample = set_line(
                &sample,
                "impostor_timeout ",
                &format!("impostor_timeout {PLUGIN_TIMEOUT_S}"),
            );
            std::fs::write(conf.join("impostor.cf"), sample).unwrap();
            let prefs = dir.join("user_prefs");
            std::fs::write(&prefs, "").unwrap();
            // Perl and configuration errors surface here, named: the
            // lint of `spamassassin --lint`, through the library so that
            // its state stays in this directory (the command makes
            // ~/.spamassassin whatever it is told).
            let lint = output_ok(
                Command::new("perl")
                    .args(["-MMail::SpamAssassin", "-e", SA_LINT])
                    .arg(&conf)
                    .arg(&home)
                    .arg(&prefs),
            );
            assert!(lint.trim().is_empty(), "SpamAssassin's lint: {lint}");
        }
        let log = dir.join("spamd.log");
        std::fs::write(&log, "").unwrap();
        chown("debian-spamd", &[&home, &log]);
        let port = free_port();
        let mut command = Command::new("spamd");
        command.args(["-L", "-x"]);
        if is_root() {
            command.args(["-u", "debian-spamd"]);
        }
        command
            .args(["-C", "/usr/share/spamassassin"])
            .arg(format!("--siteconfigpath={}", conf.display()))
            .arg("-H")
            .arg(&home)
            .arg(format!("--listen=127.0.0.1:{port}"))
            .arg("-s")
            .arg(&log)
            .args([
                "--max-children=2",
                "--min-children=1",
                "--min-spare=1",
                "--max-spare=1",
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap());
        let daemon = Daemon::spawn("spamd", &mut command, vec![dir.join("stderr.log"), log]);
        Spamd { daemon, port }
    }

    fn wait(&mut self) {
        let port = self.port;
        self.daemon.wait_until(START_LIMIT, || spamd_pong(port));
        self.daemon.assert_loopback_only();
    }

    /// The message through spamc, as an MTA would run it; the verdict read
    /// from the headers spamd adds.
    fn check(&self, mail: &Mail) -> SpamResult {
        let mut child = Command::new("spamc")
            .args(["-d", "127.0.0.1", "-p", &self.port.to_string()])
            // Fail instead of passing the message through unchanged, and
            // give up well after the plugin's own timeout.
            .args(["-x", "-t", "60"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run spamc: {e}; {INSTALL}"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&message(mail))
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "spamc failed ({}): {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.daemon.logs()
        );
        parse_spamc(&String::from_utf8_lossy(&out.stdout))
    }
}

/// `spamassassin --lint` with every path given: site rules, state and
/// preferences (ARGV); exits 1 with the errors on standard error.
const SA_LINT: &str = r#"
my ($site, $home, $prefs) = @ARGV;
my $sa = Mail::SpamAssassin->new({
    rules_filename => '/usr/share/spamassassin',
    site_rules_filename => $site,
    userprefs_filename => $prefs,
    userstate_dir => "$home/.spamassassin",
    home_dir_for_helpers => $home,
    local_tests_only => 1,
    dont_copy_prefs => 1,
});
exit($sa->lint_rules() ? 1 : 0);
"#;

fn spamd_pong(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
    if s.write_all(b"PING SPAMC/1.5\r\n\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    let _ = BufReader::new(s).read_line(&mut line);
    line.starts_with("SPAMD/") && line.contains("PONG")
}

/// The unfolded value of header `name` in the message's header section.
fn header(message: &str, name: &str) -> Option<String> {
    let head = message
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .replace("\r\n", "\n");
    let mut value: Option<String> = None;
    let mut in_it = false;
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if in_it {
                if let Some(v) = value.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
            }
            continue;
        }
        if in_it {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_string());
                in_it = true;
            }
        }
    }
    value
}

fn parse_spamc(out: &str) -> SpamResult {
    let status = header(out, "X-Spam-Status")
        .unwrap_or_else(|| panic!("no X-Spam-Status in spamc's output:\n{out}"));
    let score = status
        .split_whitespace()
        .find_map(|w| w.strip_prefix("score="))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no score in {status:?}"));
    let tests = status
        .split_once("tests=")
        .map(|(_, rest)| rest.replace(", ", ","))
        .and_then(|rest| rest.split_whitespace().next().map(str::to_string))
        .unwrap_or_default();
    SpamResult {
        spam: status.starts_with("Yes"),
        score,
        tests: tests
            .split(',')
            .filter(|t| !t.is_empty() && *t != "none")
            .map(str::to_string)
            .collect(),
        impostor_header: header(out, "X-Spam-Impostor"),
    }
}

fn assert_spamd_fails_open(spamd: &Spamd, without: &SpamResult, why: &str) {
    let r = spamd.check(&FORGED);
    assert!(r.has("IMPOSTOR_FAIL"), "{why}: {r:?}");
    let impostor: Vec<&String> = r
        .tests
        .iter()
        .filter(|t| t.starts_with("IMPOSTOR_"))
        .collect();
    assert_eq!(impostor, ["IMPOSTOR_FAIL"], "{why}: {r:?}");
    assert_eq!(r.others(), without.others(), "{why}: other rules changed");
    assert_eq!(r.spam, without.spam, "{why}: {r:?}");
    // IMPOSTOR_FAIL scores 0.001 (SpamAssassin skips rules scored 0).
    assert!(
        (r.score - without.score).abs() < 0.05,
        "{why}: {r:?} vs {without:?}"
    );
    let h = r
        .impostor_header
        .clone()
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        h.starts_with("error (") && h.contains(why),
        "{why}: X-Spam-Impostor {h:?}"
    );
}

#[test]
fn spamassassin_with_the_plugin_flags_a_forged_message_and_fails_open_when_impostor_is_down() {
    require(&[
        "/usr/sbin/spamd",
        "/usr/bin/spamc",
        "/usr/bin/spamassassin",
        "/usr/share/spamassassin/72_active.cf",
    ]);
    let dir = run_dir("impostor-sa-plugin-");
    let (mut impostor, impostor_port) = start_impostor(dir.path());
    // The same daemon with and without the plugin, started together.
    let plain_dir = dir.path().join("plain");
    let plugin_dir = dir.path().join("plugin");
    let mut plain = Spamd::spawn(&plain_dir, None);
    let mut with_plugin = Spamd::spawn(&plugin_dir, Some(impostor_port));
    plain.wait();
    with_plugin.wait();

    let without = plain.check(&FORGED);
    let with = with_plugin.check(&FORGED);
    println!("forged without the plugin: {without:?}");
    println!("forged with the plugin: {with:?}");
    assert!(
        without.tests.iter().all(|t| !t.starts_with("IMPOSTOR_")),
        "{without:?}"
    );
    assert!(without.impostor_header.is_none(), "{without:?}");
    assert!(with.has("IMPOSTOR_HIGH"), "{with:?}");
    assert!(with.has("IMPOSTOR_HEADER_FROM_SPOOF"), "{with:?}");
    assert!(!with.has("IMPOSTOR_FAIL"), "{with:?}");
    assert_eq!(
        with.others(),
        without.others(),
        "the plugin changed other rules"
    );
    assert!(!without.spam, "{without:?}");
    assert!(with.spam, "{with:?}");
    let h = with.impostor_header.clone().unwrap_or_default();
    assert!(
        h.starts_with("level=high score=0.")
            && h.contains("header_from_spoof")
            && h.contains("reasons=")
            && h.contains("(+"),
        "X-Spam-Impostor: {h:?}"
    );

    let genuine = with_plugin.check(&GENUINE);
    let genuine_without = plain.check(&GENUINE);
    for s in LEVEL_SYMBOLS.iter().chain(&["IMPOSTOR_FAIL"]) {
        assert!(!genuine.has(s), "genuine message got {s}: {genuine:?}");
    }
    assert_eq!(genuine.spam, genuine_without.spam, "{genuine:?}");
    assert_eq!(genuine.others(), genuine_without.others());
    assert!(
        genuine
            .impostor_header
            .as_deref()
            .is_some_and(|h| h.starts_with("level=none")),
        "{genuine:?}"
    );

    impostor.stop();
    assert_spamd_fails_open(&with_plugin, &without, "refused");

    hanging_listener(impostor_port);
    let t0 = Instant::now();
    assert_spamd_fails_open(&with_plugin, &without, "timed out");
    let took = t0.elapsed();
    assert!(
        took < Duration::from_secs(PLUGIN_TIMEOUT_S + 8),
        "a hanging Impostor held the scan {took:?}"
    );
}
