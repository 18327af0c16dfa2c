//! The generator side: a domain's imitations by kind, as an attacker would
//! register them, for the attack injection of `impostor gen` and for tests.
//! Our own generator, modelled on dnstwist's fuzzers and named like them.

use super::{split_label, unicode_label, LookalikeKind};
use crate::domain::{list_entries, normalize_domain, registrable_domain};
use std::collections::BTreeSet;

/// Suffixes for tld-swap imitations: the built-in list (see the file).
pub const DEFAULT_TLDS: &str = include_str!("../../data/lookalike_swap_tlds.txt");

/// One imitation of a domain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Permutation {
    /// How it imitates the domain.
    pub kind: LookalikeKind,
    /// ASCII (punycode for IDN), lower case.
    pub domain: String,
}

/// Keyboard rows; a key's neighbours are the keys beside it and the two
/// touching it in the rows above and below (rows are staggered).
const LAYOUTS: [[&str; 4]; 3] = [
    ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"],
    ["1234567890", "qwertzuiop", "asdfghjkl", "yxcvbnm"],
    ["1234567890", "azertyuiop", "qsdfghjklm", "wxcvbn"],
];

/// Keys next to `c` on a QWERTY, QWERTZ or AZERTY keyboard.
pub fn keyboard_neighbours(c: char) -> BTreeSet<char> {
    let mut out = BTreeSet::new();
    for rows in LAYOUTS {
        let rows: Vec<Vec<char>> = rows.iter().map(|r| r.chars().collect()).collect();
        for (r, row) in rows.iter().enumerate() {
            let Some(col) = row.iter().position(|&k| k == c) else {
                continue;
            };
            let mut take = |r: usize, col: Option<usize>| {
                if let Some(&k) = col.and_then(|col| rows.get(r)?.get(col)) {
                    out.insert(k);
                }
            };
            take(r, col.checked_sub(1));
            take(r, Some(col + 1));
            if r > 0 {
                take(r - 1, Some(col));
                take(r - 1, Some(col + 1));
            }
            if r + 1 < rows.len() {
                take(r + 1, col.checked_sub(1));
                take(r + 1, Some(col));
            }
        }
    }
    out
}

/// Glyphs that pass for a letter: ASCII look-alikes first, then Unicode ones.
const GLYPHS: &[(&str, &[&str])] = &[
    ("a", &["à", "á", "â", "ã", "ä", "å", "ɑ", "ạ", "ą", "а"]),
    ("b", &["d", "lb", "ḃ", "ḅ", "ʙ", "ь"]),
    ("c", &["e", "ç", "ć", "č", "ċ", "ᴄ", "с"]),
    ("d", &["b", "cl", "dl", "ď", "ḍ", "đ", "ԁ"]),
    ("e", &["c", "é", "è", "ê", "ë", "ė", "ę", "ẹ", "е"]),
    ("g", &["q", "ġ", "ğ", "ǵ", "ɡ", "ԍ"]),
    ("h", &["lh", "ĥ", "ḥ", "ħ", "һ"]),
    ("i", &["1", "l", "í", "ì", "î", "ï", "ı", "ɩ", "і"]),
    ("j", &["ĵ", "ǰ", "ј"]),
    ("k", &["lc", "ķ", "ḳ", "ĸ", "к"]),
    ("l", &["1", "i", "ĺ", "ļ", "ł", "ӏ"]),
    ("m", &["n", "nn", "rn", "ṁ", "ṃ", "м"]),
    ("n", &["m", "r", "ń", "ñ", "ņ", "ṅ"]),
    ("o", &["0", "ò", "ó", "ô", "õ", "ö", "ø", "ọ", "о"]),
    ("p", &["ṗ", "ƿ", "р"]),
    ("q", &["g", "ԛ"]),
    ("r", &["ŕ", "ř", "ṛ", "ʀ"]),
    ("s", &["ś", "š", "ş", "ṣ", "ѕ"]),
    ("t", &["ť", "ţ", "ṭ", "т"]),
    ("u", &["v", "ù", "ú", "û", "ü", "ų", "ᴜ"]),
    ("v", &["u", "ṽ", "ᴠ", "ѵ"]),
    ("w", &["vv", "ŵ", "ẁ", "ẃ", "ᴡ", "ԝ"]),
    ("x", &["ẋ", "х"]),
    ("y", &["ý", "ÿ", "ŷ", "у"]),
    ("z", &["ź", "ż", "ž", "ᴢ"]),
    ("0", &["o"]),
    ("1", &["l", "i"]),
    ("rn", &["m"]),
    ("cl", &["d"]),
    ("vv", &["w"]),
];

