//! Context: everything about the protected organisation and the world that a
//! feature may consult. Built once, shared read-only by every extraction.

use crate::display_name::VipIndex;
use crate::domain::{list_entries, normalize_domain, DomainSet};
use crate::error::FeatureError;
use crate::header_block::HeaderFilter;
use crate::intent::IntentMatcher;
use crate::lookalike::LookalikeIndex;
use crate::message::ParseLimits;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

const DEFAULT_FREEMAIL: &str = include_str!("../data/freemail.txt");
const DEFAULT_DISPOSABLE: &str = include_str!("../data/disposable.txt");
const DEFAULT_SHORTENERS: &str = include_str!("../data/shorteners.txt");
const DEFAULT_BRANDS: &str = include_str!("../data/brands.txt");
/// The built-in brand list (names and domains), on by default.
pub const DEFAULT_BRAND_LIST: &str = include_str!("../data/brand_list.tsv");

/// A brand attackers impersonate: its name as mail writes it and the
/// registrable domains it sends and links from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brand {
    /// The name (`PayPal`, `Geek Squad`, `ヤマト運輸` …).
    pub name: String,
    /// Its registrable domains, lower case.
    pub domains: Vec<String>,
}

/// Reads a brand list: `Name<TAB>domain domain …` a line, `#` comments.
/// A line with no tab is a name with no domains.
pub fn parse_brand_list(text: &str) -> Vec<Brand> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let (name, domains) = l.split_once('\t').unwrap_or((l, ""));
            let name = name.trim();
            (!name.is_empty()).then(|| Brand {
                name: name.to_string(),
                domains: domains
                    .split_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect(),
            })
        })
        .collect()
}

/// A high-profile user: a name attackers borrow, tied to the real addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Vip {
    /// The name as people write it ("Daniel Brandt").
    pub name: String,
    /// Other spellings of the name ("Dan Brandt").
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The person's real addresses: mail from any other under the name is
    /// suspect.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// A title that may stand beside the name ("CEO"); its words are not
    /// part of the name.
    #[serde(default)]
    pub title: Option<String>,
}

/// The organisation profile of design.md §4, read from TOML.
///
/// Keys (all but `name` optional):
/// - `name`: the organisation's name.
/// - `internal_domains`: domains it sends from; their hosts are its own.
/// - `trusted_authserv_ids`: authserv-ids whose Authentication-Results are
///   believed (when above the trust boundary).
/// - `trusted_receivers`: host names of the org's receiving servers (and
///   of a filtering service in front of them), matched with their
///   subdomains, whose Authentication-Results and Received-SPF are believed
///   even without an authserv-id (Microsoft 365 writes none). List shared
///   infrastructure narrowly: every tenant's mail passes the same hosts.
/// - `trusted_arc_sealers`: ARC sealing domains (`google.com`,
///   `microsoft.com`) whose passing seal explains a DMARC failure of
///   forwarded or mailing-list mail.
/// - `protected_domains`: internal domains, partners and brands to guard.
/// - `[[vip]]`: high-profile users.
/// - `tenant_hosts`: the org's own tenants on SaaS platforms
///   (`kestrelfoods.okta.com`); links there do not borrow its name.
/// - `report_mailboxes`: addresses staff forward suspicious mail to (the
///   security desk); a message only for them is a report, not an attack
///   on its readers.
/// - `[dns]`: live verification's resolver (read by impostor-auth, never
///   by features): `resolver = "IP:PORT"` (without it, and without
///   `--resolver`, nothing is verified live; the system's resolver is never
///   asked), `timeout_ms` per try (default 500, 1 to 60000), `attempts`
///   (default 2, 1 to 10), `message_timeout_ms` for all of one message's
///   lookups (default 1500, 1 to 600000), `cache_entries` (default 10000,
///   1 to 10000000).
///
/// The trust boundary is the topmost Received hop by which a trusted host
/// (a `trusted_receivers` host, a host under an internal domain, or one
/// named by a trusted authserv-id) received the message from outside;
/// verdict headers count only above it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrgProfile {
    /// The organisation's name, for people.
    pub name: String,
    /// Domains the organisation sends from.
    #[serde(default)]
    pub internal_domains: Vec<String>,
    /// Only Authentication-Results from these servers are believed.
    #[serde(default)]
    pub trusted_authserv_ids: Vec<String>,
    /// The org's receiving hosts: their verdict headers are believed even
    /// without an authserv-id.
    #[serde(default)]
    pub trusted_receivers: Vec<String>,
    /// ARC sealing domains whose passing seal explains forwarding.
    #[serde(default)]
    pub trusted_arc_sealers: Vec<String>,
    /// The `[dns]` table for live verification, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsProfile>,
    /// Internal domains, partners and brands to guard against imitation.
    #[serde(default)]
    pub protected_domains: Vec<String>,
    /// High-profile users (`[[vip]]` tables).
    #[serde(default, rename = "vip")]
    pub vips: Vec<Vip>,
    /// The mailboxes staff report suspicious mail to (the security desk,
    /// abuse@): mail only for them reaches no victim.
    #[serde(default)]
    pub report_mailboxes: Vec<String>,
    /// The org's own tenants on others' platforms
    /// (`kestrelfoods.okta.com`): a link there is the org's, not its name
    /// borrowed by a stranger.
    #[serde(default)]
    pub tenant_hosts: Vec<String>,
}

