//! One-edit imitations: which single edit turns the protected label into the
//! one seen, named as dnstwist names its fuzzers.

use super::LookalikeKind;

fn is_vowel(c: char) -> bool {
    "aeiouy".contains(c)
}

/// Names the single edit (insertion, omission, substitution or adjacent
/// transposition) that turns `target` into `seen`; empty when it takes more.
pub(crate) fn classify_edit(seen: &str, target: &str) -> Vec<LookalikeKind> {
    let mut kinds = Vec::new();
    // Candidates from the neighbourhood are mostly a letter or more apart in
    // length: turn those away before collecting letters.
    if seen.chars().count().abs_diff(target.chars().count()) > 1 {
        return kinds;
    }
    let (s, t): (Vec<char>, Vec<char>) = (seen.chars().collect(), target.chars().collect());
    // Where the two first differ (or where the shorter one ends).
    let first_difference = s.iter().zip(&t).position(|(a, b)| a != b);
    if s.len() == t.len() + 1 {
        let pos = first_difference.unwrap_or(t.len());
        // `seen` is `target` with the letter at `pos` added, or more apart.
        let (Some(&added), true) = (s.get(pos), s.get(pos + 1..) == t.get(pos..)) else {
            return kinds;
        };
        if added == '-' {
            kinds.push(LookalikeKind::Hyphenation);
        } else if pos.checked_sub(1).and_then(|p| s.get(p)) == Some(&added)
            || s.get(pos + 1) == Some(&added)
        {
            kinds.push(LookalikeKind::Repetition);
        } else if pos == t.len() {
            kinds.push(LookalikeKind::Addition);
        } else {
            kinds.push(LookalikeKind::Insertion);
        }
        if added == 's' {
            kinds.push(LookalikeKind::Plural);
        }
    } else if s.len() + 1 == t.len() {
        let pos = first_difference.unwrap_or(s.len());
        if s.get(pos..)
            .is_some_and(|rest| t.get(pos + 1..) == Some(rest))
        {
            kinds.push(LookalikeKind::Omission);
        }
    } else if s.len() == t.len() {
        // The letters that differ: where, and what each side has there.
        let diff: Vec<(usize, char, char)> = s
            .iter()
            .zip(&t)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, (&a, &b))| (i, a, b))
            .collect();
        match *diff.as_slice() {
            [(i, s_i, t_i), (j, s_j, t_j)] if j == i + 1 && s_i == t_j && s_j == t_i => {
                kinds.push(LookalikeKind::Transposition);
            }
            [(_, a, b)] => {
                if a.is_ascii() && b.is_ascii() && (a as u8 ^ b as u8).count_ones() == 1 {
                    kinds.push(LookalikeKind::Bitsquatting);
                }
                if is_vowel(a) && is_vowel(b) {
                    kinds.push(LookalikeKind::VowelSwap);
                } else {
                    kinds.push(LookalikeKind::Replacement);
                }
            }
            _ => {}
        }
    }
    kinds
}

/// The label with one plural `es` taken out (`kestrelfoodses`, `boxesoffice`),
/// for each place one could have been put in after s, x or z.
pub(crate) fn without_plural_es(seen: &str, mut visit: impl FnMut(&str)) {
    let mut buf = String::with_capacity(seen.len());
    // A window at i: s, x or z at i, then the `es`.
    for (i, window) in seen.as_bytes().windows(3).enumerate() {
        if let [b's' | b'x' | b'z', b'e', b's'] = window {
            // Cut around ASCII letters: char boundaries.
            let (Some(head), Some(tail)) = (seen.get(..i + 1), seen.get(i + 3..)) else {
                continue;
            };
            buf.clear();
            buf.push_str(head);
            buf.push_str(tail);
            visit(&buf);
        }
    }
}