/// Latin letters with a Cyrillic twin, for the all-Cyrillic spelling.
const CYRILLIC: &[(char, char)] = &[
    ('a', 'а'),
    ('b', 'ь'),
    ('c', 'с'),
    ('d', 'ԁ'),
    ('e', 'е'),
    ('g', 'ԍ'),
    ('h', 'һ'),
    ('i', 'і'),
    ('j', 'ј'),
    ('k', 'к'),
    ('l', 'ӏ'),
    ('m', 'м'),
    ('o', 'о'),
    ('p', 'р'),
    ('q', 'ԛ'),
    ('s', 'ѕ'),
    ('t', 'т'),
    ('v', 'ѵ'),
    ('w', 'ԝ'),
    ('x', 'х'),
    ('y', 'у'),
];

/// The imitations of `domain`'s registrable domain, by kind: every kind of
/// [`LookalikeKind`], dictionary ones with `words` and tld-swaps to `tlds`
/// (one a line, `#` comments). Sorted and without duplicates or the
/// original; every domain is valid (punycode where it is IDN).
pub fn permutations(domain: &str, words: &str, tlds: &str) -> Vec<Permutation> {
    let Some(norm) = normalize_domain(domain) else {
        return Vec::new();
    };
    let Some(reg) = registrable_domain(&norm) else {
        return Vec::new();
    };
    let (label, suffix) = split_label(reg);
    let label = unicode_label(label).into_owned();
    let chars: Vec<char> = label.chars().collect();
    let n = chars.len();
    let list = |text: &str| -> Vec<String> { list_entries(text).map(str::to_lowercase).collect() };
    // The letters from i to j (i ≤ j ≤ n at every call).
    let at = |i: usize, j: usize| {
        chars
            .get(i..j)
            .unwrap_or_default()
            .iter()
            .collect::<String>()
    };
    let mut labels: Vec<(LookalikeKind, String)> = Vec::new();
    let mut push = |kind: LookalikeKind, l: String| labels.push((kind, l));

    for c in ('a'..='z').chain('0'..='9') {
        push(LookalikeKind::Addition, format!("{label}{c}"));
    }
    for (i, &c) in chars.iter().enumerate() {
        let (pre, post) = (at(0, i), at(i + 1, n));
        if c.is_ascii() {
            for bit in 0..8 {
                let flipped = (c as u8 ^ (1 << bit)) as char;
                if flipped.is_ascii_lowercase() || flipped.is_ascii_digit() || flipped == '-' {
                    push(LookalikeKind::Bitsquatting, format!("{pre}{flipped}{post}"));
                }
            }
        }
        for k in keyboard_neighbours(c) {
            push(LookalikeKind::Replacement, format!("{pre}{k}{post}"));
            push(LookalikeKind::Insertion, format!("{pre}{k}{c}{post}"));
            push(LookalikeKind::Insertion, format!("{pre}{c}{k}{post}"));
        }
        push(LookalikeKind::Omission, format!("{pre}{post}"));
        push(LookalikeKind::Repetition, format!("{pre}{c}{c}{post}"));
        if "aeiou".contains(c) {
            for v in "aeiou".chars().filter(|&v| v != c) {
                push(LookalikeKind::VowelSwap, format!("{pre}{v}{post}"));
            }
        }
        if i > 0 {
            push(
                LookalikeKind::Hyphenation,
                format!("{}-{}", at(0, i), at(i, n)),
            );
            push(
                LookalikeKind::Subdomain,
                format!("{}.{}", at(0, i), at(i, n)),
            );
        }
        if let Some(next) = chars.get(i + 1) {
            push(
                LookalikeKind::Transposition,
                format!("{pre}{next}{c}{}", at(i + 2, n)),
            );
        }
        if (2..n.saturating_sub(2)).contains(&i) {
            let plural = if "sxz".contains(c) { "es" } else { "s" };
            push(
                LookalikeKind::Plural,
                format!("{}{plural}{post}", at(0, i + 1)),
            );
        }
    }
    for (from, glyphs) in GLYPHS {
        for (pos, _) in label.match_indices(from) {
            for glyph in *glyphs {
                // A match's ends are char boundaries.
                let head = label.get(..pos).unwrap_or_default();
                let tail = label.get(pos + from.len()..).unwrap_or_default();
                let imitation = format!("{head}{glyph}{tail}");
                push(LookalikeKind::Homoglyph, imitation);
            }
        }
    }
    let cyrillic: Option<String> = label
        .chars()
        .map(|c| {
            CYRILLIC
                .iter()
                .find(|(l, _)| *l == c)
                .map(|(_, cy)| *cy)
                .or((!c.is_alphabetic()).then_some(c))
        })
        .collect();
    if let Some(cyrillic) = cyrillic {
        push(LookalikeKind::Cyrillic, cyrillic);
    }
    for word in list(words) {
        for l in [
            format!("{label}-{word}"),
            format!("{label}{word}"),
            format!("{word}-{label}"),
            format!("{word}{label}"),
        ] {
            push(LookalikeKind::Dictionary, l);
        }
    }
    push(
        LookalikeKind::Various,
        format!("{label}{}", suffix.replace('.', "")),
    );
    push(
        LookalikeKind::Various,
        format!("{label}-{}", suffix.replace('.', "-")),
    );

    let mut out = BTreeSet::new();
    let original = reg.to_string();
    let mut emit = |kind: LookalikeKind, domain: String| {
        if let Some(ascii) = normalize_domain(&domain) {
            if ascii != original && ascii.split('.').all(valid_label) {
                out.insert(Permutation {
                    kind,
                    domain: ascii,
                });
            }
        }
    };
    for (kind, l) in labels {
        emit(kind, format!("{l}.{suffix}"));
    }
    for tld in list(tlds) {
        emit(LookalikeKind::TldSwap, format!("{label}.{tld}"));
    }
    out.into_iter().collect()
}

