//! `impostor milter` against hostile and proper milter clients, spoken over
//! TCP byte by byte (the MTA side of the milter protocol, version 6).

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use support::milter_client::{connect, cstr, open_session_as, packet, send_message_in, step};
use support::{copy_default_model, seed_dir, Milter};

/// Negotiation, connect, HELO, MAIL, RCPT: the start of every session.
fn open_session(m: &Milter, mail_from: &str) -> TcpStream {
    open_session_as(m, mail_from, &["jessie@interface.com"], None)
}

/// The whole of one message through a session: what end-of-message sent
/// back (modifications, then the final reply).
fn send_message(m: &Milter, raw: &[u8], mail_from: &str) -> Vec<(u8, String)> {
    send_message_in(open_session(m, mail_from), raw)
}

fn seed(name: &str) -> Vec<u8> {
    std::fs::read(seed_dir().join(name)).unwrap()
}

/// A well-formed session still gets the right verdicts.
fn assert_serves(m: &mut Milter) {
    let genuine = send_message(m, &seed("008.eml"), "harry.potter@interface.com");
    assert_eq!(
        genuine,
        vec![(b'c', String::new())],
        "the genuine 008.eml passes untouched\n{}",
        m.log()
    );
    let attack = send_message(m, &seed("004.eml"), "harry.potter@inteirface.com");
    let last = attack.last().unwrap();
    assert_eq!(
        last.0,
        b'y',
        "the lookalike attack is rejected: {attack:?}\n{}",
        m.log()
    );
    assert!(
        last.1.starts_with("550 5.7.1 Rejected by Impostor: ")
            && last.1.contains("lookalike_domain"),
        "{:?}",
        last.1
    );
    assert!(m.running(), "the milter is still running\n{}", m.log());
}

/// A milter for the seed org, with `extra` options.
fn start_with(extra: &[&str]) -> Milter {
    let org = seed_dir().join("org.toml");
    let mut args = vec!["--org", org.to_str().unwrap()];
    args.extend_from_slice(extra);
    Milter::start(&args)
}

fn start() -> Milter {
    start_with(&[])
}

#[test]
fn proper_sessions_tag_reject_and_pass() {
    let mut m = start();
    // Without a resolver it says so at start, and how to verify live.
    assert!(
        m.log()
            .contains("impostor milter: no resolver: authentication is read from the trusted receivers' headers; give --resolver"),
        "{}",
        m.log()
    );
    assert_serves(&mut m);
    // Tagging: reject and quarantine off, the attack gets the headers.
    let t = start_with(&["--reject-at", "off", "--quarantine-at", "off"]);
    let mut forged = b"X-Impostor-Level: none\r\n".to_vec();
    forged.extend_from_slice(&seed("004.eml"));
    let replies = send_message(&t, &forged, "harry.potter@inteirface.com");
    let added: Vec<&String> = replies
        .iter()
        .filter(|r| r.0 == b'h')
        .map(|r| &r.1)
        .collect();
    assert_eq!(added.len(), 4, "{replies:?}");
    assert!(added[0].starts_with("X-Impostor-Score\0"), "{added:?}");
    assert!(added[1].starts_with("X-Impostor-Level\0high"), "{added:?}");
    assert!(added[2].contains("lookalike_domain"), "{added:?}");
    assert!(added[3].starts_with("X-Impostor-Reasons\0") && added[3].contains("(+"));
    // The forged copy is removed (change header, index 1, empty value).
    assert!(
        replies
            .iter()
            .any(|r| r.0 == b'm' && r.1.contains("X-Impostor-Level")),
        "{replies:?}"
    );
    assert_eq!(replies.last().unwrap().0, b'c');
    t.wait_log("level=high score=");
}

#[test]
fn quarantine_at_medium_holds_the_attack() {
    let m = start_with(&["--reject-at", "off"]);
    let replies = send_message(&m, &seed("006.eml"), "harrypotter.ceo.office@gmail.com");
    assert!(
        replies
            .iter()
            .any(|r| r.0 == b'q' && r.1.contains("freemail_impersonation")),
        "{replies:?}\n{}",
        m.log()
    );
}

