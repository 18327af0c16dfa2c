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

mod edit;
mod glyph;
pub mod permutation;

use crate::domain::{list_entries, normalize_domain, registrable_domain};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::borrow::Cow;

/// Shortest protected label (in characters) the one-edit and glyph-class
/// kinds apply to, for the organisation's own domains and for brands: below
/// this, one changed letter of a short name is mostly another real name
/// (zoom and noom, usps and usgs, xbox and box).
const MIN_EDIT_LABEL_ORG: usize = 4;
const MIN_EDIT_LABEL_BRAND: usize = 5;
/// Shortest protected label looked for as a label of an unrelated domain
/// (`kestrelfoods.secure-pay.net`) or combined with a dictionary word.
const MIN_EMBEDDED_LABEL: usize = 4;
/// Most glyph substitutions a homoglyph may make: dnstwist makes two rounds,
/// each of which may change a doubled letter at once.
const MAX_GLYPH_EVENTS: usize = 4;

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
    /// under the brand TLD list, and one-letter edits only on names of five
    /// letters or more.
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
    fn min_edit_label(&self) -> usize {
        match self.scope {
            Scope::Org => MIN_EDIT_LABEL_ORG,
            Scope::Brand => MIN_EDIT_LABEL_BRAND,
        }
    }

    fn edits_apply(&self) -> bool {
        self.label_chars >= self.min_edit_label()
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

    /// Builds the index: every protected domain's label, deletion
    /// neighbourhood and glyph key.
    pub fn build(self) -> LookalikeIndex {
        LookalikeIndex::build(self)
    }
}

fn push_entry(map: &mut FxHashMap<String, Vec<u32>>, key: &str, i: u32) {
    let entries = map.entry(key.to_string()).or_default();
    if entries.last() != Some(&i) {
        entries.push(i);
    }
}

impl LookalikeIndex {
    /// An empty builder with the built-in word and TLD lists.
    pub fn builder() -> LookalikeIndexBuilder {
        LookalikeIndexBuilder {
            domains: Vec::new(),
            words: DEFAULT_WORDS.to_string(),
            brand_tlds: DEFAULT_BRAND_TLDS.to_string(),
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
            if p.suffix != suffix && swap_counts && label_chars >= MIN_EDIT_LABEL_ORG {
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

        let (i, rank, kinds) = found.best(|i| self.entry(i), &norm, suffix)?;
        let p = self.entry(i);
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
        for at in MIN_EMBEDDED_LABEL.min(bytes.len())..bytes.len() {
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
        for at in 1..bytes.len().saturating_sub(MIN_EMBEDDED_LABEL - 1) {
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
                if self.entry(i).label.len() >= MIN_EMBEDDED_LABEL {
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

    /// The best explanation: lowest rank, then the target whose suffix is
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
    ) -> Option<(u32, Rank, Vec<LookalikeKind>)> {
        let nearness = |p: &Protected| {
            let spelt = host
                .match_indices(p.registrable.as_str())
                .any(|(at, _)| host.as_bytes().get(at + p.registrable.len()) == Some(&b'.'));
            if spelt {
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
        let best = if self.entries.len() == 1 {
            self.entries.into_iter().next()
        } else {
            self.entries
                .into_iter()
                .min_by_key(|e| (e.rank, nearness(protected(e.i)), e.i))
        }?;
        let mut kinds = vec![best.lead];
        kinds.extend(
            LookalikeKind::ALL
                .into_iter()
                .filter(|k| *k != best.lead && best.kinds & (1 << *k as u32) != 0),
        );
        Some((best.i, best.rank, kinds))
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
        // Org: every suffix and four-letter names.
        assert_eq!(target("kestrelfoods.de"), Some("kestrelfoods.com".into()));
        assert_eq!(target("acne.com"), Some("acme.com".into()));
        // Brands: their own country domains are not imitations, cheap TLDs are.
        assert_eq!(target("google.de"), None);
        assert_eq!(target("google.xyz"), Some("google.com".into()));
        assert_eq!(target("usgs.com"), None);
        assert_eq!(target("paypa1.com"), Some("paypal.com".into()));
        // A domain no attacker can register imitates nothing.
        assert_eq!(target("kestrelfoods.gov"), None);
        assert_eq!(target("kestrelfoods.ac.uk"), None);
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