fn valid_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookalike::{LookalikeIndex, DEFAULT_WORDS};

    #[test]
    fn keyboard_neighbours_follow_the_layouts() {
        let a: String = keyboard_neighbours('a').into_iter().collect();
        // qwerty q w s z; azerty: a sits where q is.
        assert!(a.contains('q') && a.contains('s') && a.contains('z') && a.contains('w'));
        assert!(keyboard_neighbours('m').contains(&'n'));
        assert!(keyboard_neighbours('m').contains(&'l')); // azerty
    }

    #[test]
    fn every_generated_imitation_is_found_again() {
        let protected = [
            "kestrelfoods.com",
            "kestrelfoods.co.jp",
            "coldchain-partners.eu",
            "ikea.com",
        ];
        let index = LookalikeIndex::new(protected);
        for domain in protected {
            let perms = permutations(domain, DEFAULT_WORDS, DEFAULT_TLDS);
            assert!(perms.len() > 300, "{domain}: {}", perms.len());
            // Only a name of letters with Cyrillic twins has a Cyrillic
            // spelling; a four-letter name has no plural.
            for kind in LookalikeKind::ALL {
                let expected = match domain {
                    "ikea.com" => kind != LookalikeKind::Plural,
                    _ => kind != LookalikeKind::Cyrillic,
                };
                assert_eq!(
                    perms.iter().any(|p| p.kind == kind),
                    expected,
                    "{domain}: {kind:?}"
                );
            }
            let missed: Vec<&Permutation> = perms
                .iter()
                .filter(|p| !protected.contains(&p.domain.as_str()))
                .filter(|p| index.find(&p.domain).is_none())
                .collect();
            assert!(missed.is_empty(), "{domain}: missed {missed:?}");
        }
    }
}
