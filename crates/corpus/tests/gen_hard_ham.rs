//! The generator's hard ham: honest mail that looks like an attack (a
//! namesake of an executive on a public list, SaaS notifications naming
//! colleagues, the org's IT and HR notices, a phish forwarded to security,
//! a wire approval and a vendor's bank change in known threads, list mail
//! failing DMARC under p=none). Every kind is written often enough to
//! measure, in both languages, shaped and authenticated as its real kind,
//! and reproducible from the seed.

use impostor_corpus::gen::template::HARD_HAM_KINDS;
use impostor_corpus::gen::world::World;
use impostor_corpus::gen::{GenConfig, Generated, Generator};
use impostor_corpus::Label;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The corpus `impostor gen` writes by default (seed and sizes of
/// `GenConfig::default()`).
fn corpus() -> &'static [Generated] {
    static CORPUS: OnceLock<Vec<Generated>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let c = GenConfig::default();
        Generator::new(c.seed)
            .unwrap()
            .default_corpus(c.ham, c.attacks)
    })
}

fn world() -> World {
    World::builtin().unwrap()
}

fn of_kind(kind: &str) -> Vec<&'static Generated> {
    corpus()
        .iter()
        .filter(|m| m.label == Label::Ham && m.kind == kind)
        .collect()
}

/// Header fields as (name, unfolded value), in order.
fn fields(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let head = text.split("\n\n").next().unwrap_or("");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((n, v)) = line.split_once(':') {
            out.push((n.to_string(), v.trim().to_string()));
        }
    }
    out
}

fn one(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn all(fields: &[(String, String)], name: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .collect()
}

/// A tag's value in a DKIM-Signature or ARC field.
fn tag(value: &str, tag: &str) -> String {
    value
        .split(';')
        .find_map(|t| {
            let (k, v) = t.split_once('=')?;
            (k.trim() == tag).then(|| v.trim().to_string())
        })
        .unwrap_or_default()
}

/// The message parsed: From's name and address, the text body.
struct Parsed {
    subject: String,
    name: String,
    address: String,
    text: String,
}

fn parse(m: &Generated) -> Parsed {
    let p = mail_parser::MessageParser::default()
        .parse(&m.bytes)
        .unwrap_or_else(|| panic!("{} does not parse", m.member));
    let from = p.from().and_then(|a| a.first()).expect("a From");
    Parsed {
        subject: p.subject().unwrap_or("").to_string(),
        name: from.name().unwrap_or("").to_string(),
        address: from.address().unwrap_or("").to_string(),
        text: p.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
    }
}

fn domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// The hosts of the URLs in `text`.
fn link_hosts(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("http") {
        let rest = &text[i..];
        let Some(after) = rest
            .strip_prefix("https://")
            .or_else(|| rest.strip_prefix("http://"))
        else {
            continue;
        };
        assert!(rest.starts_with("https://"), "plain http link: {rest}");
        let host = after.split(['/', ' ', '\n', '>']).next().unwrap_or("");
        out.push(host.to_string());
    }
    out
}

fn japanese(text: &str) -> bool {
    text.chars()
        .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c))
}

fn internal(domain: &str) -> bool {
    domain == "kestrelfoods.com" || domain == "kestrelfoods.co.jp"
}

/// The org MX's Authentication-Results, which sits above its own
/// Received field, the first of the chain.
fn mx_verdicts(m: &Generated, f: &[(String, String)]) -> String {
    let ar = f
        .iter()
        .position(|(n, v)| n == "Authentication-Results" && v.starts_with("mx.kestrelfoods.com;"))
        .unwrap_or_else(|| panic!("{}: no MX verdicts", m.member));
    let received = f.iter().position(|(n, _)| n == "Received").unwrap();
    assert!(ar < received, "{}", m.member);
    assert!(
        f[received].1.contains("by mx.kestrelfoods.com "),
        "{}",
        m.member
    );
    f[ar].1.clone()
}

/// An internal message: submitted to the MX over an authenticated
/// session from the org's network, SPF and DMARC passing for its domain,
/// no Reply-To outside the org.
fn assert_internal(m: &Generated) {
    let f = fields(&m.bytes);
    let ar = mx_verdicts(m, &f);
    let p = parse(m);
    let d = domain(&p.address);
    assert!(internal(d), "{}: From {}", m.member, p.address);
    assert!(ar.contains(&format!("spf=pass smtp.mailfrom={d}")), "{ar}");
    assert!(ar.contains("dmarc=pass") && ar.contains(&format!("header.from={d}")));
    let hop = one(&f, "Received");
    assert!(
        hop.starts_with("from [10.20.") && hop.contains("with ESMTPSA"),
        "{}: {hop}",
        m.member
    );
    for r in all(&f, "Reply-To") {
        assert!(
            internal(domain(r.trim_end_matches('>'))),
            "{}: Reply-To {r}",
            m.member
        );
    }
}

