//! The verifier: one message's SPF, DKIM, DMARC and ARC checked live over
//! the configured resolver, and the sender domains' DNS status.

use crate::cache::BoundedCache;
use crate::config::VerifierConfig;
use crate::error::AuthError;
use impostor_features::{
    AuthResult, AuthResults, AuthSource, DkimResult as FeatureDkim, DmarcPolicy, DomainStatus,
    Envelope, Inputs, MessageView,
};
use mail_auth::dkim::DkimError;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::dmarc::Policy;
use mail_auth::hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    ArcOutput, AuthenticatedMessage, DkimOutput, DkimResult, DmarcResult, DnsError, Error,
    MessageAuthenticator, Parameters, RecordSet, SpfOutput, SpfResult, Txt, MX,
};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// DKIM signatures verified per message, top first; the rest are ignored
/// (each costs a DNS query and a signature check: a hostile message must
/// not buy unbounded work).
pub const MAX_DKIM_SIGNATURES: usize = 16;

type Params<'x, P> = Parameters<
    'x,
    P,
    BoundedCache<Box<str>, Txt>,
    BoundedCache<Box<str>, RecordSet<MX>>,
    BoundedCache<Box<str>, RecordSet<Ipv4Addr>>,
    BoundedCache<Box<str>, RecordSet<Ipv6Addr>>,
    BoundedCache<IpAddr, RecordSet<Box<str>>>,
>;

struct Caches {
    txt: BoundedCache<Box<str>, Txt>,
    mx: BoundedCache<Box<str>, RecordSet<MX>>,
    ipv4: BoundedCache<Box<str>, RecordSet<Ipv4Addr>>,
    ipv6: BoundedCache<Box<str>, RecordSet<Ipv6Addr>>,
    ptr: BoundedCache<IpAddr, RecordSet<Box<str>>>,
}

/// What is checked for one message besides its bytes: the SMTP client and
/// the identities whose domains are looked up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    /// The client that handed the message to the organisation.
    pub client_ip: Option<IpAddr>,
    /// The name it gave in HELO / EHLO.
    pub helo: Option<String>,
    /// MAIL FROM (an address); `None` for the null sender `<>` or when
    /// unknown, and SPF is then checked on the HELO name.
    pub mail_from: Option<String>,
    /// The displayed From domain (checked for NXDOMAIN / no mail host).
    pub from_domain: Option<String>,
}

impl Subject {
    /// From a parsed message and its envelope: the SMTP session's client,
    /// HELO and MAIL FROM when known (a milter, `--client-ip` …);
    /// otherwise the boundary hop (the first Received header a trusted
    /// host wrote about an outside client) and the Return-Path. Without a
    /// boundary (no trusted receiver wrote the top outside hop, or the
    /// org lists none) the first hop from outside is all there is.
    pub fn from_view(view: &MessageView, envelope: &Envelope) -> Subject {
        let hop = view.boundary_hop().or_else(|| view.first_external());
        // A HELO name is a domain; an address literal has no SPF record.
        let clean = |s: &str| {
            let s = s.trim().trim_matches(|c| c == '[' || c == ']');
            (!s.is_empty() && s.parse::<IpAddr>().is_err()).then(|| s.to_string())
        };
        Subject {
            client_ip: envelope.client_ip.or(hop.and_then(|h| h.ip)),
            helo: envelope
                .helo
                .as_deref()
                .or(hop.and_then(|h| h.helo.as_deref()))
                .and_then(clean),
            mail_from: view
                .envelope_sender
                .as_ref()
                .and_then(|i| i.address.clone()),
            from_domain: view.from_domain().map(str::to_string),
        }
    }

    fn envelope_domain(&self) -> Option<&str> {
        self.mail_from
            .as_deref()
            .and_then(|a| a.rsplit_once('@'))
            .map(|(_, d)| d)
    }
}

