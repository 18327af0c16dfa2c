//! Connecting to the peer filters (SpamAssassin through spamd, Rspamd
//! through /checkv2) an evaluation compares with; one that does not answer
//! is skipped, with the reason, and the run goes on.

use super::{Rspamd, SpamAssassin};
use crate::report::Skipped;
use crate::Detector;
use std::net::ToSocketAddrs;
use std::time::Duration;

/// Where `scripts/baselines.sh start` puts spamd by default.
pub const DEFAULT_SPAMD: &str = "127.0.0.1:17830";
/// Where `scripts/baselines.sh start` puts Rspamd's normal worker by default.
pub const DEFAULT_RSPAMD: &str = "http://127.0.0.1:17833";

/// Where the peer filters answer, and whether to ask them.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerConfig {
    /// spamd's address, HOST:PORT.
    pub spamd: String,
    /// Rspamd's normal worker: a URL, or HOST:PORT.
    pub rspamd: String,
    /// Per-message time limit for a peer.
    pub timeout: Duration,
    /// Ask no peer; the reason the report gives for skipping them (the
    /// caller's words for what turned them off).
    pub off: Option<String>,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            spamd: DEFAULT_SPAMD.into(),
            rspamd: DEFAULT_RSPAMD.into(),
            timeout: Duration::from_secs(30),
            off: None,
        }
    }
}

impl PeerConfig {
    /// The peers that answer; the others, skipped with why.
    pub fn connect(&self) -> (Vec<Box<dyn Detector>>, Vec<Skipped>) {
        let mut found: Vec<Box<dyn Detector>> = Vec::new();
        let mut skipped = Vec::new();
        let mut skip = |detector: &str, reason: String| {
            skipped.push(Skipped {
                detector: detector.into(),
                reason,
            })
        };
        if let Some(why) = &self.off {
            skip("spamassassin", why.clone());
            skip("rspamd", why.clone());
            return (found, skipped);
        }
        // The detectors' errors say how to start them; add what they need.
        let start = "it needs Debian's spamassassin, spamc, spamd and rspamd packages";
        match self.spamd.to_socket_addrs().ok().and_then(|mut a| a.next()) {
            None => skip(
                "spamassassin",
                format!("spamd's address {} is not HOST:PORT", self.spamd),
            ),
            Some(addr) => match SpamAssassin::connect(addr, self.timeout) {
                Ok(sa) => found.push(Box::new(sa)),
                Err(e) => skip("spamassassin", format!("{e}; {start}")),
            },
        }
        match Rspamd::connect(&self.rspamd, self.timeout) {
            Ok(r) => found.push(Box::new(r)),
            Err(e) => skip("rspamd", format!("{e}; {start}")),
        }
        (found, skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_turned_off_are_both_skipped_with_the_callers_reason() {
        let config = PeerConfig {
            off: Some("--no-peers".into()),
            ..PeerConfig::default()
        };
        let (found, skipped) = config.connect();
        assert!(found.is_empty());
        let reasons: Vec<(&str, &str)> = skipped
            .iter()
            .map(|s| (s.detector.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [("spamassassin", "--no-peers"), ("rspamd", "--no-peers")]
        );
    }

    #[test]
    fn a_spamd_address_that_is_not_host_and_port_is_skipped_and_says_so() {
        let config = PeerConfig {
            spamd: "no port here".into(),
            rspamd: "http://127.0.0.1:1".into(),
            timeout: Duration::from_millis(200),
            off: None,
        };
        let (found, skipped) = config.connect();
        assert!(found.is_empty());
        assert!(
            skipped[0].reason.contains("no port here") && skipped[0].reason.contains("HOST:PORT"),
            "{:?}",
            skipped[0]
        );
        assert_eq!(skipped[1].detector, "rspamd");
    }
}