/// The `[dns]` table as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DnsProfile {
    /// `IP:PORT` of the one resolver live verification asks. Absent: no
    /// live verification unless a command names one (`--resolver`); the
    /// system's resolver is never used.
    #[serde(default)]
    pub resolver: Option<String>,
    /// How long one try of one lookup may take, in milliseconds.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Tries per lookup (1 = no retry).
    #[serde(default)]
    pub attempts: Option<u64>,
    /// How long one message's whole verification may take, in
    /// milliseconds; checks still open then are temperror.
    #[serde(default)]
    pub message_timeout_ms: Option<u64>,
    /// How many answers the resolver cache keeps (per record kind).
    #[serde(default)]
    pub cache_entries: Option<u64>,
}

/// How live verification asks DNS, checked: what [`Context::dns`] gives
/// the gateway. Features never use it (they do no I/O).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsSettings {
    /// The resolver to ask; None: no live verification unless a command
    /// names one.
    pub resolver: Option<std::net::SocketAddr>,
    /// How long one try of one lookup may take; past it the check is a
    /// temperror.
    pub timeout: std::time::Duration,
    /// Tries per lookup.
    pub attempts: usize,
    /// How long one message's whole verification may take.
    pub message_timeout: std::time::Duration,
    /// How many answers the cache keeps (per record kind).
    pub cache_entries: usize,
}

impl DnsSettings {
    /// The default per-try lookup timeout in milliseconds.
    pub const DEFAULT_TIMEOUT_MS: u64 = 500;
    /// The default tries per lookup.
    pub const DEFAULT_ATTEMPTS: usize = 2;
    /// The default time limit of one message's verification in
    /// milliseconds: under the milter's default scan limit (2 s), so that
    /// during an outage a message is still scored in time.
    pub const DEFAULT_MESSAGE_TIMEOUT_MS: u64 = 1500;
    /// The default cache size.
    pub const DEFAULT_CACHE_ENTRIES: usize = 10_000;
}

impl Default for DnsSettings {
    fn default() -> Self {
        DnsSettings {
            resolver: None,
            timeout: std::time::Duration::from_millis(DnsSettings::DEFAULT_TIMEOUT_MS),
            attempts: DnsSettings::DEFAULT_ATTEMPTS,
            message_timeout: std::time::Duration::from_millis(
                DnsSettings::DEFAULT_MESSAGE_TIMEOUT_MS,
            ),
            cache_entries: DnsSettings::DEFAULT_CACHE_ENTRIES,
        }
    }
}

