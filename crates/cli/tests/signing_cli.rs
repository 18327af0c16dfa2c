//! Signed model artifacts through the binary: `impostor keys new`, `model
//! sign` / `model verify`, `train --sign`, and `--trust-key` in scan, serve
//! and milter (at start and on a hot reload). Every test works on its own
//! copy of models/default.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{copy_default_model, free_port, impostor, p, repo, touch_later, Milter, Served};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A copy of models/default in `root/name`.
fn copy_model(root: &Path, name: &str) -> PathBuf {
    copy_default_model(&root.join(name))
}

/// A key pair made by `impostor keys new`: (PREFIX.key, PREFIX.pub, id).
struct Keys {
    secret: PathBuf,
    public: PathBuf,
    id: String,
}

fn new_keys(root: &Path, name: &str) -> Keys {
    let prefix = root.join("keys").join(name);
    let out = impostor(&["keys", "new", "--out", p(&prefix)]);
    assert!(out.status.success(), "keys new: {}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let id = stdout
        .trim()
        .strip_prefix("key id ")
        .unwrap_or_else(|| panic!("keys new prints the key id: {stdout:?}"))
        .to_string();
    Keys {
        secret: root.join("keys").join(format!("{name}.key")),
        public: root.join("keys").join(format!("{name}.pub")),
        id,
    }
}

fn sign(dir: &Path, keys: &Keys) {
    let out = impostor(&["model", "sign", p(dir), "--key", p(&keys.secret)]);
    assert!(out.status.success(), "model sign: {}", stderr(&out));
}

/// Writes `bytes` as `name` and rehashes SHA256SUMS: what someone who can
/// write the directory, but has no key, would do.
fn replace_and_rehash(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let hash = impostor_model::artifact::sha256_hex(bytes);
    let sums: String = sums
        .lines()
        .map(|l| match l.split_once("  ") {
            Some((_, n)) if n == name => format!("{hash}  {name}\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
}

fn tamper_manifest(dir: &Path) {
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let changed = text.replacen("\"weight\": ", "\"weight\": 1", 1);
    assert_ne!(changed, text);
    replace_and_rehash(dir, "manifest.json", changed.as_bytes());
}

fn example() -> PathBuf {
    repo().join("datasets/examples/02-freemail-ceo.eml")
}

/// Asserts `out` exited 2 and its standard error names every one of `needles`.
fn assert_refused(out: &Output, what: &str, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    for n in needles {
        assert!(err.contains(n), "{what}: no {n:?} in {err}");
    }
}

/// Runs `impostor ARGS` that must exit by itself within a minute (a
/// gateway refusing its model at start); killed and failed otherwise.
fn run_to_exit(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "impostor {args:?} kept running with a model it should refuse: {}",
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn keys_are_made_once_and_verify_accepts_only_what_a_trusted_key_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = new_keys(tmp.path(), "ops");
    let other = new_keys(tmp.path(), "other");
    assert_eq!(ops.id.len(), 16);
    assert_ne!(ops.id, other.id);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&ops.secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(&ops.secret).unwrap();
    let prefix = tmp.path().join("keys/ops");
    let again = impostor(&["keys", "new", "--out", p(&prefix)]);
    assert_refused(
        &again,
        "keys new over a key",
        &["ops.key", "never overwritten"],
    );
    assert_eq!(std::fs::read(&ops.secret).unwrap(), before);

    let model = copy_model(tmp.path(), "model");
    sign(&model, &ops);
    let ok = impostor(&["model", "verify", p(&model), "--trust-key", p(&ops.public)]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).contains(&ops.id));

    let wrong = impostor(&[
        "model",
        "verify",
        p(&model),
        "--trust-key",
        p(&other.public),
    ]);
    assert_refused(
        &wrong,
        "verify with another key",
        &[&ops.id, &other.id, p(&other.public), "not trusted"],
    );

    // The wrong kind of key file is named as such.
    let out = impostor(&["model", "sign", p(&model), "--key", p(&ops.public)]);
    assert_refused(&out, "sign with a .pub", &["ops.pub", "is a public key"]);
    let out = impostor(&["model", "verify", p(&model), "--trust-key", p(&ops.secret)]);
    assert_refused(&out, "trust a .key", &["ops.key", "is a secret key"]);
    let out = impostor(&[
        "scan",
        "--model",
        p(&model),
        "--trust-key",
        p(&ops.secret),
        p(&example()),
    ]);
    assert_refused(
        &out,
        "scan trusting a .key",
        &["--trust-key", "is a secret key"],
    );
}

#[test]
fn scan_accepts_a_signed_artifact_and_refuses_unsigned_tampered_and_wrongly_signed_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = new_keys(tmp.path(), "ops");
    let intruder = new_keys(tmp.path(), "intruder");
    let message = example();
    let scan = |model: Option<&Path>| {
        let mut args = vec!["scan", "--trust-key", p(&ops.public)];
        if let Some(m) = model {
            args.extend(["--model", p(m)]);
        }
        args.push(p(&message));
        impostor(&args)
    };

    let good = copy_model(tmp.path(), "good");
    sign(&good, &ops);
    let out = scan(Some(&good));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["flagged"], true, "{record}");

    let unsigned = copy_model(tmp.path(), "unsigned");
    assert_refused(
        &scan(Some(&unsigned)),
        "unsigned",
        &["manifest.json.sig", "unsigned", &ops.id, p(&ops.public)],
    );

    let manifest = copy_model(tmp.path(), "manifest");
    sign(&manifest, &ops);
    tamper_manifest(&manifest);
    assert_refused(
        &scan(Some(&manifest)),
        "tampered manifest",
        &[
            "manifest.json",
            "changed after it was signed",
            &ops.id,
            p(&ops.public),
        ],
    );

    let card = copy_model(tmp.path(), "card");
    sign(&card, &ops);
    replace_and_rehash(&card, "MODEL_CARD.md", b"# A friendlier card\n");
    assert_refused(
        &scan(Some(&card)),
        "tampered model card",
        &["MODEL_CARD.md", &ops.id, p(&ops.public)],
    );

    let foreign = copy_model(tmp.path(), "foreign");
    sign(&foreign, &intruder);
    assert_refused(
        &scan(Some(&foreign)),
        "signed by another key",
        &[
            "manifest.json",
            &intruder.id,
            "not trusted",
            &ops.id,
            p(&ops.public),
        ],
    );

    // The built-in model carries no signature.
    assert_refused(
        &scan(None),
        "built-in with --trust-key",
        &["manifest.json.sig", "--model", &ops.id],
    );
}

#[test]
fn serve_and_milter_refuse_a_badly_signed_artifact_at_start_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = new_keys(tmp.path(), "ops");
    let intruder = new_keys(tmp.path(), "intruder");
    let unsigned = copy_model(tmp.path(), "unsigned");
    let foreign = copy_model(tmp.path(), "foreign");
    sign(&foreign, &intruder);
    let card = copy_model(tmp.path(), "card");
    sign(&card, &ops);
    std::fs::write(card.join("MODEL_CARD.md"), b"changed\n").unwrap();

    for gateway in ["serve", "milter"] {
        let listen = format!("127.0.0.1:{}", free_port());
        let start = |model: &Path| {
            run_to_exit(&[
                gateway,
                "--listen",
                &listen,
                "--model",
                p(model),
                "--trust-key",
                p(&ops.public),
            ])
        };
        assert_refused(
            &start(&unsigned),
            &format!("{gateway}, unsigned"),
            &["manifest.json.sig", &ops.id, p(&ops.public)],
        );
        assert_refused(
            &start(&foreign),
            &format!("{gateway}, another key"),
            &["manifest.json", &intruder.id, &ops.id, p(&ops.public)],
        );
        assert_refused(
            &start(&card),
            &format!("{gateway}, changed card"),
            &["MODEL_CARD.md", &ops.id, p(&ops.public)],
        );
    }
}

