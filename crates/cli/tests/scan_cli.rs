//! `impostor scan`: the design.md §5 record, exit statuses, and refusing
//! a tampered artifact.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scan(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .arg("scan")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn examples_get_one_record_each_in_order() {
    let examples = repo().join("datasets/examples");
    let (code, out, err) = scan(&[examples.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The four examples and the header-ambiguity fixtures below them.
    let ambiguity = std::fs::read_dir(examples.join("ambiguity"))
        .unwrap()
        .count();
    assert!(ambiguity >= 17, "{ambiguity} ambiguity fixtures");
    assert_eq!(records.len(), 4 + ambiguity);
    let members: Vec<&str> = records
        .iter()
        .map(|r| r["member"].as_str().unwrap())
        .collect();
    let mut sorted = members.clone();
    sorted.sort();
    assert_eq!(members, sorted, "input order is kept");
    for r in &records {
        let score = r["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
        assert!(["none", "low", "medium", "high"].contains(&r["level"].as_str().unwrap()));
        assert!(r["error"].is_null());
        assert!(r["techniques"].is_array() && r["reasons"].is_array());
    }
    // The internal ham passes; the free-mail CEO and the lookalike partner do not.
    let flagged = |name: &str| {
        records
            .iter()
            .find(|r| r["member"].as_str().unwrap().starts_with(name))
            .unwrap()["flagged"]
            .as_bool()
            .unwrap()
    };
    assert!(!flagged("01-internal-ham"));
    assert!(flagged("02-freemail-ceo") && flagged("03-lookalike-partner"));

    let (code, text, _) = scan(&[
        "--format",
        "text",
        examples.join("02-freemail-ceo.eml").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(
        text.contains("flagged") && text.contains("freemail_impersonation"),
        "{text}"
    );
}

#[test]
fn unreadable_messages_get_an_error_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.eml"), b"").unwrap();
    std::fs::write(
        dir.path().join("garbage.eml"),
        [0u8, 159, 146, 150, 0, 1, 2],
    )
    .unwrap();
    std::fs::copy(
        repo().join("datasets/examples/01-internal-ham.eml"),
        dir.path().join("ok.eml"),
    )
    .unwrap();
    let (code, out, err) = scan(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    let errors = records.iter().filter(|r| r["error"].is_string()).count();
    assert_eq!(errors, 2, "{out}");
    assert!(records
        .iter()
        .any(|r| r["error"].is_null() && r["score"].is_number()));
    let (code, _, err) = scan(&["/nonexistent/inbox.mbox"]);
    assert_eq!(code, 2);
    assert!(err.contains("no such file"), "{err}");
}

#[test]
fn a_tampered_artifact_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    for f in std::fs::read_dir(repo().join("models/default")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), model.join(f.file_name())).unwrap();
    }
    let manifest = model.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replacen("\"weight\": ", "\"weight\": 1", 1)).unwrap();
    let example = repo().join("datasets/examples/01-internal-ham.eml");
    let (code, out, err) = scan(&[
        "--model",
        model.to_str().unwrap(),
        example.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("manifest.json") && err.contains("SHA-256"),
        "{err}"
    );
    assert!(err.contains(model.to_str().unwrap()), "{err}");
}

/// A copy of an example message carrying the fail point's marker: with
/// FAILPOINTS=extract-message=panic, reading it panics (test builds only).
fn write_panicking_copy(dir: &Path, name: &str) {
    let ham = std::fs::read(repo().join("datasets/examples/01-internal-ham.eml")).unwrap();
    let mut marked = impostor_features::FAULT_MARKER.to_vec();
    marked.extend_from_slice(b"\r\n");
    marked.extend_from_slice(&ham);
    std::fs::write(dir.join(name), marked).unwrap();
}

#[test]
fn a_panic_while_reading_one_message_is_that_messages_error_and_the_rest_are_judged() {
    // Checked when the test is compiled: without the fail point it
    // would prove nothing.
    const {
        assert!(
            impostor_features::FAULT_INJECTION,
            "the tests need impostor-features' failpoints (a dev-dependency feature)"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    for name in ["01-internal-ham.eml", "02-freemail-ceo.eml"] {
        let from = repo().join("datasets/examples").join(name);
        std::fs::copy(from, dir.path().join(name)).unwrap();
    }
    write_panicking_copy(dir.path(), "03-panics.eml");
    let judged_before = std::fs::read_dir(dir.path()).unwrap().count() - 1;
    for command in ["scan", "extract"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_impostor"));
        cmd.env("FAILPOINTS", "extract-message=panic(injected fault)")
            .arg(command)
            .arg(dir.path());
        let table = dir.path().with_extension("ndjson");
        if command == "extract" {
            cmd.arg("-o").arg(&table).arg("--quiet");
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {err}");
        let text = if command == "extract" {
            std::fs::read_to_string(&table).unwrap()
        } else {
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let records: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records.len(), judged_before + 1, "{command}: {text}");
        let failed: Vec<_> = records.iter().filter(|r| r["error"].is_string()).collect();
        assert_eq!(failed.len(), 1, "{command}: {text}");
        let error = failed[0]["error"].as_str().unwrap();
        assert!(
            error.starts_with("internal error while reading this message: injected fault"),
            "{command}: {error}"
        );
        let path = failed[0]["path"].as_str().unwrap();
        assert!(path.ends_with("03-panics.eml"), "{command}: {path}");
    }
}

mod support;

const HISTORY_ORG: &str = "name = \"Example Org\"
internal_domains = [\"example.org\"]
trusted_authserv_ids = [\"mx1.example.org\"]
";

/// ana@example.org, whose history says she sends from 10.8.2.0/24, asks
/// for a payment from 185.220.101.7, `t` seconds after 1970.
fn takeover(t: i64) -> String {
    takeover_from("185.220.101.7", t)
}

/// [`takeover`] from `client_ip`.
fn takeover_from(client_ip: &str, t: i64) -> String {
    support::internal_message(
        "ana@example.org",
        "bo@example.org",
        client_ip,
        t,
        "Urgent payment today",
        "Please process the payment of invoice 4471 today by wire transfer; I am in meetings all day.",
    )
}

#[test]
fn scan_with_a_history_store_names_a_takeover_and_learns_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.toml");
    std::fs::write(&org, HISTORY_ORG).unwrap();
    let org = org.to_str().unwrap();
    let model = support::history_model(&dir.path().join("model"));
    let model = model.to_str().unwrap();
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
    support::impostor_ok(
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
    let message = dir.path().join("takeover.eml");
    std::fs::write(&message, takeover(support::unix_now() - 3_600)).unwrap();
    let message = message.to_str().unwrap();

    let (code, out, err) = scan(&["--org", org, "--model", model, "--history", store, message]);
    assert_eq!(code, 0, "{err}");
    let record: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(record["flagged"], true, "{record}");
    let codes = support::reason_codes(&record);
    assert!(
        codes.iter().any(|c| c == "test_history_account_compromise"),
        "{codes:?}"
    );
    let details = record["reasons"].to_string();
    assert!(
        details.contains("has never sent from 185.220.101.0/24"),
        "the reason says what departed: {details}"
    );
    // Without the history the same model says nothing of it.
    let (code, out, err) = scan(&["--org", org, "--model", model, message]);
    assert_eq!(code, 0, "{err}");
    let record: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(
        !support::reason_codes(&record)
            .iter()
            .any(|c| c.starts_with("test_history_")),
        "{record}"
    );
    // scan only reads: ana's profile still holds her 8 messages.
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args([
            "history", "show", "--org", org, "--store", store, "--format", "json",
        ])
        .arg("ana@example.org")
        .output()
        .unwrap();
    assert!(out.status.success());
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["inbound"], 8, "{p}");
}

#[test]
fn a_replay_judges_each_message_against_the_mail_before_it_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.toml");
    std::fs::write(&org, HISTORY_ORG).unwrap();
    let org = org.to_str().unwrap();
    let model = support::history_model(&dir.path().join("model"));
    let model = model.to_str().unwrap();
    let mail = dir.path().join("mail");
    support::write_mail_history(
        &mail,
        "example.org",
        "ana@example.org",
        "bo@example.org",
        10,
    );
    let now = support::unix_now();
    // First in input order, last by date: judged against all the rest.
    std::fs::write(mail.join("a-late.eml"), takeover(now - 3_600)).unwrap();
    // Before every other message: nothing is known yet (and from another
    // network, which it teaches ana's profile).
    std::fs::write(
        mail.join("a-early.eml"),
        takeover_from("185.220.102.9", now - 90 * 86_400),
    )
    .unwrap();
    let mail = mail.to_str().unwrap();

    let (code, out, err) = scan(&["--org", org, "--model", model, "--history-replay", mail]);
    assert_eq!(code, 0, "{err}");
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (code, plain, err) = scan(&["--org", org, "--model", model, mail]);
    assert_eq!(code, 0, "{err}");
    let paths = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["path"].to_string())
            .collect()
    };
    assert_eq!(paths(&out), paths(&plain), "the replay keeps input order");
    let of = |name: &str| {
        records
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} has a record"))
    };
    let late = of("a-late.eml");
    assert!(
        support::reason_codes(late)
            .iter()
            .any(|c| c == "test_history_account_compromise"),
        "{late}"
    );
    let early = of("a-early.eml");
    assert!(
        !support::reason_codes(early)
            .iter()
            .any(|c| c.starts_with("test_history_")),
        "the first message meets an empty history: {early}"
    );
}

#[test]
fn a_replay_cannot_start_from_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.eml");
    std::fs::write(&m, takeover(support::unix_now())).unwrap();
    let (code, _, err) = scan(&[
        "--history-replay",
        "--history",
        "memory:",
        m.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("one or the other"), "{err}");
}
