//! What can go wrong setting up or running live verification.

use std::net::SocketAddr;

/// An error of live verification: a configuration that cannot work, or a
/// fault while verifying one message. DNS failures are not errors: they
/// are `temperror` results.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The resolver address cannot be read.
    #[error("resolver {given:?} is not IP:PORT or IP (for example 127.0.0.1:53 or [::1]:5353)")]
    ResolverAddress {
        /// What was given.
        given: String,
    },
    /// Port 0 reaches no server.
    #[error("resolver {0} has port 0; give the port the DNS server listens on")]
    ResolverPort(SocketAddr),
    /// A zero per-query time limit would fail every lookup.
    #[error("the DNS timeouts (timeout_ms per query, message_timeout_ms per message) must be at least 1 ms")]
    ZeroTimeout,
    /// A query must be sent at least once.
    #[error("DNS attempts must be at least 1")]
    ZeroAttempts,
    /// The cache needs room for at least one record per kind.
    #[error("the DNS cache must hold at least 1 entry (cache_entries)")]
    ZeroCache,
    /// The authserv-id goes into a header: it must be a bare token.
    #[error("authserv-id {0:?} must be a host name: letters, digits, '.', '-' and '_' only, 1 to 255 characters")]
    AuthservId(String),
    /// A trusted ARC sealer must be a domain name.
    #[error("trusted ARC sealer {0:?} is not a domain name")]
    Sealer(String),
    /// The runtime that runs the DNS queries could not start.
    #[error("cannot start the DNS runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The resolver could not be built.
    #[error("cannot set up the resolver at {addr}: {reason}")]
    Resolver {
        /// The resolver asked for.
        addr: SocketAddr,
        /// What went wrong.
        reason: String,
    },
    /// A fault of ours while verifying this message (a contained panic).
    #[error("internal error while verifying the message: {0}")]
    Internal(String),
}
