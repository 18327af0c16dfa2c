//! The named, documented, schema-versioned feature set.
//!
//! Every feature is declared once, below, with its column name, its family and
//! a sentence saying what it measures. A name ends in its unit: `_flag` (0 or
//! 1), `_count` (a whole number), `_per_kchar` (occurrences per 1,000
//! characters of text), `_chars` (characters), `_bytes` (bytes), `_strength`
//! (a fraction in [0, 1]).

use serde::ser::{Serialize, SerializeMap, Serializer};
use sha2::{Digest, Sha256};

/// Bumped whenever a feature is added, removed, renamed or changes meaning.
/// Artifacts record it and refuse a vector of another version.
pub const SCHEMA_VERSION: u32 = 6;

/// The group a feature belongs to; each group has its own module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Who the envelope, From, DKIM signers and route say sent the
    /// message, the trusted verdicts, and header tricks.
    SenderPath,
    /// Display names: high-profile users' names, free-mail, Reply-To.
    DisplayName,
    /// Sender domains imitating protected ones.
    Lookalike,
    /// What the text asks for: payment, gift cards, urgency, secrecy, …
    Intent,
    /// Where the body's links go and what they show.
    Links,
    /// Callback phishing: phone numbers, charge wording and brands named
    /// by unrelated senders.
    Callback,
    /// How the message departs from its sender's history.
    SenderHistory,
    /// What carries the lure besides the text: attachments, HTML pages
    /// and QR codes.
    Carrier,
}

impl Family {
    /// The family's name in tables and reports (`sender_path`).
    pub const fn name(self) -> &'static str {
        match self {
            Family::SenderPath => "sender_path",
            Family::DisplayName => "display_name",
            Family::Lookalike => "lookalike",
            Family::Intent => "intent",
            Family::Links => "links",
            Family::Callback => "callback",
            Family::SenderHistory => "sender_history",
            Family::Carrier => "carrier",
        }
    }
}

macro_rules! feature_schema {
    ($( $variant:ident = $name:literal, $family:ident, $doc:literal; )+) => {
        /// One named feature. `Feature::ALL` lists them in column order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Feature { $( #[doc = $doc] $variant, )+ }

        impl Feature {
            /// Every feature, in the column order of [`FeatureVector`].
            pub const ALL: &'static [Feature] = &[ $( Feature::$variant, )+ ];

            /// The column name: what it measures, ending in its unit.
            pub const fn name(self) -> &'static str {
                match self { $( Feature::$variant => $name, )+ }
            }

            /// The family the feature belongs to.
            pub const fn family(self) -> Family {
                match self { $( Feature::$variant => Family::$family, )+ }
            }

            /// One sentence on what the feature measures.
            pub const fn doc(self) -> &'static str {
                match self { $( Feature::$variant => $doc, )+ }
            }
        }
    };
}

