//! What the message asks for: action, payment, gift cards, bank-detail
//! changes, urgency, secrecy and credential lures, in English and Japanese.
//!
//! Phrases come from `data/intent.toml` and are matched with one
//! Aho-Corasick automaton over NFKC-normalised, lower-cased subject and body.
//! English phrases must stand at word boundaries; Japanese ones need not.
//! Rates are per 1,000 characters, with texts under 100 characters counted
//! as 100 so a two-word message does not get an absurd rate.

use crate::error::FeatureError;
use crate::evidence::EvidenceLog;
use crate::message::MessageView;
use crate::schema::{Feature, FeatureVector};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
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
    ActionRequest,
    Payment,
    GiftCard,
    BankChange,
    Urgency,
    Secrecy,
    CredentialLure,
}

impl IntentCategory {
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
    automaton: AhoCorasick,
    patterns: Vec<Pattern>,
    phrases: Vec<String>,
}

impl IntentMatcher {
    pub fn builtin() -> Result<IntentMatcher, FeatureError> {
        IntentMatcher::from_toml(BUILTIN_LEXICON)
    }

    pub fn from_toml(text: &str) -> Result<IntentMatcher, FeatureError> {
        let invalid = |message: String| FeatureError::Invalid {
            what: "intent lexicon".into(),
            message,
        };
        let lexicon: Lexicon = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
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
        let automaton = AhoCorasick::builder()
            // Standard: every match is reported, overlapping (see `count`).
            .match_kind(MatchKind::Standard)
            // A DFA: more memory, built once, and the fastest scan per byte.
            .kind(Some(AhoCorasickKind::DFA))
            .build(&phrases)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(IntentMatcher {
            automaton,
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
            chars: text.chars().count(),
            ..IntentCounts::default()
        };
        // Every match, overlapping, that stands at its word boundaries; then
        // the leftmost-longest of those that do not overlap. A long phrase
        // refused for its boundaries ("confidential matter" in "confidential
        // matters") must not hide a shorter one at or inside it.
        let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let mut found: Vec<aho_corasick::Match> = self
            .automaton
            .find_overlapping_iter(&text)
            .filter(|m| {
                !self.patterns[m.pattern().as_usize()].word_bounded
                    || !(is_word(text[..m.start()].chars().next_back())
                        || is_word(text[m.end()..].chars().next()))
            })
            .collect();
        found.sort_unstable_by_key(|m| (m.start(), std::cmp::Reverse(m.end())));
        let mut end = 0;
        for m in found {
            if m.start() < end {
                continue;
            }
            end = m.end();
            let pattern = &self.patterns[m.pattern().as_usize()];
            for c in &pattern.categories {
                *out.counts.entry(*c).or_insert(0) += 1;
                let examples = out.examples.entry(*c).or_default();
                let phrase = &self.phrases[m.pattern().as_usize()];
                if examples.len() < 3 && !examples.contains(phrase) {
                    examples.push(phrase.clone());
                }
            }
        }
        out
    }
}

/// Appends `text` NFKC-normalised and lower-cased, typographic apostrophes
/// as ASCII, every run of white space as one space (so a phrase wrapped
/// across lines still matches). ASCII runs, most of any mail, are copied
/// whole and fixed up in place; only the runs between them go through the
/// normaliser.
fn normalize_into(text: &str, out: &mut String) {
    let mut bytes = std::mem::take(out).into_bytes();
    bytes.reserve(text.len());
    let mut last_space = bytes.is_empty() || bytes.ends_with(b" ");
    let mut rest = text;
    while !rest.is_empty() {
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        // Copied at once, then lower-cased and squeezed in place without
        // branching on each byte: white space after white space is
        // written and then overwritten.
        let from = bytes.len();
        bytes.extend_from_slice(&rest.as_bytes()[..ascii]);
        let run = &mut bytes[from..];
        let mut kept = 0;
        for read in 0..run.len() {
            let b = run[read];
            let space = b.is_ascii_whitespace();
            run[kept] = if space { b' ' } else { b.to_ascii_lowercase() };
            kept += usize::from(!(space && last_space));
            last_space = space;
        }
        bytes.truncate(from + kept);
        rest = &rest[ascii..];
        // An ASCII byte always starts a char, so this split is on a boundary.
        let other = rest
            .bytes()
            .position(|b| b.is_ascii())
            .unwrap_or(rest.len());
        let mut utf8 = [0u8; 4];
        for c in rest[..other].nfkc() {
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
        rest = &rest[other..];
    }
    // Only whole chars were appended to valid UTF-8.
    *out = String::from_utf8(bytes).unwrap_or_default();
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