/// What live verification found for one message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Enrichment {
    /// SPF, every DKIM signature, DMARC and ARC; `source` is `live`.
    pub auth: AuthResults,
    /// What DNS said of the From and envelope domains.
    pub domains: Vec<DomainStatus>,
    /// The ARC sealers' domains, instance 1 first (lower case).
    pub arc_sealers: Vec<String>,
    /// The ARC chain validates and its latest seal is by a trusted sealer.
    pub arc_trusted_sealer: bool,
    /// The HELO name SPF was checked on when there was no MAIL FROM.
    pub spf_helo: Option<String>,
}

impl Enrichment {
    /// Puts the results where extraction reads them.
    pub fn apply(&self, inputs: &mut Inputs) {
        inputs.auth = Some(self.auth.clone());
        inputs.domains.clone_from(&self.domains);
    }

    /// Every check unknown (`temperror`), as after a DNS outage or a time
    /// limit: never a fail.
    fn unknown(subject: &Subject, message: &AuthenticatedMessage<'_>) -> Enrichment {
        let mut auth = AuthResults {
            source: AuthSource::Live,
            dmarc: AuthResult::TempError,
            ..AuthResults::default()
        };
        if subject.client_ip.is_some() {
            auth.spf = AuthResult::TempError;
            auth.spf_mailfrom = subject.mail_from.clone();
        }
        // What the message says is known without DNS: each signature's
        // d= and s=, the From domain DMARC would have been evaluated on.
        auth.dkim = message
            .dkim_headers
            .iter()
            .map(|h| FeatureDkim {
                result: AuthResult::TempError,
                domain: Some(h.header.d.to_ascii_lowercase()),
                selector: Some(h.header.s.clone()),
            })
            .collect();
        auth.dmarc_header_from = message
            .from
            .first()
            .and_then(|f| f.rsplit_once('@'))
            .map(|(_, d)| d.to_ascii_lowercase());
        Enrichment {
            auth,
            ..Enrichment::default()
        }
    }
}

/// Verifies messages live against one resolver, with a bounded cache.
/// Share one per process (it is `Sync`); it owns a small tokio runtime so
/// blocking callers (rayon workers, `spawn_blocking`) can use it too.
pub struct Verifier {
    config: VerifierConfig,
    /// `Option` only so that Drop can shut it down without blocking (a
    /// runtime dropped inside another one's task would panic).
    runtime: Option<tokio::runtime::Runtime>,
    authenticator: MessageAuthenticator,
    caches: Caches,
}

impl Verifier {
    /// Checks `config` and sets up the resolver (nothing is sent yet).
    pub fn new(config: VerifierConfig) -> Result<Verifier, AuthError> {
        let config = config.check()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("impostor-dns")
            .enable_all()
            .build()
            .map_err(AuthError::Runtime)?;
        let addr = config.resolver;
        let mut udp = ConnectionConfig::udp();
        udp.port = addr.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = addr.port();
        // The one server asked: no system configuration, no search list,
        // no hosts file.
        let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
        let resolver_config = ResolverConfig::from_parts(None, Vec::new(), vec![server]);
        let mut opts = ResolverOpts::default();
        opts.timeout = config.timeout;
        opts.attempts = config.attempts;
        opts.cache_size = config.cache_entries as u64;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.ndots = 0;
        let authenticator = {
            let _guard = runtime.enter();
            MessageAuthenticator::new(resolver_config, opts).map_err(|e| AuthError::Resolver {
                addr,
                reason: e.to_string(),
            })?
        };
        let n = config.cache_entries;
        Ok(Verifier {
            caches: Caches {
                txt: BoundedCache::new(n),
                mx: BoundedCache::new(n),
                ipv4: BoundedCache::new(n),
                ipv6: BoundedCache::new(n),
                ptr: BoundedCache::new(n),
            },
            config,
            runtime: Some(runtime),
            authenticator,
        })
    }

