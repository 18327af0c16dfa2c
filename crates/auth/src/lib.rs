//! Live sender authentication: SPF, every DKIM signature, DMARC (policy,
//! alignment, organisational domain) and the ARC chain verified over DNS
//! with mail-auth, and what DNS says of the From and envelope domains
//! (NXDOMAIN, no mail host). The result fills
//! [`impostor_features::Inputs`] (`auth` with source `live`, `domains`)
//! before extraction, and a gateway writes it as its own
//! Authentication-Results header ([`header`]).
//!
//! This crate does DNS I/O, which the features crate never does: it asks
//! only the one resolver its [`VerifierConfig`] names (never the system's
//! resolver, never any other address), with a per-query time limit and a
//! bounded cache. A DNS failure is `temperror`, which reads as unknown,
//! never as fail: an outage must not make honest mail look forged.
//!
//! What it deliberately does not do: decide what a result means for the
//! verdict (features and the model do), read Authentication-Results headers
//! (the features crate's trust chain does), sign, seal or send mail, or
//! cache anything on disk.
//!
//! - [`config`]: [`VerifierConfig`] (checked at construction), built from
//!   the org TOML's `[dns]` table ([`impostor_features::DnsSettings`]) and
//!   `--resolver`.
//! - [`verifier`]: [`Verifier`] (async [`Verifier::verify`] and
//!   [`Verifier::verify_blocking`] for worker threads), [`Subject`] (what
//!   is checked: client IP, HELO, MAIL FROM, the From domain) and
//!   [`Enrichment`] (the result).
//! - [`header`]: the Authentication-Results value a gateway adds, and
//!   which incoming copies claim its authserv-id.
//! - [`cache`]: the bounded record cache.
//! - `loopback` (feature `loopback`): an authoritative Knot DNS server on
//!   127.0.0.1 with zones written at run time, DKIM keys and a signer, for
//!   tests and benchmarks.

#![deny(missing_docs)]

pub mod cache;
pub mod config;
mod error;
pub mod header;
#[cfg(feature = "loopback")]
pub mod loopback;
pub mod verifier;

pub use config::{parse_resolver, VerifierConfig, DEFAULT_AUTHSERV_ID};
pub use error::AuthError;
pub use verifier::{Enrichment, Subject, Verifier};
