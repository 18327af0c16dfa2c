//! Replay: a corpus judged in date order, each message against what was
//! known strictly before it (after the delay), then learnt: evaluation
//! and training with no knowledge from the future.

use crate::{CheckedHistoryParams, History, HistoryError};
use impostor_features::sender_history::{HistorySnapshot, MessageFacts};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// One message of a replay.
#[derive(Clone, Debug)]
pub struct ReplayItem {
    /// Which organisation's mail it is: each group is replayed on its
    /// own store (a corpus, or one organisation's folder of it).
    pub group: String,
    /// Its facts; `None` for a message that could not be parsed (it is
    /// skipped, and learns nothing).
    pub facts: Option<MessageFacts>,
}

/// Replays `items`: within each group in date order (undated messages
/// after the dated ones, in input order), `judge(i, facts, snapshot)`
/// sees item `i` with what a fresh in-memory store knew before it, then
/// the message is learnt (unflagged: a replay never reads labels). Groups
/// run in parallel on the current rayon pool. Returns `judge`'s results in
/// input order (`None` for items without facts).
pub fn replay<T: Send>(
    items: &[ReplayItem],
    params: &CheckedHistoryParams,
    judge: &(dyn Fn(usize, &MessageFacts, &HistorySnapshot) -> T + Sync),
) -> Result<Vec<Option<T>>, HistoryError> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        if item.facts.is_some() {
            groups.entry(item.group.as_str()).or_default().push(i);
        }
    }
    let done: Vec<Vec<(usize, T)>> = groups
        .into_par_iter()
        .map(|(_, mut order)| {
            order.sort_by_key(|&i| {
                let time = items
                    .get(i)
                    .and_then(|item| item.facts.as_ref())
                    .and_then(|f| f.time);
                (time.is_none(), time.unwrap_or(0), i)
            });
            let history = History::memory(params.clone());
            let mut out = Vec::with_capacity(order.len());
            for i in order {
                let Some(facts) = items.get(i).and_then(|item| item.facts.as_ref()) else {
                    continue;
                };
                let snapshot = history.snapshot(facts)?;
                out.push((i, judge(i, facts, &snapshot)));
                history.observe(facts, false)?;
            }
            Ok(out)
        })
        .collect::<Result<_, HistoryError>>()?;
    let mut results: Vec<Option<T>> = (0..items.len()).map(|_| None).collect();
    for (i, t) in done.into_iter().flatten() {
        if let Some(slot) = results.get_mut(i) {
            *slot = Some(t);
        }
    }
    Ok(results)
}

/// The replay group of a message: its source, and below a generated
/// corpus's `timeline/` folder a group of its own (a simulated
/// organisation beside the corpus's other mail).
pub fn replay_group(source: &str, member: Option<&str>) -> String {
    match member.and_then(|m| m.split_once('/')) {
        Some(("timeline", _)) => format!("{source}/timeline"),
        _ => source.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HistoryParams;

    fn facts(sender: &str, time: i64) -> Option<MessageFacts> {
        Some(MessageFacts {
            time: Some(time),
            sender_key: Some(sender.into()),
            ..MessageFacts::default()
        })
    }

    #[test]
    fn each_message_sees_only_what_was_learnt_a_delay_before_it() {
        let params = HistoryParams {
            delay_secs: 100,
            ..HistoryParams::default()
        }
        .check()
        .unwrap();
        // Given out of order: the replay sorts by time within the group.
        let items = vec![
            ReplayItem {
                group: "a".into(),
                facts: facts("x.com", 1_000),
            },
            ReplayItem {
                group: "a".into(),
                facts: facts("x.com", 0),
            },
            ReplayItem {
                group: "a".into(),
                facts: facts("x.com", 50),
            },
            ReplayItem {
                group: "b".into(),
                facts: facts("x.com", 5_000),
            },
            ReplayItem {
                group: "a".into(),
                facts: None,
            },
        ];
        let seen = replay(&items, &params, &|_, _, s| {
            (
                s.learned_messages,
                s.sender.as_ref().map_or(0, |p| p.inbound),
            )
        })
        .unwrap();
        assert_eq!(seen[1], Some((0, 0)));
        // 50 s after the first: still inside its delay.
        assert_eq!(seen[2], Some((0, 0)));
        assert_eq!(seen[0], Some((2, 2)));
        // Another organisation starts empty.
        assert_eq!(seen[3], Some((0, 0)));
        assert_eq!(seen[4], None);
    }
}
