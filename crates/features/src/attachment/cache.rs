//! A per-thread cache of what the readers found in an attachment's bytes.
//!
//! Real mail repeats its attachments: a campaign sends one PDF or one logo
//! to thousands of addresses, a signature image rides on every message of a
//! thread. Decoding the same JPEG and searching it for a QR code each time
//! is most of the readers' cost on such mail.
//!
//! What is cached is the readers' part only ([`super::inspect_bytes`] at
//! depth 0): name checks and sniffing are cheap and run every time. The
//! readers' result is a function of the bytes, their kind, the budget left
//! when they start and the limits, so the key holds all of these (the bytes
//! by their SHA-256 and length) and the value holds, besides the findings,
//! members, links and text, the budget they consumed: a hit replays the
//! result and leaves the budget exactly where a reading would have left it.
//! Whatever ran before on the thread, the same input gives the same output.
//!
//! Bounded: at most [`MAX_ENTRIES`] entries and [`MAX_BYTES`] bytes of
//! cached strings per thread, the oldest evicted first. Attachments under
//! [`MIN_CACHED_BYTES`] are read every time (cheaper than remembering).

use super::{Analysis, AttachmentKind, AttachmentLimits, Budget, Finding, FoundUrl, Member};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

/// Entries kept per thread.
pub(super) const MAX_ENTRIES: usize = 512;

/// Bytes of cached results (strings and records) kept per thread.
pub(super) const MAX_BYTES: usize = 8 << 20;

/// Attachments smaller than this are not cached.
pub(super) const MIN_CACHED_BYTES: usize = 2 << 10;

/// Everything the readers' result depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Key {
    /// SHA-256 of the whole attachment (lower-case hex, as described).
    sha256: String,
    /// Bytes read (the attachment up to `max_attachment_bytes`).
    len: usize,
    kind: AttachmentKind,
    start: BudgetState,
    limits: LimitsKey,
}

/// The budget's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct BudgetState {
    inflated_left: usize,
    members_left: usize,
    qr_images_left: usize,
}

impl BudgetState {
    fn of(budget: &Budget) -> BudgetState {
        // Destructured without `..`: a counter added to the budget must be
        // added here too, or the cache would return stale budgets.
        let Budget {
            limits: _,
            inflated_left,
            members_left,
            qr_images_left,
        } = budget;
        BudgetState {
            inflated_left: *inflated_left,
            members_left: *members_left,
            qr_images_left: *qr_images_left,
        }
    }

    fn apply(self, budget: &mut Budget) {
        budget.inflated_left = self.inflated_left;
        budget.members_left = self.members_left;
        budget.qr_images_left = self.qr_images_left;
    }
}

/// Every limit, as numbers.
type LimitsKey = [u64; 10];

fn limits_key(limits: &AttachmentLimits) -> LimitsKey {
    // Destructured without `..`: a new limit must be part of the key.
    let AttachmentLimits {
        max_attachments,
        max_attachment_bytes,
        max_inflated_bytes,
        max_members,
        max_depth,
        max_image_pixels,
        max_qr_images,
        max_pdf_objects,
        max_text_bytes,
        max_links,
    } = limits;
    let n = |v: usize| v as u64;
    [
        n(*max_attachments),
        n(*max_attachment_bytes),
        n(*max_inflated_bytes),
        n(*max_members),
        u64::from(*max_depth),
        *max_image_pixels,
        n(*max_qr_images),
        n(*max_pdf_objects),
        n(*max_text_bytes),
        n(*max_links),
    ]
}

/// What the readers produced, and the budget they left.
#[derive(Clone, Debug)]
struct Value {
    findings: Vec<Finding>,
    members: Vec<Member>,
    urls: Vec<FoundUrl>,
    text: String,
    end: BudgetState,
    /// Bytes counted against [`MAX_BYTES`].
    size: usize,
}

impl Value {
    fn of(analysis: &Analysis, end: BudgetState) -> Value {
        let mut value = Value {
            findings: analysis.findings.clone(),
            members: analysis.members.clone(),
            urls: analysis.urls.clone(),
            text: analysis.text.clone(),
            end,
            size: 0,
        };
        value.size = value.weight();
        value
    }

