//! Train / test splits that keep every duplicate group on one side, each
//! recorded with the rule that made it.

use super::manifest::ManifestRow;
use crate::error::CorpusError;
use impostor_model::atomic::write_file;
use polars::prelude::*;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// How messages are divided.
#[derive(Clone, Debug, PartialEq)]
pub enum SplitRule {
    /// Test: groups with any message dated on or after `date`
    /// (`YYYY-MM-DD`); undated messages train.
    Time {
        /// The first day held out.
        date: String,
    },
    /// Test: every message of `source` (leave one source out).
    Source {
        /// The source held out, as in [`ManifestRow::source`].
        source: String,
    },
    /// Test: about `fraction` of the groups, chosen by a seeded hash of
    /// the group id.
    Hash {
        /// Expected share of groups held out, in [0, 1].
        fraction: f64,
        /// Seed of the hash: the same seed, the same split.
        seed: u64,
    },
    /// Time for some sources, another rule for the rest: each
    /// `(source, date)` holds out that source's groups dated on or after
    /// `date`. For corpora of different eras (2002 ham, 2025 phishing) a
    /// single cut would hold out one class whole.
    TimeFor {
        /// `(source, YYYY-MM-DD)`: that source's first day held out.
        cuts: Vec<(String, String)>,
        /// The rule for sources without a cut.
        otherwise: Box<SplitRule>,
    },
}

impl fmt::Display for SplitRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitRule::Time { date } => write!(
                f,
                "time: test = groups with a message dated on or after {date}"
            ),
            SplitRule::Source { source } => write!(f, "source: test = source {source}"),
            SplitRule::Hash { fraction, seed } => {
                write!(f, "hash: test = groups whose xxh3(group, seed {seed}) / 2^64 falls below {fraction}")
            }
            SplitRule::TimeFor { cuts, otherwise } => {
                for (source, date) in cuts {
                    write!(
                        f,
                        "time for {source}: test = its messages dated on or after {date}; "
                    )?;
                }
                write!(f, "the other sources by {otherwise}")
            }
        }
    }
}

/// Which side a message is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Fitted on.
    Train,
    /// Held out, measured on.
    Test,
}

impl Side {
    /// `train` or `test`, as written in a split file.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Train => "train",
            Side::Test => "test",
        }
    }
}

/// Each row's side under `rule`; all rows of a group share one.
pub fn assign(rows: &[ManifestRow], rule: &SplitRule) -> Result<Vec<Side>, CorpusError> {
    check(rule)?;
    let mut group_side: HashMap<&str, Side> = HashMap::new();
    for r in rows {
        let test = held_out(r, rule);
        let side = group_side.entry(r.group.as_str()).or_insert(Side::Train);
        if test {
            *side = Side::Test;
        }
    }
    Ok(rows.iter().map(|r| group_side[r.group.as_str()]).collect())
}

fn check(rule: &SplitRule) -> Result<(), CorpusError> {
    let check_date = |date: &str| {
        let ok = date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-';
        if ok {
            Ok(())
        } else {
            Err(CorpusError::Invalid(format!(
                "{date:?} is not a date; write YYYY-MM-DD"
            )))
        }
    };
    match rule {
        SplitRule::Hash { fraction, .. } if !(0.0..=1.0).contains(fraction) => Err(
            CorpusError::Invalid(format!("test fraction {fraction} is not between 0 and 1")),
        ),
        SplitRule::Time { date } => check_date(date),
        SplitRule::TimeFor { cuts, otherwise } => {
            for (_, date) in cuts {
                check_date(date)?;
            }
            check(otherwise)
        }
        _ => Ok(()),
    }
}

/// Whether one message, by itself, is held out under `rule`.
fn held_out(r: &ManifestRow, rule: &SplitRule) -> bool {
    match rule {
        // ISO dates compare as text.
        SplitRule::Time { date } => r.date.as_deref().is_some_and(|d| d >= date.as_str()),
        SplitRule::Source { source } => r.source == *source,
        SplitRule::Hash { fraction, seed } => hash_unit(*seed, &r.group) < *fraction,
        SplitRule::TimeFor { cuts, otherwise } => match cuts.iter().find(|(s, _)| *s == r.source) {
            Some((_, date)) => r.date.as_deref().is_some_and(|d| d >= date.as_str()),
            None => held_out(r, otherwise),
        },
    }
}

/// A number in [0, 1) from the seed and the group id.
fn hash_unit(seed: u64, group: &str) -> f64 {
    (xxh3_64_with_seed(group.as_bytes(), seed) >> 11) as f64 / (1u64 << 53) as f64
}

