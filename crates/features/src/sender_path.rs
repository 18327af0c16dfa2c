//! The sender path: who the envelope, the From, the DKIM signers and the
//! route say sent the message, and whether the trusted verdicts agree. The
//! header tricks that make clients and verifiers see different senders are
//! `crate::identity`'s.

use crate::auth_results::{AuthResult, AuthResults, AuthVerdict, DmarcPolicy};
use crate::context::Context;
use crate::domain::{address_domain, organisational_domain, relaxed_aligned};
use crate::evidence::{EvidenceLog, Technique};
use crate::message::MessageView;
use crate::schema::{Feature, FeatureVector};

/// Did a trusted verdict authenticate `domain`: DMARC pass for the
/// displayed From domain (evaluated on it, and `domain` aligned with it), an
/// aligned DKIM pass, or an aligned SPF pass. A DMARC pass for some other
/// domain (a second From, a verifier that read another header) vouches for
/// nothing the reader sees.
pub(crate) fn authenticated_for(
    auth: &AuthResults,
    domain: &str,
    from_domain: Option<&str>,
) -> bool {
    let dmarc = auth.dmarc_passes_for(from_domain)
        && from_domain.is_some_and(|f| relaxed_aligned(f, domain));
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

/// What explains an authentication failure that is not spoofing.
struct Explanations {
    /// Why the DMARC failure is mailing-list mail, when it is.
    list: Option<String>,
    /// Why a trusted forwarder's ARC seal explains the failures, when it does.
    arc: Option<String>,
}

impl Explanations {
    /// Lists and forwarders (design: issue 16, item 5). A DMARC failure
    /// under p=reject or quarantine stays evidence unless the trusted
    /// sealer itself recorded a DMARC pass for the From domain; under
    /// p=none (or an unknown policy) a List-Id, or List-Unsubscribe with a
    /// list Sender on the envelope's domain, or a passing seal of a trusted
    /// sealer that recorded no failure, explains it. The org's own domains
    /// get no list excuse: a List-Id is one line for an attacker to add,
    /// and the org knows its own lists.
    fn read(view: &MessageView, ctx: &Context, from_domain: Option<&str>) -> Explanations {
        let auth = &view.auth;
        let weak_policy = matches!(auth.dmarc_policy, None | Some(DmarcPolicy::None));
        let policy = match auth.dmarc_policy {
            Some(DmarcPolicy::None) => "p=none",
            Some(DmarcPolicy::Quarantine) => "p=quarantine",
            Some(DmarcPolicy::Reject) => "p=reject",
            None => "an unknown policy",
        };
        let internal = from_domain.is_some_and(|f| ctx.is_internal(f));
        let sealer = auth
            .arc_last_sealer()
            .filter(|s| ctx.is_trusted_arc_sealer(s));
        let sealer_saw = auth.arc_sealer_dmarc.map(AuthResult::verdict);
        let sealer_domain_ok = match (auth.arc_sealer_dmarc_header_from.as_deref(), from_domain) {
            (Some(d), Some(f)) => relaxed_aligned(d, f),
            (None, _) => true,
            (Some(_), None) => false,
        };
        let arc = sealer.and_then(|s| {
            let vouched = sealer_saw == Some(AuthVerdict::Pass) && sealer_domain_ok;
            let silent = sealer_saw != Some(AuthVerdict::Fail) && weak_policy && !internal;
            if vouched {
                Some(format!("forwarded with a passing ARC seal by trusted sealer {s}, which recorded DMARC pass"))
            } else if silent {
                Some(format!("forwarded with a passing ARC seal by trusted sealer {s}"))
            } else {
                None
            }
        });
        let mut list = None;
        if auth.dmarc_verdict() == AuthVerdict::Fail && weak_policy && !internal {
            list = mailing_list(view).map(|MailingList { why, .. }| {
                let what = auth
                    .dmarc_header_from
                    .as_deref()
                    .or(from_domain)
                    .unwrap_or("the From domain");
                format!("DMARC failed for {what} under {policy}; {why} explains it")
            });
        }
        Explanations { list, arc }
    }

    /// Whether the DMARC failure is explained.
    fn dmarc(&self) -> bool {
        self.list.is_some() || self.arc.is_some()
    }
}

/// Mail a mailing list re-sent: the list's own domain, and why it is list
/// mail, in words.
pub(crate) struct MailingList {
    /// The domain the list put on the message (List-Id's, or the Sender's).
    pub domain: String,
    /// Why the message is list mail, for a reason's text.
    pub why: String,
}

/// Why the message is mailing-list mail: a List-Id whose domain is also on
/// the Sender, the envelope or a DKIM signature, or List-Unsubscribe with a
/// Sender on the envelope's domain (the list's bounce address), not the
/// From's.
pub(crate) fn mailing_list(view: &MessageView) -> Option<MailingList> {
    let sender_domain = view.sender.as_ref().and_then(|s| s.domain.as_deref());
    let sender_address = view
        .sender
        .as_ref()
        .and_then(|s| s.address.as_deref())
        .unwrap_or("");
    if let Some(id) = view.list_id.as_deref() {
        let name = id
            .rsplit_once('<')
            .map_or(id, |(_, rest)| rest.split('>').next().unwrap_or(rest))
            .trim();
        if let Some(list_domain) = crate::domain::normalize_domain(name) {
            let on_list_domain =
                |d: Option<&str>| d.is_some_and(|d| relaxed_aligned(d, &list_domain));
            // A List-Id alone is one header anyone can add. A list that
            // re-sent the message also put its own domain on the envelope,
            // the Sender or a DKIM signature.
            let why = if on_list_domain(sender_domain) {
                Some(format!(
                    "mailing list {name} (List-Id, Sender {sender_address})"
                ))
            } else if on_list_domain(view.envelope_domain()) {
                Some(format!(
                    "mailing list {name} (List-Id, envelope on the list's domain)"
                ))
            } else {
                view.dkim_signatures
                    .iter()
                    .find(|s| on_list_domain(Some(s.domain.as_str())))
                    .map(|sig| {
                        format!(
                            "mailing list {name} (List-Id, DKIM signature by {})",
                            sig.domain
                        )
                    })
            };
            if let Some(why) = why {
                return Some(MailingList {
                    domain: list_domain,
                    why,
                });
            }
        }
    }
    let unsubscribe = view.list_headers.iter().any(|h| h == "list-unsubscribe");
    let list_sender = match (sender_domain, view.from_domain(), view.envelope_domain()) {
        (Some(s), Some(f), Some(e)) => !relaxed_aligned(s, f) && relaxed_aligned(s, e),
        _ => false,
    };
    match sender_domain {
        Some(domain) if unsubscribe && list_sender => Some(MailingList {
            domain: domain.to_string(),
            why: format!("mailing list (List-Unsubscribe, Sender {sender_address})"),
        }),
        _ => None,
    }
}

pub(crate) fn extract(
    view: &MessageView,
    ctx: &Context,
    v: &mut FeatureVector,
    log: &mut EvidenceLog,
) {
    if !view.recipients.is_empty() && view.recipients.iter().all(|r| ctx.is_report_mailbox(r)) {
        v.set_flag(Feature::OnlyToReportMailbox, true);
        log.add(
            Feature::OnlyToReportMailbox,
            None,
            format!(
                "the message is only for the report mailbox {}",
                view.recipients.join(", ")
            ),
        );
    }
    let auth = &view.auth;
    let from_domain = view.from_domain();
    let env_domain = view.envelope_domain();
    let env_aligned = match (from_domain, env_domain) {
        (Some(f), Some(e)) => relaxed_aligned(f, e),
        _ => true,
    };
    let explained = Explanations::read(view, ctx, from_domain);
    // A DMARC failure lists and trusted forwarders do not explain.
    let dmarc_failed = auth.dmarc_verdict() == AuthVerdict::Fail && !explained.dmarc();
    let spf_failed = auth.spf.verdict() == AuthVerdict::Fail && explained.arc.is_none();

    // Alignment of envelope and DKIM signers with From.
    if let (Some(f), Some(e)) = (from_domain, env_domain) {
        v.set_flag(Feature::EnvelopeFromHostMismatch, f != e);
        if !env_aligned {
            v.set_flag(Feature::EnvelopeFromDomainMismatch, true);
            // A list or a trusted forwarder rewrites the envelope of a
            // partner's mail; the org's own domains get no such excuse. An
            // authenticated From (an ESP sending for it) claims nothing.
            let list_mail = mailing_list(view).is_some();
            let claims_ours = (ctx.is_internal(f)
                || (ctx.is_protected(f) && !explained.dmarc() && !list_mail))
                && !authenticated_for(auth, f, Some(f));
            let technique = (claims_ours || dmarc_failed).then_some(Technique::HeaderFromSpoof);
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
    // A DMARC pass counts only for the displayed From domain.
    v.set_flag(Feature::AuthDmarcPass, auth.dmarc_passes_for(from_domain));
    v.set_flag(
        Feature::AuthDmarcFail,
        auth.dmarc_verdict() == AuthVerdict::Fail,
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
        match &explained.arc {
            Some(why) => log.add(
                Feature::AuthSpfFail,
                None,
                format!("SPF failed for {what}; {why}, which explains it"),
            ),
            None => log.add(
                Feature::AuthSpfFail,
                Some(Technique::EnvelopeFromSpoof),
                format!("SPF failed for {what}: the sending host may not send for that domain"),
            ),
        }
    }
    if auth.dmarc_verdict() == AuthVerdict::Fail {
        let what = auth
            .dmarc_header_from
            .as_deref()
            .or(from_domain)
            .unwrap_or("the From domain");
        if let Some(why) = &explained.list {
            v.set_flag(Feature::DmarcFailureExplainedByList, true);
            log.add(Feature::DmarcFailureExplainedByList, None, why.clone());
            log.add(Feature::AuthDmarcFail, None, why.clone());
        } else if let Some(why) = &explained.arc {
            log.add(
                Feature::AuthDmarcFail,
                None,
                format!("DMARC failed for {what}; {why}, which explains it"),
            );
        } else {
            log.add(
                Feature::AuthDmarcFail,
                Some(spoof_kind),
                format!("DMARC failed for {what}"),
            );
            // The domain's owner asked receivers to refuse exactly this:
            // evidence that holds whatever training saw.
            if let Some(p @ (DmarcPolicy::Reject | DmarcPolicy::Quarantine)) = auth.dmarc_policy {
                v.set_flag(Feature::DmarcFailEnforcedPolicy, true);
                log.add(
                    Feature::DmarcFailEnforcedPolicy,
                    Some(spoof_kind),
                    format!("DMARC failed for {what}, whose policy is p={}", p.as_str()),
                );
            }
        }
    }
    if let (Some(why), true) = (
        &explained.arc,
        auth.dmarc_verdict() == AuthVerdict::Fail || auth.spf.verdict() == AuthVerdict::Fail,
    ) {
        v.set_flag(Feature::AuthFailureExplainedByArc, true);
        log.add(
            Feature::AuthFailureExplainedByArc,
            None,
            format!("authentication failed but the message was {why}"),
        );
    }
    crate::dkim_coverage::extract(view, ctx, v, log);
    crate::sender_dns::extract(view, v, log);
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
        // A trusted forwarder's seal over a recorded DMARC pass vouches too.
        let vouched = explained.arc.is_some();
        if ctx.is_internal(d)
            && external_route
            && !vouched
            && !authenticated_for(auth, d, from_domain)
        {
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
        let failed = dmarc_failed || (spf_failed && env_aligned && !dkim_aligned_pass);
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
                let failed = spf_failed || dmarc_failed;
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
