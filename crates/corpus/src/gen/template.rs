//! Body templates: attack lures and ham, in English and Japanese, from
//! datasets/gen, filled from the world with a seeded generator.

use crate::error::CorpusError;
use serde::Deserialize;

const LURES_EN: &str = include_str!("../../../../datasets/gen/lures/en.toml");
const LURES_JA: &str = include_str!("../../../../datasets/gen/lures/ja.toml");
const HAM_EN: &str = include_str!("../../../../datasets/gen/ham/en.toml");
const HAM_JA: &str = include_str!("../../../../datasets/gen/ham/ja.toml");

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "recipient_first",
    "recipient_name",
    "sender_first",
    "sender_name",
    "sender_title",
    "org",
    "partner_org",
    "vendor",
    "amount",
    "invoice_no",
    "bank_name",
    "account_tail",
    "link",
    "deadline",
    "date",
    "phone",
    "meeting_time",
    "product",
    "city",
    "service",
    "ticket_no",
    "list_name",
    "forwarded_subject",
    "brand",
    "brand_product",
    "charge",
];

/// Lure categories.
pub const LURE_CATEGORIES: &[&str] = &[
    "wire_transfer",
    "gift_card",
    "payroll_diversion",
    "bank_change",
    "tax_form",
    "desk_check",
    "acquisition",
    "credential_phish",
];

/// Lure categories carried by an attachment, a QR image or a phone number
/// instead of a link in the body ([`payload`](super::payload)); their
/// bodies hold no `{link}`.
pub const PAYLOAD_LURE_CATEGORIES: &[&str] = &[
    "html_attachment",
    "pdf_lure",
    "qr_lure",
    "callback",
    "callback_pdf",
];

/// The lure categories and ham kinds whose templates need a `document`
/// (the text of the attached page or PDF).
pub const DOCUMENT_CATEGORIES: &[&str] = &[
    "html_attachment",
    "pdf_lure",
    "callback_pdf",
    "invoice_pdf",
    "receipt_html",
];

/// Ham kinds.
pub const HAM_KINDS: &[&str] = &[
    "internal_thread",
    "vendor_invoice",
    "newsletter",
    "mailing_list",
    "calendar",
    "esign",
    "auto_reply",
    "bounce",
    "namesake_freemail_list",
    "saas_notification",
    "it_notice",
    "hr_programme",
    "security_forward",
    "wire_approval_thread",
    "vendor_bank_change_thread",
    "list_dmarc_none_failure",
    "invoice_pdf",
    "ticket_qr",
    "receipt_html",
    "order_phone",
];

/// Honest mail in the carriers of content-borne attacks (a PDF invoice, a
/// QR ticket, an HTML receipt, an order confirmation with a phone number),
/// so that a carrier alone never says "attack"; hard ham too, counted
/// apart from [`HARD_HAM_KINDS`].
pub const CARRIER_HAM_KINDS: &[&str] = &["invoice_pdf", "ticket_qr", "receipt_html", "order_phone"];

/// The ham kinds that look like attacks and are not (see
/// [`hard_ham`](super::hard_ham)): a quarter of generated ham.
pub const HARD_HAM_KINDS: &[&str] = &[
    "namesake_freemail_list",
    "saas_notification",
    "it_notice",
    "hr_programme",
    "security_forward",
    "wire_approval_thread",
    "vendor_bank_change_thread",
    "list_dmarc_none_failure",
];

/// The kinds of notification a `saas_notification` template may be for
/// (its `notice`), one per provider.
pub const SAAS_NOTICES: &[&str] = &["share", "ticket", "signature", "mention"];

/// The language a message is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Japanese.
    Ja,
}

/// One template: a subject and a body with placeholders.
#[derive(Clone, Debug, Deserialize)]
pub struct Template {
    /// Unique among all templates.
    pub id: String,
    /// A lure category or a ham kind.
    #[serde(alias = "category")]
    pub kind: String,
    /// Subject line, with `{placeholder}`s.
    pub subject: String,
    /// Body text, with `{placeholder}`s.
    pub body: String,
    /// A `saas_notification`'s kind of notification, one of
    /// [`SAAS_NOTICES`]; empty for every other template.
    #[serde(default)]
    pub notice: String,
    /// The text of the attached page or PDF of a payload lure or carrier
    /// ham, with `{placeholder}`s; empty for every other template.
    #[serde(default)]
    pub document: String,
    /// The language of the file it came from.
    #[serde(skip, default = "default_lang")]
    pub lang: Lang,
}

fn default_lang() -> Lang {
    Lang::En
}

#[derive(Deserialize)]
struct LureFile {
    lure: Vec<Template>,
}

#[derive(Deserialize)]
struct HamFile {
    ham: Vec<Template>,
}

/// Every template, checked.
#[derive(Clone, Debug)]
pub struct Templates {
    /// Attack lures, English then Japanese.
    pub lures: Vec<Template>,
    /// Ham bodies, English then Japanese.
    pub ham: Vec<Template>,
}

