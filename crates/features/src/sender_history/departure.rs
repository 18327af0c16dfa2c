//! The `history_*` features: how a message departs from what the
//! organisation's mail says of its sender (first contact, a new network,
//! client or hour, a first payment request, an unknown bank account, new
//! link domains, a thread nobody saw, a correspondent's lookalike), and
//! account compromise: a genuine mailbox that departs while it asks for
//! money, credentials or changed details.

use super::{HistorySnapshot, MessageFacts, MIN_HOUR_MESSAGES, MIN_PROFILE_MESSAGES};
use crate::context::Context;
use crate::evidence::{Evidence, Technique};
use crate::schema::{Feature, FeatureVector};

/// Internal recipients from which an internal message is a broadcast.
const BROADCAST_RECIPIENTS: u32 = 5;

/// Sets the history features of one message in `vector` and explains them
/// in `evidence`, from its facts and what the store knew before it.
///
/// Also decides, with the history, whether an authenticated internal
/// mailbox sending lure words is compromised: when its behaviour fits its
/// history `internal_sender_lure_flag` is withdrawn (with its evidence),
/// because an IT notice from the IT desk's usual network and client is not
/// an attack. Without a warm store nothing changes.
pub fn extract(
    facts: &MessageFacts,
    snapshot: &HistorySnapshot,
    ctx: &Context,
    vector: &mut FeatureVector,
    evidence: &mut Vec<Evidence>,
) {
    if !snapshot.is_warm() {
        return;
    }
    let mut log = Log { vector, evidence };
    let who = facts
        .sender_address
        .as_deref()
        .or(facts.sender_key.as_deref())
        .unwrap_or("the sender")
        .to_string();
    let profile = snapshot.sender.as_ref();
    let sent = profile.map_or(0, |p| p.inbound);
    let established = sent >= MIN_PROFILE_MESSAGES;
    // Strong departures (a new network, client, Reply-To, an internal
    // broadcast, new link domains beside a sign-in request) are rare in
    // honest mail; weak ones (an odd hour, an unseen thread, new link
    // domains otherwise, a first payment request) are not, so compromise
    // needs one strong or two weak.
    let mut departures: Vec<&'static str> = Vec::new();
    let mut strong = 0;
    let mut weak = 0;

    if facts.sender_key.is_some() && profile.is_none() && !facts.flow.is_from_inside() {
        log.flag(
            Feature::HistoryFirstContact,
            None,
            format!("first message ever from {who}"),
        );
    }
    if !facts.flow.is_from_inside()
        && !facts.sender_internal
        && facts.sender_key.is_some()
        && profile.is_none_or(|p| p.outbound == 0)
    {
        log.flag(
            Feature::HistoryNeverWrittenTo,
            None,
            format!("the organisation has never written to {who}"),
        );
    }
    let unknown_reply_to: Vec<&str> = facts
        .reply_to_keys
        .iter()
        .zip(&snapshot.reply_to_known)
        .filter(|(k, known)| {
            !**known && profile.is_none_or(|p| !p.reply_to.contains_key(k.as_str()))
        })
        .map(|(k, _)| k.as_str())
        .collect();
    if !unknown_reply_to.is_empty() {
        departures.push("a Reply-To never seen");
        strong += 1;
        log.flag(
            Feature::HistoryReplyToFirstContact,
            None,
            format!(
                "Reply-To {} has never been seen in the organisation's mail",
                unknown_reply_to.join(", ")
            ),
        );
    }

    if let Some(p) = profile.filter(|_| established) {
        if facts.sender_internal {
            if let Some(net) = &facts.network {
                let counted: u64 = p.networks.values().map(|&n| u64::from(n)).sum();
                if counted >= MIN_PROFILE_MESSAGES && !p.networks.contains_key(net) {
                    departures.push("a new network");
                    strong += 1;
                    log.flag(
                        Feature::HistoryNewNetwork,
                        Some(Technique::AccountCompromise),
                        format!(
                            "{who} has never sent from {net}; its {counted} earlier messages came from {}",
                            join_words(&p.usual_networks(3))
                        ),
                    );
                }
            }
            if let Some(client) = &facts.client {
                let counted: u64 = p.clients.values().map(|&n| u64::from(n)).sum();
                if counted >= MIN_PROFILE_MESSAGES && !p.clients.contains_key(client) {
                    departures.push("a new mail client");
                    strong += 1;
                    log.flag(
                        Feature::HistoryNewClient,
                        Some(Technique::AccountCompromise),
                        format!(
                            "{who} has never written with \"{client}\"; it uses {}",
                            join_words(&p.usual_clients(2))
                        ),
                    );
                }
            }
        }
        if let Some(hour) = facts.hour_of_week {
            let counted = p.hours_counted();
            if counted >= MIN_HOUR_MESSAGES && p.messages_near_hour(hour) == 0 {
                departures.push("an unusual hour");
                weak += 1;
                log.flag(
                    Feature::HistoryUnusualHour,
                    None,
                    format!(
                        "none of {who}'s {counted} earlier messages was sent within an hour of {} UTC",
                        describe_hour(hour)
                    ),
                );
            }
        }
        if facts.asks_payment && p.payment_requests == 0 {
            departures.push("its first payment request");
            weak += 1;
            log.flag(
                Feature::HistoryFirstPaymentRequest,
                None,
                format!("{who}'s first payment request in {sent} messages"),
            );
        }
        if facts.asks_bank_change && p.bank_change_requests == 0 {
            // What is asked, not a departure from habit: every honest
            // change of bank details is a first one too.
            log.flag(
                Feature::HistoryFirstBankChange,
                None,
                format!("{who}'s first change of bank details in {sent} messages"),
            );
        }
        let unknown_accounts = snapshot.bank_accounts_known.iter().filter(|k| !**k).count();
        let all_unknown = !snapshot.bank_accounts_known.is_empty()
            && unknown_accounts == snapshot.bank_accounts_known.len();
        if all_unknown && (!p.bank_accounts.is_empty() || facts.asks_bank_change) {
            // A change announces a new account by definition; only an
            // account changed without saying so departs from habit.
            if !facts.asks_bank_change {
                departures.push("a bank account it never gave");
                weak += 1;
            }
            log.flag(
                Feature::HistoryUnknownBankAccount,
                None,
                format!(
                    "the bank account in this message is not one {who} has given before ({} known)",
                    p.bank_accounts.len()
                ),
            );
        }
        let own = facts.sender_key.as_deref().map(sender_domain);
        let new_links: Vec<&str> = facts
            .link_domains
            .iter()
            .filter(|d| !p.link_domains.contains_key(d.as_str()))
            .filter(|d| Some(d.as_str()) != own && !ctx.is_internal(d) && !ctx.is_tenant_host(d))
            .map(String::as_str)
            .collect();
        if !new_links.is_empty() {
            departures.push("links to domains it never sent");
            if facts.asks_credentials {
                strong += 1;
            } else {
                weak += 1;
            }
            log.set(
                Feature::HistoryNewLinkDomainCount,
                new_links.len() as f32,
                None,
                format!(
                    "{who} has never sent a link to {} in {sent} messages",
                    join_words(&new_links)
                ),
            );
            if facts.sender_internal && facts.internal_recipients >= BROADCAST_RECIPIENTS {
                strong += 1;
                log.flag(
                    Feature::HistoryInternalBroadcastNewLink,
                    Some(Technique::AccountCompromise),
                    format!(
                        "{who} sends {} internal recipients a link to {}, a domain it never sent",
                        facts.internal_recipients,
                        join_words(&new_links)
                    ),
                );
            }
        }
    }

    // The organisation's own replies name what it received hours ago,
    // which the store may not have learnt yet: only inbound mail can
    // invent a thread.
    if !facts.flow.is_from_inside()
        && !facts.references.is_empty()
        && snapshot.thread_known == Some(false)
    {
        departures.push("a reply to a message nobody here received");
        weak += 1;
        log.flag(
            Feature::HistoryUnknownThread,
            None,
            "In-Reply-To / References name no message the organisation has seen".into(),
        );
    }
    for imitation in &snapshot.imitated_correspondents {
        log.flag(
            Feature::HistoryCorrespondentLookalike,
            Some(Technique::LookalikeDomain),
            format!(
                "{} looks like {}, a domain the organisation corresponds with ({})",
                imitation.domain, imitation.correspondent, imitation.how
            ),
        );
    }

    // A genuine mailbox: internal and not failing authentication, or an
    // authenticated correspondent with a history.
    let genuine =
        facts.sender_internal && !facts.sender_failed || facts.sender_verified && established;
    let asks = facts.asks_payment || facts.asks_bank_change || facts.asks_credentials;
    // Mail for the security desk alone (a forwarded phish) reaches no
    // victim: its lure words and links are the report's subject.
    let reported = log.vector.get(Feature::OnlyToReportMailbox) > 0.0;
    if genuine && asks && established && !reported {
        if strong == 0 && weak < 2 {
            if log.vector.get(Feature::InternalSenderLure) > 0.0 {
                // Its behaviour fits its history: lure words alone from a
                // mailbox acting as it always does are not compromise.
                log.vector.set_flag(Feature::InternalSenderLure, false);
                log.evidence
                    .retain(|e| e.feature != Feature::InternalSenderLure);
            }
        } else {
            log.flag(
                Feature::HistoryAccountCompromise,
                Some(Technique::AccountCompromise),
                format!(
                    "{who} is a genuine mailbox with {sent} earlier messages, and this one asks for {} from {}",
                    asked(facts),
                    join_words(&departures)
                ),
            );
        }
    }
    if facts.sender_verified
        && established
        && departures.is_empty()
        && profile.is_some_and(|p| p.outbound > 0)
    {
        log.vector
            .set_flag(Feature::HistoryKnownCorrespondent, true);
    }
}

