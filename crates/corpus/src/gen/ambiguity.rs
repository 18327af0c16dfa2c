//! The forms a header-From spoof takes: the plain spoofs, every
//! header-ambiguity class of Chen et al., "Composition Kills" (USENIX
//! Security 2020) — where the verifier and the reader's client take
//! different addresses from one header block — a DMARC verdict evaluated on
//! another From than the one shown, and DKIM replays (a signer's genuine
//! signature carried by a message it never sent: `l=` with content
//! appended, or `h=` not covering From or Subject).
//!
//! Each form is written as the attacker would send it and as the org's MX
//! would record it; the verifier is fooled where the form is meant to fool
//! it (it evaluates the attacker's own, aligned domain), so the
//! Authentication-Results alone often look clean.

use super::attack::{claimed, local_of, Forgery, Replay, Signature};
use super::compose::{encoded_word, mailbox, SIGNED_HEADERS};
use super::template::{Lang, Template, Templates};
use super::values::{url, Values};
use super::verdicts::MxVerdicts;
use super::world::{Person, World};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// One form of header-From spoof; its [`SpoofForm::code`] is the
/// `variant` written beside the technique in labels.tsv.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpoofForm {
    /// Someone else's From, the attacker's own envelope.
    DisplayFrom,
    /// As [`SpoofForm::DisplayFrom`], with the attacker's mailbox as Sender.
    SenderAttacker,
    /// As [`SpoofForm::DisplayFrom`], replies going to the attacker.
    ReplyToAttacker,
    /// As [`SpoofForm::DisplayFrom`], with an Authentication-Results of the
    /// org's authserv-id planted below the boundary, saying pass.
    ForgedAuthResults,
    /// Two From fields: the claimed one and the attacker's, in either order.
    FromMultiple,
    /// One From field with two mailboxes.
    FromAddressList,
    /// `From :` (white space before the colon) beside a normal From.
    FromSpaceBeforeColon,
    /// An empty From and the claimed mailbox as Sender or Resent-From.
    FromEmptyWithSender,
    /// No From at all; the claimed mailbox as Sender or Resent-From.
    FromMissingWithSender,
    /// The claimed address inside an RFC 2047 encoded word.
    FromEncodedWord,
    /// Obsolete route syntax: `<@claimed.example:x@attacker.example>`.
    FromRouteSyntax,
    /// The claimed address in a comment beside the attacker's.
    FromCommentAddress,
    /// The claimed address as a quoted (or escaped) local part of the
    /// attacker's domain.
    FromQuotedLocalPart,
    /// A NUL or other control character cutting the From value.
    FromControlChar,
    /// Unicode bidi controls making a display read as the claimed address.
    FromBidiControl,
    /// The MX evaluated DMARC on the attacker's domain (pass) while the
    /// From shown is the claimed one.
    DmarcOtherFrom,
    /// A signer's genuine message whose signature covers only its body's
    /// first bytes (`l=`), a lure appended after them.
    DkimBodyLengthAppended,
    /// A genuine signature whose `h=` does not cover From: the From is
    /// rewritten to someone of the signer's domain.
    DkimFromUnsigned,
    /// A genuine signature whose `h=` does not cover Subject: the Subject
    /// is the lure's.
    DkimSubjectUnsigned,
}

impl SpoofForm {
    /// Every form, in the order an attack stream takes them in turn.
    pub const ALL: [SpoofForm; 19] = [
        SpoofForm::DisplayFrom,
        SpoofForm::SenderAttacker,
        SpoofForm::ReplyToAttacker,
        SpoofForm::ForgedAuthResults,
        SpoofForm::FromMultiple,
        SpoofForm::FromAddressList,
        SpoofForm::FromSpaceBeforeColon,
        SpoofForm::FromEmptyWithSender,
        SpoofForm::FromMissingWithSender,
        SpoofForm::FromEncodedWord,
        SpoofForm::FromRouteSyntax,
        SpoofForm::FromCommentAddress,
        SpoofForm::FromQuotedLocalPart,
        SpoofForm::FromControlChar,
        SpoofForm::FromBidiControl,
        SpoofForm::DmarcOtherFrom,
        SpoofForm::DkimBodyLengthAppended,
        SpoofForm::DkimFromUnsigned,
        SpoofForm::DkimSubjectUnsigned,
    ];

