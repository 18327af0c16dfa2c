//! What the DKIM signatures leave open: a body length limit (`l=`) shorter
//! than the body, From or Subject not signed (`h=`), From signed only once
//! (a second From can be added), and a signature by the org's own domain
//! that came from outside with nothing verifying it (a replay).
//!
//! The signatures are read as written, not verified: what a trusted
//! verifier found is in the verdicts. A weakness points to a technique only
//! when the signature is the From domain's (it is what makes a reader, or
//! DMARC, take the From as genuine).

use crate::attachment::LinkOrigin;
use crate::auth_results::AuthVerdict;
use crate::context::Context;
use crate::domain::{address_domain, relaxed_aligned};
use crate::evidence::{EvidenceLog, Technique};
use crate::message::{link_from, MessageView};
use crate::schema::{Feature, FeatureVector};
use crate::sender_path::{authenticated_for, mailing_list};

/// Largest `dkim_unsigned_body_bytes` recorded: past a megabyte, more says
/// nothing new and would only stretch the feature's scale.
const MAX_UNSIGNED_BYTES: u64 = 1_000_000;

/// Words a list's footer uses about itself.
const FOOTER_WORDS: [&str; 9] = [
    "unsubscribe",
    "subscription",
    "mailing list",
    "listinfo",
    "archive",
    "group",
    "list",
    "配信停止",
    "登録解除",
];

/// The list, in words, when the unsigned tail is its footer: mail a list
/// re-sent (its domain on the Sender, envelope or a signature, not only a
/// List-Id), a short tail that speaks of the list, names at least one
/// address or link and every one of them on the list's domain. An attacker
/// who replays a signed message must run the list to pass, and then every
/// link they add is on their own domain, which the link features judge.
fn list_footer(view: &MessageView, tail: Option<&str>) -> Option<String> {
    let tail = tail?;
    let list = mailing_list(view)?;
    let lower = tail.to_lowercase();
    if !FOOTER_WORDS.iter().any(|w| lower.contains(w)) {
        return None;
    }
    let mut finder = linkify::LinkFinder::new();
    finder.url_must_have_scheme(false);
    let mut named = 0usize;
    for found in finder.links(tail) {
        let domain = match found.kind() {
            linkify::LinkKind::Email => address_domain(found.as_str()),
            _ => link_from(found.as_str(), None, LinkOrigin::Body).and_then(|l| l.host),
        };
        match domain {
            Some(d) if relaxed_aligned(&d, &list.domain) => named += 1,
            _ => return None,
        }
    }
    (named > 0).then_some(list.why)
}

pub(crate) fn extract(
    view: &MessageView,
    ctx: &Context,
    v: &mut FeatureVector,
    log: &mut EvidenceLog,
) {
    let from_domain = view.from_domain();
    let for_from = |d: &str| from_domain.is_some_and(|f| relaxed_aligned(f, d));
    // Appended content under the From domain's signature is a header-From
    // spoof rather than an envelope one: the envelope may be anyone's (a
    // replay is re-sent from the attacker's host), while what the reader is
    // misled by is the From, made to vouch for text its domain never wrote.
    let spoof_if = |d: &str| for_from(d).then_some(Technique::HeaderFromSpoof);

    let unsigned = view
        .dkim_signatures
        .iter()
        .filter_map(|s| s.unsigned_body_bytes.filter(|n| *n > 0).map(|n| (s, n)))
        .max_by_key(|(_, n)| *n);
    if let Some((sig, bytes)) = unsigned {
        if let Some(footer) = list_footer(view, sig.unsigned_tail.as_deref()) {
            // What lists were made for: the list adds its footer and the
            // poster's l= signature still verifies. Said, not counted.
            log.add(
                Feature::DkimBodyLengthLimit,
                None,
                format!(
                    "the DKIM signature of {} covers {} body bytes (l=) and {bytes} more follow: the footer of {footer}, naming only the list's domain",
                    sig.domain,
                    sig.body_length.unwrap_or(0)
                ),
            );
        } else {
            v.set_flag(Feature::DkimBodyLengthLimit, true);
            v.set(
                Feature::DkimUnsignedBodyBytes,
                bytes.min(MAX_UNSIGNED_BYTES) as f32,
            );
            log.add(
                Feature::DkimBodyLengthLimit,
                spoof_if(&sig.domain),
                format!(
                    "the DKIM signature of {} covers {} body bytes (l=) and {bytes} more follow: content was added after signing",
                    sig.domain,
                    sig.body_length.unwrap_or(0)
                ),
            );
        }
    }

    let checks = [
        (
            "from",
            Feature::DkimFromNotSigned,
            "does not sign From, which can be replaced",
        ),
        (
            "subject",
            Feature::DkimSubjectNotSigned,
            "does not sign Subject, which can be replaced",
        ),
    ];
    // A missing Subject lets the text change, not the sender: a replay
    // only where the org guards the signer (its own or a partner's mail
    // re-sent under another Subject). Elsewhere it is common and honest.
    let guarded = |d: &str| ctx.is_internal(d) || ctx.is_protected(d);
    for (name, feature, says) in checks {
        if let Some(sig) = view
            .dkim_signatures
            .iter()
            .find(|s| s.signed_count(name) == 0 && (name == "from" || guarded(&s.domain)))
        {
            v.set_flag(feature, true);
            let technique = spoof_if(&sig.domain);
            log.add(
                feature,
                technique,
                format!("the DKIM signature of {} {says}", sig.domain),
            );
        }
    }
    if let Some(sig) = view
        .dkim_signatures
        .iter()
        .find(|s| s.signed_count("from") == 1)
    {
        v.set_flag(Feature::DkimFromNotOversigned, true);
        // Most honest signatures list From once: a sign only with a second
        // From actually present.
        let several = view.anomalies.from_header_count > 1;
        log.add(
            Feature::DkimFromNotOversigned,
            several.then(|| spoof_if(&sig.domain)).flatten(),
            if several {
                format!(
                    "the DKIM signature of {} signs one From and the message has {}: the other was added",
                    sig.domain, view.anomalies.from_header_count
                )
            } else {
                format!(
                    "the DKIM signature of {} signs From once, so a second From could be added",
                    sig.domain
                )
            },
        );
    }

    // The org's own signature from outside, with no trusted pass for it.
    if view.first_external_hop.is_some() {
        let replayed = view.dkim_signatures.iter().find(|s| {
            ctx.is_internal(&s.domain) && !authenticated_for(&view.auth, &s.domain, from_domain)
        });
        if let Some(sig) = replayed {
            v.set_flag(Feature::OwnDomainSignatureForeignRoute, true);
            let hop = view
                .first_external()
                .and_then(|h| h.reverse_name.as_deref().or(h.helo.as_deref()))
                .map(|n| format!(" via {n}"))
                .unwrap_or_default();
            let verdict = if view.auth.dkim_overall() == AuthVerdict::Fail {
                "DKIM failed"
            } else {
                "nothing verified it"
            };
            log.add(
                Feature::OwnDomainSignatureForeignRoute,
                spoof_if(&sig.domain),
                format!(
                    "signed by internal domain {} but the message came from outside{hop} and {verdict}",
                    sig.domain
                ),
            );
        }
    }
}
