//! The benchmark report: `metrics.json`, `scores.csv`, the figures (PNG
//! and SVG), `report.md` and `report.html` (figures inline), written into
//! one directory whole or not at all.
//!
//! Both documents render one outline ([`Block`]s), so the Markdown and the
//! HTML never disagree. Nothing here is timed or dated: a rerun on the
//! same data writes the same numbers (throughput aside, which is measured).

use crate::error::EvalError;
use crate::metrics::{
    detector_metrics, technique_key, Cut, DetectorMetrics, DetectorScores, Item, PointSpec,
    SliceMetrics,
};
use impostor_model::atomic::{self, StagedDir, WriteError};
use impostor_model::stats::rates::Rate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// The model evaluated, as the report names it.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    /// Its directory, or "built in".
    pub source: String,
    pub manifest_sha256: String,
    pub default_level: String,
    pub levels: Vec<LevelInfo>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LevelInfo {
    pub name: String,
    pub threshold: f64,
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
    pub notes: Vec<String>,
}

/// One leakage check and what it found.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub name: String,
    pub result: String,
    pub passed: bool,
}

/// A detector that was asked for but not run, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub detector: String,
    pub reason: String,
}

/// Everything a report is made of.
pub struct ReportInput {
    pub title: String,
    /// The command that produced the report (to reproduce it).
    pub command: String,
    pub model: Option<ModelInfo>,
    pub data: DataInfo,
    pub leakage: Vec<Check>,
    pub skipped: Vec<Skipped>,
    pub items: Vec<Item>,
    pub scores: Vec<DetectorScores>,
    pub points: Vec<PointSpec>,
    /// Threads scoring at once (throughput is per thread).
    pub concurrency: usize,
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
    pub messages: u64,
    pub ham: u64,
    pub attacks: u64,
    pub selection: String,
    pub excluded: BTreeMap<String, u64>,
    pub notes: Vec<String>,
    /// Per source: messages per label, and how many are synthetic.
    pub by_source: BTreeMap<String, BTreeMap<String, u64>>,
    /// Attacks per technique (`none`: real phishing and BEC).
    pub attacks_by_technique: BTreeMap<String, u64>,
}

/// `metrics.json`.
#[derive(Clone, Debug, Serialize)]
pub struct MetricsFile {
    pub format: &'static str,
    pub version: u32,
    pub title: String,
    pub command: String,
    pub model: Option<ModelInfo>,
    pub data: DataSummary,
    pub leakage: Vec<Check>,
    pub skipped: Vec<Skipped>,
    /// Operating points by name, with how each is set.
    pub operating_points: BTreeMap<String, String>,
    pub concurrency: usize,
    pub detectors: Vec<DetectorMetrics>,
    /// Figure files (stems; each has .png and .svg).
    pub figures: Vec<String>,
}

pub const METRICS_FILE: &str = "metrics.json";

/// One piece of the report's outline.
#[derive(Clone, Debug)]
pub enum Block {
    Heading(u8, String),
    Paragraph(String),
    List(Vec<String>),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A figure's file stem (PNG and SVG beside the report) and caption.
    Figure {
        stem: String,
        caption: String,
    },
    /// Preformatted text (a command).
    Code(String),
}

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

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.digits$}"))
}

fn point<'a>(d: &'a DetectorMetrics, name: &str) -> Option<&'a crate::metrics::PointMetrics> {
    d.points.iter().find(|p| p.name == name)
}

