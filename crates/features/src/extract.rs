//! Runs every feature family over a message view.

use crate::attachment::LinkOrigin;
use crate::auth_results::AuthResults;
use crate::carrier::{AttachmentSummary, LureCarrier};
use crate::context::Context;
use crate::error::{contain_panic, ParseError};
use crate::evidence::{Evidence, EvidenceLog, Technique};
use crate::identity::IdentityReadings;
use crate::inputs::Inputs;
use crate::intent::IntentCategory;
use crate::lookalike::{display_domain, is_mixed_script_domain, LookalikeMatch};
use crate::message::{Envelope, MessageView};
use crate::schema::{Feature, FeatureVector};
use crate::sender_history::{self, HistorySnapshot, MessageFacts};
use crate::{carrier, display_name, identity, intent, links, sender_path};
use serde::Serialize;

/// The features of one message and the evidence behind them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Extraction {
    /// Every feature's value.
    pub vector: FeatureVector,
    /// Sentences explaining the features that fired, in the order the
    /// families ran.
    pub evidence: Vec<Evidence>,
    /// The authentication verdicts the features read: trusted headers, or
    /// the live ones of [`Inputs::auth`].
    pub auth: AuthResults,
    /// The sender as each reader sees it (mail-parser, strict RFC 5322,
    /// mailparse and the lenient readings).
    pub identity: IdentityReadings,
    /// Each attachment: name, type and findings, for the verdict.
    pub attachments: Vec<AttachmentSummary>,
    /// Where the message's links are (QR code, HTML attachment, PDF, body,
    /// none), for reports by carrier.
    pub carrier: LureCarrier,
}

impl Extraction {
    /// The techniques the evidence points to, each once, in code order.
    pub fn techniques(&self) -> Vec<Technique> {
        let mut t: Vec<Technique> = self.evidence.iter().filter_map(|e| e.technique).collect();
        t.sort();
        t.dedup();
        t
    }

    /// Adds what a history store knew (the `history_*` features, and
    /// whether an internal lure fits its sender's habits), for a message
    /// whose [`MessageFacts`] are `facts`. [`Extractor::extract_view`]
    /// does this when [`Inputs::history`] is set; a replay that extracts
    /// first and learns in date order afterwards calls it itself.
    pub fn apply_history(
        &mut self,
        facts: &MessageFacts,
        snapshot: &HistorySnapshot,
        ctx: &Context,
    ) {
        sender_history::extract(facts, snapshot, ctx, &mut self.vector, &mut self.evidence);
    }

    /// The evidence that points to `technique`.
    pub fn evidence_for(&self, technique: Technique) -> impl Iterator<Item = &Evidence> {
        self.evidence
            .iter()
            .filter(move |e| e.technique == Some(technique))
    }
}

/// The header that marks a message for the fail point "extract-message",
/// which exists only in builds with the `failpoints` feature (the tests').
pub const FAULT_MARKER: &[u8] = b"X-Impostor-Fault-Injection: panic";

/// Whether this build carries fail points (the `failpoints` feature); a
/// program calls `fail::FailScenario::setup` only then.
pub const FAULT_INJECTION: bool = cfg!(feature = "failpoints");

/// Extracts features with one [`Context`]. Deterministic: the same view and
/// Context always give the same vector and evidence.
#[derive(Clone, Copy)]
pub struct Extractor<'c> {
    ctx: &'c Context,
}

impl<'c> Extractor<'c> {
    /// An extractor reading with `ctx`.
    pub fn new(ctx: &'c Context) -> Self {
        Extractor { ctx }
    }

