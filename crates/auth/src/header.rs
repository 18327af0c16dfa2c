//! The Authentication-Results header (RFC 8601) a gateway adds with what
//! it verified, so the MTA and mailbox rules downstream see the results;
//! and which incoming copies claim the gateway's authserv-id (forged:
//! they must be removed before the real one is added).

use crate::verifier::Enrichment;
use impostor_features::AuthResult;

/// The header's name.
pub const AUTHENTICATION_RESULTS: &str = "Authentication-Results";

/// Past this length the value is folded between results.
const FOLD_AT: usize = 900;

/// The header's value: `authserv-id; spf=… smtp.mailfrom=…; dkim=…
/// header.d=… header.s=… (one per signature); dmarc=… (p=…)
/// header.from=…; arc=…`. Values are reduced to characters a header
/// property may hold; long values are folded with LF + tab (how milters
/// pass folded fields).
pub fn authentication_results(authserv_id: &str, e: &Enrichment) -> String {
    let a = &e.auth;
    let mut parts: Vec<String> = Vec::new();
    let mut spf = format!("spf={}", a.spf.as_str());
    match (&e.spf_helo, &a.spf_mailfrom) {
        (Some(h), _) => push_prop(&mut spf, "smtp.helo", h),
        (None, Some(m)) => push_prop(&mut spf, "smtp.mailfrom", m),
        (None, None) => {}
    }
    parts.push(spf);
    if a.dkim.is_empty() {
        parts.push("dkim=none".into());
    }
    for d in &a.dkim {
        let mut s = format!("dkim={}", d.result.as_str());
        if let Some(dom) = &d.domain {
            push_prop(&mut s, "header.d", dom);
        }
        if let Some(sel) = &d.selector {
            push_prop(&mut s, "header.s", sel);
        }
        parts.push(s);
    }
    let mut dmarc = format!("dmarc={}", a.dmarc.as_str());
    if let Some(p) = a.dmarc_policy {
        dmarc.push_str(&format!(" (p={})", p.as_str()));
    }
    if let Some(f) = &a.dmarc_header_from {
        push_prop(&mut dmarc, "header.from", f);
    }
    parts.push(dmarc);
    let mut arc = format!("arc={}", a.arc.as_str());
    if a.arc == AuthResult::Pass && e.arc_trusted_sealer {
        arc.push_str(" (trusted sealer)");
    }
    parts.push(arc);
    let id = token(authserv_id);
    let one_line = format!("{id}; {}", parts.join("; "));
    if one_line.len() <= FOLD_AT {
        one_line
    } else {
        format!("{id};\n\t{}", parts.join(";\n\t"))
    }
}

/// Whether an Authentication-Results value claims `authserv_id` (the
/// first token, compared case-insensitively; a version number after it is
/// allowed).
pub fn claims_authserv_id(value: &str, authserv_id: &str) -> bool {
    let head = value.split(';').next().unwrap_or_default();
    let head = strip_comments(head);
    head.split_whitespace()
        .next()
        .is_some_and(|t| t.eq_ignore_ascii_case(authserv_id))
}

fn strip_comments(s: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' => depth = depth.saturating_add(1),
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn push_prop(s: &mut String, name: &str, value: &str) {
    let v = token(value);
    if !v.is_empty() {
        s.push(' ');
        s.push_str(name);
        s.push('=');
        s.push_str(&v);
    }
}

/// A property value as a bare token: printable ASCII without space,
/// quotes, comments' parentheses, ';' or '\', at most 255 characters.
fn token(v: &str) -> String {
    v.chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, ';' | '(' | ')' | '"' | '\\'))
        .take(255)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use impostor_features::{AuthResults, AuthSource, DkimResult, DmarcPolicy};

    fn enrichment() -> Enrichment {
        Enrichment {
            auth: AuthResults {
                spf: AuthResult::Pass,
                spf_mailfrom: Some("bounce@mail.example.org".into()),
                dkim: vec![DkimResult {
                    result: AuthResult::Fail,
                    domain: Some("example.org".into()),
                    selector: Some("s1".into()),
                }],
                dmarc: AuthResult::Fail,
                dmarc_policy: Some(DmarcPolicy::Reject),
                dmarc_header_from: Some("example.org".into()),
                source: AuthSource::Live,
                ..AuthResults::default()
            },
            ..Enrichment::default()
        }
    }

    #[test]
    fn the_header_names_every_result_with_its_domain() {
        assert_eq!(
            authentication_results("mx.example.net", &enrichment()),
            "mx.example.net; spf=pass smtp.mailfrom=bounce@mail.example.org; \
             dkim=fail header.d=example.org header.s=s1; \
             dmarc=fail (p=reject) header.from=example.org; arc=none"
        );
    }

    #[test]
    fn hostile_values_cannot_inject_results_or_lines() {
        let mut e = enrichment();
        e.auth.spf_mailfrom = Some("x@y; dkim=pass\r\nX-Evil: 1".into());
        let v = authentication_results("mx", &e);
        assert!(!v.contains('\r') && !v.contains('\n'));
        assert_eq!(v.matches(';').count(), 4, "{v}");
        assert!(v.contains("smtp.mailfrom=x@ydkim=passX-Evil:1"));
    }

    #[test]
    fn many_signatures_fold_the_value_between_results() {
        let mut e = enrichment();
        e.auth.dkim = (0..16)
            .map(|i| DkimResult {
                result: AuthResult::Pass,
                domain: Some(format!("signer-number-{i}.example.org")),
                selector: Some(format!("selector-{i}")),
            })
            .collect();
        let v = authentication_results("mx", &e);
        assert!(v.lines().all(|l| l.len() < 998));
        assert!(v.contains(";\n\tdkim=pass"));
    }

    #[test]
    fn a_copy_claiming_our_authserv_id_is_recognised() {
        assert!(claims_authserv_id(
            "mx.example.net; dkim=pass",
            "MX.example.net"
        ));
        assert!(claims_authserv_id(
            " mx.example.net 1; spf=pass",
            "mx.example.net"
        ));
        assert!(claims_authserv_id(
            "(forged) mx.example.net; spf=pass",
            "mx.example.net"
        ));
        assert!(!claims_authserv_id(
            "mx.example.net.evil; spf=pass",
            "mx.example.net"
        ));
        assert!(!claims_authserv_id("other; spf=pass", "mx.example.net"));
    }
}