    /// The code written in labels.tsv's `variant` column.
    pub const fn code(self) -> &'static str {
        match self {
            SpoofForm::DisplayFrom => "display_from",
            SpoofForm::SenderAttacker => "sender_attacker",
            SpoofForm::ReplyToAttacker => "reply_to_attacker",
            SpoofForm::ForgedAuthResults => "forged_auth_results",
            SpoofForm::FromMultiple => "from_multiple",
            SpoofForm::FromAddressList => "from_address_list",
            SpoofForm::FromSpaceBeforeColon => "from_space_before_colon",
            SpoofForm::FromEmptyWithSender => "from_empty_with_sender",
            SpoofForm::FromMissingWithSender => "from_missing_with_sender",
            SpoofForm::FromEncodedWord => "from_encoded_word",
            SpoofForm::FromRouteSyntax => "from_route_syntax",
            SpoofForm::FromCommentAddress => "from_comment_address",
            SpoofForm::FromQuotedLocalPart => "from_quoted_local_part",
            SpoofForm::FromControlChar => "from_control_char",
            SpoofForm::FromBidiControl => "from_bidi_control",
            SpoofForm::DmarcOtherFrom => "dmarc_other_from",
            SpoofForm::DkimBodyLengthAppended => "dkim_body_length_appended",
            SpoofForm::DkimFromUnsigned => "dkim_from_unsigned",
            SpoofForm::DkimSubjectUnsigned => "dkim_subject_unsigned",
        }
    }

    /// Whether the form is one of Composition Kills' header ambiguities:
    /// a reader and a verifier may take different senders from it.
    pub const fn is_header_ambiguity(self) -> bool {
        matches!(
            self,
            SpoofForm::FromMultiple
                | SpoofForm::FromAddressList
                | SpoofForm::FromSpaceBeforeColon
                | SpoofForm::FromEmptyWithSender
                | SpoofForm::FromMissingWithSender
                | SpoofForm::FromEncodedWord
                | SpoofForm::FromRouteSyntax
                | SpoofForm::FromCommentAddress
                | SpoofForm::FromQuotedLocalPart
                | SpoofForm::FromControlChar
                | SpoofForm::FromBidiControl
                | SpoofForm::DmarcOtherFrom
        )
    }

    /// Whether the form replays a signer's DKIM signature.
    pub const fn is_dkim_replay(self) -> bool {
        matches!(
            self,
            SpoofForm::DkimBodyLengthAppended
                | SpoofForm::DkimFromUnsigned
                | SpoofForm::DkimSubjectUnsigned
        )
    }
}

/// Field names of a replayed signature that leaves From out.
const HEADERS_WITHOUT_FROM: &str = "to:subject:date:message-id:mime-version";
/// Field names of a replayed signature that leaves Subject out.
const HEADERS_WITHOUT_SUBJECT: &str = "from:to:date:message-id";

/// Names an attacker's own mailbox goes by, as the To of a message it had
/// a signer send it.
const PERSONAS_EN: &[&str] = &["Chris Morgan", "Alex Turner", "Jordan Lee", "Sam Reid"];
const PERSONAS_JA: &[&str] = &["佐々木 翔", "井上 大輔", "木村 彩"];

/// What the generator needs to write one header-From spoof.
pub(super) struct SpoofSetting<'a> {
    pub world: &'a World,
    pub templates: &'a Templates,
    pub lang: Lang,
    /// The mailbox the message is delivered to.
    pub recipient: &'a Person,
    /// The attacker's own domain (envelope, sending host, hidden From).
    pub attacker: &'a str,
}

