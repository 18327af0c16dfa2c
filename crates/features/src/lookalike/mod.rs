//! Lookalike domains ("untwist"): does a domain seen in mail imitate a
//! protected one, which one, and how?
//!
//! An index, not a scan. Every protected registrable domain is stored under
//! a few keys: its label, the label's one-deletion variants (a deletion
//! neighbourhood, for one-letter edits), its coarse glyph key and that key's
//! one-deletion variants (for homoglyphs), and the parts of a hyphenated
//! label (for dictionary swaps). A lookup probes these keys with the seen
//! label's own variants, a few dozen hash probes whatever the number of
//! protected domains, and checks each candidate exactly; no edit distance is
//! ever computed against every protected domain.
//!
//! Kinds are named as dnstwist names its fuzzers (see [`LookalikeKind`]);
//! [`permutation`] is the generator side, listing a domain's imitations by
//! kind for attack injection. Decisions are made on registrable domains
//! (public suffix list): a protected domain and its own subdomains are never
//! lookalikes.
//!
//! # Strength
//!
//! Every kind is reported for names of three letters or more (glyph-only
//! spellings for any name; one-letter edits of a one- or two-letter name
//! are just other short names, so they are not looked for), and each match
//! carries a strength in [0, 1], deterministic, two decimals:
//!
//! strength = kind × length factor × popularity
//!
//! | kind (how the best explanation reads)                       | kind |
//! |-------------------------------------------------------------|------|
//! | homoglyph / cyrillic, only glyphs differ (`0kta`, `аррӏе`)  | 0.95 |
//! | homoglyph, several glyph-class letters (`b`→`d`, `u`→`v`)   | 0.85 |
//! | transposition                                               | 0.85 |
//! | omission, repetition, hyphenation                           | 0.80 |
//! | insertion, replacement, vowel-swap                          | 0.75 |
//! | addition                                                    | 0.70 |
//! | bitsquatting, plural (`s`)                                  | 0.65 |
//! | plural (`es`)                                               | 0.60 |
//! | tld-swap: organisation / brand (brand TLDs only)            | 0.80 / 0.70 |
//! | various (suffix run into the name)                          | 0.80 |
//! | dictionary                                                  | 0.70 |
//! | subdomain: name split by dots / in front of another domain  | 0.70 / 0.75 |
//!
//! One edit read several ways (bitsquatting and replacement) takes the
//! strongest reading. Transpositions and glyphs are what attackers type
//! and rarely another company's name; a letter added, a bit flipped or an
//! `s` made plural often is (interfaces, paypals).
//!
//! | protected name (characters) | 2 or fewer | 3    | 4    | 5    | 6    | 7 or more |
//! |-----------------------------|------------|------|------|------|------|-----------|
//! | length factor, brand        | 0.30       | 0.45 | 0.60 | 0.85 | 0.95 | 1.0       |
//! | length factor, organisation | 0.35       | 0.55 | 0.75 | 0.95 | 1.0  | 1.0       |
//!
//! One changed letter of a short name is often another real name (zoom and
//! noom, usps and usgs), so a short name keeps less. The factor is eased
//! halfway to 1 ((1 + f) / 2) where chance does not make the imitation:
//! glyph-only spellings, the exact name under another suffix, beside a word
//! or split by dots, and edits that put a digit into a name of letters
//! (`okta1`). The organisation's own names keep more than brands': they
//! were chosen by it, and their imitation is aimed at it.
//!
//! Popularity is 0.1 when the domain seen is itself a popular registrable
//! domain ([`DEFAULT_POPULAR_DOMAINS`]: top sites, free-mail providers,
//! real ham senders; replaced with [`LookalikeIndexBuilder::popular`]): it
//! is still reported, but its owner is a known party. Otherwise 1.
//!
//! From [`STRONG_LOOKALIKE`] (0.5) a match counts as an imitation in the
//! feature vector. So a one-letter replacement of a long brand (0.75) or a
//! four-letter organisation name (0.56) counts; of a four-letter brand
//! (`wize`, 0.45) it is only reported; `0kta` (0.76), `okta1` (0.56) and
//! `okat` (0.51) count.

mod edit;
mod glyph;
pub mod permutation;

use crate::domain::{list_entries, normalize_domain, registrable_domain};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

/// Shortest protected label (in characters) the one-letter edit and
/// glyph-class kinds apply to: every one-letter edit of a two-letter name
/// is just another two- or three-letter name, so it says nothing. From
/// three letters on, edits are reported, weaker the shorter the name
/// (see [`LookalikeMatch::strength`]).
const MIN_EDIT_LABEL: usize = 3;
/// Shortest protected label the exact-name kinds apply to (tld-swap, the
/// name combined with a word, run into its suffix, or split by dots).
const MIN_NAME_LABEL: usize = 3;
/// Shortest protected label looked for as a label in front of an
/// unrelated domain (`kestrelfoods.secure-pay.net`), unless the host spells
/// the protected registrable domain out in full (`ups.com.track-parcel.net`).
const MIN_EMBEDDED_LABEL: usize = 4;
/// Most glyph substitutions a homoglyph may make: dnstwist makes two rounds,
/// each of which may change a doubled letter at once.
const MAX_GLYPH_EVENTS: usize = 4;

/// The strength from which a match counts as an imitation in the feature
/// vector (the `_lookalike_flag` features and `link_host_lookalike_count`);
/// weaker matches are only reported, in evidence and by `impostor
/// lookalike`.
pub const STRONG_LOOKALIKE: f32 = 0.5;

/// Registrable domains of real, popular senders and sites (top-site lists,
/// free-mail providers, the senders of real ham): a lookalike that is one
/// of them is reported at a strength of 0.1 or less. Built by
/// datasets/lookalike/build_popular_domains.py; the source of truth is
/// datasets/lookalike/popular-domains.txt, of which this file is a copy.
pub const DEFAULT_POPULAR_DOMAINS: &str = include_str!("../../data/popular_domains.txt");

/// Words attackers pair with a brand (`kestrelfoods-secure`, `payroll-
/// kestrelfoods`): the built-in dictionary; replaced with `--words`.
pub const DEFAULT_WORDS: &str = include_str!("../../data/lookalike_words.txt");

/// Suffixes under which a brand's name is an imitation rather than the
/// brand's own site: cheap and typo top-level domains (`.co`, `.cm`,
/// `.xyz` …), not the `.com`/`.net`/`.org` and country domains that global
/// brands hold themselves. The built-in list; replaced with `--brand-tlds`.
pub const DEFAULT_BRAND_TLDS: &str = include_str!("../../data/lookalike_tlds.txt");

/// Which rules a protected domain is guarded by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// The organisation's own and its partners' domains: every imitation
    /// counts, under any suffix.
    Org,
    /// A well-known brand: such brands hold their name under many suffixes
    /// themselves (google.de, amazon.co.jp), so a tld-swap counts only
    /// under the brand TLD list, and one-letter edits of short names are
    /// weaker than the org's (module documentation, "Strength").
    Brand,
}

