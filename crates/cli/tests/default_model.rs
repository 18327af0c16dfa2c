//! models/default: the committed artifact loads with this build, and its
//! documented command (models/train-default.sh) reproduces it byte for
//! byte from ../shared.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

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
    let artifact = impostor_serve::artifact::load(&dir).unwrap_or_else(|e| {
        panic!("{e}\nretrain it with models/train-default.sh and commit the result")
    });
    let model = &artifact.manifest.model;
    assert!(model.rules.rules.len() >= 40);
    assert_eq!(model.levels.default_level, impostor_serve::Level::Medium);
    assert!(model.levels.low.threshold <= model.levels.medium.threshold);
    let card = std::fs::read_to_string(dir.join("MODEL_CARD.md")).unwrap();
    assert!(card.contains("phishing-pot-2022-2025") && card.contains("sa-injected"));
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
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
            .args(args)
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "impostor {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let c = |name: &str| format!("../shared/corpora/{name}");
    let gen: Vec<String> = [
        "gen",
        "-o",
        "out/sa-injected",
        "--attacks",
        "3000",
        "--carriers",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([c("spamassassin-2002.tar.gz"), c("csdmc2010-a.tar.gz")])
    .collect();
    let train: Vec<String> = ["train", "-o", "models/default"]
        .iter()
        .map(|s| s.to_string())
        .chain([
            c("spamassassin-2002.tar.gz"),
            c("csdmc2010-a.tar.gz"),
            c("phishing-pot-2022-2025.tar.gz"),
        ])
        .chain(
            [
                "out/sa-injected/messages",
                "--labels",
                "out/sa-injected/labels.tsv",
            ]
            .map(String::from),
        )
        .collect();
    // The script must say what this test runs.
    for words in [&gen[1..], &train[1..]] {
        for w in words {
            let w = w.replace("../shared", "$SHARED");
            assert!(script.contains(&w), "train-default.sh no longer says {w:?}");
        }
    }
    run(&gen.iter().map(String::as_str).collect::<Vec<_>>());
    run(&train.iter().map(String::as_str).collect::<Vec<_>>());
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
