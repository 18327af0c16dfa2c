//! The five techniques, injected into a carrier message as an attacker
//! would send them and as the org's MX would record them: the identity
//! fields rewritten, the attacker's hop on top of the trace, and
//! Authentication-Results consistent with what SPF, DKIM and DMARC would
//! have found. The carrier's other fields, their order and its body layout
//! stay, so form never tells attack from ham.

use super::carrier::Carrier;
use super::compose::{
    dkim_signature, doc_ip, header_text, hex, mailbox, received, rfc5322_date, set_body, Draft,
};
use super::ham::timestamp;
use super::template::{Lang, Template, Templates, LURE_CATEGORIES};
use super::values::{url, Values};
use super::world::{colleague, Person, World};
use crate::manifest::date_timestamp;
use impostor_features::{
    permutations, HeaderFilter, Technique, DEFAULT_LOOKALIKE_WORDS, DEFAULT_SWAP_TLDS,
    DEFAULT_VERDICT_HEADERS,
};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Carrier fields an attacker's message would not carry: identity, trace
/// of authentication, recipients and threading of the original.
const DROPPED: &[&str] = &[
    "Return-Path",
    "Authentication-Results",
    "ARC-Seal",
    "ARC-Message-Signature",
    "ARC-Authentication-Results",
    "DKIM-Signature",
    "DomainKey-Signature",
    "Received-SPF",
    "Reply-To",
    "Resent-From",
    "Resent-Sender",
    "Resent-To",
    "Resent-Date",
    "Resent-Message-ID",
    "Cc",
    "Bcc",
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-From",
    "X-Envelope-To",
    "Errors-To",
];

/// What the attacker puts in the identity fields and what the MX saw.
struct Forgery {
    from: String,
    /// A second From field (ambiguous From).
    from_again: Option<String>,
    sender: Option<String>,
    reply_to: Option<String>,
    envelope: String,
    helo: String,
    ip: String,
    internal_route: bool,
    auth: String,
    dkim_domain: Option<String>,
    /// Where a credential lure's link points.
    link_host: String,
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

fn local_of(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(l, _)| l)
}

/// The world's executives (titled CEO, CFO or 代表取締役).
fn executives(people: &[Person]) -> Vec<&Person> {
    people
        .iter()
        .filter(|p| ["CEO", "CFO", "代表取締役"].contains(&p.title.as_str()))
        .collect()
}

/// Whom the attacker claims to be: an executive most often, else a
/// colleague or a partner.
fn claimed<'w>(
    rng: &mut ChaCha8Rng,
    world: &'w World,
    lang: Lang,
    partners_too: bool,
) -> &'w Person {
    let staff = if lang == Lang::Ja {
        &world.employee_ja
    } else {
        &world.employee
    };
    let roll = rng.gen_range(0..10);
    if roll < 6 {
        if let Some(p) = executives(staff).choose(rng) {
            return p;
        }
    }
    if partners_too && roll >= 8 {
        let partners: Vec<&Person> = world
            .external
            .iter()
            .filter(|p| p.domain().ends_with(".eu") || p.domain() == "harvestbank.com")
            .collect();
        if let Some(p) = partners.choose(rng) {
            return p;
        }
    }
    staff.choose(rng).expect("world has employees")
}

fn auth_results(
    mx: &str,
    spf: (&str, &str),
    dkim: Option<(&str, &str)>,
    dmarc: (&str, &str),
) -> String {
    let dkim = dkim.map_or("dkim=none (message not signed)".to_string(), |(r, d)| {
        format!("dkim={r} header.d={d}")
    });
    format!(
        "{mx}; spf={} smtp.mailfrom={}; {dkim}; dmarc={} header.from={}",
        spf.0, spf.1, dmarc.0, dmarc.1
    )
}

