//! The enrichment seam: everything extraction may know about a message
//! besides its bytes and the org [`crate::Context`], computed before
//! extraction by whoever holds it (a gateway's SMTP session, a live DNS
//! check, a sender-history store, a corpus replay). Features never do that
//! I/O themselves, so the same bytes, the same `Inputs` and the same
//! Context always give the same vector.

use crate::auth_results::AuthResults;
use crate::message::Envelope;
use crate::sender_history::HistorySnapshot;
use serde::Serialize;

/// What is known about one message besides its bytes.
///
/// The SMTP envelope, authentication verified live (SPF, DKIM, DMARC, ARC)
/// and what DNS said of the sender's domains; and a snapshot of the
/// sender's history. The struct is non-exhaustive so that adding
/// fields breaks no caller. Build it with [`Inputs::new`] or from an
/// [`Envelope`], then set the fields known.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Inputs {
    /// What the SMTP session said (MAIL FROM, client IP, HELO, RCPT), or
    /// an mbox separator's sender; empty when nobody knows.
    pub envelope: Envelope,
    /// Verdicts verified live before extraction. When set they replace
    /// what trusted Authentication-Results headers say; when `None` the
    /// headers of the org's trusted receivers are read.
    pub auth: Option<AuthResults>,
    /// What DNS said of the From and envelope domains (NXDOMAIN, no mail
    /// host); empty when nobody asked.
    pub domains: Vec<DomainStatus>,
    /// What the organisation's sender-history store knew about this
    /// message's sender, Reply-To, thread and bank accounts strictly
    /// before it; `None` when no store is used.
    pub history: Option<HistorySnapshot>,
}

/// What DNS said of one sender domain. `None` fields are unknown (not
/// asked, or the lookup failed): never evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DomainStatus {
    /// The domain asked about, normalised (lower case, punycode).
    pub domain: String,
    /// `Some(false)`: the name does not exist (NXDOMAIN).
    pub exists: Option<bool>,
    /// `Some(false)`: it has no MX, and no A or AAAA to fall back on, so
    /// no mail can be sent back to it.
    pub accepts_mail: Option<bool>,
}

impl Inputs {
    /// Inputs that hold only the envelope.
    pub fn new(envelope: Envelope) -> Inputs {
        Inputs {
            envelope,
            auth: None,
            domains: Vec::new(),
            history: None,
        }
    }
}

impl From<Envelope> for Inputs {
    fn from(envelope: Envelope) -> Inputs {
        Inputs::new(envelope)
    }
}