#[test]
fn the_default_corpus_holds_every_hard_ham_kind_sixty_times_in_both_languages_a_quarter_of_ham() {
    let ham = corpus().iter().filter(|m| m.label == Label::Ham).count();
    assert_eq!(ham, GenConfig::default().ham);
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for kind in HARD_HAM_KINDS {
        for m in of_kind(kind) {
            assert_eq!(m.technique, None, "{}", m.member);
            let p = parse(m);
            let text = format!("{} {}", p.text, one(&fields(&m.bytes), "Subject"));
            let c = counts.entry(kind).or_default();
            if japanese(&p.text) {
                c.1 += 1;
            } else {
                c.0 += 1;
            }
            assert!(!text.trim().is_empty(), "{}", m.member);
        }
    }
    let mut hard = 0;
    for kind in HARD_HAM_KINDS {
        let (en, ja) = counts.get(kind).copied().unwrap_or_default();
        assert!(en + ja >= 60, "{kind}: {en} + {ja}: {counts:?}");
        assert!(en >= 20 && ja >= 20, "{kind}: en {en}, ja {ja}");
        hard += en + ja;
    }
    let share = hard as f64 / ham as f64;
    assert!(
        (0.2..=0.3).contains(&share),
        "hard ham is {share:.3} of ham: {counts:?}"
    );
}

#[test]
fn the_same_seed_writes_the_same_hard_ham_and_another_seed_does_not() {
    let a = Generator::new(11).unwrap().default_corpus(600, 50);
    let b = Generator::new(11).unwrap().default_corpus(600, 50);
    let c = Generator::new(12).unwrap().default_corpus(600, 50);
    let hard = |m: &&Generated| HARD_HAM_KINDS.contains(&m.kind.as_str());
    let (ha, hb): (Vec<_>, Vec<_>) = (
        a.iter().filter(hard).collect(),
        b.iter().filter(hard).collect(),
    );
    assert!(ha.len() > 100, "{}", ha.len());
    assert_eq!(ha.len(), hb.len());
    for (x, y) in ha.iter().zip(&hb) {
        assert_eq!((&x.member, &x.kind), (&y.member, &y.kind));
        assert!(x.bytes == y.bytes, "{} differs between two runs", x.member);
    }
    let same = a
        .iter()
        .zip(&c)
        .filter(|(x, y)| hard(x) && x.bytes == y.bytes)
        .count();
    assert_eq!(same, 0);
}

#[test]
fn a_namesake_posts_from_free_mail_under_an_executives_name_through_a_list() {
    let w = world();
    let executives = ["Daniel Brandt", "Priya Raman", "山田 太郎"];
    for m in of_kind("namesake_freemail_list") {
        let f = fields(&m.bytes);
        let ar = mx_verdicts(m, &f);
        let p = parse(m);
        let list_id = one(&f, "List-Id");
        assert!(!list_id.is_empty(), "{}", m.member);
        let list_domain = domain(&one(&f, "Return-Path"))
            .trim_end_matches('>')
            .to_string();
        assert!(
            list_id.ends_with(&format!(".{list_domain}>")),
            "{}: envelope of the list {list_id}",
            m.member
        );
        assert!(ar.contains(&format!("spf=pass smtp.mailfrom={list_domain}")));
        // The list signs, as itself.
        let signers: Vec<String> = all(&f, "DKIM-Signature")
            .iter()
            .map(|s| tag(s, "d"))
            .collect();
        assert!(
            signers.iter().any(|d| list_domain.ends_with(d.as_str())),
            "{}: {signers:?}",
            m.member
        );
        // The poster: an executive's name at a free-mail domain, in From or,
        // where the list rewrote From, in X-Original-From.
        let (name, address) = if m.variant == "list_from_rewritten" {
            let original = one(&f, "X-Original-From");
            let raw = format!("From: {original}\n\n");
            let q = mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .unwrap();
            let a = q.from().and_then(|a| a.first()).unwrap();
            assert!(p.name.contains(a.name().unwrap()), "{}", m.member);
            (
                a.name().unwrap().to_string(),
                a.address().unwrap().to_string(),
            )
        } else {
            (p.name.clone(), p.address.clone())
        };
        assert!(executives.contains(&name.as_str()), "{}: {name}", m.member);
        assert!(
            w.freemail.iter().any(|d| d == domain(&address)),
            "{}: {address}",
            m.member
        );
        assert!(
            signers.iter().any(|d| d == domain(&address)),
            "{}",
            m.member
        );
    }
}

