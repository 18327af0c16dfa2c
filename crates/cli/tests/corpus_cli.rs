//! `impostor gen`, `corpus index` and `corpus split` end to end on the
//! embedded default corpus (no ../shared needed).

use std::process::Command;

fn impostor(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(args)
        .output()
        .expect("the impostor binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn generate_index_and_split_the_default_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let gen = dir.path().join("corpus");
    let g = gen.to_str().unwrap();
    let (ok, err) = impostor(&[
        "gen",
        "-o",
        g,
        "--ham",
        "60",
        "--attacks",
        "40",
        "--seed",
        "4",
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("wrote 100 messages"), "{err}");
    // The generator never writes over a corpus.
    let (ok, err) = impostor(&["gen", "-o", g, "--ham", "1", "--attacks", "1"]);
    assert!(!ok && err.contains("exists"), "{err}");

    let manifest = dir.path().join("m.parquet");
    let labels = gen.join("labels.tsv");
    let (ok, err) = impostor(&[
        "corpus",
        "index",
        gen.join("messages").to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--source",
        "generated",
        "-o",
        manifest.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("m.summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["messages"], 100);
    assert_eq!(summary["synthetic"], 100);
    assert_eq!(summary["counts"]["generated"]["ham"], 60);
    let attacks = summary["counts"]["generated"]["bec"].as_u64().unwrap()
        + summary["counts"]["generated"]["phish"].as_u64().unwrap();
    assert_eq!(attacks, 40);

    let split = dir.path().join("s.parquet");
    let (ok, err) = impostor(&[
        "corpus",
        "split",
        manifest.to_str().unwrap(),
        "--by",
        "hash",
        "--fraction",
        "0.3",
        "-o",
        split.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("train:") && err.contains("test:"), "{err}");
    let (ok, err) = impostor(&[
        "corpus",
        "split",
        manifest.to_str().unwrap(),
        "--by",
        "source",
        "--source",
        "nowhere",
        "-o",
        split.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("no source \"nowhere\""), "{err}");
}