impl DnsProfile {
    /// The checked settings, or what is wrong with the table.
    pub fn settings(&self) -> Result<DnsSettings, String> {
        let resolver = match &self.resolver {
            None => None,
            Some(r) => Some(r.trim().parse::<std::net::SocketAddr>().map_err(|_| {
                format!("[dns] resolver {r:?} is not IP:PORT (write \"192.0.2.53:53\" or \"[2001:db8::53]:53\")")
            })?),
        };
        let ranged = |key: &str, value: Option<u64>, default: u64, max: u64| {
            let v = value.unwrap_or(default);
            if (1..=max).contains(&v) {
                Ok(v)
            } else {
                Err(format!(
                    "[dns] {key} = {v} is out of range: give 1 to {max}"
                ))
            }
        };
        let timeout_ms = ranged(
            "timeout_ms",
            self.timeout_ms,
            DnsSettings::DEFAULT_TIMEOUT_MS,
            60_000,
        )?;
        let attempts = ranged(
            "attempts",
            self.attempts,
            DnsSettings::DEFAULT_ATTEMPTS as u64,
            10,
        )?;
        let message_ms = ranged(
            "message_timeout_ms",
            self.message_timeout_ms,
            DnsSettings::DEFAULT_MESSAGE_TIMEOUT_MS,
            600_000,
        )?;
        let cache = ranged(
            "cache_entries",
            self.cache_entries,
            DnsSettings::DEFAULT_CACHE_ENTRIES as u64,
            10_000_000,
        )?;
        Ok(DnsSettings {
            resolver,
            timeout: std::time::Duration::from_millis(timeout_ms),
            attempts: usize::try_from(attempts).unwrap_or(DnsSettings::DEFAULT_ATTEMPTS),
            message_timeout: std::time::Duration::from_millis(message_ms),
            cache_entries: usize::try_from(cache).unwrap_or(DnsSettings::DEFAULT_CACHE_ENTRIES),
        })
    }
}

impl OrgProfile {
    /// The checked `[dns]` settings (defaults when the table is absent).
    pub fn dns_settings(&self) -> Result<DnsSettings, String> {
        self.dns
            .as_ref()
            .map_or_else(|| Ok(DnsSettings::default()), DnsProfile::settings)
    }

    /// Parses and checks a profile; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<OrgProfile, FeatureError> {
        let invalid = |problem: String| FeatureError::OrgProfile {
            path: origin.to_path_buf(),
            problem,
        };
        let profile: OrgProfile =
            toml::from_str(text).map_err(|source| FeatureError::OrgProfileSyntax {
                path: origin.to_path_buf(),
                source,
            })?;
        for d in profile
            .internal_domains
            .iter()
            .chain(&profile.protected_domains)
        {
            if normalize_domain(d).is_none() {
                return Err(invalid(format!("{d:?} is not a domain name")));
            }
        }
        for (key, list) in [
            ("trusted_receivers", &profile.trusted_receivers),
            ("trusted_arc_sealers", &profile.trusted_arc_sealers),
        ] {
            if let Some(h) = list.iter().find(|h| normalize_domain(h).is_none()) {
                return Err(invalid(format!("{key}: {h:?} is not a host name")));
            }
        }
        profile.dns_settings().map_err(invalid)?;
        for vip in &profile.vips {
            if vip.name.trim().is_empty() {
                return Err(invalid("a [[vip]] has an empty name".into()));
            }
            if let Some(a) = vip.addresses.iter().find(|a| !a.contains('@')) {
                return Err(invalid(format!(
                    "VIP {:?}: {a:?} is not an address",
                    vip.name
                )));
            }
        }
        Ok(profile)
    }

    /// Reads and checks the profile at `path`.
    pub fn load(path: &Path) -> Result<OrgProfile, FeatureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FeatureError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        OrgProfile::from_toml(&text, path)
    }
}