/// `form` written over `base` (the attacker's route and link host).
pub(super) fn spoof(
    rng: &mut ChaCha8Rng,
    s: &SpoofSetting<'_>,
    form: SpoofForm,
    mut f: Forgery,
) -> Forgery {
    f.variant = form.code().to_string();
    let world = s.world;
    let att = s.attacker;
    let who = claimed(rng, world, s.lang, true);
    let d = who.domain();
    let envelope = format!(
        "{}@{att}",
        ["bounce", "noreply", "mailer", "info"][rng.gen_range(0..4)]
    );
    // The attacker's own mailbox, named like the claimed one.
    let own = format!("{}@{att}", local_of(&who.address));
    let signed = form == SpoofForm::DmarcOtherFrom || rng.gen_bool(0.6);
    let dkim = signed.then_some(("pass", att));
    // The verifier took the attacker's aligned domain, or the claimed one.
    let fooled = MxVerdicts::new(
        ("pass", att),
        dkim,
        ("pass", att, world.dmarc_policy_of(att)),
    );
    let caught = MxVerdicts::new(("pass", att), dkim, ("fail", d, world.dmarc_policy_of(d)));
    let no_from = MxVerdicts {
        dmarc: None,
        ..MxVerdicts::new(("pass", att), dkim, ("none", "", ""))
    };
    f.envelope = envelope.clone();
    f.shown_name = who.name.clone();
    f.signature = signed.then(|| Signature::plain(att));
    let claimed_box = mailbox(&who.name, &who.address);
    let own_box = mailbox(&who.name, &own);
    let mut verdicts = caught.clone();
    let from = |v: String| ("From".to_string(), v);
    let pair = |rng: &mut ChaCha8Rng, a: (String, String), b: (String, String)| {
        if rng.gen_bool(0.5) {
            vec![a, b]
        } else {
            vec![b, a]
        }
    };
    f.identity = match form {
        SpoofForm::DisplayFrom => vec![from(claimed_box)],
        SpoofForm::SenderAttacker => vec![from(claimed_box), ("Sender".into(), envelope)],
        SpoofForm::ReplyToAttacker => vec![from(claimed_box), ("Reply-To".into(), own)],
        SpoofForm::ForgedAuthResults => {
            // What the attacker wishes the MX had said, under its name.
            let wished = MxVerdicts::new(
                ("pass", d),
                Some(("pass", d)),
                ("pass", d, world.dmarc_policy_of(d)),
            );
            f.planted
                .push(("Authentication-Results".into(), wished.header(&world.mx)));
            vec![from(claimed_box)]
        }
        SpoofForm::FromMultiple => {
            if rng.gen_bool(0.6) {
                verdicts = fooled.clone();
            }
            pair(rng, from(claimed_box), from(own_box))
        }
        SpoofForm::FromAddressList => {
            if rng.gen_bool(0.6) {
                verdicts = fooled.clone();
            }
            let list = if rng.gen_bool(0.5) {
                format!("{claimed_box}, {own_box}")
            } else {
                format!("{own_box}, {claimed_box}")
            };
            vec![from(list)]
        }
        SpoofForm::FromSpaceBeforeColon => {
            // The verifier skips "From :"; some clients show it.
            verdicts = fooled.clone();
            let spaced = (
                ["From ", "From\t"][rng.gen_range(0..2)].to_string(),
                claimed_box,
            );
            pair(rng, spaced, from(own_box))
        }
        SpoofForm::FromEmptyWithSender | SpoofForm::FromMissingWithSender => {
            verdicts = no_from;
            let mut fields = Vec::new();
            if form == SpoofForm::FromEmptyWithSender {
                let empty = ["", "<>", "undisclosed-recipients:;"][rng.gen_range(0..3)];
                fields.push(from(empty.to_string()));
            }
            if rng.gen_bool(0.6) {
                fields.push(("Sender".into(), claimed_box));
            } else {
                fields.push(("Resent-From".into(), claimed_box));
            }
            fields
        }
        SpoofForm::FromEncodedWord => {
            verdicts = fooled.clone();
            let charset = ["utf-8", "UTF-8"][rng.gen_range(0..2)];
            let b = ['b', 'B'][rng.gen_range(0..2)];
            let value = match rng.gen_range(0..3) {
                // The whole "Name <address>" as the display name.
                0 => format!(
                    "{} <{own}>",
                    encoded_word(&format!("{} <{}>", who.name, who.address), charset, b)
                ),
                // The address as the display name.
                1 => format!("{} <{own}>", encoded_word(&who.address, charset, 'q')),
                // The address as the local part, cut by an encoded NUL for
                // decoders that stop there.
                _ => format!(
                    "{}@{att}",
                    encoded_word(&format!("{}\0", who.address), charset, b)
                ),
            };
            vec![from(value)]
        }
        SpoofForm::FromRouteSyntax => {
            verdicts = fooled.clone();
            let route = if rng.gen_bool(0.5) {
                format!("@{d}")
            } else {
                format!("@{d},@mail.{d}")
            };
            vec![from(format!("{} <{route}:{own}>", quoted(&who.name)))]
        }
        SpoofForm::FromCommentAddress => {
            verdicts = fooled.clone();
            let value = match rng.gen_range(0..3) {
                0 => format!("({}) <{own}>", who.address),
                1 => format!("{} ({}) <{own}>", quoted(&who.name), who.address),
                _ => format!("<{own}> ({} <{}>)", quoted(&who.name), who.address),
            };
            vec![from(value)]
        }
        SpoofForm::FromQuotedLocalPart => {
            verdicts = fooled.clone();
            let value = match rng.gen_range(0..3) {
                0 => format!("\"{}\"@{att}", who.address),
                1 => format!("{} <\"{}\"@{att}>", quoted(&who.name), who.address),
                _ => format!(
                    "{} <{}\\@{d}@{att}>",
                    quoted(&who.name),
                    local_of(&who.address)
                ),
            };
            vec![from(value)]
        }
        SpoofForm::FromControlChar => {
            // C-string readers stop at the NUL and see the claimed address.
            if rng.gen_bool(0.6) {
                verdicts = fooled.clone();
            }
            let control = if rng.gen_bool(0.7) {
                '\0'
            } else {
                ['\u{1}', '\u{8}', '\u{1b}', '\u{b}'][rng.gen_range(0..4)]
            };
            let value = if rng.gen_bool(0.6) {
                format!("{} <{}{control}@{att}>", quoted(&who.name), who.address)
            } else {
                format!("{claimed_box}{control}<{own}>")
            };
            vec![from(value)]
        }
        SpoofForm::FromBidiControl => {
            verdicts = fooled.clone();
            // Right-to-left override: the reversed address reads as the
            // claimed one; pop directional formatting ends it.
            let reversed: String = who.address.chars().rev().collect();
            let value = match rng.gen_range(0..3) {
                0 => format!("\"\u{202E}{reversed}\u{202C}\" <{own}>"),
                1 => format!(
                    "{} <{own}>",
                    encoded_word(
                        &format!("{} \u{202E}{reversed}\u{202C}", who.name),
                        "UTF-8",
                        'B'
                    )
                ),
                _ => format!("{} <\"{}\u{2067}\"@{att}>", quoted(&who.name), who.address),
            };
            vec![from(value)]
        }
        SpoofForm::DmarcOtherFrom => {
            verdicts = fooled.clone();
            vec![from(claimed_box)]
        }
        SpoofForm::DkimBodyLengthAppended
        | SpoofForm::DkimFromUnsigned
        | SpoofForm::DkimSubjectUnsigned => return replay(rng, s, form, f),
    };
    f.verdicts = verdicts;
    f
}

