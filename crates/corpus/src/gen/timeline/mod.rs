//! Organisation mailbox timelines: months of one organisation's mail in
//! date order, so that training and evaluation can replay it and learn
//! sender-history features without leakage.
//!
//! A timeline has a cast ([`cast`]): ~30 internal mailboxes with their own
//! networks, client, hours and habits, and ~15 vendors and ~15 customers
//! with their own mail hosts, contacts and bank accounts. They write
//! threads (internal, to and from vendors and customers, with real
//! In-Reply-To and References), invoices, newsletters, SaaS notices and
//! announcements. Into this the [`scenario`] module puts hard ham and
//! attacks (after the first third, when a history store is warm), which
//! differ from ham only by the behaviour they describe: every message has
//! the same header layout, hosts and date range.
//!
//! Messages are numbered in date order under `timeline/`; their variant is
//! `timeline` and their kind the ordinary kind or the scenario's code.

mod cast;
mod letters;
mod scenario;

pub use cast::{Cast, Correspondent, Mailbox, Role};
pub use scenario::{ATTACK_KINDS, HARD_HAM_KINDS, ORDINARY_KINDS};

use super::compose::{
    dkim_signature, header_text, hex, mailbox, received, rfc5322_date, set_body, Draft, Layout,
};
use super::template::Templates;
use super::verdicts::MxVerdicts;
use super::world::World;
use super::{Generated, Generator};
use crate::Label;
use impostor_features::Technique;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Monday 6 January 2025, 00:00 UTC: where every timeline starts.
pub const START: i64 = 1_736_121_600;

/// The host staff submit mail to.
const SUBMISSION_HOST: &str = "smtp.kestrelfoods.com";
/// Its address, the hop between submission and the MX.
const SUBMISSION_IP: &str = "10.20.0.25";

/// How a message reached the org's MX.
#[derive(Clone, Debug)]
pub enum Route {
    /// Submitted by a mailbox of the org from `ip` to the submission host.
    Internal {
        /// The client's address.
        ip: String,
    },
    /// Received from an outside host.
    Inbound {
        /// The host's name.
        helo: String,
        /// Its address.
        ip: String,
        /// The envelope sender.
        mail_from: String,
        /// The DKIM signing domain, when signed.
        dkim: Option<String>,
    },
}

/// One message as planned: everything but the random bytes of its trace.
#[derive(Clone, Debug)]
pub struct Planned {
    /// When it was written, seconds since the epoch (UTC).
    pub ts: i64,
    /// The writer's UTC offset in hours, for the Date field.
    pub offset: i64,
    /// Ordinary kind or scenario code.
    pub kind: &'static str,
    /// Ham, BEC or phishing.
    pub label: Label,
    /// The attack's technique; `None` for ham.
    pub technique: Option<Technique>,
    /// Display name and address of the From.
    pub from: (String, String),
    /// To recipients (name, address).
    pub to: Vec<(String, String)>,
    /// Cc recipients.
    pub cc: Vec<(String, String)>,
    /// The subject.
    pub subject: String,
    /// The body text.
    pub body: String,
    /// Message-ID without angle brackets.
    pub id: String,
    /// The message replied to, when any.
    pub in_reply_to: Option<String>,
    /// The thread's earlier ids.
    pub references: Vec<String>,
    /// Reply-To, when it differs from the From.
    pub reply_to: Option<(String, String)>,
    /// How it was delivered.
    pub route: Route,
    /// Further fields: the client, list and bulk fields.
    pub extra: Vec<(String, String)>,
    /// HTML and text, as bulk mail is written.
    pub html: bool,
}

impl Generator {
    /// A timeline of `messages` messages of the example org, as
    /// [`timeline`] writes it with this generator's world and seed.
    pub fn timeline(&self, messages: usize) -> Vec<Generated> {
        timeline(&self.world, &self.templates, self.seed, messages)
    }
}

/// `messages` messages of one organisation's mail over about six months
/// (a month per 500 messages, 1 to 12), in date order: members
/// `timeline/NNNNNN.eml` numbered by date, variant `timeline`, kind the
/// ordinary kind ([`ORDINARY_KINDS`]), hard-ham kind ([`HARD_HAM_KINDS`])
/// or attack scenario ([`ATTACK_KINDS`]). About 6% are attacks, all after
/// the first third; about 6% hard ham. The same `seed` gives the same
/// bytes; no clock is read. `templates` is not used yet: the timeline's
/// texts are its own ([`letters`]), kept beside the other generators'.
pub fn timeline(
    world: &World,
    templates: &Templates,
    seed: u64,
    messages: usize,
) -> Vec<Generated> {
    let _ = templates;
    if messages == 0 {
        return Vec::new();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7469_6D65_6C69_6E65);
    let cast = cast::cast(&mut rng, world);
    let months = (messages / 500).clamp(1, 12) as i64;
    let days = months * 30 + months / 2;
    let mut plan = scenario::plan(&mut rng, world, &cast, days, messages);
    plan.sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.id.cmp(&b.id)));
    plan.iter()
        .enumerate()
        .map(|(n, p)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5452_4143_4500_0000);
            rng.set_stream(n as u64);
            Generated {
                member: format!("timeline/{n:06}.eml"),
                label: p.label,
                technique: p.technique,
                kind: p.kind.to_string(),
                variant: "timeline".into(),
                bytes: render(&mut rng, world, p).to_bytes(),
                carrier_sha1: None,
                payload: super::payload::Payload::Body,
            }
        })
        .collect()
}