#[test]
fn two_trusted_keys_let_gateways_rotate_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let old = new_keys(tmp.path(), "old");
    let new = new_keys(tmp.path(), "new");
    let model = copy_model(tmp.path(), "model");
    let both = ["--trust-key", p(&old.public), "--trust-key", p(&new.public)];
    let message = example();
    for keys in [&old, &new] {
        sign(&model, keys);
        let mut args = vec!["scan", "--model", p(&model)];
        args.extend(both);
        args.push(p(&message));
        let out = impostor(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    // A milter trusting both starts with what the new key signed.
    let mut args = vec!["--model", p(&model)];
    args.extend(both);
    let mut m = Milter::start(&args);
    assert!(m.running(), "{}", m.log());
}

/// The milter's option negotiation answered: it is up and judging.
fn milter_answers(m: &Milter) -> bool {
    let Ok(mut s) = TcpStream::connect(m.addr) else {
        return false;
    };
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut packet = 13u32.to_be_bytes().to_vec();
    packet.push(b'O');
    packet.extend_from_slice(&6u32.to_be_bytes());
    packet.extend_from_slice(&0x1ffu32.to_be_bytes());
    packet.extend_from_slice(&0x1f_ffffu32.to_be_bytes());
    if s.write_all(&packet).is_err() {
        return false;
    }
    let mut head = [0u8; 5];
    s.read_exact(&mut head).is_ok() && head[4] == b'O'
}

#[test]
fn a_milter_reload_signed_by_an_untrusted_key_is_refused_and_the_old_model_keeps_judging() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = new_keys(tmp.path(), "ops");
    let intruder = new_keys(tmp.path(), "intruder");
    let model = copy_model(tmp.path(), "model");
    sign(&model, &ops);
    let mut m = Milter::start(&[
        "--model",
        p(&model),
        "--trust-key",
        p(&ops.public),
        "--reload-poll-ms",
        "100",
    ]);

    // Signed again in place by a key not trusted: the watcher sees the new
    // signature, the reload is refused, the old model keeps judging.
    sign(&model, &intruder);
    m.wait_log("reload refused, the previous model keeps serving");
    let log = m.log();
    assert!(
        log.contains(&intruder.id) && log.contains(&ops.id) && log.contains(p(&ops.public)),
        "{log}"
    );
    assert!(m.running() && milter_answers(&m), "{}", m.log());

    // Signed by the trusted key again: reloaded, and the log names the key.
    sign(&model, &ops);
    m.wait_log(&format!("signed by trusted key {}", ops.id));

    // A changed model card (the sums touched, so the watcher looks):
    // refused, naming the file.
    std::fs::write(model.join("MODEL_CARD.md"), b"changed\n").unwrap();
    touch_later(&model.join("SHA256SUMS"));
    for _ in 0..300 {
        if m.log().matches("reload refused").count() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = m.log();
    let refusal = log
        .lines()
        .filter(|l| l.contains("reload refused"))
        .nth(1)
        .unwrap_or_else(|| panic!("no second refusal:\n{log}"));
    assert!(
        refusal.contains("MODEL_CARD.md") && refusal.contains(&ops.id),
        "{refusal}"
    );
    assert!(m.running() && milter_answers(&m), "{}", m.log());
}

#[test]
fn a_serve_reload_of_an_unsigned_replacement_is_refused_and_the_old_model_keeps_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = new_keys(tmp.path(), "ops");
    let model = copy_model(tmp.path(), "model");
    sign(&model, &ops);
    let mut server = Served::start(
        &["--quiet", "--reload-poll-ms", "100"],
        &["--model", p(&model), "--trust-key", p(&ops.public)],
        &[],
    );
    let health = || -> serde_json::Value {
        serde_json::from_str(&server.request("GET", "/healthz", &[], b"").1).unwrap()
    };
    let refused = || -> u64 {
        let m = server.request("GET", "/metrics", &[], b"").1;
        m.lines()
            .find_map(|l| l.strip_prefix("impostor_model_reloads_total{result=\"refused\"} "))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let first = health()["model_manifest_sha256"].clone();
    assert!(first.is_string(), "{first}");

    // The replacement: another valid artifact (its manifest changed and
    // rehashed), unsigned. Written over the served one.
    let text = std::fs::read_to_string(model.join("manifest.json")).unwrap();
    std::fs::remove_file(model.join("manifest.json.sig")).unwrap();
    replace_and_rehash(
        &model,
        "manifest.json",
        text.replacen("\"weight\": ", "\"weight\": 1", 1).as_bytes(),
    );
    touch_later(&model.join("SHA256SUMS"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while refused() < 1 {
        assert!(Instant::now() < deadline, "no refused reload");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(health()["model_manifest_sha256"], first);
    let (status, body) =
        server.request("POST", "/v1/scan", &[], &std::fs::read(example()).unwrap());
    assert_eq!(status, 200, "{body}");
    assert!(server.running(), "serve is running");
}

#[test]
fn train_sign_puts_a_signed_artifact_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = new_keys(tmp.path(), "ops");
    let corpus = tmp.path().join("corpus");
    let out = impostor(&["gen", "-o", p(&corpus), "--ham", "300", "--attacks", "150"]);
    assert!(out.status.success(), "gen: {}", stderr(&out));
    let root = tmp.path().join("models");
    let model = root.join("mine");
    let out = impostor(&[
        "train",
        "-q",
        p(&corpus.join("messages")),
        "-o",
        p(&model),
        "--sign",
        p(&ops.secret),
    ]);
    assert!(out.status.success(), "train --sign: {}", stderr(&out));
    let verify = impostor(&["model", "verify", p(&model), "--trust-key", p(&ops.public)]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    // Nothing temporary is left beside it, and the recorded command does
    // not depend on the signing.
    let names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["mine"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("manifest.json")).unwrap()).unwrap();
    let command = manifest["training"]["command"].as_str().unwrap();
    assert!(
        !command.contains("--sign") && !command.contains("ops.key"),
        "{command}"
    );

    // A .pub given to --sign is refused before any training.
    let out = impostor(&[
        "train",
        "-q",
        p(&corpus.join("messages")),
        "-o",
        p(&root.join("other")),
        "--sign",
        p(&ops.public),
    ]);
    assert_refused(&out, "train --sign PUB", &["--sign", "is a public key"]);
    assert!(!root.join("other").exists());
}