/// What the message asks for, in words.
fn asked(facts: &MessageFacts) -> &'static str {
    if facts.asks_bank_change {
        "changed bank details"
    } else if facts.asks_payment {
        "a payment"
    } else {
        "credentials or gift cards"
    }
}

/// The domain of a sender key (an address's domain, or the key itself).
fn sender_domain(key: &str) -> &str {
    key.rsplit_once('@').map_or(key, |(_, d)| d)
}

fn describe_hour(hour: u16) -> String {
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let day = DAYS.get(usize::from(hour / 24) % 7).unwrap_or(&"");
    format!("{day} {:02}:00", hour % 24)
}

fn join_words(items: &[&str]) -> String {
    match items {
        [] => "nowhere recorded".into(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

struct Log<'a> {
    vector: &'a mut FeatureVector,
    evidence: &'a mut Vec<Evidence>,
}

impl Log<'_> {
    fn flag(&mut self, feature: Feature, technique: Option<Technique>, detail: String) {
        self.set(feature, 1.0, technique, detail);
    }

    fn set(&mut self, feature: Feature, value: f32, technique: Option<Technique>, detail: String) {
        if self.vector.get(feature) > 0.0 {
            return;
        }
        self.vector.set(feature, value);
        self.evidence.push(Evidence {
            feature,
            technique,
            detail: crate::evidence::bounded(detail),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::OrgProfile;
    use crate::sender_history::{Flow, SenderProfile, MIN_LEARNED_MESSAGES};

    fn kestrel() -> Context {
        let org = OrgProfile {
            internal_domains: vec!["kestrelfoods.com".into()],
            ..OrgProfile::default()
        };
        Context::builder(org).build().unwrap()
    }

    /// An internal mailbox with 30 messages from its office network and
    /// client, at Monday 09:00 UTC, linking to its intranet.
    fn habits() -> SenderProfile {
        let usual = MessageFacts {
            time: Some(0),
            network: Some("10.20.3.0/24".into()),
            client: Some("microsoft outlook".into()),
            hour_of_week: Some(9),
            link_domains: vec!["kestrelfoods.com".into()],
            ..MessageFacts::default()
        };
        let mut p = SenderProfile::new("k.tanaka@kestrelfoods.com", 0);
        for _ in 0..30 {
            p.learn_sent(&usual, &[], false);
        }
        p
    }

    fn from_tanaka() -> MessageFacts {
        MessageFacts {
            time: Some(100),
            sender_key: Some("k.tanaka@kestrelfoods.com".into()),
            sender_address: Some("k.tanaka@kestrelfoods.com".into()),
            sender_internal: true,
            sender_verified: true,
            flow: Flow::Internal,
            network: Some("10.20.3.0/24".into()),
            client: Some("microsoft outlook".into()),
            hour_of_week: Some(9),
            asks_credentials: true,
            ..MessageFacts::default()
        }
    }

    fn warm(sender: Option<SenderProfile>) -> HistorySnapshot {
        HistorySnapshot {
            learned_messages: MIN_LEARNED_MESSAGES,
            sender,
            ..HistorySnapshot::default()
        }
    }

    fn run(
        facts: &MessageFacts,
        snapshot: &HistorySnapshot,
        lure: bool,
    ) -> (FeatureVector, Vec<Evidence>) {
        let mut v = FeatureVector::default();
        v.set_flag(Feature::InternalSenderLure, lure);
        let mut evidence = Vec::new();
        extract(facts, snapshot, &kestrel(), &mut v, &mut evidence);
        (v, evidence)
    }

    #[test]
    fn a_takeover_from_a_new_network_is_compromise_with_the_networks_in_words() {
        let mut facts = from_tanaka();
        facts.network = Some("185.220.101.0/24".into());
        let (v, evidence) = run(&facts, &warm(Some(habits())), true);
        assert_eq!(v.get(Feature::HistoryNewNetwork), 1.0);
        assert_eq!(v.get(Feature::HistoryAccountCompromise), 1.0);
        let why = evidence
            .iter()
            .find(|e| e.feature == Feature::HistoryNewNetwork)
            .unwrap();
        assert!(
            why.detail.contains("185.220.101.0/24") && why.detail.contains("10.20.3.0/24"),
            "{}",
            why.detail
        );
        assert_eq!(why.technique, Some(Technique::AccountCompromise));
    }

    #[test]
    fn lure_words_from_a_mailbox_acting_as_always_are_not_compromise() {
        let (v, evidence) = run(&from_tanaka(), &warm(Some(habits())), true);
        assert_eq!(v.get(Feature::HistoryAccountCompromise), 0.0);
        assert_eq!(v.get(Feature::InternalSenderLure), 0.0);
        assert!(evidence
            .iter()
            .all(|e| e.feature != Feature::InternalSenderLure));
    }

    #[test]
    fn one_weak_departure_is_not_enough_but_two_are() {
        let mut facts = from_tanaka();
        facts.hour_of_week = Some(75);
        let (v, _) = run(&facts, &warm(Some(habits())), false);
        assert_eq!(v.get(Feature::HistoryUnusualHour), 1.0);
        assert_eq!(v.get(Feature::HistoryAccountCompromise), 0.0);
        facts.asks_credentials = false;
        facts.asks_payment = true;
        let (v, _) = run(&facts, &warm(Some(habits())), false);
        assert_eq!(v.get(Feature::HistoryFirstPaymentRequest), 1.0);
        assert_eq!(v.get(Feature::HistoryAccountCompromise), 1.0);
    }

    #[test]
    fn a_cold_store_says_nothing() {
        let mut facts = from_tanaka();
        facts.network = Some("185.220.101.0/24".into());
        let mut cold = warm(None);
        cold.learned_messages = MIN_LEARNED_MESSAGES - 1;
        let (v, evidence) = run(&facts, &cold, true);
        assert_eq!(v.get(Feature::InternalSenderLure), 1.0);
        assert!(evidence.is_empty());
    }

    #[test]
    fn an_unknown_vendor_is_a_first_contact_never_written_to() {
        let facts = MessageFacts {
            sender_key: Some("greenvaie.com".into()),
            reply_to_keys: vec!["pay-desk.com".into()],
            ..MessageFacts::default()
        };
        let mut snapshot = warm(None);
        snapshot.reply_to_known = vec![false];
        snapshot.imitated_correspondents = vec![crate::sender_history::ImitatedCorrespondent {
            domain: "greenvaie.com".into(),
            correspondent: "greenvale.com".into(),
            how: "letter replaced".into(),
        }];
        let (v, evidence) = run(&facts, &snapshot, false);
        for f in [
            Feature::HistoryFirstContact,
            Feature::HistoryNeverWrittenTo,
            Feature::HistoryReplyToFirstContact,
            Feature::HistoryCorrespondentLookalike,
        ] {
            assert_eq!(v.get(f), 1.0, "{}", f.name());
        }
        assert!(evidence
            .iter()
            .any(|e| e.technique == Some(Technique::LookalikeDomain)));
    }

    #[test]
    fn a_known_correspondent_behaving_as_always_is_vouched_for_and_a_departure_withdraws_it() {
        let mut p = habits();
        p.key = "greenvale.com".into();
        p.learn_written_to(50);
        let facts = MessageFacts {
            sender_key: Some("greenvale.com".into()),
            sender_verified: true,
            hour_of_week: Some(9),
            ..MessageFacts::default()
        };
        let (v, _) = run(&facts, &warm(Some(p.clone())), false);
        assert_eq!(v.get(Feature::HistoryKnownCorrespondent), 1.0);
        let mut odd = facts.clone();
        odd.link_domains = vec!["elsewhere.example".into()];
        let (v, _) = run(&odd, &warm(Some(p)), false);
        assert_eq!(v.get(Feature::HistoryKnownCorrespondent), 0.0);
        assert_eq!(v.get(Feature::HistoryNewLinkDomainCount), 1.0);
    }
}
