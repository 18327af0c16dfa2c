//! `impostor extract` end to end, through the real binary.
//! The corpus tests need ../shared (CI always has it) and fail loudly without it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// This crate's directory, as cargo gives it when the test runs: the
/// compile-time value names the clone the binary was built in, which a
/// shared build cache may have reused for another clone.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

fn impostor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(args)
        .output()
        .expect("the impostor binary runs")
}

fn shared(rel: &str) -> PathBuf {
    let p = manifest_dir().join("../../../shared").join(rel);
    assert!(
        p.exists(),
        "this test needs ../shared/{rel} (the shared corpora beside the repository); CI always has it. Looked for {}",
        p.display()
    );
    p
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn data_lines(tsv: &Path) -> usize {
    std::fs::read_to_string(tsv)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// Extracts an archive, checks the row count against its index and the
/// error share, and prints the throughput line for the record.
fn extract_archive(name: &str) {
    let archive = shared(&format!("corpora/{name}.tar.gz"));
    let expected = data_lines(&shared(&format!("corpora/{name}.tsv")));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("features.parquet");
    let o = impostor(&[
        "extract",
        "--quiet",
        archive.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{}",
        stderr(&o)
    );
    let df = impostor_train::feature_table::read_parquet(&out).unwrap();
    assert_eq!(
        df.height(),
        expected,
        "{name}: one row per member of the index"
    );
    let errors = expected - df.column("error").unwrap().null_count();
    let share = errors as f64 / expected as f64;
    println!(
        "{name}: {expected} messages, {errors} per-message errors ({:.3}%)",
        share * 100.0
    );
    assert!(
        share < 0.005,
        "{name}: {errors} of {expected} messages failed"
    );
    if errors > 0 {
        assert_eq!(o.status.code(), Some(1), "errors must give exit status 1");
    }
}

#[test]
fn extracts_the_spamassassin_corpus_with_almost_no_errors() {
    extract_archive("spamassassin-2002");
}

#[test]
fn extracts_the_phishing_pot_corpus_with_almost_no_errors() {
    extract_archive("phishing-pot-2022-2025");
}

#[test]
fn seed_messages_to_ndjson_with_techniques_and_summary() {
    let seed = shared("scenarios/seed");
    let dir = tempfile::tempdir().unwrap();
    // The output directory is created when missing.
    let out = dir.path().join("new-dir/seed.ndjson");
    let mut args: Vec<String> = vec![
        "extract".into(),
        "--org".into(),
        seed.join("org.toml").display().to_string(),
    ];
    for i in 1..=8 {
        args.push(seed.join(format!("00{i}.eml")).display().to_string());
    }
    args.extend(["-o".into(), out.display().to_string()]);
    let o = impostor(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("extracted 8 messages"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("per-message errors: 0"),
        "{}",
        stderr(&o)
    );
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 8);
    assert_eq!(
        rows[0]["techniques"],
        serde_json::json!([]),
        "the SANS newsletter is clean"
    );
    assert_eq!(rows[5]["vip_name_freemail_flag"], 1.0);
    assert!(rows[3]["techniques"]
        .as_array()
        .unwrap()
        .contains(&"lookalike_domain".into()));
}

#[test]
fn unreadable_messages_become_error_rows_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.eml"), b"").unwrap();
    std::fs::write(
        dir.path().join("ok.eml"),
        b"From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n",
    )
    .unwrap();
    let out = dir.path().join("out.ndjson");
    let o = impostor(&[
        "extract",
        dir.path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("per-message errors: 1"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("empty.eml"), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 2);
}

#[test]
fn configuration_errors_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad_org = dir.path().join("org.toml");
    std::fs::write(
        &bad_org,
        "name = \"x\"\ninternal_domains = [\"not a domain\"]\n",
    )
    .unwrap();
    let msg = dir.path().join("m.eml");
    std::fs::write(&msg, b"From: a@example.com\r\n\r\nx\r\n").unwrap();
    let out = dir.path().join("out.parquet");
    let o = impostor(&[
        "extract",
        "--org",
        bad_org.to_str().unwrap(),
        msg.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("org.toml") && stderr(&o).contains("not a domain"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "no output on a configuration error");

    let o = impostor(&[
        "extract",
        msg.to_str().unwrap(),
        "-o",
        dir.path().join("out.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(".parquet or .ndjson"), "{}", stderr(&o));

    let o = impostor(&[
        "extract",
        dir.path().join("missing").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no such file"), "{}", stderr(&o));
}

#[test]
fn features_lists_the_schema() {
    let o = impostor(&["features", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["schema_version"], impostor_features::SCHEMA_VERSION);
    let features = doc["features"].as_array().unwrap();
    assert!(features.len() > 50);
    let of = |name: &str| features.iter().find(|f| f["name"] == name).unwrap().clone();
    assert_eq!(
        of("resent_from_domain_mismatch_flag")["direction"],
        "raises"
    );
    assert_eq!(of("auth_dmarc_pass_flag")["direction"], "either");
    assert_eq!(of("intent_payment_per_kchar")["model_input"], false);
    let text = impostor(&["features"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("raises"));
}
