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
//! - [`fleet`]: a model repository, hosted over HTTP, and the follower a
//!   gateway polls it with: download within bounds, verify, signature,
//!   canary, then swap (the old model keeps serving on any refusal).
//! - [`http`]: the HTTP service (axum): /v1/scan, /healthz, /metrics.
//! - [`milter`]: the milter front end (Postfix / Sendmail): headers,
//!   quarantine or an SMTP rejection by level, bounded and time-limited;
//!   with a Verifier, its own Authentication-Results header (forged copies
//!   claiming its authserv-id removed); mail the organisation's users
//!   submit (`{daemon_name}` ORIGINATING) is learnt as sent mail and never
//!   rejected.
//! - [`tenant`]: per-tenant org profiles (a provider's several
//!   organisations), chosen by the envelope recipients' domains.
//! - [`verdict_log`]: one NDJSON line per verdict (time, SHA-256,
//!   Message-ID, verdict, model), appended so workers never interleave.
//!
//! What it deliberately does not do: score, verify artifacts or define
//! verdicts (all `impostor-model`, which training and evaluation share), or
//! pull in polars, linfa or plotters. It is the one library that links GPL
//! code (indymilter, GPL-3.0-or-later), so nothing but the binary depends
//! on it.

#![deny(missing_docs)]

pub mod engine;
pub mod fleet;
pub mod http;
pub mod milter;
pub mod tenant;
pub mod verdict_log;

pub use engine::{DmarcFailure, Engine, HistoryMode, Judgement, Origin, Prepared, SharedEngine};