feature_schema! {
    // sender path
    EnvelopeFromDomainMismatch = "envelope_from_domain_mismatch_flag", SenderPath,
        "The envelope sender (Return-Path) and the From address have different registrable domains (relaxed alignment fails); 0 when either is missing.";
    EnvelopeFromHostMismatch = "envelope_from_host_mismatch_flag", SenderPath,
        "The envelope sender and the From address have different full domains (strict alignment fails); 0 when either is missing.";
    DkimFromDomainMismatch = "dkim_from_domain_mismatch_flag", SenderPath,
        "The message carries DKIM signatures but no d= shares the From address's registrable domain.";
    DkimFromHostMismatch = "dkim_from_host_mismatch_flag", SenderPath,
        "The message carries DKIM signatures but no d= equals the From address's full domain.";
    AuthSpfPass = "auth_spf_pass_flag", SenderPath,
        "A trusted verdict says SPF passed.";
    AuthSpfFail = "auth_spf_fail_flag", SenderPath,
        "A trusted verdict says SPF failed (fail, softfail or permerror); a missing verdict is unknown, not fail.";
    AuthDkimPass = "auth_dkim_pass_flag", SenderPath,
        "A trusted verdict says at least one DKIM signature passed.";
    AuthDkimFail = "auth_dkim_fail_flag", SenderPath,
        "A trusted verdict says DKIM failed and none passed.";
    AuthDmarcPass = "auth_dmarc_pass_flag", SenderPath,
        "A trusted verdict says DMARC passed for the displayed From domain (evaluated on a domain relaxed-aligned with it); a pass for another domain is not one.";
    AuthDmarcFail = "auth_dmarc_fail_flag", SenderPath,
        "A trusted verdict says DMARC failed.";
    AuthArcPass = "auth_arc_pass_flag", SenderPath,
        "A trusted verdict says the ARC chain passed.";
    AuthArcFail = "auth_arc_fail_flag", SenderPath,
        "A trusted verdict says the ARC chain failed.";
    AuthCompauthPass = "auth_compauth_pass_flag", SenderPath,
        "A trusted Microsoft composite authentication verdict passed.";
    AuthCompauthFail = "auth_compauth_fail_flag", SenderPath,
        "A trusted Microsoft composite authentication verdict failed or soft-failed.";
    InternalDomainExternalRoute = "internal_domain_external_route_flag", SenderPath,
        "From, Sender or the envelope claims an internal domain, the message arrived from an external host, and nothing authenticated that domain.";
    ProtectedDomainUnauthenticated = "protected_domain_unauthenticated_flag", SenderPath,
        "From claims a protected partner or brand domain and the trusted verdicts failed it (DMARC fail, or SPF fail with no aligned DKIM pass).";
    FirstHopHeloDomainMismatch = "first_hop_helo_domain_mismatch_flag", SenderPath,
        "The first external hop's HELO or reverse name belongs to neither the From nor the envelope registrable domain.";
    FromHeaderMultiple = "from_header_multiple_flag", SenderPath,
        "The message has more than one From header field, so clients may show different senders.";
    FromAddressMultiple = "from_address_multiple_flag", SenderPath,
        "One From header holds more than one mailbox; an unquoted comma in the display name is enough, a classic way to make parsers disagree.";
    DisplayNameEmbeddedAddressMismatch = "display_name_embedded_address_mismatch_flag", SenderPath,
        "The From display name contains an e-mail address or domain other than the real address's.";
    FromEncodedWordTrick = "from_encoded_word_trick_flag", SenderPath,
        "An encoded-word in From decodes to an address, angle brackets or control characters, or stands in the address itself.";
    FromRouteSyntax = "from_route_syntax_flag", SenderPath,
        "From, Sender or Reply-To uses obsolete route syntax (<@host:user@domain>).";
    SenderWithoutFrom = "sender_without_from_flag", SenderPath,
        "A Sender or Resent-From header is present but no From header.";
    HeaderSpaceBeforeColon = "header_space_before_colon_flag", SenderPath,
        "A header field has white space between its name and the colon, which parsers disagree on.";
    SenderDomainMismatch = "sender_domain_mismatch_flag", SenderPath,
        "The Sender header's registrable domain differs from the From address's.";
    ResentFromDomainMismatch = "resent_from_domain_mismatch_flag", SenderPath,
        "The Resent-From header's registrable domain differs from the From address's.";
    MessageIdDomainMismatch = "message_id_domain_mismatch_flag", SenderPath,
        "The Message-ID's domain has another registrable domain than the From address.";
    InternalAuthenticatedSender = "internal_authenticated_sender_flag", SenderPath,
        "The From address is internal and a trusted verdict authenticated it (DMARC pass, or aligned DKIM or SPF pass).";
    InternalSenderLure = "internal_sender_lure_flag", SenderPath,
        "An authenticated internal sender sends a credential lure with a link off the org's own hosts and tenants, a bank-detail change, a gift-card request or a link to a brand on an unrelated host.";
    DmarcFailureExplainedByList = "dmarc_failure_explained_by_list_flag", SenderPath,
        "DMARC failed under p=none (or an unknown policy) for a non-internal From, and the message is mailing-list mail (List-Id, or List-Unsubscribe with a list Sender on the envelope's domain), which rewrites what DMARC checks.";
    DmarcFailEnforcedPolicy = "dmarc_fail_enforced_policy_flag", SenderPath,
        "DMARC failed, the From domain's record asks receivers to reject or quarantine such mail (p= or sp=), and neither mailing-list mail nor a trusted ARC seal explains it.";
    AuthFailureExplainedByArc = "auth_failure_explained_by_arc_flag", SenderPath,
        "SPF or DMARC failed, and the ARC chain passed, sealed last by a trusted sealer (`trusted_arc_sealers`) that did not record a DMARC failure: forwarding explains it (under p=reject or quarantine only when the sealer recorded a DMARC pass).";
    DkimBodyLengthLimit = "dkim_body_length_limit_flag", SenderPath,
        "A DKIM signature's l= covers less than the body: content was added after signing (DKIM replay).";
    DkimUnsignedBodyBytes = "dkim_unsigned_body_bytes", SenderPath,
        "Body bytes past the shortest DKIM l= limit, after approximate canonicalisation (capped at 1,000,000); 0 without l=.";
    DkimFromNotSigned = "dkim_from_not_signed_flag", SenderPath,
        "A DKIM signature does not list From in h=, so the From can be replaced without breaking it.";
    DkimSubjectNotSigned = "dkim_subject_not_signed_flag", SenderPath,
        "A DKIM signature by an internal or protected domain does not list Subject in h=, so its mail can be re-sent under another Subject (other signers leave Subject out for honest reasons: a list adds \"(no subject)\" to mail signed without one).";
    DkimFromNotOversigned = "dkim_from_not_oversigned_flag", SenderPath,
        "A DKIM signature lists From only once in h=, so a second From can be added without breaking it (common in honest mail; evidence with several From fields).";
    OwnDomainSignatureForeignRoute = "own_domain_signature_foreign_route_flag", SenderPath,
        "A DKIM signature by an internal domain arrived over an external route and no trusted verdict passed that domain (a replayed signature).";
    FromDomainNxdomain = "from_domain_nxdomain_flag", SenderPath,
        "DNS says the From domain does not exist (NXDOMAIN); 0 when not asked or the lookup failed.";
    EnvelopeDomainNxdomain = "envelope_domain_nxdomain_flag", SenderPath,
        "DNS says the envelope sender's domain does not exist (NXDOMAIN); 0 when not asked or the lookup failed.";
    SenderDomainNoMailHost = "sender_domain_no_mail_host_flag", SenderPath,
        "DNS says the From or envelope domain exists but has no MX and no A or AAAA: no reply or bounce can reach it; 0 when unknown.";
    IdentityReadersDisagree = "identity_readers_disagree_flag", SenderPath,
        "The readers of the sender (mail-parser, a strict RFC 5322 reader, mailparse, first and last From field, Sender fallback, decoded encoded-words, route, comment, quoted local part, NUL-terminated, bidi-rendered) name different registrable domains.";
    FromEmpty = "from_empty_flag", SenderPath,
        "A From header is present but holds no address, so some clients show Sender or Resent-From instead.";
    IdentityHeaderControlChar = "identity_header_control_char_flag", SenderPath,
        "A From, Sender or Resent-From value holds a NUL byte or another control character (folding aside), where C clients and parsers part ways.";
    IdentityBidiControl = "identity_bidi_control_flag", SenderPath,
        "A From, Sender or Resent-From value holds a Unicode bidi embedding, override or isolate control (U+202A–U+202E, U+2066–U+2069) that reorders what the reader sees.";
    FromQuotedLocalPartAddress = "from_quoted_local_part_address_flag", SenderPath,
        "The From address's local part is a quoted string that is itself an address (\"ceo@kestrelfoods.com\"@evil.example).";
    FromCommentAddress = "from_comment_address_flag", SenderPath,
        "A comment in From holds an address on another registrable domain than the From address.";
    IdentityHeaderSpaceBeforeColon = "identity_header_space_before_colon_flag", SenderPath,
        "A From, Sender or Resent-From field has white space before its colon (\"From :\"), which some readers take and others skip.";
    OnlyToReportMailbox = "only_to_report_mailbox_flag", SenderPath,
        "Every recipient is one of the org's report mailboxes (the security desk): the SMTP recipients when the gateway gives them, else To and Cc. A report of suspicious mail reaches no victim.";
    FromDomainNotAuthenticatedDomain = "from_domain_not_authenticated_domain_flag", SenderPath,
        "The displayed From domain is not the one authentication was about: DMARC's header.from is another organisation, or SPF/DKIM passed for the domain another reader takes for the sender and not for the displayed one.";
    // display name
    VipDisplayName = "vip_display_name_flag", DisplayName,
        "The From display name is a high-profile user's name or alias (order, case, diacritics and titles ignored).";
    VipNameUnlistedAddress = "vip_name_unlisted_address_flag", DisplayName,
        "A high-profile user's name stands on an address that is not one of theirs.";
    VipNameFreemail = "vip_name_freemail_flag", DisplayName,
        "A high-profile user's name stands on a free-mail or disposable address.";
    VipNameExternalDomain = "vip_name_external_domain_flag", DisplayName,
        "A high-profile user's name stands on an address outside the internal domains.";
    FromFreemail = "from_freemail_flag", DisplayName,
        "The From address is on a free-mail provider.";
    FromDisposable = "from_disposable_flag", DisplayName,
        "The From address is on a disposable-address provider.";
    ReplyToFreemail = "reply_to_freemail_flag", DisplayName,
        "A Reply-To address is on a free-mail or disposable provider while From is not on that same domain.";
    BrandNameUnrelatedAddress = "brand_name_unrelated_address_flag", DisplayName,
        "The From display name is a brand of the brand list (\"PayPal Billing\", \"Norton Support\") while the address is on none of that brand's domains.";
    ReplyToDomainMismatch = "reply_to_domain_mismatch_flag", DisplayName,
        "A Reply-To address has another registrable domain than the From address.";
    // lookalike
    FromDomainLookalike = "from_domain_lookalike_flag", Lookalike,
        "The From domain imitates a protected domain without being it.";
    ReplyToDomainLookalike = "reply_to_domain_lookalike_flag", Lookalike,
        "A Reply-To domain imitates a protected domain without being it.";
    EnvelopeDomainLookalike = "envelope_domain_lookalike_flag", Lookalike,
        "The envelope sender's domain imitates a protected domain without being it.";
    DkimDomainLookalike = "dkim_domain_lookalike_flag", Lookalike,
        "A DKIM signing domain (d=) imitates a protected domain without being it.";
    LinkHostLookalikeCount = "link_host_lookalike_count", Lookalike,
        "Links whose host imitates a protected domain without being it.";
    SenderDomainMixedScript = "sender_domain_mixed_script_flag", Lookalike,
        "A From, Reply-To, envelope or DKIM domain has a label mixing scripts (Latin with Cyrillic, say).";
    SenderDomainLookalikeStrength = "sender_domain_lookalike_strength", Lookalike,
        "The strongest lookalike match of the From, Reply-To, envelope and DKIM domains, a fraction in [0, 1] (0 when none imitates a protected domain); the _lookalike_flag features count only matches of 0.5 or more.";
    LinkHostLookalikeMaxStrength = "link_host_lookalike_max_strength", Lookalike,
        "The strongest lookalike match among link hosts, a fraction in [0, 1] (0 when none imitates a protected domain); link_host_lookalike_count counts only matches of 0.5 or more.";
    // intent
    IntentActionRequestCount = "intent_action_request_phrase_count", Intent,
        "Phrases asking the reader to act for the sender, in subject and body.";
    IntentActionRequestRate = "intent_action_request_per_kchar", Intent,
        "Action-request phrases per 1,000 characters of subject and body.";
    IntentPaymentCount = "intent_payment_phrase_count", Intent,
        "Wire-transfer, invoice and payment phrases, in subject and body.";
    IntentPaymentRate = "intent_payment_per_kchar", Intent,
        "Payment phrases per 1,000 characters of subject and body.";
    IntentGiftCardCount = "intent_gift_card_phrase_count", Intent,
        "Gift-card and redemption-code phrases, in subject and body.";
    IntentGiftCardRate = "intent_gift_card_per_kchar", Intent,
        "Gift-card phrases per 1,000 characters of subject and body.";
    IntentBankChangeCount = "intent_bank_change_phrase_count", Intent,
        "Phrases announcing changed bank, remittance or payroll details, in subject and body.";
    IntentBankChangeRate = "intent_bank_change_per_kchar", Intent,
        "Bank-detail change phrases per 1,000 characters of subject and body.";
    IntentUrgencyCount = "intent_urgency_phrase_count", Intent,
        "Urgency and deadline phrases, in subject and body.";
    IntentUrgencyRate = "intent_urgency_per_kchar", Intent,
        "Urgency phrases per 1,000 characters of subject and body.";
    IntentSecrecyCount = "intent_secrecy_phrase_count", Intent,
        "Secrecy and unavailability phrases (confidential, I'm in a meeting), in subject and body.";
    IntentSecrecyRate = "intent_secrecy_per_kchar", Intent,
        "Secrecy phrases per 1,000 characters of subject and body.";
    IntentCredentialLureCount = "intent_credential_lure_phrase_count", Intent,
        "Credential-lure phrases (verify your account, password expires), in subject and body.";
    IntentCredentialLureRate = "intent_credential_lure_per_kchar", Intent,
        "Credential-lure phrases per 1,000 characters of subject and body.";
    BodyTextChars = "body_text_chars", Intent,
        "Characters of subject and body text the intent rates are normalised by (capped at the text limit).";
    // links
    LinkCount = "link_count", Links,
        "Links in the body (HTML anchors and URLs in plain text).";
    LinkHttpOnlyCount = "link_http_only_count", Links,
        "Links with plain http:// rather than https://.";
    LinkIpLiteralHostCount = "link_ip_literal_host_count", Links,
        "Links whose host is an IP address literal.";
    LinkTextDomainMismatchCount = "link_text_domain_mismatch_count", Links,
        "Anchors whose visible text names another registrable domain than the href's host.";
    LinkBrandUnrelatedHostCount = "link_brand_unrelated_host_count", Links,
        "Links whose host contains a brand or protected name but is not that brand's domain.";
    LinkShortenerCount = "link_shortener_count", Links,
        "Links through a URL shortener.";
    LinkPunycodeHostCount = "link_punycode_host_count", Links,
        "Links whose host has a punycode (xn--) label.";
    // callback
    CallbackPhoneNumberCount = "callback_phone_number_count", Callback,
        "Phone numbers (North American, international with +, trunk-prefix domestic such as Japanese 0120-, spaced out or with letters for digits) in subject, body and attachment text, at most 32; order, invoice and account numbers, dates, amounts and IP addresses are not counted.";
    PhoneNumberFakedDigits = "phone_number_faked_digits_flag", Callback,
        "A phone number writes letters for digits (O for 0, l or I for 1), which hides it from number filters.";
    CallbackPurchaseLexiconCount = "callback_purchase_lexicon_count", Callback,
        "Purchase, renewal, subscription, charge, refund, cancel and did-not-authorise terms (English and Japanese) in subject, body and attachment text.";
    CallbackBrandUnrelatedSender = "callback_brand_unrelated_sender_flag", Callback,
        "The subject, body or attachment text names a brand of the brand list while the From domain is the domain of no brand named.";
    CallbackLure = "callback_lure_flag", Callback,
        "Callback phishing: a phone number, purchase or charge terms, at most one body link, and a brand named by an unrelated sender or a free-mail sender.";
    // sender history (zero without a warm history store, but the first)
    ReplyWithoutReferences = "reply_without_references_flag", SenderHistory,
        "The subject reads as a reply or forward (RE:, FW:, AW:, SV:, 答复, 転送, …) or the body quotes a header block, yet the message has no In-Reply-To or References: a thread made up for the reader.";
    HistoryFirstContact = "history_first_contact_flag", SenderHistory,
        "The history store (warm: 50 messages learnt or more) has never seen the From's key (the address for internal and free-mail mailboxes, else the registrable domain).";
    HistoryNeverWrittenTo = "history_never_written_to_flag", SenderHistory,
        "The organisation has never written to the external sender's key.";
    HistoryReplyToFirstContact = "history_reply_to_first_contact_flag", SenderHistory,
        "A Reply-To other than the From has never been seen in the organisation's mail, as sender or recipient.";
    HistoryNewNetwork = "history_new_network_flag", SenderHistory,
        "An internal mailbox with 5 or more recorded submissions sends from an IPv4 /24 or IPv6 /48 it never sent from.";
    HistoryNewClient = "history_new_client_flag", SenderHistory,
        "An internal mailbox with 5 or more recorded messages writes with a mail client (X-Mailer, User-Agent) it never used.";
    HistoryUnusualHour = "history_unusual_hour_flag", SenderHistory,
        "None of the sender's 20 or more earlier messages was sent within an hour of this one's hour of the week (UTC).";
    HistoryFirstPaymentRequest = "history_first_payment_request_flag", SenderHistory,
        "The sender has 5 or more earlier messages, none asking for a payment, and this one does.";
    HistoryFirstBankChange = "history_first_bank_change_flag", SenderHistory,
        "The sender has 5 or more earlier messages, none announcing changed bank details, and this one does.";
    HistoryUnknownBankAccount = "history_unknown_bank_account_flag", SenderHistory,
        "Every bank account the message names is one the sender never gave (compared as salted hashes), and the sender gave others or announces a change.";
    HistoryNewLinkDomainCount = "history_new_link_domain_count", SenderHistory,
        "Link domains (registrable, not the organisation's or the sender's own) the sender never sent in 5 or more earlier messages.";
    HistoryInternalBroadcastNewLink = "history_internal_broadcast_new_link_flag", SenderHistory,
        "An internal mailbox sends 5 or more internal recipients a link to a domain it never sent before.";
    HistoryUnknownThread = "history_unknown_thread_flag", SenderHistory,
        "In-Reply-To or References are given and name no message the organisation has seen (the store is warm).";
    HistoryCorrespondentLookalike = "history_correspondent_lookalike_flag", SenderHistory,
        "The From, Reply-To or envelope domain imitates a domain the organisation corresponds with (a vendor or customer beyond the protected list).";
    HistoryAccountCompromise = "history_account_compromise_flag", SenderHistory,
        "A genuine mailbox (internal and not failing authentication, or an authenticated correspondent with a history) departs from its history (new network, client, hour, Reply-To, link domains, bank account or thread) while asking for money, credentials or changed details.";
    HistoryKnownCorrespondent = "history_known_correspondent_flag", SenderHistory,
        "The authenticated sender has 5 or more earlier messages, the organisation has written to it, and nothing in this message departs from its history.";

    // carrier: attachments, HTML pages, QR codes
    AttachmentCount = "attachment_count", Carrier,
        "Attachments and inline non-text parts (pictures in the body included).";
    AttachmentHtml = "attachment_html_flag", Carrier,
        "An attachment, or an archive member, is an HTML page (by its bytes, its type or its name).";
    HtmlCredentialForm = "html_credential_form_flag", Carrier,
        "The body or an HTML attachment holds a form that posts a password or sign-in fields, or script that posts them.";
    HtmlSmuggling = "html_smuggling_flag", Carrier,
        "The body or an HTML attachment builds a page or file from data: or blob: content, or script decodes text and writes it as the page (HTML smuggling).";
    HtmlMetaRefresh = "html_meta_refresh_flag", Carrier,
        "The body or an HTML attachment sends the reader elsewhere with a meta refresh.";
    AttachmentNameTrick = "attachment_name_trick_flag", Carrier,
        "An attachment's name hides its real extension (invoice.pdf.html) or holds bidirectional control characters.";
    AttachmentTypeMismatch = "attachment_type_mismatch_flag", Carrier,
        "An attachment's declared type or extension disagrees with what its bytes are.";
    AttachmentExecutable = "attachment_executable_flag", Carrier,
        "An attachment or archive member is a program or script a click would run.";
    AttachmentEncryptedArchive = "attachment_encrypted_archive_flag", Carrier,
        "An attached archive has encrypted members (scanners cannot look inside; the password is in the text).";
    AttachmentMacro = "attachment_macro_flag", Carrier,
        "An Office document carries macros.";
    AttachmentExternalLink = "attachment_external_link_flag", Carrier,
        "An Office document loads something from outside (a remote template or external link).";
    PdfScript = "pdf_script_flag", Carrier,
        "A PDF carries JavaScript, a launch action or an embedded file.";
    AttachmentLinkCount = "attachment_link_count", Carrier,
        "Web links written in attachments: PDF link annotations and text, HTML pages, Office documents' external links.";
    QrCodeLinkCount = "qr_code_link_count", Carrier,
        "Web links decoded from QR codes in images and in PDFs' images.";
    AttachmentOverBudget = "attachment_over_budget_flag", Carrier,
        "An attachment could not be read within the reader's bounds (an archive bomb, archives nested too deep, an image claiming too many pixels).";
}

