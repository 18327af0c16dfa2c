//! The detectors an evaluation can run, one file each: Impostor and its
//! ablations, and the baselines (authentication only, keywords, and the
//! peer filters SpamAssassin and Rspamd).

pub mod authentication;
pub mod impostor;
pub mod keywords;
pub mod peers;
pub mod rspamd;
pub mod spamassassin;

pub use authentication::AuthenticationOnly;
pub use impostor::{Impostor, Part};
pub use keywords::Keywords;
pub use peers::PeerConfig;
pub use rspamd::Rspamd;
pub use spamassassin::SpamAssassin;