/// Whether a public suffix is one only vetted institutions can register
/// under (`gov`, `edu`, `mil`, `int`, `ac.uk`, `go.jp`, `gouv.fr` …): an
/// attacker cannot own such a domain, so it imitates nothing.
fn is_restricted_suffix(suffix: &str) -> bool {
    const WHOLE: [&str; 4] = ["gov", "edu", "mil", "int"];
    const SECOND_LEVEL: [&str; 6] = ["ac", "go", "gob", "gouv", "govt", "gv"];
    match suffix.split_once('.') {
        None => WHOLE.contains(&suffix),
        Some((first, _)) => WHOLE.contains(&first) || SECOND_LEVEL.contains(&first),
    }
}

/// How a domain imitates its target, named as dnstwist names its fuzzers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LookalikeKind {
    /// A letter added at the end (`kestrelfoodsx`).
    Addition,
    /// One letter a bit-flip away (`kestrelgoods`).
    Bitsquatting,
    /// Spelt in Cyrillic letters that look Latin.
    Cyrillic,
    /// The name combined with a word (`kestrelfoods-secure`).
    Dictionary,
    /// Letters swapped for lookalike glyphs (`rn` for `m`, `0` for `o`,
    /// Unicode homographs).
    Homoglyph,
    /// A hyphen inserted (`kestrel-foods`).
    Hyphenation,
    /// One letter inserted inside the name.
    Insertion,
    /// One letter left out (`kestrelfods`).
    Omission,
    /// Made plural: `s` or `es` added (`kestrelfoodses`).
    Plural,
    /// A letter doubled (`kestrelfoodds`).
    Repetition,
    /// One letter replaced by a neighbour or another letter.
    Replacement,
    /// The name as, or split into, labels of another domain
    /// (`kestrelfoods.com.secure-pay.net`, `kestrel.foods.com`).
    Subdomain,
    /// The same name under another suffix (`kestrelfoods.net`).
    TldSwap,
    /// Two neighbouring letters swapped (`kestrelfodos`).
    Transposition,
    /// The suffix run into the name (`kestrelfoodscom`).
    Various,
    /// A vowel replaced by another (`kestrelfaods`).
    VowelSwap,
}

impl LookalikeKind {
    /// Every kind, in name order.
    pub const ALL: [LookalikeKind; 16] = [
        LookalikeKind::Addition,
        LookalikeKind::Bitsquatting,
        LookalikeKind::Cyrillic,
        LookalikeKind::Dictionary,
        LookalikeKind::Homoglyph,
        LookalikeKind::Hyphenation,
        LookalikeKind::Insertion,
        LookalikeKind::Omission,
        LookalikeKind::Plural,
        LookalikeKind::Repetition,
        LookalikeKind::Replacement,
        LookalikeKind::Subdomain,
        LookalikeKind::TldSwap,
        LookalikeKind::Transposition,
        LookalikeKind::Various,
        LookalikeKind::VowelSwap,
    ];

    /// dnstwist's name for the kind.
    pub const fn name(self) -> &'static str {
        match self {
            LookalikeKind::Addition => "addition",
            LookalikeKind::Bitsquatting => "bitsquatting",
            LookalikeKind::Cyrillic => "cyrillic",
            LookalikeKind::Dictionary => "dictionary",
            LookalikeKind::Homoglyph => "homoglyph",
            LookalikeKind::Hyphenation => "hyphenation",
            LookalikeKind::Insertion => "insertion",
            LookalikeKind::Omission => "omission",
            LookalikeKind::Plural => "plural",
            LookalikeKind::Repetition => "repetition",
            LookalikeKind::Replacement => "replacement",
            LookalikeKind::Subdomain => "subdomain",
            LookalikeKind::TldSwap => "tld-swap",
            LookalikeKind::Transposition => "transposition",
            LookalikeKind::Various => "various",
            LookalikeKind::VowelSwap => "vowel-swap",
        }
    }

    /// The kind named `name` (dnstwist's name).
    pub fn from_name(name: &str) -> Option<LookalikeKind> {
        LookalikeKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Words for an administrator.
    pub const fn describe(self) -> &'static str {
        match self {
            LookalikeKind::Addition => "a letter added at the end",
            LookalikeKind::Bitsquatting => "one letter a bit-flip away",
            LookalikeKind::Cyrillic => "spelt in Cyrillic letters",
            LookalikeKind::Dictionary => "the name combined with a word",
            LookalikeKind::Homoglyph => "letters swapped for lookalike glyphs",
            LookalikeKind::Hyphenation => "a hyphen inserted",
            LookalikeKind::Insertion => "one letter inserted",
            LookalikeKind::Omission => "one letter left out",
            LookalikeKind::Plural => "made plural",
            LookalikeKind::Repetition => "a letter doubled",
            LookalikeKind::Replacement => "one letter replaced",
            LookalikeKind::Subdomain => "the name used as a subdomain of another domain",
            LookalikeKind::TldSwap => "same name under another top-level domain",
            LookalikeKind::Transposition => "two letters swapped",
            LookalikeKind::Various => "the top-level domain run into the name",
            LookalikeKind::VowelSwap => "a vowel replaced",
        }
    }
}

/// A domain found to imitate a protected one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LookalikeMatch {
    /// The registrable domain seen (ASCII, punycode for IDN), or the whole
    /// host for the subdomain kind.
    pub domain: String,
    /// The protected registrable domain imitated.
    pub target: String,
    /// How it imitates the target: the deciding kind first, then the
    /// others that also explain it, in name order.
    pub kinds: Vec<LookalikeKind>,
    /// Edit distance (optimal string alignment: insertions, deletions,
    /// substitutions and adjacent swaps), in characters, between the seen
    /// label (Unicode) and the target's label.
    pub distance: usize,
    /// How sure the match is an imitation, in [0, 1] (two decimals): from
    /// the kind of edit, the length of the protected name, its scope and
    /// whether the domain seen is itself a popular one (see the module
    /// documentation). From [`STRONG_LOOKALIKE`] on it counts as an
    /// imitation in the feature vector.
    pub strength: f32,
}

impl LookalikeMatch {
    /// One sentence for evidence: the domain (Unicode shown), its target
    /// and how it imitates it.
    pub fn describe(&self) -> String {
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.describe()).collect();
        format!(
            "{} imitates {} ({})",
            display_domain(&self.domain),
            self.target,
            kinds.join(", ")
        )
    }

    /// [`LookalikeMatch::describe`] with the strength: `okta1.com imitates
    /// okta.com (a letter added at the end; strength 0.46)`.
    pub fn describe_with_strength(&self) -> String {
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.describe()).collect();
        format!(
            "{} imitates {} ({}; strength {:.2})",
            display_domain(&self.domain),
            self.target,
            kinds.join(", "),
            self.strength
        )
    }

    /// Whether the match counts as an imitation in the feature vector:
    /// strength at least [`STRONG_LOOKALIKE`].
    pub fn is_strong(&self) -> bool {
        self.strength >= STRONG_LOOKALIKE
    }
}

