//! What the message asks for: action, payment, gift cards, bank-detail
//! changes, urgency, secrecy and credential lures, in English and Japanese.
//!
//! Phrases come from `data/intent.toml` and are matched with Aho-Corasick
//! over the NFKC-normalised, lower-cased subject and body (ASCII text with
//! an automaton of the ASCII phrases alone, the rest with all of them).
//! English phrases must stand at word boundaries; Japanese ones need not.
//! Rates are per 1,000 characters, with texts under 100 characters counted
//! as 100 so a two-word message does not get an absurd rate.

use crate::error::FeatureError;
use crate::evidence::EvidenceLog;
use crate::message::MessageView;
use crate::schema::{Feature, FeatureVector};
use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, Match, MatchKind, StartKind};
use serde::Deserialize;
use std::collections::BTreeMap;
use unicode_normalization::UnicodeNormalization;

const BUILTIN_LEXICON: &str = include_str!("../data/intent.toml");
const MIN_RATE_CHARS: usize = 100;

/// An intent category of the lexicon.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum IntentCategory {
    /// Asks the reader to do something for the sender, often a
    /// first-contact probe ("are you at your desk").
    ActionRequest,
    /// Requests or discusses moving money: wires, invoices due, remittance.
    Payment,
    /// Asks for gift cards, prepaid cards or their codes.
    GiftCard,
    /// Announces a change of bank, remittance or payroll details.
    BankChange,
    /// Presses the reader to act quickly or before a deadline.
    Urgency,
    /// Asks for discretion, or explains why the sender cannot be reached.
    Secrecy,
    /// Tries to get the reader to sign in, verify an account or open a
    /// hosted document.
    CredentialLure,
}

impl IntentCategory {
    /// Every category, in feature order.
    pub const ALL: [IntentCategory; 7] = [
        IntentCategory::ActionRequest,
        IntentCategory::Payment,
        IntentCategory::GiftCard,
        IntentCategory::BankChange,
        IntentCategory::Urgency,
        IntentCategory::Secrecy,
        IntentCategory::CredentialLure,
    ];

    /// The count and rate features of this category.
    pub const fn features(self) -> (Feature, Feature) {
        match self {
            IntentCategory::ActionRequest => (
                Feature::IntentActionRequestCount,
                Feature::IntentActionRequestRate,
            ),
            IntentCategory::Payment => (Feature::IntentPaymentCount, Feature::IntentPaymentRate),
            IntentCategory::GiftCard => (Feature::IntentGiftCardCount, Feature::IntentGiftCardRate),
            IntentCategory::BankChange => (
                Feature::IntentBankChangeCount,
                Feature::IntentBankChangeRate,
            ),
            IntentCategory::Urgency => (Feature::IntentUrgencyCount, Feature::IntentUrgencyRate),
            IntentCategory::Secrecy => (Feature::IntentSecrecyCount, Feature::IntentSecrecyRate),
            IntentCategory::CredentialLure => (
                Feature::IntentCredentialLureCount,
                Feature::IntentCredentialLureRate,
            ),
        }
    }

    /// The category in words, for evidence ("payment request").
    pub const fn label(self) -> &'static str {
        match self {
            IntentCategory::ActionRequest => "action request",
            IntentCategory::Payment => "payment request",
            IntentCategory::GiftCard => "gift-card request",
            IntentCategory::BankChange => "bank-detail change",
            IntentCategory::Urgency => "urgency",
            IntentCategory::Secrecy => "secrecy",
            IntentCategory::CredentialLure => "credential lure",
        }
    }
}

#[derive(Deserialize)]
struct Lexicon {
    category: Vec<LexiconCategory>,
}

#[derive(Deserialize)]
struct LexiconCategory {
    name: IntentCategory,
    #[serde(default)]
    en: Vec<String>,
    #[serde(default)]
    ja: Vec<String>,
}

struct Pattern {
    categories: Vec<IntentCategory>,
    /// English: must not touch letters or digits on either side.
    word_bounded: bool,
}

/// Counts of each category's phrases in one text.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct IntentCounts {
    pub counts: BTreeMap<IntentCategory, u32>,
    pub examples: BTreeMap<IntentCategory, Vec<String>>,
    pub chars: usize,
}

impl IntentCounts {
    pub fn count(&self, c: IntentCategory) -> u32 {
        self.counts.get(&c).copied().unwrap_or(0)
    }
}

