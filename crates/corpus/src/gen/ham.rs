//! Legitimate mail of the example organisation: internal threads, vendor
//! invoices, newsletters through ESPs, mailing lists, calendar and
//! e-signature notifications, auto-replies and bounces, in English and
//! Japanese, each with the route and authentication its real kind has, and
//! some with the unusual but legal headers real mail has
//! ([`HamVariant`]). A fifth of it is hard ham ([`hard_ham`]): honest
//! mail that looks like an attack; a seventh more is honest mail in the
//! carriers of content-borne attacks (PDF invoices, QR tickets, HTML
//! receipts, order confirmations with a phone number).

use super::carrier::Carrier;
use super::compose::{
    dkim_signature, doc_ip, header_text, hex, mailbox, received, rfc5322_date, set_body, Draft,
    Layout,
};
use super::hard_ham::{carrier_ham, hard_ham};
use super::payload::Payload;
use super::template::{Lang, Template, Templates, CARRIER_HAM_KINDS, HARD_HAM_KINDS};
use super::unusual::{self, HamVariant};
use super::values::{url, Values};
use super::verdicts::{arc_set, DkimVerdict, MxVerdicts};
use super::world::{colleague, Person, World};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Ham kinds and their shares of generated ham: the hard kinds together
/// a fifth (33 of 157), the carrier kinds (attachments, QR images, phone
/// numbers, as content-borne attacks have) another seventh (24 of 157).
const KIND_WEIGHTS: [(&str, u32); 20] = [
    ("internal_thread", 30),
    ("vendor_invoice", 20),
    ("newsletter", 12),
    ("mailing_list", 8),
    ("calendar", 8),
    ("esign", 7),
    ("auto_reply", 7),
    ("bounce", 8),
    ("namesake_freemail_list", 4),
    ("saas_notification", 5),
    ("it_notice", 4),
    ("hr_programme", 4),
    ("security_forward", 4),
    ("wire_approval_thread", 4),
    ("vendor_bank_change_thread", 4),
    ("list_dmarc_none_failure", 4),
    ("invoice_pdf", 6),
    ("ticket_qr", 6),
    ("receipt_html", 6),
    ("order_phone", 6),
];

/// One generated ham message.
pub struct Ham {
    /// The message, to be written as is or to carry an attack.
    pub carrier: Carrier,
    /// One of [`HAM_KINDS`](super::template::HAM_KINDS).
    pub kind: &'static str,
    /// Its unusual headers, if any.
    pub variant: HamVariant,
    /// What gives it the look of a content-borne attack, if anything.
    pub payload: Payload,
}

/// A time in 2024–2025 (seconds since the epoch), the same range for
/// every class.
pub fn timestamp(rng: &mut ChaCha8Rng) -> i64 {
    1_704_067_200 + rng.gen_range(0..(600 * 86_400))
}

/// The staff who write in `lang`.
pub(super) fn people(world: &World, lang: Lang) -> &[Person] {
    match lang {
        Lang::En => &world.employee,
        Lang::Ja => &world.employee_ja,
    }
}

/// The domain a Microsoft 365 tenant forwards mail from: a trade
/// association's mailbox of a Kestrel employee.
const FORWARDER: &str = "foodtrade-assoc.org";

