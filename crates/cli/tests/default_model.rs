//! models/default: the committed artifact loads with this build, and its
//! documented command (models/train-default.sh) reproduces it byte for
//! byte from ../shared.

use std::path::PathBuf;
use std::process::Command;

mod support;
use support::{impostor_ok, repo};

fn shared() -> PathBuf {
    let shared = repo().join("../shared");
    assert!(
        shared.join("corpora").is_dir(),
        "this test needs the shared corpora at {} (CI always has them); it does not skip",
        shared.display()
    );
    shared.canonicalize().unwrap()
}

#[test]
fn the_committed_default_model_loads_with_this_build() {
    let dir = repo().join("models/default");
    let artifact = impostor_model::artifact::load(&dir).unwrap_or_else(|e| {
        panic!("{e}\nretrain it with models/train-default.sh and commit the result")
    });
    let model = &artifact.manifest.model;
    assert!(model.rules.rules.len() >= 40);
    assert_eq!(model.levels.default_level, impostor_model::Level::Medium);
    assert!(model.levels.low.threshold <= model.levels.medium.threshold);
    let card = std::fs::read_to_string(dir.join("MODEL_CARD.md")).unwrap();
    for source in [
        "phishing-pot-2022-2025",
        "injected-into-real-ham",
        "kestrel-generated",
        "spamassassin-2002",
    ] {
        assert!(card.contains(source), "the card does not name {source}");
    }
}

/// Runs the commands of models/train-default.sh in a scratch copy of the
/// repository layout (its `../shared` a link to the real one), so that the
/// recorded command is the same text, and compares every file.
#[test]
fn the_documented_command_reproduces_the_default_model() {
    let shared = shared();
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink(&shared, scratch.path().join("shared")).unwrap();
    let script = std::fs::read_to_string(repo().join("models/train-default.sh")).unwrap();
    let run = |args: &[&str]| impostor_ok(args, Some(&root));
    let c = |name: &str| format!("../shared/corpora/{name}");
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let corpora = [
        c("csdmc2010-a.tar.gz"),
        c("phishing-pot-2022-2025.tar.gz"),
        c("spamassassin-2002.tar.gz"),
    ];
    let mut gen_real = words(&[
        "gen",
        "-o",
        "out/default-data/injected-into-real-ham",
        "--attacks",
        "3000",
        "--carriers",
    ]);
    gen_real.extend(corpora.clone());
    let gen_kestrel = words(&["gen", "-o", "out/default-data/kestrel-generated"]);
    let mut train = words(&[
        "train",
        "-o",
        "models/default",
        "--hold-out-after",
        "phishing-pot-2022-2025=2025-01-01",
    ]);
    train.extend(corpora);
    train.extend(words(&[
        "out/default-data/injected-into-real-ham/messages",
        "out/default-data/kestrel-generated/messages",
    ]));
    // The script must say what this test runs.
    for command in [&gen_real, &gen_kestrel, &train] {
        for w in &command[1..] {
            let w = w.replace("../shared", "$SHARED");
            assert!(script.contains(&w), "train-default.sh no longer says {w:?}");
        }
        run(&command.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let committed = repo().join("models/default");
    for name in [
        "manifest.json",
        "SHA256SUMS",
        "MODEL_CARD.md",
        "training.parquet",
    ] {
        let want = std::fs::read(committed.join(name)).unwrap();
        let got = std::fs::read(root.join("models/default").join(name)).unwrap();
        assert!(
            want == got,
            "models/default/{name} differs from what its command trains now; retrain with models/train-default.sh and commit"
        );
    }
}

/// The whitepaper's seed scenarios under their org profile, through
/// `impostor scan` with the built-in default model: the six attacks are
/// flagged with their technique, the two genuine messages are not.
#[test]
fn the_default_model_judges_the_seed_scenarios() {
    let seed = shared().join("scenarios/seed");
    let mut args: Vec<String> = vec![
        "scan".into(),
        "--org".into(),
        seed.join("org.toml").display().to_string(),
    ];
    for i in 1..=8 {
        args.push(seed.join(format!("{i:03}.eml")).display().to_string());
    }
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let labels = std::fs::read_to_string(seed.join("labels.csv")).unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let verdicts: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), 8);
    for (line, v) in labels.lines().skip(1).zip(&verdicts) {
        let cells: Vec<&str> = line.splitn(4, ',').collect();
        let (file, label, technique) = (cells[0], cells[1], cells[2]);
        assert!(v["path"].as_str().unwrap().ends_with(file));
        let flagged = v["flagged"].as_bool().unwrap();
        if label == "ham" {
            assert!(!flagged, "{file} (genuine) was flagged: {v}");
        } else {
            assert!(flagged, "{file} ({technique}) was not flagged: {v}");
            let techniques: Vec<&str> = v["techniques"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert!(
                techniques.contains(&technique),
                "{file}: {technique} not in {techniques:?}"
            );
            assert!(!v["reasons"].as_array().unwrap().is_empty());
        }
    }
}