#[test]
fn malformed_input_does_not_stop_the_milter() {
    let mut m = start();
    // A truncated packet: the length promises more than ever comes.
    let mut s = connect(&m);
    s.write_all(&[0, 0, 0, 13, b'O', 0, 0]).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    drop(s);
    assert_serves(&mut m);

    // A bogus length prefix (4 GiB): refused without allocating it.
    let mut s = connect(&m);
    s.write_all(&[0xff, 0xff, 0xff, 0xff, b'O', 1, 2, 3])
        .unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    drop(s);
    assert_serves(&mut m);

    // A zero length, then an unknown command, then garbage.
    for junk in [
        &[0u8, 0, 0, 0][..],
        &packet(b'Z', b"??"),
        b"GET / HTTP/1.0\r\n\r\n",
    ] {
        let mut s = connect(&m);
        let _ = s.write_all(junk);
        let _ = s.shutdown(Shutdown::Write);
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    }
    assert_serves(&mut m);

    // A client that disconnects mid-message, and one that breaks protocol
    // order (a body before any header, end-of-message twice).
    let mut s = open_session(&m, "a@example.com");
    step(&mut s, b'L', &cstr(&[b"From", b"a@example.com"]));
    s.write_all(&packet(b'B', b"half a bo")).unwrap();
    drop(s);
    let mut s = open_session(&m, "a@example.com");
    let _ = s.write_all(&packet(b'E', &[]));
    let _ = s.write_all(&packet(b'E', &[]));
    let _ = s.shutdown(Shutdown::Write);
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert_serves(&mut m);
}

#[test]
fn oversize_messages_follow_the_error_policy() {
    let m = start_with(&["--max-message-size", "2000", "--on-error", "tempfail"]);
    let replies = send_message(&m, &seed("004.eml"), "harry.potter@inteirface.com");
    let last = replies.last().unwrap();
    assert_eq!(last.0, b'y', "{replies:?}");
    assert!(last.1.starts_with("451 4.7.0 "), "{:?}", last.1);
    m.wait_log("action=tempfail");

    let open = start_with(&["--max-message-size", "2000"]);
    let replies = send_message(&open, &seed("004.eml"), "harry.potter@inteirface.com");
    assert_eq!(replies, vec![(b'a', String::new())], "fail open accepts");
}

#[test]
fn a_panic_while_judging_is_tempfailed_by_default_and_the_milter_keeps_serving() {
    // Checked when the test is compiled: without the fail point it
    // would prove nothing.
    const {
        assert!(
            impostor_features::FAULT_INJECTION,
            "the tests need impostor-features' failpoints (a dev-dependency feature)"
        )
    };
    let org = seed_dir().join("org.toml");
    // Without a backtrace and with a long time limit: symbolising one in
    // this debug build on a loaded machine can take longer than the
    // default 2 s, and the message would then be a time-limit case.
    let faults = [
        ("FAILPOINTS", "extract-message=panic(injected fault)"),
        ("RUST_BACKTRACE", "0"),
    ];
    let mut marked = impostor_features::FAULT_MARKER.to_vec();
    marked.extend_from_slice(b"\r\n");
    marked.extend_from_slice(&seed("004.eml"));
    // Fail open for unreadable mail must not mean accepting mail our own
    // bug could not judge.
    let mut m = Milter::start_with_env(
        &[
            "--org",
            org.to_str().unwrap(),
            "--on-error",
            "accept",
            "--timeout-ms",
            "60000",
        ],
        &faults,
    );
    let replies = send_message(&m, &marked, "harry.potter@inteirface.com");
    let last = replies.last().unwrap();
    assert_eq!(last.0, b'y', "{replies:?}");
    assert!(last.1.starts_with("451 4.7.0 "), "{:?}", last.1);
    m.wait_log("internal error while reading this message: injected fault");
    m.wait_log("action=tempfail");
    assert_serves(&mut m);
    // The policy is a flag.
    let open = Milter::start_with_env(
        &[
            "--org",
            org.to_str().unwrap(),
            "--on-internal-error",
            "accept",
            "--timeout-ms",
            "60000",
        ],
        &faults,
    );
    let replies = send_message(&open, &marked, "harry.potter@inteirface.com");
    assert_eq!(replies, vec![(b'a', String::new())], "{replies:?}");
}

#[test]
fn sigterm_stops_it_cleanly() {
    let mut m = start();
    let status = m.terminate();
    assert!(status.success(), "exit status {status:?}\n{}", m.log());
    m.wait_log("impostor milter: stopped");
}

