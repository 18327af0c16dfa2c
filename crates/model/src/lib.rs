//! The model: expert rules, the one scoring function, verdicts with
//! reasons, the artifact that carries a trained model, the statistics
//! training and evaluation both report, and the one way outputs are
//! written.
//!
//! - [`rules`]: the expert rules, read from a declarative file and resolved
//!   against the feature schema (an unknown feature is refused at load);
//!   some set a floor (`floor = "flagged"`): evidence that is declared, not
//!   learned.
//! - [`model`]: the learned numbers and the one scoring implementation
//!   (rule hits and classifier → calibrated probability → level), and
//!   [`Model::floored`], the one place the fired rules' floors apply.
//! - [`detector`]: a model turned into verdicts with ranked reasons.
//! - [`verdict`]: the scan output contract of design.md §5.
//! - [`artifact`]: the model artifact of design.md §6, written whole or not
//!   at all, and verified (SHA-256 of every file, format version, feature
//!   schema) before it is used; the default model built into the binary.
//! - [`canary`]: labelled messages shipped in an artifact with the
//!   verdicts it gave them, run again by a gateway before it swaps the
//!   model in.
//! - [`signing`]: Ed25519 key files, the artifact's signature over its
//!   manifest (which covers every file), and the loading that, given
//!   trusted keys, refuses an artifact no trusted key signed.
//! - [`stats`]: rates with Wilson intervals, one [`Interval`] type, ROC /
//!   PR ranking metrics and a seeded bootstrap, column standardisation.
//! - [`atomic`]: every writer of the workspace goes through it (a
//!   temporary file or directory, flushed, renamed into place).
//!
//! What it deliberately does not do: parse mail or compute features (that
//! is `impostor-features`), fit anything (`impostor-train` produces the
//! numbers), serve (`impostor-serve`), or link an async runtime, polars,
//! linfa, plotters or any GPL code: training, evaluation and a gateway all
//! link it.
//!
//! # Example
//!
//! Judge one message with the built-in default model, under the example
//! organisation the `impostor` command uses when given no `--org`:
//!
//! ```
//! use impostor_features::{Context, Extractor, Inputs, OrgProfile, Technique};
//! use impostor_model::{artifact, Detector, Level};
//! use std::path::Path;
//!
//! // The model built into the binary, verified like one read from disk.
//! let model = artifact::builtin()?.model;
//! let detector = Detector::new(model);
//!
//! let org = OrgProfile::from_toml(
//!     include_str!("../../../datasets/orgs/kestrel-foods.toml"),
//!     Path::new("kestrel-foods.toml"),
//! )?;
//! let context = Context::builder(org).build()?;
//!
//! // The CEO's name on a free-mail address, asking for gift cards.
//! let message = b"From: Daniel Brandt <daniel.brandt.ceo@gmail.com>\r\n\
//! To: p.raman@kestrelfoods.com\r\n\
//! Subject: Quick favour\r\n\
//! Message-ID: <1@example.net>\r\n\
//! \r\n\
//! Are you at your desk? I need you to buy six gift cards for a client\r\n\
//! today and send me the codes. Keep this between us.\r\n";
//! // No SMTP envelope or other enrichment: the message bytes alone.
//! let (_view, extraction) =
//!     Extractor::new(&context).extract_bytes(message, &Inputs::default())?;
//! let verdict = detector.verdict(&extraction);
//!
//! // A probability, its level, and `flagged` from the model's default level.
//! assert!((0.0..=1.0).contains(&verdict.score));
//! assert_eq!(verdict.level, detector.model().level(verdict.score));
//! assert_eq!(verdict.flagged, verdict.level >= detector.model().default_level());
//!
//! // This one is flagged, named for what it is, and explained.
//! assert!(verdict.flagged && verdict.level > Level::None);
//! assert!(verdict.techniques.contains(&Technique::FreemailImpersonation));
//! assert!(verdict.reasons.iter().any(|r| r.code == "vip_name_freemail"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
// Rule and artifact files are input too: no slicing that can panic.
#![cfg_attr(not(test), deny(clippy::string_slice))]

pub mod artifact;
pub mod atomic;
pub mod canary;
pub mod detector;
pub mod error;
pub mod model;
pub mod rules;
pub mod signing;
pub mod stats;
pub mod verdict;

pub use artifact::Artifact;
pub use detector::Detector;
pub use error::ModelError;
pub use model::{Model, ModelParams, Score};
pub use rules::{Floor, RuleSet, BUILTIN_RULES};
pub use signing::{PublicKey, SecretKey, TrustedKeys};
pub use stats::{Interval, Rate};
pub use verdict::{Level, Reason, ScanRecord, Verdict};