    /// The checked settings.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Verifies one message from a blocking thread (a rayon worker,
    /// `spawn_blocking`); must not be called from inside an async task
    /// (use [`Verifier::verify`] there). A panic while verifying is
    /// contained: [`AuthError::Internal`].
    pub fn verify_blocking(
        &self,
        bytes: &[u8],
        subject: &Subject,
    ) -> Result<Enrichment, AuthError> {
        let Some(rt) = self.runtime.as_ref() else {
            return Err(AuthError::Internal("the DNS runtime is shut down".into()));
        };
        std::panic::catch_unwind(AssertUnwindSafe(|| rt.block_on(self.run(bytes, subject))))
            .map_err(|p| AuthError::Internal(panic_text(&p)))
    }

    /// Verifies one message from inside an async task: the work runs on
    /// the verifier's own runtime (where its DNS connections live), so the
    /// caller's runtime may come and go. A panic while verifying is
    /// contained: [`AuthError::Internal`].
    pub async fn verify(
        self: &Arc<Self>,
        bytes: Arc<[u8]>,
        subject: Subject,
    ) -> Result<Enrichment, AuthError> {
        let Some(rt) = self.runtime.as_ref() else {
            return Err(AuthError::Internal("the DNS runtime is shut down".into()));
        };
        let this = Arc::clone(self);
        rt.spawn(async move { this.run(&bytes, &subject).await })
            .await
            .map_err(|e| match e.try_into_panic() {
                Ok(p) => AuthError::Internal(panic_text(&p)),
                Err(e) => AuthError::Internal(e.to_string()),
            })
    }

    /// Parses `bytes` with `envelope` under `view`'s reading of the
    /// boundary and verifies it: the usual call of a front end.
    pub fn verify_view_blocking(
        &self,
        bytes: &[u8],
        view: &MessageView,
        envelope: &Envelope,
    ) -> Result<Enrichment, AuthError> {
        self.verify_blocking(bytes, &Subject::from_view(view, envelope))
    }