/// Read-only state for extraction; cheap to share across threads.
pub struct Context {
    org: OrgProfile,
    internal: DomainSet,
    protected: DomainSet,
    trusted_authserv: HashSet<String>,
    trusted_receivers: DomainSet,
    trusted_arc_sealers: DomainSet,
    dns: DnsSettings,
    freemail: DomainSet,
    disposable: DomainSet,
    shorteners: DomainSet,
    brands: Vec<String>,
    brand_matcher: aho_corasick::AhoCorasick,
    brand_list: Vec<Brand>,
    vips: VipIndex,
    intent: IntentMatcher,
    /// Callback phishing: its lexicon and the brand list's names.
    callback: crate::callback::CallbackMatcher,
    lookalike: LookalikeIndex,
    header_filter: HeaderFilter,
    limits: ParseLimits,
    trust_mbox_envelope: bool,
    mime_parser: mail_parser::MessageParser,
}

impl Context {
    /// A builder for `org`'s Context, with the built-in lists and limits.
    pub fn builder(org: OrgProfile) -> ContextBuilder {
        ContextBuilder {
            org,
            freemail: None,
            disposable: None,
            brands: None,
            brand_list: Some(DEFAULT_BRAND_LIST.to_string()),
            extra_protected: Vec::new(),
            lookalike_words: None,
            brand_tlds: None,
            lookalike_popular: None,
            header_filter: HeaderFilter::default(),
            limits: ParseLimits::default(),
            trust_mbox_envelope: false,
        }
    }

    /// The organisation profile.
    pub fn org(&self) -> &OrgProfile {
        &self.org
    }

    /// Whether a normalised domain is internal: one of the profile's
    /// internal domains or a subdomain of one.
    pub fn is_internal(&self, domain: &str) -> bool {
        self.internal.contains(domain)
    }

    /// Whether a normalised domain is (under) a protected one: internal, a
    /// partner or a brand.
    pub fn is_protected(&self, domain: &str) -> bool {
        self.protected.contains(domain)
    }

    /// Whether an address is one of the org's report mailboxes
    /// (`report_mailboxes`, compared without case).
    pub fn is_report_mailbox(&self, address: &str) -> bool {
        self.org
            .report_mailboxes
            .iter()
            .any(|m| m.eq_ignore_ascii_case(address.trim_matches(['<', '>'])))
    }

    /// Whether a normalised host is (under) one of the org's tenants on
    /// another platform (`tenant_hosts`).
    pub fn is_tenant_host(&self, host: &str) -> bool {
        self.org.tenant_hosts.iter().any(|t| {
            let t = t.trim().trim_end_matches('.');
            host.eq_ignore_ascii_case(t)
                || host
                    .len()
                    .checked_sub(t.len())
                    .and_then(|at| Some((host.get(..at)?, host.get(at..)?)))
                    .is_some_and(|(head, tail)| head.ends_with('.') && tail.eq_ignore_ascii_case(t))
        })
    }

    /// Whether a normalised domain is (under) a free-mail provider's.
    pub fn is_freemail(&self, domain: &str) -> bool {
        self.freemail.contains(domain)
    }

    /// Whether a normalised domain is (under) a disposable-address service's.
    pub fn is_disposable(&self, domain: &str) -> bool {
        self.disposable.contains(domain)
    }

    /// Whether a normalised host is (under) a URL shortener's.
    pub fn is_shortener(&self, host: &str) -> bool {
        self.shorteners.contains(host)
    }

    /// Brand tokens: the built-in or given list plus the first label of every
    /// protected domain.
    pub fn brands(&self) -> &[String] {
        &self.brands
    }

    /// One automaton over [`Context::brands`], pattern i = brand i.
    pub(crate) fn brand_matcher(&self) -> &aho_corasick::AhoCorasick {
        &self.brand_matcher
    }

    /// Every protected domain: internal, the profile's protected ones and
    /// any added brands.
    pub fn protected_domains(&self) -> &DomainSet {
        &self.protected
    }

    /// The authserv-ids whose Authentication-Results are believed, lower case.
    pub fn trusted_authserv_ids(&self) -> &HashSet<String> {
        &self.trusted_authserv
    }