fn forge(
    rng: &mut ChaCha8Rng,
    world: &World,
    technique: Technique,
    lang: Lang,
    recipient: &Person,
) -> Forgery {
    let mx = world.mx.as_str();
    let attacker = world
        .attacker_domains
        .choose(rng)
        .cloned()
        .unwrap_or_default();
    let ip = doc_ip(rng);
    let helo = format!(
        "{}.{attacker}",
        ["mail", "smtp", "mx1", "vps"][rng.gen_range(0..4)]
    );
    let phish_host = world.phish_hosts.choose(rng).cloned().unwrap_or_default();
    let base = |from: String, envelope: String, auth: String, dkim: Option<String>| Forgery {
        from,
        from_again: None,
        sender: None,
        reply_to: None,
        envelope,
        helo: helo.clone(),
        ip: ip.clone(),
        internal_route: false,
        auth,
        dkim_domain: dkim,
        link_host: phish_host.clone(),
    };
    match technique {
        Technique::EnvelopeFromSpoof => {
            let who = claimed(rng, world, lang, true);
            let d = who.domain();
            let spf = if rng.gen_bool(0.8) {
                "fail"
            } else {
                "softfail"
            };
            base(
                mailbox(&who.name, &who.address),
                who.address.clone(),
                auth_results(mx, (spf, d), None, ("fail", d)),
                None,
            )
        }
        Technique::HeaderFromSpoof => {
            let who = claimed(rng, world, lang, true);
            let d = who.domain();
            let envelope = format!(
                "{}@{attacker}",
                ["bounce", "noreply", "mailer", "info"][rng.gen_range(0..4)]
            );
            let signed = rng.gen_bool(0.6);
            let auth = auth_results(
                mx,
                ("pass", &attacker),
                signed.then_some(("pass", attacker.as_str())),
                ("fail", d),
            );
            let mut f = base(
                mailbox(&who.name, &who.address),
                envelope.clone(),
                auth,
                signed.then(|| attacker.clone()),
            );
            match rng.gen_range(0..4) {
                // The attacker's mailbox as Sender, the claimed one as From.
                0 => f.sender = Some(envelope),
                // Two From fields: clients differ in which they show.
                1 => f.from_again = Some(mailbox(&who.name, &envelope)),
                // Replies go to the attacker.
                2 => f.reply_to = Some(format!("{}@{attacker}", local_of(&who.address))),
                _ => {}
            }
            f
        }
        Technique::LookalikeDomain => {
            let who = claimed(rng, world, lang, true);
            let target = who.domain();
            // A tld-swap of kestrelfoods.co.jp is kestrelfoods.com: the
            // org's own domains are not imitations.
            let genuine: Vec<&str> = world
                .employee
                .iter()
                .chain(&world.employee_ja)
                .chain(&world.external)
                .map(Person::domain)
                .collect();
            let candidates: Vec<_> =
                permutations(target, DEFAULT_LOOKALIKE_WORDS, DEFAULT_SWAP_TLDS)
                    .into_iter()
                    .filter(|p| !genuine.contains(&p.domain.as_str()))
                    .collect();
            // Every kind the generator knows, evenly, then a domain of it.
            let mut kinds: Vec<_> = candidates.iter().map(|p| p.kind).collect();
            kinds.dedup();
            let kind = kinds.choose(rng).copied();
            let fake = candidates
                .iter()
                .filter(|p| Some(p.kind) == kind)
                .collect::<Vec<_>>()
                .choose(rng)
                .map_or_else(|| format!("{target}-secure.com"), |p| p.domain.clone());
            let address = format!("{}@{fake}", local_of(&who.address));
            let signed = rng.gen_bool(0.8);
            let auth = auth_results(
                mx,
                ("pass", &fake),
                signed.then_some(("pass", fake.as_str())),
                ("pass", &fake),
            );
            let mut f = base(
                mailbox(&who.name, &address),
                address.clone(),
                auth,
                signed.then(|| fake.clone()),
            );
            f.helo = format!("mail.{fake}");
            if rng.gen_bool(0.3) {
                // Only Reply-To imitates; From is the attacker's own domain.
                let own = format!("{}@{attacker}", local_of(&who.address));
                f.from = mailbox(&who.name, &own);
                f.envelope = own;
                f.auth = auth_results(
                    mx,
                    ("pass", &attacker),
                    Some(("pass", &attacker)),
                    ("pass", &attacker),
                );
                f.dkim_domain = Some(attacker.clone());
                f.helo = helo.clone();
                f.reply_to = Some(address);
            }
            f.link_host = fake;
            f
        }
        Technique::FreemailImpersonation => {
            let staff = if lang == Lang::Ja {
                &world.employee_ja
            } else {
                &world.employee
            };
            let who = executives(staff).choose(rng).copied().unwrap_or(&staff[0]);
            let free = world.freemail.choose(rng).cloned().unwrap_or_default();
            let separator = ["", ".", "_"][rng.gen_range(0..3)];
            let suffix = ["", ".ceo", ".office", "77"][rng.gen_range(0..4)];
            let local = format!("{}{suffix}", local_of(&who.address).replace('.', separator));
            let address = format!("{local}@{free}");
            let shown = if who.name.is_ascii() {
                let parts: Vec<&str> = who.name.split_whitespace().collect();
                match rng.gen_range(0..4) {
                    0 if parts.len() == 2 => format!("{}, {}", parts[1], parts[0]),
                    1 => format!("{} ({})", who.name, who.title),
                    2 => who.name.to_uppercase(),
                    _ => who.name.clone(),
                }
            } else if rng.gen_bool(0.5) {
                who.name.replace(' ', "")
            } else {
                who.name.clone()
            };
            let auth = auth_results(mx, ("pass", &free), Some(("pass", &free)), ("pass", &free));
            let mut f = base(mailbox(&shown, &address), address, auth, Some(free.clone()));
            f.helo = format!("mail-{}.{free}", hex(rng, 4));
            if rng.gen_bool(0.3) {
                let other = world.freemail.choose(rng).cloned().unwrap_or_default();
                f.reply_to = Some(format!("{local}.private@{other}"));
            }
            f
        }
        Technique::AccountCompromise => {
            let staff = if lang == Lang::Ja {
                &world.employee_ja
            } else {
                &world.employee
            };
            let who = colleague(rng, staff, recipient);
            let d = who.domain();
            // Internal relays sign some mail, as for the org's own ham.
            let signed = rng.gen_bool(0.5);
            let auth = auth_results(mx, ("pass", d), signed.then_some(("pass", d)), ("pass", d));
            let mut f = base(
                mailbox(&who.name, &who.address),
                who.address.clone(),
                auth,
                signed.then(|| d.to_string()),
            );
            f.internal_route = true;
            f.ip = format!("10.20.{}.{}", rng.gen_range(0..8), rng.gen_range(2..250));
            f.helo = format!("[{}]", f.ip);
            f
        }
    }
}

