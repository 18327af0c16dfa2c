//! Callback phishing ("TOAD", telephone-oriented attack delivery): a
//! message, or the PDF invoice attached to it, says a purchase, renewal or
//! charge has happened and gives a phone number to "cancel" it, so that the
//! reader calls the attacker. Such mail carries no link or almost none, and
//! comes from a free-mail address or a domain unrelated to the brand it
//! names.
//!
//! What it measures, over the subject, the body text and the attachments'
//! text (NFKC-normalised, so full-width digits and dashes read as ASCII):
//! - phone numbers, found by a small linear scanner: North American
//!   (`+1 (888) 555-0199`, `1-888-555-0199`, `888.555.0199`), international
//!   with `+` (`+44 20 7946 0958`, `+81 3-1234-5678`), trunk-prefix
//!   domestic (`0120-123-456`, `03-1234-5678`, `020 7946 0958`), digits
//!   spaced out one by one, and digits faked with letters (`1-8OO-555-O199`,
//!   `l-888-…`: O/o for 0, l/I/| for 1 inside a digit group);
//! - the words of the charge story (`data/callback.toml`, English and
//!   Japanese): purchase, renewal, subscription, charge, refund, cancel,
//!   "did not authorise";
//! - brands of the Context's brand list named in that text while the From
//!   domain is none of the brand's domains;
//! - the lure itself: a number, charge words, at most one body link and a
//!   brand named by an unrelated sender or a free-mail sender.
//!
//! What it deliberately does not do: look a number up (in a directory or a
//! reputation list), read numbers out of images (no OCR), count seven-digit
//! local numbers (`555-0199`) or bare digit runs without a phone word
//! before them (order and account numbers look the same), or count what
//! the words just before a number call an order, invoice, account,
//! tracking or postal number. Dates, amounts, times, IP addresses and
//! long codes do not have a phone number's shape and are not read as one.
//! The lure is not a forging technique: its evidence names none.

use crate::attachment::LinkOrigin;
use crate::context::{Brand, Context};
use crate::domain::registrable_domain;
use crate::error::FeatureError;
use crate::evidence::EvidenceLog;
use crate::message::MessageView;
use crate::schema::{Feature, FeatureVector};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

const BUILTIN_LEXICON: &str = include_str!("../data/callback.toml");

/// Phone numbers kept per message; the count stops here too.
const MAX_NUMBERS: usize = 32;
/// Candidate numbers checked against their context per message, so that
/// a hostile text of number-shaped runs costs bounded work.
const MAX_CANDIDATES: usize = 4096;
/// Characters of one run of digits and separators read as one candidate;
/// a longer run is read past and counts as no number.
const MAX_RUN_CHARS: usize = 64;
/// Digit groups of one run; more and the run counts as no number.
const MAX_RUN_GROUPS: usize = 16;
/// Bytes of normalised text read, whatever NFKC makes of the input.
const MAX_SCAN_BYTES: usize = 8 << 20;
/// Bytes before a number in which a phone word or an order word is sought.
const CONTEXT_BYTES: usize = 32;
/// Charge words counted at most (the count is a feature value).
const MAX_TERMS: u32 = 1000;
/// Evidence examples per feature.
const MAX_EXAMPLES: usize = 3;

#[derive(Deserialize, Default)]
struct Lexicon {
    #[serde(default)]
    purchase: Terms,
    #[serde(default)]
    not_phone: Terms,
    #[serde(default)]
    phone_cue: Terms,
    #[serde(default)]
    brands: BrandRules,
}

#[derive(Deserialize, Default)]
struct Terms {
    #[serde(default)]
    en: Vec<String>,
    #[serde(default)]
    ja: Vec<String>,
}

#[derive(Deserialize, Default)]
struct BrandRules {
    /// Brand names that are also common words ("Target", "Square"): they
    /// count only as written or in capitals.
    #[serde(default)]
    exact_case: Vec<String>,
}

/// How a brand name must be written to count.
#[derive(Clone, Copy, Debug, PartialEq)]
enum CaseRule {
    /// In any case of its ASCII letters.
    Any,
    /// As written in the list, or in capitals.
    Exact,
    /// As written (lower case, like "au"), next to non-Latin text.
    ExactInCjk,
}

/// The callback lexicon and the brand names, compiled once per Context.
pub(crate) struct CallbackMatcher {
    /// Charge-story terms; pattern i is `purchase_terms[i]`.
    purchase: AhoCorasick,
    purchase_terms: Vec<(String, bool)>,
    /// Words before a number that make it an order or account number,
    /// lower case: (term, English).
    not_phone: Vec<(String, bool)>,
    /// Words before a bare digit run that make it a phone number.
    phone_cue: Vec<String>,
    /// Brand names; pattern i is `brand_names[i]`.
    brands: Option<AhoCorasick>,
    /// (index in the brand list, the name normalised, its case rule).
    brand_names: Vec<(usize, String, CaseRule)>,
}

impl CallbackMatcher {
    /// The built-in lexicon with the names of `brands`.
    pub(crate) fn new(brands: &[Brand]) -> Result<CallbackMatcher, FeatureError> {
        // The lexicon is compiled in, and `builtin_lexicon_loads` proves it
        // parses: the default is never taken.
        let lexicon: Lexicon = toml::from_str(BUILTIN_LEXICON).unwrap_or_default();
        let lower = |t: &String| nfkc(t).to_lowercase();
        let mut purchase_terms: Vec<(String, bool)> = Vec::new();
        let terms = lexicon.purchase.en.iter().map(|t| (lower(t), true));
        for (term, english) in terms.chain(lexicon.purchase.ja.iter().map(|t| (lower(t), false))) {
            if !term.trim().is_empty() && !purchase_terms.iter().any(|(p, _)| *p == term) {
                purchase_terms.push((term, english));
            }
        }
        // DFAs, built once per Context: with more than about a hundred
        // patterns the default would be an NFA, three times slower a byte
        // on the whole text of every message (the same matches either way).
        let purchase = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(purchase_terms.iter().map(|(t, _)| t))
            .map_err(|source| FeatureError::Matcher {
                what: "callback lexicon",
                source,
            })?;
        let not_phone = (lexicon.not_phone.en.iter().map(|t| (lower(t), true)))
            .chain(lexicon.not_phone.ja.iter().map(|t| (lower(t), false)))
            .filter(|(t, _)| !t.is_empty())
            .collect();
        let phone_cue = (lexicon.phone_cue.en.iter().chain(&lexicon.phone_cue.ja))
            .map(lower)
            .filter(|t| !t.is_empty())
            .collect();
        let exact: Vec<String> = lexicon.brands.exact_case.iter().map(|n| nfkc(n)).collect();
        let mut brand_names = Vec::new();
        for (i, brand) in brands.iter().enumerate() {
            let name = nfkc(brand.name.trim());
            if name.is_empty() {
                continue;
            }
            let letters = name.chars().filter(|c| c.is_alphanumeric()).count();
            let rule = if letters <= 3 && name.is_ascii() && name.to_ascii_uppercase() != name {
                CaseRule::ExactInCjk
            } else if letters <= 3 || exact.iter().any(|e| e.eq_ignore_ascii_case(&name)) {
                CaseRule::Exact
            } else {
                CaseRule::Any
            };
            brand_names.push((i, name, rule));
        }
        let brands = if brand_names.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .ascii_case_insensitive(true)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(brand_names.iter().map(|(_, n, _)| n))
                    .map_err(|source| FeatureError::Matcher {
                        what: "brand names",
                        source,
                    })?,
            )
        };
        Ok(CallbackMatcher {
            purchase,
            purchase_terms,
            not_phone,
            phone_cue,
            brands,
            brand_names,
        })
    }
}

