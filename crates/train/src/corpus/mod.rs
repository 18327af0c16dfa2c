//! Corpora: indexing messages into a manifest, grouping duplicates,
//! splitting without leakage, and probing whether sources can be told apart.

pub mod digests;
pub mod duplicates;
pub mod label;
pub mod manifest;
pub mod probe;
pub mod split;
pub mod summary;
pub mod surface;

pub use label::Label;
pub use manifest::{
    generated_labels, index_inputs, read_labels, read_manifest, write_manifest, Index,
    IndexOptions, ManifestRow,
};
pub use split::{assign, write_split, Side, SplitRule};
pub use summary::{summarise, Summary};