    fn params<P>(&self, p: P) -> Params<'_, P> {
        Parameters::new(p)
            .with_txt_cache(&self.caches.txt)
            .with_mx_cache(&self.caches.mx)
            .with_ipv4_cache(&self.caches.ipv4)
            .with_ipv6_cache(&self.caches.ipv6)
            .with_ptr_cache(&self.caches.ptr)
    }

    async fn run(&self, bytes: &[u8], subject: &Subject) -> Enrichment {
        let bytes = skip_mbox_line(bytes);
        let Some(mut message) = AuthenticatedMessage::parse(bytes) else {
            // Nothing mail-auth can read: nothing verified, nothing failed.
            let mut e = Enrichment::default();
            e.auth.source = AuthSource::Live;
            return e;
        };
        message.dkim_headers.truncate(MAX_DKIM_SIGNATURES);
        let limit = self.config.message_timeout;
        match tokio::time::timeout(limit, self.check(&message, subject)).await {
            Ok(e) => e,
            Err(_) => Enrichment::unknown(subject, &message),
        }
    }

    async fn check(&self, message: &AuthenticatedMessage<'_>, subject: &Subject) -> Enrichment {
        let (dkim, arc, spf, domains) = tokio::join!(
            self.authenticator.verify_dkim(self.params(message)),
            self.authenticator.verify_arc(self.params(message)),
            self.spf(subject),
            self.domain_statuses(subject),
        );
        let (spf, spf_helo) = match spf {
            Some((out, helo)) => (Some(out), helo),
            None => (None, None),
        };
        let no_spf = SpfOutput::default();
        let spf_out = spf.as_ref().unwrap_or(&no_spf);
        let mail_from_domain = match &spf {
            Some(out) => out.domain().to_string(),
            None => subject.envelope_domain().unwrap_or_default().to_string(),
        };
        let dmarc = self
            .authenticator
            .verify_dmarc(self.params(DmarcParameters::new(
                message,
                &dkim,
                &mail_from_domain,
                spf_out,
            )))
            .await;

        let mut auth = AuthResults {
            source: AuthSource::Live,
            ..AuthResults::default()
        };
        if let Some(out) = &spf {
            auth.spf = spf_result(out.result());
            auth.spf_mailfrom = match &spf_helo {
                Some(h) => Some(h.clone()),
                None => subject.mail_from.clone(),
            };
        }
        auth.dkim = dkim.iter().map(dkim_result).collect();
        let dmarc_result = dmarc.result();
        auth.dmarc = match &dmarc_result {
            DmarcResult::Pass => AuthResult::Pass,
            DmarcResult::Fail(_) => AuthResult::Fail,
            DmarcResult::TempError(_) => AuthResult::TempError,
            DmarcResult::PermError(_) => AuthResult::PermError,
            DmarcResult::None => AuthResult::None,
        };
        if dmarc.dmarc_record().is_some() {
            auth.dmarc_policy = match dmarc.policy() {
                Policy::None | Policy::Unspecified => Some(DmarcPolicy::None),
                Policy::Quarantine => Some(DmarcPolicy::Quarantine),
                Policy::Reject => Some(DmarcPolicy::Reject),
            };
        }
        if !dmarc.domain().is_empty() {
            auth.dmarc_header_from = Some(dmarc.domain().to_ascii_lowercase());
        }
        let (arc_result, sealers) = arc_outcome(&arc);
        auth.arc = arc_result;
        // Features read the sealers most recent first.
        auth.arc_sealers = sealers.iter().rev().cloned().collect();
        let arc_trusted_sealer = arc_result == AuthResult::Pass
            && sealers
                .last()
                .is_some_and(|s| self.config.trusted_arc_sealers.iter().any(|t| t == s));
        Enrichment {
            auth,
            domains,
            arc_sealers: sealers,
            arc_trusted_sealer,
            spf_helo,
        }
    }

    /// SPF for the client: MAIL FROM's domain, or the HELO name for the
    /// null sender. `None` when there is no client IP or nothing to check.
    /// The HELO name comes back when it was the identity checked.
    async fn spf(&self, s: &Subject) -> Option<(SpfOutput, Option<String>)> {
        let ip = s.client_ip?;
        let host = self.config.authserv_id.as_str();
        match (s.mail_from.as_deref(), s.helo.as_deref()) {
            (Some(from), helo) if from.contains('@') => {
                let helo = helo.unwrap_or(from.rsplit_once('@').map_or("", |(_, d)| d));
                let p = SpfParameters::verify_mail_from(ip, helo, host, from);
                Some((self.authenticator.verify_spf(self.params(p)).await, None))
            }
            (_, Some(helo)) => {
                let p = SpfParameters::verify_ehlo(ip, helo, host);
                let out = self.authenticator.verify_spf(self.params(p)).await;
                Some((out, Some(helo.to_string())))
            }
            _ => None,
        }
    }

    /// The DNS status of the From and envelope domains, each once.
    async fn domain_statuses(&self, s: &Subject) -> Vec<DomainStatus> {
        let mut names: Vec<String> = Vec::new();
        for d in [s.from_domain.as_deref(), s.envelope_domain()]
            .into_iter()
            .flatten()
        {
            let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
            if !d.is_empty() && d.len() <= 253 && !names.contains(&d) {
                names.push(d);
            }
        }
        let mut out = Vec::with_capacity(names.len());
        for d in names {
            out.push(self.domain_status(d).await);
        }
        out
    }

    async fn domain_status(&self, domain: String) -> DomainStatus {
        let a = &self.authenticator;
        let (exists, accepts_mail) = match a.mx_lookup(domain.as_str(), Some(&self.caches.mx)).await
        {
            Ok(set) if !set.rrset.is_empty() => {
                // A null MX ("0 .", RFC 7505) says the domain takes no mail.
                let real = set.rrset.iter().any(|mx| {
                    mx.exchanges
                        .iter()
                        .any(|e| !e.is_empty() && e.as_ref() != ".")
                });
                (Some(true), Some(real))
            }
            Err(Error::Dns(DnsError::RecordNotFound(ResponseCode::NXDomain))) => {
                (Some(false), Some(false))
            }
            Ok(_) | Err(Error::Dns(DnsError::RecordNotFound(_))) => {
                // No MX: mail falls back to the address records (RFC 5321 §5.1).
                (Some(true), self.has_address(&domain).await)
            }
            Err(_) => (None, None),
        };
        DomainStatus {
            domain,
            exists,
            accepts_mail,
        }
    }

    async fn has_address(&self, domain: &str) -> Option<bool> {
        let a = &self.authenticator;
        match a.ipv4_lookup(domain, Some(&self.caches.ipv4)).await {
            Ok(set) if !set.rrset.is_empty() => return Some(true),
            Ok(_) | Err(Error::Dns(DnsError::RecordNotFound(_))) => {}
            Err(_) => return None,
        }
        match a.ipv6_lookup(domain, Some(&self.caches.ipv6)).await {
            Ok(set) => Some(!set.rrset.is_empty()),
            Err(Error::Dns(DnsError::RecordNotFound(_))) => Some(false),
            Err(_) => None,
        }
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn spf_result(r: SpfResult) -> AuthResult {
    match r {
        SpfResult::Pass => AuthResult::Pass,
        SpfResult::Fail => AuthResult::Fail,
        SpfResult::SoftFail => AuthResult::SoftFail,
        SpfResult::Neutral => AuthResult::Neutral,
        SpfResult::TempError => AuthResult::TempError,
        SpfResult::PermError => AuthResult::PermError,
        SpfResult::None => AuthResult::None,
    }
}

/// mail-auth's DKIM result as RFC 8601 words. A body that no longer
/// matches its signed hash is a failed signature (RFC 6376 §6.1.3), though
/// mail-auth calls it neutral; an expired or malformed signature stays
/// neutral (no evidence either way).
fn dkim_word(r: &DkimResult) -> AuthResult {
    match r {
        DkimResult::Pass => AuthResult::Pass,
        DkimResult::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch)) => AuthResult::Fail,
        DkimResult::Neutral(_) => AuthResult::Neutral,
        DkimResult::Fail(_) => AuthResult::Fail,
        DkimResult::PermError(_) => AuthResult::PermError,
        DkimResult::TempError(_) => AuthResult::TempError,
        DkimResult::None => AuthResult::None,
    }
}

