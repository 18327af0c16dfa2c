//! `impostor serve` as a real process on loopback: verdicts, health and
//! metrics, hostile requests, the bearer token, and hot reload.

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;
use support::{copy_default_model, free_port, impostor_ok, repo, Served};

/// What every server here runs with: quiet, and model reloads noticed
/// within 100 ms.
const SERVE_ARGS: [&str; 3] = ["--quiet", "--reload-poll-ms", "100"];

/// `impostor serve` with `extra`, given 30 s to listen.
fn start(extra: &[&str]) -> Served {
    start_with_env(extra, &[])
}

/// [`start`] with extra environment variables.
fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Served {
    Served::start_within(&SERVE_ARGS, extra, env, Duration::from_secs(30))
}

fn scan(server: &Served, body: &[u8]) -> (u16, serde_json::Value) {
    let (status, text) = server.request("POST", "/v1/scan", &[], body);
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

fn health(server: &Served) -> serde_json::Value {
    serde_json::from_str(&server.request("GET", "/healthz", &[], b"").1).unwrap()
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("datasets/examples").join(name)).unwrap()
}

#[test]
fn verdicts_health_and_metrics() {
    let server = start(&[]);
    let (status, v) = server.request(
        "POST",
        "/v1/scan?mail_from=dan.brandt.office%40gmail.com&client_ip=192.0.2.7&helo=mail.example&rcpt=a%40kestrelfoods.com,b%40kestrelfoods.com",
        &[],
        &example("02-freemail-ceo.eml"),
    );
    assert_eq!(status, 200, "{v}");
    let v: serde_json::Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v["flagged"], true, "{v}");
    assert!(v["error"].is_null());
    assert!(v["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "freemail_impersonation"));
    let (status, v) = scan(&server, &example("01-internal-ham.eml"));
    assert_eq!(status, 200);
    assert_eq!(v["flagged"], false, "{v}");
    let (status, _) = server.request("POST", "/v1/scan?client_ip=not-an-ip", &[], b"x");
    assert_eq!(status, 400);

    let health = health(&server);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["model"], "built in");
    let (status, metrics) = server.request("GET", "/metrics", &[], b"");
    assert_eq!(status, 200);
    for want in [
        "impostor_requests_total{outcome=\"ok\"} 2",
        "impostor_requests_total{outcome=\"bad_message\"} 1",
        "impostor_request_duration_seconds_count 3",
        "impostor_verdicts_total{level=\"none\"} 1",
        "impostor_techniques_total{technique=\"freemail_impersonation\"} 1",
    ] {
        assert!(metrics.contains(want), "no {want:?} in\n{metrics}");
    }
}

#[test]
fn a_panic_while_judging_a_request_is_a_json_500_and_the_server_keeps_serving() {
    // Checked when the test is compiled: without the fail point it
    // would prove nothing.
    const {
        assert!(
            impostor_features::FAULT_INJECTION,
            "the tests need impostor-features' failpoints (a dev-dependency feature)"
        )
    };
    // No backtrace, a long time limit: symbolising one in this debug
    // build on a loaded machine can outlast the default limit.
    let mut server = start_with_env(
        &["--scan-timeout-ms", "60000"],
        &[
            ("FAILPOINTS", "extract-message=panic(injected fault)"),
            ("RUST_BACKTRACE", "0"),
        ],
    );
    let mut marked = impostor_features::FAULT_MARKER.to_vec();
    marked.extend_from_slice(b"\r\n");
    marked.extend_from_slice(&example("01-internal-ham.eml"));
    for _ in 0..3 {
        let (status, v) = scan(&server, &marked);
        assert_eq!(status, 500, "{v}");
        let error = v["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("internal error while reading this message: injected fault"),
            "{v}"
        );
        let (status, v) = scan(&server, &example("01-internal-ham.eml"));
        assert_eq!(status, 200, "{v}");
        assert!(v["score"].is_number(), "{v}");
        assert_eq!(health(&server)["status"], "ok");
    }
    assert!(server.running());
}

#[test]
fn hostile_requests_get_clear_errors_and_the_server_keeps_serving() {
    let mut server = start(&["--max-message-size", "1000000"]);
    let ok = |server: &Served| {
        let (status, v) = scan(server, &example("01-internal-ham.eml"));
        assert_eq!(status, 200, "{v}");
    };
    let (status, v) = scan(&server, b"");
    assert_eq!(status, 422);
    assert!(v["error"].as_str().unwrap().contains("empty"), "{v}");
    ok(&server);
    let garbage: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let (status, v) = scan(&server, &garbage);
    assert!(status == 422 || status == 200, "{status} {v}");
    assert!(v.is_object());
    ok(&server);
    // 100 MB against a 1 MB limit: refused by its length, not read.
    let big = vec![b'a'; 100 * 1024 * 1024];
    let (status, v) = scan(&server, &big);
    assert_eq!(status, 413, "{v}");
    assert!(v["error"].as_str().unwrap().contains("larger than"), "{v}");
    ok(&server);
    // A client that promises a body and goes away in the middle of it.
    for _ in 0..5 {
        let mut s = TcpStream::connect(&server.addr).unwrap();
        s.write_all(
            b"POST /v1/scan HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\nFrom: a@b\r\n",
        )
        .unwrap();
        drop(s);
    }
    // And one that sends no valid HTTP at all.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")
        .unwrap();
    drop(s);
    ok(&server);
    assert!(server.running());
}

