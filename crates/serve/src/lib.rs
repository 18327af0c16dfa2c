//! Loads and verifies a model artifact and fronts the one Detector as `scan`,
//! an HTTP service and a milter.
//!
//! Today it holds [`verdict`]: the scan output contract of design.md §5 (the
//! score, level, techniques and reasons of one message, and the flat NDJSON
//! record `impostor scan` prints). Artifact loading, the Detector and the
//! HTTP and milter front ends arrive with the gateway issue.
//!
//! What it deliberately does not do: train (that is `impostor-train`), or
//! pull in polars, linfa or plotters. A mail gateway links features, the
//! artifact reader and its front end, nothing heavier.

pub mod verdict;

pub use verdict::{Level, Reason, ScanRecord, Verdict};
