//! Authentication verdicts as the organisation's own servers recorded them:
//! Authentication-Results (RFC 8601) and Received-SPF. Anyone can write
//! these headers, so which ones are believed is decided by the trust chain
//! (`message::trust`): only fields the org's receivers prepended, the
//! topmost winning. This module reads the values; a missing verdict is
//! unknown, never fail.

use crate::domain::{organisational_domain, relaxed_aligned};
use serde::Serialize;

/// Three-valued: a verdict that is absent or inconclusive is `Unknown`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthVerdict {
    /// The check passed.
    Pass,
    /// The check failed (fail, softfail or permerror).
    Fail,
    /// No verdict, or one that says neither (none, neutral, temperror).
    #[default]
    Unknown,
}

/// A check's result as RFC 8601 names it; [`AuthResult::verdict`] folds it
/// into the three values features read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthResult {
    /// The check passed.
    Pass,
    /// The check failed.
    Fail,
    /// SPF: the domain says the host is probably not allowed.
    #[serde(rename = "softfail")]
    SoftFail,
    /// SPF: the domain says nothing about the host.
    Neutral,
    /// Nothing to check (no record, no signature), or no result known.
    #[default]
    None,
    /// A transient failure (DNS timeout, SERVFAIL): unknown, never fail.
    #[serde(rename = "temperror")]
    TempError,
    /// The domain's records are broken.
    #[serde(rename = "permerror")]
    PermError,
}

impl AuthResult {
    /// Reads an RFC 8601 result word (case-insensitive); `None` when the
    /// word is not one of them.
    pub fn parse(word: &str) -> Option<AuthResult> {
        Some(match word.to_ascii_lowercase().as_str() {
            "pass" => AuthResult::Pass,
            "fail" | "hardfail" => AuthResult::Fail,
            "softfail" => AuthResult::SoftFail,
            "neutral" | "policy" => AuthResult::Neutral,
            "none" => AuthResult::None,
            "temperror" => AuthResult::TempError,
            "permerror" => AuthResult::PermError,
            _ => return None,
        })
    }

    /// Pass; fail for fail, softfail and permerror; unknown otherwise
    /// (a temperror is never a fail).
    pub fn verdict(self) -> AuthVerdict {
        match self {
            AuthResult::Pass => AuthVerdict::Pass,
            AuthResult::Fail | AuthResult::SoftFail | AuthResult::PermError => AuthVerdict::Fail,
            AuthResult::Neutral | AuthResult::None | AuthResult::TempError => AuthVerdict::Unknown,
        }
    }

    /// The RFC 8601 word.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthResult::Pass => "pass",
            AuthResult::Fail => "fail",
            AuthResult::SoftFail => "softfail",
            AuthResult::Neutral => "neutral",
            AuthResult::None => "none",
            AuthResult::TempError => "temperror",
            AuthResult::PermError => "permerror",
        }
    }
}

/// A DMARC record's requested policy (`p=`, or `sp=` for a subdomain).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DmarcPolicy {
    /// `p=none`: monitor only.
    None,
    /// `p=quarantine`.
    Quarantine,
    /// `p=reject`.
    Reject,
}

impl DmarcPolicy {
    /// Reads `none`, `quarantine` or `reject` (case-insensitive).
    pub fn parse(word: &str) -> Option<DmarcPolicy> {
        match word.to_ascii_lowercase().as_str() {
            "none" => Some(DmarcPolicy::None),
            "quarantine" => Some(DmarcPolicy::Quarantine),
            "reject" => Some(DmarcPolicy::Reject),
            _ => None,
        }
    }

    /// The policy's word as a DMARC record writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcPolicy::None => "none",
            DmarcPolicy::Quarantine => "quarantine",
            DmarcPolicy::Reject => "reject",
        }
    }
}

/// Where the verdicts came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthSource {
    /// Read from Authentication-Results / Received-SPF headers that the
    /// organisation's trusted receivers added.
    #[default]
    Header,
    /// Verified live over DNS before extraction (the enrichment step).
    Live,
}

/// One DKIM result with the signing domain it was for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DkimResult {
    /// What the verifier found for this signature.
    pub result: AuthResult,
    /// `header.d`, or the domain of `header.i`, normalised.
    pub domain: Option<String>,
    /// `header.s`, the key's selector, when known.
    pub selector: Option<String>,
}