/// A domain as a reader sees it: punycode labels decoded.
pub fn display_domain(domain: &str) -> Cow<'_, str> {
    if domain.split('.').any(|l| l.starts_with("xn--")) {
        let (unicode, result) = idna::domain_to_unicode(domain);
        if result.is_ok() {
            return Cow::Owned(unicode);
        }
    }
    Cow::Borrowed(domain)
}

/// Whether some label of `domain` mixes scripts (Latin with Cyrillic, say):
/// suspicious whether or not it imitates a protected domain.
pub fn is_mixed_script_domain(domain: &str) -> bool {
    let shown = display_domain(domain);
    shown.split('.').any(glyph::is_mixed_script)
}

struct Protected {
    registrable: String,
    label: String,
    suffix: String,
    folded: String,
    label_chars: usize,
    scope: Scope,
}

impl Protected {
    fn edits_apply(&self) -> bool {
        self.label_chars >= MIN_EDIT_LABEL
    }
}

/// How good an explanation is: lower ranks win when several protected
/// domains explain one seen domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    /// Only glyphs differ after folding (micr0soft, аррӏе).
    Glyph,
    /// One letter-level edit.
    OneEdit,
    /// Several glyph-class substitutions, or a plural `es`.
    Glyphs,
    TldSwap,
    Compound,
    /// The name split by dots (`kestrel.foods.com`).
    Subdomain,
    /// The name as a label in front of another domain.
    BrandLabel,
}

/// The protected set, indexed for lookups.
pub struct LookalikeIndex {
    protected: Vec<Protected>,
    registrable: FxHashSet<String>,
    /// Exact label → entries (tld-swap, dictionary, subdomain).
    labels: FxHashMap<String, Vec<u32>>,
    /// Label and its one-deletion variants → entries (one-letter edits).
    neighbourhood: FxHashMap<String, Vec<u32>>,
    /// Coarse glyph key → entries (the key is the same for a label and its
    /// glyph imitations, so one probe finds them).
    glyphs: FxHashMap<String, Vec<u32>>,
    /// A hyphenated label without its last part (`coldchain` of
    /// `coldchain-partners`), and without its first (`partners`).
    hyphen_heads: FxHashMap<String, Vec<u32>>,
    hyphen_tails: FxHashMap<String, Vec<u32>>,
    words: FxHashSet<String>,
    brand_tlds: FxHashSet<String>,
    /// Popular registrable domains. Protected ones may be among them: a
    /// lookup of a protected domain ends before this set is asked.
    popular: Arc<FxHashSet<String>>,
    /// Every protected suffix as it reads run into a name (`com`, `cojp`,
    /// `co-jp`, `co`, `jp`), for the various kind.
    suffix_runs: FxHashSet<String>,
    /// The first and last two letters of every word and suffix run: most
    /// split points of a label are turned away on these before any probe.
    word_starts: Bigrams,
    word_ends: Bigrams,
    neighbourhood_filter: KeyFilter,
}

/// A Bloom filter over the deletion-neighbourhood keys: nearly every variant
/// a lookup makes is in no protected neighbourhood, and two bit tests turn
/// it away for less than a hash-map probe.
#[derive(Default)]
struct KeyFilter {
    bits: Vec<u64>,
    mask: u64,
}

impl KeyFilter {
    fn new<'a>(keys: impl ExactSizeIterator<Item = &'a String>) -> KeyFilter {
        // About 16 bits a key: a false positive now and then costs one probe.
        let size = (keys.len() * 16).next_power_of_two().max(64);
        let mut filter = KeyFilter {
            bits: vec![0; size / 64],
            mask: size as u64 - 1,
        };
        for key in keys {
            let (a, b) = filter.positions(key);
            filter.set(a);
            filter.set(b);
        }
        filter
    }

    fn positions(&self, key: &str) -> (usize, usize) {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = rustc_hash::FxBuildHasher.build_hasher();
        hasher.write(key.as_bytes());
        let h = hasher.finish();
        (
            (h & self.mask) as usize,
            (h.rotate_left(32) & self.mask) as usize,
        )
    }

    // Positions are masked below the filter's size, so `get` always finds
    // their word.
    fn set(&mut self, at: usize) {
        if let Some(word) = self.bits.get_mut(at / 64) {
            *word |= 1 << (at % 64);
        }
    }

    fn is_set(&self, at: usize) -> bool {
        self.bits
            .get(at / 64)
            .is_some_and(|word| word & (1 << (at % 64)) != 0)
    }

    fn may_contain(&self, key: &str) -> bool {
        if self.bits.is_empty() {
            return true;
        }
        let (a, b) = self.positions(key);
        self.is_set(a) && self.is_set(b)
    }
}

/// A set of two-byte strings, one bit each.
struct Bigrams(Vec<u64>);

impl Default for Bigrams {
    fn default() -> Self {
        Bigrams(vec![0; 65_536 / 64])
    }
}

impl Bigrams {
    fn key(a: u8, b: u8) -> usize {
        (a as usize) << 8 | b as usize
    }

    /// Adds the first two bytes of `bytes`.
    // Keys are below 65,536, one bit each of the 1,024 words.
    fn insert(&mut self, word: &[u8]) {
        if let [a, b, ..] = word {
            let k = Self::key(*a, *b);
            if let Some(bits) = self.0.get_mut(k / 64) {
                *bits |= 1 << (k % 64);
            }
        }
    }

    fn contains(&self, a: u8, b: u8) -> bool {
        let k = Self::key(a, b);
        self.0
            .get(k / 64)
            .is_some_and(|bits| bits & (1 << (k % 64)) != 0)
    }
}

/// Builds a [`LookalikeIndex`]: the organisation's domains, brand domains,
/// and the word and TLD lists (built-in defaults).
pub struct LookalikeIndexBuilder {
    domains: Vec<(String, Scope)>,
    words: String,
    brand_tlds: String,
    /// None: the built-in list.
    popular: Option<String>,
}

impl LookalikeIndexBuilder {
    /// The organisation's own and partner domains ([`Scope::Org`]).
    pub fn org<S: AsRef<str>>(mut self, domains: impl IntoIterator<Item = S>) -> Self {
        let more = domains
            .into_iter()
            .map(|d| (d.as_ref().to_string(), Scope::Org));
        self.domains.extend(more);
        self
    }

    /// Well-known brand domains ([`Scope::Brand`]).
    pub fn brands<S: AsRef<str>>(mut self, domains: impl IntoIterator<Item = S>) -> Self {
        let more = domains
            .into_iter()
            .map(|d| (d.as_ref().to_string(), Scope::Brand));
        self.domains.extend(more);
        self
    }

    /// Replaces the dictionary words (one a line, `#` comments).
    pub fn words(mut self, text: &str) -> Self {
        self.words = text.to_string();
        self
    }

