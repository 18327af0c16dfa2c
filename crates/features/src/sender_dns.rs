//! What DNS said of the sender's domains ([`crate::Inputs::domains`],
//! filled by live verification before extraction): a From or envelope
//! domain that does not exist, or that no mail can reach. An unknown
//! answer (not asked, or the lookup failed) is never evidence.

use crate::evidence::{EvidenceLog, Technique};
use crate::message::MessageView;
use crate::schema::{Feature, FeatureVector};

pub(crate) fn extract(view: &MessageView, v: &mut FeatureVector, log: &mut EvidenceLog) {
    if view.domain_status.is_empty() {
        return;
    }
    let status = |domain: &str| view.domain_status.iter().find(|s| s.domain == domain);
    let identities = [
        (
            "From",
            view.from_domain(),
            Feature::FromDomainNxdomain,
            Technique::HeaderFromSpoof,
        ),
        (
            "envelope sender",
            view.envelope_domain(),
            Feature::EnvelopeDomainNxdomain,
            Technique::EnvelopeFromSpoof,
        ),
    ];
    for (which, domain, nxdomain, technique) in identities {
        let Some((domain, s)) = domain.and_then(|d| status(d).map(|s| (d, s))) else {
            continue;
        };
        if s.exists == Some(false) {
            v.set_flag(nxdomain, true);
            log.add(
                nxdomain,
                Some(technique),
                format!("{which} domain {domain} does not exist (NXDOMAIN)"),
            );
        } else if s.accepts_mail == Some(false) {
            v.set_flag(Feature::SenderDomainNoMailHost, true);
            log.add(
                Feature::SenderDomainNoMailHost,
                Some(technique),
                format!("{which} domain {domain} has no MX, A or AAAA: no mail can reach it"),
            );
        }
    }
}
