//! The sender path: who the envelope, the From, the DKIM signers and the
//! route say sent the message, and whether the trusted verdicts agree. The
//! header tricks that make clients and verifiers see different senders are
//! `crate::identity`'s.

use crate::auth_results::{AuthResults, AuthVerdict};
use crate::context::Context;
use crate::domain::{address_domain, organisational_domain, relaxed_aligned};
use crate::evidence::{EvidenceLog, Technique};
use crate::message::MessageView;
use crate::schema::{Feature, FeatureVector};

/// Did a trusted verdict authenticate `domain`: DMARC pass for it, an
/// aligned DKIM pass, or an aligned SPF pass.
pub(crate) fn authenticated_for(
    auth: &AuthResults,
    domain: &str,
    from_domain: Option<&str>,
) -> bool {
    let dmarc_domain = auth.dmarc_header_from.as_deref().or(from_domain);
    let dmarc = auth.dmarc_verdict() == AuthVerdict::Pass
        && dmarc_domain.is_some_and(|d| relaxed_aligned(d, domain));
    let dkim = auth.dkim.iter().any(|r| {
        r.verdict() == AuthVerdict::Pass
            && r.domain
                .as_deref()
                .is_some_and(|d| relaxed_aligned(d, domain))
    });
    let spf_domain = auth.spf_mailfrom.as_deref().and_then(|m| {
        if m.contains('@') {
            address_domain(m)
        } else {
            crate::domain::normalize_domain(m)
        }
    });
    let spf = auth.spf.verdict() == AuthVerdict::Pass
        && spf_domain.is_some_and(|d| relaxed_aligned(&d, domain));
    dmarc || dkim || spf
}