impl DkimResult {
    /// The three-valued reading of `result`.
    pub fn verdict(&self) -> AuthVerdict {
        self.result.verdict()
    }
}

/// The verdicts features read, merged topmost-first (from headers) or
/// verified live.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuthResults {
    /// The SPF result.
    pub spf: AuthResult,
    /// `smtp.mailfrom` of the SPF result (an address or a domain), or the
    /// HELO name when SPF was checked on it.
    pub spf_mailfrom: Option<String>,
    /// Every DKIM result, topmost header (or first signature) first.
    pub dkim: Vec<DkimResult>,
    /// The DMARC result. A permerror (a broken record) is kept as such
    /// but, being about the record and not the message, reads as unknown
    /// in [`AuthResults::dmarc_verdict`].
    pub dmarc: AuthResult,
    /// The policy the DMARC record asks for, when known.
    pub dmarc_policy: Option<DmarcPolicy>,
    /// `header.from` of the DMARC result: the domain DMARC was evaluated on.
    pub dmarc_header_from: Option<String>,
    /// The ARC chain's result.
    pub arc: AuthResult,
    /// Microsoft's composite authentication verdict (softfail counts as fail).
    pub compauth: AuthResult,
    /// ARC sealing domains (ARC-Seal `d=`) of the chain as it reached the
    /// organisation, most recent first: from headers, the sets below the
    /// trust boundary (the org's own seals are not a forwarder's).
    pub arc_sealers: Vec<String>,
    /// DMARC as the most recent sealer recorded it when it received the
    /// message (its ARC-Authentication-Results); None when unknown.
    pub arc_sealer_dmarc: Option<AuthResult>,
    /// The domain the most recent sealer evaluated DMARC on.
    pub arc_sealer_dmarc_header_from: Option<String>,
    /// At least one Authentication-Results header came from a trusted server.
    pub trusted_header_seen: bool,
    /// Headers or live verification.
    pub source: AuthSource,
}

impl AuthResults {
    /// Overall DKIM: pass if any signature passed, fail if some failed and
    /// none passed, unknown otherwise.
    pub fn dkim_overall(&self) -> AuthVerdict {
        if self.dkim.iter().any(|d| d.verdict() == AuthVerdict::Pass) {
            AuthVerdict::Pass
        } else if self.dkim.iter().any(|d| d.verdict() == AuthVerdict::Fail) {
            AuthVerdict::Fail
        } else {
            AuthVerdict::Unknown
        }
    }

    /// DMARC, three-valued; a permerror (the record is broken) is unknown.
    pub fn dmarc_verdict(&self) -> AuthVerdict {
        match self.dmarc {
            AuthResult::PermError => AuthVerdict::Unknown,
            r => r.verdict(),
        }
    }

    /// What `scan` reports (design.md §5): `spf`, each `dkim` with its
    /// domain, `dmarc` with policy and the domain it was evaluated on,
    /// `arc`, and `source`.
    pub fn summary(&self) -> AuthSummary {
        AuthSummary {
            spf: self.spf,
            dkim: self
                .dkim
                .iter()
                .map(|d| DkimSummary {
                    domain: d.domain.clone(),
                    result: d.result,
                })
                .collect(),
            dmarc: DmarcSummary {
                result: self.dmarc,
                policy: self.dmarc_policy,
                domain: self.dmarc_header_from.clone(),
            },
            arc: self.arc,
            source: self.source,
        }
    }

    /// The verdicts of trusted Authentication-Results fields, topmost
    /// first: each method is taken from the topmost field that reports it
    /// (its DKIM results as a whole, never merged with a lower field's).
    /// Per method rather than per field because one server's filters often
    /// write one field each (OpenDKIM, then OpenDMARC), all of them ours.
    pub(crate) fn from_headers(headers: impl IntoIterator<Item = AuthHeader>) -> AuthResults {
        let mut out = AuthResults::default();
        let (mut spf_set, mut dkim_set, mut dmarc_set) = (false, false, false);
        let (mut arc_set, mut compauth_set) = (false, false);
        for h in headers {
            out.trusted_header_seen = true;
            if let (Some((result, mailfrom)), false) = (h.spf, spf_set) {
                spf_set = true;
                out.spf = result;
                out.spf_mailfrom = mailfrom;
            }
            if !h.dkim.is_empty() && !dkim_set {
                dkim_set = true;
                out.dkim = h.dkim;
            }
            if let (Some(d), false) = (h.dmarc, dmarc_set) {
                dmarc_set = true;
                out.dmarc = d.result;
                out.dmarc_header_from = d.header_from;
                out.dmarc_policy = d.policy;
            }
            if let (Some(a), false) = (h.arc, arc_set) {
                arc_set = true;
                out.arc = a;
            }
            if let (Some(c), false) = (h.compauth, compauth_set) {
                compauth_set = true;
                out.compauth = c;
            }
        }
        out.source = AuthSource::Header;
        out
    }