fn nfkc(text: &str) -> String {
    text.nfkc().collect()
}

/// Which text a number or a name was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    Subject,
    Body,
    Attachment,
}

/// The normalised text: subject, body and attachment text, each part
/// ended by a line break; white space inside a part kept as one space, or
/// one line break where the run held one.
struct Text {
    text: String,
    /// Where the body and the attachment text start in `text`.
    body_at: usize,
    attachment_at: usize,
}

impl Text {
    fn read(subject: &str, body: &str, attachment: &str) -> Text {
        // About the size it ends (NFKC rarely grows text), grown once.
        let size = subject.len() + body.len() + attachment.len() + 3;
        let mut text = String::with_capacity(size.min(MAX_SCAN_BYTES + 64));
        normalize_into(subject, &mut text);
        text.push('\n');
        let body_at = text.len();
        normalize_into(body, &mut text);
        text.push('\n');
        let attachment_at = text.len();
        normalize_into(attachment, &mut text);
        text.push('\n');
        Text {
            text,
            body_at,
            attachment_at,
        }
    }

    fn place(&self, at: usize) -> Place {
        if at >= self.attachment_at {
            Place::Attachment
        } else if at >= self.body_at {
            Place::Body
        } else {
            Place::Subject
        }
    }
}

/// Appends `text` NFKC-normalised (case kept), white-space runs as one
/// space or, when they hold a line break, one line break; stops at
/// [`MAX_SCAN_BYTES`]. ASCII words (runs without white space) are copied at
/// once; every other character takes [`push_char`]'s rule.
fn normalize_into(text: &str, out: &mut String) {
    let mut pending: Option<char> = None;
    let mut rest = text;
    while !rest.is_empty() && out.len() < MAX_SCAN_BYTES {
        // ASCII needs no normalising; a non-ASCII run goes through NFKC.
        let ascii_len = ascii_prefix_len(rest.as_bytes());
        let (mut ascii, tail) = rest.split_at_checked(ascii_len).unwrap_or((rest, ""));
        while !ascii.is_empty() {
            let word = ascii
                .bytes()
                .position(is_ascii_white)
                .unwrap_or(ascii.len());
            if word > 0 {
                // Non-white ASCII: what `push_char` does with each of them.
                let (word, after) = ascii.split_at_checked(word).unwrap_or((ascii, ""));
                if let Some(p) = pending.take() {
                    out.push(if p == '\n' { '\n' } else { ' ' });
                }
                out.push_str(word);
                ascii = after;
            } else {
                let mut chars = ascii.chars();
                if let Some(c) = chars.next() {
                    push_char(c, &mut pending, out);
                }
                ascii = chars.as_str();
            }
        }
        let other_len = tail.bytes().take_while(|b| !b.is_ascii()).count();
        let (other, tail) = tail.split_at_checked(other_len).unwrap_or((tail, ""));
        for c in other.chars().filter(|c| !is_invisible(*c)).nfkc() {
            push_char(c, &mut pending, out);
        }
        rest = tail;
    }
}

/// How many bytes `bytes` starts with that are ASCII: eight at a time,
/// then one at a time.
fn ascii_prefix_len(bytes: &[u8]) -> usize {
    let mut i = 0;
    while let Some(&chunk) = bytes.get(i..).and_then(|b| b.first_chunk::<8>()) {
        if u64::from_le_bytes(chunk) & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        i += 8;
    }
    let rest = bytes.get(i..).unwrap_or_default();
    i + rest.iter().take_while(|b| b.is_ascii()).count()
}

/// The ASCII bytes `char::is_whitespace` takes (tab to carriage return,
/// space).
fn is_ascii_white(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | b' ')
}

/// One character of [`normalize_into`]: white space becomes (or joins) the
/// pending separator, anything else is written after it.
fn push_char(c: char, pending: &mut Option<char>, out: &mut String) {
    if c.is_whitespace() {
        if c == '\n' || c == '\r' || pending.is_none() && !out.is_empty() {
            *pending = Some(if c == '\r' { '\n' } else { c });
        }
        if c == '\n' || c == '\r' {
            *pending = Some('\n');
        }
        return;
    }
    if let Some(p) = pending.take() {
        out.push(if p == '\n' { '\n' } else { ' ' });
    }
    out.push(c);
}

/// Characters that show nothing: zero-width spaces and joiners, soft
/// hyphens, bidi marks, variation selectors and tags. Lures put them inside
/// brand names and numbers ("Micro\u{200b}soft") to break up matching.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{061c}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{e0000}'..='\u{e0fff}'
    )
}

/// A phone number found in the text.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PhoneNumber {
    /// As written (normalised, at most 40 characters).
    pub written: String,
    /// Its digits, letters read as the digits they fake.
    pub digits: String,
    /// Whether letters stand for some of its digits.
    pub faked: bool,
    /// Where it was read.
    pub place: Place,
}

/// One digit group of a run: where it is, what separates it from the
/// previous group, its digits and how many are letters.
#[derive(Clone, Debug)]
struct Group {
    start: usize,
    end: usize,
    /// The separator before it holds a space.
    sep_space: bool,
    /// The run starts with '+' (first group only).
    sep_plus: bool,
    /// The separator before it is a single dot.
    sep_dot: bool,
    digits: String,
    faked: usize,
}

