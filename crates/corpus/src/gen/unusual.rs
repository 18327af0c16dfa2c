//! Honest mail with unusual but legal headers: what real correspondents'
//! clients, assistants, forwarders and mailing lists write, and what a
//! detector must not mistake for the header tricks of a spoof (a display
//! name with a comma or an address in it, encoded and folded names, a
//! Sender beside the From, Resent- fields, a list's DMARC failure explained
//! by a trusted ARC sealer).

use super::compose::{encoded_word, folded_encoded_words, mailbox};
use super::world::Person;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The unusual headers of one ham message; its [`HamVariant::code`] is the
/// `variant` written in labels.tsv.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HamVariant {
    /// Nothing unusual.
    Plain,
    /// `"Brandt, Daniel" <d.brandt@…>`: a quoted display name with a comma.
    QuotedCommaName,
    /// The display name as encoded words (UTF-8, base64 or
    /// quoted-printable), folded over lines when it has several words.
    EncodedName,
    /// A display name that holds the sender's own address.
    NameIsAddress,
    /// The old form `address (Name)`: the name in a comment.
    CommentName,
    /// Someone of the same domain sends on the author's behalf (an
    /// assistant for an executive, a billing system for a clerk): Sender.
    SenderSameDomain,
    /// A colleague re-sent (redirected) the message: Resent-From, -To,
    /// -Date and -Message-ID above the original's fields.
    ResentFrom,
    /// A mailbox at a provider forwarded it; the provider
    /// (`microsoft.com`) sealed ARC.
    ForwardedArc,
    /// A list hosted by a big provider re-sent a post: the poster's DKIM
    /// broke, DMARC failed under the poster's `p=none`, the provider sealed
    /// ARC that passes.
    ListArcDmarcNone,
    /// The same list rewrote the From of a poster whose domain enforces
    /// DMARC (`'Name' via list <list@…>`), the poster in Reply-To.
    ListFromRewritten,
    /// A self-hosted list (Mailman 3) re-sent a post with its footer and
    /// subject tag: the poster's DKIM broke, DMARC failed under the
    /// poster's `p=none`, and the list sealed ARC as its own domain (a
    /// sealer the org does not list as trusted).
    ListSealedDmarcNone,
}

impl HamVariant {
    /// Every variant.
    pub const ALL: [HamVariant; 11] = [
        HamVariant::Plain,
        HamVariant::QuotedCommaName,
        HamVariant::EncodedName,
        HamVariant::NameIsAddress,
        HamVariant::CommentName,
        HamVariant::SenderSameDomain,
        HamVariant::ResentFrom,
        HamVariant::ForwardedArc,
        HamVariant::ListArcDmarcNone,
        HamVariant::ListFromRewritten,
        HamVariant::ListSealedDmarcNone,
    ];

    /// The code written in labels.tsv's `variant` column.
    pub const fn code(self) -> &'static str {
        match self {
            HamVariant::Plain => "plain",
            HamVariant::QuotedCommaName => "quoted_comma_name",
            HamVariant::EncodedName => "encoded_name",
            HamVariant::NameIsAddress => "name_is_address",
            HamVariant::CommentName => "comment_name",
            HamVariant::SenderSameDomain => "sender_same_domain",
            HamVariant::ResentFrom => "resent_from",
            HamVariant::ForwardedArc => "forwarded_arc",
            HamVariant::ListArcDmarcNone => "list_arc_dmarc_none",
            HamVariant::ListFromRewritten => "list_from_rewritten",
            HamVariant::ListSealedDmarcNone => "list_sealed_dmarc_none",
        }
    }
}

/// Share of the ham of a kind that has variants which gets one.
const UNUSUAL_SHARE: f64 = 0.3;

/// The variant of a ham message of `kind` from `sender`: for a list
/// sealed by a provider (`sealer` not empty) by the poster's DMARC policy;
/// otherwise, for the kinds people write, one of theirs at
/// [`UNUSUAL_SHARE`].
pub fn choose(
    rng: &mut ChaCha8Rng,
    kind: &str,
    sender: &Person,
    sealer: &str,
    poster_policy: &str,
) -> HamVariant {
    if kind == "mailing_list" {
        return match (sealer.is_empty(), poster_policy) {
            (true, _) => HamVariant::Plain,
            (false, "none") => HamVariant::ListArcDmarcNone,
            (false, _) => HamVariant::ListFromRewritten,
        };
    }
    let names = names_of(sender);
    let choices: Vec<HamVariant> = match kind {
        "internal_thread" => [
            names,
            vec![
                HamVariant::NameIsAddress,
                HamVariant::CommentName,
                HamVariant::SenderSameDomain,
            ],
        ]
        .concat(),
        "vendor_invoice" => [
            names,
            vec![
                HamVariant::NameIsAddress,
                HamVariant::SenderSameDomain,
                HamVariant::ResentFrom,
                HamVariant::ForwardedArc,
            ],
        ]
        .concat(),
        "calendar" => [names, vec![HamVariant::SenderSameDomain]].concat(),
        _ => Vec::new(),
    };
    if choices.is_empty() || !rng.gen_bool(UNUSUAL_SHARE) {
        return HamVariant::Plain;
    }
    choices.choose(rng).copied().unwrap_or(HamVariant::Plain)
}