/// How many features a vector holds.
pub const FEATURE_COUNT: usize = Feature::ALL.len();

impl Feature {
    /// Position in [`FeatureVector`] and in every feature table.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The feature of a column name, if any.
    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// SHA-256 over the schema version and every column's name and family,
    /// hex-encoded. Artifacts store it; a vector of another schema is refused.
    pub fn schema_hash() -> String {
        let mut hasher = Sha256::new();
        hasher.update(SCHEMA_VERSION.to_le_bytes());
        for f in Feature::ALL {
            hasher.update(f.name().as_bytes());
            hasher.update([0]);
            hasher.update(f.family().name().as_bytes());
            hasher.update([0]);
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Which way a feature may move a score: the monotonicity the training
/// enforces (a sign constraint on every weight that reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Written by the sender (headers, text, links, the domains it picks)
    /// or evidence of an attack: a larger value never lowers the score,
    /// so an attacker cannot buy a lower score by adding something.
    Raises,
    /// A fact someone other than the sender vouches for (a trusted
    /// receiver's pass verdict, a trusted ARC sealer): training may weigh
    /// it either way.
    Either,
}

impl Feature {
    /// The features a party other than the sender vouches for and that may
    /// lower a score. Everything else the sender can add at will.
    const EXCULPATORY: &'static [Feature] = &[
        Feature::AuthSpfPass,
        Feature::AuthDkimPass,
        Feature::AuthDmarcPass,
        Feature::AuthArcPass,
        Feature::AuthCompauthPass,
        Feature::InternalAuthenticatedSender,
        Feature::AuthFailureExplainedByArc,
        // Mail for the security desk alone harms nobody, whatever it holds;
        // in a gateway the recipients are the MTA's, not the sender's.
        Feature::OnlyToReportMailbox,
        // Read from the history store under an authenticated From, and
        // withdrawn by any departure the sender could write.
        Feature::HistoryKnownCorrespondent,
    ];

    /// Which way the feature may move a score.
    pub fn direction(self) -> Direction {
        if Self::EXCULPATORY.contains(&self) {
            Direction::Either
        } else {
            Direction::Raises
        }
    }

    /// Whether a model may read the feature. Rates per 1,000 characters
    /// are not model inputs: a sender dilutes them by adding text, so a
    /// rate's weight could never be non-negative and monotone at once (the
    /// counts beside them carry the same phrases). Nor are the parts of a
    /// whole (see `PARTS_OF_A_WHOLE`).
    pub fn is_model_input(self) -> bool {
        !self.name().ends_with("_per_kchar")
            && !Self::PARTS_OF_A_WHOLE.contains(&self)
            && !Self::ERA_BOUND.contains(&self)
    }

    /// Features whose rate follows the year more than the sender: plain
    /// http links were ordinary before the web moved to https, so a
    /// classifier learns "old mail" from them, and held-out old ham pays.
    const ERA_BOUND: &'static [Feature] = &[Feature::LinkHttpOnlyCount];

    /// Features that mean something only together (a phone number, charge
    /// words, a brand named by a stranger: `callback_lure_flag` is the
    /// whole) or only through what is found in them (how many attachments):
    /// alone each is everyday mail (mailing lists name Microsoft, sign with
    /// a phone number and attach signatures), and a classifier would learn
    /// which corpus uses them most. Evidence still reads them; rules may
    /// not (a rule reads model inputs only).
    const PARTS_OF_A_WHOLE: &'static [Feature] = &[
        Feature::CallbackPhoneNumberCount,
        Feature::CallbackPurchaseLexiconCount,
        Feature::CallbackBrandUnrelatedSender,
        Feature::AttachmentCount,
    ];
}

