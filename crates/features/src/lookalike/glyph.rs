//! Glyphs: what a domain label looks like at a glance.
//!
//! Three views of a label, from exact to loose:
//! - [`fold`]: Unicode to the Latin letters it imitates (the UTS #39 skeleton
//!   of `unicode-security`, diacritics dropped, and a small table of letters
//!   with hooks, strokes or small capitals that the skeleton leaves alone). A
//!   homoglyph or Cyrillic imitation folds to the very label it imitates.
//! - [`coarse`]: the fold with the ASCII glyph classes merged (b/d, c/e, g/q,
//!   n/r, u/v, …) and loose enough that every glyph imitation of a label
//!   has the label's own key. The index finds candidates under it.
//! - [`glyph_events`]: how many glyph substitutions turn one fold into the
//!   other, if only glyph substitutions do: the check a candidate must pass.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Letters the UTS #39 skeleton leaves alone (or maps to another rare
/// letter) though they read as a Latin letter or digit at a glance.
const EXTRA_FOLDS: &[(char, char)] = &[
    ('ĸ', 'k'),
    ('к', 'k'),
    ('ᴋ', 'k'),
    ('ⱪ', 'k'),
    ('ƅ', 'b'),
    ('ь', 'b'),
    ('ʙ', 'b'),
    ('ƈ', 'c'),
    ('ə', 'a'),
    ('ǝ', 'a'),
    ('ɢ', 'g'),
    ('ԍ', 'g'),
    ('ɾ', 'r'),
    ('ʀ', 'r'),
    ('ʉ', 'u'),
    ('ʒ', '3'),
    ('ȝ', '3'),
    ('ʝ', 'j'),
    ('м', 'm'),
    ('ʍ', 'm'),
    ('ᴍ', 'm'),
    ('т', 't'),
    ('ᴛ', 't'),
    ('ᶌ', 'v'),
    ('ⱱ', 'v'),
    ('ⱴ', 'v'),
    ('ⱨ', 'h'),
    ('ⱳ', 'w'),
    ('ꞑ', 'n'),
];

fn extra_fold(c: char) -> char {
    EXTRA_FOLDS
        .iter()
        .find(|(from, _)| *from == c)
        .map_or(c, |(_, to)| *to)
}

/// The skeleton of one ASCII character, as UTS #39 gives it, lower-cased.
fn push_ascii(b: u8, out: &mut String) {
    match b.to_ascii_lowercase() {
        b'0' => out.push('o'),
        b'1' | b'|' => out.push('l'),
        b'm' => out.push_str("rn"),
        other => out.push(other as char),
    }
}

fn push_folded(c: char, out: &mut String) {
    if c.is_ascii() {
        push_ascii(c as u8, out);
    } else {
        out.push(c);
    }
}

/// Folds `label` into `out`: lower case, diacritics dropped, confusable
/// letters replaced by the Latin letters they imitate (`m` becomes `rn`, as
/// in UTS #39, so `rn` and `m` fold alike).
pub(crate) fn fold(label: &str, out: &mut String) {
    out.clear();
    out.reserve(label.len() + 4);
    if label.is_ascii() {
        label.bytes().for_each(|b| push_ascii(b, out));
        return;
    }
    let stripped: String = label
        .chars()
        .flat_map(char::to_lowercase)
        .map(extra_fold)
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect();
    for c in unicode_security::skeleton(&stripped).nfd() {
        if is_combining_mark(c) {
            continue;
        }
        for lower in c.to_lowercase() {
            push_folded(extra_fold(lower), out);
        }
    }
}

/// The class representative of an ASCII glyph: letters that pass for one
/// another in a sans-serif font at mail-client sizes.
fn class_of(c: char) -> char {
    match c {
        'd' => 'b',
        'e' => 'c',
        'q' => 'g',
        'r' => 'n',
        'v' => 'u',
        'i' => 'l',
        '8' => '3',
        '9' => '6',
        '5' => 's',
        other => other,
    }
}