pub(crate) fn extract(
    view: &MessageView,
    ctx: &Context,
    v: &mut FeatureVector,
    log: &mut EvidenceLog,
) {
    let auth = &view.auth;
    let from_domain = view.from_domain();
    let env_domain = view.envelope_domain();
    let env_aligned = match (from_domain, env_domain) {
        (Some(f), Some(e)) => relaxed_aligned(f, e),
        _ => true,
    };

    // Alignment of envelope and DKIM signers with From.
    if let (Some(f), Some(e)) = (from_domain, env_domain) {
        v.set_flag(Feature::EnvelopeFromHostMismatch, f != e);
        if !env_aligned {
            v.set_flag(Feature::EnvelopeFromDomainMismatch, true);
            let claims_ours = ctx.is_internal(f) || ctx.is_protected(f);
            let technique = (claims_ours || auth.dmarc_verdict() == AuthVerdict::Fail)
                .then_some(Technique::HeaderFromSpoof);
            log.add(
                Feature::EnvelopeFromDomainMismatch,
                technique,
                format!(
                    "envelope sender is on {}, the From address on {}",
                    organisational_domain(e),
                    organisational_domain(f)
                ),
            );
        }
    }
    if let (Some(f), false) = (from_domain, view.dkim_signatures.is_empty()) {
        let relaxed = view
            .dkim_signatures
            .iter()
            .any(|s| relaxed_aligned(&s.domain, f));
        let strict = view.dkim_signatures.iter().any(|s| s.domain == f);
        v.set_flag(Feature::DkimFromDomainMismatch, !relaxed);
        v.set_flag(Feature::DkimFromHostMismatch, !strict);
        if !relaxed {
            let signers: Vec<&str> = view
                .dkim_signatures
                .iter()
                .map(|s| s.domain.as_str())
                .collect();
            log.add(
                Feature::DkimFromDomainMismatch,
                None,
                format!(
                    "signed by {} but From is on {}",
                    signers.join(", "),
                    organisational_domain(f)
                ),
            );
        }
    }

    // Trusted verdicts, three-valued.
    let flag_pair = |v: &mut FeatureVector, verdict: AuthVerdict, pass: Feature, fail: Feature| {
        v.set_flag(pass, verdict == AuthVerdict::Pass);
        v.set_flag(fail, verdict == AuthVerdict::Fail);
    };
    flag_pair(
        v,
        auth.spf.verdict(),
        Feature::AuthSpfPass,
        Feature::AuthSpfFail,
    );
    flag_pair(
        v,
        auth.dkim_overall(),
        Feature::AuthDkimPass,
        Feature::AuthDkimFail,
    );
    flag_pair(
        v,
        auth.dmarc_verdict(),
        Feature::AuthDmarcPass,
        Feature::AuthDmarcFail,
    );
    flag_pair(
        v,
        auth.arc.verdict(),
        Feature::AuthArcPass,
        Feature::AuthArcFail,
    );
    flag_pair(
        v,
        auth.compauth.verdict(),
        Feature::AuthCompauthPass,
        Feature::AuthCompauthFail,
    );
    let spoof_kind = if env_aligned {
        Technique::EnvelopeFromSpoof
    } else {
        Technique::HeaderFromSpoof
    };
    if auth.spf.verdict() == AuthVerdict::Fail {
        let what = auth
            .spf_mailfrom
            .as_deref()
            .or(env_domain)
            .unwrap_or("the envelope sender");
        log.add(
            Feature::AuthSpfFail,
            Some(Technique::EnvelopeFromSpoof),
            format!("SPF failed for {what}: the sending host may not send for that domain"),
        );
    }
    if auth.dmarc_verdict() == AuthVerdict::Fail {
        let what = auth
            .dmarc_header_from
            .as_deref()
            .or(from_domain)
            .unwrap_or("the From domain");
        log.add(
            Feature::AuthDmarcFail,
            Some(spoof_kind),
            format!("DMARC failed for {what}"),
        );
    }
    if auth.compauth.verdict() == AuthVerdict::Fail {
        log.add(
            Feature::AuthCompauthFail,
            Some(spoof_kind),
            "composite authentication failed".into(),
        );
    }
    if auth.dkim_overall() == AuthVerdict::Fail {
        log.add(
            Feature::AuthDkimFail,
            None,
            "every DKIM signature failed verification".into(),
        );
    }

    // An internal or protected domain claimed over an external route.
    let external_route = view.first_external_hop.is_some();
    let claims = [
        ("From", from_domain, Technique::HeaderFromSpoof),
        (
            "Sender",
            view.sender.as_ref().and_then(|s| s.domain.as_deref()),
            Technique::HeaderFromSpoof,
        ),
        ("envelope sender", env_domain, Technique::EnvelopeFromSpoof),
    ];
    for (which, domain, technique) in claims {
        let Some(d) = domain else { continue };
        if ctx.is_internal(d) && external_route && !authenticated_for(auth, d, from_domain) {
            if v.get(Feature::InternalDomainExternalRoute) == 0.0 {
                v.set_flag(Feature::InternalDomainExternalRoute, true);
            }
            let hop = view.first_external().map(describe_hop).unwrap_or_default();
            log.add(
                Feature::InternalDomainExternalRoute,
                Some(technique),
                format!("{which} claims internal domain {d} but the message came from outside{hop} and nothing authenticated it"),
            );
        }
    }
    if let Some(f) = from_domain.filter(|f| ctx.is_protected(f) && !ctx.is_internal(f)) {
        let dkim_aligned_pass = auth.dkim.iter().any(|r| {
            r.verdict() == AuthVerdict::Pass
                && r.domain.as_deref().is_some_and(|d| relaxed_aligned(d, f))
        });
        let failed = auth.dmarc_verdict() == AuthVerdict::Fail
            || (auth.spf.verdict() == AuthVerdict::Fail && env_aligned && !dkim_aligned_pass);
        if failed {
            v.set_flag(Feature::ProtectedDomainUnauthenticated, true);
            log.add(
                Feature::ProtectedDomainUnauthenticated,
                Some(spoof_kind),
                format!("From claims protected domain {f} and authentication failed for it"),
            );
        }
    }

    // The first external hop's name against the claimed domains.
    if let Some(hop) = view.first_external() {
        let name = hop
            .reverse_name
            .as_deref()
            .or(hop.helo.as_deref())
            .filter(|n| n.parse::<std::net::IpAddr>().is_err());
        if let (Some(name), true) = (name, from_domain.is_some() || env_domain.is_some()) {
            let unrelated = [from_domain, env_domain]
                .into_iter()
                .flatten()
                .all(|d| !relaxed_aligned(d, name));
            if unrelated {
                v.set_flag(Feature::FirstHopHeloDomainMismatch, true);
                let claimed = env_domain.or(from_domain).unwrap_or("");
                let guarded = ctx.is_freemail(claimed)
                    || ctx.is_internal(claimed)
                    || ctx.is_protected(claimed);
                let failed = auth.spf.verdict() == AuthVerdict::Fail
                    || auth.dmarc_verdict() == AuthVerdict::Fail;
                log.add(
                    Feature::FirstHopHeloDomainMismatch,
                    (guarded && failed).then_some(Technique::EnvelopeFromSpoof),
                    format!("mail for {claimed} was handed over by {name}, which belongs to another domain"),
                );
            }
        }
    }

    // Header ambiguity (several From, Sender without From, encoded-word,
    // route, comment and NUL tricks) and the readers' disagreement are
    // `crate::identity`'s, run right after this family.
    if let (Some(m), Some(f)) = (view.message_id_domain.as_deref(), from_domain) {
        v.set_flag(Feature::MessageIdDomainMismatch, !relaxed_aligned(m, f));
    }

    // An authenticated internal sender (account compromise is decided once
    // intent and links are known).
    if let Some(f) = from_domain {
        v.set_flag(
            Feature::InternalAuthenticatedSender,
            ctx.is_internal(f) && authenticated_for(auth, f, Some(f)),
        );
    }
}

fn describe_hop(hop: &crate::message::Hop) -> String {
    let name = hop.reverse_name.as_deref().or(hop.helo.as_deref());
    match (name, hop.ip) {
        (Some(n), Some(ip)) => format!(" ({n} [{ip}])"),
        (Some(n), None) => format!(" ({n})"),
        (None, Some(ip)) => format!(" ([{ip}])"),
        (None, None) => String::new(),
    }
}
