//! `scores.csv`: every message's scores beside its labels.

use crate::metrics::{DetectorScores, Item};
use std::fmt::Write as _;

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
