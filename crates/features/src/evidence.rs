//! Evidence: the sentences behind a feature, for explanations.

use crate::schema::Feature;
use serde::{Deserialize, Serialize};

/// The five forging techniques of design.md §3, with their fixed codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Technique {
    /// The envelope sender (MAIL FROM, Return-Path) claims a domain the
    /// sending host may not send for.
    EnvelopeFromSpoof,
    /// The envelope is the attacker's own; the From a reader sees (or
    /// Sender, Resent-From, an ambiguous From) claims someone else's domain.
    HeaderFromSpoof,
    /// A sender identity or a link uses a domain made to look like a
    /// protected one.
    LookalikeDomain,
    /// A high-profile user's or partner's name on a free-mail or otherwise
    /// unrelated address.
    FreemailImpersonation,
    /// A genuinely authenticated internal mailbox sends phishing or
    /// payment-diversion mail.
    AccountCompromise,
}

impl Technique {
    /// Every technique, in code order.
    pub const ALL: [Technique; 5] = [
        Technique::EnvelopeFromSpoof,
        Technique::HeaderFromSpoof,
        Technique::LookalikeDomain,
        Technique::FreemailImpersonation,
        Technique::AccountCompromise,
    ];

    /// The code used in every output (`scan`, reports, datasets).
    pub const fn code(self) -> &'static str {
        match self {
            Technique::EnvelopeFromSpoof => "envelope_from_spoof",
            Technique::HeaderFromSpoof => "header_from_spoof",
            Technique::LookalikeDomain => "lookalike_domain",
            Technique::FreemailImpersonation => "freemail_impersonation",
            Technique::AccountCompromise => "account_compromise",
        }
    }

    /// The technique of a [`Technique::code`]; None for any other text.
    pub fn from_code(code: &str) -> Option<Technique> {
        Technique::ALL.into_iter().find(|t| t.code() == code)
    }
}

/// Why a feature took its value, in words an administrator can act on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    /// The feature this explains.
    #[serde(serialize_with = "feature_name")]
    pub feature: Feature,
    /// The technique it points to, if it points to one by itself.
    pub technique: Option<Technique>,
    /// A sentence naming the header, domain or phrase concerned.
    pub detail: String,
}

fn feature_name<S: serde::Serializer>(f: &Feature, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.name())
}

/// Longest evidence sentence kept, in bytes: parts of it are quoted from the
/// message, and one header may hold megabytes.
const MAX_DETAIL_BYTES: usize = 1024;

/// `detail` cut to [`MAX_DETAIL_BYTES`], marked with an ellipsis.
pub(crate) fn bounded(mut detail: String) -> String {
    if detail.len() > MAX_DETAIL_BYTES {
        let keep = crate::html::truncate_at_char(&detail, MAX_DETAIL_BYTES - 3).len();
        detail.truncate(keep);
        detail.push('…');
    }
    detail
}

/// Collects evidence while the feature families run.
#[derive(Default, Debug)]
pub(crate) struct EvidenceLog {
    pub items: Vec<Evidence>,
}

impl EvidenceLog {
    pub fn add(&mut self, feature: Feature, technique: Option<Technique>, detail: String) {
        self.items.push(Evidence {
            feature,
            technique,
            detail: bounded(detail),
        });
    }
}
