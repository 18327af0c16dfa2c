//! The benchmark report: `metrics.json`, `scores.csv`, the figures (PNG
//! and SVG), `report.md` and `report.html` (figures inline), written into
//! one directory whole or not at all.
//!
//! Both documents render one outline ([`Block`]s, one function per section
//! in [`outline`]), so the Markdown and the HTML never disagree. Nothing
//! here is timed or dated: a rerun on the same data writes the same
//! numbers (throughput aside, which is measured).

mod csv;
mod outline;
mod render;

pub use csv::scores_csv;
pub use outline::{
    figure_caption, outline, Block, CARRIERS_HEADING, SCENARIOS_HEADING, TRANSFER_HEADING,
};
pub use render::{render_html, render_markdown};

use crate::error::EvalError;
use crate::metrics::{
    carriers, detector_metrics, scenarios, technique_key, CarrierRow, Cut, DetectorMetrics,
    DetectorScores, Item, PointSpec, ScenarioRow, ScenarioSummary,
};
use crate::transfer::Transfer;
use impostor_model::atomic::{self, StagedDir, WriteError};
use impostor_model::stats::rates::Rate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The model evaluated, as the report names it.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    /// Its directory, or "built in".
    pub source: String,
    /// SHA-256 of its manifest: names this exact model.
    pub manifest_sha256: String,
    /// The level at and above which it flags.
    pub default_level: String,
    /// Its levels, low to high.
    pub levels: Vec<LevelInfo>,
}

/// One of the model's levels.
#[derive(Clone, Debug, Serialize)]
pub struct LevelInfo {
    /// `low`, `medium` or `high`.
    pub name: String,
    /// Flag at or above this score.
    pub threshold: f64,
    /// The false-positive rate it was chosen for.
    pub target_fpr: f64,
    /// Whether the validation role held enough ham to resolve the target.
    pub resolvable: bool,
}

/// Which mail was evaluated and why.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DataInfo {
    /// How the evaluated messages were chosen (the split rule, the role).
    pub selection: String,
    /// Messages left out, by reason.
    pub excluded: BTreeMap<String, u64>,
    /// Notes on the data (the index's warnings).
    pub notes: Vec<String>,
}

/// One leakage check and what it found.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// What it found.
    pub result: String,
    /// Whether the numbers can be read without this caveat.
    pub passed: bool,
}

/// A detector that was asked for but not run, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// The detector's name.
    pub detector: String,
    /// Why it was skipped (how to make it run).
    pub reason: String,
}

/// Everything a report is made of.
pub struct ReportInput {
    /// The report's title.
    pub title: String,
    /// The command that produced the report (to reproduce it).
    pub command: String,
    /// The model evaluated, if any.
    pub model: Option<ModelInfo>,
    /// Which mail was evaluated and why.
    pub data: DataInfo,
    /// The leakage checks.
    pub leakage: Vec<Check>,
    /// Detectors asked for but not run.
    pub skipped: Vec<Skipped>,
    /// The evaluated messages.
    pub items: Vec<Item>,
    /// Every detector's results, in item order.
    pub scores: Vec<DetectorScores>,
    /// The operating points to measure.
    pub points: Vec<PointSpec>,
    /// Threads scoring at once (throughput is per thread).
    pub concurrency: usize,
    /// Out-of-source and cross-era transfer, when measured.
    pub transfer: Option<Transfer>,
}

/// The operating points every report has: the native decision, the
/// model's levels (`levels`: name and threshold) and matched
/// false-positive rates.
pub fn standard_points(levels: &[LevelInfo], matched: &[f64]) -> Vec<PointSpec> {
    let mut out = vec![PointSpec {
        name: "native".into(),
        cut: Cut::Native,
    }];
    for rate in matched {
        out.push(PointSpec {
            name: matched_name(*rate),
            cut: Cut::MatchedFpr(*rate),
        });
    }
    for l in levels {
        out.push(PointSpec {
            name: format!("level_{}", l.name),
            cut: Cut::AtLeast(l.threshold),
        });
    }
    out
}