fn fake_digit(c: char) -> Option<char> {
    match c {
        'O' | 'o' => Some('0'),
        'l' | 'I' | '|' => Some('1'),
        _ => None,
    }
}

/// Separators inside a phone number: space, hyphen and the dashes
/// Japanese and typeset text use, dot, parentheses.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '.' | '(' | ')' | '\u{2010}'
            ..='\u{2015}' | '\u{2212}' | '\u{30fc}' | '\u{ff70}'
    )
}

/// Finds the phone numbers of a normalised text: at most [`MAX_NUMBERS`],
/// in one pass over it.
fn find_numbers(m: &CallbackMatcher, t: &Text) -> Vec<PhoneNumber> {
    let text = t.text.as_str();
    let bytes = text.as_bytes();
    let mut found: Vec<PhoneNumber> = Vec::new();
    let mut candidates = 0usize;
    let mut i = 0;
    while i < bytes.len() && found.len() < MAX_NUMBERS && candidates < MAX_CANDIDATES {
        let Some(&b) = bytes.get(i) else { break };
        let next = bytes.get(i + 1).copied();
        let starts = b.is_ascii_digit()
            || (b == b'+' || b == b'(') && next.is_some_and(|n| n.is_ascii_digit())
            || b == b'+' && next == Some(b'(')
            || matches!(b, b'l' | b'I' | b'|')
                && matches!(next, Some(b'-' | b'.' | b' '))
                && bytes.get(i + 2).is_some_and(u8::is_ascii_digit);
        if !starts || !left_boundary(text, i) {
            i += 1;
            // Inside a word or a longer token: on to its end, so that each
            // byte is looked at a bounded number of times.
            if b.is_ascii_alphanumeric() {
                while bytes.get(i).is_some_and(u8::is_ascii_alphanumeric) {
                    i += 1;
                }
            }
            continue;
        }
        let run_start = i;
        let (end, groups) = read_run(text, i);
        i = end.max(i + 1);
        let Some(groups) = groups else { continue };
        for (s, e) in split_run(&groups) {
            let (Some(first), Some(last), Some(part)) =
                (groups.get(s), groups.get(e - 1), groups.get(s..e))
            else {
                continue;
            };
            candidates += 1;
            // The number as written: with the '+' or '(' that opens it.
            let start = if s == 0 {
                run_start
            } else if first.start > 0 && bytes.get(first.start - 1) == Some(&b'(') {
                first.start - 1
            } else {
                first.start
            };
            if !right_boundary(text, last.end) {
                continue;
            }
            let digits: String = part.iter().map(|g| g.digits.as_str()).collect();
            if part.len() == 1 && !first.sep_plus && !has_cue(m, text, start) {
                continue;
            }
            if names_something_else(m, text, start) || found.iter().any(|f| f.digits == digits) {
                continue;
            }
            let written = text.get(start..last.end).unwrap_or_default();
            found.push(PhoneNumber {
                written: crate::html::truncate_at_char(written, 40).to_string(),
                faked: part.iter().any(|g| g.faked > 0),
                digits,
                place: t.place(start),
            });
            if found.len() >= MAX_NUMBERS {
                break;
            }
        }
    }
    found
}

/// Whether a number may start at byte `i`: not glued to a word, an
/// amount, an order sign or the digits of a date, time or decimal.
fn left_boundary(text: &str, i: usize) -> bool {
    let mut before = text.get(..i).unwrap_or_default().chars().rev();
    let Some(p) = before.next() else { return true };
    if p.is_ascii_alphanumeric() || "$€£¥#%&@_=/\\*+~^".contains(p) {
        return false;
    }
    if ".,:-".contains(p) {
        return !before.next().is_some_and(|q| q.is_ascii_digit());
    }
    true
}

/// Whether a number may end at byte `end`: not followed by a letter, a
/// percent or currency sign, a slash, or the digits of a time or decimal.
fn right_boundary(text: &str, end: usize) -> bool {
    let mut after = text.get(end..).unwrap_or_default().chars();
    let Some(n) = after.next() else { return true };
    if n.is_ascii_alphanumeric() || "%/\\$€£¥円@_=*".contains(n) {
        return false;
    }
    if ":,.-".contains(n) {
        return !after.next().is_some_and(|q| q.is_ascii_alphanumeric());
    }
    true
}

/// Reads the run of digit groups and separators at `start`: where it ends,
/// and its groups (None when the run is too long). Between two groups
/// stand at most three separator characters; a '+' only opens the run.
fn read_run(text: &str, start: usize) -> (usize, Option<Vec<Group>>) {
    let rest = text.get(start..).unwrap_or_default();
    let mut groups: Vec<Group> = Vec::new();
    let mut current: Option<Group> = None;
    // The separator since the last group: characters, a space, a '+',
    // and whether it is one dot.
    let (mut sep_chars, mut sep_space, mut sep_plus, mut sep_dot) = (0usize, false, false, false);
    let mut end = start;
    let mut too_long = false;
    for (chars, (off, c)) in rest.char_indices().enumerate() {
        let at = start + off;
        if chars >= MAX_RUN_CHARS || groups.len() >= MAX_RUN_GROUPS {
            too_long = true;
            break;
        }
        let digit = if c.is_ascii_digit() {
            Some((c, false))
        } else {
            fake_digit(c).map(|d| (d, true))
        };
        if let Some((d, faked)) = digit {
            let g = current.get_or_insert_with(|| Group {
                start: at,
                end: at,
                sep_space,
                sep_plus,
                sep_dot: sep_dot && sep_chars == 1,
                digits: String::new(),
                faked: 0,
            });
            g.digits.push(d);
            g.faked += usize::from(faked);
            g.end = at + c.len_utf8();
        } else if is_separator(c) || (c == '+' && chars == 0) {
            if let Some(g) = current.take() {
                groups.push(g);
                (sep_chars, sep_space, sep_plus) = (0, false, false);
            }
            sep_chars += 1;
            if sep_chars > 3 {
                break;
            }
            sep_space |= c == ' ';
            sep_plus |= c == '+';
            sep_dot = c == '.';
        } else {
            break;
        }
        end = at + c.len_utf8();
    }
    if let Some(g) = current.take() {
        groups.push(g);
    }
    if too_long {
        // Read past the whole run so that no part of it is read again.
        let mut past = end;
        for c in text.get(end..).unwrap_or_default().chars() {
            if c.is_ascii_digit() || is_separator(c) || fake_digit(c).is_some() {
                past += c.len_utf8();
            } else {
                break;
            }
        }
        return (past, None);
    }
    // A group of letters alone is a word, not digits: the run ends before
    // it (a lone leading l, I or | before a digit group stands for 1).
    let keep = groups
        .iter()
        .enumerate()
        .position(|(k, g)| {
            g.faked == g.digits.len() && !(k == 0 && g.digits.len() == 1 && groups.len() > 1)
        })
        .unwrap_or(groups.len());
    groups.truncate(keep);
    if groups.is_empty() {
        return (end, None);
    }
    (end, Some(groups))
}