#[test]
fn the_bearer_token_is_required_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let server = start(&["--token-file", token.to_str().unwrap()]);
    let body = example("01-internal-ham.eml");
    let (status, text) = server.request("POST", "/v1/scan", &[], &body);
    assert_eq!(status, 401, "{text}");
    let (status, _) = server.request(
        "POST",
        "/v1/scan",
        &[("Authorization", "Bearer wrong-token!")],
        &body,
    );
    assert_eq!(status, 401);
    let (status, _) = server.request(
        "POST",
        "/v1/scan",
        &[("Authorization", "Bearer s3cret-token")],
        &body,
    );
    assert_eq!(status, 200);
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_changed_model_is_verified_before_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    copy_default_model(&model);
    let mut server = start(&["--model", model.to_str().unwrap()]);
    let first = health(&server)["model_manifest_sha256"].clone();
    let metric = |server: &Served, result: &str| -> u64 {
        let m = server.request("GET", "/metrics", &[], b"").1;
        let key = format!("impostor_model_reloads_total{{result=\"{result}\"}} ");
        m.lines()
            .find_map(|l| l.strip_prefix(&key))
            .unwrap()
            .parse()
            .unwrap()
    };

    // A tampered manifest (SHA256SUMS touched too, so the watcher sees it):
    // refused, and the old model keeps answering.
    let manifest = model.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replacen("\"weight\": ", "\"weight\": 1", 1)).unwrap();
    support::touch_later(&model.join("SHA256SUMS"));
    wait_for("the refused reload", || metric(&server, "refused") >= 1);
    assert_eq!(health(&server)["model_manifest_sha256"], first);
    let (status, _) = scan(&server, &example("02-freemail-ceo.eml"));
    assert_eq!(status, 200);

    // A new, valid artifact written over it: served after verification.
    let corpus = dir.path().join("corpus");
    let run = |args: &[&str]| impostor_ok(args, None);
    run(&[
        "gen",
        "-o",
        corpus.to_str().unwrap(),
        "--ham",
        "300",
        "--attacks",
        "150",
    ]);
    let messages = corpus.join("messages");
    run(&[
        "train",
        "-q",
        messages.to_str().unwrap(),
        "-o",
        model.to_str().unwrap(),
    ]);
    // The tampered directory was an artifact, so train replaced it whole.
    wait_for("the new model", || {
        health(&server)["model_manifest_sha256"] != first
    });
    assert!(metric(&server, "ok") >= 1);
    let (status, v) = scan(&server, &example("02-freemail-ceo.eml"));
    assert_eq!(status, 200, "{v}");

    // SIGHUP reloads too (here: the same model again).
    let before = metric(&server, "ok");
    let pid = server.pid().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    wait_for("the SIGHUP reload", || metric(&server, "ok") > before);
    assert!(server.running());
}

#[test]
fn a_tampered_model_at_start_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    copy_default_model(&model);
    let table = model.join("training.parquet");
    let mut bytes = std::fs::read(&table).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(&table, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--model",
        ])
        .arg(&model)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("training.parquet") && err.contains("SHA-256"),
        "{err}"
    );
}

#[test]
fn with_a_history_a_message_is_judged_against_the_ones_served_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.toml");
    std::fs::write(
        &org,
        "name = \"Example Org\"\ninternal_domains = [\"example.org\"]\ntrusted_authserv_ids = [\"mx1.example.org\"]\n",
    )
    .unwrap();
    let org = org.to_str().unwrap();
    let model = support::history_model(&dir.path().join("model"));
    let mail = dir.path().join("mail");
    support::write_mail_history(
        &mail,
        "example.org",
        "ana@example.org",
        "bo@example.org",
        10,
    );
    let store = dir.path().join("history.redb");
    let store = store.to_str().unwrap();
    impostor_ok(
        &[
            "history",
            "import",
            "--org",
            org,
            "--store",
            store,
            mail.to_str().unwrap(),
        ],
        None,
    );
    let server = start(&[
        "--org",
        org,
        "--model",
        model.to_str().unwrap(),
        "--history",
        store,
        "--history-delay",
        "0s",
    ]);
    let now = support::unix_now();
    // 1. ana writes to a new partner: the organisation's sent mail.
    let sent = support::internal_message(
        "ana@example.org",
        "partner@new-partner.example",
        "10.8.2.41",
        now - 120,
        "Quote request",
        "Could you send us a quote for two pallets?",
    );
    let (status, v) = server.request(
        "POST",
        "/v1/scan?rcpt=partner%40new-partner.example&client_ip=10.8.2.41",
        &[],
        sent.as_bytes(),
    );
    assert_eq!(status, 200, "{v}");
    // 2. The partner's reply sees it: someone the organisation wrote to.
    let reply = |from: &str| {
        support::inbound_message(
            from,
            "ana@example.org",
            "192.0.2.80",
            now - 60,
            "Re: Quote request",
            "Thank you, the quote is attached.",
        )
    };
    let (status, v) = scan(&server, reply("partner@new-partner.example").as_bytes());
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["flagged"], false, "{v}");
    assert!(
        !support::reason_codes(&v).contains(&"test_history_never_written_to".to_string()),
        "{v}"
    );
    // The same reply from a firm nobody wrote to is no answer to anything.
    let (status, v) = scan(&server, reply("sales@unknown-firm.example").as_bytes());
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["flagged"], true, "{v}");
    assert!(
        support::reason_codes(&v).contains(&"test_history_never_written_to".to_string()),
        "{v}"
    );
    let (_, metrics) = server.request("GET", "/metrics", &[], b"");
    assert!(
        metrics.contains("impostor_history_failures_total 0"),
        "{metrics}"
    );
}
