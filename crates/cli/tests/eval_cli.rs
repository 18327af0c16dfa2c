//! `impostor eval` end to end on a generated corpus (no ../shared): it
//! measures only mail the model has not fitted on, scores exactly as
//! `scan` does, says so when it is told to leak, and refuses what it
//! cannot do.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod support;
use support::impostor_code as impostor;

/// A generated corpus and a model trained on it, shared by the tests.
struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    messages: PathBuf,
    model: PathBuf,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let corpus = root.join("corpus");
        let (code, _, err) = impostor(&[
            "gen",
            "-o",
            corpus.to_str().unwrap(),
            "--ham",
            "700",
            "--attacks",
            "300",
            "--seed",
            "5",
        ]);
        assert_eq!(code, 0, "{err}");
        let messages = corpus.join("messages");
        let model = root.join("model");
        let (code, _, err) = impostor(&[
            "train",
            messages.to_str().unwrap(),
            "-o",
            model.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(code, 0, "{err}");
        Setup {
            _dir: dir,
            root,
            messages,
            model,
        }
    })
}

fn eval(out: &Path, extra: &[&str]) -> (i32, String) {
    let s = setup();
    let mut args = vec![
        "eval",
        "--model",
        s.model.to_str().unwrap(),
        "--no-peers",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(s.messages.to_str().unwrap());
    let (code, _, err) = impostor(&args);
    (code, err)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Roles of the model's training data, counted.
fn role_counts(model: &Path) -> HashMap<String, u64> {
    let manifest = json(&model.join("manifest.json"));
    let held = &manifest["training"]["details"]["report"];
    let mut out = HashMap::new();
    for role in ["validation", "test"] {
        let r = &held[role];
        out.insert(
            role.to_string(),
            r["ham"].as_u64().unwrap() + r["attacks"].as_u64().unwrap(),
        );
    }
    out
}

#[test]
fn evaluates_the_test_role_only_and_scores_as_scan_does() {
    let s = setup();
    let out = s.root.join("report-test-role");
    let (code, err) = eval(&out, &[]);
    assert_eq!(code, 0, "{err}");
    for f in ["metrics.json", "scores.csv", "report.md", "report.html"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let m = json(&out.join("metrics.json"));
    let roles = role_counts(&s.model);
    assert_eq!(
        m["data"]["messages"].as_u64().unwrap(),
        roles["test"],
        "{err}"
    );
    assert_eq!(
        m["data"]["excluded"]["in the model's validation role (its levels were chosen on it)"]
            .as_u64()
            .unwrap(),
        roles["validation"]
    );
    let names: Vec<&str> = m["detectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "impostor",
            "impostor_rules_only",
            "impostor_classifier_only",
            "auth_only",
            "keywords"
        ]
    );
    let skipped: Vec<&str> = m["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["detector"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["spamassassin", "rspamd"]);
    assert_eq!(m["leakage"][0]["passed"], true, "{}", m["leakage"]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for needle in [
        "## Summary",
        "## Leakage checks",
        "impostor_classifier_only",
        "skipped: --no-peers",
    ] {
        assert!(report.contains(needle), "report.md lacks {needle:?}");
    }

    // The same messages through `impostor scan` get the same scores.
    let csv = std::fs::read_to_string(out.join("scores.csv")).unwrap();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (id_col, score_col, flag_col) = (col("id"), col("impostor_score"), col("impostor_flagged"));
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len() as u64, roles["test"]);
    let (code, stdout, err) = impostor(&[
        "scan",
        "--model",
        s.model.to_str().unwrap(),
        s.messages.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let scanned: HashMap<String, (f64, bool)> = stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["member"].as_str().unwrap().to_string(),
                (
                    v["score"].as_f64().unwrap(),
                    v["flagged"].as_bool().unwrap(),
                ),
            )
        })
        .collect();
    let mut flagged = 0;
    for r in &rows {
        // Ids are SOURCE:MEMBER.
        let member = r[id_col].split_once(':').unwrap().1;
        let (score, flag) = scanned[member];
        // serde_json's default float parsing may land one ulp off.
        let ours = r[score_col].parse::<f64>().unwrap();
        assert!((ours - score).abs() <= 1e-15, "{member}: {ours} vs {score}");
        assert_eq!(r[flag_col] == "true", flag, "{member}");
        flagged += usize::from(flag);
    }
    let native = &m["detectors"][0]["points"][0];
    assert_eq!(native["name"], "native");
    let o = &native["overall"];
    assert_eq!(
        (o["false_positives"].as_u64().unwrap() + o["detected"].as_u64().unwrap()) as usize,
        flagged
    );
}

#[test]
fn all_includes_training_mail_and_the_leakage_check_says_so() {
    let s = setup();
    let out = s.root.join("report-all");
    let (code, err) = eval(&out, &["--all"]);
    assert_eq!(code, 0, "{err}");
    let m = json(&out.join("metrics.json"));
    assert_eq!(m["data"]["messages"].as_u64().unwrap(), 1000);
    assert_eq!(m["leakage"][0]["passed"], false);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("WARN model's own data"), "{report}");
}

#[test]
fn refusals_name_the_problem() {
    let s = setup();
    // A missing input.
    let (code, _, err) = impostor(&[
        "eval",
        "--no-peers",
        "--model",
        s.model.to_str().unwrap(),
        "-o",
        s.root.join("r1").to_str().unwrap(),
        "/nonexistent/mail",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/mail: no such file"), "{err}");
    // An output directory that holds something else is never replaced.
    let other = s.root.join("not-a-report");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let (code, err) = eval(&other, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a report"), "{err}");
    assert_eq!(
        std::fs::read_to_string(other.join("notes.txt")).unwrap(),
        "mine"
    );
    // Only mail the model trained on: nothing to evaluate, said plainly.
    let data = std::fs::read(s.model.join("training.parquet")).unwrap();
    let examples =
        impostor_train::training::data_table::from_parquet(&data, "training.parquet").unwrap();
    let trained_on = examples
        .iter()
        .find(|e| e.role == impostor_train::training::Role::Train)
        .unwrap();
    let member = trained_on.id.split_once(':').unwrap().1;
    let trained = s.root.join("trained-only");
    let copy = trained.join(member);
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(s.messages.join(member), &copy).unwrap();
    let (code, _, err) = impostor(&[
        "eval",
        "--no-peers",
        "--model",
        s.model.to_str().unwrap(),
        "-o",
        s.root.join("r3").to_str().unwrap(),
        trained.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no message to evaluate"), "{err}");
    assert!(err.contains("1 in the model's train role"), "{err}");
    let (code, err) = eval(&s.root.join("r4"), &["--matched-fpr", "2"]);
    assert_eq!(code, 2);
    assert!(err.contains("--matched-fpr 2"), "{err}");
}

#[test]
fn hostile_and_new_messages_are_judged_or_counted_and_the_run_goes_on() {
    let s = setup();
    let dir = s.root.join("hostile");
    for (name, bytes) in [
        ("ham/empty.eml", Vec::new()),
        ("ham/binary.eml", (0..=255u8).cycle().take(5000).collect()),
        (
            "phish/headers-only.eml",
            b"From: a@b.example\r\nSubject: x\r\n".to_vec(),
        ),
        ("phish/deep.eml", {
            let mut v = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
            for _ in 0..2000 {
                v.extend_from_slice(b"--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n");
            }
            v
        }),
    ] {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let out = s.root.join("report-hostile");
    let (code, _, err) = impostor(&[
        "eval",
        "--no-peers",
        "--model",
        s.model.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let m = json(&out.join("metrics.json"));
    let evaluated = m["data"]["messages"].as_u64().unwrap();
    let unreadable = m["data"]["excluded"]["unreadable"].as_u64().unwrap_or(0);
    // Every file is either evaluated or counted as unreadable.
    assert_eq!(evaluated + unreadable, 4, "{}", m["data"]);
    for d in m["detectors"].as_array().unwrap() {
        assert_eq!(d["messages"].as_u64().unwrap(), evaluated);
    }
}

#[test]
fn peers_that_do_not_answer_are_skipped_with_the_reason() {
    let s = setup();
    let out = s.root.join("report-no-peers-running");
    let port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let spamd = format!("127.0.0.1:{}", port());
    let rspamd = format!("http://127.0.0.1:{}", port());
    let (code, _, err) = impostor(&[
        "eval",
        "--model",
        s.model.to_str().unwrap(),
        "--spamd",
        &spamd,
        "--rspamd",
        &rspamd,
        "-o",
        out.to_str().unwrap(),
        s.messages.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // One line each on standard error, and the same in the report.
    for (name, address) in [
        ("spamassassin", spamd.as_str()),
        ("rspamd", rspamd.as_str()),
    ] {
        let line = err
            .lines()
            .find(|l| l.starts_with(&format!("{name}: skipped: ")))
            .unwrap_or_else(|| panic!("no skip line for {name}: {err}"));
        assert!(
            line.contains(address.trim_start_matches("http://")),
            "{line}"
        );
        assert!(line.contains("scripts/baselines.sh start"), "{line}");
    }
    let m = json(&out.join("metrics.json"));
    assert_eq!(m["skipped"].as_array().unwrap().len(), 2);
    assert_eq!(m["detectors"].as_array().unwrap().len(), 5);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("spamassassin: skipped: "), "{report}");
}