    /// Replaces the suffixes under which a brand's name is an imitation.
    pub fn brand_tlds(mut self, text: &str) -> Self {
        self.brand_tlds = text.to_string();
        self
    }

    /// Replaces the popular registrable domains (one a line, `#`
    /// comments; the built-in list is [`DEFAULT_POPULAR_DOMAINS`]): a
    /// lookalike that is one of them is still reported, at a strength of
    /// 0.1 or less. An empty text turns the demotion off. Protected
    /// domains are never taken as popular.
    pub fn popular(mut self, text: &str) -> Self {
        self.popular = Some(text.to_string());
        self
    }

    /// Builds the index: every protected domain's label, deletion
    /// neighbourhood and glyph key.
    pub fn build(self) -> LookalikeIndex {
        LookalikeIndex::build(self)
    }
}

/// The registrable domains of a popular-domain list.
fn popular_set(text: &str) -> FxHashSet<String> {
    list_entries(text)
        .filter_map(normalize_domain)
        .filter_map(|d| registrable_domain(&d).map(str::to_string))
        .collect()
}

/// The built-in popular domains, read once per process: every index (a
/// Context, a history store's correspondents) shares them.
fn default_popular() -> Arc<FxHashSet<String>> {
    static DEFAULT: OnceLock<Arc<FxHashSet<String>>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| Arc::new(popular_set(DEFAULT_POPULAR_DOMAINS)))
        .clone()
}

fn push_entry(map: &mut FxHashMap<String, Vec<u32>>, key: &str, i: u32) {
    let entries = map.entry(key.to_string()).or_default();
    if entries.last() != Some(&i) {
        entries.push(i);
    }
}

impl LookalikeIndex {
    /// An empty builder with the built-in word, TLD and popular-domain
    /// lists.
    pub fn builder() -> LookalikeIndexBuilder {
        LookalikeIndexBuilder {
            domains: Vec::new(),
            words: DEFAULT_WORDS.to_string(),
            brand_tlds: DEFAULT_BRAND_TLDS.to_string(),
            popular: None,
        }
    }

