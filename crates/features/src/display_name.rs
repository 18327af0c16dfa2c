//! Display names: matching high-profile users (VIPs) however the attacker
//! writes their name, and the free-mail and Reply-To features around them.

use crate::context::{Context, Vip};
use crate::domain::relaxed_aligned;
use crate::evidence::{EvidenceLog, Technique};
use crate::message::MessageView;
use crate::schema::{Feature, FeatureVector};
use rustc_hash::FxHashMap;
use unicode_normalization::UnicodeNormalization;

/// Words that are not part of a name: titles, roles, honorifics.
const TITLE_WORDS: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "prof",
    "sir",
    "jr",
    "sr",
    "ceo",
    "cfo",
    "coo",
    "cto",
    "cio",
    "ciso",
    "president",
    "chairman",
    "chair",
    "director",
    "md",
    "vp",
    "svp",
    "evp",
    "founder",
];
/// Japanese honorifics and titles, often written straight after the name.
const JA_SUFFIXES: &[&str] = &[
    "様",
    "さん",
    "殿",
    "社長",
    "副社長",
    "会長",
    "部長",
    "課長",
    "専務",
    "常務",
    "取締役",
];

/// Lower-cased name tokens with diacritics, titles, bracketed parts and
/// punctuation removed: "Brandt, Daniel (CEO)" → ["brandt", "daniel"].
pub(crate) fn name_tokens(name: &str, extra_titles: &[String]) -> Vec<String> {
    // Decompose, drop Latin combining accents (keep kana voicing marks), recompose.
    let folded: String = name
        .nfkd()
        .filter(|c| !('\u{0300}'..='\u{036f}').contains(c))
        .nfc()
        .flat_map(char::to_lowercase)
        .collect();
    // An address written into the name is not part of the name.
    let folded = folded
        .split_whitespace()
        .filter(|w| !w.contains('@'))
        .collect::<Vec<_>>()
        .join(" ");
    let mut plain = String::with_capacity(folded.len());
    let mut depth = 0usize;
    for c in folded.chars() {
        match c {
            '(' | '[' | '{' | '（' | '【' => depth += 1,
            ')' | ']' | '}' | '）' | '】' => {
                depth = depth.saturating_sub(1);
                plain.push(' ');
            }
            _ if depth > 0 => {}
            c if c.is_alphanumeric() => plain.push(c),
            _ => plain.push(' '),
        }
    }
    plain
        .split_whitespace()
        .map(|t| {
            let mut t = t;
            for s in JA_SUFFIXES {
                if let Some(stripped) = t.strip_suffix(s).filter(|r| !r.is_empty()) {
                    t = stripped;
                }
            }
            t.to_string()
        })
        .filter(|t| {
            !TITLE_WORDS.contains(&t.as_str())
                && !JA_SUFFIXES.contains(&t.as_str())
                && !extra_titles.iter().any(|x| x == t)
        })
        .collect()
}

/// Finds the VIP a display name names.
#[derive(Debug, Default)]
pub(crate) struct VipIndex {
    vips: Vec<Vip>,
    keys: FxHashMap<String, usize>,
    titles: Vec<String>,
}

impl VipIndex {
    pub fn new(vips: &[Vip]) -> VipIndex {
        let titles: Vec<String> = vips
            .iter()
            .filter_map(|v| v.title.as_deref())
            .flat_map(|t| name_tokens(t, &[]))
            .collect();
        let mut keys = FxHashMap::default();
        for (i, vip) in vips.iter().enumerate() {
            for name in std::iter::once(&vip.name).chain(&vip.aliases) {
                let tokens = name_tokens(name, &[]);
                if tokens.is_empty() {
                    continue;
                }
                let mut sorted = tokens.clone();
                sorted.sort();
                keys.entry(sorted.join(" ")).or_insert(i);
                // Written without spaces, in any order ("山田太郎", "太郎山田").
                if tokens.len() <= 4 {
                    for perm in permutations(&tokens) {
                        keys.entry(perm.concat()).or_insert(i);
                    }
                }
            }
        }
        VipIndex {
            vips: vips.to_vec(),
            keys,
            titles,
        }
    }

    pub fn lookup(&self, display_name: &str) -> Option<&Vip> {
        if self.keys.is_empty() {
            return None;
        }
        let tokens = name_tokens(display_name, &self.titles);
        if tokens.is_empty() {
            return None;
        }
        let mut sorted = tokens.clone();
        sorted.sort();
        self.keys
            .get(&sorted.join(" "))
            .or_else(|| self.keys.get(&tokens.concat()))
            .and_then(|&i| self.vips.get(i))
    }
}

fn permutations(tokens: &[String]) -> Vec<Vec<String>> {
    if tokens.len() <= 1 {
        return vec![tokens.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..tokens.len() {
        let mut rest = tokens.to_vec();
        let first = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, first.clone());
            out.push(p);
        }
    }
    out
}

