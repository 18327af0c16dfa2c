//! The manifest summary: counts per source and label, duplicates, the
//! leakage controls in force, and the source probe's warnings.

use super::duplicates::{duplicate_group_sizes, DuplicateCounts};
use super::label::Label;
use super::manifest::Index;
use super::probe::{separability, Separability};
use serde::Serialize;
use std::collections::BTreeMap;

/// Above this AUC two sources of one label count as told apart.
pub const PROBE_WARNING_AUC: f64 = 0.7;
/// A source needs this many messages of a label to be probed.
const PROBE_MIN_MESSAGES: usize = 50;

/// One probe: two sources of one label.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeReport {
    /// The label both sides carry.
    pub label: Label,
    /// One source (the probe's negatives).
    pub source_a: String,
    /// The other (its positives).
    pub source_b: String,
    /// How well surface alone tells them apart.
    #[serde(flatten)]
    pub result: Separability,
}

/// What `impostor corpus index` reports about a corpus.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Rows of the manifest.
    pub messages: usize,
    /// Messages that could not be read or parsed (kept in the manifest with
    /// their error).
    pub errors: usize,
    /// Messages per source and label ("unlabelled" where no rule said).
    pub counts: BTreeMap<String, BTreeMap<String, usize>>,
    /// Generated messages.
    pub synthetic: usize,
    /// What joined the duplicate groups.
    pub duplicates: DuplicateCounts,
    /// Groups of more than one message.
    pub duplicate_groups: usize,
    /// Messages in those groups.
    pub messages_in_duplicate_groups: usize,
    /// What keeps the source from leaking into features.
    pub leakage_controls: Vec<String>,
    /// Each pair of sources of one label with at least 50 readable
    /// messages each.
    pub source_probe: Vec<ProbeReport>,
    /// What a reader must know before trusting results: unlabelled
    /// messages, sources told apart above [`PROBE_WARNING_AUC`], probes
    /// that failed.
    pub warnings: Vec<String>,
}

/// Summarises an index; `hidden_headers` are the verdict-header patterns
/// feature extraction never reads.
pub fn summarise(index: &Index, hidden_headers: &[String], seed: u64) -> Summary {
    let rows = &index.rows;
    let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for r in rows {
        let label = r.label.map_or("unlabelled", Label::as_str);
        *counts
            .entry(r.source.clone())
            .or_default()
            .entry(label.to_string())
            .or_default() += 1;
    }
    let (duplicate_groups, in_groups) = duplicate_group_sizes(rows);
    let mut warnings = Vec::new();
    let unlabelled = rows.iter().filter(|r| r.label.is_none()).count();
    if unlabelled > 0 {
        warnings.push(format!(
            "{unlabelled} message(s) have no label: keep them under ham/, spam/, phish/ or bec/ folders, or give --labels"
        ));
    }
    let mut source_probe = Vec::new();
    for label in Label::ALL {
        // Surfaces of each source's messages of this label, in source order.
        let mut by_source: BTreeMap<&str, Vec<Vec<f64>>> = BTreeMap::new();
        for (r, s) in rows.iter().zip(&index.surfaces) {
            if r.label == Some(label) && r.error.is_none() {
                by_source
                    .entry(r.source.as_str())
                    .or_default()
                    .push(s.clone());
            }
        }
        by_source.retain(|_, v| v.len() >= PROBE_MIN_MESSAGES);
        let sources: Vec<&str> = by_source.keys().copied().collect();
        for (i, a) in sources.iter().enumerate() {
            for b in &sources[i + 1..] {
                match separability(&by_source[a], &by_source[b], seed) {
                    Ok(result) => {
                        if result.auc > PROBE_WARNING_AUC {
                            warnings.push(format!(
                                "source probe: {label} of {a} and of {b} are told apart by surface alone (AUC {:.2}, balanced accuracy {:.2}); a model may learn the source: report per-source metrics and prefer leave-one-source-out splits",
                                result.auc, result.balanced_accuracy
                            ));
                        }
                        source_probe.push(ProbeReport {
                            label,
                            source_a: a.to_string(),
                            source_b: b.to_string(),
                            result,
                        });
                    }
                    Err(e) => {
                        warnings.push(format!("source probe of {label} ({a} vs {b}) failed: {e}"))
                    }
                }
            }
        }
    }
    Summary {
        messages: rows.len(),
        errors: rows.iter().filter(|r| r.error.is_some()).count(),
        counts,
        synthetic: rows.iter().filter(|r| r.synthetic).count(),
        duplicates: index.duplicates,
        duplicate_groups,
        messages_in_duplicate_groups: in_groups,
        leakage_controls: vec![
            format!(
                "receiving filters' verdict headers are never read by feature extraction ({} patterns: {})",
                hidden_headers.len(),
                hidden_headers.join(", ")
            ),
            "recipients (To, Cc, Delivered-To) are read by no feature; `impostor gen` rewrites them to the org's mailboxes in every class it writes".into(),
            "an mbox \"From \" line is not taken as the envelope sender unless asked (--trust-mbox-envelope)".into(),
            "duplicate groups (same bytes, Message-ID or body) never straddle a split".into(),
        ],
        source_probe,
        warnings,
    }
}