pub(crate) struct IntentMatcher {
    /// Every phrase, for text with any non-ASCII in it.
    automaton: AhoCorasick,
    /// The ASCII phrases alone, for ASCII text (most mail), where no other
    /// phrase can match: a third of the states, so the scan stays in cache.
    ascii: AhoCorasick,
    /// The index in `phrases` of each of `ascii`'s patterns.
    ascii_ids: Vec<usize>,
    /// Every phrase again, anchored only, for the rare retry at a refused
    /// match (see `count`); kept apart so the scanners need no anchored
    /// start states, which would double their size.
    anchored: AhoCorasick,
    patterns: Vec<Pattern>,
    phrases: Vec<String>,
}

impl IntentMatcher {
    pub fn builtin() -> Result<IntentMatcher, FeatureError> {
        IntentMatcher::from_toml(BUILTIN_LEXICON)
    }

    pub fn from_toml(text: &str) -> Result<IntentMatcher, FeatureError> {
        let lexicon: Lexicon =
            toml::from_str(text).map_err(|source| FeatureError::IntentLexicon { source })?;
        let mut by_phrase: BTreeMap<String, (Vec<IntentCategory>, bool)> = BTreeMap::new();
        for cat in &lexicon.category {
            let phrases = cat
                .en
                .iter()
                .map(|p| (p, true))
                .chain(cat.ja.iter().map(|p| (p, false)));
            for (phrase, english) in phrases {
                let norm = normalize(phrase);
                if norm.trim().is_empty() {
                    continue;
                }
                let entry = by_phrase.entry(norm).or_insert((Vec::new(), english));
                if !entry.0.contains(&cat.name) {
                    entry.0.push(cat.name);
                }
            }
        }
        let phrases: Vec<String> = by_phrase.keys().cloned().collect();
        let patterns = by_phrase
            .into_values()
            .map(|(categories, english)| Pattern {
                categories,
                word_bounded: english,
            })
            .collect();
        let build = |phrases: &[&String], start: StartKind, kind: AhoCorasickKind| {
            AhoCorasick::builder()
                // Leftmost-longest, which scans far faster than reporting
                // every overlapping match.
                .match_kind(MatchKind::LeftmostLongest)
                .start_kind(start)
                .kind(Some(kind))
                .build(phrases)
                .map_err(|source| FeatureError::Matcher {
                    what: "intent lexicon",
                    source,
                })
        };
        let all: Vec<&String> = phrases.iter().collect();
        let ascii_ids: Vec<usize> = phrases
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_ascii())
            .map(|(i, _)| i)
            .collect();
        let ascii_phrases: Vec<&String> = phrases.iter().filter(|p| p.is_ascii()).collect();
        // DFAs for the scans: more memory, built once, the fastest per byte.
        let automaton = build(&all, StartKind::Unanchored, AhoCorasickKind::DFA)?;
        let ascii = build(&ascii_phrases, StartKind::Unanchored, AhoCorasickKind::DFA)?;
        let anchored = build(&all, StartKind::Anchored, AhoCorasickKind::ContiguousNFA)?;
        Ok(IntentMatcher {
            automaton,
            ascii,
            ascii_ids,
            anchored,
            patterns,
            phrases,
        })
    }

    pub fn count(&self, subject: &str, body: &str) -> IntentCounts {
        let mut text = String::with_capacity(subject.len() + body.len() + 1);
        normalize_into(subject, &mut text);
        text.push(' ');
        normalize_into(body, &mut text);
        let mut out = IntentCounts {
            // NFKC can turn one character into many (U+FDFA into eighteen):
            // counted at most one per byte read, the count stays within
            // the text limit that bounded those bytes.
            chars: text.chars().count().min(subject.len() + 1 + body.len()),
            ..IntentCounts::default()
        };
        // The leftmost-longest phrases, without overlap, of those that stand
        // at their word boundaries. A long phrase refused for its boundaries
        // ("confidential matter" in "confidential matters") must not hide a
        // shorter one at its start, so the shorter ones there are tried.
        let (scanner, ids) = if text.is_ascii() {
            (&self.ascii, Some(&self.ascii_ids))
        } else {
            (&self.automaton, None)
        };
        let mut pos = 0;
        while let Some(m) = scanner.find(Input::new(&text).span(pos..text.len())) {
            // The ASCII scanner's patterns are `ascii_ids`' phrases, in order.
            let id = match ids {
                Some(ids) => ids.get(m.pattern().as_usize()).copied(),
                None => Some(m.pattern().as_usize()),
            };
            let Some(m) = id.and_then(|id| self.bounded_at(&text, Match::must(id, m.span())))
            else {
                // Patterns are UTF-8, so matches start only at char starts.
                pos = m.start() + 1;
                continue;
            };
            pos = m.end();
            let id = m.pattern().as_usize();
            let (Some(pattern), Some(phrase)) = (self.patterns.get(id), self.phrases.get(id))
            else {
                continue;
            };
            for c in &pattern.categories {
                *out.counts.entry(*c).or_insert(0) += 1;
                let examples = out.examples.entry(*c).or_default();
                if examples.len() < 3 && !examples.contains(phrase) {
                    examples.push(phrase.clone());
                }
            }
        }
        out
    }

    /// `m`, or the longest shorter phrase at its start, that stands at its
    /// word boundaries (Japanese phrases always do).
    fn bounded_at(&self, text: &str, mut m: Match) -> Option<Match> {
        let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        loop {
            // A match of UTF-8 phrases in UTF-8 text starts and ends on
            // char boundaries, so `get` finds both sides.
            let pattern = self.patterns.get(m.pattern().as_usize());
            let word_bounded = pattern.is_some_and(|p| p.word_bounded);
            let bounded = !word_bounded
                || !(is_word(text.get(..m.start()).and_then(|t| t.chars().next_back()))
                    || is_word(text.get(m.end()..).and_then(|t| t.chars().next())));
            if bounded {
                return Some(m);
            }
            let shorter = Input::new(text)
                .span(m.start()..m.end() - 1)
                .anchored(Anchored::Yes);
            m = self.anchored.find(shorter)?;
        }
    }
}