impl Templates {
    /// The templates of datasets/gen, built in. An unknown kind or
    /// placeholder is an error naming the template.
    pub fn builtin() -> Result<Templates, CorpusError> {
        let parse = |text: &str,
                     what: &str,
                     lang: Lang,
                     lure: bool|
         -> Result<Vec<Template>, CorpusError> {
            let bad = |e: String| CorpusError::Invalid(format!("datasets/gen/{what}: {e}"));
            let mut list = if lure {
                toml::from_str::<LureFile>(text)
                    .map_err(|source| CorpusError::GeneratorData {
                        what: format!("datasets/gen/{what}"),
                        source,
                    })?
                    .lure
            } else {
                toml::from_str::<HamFile>(text)
                    .map_err(|source| CorpusError::GeneratorData {
                        what: format!("datasets/gen/{what}"),
                        source,
                    })?
                    .ham
            };
            for t in &mut list {
                t.lang = lang;
                let known = if lure {
                    LURE_CATEGORIES.contains(&t.kind.as_str())
                        || PAYLOAD_LURE_CATEGORIES.contains(&t.kind.as_str())
                } else {
                    HAM_KINDS.contains(&t.kind.as_str())
                };
                if !known {
                    return Err(bad(format!("{}: unknown kind {:?}", t.id, t.kind)));
                }
                let wants_notice = t.kind == "saas_notification";
                if wants_notice != SAAS_NOTICES.contains(&t.notice.as_str()) {
                    return Err(bad(format!(
                        "{}: notice {:?}: a saas_notification names one of {SAAS_NOTICES:?}, other templates none",
                        t.id, t.notice
                    )));
                }
                if DOCUMENT_CATEGORIES.contains(&t.kind.as_str()) == t.document.trim().is_empty() {
                    return Err(bad(format!(
                        "{}: a document is for the kinds {DOCUMENT_CATEGORIES:?} only, and they need one",
                        t.id
                    )));
                }
                if PAYLOAD_LURE_CATEGORIES.contains(&t.kind.as_str()) && t.body.contains("{link}") {
                    return Err(bad(format!(
                        "{}: a payload lure carries its link in the attachment, not the body",
                        t.id
                    )));
                }
                for name in placeholders(&t.subject)
                    .chain(placeholders(&t.body))
                    .chain(placeholders(&t.document))
                {
                    if !PLACEHOLDERS.contains(&name) {
                        return Err(bad(format!("{}: unknown placeholder {{{name}}}", t.id)));
                    }
                }
            }
            Ok(list)
        };
        let mut lures = parse(LURES_EN, "lures/en.toml", Lang::En, true)?;
        lures.extend(parse(LURES_JA, "lures/ja.toml", Lang::Ja, true)?);
        let mut ham = parse(HAM_EN, "ham/en.toml", Lang::En, false)?;
        ham.extend(parse(HAM_JA, "ham/ja.toml", Lang::Ja, false)?);
        Ok(Templates { lures, ham })
    }
}

/// The names of `{name}` placeholders in `text`.
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// Replaces every `{name}` by `value(name)`.
pub fn fill(text: &str, value: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if PLACEHOLDERS.contains(&&after[..close]) => {
                out.push_str(&value(&after[..close]));
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_cover_every_category_in_both_languages() {
        let t = Templates::builtin().unwrap();
        for lang in [Lang::En, Lang::Ja] {
            let lures: Vec<&Template> = t.lures.iter().filter(|l| l.lang == lang).collect();
            assert!(lures.len() >= 40, "{lang:?}: {} lures", lures.len());
            for c in LURE_CATEGORIES.iter().chain(PAYLOAD_LURE_CATEGORIES) {
                assert!(lures.iter().any(|l| l.kind == *c), "{lang:?} {c}");
            }
            for k in CARRIER_HAM_KINDS {
                let n = t
                    .ham
                    .iter()
                    .filter(|h| h.kind == *k && h.lang == lang)
                    .count();
                assert!(n >= 2, "{k} {lang:?}: {n} templates");
            }
        }
        for k in HAM_KINDS {
            assert!(t.ham.iter().any(|h| h.kind == *k), "{k}");
        }
        for k in HARD_HAM_KINDS {
            assert!(HAM_KINDS.contains(k));
            for lang in [Lang::En, Lang::Ja] {
                let n = t
                    .ham
                    .iter()
                    .filter(|h| h.kind == *k && h.lang == lang)
                    .count();
                assert!(n >= 2, "{k} {lang:?}: {n} templates");
            }
        }
        for notice in SAAS_NOTICES {
            for lang in [Lang::En, Lang::Ja] {
                assert!(
                    t.ham.iter().any(|h| h.notice == *notice && h.lang == lang),
                    "{notice} {lang:?}"
                );
            }
        }
        let ids: std::collections::HashSet<&str> = t
            .lures
            .iter()
            .chain(&t.ham)
            .map(|x| x.id.as_str())
            .collect();
        assert_eq!(ids.len(), t.lures.len() + t.ham.len(), "ids are unique");
    }

    #[test]
    fn fill_replaces_known_placeholders_only() {
        let v = |n: &str| n.to_uppercase();
        assert_eq!(
            fill("Hi {recipient_first}, {x} {amount}", &v),
            "Hi RECIPIENT_FIRST, {x} AMOUNT"
        );
        assert_eq!(fill("{", &v), "{");
    }
}