#[test]
fn a_saas_notification_comes_from_the_provider_with_a_colleagues_name_and_links_to_the_provider() {
    let w = world();
    let staff: Vec<&str> = w
        .employee
        .iter()
        .chain(&w.employee_ja)
        .map(|p| p.name.as_str())
        .collect();
    let mut executives_named = 0;
    for m in of_kind("saas_notification") {
        let f = fields(&m.bytes);
        let ar = mx_verdicts(m, &f);
        let p = parse(m);
        let provider = w
            .saas
            .iter()
            .find(|s| s.address == p.address)
            .unwrap_or_else(|| panic!("{}: From {} is no provider's", m.member, p.address));
        let named = staff
            .iter()
            .find(|n| p.name.starts_with(**n))
            .unwrap_or_else(|| panic!("{}: display name {:?}", m.member, p.name));
        assert!(
            p.text.contains(named),
            "{}: the body names {named}",
            m.member
        );
        if ["Daniel Brandt", "Priya Raman", "山田 太郎"].contains(named) {
            executives_named += 1;
        }
        let d = domain(&p.address);
        assert!(!internal(d));
        let signature = one(&f, "DKIM-Signature");
        assert_eq!(tag(&signature, "d"), provider.dkim, "{}", m.member);
        assert!(ar.contains(&format!("dkim=pass header.d={}", provider.dkim)));
        assert!(ar.contains("dmarc=pass") && ar.contains(&format!("header.from={d}")));
        let hosts = link_hosts(&p.text);
        assert!(!hosts.is_empty(), "{}", m.member);
        assert!(
            hosts.iter().all(|h| *h == provider.link_host),
            "{}: {hosts:?}",
            m.member
        );
    }
    assert!(executives_named >= 20, "{executives_named}");
}

#[test]
fn it_and_hr_notices_are_internal_with_lure_words_and_link_only_to_the_orgs_own_hosts() {
    let w = world();
    for (kind, hosts, words) in [
        (
            "it_notice",
            &w.sso_hosts,
            &[
                "password",
                "verify",
                "expires",
                "authentication",
                "mailbox",
                "パスワード",
                "認証",
                "容量",
            ][..],
        ),
        (
            "hr_programme",
            &w.intranet_hosts,
            &[
                "gift card",
                "voucher",
                "benefits",
                "ギフトカード",
                "福利厚生",
            ][..],
        ),
    ] {
        for m in of_kind(kind) {
            assert_internal(m);
            let p = parse(m);
            let text = format!("{} {}", p.subject, p.text).to_lowercase();
            assert!(
                words.iter().any(|w| text.contains(w)),
                "{}: no lure word",
                m.member
            );
            let found = link_hosts(&p.text);
            assert!(!found.is_empty(), "{}", m.member);
            assert!(
                found.iter().all(|h| hosts.contains(h)),
                "{}: {found:?}",
                m.member
            );
        }
    }
}

#[test]
fn a_security_forward_quotes_the_phish_and_its_link_to_the_security_mailbox() {
    let w = world();
    for m in of_kind("security_forward") {
        assert_internal(m);
        let f = fields(&m.bytes);
        let p = parse(m);
        let subject = mail_parser::MessageParser::default()
            .parse(&m.bytes)
            .unwrap()
            .subject()
            .unwrap_or("")
            .to_string();
        assert!(
            ["Fwd:", "FW:", "Suspicious", "転送:", "【不審"]
                .iter()
                .any(|s| subject.starts_with(s)),
            "{}: {subject}",
            m.member
        );
        let to = one(&f, "To");
        assert!(to.contains("<security@kestrelfoods."), "{}: {to}", m.member);
        assert!(
            p.text.contains("Forwarded message")
                || p.text.contains("Original Message")
                || p.text.contains("転送メッセージ"),
            "{}",
            m.member
        );
        // The note links nowhere; the quoted lure to its phishing host.
        let hosts = link_hosts(&p.text);
        assert!(
            hosts.iter().all(|h| w.phish_hosts.contains(h)),
            "{}: {hosts:?}",
            m.member
        );
    }
    let with_links = of_kind("security_forward")
        .iter()
        .filter(|m| !link_hosts(&parse(m).text).is_empty())
        .count();
    assert!(with_links >= 15, "{with_links} forwards quote a phish link");
}