/// Appends `text` NFKC-normalised and lower-cased, typographic apostrophes
/// as ASCII, every run of white space as one space (so a phrase wrapped
/// across lines still matches). ASCII, most of any mail, is handled eight
/// bytes at a time where it can be (see [`plain_ascii_chunk`]), else a byte
/// at a time; only the non-ASCII runs go through the normaliser.
fn normalize_into(text: &str, out: &mut String) {
    let mut bytes = std::mem::take(out).into_bytes();
    bytes.reserve(text.len());
    let mut last_space = bytes.is_empty() || bytes.ends_with(b" ");
    let src = text.as_bytes();
    let mut i = 0;
    while i < src.len() {
        while let Some(chunk) = src.get(i..i + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            let Some(lower) = plain_ascii_chunk(word, last_space) else {
                break;
            };
            bytes.extend_from_slice(&lower.to_le_bytes());
            last_space = lower >> 56 == u64::from(b' ');
            i += 8;
        }
        // Up to the next eight bytes one at a time, or one non-ASCII run.
        let stop = (i + 8).min(src.len());
        while i < stop {
            let Some(&b) = src.get(i).filter(|b| b.is_ascii()) else {
                break;
            };
            if b.is_ascii_whitespace() {
                if !last_space {
                    bytes.push(b' ');
                    last_space = true;
                }
            } else {
                bytes.push(b.to_ascii_lowercase());
                last_space = false;
            }
            i += 1;
        }
        if i < stop {
            // An ASCII byte always starts a char, so this run is whole chars.
            let start = i;
            while src.get(i).is_some_and(|b| !b.is_ascii()) {
                i += 1;
            }
            let mut utf8 = [0u8; 4];
            for c in text.get(start..i).unwrap_or_default().nfkc() {
                if c.is_whitespace() {
                    if !last_space {
                        bytes.push(b' ');
                        last_space = true;
                    }
                    continue;
                }
                last_space = false;
                for lower in c.to_lowercase() {
                    let lower = match lower {
                        '\u{2019}' | '\u{2018}' | '\u{02bc}' => '\'',
                        c => c,
                    };
                    bytes.extend_from_slice(lower.encode_utf8(&mut utf8).as_bytes());
                }
            }
        }
    }
    // Only whole chars were appended to valid UTF-8.
    *out = String::from_utf8(bytes).unwrap_or_default();
}