    /// An index of the organisation's `domains` with the built-in lists.
    pub fn new<'a>(domains: impl IntoIterator<Item = &'a str>) -> LookalikeIndex {
        LookalikeIndex::builder().org(domains).build()
    }

    fn build(spec: LookalikeIndexBuilder) -> Self {
        let mut index = LookalikeIndex {
            protected: Vec::new(),
            registrable: FxHashSet::default(),
            labels: FxHashMap::default(),
            neighbourhood: FxHashMap::default(),
            glyphs: FxHashMap::default(),
            hyphen_heads: FxHashMap::default(),
            hyphen_tails: FxHashMap::default(),
            words: list_entries(&spec.words).map(str::to_lowercase).collect(),
            brand_tlds: list_entries(&spec.brand_tlds)
                .map(str::to_lowercase)
                .collect(),
            popular: match &spec.popular {
                None => default_popular(),
                Some(text) => Arc::new(popular_set(text)),
            },
            suffix_runs: FxHashSet::default(),
            word_starts: Bigrams::default(),
            word_ends: Bigrams::default(),
            neighbourhood_filter: KeyFilter::default(),
        };
        // Sorted, so ties between targets break the same way whatever order
        // the domains come in; a domain given in both scopes is the org's.
        let mut domains: Vec<(String, Scope)> = spec
            .domains
            .iter()
            .filter_map(|(d, scope)| {
                let norm = normalize_domain(d)?;
                let reg = registrable_domain(&norm)?.to_string();
                Some((reg, *scope))
            })
            .collect();
        domains.sort();
        let mut folded = String::new();
        let mut key = String::new();
        let mut buf = String::new();
        for (reg, scope) in domains {
            if !index.registrable.insert(reg.clone()) {
                continue;
            }
            let (label, suffix) = split_label(&reg);
            let label = unicode_label(label).into_owned();
            let i = index.protected.len() as u32;
            push_entry(&mut index.labels, &label, i);
            for_each_neighbour(&label, &mut buf, |variant| {
                push_entry(&mut index.neighbourhood, variant, i)
            });
            glyph::fold(&label, &mut folded);
            glyph::coarse(&folded, &mut key);
            push_entry(&mut index.glyphs, &key, i);
            if let (Some((head, _)), Some((_, tail))) =
                (label.rsplit_once('-'), label.split_once('-'))
            {
                push_entry(&mut index.hyphen_heads, head, i);
                push_entry(&mut index.hyphen_tails, tail, i);
            }
            index.suffix_runs.insert(suffix.replace('.', ""));
            index.suffix_runs.insert(suffix.replace('.', "-"));
            index
                .suffix_runs
                .extend(suffix.split('.').map(str::to_string));
            index.protected.push(Protected {
                registrable: reg.clone(),
                suffix: suffix.to_string(),
                label_chars: label.chars().count(),
                label,
                folded: folded.clone(),
                scope,
            });
        }
        index.neighbourhood_filter = KeyFilter::new(index.neighbourhood.keys());
        for word in index.words.iter().chain(&index.suffix_runs) {
            let w = word.as_bytes();
            index.word_starts.insert(w);
            index
                .word_ends
                .insert(w.get(w.len().saturating_sub(2)..).unwrap_or_default());
        }
        index
    }

    /// How many protected registrable domains the index holds.
    pub fn len(&self) -> usize {
        self.protected.len()
    }

    /// Whether the index protects nothing (every lookup is None).
    pub fn is_empty(&self) -> bool {
        self.protected.is_empty()
    }

    /// The protected entry of an id from the index's own tables.
    // Safe: every id in them is a position in `protected`, pushed with it.
    #[allow(clippy::indexing_slicing)]
    fn entry(&self, i: u32) -> &Protected {
        &self.protected[i as usize]
    }

    /// The protected domain `domain` imitates, if any. A protected domain and
    /// its own subdomains are never lookalikes.
    pub fn find(&self, domain: &str) -> Option<LookalikeMatch> {
        if self.protected.is_empty() {
            return None;
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.find_with(domain, &mut scratch),
            Err(_) => self.find_with(domain, &mut Scratch::default()),
        })
    }

    fn find_with(&self, domain: &str, scratch: &mut Scratch) -> Option<LookalikeMatch> {
        let Scratch {
            folded,
            key,
            neighbour,
            checked,
        } = scratch;
        checked.clear();
        let norm = normalize_domain(domain)?;
        let reg = registrable_domain(&norm)?;
        if self.registrable.contains(reg) {
            return None;
        }
        let (label_ascii, suffix) = split_label(reg);
        if is_restricted_suffix(suffix) {
            return None;
        }
        let label = unicode_label(label_ascii);
        let label_chars = label.chars().count();
        let mut found = Found::default();

        // Same name under another suffix.
        for &i in self.labels.get(&*label).into_iter().flatten() {
            let p = self.entry(i);
            let swap_counts = match p.scope {
                Scope::Org => true,
                Scope::Brand => self.brand_tlds.contains(suffix),
            };
            // A brand under a second-level country domain keeps its country
            // when the level is dropped (amazon.co.jp → amazon.jp).
            let dropped_level = p
                .suffix
                .rsplit_once('.')
                .is_some_and(|(_, cc)| cc == suffix);
            let swap_counts = swap_counts || dropped_level;
            if p.suffix != suffix && swap_counts && label_chars >= MIN_NAME_LABEL {
                found.add(i, Rank::TldSwap, &[LookalikeKind::TldSwap]);
            }
        }

        // One letter-level edit, found through the deletion neighbourhood.
        // A candidate turns up under several variants: check it once.
        if label.is_ascii() {
            for_each_neighbour(&label, neighbour, |variant| {
                if !self.neighbourhood_filter.may_contain(variant) {
                    return;
                }
                for &i in self.neighbourhood.get(variant).into_iter().flatten() {
                    let p = self.entry(i);
                    if !p.edits_apply() || checked.contains(&i) {
                        continue;
                    }
                    checked.push(i);
                    let kinds = edit::classify_edit(&label, &p.label);
                    if !kinds.is_empty() {
                        found.add(i, Rank::OneEdit, &kinds);
                    }
                }
            });
            edit::without_plural_es(&label, |variant| {
                for &i in self.labels.get(variant).into_iter().flatten() {
                    if self.entry(i).edits_apply() {
                        found.add(i, Rank::Glyphs, &[LookalikeKind::Plural]);
                    }
                }
            });
        }

        // Glyphs: Unicode homographs, Cyrillic spellings, rn for m, 0 for o …
        glyph::fold(&label, folded);
        glyph::coarse(folded, key);
        let script_kind = if glyph::is_all_cyrillic(&label) {
            LookalikeKind::Cyrillic
        } else {
            LookalikeKind::Homoglyph
        };
        // One probe: a label and its glyph imitations share a coarse key.
        for &i in self.glyphs.get(key.as_str()).into_iter().flatten() {
            let p = self.entry(i);
            if p.label == *label {
                continue;
            }
            if p.folded == *folded {
                found.add(i, Rank::Glyph, &[script_kind]);
            } else if p.edits_apply() && !found.has_kind(i, script_kind) {
                // Beside a one-letter edit, a glyph reading adds only
                // when a single glyph explains the edit (l for i).
                let limit = if found.has(i, Rank::OneEdit) {
                    1
                } else {
                    MAX_GLYPH_EVENTS.min(label_chars / 2)
                };
                if glyph::glyph_events(folded, &p.folded, limit).is_some() {
                    found.add(i, Rank::Glyphs, &[script_kind]);
                }
            }
        }

        // The name with a word or its own suffix run into it.
        self.compound(&label, &mut found);

        // The name as a label, or split into labels, of another domain.
        // psl gives the registrable domain as a suffix of the name.
        let subdomain = norm.strip_suffix(reg).unwrap_or("").trim_end_matches('.');
        self.embedded(&norm, subdomain, label_ascii, &mut found);

        let (i, rank, kinds, strength) = found.best(|i| self.entry(i), &norm, suffix, &label)?;
        let p = self.entry(i);
        // A popular domain's owner is a known party: reported, but weak.
        let strength = if self.popular.contains(reg) {
            round2(strength * 0.1)
        } else {
            strength
        };
        let domain = if rank >= Rank::Subdomain {
            norm.clone()
        } else {
            reg.to_string()
        };
        Some(LookalikeMatch {
            domain,
            target: p.registrable.clone(),
            kinds,
            distance: match rank {
                Rank::OneEdit => 1,
                Rank::TldSwap => 0,
                // The name with letters added before or after it.
                Rank::Compound => label_chars.abs_diff(p.label_chars),
                _ => strsim::osa_distance(&label, &p.label),
            },
            strength,
        })
    }

    /// Dictionary (`kestrelfoods-secure`, `payrollkestrelfoods`, `secure-
    /// partners` for `coldchain-partners`) and various (`kestrelfoodscom`).
    fn compound(&self, label: &str, found: &mut Found) {
        let is_words = |rest: &str| {
            let rest = rest.trim_matches('-');
            if !rest.as_bytes().contains(&b'-') {
                return !rest.is_empty() && self.words.contains(rest);
            }
            rest.split('-').all(|w| self.words.contains(w))
        };
        // Split points are turned away on two letters before any probe: the
        // rest must start (or end) like a word.
        let bytes = label.as_bytes();
        for at in MIN_NAME_LABEL.min(bytes.len())..bytes.len() {
            let Some((head, tail)) = label.split_at_checked(at) else {
                continue;
            };
            let tail_run = tail.trim_start_matches('-');
            let starts_like_a_word =
                matches!(*tail_run.as_bytes(), [a, b, ..] if self.word_starts.contains(a, b));
            if starts_like_a_word {
                let tail_words = is_words(tail);
                if tail_words || self.suffix_runs.contains(tail_run) {
                    for &i in self.labels.get(head).into_iter().flatten() {
                        if tail_words {
                            found.add(i, Rank::Compound, &[LookalikeKind::Dictionary]);
                        } else if is_suffix_run(tail_run, &self.entry(i).suffix) {
                            found.add(i, Rank::Compound, &[LookalikeKind::Various]);
                        }
                    }
                }
            }
        }
        for at in 1..bytes.len().saturating_sub(MIN_NAME_LABEL - 1) {
            let Some((head, tail)) = label.split_at_checked(at) else {
                continue;
            };
            let head_bare = head.trim_end_matches('-').as_bytes();
            let ends_like_a_word =
                matches!(*head_bare, [.., a, b] if self.word_ends.contains(a, b));
            if ends_like_a_word && is_words(head) {
                for &i in self.labels.get(tail).into_iter().flatten() {
                    found.add(i, Rank::Compound, &[LookalikeKind::Dictionary]);
                }
            }
        }
        if let Some((head, word)) = label.rsplit_once('-') {
            if self.words.contains(word) {
                for &i in self.hyphen_heads.get(head).into_iter().flatten() {
                    found.add(i, Rank::Compound, &[LookalikeKind::Dictionary]);
                }
            }
        }
        if let Some((word, tail)) = label.split_once('-') {
            if self.words.contains(word) {
                for &i in self.hyphen_tails.get(tail).into_iter().flatten() {
                    found.add(i, Rank::Compound, &[LookalikeKind::Dictionary]);
                }
            }
        }
    }

    /// Subdomain: a protected label split by dots (`kestrel.foods.com`,
    /// `cost.co.com` where `co.com` is a public suffix), or among the labels
    /// in front of another registrable domain (`kestrelfoods.com.secure-pay.net`).
    fn embedded(&self, host: &str, subdomain: &str, label: &str, found: &mut Found) {
        if subdomain.is_empty() && host.bytes().filter(|&b| b == b'.').count() < 2 {
            return;
        }
        let parts: Vec<&str> = subdomain.split('.').filter(|p| !p.is_empty()).collect();
        for part in &parts {
            let part = unicode_label(part);
            for &i in self.labels.get(&*part).into_iter().flatten() {
                let p = self.entry(i);
                // A short name as a label counts only when the host spells
                // the whole protected domain (`ups.com.track-parcel.net`).
                if p.label.len() >= MIN_EMBEDDED_LABEL
                    || (p.label_chars >= MIN_NAME_LABEL && spells(host, &p.registrable))
                {
                    found.add(i, Rank::BrandLabel, &[LookalikeKind::Subdomain]);
                }
            }
        }
        let mut joined = String::with_capacity(host.len());
        let mut join_runs = |labels: &[&str]| {
            joined.clear();
            for (n, part) in labels.iter().rev().enumerate() {
                joined.insert_str(0, part);
                if n == 0 {
                    continue;
                }
                for &i in self.labels.get(&joined).into_iter().flatten() {
                    found.add(i, Rank::Subdomain, &[LookalikeKind::Subdomain]);
                }
            }
        };
        let mut runs: Vec<&str> = parts.clone();
        runs.push(label);
        join_runs(&runs);
        // Against the top-level label alone, for names split across a
        // private public suffix.
        let all: Vec<&str> = host.split('.').collect();
        if let Some((_, front)) = all.split_last().filter(|_| all.len() > 2) {
            join_runs(front);
        }
    }
}