/// The numbers of a run: greedily the longest valid sequence of groups at
/// each place a number may start (the run's start, or after a space),
/// ending where one may end (the run's end, or before a space).
fn split_run(groups: &[Group]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let n = groups.len();
    let mut s = 0;
    while s < n {
        let may_start = s == 0 || groups.get(s).is_some_and(|g| g.sep_space || g.sep_plus);
        let mut taken = None;
        if may_start {
            for e in (s + 1..=n).rev() {
                let may_end = e == n || groups.get(e).is_some_and(|g| g.sep_space);
                if may_end && groups.get(s..e).is_some_and(is_phone_number) {
                    taken = Some(e);
                    break;
                }
            }
        }
        match taken {
            Some(e) => {
                out.push((s, e));
                s = e;
            }
            None => s += 1,
        }
    }
    out
}

/// Whether digit groups have the shape of a phone number.
fn is_phone_number(groups: &[Group]) -> bool {
    let Some(first) = groups.first() else {
        return false;
    };
    // '+' only before the first group.
    if groups.iter().skip(1).any(|g| g.sep_plus) {
        return false;
    }
    let digits: Vec<u8> = groups.iter().flat_map(|g| g.digits.bytes()).collect();
    let d = |k: usize| digits.get(k).copied().unwrap_or(b'0');
    let lens: Vec<usize> = groups.iter().map(|g| g.digits.len()).collect();
    let n = digits.len();
    // Dotted quads of numbers up to 255 are IP addresses.
    if lens.len() == 4
        && groups.iter().skip(1).all(|g| g.sep_dot)
        && groups
            .iter()
            .all(|g| g.digits.parse::<u32>().is_ok_and(|v| v <= 255))
    {
        return false;
    }
    // Digits spaced out one by one.
    let spaced = lens.len() >= 7 && lens.iter().all(|l| *l == 1);
    if spaced && !groups.iter().skip(1).all(|g| g.sep_space) {
        return false;
    }
    let nanp_digit = |b: u8| (b'2'..=b'9').contains(&b);
    if first.sep_plus {
        return (8..=15).contains(&n) && d(0) != b'0' && lens.len() <= 6;
    }
    let nanp = match n {
        10 => nanp_digit(d(0)) && nanp_digit(d(3)) && (lens == [3, 3, 4] || spaced),
        11 => {
            d(0) == b'1' && nanp_digit(d(1)) && nanp_digit(d(4)) && (lens == [1, 3, 3, 4] || spaced)
        }
        _ => false,
    };
    let trunk = (10..=11).contains(&n)
        && d(0) == b'0'
        && d(1) != b'0'
        && (spaced
            || (2..=5).contains(&lens.len())
                && lens.first().is_some_and(|l| (2..=5).contains(l))
                && lens.iter().all(|l| *l >= 2));
    // A single group of 10 or 11 digits: the caller asks for a phone word.
    let single = lens.len() == 1 && (n == 10 && nanp_digit(d(0)) || n == 11 && d(0) == b'1')
        || lens.len() == 1 && (10..=11).contains(&n) && d(0) == b'0' && d(1) != b'0';
    nanp || trunk || single
}

/// The ASCII-lower-cased text up to [`CONTEXT_BYTES`] before `at`, from
/// the start of its line.
fn context_before(text: &str, at: usize) -> String {
    let head = text.get(..at).unwrap_or_default();
    let mut from = at.saturating_sub(CONTEXT_BYTES);
    while !head.is_char_boundary(from) {
        from += 1;
    }
    let window = head.get(from..).unwrap_or_default();
    let line = window.rsplit('\n').next().unwrap_or_default();
    line.to_ascii_lowercase()
}

/// Whether a phone word (call, tel, 電話 …) stands shortly before `at`.
fn has_cue(m: &CallbackMatcher, text: &str, at: usize) -> bool {
    let before = context_before(text, at);
    m.phone_cue.iter().any(|c| before.contains(c.as_str()))
}

/// Whether the words just before `at` call the digits an order, invoice,
/// account, tracking or postal number.
fn names_something_else(m: &CallbackMatcher, text: &str, at: usize) -> bool {
    let before = context_before(text, at);
    let trimmed = before.trim_end_matches([' ', ':', '.', '-', '=', '#', '№', '(', '+']);
    let marks = before.get(trimmed.len()..).unwrap_or_default();
    if marks.contains('#') || marks.contains('№') {
        return true;
    }
    m.not_phone.iter().any(|(term, english)| {
        // "no." keeps its dot; try the text with and without the marks.
        [trimmed, before.trim_end()].iter().any(|t| {
            t.strip_suffix(term.as_str()).is_some_and(|head| {
                !english || !head.chars().next_back().is_some_and(char::is_alphanumeric)
            })
        })
    })
}

/// The charge-story terms of a text: how many, and a few examples.
fn count_terms(m: &CallbackMatcher, flat: &str) -> (u32, Vec<String>) {
    let mut count = 0u32;
    let mut examples: Vec<String> = Vec::new();
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    for hit in m.purchase.find_iter(flat) {
        let Some((term, english)) = m.purchase_terms.get(hit.pattern().as_usize()) else {
            continue;
        };
        if *english
            && (is_word(flat.get(..hit.start()).and_then(|t| t.chars().next_back()))
                || is_word(flat.get(hit.end()..).and_then(|t| t.chars().next())))
        {
            continue;
        }
        count += 1;
        if examples.len() < MAX_EXAMPLES && !examples.contains(term) {
            examples.push(term.clone());
        }
        if count >= MAX_TERMS {
            break;
        }
    }
    (count, examples)
}

