//! Reading a message's [`MessageFacts`] from its view: who sent it and to
//! whom, from which network and client, at which hour, what it links to,
//! what thread it claims and what it asks for.

use super::{Flow, MessageFacts, UnixTime};
use crate::auth_results::AuthVerdict;
use crate::context::Context;
use crate::domain::registrable_domain;
use crate::intent::IntentCategory;
use crate::message::{Envelope, MessageView};
use crate::sender_path::authenticated_for;
use std::net::IpAddr;

/// Most link domains, recipients and bank accounts kept per message.
const MAX_ITEMS: usize = 32;

/// Longest client name kept, in bytes.
const MAX_CLIENT_BYTES: usize = 64;

impl MessageFacts {
    /// Reads the facts of one message: `envelope` is the SMTP session's
    /// (its client IP is the submission network when known).
    pub fn read(view: &MessageView, envelope: &Envelope, ctx: &Context) -> MessageFacts {
        let mut f = MessageFacts {
            time: view.date,
            ..MessageFacts::default()
        };
        f.hour_of_week = f.time.map(hour_of_week);
        let from = view.from();
        let from_domain = view.from_domain();
        if let (Some(address), Some(domain)) =
            (from.and_then(|i| i.address.as_deref()), from_domain)
        {
            let address = address.trim().to_ascii_lowercase();
            f.sender_key = Some(key_of(&address, domain, ctx));
            f.sender_address = Some(address);
            f.sender_internal = ctx.is_internal(domain);
            f.sender_verified = authenticated_for(&view.auth, domain, Some(domain));
            f.sender_failed = !f.sender_verified
                && (view.auth.dmarc_verdict() == AuthVerdict::Fail
                    || view.auth.spf.verdict() == AuthVerdict::Fail
                        && !view
                            .auth
                            .dkim
                            .iter()
                            .any(|r| r.verdict() == AuthVerdict::Pass));
        }
        for r in view.recipients.iter().take(MAX_ITEMS) {
            let Some((_, domain)) = r.rsplit_once('@') else {
                continue;
            };
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            if ctx.is_internal(&domain) {
                f.internal_recipients += 1;
            }
            let key = key_of(r, &domain, ctx);
            if !f.recipient_keys.contains(&key) {
                f.recipient_keys.push(key);
            }
        }
        let external_recipient = f.recipient_keys.len() > f.internal_recipients as usize;
        f.flow = match (f.sender_internal && !f.sender_failed, external_recipient) {
            (true, true) => Flow::Outbound,
            (true, false) => Flow::Internal,
            (false, _) => Flow::Inbound,
        };
        f.network = submission_ip(view, envelope, f.sender_internal).map(network_of);
        f.client = view.client.as_deref().and_then(client_name);
        for link in &view.links {
            let Some(host) = link.host.as_deref() else {
                continue;
            };
            let domain = if link.host_is_ip {
                host.to_string()
            } else {
                registrable_domain(host).unwrap_or(host).to_string()
            };
            if f.link_domains.len() < MAX_ITEMS && !f.link_domains.contains(&domain) {
                f.link_domains.push(domain);
            }
        }
        for r in &view.reply_to {
            if let (Some(a), Some(d)) = (r.address.as_deref(), r.domain.as_deref()) {
                let key = key_of(&a.trim().to_ascii_lowercase(), d, ctx);
                if Some(&key) != f.sender_key.as_ref() && !f.reply_to_keys.contains(&key) {
                    f.reply_to_keys.push(key);
                }
            }
        }
        f.message_id.clone_from(&view.message_id);
        f.references.clone_from(&view.references);
        f.reply_subject = is_reply_subject(&view.subject);
        f.quoted_header_block = quotes_header_block(&view.body_text);
        let intents = ctx.intent().count(&view.subject, &view.body_text);
        f.asks_payment = intents.count(IntentCategory::Payment) > 0;
        f.asks_bank_change = intents.count(IntentCategory::BankChange) > 0;
        f.asks_credentials = intents.count(IntentCategory::CredentialLure) > 0
            || intents.count(IntentCategory::GiftCard) > 0;
        f.bank_accounts = bank_accounts(&view.body_text);
        let candidates = from_domain
            .into_iter()
            .chain(view.reply_to.iter().filter_map(|i| i.domain.as_deref()))
            .chain(view.envelope_domain());
        for d in candidates {
            if ctx.is_internal(d) || ctx.is_freemail(d) {
                continue;
            }
            let d = registrable_domain(d).unwrap_or(d).to_string();
            if !f.lookalike_candidates.contains(&d) {
                f.lookalike_candidates.push(d);
            }
        }
        f
    }
}