/// `fpr_1e-3` for 0.001.
pub fn matched_name(rate: f64) -> String {
    format!("fpr_{rate:.0e}")
}

/// Counts of the evaluated data.
#[derive(Clone, Debug, Serialize)]
pub struct DataSummary {
    /// Messages evaluated.
    pub messages: u64,
    /// Ham among them.
    pub ham: u64,
    /// Attacks among them.
    pub attacks: u64,
    /// How they were chosen.
    pub selection: String,
    /// Messages left out, by reason.
    pub excluded: BTreeMap<String, u64>,
    /// Notes on the data.
    pub notes: Vec<String>,
    /// Per source: messages per label, and how many are synthetic.
    pub by_source: BTreeMap<String, BTreeMap<String, u64>>,
    /// Attacks per technique (`none`: real phishing and BEC).
    pub attacks_by_technique: BTreeMap<String, u64>,
}

/// `metrics.json`.
#[derive(Clone, Debug, Serialize)]
pub struct MetricsFile {
    /// `impostor-eval-metrics`.
    pub format: &'static str,
    /// The format's version.
    pub version: u32,
    /// The report's title.
    pub title: String,
    /// The command that produced it.
    pub command: String,
    /// The model evaluated, if any.
    pub model: Option<ModelInfo>,
    /// The evaluated data.
    pub data: DataSummary,
    /// The leakage checks.
    pub leakage: Vec<Check>,
    /// Detectors asked for but not run.
    pub skipped: Vec<Skipped>,
    /// Operating points by name, with how each is set.
    pub operating_points: BTreeMap<String, String>,
    /// Threads scoring at once (throughput is per thread).
    pub concurrency: usize,
    /// Every detector's metrics.
    pub detectors: Vec<DetectorMetrics>,
    /// Figure files (stems; each has .png and .svg).
    pub figures: Vec<String>,
    /// Out-of-source and cross-era transfer, when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
    /// The replayed timelines by scenario (source and kind): empty without
    /// timeline messages.
    pub scenarios: Vec<ScenarioRow>,
    /// Each timeline's account-compromise attacks detected and hard ham
    /// flagged.
    pub scenario_summaries: Vec<ScenarioSummary>,
    /// Real mail by lure carrier (body link, HTML attachment, PDF, QR
    /// code, other attachment, no link): empty without real mail.
    pub carriers: Vec<CarrierRow>,
}

/// The file name of the metrics in a report directory.
pub const METRICS_FILE: &str = "metrics.json";

fn summarise(input: &ReportInput) -> DataSummary {
    let mut by_source: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut by_technique = BTreeMap::new();
    for it in &input.items {
        let s = by_source.entry(it.source.clone()).or_default();
        *s.entry(it.label.clone()).or_default() += 1;
        if it.synthetic {
            *s.entry("synthetic".into()).or_default() += 1;
        }
        if it.attack {
            *by_technique.entry(technique_key(it)).or_default() += 1;
        }
    }
    let attacks = input.items.iter().filter(|i| i.attack).count() as u64;
    DataSummary {
        messages: input.items.len() as u64,
        ham: input.items.len() as u64 - attacks,
        attacks,
        selection: input.data.selection.clone(),
        excluded: input.data.excluded.clone(),
        notes: input.data.notes.clone(),
        by_source,
        attacks_by_technique: by_technique,
    }
}

fn describe_point(spec: &PointSpec) -> String {
    match spec.cut {
        Cut::Native => "each detector's own decision".into(),
        Cut::AtLeast(t) => format!("score ≥ {t:.6} (a threshold of the model's)"),
        Cut::MatchedFpr(r) => format!(
            "each detector's threshold flagging at most {} of the evaluated ham (read off its ROC curve; the same rate for every detector)",
            pct(r)
        ),
    }
}