/// One value per [`Feature`], in [`Feature::ALL`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureVector {
    values: [f32; FEATURE_COUNT],
}

impl Default for FeatureVector {
    fn default() -> Self {
        FeatureVector {
            values: [0.0; FEATURE_COUNT],
        }
    }
}

impl FeatureVector {
    /// A feature's value, in the unit its name ends in.
    pub fn get(&self, feature: Feature) -> f32 {
        // Never the 0.0: every index() is below FEATURE_COUNT = ALL.len().
        self.values.get(feature.index()).copied().unwrap_or(0.0)
    }

    /// Sets a feature's value.
    pub fn set(&mut self, feature: Feature, value: f32) {
        if let Some(slot) = self.values.get_mut(feature.index()) {
            *slot = value;
        }
    }

    /// Sets a `_flag` feature: 1 when `on`, else 0.
    pub fn set_flag(&mut self, feature: Feature, on: bool) {
        self.set(feature, if on { 1.0 } else { 0.0 });
    }

    /// Every value, in the column order of [`Feature::ALL`].
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// (feature, value) pairs that are not zero.
    pub fn nonzero(&self) -> impl Iterator<Item = (Feature, f32)> + '_ {
        Feature::ALL
            .iter()
            .map(|f| (*f, self.get(*f)))
            .filter(|(_, v)| *v != 0.0)
    }
}