/// The domain of an address.
fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(_, d)| d)
}

/// The message as the org's MX stored it: Return-Path, the MX's
/// Authentication-Results on top, the Received hops, the sender's DKIM
/// signature, then the message's own fields. Ham and attacks alike.
fn render(rng: &mut ChaCha8Rng, world: &World, p: &Planned) -> Draft {
    let mut d = Draft::default();
    let date = rfc5322_date(p.ts, p.offset);
    let at_mx = rfc5322_date(p.ts + rng.gen_range(2..40), 0);
    let from_domain = domain_of(&p.from.1).to_string();
    let policy = world.dmarc_policy_of(&from_domain).to_string();
    match &p.route {
        Route::Internal { ip } => {
            d.push("Return-Path", format!("<{}>", p.from.1));
            let v = MxVerdicts::new(
                ("pass", &from_domain),
                Some(("pass", &from_domain)),
                ("pass", &from_domain, &policy),
            );
            d.push("Authentication-Results", v.header(&world.mx));
            d.push(
                "Received",
                received(
                    rng,
                    SUBMISSION_HOST,
                    SUBMISSION_IP,
                    &world.mx,
                    &at_mx,
                    false,
                ),
            );
            let submitted = rfc5322_date(p.ts + 1, 0);
            d.push(
                "Received",
                format!(
                    "from [{ip}] (unknown [{ip}])\n\tby {SUBMISSION_HOST} (Postfix) with ESMTPSA id {}\n\t; {submitted}",
                    hex(rng, 10).to_uppercase()
                ),
            );
            d.push("DKIM-Signature", dkim_signature(rng, &from_domain));
        }
        Route::Inbound {
            helo,
            ip,
            mail_from,
            dkim,
        } => {
            d.push("Return-Path", format!("<{mail_from}>"));
            let v = MxVerdicts::new(
                ("pass", domain_of(mail_from)),
                dkim.as_deref().map(|k| ("pass", k)),
                ("pass", &from_domain, &policy),
            );
            d.push("Authentication-Results", v.header(&world.mx));
            d.push(
                "Received",
                received(rng, helo, ip, &world.mx, &at_mx, false),
            );
            if let Some(k) = dkim {
                d.push("DKIM-Signature", dkim_signature(rng, k));
            }
        }
    }
    d.push("From", mailbox(&p.from.0, &p.from.1));
    let list = |people: &[(String, String)]| {
        people
            .iter()
            .map(|(n, a)| mailbox(n, a))
            .collect::<Vec<_>>()
            .join(",\n\t")
    };
    d.push("To", list(&p.to));
    if !p.cc.is_empty() {
        d.push("Cc", list(&p.cc));
    }
    d.push("Subject", header_text(&p.subject));
    d.push("Date", date);
    d.push("Message-ID", format!("<{}>", p.id));
    if let Some(r) = &p.in_reply_to {
        d.push("In-Reply-To", format!("<{r}>"));
    }
    if !p.references.is_empty() {
        let refs: Vec<String> = p.references.iter().map(|r| format!("<{r}>")).collect();
        d.push("References", refs.join("\n\t"));
    }
    if let Some((n, a)) = &p.reply_to {
        d.push("Reply-To", mailbox(n, a));
    }
    for (n, v) in &p.extra {
        d.push(n, v.clone());
    }
    let layout = if p.html {
        Layout::Alternative
    } else {
        Layout::Plain
    };
    set_body(&mut d, rng, layout, &p.body, "");
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::builtin().unwrap()
    }

    #[test]
    fn the_same_seed_writes_the_same_bytes_and_another_seed_other_bytes() {
        let w = world();
        let t = Templates::builtin().unwrap();
        let a = timeline(&w, &t, 5, 400);
        let b = timeline(&w, &t, 5, 400);
        let c = timeline(&w, &t, 6, 400);
        assert_eq!(a.len(), 400);
        assert!(a.iter().zip(&b).all(|(x, y)| x.bytes == y.bytes));
        assert!(a.iter().zip(&c).filter(|(x, y)| x.bytes != y.bytes).count() > 300);
    }

    #[test]
    fn members_are_numbered_in_date_order() {
        let w = world();
        let t = Templates::builtin().unwrap();
        let msgs = timeline(&w, &t, 1, 300);
        let mut last = i64::MIN;
        for m in &msgs {
            let parsed = mail_parser::MessageParser::default()
                .parse(&m.bytes)
                .unwrap();
            let ts = parsed.date().unwrap().to_timestamp();
            assert!(ts >= last, "{} is earlier than the one before", m.member);
            last = ts;
            assert!(m.member.starts_with("timeline/"));
            assert_eq!(m.variant, "timeline");
            assert!(!m.bytes.windows(2).any(|w| w == b"\r\n"));
        }
    }

    #[test]
    fn no_messages_asked_gives_none() {
        assert!(timeline(&world(), &Templates::builtin().unwrap(), 1, 0).is_empty());
    }
}