/// Writes `id, group, split, rule` as Parquet, atomically.
pub fn write_split(
    rows: &[ManifestRow],
    sides: &[Side],
    rule: &SplitRule,
    path: &Path,
) -> Result<(), CorpusError> {
    let table = |source: PolarsError| CorpusError::Parquet {
        path: path.to_path_buf(),
        hint: "a split written by `impostor corpus split`",
        source,
    };
    let rule_text = rule.to_string();
    let mut df = DataFrame::new(
        rows.len(),
        vec![
            Column::new(
                "id".into(),
                rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "group".into(),
                rows.iter().map(|r| r.group.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "split".into(),
                sides.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ),
            Column::new("rule".into(), vec![rule_text.as_str(); rows.len()]),
        ],
    )
    .map_err(table)?;
    write_file(path, |w| {
        ParquetWriter::new(w)
            .finish(&mut df)
            .map(|_| ())
            .map_err(table)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duplicates::tests::row;

    fn rows() -> Vec<ManifestRow> {
        let mut rows: Vec<ManifestRow> = (0..200)
            .map(|i| row(&format!("m{i}"), &i.to_string(), None, None))
            .collect();
        for (i, r) in rows.iter_mut().enumerate() {
            r.group = format!("m{}", i - i % 2);
            r.date = Some(format!("2020-01-{:02}", 1 + i % 28));
            r.source = if i < 50 { "a".into() } else { "b".into() };
        }
        rows
    }

    fn groups_intact(rows: &[ManifestRow], sides: &[Side]) -> bool {
        rows.chunks(2)
            .zip(sides.chunks(2))
            .all(|(_, s)| s[0] == s[1])
    }

    #[test]
    fn every_rule_keeps_groups_together() {
        let rows = rows();
        for rule in [
            SplitRule::Time {
                date: "2020-01-15".into(),
            },
            SplitRule::Source { source: "a".into() },
            SplitRule::Hash {
                fraction: 0.3,
                seed: 9,
            },
        ] {
            let sides = assign(&rows, &rule).unwrap();
            assert!(groups_intact(&rows, &sides), "{rule}");
            let test = sides.iter().filter(|s| **s == Side::Test).count();
            assert!(test > 0 && test < rows.len(), "{rule}: {test}");
        }
        // A group straddling the cut goes to test whole: m26 is dated the
        // 27th, its partner m27 the 28th.
        let sides = assign(
            &rows,
            &SplitRule::Time {
                date: "2020-01-28".into(),
            },
        )
        .unwrap();
        assert_eq!((sides[26], sides[27]), (Side::Test, Side::Test));
        let hashed = assign(
            &rows,
            &SplitRule::Hash {
                fraction: 0.3,
                seed: 9,
            },
        )
        .unwrap();
        let share = hashed.iter().filter(|s| **s == Side::Test).count() as f64 / 200.0;
        assert!((0.15..0.45).contains(&share), "{share}");
        assert!(assign(
            &rows,
            &SplitRule::Hash {
                fraction: 1.5,
                seed: 1
            }
        )
        .is_err());
        assert!(assign(
            &rows,
            &SplitRule::Time {
                date: "May 2020".into()
            }
        )
        .is_err());
    }

    #[test]
    fn time_for_one_source_and_hash_for_the_rest() {
        let rows = rows();
        let rule = SplitRule::TimeFor {
            cuts: vec![("a".into(), "2020-01-20".into())],
            otherwise: Box::new(SplitRule::Hash {
                fraction: 0.5,
                seed: 3,
            }),
        };
        let sides = assign(&rows, &rule).unwrap();
        assert!(groups_intact(&rows, &sides));
        for (i, (r, side)) in rows.iter().zip(&sides).enumerate().step_by(2) {
            if r.source == "a" {
                // Either message of the pair dated on or after the 20th
                // holds the pair out.
                let late = [i, i + 1]
                    .iter()
                    .any(|&j| rows[j].date.as_deref().unwrap() >= "2020-01-20");
                assert_eq!(*side == Side::Test, late, "{}", r.id);
            }
        }
        let b_test = rows
            .iter()
            .zip(&sides)
            .filter(|(r, s)| r.source == "b" && **s == Side::Test)
            .count();
        assert!((40..110).contains(&b_test), "{b_test} of 150");
        assert!(rule.to_string().starts_with("time for a: "), "{rule}");
        let bad = SplitRule::TimeFor {
            cuts: vec![("a".into(), "2020".into())],
            otherwise: Box::new(SplitRule::Source { source: "b".into() }),
        };
        assert!(assign(&rows, &bad).is_err());
    }
}