/// A display name as a quoted string when it needs one (ASCII names), or
/// as an encoded word (others).
fn quoted(name: &str) -> String {
    let shown = mailbox(name, "x");
    shown
        .strip_suffix(" <x>")
        .map_or_else(|| name.to_string(), str::to_string)
}

/// Who signed what is replayed: the org's own staff, a protected partner,
/// or (unless `guarded_only`) another correspondent or an e-signature
/// service; and the ham kind of the message they signed.
fn signer(
    rng: &mut ChaCha8Rng,
    s: &SpoofSetting<'_>,
    guarded_only: bool,
) -> (Person, &'static str) {
    let staff = if s.lang == Lang::Ja {
        &s.world.employee_ja
    } else {
        &s.world.employee
    };
    let roll = rng.gen_range(0..if guarded_only { 8 } else { 10 });
    if roll < 4 {
        let p = claimed(rng, s.world, s.lang, false).clone();
        return (p, "internal_thread");
    }
    let partners: Vec<&Person> = s
        .world
        .external
        .iter()
        .filter(|p| p.domain().ends_with(".eu") || p.domain() == "harvestbank.com")
        .collect();
    if roll < 8 {
        if let Some(p) = partners.choose(rng) {
            return ((*p).clone(), "vendor_invoice");
        }
    }
    if roll == 8 {
        if let Some(p) = s.world.external.choose(rng) {
            return (p.clone(), "vendor_invoice");
        }
    }
    if let Some(b) = s.world.bulk_of("esign").choose(rng) {
        let p = Person {
            name: b.name.clone(),
            address: b.address.clone(),
            title: String::new(),
            company: b.name.clone(),
        };
        return (p, "esign");
    }
    (staff[0].clone(), "internal_thread")
}

