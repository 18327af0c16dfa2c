//! The organisation's sender history: for each correspondent (a full
//! address for internal and free-mail mailboxes, a registrable domain
//! otherwise) when it was first and last seen, how often it wrote and was
//! written to, and for its messages the submission networks, clients,
//! hours of the week, link domains, Reply-To addresses, payment and
//! bank-change requests and (salted, hashed) bank accounts; and the
//! Message-IDs the organisation has seen, hashed.
//!
//! [`History`] holds the logic over one [`Store`]: it answers a message's
//! [`MessageFacts`] with a [`HistorySnapshot`] (what was known strictly
//! before it), and learns each message only after a delay, so an attacker
//! cannot warm an address by writing first. Three backends implement
//! [`Store`] alike and pass one test suite: [`MemoryStore`] (replays),
//! [`FileStore`] (the embedded default: one redb file) and
//! [`RedisStore`] (several gateways sharing one view).
//!
//! What this crate does not do: read mail or compute features (the
//! features crate reads a view into facts and turns a snapshot into
//! features, purely); keep message text (addresses, domains, networks and
//! hashes only); decide verdicts.
//!
//! [`MessageFacts`]: impostor_features::sender_history::MessageFacts
//! [`HistorySnapshot`]: impostor_features::sender_history::HistorySnapshot

#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]
#![deny(missing_docs)]

mod error;
pub mod file_store;
mod history;
mod memory;
pub mod redis_store;
mod replay;
mod store;

pub use error::HistoryError;
pub use file_store::FileStore;
pub use history::{CheckedHistoryParams, History, HistoryParams, HistoryStats};
pub use memory::MemoryStore;
pub use redis_store::RedisStore;
pub use replay::{replay, replay_group, ReplayItem};
pub use store::{is_correspondent, Expired, Observation, Store};