/// The history key of an address: itself for the organisation's and
/// free-mail mailboxes (each is its own person), else its registrable
/// domain (a company's many mailboxes are one correspondent).
fn key_of(address: &str, domain: &str, ctx: &Context) -> String {
    if ctx.is_internal(domain) || ctx.is_freemail(domain) {
        address.to_string()
    } else {
        registrable_domain(domain).unwrap_or(domain).to_string()
    }
}

/// The history key of what a user typed (`impostor history show`,
/// `forget`): an address's key as [`MessageFacts::sender_key`] makes it,
/// or a domain's registrable domain.
pub fn history_key(text: &str, ctx: &Context) -> String {
    let text = text.trim().trim_matches(['<', '>']).to_ascii_lowercase();
    match text.rsplit_once('@') {
        Some((_, domain)) => key_of(&text, domain, ctx),
        None => registrable_domain(&text).unwrap_or(&text).to_string(),
    }
}

/// Hour of the week (Monday 00:00 UTC is 0) of a time.
fn hour_of_week(t: UnixTime) -> u16 {
    // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday.
    let day = t.div_euclid(86_400);
    let weekday = (day + 3).rem_euclid(7);
    let hour = t.rem_euclid(86_400) / 3_600;
    (weekday * 24 + hour) as u16
}

/// Where the message was submitted from: the SMTP client when known;
/// for an internal mailbox the earliest Received hop with an address (the
/// laptop or phone), for anyone else the trust boundary's hop.
fn submission_ip(view: &MessageView, envelope: &Envelope, internal: bool) -> Option<IpAddr> {
    if let Some(ip) = envelope.client_ip {
        return Some(ip);
    }
    if internal {
        view.hops.iter().rev().find_map(|h| h.ip)
    } else {
        view.boundary_hop()
            .or_else(|| view.first_external())
            .and_then(|h| h.ip)
    }
}