    /// Uses a Received-SPF value when no trusted Authentication-Results gave
    /// an SPF verdict. Only the topmost trusted Received-SPF is passed in.
    pub(crate) fn merge_received_spf(&mut self, value: &str) {
        if self.spf != AuthResult::None || self.spf_mailfrom.is_some() {
            return;
        }
        let cleaned = strip_comments(value);
        let Some(result) = cleaned.split_whitespace().next() else {
            return;
        };
        self.spf = AuthResult::parse(result).unwrap_or_default();
        self.spf_mailfrom = cleaned
            .split(|c: char| c == ';' || c.is_whitespace())
            .find_map(|t| t.strip_prefix("envelope-from="))
            .map(|v| v.trim_matches('"').to_string());
    }

    /// Whether DMARC passed for the displayed From domain: a pass counts
    /// only when the domain it was evaluated on (`header.from`) is
    /// relaxed-aligned with `from_domain`. A pass without `header.from` is
    /// taken to be for From (the only domain DMARC evaluates).
    pub fn dmarc_passes_for(&self, from_domain: Option<&str>) -> bool {
        if self.dmarc_verdict() != AuthVerdict::Pass {
            return false;
        }
        match (self.dmarc_header_from.as_deref(), from_domain) {
            (Some(evaluated), Some(from)) => relaxed_aligned(evaluated, from),
            (Some(_), None) => false,
            (None, _) => true,
        }
    }

    /// The most recent ARC sealer of the chain as it arrived, when the
    /// chain passed.
    pub fn arc_last_sealer(&self) -> Option<&str> {
        (self.arc.verdict() == AuthVerdict::Pass)
            .then(|| self.arc_sealers.first().map(String::as_str))
            .flatten()
    }
}

/// DMARC as one Authentication-Results field reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DmarcReading {
    pub result: AuthResult,
    pub header_from: Option<String>,
    pub policy: Option<DmarcPolicy>,
}

/// One Authentication-Results (or ARC-Authentication-Results) field as
/// read, before anyone decided whether to believe it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AuthHeader {
    /// The authserv-id, lower case; None when the field has none
    /// (Microsoft 365 writes its results without one).
    pub authserv_id: Option<String>,
    pub spf: Option<(AuthResult, Option<String>)>,
    pub dkim: Vec<DkimResult>,
    pub dmarc: Option<DmarcReading>,
    pub arc: Option<AuthResult>,
    pub compauth: Option<AuthResult>,
}

/// Reads one Authentication-Results value (RFC 8601), comments included:
/// they carry the DMARC policy Gmail and others write (`(p=REJECT sp=NONE
/// dis=NONE)`). Only the first result of each method counts within a field.
pub(crate) fn parse_auth_header(value: &str) -> AuthHeader {
    let mut header = AuthHeader::default();
    let mut segments = split_segments(value).into_iter().peekable();
    // The authserv-id: the first segment's first word, unless that word is
    // already a result (`spf=pass`): a token cannot hold '='.
    let first_word = segments
        .peek()
        .and_then(|(clean, _)| clean.split_whitespace().next().map(str::to_string));
    if let Some(word) = first_word.filter(|w| !w.contains('=')) {
        header.authserv_id = Some(word.trim_matches('"').to_ascii_lowercase());
        segments.next();
    }
    for (clean, comments) in segments {
        let mut tokens = clean.split_whitespace();
        let Some((method, result)) = tokens.next().and_then(|t| t.split_once('=')) else {
            continue;
        };
        let method = method.split('/').next().unwrap_or("").to_ascii_lowercase();
        let result = AuthResult::parse(result.trim_matches('"')).unwrap_or_default();
        let props: Vec<(String, String)> = tokens
            .filter_map(|t| t.split_once('='))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_string()))
            .collect();
        let prop = |key: &str| props.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        match method.as_str() {
            "spf" if header.spf.is_none() => {
                let mailfrom = prop("smtp.mailfrom").or_else(|| prop("smtp.helo"));
                header.spf = Some((result, mailfrom));
            }
            "dkim" if header.dkim.len() < MAX_DKIM_RESULTS => {
                let domain = prop("header.d").or_else(|| {
                    prop("header.i").and_then(|i| i.rsplit('@').next().map(str::to_string))
                });
                header.dkim.push(DkimResult {
                    result,
                    domain: domain.map(|d| d.to_ascii_lowercase()),
                    selector: prop("header.s"),
                });
            }
            "dmarc" if header.dmarc.is_none() => {
                let header_from = prop("header.from").map(|d| d.to_ascii_lowercase());
                let policy = prop("policy.dmarc")
                    .and_then(|p| DmarcPolicy::parse(&p))
                    .or_else(|| comment_policy(&comments, header_from.as_deref()))
                    .or_else(|| action_policy(prop("action").as_deref(), result));
                header.dmarc = Some(DmarcReading {
                    result,
                    header_from,
                    policy,
                });
            }
            "arc" if header.arc.is_none() => header.arc = Some(result),
            "compauth" if header.compauth.is_none() => header.compauth = Some(result),
            _ => {}
        }
    }
    header
}

