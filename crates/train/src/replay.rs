//! History features for a corpus: messages replayed in date order per
//! organisation ([`impostor_history::replay`]), each row's vector given
//! the `history_*` values of what was known strictly before it.

use crate::feature_table::FeatureRow;
use impostor_corpus::ManifestRow;
use impostor_features::sender_history::{self, MessageFacts};
use impostor_features::Context;
use impostor_history::{replay, replay_group, CheckedHistoryParams, HistoryError, ReplayItem};
use std::collections::HashMap;

/// The organisation whose mail stream each manifest row belongs to, for a
/// replay; `None`: the row gets no history.
///
/// Real mail: its source. A generated corpus's `timeline/`: a simulated
/// organisation of its own. An attack injected into a real carrier: its
/// carrier's stream (it arrives among that organisation's mail, at the
/// carrier's date). Other generated mail: none, because its generator
/// gives senders no habits (random hours, networks and threads), so a
/// history of it would teach noise.
pub fn replay_groups(rows: &[ManifestRow]) -> Vec<Option<String>> {
    let by_sha1: HashMap<&str, &ManifestRow> = rows
        .iter()
        .filter_map(|r| Some((r.sha1.as_deref()?, r)))
        .collect();
    rows.iter()
        .map(|r| {
            let group = replay_group(&r.source, r.member.as_deref());
            if group != r.source || !r.synthetic {
                return Some(group);
            }
            let carrier = by_sha1.get(r.carrier_sha1.as_deref()?)?;
            (!carrier.synthetic).then(|| carrier.source.clone())
        })
        .collect()
}

/// Sets the history features of `rows` (in place) by replaying them:
/// `groups[i]` is row i's organisation (`None`: no history), `facts[i]`
/// its facts (`None`: not parsed, left alone). Rows without values are
/// skipped. Returns how many rows got history.
pub fn replay_rows(
    rows: &mut [FeatureRow],
    groups: Vec<Option<String>>,
    facts: Vec<Option<MessageFacts>>,
    ctx: &Context,
    params: &CheckedHistoryParams,
) -> Result<usize, HistoryError> {
    let items: Vec<ReplayItem> = groups
        .into_iter()
        .zip(facts)
        .zip(rows.iter())
        .map(|((group, facts), row)| ReplayItem {
            facts: facts.filter(|_| row.values.is_some() && group.is_some()),
            group: group.unwrap_or_default(),
        })
        .collect();
    let read: &[FeatureRow] = rows;
    let patched = replay(&items, params, &|i, facts, snapshot| {
        let mut vector = read[i].values.clone().unwrap_or_default();
        let mut evidence = Vec::new();
        sender_history::extract(facts, snapshot, ctx, &mut vector, &mut evidence);
        let techniques: Vec<_> = evidence.iter().filter_map(|e| e.technique).collect();
        (vector, techniques)
    })?;
    let mut done = 0;
    for (row, patch) in rows.iter_mut().zip(patched) {
        if let Some((vector, techniques)) = patch {
            row.values = Some(vector);
            for t in techniques {
                if !row.techniques.contains(&t) {
                    row.techniques.push(t);
                }
            }
            row.techniques.sort();
            done += 1;
        }
    }
    Ok(done)
}