/// Words a sender puts beside a brand's name to look like its service desk.
const SERVICE_WORDS: &[&str] = &[
    "support",
    "billing",
    "security",
    "team",
    "service",
    "services",
    "account",
    "accounts",
    "customer",
    "help",
    "helpdesk",
    "notification",
    "notifications",
    "alert",
    "alerts",
    "renewal",
    "subscription",
    "payments",
    "payment",
    "invoice",
    "order",
    "orders",
    "care",
    "online",
    "center",
    "centre",
    "department",
    "protection",
    "admin",
    "no-reply",
    "noreply",
    "delivery",
    "shipping",
    "tracking",
    "express",
    "parcel",
    "package",
    "bank",
    "banking",
];

/// Brand names that are also everyday words or given names (Chase, Target,
/// Discover, Square, Wise …): they count only beside a service word.
fn is_ambiguous_brand(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "chase",
        "target",
        "discover",
        "square",
        "wise",
        "line",
        "meta",
        "steam",
        "visa",
        "zoom",
        "slack",
        "stripe",
        "apple",
        "au",
        "aeon",
        "outlook",
        "office 365",
        "target",
        "x",
    ];
    WORDS.contains(&name) || (name.is_ascii() && name.chars().count() <= 3)
}

/// The brand a display name shows: a brand's whole name, in a name of at
/// most five words, unambiguous or beside a service word ("Norton
/// Support", "PayPal", not "Chase Miller").
fn shown_brand<'a>(
    name: &str,
    brands: &'a [crate::context::Brand],
) -> Option<&'a crate::context::Brand> {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '&' || c == '.'))
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() || words.len() > 5 {
        return None;
    }
    // "Amazon.com" shows Amazon; "Booking.com" is a brand's whole name.
    let joined = format!(
        " {} {} ",
        words.join(" "),
        words.join(" ").replace('.', " ")
    );
    let service = words.iter().any(|w| SERVICE_WORDS.contains(w));
    brands.iter().find(|b| {
        // An ASCII name's lower case is its ASCII lower case: it is looked
        // for in `joined` (lower case) without a copy, most brands never
        // being there; the copy is made for the few found.
        let found = if b.name.is_ascii() {
            contains_spaced(&joined, &b.name)
        } else {
            lower.contains(&b.name.to_lowercase())
        };
        if b.name.is_empty() || !found {
            return false;
        }
        let brand = b.name.to_lowercase();
        // Short names only as the sender writes them: in capitals (UPS, AOL).
        let short_ok = brand.chars().count() > 3 || name.contains(b.name.as_str());
        short_ok && (service || !is_ambiguous_brand(&brand))
    })
}

/// Whether `joined` (lower case) holds ` name ` with `name` (ASCII) in
/// lower case: `joined.contains(&format!(" {} ", name.to_lowercase()))`
/// without its two copies.
fn contains_spaced(joined: &str, name: &str) -> bool {
    let hay = joined.as_bytes();
    let len = name.len();
    memchr::memchr_iter(b' ', hay).any(|space| {
        let start = space + 1;
        hay.get(start..start + len).is_some_and(|w| {
            w.eq_ignore_ascii_case(name.as_bytes()) && !w.iter().any(u8::is_ascii_uppercase)
        }) && hay.get(start + len) == Some(&b' ')
    })
}