/// DKIM results kept from one field: a real one holds a handful.
const MAX_DKIM_RESULTS: usize = 16;

/// The policy in a comment such as Gmail's `(p=REJECT sp=NONE dis=NONE)`:
/// `sp=` when DMARC was evaluated on a subdomain and the record gives one,
/// else `p=`.
fn comment_policy(comments: &str, header_from: Option<&str>) -> Option<DmarcPolicy> {
    let tag = |name: &str| {
        comments
            .split(|c: char| c.is_whitespace() || c == ';' || c == ',')
            .filter_map(|t| t.split_once('='))
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| DmarcPolicy::parse(v))
    };
    let subdomain = header_from.is_some_and(|d| organisational_domain(d) != d);
    subdomain.then(|| tag("sp")).flatten().or_else(|| tag("p"))
}

/// Microsoft's `action=`: what was done, which shows the policy when DMARC
/// failed (`none` then means p=none; `oreject` is a reject overridden).
/// After a pass, `action=none` says nothing of the policy.
fn action_policy(action: Option<&str>, result: AuthResult) -> Option<DmarcPolicy> {
    match action?.to_ascii_lowercase().as_str() {
        "none" if result != AuthResult::Pass => Some(DmarcPolicy::None),
        "quarantine" | "pct.quarantine" => Some(DmarcPolicy::Quarantine),
        "reject" | "oreject" | "pct.reject" => Some(DmarcPolicy::Reject),
        _ => None,
    }
}

/// The `;`-separated parts of a value, each without its comments, and the
/// text of those comments beside it. Quoted strings stay intact; a `;` in a
/// comment or a quote separates nothing.
fn split_segments(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (mut clean, mut comments) = (String::new(), String::new());
    let mut depth = 0usize;
    let mut in_quote = false;
    let mut escaped = false;
    for c in value.chars() {
        let target = if depth > 0 { &mut comments } else { &mut clean };
        if escaped {
            escaped = false;
            target.push(c);
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' if depth == 0 => {
                in_quote = !in_quote;
                clean.push(c);
            }
            '(' if !in_quote => {
                depth += 1;
                comments.push(' ');
            }
            ')' if !in_quote && depth > 0 => {
                depth -= 1;
                clean.push(' ');
            }
            ';' if depth == 0 && !in_quote => {
                out.push((std::mem::take(&mut clean), std::mem::take(&mut comments)));
            }
            _ => target.push(c),
        }
    }
    out.push((clean, comments));
    out
}

/// The `i=` instance and `d=` sealing domain of an ARC-Seal value.
pub(crate) fn arc_seal_tags(value: &str) -> Option<(u32, String)> {
    let tag = |name: &str| {
        value
            .split(';')
            .filter_map(|t| t.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.split_whitespace().collect::<String>())
    };
    let instance = tag("i")?.parse().ok()?;
    let domain = crate::domain::normalize_domain(&tag("d")?)?;
    Some((instance, domain))
}