/// Computes every metric; the figures are drawn by [`write`].
pub fn metrics(input: &ReportInput) -> MetricsFile {
    let (scenarios, scenario_summaries) = scenarios(&input.items, &input.scores);
    MetricsFile {
        format: "impostor-eval-metrics",
        version: 1,
        title: input.title.clone(),
        command: input.command.clone(),
        model: input.model.clone(),
        data: summarise(input),
        leakage: input.leakage.clone(),
        skipped: input.skipped.clone(),
        operating_points: input
            .points
            .iter()
            .map(|p| (p.name.clone(), describe_point(p)))
            .collect(),
        concurrency: input.concurrency,
        detectors: input
            .scores
            .iter()
            .map(|d| detector_metrics(&input.items, d, &input.points))
            .collect(),
        figures: Vec::new(),
        transfer: input.transfer.clone(),
        scenarios,
        scenario_summaries,
        carriers: carriers(&input.items, &input.scores),
    }
}

/// A percentage with precision that suits its size.
pub fn pct(v: f64) -> String {
    let p = 100.0 * v;
    if p == 0.0 || p >= 10.0 {
        format!("{p:.1}%")
    } else if p >= 1.0 {
        format!("{p:.2}%")
    } else {
        format!("{p:.3}%")
    }
}

/// `12.5% [10.1–15.2%] (25/200)`, or `n/a (0/0)`.
pub fn rate_cell(r: &Rate) -> String {
    match (r.value, r.ci95) {
        (Some(v), Some(ci)) => format!(
            "{} [{}–{}] ({}/{})",
            pct(v),
            pct(ci.low).trim_end_matches('%'),
            pct(ci.high),
            r.count,
            r.total
        ),
        _ => format!("n/a ({}/{})", r.count, r.total),
    }
}