/// Multi-letter glyphs, in folded form, each with the letter it imitates:
/// one substitution each.
const MULTI_GLYPHS: &[(&str, &str)] = &[
    ("cl", "d"),
    ("dl", "d"),
    ("lb", "b"),
    ("lh", "h"),
    ("lc", "k"),
    ("vv", "w"),
    ("n", "rn"), // m read as n
];

/// The coarse key of a folded label (see the module notes): letters of one
/// glyph class merged, the round letters b, c, d, e and k merged too and
/// l and i left out and runs of n made one, so that every multi-letter glyph (cl, dl, lb, lc, lh,
/// vv) keys like the letter it imitates. Loose on purpose: candidates found
/// under it are checked by [`glyph_events`].
pub(crate) fn coarse(folded: &str, out: &mut String) {
    out.clear();
    out.reserve(folded.len() + 2);
    for c in folded.chars() {
        match class_of(c) {
            'l' => {}
            // m folds to rn: n, rn, nn and m key alike.
            'n' if out.ends_with('n') => {}
            'b' | 'c' | 'k' => out.push('c'),
            'w' => out.push_str("uu"),
            other => out.push(other),
        }
    }
}

/// A substitution of one folded string for another, and what it costs.
struct Rewrite {
    seen: Vec<u8>,
    target: Vec<u8>,
    target_last_class: char,
    events: u8,
}

/// The rewrites, bucketed by the glyph class of their seen side's last
/// letter (the DP looks them up per cell).
struct Rewrites {
    by_last_class: Vec<Vec<Rewrite>>,
    /// The longest seen side.
    reach: usize,
}

/// The multi-letter glyphs both ways, and each composed once with another
/// (d → dl → cll): dnstwist applies its glyphs in two rounds.
fn rewrites() -> &'static Rewrites {
    static REWRITES: std::sync::OnceLock<Rewrites> = std::sync::OnceLock::new();
    REWRITES.get_or_init(|| {
        let mut all: Vec<(Vec<u8>, Vec<u8>, u8)> = Vec::new();
        for (glyph, letter) in MULTI_GLYPHS {
            for (seen, target) in [(glyph, letter), (letter, glyph)] {
                all.push((seen.as_bytes().to_vec(), target.as_bytes().to_vec(), 1));
            }
        }
        let single = all.clone();
        for (seen, target, _) in &single {
            for (glyph, letter) in MULTI_GLYPHS {
                let (glyph, letter) = (glyph.as_bytes(), letter.as_bytes());
                // A letter of the seen side written as a glyph in turn.
                for at in 0..seen.len() {
                    let Some((head, rest)) = seen.split_at_checked(at) else {
                        continue;
                    };
                    if let Some(tail) = rest.strip_prefix(letter) {
                        let mut composed = head.to_vec();
                        composed.extend_from_slice(glyph);
                        composed.extend_from_slice(tail);
                        all.push((composed, target.clone(), 2));
                    }
                }
            }
        }
        let mut by_last_class: Vec<Vec<Rewrite>> = (0..128).map(|_| Vec::new()).collect();
        let mut reach = 1;
        for (seen, target, events) in all {
            let (Some(&last_seen), Some(&last_target)) = (seen.last(), target.last()) else {
                continue;
            };
            reach = reach.max(seen.len());
            let class = class_of(last_seen as char) as usize % 128;
            if let Some(rewrites) = by_last_class.get_mut(class) {
                rewrites.push(Rewrite {
                    target_last_class: class_of(last_target as char),
                    seen,
                    target,
                    events,
                });
            }
        }
        Rewrites {
            by_last_class,
            reach,
        }
    })
}

/// Events to read `seen` as `target` letter by letter: 0 per equal letter,
/// 1 per letter of the same glyph class; None if the lengths or a letter
/// differ otherwise.
fn class_events(seen: &[u8], target: &[u8]) -> Option<u8> {
    if seen.len() != target.len() {
        return None;
    }
    let mut events = 0;
    for (&a, &b) in seen.iter().zip(target) {
        if a != b {
            if class_of(a as char) != class_of(b as char) {
                return None;
            }
            events += 1;
        }
    }
    Some(events)
}