/// An ARC-Authentication-Results value's instance and the results after it
/// (`i=1; mx.google.com; dkim=pass ...`).
pub(crate) fn arc_authentication_results(value: &str) -> Option<(u32, AuthHeader)> {
    let (first, rest) = value.split_once(';')?;
    let instance = first.trim().strip_prefix("i=")?.trim().parse().ok()?;
    Some((instance, parse_auth_header(rest)))
}

/// The `auth` object of a scan record (design.md §5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuthSummary {
    /// The SPF result.
    pub spf: AuthResult,
    /// Each DKIM signature's domain and result.
    pub dkim: Vec<DkimSummary>,
    /// DMARC: result, requested policy and the domain it was evaluated on.
    pub dmarc: DmarcSummary,
    /// The ARC chain's result.
    pub arc: AuthResult,
    /// `live` or `header`.
    pub source: AuthSource,
}

/// One DKIM signature in [`AuthSummary`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DkimSummary {
    /// The signing domain (d=).
    pub domain: Option<String>,
    /// What verification found.
    pub result: AuthResult,
}

/// DMARC in [`AuthSummary`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DmarcSummary {
    /// What DMARC found.
    pub result: AuthResult,
    /// The policy the record asks for, when known.
    pub policy: Option<DmarcPolicy>,
    /// The From domain DMARC was evaluated on.
    pub domain: Option<String>,
}