/// The categories of lure each technique carries.
fn lure_categories(technique: Technique) -> &'static [&'static str] {
    match technique {
        Technique::AccountCompromise => &["credential_phish", "bank_change"],
        _ => LURE_CATEGORIES,
    }
}

/// The injected message, and the lure category it carries.
pub struct Attack {
    /// The message, ready to write.
    pub draft: Draft,
    /// The lure category, one of [`LURE_CATEGORIES`].
    pub category: String,
}

/// Injects `technique` into the carrier (its draft's fields; its body is
/// replaced by a lure in its layout, with its extra part as the calendar
/// or report part such a layout has: invitation and bounce lures are
/// phishing's forms too), delivered to its recipient.
pub fn inject(
    rng: &mut ChaCha8Rng,
    world: &World,
    templates: &Templates,
    technique: Technique,
    carrier: Carrier,
) -> Attack {
    let Carrier {
        draft: carrier,
        layout,
        ref extra,
        ref recipient,
        lang,
    } = carrier;
    let categories = lure_categories(technique);
    let lures: Vec<&Template> = templates
        .lures
        .iter()
        .filter(|t| t.lang == lang && categories.contains(&t.kind.as_str()))
        .collect();
    let lure = *lures
        .choose(rng)
        .expect("every category has lures in both languages (tested)");
    let forgery = forge(rng, world, technique, lang, recipient);
    let sender = Person {
        name: forgery
            .from
            .split(" <")
            .next()
            .unwrap_or("")
            .trim_matches('"')
            .to_string(),
        address: String::new(),
        title: String::new(),
        company: String::new(),
    };
    // The shown sender's name for the lure's signature: the claimed name.
    let sender = Person {
        name: if sender.name.starts_with("=?") {
            recipient.name.clone()
        } else {
            sender.name
        },
        ..sender
    };
    let link = url(rng, &forgery.link_host);
    let values = Values::new(rng, world, lang, &sender, recipient, &link);
    let (mut subject, body) = values.render(lure);
    // A carrier that answered a thread makes the lure a reply in it: the
    // hijacked thread of real BEC.
    let in_thread = carrier.has("In-Reply-To");
    if in_thread && !subject.to_ascii_lowercase().starts_with("re:") {
        subject = format!("Re: {subject}");
    }

    let hidden = HeaderFilter::new(DEFAULT_VERDICT_HEADERS.iter().copied());
    // Delivered just after the carrier was written, so the trace agrees
    // with its Date.
    let written = carrier
        .fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("date"))
        .and_then(|(_, v)| date_timestamp(v.as_bytes()));
    let ts = match written {
        Some(t) => t + rng.gen_range(20..600),
        None => timestamp(rng),
    };
    let delivered = rfc5322_date(ts, 0);
    let mut d = Draft::default();
    d.push("Return-Path", format!("<{}>", forgery.envelope));
    d.push(
        "Received",
        received(
            rng,
            &forgery.helo,
            &forgery.ip,
            &world.mx,
            &delivered,
            forgery.internal_route,
        ),
    );
    d.push("Authentication-Results", forgery.auth.clone());
    if let Some(domain) = &forgery.dkim_domain {
        d.push("DKIM-Signature", dkim_signature(rng, domain));
    }
    let mut placed = [false; 5];
    for (name, value) in carrier.fields {
        let lower = name.to_ascii_lowercase();
        if DROPPED.iter().any(|x| x.eq_ignore_ascii_case(&name)) || hidden.hides(&lower) {
            continue;
        }
        if lower.starts_with("content-") || lower == "mime-version" {
            continue;
        }
        match lower.as_str() {
            // The carrier's own delivery to the org is replaced by the
            // attack's; an internal route has no outside hops at all.
            "received"
                if forgery.internal_route || value.contains(&format!("by {} ", world.mx)) => {}
            "from" if !placed[0] => {
                placed[0] = true;
                push_identity(&mut d, &forgery);
            }
            "to" if !placed[1] => {
                placed[1] = true;
                d.push("To", mailbox(&recipient.name, &recipient.address));
            }
            "subject" if !placed[2] => {
                placed[2] = true;
                d.push("Subject", header_text(&subject));
            }
            "message-id" if !placed[3] => {
                placed[3] = true;
                d.push(
                    "Message-ID",
                    format!(
                        "<{}@{}>",
                        hex(rng, 20),
                        domain_of(&forgery.envelope).trim_start_matches('[')
                    ),
                );
            }
            "date" if !placed[4] => {
                placed[4] = true;
                d.push("Date", value);
            }
            "from" | "to" | "subject" | "message-id" | "date" => {}
            // A list's Sender stays unless the forgery brings its own.
            "sender" if forgery.sender.is_some() => {}
            _ => d.push(&name, value),
        }
    }
    if !placed[0] {
        push_identity(&mut d, &forgery);
    }
    if !placed[1] {
        d.push("To", mailbox(&recipient.name, &recipient.address));
    }
    if !placed[2] {
        d.push("Subject", header_text(&subject));
    }
    if !placed[4] {
        d.push(
            "Date",
            rfc5322_date(
                ts - rng.gen_range(5..120),
                if lang == Lang::Ja { 9 } else { 0 },
            ),
        );
    }
    if !placed[3] {
        d.push(
            "Message-ID",
            format!("<{}@{}>", hex(rng, 20), domain_of(&forgery.envelope)),
        );
    }

    set_body(&mut d, rng, layout, &body, extra);
    Attack {
        draft: d,
        category: lure.kind.clone(),
    }
}

fn push_identity(d: &mut Draft, f: &Forgery) {
    d.push("From", f.from.clone());
    if let Some(again) = &f.from_again {
        d.push("From", again.clone());
    }
    if let Some(s) = &f.sender {
        d.push("Sender", s.clone());
    }
    if let Some(r) = &f.reply_to {
        d.push("Reply-To", r.clone());
    }
}
