//! The five techniques, injected into a carrier message as an attacker
//! would send them and as the org's MX would record them: the identity
//! fields rewritten, the attacker's hop on top of the trace, and
//! Authentication-Results consistent with what SPF, DKIM and DMARC would
//! have found (above the MX's own Received field, where a trust chain
//! believes them). A header-From spoof takes the forms of
//! [`SpoofForm::ALL`] in turn. The carrier's other fields, their order and
//! its body layout stay, so form never tells attack from ham.

use super::ambiguity::{spoof, SpoofForm, SpoofSetting};
use super::carrier::Carrier;
use super::compose::{
    dkim_signature_with, doc_ip, header_text, hex, mailbox, received, rfc5322_date,
    set_body_with_attachments, signed_length, Draft, Layout, SIGNED_HEADERS,
};
use super::ham::timestamp;
use super::payload::{self, Payload, PayloadLure};
use super::template::{Lang, Template, Templates, LURE_CATEGORIES};
use super::values::{url, Values};
use super::verdicts::MxVerdicts;
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
/// of authentication, recipients and threading of the original. (An ARC
/// set stays, copied from the original: it no longer verifies.)
const DROPPED: &[&str] = &[
    "Return-Path",
    "Authentication-Results",
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
pub(super) struct Forgery {
    /// The identity fields in the order written (From, a second From,
    /// Sender, Reply-To, …), where the carrier had its From.
    pub identity: Vec<(String, String)>,
    /// The name the lure is signed with: whom the attacker claims to be.
    pub shown_name: String,
    pub envelope: String,
    pub helo: String,
    pub ip: String,
    pub internal_route: bool,
    /// The org MX's verdicts.
    pub verdicts: MxVerdicts,
    /// The DKIM signature the message carries.
    pub signature: Option<Signature>,
    /// Where a credential lure's link points.
    pub link_host: String,
    /// The form of the technique, for labels.tsv's `variant`.
    pub variant: String,
    /// Fields the attacker writes just below the trace (a forged
    /// Authentication-Results).
    pub planted: Vec<(String, String)>,
    /// A replayed signer's message: what its signature fixes.
    pub replay: Option<Replay>,
}

/// A DKIM signature a message carries.
pub(super) struct Signature {
    /// `d=`.
    pub domain: String,
    /// `h=`.
    pub headers: &'static str,
    /// Whether `l=` covers only the replayed original's body.
    pub covers_only_original: bool,
}

impl Signature {
    /// An ordinary signature of `domain` over the whole body.
    pub fn plain(domain: &str) -> Signature {
        Signature {
            domain: domain.to_string(),
            headers: SIGNED_HEADERS,
            covers_only_original: false,
        }
    }
}

/// What a replayed signature fixes of the message the signer sent.
pub(super) struct Replay {
    /// The original's subject and body text, when the body is replayed
    /// (with the lure appended).
    pub original: Option<(String, String)>,
    /// The original's To, when it was not the victim.
    pub to: Option<String>,
    /// Days between the signed Date and the delivery.
    pub days_old: i64,
    /// The domain of the original's Message-ID.
    pub signer_domain: String,
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

pub(super) fn local_of(address: &str) -> &str {
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
pub(super) fn claimed<'w>(
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

/// What forging `technique` takes: the world, the templates (a replay
/// renders the signer's original), the language, the recipient, and which
/// form of a header-From spoof this is.
struct Setting<'a> {
    world: &'a World,
    templates: &'a Templates,
    technique: Technique,
    lang: Lang,
    recipient: &'a Person,
    form: SpoofForm,
}

fn forge(rng: &mut ChaCha8Rng, s: &Setting<'_>) -> Forgery {
    let (world, lang, recipient) = (s.world, s.lang, s.recipient);
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
    let base =
        |from: String, name: &str, envelope: String, verdicts: MxVerdicts, dkim: Option<&str>| {
            Forgery {
                identity: vec![("From".to_string(), from)],
                shown_name: name.to_string(),
                envelope,
                helo: helo.clone(),
                ip: ip.clone(),
                internal_route: false,
                verdicts,
                signature: dkim.map(Signature::plain),
                link_host: phish_host.clone(),
                variant: String::new(),
                planted: Vec::new(),
                replay: None,
            }
        };
    let policy = |d: &str| world.dmarc_policy_of(d).to_string();
    match s.technique {
        Technique::EnvelopeFromSpoof => {
            let who = claimed(rng, world, lang, true);
            let d = who.domain();
            let spf = if rng.gen_bool(0.8) {
                "fail"
            } else {
                "softfail"
            };
            let mut f = base(
                mailbox(&who.name, &who.address),
                &who.name,
                who.address.clone(),
                MxVerdicts::new((spf, d), None, ("fail", d, &policy(d))),
                None,
            );
            f.variant = format!("spf_{spf}");
            f
        }
        Technique::HeaderFromSpoof => {
            let setting = SpoofSetting {
                world,
                templates: s.templates,
                lang,
                recipient,
                attacker: &attacker,
            };
            let f = base(
                String::new(),
                "",
                String::new(),
                MxVerdicts::new(("none", ""), None, ("none", "", "none")),
                None,
            );
            spoof(rng, &setting, s.form, f)
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
            let verdicts = MxVerdicts::new(
                ("pass", &fake),
                signed.then_some(("pass", fake.as_str())),
                ("pass", &fake, &policy(&fake)),
            );
            let mut f = base(
                mailbox(&who.name, &address),
                &who.name,
                address.clone(),
                verdicts,
                signed.then_some(fake.as_str()),
            );
            f.helo = format!("mail.{fake}");
            f.variant = format!(
                "lookalike_{}",
                kind.map_or("suffix", |k| k.name()).replace('-', "_")
            );
            if rng.gen_bool(0.3) {
                // Only Reply-To imitates; From is the attacker's own domain.
                let own = format!("{}@{attacker}", local_of(&who.address));
                f.identity = vec![
                    ("From".into(), mailbox(&who.name, &own)),
                    ("Reply-To".into(), address),
                ];
                f.envelope = own;
                f.verdicts = MxVerdicts::new(
                    ("pass", &attacker),
                    Some(("pass", &attacker)),
                    ("pass", &attacker, &policy(&attacker)),
                );
                f.signature = Some(Signature::plain(&attacker));
                f.helo = helo.clone();
                f.variant = "lookalike_reply_to".into();
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
            let verdicts = MxVerdicts::new(
                ("pass", &free),
                Some(("pass", &free)),
                ("pass", &free, &policy(&free)),
            );
            let mut f = base(
                mailbox(&shown, &address),
                &who.name,
                address,
                verdicts,
                Some(&free),
            );
            f.helo = format!("mail-{}.{free}", hex(rng, 4));
            f.variant = "freemail".into();
            if rng.gen_bool(0.3) {
                let other = world.freemail.choose(rng).cloned().unwrap_or_default();
                f.identity
                    .push(("Reply-To".into(), format!("{local}.private@{other}")));
                f.variant = "freemail_reply_to".into();
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
            let verdicts = MxVerdicts::new(
                ("pass", d),
                signed.then_some(("pass", d)),
                ("pass", d, &policy(d)),
            );
            let mut f = base(
                mailbox(&who.name, &who.address),
                &who.name,
                who.address.clone(),
                verdicts,
                signed.then_some(d),
            );
            f.internal_route = true;
            f.ip = format!("10.20.{}.{}", rng.gen_range(0..8), rng.gen_range(2..250));
            f.helo = format!("[{}]", f.ip);
            f.variant = "internal_mailbox".into();
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
    /// The technique's form: for a header-From spoof a
    /// [`SpoofForm::code`], for the others e.g. `spf_fail`,
    /// `lookalike_homoglyph`, `freemail_reply_to`.
    pub variant: String,
    /// What carries the lure: the body, or an attachment, a QR image or a
    /// callback number ([`payload`]).
    pub payload: Payload,
}

/// Injects `technique` into the carrier (its draft's fields; its body is
/// replaced by a lure in its layout, with its extra part as the calendar
/// or report part such a layout has: invitation and bounce lures are
/// phishing's forms too), delivered to its recipient. `round` counts the
/// attacks of this technique before this one: header-From spoofs take the
/// forms of [`SpoofForm::ALL`] in turn by it.
pub fn inject(
    rng: &mut ChaCha8Rng,
    world: &World,
    templates: &Templates,
    technique: Technique,
    round: usize,
    carrier: Carrier,
) -> Attack {
    inject_payload(rng, world, templates, technique, round, carrier, None)
}

/// [`inject`], the lure carried by `payload` when there is one
/// ([`payload::choose`]): a lure of its category, its document attached as
/// an HTML page or PDF or its link as a QR image, and for a callback the
/// brand's name on the forged free-mail sender and a callback number.
/// Without one, the same draws and bytes as [`inject`].
pub fn inject_payload(
    rng: &mut ChaCha8Rng,
    world: &World,
    templates: &Templates,
    technique: Technique,
    round: usize,
    carrier: Carrier,
    payload: Option<PayloadLure>,
) -> Attack {
    let Carrier {
        draft: carrier,
        layout,
        ref extra,
        ref recipient,
        lang,
    } = carrier;
    let only;
    let categories = match payload {
        Some(p) => {
            only = [p.category];
            &only[..]
        }
        None => lure_categories(technique),
    };
    let lures: Vec<&Template> = templates
        .lures
        .iter()
        .filter(|t| t.lang == lang && categories.contains(&t.kind.as_str()))
        .collect();
    let lure = *lures
        .choose(rng)
        .expect("every category has lures in both languages (tested)");
    let setting = Setting {
        world,
        templates,
        technique,
        lang,
        recipient,
        form: SpoofForm::ALL[round % SpoofForm::ALL.len()],
    };
    let mut forgery = forge(rng, &setting);
    let brand = payload.and_then(|_| payload::brand(rng, lang, "retail"));
    if let (Some(p), Some(b)) = (payload, brand) {
        if p.is_callback() {
            payload::as_brand(rng, &mut forgery, b);
        }
    }
    // The shown sender's name for the lure's signature: the claimed name.
    let sender = Person {
        name: forgery.shown_name.clone(),
        address: String::new(),
        title: String::new(),
        company: String::new(),
    };
    let link = url(rng, &forgery.link_host);
    let mut values = Values::new(rng, world, lang, &sender, recipient, &link);
    if let Some(p) = payload {
        if let Some(b) = brand {
            values.set("brand", b.name.clone());
            values.set(
                "brand_product",
                b.products.choose(rng).cloned().unwrap_or_default(),
            );
        }
        values.set("charge", payload::charge(rng, lang));
        if p.is_callback() {
            values.set("phone", payload::callback_number(rng, lang));
        }
    }
    let (mut subject, mut body) = values.render(lure);
    let attachments = match payload {
        Some(p) => payload::attack_attachments(
            rng,
            p,
            lang,
            &values.fill_text(&lure.document),
            &link,
            recipient,
            &values.get("invoice_no"),
        )
        .expect("the generator's own links and documents always encode"),
        None => Vec::new(),
    };
    let mut layout = layout;
    // A replayed original keeps its signed subject; the lure follows the
    // bytes the signature covers, in the plain text the signer wrote.
    let mut signed_len = None;
    let original = forgery.replay.as_ref().and_then(|r| r.original.clone());
    if let Some((original_subject, original_body)) = original {
        let signed = format!("{}\n", original_body.trim_end());
        body = format!("{signed}\n{body}");
        subject = original_subject;
        layout = Layout::Plain;
        signed_len = Some(signed_length(&signed, &body));
    } else if carrier.has("In-Reply-To") && !subject.to_ascii_lowercase().starts_with("re:") {
        // A carrier that answered a thread makes the lure a reply in it:
        // the hijacked thread of real BEC.
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
    // A copied ARC set no longer verifies; an internal route has none.
    let copied_arc = carrier.has("ARC-Seal") && !forgery.internal_route;
    if copied_arc {
        forgery.verdicts.arc = Some(("fail", "i=1 seal did not verify".into()));
    }
    let mut d = Draft::default();
    d.push("Return-Path", format!("<{}>", forgery.envelope));
    // The MX's verdicts above its own Received field: added at the
    // boundary, where they can be believed.
    d.push("Authentication-Results", forgery.verdicts.header(&world.mx));
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
    for (name, value) in &forgery.planted {
        d.push(name, value.clone());
    }
    if let Some(sig) = &forgery.signature {
        let length = signed_len.filter(|_| sig.covers_only_original);
        d.push(
            "DKIM-Signature",
            dkim_signature_with(rng, &sig.domain, sig.headers, length),
        );
    }
    let replay = forgery.replay.as_ref();
    let to = replay
        .and_then(|r| r.to.clone())
        .unwrap_or_else(|| mailbox(&recipient.name, &recipient.address));
    let id_domain = replay.map_or_else(
        || {
            domain_of(&forgery.envelope)
                .trim_start_matches('[')
                .to_string()
        },
        |r| r.signer_domain.clone(),
    );
    let date = |rng: &mut ChaCha8Rng, carrier_date: Option<String>| match (replay, carrier_date) {
        (Some(r), _) => rfc5322_date(
            ts - r.days_old * 86_400 - rng.gen_range(60..3_600),
            if lang == Lang::Ja { 9 } else { 0 },
        ),
        (None, Some(v)) => v,
        (None, None) => rfc5322_date(
            ts - rng.gen_range(5..120),
            if lang == Lang::Ja { 9 } else { 0 },
        ),
    };
    // A list's Sender stays unless the forgery brings its own; another
    // carrier's Sender was the original author's assistant or system.
    let keeps_sender = carrier.has("List-Id")
        && !forgery
            .identity
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("sender"));
    // A replayed original was a message of its own, in no thread.
    let threaded = forgery.replay.as_ref().is_none_or(|r| r.original.is_none());
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
            n if n.starts_with("arc-") && !copied_arc => {}
            "from" if !placed[0] => {
                placed[0] = true;
                push_identity(&mut d, &forgery);
            }
            "to" if !placed[1] => {
                placed[1] = true;
                d.push("To", to.clone());
            }
            "subject" if !placed[2] => {
                placed[2] = true;
                d.push("Subject", header_text(&subject));
            }
            "message-id" if !placed[3] => {
                placed[3] = true;
                d.push("Message-ID", format!("<{}@{id_domain}>", hex(rng, 20)));
            }
            "date" if !placed[4] => {
                placed[4] = true;
                let v = date(rng, Some(value));
                d.push("Date", v);
            }
            "from" | "to" | "subject" | "message-id" | "date" => {}
            "sender" if !keeps_sender => {}
            "in-reply-to" | "references" if !threaded => {}
            _ => d.push(&name, value),
        }
    }
    if !placed[0] {
        push_identity(&mut d, &forgery);
    }
    if !placed[1] {
        d.push("To", to);
    }
    if !placed[2] {
        d.push("Subject", header_text(&subject));
    }
    if !placed[4] {
        let v = date(rng, None);
        d.push("Date", v);
    }
    if !placed[3] {
        d.push("Message-ID", format!("<{}@{id_domain}>", hex(rng, 20)));
    }

    set_body_with_attachments(&mut d, rng, layout, &body, extra, &attachments);
    Attack {
        draft: d,
        category: lure.kind.clone(),
        variant: forgery.variant,
        payload: payload.map_or(Payload::Body, |p| p.payload),
    }
}

fn push_identity(d: &mut Draft, f: &Forgery) {
    for (name, value) in &f.identity {
        d.push(name, value.clone());
    }
}