/// The display-name family.
pub(crate) fn extract(
    view: &MessageView,
    ctx: &Context,
    v: &mut FeatureVector,
    log: &mut EvidenceLog,
) {
    let Some(from) = view.from() else { return };
    let domain = from.domain.as_deref();
    let freemail = domain.is_some_and(|d| ctx.is_freemail(d));
    let disposable = domain.is_some_and(|d| ctx.is_disposable(d));
    v.set_flag(Feature::FromFreemail, freemail);
    v.set_flag(Feature::FromDisposable, disposable);
    if disposable {
        log.add(
            Feature::FromDisposable,
            None,
            format!("From {} is on a disposable-address domain", from.describe()),
        );
    }

    if let Some(vip) = from.name.as_deref().and_then(|n| ctx.vips().lookup(n)) {
        v.set_flag(Feature::VipDisplayName, true);
        let who = match &vip.title {
            Some(t) => format!("{} ({t})", vip.name),
            None => vip.name.clone(),
        };
        let address = from.address.as_deref().unwrap_or("");
        let listed = vip
            .addresses
            .iter()
            .any(|a| a.eq_ignore_ascii_case(address));
        let internal = domain.is_some_and(|d| ctx.is_internal(d));
        // Set by the lookalike checks, which run first; a lookalike is its own technique.
        let lookalike = v.get(Feature::FromDomainLookalike) > 0.0;
        if !listed {
            v.set_flag(Feature::VipNameUnlistedAddress, true);
            let technique = if internal {
                Technique::HeaderFromSpoof
            } else {
                Technique::FreemailImpersonation
            };
            log.add(
                Feature::VipNameUnlistedAddress,
                (!lookalike).then_some(technique),
                format!(
                    "display name \"{}\" is {who}, but <{address}> is not one of their addresses",
                    from.name.as_deref().unwrap_or("")
                ),
            );
        }
        if freemail || disposable {
            v.set_flag(Feature::VipNameFreemail, true);
            log.add(
                Feature::VipNameFreemail,
                Some(Technique::FreemailImpersonation),
                format!("{who}'s name on free-mail address <{address}>"),
            );
        }
        if !internal {
            v.set_flag(Feature::VipNameExternalDomain, true);
            log.add(
                Feature::VipNameExternalDomain,
                (!lookalike).then_some(Technique::FreemailImpersonation),
                format!("{who}'s name on <{address}>, outside the internal domains"),
            );
        }
    }

    if let Some(brand) = from
        .name
        .as_deref()
        .and_then(|n| shown_brand(n, ctx.brand_list()))
    {
        // The brand's own domains, under any suffix (paypal.co.uk), and its
        // mail services (amazonses.com); a name run into a word is the
        // lookalike check's (paypal-billing.com).
        let own = domain.is_some_and(|d| {
            let reg = crate::domain::registrable_domain(d).unwrap_or(d);
            let label = reg.split('.').next().unwrap_or(reg);
            ctx.is_protected(d)
                || brand.domains.iter().any(|b| {
                    let own_label = b.split('.').next().unwrap_or(b);
                    b == reg || (own_label.len() >= 4 && label.starts_with(own_label))
                })
        });
        if !own {
            v.set_flag(Feature::BrandNameUnrelatedAddress, true);
            let address = from.address.as_deref().unwrap_or("");
            let on = if freemail || disposable {
                "free-mail address"
            } else {
                "address"
            };
            log.add(
                Feature::BrandNameUnrelatedAddress,
                Some(Technique::FreemailImpersonation),
                format!(
                    "display name \"{}\" shows the brand {} on {on} <{address}>, none of its domains",
                    from.name.as_deref().unwrap_or(""),
                    brand.name
                ),
            );
        }
    }

    let from_org = domain.map(crate::domain::organisational_domain);
    for reply in &view.reply_to {
        let Some(rd) = reply.domain.as_deref() else {
            continue;
        };
        let other = domain.is_none_or(|d| !relaxed_aligned(d, rd));
        if other && v.get(Feature::ReplyToDomainMismatch) == 0.0 {
            v.set_flag(Feature::ReplyToDomainMismatch, true);
            log.add(
                Feature::ReplyToDomainMismatch,
                None,
                format!(
                    "Reply-To {} is on {rd}, From on {}",
                    reply.describe(),
                    from_org.unwrap_or("no domain")
                ),
            );
        }
        if other
            && (ctx.is_freemail(rd) || ctx.is_disposable(rd))
            && v.get(Feature::ReplyToFreemail) == 0.0
        {
            v.set_flag(Feature::ReplyToFreemail, true);
            log.add(
                Feature::ReplyToFreemail,
                None,
                format!("replies go to free-mail address {}", reply.describe()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip(name: &str, aliases: &[&str], title: Option<&str>) -> Vip {
        Vip {
            name: name.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            addresses: vec!["x@example.com".into()],
            title: title.map(str::to_string),
        }
    }

    #[test]
    fn tokens_ignore_order_case_accents_titles() {
        assert_eq!(
            name_tokens("Brandt, Daniel (CEO)", &[]),
            ["brandt", "daniel"]
        );
        assert_eq!(name_tokens("DR. José  Müller", &[]), ["jose", "muller"]);
        assert_eq!(name_tokens("山田 太郎 様", &[]), ["山田", "太郎"]);
        assert_eq!(name_tokens("山田社長", &[]), ["山田"]);
        assert_eq!(name_tokens("ｶﾞｲﾄﾞ", &[]), ["ガイド"]);
        assert!(name_tokens("\"ceo@evil.com\"", &[]).is_empty());
    }

    #[test]
    fn vip_matches_every_common_spelling() {
        let index = VipIndex::new(&[
            vip("Daniel Brandt", &["Dan Brandt"], Some("Chief Executive")),
            vip("山田 太郎", &[], None),
            vip("José Álvarez", &[], None),
        ]);
        for name in [
            "Daniel Brandt",
            "Brandt, Daniel",
            "DANIEL BRANDT (CEO)",
            "dan brandt",
            "Daniel Brandt - Chief Executive",
            "山田太郎",
            "山田 太郎",
            "太郎 山田",
            "山田　太郎",
            "Jose Alvarez",
            "ALVAREZ, JOSÉ",
        ] {
            assert!(index.lookup(name).is_some(), "{name} should match a VIP");
        }
        for name in [
            "Daniel",
            "Brandt",
            "Daniel Brandtson",
            "Dan Brand",
            "山田",
            "",
            "()",
        ] {
            assert!(index.lookup(name).is_none(), "{name} should not match");
        }
    }
}
