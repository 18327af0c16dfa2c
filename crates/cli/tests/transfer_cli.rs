//! `impostor eval --transfer` end to end (no ../shared): generated mail
//! split into two hand-labelled "real" sources (folders ham/, phish/, bec/,
//! no labels file, so nothing is synthetic), one of them re-dated to 2010,
//! a model trained on both, and the report's transfer section and
//! metrics.json fields read back.

use std::path::Path;
use std::process::Command;

fn impostor(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(args)
        .output()
        .expect("the impostor binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `bytes` with its Date header replaced by `date`.
fn redate(bytes: &[u8], date: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut in_header = true;
    let mut done = false;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if in_header && (line == b"\n" || line == b"\r\n") {
            in_header = false;
        }
        if in_header && !done && line.starts_with(b"Date:") {
            out.extend_from_slice(format!("Date: {date}\r\n").as_bytes());
            done = true;
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Copies the generated messages, alternately, into `north` (as they are,
/// dated 2024–2025) and `south` (re-dated to 2010), in label folders.
fn split_into_sources(generated: &Path, north: &Path, south: &Path) {
    let labels = std::fs::read_to_string(generated.join("labels.tsv")).unwrap();
    for (i, line) in labels.lines().skip(1).enumerate() {
        let mut cols = line.split('\t');
        let (member, label) = (cols.next().unwrap(), cols.next().unwrap());
        let bytes = std::fs::read(generated.join("messages").join(member)).unwrap();
        let name = Path::new(member).file_name().unwrap();
        let (dir, bytes) = if i % 2 == 0 {
            (north, bytes)
        } else {
            (south, redate(&bytes, "Tue, 13 Apr 2010 10:00:00 +0000"))
        };
        std::fs::create_dir_all(dir.join(label)).unwrap();
        std::fs::write(dir.join(label).join(name), bytes).unwrap();
    }
}

#[test]
fn eval_with_transfer_retrains_without_each_source_and_across_eras_and_reports_both() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let generated = root.join("generated");
    let (code, err) = impostor(&[
        "gen",
        "-o",
        generated.to_str().unwrap(),
        "--ham",
        "400",
        "--attacks",
        "200",
        "--seed",
        "11",
    ]);
    assert_eq!(code, 0, "{err}");
    let (north, south) = (root.join("north"), root.join("south"));
    split_into_sources(&generated, &north, &south);
    let model = root.join("model");
    let (code, err) = impostor(&[
        "train",
        north.to_str().unwrap(),
        south.to_str().unwrap(),
        "-o",
        model.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");

    let report = root.join("report");
    let (code, err) = impostor(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--no-peers",
        "--transfer",
        "-o",
        report.to_str().unwrap(),
        north.to_str().unwrap(),
        south.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // One progress line per model trained, with its time.
    for line in [
        "transfer 1/2: without north:",
        "transfer 2/2: without south:",
        "transfer, eras 1/2",
        "transfer, eras 2/2",
    ] {
        let l = err
            .lines()
            .find(|l| l.starts_with(line))
            .unwrap_or_else(|| panic!("no {line:?} in:\n{err}"));
        assert!(l.ends_with(" s)"), "{l}");
    }

    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(
        md.contains("## Transfer: out-of-source and cross-era"),
        "{md}"
    );
    assert!(html.contains("<h2>Transfer: out-of-source and cross-era</h2>"));
    for needle in [
        "| north (",
        "| south (",
        "| before 2015-01-01 → 2015-01-01 or later |",
        "| 2015-01-01 or later → before 2015-01-01 |",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
    }

    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("metrics.json")).unwrap()).unwrap();
    let t = &m["transfer"];
    assert_eq!(t["default_level"], "medium");
    assert_eq!(t["real_sources"], serde_json::json!(["north", "south"]));
    let units = t["units"].as_array().unwrap();
    assert_eq!(units.len(), 2);
    for (u, name) in units.iter().zip(["north", "south"]) {
        assert_eq!(u["name"], name);
        assert!(u["not_trained"].is_null(), "{u}");
        assert_eq!(u["levels"].as_array().unwrap().len(), 3);
        let medium = &u["levels"][1];
        assert_eq!(medium["level"], "medium");
        for rate in ["false_positive_rate", "detection_rate"] {
            let out = &medium[rate]["out_of_source"];
            assert!(out["total"].as_u64().unwrap() > 0, "{name} {rate}: {out}");
            assert!(out["value"].is_f64(), "{name} {rate}: {out}");
            assert!(out["ci95"]["low"].is_f64(), "{name} {rate}: {out}");
            assert!(medium[rate]["in_source"]["total"].is_u64());
        }
        let ham = u["ham"].as_u64().unwrap();
        assert_eq!(medium["false_positive_rate"]["out_of_source"]["total"], ham);
    }
    let eras = t["eras"].as_array().unwrap();
    assert_eq!(eras.len(), 2);
    for (e, tested) in eras.iter().zip(["north", "south"]) {
        assert!(e["not_trained"].is_null(), "{e}");
        assert_eq!(e["by_source"][0]["source"], tested);
        assert!(e["overall"]["detection_rate"]["value"].is_f64(), "{e}");
        assert!(e["overall"]["false_positive_rate"]["value"].is_f64(), "{e}");
    }
}