/// The brands of the list named in a text: (index in the brand list, the
/// place first named), each once, in the order first named.
fn named_brands(m: &CallbackMatcher, flat: &str, t: &Text) -> Vec<(usize, Place)> {
    let Some(ac) = &m.brands else {
        return Vec::new();
    };
    let mut out: Vec<(usize, Place)> = Vec::new();
    for hit in ac.find_iter(flat) {
        let Some((index, name, rule)) = m.brand_names.get(hit.pattern().as_usize()) else {
            continue;
        };
        if out.iter().any(|(i, _)| i == index) {
            continue;
        }
        let seen = flat.get(hit.start()..hit.end()).unwrap_or_default();
        let before = flat.get(..hit.start()).and_then(|s| s.chars().next_back());
        let after = flat.get(hit.end()..).and_then(|s| s.chars().next());
        // Latin names stand at word boundaries; Japanese text has none.
        let glued = |edge: Option<char>, c: Option<char>| {
            edge.is_some_and(|e| e.is_ascii_alphanumeric())
                && c.is_some_and(|c| c.is_ascii_alphanumeric())
        };
        if glued(name.chars().next(), before) || glued(name.chars().next_back(), after) {
            continue;
        }
        let ok = match rule {
            CaseRule::Any => true,
            CaseRule::Exact => seen == name || seen == name.to_ascii_uppercase(),
            CaseRule::ExactInCjk => {
                let cjk = |c: Option<char>| c.is_some_and(is_cjk);
                let before2 = flat.get(..hit.start()).map(|s| s.trim_end_matches(' '));
                let after2 = flat.get(hit.end()..).map(|s| s.trim_start_matches(' '));
                seen == name
                    && (cjk(before2.and_then(|s| s.chars().next_back()))
                        || cjk(after2.and_then(|s| s.chars().next())))
            }
        };
        if ok {
            out.push((*index, t.place(hit.start())));
        }
    }
    out
}

/// Whether a character is Japanese or Chinese script (kana, CJK
/// ideographs and their punctuation).
fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{30ff}' | '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{ff01}'..='\u{ff9f}')
}

/// Whether a (normalised) From domain is one of a brand's domains or
/// under one.
fn is_brand_domain(brand: &Brand, from: &str) -> bool {
    let reg = registrable_domain(from).unwrap_or(from);
    brand.domains.iter().any(|d| {
        reg == d
            || from == d
            || from
                .strip_suffix(d.as_str())
                .is_some_and(|head| head.ends_with('.'))
    })
}

fn place_words(place: Place, view: &MessageView) -> String {
    match place {
        Place::Subject => "in the subject".into(),
        Place::Body => "in the body".into(),
        Place::Attachment => match view.attachments.as_slice() {
            [only] => format!("in the attachment {}", only.label()),
            _ => "in an attachment".into(),
        },
    }
}