/// How strongly a kind explains an imitation of a long name (the table in
/// the module documentation): what attackers register, and how rarely the
/// edit happens by chance.
fn kind_strength(rank: Rank, kind: LookalikeKind, scope: Scope) -> f32 {
    use LookalikeKind::*;
    match (rank, kind) {
        (Rank::Glyph, _) => 0.95,
        (Rank::OneEdit, Transposition) => 0.85,
        (Rank::OneEdit, Omission | Repetition | Hyphenation) => 0.8,
        (Rank::OneEdit, Insertion | Replacement | VowelSwap) => 0.75,
        (Rank::OneEdit, Bitsquatting | Plural) => 0.65,
        (Rank::OneEdit, _) => 0.7,
        (Rank::Glyphs, Plural) => 0.6,
        (Rank::Glyphs, _) => 0.85,
        (Rank::TldSwap, _) => match scope {
            Scope::Org => 0.8,
            Scope::Brand => 0.7,
        },
        (Rank::Compound, Various) => 0.8,
        (Rank::Compound, _) => 0.7,
        (Rank::Subdomain, _) => 0.7,
        (Rank::BrandLabel, _) => 0.75,
    }
}

/// How much of a kind's strength a protected name of `chars` characters
/// keeps: one edit of a short name is often another real name. The org's
/// own names keep more than brands' (the org chose them and an imitation
/// of them is aimed at it).
fn length_factor(chars: usize, scope: Scope) -> f32 {
    match (scope, chars) {
        (Scope::Brand, 7..) | (Scope::Org, 6..) => 1.0,
        (Scope::Brand, 6) | (Scope::Org, 5) => 0.95,
        (Scope::Brand, 5) => 0.85,
        (Scope::Brand, 4) => 0.6,
        (Scope::Org, 4) => 0.75,
        (Scope::Brand, 3) => 0.45,
        (Scope::Org, 3) => 0.55,
        (Scope::Brand, _) => 0.3,
        (Scope::Org, _) => 0.35,
    }
}

/// The strength of a match (see the module documentation): the best
/// kind's strength, times the length factor (halfway eased to 1 where
/// chance does not make the imitation: glyph-only spellings, the exact name
/// under another suffix or beside a word, a digit put into a name of
/// letters); two decimals. Popularity is applied by the caller.
fn strength(rank: Rank, lead: LookalikeKind, kinds: u32, p: &Protected, seen: &str) -> f32 {
    let base = match rank {
        // Every letter-level reading of the one edit (bitsquatting and
        // replacement, addition and plural): the strongest counts.
        Rank::OneEdit => LookalikeKind::ALL
            .into_iter()
            .filter(|&k| kinds & (1 << k as u32) != 0)
            .filter(|k| !matches!(k, LookalikeKind::Homoglyph | LookalikeKind::Cyrillic))
            .map(|k| kind_strength(rank, k, p.scope))
            .fold(0.0, f32::max),
        _ => kind_strength(rank, lead, p.scope),
    };
    let factor = length_factor(p.label_chars, p.scope);
    let adds_digit =
        seen.bytes().any(|b| b.is_ascii_digit()) && !p.label.bytes().any(|b| b.is_ascii_digit());
    let exact_name = !matches!(rank, Rank::OneEdit | Rank::Glyphs);
    let factor = if exact_name || adds_digit {
        (1.0 + factor) / 2.0
    } else {
        factor
    };
    round2(base * factor)
}

/// `s` in [0, 1], to two decimals.
fn round2(s: f32) -> f32 {
    (s.clamp(0.0, 1.0) * 100.0).round() / 100.0
}

/// Whether `host` spells `registrable` out in full as labels in front of
/// another domain (`ups.com.track-parcel.net` spells `ups.com`).
fn spells(host: &str, registrable: &str) -> bool {
    host.match_indices(registrable).any(|(at, _)| {
        let starts = at == 0 || host.as_bytes().get(at - 1) == Some(&b'.');
        starts && host.as_bytes().get(at + registrable.len()) == Some(&b'.')
    })
}

/// Whether `rest` is a public suffix run into a name: `com` or `cojp` /
/// `co-jp` / `co` for `co.jp`.
fn is_suffix_run(rest: &str, suffix: &str) -> bool {
    let joined = |sep: Option<u8>| {
        let mut r = rest.bytes();
        suffix
            .bytes()
            .filter_map(|b| if b == b'.' { sep } else { Some(b) })
            .all(|b| r.next() == Some(b))
            && r.next().is_none()
    };
    !rest.is_empty()
        && (joined(None) || joined(Some(b'-')) || suffix.split('.').any(|part| part == rest))
}

/// The explanations found so far, per protected entry. Kinds are kept as a
/// bit set (one bit per [`LookalikeKind`], in declaration order), with the
/// kind of the best explanation apart, so lookups do not allocate for them.
#[derive(Default)]
struct Found {
    entries: Vec<FoundEntry>,
}

struct FoundEntry {
    i: u32,
    rank: Rank,
    kinds: u32,
    lead: LookalikeKind,
}

fn bits(kinds: &[LookalikeKind]) -> u32 {
    kinds.iter().fold(0, |acc, k| acc | 1 << *k as u32)
}

impl Found {
    fn add(&mut self, i: u32, rank: Rank, kinds: &[LookalikeKind]) {
        let Some(&first) = kinds.first() else {
            return;
        };
        match self.entries.iter_mut().find(|e| e.i == i) {
            Some(e) => {
                if rank < e.rank {
                    // The better explanation's kind leads.
                    e.rank = rank;
                    e.lead = first;
                }
                e.kinds |= bits(kinds);
            }
            None => self.entries.push(FoundEntry {
                i,
                rank,
                kinds: bits(kinds),
                lead: first,
            }),
        }
    }

