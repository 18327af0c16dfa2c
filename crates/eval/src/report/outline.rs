//! The report's outline, one function per section, in reading order.
//! [`outline`] strings them together; Markdown and HTML both render it.

use super::{pct, rate_cell, MetricsFile, ReportInput};
use crate::metrics::{Cut, DetectorMetrics, PointMetrics, PointSpec, SliceMetrics};
use crate::transfer::{Comparison, Transfer};
use impostor_model::stats::rates::Rate;
use std::fmt::Write as _;

/// One piece of the report's outline.
#[derive(Clone, Debug)]
pub enum Block {
    /// A heading of a level (1 the title) and its text.
    Heading(u8, String),
    /// A paragraph of text.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table: its header and its rows of cells.
    Table {
        /// The header cells.
        head: Vec<String>,
        /// The rows, each as many cells as the header.
        rows: Vec<Vec<String>>,
    },
    /// A figure's file stem (PNG and SVG beside the report) and caption.
    Figure {
        /// The file name without .png or .svg.
        stem: String,
        /// What the figure shows.
        caption: String,
    },
    /// Preformatted text (a command).
    Code(String),
}

/// The report's outline.
pub fn outline(input: &ReportInput, m: &MetricsFile) -> Vec<Block> {
    let matched: Vec<&PointSpec> = input
        .points
        .iter()
        .filter(|p| matches!(p.cut, Cut::MatchedFpr(_)))
        .collect();
    [
        opening(m),
        summary(m),
        matched_rates(m, &matched),
        per_technique(m, &matched),
        scenarios(m),
        carriers(m),
        per_source(m),
        real_and_synthetic(m),
        levels(m),
        transfer(m),
        figures(m),
        data_and_splits(m),
        leakage_checks(m),
        detectors(m),
    ]
    .concat()
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.digits$}"))
}

fn point<'a>(d: &'a DetectorMetrics, name: &str) -> Option<&'a PointMetrics> {
    d.points.iter().find(|p| p.name == name)
}

/// The detectors with a decision of their own (the ablations have none).
fn with_native(m: &MetricsFile) -> Vec<&DetectorMetrics> {
    m.detectors
        .iter()
        .filter(|d| point(d, "native").is_some())
        .collect()
}

/// The title, the counts, and the command to reproduce it.
fn opening(m: &MetricsFile) -> Vec<Block> {
    vec![
        Block::Heading(1, m.title.clone()),
        Block::Paragraph(format!(
            "{} messages evaluated: {} ham and {} attacks. Every detector judged the same messages in one run. Rates carry 95% Wilson intervals, ROC and PR AUC 95% bootstrap intervals ({} stratified resamples, seed {}).",
            m.data.messages,
            m.data.ham,
            m.data.attacks,
            crate::metrics::BOOTSTRAP_RESAMPLES,
            crate::metrics::BOOTSTRAP_SEED
        )),
        Block::Paragraph("Reproduce with:".into()),
        Block::Code(m.command.clone()),
    ]
}

