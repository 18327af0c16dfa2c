//! One sender's habits, as a history store keeps them: counts, networks,
//! clients, hours, link domains, Reply-To addresses, payment requests and
//! hashed bank accounts. Addresses, domains and hashes only, never text;
//! every collection is bounded.

use super::{Flow, MessageFacts, UnixTime};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Hours in a week: the length of [`SenderProfile::hours`].
pub const HOURS_PER_WEEK: usize = 168;

/// Most networks, clients, link domains and Reply-To addresses kept per
/// sender; past it the rarest is forgotten.
const MAX_ENTRIES: usize = 64;

/// Most bank account hashes kept per sender.
const MAX_ACCOUNTS: usize = 32;

/// What the organisation's mail says of one sender key (a mailbox or a
/// domain, see [`MessageFacts::sender_key`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SenderProfile {
    /// The key: an address or a registrable domain.
    pub key: String,
    /// When the key was first seen, as sender or recipient.
    pub first_seen: UnixTime,
    /// When it was last seen.
    pub last_seen: UnixTime,
    /// Messages received from it.
    pub inbound: u64,
    /// Messages the organisation sent to it (it is "solicited").
    pub outbound: u64,
    /// When the organisation last wrote to it.
    pub last_outbound: Option<UnixTime>,
    /// Submission networks (CIDR) with their message counts.
    pub networks: BTreeMap<String, u32>,
    /// Mail clients with their message counts.
    pub clients: BTreeMap<String, u32>,
    /// Messages per hour of the week (UTC), [`HOURS_PER_WEEK`] long once
    /// any is counted.
    pub hours: Vec<u32>,
    /// Link domains it has sent, with counts.
    pub link_domains: BTreeMap<String, u32>,
    /// Reply-To keys its messages carried, with counts.
    pub reply_to: BTreeMap<String, u32>,
    /// Its messages that asked for or discussed a payment.
    pub payment_requests: u64,
    /// Its messages that announced changed bank details.
    pub bank_change_requests: u64,
    /// Its bank accounts, as salted hashes (hex).
    pub bank_accounts: BTreeSet<String>,
    /// Its messages a detector flagged.
    pub flagged: u64,
}

impl SenderProfile {
    /// A profile first seen at `time`.
    pub fn new(key: &str, time: UnixTime) -> SenderProfile {
        SenderProfile {
            key: key.to_string(),
            first_seen: time,
            last_seen: time,
            ..SenderProfile::default()
        }
    }

    /// Learns one message this sender sent. `account_hashes` are the
    /// facts' bank accounts hashed with the store's salt; `flagged` is
    /// whether a detector flagged it.
    pub fn learn_sent(&mut self, facts: &MessageFacts, account_hashes: &[String], flagged: bool) {
        let time = facts.time.unwrap_or(self.last_seen);
        self.seen_at(time);
        self.inbound += 1;
        if let Some(n) = &facts.network {
            bump(&mut self.networks, n);
        }
        if let Some(c) = &facts.client {
            bump(&mut self.clients, c);
        }
        if let Some(h) = facts.hour_of_week {
            if self.hours.len() != HOURS_PER_WEEK {
                self.hours = vec![0; HOURS_PER_WEEK];
            }
            if let Some(slot) = self.hours.get_mut(usize::from(h)) {
                *slot = slot.saturating_add(1);
            }
        }
        for d in &facts.link_domains {
            bump(&mut self.link_domains, d);
        }
        for r in &facts.reply_to_keys {
            bump(&mut self.reply_to, r);
        }
        self.payment_requests += u64::from(facts.asks_payment);
        self.bank_change_requests += u64::from(facts.asks_bank_change);
        for h in account_hashes {
            if self.bank_accounts.len() < MAX_ACCOUNTS {
                self.bank_accounts.insert(h.clone());
            }
        }
        self.flagged += u64::from(flagged);
    }