    /// Whether a normalised host is one of the org's receivers: a
    /// `trusted_receivers` host (or under one), a host under an internal
    /// domain, or a host named as a trusted authserv-id.
    pub fn is_trusted_receiver(&self, host: &str) -> bool {
        self.trusted_receivers.contains(host)
            || self.internal.contains(host)
            || self.trusted_authserv.contains(host)
    }

    /// Whether a normalised host is (under) one of the profile's
    /// `trusted_receivers` entries, and only those.
    pub fn is_listed_receiver(&self, host: &str) -> bool {
        self.trusted_receivers.contains(host)
    }

    /// Whether an ARC sealing domain (or a parent of it) is trusted to
    /// vouch for forwarded mail.
    pub fn is_trusted_arc_sealer(&self, domain: &str) -> bool {
        self.trusted_arc_sealers.contains(domain)
    }

    /// How live verification asks DNS (`[dns]` of the profile, checked).
    pub fn dns(&self) -> &DnsSettings {
        &self.dns
    }

    /// The header fields never read (receiving filters' verdicts).
    pub fn header_filter(&self) -> &HeaderFilter {
        &self.header_filter
    }

    /// How much of a message is read.
    pub fn limits(&self) -> &ParseLimits {
        &self.limits
    }

    /// Whether an mbox `From ` line's sender may stand in for the envelope
    /// sender.
    pub fn trusts_mbox_envelope(&self) -> bool {
        self.trust_mbox_envelope
    }

    pub(crate) fn vips(&self) -> &VipIndex {
        &self.vips
    }

    pub(crate) fn intent(&self) -> &IntentMatcher {
        &self.intent
    }

    /// Callback phishing: its lexicon and the brand list's names.
    pub(crate) fn callback(&self) -> &crate::callback::CallbackMatcher {
        &self.callback
    }

    /// The brand list (names and domains): the built-in one unless
    /// replaced or turned off.
    pub fn brand_list(&self) -> &[Brand] {
        &self.brand_list
    }

    /// The lookalike index over the protected domains.
    pub fn lookalike(&self) -> &LookalikeIndex {
        &self.lookalike
    }

    pub(crate) fn mime_parser(&self) -> &mail_parser::MessageParser {
        &self.mime_parser
    }
}

/// Builds a [`Context`]; every list has a built-in default.
pub struct ContextBuilder {
    org: OrgProfile,
    freemail: Option<String>,
    disposable: Option<String>,
    brands: Option<String>,
    /// The brand list's text; None when turned off.
    brand_list: Option<String>,
    extra_protected: Vec<String>,
    lookalike_words: Option<String>,
    brand_tlds: Option<String>,
    /// Replaces the lookalike check's built-in popular domains.
    lookalike_popular: Option<String>,
    header_filter: HeaderFilter,
    limits: ParseLimits,
    trust_mbox_envelope: bool,
}

fn read_list(path: &Path) -> Result<String, FeatureError> {
    std::fs::read_to_string(path).map_err(|source| FeatureError::Read {
        path: path.to_path_buf(),
        source,
    })
}

impl ContextBuilder {
    /// Replaces the built-in free-mail list (one domain a line, `#` comments).
    pub fn freemail_list(mut self, text: String) -> Self {
        self.freemail = Some(text);
        self
    }

    /// [`ContextBuilder::freemail_list`] read from a file.
    pub fn freemail_file(self, path: &Path) -> Result<Self, FeatureError> {
        Ok(self.freemail_list(read_list(path)?))
    }

    /// Replaces the built-in disposable-domain list.
    pub fn disposable_list(mut self, text: String) -> Self {
        self.disposable = Some(text);
        self
    }

    /// [`ContextBuilder::disposable_list`] read from a file.
    pub fn disposable_file(self, path: &Path) -> Result<Self, FeatureError> {
        Ok(self.disposable_list(read_list(path)?))
    }

