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
    /// The check failed (for SPF: fail, softfail or permerror).
    Fail,
    /// No verdict, or one that says neither (none, neutral, temperror).
    #[default]
    Unknown,
}

/// One DKIM result with the signing domain it was for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DkimResult {
    /// What the trusted server found for this signature.
    pub verdict: AuthVerdict,
    /// `header.d`, or the domain of `header.i`.
    pub domain: Option<String>,
}

/// What the trusted verdicts say, merged topmost-first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuthResults {
    /// The SPF verdict (or the topmost Received-SPF's, when no trusted
    /// Authentication-Results gave one).
    pub spf: AuthVerdict,
    /// `smtp.mailfrom` of the SPF result (an address or a domain).
    pub spf_mailfrom: Option<String>,
    /// Every DKIM result, topmost header first.
    pub dkim: Vec<DkimResult>,
    /// The DMARC verdict.
    pub dmarc: AuthVerdict,
    /// `header.from` of the DMARC result.
    pub dmarc_header_from: Option<String>,
    /// The ARC verdict.
    pub arc: AuthVerdict,
    /// Microsoft's composite authentication verdict (softfail counts as fail).
    pub compauth: AuthVerdict,
    /// At least one Authentication-Results header came from a trusted server.
    pub trusted_header_seen: bool,
}

impl AuthResults {
    /// Overall DKIM: pass if any signature passed, fail if some failed and
    /// none passed, unknown otherwise.
    pub fn dkim_overall(&self) -> AuthVerdict {
        if self.dkim.iter().any(|d| d.verdict == AuthVerdict::Pass) {
            AuthVerdict::Pass
        } else if self.dkim.iter().any(|d| d.verdict == AuthVerdict::Fail) {
            AuthVerdict::Fail
        } else {
            AuthVerdict::Unknown
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
        for segment in segments {
            let mut tokens = segment.split_whitespace();
            let Some((method, result)) = tokens.next().and_then(|t| t.split_once('=')) else {
                continue;
            };
            let method = method.split('/').next().unwrap_or("").to_ascii_lowercase();
            let result = result.trim_matches('"').to_ascii_lowercase();
            let props: Vec<(String, String)> = tokens
                .filter_map(|t| t.split_once('='))
                .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_string()))
                .collect();
            let prop = |key: &str| props.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
            match method.as_str() {
                "spf" if self.spf == AuthVerdict::Unknown && self.spf_mailfrom.is_none() => {
                    self.spf = spf_verdict(&result);
                    self.spf_mailfrom = prop("smtp.mailfrom").or_else(|| prop("smtp.helo"));
                }
                "dkim" => {
                    let domain = prop("header.d").or_else(|| {
                        prop("header.i").and_then(|i| i.rsplit('@').next().map(str::to_string))
                    });
                    self.dkim.push(DkimResult {
                        verdict: dkim_verdict(&result),
                        domain: domain.map(|d| d.to_ascii_lowercase()),
                    });
                }
                "dmarc"
                    if self.dmarc == AuthVerdict::Unknown && self.dmarc_header_from.is_none() =>
                {
                    self.dmarc = pass_fail(&result, &["fail"]);
                    self.dmarc_header_from = prop("header.from").map(|d| d.to_ascii_lowercase());
                }
                "arc" if self.arc == AuthVerdict::Unknown => {
                    self.arc = pass_fail(&result, &["fail"]);
                }
                "compauth" if self.compauth == AuthVerdict::Unknown => {
                    self.compauth = pass_fail(&result, &["fail", "softfail"]);
                }
                _ => {}
            }
        }
    }

    /// Uses a Received-SPF value when no trusted Authentication-Results gave
    /// an SPF verdict. Only the topmost Received-SPF is passed in.
    pub(crate) fn merge_received_spf(&mut self, value: &str) {
        if self.spf != AuthVerdict::Unknown || self.spf_mailfrom.is_some() {
            return;
        }
        let cleaned = strip_comments(value);
        let Some(result) = cleaned.split_whitespace().next() else {
            return;
        };
        self.spf = spf_verdict(&result.to_ascii_lowercase());
        self.spf_mailfrom = cleaned
            .split(|c: char| c == ';' || c.is_whitespace())
            .find_map(|t| t.strip_prefix("envelope-from="))
            .map(|v| v.trim_matches('"').to_string());
    }
}

fn spf_verdict(result: &str) -> AuthVerdict {
    pass_fail(result, &["fail", "softfail", "permerror"])
}

fn dkim_verdict(result: &str) -> AuthVerdict {
    pass_fail(result, &["fail", "permerror"])
}

fn pass_fail(result: &str, fails: &[&str]) -> AuthVerdict {
    if result == "pass" {
        AuthVerdict::Pass
    } else if fails.contains(&result) {
        AuthVerdict::Fail
    } else {
        AuthVerdict::Unknown
    }
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
        assert_eq!(ar.spf, AuthVerdict::Fail);
        assert_eq!(ar.spf_mailfrom.as_deref(), Some("lily@gmail.com"));
        assert_eq!(ar.dkim_overall(), AuthVerdict::Pass);
        assert_eq!(ar.dkim[0].domain.as_deref(), Some("gmail.com"));
        assert_eq!(ar.dmarc, AuthVerdict::Fail);
        assert_eq!(ar.dmarc_header_from.as_deref(), Some("gmail.com"));
        assert_eq!(ar.arc, AuthVerdict::Unknown);
        assert_eq!(ar.compauth, AuthVerdict::Fail);
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
        assert_eq!(ar.spf, AuthVerdict::Unknown);
        assert_eq!(ar.dmarc, AuthVerdict::Unknown);
        assert_eq!(ar.dkim_overall(), AuthVerdict::Unknown);
    }

    #[test]
    fn received_spf_only_fills_a_gap() {
        let mut ar = AuthResults::default();
        ar.merge_received_spf("Softfail (mailfrom) identity=mailfrom; client-ip=198.51.100.183; envelope-from=lily@gmail.com; receiver=j@x");
        assert_eq!(ar.spf, AuthVerdict::Fail);
        assert_eq!(ar.spf_mailfrom.as_deref(), Some("lily@gmail.com"));
        ar.merge_received_spf("pass");
        assert_eq!(ar.spf, AuthVerdict::Fail);
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