/// Removes RFC 5322 comments (nested parentheses, backslash escapes) and
/// keeps quoted strings intact.
fn strip_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut in_quote = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' if depth == 0 => {
                in_quote = !in_quote;
                out.push(c);
            }
            '(' if !in_quote => depth += 1,
            ')' if !in_quote && depth > 0 => {
                depth -= 1;
                out.push(' ');
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(values: &[&str]) -> AuthResults {
        AuthResults::from_headers(values.iter().map(|v| parse_auth_header(v)))
    }

    #[test]
    fn a_gmail_style_field_is_read_with_its_policy_comment() {
        let h = parse_auth_header(
            "mx1.interface.com;\r\n\tspf=softfail (mx1: domain of x does not designate (nested) 1.2.3.4) smtp.mailfrom=lily@gmail.com;\r\n\tdkim=pass header.d=Gmail.com header.s=x;\r\n\tdmarc=fail (p=NONE sp=QUARANTINE dis=NONE) header.from=gmail.com; arc=none; compauth=softfail reason=001",
        );
        assert_eq!(h.authserv_id.as_deref(), Some("mx1.interface.com"));
        let ar = AuthResults::from_headers([h]);
        assert!(ar.trusted_header_seen);
        assert_eq!(ar.spf, AuthResult::SoftFail);
        assert_eq!(ar.spf_mailfrom.as_deref(), Some("lily@gmail.com"));
        assert_eq!(ar.dkim_overall(), AuthVerdict::Pass);
        assert_eq!(ar.dkim[0].domain.as_deref(), Some("gmail.com"));
        assert_eq!(ar.dmarc, AuthResult::Fail);
        assert_eq!(ar.dmarc_header_from.as_deref(), Some("gmail.com"));
        assert_eq!(ar.dmarc_policy, Some(DmarcPolicy::None));
        assert_eq!(ar.arc, AuthResult::None);
        assert_eq!(ar.compauth, AuthResult::SoftFail);
    }

    #[test]
    fn the_subdomain_policy_applies_to_a_subdomain() {
        let ar =
            read(&["mx; dmarc=fail (p=NONE sp=REJECT dis=REJECT) header.from=news.example.com"]);
        assert_eq!(ar.dmarc_policy, Some(DmarcPolicy::Reject));
        let ar = read(&["mx; dmarc=fail (p=QUARANTINE) header.from=news.example.com"]);
        assert_eq!(ar.dmarc_policy, Some(DmarcPolicy::Quarantine));
    }

    #[test]
    fn a_microsoft_field_without_an_authserv_id_is_read() {
        let h = parse_auth_header(
            "spf=pass (sender IP is 209.85.128.41) smtp.mailfrom=example.org; dkim=pass (signature was verified) header.d=example.org;dmarc=fail action=none header.from=example.org;compauth=pass reason=100",
        );
        assert_eq!(h.authserv_id, None);
        let ar = AuthResults::from_headers([h]);
        assert_eq!(ar.spf, AuthResult::Pass);
        assert_eq!(ar.dkim_overall(), AuthVerdict::Pass);
        assert_eq!(ar.dmarc, AuthResult::Fail);
        assert_eq!(ar.dmarc_policy, Some(DmarcPolicy::None));
        assert_eq!(ar.compauth, AuthResult::Pass);
        let rejected = read(&["dmarc=fail action=oreject header.from=example.org"]);
        assert_eq!(rejected.dmarc_policy, Some(DmarcPolicy::Reject));
        let passed = read(&["dmarc=pass action=none header.from=example.org"]);
        assert_eq!(passed.dmarc_policy, None);
        let explicit = read(&["mx; dmarc=fail policy.dmarc=quarantine header.from=x.org"]);
        assert_eq!(explicit.dmarc_policy, Some(DmarcPolicy::Quarantine));
    }

    #[test]
    fn the_topmost_field_wins_each_method_and_dkim_results_are_not_merged() {
        let ar = read(&[
            "mx.a; dkim=fail header.d=x.org",
            "mx.a; dkim=pass header.d=x.org; dkim=pass header.d=y.org; dmarc=pass header.from=x.org",
        ]);
        assert_eq!(ar.dkim.len(), 1);
        assert_eq!(ar.dkim_overall(), AuthVerdict::Fail);
        // DMARC came only from the lower field: its filter wrote its own.
        assert_eq!(ar.dmarc, AuthResult::Pass);
    }

    #[test]
    fn missing_verdicts_stay_unknown() {
        let ar = read(&["MX1.INTERFACE.COM 1; none"]);
        assert!(ar.trusted_header_seen);
        assert_eq!(ar.spf, AuthResult::None);
        assert_eq!(ar.dmarc, AuthResult::None);
        assert_eq!(ar.dkim_overall(), AuthVerdict::Unknown);
    }

    #[test]
    fn a_dmarc_pass_counts_only_for_the_domain_it_was_evaluated_on() {
        let ar = read(&["mx; dmarc=pass header.from=attacker.example"]);
        assert!(ar.dmarc_passes_for(Some("attacker.example")));
        assert!(ar.dmarc_passes_for(Some("mail.attacker.example")));
        assert!(!ar.dmarc_passes_for(Some("kestrelfoods.com")));
        assert!(!ar.dmarc_passes_for(None));
        assert!(read(&["mx; dmarc=pass"]).dmarc_passes_for(Some("x.org")));
    }

    #[test]
    fn received_spf_only_fills_a_gap() {
        let mut ar = AuthResults::default();
        ar.merge_received_spf("Softfail (mailfrom) identity=mailfrom; client-ip=198.51.100.183; envelope-from=lily@gmail.com; receiver=j@x");
        assert_eq!(ar.spf, AuthResult::SoftFail);
        assert_eq!(ar.spf_mailfrom.as_deref(), Some("lily@gmail.com"));
        ar.merge_received_spf("pass");
        assert_eq!(ar.spf, AuthResult::SoftFail);
    }

    #[test]
    fn arc_fields_give_their_instance_and_sealer() {
        assert_eq!(
            arc_seal_tags(
                "i=2; a=rsa-sha256; t=1; cv=pass; d=Google.com; s=arc-20160816;\r\n\tb=abc"
            ),
            Some((2, "google.com".to_string()))
        );
        assert_eq!(arc_seal_tags("a=rsa-sha256; d=google.com"), None);
        let (i, h) = arc_authentication_results(
            "i=1; mx.google.com; dkim=pass header.d=list.example; dmarc=pass (p=NONE) header.from=list.example",
        )
        .unwrap();
        assert_eq!(i, 1);
        assert_eq!(h.authserv_id.as_deref(), Some("mx.google.com"));
        assert_eq!(h.dmarc.unwrap().result, AuthResult::Pass);
    }

    #[test]
    fn hostile_values_do_not_panic() {
        let mut ar = AuthResults::default();
        for v in [
            "",
            ";;;",
            "mx1.interface.com",
            "mx1.interface.com; =; spf=; ((((",
            "mx1.interface.com; dkim=pass header.i=@",
            "\\",
            "(p=)",
            "mx; dmarc=fail (p=",
            "i=; d=",
            "i=99999999999999999999; d=x",
        ] {
            let _ = AuthResults::from_headers([parse_auth_header(v)]);
            let _ = arc_seal_tags(v);
            let _ = arc_authentication_results(v);
            ar.merge_received_spf(v);
        }
    }
}
