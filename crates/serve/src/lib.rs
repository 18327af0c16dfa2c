//! The gateway: the one Engine (a model and an org's Context: raw message
//! and envelope → verdict) behind `scan`, an HTTP service and a milter,
//! with hot reload of a verified model.
//!
//! - [`engine`]: raw message + envelope → verdict, under an org's Context,
//!   verified live first when an [`impostor_auth::Verifier`] is set, and
//!   judged against the organisation's sender history (then observed by
//!   it) when an [`impostor_history::History`] is set; a history failure
//!   never fails a message;
//!   the [`engine::SharedEngine`] every front end holds it in, and
//!   [`engine::watch_model`] (reload on SIGHUP or a changed artifact,
//!   verified first).
//! - [`http`]: the HTTP service (axum): /v1/scan, /healthz, /metrics.
//! - [`milter`]: the milter front end (Postfix / Sendmail): headers,
//!   quarantine or an SMTP rejection by level, bounded and time-limited;
//!   with a Verifier, its own Authentication-Results header (forged copies
//!   claiming its authserv-id removed); mail the organisation's users
//!   submit (`{daemon_name}` ORIGINATING) is learnt as sent mail and never
//!   rejected.
//!
//! What it deliberately does not do: score, verify artifacts or define
//! verdicts (all `impostor-model`, which training and evaluation share), or
//! pull in polars, linfa or plotters. It is the one library that links GPL
//! code (indymilter, GPL-3.0-or-later), so nothing but the binary depends
//! on it.

#![deny(missing_docs)]

pub mod engine;
pub mod http;
pub mod milter;

pub use engine::{DmarcFailure, Engine, HistoryMode, Judgement, Origin, Prepared, SharedEngine};