/// Eight bytes (little-endian) lower-cased, when normalising them is only
/// that: all ASCII, no control or white space but single spaces, and no
/// space after a space (`last_space` is whether one was just written).
/// None when they need the byte-by-byte path.
fn plain_ascii_chunk(word: u64, last_space: bool) -> Option<u64> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bytes are below 0x80 from here on, so no sum below carries into the
    // next byte and each byte's high bit answers for that byte alone.
    if word & HIGH != 0 {
        return None;
    }
    // High bit set where a byte is at least 0x20 (not a control character).
    if (word + ONES * (0x80 - 0x20)) & HIGH != HIGH {
        return None;
    }
    let xor_space = word ^ (ONES * u64::from(b' '));
    let spaces = !((xor_space + ONES * 0x7f) | xor_space) & HIGH;
    if spaces & (spaces << 8) != 0 || (last_space && spaces & 0x80 != 0) {
        return None;
    }
    let at_least_a = word + ONES * (0x80 - u64::from(b'A'));
    let past_z = word + ONES * (0x80 - u64::from(b'Z') - 1);
    let upper = at_least_a & !past_z & HIGH;
    Some(word | (upper >> 2))
}

fn normalize(text: &str) -> String {
    let mut out = String::new();
    normalize_into(text, &mut out);
    out
}

