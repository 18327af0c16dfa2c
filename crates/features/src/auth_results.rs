//! Authentication verdicts as the organisation's own servers recorded them:
//! Authentication-Results (RFC 8601) from trusted authserv-ids only, and the
//! topmost Received-SPF. Anyone can write these headers, so an untrusted one
//! is never read, and a missing verdict is unknown, never fail.

use serde::Serialize;
use std::collections::HashSet;

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

    /// Merges one Authentication-Results value if its authserv-id is
    /// trusted (compared case-insensitively). Earlier (higher) headers win.
    pub(crate) fn merge_header(&mut self, value: &str, trusted: &HashSet<String>) {
        let cleaned = strip_comments(value);
        let mut segments = cleaned.split(';');
        let authserv = segments
            .next()
            .and_then(|s| s.split_whitespace().next())
            .map(|s| s.to_ascii_lowercase());
        let Some(authserv) = authserv else { return };
        if !trusted.contains(&authserv) {
            return;
        }
        self.trusted_header_seen = true;
        self.source = AuthSource::Header;
        for segment in segments {
            let mut tokens = segment.split_whitespace();
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
                "spf" if self.spf == AuthResult::None && self.spf_mailfrom.is_none() => {
                    self.spf = result;
                    self.spf_mailfrom = prop("smtp.mailfrom").or_else(|| prop("smtp.helo"));
                }
                "dkim" => {
                    let domain = prop("header.d").or_else(|| {
                        prop("header.i").and_then(|i| i.rsplit('@').next().map(str::to_string))
                    });
                    self.dkim.push(DkimResult {
                        result,
                        domain: domain.map(|d| d.to_ascii_lowercase()),
                        selector: prop("header.s"),
                    });
                }
                "dmarc" if self.dmarc == AuthResult::None && self.dmarc_header_from.is_none() => {
                    self.dmarc = result;
                    self.dmarc_header_from = prop("header.from").map(|d| d.to_ascii_lowercase());
                    self.dmarc_policy = prop("policy.dmarc").and_then(|p| DmarcPolicy::parse(&p));
                }
                "arc" if self.arc == AuthResult::None => self.arc = result,
                "compauth" if self.compauth == AuthResult::None => self.compauth = result,
                _ => {}
            }
        }
    }

    /// Uses a Received-SPF value when no trusted Authentication-Results gave
    /// an SPF verdict. Only the topmost Received-SPF is passed in.
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

    fn trusted() -> HashSet<String> {
        ["mx1.interface.com".to_string()].into_iter().collect()
    }

    #[test]
    fn reads_a_trusted_header() {
        let mut ar = AuthResults::default();
        ar.merge_header(
            "mx1.interface.com;\r\n\tspf=softfail (mx1: domain of x does not designate (nested) 1.2.3.4) smtp.mailfrom=lily@gmail.com;\r\n\tdkim=pass header.d=Gmail.com header.s=x;\r\n\tdmarc=fail (p=NONE) header.from=gmail.com; arc=none; compauth=softfail reason=001",
            &trusted(),
        );
        assert!(ar.trusted_header_seen);
        assert_eq!(ar.spf, AuthResult::SoftFail);
        assert_eq!(ar.spf_mailfrom.as_deref(), Some("lily@gmail.com"));
        assert_eq!(ar.dkim_overall(), AuthVerdict::Pass);
        assert_eq!(ar.dkim[0].domain.as_deref(), Some("gmail.com"));
        assert_eq!(ar.dmarc, AuthResult::Fail);
        assert_eq!(ar.dmarc_header_from.as_deref(), Some("gmail.com"));
        assert_eq!(ar.arc, AuthResult::None);
        assert_eq!(ar.compauth, AuthResult::SoftFail);
    }

    #[test]
    fn ignores_untrusted_servers_and_missing_verdicts_stay_unknown() {
        let mut ar = AuthResults::default();
        ar.merge_header(
            "evil.example; spf=pass smtp.mailfrom=x.com; dmarc=pass",
            &trusted(),
        );
        assert_eq!(ar, AuthResults::default());
        ar.merge_header("MX1.INTERFACE.COM 1; none", &trusted());
        assert!(ar.trusted_header_seen);
        assert_eq!(ar.spf, AuthResult::None);
        assert_eq!(ar.dmarc, AuthResult::None);
        assert_eq!(ar.dkim_overall(), AuthVerdict::Unknown);
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
    fn hostile_values_do_not_panic() {
        let mut ar = AuthResults::default();
        for v in [
            "",
            ";;;",
            "mx1.interface.com",
            "mx1.interface.com; =; spf=; ((((",
            "mx1.interface.com; dkim=pass header.i=@",
        ] {
            ar.merge_header(v, &trusted());
            ar.merge_received_spf(v);
        }
    }
}