/// The name variants that fit `sender`'s name: a comma form for a Western
/// "First Last", encoded words for any.
fn names_of(sender: &Person) -> Vec<HamVariant> {
    let western = sender.name.is_ascii() && sender.name.split_whitespace().count() == 2;
    if western {
        vec![HamVariant::QuotedCommaName, HamVariant::EncodedName]
    } else {
        vec![HamVariant::EncodedName]
    }
}

/// The From value of `sender` as `variant` writes it.
pub fn from_value(rng: &mut ChaCha8Rng, variant: HamVariant, sender: &Person) -> String {
    let (name, address) = (sender.name.as_str(), sender.address.as_str());
    match variant {
        HamVariant::QuotedCommaName => {
            let parts: Vec<&str> = name.split_whitespace().collect();
            match parts.as_slice() {
                [first, last] => mailbox(&format!("{last}, {first}"), address),
                _ => mailbox(name, address),
            }
        }
        HamVariant::EncodedName => {
            let charset = ["UTF-8", "utf-8"][rng.gen_range(0..2)];
            let encoding = ['B', 'Q', 'b'][rng.gen_range(0..3)];
            let shown = if name.contains(' ') && rng.gen_bool(0.7) {
                folded_encoded_words(name, charset, encoding)
            } else {
                encoded_word(name, charset, encoding)
            };
            format!("{shown} <{address}>")
        }
        HamVariant::NameIsAddress => {
            if rng.gen_bool(0.5) {
                format!("\"{address}\" <{address}>")
            } else {
                mailbox(&format!("{name} ({address})"), address)
            }
        }
        // RFC 2047 allows encoded words in comments.
        HamVariant::CommentName if name.is_ascii() => format!("{address} ({name})"),
        HamVariant::CommentName => {
            format!("{address} ({})", encoded_word(name, "UTF-8", 'B'))
        }
        _ => mailbox(name, address),
    }
}

/// Someone of `sender`'s domain who sends for them: a colleague among
/// `people`, else a role mailbox of the domain.
pub fn on_behalf(rng: &mut ChaCha8Rng, sender: &Person, people: &[Person]) -> Person {
    let same: Vec<&Person> = people
        .iter()
        .filter(|p| p.domain() == sender.domain() && p.address != sender.address)
        .collect();
    if let Some(p) = same.choose(rng) {
        return (*p).clone();
    }
    let role = ["assistant", "billing", "office", "invoices"][rng.gen_range(0..4)];
    Person {
        name: String::new(),
        address: format!("{role}@{}", sender.domain()),
        title: String::new(),
        company: sender.company.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn person(name: &str, address: &str) -> Person {
        Person {
            name: name.into(),
            address: address.into(),
            title: String::new(),
            company: String::new(),
        }
    }

    #[test]
    fn every_name_form_parses_back_to_the_same_address() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let people = [
            person("Daniel Brandt", "d.brandt@kestrelfoods.com"),
            person("山田 太郎", "t.yamada@kestrelfoods.co.jp"),
        ];
        for p in &people {
            for v in [
                HamVariant::QuotedCommaName,
                HamVariant::EncodedName,
                HamVariant::NameIsAddress,
                HamVariant::CommentName,
            ] {
                for _ in 0..6 {
                    let value = from_value(&mut rng, v, p);
                    let raw = format!("From: {value}\n\nbody\n");
                    let m = mail_parser::MessageParser::default()
                        .parse(raw.as_bytes())
                        .unwrap();
                    let from = m.from().and_then(|a| a.first()).unwrap();
                    assert_eq!(from.address(), Some(p.address.as_str()), "{v:?}: {value}");
                    if v == HamVariant::EncodedName {
                        assert_eq!(from.name(), Some(p.name.as_str()), "{value}");
                    }
                }
            }
        }
        let comma = from_value(&mut rng, HamVariant::QuotedCommaName, &people[0]);
        assert_eq!(comma, "\"Brandt, Daniel\" <d.brandt@kestrelfoods.com>");
    }

    #[test]
    fn someone_on_behalf_is_of_the_same_domain_and_not_the_author() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let ceo = person("Daniel Brandt", "d.brandt@kestrelfoods.com");
        let staff = [
            ceo.clone(),
            person("Aisha Bello", "a.bello@kestrelfoods.com"),
        ];
        assert_eq!(
            on_behalf(&mut rng, &ceo, &staff).address,
            "a.bello@kestrelfoods.com"
        );
        let alone = person("Rita Alvarez", "accounts@greenvale-produce.com");
        let role = on_behalf(&mut rng, &alone, &staff);
        assert!(role.address.ends_with("@greenvale-produce.com"));
        assert_ne!(role.address, alone.address);
    }
}
