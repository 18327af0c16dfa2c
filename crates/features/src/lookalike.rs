//! Lookalike domains: does a domain seen in mail imitate a protected one?
//!
//! An index, not a scan: every protected registrable label is stored with its
//! single-character deletions (a deletion neighbourhood) and its ASCII glyph
//! skeleton, so a lookup costs a few hash probes whatever the number of
//! protected domains. This module covers one-edit imitations, glyph swaps and
//! TLD swaps; the full dnstwist-style engine grows here.

use crate::domain::{normalize_domain, registrable_domain};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Shortest protected label the edit-based kinds apply to: below this every
/// one-letter change of a short name is another real word.
const MIN_LABEL_LEN: usize = 4;

/// How a domain imitates its target, named as dnstwist names its fuzzers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LookalikeKind {
    Addition,
    Bitsquatting,
    Homoglyph,
    Hyphenation,
    Insertion,
    Omission,
    Repetition,
    Replacement,
    Transposition,
    VowelSwap,
    TldSwap,
}

impl LookalikeKind {
    pub const fn name(self) -> &'static str {
        match self {
            LookalikeKind::Addition => "addition",
            LookalikeKind::Bitsquatting => "bitsquatting",
            LookalikeKind::Homoglyph => "homoglyph",
            LookalikeKind::Hyphenation => "hyphenation",
            LookalikeKind::Insertion => "insertion",
            LookalikeKind::Omission => "omission",
            LookalikeKind::Repetition => "repetition",
            LookalikeKind::Replacement => "replacement",
            LookalikeKind::Transposition => "transposition",
            LookalikeKind::VowelSwap => "vowel-swap",
            LookalikeKind::TldSwap => "tld-swap",
        }
    }

    /// Words for an administrator.
    pub const fn describe(self) -> &'static str {
        match self {
            LookalikeKind::Addition => "a letter added at the end",
            LookalikeKind::Bitsquatting => "one letter a bit-flip away",
            LookalikeKind::Homoglyph => "letters swapped for lookalike glyphs",
            LookalikeKind::Hyphenation => "a hyphen inserted",
            LookalikeKind::Insertion => "one letter inserted",
            LookalikeKind::Omission => "one letter left out",
            LookalikeKind::Repetition => "a letter doubled",
            LookalikeKind::Replacement => "one letter replaced",
            LookalikeKind::Transposition => "two letters swapped",
            LookalikeKind::VowelSwap => "a vowel replaced",
            LookalikeKind::TldSwap => "same name under another top-level domain",
        }
    }
}

/// A domain found to imitate a protected one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LookalikeMatch {
    pub domain: String,
    pub target: String,
    pub kinds: Vec<LookalikeKind>,
    pub distance: usize,
}

impl LookalikeMatch {
    pub fn describe(&self) -> String {
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.describe()).collect();
        format!(
            "{} imitates {} ({})",
            self.domain,
            self.target,
            kinds.join(", ")
        )
    }
}

struct Protected {
    registrable: String,
    label: String,
    suffix: String,
}

/// The protected set, indexed for lookups.
#[derive(Default)]
pub struct LookalikeIndex {
    protected: Vec<Protected>,
    registrable: HashSet<String>,
    /// Label or a one-deletion variant of it → protected entries.
    neighbourhood: HashMap<String, Vec<usize>>,
    /// ASCII glyph skeleton of the label → protected entries.
    skeletons: HashMap<String, Vec<usize>>,
}