/// An address's network in CIDR notation: IPv4 /24, IPv6 /48.
pub fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// A client name without versions: "Microsoft Outlook 16.0" and
/// "Microsoft Outlook 16.1" are one client.
fn client_name(raw: &str) -> Option<String> {
    let words: Vec<String> = raw
        .split(|c: char| c.is_whitespace() || c == '/' || c == ';' || c == '(' || c == ')')
        .filter(|w| !w.is_empty() && !w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .collect();
    let mut name = words.join(" ");
    if name.len() > MAX_CLIENT_BYTES {
        let keep = crate::html::truncate_at_char(&name, MAX_CLIENT_BYTES).len();
        name.truncate(keep);
    }
    (!name.is_empty()).then_some(name)
}

/// Reply and forward prefixes in the languages the organisation writes.
const REPLY_PREFIXES: &[&str] = &[
    "re:",
    "re :",
    "fw:",
    "fwd:",
    "aw:",
    "wg:",
    "sv:",
    "vs:",
    "tr:",
    "rif:",
    "r:",
    "odp:",
    "antw:",
    "答复:",
    "答复：",
    "回复:",
    "回复：",
    "转发:",
    "转发：",
    "返信:",
    "返信：",
    "転送:",
    "転送：",
    "re：",
    "fw：",
];

/// Whether `text` begins with one of `names`, ASCII case ignored (the
/// names are ASCII or Japanese); no allocation, since it runs on every
/// message's subject and body lines.
fn starts_with_any(text: &str, names: &[&str]) -> bool {
    names.iter().any(|n| {
        text.get(..n.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(n))
    })
}

/// Whether a subject reads as a reply or a forward.
pub fn is_reply_subject(subject: &str) -> bool {
    starts_with_any(subject.trim_start(), REPLY_PREFIXES)
}

/// Field names that open a quoted header block, and those that follow.
const QUOTED_FROM: &[&str] = &["from:", "差出人:", "送信者:", "差出人：", "von:", "de:"];
const QUOTED_SENT: &[&str] = &["sent:", "date:", "送信日時:", "日付:", "gesendet:"];
const QUOTED_SUBJECT: &[&str] = &["subject:", "件名:", "件名：", "betreff:"];

/// A line without its quoting marks.
fn unquoted(line: &str) -> &str {
    line.trim_start_matches(['>', ' '])
}

/// Whether a body quotes an earlier message's header block: a From line
/// followed within five lines by Sent/Date and Subject lines (Outlook's
/// and Gmail's quoting, in English and Japanese).
pub fn quotes_header_block(body: &str) -> bool {
    let mut lines = body.lines();
    while let Some(line) = lines.next() {
        if !starts_with_any(unquoted(line), QUOTED_FROM) {
            continue;
        }
        let mut next = lines.clone().take(5).map(unquoted);
        let sent = next.clone().any(|l| starts_with_any(l, QUOTED_SENT));
        if sent && next.any(|l| starts_with_any(l, QUOTED_SUBJECT)) {
            return true;
        }
    }
    false
}

/// Words after which a number is a bank account.
const ACCOUNT_WORDS: &[&str] = &[
    "account number",
    "account no",
    "acct",
    "a/c",
    "routing",
    "aba",
    "sort code",
    "口座番号",
    "口座",
    "kontonummer",
];

/// Bank account numbers in a text, normalised to upper-case letters and
/// digits: IBANs anywhere, and runs of 6–20 digits (spaces and dashes
/// allowed) within 40 characters after an account word.
pub fn bank_accounts(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let push = |s: String, found: &mut Vec<String>| {
        if found.len() < MAX_ITEMS && !found.contains(&s) {
            found.push(s);
        }
    };
    // IBAN: two letters, two check digits, 11-30 letters or digits,
    // written in groups of four or not.
    let chars: Vec<char> = text.chars().collect();
    // Past the end reads as a space, which no IBAN holds.
    let at = |k: usize| chars.get(k).copied().unwrap_or(' ');
    let mut i = 0;
    while i + 15 <= chars.len() {
        let at_word_start = i == 0 || !at(i - 1).is_ascii_alphanumeric();
        if at_word_start
            && at(i).is_ascii_uppercase()
            && at(i + 1).is_ascii_uppercase()
            && at(i + 2).is_ascii_digit()
            && at(i + 3).is_ascii_digit()
        {
            let mut s = String::new();
            let mut j = i;
            while j < chars.len() && s.len() < 34 {
                let c = at(j);
                if c.is_ascii_alphanumeric() {
                    s.push(c.to_ascii_uppercase());
                } else if !(c == ' ' && at(j + 1).is_ascii_alphanumeric()) {
                    break;
                }
                j += 1;
            }
            if (15..=34).contains(&s.len()) && s.chars().skip(4).any(|c| c.is_ascii_digit()) {
                push(s, &mut found);
                i = j;
                continue;
            }
        }
        i += 1;
    }
    let lower = text.to_lowercase();
    for word in ACCOUNT_WORDS {
        for (at, _) in lower.match_indices(word) {
            let after = lower.get(at + word.len()..).unwrap_or_default();
            let window: String = after.chars().take(40).collect();
            let mut digits = String::new();
            for c in window.chars() {
                if c.is_ascii_digit() {
                    digits.push(c);
                } else if digits.is_empty() || c == ' ' || c == '-' {
                    if !digits.is_empty() && digits.len() >= 20 {
                        break;
                    }
                    continue;
                } else {
                    break;
                }
            }
            if (6..=20).contains(&digits.len()) {
                push(digits, &mut found);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_of_week_starts_on_monday_midnight_utc() {
        // 2024-01-01 was a Monday.
        assert_eq!(hour_of_week(1_704_067_200), 0);
        assert_eq!(hour_of_week(1_704_067_200 + 3_600 * 25), 25);
        assert_eq!(hour_of_week(1_704_067_200 - 3_600), 167);
    }

    #[test]
    fn networks_are_slash_24_and_slash_48() {
        assert_eq!(
            network_of("203.0.113.77".parse().unwrap()),
            "203.0.113.0/24"
        );
        assert_eq!(
            network_of("2001:db8:1234:5::1".parse().unwrap()),
            "2001:db8:1234::/48"
        );
    }

    #[test]
    fn client_versions_do_not_make_a_new_client() {
        assert_eq!(
            client_name("Microsoft Outlook 16.0"),
            client_name("Microsoft Outlook 16.1")
        );
        assert_eq!(client_name("1.2.3"), None);
    }

    #[test]
    fn replies_and_forwards_are_recognised_in_several_languages() {
        for s in [
            "RE: invoice",
            "Fwd: x",
            "AW: Rechnung",
            "答复: 付款",
            "転送: 請求書",
            "SV: faktura",
        ] {
            assert!(is_reply_subject(s), "{s}");
        }
        assert!(!is_reply_subject("Reminder: invoice"));
    }

    #[test]
    fn a_quoted_outlook_header_block_is_recognised() {
        let body = "Please see below.\n\nFrom: Anna <a@x.com>\nSent: Monday\nTo: Bob\nSubject: Invoice\n\nHi";
        assert!(quotes_header_block(body));
        assert!(quotes_header_block("> FROM: a\n> DATE: b\n> SUBJECT: c"));
        assert!(quotes_header_block(
            "差出人: 田中\n送信日時: 月曜日\n件名: 請求書"
        ));
        assert!(!quotes_header_block("From: the team\nThanks for all."));
        // Sent and Subject must follow within five lines.
        assert!(!quotes_header_block(
            "From: a\n1\n2\n3\n4\n5\nSent: b\nSubject: c"
        ));
    }

    #[test]
    fn hostile_bodies_give_bounded_facts() {
        let digits = "account number 123456 ".repeat(100_000);
        assert_eq!(bank_accounts(&digits).len(), 1);
        let many: String = (0..100_000).map(|i| format!("IBAN DE{:020} ", i)).collect();
        assert_eq!(bank_accounts(&many).len(), MAX_ITEMS);
        let froms = "From: x\n".repeat(200_000);
        assert!(!quotes_header_block(&froms));
        // A field name cut inside a multi-byte character is no match.
        assert!(!is_reply_subject("答"));
        assert!(!quotes_header_block("差"));
    }

    #[test]
    fn ibans_and_account_numbers_are_found_and_normalised() {
        let text = "New IBAN: DE89 3704 0044 0532 0130 00. Routing 021000021, account number 1234-5678-90. 口座番号 1234567";
        let found = bank_accounts(text);
        assert!(
            found.contains(&"DE89370400440532013000".to_string()),
            "{found:?}"
        );
        assert!(found.contains(&"021000021".to_string()), "{found:?}");
        assert!(found.contains(&"1234567890".to_string()), "{found:?}");
        assert!(found.contains(&"1234567".to_string()), "{found:?}");
        assert!(bank_accounts("Call me at 10 am about the invoice").is_empty());
    }
}

#[cfg(test)]
mod reading {
    use super::*;
    use crate::context::OrgProfile;

    fn kestrel() -> Context {
        let org = OrgProfile {
            internal_domains: vec!["kestrelfoods.com".into()],
            trusted_authserv_ids: vec!["mx.kestrelfoods.com".into()],
            ..OrgProfile::default()
        };
        Context::builder(org).build().unwrap()
    }

    const VENDOR: &[u8] = b"Authentication-Results: mx.kestrelfoods.com; dmarc=pass header.from=greenvale.com\n\
Received: from mail.greenvale.com (mail.greenvale.com [198.51.100.68]) by mx.kestrelfoods.com; Thu, 25 Jul 2024 15:57:45 +0000\n\
From: Anna <anna@greenvale.com>\n\
Reply-To: billing@greenvale-pay.com\n\
To: Priya <p.raman@kestrelfoods.com>\n\
Subject: RE: invoice 4471\n\
Date: Thu, 25 Jul 2024 15:56:28 +0000\n\
Message-ID: <abc@greenvale.com>\n\
In-Reply-To: <x1@kestrelfoods.com>\n\
X-Mailer: Microsoft Outlook 16.0\n\
\n\
Please pay invoice 4471 to our new account. IBAN DE89 3704 0044 0532 0130 00.\n\
https://portal.greenvale-pay.com/x\n";

    #[test]
    fn a_vendor_message_yields_its_sender_time_thread_and_accounts() {
        let ctx = kestrel();
        let view = MessageView::parse(VENDOR, &Envelope::default(), &ctx).unwrap();
        let f = MessageFacts::read(&view, &Envelope::default(), &ctx);
        assert_eq!(f.time, Some(1_721_922_988));
        assert_eq!(f.sender_key.as_deref(), Some("greenvale.com"));
        assert!(f.sender_verified && !f.sender_internal);
        assert_eq!(f.flow, Flow::Inbound);
        assert_eq!(f.network.as_deref(), Some("198.51.100.0/24"));
        assert_eq!(f.client.as_deref(), Some("microsoft outlook"));
        assert_eq!(f.reply_to_keys, ["greenvale-pay.com"]);
        assert_eq!(f.references, ["x1@kestrelfoods.com"]);
        assert_eq!(f.message_id.as_deref(), Some("abc@greenvale.com"));
        assert!(f.reply_subject && f.asks_payment);
        assert_eq!(f.bank_accounts, ["DE89370400440532013000"]);
        assert!(f.link_domains.contains(&"greenvale-pay.com".to_string()));
        assert_eq!(f.recipient_keys, ["p.raman@kestrelfoods.com"]);
    }
}