    fn has(&self, i: u32, rank: Rank) -> bool {
        self.entries.iter().any(|e| e.i == i && e.rank <= rank)
    }

    fn has_kind(&self, i: u32, kind: LookalikeKind) -> bool {
        self.entries
            .iter()
            .any(|e| e.i == i && e.kinds & (1 << kind as u32) != 0)
    }

    /// The best explanation: strongest, then lowest rank, then the target whose suffix is
    /// nearest the one seen (a host that spells the target out in full,
    /// `kestrelfoods.com.secure-pay.net`, nearest of all; a one-label suffix
    /// before a country's second level), then the first protected domain in
    /// sorted order. Its kinds: the deciding one first,
    /// then the rest in name order.
    fn best<'a>(
        self,
        protected: impl Fn(u32) -> &'a Protected,
        host: &str,
        suffix: &str,
        seen: &str,
    ) -> Option<(u32, Rank, Vec<LookalikeKind>, f32)> {
        let nearness = |p: &Protected| {
            if spells(host, &p.registrable) {
                0
            } else if p.suffix == suffix {
                1
            } else if p.suffix.starts_with(suffix) || suffix.starts_with(p.suffix.as_str()) {
                2 // co for com, com for com.au
            } else if !p.suffix.contains('.') {
                3 // a brand's main domain (amazon.com) before its country ones
            } else {
                4
            }
        };
        // The strongest explanation wins (ups.biz is a tld-swap of ups.com
        // before an omission of usps.com), then the better rank.
        let single = self.entries.len() == 1;
        let best = self
            .entries
            .into_iter()
            .map(|e| {
                let strength = strength(e.rank, e.lead, e.kinds, protected(e.i), seen);
                (e, strength)
            })
            .min_by_key(|(e, strength)| {
                let hundredths = (strength * 100.0).round() as i32;
                // One candidate (the usual case) needs no nearness.
                let near = if single { 0 } else { nearness(protected(e.i)) };
                (-hundredths, e.rank, near, e.i)
            });
        let (e, strength) = best?;
        let mut kinds = vec![e.lead];
        kinds.extend(
            LookalikeKind::ALL
                .into_iter()
                .filter(|k| *k != e.lead && e.kinds & (1 << *k as u32) != 0),
        );
        Some((e.i, e.rank, kinds, strength))
    }
}

/// Buffers a lookup reuses, per thread: lookups run for every sender and
/// link of every message, so they should not allocate for scratch work.
#[derive(Default)]
struct Scratch {
    folded: String,
    key: String,
    neighbour: String,
    checked: Vec<u32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// (label, public suffix) of a registrable domain: `kestrelfoods.co.jp` →
/// (`kestrelfoods`, `co.jp`).
fn split_label(registrable: &str) -> (&str, &str) {
    registrable.split_once('.').unwrap_or((registrable, ""))
}

/// A label as Unicode: punycode (`xn--`) decoded; anything else unchanged.
fn unicode_label(label: &str) -> Cow<'_, str> {
    if let Some(encoded) = label.strip_prefix("xn--") {
        if let Some(decoded) = idna::punycode::decode_to_string(encoded) {
            return Cow::Owned(decoded);
        }
    }
    Cow::Borrowed(label)
}