/// Serialised as a map from column name to value, in column order.
impl Serialize for FeatureVector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(FEATURE_COUNT))?;
        for f in Feature::ALL {
            map.serialize_entry(f.name(), &self.get(*f))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_carry_a_unit() {
        let mut seen = HashSet::new();
        for f in Feature::ALL {
            assert!(seen.insert(f.name()), "duplicate feature name {}", f.name());
            let unit_ok = [
                "_flag",
                "_count",
                "_per_kchar",
                "_chars",
                "_bytes",
                "_strength",
            ]
            .iter()
            .any(|u| f.name().ends_with(u));
            assert!(unit_ok, "{} does not end in a unit", f.name());
            assert!(!f.doc().is_empty());
            assert_eq!(Feature::from_name(f.name()), Some(*f));
        }
    }

    #[test]
    fn index_matches_column_order() {
        for (i, f) in Feature::ALL.iter().enumerate() {
            assert_eq!(f.index(), i);
        }
    }

    #[test]
    fn only_verified_pass_verdicts_may_lower_a_score() {
        let either: Vec<&str> = Feature::ALL
            .iter()
            .filter(|f| f.direction() == Direction::Either)
            .map(|f| f.name())
            .collect();
        assert!(
            either.iter().all(|n| n.starts_with("auth_")
                || n.starts_with("internal_authenticated")
                || *n == "only_to_report_mailbox_flag"
                || *n == "history_known_correspondent_flag"),
            "{either:?}"
        );
        for sender_written in [
            Feature::ResentFromDomainMismatch,
            Feature::SenderDomainMismatch,
            Feature::LinkHttpOnlyCount,
            Feature::LinkCount,
            Feature::BodyTextChars,
            Feature::DmarcFailureExplainedByList,
        ] {
            assert_eq!(sender_written.direction(), Direction::Raises);
        }
    }

    #[test]
    fn rates_that_added_text_dilutes_are_not_model_inputs() {
        assert!(!Feature::IntentPaymentRate.is_model_input());
        assert!(Feature::IntentPaymentCount.is_model_input());
    }

    #[test]
    fn schema_hash_is_stable_hex() {
        let h = Feature::schema_hash();
        assert_eq!(h.len(), 64);
        assert_eq!(h, Feature::schema_hash());
    }
}