    /// Adds protected brand domains (one a line) to the org's. Brands are
    /// guarded as brands (see `LookalikeIndex`'s `Scope::Brand`): their own
    /// domains span many suffixes.
    pub fn protected_file(mut self, path: &Path) -> Result<Self, FeatureError> {
        let text = read_list(path)?;
        self.extra_protected
            .extend(list_entries(&text).map(str::to_string));
        Ok(self)
    }

    /// Replaces the built-in words of the lookalike dictionary kind
    /// (`kestrelfoods-secure.com`), one a line.
    pub fn lookalike_words_list(mut self, text: String) -> Self {
        self.lookalike_words = Some(text);
        self
    }

    /// [`ContextBuilder::lookalike_words_list`] read from a file.
    pub fn lookalike_words_file(self, path: &Path) -> Result<Self, FeatureError> {
        Ok(self.lookalike_words_list(read_list(path)?))
    }

    /// Replaces the built-in suffixes under which a brand's name counts as a
    /// tld-swap imitation (one a line).
    pub fn brand_tlds_list(mut self, text: String) -> Self {
        self.brand_tlds = Some(text);
        self
    }

    /// [`ContextBuilder::brand_tlds_list`] read from a file.
    pub fn brand_tlds_file(self, path: &Path) -> Result<Self, FeatureError> {
        Ok(self.brand_tlds_list(read_list(path)?))
    }

    /// Replaces the lookalike check's built-in popular domains (one a
    /// line; see `LookalikeIndexBuilder::popular`); an empty text turns
    /// the demotion of popular lookalikes off.
    pub fn lookalike_popular_list(mut self, text: String) -> Self {
        self.lookalike_popular = Some(text);
        self
    }

    /// [`ContextBuilder::lookalike_popular_list`] read from a file.
    pub fn lookalike_popular_file(self, path: &Path) -> Result<Self, FeatureError> {
        Ok(self.lookalike_popular_list(read_list(path)?))
    }

    /// Replaces the built-in brand list (see [`parse_brand_list`]); None
    /// turns brands off.
    pub fn brand_list(mut self, text: Option<String>) -> Self {
        self.brand_list = text;
        self
    }

    /// [`ContextBuilder::brand_list`] read from a file.
    pub fn brand_list_file(self, path: &Path) -> Result<Self, FeatureError> {
        Ok(self.brand_list(Some(read_list(path)?)))
    }

    /// Replaces the built-in brand-name tokens.
    pub fn brands_list(mut self, text: String) -> Self {
        self.brands = Some(text);
        self
    }

    /// Replaces the default filter of verdict headers never read.
    pub fn header_filter(mut self, filter: HeaderFilter) -> Self {
        self.header_filter = filter;
        self
    }