    /// Learns that the organisation wrote to this key at `time`.
    pub fn learn_written_to(&mut self, time: UnixTime) {
        self.seen_at(time);
        self.outbound += 1;
        self.last_outbound = Some(self.last_outbound.map_or(time, |t| t.max(time)));
    }

    /// Messages it sent whose hour of the week is known.
    pub fn hours_counted(&self) -> u64 {
        self.hours.iter().map(|&h| u64::from(h)).sum()
    }

    /// Its messages sent within one hour of `hour` (of the week, wrapping).
    pub fn messages_near_hour(&self, hour: u16) -> u64 {
        if self.hours.len() != HOURS_PER_WEEK {
            return 0;
        }
        let h = usize::from(hour) % HOURS_PER_WEEK;
        [HOURS_PER_WEEK - 1, 0, 1]
            .iter()
            .filter_map(|d| self.hours.get((h + d) % HOURS_PER_WEEK))
            .map(|&n| u64::from(n))
            .sum()
    }

    fn seen_at(&mut self, time: UnixTime) {
        self.first_seen = self.first_seen.min(time);
        self.last_seen = self.last_seen.max(time);
    }

    /// The networks it sent from, most used first, for sentences.
    pub fn usual_networks(&self, most: usize) -> Vec<&str> {
        most_used(&self.networks, most)
    }

    /// The clients it sent with, most used first.
    pub fn usual_clients(&self, most: usize) -> Vec<&str> {
        most_used(&self.clients, most)
    }
}

impl Flow {
    /// Whether the message comes from an internal mailbox.
    pub fn is_from_inside(self) -> bool {
        matches!(self, Flow::Outbound | Flow::Internal)
    }
}

/// Counts one more `key`; past [`MAX_ENTRIES`] the rarest entry (the
/// last in name order among equals) is forgotten, never the new one.
fn bump(map: &mut BTreeMap<String, u32>, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n = n.saturating_add(1);
        return;
    }
    if map.len() >= MAX_ENTRIES {
        let rarest = map
            .iter()
            .min_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(k, _)| k.clone());
        if let Some(k) = rarest {
            map.remove(&k);
        }
    }
    map.insert(key.to_string(), 1);
}

fn most_used(map: &BTreeMap<String, u32>, most: usize) -> Vec<&str> {
    let mut v: Vec<(&String, &u32)> = map.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.into_iter().take(most).map(|(k, _)| k.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_message_counts_its_network_hour_and_links() {
        let facts = MessageFacts {
            time: Some(1_000),
            network: Some("203.0.113.0/24".into()),
            hour_of_week: Some(10),
            link_domains: vec!["example.com".into()],
            asks_payment: true,
            ..MessageFacts::default()
        };
        let mut p = SenderProfile::new("a@example.org", 1_000);
        p.learn_sent(&facts, &["h1".into()], false);
        p.learn_sent(&facts, &[], true);
        assert_eq!(p.inbound, 2);
        assert_eq!(p.networks["203.0.113.0/24"], 2);
        assert_eq!(p.messages_near_hour(11), 2);
        assert_eq!(p.messages_near_hour(12), 0);
        assert_eq!(p.payment_requests, 2);
        assert_eq!(p.flagged, 1);
        assert!(p.bank_accounts.contains("h1"));
    }

    #[test]
    fn a_full_map_forgets_its_rarest_entry_not_the_new_one() {
        let mut m = BTreeMap::new();
        for i in 0..MAX_ENTRIES {
            bump(&mut m, &format!("d{i:03}"));
            bump(&mut m, &format!("d{i:03}"));
        }
        bump(&mut m, "d000");
        bump(&mut m, "new");
        assert_eq!(m.len(), MAX_ENTRIES);
        assert!(m.contains_key("new") && m.contains_key("d000"));
    }

    #[test]
    fn hours_wrap_around_the_end_of_the_week() {
        let mut p = SenderProfile::new("k", 0);
        let facts = MessageFacts {
            hour_of_week: Some(167),
            ..MessageFacts::default()
        };
        p.learn_sent(&facts, &[], false);
        assert_eq!(p.messages_near_hour(0), 1);
    }
}
