//! The detectors an evaluation can run, one file each: Impostor and its
//! ablations, and the baselines.

pub mod authentication;
pub mod impostor;
pub mod keywords;

pub use authentication::AuthenticationOnly;
pub use impostor::{Impostor, Part};
pub use keywords::Keywords;