#[test]
fn tampered_model_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    copy_default_model(dir.path());
    let manifest = dir.path().join("manifest.json");
    let mut bytes = std::fs::read(&manifest).unwrap();
    // Flip a byte inside the JSON (a digit or letter), keeping it valid UTF-8.
    let i = bytes.iter().position(|b| b.is_ascii_digit()).unwrap();
    bytes[i] = if bytes[i] == b'9' { b'8' } else { bytes[i] + 1 };
    std::fs::write(&manifest, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(["milter", "--listen", "127.0.0.1:0", "--model"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("manifest.json"), "names the file: {err}");
    assert!(
        !err.contains("listening on"),
        "refused before binding: {err}"
    );
}

#[test]
fn contradictory_levels_and_bad_addresses_are_usage_errors() {
    for (args, want) in [
        (
            &["--quarantine-at", "high", "--reject-at", "medium"][..],
            "--quarantine-at high",
        ),
        (&["--reject-at", "severe"][..], "unknown level"),
        (&["--listen", "inet:7357@127.0.0.1"][..], "HOST:PORT"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
            .arg("milter")
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn a_scan_over_its_time_limit_follows_the_error_policy() {
    let mut m = start_with(&["--timeout-ms", "1", "--on-error", "reject"]);
    // Two megabytes of HTML: far more than a millisecond's work.
    let mut raw = b"From: a@example.com\r\nTo: jessie@interface.com\r\nSubject: big\r\nContent-Type: text/html\r\n\r\n".to_vec();
    for i in 0..40_000 {
        raw.extend_from_slice(
            format!("<p>paragraph {i} <a href=\"http://example.com/{i}\">link</a></p>\r\n")
                .as_bytes(),
        );
    }
    let replies = send_message(&m, &raw, "a@example.com");
    let last = replies.last().unwrap();
    assert_eq!(last.0, b'y', "{replies:?}");
    assert!(
        last.1
            .starts_with("550 5.7.0 Impostor could not judge this message (time limit"),
        "{:?}",
        last.1
    );
    m.wait_log("action=reject");
    assert!(m.running(), "{}", m.log());
}

/// With --model DIR, a changed artifact is verified before it judges: a
/// tampered one is refused and the old model keeps judging; SIGHUP reloads
/// a good one.
#[test]
fn model_reloads_are_verified_first() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_default_model(&dir.path().join("model"));
    let mut m = start_with(&[
        "--model",
        model.to_str().unwrap(),
        "--reload-poll-ms",
        "100",
    ]);
    let manifest = model.join("manifest.json");
    let original = std::fs::read(&manifest).unwrap();
    let text = String::from_utf8(original.clone()).unwrap();
    std::fs::write(&manifest, text.replacen("\"weight\": ", "\"weight\": 1", 1)).unwrap();
    support::touch_later(&model.join("SHA256SUMS"));
    m.wait_log("reload refused, the previous model keeps serving");
    assert!(m.log().contains("manifest.json"), "{}", m.log());
    assert_serves(&mut m);
    // Restored, and a SIGHUP: reloaded.
    std::fs::write(&manifest, &original).unwrap();
    assert!(Command::new("kill")
        .args(["-HUP", &m.pid().to_string()])
        .status()
        .unwrap()
        .success());
    m.wait_log("model reloaded: manifest SHA-256");
    assert_serves(&mut m);
}

#[test]
fn mail_submitted_on_the_originating_service_is_never_rejected_and_is_learnt_as_sent_mail() {
    let dir = tempfile::tempdir().unwrap();
    let model = support::history_model(&dir.path().join("model"));
    let store = dir.path().join("history.redb");
    let org = seed_dir().join("org.toml");
    let args = [
        "--org",
        org.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--history",
        store.to_str().unwrap(),
        "--history-delay",
        "0s",
    ];
    let mut m = Milter::start(&args);
    // The lookalike attack is rejected as arriving mail…
    let attack = seed("004.eml");
    let replies = send_message(&m, &attack, "harry.potter@inteirface.com");
    assert_eq!(replies.last().unwrap().0, b'y', "{replies:?}\n{}", m.log());
    // …and passes untouched on the submission service.
    let replies = send_message_in(
        open_session_as(
            &m,
            "harry.potter@inteirface.com",
            &["jessie@interface.com"],
            Some("ORIGINATING"),
        ),
        &attack,
    );
    assert_eq!(replies, vec![(b'c', String::new())], "{}", m.log());
    // An internal mailbox writing outside, submitted: sent mail.
    let sent = support::internal_message(
        "carol@interface.com",
        "partner@some-vendor.example",
        "10.8.2.44",
        support::unix_now() - 60,
        "Quote request",
        "Could you send us a quote for two pallets?",
    );
    let replies = send_message_in(
        open_session_as(
            &m,
            "carol@interface.com",
            &["partner@some-vendor.example"],
            Some("ORIGINATING"),
        ),
        sent.as_bytes(),
    );
    assert_eq!(replies, vec![(b'c', String::new())], "{}", m.log());
    m.wait_log("origin=submitted");
    assert!(m.terminate().success(), "{}", m.log());
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(["history", "show", "--org", org.to_str().unwrap(), "--store"])
        .arg(&store)
        .args(["--format", "json", "some-vendor.example"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["outbound"], 1, "{p}");
    // The attack submitted from outside the organisation taught nothing.
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(["history", "show", "--org", org.to_str().unwrap(), "--store"])
        .arg(&store)
        .args(["harry.potter@inteirface.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
