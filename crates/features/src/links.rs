//! Links in the body: where they really go, and whether what the reader sees
//! (anchor text, a brand in the host name) tells the truth about it.

use crate::context::Context;
use crate::domain::{normalize_domain, organisational_domain, registrable_domain};
use crate::evidence::{EvidenceLog, Technique};
use crate::lookalike::LookalikeMatch;
use crate::message::{Link, MessageView};
use crate::schema::{Feature, FeatureVector};
use rustc_hash::FxHashMap;

/// Brand tokens shorter than this match whole host labels only.
const MIN_SUBSTRING_BRAND: usize = 5;
/// Evidence sentences kept per link feature.
const MAX_EXAMPLES: usize = 2;

/// The domain named by a link's visible text, if it names one.
fn text_domain(text: &str) -> Option<String> {
    let mut finder = linkify::LinkFinder::new();
    finder
        .url_must_have_scheme(false)
        .kinds(&[linkify::LinkKind::Url]);
    let found = finder.links(text).next()?;
    let s = found.as_str();
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let host = rest.split(['/', '?', '#', ':']).next()?;
    let host = normalize_domain(host)?;
    registrable_domain(&host).map(str::to_string)
}

/// A brand the host shows without being that brand's domain. Short brand
/// tokens must be a whole label (split on dots and hyphens); longer ones may
/// stand inside a label.
fn unrelated_brand<'a>(host: &str, ctx: &'a Context) -> Option<&'a str> {
    let reg = registrable_domain(host)?;
    if ctx.is_protected(reg) || ctx.is_tenant_host(host) {
        return None;
    }
    let reg_label = reg.split('.').next().unwrap_or(reg);
    let bytes = host.as_bytes();
    let separator = |b: u8| b == b'.' || b == b'-';
    ctx.brand_matcher()
        .find_overlapping_iter(host)
        .find_map(|m| {
            // Pattern i of the matcher is brand i.
            let brand = ctx.brands().get(m.pattern().as_usize())?.as_str();
            let before = m
                .start()
                .checked_sub(1)
                .and_then(|i| bytes.get(i))
                .is_none_or(|&b| separator(b));
            let after = bytes.get(m.end()).is_none_or(|&b| separator(b));
            let whole_label = before && after;
            let counts = brand.len() >= MIN_SUBSTRING_BRAND || whole_label;
            (counts && !reg_label.contains(brand)).then_some(brand)
        })
}

/// What a link host says, computed once per host and message.
struct HostFacts<'a> {
    brand: Option<&'a str>,
    shortener: bool,
    punycode: bool,
    lookalike: Option<LookalikeMatch>,
}

pub(crate) fn extract(
    view: &MessageView,
    ctx: &Context,
    v: &mut FeatureVector,
    log: &mut EvidenceLog,
) {
    let mut counts = [0u32; 8];
    let features = [
        Feature::LinkCount,
        Feature::LinkHttpOnlyCount,
        Feature::LinkIpLiteralHostCount,
        Feature::LinkTextDomainMismatchCount,
        Feature::LinkBrandUnrelatedHostCount,
        Feature::LinkShortenerCount,
        Feature::LinkPunycodeHostCount,
        Feature::LinkHostLookalikeCount,
    ];
    let mut examples: Vec<Vec<String>> = vec![Vec::new(); features.len()];
    // Evidence text is only built for the first few examples.
    fn note(
        i: usize,
        counts: &mut [u32; 8],
        examples: &mut [Vec<String>],
        text: impl FnOnce() -> String,
    ) {
        if let Some(count) = counts.get_mut(i) {
            *count += 1;
        }
        if let Some(list) = examples.get_mut(i).filter(|l| l.len() < MAX_EXAMPLES) {
            list.push(text());
        }
    }
    // Newsletters repeat one host across dozens of links: judge each host once.
    let mut hosts: FxHashMap<&str, HostFacts> = FxHashMap::default();
    for link in &view.links {
        counts[0] += 1;
        if link.scheme == "http" {
            note(1, &mut counts, &mut examples, || {
                format!("plain http link {}", short(link))
            });
        }
        let Some(host) = link.host.as_deref() else {
            continue;
        };
        if link.host_is_ip {
            note(2, &mut counts, &mut examples, || {
                format!("link to a bare IP address: {}", short(link))
            });
            continue;
        }
        if let (Some(text), Some(reg)) = (link.text.as_deref(), registrable_domain(host)) {
            if let Some(shown) = text_domain(text).filter(|s| s != reg) {
                note(3, &mut counts, &mut examples, || {
                    format!("link text shows {shown} but goes to {host}")
                });
            }
        }
        let facts = hosts.entry(host).or_insert_with(|| HostFacts {
            brand: unrelated_brand(host, ctx),
            shortener: ctx.is_shortener(host),
            punycode: host.split('.').any(|l| l.starts_with("xn--")),
            lookalike: ctx.lookalike().find(host),
        });
        if let Some(brand) = facts.brand {
            note(4, &mut counts, &mut examples, || {
                format!(
                    "link host {host} carries the name \"{brand}\" but belongs to {}",
                    organisational_domain(host)
                )
            });
        }
        if facts.shortener {
            note(5, &mut counts, &mut examples, || {
                format!("link through URL shortener {host}")
            });
        }
        if facts.punycode {
            note(6, &mut counts, &mut examples, || {
                format!("link host {host} is punycode-encoded")
            });
        }
        if let Some(m) = facts.lookalike.as_ref().filter(|m| m.is_strong()) {
            note(7, &mut counts, &mut examples, || {
                format!("link host {}", m.describe())
            });
        }
    }
    // The strongest lookalike among the hosts; weak ones are evidence only.
    let mut max_strength = 0.0f32;
    let mut weak: Vec<String> = Vec::new();
    for m in hosts.values().filter_map(|f| f.lookalike.as_ref()) {
        max_strength = max_strength.max(m.strength);
        if !m.is_strong() {
            weak.push(format!("link host {}", m.describe_with_strength()));
        }
    }
    v.set(Feature::LinkHostLookalikeMaxStrength, max_strength);
    // Hosts come out of a hash map: sorted, the evidence is the same each run.
    weak.sort();
    for text in weak.into_iter().take(MAX_EXAMPLES) {
        log.add(Feature::LinkHostLookalikeMaxStrength, None, text);
    }
    let per_feature = features.iter().zip(counts).zip(&examples).enumerate();
    for (i, ((feature, count), examples)) in per_feature {
        v.set(*feature, count as f32);
        if i == 0 || count == 0 {
            continue;
        }
        let technique =
            (*feature == Feature::LinkHostLookalikeCount).then_some(Technique::LookalikeDomain);
        for example in examples {
            log.add(*feature, technique, example.clone());
        }
    }
}

fn short(link: &Link) -> String {
    crate::html::truncate_at_char(&link.href, 80).to_string()
}
