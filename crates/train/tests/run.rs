//! A training run through the library, as `impostor train` and `impostor
//! bench` start it, on a small generated corpus (no ../shared needed).

use impostor_corpus::gen::GenConfig;
use impostor_corpus::Silent;
use impostor_features::{Context, OrgProfile};
use impostor_train::error::TrainError;
use impostor_train::{HoldOut, TrainConfig};
use std::path::{Path, PathBuf};

fn example_context() -> Context {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/orgs/kestrel-foods.toml");
    let org = OrgProfile::from_toml(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
    Context::builder(org).build().unwrap()
}

/// A generated corpus of 300 ham and 150 attacks; its messages directory.
fn corpus(dir: &Path) -> PathBuf {
    let output = dir.join("corpus");
    GenConfig {
        output: output.clone(),
        ham: 300,
        attacks: 150,
        seed: 3,
        timeline: 0,
        ..GenConfig::default()
    }
    .run(&Silent)
    .unwrap();
    output.join("messages")
}

#[test]
fn a_run_writes_an_artifact_recording_the_command_its_caller_gave() {
    let dir = tempfile::tempdir().unwrap();
    let messages = corpus(dir.path());
    let output = dir.path().join("model");
    let outcome = TrainConfig {
        paths: vec![messages.clone()],
        output: output.clone(),
        command: "bench --seed 3".into(),
        ..TrainConfig::default()
    }
    .check()
    .unwrap()
    .run(&example_context(), &Silent)
    .unwrap();
    assert_eq!(outcome.examples, 450);
    assert!(outcome.regression.is_none());
    let artifact = impostor_model::artifact::load(&output).unwrap();
    assert_eq!(artifact.manifest.training.command, "bench --seed 3");
    let card = std::fs::read_to_string(output.join("MODEL_CARD.md")).unwrap();
    assert!(
        card.contains("Command: `impostor bench --seed 3`"),
        "{card}"
    );
    // The card says which rules set a floor.
    assert!(
        card.contains("Floors:") && card.contains("| `identity_readers_disagree` | flagged |"),
        "{card}"
    );
    // ...and that its levels and rates are the score before them, where
    // those figures start.
    let said = card
        .find("before the floors and ceilings listed above")
        .expect("the card says its rates are scored before floors and ceilings");
    let levels = card.find("| level | threshold |").unwrap();
    assert!(
        card.find("## Levels").unwrap() < said && said < levels,
        "{card}"
    );
}

#[test]
fn a_held_out_source_no_message_comes_from_is_refused_naming_the_sources() {
    let dir = tempfile::tempdir().unwrap();
    let messages = corpus(dir.path());
    let output = dir.path().join("model");
    let err = TrainConfig {
        paths: vec![messages],
        output: output.clone(),
        hold_out: HoldOut::Source {
            source: "elsewhere".into(),
        },
        ..TrainConfig::default()
    }
    .check()
    .unwrap()
    .run(&example_context(), &Silent)
    .unwrap_err();
    match err {
        TrainError::UnknownSource {
            name,
            by_date,
            known,
        } => assert_eq!(
            (name.as_str(), by_date, known.as_str()),
            ("elsewhere", false, "corpus")
        ),
        e => panic!("{e}"),
    }
    assert!(!output.exists());
}
