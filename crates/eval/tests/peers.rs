//! The two peer baselines end to end: `scripts/baselines.sh` starts spamd
//! and Rspamd from their Debian packages in a temporary directory on free
//! loopback ports, and the SpamAssassin and Rspamd detectors judge GTUBE,
//! a genuine message, hostile bytes and an empty message through them.
//!
//! It does not skip when the packages are missing: it fails and says how to
//! install them, so that a CI without them cannot pass silently.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use impostor_eval::detectors::{Rspamd, SpamAssassin};
use impostor_eval::{Detector, DetectorError, Judgement, Sample};

const TIMEOUT: Duration = Duration::from_secs(60);

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/baselines.sh")
}

/// Both daemons of one run; stopped through the script when dropped, so a
/// failing assertion does not leave them running.
struct Daemons {
    dir: tempfile::TempDir,
}

impl Drop for Daemons {
    fn drop(&mut self) {
        let out = Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "baselines.sh stop failed: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("baselines.sh stop could not run: {e}"),
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn require_packages() {
    let missing: Vec<&str> = [
        ("/usr/sbin/spamd", "spamd"),
        ("/usr/bin/rspamd", "rspamd"),
        ("/usr/share/spamassassin/72_active.cf", "spamassassin"),
    ]
    .into_iter()
    .filter(|(path, _)| !Path::new(path).exists())
    .map(|(_, package)| package)
    .collect();
    assert!(
        missing.is_empty(),
        "the peer baselines need Debian packages that are not installed ({}): run .ci/run, \
         or apt-get install spamassassin spamc spamd rspamd",
        missing.join(", ")
    );
}

fn start() -> (Daemons, SocketAddr, String) {
    require_packages();
    let dir = tempfile::Builder::new()
        .prefix("impostor-peers-")
        .tempdir()
        .expect("temporary directory");
    let (spamd_port, rspamd_port) = loop {
        let (a, b) = (free_port(), free_port());
        if a != b {
            break (a, b);
        }
    };
    let daemons = Daemons { dir };
    let t0 = Instant::now();
    let out = Command::new(script())
        .arg("start")
        .arg(daemons.dir.path())
        .args(["--spamd-port", &spamd_port.to_string()])
        .args(["--rspamd-port", &rspamd_port.to_string()])
        // A cold Rspamd compiles its Hyperscan databases first (up to a
        // minute on a loaded machine); the script's own limit is 90 s.
        .env("BASELINES_TIMEOUT", "180")
        .output()
        .expect("run scripts/baselines.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scripts/baselines.sh start failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    println!("started in {:?}:\n{stdout}", t0.elapsed());
    assert!(
        stdout.contains(&format!("spamd 127.0.0.1:{spamd_port}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("rspamd http://127.0.0.1:{rspamd_port}")),
        "{stdout}"
    );
    let spamd: SocketAddr = ([127, 0, 0, 1], spamd_port).into();
    (daemons, spamd, format!("127.0.0.1:{rspamd_port}"))
}

const GTUBE: &[u8] = b"Received: from mail.example.com (mail.example.com [192.0.2.10])\r\n\
    \tby mx.example.org with ESMTP id 4AB12; Sat, 28 Nov 2026 10:00:00 +0000\r\n\
    From: Sender <sender@example.com>\r\n\
    To: recipient@example.org\r\n\
    Subject: GTUBE test\r\n\
    Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n\
    Message-ID: <gtube-test-0001@example.com>\r\n\
    MIME-Version: 1.0\r\n\
    Content-Type: text/plain; charset=us-ascii\r\n\
    \r\n\
    This is the GTUBE, the\r\n\
    \tGeneric\r\n\
    \tTest for\r\n\
    \tUnsolicited\r\n\
    \tBulk\r\n\
    \tEmail\r\n\
    \r\n\
    XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n";

const GENUINE: &[u8] = b"Received: from mail.example.com (mail.example.com [192.0.2.10])\r\n\
    \tby mx.example.org with ESMTP id 4AB13; Sat, 28 Nov 2026 10:05:00 +0000\r\n\
    From: Alice Example <alice@example.com>\r\n\
    To: Bob Example <bob@example.org>\r\n\
    Subject: Notes from Thursday's planning meeting\r\n\
    Date: Sat, 28 Nov 2026 10:04:58 +0000\r\n\
    Message-ID: <20261128100458.4f2a@mail.example.com>\r\n\
    MIME-Version: 1.0\r\n\
    Content-Type: text/plain; charset=utf-8\r\n\
    Content-Transfer-Encoding: 8bit\r\n\
    \r\n\
    Hi Bob,\r\n\
    \r\n\
    thanks for joining on Thursday. As agreed, I will draft the schedule for\r\n\
    the spring release and send it round by Wednesday; you wanted to check\r\n\
    the test plan with Carol before then. The next meeting is on the 10th.\r\n\
    \r\n\
    Best,\r\n\
    Alice\r\n";

fn judge(d: &dyn Detector, raw: &[u8]) -> Result<Judgement, DetectorError> {
    d.judge(&Sample {
        raw,
        extraction: None,
    })
}

/// A message that may be refused, but only as a per-message peer error.
fn judge_hostile(d: &dyn Detector, what: &str, raw: &[u8]) {
    match judge(d, raw) {
        Ok(j) => println!("{} on {what}: {j:?}", d.name()),
        Err(e @ DetectorError::Peer { .. }) => println!("{} on {what}: error {e}", d.name()),
        Err(e) => panic!("{} on {what}: unexpected error kind {e:?}", d.name()),
    }
}

#[test]
fn peers_judge_through_their_daemons() {
    let (_daemons, spamd_addr, rspamd_addr) = start();

    let t = Instant::now();
    let sa = SpamAssassin::connect(spamd_addr, TIMEOUT).expect("connect to spamd");
    println!("spamd connect {:?}", t.elapsed());
    let t = Instant::now();
    let rs = Rspamd::connect(&rspamd_addr, TIMEOUT).expect("connect to rspamd");
    println!("rspamd connect {:?}", t.elapsed());
    let detectors: [&dyn Detector; 2] = [&sa, &rs];

    assert_eq!(sa.name(), "spamassassin");
    assert_eq!(rs.name(), "rspamd");
    assert!(sa.is_peer() && rs.is_peer());
    assert!(
        sa.description().contains("SpamAssassin 4."),
        "{}",
        sa.description()
    );
    assert!(
        rs.description().contains("Rspamd 3."),
        "{}",
        rs.description()
    );
    println!("{}\n{}", sa.description(), rs.description());

    for d in detectors {
        let t = Instant::now();
        let j = judge(d, GTUBE).unwrap_or_else(|e| panic!("{} on GTUBE: {e}", d.name()));
        println!("{} on GTUBE ({:?}): {j:?}", d.name(), t.elapsed());
        assert_eq!(j.flagged, Some(true), "{} must flag GTUBE", d.name());
        assert!(
            j.hits.iter().any(|h| h == "GTUBE"),
            "{}: {:?}",
            d.name(),
            j.hits
        );

        let t = Instant::now();
        let j = judge(d, GENUINE).unwrap_or_else(|e| panic!("{} on genuine: {e}", d.name()));
        println!("{} on genuine ({:?}): {j:?}", d.name(), t.elapsed());
        assert_eq!(
            j.flagged,
            Some(false),
            "{} flagged a genuine message",
            d.name()
        );
    }
    assert!(judge(&sa, GTUBE).unwrap().score >= 5.0);
    assert!(judge(&sa, GENUINE).unwrap().score < 5.0);

    // Hostile input: a judgement or a per-message error, never a panic,
    // and the daemon keeps serving.
    let mut garbage: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    garbage.extend_from_slice(b"\r\n\r\n\0\0From: \xff\xfe\r\n.\r\n");
    // Over spamc's default 500 KB cut-off, which this client does not have.
    let mut large = GENUINE.to_vec();
    while large.len() < 700_000 {
        large.extend_from_slice(b"More notes from the meeting, line after line.\r\n");
    }
    for d in detectors {
        judge_hostile(d, "garbage", &garbage);
        judge_hostile(d, "an empty message", b"");
        judge_hostile(d, "headers only", b"From: a@b\r\n");
        let t = Instant::now();
        let j = judge(d, &large).unwrap_or_else(|e| panic!("{} on 700 KB: {e}", d.name()));
        println!("{} on 700 KB ({:?}): {j:?}", d.name(), t.elapsed());
        let j = judge(d, GENUINE)
            .unwrap_or_else(|e| panic!("{} stopped serving after hostile input: {e}", d.name()));
        assert_eq!(j.flagged, Some(false), "{}", d.name());
    }

    // Callable from several threads at once.
    std::thread::scope(|s| {
        for d in detectors {
            for _ in 0..3 {
                s.spawn(move || {
                    for raw in [GENUINE, GTUBE] {
                        judge(d, raw).unwrap_or_else(|e| panic!("{} in a thread: {e}", d.name()));
                    }
                });
            }
        }
    });

    // Rough per-message latency on the genuine message.
    for d in detectors {
        let n = 10;
        let t = Instant::now();
        for _ in 0..n {
            judge(d, GENUINE).expect("genuine");
        }
        println!("{}: {:?} per message", d.name(), t.elapsed() / n);
    }
}

#[test]
fn nothing_listening_is_a_peer_error_naming_the_address() {
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let timeout = Duration::from_secs(2);
    for result in [
        SpamAssassin::connect(addr, timeout).map(|_| ()),
        Rspamd::connect(&format!("127.0.0.1:{port}"), timeout).map(|_| ()),
    ] {
        match result {
            Err(e @ DetectorError::Peer { .. }) => {
                let text = e.to_string();
                assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
                assert!(text.contains("scripts/baselines.sh start"), "{text}");
                println!("{text}");
            }
            Err(e) => panic!("wrong error kind: {e:?}"),
            Ok(()) => panic!("connected to a port where nothing listens"),
        }
    }
}