    /// Heap and record bytes, roughly (capacities as lengths).
    fn weight(&self) -> usize {
        use std::mem::size_of;
        size_of::<Value>()
            + size_of::<Key>()
            + 64 // the key's hash
            + self.text.len()
            + self
                .findings
                .iter()
                .map(|f| size_of::<Finding>() + f.detail.len())
                .sum::<usize>()
            + self
                .members
                .iter()
                .map(|m| size_of::<Member>() + m.name.len())
                .sum::<usize>()
            + self
                .urls
                .iter()
                .map(|u| size_of::<FoundUrl>() + u.url.len())
                .sum::<usize>()
    }

    fn to_analysis(&self) -> Analysis {
        Analysis {
            findings: self.findings.clone(),
            members: self.members.clone(),
            urls: self.urls.clone(),
            text: self.text.clone(),
        }
    }
}

/// A bounded FIFO map.
#[derive(Debug, Default)]
struct Cache {
    map: HashMap<Key, Value>,
    order: VecDeque<Key>,
    bytes: usize,
    #[cfg(test)]
    hits: usize,
}

impl Cache {
    fn insert(&mut self, key: Key, value: Value) {
        if value.size > MAX_BYTES / 4 || self.map.contains_key(&key) {
            return;
        }
        while self.map.len() >= MAX_ENTRIES || self.bytes + value.size > MAX_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(v) = self.map.remove(&old) {
                self.bytes -= v.size;
            }
        }
        self.bytes += value.size;
        self.order.push_back(key.clone());
        self.map.insert(key, value);
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The readers' result for `bytes` (of kind `kind`, the whole attachment
/// hashing to `sha256`), read into a fresh [`Analysis`] with the budget
/// drawn on: from the thread's cache when the same bytes were read with the
/// same budget and limits, else by `read` (and remembered).
pub(super) fn inspect_cached(
    sha256: &str,
    bytes: &[u8],
    kind: AttachmentKind,
    budget: &mut Budget,
    read: impl FnOnce(&mut Budget, &mut Analysis),
) -> Analysis {
    if bytes.len() < MIN_CACHED_BYTES || !worth_caching(kind) {
        let mut out = Analysis::default();
        read(budget, &mut out);
        return out;
    }
    let key = Key {
        sha256: sha256.to_string(),
        len: bytes.len(),
        kind,
        start: BudgetState::of(budget),
        limits: limits_key(&budget.limits),
    };
    let hit = CACHE.with_borrow_mut(|cache| {
        let value = cache.map.get(&key)?;
        value.end.apply(budget);
        let out = value.to_analysis();
        #[cfg(test)]
        {
            cache.hits += 1;
        }
        Some(out)
    });
    if let Some(out) = hit {
        return out;
    }
    let mut out = Analysis::default();
    read(budget, &mut out);
    let value = Value::of(&out, BudgetState::of(budget));
    CACHE.with_borrow_mut(|cache| cache.insert(key, value));
    out
}

/// Kinds whose readers cost more than a copy of their result.
fn worth_caching(kind: AttachmentKind) -> bool {
    matches!(
        kind,
        AttachmentKind::Pdf
            | AttachmentKind::Image
            | AttachmentKind::Html
            | AttachmentKind::Archive
            | AttachmentKind::Office
    )
}

#[cfg(test)]
mod tests {
    use super::super::{read_file, read_one, Attachment, AttachmentLimits, Budget, FindingCode};
    use super::*;

    fn clear() {
        CACHE.with_borrow_mut(|cache| *cache = Cache::default());
    }

    fn hits() -> usize {
        CACHE.with_borrow(|cache| cache.hits)
    }

    /// (entries, bytes counted) and whether the count matches the entries.
    fn size() -> (usize, usize, bool) {
        CACHE.with_borrow(|cache| {
            let counted: usize = cache.map.values().map(|v| v.size).sum();
            (
                cache.map.len(),
                cache.bytes,
                counted == cache.bytes && cache.order.len() == cache.map.len(),
            )
        })
    }

    /// An HTML page (cached kind) holding a credential form, a link and
    /// some text, made distinct by `n`, padded past the cache's minimum.
    fn page(n: usize) -> Vec<u8> {
        format!(
            "<html><body><p>Invoice {n} is ready</p>\
             <form action=\"https://evil{n}.example/login\"><input type=password name=p></form>\
             <a href=\"https://evil{n}.example/x\">open</a><!-- {} --></body></html>",
            "padding ".repeat(400)
        )
        .into_bytes()
    }