impl LookalikeIndex {
    pub fn new<'a>(domains: impl IntoIterator<Item = &'a str>) -> LookalikeIndex {
        let mut index = LookalikeIndex::default();
        // Sorted, so ties between targets break the same way whatever order
        // (a HashSet's) the domains come in.
        let mut domains: Vec<String> = domains.into_iter().filter_map(normalize_domain).collect();
        domains.sort();
        for norm in domains {
            let Some(reg) = registrable_domain(&norm).map(str::to_string) else {
                continue;
            };
            if !index.registrable.insert(reg.clone()) {
                continue;
            }
            let (label, suffix) = split_label(&reg);
            let i = index.protected.len();
            index.protected.push(Protected {
                registrable: reg.clone(),
                label: label.to_string(),
                suffix: suffix.to_string(),
            });
            let neighbourhood = &mut index.neighbourhood;
            for_each_neighbour(label, |variant| {
                neighbourhood
                    .entry(variant.to_string())
                    .or_default()
                    .push(i);
            });
            index.skeletons.entry(skeleton(label)).or_default().push(i);
        }
        index
    }

    pub fn len(&self) -> usize {
        self.protected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.protected.is_empty()
    }

    /// The protected domain `domain` imitates, if any. A protected domain and
    /// its own subdomains are never lookalikes.
    pub fn find(&self, domain: &str) -> Option<LookalikeMatch> {
        if self.protected.is_empty() {
            return None;
        }
        let norm = normalize_domain(domain)?;
        let reg = registrable_domain(&norm)?;
        if self.registrable.contains(reg) {
            return None;
        }
        let (label, suffix) = split_label(reg);
        let mut best: Option<LookalikeMatch> = None;
        let mut consider = |i: usize, kinds: Vec<LookalikeKind>, distance: usize| {
            if kinds.is_empty() {
                return;
            }
            // On a tie, the target under the same suffix is the one imitated.
            let same_suffix = |target: &str| split_label(target).1 == suffix;
            let better = best.as_ref().is_none_or(|b| {
                distance < b.distance
                    || (distance == b.distance
                        && same_suffix(&self.protected[i].registrable)
                        && !same_suffix(&b.target))
            });
            if better {
                best = Some(LookalikeMatch {
                    domain: reg.to_string(),
                    target: self.protected[i].registrable.clone(),
                    kinds,
                    distance,
                });
            }
        };
        // Same label elsewhere: tld-swap.
        for &i in self.neighbourhood.get(label).into_iter().flatten() {
            let p = &self.protected[i];
            if p.label == label && p.suffix != suffix && label.len() >= MIN_LABEL_LEN {
                consider(i, vec![LookalikeKind::TldSwap], 1);
            }
        }
        // Glyph skeletons: rn→m, vv→w, 0→o, 1→l …
        let skel = skeleton(label);
        for &i in self.skeletons.get(&skel).into_iter().flatten() {
            let p = &self.protected[i];
            if p.label != label && p.label.len() >= MIN_LABEL_LEN - 1 {
                consider(
                    i,
                    vec![LookalikeKind::Homoglyph],
                    strsim::damerau_levenshtein(label, &p.label),
                );
            }
        }
        // One edit away, found through the deletion neighbourhood.
        let mut seen = HashSet::new();
        for_each_neighbour(label, |variant| {
            for &i in self.neighbourhood.get(variant).into_iter().flatten() {
                if !seen.insert(i) {
                    continue;
                }
                let p = &self.protected[i];
                if p.label.len() < MIN_LABEL_LEN || p.label == label {
                    continue;
                }
                if strsim::damerau_levenshtein(label, &p.label) == 1 {
                    consider(i, classify_edit(label, &p.label), 1);
                }
            }
        });
        best
    }
}

/// (label, public suffix) of a registrable domain: `kestrelfoods.co.jp` →
/// (`kestrelfoods`, `co.jp`).
fn split_label(registrable: &str) -> (&str, &str) {
    registrable.split_once('.').unwrap_or((registrable, ""))
}

/// Calls `visit` with `label` and every one-deletion variant of it (the
/// deletion neighbourhood both the index and the lookups use), reusing one
/// buffer: lookups run per message, so they must not allocate per variant.
fn for_each_neighbour(label: &str, mut visit: impl FnMut(&str)) {
    visit(label);
    let mut buf = String::with_capacity(label.len());
    for (i, c) in label.char_indices() {
        buf.clear();
        buf.push_str(&label[..i]);
        buf.push_str(&label[i + c.len_utf8()..]);
        visit(&buf);
    }
}

/// ASCII glyph skeleton: what the label looks like at a glance.
fn skeleton(label: &str) -> String {
    let mut s = label
        .replace("rn", "m")
        .replace("vv", "w")
        .replace("cl", "d")
        .replace("nn", "m");
    s = s
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | 'i' | '|' => 'l',
            '5' => 's',
            '3' => 'e',
            _ => c,
        })
        .collect();
    s
}

