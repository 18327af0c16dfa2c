//! The one trait every detector under evaluation implements: ours, its
//! ablations, and the baselines. Adding a baseline is one file in
//! `detectors/` implementing [`Detector`].

use impostor_features::Extraction;
use thiserror::Error;

/// One message as the detectors see it.
pub struct Sample<'a> {
    /// The message as stored: what a mail server would receive.
    pub raw: &'a [u8],
    /// Its features under the org's context, extracted once and shared by
    /// every in-process detector ([`Detector::needs_features`]). `None`
    /// when the message could not be parsed.
    pub extraction: Option<&'a Extraction>,
}

impl<'a> Sample<'a> {
    /// The features, for a detector that reads them; an error when the
    /// message could not be parsed.
    pub fn features(&self) -> Result<&'a Extraction, DetectorError> {
        self.extraction
            .ok_or_else(|| DetectorError::Unparseable("no features".into()))
    }
}

/// A detector's judgement of one message.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// Higher means more suspicious, in the detector's own units
    /// (probability, SpamAssassin points, Rspamd score, hit count). Only
    /// its order within one detector is compared.
    pub score: f64,
    /// The detector's own decision at its own operating point (Impostor's
    /// default level, SpamAssassin's required score, Rspamd's action).
    /// `None` for a detector that has no decision of its own (an ablation).
    pub flagged: Option<bool>,
    /// The rules or symbols that fired, by the detector's own names.
    pub hits: Vec<String>,
}

/// Why a detector could not judge a message (that message only) or
/// could not start.
#[derive(Debug, Error)]
pub enum DetectorError {
    /// The message could not be parsed (in-process detectors).
    #[error("the message could not be parsed: {0}")]
    Unparseable(String),
    /// A peer filter could not be reached, timed out or answered nonsense.
    #[error("{detector} at {address}: {what}")]
    Peer {
        /// The peer (`spamassassin`, `rspamd`).
        detector: String,
        /// Where it was asked.
        address: String,
        /// What went wrong.
        what: String,
    },
}

/// Something that scores messages. Implementations must be callable from
/// several threads at once.
pub trait Detector: Send + Sync {
    /// Stable identifier used in metrics.json and file names
    /// (`impostor`, `spamassassin`, `rspamd`, `auth_only` …).
    fn name(&self) -> &str;
    /// One paragraph for the report: what it is (version), how it was
    /// configured, and the decision rule behind `flagged`.
    fn description(&self) -> String;
    /// Whether [`Sample::extraction`] is read (then a message that cannot
    /// be parsed is an error for this detector).
    fn needs_features(&self) -> bool {
        false
    }
    /// A peer filter on the network, whose throughput includes a loopback
    /// round trip.
    fn is_peer(&self) -> bool {
        false
    }
    /// Judges one message; an error is this message's only, and counts as
    /// not flagged.
    fn judge(&self, sample: &Sample<'_>) -> Result<Judgement, DetectorError>;
}

/// At most the first `chars` characters of `s`: what a peer's nonsense
/// answer contributes to an error message.
pub(crate) fn clip(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
