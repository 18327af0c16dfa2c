//! The example organisation's world: people, correspondents, bulk senders,
//! attackers' infrastructure, and the values templates are filled with.

use crate::error::CorpusError;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use std::collections::BTreeMap;

const BUILTIN_WORLD: &str = include_str!("../../../../datasets/gen/world.toml");

/// A mailbox with a name.
#[derive(Clone, Debug, Deserialize)]
pub struct Person {
    /// Display name.
    pub name: String,
    /// Mailbox address.
    pub address: String,
    /// Job title, e.g. `CFO`; empty when none is given.
    #[serde(default)]
    pub title: String,
    /// An external correspondent's company; empty for staff.
    #[serde(default)]
    pub company: String,
}

impl Person {
    /// The domain of the address; empty when it has no `@`.
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map_or("", |(_, d)| d)
    }
    /// The given name of a Western name, the whole name of a Japanese one
    /// (written with さん or 様 after it).
    pub fn first(&self) -> &str {
        if self.name.is_ascii() {
            self.name.split_whitespace().next().unwrap_or(&self.name)
        } else {
            &self.name
        }
    }
}

/// A newsletter, list, or service that mails the org in bulk.
#[derive(Clone, Debug, Deserialize)]
pub struct Bulk {
    /// `newsletter`, `mailing_list`, `sealed_list` (a self-hosted list
    /// that seals ARC as its own domain) or `esign`.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// The From address.
    pub address: String,
    /// The envelope sender (an ESP's or list's bounce address).
    pub return_path: String,
    /// A mailing list's List-Id; empty for other senders.
    #[serde(default)]
    pub list_id: String,
    /// The ARC sealer of a list hosted by a big provider (`google.com`):
    /// the list breaks the poster's DKIM and seals what it found; empty
    /// for a list that keeps the poster's DKIM intact.
    #[serde(default)]
    pub arc_sealer: String,
    /// The language its members write in: `en` (the default) or `ja`.
    #[serde(default = "english")]
    pub lang: String,
}

fn english() -> String {
    "en".into()
}

/// A role mailbox of the org (IT, HR, security) and who also sends its
/// notices from their own mailbox.
#[derive(Clone, Debug, Deserialize)]
pub struct Desk {
    /// `it`, `hr` or `security`.
    pub role: String,
    /// `en` or `ja`: the office it serves.
    pub lang: String,
    /// Display name.
    pub name: String,
    /// The role mailbox.
    pub address: String,
    /// An employee's address, or empty.
    #[serde(default)]
    pub staff: String,
}

/// A SaaS provider that notifies the org's staff of what a colleague did
/// (datasets/gen/world.toml says what each field means).
#[derive(Clone, Debug, Deserialize)]
pub struct Saas {
    /// The product's name, for `{service}`.
    pub product: String,
    /// `share`, `ticket`, `signature` or `mention`.
    pub notice: String,
    /// The From address: the provider's domain or the org's tenant on it.
    pub address: String,
    /// What follows the colleague's name in the display name; empty: the
    /// name alone.
    #[serde(default)]
    pub via: String,
    /// The envelope sender.
    pub return_path: String,
    /// The DKIM signing domain.
    pub dkim: String,
    /// The domain of the provider's sending hosts.
    pub mta: String,
    /// Where its links point.
    pub link_host: String,
    /// Whether Reply-To is the colleague who acted.
    #[serde(default)]
    pub reply_to_actor: bool,
    /// Whether it offers List-Unsubscribe.
    #[serde(default)]
    pub unsubscribe: bool,
}

/// Everyone and everything the generator writes about
/// (datasets/gen/world.toml). Lists marked "never empty" are checked when
/// it is read.
#[derive(Clone, Debug, Deserialize)]
pub struct World {
    /// The organisation's name, e.g. `Kestrel Foods`.
    pub org: String,
    /// The org's inbound mail host: the last Received hop of a delivery.
    pub mx: String,
    /// Staff who write in English; never empty.
    pub employee: Vec<Person>,
    /// Staff who write in Japanese; never empty.
    pub employee_ja: Vec<Person>,
    /// Correspondents outside the org (partners, vendors, a bank); never
    /// empty.
    pub external: Vec<Person>,
    /// Newsletters, mailing lists and e-signature services.
    pub bulk: Vec<Bulk>,
    /// Attackers' own domains (spoofs' envelopes, sending hosts); never
    /// empty.
    pub attacker_domains: Vec<String>,
    /// Free-mail domains an impersonator signs up at; never empty.
    pub freemail: Vec<String>,
    /// Hosts a credential lure links to; never empty.
    pub phish_hosts: Vec<String>,
    /// Vendor names for `{vendor}`, English.
    pub vendors: Vec<String>,
    /// Vendor names, Japanese.
    pub vendors_ja: Vec<String>,
    /// Bank names for `{bank_name}`, English.
    pub banks: Vec<String>,
    /// Bank names, Japanese.
    pub banks_ja: Vec<String>,
    /// City names for `{city}`, English.
    pub cities: Vec<String>,
    /// City names, Japanese.
    pub cities_ja: Vec<String>,
    /// Product names for `{product}`, English.
    pub products: Vec<String>,
    /// Product names, Japanese.
    pub products_ja: Vec<String>,
    /// The DMARC policy (`none`, `quarantine`, `reject`) each domain
    /// publishes; a domain not listed publishes `none`.
    #[serde(default)]
    pub dmarc_policy: BTreeMap<String, String>,
    /// Hosts of the org's sign-in (its identity provider's tenant too).
    #[serde(default)]
    pub sso_hosts: Vec<String>,
    /// Hosts of the org's intranet.
    #[serde(default)]
    pub intranet_hosts: Vec<String>,
    /// The org's role mailboxes.
    #[serde(default)]
    pub desk: Vec<Desk>,
    /// People outside the org who share a high-profile employee's name
    /// and write from free mail.
    #[serde(default)]
    pub namesake: Vec<Person>,
    /// Members of public lists at domains with DMARC p=none.
    #[serde(default)]
    pub list_member: Vec<Person>,
    /// SaaS providers that notify staff.
    #[serde(default)]
    pub saas: Vec<Saas>,
}