fn dkim_result(out: &DkimOutput<'_>) -> FeatureDkim {
    let sig = out.signature();
    FeatureDkim {
        result: dkim_word(out.result()),
        domain: sig.map(|s| s.d.trim_end_matches('.').to_ascii_lowercase()),
        selector: sig.map(|s| s.s.clone()),
    }
}

/// The chain's result (RFC 8617 knows none, pass and fail: a chain
/// mail-auth calls neutral is broken, so fail; a DNS failure stays
/// temperror) and the sealers, instance 1 first.
fn arc_outcome(arc: &ArcOutput<'_>) -> (AuthResult, Vec<String>) {
    let result = match arc.result() {
        DkimResult::Pass => AuthResult::Pass,
        DkimResult::None => AuthResult::None,
        DkimResult::TempError(_) => AuthResult::TempError,
        DkimResult::Fail(_) | DkimResult::Neutral(_) | DkimResult::PermError(_) => AuthResult::Fail,
    };
    let sealers = arc
        .sets()
        .iter()
        .map(|s| s.seal.header.d.trim_end_matches('.').to_ascii_lowercase())
        .collect();
    (result, sealers)
}

/// An mbox `From ` separator line is not part of the message.
fn skip_mbox_line(bytes: &[u8]) -> &[u8] {
    if bytes.starts_with(b"From ") {
        if let Some(i) = bytes.iter().position(|&b| b == b'\n') {
            return bytes.get(i + 1..).unwrap_or_default();
        }
    }
    bytes
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}
