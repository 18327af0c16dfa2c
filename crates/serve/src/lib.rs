//! Loads and verifies a model artifact and fronts the one Detector as `scan`,
//! an HTTP service and a milter.
//!
//! - [`rules`]: the expert rules, read from a declarative file and resolved
//!   against the feature schema (an unknown feature is refused at load).
//! - [`model`]: the learned numbers and the one scoring implementation
//!   (rule hits and classifier → calibrated probability → level).
//! - [`artifact`]: the model artifact of design.md §6, written whole or not
//!   at all, and verified (SHA-256 of every file, format version, feature
//!   schema) before it is used.
//! - [`detector`]: a model turned into verdicts with ranked reasons.
//! - [`engine`]: raw message + envelope → verdict, under an org's Context;
//!   what `scan`, the HTTP service and the milter call.
//! - [`verdict`]: the scan output contract of design.md §5.
//! - [`milter`]: the milter front end (Postfix / Sendmail): headers,
//!   quarantine or an SMTP rejection by level, bounded and time-limited.
//! - [`http`]: the HTTP service (axum): /v1/scan, /healthz, /metrics, and
//!   hot reload of a verified model.
//!
//! What it deliberately does not do: train (that is `impostor-train`), or
//! pull in polars, linfa or plotters. A mail gateway links features, the
//! artifact reader and its front end, nothing heavier.

pub mod artifact;
pub mod detector;
pub mod engine;
pub mod error;
pub mod http;
pub mod milter;
pub mod model;
pub mod rules;
pub mod verdict;

pub use artifact::Artifact;
pub use detector::Detector;
pub use engine::Engine;
pub use error::ServeError;
pub use model::{Model, ModelParams, Score};
pub use rules::{RuleSet, BUILTIN_RULES};
pub use verdict::{Level, Reason, ScanRecord, Verdict};

#[cfg(test)]
mod tests {
    /// A gateway links this crate: it must stay free of the training and
    /// plotting stacks (design.md §1). Checked on the manifests of this
    /// crate and of the one workspace crate it links.
    #[test]
    fn no_training_or_plotting_dependencies() {
        for manifest in [
            include_str!("../Cargo.toml"),
            include_str!("../../features/Cargo.toml"),
        ] {
            let deps = manifest
                .split("[dependencies]")
                .nth(1)
                .unwrap_or("")
                .split("\n[")
                .next()
                .unwrap_or("");
            for banned in [
                "polars",
                "linfa",
                "plotters",
                "ndarray",
                "impostor-train",
                "impostor-eval",
            ] {
                assert!(
                    !deps.lines().any(|l| l.trim_start().starts_with(banned)),
                    "a gateway dependency pulls in {banned}"
                );
            }
        }
    }
}
