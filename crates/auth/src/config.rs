//! How live verification is set up: the one resolver it asks, time limits,
//! cache size, trusted ARC sealers and the authserv-id a gateway writes.
//! The command line's `--resolver IP:PORT` and the org TOML's `[dns]`
//! table (read by impostor-features into [`DnsSettings`]) both end here.

use crate::error::AuthError;
use impostor_features::DnsSettings;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The default authserv-id of the Authentication-Results header written.
pub const DEFAULT_AUTHSERV_ID: &str = "impostor";

/// Live verification settings; [`crate::Verifier::new`] checks them
/// ([`VerifierConfig::check`]) and refuses what cannot work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierConfig {
    /// The only DNS server asked (recursive, or authoritative for every
    /// zone looked up). Never the system's resolver.
    pub resolver: SocketAddr,
    /// Time limit of one try of one query.
    pub timeout: Duration,
    /// Tries per query (1 = no retry).
    pub attempts: usize,
    /// Time limit of one message's whole verification; past it every
    /// check still open is `temperror`.
    pub message_timeout: Duration,
    /// Records kept per kind (TXT, MX, A, AAAA, PTR) and answers kept by
    /// the resolver; the least recently stored go first.
    pub cache_entries: usize,
    /// Domains whose ARC seal, when the chain validates, vouches for what
    /// a forwarder or mailing list changed (lower case).
    pub trusted_arc_sealers: Vec<String>,
    /// The authserv-id of the Authentication-Results header a gateway
    /// adds; incoming copies claiming it are forged and removed.
    pub authserv_id: String,
}

impl VerifierConfig {
    /// Defaults for everything but the resolver (those of
    /// [`DnsSettings`], and the authserv-id `impostor`).
    pub fn new(resolver: SocketAddr) -> VerifierConfig {
        VerifierConfig {
            resolver,
            timeout: Duration::from_millis(DnsSettings::DEFAULT_TIMEOUT_MS),
            attempts: DnsSettings::DEFAULT_ATTEMPTS,
            message_timeout: Duration::from_millis(DnsSettings::DEFAULT_MESSAGE_TIMEOUT_MS),
            cache_entries: DnsSettings::DEFAULT_CACHE_ENTRIES,
            trusted_arc_sealers: Vec::new(),
            authserv_id: DEFAULT_AUTHSERV_ID.to_string(),
        }
    }

    /// Refuses settings that cannot work; normalises the sealers to lower
    /// case without a trailing dot.
    pub fn check(mut self) -> Result<VerifierConfig, AuthError> {
        if self.resolver.port() == 0 {
            return Err(AuthError::ResolverPort(self.resolver));
        }
        if self.timeout.is_zero() || self.message_timeout.is_zero() {
            return Err(AuthError::ZeroTimeout);
        }
        if self.attempts == 0 {
            return Err(AuthError::ZeroAttempts);
        }
        if self.cache_entries == 0 {
            return Err(AuthError::ZeroCache);
        }
        let id = &self.authserv_id;
        if id.is_empty()
            || id.len() > 255
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(AuthError::AuthservId(id.clone()));
        }
        for s in &mut self.trusted_arc_sealers {
            let d = s.trim().trim_end_matches('.').to_ascii_lowercase();
            if d.is_empty()
                || !d.contains('.')
                || !d
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            {
                return Err(AuthError::Sealer(s.clone()));
            }
            *s = d;
        }
        Ok(self)
    }
}

/// Reads `IP:PORT`, `[IPv6]:PORT`, or a bare IP (port 53).
pub fn parse_resolver(s: &str) -> Result<SocketAddr, AuthError> {
    let t = s.trim();
    if let Ok(a) = t.parse::<SocketAddr>() {
        return Ok(a);
    }
    t.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| AuthError::ResolverAddress {
            given: s.to_string(),
        })
}

impl VerifierConfig {
    /// The settings of the org profile's `[dns]` table (checked by
    /// impostor-features: [`DnsSettings`]) and a command line's
    /// `--resolver` (which wins), checked; `Ok(None)` when neither names a
    /// resolver (no live verification). The sealers come from the rest of
    /// the org profile, the authserv-id from the gateway's options.
    pub fn from_settings(
        dns: &DnsSettings,
        cli_resolver: Option<SocketAddr>,
        trusted_arc_sealers: &[String],
        authserv_id: Option<&str>,
    ) -> Result<Option<VerifierConfig>, AuthError> {
        let Some(resolver) = cli_resolver.or(dns.resolver) else {
            return Ok(None);
        };
        let mut c = VerifierConfig::new(resolver);
        c.timeout = dns.timeout;
        c.attempts = dns.attempts;
        c.message_timeout = dns.message_timeout;
        c.cache_entries = dns.cache_entries;
        c.trusted_arc_sealers = trusted_arc_sealers.to_vec();
        if let Some(id) = authserv_id {
            c.authserv_id = id.to_string();
        }
        c.check().map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resolver_is_read_with_or_without_its_port() {
        assert_eq!(
            parse_resolver("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(parse_resolver("::1").unwrap(), "[::1]:53".parse().unwrap());
        assert!(matches!(
            parse_resolver("localhost:53"),
            Err(AuthError::ResolverAddress { .. })
        ));
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        let ok = VerifierConfig::new("127.0.0.1:53".parse().unwrap());
        assert!(ok.clone().check().is_ok());
        let mut c = ok.clone();
        c.resolver = "127.0.0.1:0".parse().unwrap();
        assert!(matches!(c.check(), Err(AuthError::ResolverPort(_))));
        let mut c = ok.clone();
        c.timeout = Duration::ZERO;
        assert!(matches!(c.check(), Err(AuthError::ZeroTimeout)));
        let mut c = ok.clone();
        c.attempts = 0;
        assert!(matches!(c.check(), Err(AuthError::ZeroAttempts)));
        let mut c = ok.clone();
        c.cache_entries = 0;
        assert!(matches!(c.check(), Err(AuthError::ZeroCache)));
        let mut c = ok.clone();
        c.authserv_id = "mx; dkim=pass".into();
        assert!(matches!(c.check(), Err(AuthError::AuthservId(_))));
        let mut c = ok;
        c.trusted_arc_sealers = vec!["Lists.Example.ORG.".into()];
        assert_eq!(
            c.check().unwrap().trusted_arc_sealers,
            ["lists.example.org"]
        );
    }

    #[test]
    fn the_command_line_resolver_wins_over_the_dns_table() {
        let org = impostor_features::OrgProfile::from_toml(
            "name = \"x\"\n[dns]\nresolver = \"127.0.0.1:53\"\ntimeout_ms = 250\ncache_entries = 7\n",
            std::path::Path::new("org.toml"),
        )
        .unwrap();
        let dns = org.dns_settings().unwrap();
        let cli = Some("127.0.0.2:5300".parse().unwrap());
        let c = VerifierConfig::from_settings(&dns, cli, &[], Some("mx.example.org"))
            .unwrap()
            .unwrap();
        assert_eq!(c.resolver, "127.0.0.2:5300".parse().unwrap());
        assert_eq!(c.timeout, Duration::from_millis(250));
        assert_eq!(c.cache_entries, 7);
        assert_eq!(c.authserv_id, "mx.example.org");
        let from_table = VerifierConfig::from_settings(&dns, None, &[], None)
            .unwrap()
            .unwrap();
        assert_eq!(from_table.resolver, "127.0.0.1:53".parse().unwrap());
        let none = VerifierConfig::from_settings(&DnsSettings::default(), None, &[], None);
        assert_eq!(none.unwrap(), None);
    }
}