/// Names the single edit that turns `target` into `seen`.
fn classify_edit(seen: &str, target: &str) -> Vec<LookalikeKind> {
    let (s, t): (Vec<char>, Vec<char>) = (seen.chars().collect(), target.chars().collect());
    let is_vowel = |c: char| "aeiouy".contains(c);
    let mut kinds = Vec::new();
    if s.len() == t.len() + 1 {
        let pos = (0..t.len()).find(|&i| s[i] != t[i]).unwrap_or(t.len());
        let added = s[pos];
        if added == '-' {
            kinds.push(LookalikeKind::Hyphenation);
        } else if (pos > 0 && s[pos - 1] == added) || s.get(pos + 1) == Some(&added) {
            kinds.push(LookalikeKind::Repetition);
        } else if pos == t.len() {
            kinds.push(LookalikeKind::Addition);
        } else {
            kinds.push(LookalikeKind::Insertion);
        }
    } else if s.len() + 1 == t.len() {
        kinds.push(LookalikeKind::Omission);
    } else if s.len() == t.len() {
        let diff: Vec<usize> = (0..s.len()).filter(|&i| s[i] != t[i]).collect();
        if diff.len() == 2 && s[diff[0]] == t[diff[1]] && s[diff[1]] == t[diff[0]] {
            kinds.push(LookalikeKind::Transposition);
        } else if let [i] = diff[..] {
            let (a, b) = (s[i], t[i]);
            if a.is_ascii() && b.is_ascii() && (a as u8 ^ b as u8).count_ones() == 1 {
                kinds.push(LookalikeKind::Bitsquatting);
            }
            if is_vowel(a) && is_vowel(b) {
                kinds.push(LookalikeKind::VowelSwap);
            } else {
                kinds.push(LookalikeKind::Replacement);
            }
        }
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> LookalikeIndex {
        LookalikeIndex::new([
            "interface.com",
            "company.com",
            "kestrelfoods.co.jp",
            "microsoft.com",
        ])
    }

    fn kinds(domain: &str) -> Option<(String, Vec<LookalikeKind>)> {
        index().find(domain).map(|m| (m.target, m.kinds))
    }

    #[test]
    fn finds_the_whitepaper_lookalikes() {
        assert_eq!(
            kinds("inteirface.com"),
            Some(("interface.com".into(), vec![LookalikeKind::Insertion]))
        );
        assert_eq!(
            kinds("mail.comqany.com").unwrap().1,
            vec![LookalikeKind::Bitsquatting, LookalikeKind::Replacement]
        );
    }

    #[test]
    fn names_each_kind() {
        assert_eq!(
            kinds("interfaces.com").unwrap().1,
            vec![LookalikeKind::Addition]
        );
        assert_eq!(
            kinds("interfce.com").unwrap().1,
            vec![LookalikeKind::Omission]
        );
        assert_eq!(
            kinds("itnerface.com").unwrap().1,
            vec![LookalikeKind::Transposition]
        );
        assert_eq!(
            kinds("interrface.com").unwrap().1,
            vec![LookalikeKind::Repetition]
        );
        assert_eq!(
            kinds("inter-face.com").unwrap().1,
            vec![LookalikeKind::Hyphenation]
        );
        assert_eq!(
            kinds("intarface.com").unwrap().1,
            vec![LookalikeKind::Bitsquatting, LookalikeKind::VowelSwap]
        );
        assert_eq!(
            kinds("intorface.com").unwrap().1,
            vec![LookalikeKind::VowelSwap]
        );
        assert_eq!(
            kinds("intexface.com").unwrap().1,
            vec![LookalikeKind::Replacement]
        );
        assert_eq!(
            kinds("rnicrosoft.com").unwrap().1,
            vec![LookalikeKind::Homoglyph]
        );
        assert_eq!(
            kinds("micr0soft.com").unwrap().1,
            vec![LookalikeKind::Homoglyph]
        );
        assert_eq!(
            kinds("kestrelfoods.com").unwrap().1,
            vec![LookalikeKind::TldSwap]
        );
    }

    #[test]
    fn protected_domains_and_unrelated_ones_are_not_lookalikes() {
        for d in [
            "interface.com",
            "mail.interface.com",
            "company.com",
            "example.org",
            "gmail.com",
            "face.com",
            "kestrelfoods.co.jp",
        ] {
            assert_eq!(index().find(d), None, "{d}");
        }
    }
}