/// Calls `visit` with `label` and every one-deletion variant of it (the
/// deletion neighbourhood both the index and the lookups use), reusing one
/// buffer: lookups run per message, so they must not allocate per variant.
fn for_each_neighbour(label: &str, buf: &mut String, mut visit: impl FnMut(&str)) {
    visit(label);
    for (i, c) in label.char_indices() {
        buf.clear();
        // char_indices: both cuts are char boundaries.
        buf.push_str(label.get(..i).unwrap_or_default());
        buf.push_str(label.get(i + c.len_utf8()..).unwrap_or_default());
        visit(buf);
    }
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
            vec![LookalikeKind::Addition, LookalikeKind::Plural]
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
            vec![LookalikeKind::Homoglyph, LookalikeKind::Replacement]
        );
        assert_eq!(
            kinds("kestrelfoods.com").unwrap().1,
            vec![LookalikeKind::TldSwap]
        );
    }

    #[test]
    fn brands_are_guarded_less_strictly_than_the_org() {
        let index = LookalikeIndex::builder()
            .org(["kestrelfoods.com", "acme.com"])
            .brands(["google.com", "usps.com", "paypal.com"])
            .build();
        let target = |d: &str| index.find(d).map(|m| m.target);
        let strength = |d: &str| index.find(d).map_or(0.0, |m| m.strength);
        // Org: every suffix and four-letter names.
        assert_eq!(target("kestrelfoods.de"), Some("kestrelfoods.com".into()));
        assert_eq!(target("acne.com"), Some("acme.com".into()));
        assert!(strength("acne.com") >= STRONG_LOOKALIKE);
        // Brands: their own country domains are not imitations, cheap TLDs are.
        assert_eq!(target("google.de"), None);
        assert_eq!(target("google.xyz"), Some("google.com".into()));
        // A four-letter brand's one-letter edit is reported, but weak: it
        // is as often another real name (usgs for usps).
        assert_eq!(target("usgs.com"), Some("usps.com".into()));
        assert!(strength("usgs.com") < STRONG_LOOKALIKE);
        assert_eq!(target("paypa1.com"), Some("paypal.com".into()));
        assert!(strength("paypa1.com") >= STRONG_LOOKALIKE);
        // A domain no attacker can register imitates nothing.
        assert_eq!(target("kestrelfoods.gov"), None);
        assert_eq!(target("kestrelfoods.ac.uk"), None);
    }

    /// An index without the built-in popular list, so strengths depend
    /// on the edit and the name alone.
    fn brand_index(brands: &[&str]) -> LookalikeIndex {
        LookalikeIndex::builder()
            .brands(brands.iter().copied())
            .popular("")
            .build()
    }

    #[test]
    fn one_letter_edits_of_short_brand_names_are_reported() {
        let index = LookalikeIndex::builder()
            .brands(["okta.com", "xero.com", "wise.com", "zoom.us", "bill.com"])
            .brands(["smbc.co.jp", "ups.com", "dhl.com"])
            .build();
        for (seen, target) in [
            ("okta1.com", "okta.com"),
            ("0kta.com", "okta.com"),
            ("okat.com", "okta.com"),
            ("xer0.com", "xero.com"),
            ("wlse.com", "wise.com"),
            ("zoom1.us", "zoom.us"),
            ("bi1l.com", "bill.com"),
            ("smbc1.co.jp", "smbc.co.jp"),
            ("upss.com", "ups.com"),
            ("dhi.com", "dhl.com"),
        ] {
            let m = index
                .find(seen)
                .unwrap_or_else(|| panic!("{seen} not reported"));
            assert_eq!(m.target, target, "{seen}");
            assert!((0.0..=1.0).contains(&m.strength), "{seen}: {}", m.strength);
        }
        // Glyph-only spellings and a digit put into a name of letters stay
        // strong even on four letters.
        for seen in ["okta1.com", "0kta.com", "xer0.com", "okat.com"] {
            let m = index.find(seen).unwrap();
            assert!(m.is_strong(), "{seen}: {}", m.strength);
        }
        // A name of one or two letters has no one-letter edit worth a word.
        let tiny = brand_index(&["x.com", "au.com"]);
        assert_eq!(tiny.find("xx.com"), None);
        assert_eq!(tiny.find("ay.com"), None);
    }

    #[test]
    fn the_same_edit_is_weaker_on_a_shorter_name() {
        let index = brand_index(&["wise.com", "ups.com", "paypal.com", "microsoft.com"]);
        let strength = |d: &str| index.find(d).map(|m| m.strength).expect(d);
        // One letter replaced: three, four, six and nine letters.
        let (s3, s4, s6, s9) = (
            strength("ubs.com"),
            strength("wize.com"),
            strength("paypel.com"),
            strength("microsaft.com"),
        );
        assert!(s3 < s4 && s4 < s6 && s6 <= s9, "{s3} {s4} {s6} {s9}");
        assert!(s4 < STRONG_LOOKALIKE && s6 >= STRONG_LOOKALIKE);
        // Glyph-only beats a letter edit on the same name.
        assert!(strength("paypa1.com") > strength("paypals.com"));
        assert!(strength("rnicrosoft.com") > strength("microsft.com"));
    }

    #[test]
    fn a_popular_candidate_is_reported_weak() {
        // zoom.com is Zoom's too, and box.com a known company: reported,
        // with a strength of 0.1 or less, by the built-in list or a given one.
        let builtin = LookalikeIndex::builder().brands(["xbox.com"]).build();
        let m = builtin
            .find("box.com")
            .expect("box.com is an omission of xbox");
        assert!(m.strength <= 0.1, "{}", m.strength);
        let given = LookalikeIndex::builder()
            .brands(["paypal.com"])
            .popular("# popular\npaypals.com\nwww.paypai.com\n")
            .build();
        let of = |d: &str| given.find(d).map(|m| m.strength).expect(d);
        assert!(of("paypals.com") <= 0.1);
        assert!(of("paypai.com") <= 0.1, "registrable domains are compared");
        assert!(of("paypa1.com") >= STRONG_LOOKALIKE);
        // A protected domain is never a candidate, popular or not.
        let both = LookalikeIndex::builder()
            .org(["paypal.com"])
            .popular("paypal.com\n")
            .build();
        assert_eq!(both.find("paypal.com"), None);
        assert!(both.find("paypa1.com").unwrap().is_strong());
    }

    #[test]
    fn the_embedded_popular_list_is_the_datasets_one() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = dir.join("../../datasets/lookalike/popular-domains.txt");
        let source =
            std::fs::read_to_string(&path).expect("datasets/lookalike/popular-domains.txt");
        assert!(
            source == DEFAULT_POPULAR_DOMAINS,
            "crates/features/data/popular_domains.txt differs from its source {}: run datasets/lookalike/build_popular_domains.py",
            path.display()
        );
        let lines = list_entries(DEFAULT_POPULAR_DOMAINS).count();
        assert!(
            (10_000..=20_000).contains(&lines),
            "{lines} popular domains"
        );
    }

    #[test]
    fn strength_follows_the_documented_table() {
        let index = LookalikeIndex::builder()
            .org(["kestrelfoods.com"])
            .popular("")
            .build();
        let strength = |d: &str| index.find(d).map(|m| m.strength).expect(d);
        for (seen, expected) in [
            ("kestre1foods.com", 0.95),
            ("kestrelfodos.com", 0.85),
            ("kestrelfods.com", 0.8),
            ("kestrelfoodsx.com", 0.7),
            ("kestrelfoods.net", 0.8),
            ("kestrelfoods-secure.com", 0.7),
        ] {
            assert_eq!(strength(seen), expected, "{seen}");
        }
    }

    #[test]
    fn dictionary_various_and_subdomain_kinds() {
        let index = LookalikeIndex::new(["kestrelfoods.co.jp", "coldchain-partners.eu"]);
        let kinds = |d: &str| index.find(d).map(|m| (m.target, m.kinds));
        use LookalikeKind::*;
        assert_eq!(
            kinds("payroll-kestrelfoods.com"),
            Some(("kestrelfoods.co.jp".into(), vec![Dictionary]))
        );
        assert_eq!(
            kinds("secure-partners.eu"),
            Some(("coldchain-partners.eu".into(), vec![Dictionary]))
        );
        assert_eq!(
            kinds("kestrelfoodscojp.com"),
            Some(("kestrelfoods.co.jp".into(), vec![Various]))
        );
        assert_eq!(
            kinds("kestrel.foods.co.jp"),
            Some(("kestrelfoods.co.jp".into(), vec![Subdomain]))
        );
        assert_eq!(
            kinds("login.kestrelfoods.example.net"),
            Some(("kestrelfoods.co.jp".into(), vec![Subdomain]))
        );
        // A word the list does not hold is not a dictionary imitation.
        assert_eq!(kinds("kestrelfoodsbanana.com"), None);
    }

    #[test]
    fn idn_and_cyrillic() {
        let index = LookalikeIndex::new(["apple.com", "kestrelfoods.com"]);
        let m = index.find("xn--80ak6aa92e.com").expect("аррӏе.com");
        assert_eq!(
            (m.target.as_str(), m.kinds.clone()),
            ("apple.com", vec![LookalikeKind::Cyrillic])
        );
        let m = index
            .find("xn--kstrelfoods-okj.com")
            .expect("kеstrelfoods.com");
        assert_eq!(m.kinds, vec![LookalikeKind::Homoglyph]);
        assert!(is_mixed_script_domain("xn--kstrelfoods-okj.com"));
        assert!(!is_mixed_script_domain("xn--80ak6aa92e.com"));
        assert_eq!(display_domain("xn--80ak6aa92e.com"), "аррӏе.com");
    }

    #[test]
    fn hostile_domains_never_panic() {
        let index = LookalikeIndex::new(["kestrelfoods.com", "coldchain-partners.eu"]);
        let alphabet: Vec<char> = "abcdeklmnorsvw01-.ïаеӏ😀\u{301}xn--".chars().collect();
        let mut state = 0x9e3779b97f4a7c15u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (state >> 58) as usize * 5;
            let domain: String = (0..len)
                .map(|k| {
                    let r = state.rotate_left(k as u32 * 7) >> 40;
                    alphabet[r as usize % alphabet.len()]
                })
                .collect();
            let _ = index.find(&domain);
            let _ = is_mixed_script_domain(&domain);
        }
        for long in [
            "a".repeat(10_000),
            format!("{}.com", "k".repeat(300)),
            "xn--".repeat(60),
        ] {
            assert_eq!(index.find(&long), None);
        }
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