/// The intent family.
pub(crate) fn extract(
    view: &MessageView,
    matcher: &IntentMatcher,
    v: &mut FeatureVector,
    log: &mut EvidenceLog,
) -> IntentCounts {
    let counts = matcher.count(&view.subject, &view.body_text);
    let per = counts.chars.max(MIN_RATE_CHARS) as f32 / 1000.0;
    v.set(Feature::BodyTextChars, counts.chars as f32);
    for cat in IntentCategory::ALL {
        let n = counts.count(cat);
        let (count_f, rate_f) = cat.features();
        v.set(count_f, n as f32);
        v.set(rate_f, n as f32 / per);
        if n > 0 {
            let examples = counts
                .examples
                .get(&cat)
                .map(|e| e.join("\", \""))
                .unwrap_or_default();
            log.add(
                count_f,
                None,
                format!("{}: {n} phrase(s), e.g. \"{examples}\"", cat.label()),
            );
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time normalisation that [`normalize_into`] must match.
    fn normalize_reference(text: &str) -> String {
        let mut out = String::new();
        let mut last_space = true;
        for c in text.chars() {
            if c.is_ascii() {
                if c.is_ascii_whitespace() {
                    if !last_space {
                        out.push(' ');
                        last_space = true;
                    }
                } else {
                    out.push(c.to_ascii_lowercase());
                    last_space = false;
                }
                continue;
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn ascii_normalisation_matches_the_byte_at_a_time_reading() {
        let pieces = [
            "Hello",
            " ",
            "  ",
            "\r\n",
            "\t",
            "WORLD",
            "a",
            "Z",
            "@",
            "[",
            "`",
            "{",
            "~",
            "\x7f",
            "\x01",
            "\x0b",
            "\x0c",
            "x y",
            "!",
            "  z",
            "ABCDEFGHIJ",
            "0123456789",
        ];
        // A fixed pseudo-random walk over the pieces, long enough to cross
        // every eight-byte alignment.
        let mut state: u32 = 1;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..24 {
                text.push_str(pieces[crate::pick(&mut state, pieces.len())]);
            }
            assert_eq!(normalize(&text), normalize_reference(&text), "{text:?}");
        }
        for b in 0..=127u8 {
            let text = String::from(char::from(b)).repeat(17);
            assert_eq!(normalize(&text), normalize_reference(&text), "{b}");
            let text = format!("ab {}cdefghijklmnop", char::from(b));
            assert_eq!(normalize(&text), normalize_reference(&text), "{b}");
        }
        assert_eq!(
            normalize("Caf\u{e9} AU  LAIT\r\n\u{2019}S"),
            "café au lait 's"
        );
    }

    /// The first reading of [`IntentMatcher::count`]: every overlapping
    /// match that stands at its boundaries, then leftmost-longest of those.
    fn count_reference(
        m: &IntentMatcher,
        all: &AhoCorasick,
        text: &str,
    ) -> BTreeMap<IntentCategory, u32> {
        let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let mut found: Vec<Match> = all
            .find_overlapping_iter(text)
            .filter(|x| {
                !m.patterns[x.pattern().as_usize()].word_bounded
                    || !(is_word(text[..x.start()].chars().next_back())
                        || is_word(text[x.end()..].chars().next()))
            })
            .collect();
        found.sort_unstable_by_key(|x| (x.start(), std::cmp::Reverse(x.end())));
        let (mut end, mut counts) = (0, BTreeMap::new());
        for x in found {
            if x.start() < end {
                continue;
            }
            end = x.end();
            for c in &m.patterns[x.pattern().as_usize()].categories {
                *counts.entry(*c).or_insert(0) += 1;
            }
        }
        counts
    }

    #[test]
    fn leftmost_longest_scan_counts_as_the_overlapping_reading() {
        let m = IntentMatcher::builtin().unwrap();
        let all = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&m.phrases)
            .unwrap();
        // Phrases, their prefixes and extensions, letters that glue words
        // together, and Japanese, walked pseudo-randomly.
        let pieces = [
            "confidential",
            "confidential matter",
            "s",
            " ",
            "urgent",
            "ly",
            "wire transfer",
            "wire",
            "x",
            "are you at your desk",
            "gift card",
            "至急",
            "振込先の変更",
            "振込",
            "本日中",
            "keep this between us",
            "verify your account",
            "-",
            "bank details",
            "asap",
        ];
        let mut state: u32 = 7;
        let mut ascii_texts = 0;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..12 {
                text.push_str(pieces[crate::pick(&mut state, pieces.len())]);
            }
            let normalized = normalize(&text);
            ascii_texts += usize::from(normalized.is_ascii());
            let got = m.count(&text, "");
            // `count` joins subject and body with a space; the reference
            // reads the same text.
            assert_eq!(
                got.counts,
                count_reference(&m, &all, &format!("{normalized} ")),
                "{text:?}"
            );
        }
        // Both scanners were read: the ASCII one and the one of all phrases.
        assert!((100..2900).contains(&ascii_texts), "{ascii_texts}");
    }

    #[test]
    fn builtin_lexicon_loads_and_covers_every_category() {
        let m = IntentMatcher::builtin().unwrap();
        assert!(m.phrases.len() > 200);
        let covered: std::collections::HashSet<_> = m
            .patterns
            .iter()
            .flat_map(|p| p.categories.clone())
            .collect();
        assert_eq!(covered.len(), IntentCategory::ALL.len());
    }

    #[test]
    fn english_phrases_need_word_boundaries() {
        let m = IntentMatcher::from_toml("[[category]]\nname = \"urgency\"\nen = [\"urgent\"]\n")
            .unwrap();
        assert_eq!(
            m.count("URGENT: read", "").count(IntentCategory::Urgency),
            1
        );
        assert_eq!(
            m.count("", "this is urgently needed, urgent!")
                .count(IntentCategory::Urgency),
            1
        );
        assert_eq!(m.count("", "nonurgent").count(IntentCategory::Urgency), 0);
        let m = IntentMatcher::from_toml(
            "[[category]]\nname = \"payment\"\nen = [\"wire transfer\"]\n",
        )
        .unwrap();
        assert_eq!(
            m.count("", "process a wire\r\n   transfer today")
                .count(IntentCategory::Payment),
            1
        );
    }

    #[test]
    fn japanese_phrases_match_inside_text_after_nfkc() {
        let m = IntentMatcher::builtin().unwrap();
        let c = m.count(
            "【至急】振込先の変更について",
            "本日中にご対応ください。内密にお願いします。ｱﾏｿﾞﾝｷﾞﾌﾄ券",
        );
        assert!(c.count(IntentCategory::Urgency) >= 2, "{c:?}");
        assert!(c.count(IntentCategory::BankChange) >= 1, "{c:?}");
        assert!(c.count(IntentCategory::Secrecy) >= 1, "{c:?}");
    }

    #[test]
    fn english_bec_lure_hits_its_categories() {
        let m = IntentMatcher::builtin().unwrap();
        let c = m.count(
            "Urgent wire - confidential",
            "We are closing a confidential deal today and I need a wire transfer sent. Please keep this between us. Are you at your desk? Buy gift cards and send me the codes. Our bank details have changed. Verify your account.",
        );
        for cat in IntentCategory::ALL {
            assert!(c.count(cat) >= 1, "{cat:?} not found in {c:?}");
        }
    }

    #[test]
    fn ordinary_text_stays_quiet() {
        let m = IntentMatcher::builtin().unwrap();
        let c = m.count(
            "Minutes of the meeting",
            "The committee reviewed the garden plans and agreed to meet again next month.",
        );
        let total: u32 = IntentCategory::ALL.iter().map(|cat| c.count(*cat)).sum();
        assert_eq!(total, 0, "{c:?}");
    }
}
