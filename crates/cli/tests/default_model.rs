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
        "lists-2019-2026",
    ] {
        assert!(card.contains(source), "the card does not name {source}");
    }
}

/// The shipped weights an attacker reads: nothing the sender writes may
/// lower a score. Every classifier input and every rule reading a feature
/// of direction `raises` weighs zero or more; Platt's slopes too.
#[test]
fn no_sender_written_feature_lowers_the_default_models_score() {
    use impostor_features::{Direction, Feature};
    let artifact = impostor_model::artifact::load(&repo().join("models/default")).unwrap();
    let model = &artifact.manifest.model;
    let mut negative = Vec::new();
    for input in &model.classifier.inputs {
        let feature = Feature::from_name(&input.feature).expect("a known feature");
        assert!(
            feature.is_model_input(),
            "{} is not a model input",
            input.feature
        );
        if feature.direction() == Direction::Raises && input.weight < 0.0 {
            negative.push(format!(
                "classifier input {} = {}",
                input.feature, input.weight
            ));
        }
    }
    for r in &model.rules.rules {
        let rule = impostor_model::rules::Rule::resolve(r.rule.clone()).unwrap();
        if !rule.may_lower_score() && r.weight < 0.0 {
            negative.push(format!("rule {} = {}", r.rule.code, r.weight));
        }
        let reads_sender_written = rule
            .features
            .iter()
            .any(|f| f.direction() == Direction::Raises);
        if reads_sender_written && r.weight < 0.0 {
            negative.push(format!(
                "rule {} reads what the sender writes and weighs {}",
                r.rule.code, r.weight
            ));
        }
    }
    assert!(negative.is_empty(), "negative weights: {negative:#?}");
    assert!(model.calibration.rules_coef >= 0.0 && model.calibration.classifier_coef >= 0.0);
    assert_eq!(model.calibration.prior, Some(1e-3));
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
        c("lists-2019-2026.tar.gz"),
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
        "--hold-out-folder",
        "lists-2019-2026/jailhouse-dev.googlegroups.com=validation",
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

/// The out-of-source gate, on models/default's own training rows: a model
/// retrained without each real source (lists-2019-2026 one list at a time)
/// flags that source's ham at most 0.5% of the time, and detects its
/// attacks within 15 points of what the shipped model detects of them in
/// source. Every later retrain keeps it.
#[test]
fn the_default_model_transfers_to_each_real_source_it_never_saw() {
    let artifact = impostor_model::artifact::load(&repo().join("models/default")).unwrap();
    let t = impostor_eval::transfer::measure(&artifact, &impostor_corpus::Silent).unwrap();
    let names: Vec<&str> = t.units.iter().map(|u| u.unit.name.as_str()).collect();
    for want in [
        "csdmc2010-a",
        "phishing-pot-2022-2025",
        "spamassassin-2002",
        "lists-2019-2026/usrp-users.lists.ettus.com",
        "lists-2019-2026/jailhouse-dev.googlegroups.com",
        "lists-2019-2026/clang-built-linux.googlegroups.com",
    ] {
        assert!(names.contains(&want), "no unit {want}: {names:?}");
    }
    let mut failures = Vec::new();
    for u in &t.units {
        assert!(
            u.not_trained.is_none(),
            "{}: {:?}",
            u.unit.name,
            u.not_trained
        );
        let at = u
            .levels
            .iter()
            .find(|l| l.level == t.default_level)
            .expect("the default level");
        if u.ham > 0 {
            let fpr = at.false_positive_rate.out_of_source.value.unwrap_or(1.0);
            if fpr > 0.005 {
                failures.push(format!(
                    "{} held out: {:.3}% of its ham flagged",
                    u.unit.name,
                    100.0 * fpr
                ));
            }
        }
        if u.attacks > 0 {
            let gap = -at.detection_rate.difference_points.unwrap_or(-100.0);
            if gap > 15.0 {
                failures.push(format!(
                    "{} held out: detection {gap:.1} points below in source",
                    u.unit.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The confound table's promise: a feature listed as confounded with the
/// source or era weighs at most the stated bound in the classifier (or is
/// not an input), and a rule reading one stays within it unless the card
/// lists it as a floor or ceiling (declared, with its reason).
#[test]
fn no_confounded_feature_weighs_more_than_the_cards_bound() {
    let dir = repo().join("models/default");
    let artifact = impostor_model::artifact::load(&dir).unwrap();
    let m = &artifact.manifest;
    let report = &m.training.details["report"];
    let bound = report["confound_bound"].as_f64().expect("a bound");
    let card = std::fs::read_to_string(dir.join("MODEL_CARD.md")).unwrap();
    assert!(
        card.contains("## Confound audit"),
        "the card has no confound table"
    );
    let confounded: Vec<&str> = report["confound"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["confounded"].as_bool() == Some(true))
        .map(|f| f["feature"].as_str().unwrap())
        .collect();
    assert!(!confounded.is_empty(), "the audit found nothing to list");
    let mut heavy = Vec::new();
    for input in &m.model.classifier.inputs {
        if confounded.contains(&input.feature.as_str()) && input.weight.abs() > bound + 1e-9 {
            heavy.push(format!("classifier {} = {}", input.feature, input.weight));
        }
        assert!(
            card.contains(&format!("`{}`", input.feature))
                || !confounded.contains(&input.feature.as_str()),
            "the card's table does not list {}",
            input.feature
        );
    }
    for r in &m.model.rules.rules {
        let rule = impostor_model::rules::Rule::resolve(r.rule.clone()).unwrap();
        let reads = rule.features.iter().any(|f| confounded.contains(&f.name()));
        let declared = rule.floor.is_some() || rule.ceiling.is_some();
        if reads && !declared && r.weight.abs() > bound + 1e-9 {
            heavy.push(format!("rule {} = {}", r.rule.code, r.weight));
        }
    }
    assert!(heavy.is_empty(), "above the bound {bound}: {heavy:#?}");
}
