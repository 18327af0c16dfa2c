//! The options naming the peer filters (SpamAssassin, Rspamd) an
//! evaluation compares with.

use clap::Args;
use impostor_eval::detectors::peers::{PeerConfig, DEFAULT_RSPAMD, DEFAULT_SPAMD};
use std::time::Duration;

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
    #[arg(long, value_name = "MS", default_value_t = PeerConfig::default().timeout.as_millis() as u64)]
    pub peer_timeout_ms: u64,
}

impl PeerArgs {
    /// The peers these options name; turned off, the report says by
    /// which flag.
    pub fn config(&self) -> PeerConfig {
        PeerConfig {
            spamd: self.spamd.clone(),
            rspamd: self.rspamd.clone(),
            timeout: Duration::from_millis(self.peer_timeout_ms),
            off: self.no_peers.then(|| "--no-peers".to_string()),
        }
    }
}