/// The report's outline.
pub fn outline(input: &ReportInput, m: &MetricsFile) -> Vec<Block> {
    let mut b = Vec::new();
    b.push(Block::Heading(1, m.title.clone()));
    b.push(Block::Paragraph(format!(
        "{} messages evaluated: {} ham and {} attacks. Every detector judged the same messages in one run. Rates carry 95% Wilson intervals, ROC and PR AUC 95% bootstrap intervals ({} stratified resamples, seed {}).",
        m.data.messages,
        m.data.ham,
        m.data.attacks,
        crate::metrics::BOOTSTRAP_RESAMPLES,
        crate::metrics::BOOTSTRAP_SEED
    )));
    b.push(Block::Paragraph("Reproduce with:".into()));
    b.push(Block::Code(m.command.clone()));

    // Summary at each detector's own decision.
    b.push(Block::Heading(2, "Summary".into()));
    let mut rows = Vec::new();
    for d in &m.detectors {
        let native = point(d, "native");
        rows.push(vec![
            d.name.clone(),
            native.map_or("—".into(), |p| rate_cell(&p.overall.false_positive_rate)),
            native.map_or("—".into(), |p| rate_cell(&p.overall.detection_rate)),
            native.map_or("—".into(), |p| rate_cell(&p.overall.precision)),
            native.map_or("—".into(), |p| opt(p.overall.f1, 3)),
            match (d.ranking.roc_auc, d.ranking.roc_auc_ci95) {
                (Some(a), Some(ci)) => format!("{a:.4} [{:.4}–{:.4}]", ci.low, ci.high),
                (a, _) => opt(a, 4),
            },
            match (d.ranking.pr_auc, d.ranking.pr_auc_ci95) {
                (Some(a), Some(ci)) => format!("{a:.4} [{:.4}–{:.4}]", ci.low, ci.high),
                (a, _) => opt(a, 4),
            },
            opt(d.messages_per_second, 0),
            d.errors.to_string(),
        ]);
    }
    b.push(Block::Table {
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
    });
    b.push(Block::Paragraph(
        "A detector without a decision of its own (the ablations) shows —; compare it at matched false-positive rates below. A message a detector could not judge counts as not flagged.".into(),
    ));

    // Matched false-positive rates.
    let matched: Vec<&PointSpec> = input
        .points
        .iter()
        .filter(|p| matches!(p.cut, Cut::MatchedFpr(_)))
        .collect();
    if !matched.is_empty() {
        b.push(Block::Heading(2, "At matched false-positive rates".into()));
        b.push(Block::Paragraph(
            "Each detector's threshold is set, on the evaluated ham itself, so that it flags at most the stated share of it; then its detection rate is read. This compares how well the detectors rank mail, at equal false-positive rates; the thresholds are not deployable settings.".into(),
        ));
        let mut head = vec!["detector".to_string()];
        for p in &matched {
            head.push(format!("{}: false positives", p.name));
            head.push(format!("{}: detection", p.name));
        }
        let rows = m
            .detectors
            .iter()
            .map(|d| {
                let mut row = vec![d.name.clone()];
                for p in &matched {
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
        b.push(Block::Table { head, rows });
    }

    // Per technique.
    let techniques: Vec<String> = m.data.attacks_by_technique.keys().cloned().collect();
    let mut per_technique = |name: &str, title: String| {
        let with: Vec<&DetectorMetrics> = m
            .detectors
            .iter()
            .filter(|d| point(d, name).is_some())
            .collect();
        if with.is_empty() || techniques.is_empty() {
            return;
        }
        b.push(Block::Heading(2, title));
        let mut head = vec!["technique (attacks)".to_string()];
        head.extend(with.iter().map(|d| d.name.clone()));
        let mut rows: Vec<Vec<String>> = techniques
            .iter()
            .map(|t| {
                let mut row = vec![format!("{t} ({})", m.data.attacks_by_technique[t])];
                for d in &with {
                    let p = point(d, name).expect("filtered above");
                    row.push(
                        p.by_technique
                            .get(t)
                            .map_or("—".into(), |s| rate_cell(&s.detection_rate)),
                    );
                }
                row
            })
            .collect();
        let mut fp_row = vec![format!("false positives on ham ({})", m.data.ham)];
        for d in &with {
            fp_row.push(rate_cell(
                &point(d, name)
                    .expect("filtered")
                    .overall
                    .false_positive_rate,
            ));
        }
        rows.push(fp_row);
        b.push(Block::Table { head, rows });
    };
    per_technique(
        "native",
        "Detection per technique, each detector at its own decision".into(),
    );
    if let Some(p) = matched.last() {
        per_technique(
            &p.name,
            format!(
                "Detection per technique at matched false-positive rate ({})",
                p.name
            ),
        );
    }
    b.push(Block::Paragraph(
        "Technique `none` is real phishing and BEC, which carry no technique label; the others are attacks injected by `impostor gen`.".into(),
    ));

    // Per source.
    b.push(Block::Heading(
        2,
        "Per source, each detector at its own decision".into(),
    ));
    let with: Vec<&DetectorMetrics> = m
        .detectors
        .iter()
        .filter(|d| point(d, "native").is_some())
        .collect();
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
    b.push(Block::Table { head, rows });

    // Real against synthetic.
    b.push(Block::Heading(2, "Real and synthetic mail".into()));
    let mut rows = Vec::new();
    for d in &with {
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
    b.push(Block::Table {
        head: ["detector", "origin", "false positives", "detection"]
            .map(String::from)
            .to_vec(),
        rows,
    });

    // The model's levels.
    if let Some(model) = &m.model {
        b.push(Block::Heading(2, "Impostor's levels".into()));
        b.push(Block::Paragraph(format!(
            "Model {} (manifest SHA-256 {}); default level {}. Thresholds were chosen on the model's validation role, never on this data.",
            model.source, model.manifest_sha256, model.default_level
        )));
        if let Some(d) = m.detectors.iter().find(|d| d.name == "impostor") {
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
    }

    b.push(Block::Heading(2, "Figures".into()));
    for stem in &m.figures {
        b.push(Block::Figure {
            stem: stem.clone(),
            caption: figure_caption(stem),
        });
    }

    b.push(Block::Heading(2, "Data and splits".into()));
    b.push(Block::Paragraph(m.data.selection.clone()));
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

    b.push(Block::Heading(2, "Leakage checks".into()));
    b.push(Block::List(
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
    ));

    b.push(Block::Heading(2, "Detectors".into()));
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
    b.push(Block::List(list));
    b.push(Block::Paragraph(format!(
        "Throughput is messages per second per thread: the messages divided by the time spent judging them, {} threads scoring at once. In-process detectors include the feature extraction they read; peers include a loopback round trip, and share the machine with each other and with the scoring threads, so on a small machine they run slower here than alone.",
        m.concurrency
    )));
    b
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

/// Markdown.
pub fn render_markdown(blocks: &[Block]) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {text}\n", "#".repeat(*level as usize));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::List(items) => {
                for i in items {
                    let _ = writeln!(out, "- {i}");
                }
                out.push('\n');
            }
            Block::Table { head, rows } => {
                let _ = writeln!(
                    out,
                    "| {} |",
                    head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
                );
                let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
                for r in rows {
                    let _ = writeln!(
                        out,
                        "| {} |",
                        r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
                    );
                }
                out.push('\n');
            }
            Block::Figure { stem, caption } => {
                let _ = writeln!(
                    out,
                    "![{caption}]({stem}.png)\n\n{caption} ([SVG]({stem}.svg))\n"
                );
            }
            Block::Code(text) => {
                let _ = writeln!(out, "```\n{text}\n```\n");
            }
        }
    }
    out
}

fn esc(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

/// HTML, one self-contained file: each figure's PNG inline as a data URI,
/// linked to its SVG beside it.
pub fn render_html(blocks: &[Block], title: &str, png: &dyn Fn(&str) -> Option<Vec<u8>>) -> String {
    use base64::Engine as _;
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\nbody{{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}}\ntable{{border-collapse:collapse;margin:1em 0;font-size:0.9em}}\nth,td{{border:1px solid #ccc;padding:0.3em 0.6em;text-align:left;vertical-align:top}}\nth{{background:#f2f2f2}}\nfigure{{margin:1.5em 0}}\nimg{{max-width:100%}}\npre{{background:#f6f6f6;padding:0.8em;overflow-x:auto}}\n</style>\n</head>\n<body>\n",
        esc(title)
    );
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", esc(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", esc(text));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    let _ = writeln!(out, "<li>{}</li>", esc(i));
                }
                out.push_str("</ul>\n");
            }
            Block::Table { head, rows } => {
                out.push_str("<table>\n<tr>");
                for h in head {
                    let _ = write!(out, "<th>{}</th>", esc(h));
                }
                out.push_str("</tr>\n");
                for r in rows {
                    out.push_str("<tr>");
                    for c in r {
                        let _ = write!(out, "<td>{}</td>", esc(c));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Figure { stem, caption } => {
                let src = png(stem).map_or_else(
                    || format!("{}.png", esc(stem)),
                    |bytes| {
                        format!(
                            "data:image/png;base64,{}",
                            base64::engine::general_purpose::STANDARD.encode(bytes)
                        )
                    },
                );
                let _ = writeln!(
                    out,
                    "<figure>\n<a href=\"{s}.svg\"><img src=\"{src}\" alt=\"{c}\"></a>\n<figcaption>{c} (<a href=\"{s}.svg\">SVG</a>)</figcaption>\n</figure>",
                    s = esc(stem),
                    c = esc(caption)
                );
            }
            Block::Code(text) => {
                let _ = writeln!(out, "<pre><code>{}</code></pre>", esc(text));
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// `scores.csv`: one row per message, each detector's score, decision,
/// error and hits beside the message's labels.
pub fn scores_csv(items: &[Item], scores: &[DetectorScores]) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = String::from("id,source,label,attack,technique,synthetic");
    for d in scores {
        let n = &d.name;
        let _ = write!(out, ",{n}_score,{n}_flagged,{n}_error,{n}_hits");
    }
    out.push('\n');
    for (i, it) in items.iter().enumerate() {
        let _ = write!(
            out,
            "{},{},{},{},{},{}",
            field(&it.id),
            field(&it.source),
            field(&it.label),
            it.attack,
            field(it.technique.as_deref().unwrap_or("")),
            it.synthetic
        );
        for d in scores {
            let _ = write!(
                out,
                ",{},{},{},{}",
                d.scores[i].map_or(String::new(), |s| format!("{s}")),
                d.flagged[i].map_or(String::new(), |f| f.to_string()),
                field(d.errors[i].as_deref().unwrap_or("")),
                field(&d.hits[i].join(" "))
            );
        }
        out.push('\n');
    }
    out
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
