//! Corpora: labelled mail as data a model may be fitted and measured on.
//!
//! What it does: [`index_inputs`] reads every message of the inputs once
//! into a manifest row (label, technique, date, SHA-1, Message-ID, body
//! hash, duplicate group, error); [`duplicates`] groups copies (same bytes,
//! Message-ID or body); [`split`] assigns train / test sides by time,
//! source or a seeded hash without ever separating a group; [`probe`] and
//! [`surface`] measure whether sources can be told apart by surface traits
//! alone (the leakage warning); [`gen`] writes labelled synthetic mail: ham
//! of an example organisation and the five attack techniques injected into
//! ham, reproducible byte for byte from a seed; [`feedback`] writes
//! messages users reported into a labelled directory for retraining.
//!
//! What it deliberately does not do: parse mail or compute features beyond
//! the surface traits of the probe (that is `impostor-features`), read
//! archives (`impostor-mailsource`), or fit or score models
//! (`impostor-train`, `impostor-model`).

#![deny(missing_docs)]

pub mod error;
pub mod gen;

pub mod digests;
pub mod duplicates;
pub mod feedback;
pub mod label;
pub mod manifest;
pub mod probe;
pub mod progress;
pub mod split;
pub mod summary;
pub mod surface;

pub use error::CorpusError;
pub use label::Label;
pub use manifest::{
    check_inputs, generated_labels, index_inputs, index_inputs_with, read_labels, read_manifest,
    write_manifest, Index, IndexOptions, ManifestRow,
};
pub use progress::{Progress, Silent, Stage};
pub use split::{assign, write_split, Side, SplitRule};
pub use summary::{summarise, Summary};
