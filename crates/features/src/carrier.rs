//! The carrier family: what holds the lure besides the text. Today's
//! phishing often has no suspicious link in its body: the link is in an
//! HTML attachment, a PDF or a QR code, or the page is smuggled in. These
//! features read what `attachment/` found ([`MessageView::attachments`],
//! [`MessageView::body_findings`], the links with their origin) and say it
//! with the attachment's name.
//!
//! It does not judge where those links go: the link features and the
//! lookalike engine judge attachment and QR links as they judge a body's
//! (see `links.rs`). Nor does it read text: callback phishing is
//! `callback.rs`'s.

use crate::attachment::{Attachment, AttachmentKind, Finding, FindingCode, LinkOrigin};
use crate::evidence::EvidenceLog;
use crate::message::MessageView;
use crate::schema::{Feature, FeatureVector};
use serde::Serialize;

/// How a message carries its lure, for the report's table of real phishing
/// by carrier: where its links are, the most hidden first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LureCarrier {
    /// A link decoded from a QR code.
    QrCode,
    /// An HTML page attached (or in an attached archive).
    HtmlAttachment,
    /// A PDF attached.
    Pdf,
    /// Another attachment with links or findings (Office, archive).
    OtherAttachment,
    /// A link in the body.
    BodyLink,
    /// No link at all (callback phishing, advance fee, BEC).
    #[default]
    NoLink,
}

impl LureCarrier {
    /// Every carrier, in table order.
    pub const ALL: [LureCarrier; 6] = [
        LureCarrier::BodyLink,
        LureCarrier::HtmlAttachment,
        LureCarrier::Pdf,
        LureCarrier::QrCode,
        LureCarrier::OtherAttachment,
        LureCarrier::NoLink,
    ];

    /// The name in tables and metrics (`html_attachment`).
    pub const fn name(self) -> &'static str {
        match self {
            LureCarrier::QrCode => "qr_code",
            LureCarrier::HtmlAttachment => "html_attachment",
            LureCarrier::Pdf => "pdf",
            LureCarrier::OtherAttachment => "other_attachment",
            LureCarrier::BodyLink => "body_link",
            LureCarrier::NoLink => "no_link",
        }
    }

    /// Words for a report's table.
    pub const fn describe(self) -> &'static str {
        match self {
            LureCarrier::QrCode => "QR code",
            LureCarrier::HtmlAttachment => "HTML attachment",
            LureCarrier::Pdf => "PDF",
            LureCarrier::OtherAttachment => "other attachment",
            LureCarrier::BodyLink => "body link",
            LureCarrier::NoLink => "no link",
        }
    }

    /// The carrier of a message: QR links first, then an HTML attachment,
    /// a PDF, another attachment with links or findings, a body link, none.
    pub fn of(view: &MessageView) -> LureCarrier {
        let has_origin = |f: &dyn Fn(LinkOrigin) -> bool| view.links.iter().any(|l| f(l.origin));
        if has_origin(&|o| matches!(o, LinkOrigin::QrCode(_))) {
            return LureCarrier::QrCode;
        }
        let is_html = |a: &Attachment| {
            a.kind == AttachmentKind::Html
                || a.members.iter().any(|m| m.kind == AttachmentKind::Html)
        };
        if view.attachments.iter().any(|a| !a.inline && is_html(a)) {
            return LureCarrier::HtmlAttachment;
        }
        if view
            .attachments
            .iter()
            .any(|a| a.kind == AttachmentKind::Pdf)
        {
            return LureCarrier::Pdf;
        }
        let attachment_links = has_origin(&|o| matches!(o, LinkOrigin::Attachment(_)));
        let findings = view.attachments.iter().any(|a| {
            matches!(
                a.kind,
                AttachmentKind::Office | AttachmentKind::Archive | AttachmentKind::Executable
            )
        });
        if attachment_links || findings {
            return LureCarrier::OtherAttachment;
        }
        if has_origin(&|o| o == LinkOrigin::Body) {
            return LureCarrier::BodyLink;
        }
        LureCarrier::NoLink
    }
}

/// One attachment as a verdict shows it (design.md §5): its name, its
/// type (sniffed, else declared) and what was found, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AttachmentSummary {
    /// File name, or empty when it has none.
    pub name: String,
    /// The type its bytes say, else the declared one.
    #[serde(rename = "type")]
    pub kind: String,
    /// `code: detail` for each finding.
    pub findings: Vec<String>,
}

