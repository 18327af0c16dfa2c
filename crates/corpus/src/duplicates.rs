//! Duplicate groups: messages that are the same bytes, carry the same
//! Message-ID or have near-identical bodies belong together, transitively,
//! so no split can put one copy in training and another in test.

use super::manifest::ManifestRow;
use std::collections::HashMap;

/// Why two messages share a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DuplicateCounts {
    /// Messages whose bytes equal an earlier message's.
    pub same_bytes: usize,
    /// Messages whose Message-ID (ignoring case) equals an earlier one's.
    pub same_message_id: usize,
    /// Messages whose body hash equals an earlier one's.
    pub same_body: usize,
    /// Injected attacks joined to the real message they were made from.
    pub same_carrier: usize,
}

/// Sets every row's `group` to the id of the first row (in manifest order)
/// of its group, and returns what joined them.
pub fn group_duplicates(rows: &mut [ManifestRow]) -> DuplicateCounts {
    let mut parent: Vec<usize> = (0..rows.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut counts = DuplicateCounts::default();
    let mut first: [HashMap<String, usize>; 3] = Default::default();
    for (i, row) in rows.iter().enumerate() {
        let keys = [
            row.sha1.clone(),
            row.message_id.as_ref().map(|m| m.to_lowercase()),
            row.body_hash.clone(),
        ];
        for (k, key) in keys.into_iter().enumerate() {
            let Some(key) = key else { continue };
            match first[k].get(&key) {
                Some(&j) => {
                    match k {
                        0 => counts.same_bytes += 1,
                        1 => counts.same_message_id += 1,
                        _ => counts.same_body += 1,
                    }
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    // The smaller index stays the root: the group's id is
                    // its first message.
                    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                    parent[hi] = lo;
                }
                None => {
                    first[k].insert(key, i);
                }
            }
        }
    }
    // An injected attack keeps its carrier's header fields, layout and
    // date: with the carrier on the other side of a split, the test
    // would reward recognising the carrier.
    let by_sha1 = &first[0];
    for (i, row) in rows.iter().enumerate() {
        let Some(&j) = row.carrier_sha1.as_ref().and_then(|c| by_sha1.get(c)) else {
            continue;
        };
        counts.same_carrier += 1;
        let (a, b) = (root(&mut parent, i), root(&mut parent, j));
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        parent[hi] = lo;
    }
    for i in 0..rows.len() {
        let r = root(&mut parent, i);
        rows[i].group = rows[r].id.clone();
    }
    counts
}

/// Groups with more than one message, and the messages in them.
pub fn duplicate_group_sizes(rows: &[ManifestRow]) -> (usize, usize) {
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for r in rows {
        *sizes.entry(r.group.as_str()).or_default() += 1;
    }
    sizes
        .values()
        .filter(|n| **n > 1)
        .fold((0, 0), |(g, m), n| (g + 1, m + n))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn row(id: &str, sha1: &str, mid: Option<&str>, body: Option<&str>) -> ManifestRow {
        ManifestRow {
            id: id.into(),
            source: "s".into(),
            path: "p".into(),
            member: None,
            index: None,
            label: None,
            technique: None,
            synthetic: false,
            date: None,
            timestamp: None,
            sha1: Some(sha1.into()),
            message_id: mid.map(str::to_string),
            body_hash: body.map(str::to_string),
            bytes: 1,
            carrier_sha1: None,
            group: id.into(),
            error: None,
        }
    }

    #[test]
    fn groups_join_transitively_and_take_the_first_id() {
        let mut rows = vec![
            row("a", "1", Some("<X@h>"), None),
            row("b", "2", None, Some("body")),
            row("c", "3", Some("<x@H>"), Some("body")),
            row("d", "1", None, None),
            row("e", "5", None, None),
        ];
        let counts = group_duplicates(&mut rows);
        let groups: Vec<&str> = rows.iter().map(|r| r.group.as_str()).collect();
        // c joins a by Message-ID and b by body; d joins a by bytes.
        assert_eq!(groups, ["a", "a", "a", "a", "e"]);
        assert_eq!(
            counts,
            DuplicateCounts {
                same_bytes: 1,
                same_message_id: 1,
                same_body: 1,
                same_carrier: 0,
            }
        );
        assert_eq!(duplicate_group_sizes(&rows), (1, 4));
    }

    #[test]
    fn an_injected_attack_joins_its_carrier_wherever_it_stands() {
        let attack = |id: &str, sha1: &str, carrier: &str| ManifestRow {
            carrier_sha1: Some(carrier.into()),
            ..row(id, sha1, None, None)
        };
        let mut rows = vec![
            // The attack comes before its carrier in manifest order.
            attack("x", "9", "2"),
            row("a", "1", None, None),
            row("b", "2", None, None),
            // A carrier this manifest does not hold joins nothing.
            attack("y", "8", "404"),
        ];
        let counts = group_duplicates(&mut rows);
        let groups: Vec<&str> = rows.iter().map(|r| r.group.as_str()).collect();
        assert_eq!(groups, ["x", "a", "x", "y"]);
        assert_eq!(counts.same_carrier, 1);
    }
}
