//! Connecting to the peer filters (SpamAssassin, Rspamd) an evaluation
//! compares with; one that does not answer is skipped, with the reason.

use impostor_eval::report::Skipped;
use impostor_eval::Detector;
use std::time::Duration;

pub fn connect(
    off: bool,
    _spamd: &str,
    _rspamd: &str,
    _timeout: Duration,
) -> (Vec<Box<dyn Detector>>, Vec<Skipped>) {
    let why = if off {
        "--no-peers".to_string()
    } else {
        "not yet built".to_string()
    };
    (
        Vec::new(),
        ["spamassassin", "rspamd"]
            .map(|d| Skipped {
                detector: d.into(),
                reason: why.clone(),
            })
            .to_vec(),
    )
}
