//! Sender history: what the organisation's earlier mail says about this
//! message's sender, as plain data.
//!
//! Three types cross the enrichment seam. [`MessageFacts`] is what one
//! message tells a history store (read purely from the view by
//! [`MessageFacts::read`]); a store answers with a [`HistorySnapshot`]
//! (the sender's [`SenderProfile`] and a few yes/no answers about the
//! message's Reply-To, thread and bank accounts); [`extract`] turns facts
//! and snapshot into the `history_*` features. The store itself (embedded
//! file or Redis, the delay before an observation counts, expiry) is the
//! `impostor-history` crate's; nothing here does I/O.

mod departure;
mod facts;
mod profile;

pub use departure::extract;
pub use facts::{bank_accounts, history_key, is_reply_subject, network_of, quotes_header_block};
pub use profile::{SenderProfile, HOURS_PER_WEEK};

use serde::{Deserialize, Serialize};

/// Seconds since 1970-01-01 UTC.
pub type UnixTime = i64;

/// A store that has learnt fewer messages than this says nothing: on an
/// empty store every sender is a first contact.
pub const MIN_LEARNED_MESSAGES: u64 = 50;

/// A sender needs this many earlier messages before its departures from
/// habit (network, client, link domains, first payment request) count.
pub const MIN_PROFILE_MESSAGES: u64 = 5;

/// Hour-of-week habits need this many earlier messages.
pub const MIN_HOUR_MESSAGES: u64 = 20;

/// Which way a message goes, as the organisation sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// From outside the organisation to it.
    #[default]
    Inbound,
    /// From an internal mailbox to someone outside ("sent" mail): makes
    /// its recipients solicited correspondents.
    Outbound,
    /// From an internal mailbox to internal recipients only.
    Internal,
}

/// What one message tells the history, and what the history is asked
/// about it. Read from the view alone ([`MessageFacts::read`]); bank
/// account numbers are kept in clear only in memory, and a store hashes
/// them with its salt before writing anything.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageFacts {
    /// When it was written: the Date field, or the time a gateway
    /// received it (a caller may overwrite it with its clock).
    pub time: Option<UnixTime>,
    /// The history key of the From: the full address for internal and
    /// free-mail mailboxes, the registrable domain otherwise.
    pub sender_key: Option<String>,
    /// The From address itself (lower case), for sentences.
    pub sender_address: Option<String>,
    /// Whether the From is authenticated (an aligned DMARC, DKIM or SPF
    /// pass, trusted or live). Only then may the history vouch for it.
    pub sender_verified: bool,
    /// Whether authentication failed for the From (DMARC fail, or SPF and
    /// DKIM both failing for it): such a message teaches a store nothing.
    pub sender_failed: bool,
    /// Whether the From is one of the organisation's mailboxes.
    pub sender_internal: bool,
    /// Which way the message goes.
    pub flow: Flow,
    /// The recipients' history keys (envelope RCPT, else To and Cc).
    pub recipient_keys: Vec<String>,
    /// How many recipients are internal mailboxes.
    pub internal_recipients: u32,
    /// The submitting client's network: an IPv4 /24 or IPv6 /48 in CIDR
    /// notation (`203.0.113.0/24`), from the SMTP client or the trust
    /// boundary's Received hop.
    pub network: Option<String>,
    /// The mail client (X-Mailer or User-Agent), versions stripped.
    pub client: Option<String>,
    /// Hour of the week of `time` in UTC: 0 is Monday 00:00–00:59.
    pub hour_of_week: Option<u16>,
    /// Registrable domains of the body's links, each once.
    pub link_domains: Vec<String>,
    /// History keys of Reply-To addresses that are not the From.
    pub reply_to_keys: Vec<String>,
    /// The Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To and References ids, without angle brackets.
    pub references: Vec<String>,
    /// The subject reads as a reply or forward (RE:, FW:, AW:, SV:, 答复,
    /// 転送, …).
    pub reply_subject: bool,
    /// The body quotes an earlier message's header block (From:, Sent:,
    /// To:, Subject:).
    pub quoted_header_block: bool,
    /// The text asks for or discusses a payment.
    pub asks_payment: bool,
    /// The text announces changed bank, remittance or payroll details.
    pub asks_bank_change: bool,
    /// The text lures to a sign-in or asks for gift cards.
    pub asks_credentials: bool,
    /// Bank account numbers in the text (IBAN, account and routing
    /// numbers, 口座番号), normalised to letters and digits.
    pub bank_accounts: Vec<String>,
    /// Registrable domains of From, Reply-To and the envelope sender that
    /// are not the organisation's: checked against its correspondents.
    pub lookalike_candidates: Vec<String>,
}

/// What a history store knew, strictly before a message, about what the
/// message's [`MessageFacts`] name. Plain data: extraction reads it as an
/// input ([`crate::Inputs::history`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistorySnapshot {
    /// How many messages the store has learnt in all; below
    /// [`MIN_LEARNED_MESSAGES`] the history says nothing.
    pub learned_messages: u64,
    /// The sender's profile, `None` when the key was never seen.
    pub sender: Option<SenderProfile>,
    /// For each of the facts' `reply_to_keys`, in order: whether the
    /// store has seen that key (as a sender, or written to it).
    pub reply_to_known: Vec<bool>,
    /// `Some(true)` when any of the facts' `references` names a message
    /// the organisation has seen; `None` when there are no references.
    pub thread_known: Option<bool>,
    /// For each of the facts' `bank_accounts`, in order: whether the
    /// sender's profile holds it (compared as salted hashes).
    pub bank_accounts_known: Vec<bool>,
    /// Candidate domains that imitate a domain the organisation
    /// corresponds with.
    pub imitated_correspondents: Vec<ImitatedCorrespondent>,
}

/// A message's domain made to look like a correspondent's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImitatedCorrespondent {
    /// The message's domain.
    pub domain: String,
    /// The correspondent's domain it imitates.
    pub correspondent: String,
    /// How, in words ("letter replaced").
    pub how: String,
}

impl HistorySnapshot {
    /// Whether the store knows enough for its silence to mean something.
    pub fn is_warm(&self) -> bool {
        self.learned_messages >= MIN_LEARNED_MESSAGES
    }
}