impl AttachmentSummary {
    /// The summary of one attachment.
    pub fn of(a: &Attachment) -> AttachmentSummary {
        AttachmentSummary {
            name: a.name.clone().unwrap_or_default(),
            kind: a
                .sniffed_type
                .clone()
                .unwrap_or_else(|| a.declared_type.clone()),
            findings: a
                .findings
                .iter()
                .map(|f| format!("{}: {}", f.code.name(), f.detail))
                .collect(),
        }
    }
}

/// Which feature a finding sets, if any.
fn feature_of(code: FindingCode) -> Option<Feature> {
    Some(match code {
        FindingCode::DoubleExtension | FindingCode::BidiControl => Feature::AttachmentNameTrick,
        FindingCode::TypeMismatch => Feature::AttachmentTypeMismatch,
        FindingCode::Executable => Feature::AttachmentExecutable,
        FindingCode::EncryptedArchive => Feature::AttachmentEncryptedArchive,
        FindingCode::CredentialForm => Feature::HtmlCredentialForm,
        FindingCode::MetaRefresh => Feature::HtmlMetaRefresh,
        FindingCode::Smuggling | FindingCode::ScriptDecodes => Feature::HtmlSmuggling,
        FindingCode::Macro => Feature::AttachmentMacro,
        FindingCode::ExternalLink => Feature::AttachmentExternalLink,
        FindingCode::PdfScript => Feature::PdfScript,
        FindingCode::OverBudget => Feature::AttachmentOverBudget,
        // Links are counted from the links themselves; a nested archive
        // or an unreadable part alone says little.
        FindingCode::PdfLink
        | FindingCode::QrLink
        | FindingCode::QrOther
        | FindingCode::NestedArchive
        | FindingCode::Unreadable => return None,
    })
}

pub(crate) fn extract(view: &MessageView, v: &mut FeatureVector, log: &mut EvidenceLog) {
    v.set(Feature::AttachmentCount, view.attachments.len() as f32);
    // One sentence per feature is enough to explain it.
    fn note(
        v: &mut FeatureVector,
        log: &mut EvidenceLog,
        feature: Feature,
        where_: &str,
        finding: &Finding,
    ) {
        if v.get(feature) == 0.0 {
            v.set_flag(feature, true);
            log.add(feature, None, format!("{where_}: {}", finding.detail));
        }
    }
    for finding in &view.body_findings {
        if let Some(feature) = feature_of(finding.code) {
            note(v, log, feature, "the message body", finding);
        }
    }
    for a in &view.attachments {
        let where_ = format!("attachment {}", a.label());
        for finding in &a.findings {
            if let Some(feature) = feature_of(finding.code) {
                note(v, log, feature, &where_, finding);
            }
        }
        let html_member = a.members.iter().any(|m| m.kind == AttachmentKind::Html);
        if !a.inline
            && (a.kind == AttachmentKind::Html || html_member)
            && v.get(Feature::AttachmentHtml) == 0.0
        {
            v.set_flag(Feature::AttachmentHtml, true);
            let what = if html_member {
                "holds an HTML page"
            } else {
                "is an HTML page"
            };
            log.add(Feature::AttachmentHtml, None, format!("{where_} {what}"));
        }
        if a.members
            .iter()
            .any(|m| m.kind == AttachmentKind::Executable)
            && v.get(Feature::AttachmentExecutable) == 0.0
        {
            v.set_flag(Feature::AttachmentExecutable, true);
            log.add(
                Feature::AttachmentExecutable,
                None,
                format!("{where_} holds a program or script"),
            );
        }
    }
    let (mut written, mut qr) = (0u32, 0u32);
    for link in &view.links {
        let (feature, count, how) = match link.origin {
            LinkOrigin::Body => continue,
            LinkOrigin::Attachment(_) => (Feature::AttachmentLinkCount, &mut written, "links to"),
            LinkOrigin::QrCode(_) => (
                Feature::QrCodeLinkCount,
                &mut qr,
                "has a QR code linking to",
            ),
        };
        *count += 1;
        if *count == 1 {
            let n = match link.origin {
                LinkOrigin::Attachment(n) | LinkOrigin::QrCode(n) => n,
                LinkOrigin::Body => 0,
            };
            let name = view
                .attachments
                .get(usize::from(n))
                .map(|a| a.label().into_owned())
                .unwrap_or_default();
            let href = crate::html::truncate_at_char(&link.href, 100);
            log.add(feature, None, format!("attachment {name} {how} {href}"));
        }
    }
    v.set(Feature::AttachmentLinkCount, written as f32);
    v.set(Feature::QrCodeLinkCount, qr as f32);
}