/// Writes a whole report into `dir`: staged in a temporary directory
/// beside it and renamed into place; an existing report there is
/// replaced, any other non-empty directory refused. Returns the metrics.
pub fn write(dir: &Path, input: &ReportInput) -> Result<MetricsFile, EvalError> {
    let werr = |source| WriteError {
        path: dir.to_path_buf(),
        source,
    };
    if !atomic::replaceable(dir, METRICS_FILE).map_err(werr)? {
        return Err(EvalError::Refused {
            path: dir.to_path_buf(),
            what: "exists and is not a report (no metrics.json); choose another output directory"
                .into(),
        });
    }
    let staged = StagedDir::beside(dir)?;
    let tmp = &staged;
    let mut m = metrics(input);
    m.figures = crate::figures::draw(tmp.path(), input, &m)?;
    let put = |name: &str, bytes: &[u8]| -> Result<(), EvalError> { Ok(tmp.write(name, bytes)?) };
    let mut json = serde_json::to_vec_pretty(&m).map_err(EvalError::Metrics)?;
    json.push(b'\n');
    put(METRICS_FILE, &json)?;
    put(
        "scores.csv",
        scores_csv(&input.items, &input.scores).as_bytes(),
    )?;
    let blocks = outline(input, &m);
    put("report.md", render_markdown(&blocks).as_bytes())?;
    let staged_dir = tmp.path().to_path_buf();
    let png = |stem: &str| std::fs::read(staged_dir.join(format!("{stem}.png"))).ok();
    put(
        "report.html",
        render_html(&blocks, &m.title, &png).as_bytes(),
    )?;
    staged.commit(dir)?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, source: &str, label: &str, technique: Option<&str>) -> Item {
        Item {
            id: id.into(),
            source: source.into(),
            label: label.into(),
            attack: label != "ham",
            technique: technique.map(str::to_string),
            synthetic: technique.is_some(),
            kind: None,
            carrier: None,
        }
    }

    fn detector(name: &str, scores: &[f64], native: bool, errors: usize) -> DetectorScores {
        let n = scores.len();
        DetectorScores {
            name: name.into(),
            description: format!("{name}, for the test."),
            is_peer: false,
            scores: scores
                .iter()
                .enumerate()
                .map(|(i, s)| (i >= errors).then_some(*s))
                .collect(),
            flagged: scores
                .iter()
                .enumerate()
                .map(|(i, s)| (native && i >= errors).then_some(*s >= 0.5))
                .collect(),
            hits: vec![vec!["r|1".into()]; n],
            errors: (0..n)
                .map(|i| (i < errors).then(|| "down, \"really\"".to_string()))
                .collect(),
            busy_seconds: 2.0,
        }
    }

    /// A small report with every section: a model, two matched rates,
    /// techniques, two sources, real and synthetic mail, an error, a
    /// skipped peer, excluded messages and notes.
    fn input() -> ReportInput {
        let items = vec![
            item("a:1", "a", "ham", None),
            item("a:2", "a", "ham", None),
            item("b:1", "b", "ham", Some("none")),
            item("b:2", "b", "bec", Some("lookalike_domain")),
            item("b:3", "b", "phish", Some("header_from_spoof")),
            item("a:3", "a", "phish", None),
        ];
        let levels = vec![
            LevelInfo {
                name: "low".into(),
                threshold: 0.25,
                target_fpr: 1e-2,
                resolvable: true,
            },
            LevelInfo {
                name: "medium".into(),
                threshold: 0.5,
                target_fpr: 1e-3,
                resolvable: false,
            },
        ];
        let mut excluded = BTreeMap::new();
        excluded.insert("unlabelled".to_string(), 3);
        excluded.insert("in the model's train role".to_string(), 7);
        ReportInput {
            title: "A <test> report".into(),
            command: "impostor eval 'a b' -o out".into(),
            model: Some(ModelInfo {
                source: "models/x".into(),
                manifest_sha256: "abc".into(),
                default_level: "medium".into(),
                levels: levels.clone(),
            }),
            data: DataInfo {
                selection: "The test role.".into(),
                excluded,
                notes: vec!["a note | with a bar".into()],
            },
            leakage: vec![
                Check {
                    name: "model's own data".into(),
                    result: "none".into(),
                    passed: true,
                },
                Check {
                    name: "source probe".into(),
                    result: "AUC 0.95".into(),
                    passed: false,
                },
            ],
            skipped: vec![Skipped {
                detector: "rspamd".into(),
                reason: "--no-peers".into(),
            }],
            points: standard_points(&levels, &[1e-2, 1e-3]),
            scores: vec![
                detector("impostor", &[0.1, 0.6, 0.2, 0.9, 0.4, 0.8], true, 0),
                detector(
                    "impostor_rules_only",
                    &[0.1, 0.3, 0.2, 0.9, 0.7, 0.8],
                    false,
                    0,
                ),
                detector("keywords", &[0.0, 1.0, 0.0, 1.0, 0.0, 1.0], true, 1),
            ],
            items,
            concurrency: 2,
            transfer: None,
        }
    }

    /// `input` with a generated timeline `gen` appended: two takeovers
    /// (Impostor flags one), a phishing wave (flagged), two IT notices (one
    /// flagged), three internal messages, a timeline message without a
    /// kind and a generated message outside the timeline (both flagged,
    /// neither in the table); the keyword filter becomes a peer.
    fn with_timeline(mut input: ReportInput) -> ReportInput {
        let timeline = [
            (
                "timeline/000010.eml",
                "bec",
                Some("takeover_new_network"),
                0.9,
            ),
            (
                "timeline/000011.eml",
                "bec",
                Some("takeover_new_network"),
                0.3,
            ),
            (
                "timeline/000012.eml",
                "phish",
                Some("internal_phish_wave"),
                0.8,
            ),
            ("timeline/000001.eml", "ham", Some("it_notice"), 0.7),
            ("timeline/000002.eml", "ham", Some("it_notice"), 0.1),
            ("timeline/000003.eml", "ham", Some("internal"), 0.1),
            ("timeline/000004.eml", "ham", Some("internal"), 0.2),
            ("timeline/000005.eml", "ham", Some("internal"), 0.3),
            ("timeline/000006.eml", "ham", None, 0.95),
            ("ham/000001.eml", "ham", Some("it_notice"), 0.95),
        ];
        for (member, label, kind, score) in timeline {
            let attack = label != "ham";
            let mut it = item(
                &format!("gen:{member}"),
                "gen",
                label,
                attack.then_some("account_compromise"),
            );
            it.synthetic = true;
            it.kind = kind.map(str::to_string);
            input.items.push(it);
            for d in &mut input.scores {
                let native = d.flagged.iter().any(Option::is_some);
                d.scores.push(Some(score));
                d.flagged.push(native.then_some(score >= 0.5));
                d.hits.push(Vec::new());
                d.errors.push(None);
            }
        }
        for d in &mut input.scores {
            d.is_peer = d.name == "keywords";
        }
        input
    }

    fn headings(blocks: &[Block]) -> Vec<String> {
        blocks
            .iter()
            .filter_map(|b| match b {
                Block::Heading(_, t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_outline_has_every_section_in_reading_order() {
        let input = with_timeline(input());
        let mut m = metrics(&input);
        m.figures = vec!["roc".into(), "techniques_native".into()];
        let blocks = outline(&input, &m);
        assert_eq!(
            headings(&blocks),
            [
                "A <test> report",
                "Summary",
                "At matched false-positive rates",
                "Detection per technique, each detector at its own decision",
                "Detection per technique at matched false-positive rate (fpr_1e-3)",
                SCENARIOS_HEADING,
                "Per source, each detector at its own decision",
                "Real and synthetic mail",
                "Impostor's levels",
                "Figures",
                "Data and splits",
                "Leakage checks",
                "Detectors",
            ]
        );
        let md = render_markdown(&blocks);
        for needle in [
            "- left out, unlabelled: 3",
            "- WARN source probe: AUC 0.95",
            "- rspamd: skipped: --no-peers",
            "- a note | with a bar",
            "Could not judge 1 messages (e.g. down, \"really\").",
            "| medium | 0.500000 | 1e-3 (not resolvable on its validation role) |",
            "![ROC curves",
        ] {
            assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
        }
        let html = render_html(&blocks, &m.title, &|s: &str| {
            (s == "roc").then(|| vec![1, 2, 3])
        });
        assert!(html.contains("<title>A &lt;test&gt; report</title>"));
        assert!(html.contains("src=\"data:image/png;base64,AQID\""));
        assert!(html.contains("src=\"techniques_native.png\""));
    }

    #[test]
    fn timelines_get_a_table_by_scenario_with_the_right_counts() {
        let input = with_timeline(input());
        let m = metrics(&input);
        let blocks = outline(&input, &m);
        let at = blocks
            .iter()
            .position(|b| matches!(b, Block::Heading(2, t) if t == SCENARIOS_HEADING))
            .expect("the section");
        let Block::Table { head, rows } = &blocks[at + 2] else {
            panic!("{:?}", blocks[at + 2]);
        };
        assert_eq!(
            head,
            &[
                "source",
                "kind",
                "class",
                "n",
                "Impostor flagged",
                "95% interval",
                "keywords flagged"
            ]
        );
        let first: Vec<[&str; 5]> = rows
            .iter()
            .map(|r| [0, 1, 2, 3, 4].map(|i| r[i].as_str()))
            .collect();
        assert_eq!(
            first,
            [
                ["gen", "takeover_new_network", "attack", "2", "50.0% (1/2)"],
                ["gen", "internal_phish_wave", "attack", "1", "100.0% (1/1)"],
                ["gen", "it_notice", "hard ham", "2", "50.0% (1/2)"],
                ["gen", "internal", "ham", "3", "0.0% (0/3)"],
            ]
        );
        assert_eq!(rows[3][5], "[0.0–56.1%]");
        let md = render_markdown(&blocks);
        for needle in [
            "gen: Impostor detected 66.7% [20.8–93.9%] (2/3) of the account-compromise attacks and flagged 50.0% [9.45–90.5%] (1/2) of the hard ham",
            "after the first two-fifths",
        ] {
            assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
        }
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["scenarios"][0]["kind"], "takeover_new_network");
        assert_eq!(json["scenarios"][0]["impostor"]["count"], 1);
        assert_eq!(json["scenarios"][2]["peers"]["keywords"]["total"], 2);
        assert_eq!(
            json["scenario_summaries"][0]["hard_ham_flagged"]["count"],
            1
        );
    }

    #[test]
    fn a_report_without_timeline_messages_has_no_scenario_section() {
        let plain = input();
        let m = metrics(&plain);
        assert!(m.scenarios.is_empty() && m.scenario_summaries.is_empty());
        assert!(!headings(&outline(&plain, &m)).contains(&SCENARIOS_HEADING.to_string()));
        assert_eq!(
            serde_json::to_value(&m).unwrap()["scenarios"],
            serde_json::json!([])
        );
    }

    /// A transfer with one unit trained (its in-source test role empty),
    /// one unit that could not be trained, and one era each way.
    fn transfer() -> Transfer {
        use crate::transfer::{
            Comparison, EraTransfer, SourceRates, Unit, UnitLevel, UnitTransfer,
        };
        use impostor_model::Level;
        let unit = |name: &str| Unit {
            name: name.into(),
            source: name.split('/').next().unwrap().into(),
            folder: name.split_once('/').map(|(_, f)| f.to_string()),
        };
        let comparison = |o: (u64, u64), i: (u64, u64)| Comparison {
            out_of_source: Rate::new(o.0, o.1),
            in_source: Rate::new(i.0, i.1),
            difference_points: (i.1 > 0 && o.1 > 0)
                .then(|| 100.0 * (o.0 as f64 / o.1 as f64 - i.0 as f64 / i.1 as f64)),
        };
        let rates = |source: &str, fp: (u64, u64), tp: (u64, u64)| SourceRates {
            source: source.into(),
            false_positive_rate: Rate::new(fp.0, fp.1),
            detection_rate: Rate::new(tp.0, tp.1),
        };
        Transfer {
            default_level: Level::Medium,
            era_cut: "2015-01-01".into(),
            real_sources: vec!["lists".into(), "pot".into()],
            synthetic_rows: 10,
            undated_rows: 2,
            units: vec![
                UnitTransfer {
                    unit: unit("lists/dev"),
                    ham: 40,
                    attacks: 0,
                    in_source_test_rows: 0,
                    held_out_with_group: 3,
                    not_trained: None,
                    levels: vec![UnitLevel {
                        level: Level::Medium,
                        false_positive_rate: comparison((4, 40), (0, 0)),
                        detection_rate: comparison((0, 0), (0, 0)),
                    }],
                },
                UnitTransfer {
                    unit: unit("old"),
                    ham: 1000,
                    attacks: 0,
                    in_source_test_rows: 1000,
                    held_out_with_group: 0,
                    not_trained: None,
                    levels: vec![UnitLevel {
                        level: Level::Medium,
                        false_positive_rate: comparison((5, 1000), (3, 1000)),
                        detection_rate: comparison((0, 0), (0, 0)),
                    }],
                },
                UnitTransfer {
                    unit: unit("pot"),
                    ham: 0,
                    attacks: 50,
                    in_source_test_rows: 10,
                    held_out_with_group: 0,
                    not_trained: Some("could not train without it: no attacks".into()),
                    levels: Vec::new(),
                },
            ],
            eras: vec![
                EraTransfer {
                    trained_on: "before 2015-01-01".into(),
                    tested_on: "2015-01-01 or later".into(),
                    training_rows: 30,
                    training_synthetic: 5,
                    held_out_with_group: 0,
                    not_trained: Some("cannot be trained: 0 attacks".into()),
                    overall: rates("all real rows", (0, 0), (0, 0)),
                    by_source: Vec::new(),
                },
                EraTransfer {
                    trained_on: "2015-01-01 or later".into(),
                    tested_on: "before 2015-01-01".into(),
                    training_rows: 90,
                    training_synthetic: 5,
                    held_out_with_group: 1,
                    not_trained: None,
                    overall: rates("all real rows", (3, 30), (0, 0)),
                    by_source: vec![rates("old", (3, 30), (0, 0))],
                },
            ],
        }
    }

    #[test]
    fn transfer_is_a_section_after_the_levels_and_a_field_of_the_metrics() {
        let mut with = input();
        with.transfer = Some(transfer());
        let m = metrics(&with);
        let blocks = outline(&with, &m);
        let h = headings(&blocks);
        let at = h
            .iter()
            .position(|t| t == TRANSFER_HEADING)
            .expect("the section");
        assert_eq!(h[at - 1], "Impostor's levels");
        let md = render_markdown(&blocks);
        for needle in [
            "| lists/dev (40, 0) | false positives | 10.0% [3.96–23.1%] (4/40) | no test-role rows in source | — |",
            "| old (1000, 0) | false positives | 0.500% [0.214–1.17%] (5/1000) | 0.300% [0.102–0.878%] (3/1000) | +0.20 points |",
            "| pot (0, 50) | — | could not train without it: no attacks | — | — |",
            "without lists/dev: 3 rows of other sources held out with it",
            "| before 2015-01-01 → 2015-01-01 or later | 30 (5 synthetic) | — | cannot be trained: 0 attacks | — |",
            "| 2015-01-01 or later → before 2015-01-01 | 90 (5 synthetic; 1 held out with a tested group) | old | 10.0% [3.46–25.6%] (3/30) | — |",
            "Rows without a date (2) are left out of both sides.",
        ] {
            assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
        }
        // One tested source: no total row repeating it.
        assert!(!md.contains("all real rows"), "{md}");
        let json: serde_json::Value = serde_json::to_value(&m).unwrap();
        let unit = &json["transfer"]["units"][0];
        assert_eq!(unit["name"], "lists/dev");
        assert_eq!(
            unit["levels"][0]["false_positive_rate"]["out_of_source"]["count"],
            4
        );
        assert_eq!(json["transfer"]["eras"][1]["by_source"][0]["source"], "old");
        // Without transfer, neither the section nor the field.
        let plain = input();
        assert!(
            !headings(&outline(&plain, &metrics(&plain))).contains(&TRANSFER_HEADING.to_string())
        );
        assert!(serde_json::to_value(metrics(&plain))
            .unwrap()
            .get("transfer")
            .is_none());
    }

    #[test]
    fn transfer_without_a_real_source_says_so_in_one_line() {
        let mut t = transfer();
        t.real_sources.clear();
        t.units.clear();
        t.eras.clear();
        let mut input = input();
        input.transfer = Some(t);
        let m = metrics(&input);
        let blocks = outline(&input, &m);
        let at = blocks
            .iter()
            .position(|b| matches!(b, Block::Heading(2, t) if t == TRANSFER_HEADING))
            .expect("the section");
        assert!(
            matches!(blocks[at + 2], Block::Heading(..)),
            "{:?}",
            &blocks[at..]
        );
        let Block::Paragraph(line) = &blocks[at + 1] else {
            panic!("{:?}", blocks[at + 1]);
        };
        assert!(
            line.contains("no real source (all 10 rows are synthetic)"),
            "{line}"
        );
    }

    #[test]
    fn a_report_without_a_model_or_matched_rates_leaves_their_sections_out() {
        let mut input = input();
        input.model = None;
        input
            .points
            .retain(|p| !matches!(p.cut, Cut::MatchedFpr(_)));
        let m = metrics(&input);
        let h = headings(&outline(&input, &m));
        assert!(
            !h.iter()
                .any(|t| t.contains("matched") || t.contains("levels")),
            "{h:?}"
        );
        assert!(h.contains(&"Detection per technique, each detector at its own decision".into()));
    }
}