/// The fewest glyph substitutions (a letter for one of its class, or a
/// multi-letter glyph for its letter, tolerant of class substitutions inside
/// it) that turn `target` into `seen`; None when anything but glyph
/// substitutions is needed, or more than `limit`. Both are folded labels.
pub(crate) fn glyph_events(seen: &str, target: &str, limit: usize) -> Option<usize> {
    const NONE: u8 = u8::MAX;
    if seen.len() > 64 || target.len() > 64 || !seen.is_ascii() || !target.is_ascii() {
        return None;
    }
    // Every glyph rewrite changes the length by at most two.
    if seen.len().abs_diff(target.len()) > 2 * limit {
        return None;
    }
    let (s, t) = trim_common(seen.as_bytes(), target.as_bytes());
    // Letters no glyph rewrite touches must line up exactly: a cheap test
    // that turns most candidates away before the DP.
    let rigid = |b: &&u8| {
        matches!(
            **b,
            b'a' | b'f' | b'j' | b'o' | b'p' | b't' | b'x' | b'y' | b'z' | b'-'
        )
    };
    if !s.iter().filter(rigid).eq(t.iter().filter(rigid)) {
        return None;
    }
    let limit = limit.min(NONE as usize - 1) as u8;
    let rewrites = rewrites();
    let width = t.len() + 1;
    // Cell (i, j): the fewest events that read t[..j] as s[..i]. Every
    // (i, j) asked for is within the table, so `get` never falls back.
    let mut cost = vec![NONE; (s.len() + 1) * width];
    let cell = |cost: &[u8], i: usize, j: usize| cost.get(i * width + j).copied().unwrap_or(NONE);
    if let Some(origin) = cost.first_mut() {
        *origin = 0;
    }
    // The last letter of a side's first n, when it has one.
    let last = |side: &[u8], n: usize| n.checked_sub(1).and_then(|k| side.get(k)).copied();
    for i in 0..=s.len() {
        for j in 0..=t.len() {
            if i == 0 && j == 0 {
                continue;
            }
            let mut best = NONE;
            if let (Some(sc), Some(tc)) = (last(s, i), last(t, j)) {
                if let Some(e) = class_events(&[sc], &[tc]) {
                    best = best.min(cell(&cost, i - 1, j - 1).saturating_add(e));
                }
                let (cs, ct) = (class_of(sc as char), class_of(tc as char));
                let candidates = rewrites.by_last_class.get(cs as usize % 128);
                for r in candidates.into_iter().flatten() {
                    let (ls, lt) = (r.seen.len(), r.target.len());
                    if ls > i || lt > j || r.target_last_class != ct {
                        continue;
                    }
                    let prev = cell(&cost, i - ls, j - lt);
                    if prev == NONE {
                        continue;
                    }
                    // Class substitutions on either side of the rewrite count too.
                    let a = s
                        .get(i - ls..i)
                        .and_then(|seen| class_events(seen, &r.seen));
                    let b = t
                        .get(j - lt..j)
                        .and_then(|target| class_events(target, &r.target));
                    if let (Some(a), Some(b)) = (a, b) {
                        best = best.min(prev.saturating_add(r.events + a + b));
                    }
                }
            }
            if let Some(c) = cost.get_mut(i * width + j) {
                *c = if best > limit { NONE } else { best };
            }
        }
        // A rewrite reaches back at most `reach` rows: once that many rows
        // are all over the limit, no later cell can be reached.
        let reach = rewrites.reach;
        let over = |r: usize| {
            cost.get(r * width..(r + 1) * width)
                .is_some_and(|row| row.iter().all(|&c| c == NONE))
        };
        if i + 1 >= reach && (i + 1 - reach..=i).all(over) {
            return None;
        }
    }
    match cell(&cost, s.len(), t.len()) {
        NONE => None,
        n => Some(n as usize),
    }
}