#[test]
fn a_wire_approval_replies_in_an_internal_thread_with_payment_words() {
    for m in of_kind("wire_approval_thread") {
        assert_internal(m);
        let f = fields(&m.bytes);
        let parent = one(&f, "In-Reply-To");
        assert!(!parent.is_empty(), "{}: In-Reply-To", m.member);
        let references = one(&f, "References");
        assert!(references.ends_with(&parent), "{}", m.member);
        for id in references.split_whitespace() {
            let d = domain(id.trim_end_matches('>'));
            assert!(internal(d), "{}: thread id {id}", m.member);
        }
        let p = parse(m);
        let subject = one(&f, "Subject");
        let decoded = mail_parser::MessageParser::default()
            .parse(&m.bytes)
            .unwrap()
            .subject()
            .unwrap_or(&subject)
            .to_string();
        assert!(
            decoded.starts_with("Re:") || decoded.starts_with("RE:"),
            "{}: {decoded}",
            m.member
        );
        let text = p.text.to_lowercase();
        assert!(
            ["wire", "payment", "approv", "振込", "承認"]
                .iter()
                .any(|w| text.contains(w)),
            "{}",
            m.member
        );
    }
}

#[test]
fn a_vendor_bank_change_comes_aligned_from_the_vendors_own_domain_in_a_thread() {
    let w = world();
    for m in of_kind("vendor_bank_change_thread") {
        let f = fields(&m.bytes);
        let ar = mx_verdicts(m, &f);
        let p = parse(m);
        let d = domain(&p.address);
        assert!(
            w.external.iter().any(|x| x.address == p.address),
            "{}: {} is a known vendor",
            m.member,
            p.address
        );
        assert_eq!(tag(&one(&f, "DKIM-Signature"), "d"), d, "{}", m.member);
        assert!(ar.contains(&format!("spf=pass smtp.mailfrom={d}")), "{ar}");
        assert!(ar.contains(&format!("dkim=pass header.d={d}")), "{ar}");
        assert!(
            ar.contains("dmarc=pass") && ar.contains(&format!("header.from={d}")),
            "{ar}"
        );
        assert!(all(&f, "Reply-To").is_empty(), "{}", m.member);
        assert!(!one(&f, "In-Reply-To").is_empty(), "{}", m.member);
        assert!(all(&f, "Received").len() >= 2, "{}: a chain", m.member);
        let text = p.text.to_lowercase();
        assert!(
            ["bank", "account", "口座"].iter().any(|w| text.contains(w)),
            "{}",
            m.member
        );
    }
}

#[test]
fn list_mail_fails_dmarc_under_p_none_because_the_list_changed_it_and_the_list_seals_arc() {
    let mut variants: BTreeMap<&str, usize> = BTreeMap::new();
    for m in of_kind("list_dmarc_none_failure") {
        *variants.entry(m.variant.as_str()).or_default() += 1;
        let f = fields(&m.bytes);
        let ar = mx_verdicts(m, &f);
        let p = parse(m);
        let d = domain(&p.address);
        assert!(
            ar.contains(&format!(
                "dmarc=fail (p=none dis=none) policy.dmarc=none header.from={d}"
            )),
            "{}: {ar}",
            m.member
        );
        assert!(ar.contains(&format!(
            "dkim=fail (body hash did not verify) header.d={d}"
        )));
        assert!(ar.contains("arc=pass"), "{ar}");
        let list_id = one(&f, "List-Id");
        let envelope = one(&f, "Return-Path");
        let list_domain = domain(envelope.trim_end_matches('>'));
        assert!(
            list_id.ends_with(&format!(".{list_domain}>")),
            "{}",
            m.member
        );
        assert_eq!(all(&f, "ARC-Seal").len(), 1, "{}", m.member);
        assert!(!one(&f, "List-Unsubscribe").is_empty(), "{}", m.member);
    }
    assert_eq!(
        variants.keys().copied().collect::<Vec<_>>(),
        ["list_arc_dmarc_none", "list_sealed_dmarc_none"],
        "{variants:?}"
    );
    assert!(variants.values().all(|n| *n >= 20), "{variants:?}");
}
