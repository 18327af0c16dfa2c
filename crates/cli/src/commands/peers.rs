//! Connecting to the peer filters (SpamAssassin, Rspamd) an evaluation
//! compares with; one that does not answer is skipped, with the reason.

use clap::Args;
use impostor_eval::detectors::{Rspamd, SpamAssassin};
use impostor_eval::report::Skipped;
use impostor_eval::Detector;
use std::ffi::OsString;
use std::net::ToSocketAddrs;
use std::time::Duration;

/// Where `scripts/baselines.sh start` puts them by default.
pub const DEFAULT_SPAMD: &str = "127.0.0.1:17830";
pub const DEFAULT_RSPAMD: &str = "http://127.0.0.1:17833";

/// Where the peer filters answer.
#[derive(Args, Debug, Clone)]
pub struct PeerArgs {
    /// spamd's address (SpamAssassin).
    #[arg(long, value_name = "HOST:PORT", default_value = DEFAULT_SPAMD)]
    pub spamd: String,
    /// Rspamd's normal worker.
    #[arg(long, value_name = "URL", default_value = DEFAULT_RSPAMD)]
    pub rspamd: String,
    /// Run no peer filter (SpamAssassin, Rspamd).
    #[arg(long)]
    pub no_peers: bool,
    /// Per-message time limit for a peer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub peer_timeout_ms: u64,
}

impl PeerArgs {
    /// The same options as arguments, to hand on to another command.
    pub fn argv(&self) -> Vec<OsString> {
        let mut out: Vec<OsString> = [
            "--spamd",
            &self.spamd,
            "--rspamd",
            &self.rspamd,
            "--peer-timeout-ms",
            &self.peer_timeout_ms.to_string(),
        ]
        .iter()
        .map(OsString::from)
        .collect();
        if self.no_peers {
            out.push("--no-peers".into());
        }
        out
    }

    /// The peers that answer; the others, skipped with why.
    pub fn connect(&self) -> (Vec<Box<dyn Detector>>, Vec<Skipped>) {
        connect(
            self.no_peers,
            &self.spamd,
            &self.rspamd,
            Duration::from_millis(self.peer_timeout_ms),
        )
    }
}

/// The peers that answer; the others, skipped with why.
fn connect(
    off: bool,
    spamd: &str,
    rspamd: &str,
    timeout: Duration,
) -> (Vec<Box<dyn Detector>>, Vec<Skipped>) {
    let mut found: Vec<Box<dyn Detector>> = Vec::new();
    let mut skipped = Vec::new();
    let mut skip = |detector: &str, reason: String| {
        skipped.push(Skipped {
            detector: detector.into(),
            reason,
        })
    };
    if off {
        skip("spamassassin", "--no-peers".into());
        skip("rspamd", "--no-peers".into());
        return (found, skipped);
    }
    // The detectors' errors say how to start them; add what they need.
    let start = "it needs Debian's spamassassin, spamc, spamd and rspamd packages";
    match spamd.to_socket_addrs().ok().and_then(|mut a| a.next()) {
        None => skip(
            "spamassassin",
            format!("--spamd {spamd} is not a HOST:PORT address"),
        ),
        Some(addr) => match SpamAssassin::connect(addr, timeout) {
            Ok(sa) => found.push(Box::new(sa)),
            Err(e) => skip("spamassassin", format!("{e}; {start}")),
        },
    }
    match Rspamd::connect(rspamd, timeout) {
        Ok(r) => found.push(Box::new(r)),
        Err(e) => skip("rspamd", format!("{e}; {start}")),
    }
    (found, skipped)
}