    /// The Context it reads with.
    pub fn context(&self) -> &'c Context {
        self.ctx
    }

    /// Parses and extracts one message. A panic while doing so is
    /// contained to this message: it comes back as
    /// [`ParseError::Internal`].
    pub fn extract_bytes(
        &self,
        bytes: &[u8],
        inputs: &Inputs,
    ) -> Result<(MessageView, Extraction), ParseError> {
        let view = self.parse(bytes, &inputs.envelope)?;
        self.extract_view(view, inputs)
    }

    /// Parses one message into the view features read, for a caller that
    /// needs the view before extraction (live verification reads its
    /// boundary hop and envelope sender) and then extracts from the same
    /// view with [`Extractor::extract_view`], so the message is parsed
    /// once. A panic while parsing is contained: [`ParseError::Internal`].
    pub fn parse(&self, bytes: &[u8], envelope: &Envelope) -> Result<MessageView, ParseError> {
        contain_panic(|| {
            // Tests make a marked message panic here (the `failpoints`
            // feature and FAILPOINTS=extract-message=panic); nothing
            // otherwise.
            fail::fail_point!(
                "extract-message",
                memchr::memmem::find(bytes, FAULT_MARKER).is_some(),
                |_| Err(ParseError::Internal("fail point".into()))
            );
            MessageView::parse(bytes, envelope, self.ctx)
        })
    }

    /// Extracts from a view [`Extractor::parse`] made, with what `inputs`
    /// adds to it: the live authentication results (replacing the trusted
    /// headers' when set) and the sender domains' DNS status. A panic
    /// while extracting is contained: [`ParseError::Internal`].
    pub fn extract_view(
        &self,
        mut view: MessageView,
        inputs: &Inputs,
    ) -> Result<(MessageView, Extraction), ParseError> {
        contain_panic(|| {
            if let Some(live) = &inputs.auth {
                let read = std::mem::replace(&mut view.auth, live.clone());
                // What the ARC sets recorded is read from the message; live
                // verification says whether the chain holds (`arc`).
                let auth = &mut view.auth;
                if auth.arc_sealers.is_empty() {
                    auth.arc_sealers = read.arc_sealers;
                }
                if auth.arc_sealer_dmarc.is_none() {
                    auth.arc_sealer_dmarc = read.arc_sealer_dmarc;
                    auth.arc_sealer_dmarc_header_from = read.arc_sealer_dmarc_header_from;
                }
            }
            view.domain_status.clone_from(&inputs.domains);
            let mut extraction = self.extract(&view);
            if let Some(snapshot) = &inputs.history {
                let facts = MessageFacts::read(&view, &inputs.envelope, self.ctx);
                extraction.apply_history(&facts, snapshot, self.ctx);
            }
            Ok((view, extraction))
        })
    }

    /// Every feature family over one view: the vector and its evidence.
    pub fn extract(&self, view: &MessageView) -> Extraction {
        let ctx = self.ctx;
        let mut v = FeatureVector::default();
        let mut log = EvidenceLog::default();
        sender_path::extract(view, ctx, &mut v, &mut log);
        let identity = identity::extract(view, ctx, &mut v, &mut log);
        lookalike_identities(view, ctx, &mut v, &mut log);
        display_name::extract(view, ctx, &mut v, &mut log);
        let intents = intent::extract(view, ctx.intent(), &mut v, &mut log);
        links::extract(view, ctx, &mut v, &mut log);
        crate::callback::extract(view, ctx, &mut v, &mut log);
        carrier::extract(view, &mut v, &mut log);
        if view.references.is_empty()
            && (sender_history::is_reply_subject(&view.subject)
                || sender_history::quotes_header_block(&view.body_text))
        {
            v.set_flag(Feature::ReplyWithoutReferences, true);
            log.add(
                Feature::ReplyWithoutReferences,
                None,
                "reads as a reply or forward but names no earlier message (no In-Reply-To or References)".into(),
            );
        }

        // Account compromise: the mailbox is genuine, the content is not.
        if v.get(Feature::InternalAuthenticatedSender) > 0.0 {
            let lures = [
                IntentCategory::CredentialLure,
                IntentCategory::BankChange,
                IntentCategory::GiftCard,
            ];
            // A credential lure harvests through a link off the org's own
            // hosts; the IT desk's notices link to its own sign-in pages.
            let link_leaves_org = view.links.iter().any(|l| match l.host.as_deref() {
                Some(h) if !l.host_is_ip => !(ctx.is_internal(h) || ctx.is_tenant_host(h)),
                _ => true,
            });
            let mut why: Vec<String> = lures
                .iter()
                .filter(|c| intents.count(**c) > 0)
                .filter(|c| **c != IntentCategory::CredentialLure || link_leaves_org)
                .map(|c| c.label().to_string())
                .collect();
            if v.get(Feature::LinkBrandUnrelatedHostCount) > 0.0 {
                why.push("a brand link to an unrelated host".into());
            }
            // The lure carried in an attachment: a page that harvests, a
            // QR code, or a document asking to sign in that links off the
            // organisation's hosts.
            let leaves_org = |origin: fn(LinkOrigin) -> bool| {
                view.links
                    .iter()
                    .filter(|l| origin(l.origin))
                    .any(|l| match l.host.as_deref() {
                        Some(h) if !l.host_is_ip => !(ctx.is_internal(h) || ctx.is_tenant_host(h)),
                        _ => true,
                    })
            };
            if v.get(Feature::HtmlCredentialForm) > 0.0 || v.get(Feature::HtmlSmuggling) > 0.0 {
                why.push("a page that posts sign-in fields or is smuggled in".into());
            }
            if leaves_org(|o| matches!(o, LinkOrigin::QrCode(_))) {
                why.push("a QR code linking off the organisation".into());
            }
            if leaves_org(|o| matches!(o, LinkOrigin::Attachment(_))) {
                // What the document says, or the text beside it (a PDF's
                // text may be unreadable: fonts without a Unicode map).
                let asks = ctx.intent().count("", &view.attachment_text);
                let ask = [
                    IntentCategory::CredentialLure,
                    IntentCategory::BankChange,
                    IntentCategory::Payment,
                    IntentCategory::Urgency,
                    IntentCategory::ActionRequest,
                ];
                if ask
                    .iter()
                    .any(|c| asks.count(*c) > 0 || intents.count(*c) > 0)
                    || v.get(Feature::HtmlMetaRefresh) > 0.0
                {
                    why.push(
                        "an attachment linking off the organisation beside a request to act, sign in, pay or hurry"
                            .into(),
                    );
                }
            }
            if !why.is_empty() {
                v.set_flag(Feature::InternalSenderLure, true);
                let who = view.from().map(|i| i.describe()).unwrap_or_default();
                log.add(
                    Feature::InternalSenderLure,
                    Some(Technique::AccountCompromise),
                    format!(
                        "authenticated internal mailbox {who} sends {}",
                        why.join(" and ")
                    ),
                );
            }
        }
        Extraction {
            vector: v,
            evidence: log.items,
            auth: view.auth.clone(),
            identity,
            attachments: view.attachments.iter().map(AttachmentSummary::of).collect(),
            carrier: LureCarrier::of(view),
        }
    }
}

