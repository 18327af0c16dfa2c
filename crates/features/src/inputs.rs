//! The enrichment seam: everything extraction may know about a message
//! besides its bytes and the org [`crate::Context`], computed before
//! extraction by whoever holds it (a gateway's SMTP session, a live DNS
//! check, a sender-history store, a corpus replay). Features never do that
//! I/O themselves, so the same bytes, the same `Inputs` and the same
//! Context always give the same vector.

use crate::message::Envelope;

/// What is known about one message besides its bytes.
///
/// Today that is the SMTP envelope. Authentication verdicts computed live
/// (SPF, DKIM, DMARC, ARC) and a snapshot of the sender's history join it
/// as further fields; the struct is non-exhaustive so that adding them
/// breaks no caller. Build it with [`Inputs::new`] or from an
/// [`Envelope`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Inputs {
    /// What the SMTP session said (MAIL FROM, client IP, HELO, RCPT), or
    /// an mbox separator's sender; empty when nobody knows.
    pub envelope: Envelope,
}

impl Inputs {
    /// Inputs that hold only the envelope.
    pub fn new(envelope: Envelope) -> Inputs {
        Inputs { envelope }
    }
}

impl From<Envelope> for Inputs {
    fn from(envelope: Envelope) -> Inputs {
        Inputs::new(envelope)
    }
}