/// Every detector at its own decision, with its ranking and throughput.
fn summary(m: &MetricsFile) -> Vec<Block> {
    let auc = |a: Option<f64>, ci: Option<impostor_model::stats::rates::Interval>| match (a, ci) {
        (Some(a), Some(ci)) => format!("{a:.4} [{:.4}–{:.4}]", ci.low, ci.high),
        (a, _) => opt(a, 4),
    };
    let rows = m
        .detectors
        .iter()
        .map(|d| {
            let native = point(d, "native");
            vec![
                d.name.clone(),
                native.map_or("—".into(), |p| rate_cell(&p.overall.false_positive_rate)),
                native.map_or("—".into(), |p| rate_cell(&p.overall.detection_rate)),
                native.map_or("—".into(), |p| rate_cell(&p.overall.precision)),
                native.map_or("—".into(), |p| opt(p.overall.f1, 3)),
                auc(d.ranking.roc_auc, d.ranking.roc_auc_ci95),
                auc(d.ranking.pr_auc, d.ranking.pr_auc_ci95),
                opt(d.messages_per_second, 0),
                d.errors.to_string(),
            ]
        })
        .collect();
    vec![
        Block::Heading(2, "Summary".into()),
        Block::Table {
            head: [
                "detector",
                "false positives (own decision)",
                "detection (own decision)",
                "precision",
                "F1",
                "ROC AUC",
                "PR AUC",
                "messages/s per thread",
                "errors",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        },
        Block::Paragraph(
            "A detector without a decision of its own (the ablations) shows —; compare it at matched false-positive rates below. A message a detector could not judge counts as not flagged.".into(),
        ),
    ]
}

/// Every detector at each matched false-positive rate; nothing when none
/// was asked for.
fn matched_rates(m: &MetricsFile, matched: &[&PointSpec]) -> Vec<Block> {
    if matched.is_empty() {
        return Vec::new();
    }
    let mut head = vec!["detector".to_string()];
    for p in matched {
        head.push(format!("{}: false positives", p.name));
        head.push(format!("{}: detection", p.name));
    }
    let rows = m
        .detectors
        .iter()
        .map(|d| {
            let mut row = vec![d.name.clone()];
            for p in matched {
                match point(d, &p.name) {
                    Some(x) => {
                        row.push(rate_cell(&x.overall.false_positive_rate));
                        row.push(rate_cell(&x.overall.detection_rate));
                    }
                    None => row.extend(["—".to_string(), "—".to_string()]),
                }
            }
            row
        })
        .collect();
    vec![
        Block::Heading(2, "At matched false-positive rates".into()),
        Block::Paragraph(
            "Each detector's threshold is set, on the evaluated ham itself, so that it flags at most the stated share of it; then its detection rate is read. This compares how well the detectors rank mail, at equal false-positive rates; the thresholds are not deployable settings.".into(),
        ),
        Block::Table { head, rows },
    ]
}

/// Detection per technique at each detector's own decision and at the
/// strictest matched rate, then what technique `none` means.
fn per_technique(m: &MetricsFile, matched: &[&PointSpec]) -> Vec<Block> {
    let mut b = technique_table(
        m,
        "native",
        "Detection per technique, each detector at its own decision".into(),
    );
    if let Some(p) = matched.last() {
        b.extend(technique_table(
            m,
            &p.name,
            format!(
                "Detection per technique at matched false-positive rate ({})",
                p.name
            ),
        ));
    }
    b.push(Block::Paragraph(
        "Technique `none` is real phishing and BEC, which carry no technique label; the others are attacks injected by `impostor gen`.".into(),
    ));
    b
}

/// One table of detection per technique at the operating point `name`,
/// with the false-positive rate beneath; nothing when no detector has that
/// point or no attack was evaluated.
fn technique_table(m: &MetricsFile, name: &str, title: String) -> Vec<Block> {
    let techniques: Vec<&String> = m.data.attacks_by_technique.keys().collect();
    let with: Vec<(&DetectorMetrics, &PointMetrics)> = m
        .detectors
        .iter()
        .filter_map(|d| Some((d, point(d, name)?)))
        .collect();
    if with.is_empty() || techniques.is_empty() {
        return Vec::new();
    }
    let mut head = vec!["technique (attacks)".to_string()];
    head.extend(with.iter().map(|(d, _)| d.name.clone()));
    let mut rows: Vec<Vec<String>> = techniques
        .iter()
        .map(|t| {
            let mut row = vec![format!("{t} ({})", m.data.attacks_by_technique[*t])];
            for (_, p) in &with {
                row.push(
                    p.by_technique
                        .get(*t)
                        .map_or("—".into(), |s| rate_cell(&s.detection_rate)),
                );
            }
            row
        })
        .collect();
    let mut fp_row = vec![format!("false positives on ham ({})", m.data.ham)];
    fp_row.extend(
        with.iter()
            .map(|(_, p)| rate_cell(&p.overall.false_positive_rate)),
    );
    rows.push(fp_row);
    vec![Block::Heading(2, title), Block::Table { head, rows }]
}

/// The section's heading.
pub const SCENARIOS_HEADING: &str = "Sender history: timelines by scenario";

/// The replayed timelines by scenario: Impostor (and each peer) at its own
/// decision per kind, and each timeline's two numbers; nothing without
/// timeline messages.
fn scenarios(m: &MetricsFile) -> Vec<Block> {
    if m.scenarios.is_empty() {
        return Vec::new();
    }
    let peers: Vec<&String> = {
        let mut names: Vec<&String> = m.scenarios.iter().flat_map(|r| r.peers.keys()).collect();
        names.sort();
        names.dedup();
        names
    };
    let mut head: Vec<String> = [
        "source",
        "kind",
        "class",
        "n",
        "Impostor flagged",
        "95% interval",
    ]
    .map(String::from)
    .to_vec();
    head.extend(peers.iter().map(|p| format!("{p} flagged")));
    let rows = m
        .scenarios
        .iter()
        .map(|r| {
            let (share, ci) = share_cells(r.impostor.as_ref());
            let mut row = vec![
                r.source.clone(),
                r.kind.clone(),
                r.class.clone(),
                r.messages.to_string(),
                share,
                ci,
            ];
            row.extend(
                peers
                    .iter()
                    .map(|p| r.peers.get(*p).map_or("—".into(), rate_cell)),
            );
            row
        })
        .collect();
    let mut b = vec![
        Block::Heading(2, SCENARIOS_HEADING.into()),
        Block::Paragraph(
            "Each timeline is one simulated organisation's mailbox, replayed in date order: every message is judged with what the sender-history store knew strictly before it (after the store's delay), and the attacks come after the first two-fifths, when the store has learnt the organisation's habits. Hard ham is honest mail with the attacks' words: IT notices, HR gift-card programmes, forwards to the security desk, genuine vendor bank changes, CFO approvals in known threads. Flagged is the share of each kind flagged at the detector's own decision (Impostor: the model's default level), with 95% Wilson intervals: detection for attacks, false positives for ham.".into(),
        ),
        Block::Table { head, rows },
    ];
    let lines: Vec<String> = m
        .scenario_summaries
        .iter()
        .filter_map(|s| {
            Some(format!(
                "{}: Impostor detected {} of the account-compromise attacks and flagged {} of the hard ham",
                s.source,
                rate_cell(s.account_compromise_detected.as_ref()?),
                rate_cell(s.hard_ham_flagged.as_ref()?)
            ))
        })
        .collect();
    if !lines.is_empty() {
        b.push(Block::List(lines));
    }
    b
}

/// A flagged share and its 95% interval as two cells ("12% (3/25)",
/// "[4–31%]"); dashes when there is none.
fn share_cells(rate: Option<&Rate>) -> (String, String) {
    match rate {
        Some(Rate {
            count,
            total,
            value: Some(v),
            ci95: Some(ci),
        }) => (
            format!("{} ({count}/{total})", pct(*v)),
            format!("[{}–{}]", pct(ci.low).trim_end_matches('%'), pct(ci.high)),
        ),
        _ => ("—".into(), "—".into()),
    }
}

/// The heading of the table of real mail by lure carrier.
pub const CARRIERS_HEADING: &str = "Real mail by lure carrier";

/// Real mail by how it carries its lure, each detector at its own decision.
fn carriers(m: &MetricsFile) -> Vec<Block> {
    if m.carriers.is_empty() {
        return Vec::new();
    }
    let mut peers: Vec<&String> = m.carriers.iter().flat_map(|r| r.peers.keys()).collect();
    peers.sort();
    peers.dedup();
    let mut head: Vec<String> = [
        "source",
        "class",
        "carrier",
        "n",
        "Impostor flagged",
        "95% interval",
    ]
    .map(String::from)
    .to_vec();
    head.extend(peers.iter().map(|p| format!("{p} flagged")));
    let rows = m
        .carriers
        .iter()
        .map(|r| {
            let (share, ci) = share_cells(r.impostor.as_ref());
            let carrier = impostor_features::LureCarrier::ALL
                .iter()
                .find(|c| c.name() == r.carrier)
                .map_or(r.carrier.clone(), |c| c.describe().to_string());
            let mut row = vec![
                r.source.clone(),
                r.class.clone(),
                carrier,
                r.messages.to_string(),
                share,
                ci,
            ];
            row.extend(
                peers
                    .iter()
                    .map(|p| r.peers.get(*p).map_or("—".into(), rate_cell)),
            );
            row
        })
        .collect();
    vec![
        Block::Heading(2, CARRIERS_HEADING.into()),
        Block::Paragraph(
            "Real mail only (no generated message), by where its links are, the most hidden first: a link decoded from a QR code; an HTML page attached (or in an attached archive); a PDF; another attachment with links (Office, archives); a link in the body; no link at all (callback phishing, advance fee, BEC). Flagged is the share flagged at the detector's own decision (Impostor: the model's default level), with 95% Wilson intervals: detection for attacks, false positives for ham.".into(),
        ),
        Block::Table { head, rows },
    ]
}

/// Each source's false positives and detection, at each detector's own
/// decision.
fn per_source(m: &MetricsFile) -> Vec<Block> {
    let with = with_native(m);
    let mut head = vec!["source".to_string()];
    head.extend(with.iter().map(|d| d.name.clone()));
    let rows = m
        .data
        .by_source
        .iter()
        .map(|(source, counts)| {
            let described: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let mut row = vec![format!("{source} ({})", described.join(", "))];
            for d in &with {
                let s: Option<&SliceMetrics> =
                    point(d, "native").and_then(|p| p.by_source.get(source));
                row.push(s.map_or("—".into(), |s| {
                    let mut parts = Vec::new();
                    if s.ham > 0 {
                        parts.push(format!("FP {}", rate_cell(&s.false_positive_rate)));
                    }
                    if s.attacks > 0 {
                        parts.push(format!("detected {}", rate_cell(&s.detection_rate)));
                    }
                    parts.join("; ")
                }));
            }
            row
        })
        .collect();
    vec![
        Block::Heading(2, "Per source, each detector at its own decision".into()),
        Block::Table { head, rows },
    ]
}

/// Real against synthetic mail, at each detector's own decision.
fn real_and_synthetic(m: &MetricsFile) -> Vec<Block> {
    let mut rows = Vec::new();
    for d in with_native(m) {
        let p = point(d, "native").expect("filtered");
        for (origin, s) in &p.by_origin {
            rows.push(vec![
                d.name.clone(),
                origin.clone(),
                rate_cell(&s.false_positive_rate),
                rate_cell(&s.detection_rate),
            ]);
        }
    }
    vec![
        Block::Heading(2, "Real and synthetic mail".into()),
        Block::Table {
            head: ["detector", "origin", "false positives", "detection"]
                .map(String::from)
                .to_vec(),
            rows,
        },
    ]
}

/// The model's levels, their thresholds and how they did here; nothing
/// without a model.
fn levels(m: &MetricsFile) -> Vec<Block> {
    let Some(model) = &m.model else {
        return Vec::new();
    };
    let mut b = vec![
        Block::Heading(2, "Impostor's levels".into()),
        Block::Paragraph(format!(
            "Model {} (manifest SHA-256 {}); default level {}. Thresholds were chosen on the model's validation role, never on this data.",
            model.source, model.manifest_sha256, model.default_level
        )),
    ];
    if let Some(d) = m
        .detectors
        .iter()
        .find(|d| d.name == crate::metrics::IMPOSTOR)
    {
        let rows = model
            .levels
            .iter()
            .filter_map(|l| {
                let p = point(d, &format!("level_{}", l.name))?;
                Some(vec![
                    l.name.clone(),
                    format!("{:.6}", l.threshold),
                    format!(
                        "{:.0e}{}",
                        l.target_fpr,
                        if l.resolvable {
                            ""
                        } else {
                            " (not resolvable on its validation role)"
                        }
                    ),
                    rate_cell(&p.overall.false_positive_rate),
                    rate_cell(&p.overall.detection_rate),
                ])
            })
            .collect();
        b.push(Block::Table {
            head: [
                "level",
                "threshold",
                "target FPR",
                "false positives here",
                "detection here",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        });
    }
    b
}

/// The section's heading.
pub const TRANSFER_HEADING: &str = "Transfer: out-of-source and cross-era";

/// Leave one source out and the cross-era test; nothing when transfer was
/// not measured, one line when the training data holds no real source.
fn transfer(m: &MetricsFile) -> Vec<Block> {
    let Some(t) = &m.transfer else {
        return Vec::new();
    };
    let mut b = vec![Block::Heading(2, TRANSFER_HEADING.into())];
    if t.real_sources.is_empty() {
        b.push(Block::Paragraph(format!(
            "The model's training data holds no real source (all {} rows are synthetic), so there is no source to leave out and no real mail to test across eras.",
            t.synthetic_rows
        )));
        return b;
    }
    let level = t.default_level.as_str();
    b.push(Block::Paragraph(format!(
        "Leave one source out: each real source of the model's training data (a source none of whose rows is synthetic; one whose messages lie in per-list folders below their label folder, one folder at a time) is moved to the test role and the model retrained on the rest (training.parquet: the same features, rules, folds, seed and targets, the other rows keeping their roles; rows sharing a duplicate group with it held out too). Out of source: that model on all of the unit's rows. In source: the model of this report on the unit's rows of its test role, the same source's mail it never fitted on. Flagged at the default level ({level}), floors applied, with 95% Wilson intervals; the difference is out of source minus in source, in percentage points. metrics.json has every level."
    )));
    b.push(Block::Table {
        head: [
            "unit left out (ham, attacks)",
            "rate",
            "out of source",
            "in source (its test role)",
            "difference",
        ]
        .map(String::from)
        .to_vec(),
        rows: unit_rows(t),
    });
    let held: Vec<String> = t
        .units
        .iter()
        .filter(|u| u.held_out_with_group > 0)
        .map(|u| {
            format!(
                "without {}: {} rows of other sources held out with it (a shared duplicate group: a copy, or an attack injected into one of its messages)",
                u.unit.name, u.held_out_with_group
            )
        })
        .collect();
    if !held.is_empty() {
        b.push(Block::List(held));
    }
    b.push(Block::Paragraph(format!(
        "Across eras: rows dated before {cut} and from {cut} on, by their Date header. A model trained on one period's rows (their roles kept, the other period's rows removed, as are rows sharing a duplicate group with a tested row) judges the other period's real rows at the default level ({level}), per source. Synthetic rows fall in the period of their own date (an attack injected into real ham is dated just after its carrier; generated mail is dated 2024–2025): they train on their side and are never tested. Rows without a date ({undated}) are left out of both sides.",
        cut = t.era_cut,
        undated = t.undated_rows
    )));
    let mut rows = Vec::new();
    for e in &t.eras {
        let direction = format!("{} → {}", e.trained_on, e.tested_on);
        let trained = format!(
            "{} ({} synthetic{})",
            e.training_rows,
            e.training_synthetic,
            if e.held_out_with_group > 0 {
                format!("; {} held out with a tested group", e.held_out_with_group)
            } else {
                String::new()
            }
        );
        if let Some(why) = &e.not_trained {
            rows.push(vec![
                direction,
                trained,
                "—".into(),
                why.clone(),
                "—".into(),
            ]);
            continue;
        }
        // The total only when it adds up more than one source.
        let overall = (e.by_source.len() > 1).then_some(&e.overall);
        for s in e.by_source.iter().chain(overall) {
            rows.push(vec![
                direction.clone(),
                trained.clone(),
                s.source.clone(),
                cell_if(&s.false_positive_rate),
                cell_if(&s.detection_rate),
            ]);
        }
    }
    b.push(Block::Table {
        head: [
            "trained on → tested on",
            "training rows",
            "tested source",
            "false positives",
            "detection",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    b
}

/// A rate's cell, or — when its class is absent.
fn cell_if(r: &impostor_model::stats::Rate) -> String {
    if r.total == 0 {
        "—".into()
    } else {
        rate_cell(r)
    }
}

/// The leave-one-source-out table's rows: a unit's false positives when
/// it holds ham, its detection when it holds attacks.
fn unit_rows(t: &Transfer) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for u in &t.units {
        let name = format!("{} ({}, {})", u.unit.name, u.ham, u.attacks);
        if let Some(why) = &u.not_trained {
            rows.push(vec![name, "—".into(), why.clone(), "—".into(), "—".into()]);
            continue;
        }
        let Some(l) = u.at(t.default_level) else {
            continue;
        };
        for (what, c, n) in [
            ("false positives", &l.false_positive_rate, u.ham),
            ("detection", &l.detection_rate, u.attacks),
        ] {
            if n > 0 {
                rows.push(comparison_row(&name, what, c));
            }
        }
    }
    rows
}

fn comparison_row(name: &str, what: &str, c: &Comparison) -> Vec<String> {
    vec![
        name.to_string(),
        what.to_string(),
        rate_cell(&c.out_of_source),
        if c.in_source.total == 0 {
            "no test-role rows in source".into()
        } else {
            rate_cell(&c.in_source)
        },
        c.difference_points.map_or("—".into(), |d| {
            // Small differences keep a second decimal, so they do not read
            // as none.
            if d.abs() < 1.0 {
                format!("{d:+.2} points")
            } else {
                format!("{d:+.1} points")
            }
        }),
    ]
}

/// Every figure drawn, with its caption.
fn figures(m: &MetricsFile) -> Vec<Block> {
    let mut b = vec![Block::Heading(2, "Figures".into())];
    b.extend(m.figures.iter().map(|stem| Block::Figure {
        stem: stem.clone(),
        caption: figure_caption(stem),
    }));
    b
}

/// How the data was chosen, what was left out and why, and the notes.
fn data_and_splits(m: &MetricsFile) -> Vec<Block> {
    let mut b = vec![
        Block::Heading(2, "Data and splits".into()),
        Block::Paragraph(m.data.selection.clone()),
    ];
    if !m.data.excluded.is_empty() {
        b.push(Block::List(
            m.data
                .excluded
                .iter()
                .map(|(k, v)| format!("left out, {k}: {v}"))
                .collect(),
        ));
    }
    if !m.data.notes.is_empty() {
        b.push(Block::List(m.data.notes.clone()));
    }
    b
}

/// Each leakage check, passed or warned.
fn leakage_checks(m: &MetricsFile) -> Vec<Block> {
    vec![
        Block::Heading(2, "Leakage checks".into()),
        Block::List(
            m.leakage
                .iter()
                .map(|c| {
                    format!(
                        "{} {}: {}",
                        if c.passed { "PASS" } else { "WARN" },
                        c.name,
                        c.result
                    )
                })
                .collect(),
        ),
    ]
}

/// What each detector is, what it could not judge, which were skipped,
/// and how throughput was measured.
fn detectors(m: &MetricsFile) -> Vec<Block> {
    let mut list: Vec<String> = m
        .detectors
        .iter()
        .map(|d| {
            let mut s = format!("{}: {}", d.name, d.description);
            if d.errors > 0 {
                let _ = write!(
                    s,
                    " Could not judge {} messages (e.g. {}).",
                    d.errors,
                    d.error_examples.first().map_or("", String::as_str)
                );
            }
            s
        })
        .collect();
    list.extend(
        m.skipped
            .iter()
            .map(|s| format!("{}: skipped: {}", s.detector, s.reason)),
    );
    vec![
        Block::Heading(2, "Detectors".into()),
        Block::List(list),
        Block::Paragraph(format!(
            "Throughput is messages per second per thread: the messages divided by the time spent judging them, {} threads scoring at once. In-process detectors include the feature extraction they read; peers include a loopback round trip, and share the machine with each other and with the scoring threads, so on a small machine they run slower here than alone.",
            m.concurrency
        )),
    ]
}

/// What a figure shows, from its stem.
pub fn figure_caption(stem: &str) -> String {
    match stem {
        "roc" => "ROC curves (false-positive rate on a log scale); markers: each detector's own decision.".into(),
        "precision_recall" => "Precision–recall curves.".into(),
        "calibration" => "Calibration of Impostor's score: predicted probability against the observed share of attacks, per bin.".into(),
        s if s.starts_with("techniques_") => format!(
            "Detection per technique with 95% intervals ({}).",
            s.trim_start_matches("techniques_")
        ),
        s if s.starts_with("histogram_") => format!(
            "Scores of ham and attacks: {}.",
            s.trim_start_matches("histogram_")
        ),
        s => s.to_string(),
    }
}