    /// read_one as `read_attachments` calls it: the attachment described,
    /// then read against `budget`.
    fn read(name: &str, bytes: &[u8], budget: &mut Budget) -> (Attachment, Vec<String>, String) {
        let mut attachment = Attachment {
            name: Some(name.to_string()),
            declared_type: "text/html".into(),
            size_bytes: bytes.len() as u64,
            sha256: super::super::hex(&sha2::Sha256::digest(bytes)),
            ..Attachment::default()
        };
        let analysis = read_one(&mut attachment, bytes, budget);
        let urls = analysis.urls.into_iter().map(|u| u.url).collect();
        (attachment, urls, analysis.text)
    }

    use sha2::Digest as _;

    #[test]
    fn a_cache_hit_gives_exactly_what_a_reading_gives_budget_included() {
        let limits = AttachmentLimits::default();
        let bytes = page(1);
        // A miss, on an empty cache.
        clear();
        let mut budget_miss = Budget::new(&limits);
        budget_miss.qr_images_left = 3;
        let miss = read("a.html", &bytes, &mut budget_miss);
        assert_eq!(hits(), 0);
        assert!(miss.0.has(FindingCode::CredentialForm), "{:?}", miss.0);
        assert!(!miss.1.is_empty() && !miss.2.is_empty());
        // The same bytes under another name (a double extension the name
        // checks see), after other readings: a hit, and the same result as
        // a reading of that name on an empty cache.
        let _ = read_file(Some("other.html"), "text/html", &page(2), &limits);
        let mut budget_hit = Budget::new(&limits);
        budget_hit.qr_images_left = 3;
        let hit = read("invoice.pdf.html", &bytes, &mut budget_hit);
        assert_eq!(hits(), 1);
        clear();
        let mut budget_fresh = Budget::new(&limits);
        budget_fresh.qr_images_left = 3;
        let fresh = read("invoice.pdf.html", &bytes, &mut budget_fresh);
        assert_eq!(hits(), 0);
        assert_eq!(hit, fresh);
        assert!(hit.0.has(FindingCode::DoubleExtension));
        for (a, b) in [(&budget_hit, &budget_miss), (&budget_fresh, &budget_miss)] {
            assert_eq!(BudgetState::of(a), BudgetState::of(b));
        }
        // Findings, links and text are the miss's, under the other name.
        assert_eq!(hit.1, miss.1);
        assert_eq!(hit.2, miss.2);
    }

    #[test]
    fn the_budget_at_the_start_is_part_of_the_key() {
        let limits = AttachmentLimits::default();
        let bytes = page(3);
        clear();
        let mut full = Budget::new(&limits);
        let mut spent = Budget::new(&limits);
        spent.inflated_left = 10;
        let out = |budget: &mut Budget, seen: &mut usize| {
            inspect_cached("k", &bytes, AttachmentKind::Html, budget, |budget, _| {
                budget.inflated_left = budget.inflated_left.saturating_sub(5);
                *seen += 1;
            })
        };
        let mut readings = 0;
        let _ = out(&mut full, &mut readings);
        let _ = out(&mut spent, &mut readings);
        assert_eq!(readings, 2, "another start budget is another key");
        let mut again = Budget::new(&limits);
        again.inflated_left = 10;
        let _ = out(&mut again, &mut readings);
        assert_eq!(readings, 2, "the same start budget hits");
        assert_eq!(again.inflated_left, 5, "the budget consumed is applied");
        assert_eq!(full.inflated_left, limits.max_inflated_bytes - 5);
    }

    #[test]
    fn the_cache_stays_within_its_entries_and_bytes() {
        let limits = AttachmentLimits::default();
        clear();
        let big = "x".repeat(40 << 10);
        let bytes = vec![b'a'; MIN_CACHED_BYTES];
        for n in 0..MAX_ENTRIES * 2 {
            let key = format!("{n:064}");
            let _ = inspect_cached(
                &key,
                &bytes,
                AttachmentKind::Pdf,
                &mut Budget::new(&limits),
                |_, out| {
                    out.text = big.clone();
                },
            );
            let (entries, counted, consistent) = size();
            assert!(entries <= MAX_ENTRIES && counted <= MAX_BYTES && consistent);
        }
        let (entries, counted, _) = size();
        // 40 KiB a value: the bytes bound, not the entries, decides.
        assert!(entries < MAX_ENTRIES && entries > 100, "{entries}");
        assert!(counted > MAX_BYTES - (64 << 10), "{counted}");
        // Small attachments are read every time, never kept.
        clear();
        let _ = inspect_cached(
            "s",
            b"tiny",
            AttachmentKind::Pdf,
            &mut Budget::new(&limits),
            |_, _| {},
        );
        assert_eq!(size().0, 0);
    }
}