/// Both strings without the prefix and suffix they share, less a margin as
/// long as the longest rewrite, so no rewrite loses letters it needs.
fn trim_common<'a>(s: &'a [u8], t: &'a [u8]) -> (&'a [u8], &'a [u8]) {
    const MARGIN: usize = 4;
    let prefix = s.iter().zip(t).take_while(|(a, b)| a == b).count();
    let prefix = prefix.saturating_sub(MARGIN);
    // Both cuts are within the shorter: what they share is no longer.
    let (s, t) = (
        s.get(prefix..).unwrap_or_default(),
        t.get(prefix..).unwrap_or_default(),
    );
    let suffix = s
        .iter()
        .rev()
        .zip(t.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = suffix.saturating_sub(MARGIN);
    (
        s.get(..s.len() - suffix).unwrap_or_default(),
        t.get(..t.len() - suffix).unwrap_or_default(),
    )
}

/// Whether a label mixes scripts (Latin with Cyrillic, say), as UTS #39
/// defines it; digits and hyphens belong to every script.
pub(crate) fn is_mixed_script(label: &str) -> bool {
    use unicode_security::MixedScript;
    !label.is_ascii() && !label.is_single_script()
}

/// Whether every letter of a label is Cyrillic: dnstwist's `cyrillic`.
pub(crate) fn is_all_cyrillic(label: &str) -> bool {
    let mut letters = label.chars().filter(|c| c.is_alphabetic()).peekable();
    letters.peek().is_some() && letters.all(|c| ('\u{400}'..='\u{52f}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(label: &str) -> String {
        let mut out = String::new();
        fold(label, &mut out);
        out
    }

    #[test]
    fn unicode_imitations_fold_to_what_they_imitate() {
        assert_eq!(folded("аррӏе"), folded("apple"));
        assert_eq!(folded("kеstrеlfооds"), folded("kestrelfoods"));
        assert_eq!(folded("ķéstrélfööds"), folded("kestrelfoods"));
        assert_eq!(folded("ɱicrosoft"), folded("microsoft"));
        assert_eq!(folded("ⱪestrelfoods"), folded("kestrelfoods"));
        assert_eq!(folded("micr0soft"), folded("microsoft"));
        assert_eq!(folded("rnicrosoft"), folded("microsoft"));
    }

    #[test]
    fn glyph_events_count_substitutions_and_refuse_other_edits() {
        let ev = |a: &str, b: &str| glyph_events(&folded(a), &folded(b), 4);
        assert_eq!(ev("kcstrelfoods", "kestrelfoods"), Some(1));
        assert_eq!(ev("kcstrclfoods", "kestrelfoods"), Some(2));
        assert_eq!(ev("lbank", "bank"), Some(1));
        assert_eq!(ev("clell", "dell"), Some(1));
        assert_eq!(ev("vvalmart", "walmart"), Some(1));
        assert_eq!(ev("nicrosoft", "microsoft"), Some(1));
        assert_eq!(ev("ablobe", "adobe"), Some(2));
        assert_eq!(ev("acllobe", "adobe"), Some(2));
        assert_eq!(ev("aciobe", "adobe"), Some(2));
        assert_eq!(ev("kestrelfood", "kestrelfoods"), None);
        assert_eq!(ev("kestxelfoods", "kestrelfoods"), None);
    }

    #[test]
    fn coarse_keys_merge_glyph_classes() {
        let key = |a: &str| {
            let mut c = String::new();
            coarse(&folded(a), &mut c);
            c
        };
        assert_eq!(key("dell"), key("bell"));
        assert_eq!(key("clell"), key("dell"));
        assert_eq!(key("vvalmart"), key("walmart"));
        assert_eq!(key("colclchain"), key("coldchain"));
        assert_ne!(key("kestrelfoods"), key("kestrelfood"));
    }

    #[test]
    fn scripts() {
        assert!(is_mixed_script("kеstrelfoods"));
        assert!(!is_mixed_script("kestrelfoods"));
        assert!(!is_mixed_script("аррӏе"));
        assert!(is_all_cyrillic("аррӏе"));
        assert!(!is_all_cyrillic("apple"));
    }
}