/// Writes one ham message of a kind drawn from `kinds` (weighted among
/// them by the shares of `KIND_WEIGHTS`: internal threads most).
pub fn ham(rng: &mut ChaCha8Rng, world: &World, templates: &Templates, kinds: &[&str]) -> Ham {
    let weighted: Vec<(&'static str, u32)> = KIND_WEIGHTS
        .iter()
        .copied()
        .filter(|(k, _)| kinds.contains(k))
        .collect();
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total.max(1));
    let kind = weighted
        .iter()
        .find(|(_, w)| {
            if roll < *w {
                true
            } else {
                roll -= w;
                false
            }
        })
        .map_or("internal_thread", |(k, _)| k);
    if HARD_HAM_KINDS.contains(&kind) {
        return hard_ham(rng, world, templates, kind);
    }
    if CARRIER_HAM_KINDS.contains(&kind) {
        return carrier_ham(rng, world, templates, kind);
    }
    let choices: Vec<&Template> = templates.ham.iter().filter(|t| t.kind == kind).collect();
    let template = *choices
        .choose(rng)
        .expect("every ham kind has templates (tested)");
    let lang = template.lang;
    let staff = people(world, lang);
    let recipient = staff.choose(rng).cloned().expect("world has employees");
    let ts = timestamp(rng);
    let offset = if lang == Lang::Ja { 9 } else { 0 };
    let date = rfc5322_date(ts, offset);
    let delivered = rfc5322_date(ts + rng.gen_range(2..90), 0);
    let mut d = Draft::default();
    let internal_domain = recipient
        .address
        .rsplit_once('@')
        .map_or("kestrelfoods.com", |(_, d)| d)
        .to_string();
    // Sender, envelope, list fields and layout by kind.
    let mut layout = Layout::Plain;
    let mut extra = String::new();
    let mut list_fields: Vec<(&str, String)> = Vec::new();
    let mut list: Option<(String, String)> = None;
    let mut sealer = String::new();
    let (sender, mut envelope, mut internal) = match kind {
        "internal_thread" | "auto_reply" => {
            let s = colleague(rng, staff, &recipient).clone();
            if kind == "auto_reply" {
                list_fields.push(("Auto-Submitted", "auto-replied".into()));
            }
            let env = s.address.clone();
            (s, env, true)
        }
        "calendar" => {
            let s = if rng.gen_bool(0.6) {
                staff.choose(rng).cloned().expect("employees")
            } else {
                world.external.choose(rng).cloned().expect("externals")
            };
            layout = Layout::Calendar;
            extra = format!(
                "BEGIN:VCALENDAR\nMETHOD:REQUEST\nPRODID:-//Impostor gen//EN\nVERSION:2.0\nBEGIN:VEVENT\nUID:{}\nDTSTART:{}\nORGANIZER:mailto:{}\nEND:VEVENT\nEND:VCALENDAR\n",
                hex(rng, 24),
                rfc5322_date(ts + 86_400 * 3, 0).replace([',', ' ', ':', '+'], ""),
                s.address
            );
            let env = s.address.clone();
            let internal = s.domain() == internal_domain;
            (s, env, internal)
        }
        "vendor_invoice" => {
            let s = world.external.choose(rng).cloned().expect("externals");
            let env = s.address.clone();
            (s, env, false)
        }
        "newsletter" | "esign" | "mailing_list" => {
            let mut bulk = world.bulk_of(kind);
            // Members post to the lists of their language.
            let code = if lang == Lang::Ja { "ja" } else { "en" };
            if kind == "mailing_list" && bulk.iter().any(|b| b.lang == code) {
                bulk.retain(|b| b.lang == code);
            }
            let b = *bulk.choose(rng).expect("bulk senders of each kind");
            let mut s = Person {
                name: b.name.clone(),
                address: b.address.clone(),
                title: String::new(),
                company: b.name.clone(),
            };
            layout = Layout::Alternative;
            if kind == "mailing_list" {
                // A member posts; the list delivers.
                let poster = world.external.choose(rng).cloned().expect("externals");
                list_fields.push(("List-Id", format!("<{}>", b.list_id)));
                list_fields.push(("List-Post", format!("<mailto:{}>", b.address)));
                list_fields.push(("Precedence", "list".into()));
                if b.arc_sealer.is_empty() {
                    list_fields.push(("Sender", b.return_path.clone()));
                } else {
                    // A provider's list: its own Sender and unsubscribe.
                    list_fields.push(("Sender", b.address.clone()));
                    list_fields.push((
                        "List-Unsubscribe",
                        format!("<mailto:{}+unsubscribe@{}>", b.name, domain_of(&b.address)),
                    ));
                    list_fields.push(("X-Original-Sender", poster.address.clone()));
                }
                list = Some((b.name.clone(), b.address.clone()));
                sealer = b.arc_sealer.clone();
                s = poster;
                layout = Layout::Plain;
            } else {
                list_fields.push((
                    "List-Unsubscribe",
                    format!(
                        "<https://{}/unsubscribe/{}>",
                        b.address.rsplit_once('@').map_or("", |x| x.1),
                        hex(rng, 16)
                    ),
                ));
            }
            (s, b.return_path.clone(), false)
        }
        _ => {
            // bounce
            let mta = world.mx.clone();
            layout = Layout::Report;
            extra = format!(
                "Reporting-MTA: dns; {mta}\n\nFinal-Recipient: rfc822; {}\nAction: failed\nStatus: 5.1.1\n",
                world.external.choose(rng).map_or("", |p| p.address.as_str())
            );
            let s = Person {
                name: "Mail Delivery System".into(),
                address: format!("MAILER-DAEMON@{mta}"),
                title: String::new(),
                company: String::new(),
            };
            (s, String::new(), true)
        }
    };
    let from_domain = sender.domain().to_string();
    let variant = unusual::choose(
        rng,
        kind,
        &sender,
        &sealer,
        world.dmarc_policy_of(&from_domain),
    );
    // Who else the variant brings: an assistant, a colleague who re-sent.
    let mut on_behalf = None;
    let mut resent_by = None;
    match variant {
        HamVariant::SenderSameDomain => {
            let everyone: Vec<Person> = staff.iter().chain(&world.external).cloned().collect();
            let a = unusual::on_behalf(rng, &sender, &everyone);
            envelope = a.address.clone();
            on_behalf = Some(a);
        }
        HamVariant::ResentFrom => {
            let c = colleague(rng, staff, &recipient).clone();
            envelope = c.address.clone();
            internal = true;
            resent_by = Some(c);
        }
        HamVariant::ForwardedArc => {
            // Sender Rewriting Scheme at the forwarding tenant.
            envelope = format!(
                "bounces+SRS={}={}={}@{FORWARDER}",
                hex(rng, 5),
                from_domain,
                sender.address.split('@').next().unwrap_or("")
            );
        }
        _ => {}
    }
    let link_host = match kind {
        "esign" => sender.domain().to_string(),
        _ => format!("www.{}", sender.domain().trim_start_matches("lists.")),
    };
    let link = url(rng, &link_host);
    let values = Values::new(rng, world, lang, &sender, &recipient, &link);
    let (subject, body) = values.render(template);
    // Trace and authentication, as the org's MX writes them.
    let env_domain = envelope
        .rsplit_once('@')
        .map_or(sender.domain(), |(_, d)| d)
        .to_string();
    d.push("Return-Path", format!("<{envelope}>"));
    let mut trace: Vec<(String, String)> = Vec::new();
    let hop = if internal {
        let ip = format!("10.20.{}.{}", rng.gen_range(0..8), rng.gen_range(2..250));
        let helo = format!("[{ip}]");
        received(rng, &helo, &ip, &world.mx, &delivered, true)
    } else {
        let ip = doc_ip(rng);
        let helo = match variant {
            HamVariant::ListArcDmarcNone | HamVariant::ListFromRewritten => {
                format!("mail-{}.google.com", hex(rng, 6))
            }
            HamVariant::ForwardedArc => {
                format!("mail-{}.outbound.protection.outlook.com", hex(rng, 6))
            }
            _ => format!("mail.{env_domain}"),
        };
        received(rng, &helo, &ip, &world.mx, &delivered, false)
    };
    let mut signatures: Vec<String> = Vec::new();
    let verdicts = if envelope.is_empty() {
        // The MX checks its own bounces too, and finds nothing to check.
        None
    } else {
        // Not every sender signs: small vendors and internal relays often
        // do not, bulk senders always do.
        let signed = rng.gen_bool(match (kind, variant) {
            (
                _,
                HamVariant::ResentFrom
                | HamVariant::ForwardedArc
                | HamVariant::ListArcDmarcNone
                | HamVariant::ListFromRewritten,
            ) => 1.0,
            ("newsletter" | "esign", _) => 1.0,
            ("mailing_list", _) => 0.8,
            ("vendor_invoice", _) => 0.7,
            _ => 0.5,
        });
        let policy = world.dmarc_policy_of(&from_domain).to_string();
        let mut v = MxVerdicts::new(
            ("pass", &env_domain),
            signed.then_some(("pass", from_domain.as_str())),
            ("pass", &from_domain, &policy),
        );
        if signed {
            signatures.push(dkim_signature(rng, &from_domain));
        }
        match variant {
            HamVariant::ListArcDmarcNone | HamVariant::ListFromRewritten => {
                // The list's footer broke the poster's signature; the
                // provider signs as the list and seals what it found.
                let list_domain = env_domain.clone();
                let rewritten = variant == HamVariant::ListFromRewritten;
                v.dkim = vec![DkimVerdict {
                    result: "pass",
                    domain: list_domain.clone(),
                    why: None,
                }];
                v.dkim.push(DkimVerdict {
                    result: "fail",
                    domain: from_domain.clone(),
                    why: Some("body hash did not verify"),
                });
                signatures.insert(0, dkim_signature(rng, &list_domain));
                v.dmarc = Some(if rewritten {
                    ("pass", list_domain.clone(), "none".into())
                } else {
                    ("fail", from_domain.clone(), policy.clone())
                });
                let (arc, comment) = arc_set(rng, &sealer, &from_domain, &policy, ts);
                trace.extend(arc);
                v.arc = Some(("pass", comment));
            }
            HamVariant::ForwardedArc => {
                // The tenant's disclaimer breaks a signature; a domain
                // that enforces DMARC gets its mail forwarded unchanged.
                if policy == "none" {
                    v.dkim = vec![DkimVerdict {
                        result: "fail",
                        domain: from_domain.clone(),
                        why: Some("body hash did not verify"),
                    }];
                    v.dmarc = Some(("fail", from_domain.clone(), policy.clone()));
                }
                let (arc, comment) = arc_set(rng, "microsoft.com", &from_domain, &policy, ts);
                trace.extend(arc);
                v.arc = Some(("pass", comment));
            }
            _ => {}
        }
        Some(v)
    };
    let verdicts = verdicts.map_or_else(
        || {
            format!(
                "{0};\n\tspf=none smtp.helo={0};\n\tdkim=none;\n\tdmarc=none",
                world.mx
            )
        },
        |v| v.header(&world.mx),
    );
    // The MX's verdicts sit above its own Received field.
    d.push("Authentication-Results", verdicts);
    d.push("Received", hop);
    for (n, v) in trace {
        d.push(&n, v);
    }
    if let Some(c) = &resent_by {
        // A redirect: the Resent- block above the original's fields.
        d.push("Resent-From", mailbox(&c.name, &c.address));
        d.push("Resent-To", mailbox(&recipient.name, &recipient.address));
        d.push(
            "Resent-Date",
            rfc5322_date(ts + rng.gen_range(1..80), offset),
        );
        d.push(
            "Resent-Message-ID",
            format!("<{}@{}>", hex(rng, 16), c.domain()),
        );
    }
    for s in signatures {
        d.push("DKIM-Signature", s);
    }
    for (n, v) in list_fields {
        d.push(n, v);
    }
    let from = match (variant, &list) {
        (HamVariant::ListFromRewritten, Some((name, address))) => {
            d.push("X-Original-From", mailbox(&sender.name, &sender.address));
            mailbox(&format!("'{}' via {name}", sender.name), address)
        }
        _ => unusual::from_value(rng, variant, &sender),
    };
    d.push("From", from);
    if let Some(a) = &on_behalf {
        d.push("Sender", mailbox(&a.name, &a.address));
    }
    // Replies of bulk and billing mail go to another mailbox of the sender.
    let reply_to = match kind {
        "newsletter" => 0.5,
        "mailing_list" => 0.4,
        "vendor_invoice" => 0.25,
        "internal_thread" => 0.05,
        _ => 0.0,
    };
    if variant == HamVariant::ListFromRewritten {
        d.push("Reply-To", mailbox(&sender.name, &sender.address));
    } else if rng.gen_bool(reply_to) {
        let mailbox_name =
            ["support", "billing", "accounts", "reply", "office"][rng.gen_range(0..5)];
        d.push("Reply-To", format!("{mailbox_name}@{}", sender.domain()));
    }
    if variant == HamVariant::ForwardedArc {
        // Written to the alias that forwards.
        let alias = format!(
            "{}@{FORWARDER}",
            recipient.address.split('@').next().unwrap_or("")
        );
        d.push("To", mailbox(&recipient.name, &alias));
    } else {
        d.push("To", mailbox(&recipient.name, &recipient.address));
    }
    d.push("Subject", header_text(&subject));
    d.push("Date", date);
    d.push(
        "Message-ID",
        format!(
            "<{}.{}@{}>",
            hex(rng, 12),
            hex(rng, 6),
            if sender.domain().is_empty() {
                world.mx.as_str()
            } else {
                sender.domain()
            }
        ),
    );
    if subject.starts_with("Re:") || subject.starts_with("RE:") {
        let parent = format!("<{}@{}>", hex(rng, 16), recipient.domain());
        d.push("In-Reply-To", parent.clone());
        d.push("References", parent);
    }
    set_body(&mut d, rng, layout, &body, &extra);
    Ham {
        carrier: Carrier {
            draft: d,
            layout,
            extra,
            recipient,
            lang,
        },
        kind,
        variant,
        payload: Payload::Body,
    }
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}