impl World {
    /// The world of datasets/gen/world.toml, built in.
    pub fn builtin() -> Result<World, CorpusError> {
        World::from_toml(BUILTIN_WORLD)
    }

    /// Reads a world; an error says what does not parse or which
    /// required list is empty.
    pub fn from_toml(text: &str) -> Result<World, CorpusError> {
        let world: World = toml::from_str(text).map_err(|source| CorpusError::GeneratorData {
            what: "world".into(),
            source,
        })?;
        let empty = [
            ("employee", world.employee.is_empty()),
            ("employee_ja", world.employee_ja.is_empty()),
            ("external", world.external.is_empty()),
            ("attacker_domains", world.attacker_domains.is_empty()),
            ("freemail", world.freemail.is_empty()),
            ("phish_hosts", world.phish_hosts.is_empty()),
            ("sso_hosts", world.sso_hosts.is_empty()),
            ("intranet_hosts", world.intranet_hosts.is_empty()),
            ("namesake", world.namesake.is_empty()),
            ("list_member", world.list_member.is_empty()),
            ("saas", world.saas.is_empty()),
        ];
        if let Some((name, _)) = empty.iter().find(|(_, e)| *e) {
            return Err(CorpusError::Invalid(format!(
                "generator world: {name} is empty"
            )));
        }
        Ok(world)
    }

    /// The DMARC policy `domain` publishes: its own entry, else its
    /// parent's (a subdomain falls under the organisation's record), else
    /// `none`.
    pub fn dmarc_policy_of(&self, domain: &str) -> &str {
        let mut d = domain;
        loop {
            if let Some(p) = self.dmarc_policy.get(d) {
                return p;
            }
            match d.split_once('.') {
                Some((_, parent)) if parent.contains('.') => d = parent,
                _ => return "none",
            }
        }
    }

    /// The bulk senders of `kind` (see [`Bulk::kind`]).
    pub fn bulk_of(&self, kind: &str) -> Vec<&Bulk> {
        self.bulk.iter().filter(|b| b.kind == kind).collect()
    }

    /// The role mailbox of `role` for the office writing `lang` (`en`,
    /// `ja`), as a person; `None` when the world has none.
    pub fn desk(&self, role: &str, lang: &str) -> Option<Person> {
        self.desk
            .iter()
            .find(|d| d.role == role && d.lang == lang)
            .map(|d| Person {
                name: d.name.clone(),
                address: d.address.clone(),
                title: String::new(),
                company: String::new(),
            })
    }

    /// The employee who also sends the notices of `role` for `lang`.
    pub fn desk_staff(&self, role: &str, lang: &str) -> Option<&Person> {
        let d = self
            .desk
            .iter()
            .find(|d| d.role == role && d.lang == lang)?;
        self.employee
            .iter()
            .chain(&self.employee_ja)
            .find(|p| p.address == d.staff)
    }
}

/// Someone of `staff` other than `not` (the next one along when the draw
/// falls on `not`).
pub fn colleague<'w>(rng: &mut ChaCha8Rng, staff: &'w [Person], not: &Person) -> &'w Person {
    let i = staff.choose(rng).map_or(0, |p| {
        staff
            .iter()
            .position(|q| q.address == p.address)
            .unwrap_or(0)
    });
    if staff[i].address == not.address {
        &staff[(i + 1) % staff.len()]
    } else {
        &staff[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_world_loads() {
        let w = World::builtin().unwrap();
        assert!(w.employee.len() >= 8);
        assert!(w.bulk_of("newsletter").len() >= 2);
        assert_eq!(w.employee[0].first(), "Daniel");
        assert_eq!(w.employee_ja[0].first(), "山田 太郎");
        assert_eq!(w.external[0].domain(), "coldchain-partners.eu");
        assert_eq!(w.dmarc_policy_of("kestrelfoods.com"), "reject");
        assert_eq!(w.dmarc_policy_of("mail.kestrelfoods.com"), "reject");
        assert_eq!(w.dmarc_policy_of("greenvale-produce.com"), "none");
        assert!(w.bulk.iter().any(|b| b.arc_sealer == "google.com"));
        for role in ["it", "hr", "security"] {
            for lang in ["en", "ja"] {
                let desk = w.desk(role, lang).unwrap();
                assert!(desk.domain().starts_with("kestrelfoods."), "{role} {lang}");
            }
        }
        assert_eq!(w.desk_staff("it", "en").unwrap().name, "Grace Liu");
        assert!(w.desk_staff("security", "en").is_none());
        assert_eq!(w.dmarc_policy_of("kestrelfoods.atlassian.net"), "none");
        for s in &w.saas {
            let (_, d) = s.address.rsplit_once('@').unwrap();
            assert!(
                d.ends_with(&s.dkim),
                "{}: DKIM aligned with From",
                s.product
            );
        }
    }
}