/// A DKIM replay: the signer's genuine signature over a message it sent,
/// re-sent from the attacker's host with a lure.
fn replay(rng: &mut ChaCha8Rng, s: &SpoofSetting<'_>, form: SpoofForm, mut f: Forgery) -> Forgery {
    let att = s.attacker;
    // A replay whose only weakness is an unsigned Subject differs from the
    // signer's own mail only by where it came from: the generator writes
    // it for the signers the org guards (its own domains, its partners').
    let (signer, kind) = signer(rng, s, form == SpoofForm::DkimSubjectUnsigned);
    let sd = signer.domain().to_string();
    f.envelope = format!(
        "{}@{att}",
        ["bounce", "noreply", "mailer", "relay"][rng.gen_range(0..4)]
    );
    // The signature passes and aligns with the From: DMARC passes.
    f.verdicts = MxVerdicts::new(
        ("pass", att),
        Some(("pass", &sd)),
        ("pass", &sd, s.world.dmarc_policy_of(&sd)),
    );
    let mut r = Replay {
        original: None,
        to: None,
        days_old: rng.gen_range(1..30),
        signer_domain: sd.clone(),
    };
    match form {
        SpoofForm::DkimBodyLengthAppended => {
            // The attacker had the signer write to it, then appended the
            // lure below the signed bytes.
            let to = if rng.gen_bool(0.7) {
                let names = if s.lang == Lang::Ja {
                    PERSONAS_JA
                } else {
                    PERSONAS_EN
                };
                let name = names.choose(rng).copied().unwrap_or("Chris Morgan");
                let local = ["accounts", "procurement", "office", "sales"][rng.gen_range(0..4)];
                Person {
                    name: name.to_string(),
                    address: format!("{local}@{att}"),
                    title: String::new(),
                    company: String::new(),
                }
            } else {
                s.recipient.clone()
            };
            let choices: Vec<&Template> = s
                .templates
                .ham
                .iter()
                .filter(|t| t.kind == kind && t.lang == s.lang)
                .collect();
            if let Some(t) = choices.choose(rng) {
                let link = url(rng, &sd);
                let values = Values::new(rng, s.world, s.lang, &signer, &to, &link);
                r.original = Some(values.render(t));
            }
            if to.address != s.recipient.address {
                r.to = Some(mailbox(&to.name, &to.address));
            }
            f.identity = vec![("From".into(), mailbox(&signer.name, &signer.address))];
            f.signature = Some(Signature {
                domain: sd.clone(),
                headers: SIGNED_HEADERS,
                covers_only_original: true,
            });
            f.shown_name = signer.name.clone();
        }
        SpoofForm::DkimFromUnsigned => {
            // From is not signed: someone of the signer's domain is claimed.
            let who = if kind == "internal_thread" {
                claimed(rng, s.world, s.lang, false).clone()
            } else {
                signer.clone()
            };
            f.identity = vec![("From".into(), mailbox(&who.name, &who.address))];
            f.signature = Some(Signature {
                domain: sd.clone(),
                headers: HEADERS_WITHOUT_FROM,
                covers_only_original: false,
            });
            f.shown_name = who.name;
        }
        _ => {
            f.identity = vec![("From".into(), mailbox(&signer.name, &signer.address))];
            f.signature = Some(Signature {
                domain: sd.clone(),
                headers: HEADERS_WITHOUT_SUBJECT,
                covers_only_original: false,
            });
            f.shown_name = signer.name.clone();
        }
    }
    f.replay = Some(r);
    f
}