/// Lookalike checks on every sender identity: From, Reply-To, envelope, DKIM d=.
fn lookalike_identities(
    view: &MessageView,
    ctx: &Context,
    v: &mut FeatureVector,
    log: &mut EvidenceLog,
) {
    let index = ctx.lookalike();
    let reply_to = view.reply_to.iter().filter_map(|i| i.domain.as_deref());
    let dkim = view.dkim_signatures.iter().map(|s| s.domain.as_str());
    let candidates = view
        .from()
        .and_then(|i| i.domain.as_deref())
        .map(|d| (Feature::FromDomainLookalike, "From", d))
        .into_iter()
        .chain(reply_to.map(|d| (Feature::ReplyToDomainLookalike, "Reply-To", d)))
        .chain(
            view.envelope_domain()
                .map(|d| (Feature::EnvelopeDomainLookalike, "envelope sender", d)),
        )
        .chain(dkim.map(|d| (Feature::DkimDomainLookalike, "DKIM signing domain", d)));
    // From, envelope and DKIM are often one domain: look each up once.
    let mut looked_up: Vec<(&str, Option<LookalikeMatch>)> = Vec::new();
    for (feature, which, domain) in candidates {
        if v.get(Feature::SenderDomainMixedScript) == 0.0 && is_mixed_script_domain(domain) {
            v.set_flag(Feature::SenderDomainMixedScript, true);
            log.add(
                Feature::SenderDomainMixedScript,
                Some(Technique::LookalikeDomain),
                format!("{which} domain {} mixes scripts", display_domain(domain)),
            );
        }
        if v.get(feature) > 0.0 {
            continue;
        }
        // Each domain is looked up, and reported, once per identity role.
        let seen_before = looked_up.iter().find(|(d, _)| *d == domain);
        let first_time = seen_before.is_none();
        let found = match seen_before {
            Some((_, found)) => found.clone(),
            None => {
                let found = index.find(domain);
                looked_up.push((domain, found.clone()));
                found
            }
        };
        let Some(m) = found else {
            continue;
        };
        if m.strength > v.get(Feature::SenderDomainLookalikeStrength) {
            v.set(Feature::SenderDomainLookalikeStrength, m.strength);
        }
        if m.is_strong() {
            v.set_flag(feature, true);
            log.add(
                feature,
                Some(Technique::LookalikeDomain),
                format!("{which} {}", m.describe()),
            );
        } else if first_time {
            // A weak match (a short name, a popular domain): evidence only.
            log.add(
                Feature::SenderDomainLookalikeStrength,
                None,
                format!("{which} {}", m.describe_with_strength()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth_results::{AuthResult, AuthSource};
    use crate::context::OrgProfile;

    const MESSAGE: &[u8] = b"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n\
        Subject: Invoice\r\nAuthentication-Results: mx.example.net; dkim=fail header.d=example.org\r\n\r\n\
        Please pay the attached invoice today.\r\n";

    #[test]
    fn parsing_once_then_extracting_the_view_equals_extracting_the_bytes() {
        let ctx = Context::builder(OrgProfile::default()).build().unwrap();
        let x = Extractor::new(&ctx);
        let mut inputs = Inputs::new(Envelope::default());
        inputs.auth = Some(AuthResults {
            dmarc: AuthResult::Pass,
            source: AuthSource::Live,
            ..AuthResults::default()
        });
        let (_, whole) = x.extract_bytes(MESSAGE, &inputs).unwrap();
        let view = x.parse(MESSAGE, &inputs.envelope).unwrap();
        let (view, split) = x.extract_view(view, &inputs).unwrap();
        assert_eq!(whole.vector.values(), split.vector.values());
        assert_eq!(whole.auth, split.auth);
        // The live results replace what the headers said.
        assert_eq!(view.auth.source, AuthSource::Live);
        assert_eq!(split.auth.dmarc, AuthResult::Pass);
    }
}