    /// Replaces the default [`ParseLimits`].
    pub fn limits(mut self, limits: ParseLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Take an mbox `From ` line's sender as the envelope when there is no
    /// Return-Path. Off by default: corpora add these lines themselves.
    pub fn trust_mbox_envelope(mut self, yes: bool) -> Self {
        self.trust_mbox_envelope = yes;
        self
    }

    /// Builds the Context: the lists parsed, the matchers and the lookalike
    /// index built. Fails only when a list cannot be compiled.
    pub fn build(self) -> Result<Context, FeatureError> {
        let mut internal = DomainSet::new();
        self.org
            .internal_domains
            .iter()
            .for_each(|d| internal.insert(d));
        let mut protected = DomainSet::new();
        self.org
            .internal_domains
            .iter()
            .chain(&self.org.protected_domains)
            .chain(&self.extra_protected)
            .for_each(|d| protected.insert(d));
        let mut freemail = DomainSet::new();
        freemail.extend_from_list(self.freemail.as_deref().unwrap_or(DEFAULT_FREEMAIL));
        let mut disposable = DomainSet::new();
        disposable.extend_from_list(self.disposable.as_deref().unwrap_or(DEFAULT_DISPOSABLE));
        let mut shorteners = DomainSet::new();
        shorteners.extend_from_list(DEFAULT_SHORTENERS);
        let brands = self.brands.as_deref().unwrap_or(DEFAULT_BRANDS);
        let mut brands: Vec<String> = list_entries(brands).map(str::to_ascii_lowercase).collect();
        for d in protected.iter() {
            let label = crate::domain::organisational_domain(d)
                .split('.')
                .next()
                .unwrap_or("");
            if label.len() >= 4 {
                brands.push(label.to_string());
            }
        }
        brands.sort();
        brands.dedup();
        let brand_matcher =
            aho_corasick::AhoCorasick::new(&brands).map_err(|source| FeatureError::Matcher {
                what: "brand list",
                source,
            })?;
        let trusted_authserv = self
            .org
            .trusted_authserv_ids
            .iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .collect();
        let mut trusted_receivers = DomainSet::new();
        self.org
            .trusted_receivers
            .iter()
            .for_each(|h| trusted_receivers.insert(h));
        let mut trusted_arc_sealers = DomainSet::new();
        self.org
            .trusted_arc_sealers
            .iter()
            .for_each(|d| trusted_arc_sealers.insert(d));
        // A profile built in code skipped from_toml's checks.
        let dns = self
            .org
            .dns_settings()
            .map_err(|problem| FeatureError::OrgProfile {
                path: std::path::PathBuf::from(format!("org profile {:?}", self.org.name)),
                problem,
            })?;
        let vips = VipIndex::new(&self.org.vips);
        let brand_list = self
            .brand_list
            .as_deref()
            .map(parse_brand_list)
            .unwrap_or_default();
        // The brand list's domains are guarded as brands; a domain also
        // given as the org's stays the org's (the index keeps the Org scope).
        let brand_domains = brand_list.iter().flat_map(|b| &b.domains);
        let mut lookalike = LookalikeIndex::builder()
            .org(
                self.org
                    .internal_domains
                    .iter()
                    .chain(&self.org.protected_domains),
            )
            .brands(self.extra_protected.iter().chain(brand_domains));
        if let Some(words) = &self.lookalike_words {
            lookalike = lookalike.words(words);
        }
        if let Some(tlds) = &self.brand_tlds {
            lookalike = lookalike.brand_tlds(tlds);
        }
        if let Some(popular) = &self.lookalike_popular {
            lookalike = lookalike.popular(popular);
        }
        let lookalike = lookalike.build();
        let mime_parser = crate::message::mime_parser();
        let callback = crate::callback::CallbackMatcher::new(&brand_list)?;
        Ok(Context {
            org: self.org,
            internal,
            protected,
            trusted_authserv,
            trusted_receivers,
            trusted_arc_sealers,
            dns,
            freemail,
            disposable,
            shorteners,
            brands,
            brand_matcher,
            brand_list,
            vips,
            intent: IntentMatcher::builtin()?,
            callback,
            lookalike,
            header_filter: self.header_filter,
            limits: self.limits,
            trust_mbox_envelope: self.trust_mbox_envelope,
            mime_parser,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example organisation, with its authserv-id upper-cased to show
    /// that ids are compared case-insensitively.
    fn example_org() -> String {
        include_str!("../../../datasets/orgs/kestrel-foods.toml")
            .replace("\"mx.kestrelfoods.com\"", "\"MX.kestrelfoods.com\"")
    }

    #[test]
    fn reads_the_design_example_profile() {
        let org = OrgProfile::from_toml(&example_org(), Path::new("org.toml")).unwrap();
        assert_eq!(org.vips[0].aliases, ["Dan Brandt"]);
        let ctx = Context::builder(org).build().unwrap();
        assert!(ctx.is_internal("mail.kestrelfoods.co.jp"));
        assert!(!ctx.is_internal("coldchain-partners.eu"));
        assert!(ctx.is_protected("coldchain-partners.eu"));
        assert!(ctx.trusted_authserv_ids().contains("mx.kestrelfoods.com"));
        assert!(ctx.is_trusted_receiver("mx.kestrelfoods.com"));
        assert!(ctx.is_trusted_receiver("mx2.eu.mail.protection.outlook.com"));
        assert!(!ctx.is_trusted_receiver("mail.protection.outlook.com.evil.example"));
        assert!(ctx.is_trusted_arc_sealer("google.com"));
        assert!(!ctx.is_trusted_arc_sealer("evil.example"));
        assert_eq!(ctx.dns().resolver, None);
        assert_eq!(ctx.dns().timeout, std::time::Duration::from_millis(500));
        assert_eq!(ctx.dns().attempts, 2);
        assert_eq!(
            ctx.dns().message_timeout,
            std::time::Duration::from_millis(1500)
        );
        assert_eq!(ctx.dns().cache_entries, 20_000);
        assert!(ctx.is_freemail("gmail.com") && ctx.is_freemail("yahoo.co.jp"));
        assert!(ctx.is_disposable("mailinator.com"));
        assert!(ctx.is_shortener("bit.ly"));
        assert!(ctx.brands().iter().any(|b| b == "kestrelfoods"));
    }

    #[test]
    fn bad_profiles_are_refused_with_the_reason() {
        let bad = [
            ("name = 1", "invalid type"),
            (
                "name = \"x\"\ninternal_domains = [\"not a domain\"]",
                "not a domain name",
            ),
            ("name = \"x\"\n[[vip]]\nname = \"\"", "empty name"),
            ("name = \"x\"\nunknown_key = 1", "unknown field"),
            (
                "name = \"x\"\ntrusted_receivers = [\"not a host\"]",
                "not a host name",
            ),
            ("name = \"x\"\n[dns]\nresolver = \"127.0.0.1\"", "IP:PORT"),
            ("name = \"x\"\n[dns]\ntimeout_ms = 0", "timeout_ms"),
            ("name = \"x\"\n[dns]\ncache_entries = 0", "cache_entries"),
            (
                "name = \"x\"\n[dns]\nresolver = \"[::1]:5353\"\ntimeout_ms = 60001",
                "timeout_ms",
            ),
            ("name = \"x\"\n[dns]\nport = 53", "unknown field"),
        ];
        for (text, needle) in bad {
            let err = OrgProfile::from_toml(text, Path::new("bad.toml")).unwrap_err();
            // The reason may be the error's cause: read the whole chain.
            let err = std::iter::successors(Some(&err as &dyn std::error::Error), |&e| e.source())
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            assert!(err.contains("bad.toml") && err.contains(needle), "{err}");
        }
    }

    #[test]
    fn an_old_profile_without_the_trust_keys_still_loads_with_defaults() {
        let org = OrgProfile::from_toml(
            "name = \"x\"\ninternal_domains = [\"x.example\"]",
            Path::new("old.toml"),
        )
        .unwrap();
        let ctx = Context::builder(org).build().unwrap();
        assert_eq!(ctx.dns(), &DnsSettings::default());
        assert!(ctx.is_trusted_receiver("mx.x.example"));
        assert!(!ctx.is_trusted_arc_sealer("google.com"));
        let custom = OrgProfile::from_toml(
            "name = \"x\"\n[dns]\nresolver = \"[::1]:5353\"\ncache_entries = 7",
            Path::new("dns.toml"),
        )
        .unwrap();
        let settings = custom.dns_settings().unwrap();
        assert_eq!(settings.resolver, Some("[::1]:5353".parse().unwrap()));
        assert_eq!(settings.cache_entries, 7);
    }

    #[test]
    fn lists_can_be_replaced() {
        let org = OrgProfile::from_toml("name = \"x\"", Path::new("x")).unwrap();
        let ctx = Context::builder(org)
            .freemail_list("example-free.net\n".into())
            .build()
            .unwrap();
        assert!(ctx.is_freemail("example-free.net"));
        assert!(!ctx.is_freemail("gmail.com"));
    }
}
