//! The detectors an evaluation can run, one file each.

pub mod rspamd;
pub mod spamassassin;

pub use rspamd::Rspamd;
pub use spamassassin::SpamAssassin;
