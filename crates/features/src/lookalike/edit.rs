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
    if s.len() == t.len() + 1 {
        let pos = (0..t.len()).find(|&i| s[i] != t[i]).unwrap_or(t.len());
        if s[pos + 1..] != t[pos..] {
            return kinds;
        }
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
        if added == 's' {
            kinds.push(LookalikeKind::Plural);
        }
    } else if s.len() + 1 == t.len() {
        let pos = (0..s.len()).find(|&i| s[i] != t[i]).unwrap_or(s.len());
        if s[pos..] == t[pos + 1..] {
            kinds.push(LookalikeKind::Omission);
        }
    } else if s.len() == t.len() {
        let diff: Vec<usize> = (0..s.len()).filter(|&i| s[i] != t[i]).collect();
        match diff[..] {
            [i, j] if j == i + 1 && s[i] == t[j] && s[j] == t[i] => {
                kinds.push(LookalikeKind::Transposition);
            }
            [i] => {
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
            _ => {}
        }
    }
    kinds
}

/// The label with one plural `es` taken out (`kestrelfoodses`, `boxesoffice`),
/// for each place one could have been put in after s, x or z.
pub(crate) fn without_plural_es(seen: &str, mut visit: impl FnMut(&str)) {
    let bytes = seen.as_bytes();
    let mut buf = String::with_capacity(seen.len());
    for i in 1..bytes.len().saturating_sub(1) {
        if bytes[i] == b'e' && bytes[i + 1] == b's' && matches!(bytes[i - 1], b's' | b'x' | b'z') {
            buf.clear();
            buf.push_str(&seen[..i]);
            buf.push_str(&seen[i + 2..]);
            visit(&buf);
        }
    }
}