/// The callback family.
pub(crate) fn extract(
    view: &MessageView,
    ctx: &Context,
    v: &mut FeatureVector,
    log: &mut EvidenceLog,
) {
    let m = ctx.callback();
    let text = Text::read(&view.subject, &view.body_text, &view.attachment_text);
    let numbers = find_numbers(m, &text);
    // Phrases and names may wrap across lines: read them on one line,
    // byte for byte the same text.
    let flat = text.text.replace('\n', " ");
    let (terms, term_examples) = count_terms(m, &flat);
    let brands = named_brands(m, &flat, &text);
    let from = view.from_domain();
    let freemail = from.is_some_and(|d| ctx.is_freemail(d));
    // A brand's own mail names other brands too ("works with Windows"):
    // the sender is unrelated only when it owns none of the names.
    let named: Vec<(&Brand, Place)> = brands
        .iter()
        .filter_map(|(i, place)| Some((ctx.brand_list().get(*i)?, *place)))
        .filter(|(b, _)| !b.domains.is_empty())
        .collect();
    let unrelated: Option<(&Brand, Place)> = from
        .filter(|from| !named.iter().any(|(b, _)| is_brand_domain(b, from)))
        .and_then(|_| named.first().copied());
    let body_links = view
        .links
        .iter()
        .filter(|l| l.origin == LinkOrigin::Body)
        .count();

    v.set(Feature::CallbackPhoneNumberCount, numbers.len() as f32);
    if !numbers.is_empty() {
        let shown: Vec<String> = numbers
            .iter()
            .take(MAX_EXAMPLES)
            .map(|n| format!("{} {}", n.written, place_words(n.place, view)))
            .collect();
        log.add(
            Feature::CallbackPhoneNumberCount,
            None,
            format!("{} phone number(s): {}", numbers.len(), shown.join(", ")),
        );
    }
    if let Some(faked) = numbers.iter().find(|n| n.faked) {
        v.set_flag(Feature::PhoneNumberFakedDigits, true);
        log.add(
            Feature::PhoneNumberFakedDigits,
            None,
            format!(
                "phone number {} writes letters for digits (reads {})",
                faked.written, faked.digits
            ),
        );
    }
    v.set(Feature::CallbackPurchaseLexiconCount, terms as f32);
    if terms > 0 {
        log.add(
            Feature::CallbackPurchaseLexiconCount,
            None,
            format!(
                "purchase or charge wording: {terms} term(s), e.g. \"{}\"",
                term_examples.join("\", \"")
            ),
        );
    }
    if let (Some((brand, place)), Some(from)) = (unrelated, from) {
        v.set_flag(Feature::CallbackBrandUnrelatedSender, true);
        log.add(
            Feature::CallbackBrandUnrelatedSender,
            None,
            format!(
                "names \"{}\" {} but the sender's domain {from} is not one of its domains ({})",
                brand.name,
                place_words(place, view),
                brand.domains.join(", ")
            ),
        );
    }
    let lure =
        !numbers.is_empty() && terms > 0 && body_links <= 1 && (unrelated.is_some() || freemail);
    if let (true, Some(number)) = (lure, numbers.first()) {
        v.set_flag(Feature::CallbackLure, true);
        let about = match (unrelated, term_examples.first()) {
            (Some((brand, _)), _) => format!("a \"{}\" charge", brand.name),
            (None, Some(term)) => format!("a charge (\"{term}\")"),
            (None, None) => "a charge".into(),
        };
        let sender = match from {
            Some(d) => format!("a {d} sender"),
            None => "a sender without a domain".into(),
        };
        let links = match (body_links, freemail) {
            (0, true) => "free mail, no links",
            (_, true) => "free mail, one link",
            (0, false) => "no links",
            (_, false) => "one link",
        };
        let place = match number.place {
            Place::Attachment => format!(", the number {}", place_words(number.place, view)),
            _ => String::new(),
        };
        log.add(
            Feature::CallbackLure,
            None,
            format!(
                "asks to call {} about {about} from {sender} ({links}{place})",
                number.written
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{parse_brand_list, OrgProfile, DEFAULT_BRAND_LIST};
    use crate::message::Envelope;

    fn matcher() -> CallbackMatcher {
        CallbackMatcher::new(&parse_brand_list(DEFAULT_BRAND_LIST)).unwrap()
    }

    /// The digits of every number found in a body.
    fn digits(m: &CallbackMatcher, body: &str) -> Vec<String> {
        find_numbers(m, &Text::read("", body, ""))
            .into_iter()
            .map(|n| n.digits)
            .collect()
    }

    fn context() -> Context {
        Context::builder(OrgProfile::default()).build().unwrap()
    }

    /// The callback features and evidence of one message.
    fn run(ctx: &Context, raw: &str) -> (FeatureVector, Vec<String>) {
        let view = MessageView::parse(raw.as_bytes(), &Envelope::default(), ctx).unwrap();
        let mut v = FeatureVector::default();
        let mut log = EvidenceLog::default();
        extract(&view, ctx, &mut v, &mut log);
        let evidence = log.items.into_iter().map(|e| e.detail).collect();
        (v, evidence)
    }

    const NORTON_LURE: &str = "Your Norton 360 subscription has been renewed and $499.99 was charged to your card. \
        If you did not authorise this charge, call +1 (888) 555-0199 within 24 hours to cancel and get a refund.";

    fn message(from: &str, subject: &str, body: &str) -> String {
        format!(
            "From: {from}\r\nTo: victim@example.net\r\nSubject: {subject}\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
    }

    /// The character-at-a-time normalisation [`normalize_into`] must match.
    fn normalize_reference(text: &str, out: &mut String) {
        let mut pending: Option<char> = None;
        let mut push = |c: char, out: &mut String| {
            if c.is_whitespace() {
                if c == '\n' || c == '\r' || pending.is_none() && !out.is_empty() {
                    pending = Some(if c == '\r' { '\n' } else { c });
                }
                if c == '\n' || c == '\r' {
                    pending = Some('\n');
                }
                return;
            }
            if let Some(p) = pending.take() {
                out.push(if p == '\n' { '\n' } else { ' ' });
            }
            out.push(c);
        };
        let mut rest = text;
        while !rest.is_empty() && out.len() < MAX_SCAN_BYTES {
            let ascii_len = ascii_prefix_len(rest.as_bytes());
            let (ascii, tail) = rest.split_at_checked(ascii_len).unwrap_or((rest, ""));
            for c in ascii.chars() {
                push(c, out);
            }
            let other_len = tail.bytes().take_while(|b| !b.is_ascii()).count();
            let (other, tail) = tail.split_at_checked(other_len).unwrap_or((tail, ""));
            for c in other.chars().filter(|c| !is_invisible(*c)).nfkc() {
                push(c, out);
            }
            rest = tail;
        }
    }

    #[test]
    fn word_at_a_time_normalisation_matches_the_character_rule() {
        let pieces = [
            "Call", " ", "  ", "\t", "\n", "\r\n", "\r", "\u{b}", "\u{c}", "\u{1c}", "1-888",
            "\u{200b}", "\u{a0}", "\u{3000}", "\u{ff11}", "é", "ｶ", "\u{85}", "x", ".",
        ];
        let mut state: u32 = 7;
        for round in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(round % 16) {
                text.push_str(pieces[crate::pick(&mut state, pieces.len())]);
            }
            for start in ["", "s"] {
                let (mut mine, mut theirs) = (start.to_string(), start.to_string());
                normalize_into(&text, &mut mine);
                normalize_reference(&text, &mut theirs);
                assert_eq!(mine, theirs, "{text:?} after {start:?}");
            }
        }
    }

    #[test]
    fn builtin_lexicon_loads() {
        let lexicon: Lexicon = toml::from_str(BUILTIN_LEXICON).unwrap();
        assert!(lexicon.purchase.en.len() > 40 && lexicon.purchase.ja.len() > 20);
        assert!(!lexicon.not_phone.en.is_empty() && !lexicon.phone_cue.ja.is_empty());
        assert!(lexicon.brands.exact_case.iter().any(|b| b == "Target"));
    }

    #[test]
    fn every_phone_format_is_found() {
        let m = matcher();
        let cases = [
            ("Call +1 (888) 555-0199 now", "18885550199"),
            ("Call 1-888-555-0199 now", "18885550199"),
            ("Call 888.555.0199 now", "8885550199"),
            ("Call (888) 555 0199 now", "8885550199"),
            ("Call 1 (888) 555-0199.", "18885550199"),
            ("Call 1.888.555.0199", "18885550199"),
            ("London office +44 20 7946 0958", "442079460958"),
            ("Tokyo +81 3-1234-5678", "81312345678"),
            ("お問い合わせは 0120-123-456 まで", "0120123456"),
            ("フリーダイヤル0800-123-4567へ", "08001234567"),
            ("本社 03-1234-5678", "0312345678"),
            ("携帯 090-1234-5678", "09012345678"),
            ("IP電話 050-1234-5678", "05012345678"),
            ("０１２０－１２３－４５６までお電話ください", "0120123456"),
            ("電話：０３（１２３４）５６７８", "0312345678"),
            ("call 8 8 8 5 5 5 0 1 9 9 today", "8885550199"),
            ("call 1 8 8 8 5 5 5 0 1 9 9 today", "18885550199"),
            ("Call us: 8885550199", "8885550199"),
            ("UK helpline 020 7946 0958", "02079460958"),
            ("Tel: +1 555 0100", "15550100"),
        ];
        for (text, want) in cases {
            assert_eq!(digits(&m, text), [want], "{text}");
        }
        // Two numbers side by side are two numbers.
        assert_eq!(
            digits(&m, "Tel 03-1234-5678 090-1234-5678"),
            ["0312345678", "09012345678"]
        );
    }

    #[test]
    fn letters_standing_for_digits_are_read_and_flagged() {
        let m = matcher();
        for (text, want) in [
            ("Call 1-8OO-555-O199 now", "18005550199"),
            ("Call l-888-555-0199 now", "18885550199"),
            ("Call (8OO) 555-Ol99", "8005550199"),
        ] {
            let found = find_numbers(&m, &Text::read("", text, ""));
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].digits, want, "{text}");
            assert!(found[0].faked, "{text}");
        }
        let plain = find_numbers(&m, &Text::read("", "Call 1-800-555-0199", ""));
        assert!(!plain[0].faked);
        // Words next to a number are not read as its digits.
        assert_eq!(
            digits(&m, "call 888-555-0199 or lol 888-555-0100 too"),
            ["8885550199", "8885550100"]
        );
        let ctx = context();
        let body = NORTON_LURE.replace("+1 (888) 555-0199", "1-8OO-555-O199");
        let (v, evidence) = run(&ctx, &message("x@gmail.com", "Renewal", &body));
        assert_eq!(v.get(Feature::PhoneNumberFakedDigits), 1.0);
        assert!(
            evidence.iter().any(|e| e.contains("letters for digits")),
            "{evidence:?}"
        );
    }

    #[test]
    fn dates_amounts_order_numbers_and_ips_are_not_numbers() {
        let m = matcher();
        for text in [
            "Meeting on 2024-01-15 at 10:30.",
            "Dated 15.01.2024, 01/15/2024, 2024/01/15 and 2024年1月15日",
            "Total $1,234.56 or €1.234,56 or 1,234,567,890 or ¥1234567890",
            "Order #888-555-0199 shipped",
            "Order No. 0120-123-456",
            "Invoice 888-555-0199 attached",
            "Invoice no: 03-1234-5678",
            "Account 888 555 0199",
            "Tracking number: 1234567890",
            "注文番号：0120-123-456",
            "〒100-0001 東京都",
            "Order 1234567890 and reference 8885550199",
            "server 192.168.100.200 and 203.0.113.45 and 10.0.0.1",
            "ZIP 90210-1234, SSN 123-45-6789, ISBN 978-3-16-148410-0",
            "card 4111 1111 1111 1111 and IBAN GB29 NWBK 6016 1331 9268 19",
            "version 10.15.7 build 19H2 and 3.14159265358979",
            "growth of 12% to 888-555-0199% is odd",
            "ratios 250 300 12000 and 1 2 3 4 5 6 7 8 9 10",
            "Message-ID: <20240115103000.888555019@example.com>",
        ] {
            assert!(
                digits(&m, text).is_empty(),
                "{text}: {:?}",
                digits(&m, text)
            );
        }
    }

    #[test]
    fn a_signature_number_counts_but_is_no_lure() {
        let ctx = context();
        let body =
            "Thanks, see you at the meeting.\n--\nJane Doe\nTel: +1 555 0100\nFax: +1 555 0101";
        let (v, _) = run(&ctx, &message("jane@example.org", "Meeting", body));
        assert_eq!(v.get(Feature::CallbackPhoneNumberCount), 2.0);
        assert_eq!(v.get(Feature::CallbackLure), 0.0);
        // A free-mail sender with a number but no charge story: no lure.
        let (v, _) = run(&ctx, &message("jane@gmail.com", "Meeting", body));
        assert_eq!(v.get(Feature::CallbackPhoneNumberCount), 2.0);
        assert_eq!(v.get(Feature::CallbackPurchaseLexiconCount), 0.0);
        assert_eq!(v.get(Feature::CallbackLure), 0.0);
    }

    #[test]
    fn an_english_lure_sets_the_lure_flag() {
        let ctx = context();
        let raw = message(
            "Billing Dept <billing.dept4471@gmail.com>",
            "Your Norton 360 renewal",
            NORTON_LURE,
        );
        let (v, evidence) = run(&ctx, &raw);
        assert_eq!(v.get(Feature::CallbackPhoneNumberCount), 1.0);
        assert!(v.get(Feature::CallbackPurchaseLexiconCount) >= 5.0);
        assert_eq!(v.get(Feature::CallbackBrandUnrelatedSender), 1.0);
        assert_eq!(v.get(Feature::CallbackLure), 1.0);
        assert_eq!(v.get(Feature::PhoneNumberFakedDigits), 0.0);
        assert!(
            evidence.iter().any(|e| e
                == "asks to call +1 (888) 555-0199 about a \"Norton\" charge from a gmail.com sender (free mail, no links)"),
            "{evidence:?}"
        );
        // With many links it reads as a newsletter, not a lure.
        let links: String = (0..3)
            .map(|i| format!(" https://shop{i}.example.com/x"))
            .collect();
        let (v, _) = run(
            &ctx,
            &message(
                "billing@gmail.com",
                "Renewal",
                &format!("{NORTON_LURE}{links}"),
            ),
        );
        assert_eq!(v.get(Feature::CallbackLure), 0.0);
    }

    #[test]
    fn a_japanese_lure_sets_the_lure_flag() {
        let ctx = context();
        let body = "Amazonプライムをご購入いただきありがとうございます。年会費 ¥5,900 が自動更新され、\
            ご登録のカードに請求されました。お心当たりのない場合は ０１２０－９８７－６５４ までお電話ください。";
        let raw = message(
            "support-desk@example-mailer.net",
            "ご購入ありがとうございます",
            body,
        );
        let (v, evidence) = run(&ctx, &raw);
        assert_eq!(
            v.get(Feature::CallbackPhoneNumberCount),
            1.0,
            "{evidence:?}"
        );
        assert!(
            v.get(Feature::CallbackPurchaseLexiconCount) >= 3.0,
            "{evidence:?}"
        );
        assert_eq!(
            v.get(Feature::CallbackBrandUnrelatedSender),
            1.0,
            "{evidence:?}"
        );
        assert_eq!(v.get(Feature::CallbackLure), 1.0, "{evidence:?}");
        assert!(
            evidence
                .iter()
                .any(|e| e.contains("0120-987-654") && e.contains("\"Amazon\"")),
            "{evidence:?}"
        );
    }

    #[test]
    fn the_brands_own_domain_is_not_an_unrelated_sender() {
        let ctx = context();
        for from in ["billing@norton.com", "noreply@mail.nortonlifelock.com"] {
            let (v, _) = run(&ctx, &message(from, "Your Norton 360 renewal", NORTON_LURE));
            assert_eq!(v.get(Feature::CallbackBrandUnrelatedSender), 0.0, "{from}");
            assert_eq!(v.get(Feature::CallbackLure), 0.0, "{from}");
            assert_eq!(v.get(Feature::CallbackPhoneNumberCount), 1.0, "{from}");
        }
        // Naming another brand besides its own does not make it unrelated.
        let body = format!("{NORTON_LURE} Works with Microsoft Windows.");
        let (v, _) = run(&ctx, &message("billing@norton.com", "Renewal", &body));
        assert_eq!(v.get(Feature::CallbackBrandUnrelatedSender), 0.0);
        // The same text from a domain unrelated to Norton sets it.
        let (v, _) = run(
            &ctx,
            &message("billing@norton-renewals.example", "Renewal", NORTON_LURE),
        );
        assert_eq!(v.get(Feature::CallbackBrandUnrelatedSender), 1.0);
    }

    #[test]
    fn invisible_characters_do_not_hide_a_brand_or_a_number() {
        let m = matcher();
        let list = parse_brand_list(DEFAULT_BRAND_LIST);
        let t = Text::read(
            "",
            "Your Mi\u{e0139}\u{e0139}cro\u{200b}soft plan: call 8\u{200d}88-555-0199",
            "",
        );
        let named = named_brands(&m, &t.text.replace('\n', " "), &t);
        assert_eq!(named.len(), 1);
        assert_eq!(list[named[0].0].name, "Microsoft");
        assert_eq!(
            digits(&m, "call 8\u{200d}88-555-\u{feff}0199"),
            ["8885550199"]
        );
    }

    #[test]
    fn short_and_common_word_brands_need_their_case() {
        let m = matcher();
        let list = parse_brand_list(DEFAULT_BRAND_LIST);
        let names = |text: &str| -> Vec<String> {
            let t = Text::read("", text, "");
            named_brands(&m, &t.text.replace('\n', " "), &t)
                .into_iter()
                .map(|(i, _)| list[i].name.clone())
                .collect()
        };
        assert!(names("ups and downs, the target audience, a square meal, visa rules").is_empty());
        assert!(names("au revoir, le café au lait").is_empty());
        assert!(names("the paypalish thing and nortonville").is_empty());
        assert_eq!(names("Your UPS parcel"), ["UPS"]);
        assert_eq!(names("Target order"), ["Target"]);
        assert_eq!(names("auからのお知らせ"), ["au"]);
        assert_eq!(
            names("your paypal and NORTON accounts"),
            ["PayPal", "Norton"]
        );
        assert_eq!(names("Norton LifeLock renewal"), ["Norton LifeLock"]);
        assert_eq!(names("Geek   Squad\nrenewal"), ["Geek Squad"]);
    }

    #[test]
    fn a_number_in_an_attachment_is_said_to_be_there() {
        let ctx = context();
        let raw = "From: x.billing@gmail.com\r\nTo: v@example.net\r\nSubject: Invoice\r\n\
            MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nPlease find your invoice attached.\r\n\
            --b\r\nContent-Type: text/html; name=\"invoice.html\"\r\n\
            Content-Disposition: attachment; filename=\"invoice.html\"\r\n\r\n\
            <html><body><p>PayPal: your payment of $699.00 has been charged. \
            Not you? Call 1-888-555-0199 to cancel.</p></body></html>\r\n--b--\r\n";
        let view = MessageView::parse(raw.as_bytes(), &Envelope::default(), &ctx).unwrap();
        assert!(
            view.attachment_text.contains("1-888-555-0199"),
            "the attachment reader gave {:?}",
            view.attachment_text
        );
        let (v, evidence) = run(&ctx, raw);
        assert_eq!(v.get(Feature::CallbackLure), 1.0, "{evidence:?}");
        assert!(
            evidence
                .iter()
                .any(|e| e.contains("the number in the attachment invoice.html")),
            "{evidence:?}"
        );
    }

    #[test]
    fn a_hostile_megabyte_of_digits_and_dashes_gives_a_bounded_count() {
        let m = matcher();
        let mut texts = vec![
            "1-2-3-4-5-6-7-8-9-0-".repeat(50_000),
            "888-555-0199 ".repeat(80_000),
            "0-".repeat(500_000),
            "+1 +1 (((( ---- ....".repeat(50_000),
            "l-l-8-O-".repeat(125_000),
        ];
        // Many different well-formed numbers, each on its own line.
        texts.push(
            (0..70_000)
                .map(|k| format!("call 8{:02}-555-{:04}\n", k % 100, k % 10_000))
                .collect(),
        );
        for text in &texts {
            assert!(text.len() >= 900_000);
            let found = find_numbers(&m, &Text::read("", text, ""));
            assert!(found.len() <= MAX_NUMBERS, "{}", found.len());
        }
        let last = find_numbers(&m, &Text::read("", texts.last().unwrap(), ""));
        assert_eq!(last.len(), MAX_NUMBERS);
    }

    /// The lure flag over every message of the shared corpora (and the
    /// mailing-list archive beside them): rare on ham.
    #[test]
    fn the_lure_flag_is_rare_on_real_ham() {
        let mut archives = crate::shared_archives().to_vec();
        let lists = archives[0].with_file_name("lists-2019-2026.tar.gz");
        assert!(lists.is_file(), "this test needs {}", lists.display());
        archives.push(lists);
        let ctx = context();
        let options = impostor_mailsource::ReadOptions::default();
        // (messages, lures) per label, and examples.
        let mut tally: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
        let mut examples: Vec<String> = Vec::new();
        for message in impostor_mailsource::read_inputs(&archives, &options) {
            let Ok(bytes) = message.bytes else { continue };
            let member = message.origin.member.clone().unwrap_or_default();
            let label = ["ham", "spam", "phish"]
                .into_iter()
                .find(|l| member.contains(&format!("/{l}/")))
                .unwrap_or("unknown");
            let source = member.split('/').next().unwrap_or_default();
            let Ok(view) = MessageView::parse(&bytes, &Envelope::default(), &ctx) else {
                continue;
            };
            let mut v = FeatureVector::default();
            let mut log = EvidenceLog::default();
            extract(&view, &ctx, &mut v, &mut log);
            let lure = v.get(Feature::CallbackLure) > 0.0;
            for key in [label.to_string(), format!("{label} {source}")] {
                let t = tally.entry(key).or_default();
                t.0 += 1;
                t.1 += usize::from(lure);
            }
            if lure && label == "ham" && examples.len() < 20 {
                let why: Vec<String> = log.items.iter().map(|e| e.detail.clone()).collect();
                examples.push(format!("{member}: {}", why.join(" | ")));
            }
        }
        for (key, (n, lures)) in &tally {
            println!(
                "{key}: {lures} of {n} ({:.3}%)",
                *lures as f64 * 100.0 / (*n).max(1) as f64
            );
        }
        for e in &examples {
            println!("ham lure: {e}");
        }
        let (ham, ham_lures) = tally.get("ham").copied().unwrap_or_default();
        assert!(ham > 10_000, "only {ham} ham messages read");
        assert!(
            ham_lures * 1000 <= ham * 2,
            "callback_lure_flag on {ham_lures} of {ham} ham messages"
        );
    }
}
