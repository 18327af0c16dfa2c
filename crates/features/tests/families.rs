//! Each feature family on small hand-written messages for a fictional
//! organisation (Kestrel Foods): every test asserts exact feature values and
//! the evidence and technique behind them, so a regression makes it fail.

mod support;

use impostor_features::{Envelope, Extraction, Extractor, Feature, MessageView, Technique};
use support::{ctx, dump, Mail, EXTERNAL_HOP, INTERNAL_HOP};

/// Senders the fixtures use again and again.
const DANIEL: &str = "Daniel Brandt <d.brandt@kestrelfoods.com>";
const PAYROLL: &str = "Payroll <payroll@kestrelfoods.com>";
const BOSS: &str = "Boss <boss@supplier.example>";
const IT: &str = "IT <it@supplier.example>";
const PAYPAL: &str = "PayPal <service@paypal-support.example>";

const SPOOF: Option<Technique> = Some(Technique::HeaderFromSpoof);
const LOOKALIKE: Option<Technique> = Some(Technique::LookalikeDomain);

/// Asserts every (feature, value) pair, with the whole extraction on failure.
fn expect(x: &Extraction, pairs: &[(Feature, f32)]) {
    for (f, want) in pairs {
        assert_eq!(
            x.vector.get(*f),
            *want,
            "{} should be {want}:\n{}",
            f.name(),
            dump(x)
        );
    }
}

/// True when evidence for `feature` carries `technique` and mentions `needle`.
fn has_evidence(
    x: &Extraction,
    feature: Feature,
    technique: Option<Technique>,
    needle: &str,
) -> bool {
    x.evidence
        .iter()
        .any(|e| e.feature == feature && e.technique == technique && e.detail.contains(needle))
}

fn assert_evidence(x: &Extraction, feature: Feature, technique: Option<Technique>, needle: &str) {
    assert!(
        has_evidence(x, feature, technique, needle),
        "no evidence for {} with {technique:?} mentioning {needle:?}:\n{}",
        feature.name(),
        dump(x)
    );
}

/// `feature` is 1 and its evidence carries `technique` and mentions `needle`.
fn flagged(x: &Extraction, feature: Feature, technique: Option<Technique>, needle: &str) {
    expect(x, &[(feature, 1.0)]);
    assert_evidence(x, feature, technique, needle);
}

fn no_evidence_for(x: &Extraction, feature: Feature) {
    assert!(
        x.evidence.iter().all(|e| e.feature != feature),
        "unexpected evidence for {}:\n{}",
        feature.name(),
        dump(x)
    );
}

/// Every feature in `features` is `value`.
fn all(features: &[Feature], value: f32) -> Vec<(Feature, f32)> {
    features.iter().map(|f| (*f, value)).collect()
}

const AUTH_FLAGS: [Feature; 10] = [
    Feature::AuthSpfPass,
    Feature::AuthSpfFail,
    Feature::AuthDkimPass,
    Feature::AuthDkimFail,
    Feature::AuthDmarcPass,
    Feature::AuthDmarcFail,
    Feature::AuthArcPass,
    Feature::AuthArcFail,
    Feature::AuthCompauthPass,
    Feature::AuthCompauthFail,
];

// ------------------------------------------------------------ sender path

mod sender_path {
    use super::*;

    #[test]
    fn envelope_on_a_subdomain_is_relaxed_aligned_but_not_strict() {
        let x = Mail::from(PAYROLL)
            .return_path("<bounce-42@mail.kestrelfoods.com>")
            .subject("Payslips")
            .extract();
        expect(
            &x,
            &[
                (Feature::EnvelopeFromDomainMismatch, 0.0),
                (Feature::EnvelopeFromHostMismatch, 1.0),
            ],
        );
        no_evidence_for(&x, Feature::EnvelopeFromDomainMismatch);
    }

    #[test]
    fn envelope_on_another_domain_fails_both_alignments() {
        let x = Mail::from(PAYROLL)
            .return_path("<x@bulk-sender.example>")
            .subject("Payslips")
            .extract();
        expect(&x, &[(Feature::EnvelopeFromHostMismatch, 1.0)]);
        // From claims an internal domain: that is a header-From spoof.
        flagged(
            &x,
            Feature::EnvelopeFromDomainMismatch,
            SPOOF,
            "envelope sender is on bulk-sender.example, the From address on kestrelfoods.com",
        );
    }

    #[test]
    fn smtp_mail_from_takes_precedence_over_return_path() {
        let bytes = Mail::from(PAYROLL)
            .return_path("<payroll@kestrelfoods.com>")
            .subject("Payslips")
            .bytes();
        let envelope = Envelope {
            mail_from: Some("<x@bulk-sender.example>".into()),
            ..Envelope::default()
        };
        let (view, x) = Extractor::new(ctx())
            .extract_bytes(&bytes, &envelope.into())
            .unwrap();
        assert_eq!(view.envelope_domain(), Some("bulk-sender.example"));
        expect(&x, &[(Feature::EnvelopeFromDomainMismatch, 1.0)]);
    }

    #[test]
    fn missing_envelope_is_not_a_mismatch() {
        let x = Mail::from(PAYROLL).subject("Payslips").extract();
        expect(
            &x,
            &[
                (Feature::EnvelopeFromDomainMismatch, 0.0),
                (Feature::EnvelopeFromHostMismatch, 0.0),
            ],
        );
    }

    #[test]
    fn dkim_signer_alignment_relaxed_and_strict() {
        let signed = |d: &str| Mail::from(PAYROLL).dkim(d).subject("x").extract();
        // Subdomain signer: relaxed aligned, strict not.
        let sub = signed("mail.kestrelfoods.com");
        expect(
            &sub,
            &[
                (Feature::DkimFromDomainMismatch, 0.0),
                (Feature::DkimFromHostMismatch, 1.0),
            ],
        );
        // Exact signer: both aligned.
        let exact = signed("kestrelfoods.com");
        let both = [
            Feature::DkimFromDomainMismatch,
            Feature::DkimFromHostMismatch,
        ];
        expect(&exact, &all(&both, 0.0));
        // A third party signs for us: both fail, evidence names the signer.
        let other = signed("esp-mailer.example");
        expect(&other, &all(&both, 1.0));
        assert_evidence(
            &other,
            Feature::DkimFromDomainMismatch,
            None,
            "signed by esp-mailer.example but From is on kestrelfoods.com",
        );
    }

    #[test]
    fn unsigned_mail_has_no_dkim_mismatch() {
        let x = Mail::from(PAYROLL).subject("x").extract();
        expect(
            &x,
            &[
                (Feature::DkimFromDomainMismatch, 0.0),
                (Feature::DkimFromHostMismatch, 0.0),
            ],
        );
    }

    #[test]
    fn no_authentication_results_means_every_auth_flag_is_unknown() {
        let x = Mail::from("Supplier <billing@supplier.example>")
            .subject("Invoice")
            .extract();
        expect(&x, &all(&AUTH_FLAGS, 0.0));
    }

    #[test]
    fn untrusted_authserv_id_is_ignored() {
        let x = Mail::from(DANIEL)
            .auth(
                "mx.evil.example; spf=fail smtp.mailfrom=kestrelfoods.com;\n\
                 \tdkim=fail header.d=kestrelfoods.com; dmarc=fail header.from=kestrelfoods.com;\n\
                 \tarc=fail; compauth=fail reason=000",
            )
            .auth("kestrelfoods.com.evil.example; dmarc=fail")
            .subject("hello")
            .extract();
        expect(&x, &all(&AUTH_FLAGS, 0.0));
        no_evidence_for(&x, Feature::AuthDmarcFail);
    }

    #[test]
    fn trusted_softfail_is_an_spf_fail_and_only_that() {
        let x = Mail::from("Supplier <billing@bulk-sender.example>")
            .auth(
                "MX.KestrelFoods.com;\n\
                 \tspf=softfail (domain of x@bulk-sender.example does not designate 198.51.100.23) smtp.mailfrom=x@bulk-sender.example",
            )
            .return_path("<x@bulk-sender.example>")
            .subject("Invoice")
            .extract();
        let others: Vec<Feature> = AUTH_FLAGS
            .into_iter()
            .filter(|f| *f != Feature::AuthSpfFail)
            .collect();
        expect(&x, &all(&others, 0.0));
        flagged(
            &x,
            Feature::AuthSpfFail,
            Some(Technique::EnvelopeFromSpoof),
            "SPF failed for x@bulk-sender.example",
        );
    }

    #[test]
    fn trusted_passes_are_read() {
        let x = Mail::from("Supplier <news@supplier.example>")
            .auth(
                "mx.kestrelfoods.com; spf=pass smtp.mailfrom=news.supplier.example;\n\
                 \tdkim=pass header.d=supplier.example; dmarc=pass header.from=supplier.example; arc=pass",
            )
            .subject("News")
            .extract();
        expect(
            &x,
            &[
                (Feature::AuthSpfPass, 1.0),
                (Feature::AuthSpfFail, 0.0),
                (Feature::AuthDkimPass, 1.0),
                (Feature::AuthDmarcPass, 1.0),
                (Feature::AuthDmarcFail, 0.0),
                (Feature::AuthArcPass, 1.0),
                (Feature::AuthCompauthPass, 0.0),
            ],
        );
    }

    /// Daniel's internal address over `hop`, with `auth` results if any.
    fn daniel_over(hop: &str, auth: Option<&str>) -> Extraction {
        let mut mail = Mail::from(DANIEL);
        if let Some(auth) = auth {
            mail = mail.auth(auth);
        }
        mail.received(hop).subject("Quick task").extract()
    }

    #[test]
    fn internal_domain_over_an_external_route_without_authentication() {
        let x = daniel_over(EXTERNAL_HOP, None);
        flagged(
            &x,
            Feature::InternalDomainExternalRoute,
            SPOOF,
            "From claims internal domain kestrelfoods.com but the message came from outside (mail.bulk-sender.example [198.51.100.23])",
        );
    }

    #[test]
    fn internal_domain_over_an_internal_route_is_fine() {
        let x = daniel_over(INTERNAL_HOP, None);
        expect(&x, &[(Feature::InternalDomainExternalRoute, 0.0)]);
        no_evidence_for(&x, Feature::InternalDomainExternalRoute);
    }

    #[test]
    fn internal_domain_over_an_external_route_with_dmarc_pass_is_authenticated() {
        let x = daniel_over(
            EXTERNAL_HOP,
            Some("mx.kestrelfoods.com; dmarc=pass header.from=kestrelfoods.com"),
        );
        expect(
            &x,
            &[
                (Feature::InternalDomainExternalRoute, 0.0),
                (Feature::InternalAuthenticatedSender, 1.0),
            ],
        );
    }

    #[test]
    fn two_from_headers() {
        let x = Mail::from(DANIEL)
            .field("From", "Attacker <x@evil.example>")
            .extract();
        expect(&x, &[(Feature::FromAddressMultiple, 0.0)]);
        flagged(
            &x,
            Feature::FromHeaderMultiple,
            SPOOF,
            "2 From headers: \"Daniel Brandt\" <d.brandt@kestrelfoods.com> / \"Attacker\" <x@evil.example>",
        );
    }

    #[test]
    fn two_addresses_in_one_from() {
        let x = Mail::from("d.brandt@kestrelfoods.com, Attacker <x@evil.example>").extract();
        expect(&x, &[(Feature::FromHeaderMultiple, 0.0)]);
        flagged(&x, Feature::FromAddressMultiple, SPOOF, "several addresses");
    }

    #[test]
    fn unquoted_comma_in_the_display_name_keeps_the_real_mailbox() {
        let x = Mail::from("Amazon Gutschein, <service@gmail.com>").extract();
        flagged(&x, Feature::FromAddressMultiple, SPOOF, "several addresses");
        // The name fragment has no address; the mailbox after it is the sender.
        expect(&x, &[(Feature::FromFreemail, 1.0)]);
    }

    #[test]
    fn display_name_carrying_another_address() {
        let x = Mail::from("\"ceo@kestrelfoods.com\" <x@evil.example>").extract();
        flagged(
            &x,
            Feature::DisplayNameEmbeddedAddressMismatch,
            SPOOF,
            "display name shows an address on kestrelfoods.com, the real address is on evil.example",
        );
        // Its own address in the display name is no trick.
        let own = Mail::from("\"x@evil.example\" <x@evil.example>").extract();
        expect(&own, &[(Feature::DisplayNameEmbeddedAddressMismatch, 0.0)]);
    }

    #[test]
    fn encoded_word_hiding_an_address_in_the_display_name() {
        let (view, x) = Mail::from("=?utf-8?q?ceo=40kestrelfoods=2Ecom?= <x@evil.example>").run();
        // The client shows the decoded name: an internal address.
        assert_eq!(
            view.from().and_then(|i| i.name.as_deref()),
            Some("ceo@kestrelfoods.com")
        );
        expect(&x, &[(Feature::DisplayNameEmbeddedAddressMismatch, 1.0)]);
        flagged(
            &x,
            Feature::FromEncodedWordTrick,
            SPOOF,
            "=?utf-8?q?ceo=40kestrelfoods=2Ecom?=",
        );
    }

    #[test]
    fn encoded_word_in_the_address_and_a_harmless_one() {
        let x = Mail::from("Boss <=?utf-8?q?ceo?=@kestrelfoods.com>").extract();
        expect(&x, &[(Feature::FromEncodedWordTrick, 1.0)]);
        // An encoded-word that only spells a name with an umlaut.
        let benign = Mail::from("=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <j.mueller@supplier.example>")
            .extract();
        expect(&benign, &[(Feature::FromEncodedWordTrick, 0.0)]);
        no_evidence_for(&benign, Feature::FromEncodedWordTrick);
    }

    #[test]
    fn obsolete_route_syntax() {
        let x = Mail::from("<@relay.evil.example:ceo@kestrelfoods.com>").extract();
        flagged(
            &x,
            Feature::FromRouteSyntax,
            SPOOF,
            "From uses obsolete route syntax",
        );
        let reply = Mail::from("Boss <ceo@kestrelfoods.com>")
            .field(
                "Reply-To",
                "< @relay.evil.example,@b.example:ceo@kestrelfoods.com>",
            )
            .extract();
        flagged(&reply, Feature::FromRouteSyntax, SPOOF, "Reply-To");
        // An address with a colon-free angle form is not route syntax.
        let plain = Mail::from("Boss <ceo@kestrelfoods.com>")
            .subject("a:b")
            .extract();
        expect(&plain, &[(Feature::FromRouteSyntax, 0.0)]);
    }

    #[test]
    fn sender_without_from() {
        let (view, x) = Mail::headers(&format!("Sender: {DANIEL}\nSubject: hi\n")).run();
        assert!(view.from().is_none());
        flagged(
            &x,
            Feature::SenderWithoutFrom,
            SPOOF,
            "without a From header",
        );
        let with_from = Mail::from(DANIEL).field("Sender", DANIEL).extract();
        expect(&with_from, &[(Feature::SenderWithoutFrom, 0.0)]);
    }

    #[test]
    fn white_space_before_the_colon_of_from() {
        // The header blocks are written out: where the odd field stands matters.
        let (view, x) = Mail::headers(&format!("From : {DANIEL}\nSubject: hi\n")).run();
        // Some clients take "From :" as the From header; the view does too.
        assert_eq!(
            view.from().and_then(|i| i.address.as_deref()),
            Some("d.brandt@kestrelfoods.com")
        );
        expect(&x, &[(Feature::SenderWithoutFrom, 0.0)]);
        flagged(
            &x,
            Feature::HeaderSpaceBeforeColon,
            SPOOF,
            "header \"From :\"",
        );
        // Not first in the block: the same.
        let (view, x) = Mail::headers(&format!("Subject: hi\nFrom\t: {DANIEL}\n")).run();
        assert_eq!(view.from_domain(), Some("kestrelfoods.com"));
        expect(&x, &[(Feature::HeaderSpaceBeforeColon, 1.0)]);
        // A real mbox separator line is still taken off the top.
        let (view, x) = Mail::headers(&format!(
            "From MAILER-DAEMON Tue Jan  2 10:00:00 2024\nFrom: {DANIEL}\nSubject: hi\n"
        ))
        .run();
        assert_eq!(view.from_headers.len(), 1);
        expect(
            &x,
            &[
                (Feature::HeaderSpaceBeforeColon, 0.0),
                (Feature::FromHeaderMultiple, 0.0),
            ],
        );
        // On a field that names no identity it is a quirk, not a technique.
        let subject = Mail::headers(&format!("From: {DANIEL}\nSubject\t: hi\n")).extract();
        flagged(&subject, Feature::HeaderSpaceBeforeColon, None, "Subject");
    }

    #[test]
    fn sender_on_another_domain() {
        // A mailing service sends for an external From: a mismatch, no technique.
        let esp = Mail::from("Supplier <news@supplier.example>")
            .field("Sender", "bounce@esp-mailer.example")
            .extract();
        flagged(
            &esp,
            Feature::SenderDomainMismatch,
            None,
            "Sender is on esp-mailer.example, From on supplier.example",
        );
        // Sender claims our domain for a stranger's From: a spoof.
        let ours = Mail::from("Someone <x@evil.example>")
            .field("Sender", "d.brandt@kestrelfoods.com")
            .extract();
        flagged(
            &ours,
            Feature::SenderDomainMismatch,
            SPOOF,
            "Sender is on kestrelfoods.com",
        );
        // Same organisation, other host: aligned.
        let sub = Mail::from(PAYROLL)
            .field("Sender", "robot@hr.kestrelfoods.com")
            .extract();
        expect(&sub, &[(Feature::SenderDomainMismatch, 0.0)]);
    }
}

// ------------------------------------------------------------ display name

mod display_name {
    use super::*;

    fn vip_on_freemail(from: &str, who: &str) {
        let x = Mail::from(from).extract();
        expect(
            &x,
            &[
                (Feature::VipDisplayName, 1.0),
                (Feature::VipNameUnlistedAddress, 1.0),
                (Feature::VipNameExternalDomain, 1.0),
                (Feature::FromFreemail, 1.0),
            ],
        );
        flagged(
            &x,
            Feature::VipNameFreemail,
            Some(Technique::FreemailImpersonation),
            who,
        );
        assert!(
            x.techniques().contains(&Technique::FreemailImpersonation),
            "{}",
            dump(&x)
        );
    }

    #[test]
    fn vip_name_reversed_with_a_comma_on_gmail() {
        vip_on_freemail(
            "\"Brandt, Daniel\" <dbrandt.office@gmail.com>",
            "Daniel Brandt (CEO)'s name on free-mail address <dbrandt.office@gmail.com>",
        );
    }

    #[test]
    fn vip_name_upper_case_with_title_on_gmail() {
        vip_on_freemail(
            "\"DANIEL BRANDT (CEO)\" <ceo.kestrel@gmail.com>",
            "Daniel Brandt (CEO)",
        );
        vip_on_freemail(
            "Dan Brandt <danbrandt1970@gmail.com>",
            "Daniel Brandt (CEO)",
        );
    }

    #[test]
    fn japanese_vip_without_a_space_on_gmail() {
        // Raw UTF-8 and an encoded-word spelling of 山田太郎.
        vip_on_freemail("山田太郎 <taro.yamada.k@gmail.com>", "山田 太郎");
        vip_on_freemail(
            "=?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro.yamada.k@gmail.com>",
            "山田 太郎",
        );
    }

    #[test]
    fn vip_on_his_real_address_is_no_impersonation() {
        let x = Mail::from("Daniel Brandt <D.Brandt@KestrelFoods.com>").extract();
        let impersonation = [
            Feature::VipNameUnlistedAddress,
            Feature::VipNameFreemail,
            Feature::VipNameExternalDomain,
        ];
        expect(&x, &[(Feature::VipDisplayName, 1.0)]);
        expect(&x, &all(&impersonation, 0.0));
        expect(&x, &[(Feature::FromFreemail, 0.0)]);
        for f in impersonation {
            no_evidence_for(&x, f);
        }
        assert!(x.techniques().is_empty(), "{}", dump(&x));
    }

    #[test]
    fn vip_name_on_another_internal_address_is_a_header_spoof_hint() {
        let x = Mail::from("Daniel Brandt <ap-team@kestrelfoods.com>").extract();
        expect(
            &x,
            &[
                (Feature::VipNameExternalDomain, 0.0),
                (Feature::VipNameFreemail, 0.0),
            ],
        );
        flagged(
            &x,
            Feature::VipNameUnlistedAddress,
            SPOOF,
            "<ap-team@kestrelfoods.com> is not one of their addresses",
        );
    }

    #[test]
    fn non_vip_names_do_not_match() {
        for name in ["Daniel", "Daniel Brandtson", "山田", "Dan Brand"] {
            let x = Mail::from(&format!("{name} <someone@gmail.com>")).extract();
            expect(
                &x,
                &[
                    (Feature::VipDisplayName, 0.0),
                    (Feature::VipNameFreemail, 0.0),
                    (Feature::FromFreemail, 1.0),
                ],
            );
        }
    }

    #[test]
    fn reply_to_on_free_mail() {
        let x = Mail::from(DANIEL)
            .field("Reply-To", "Daniel Brandt <dbrandt.private@gmail.com>")
            .extract();
        expect(&x, &[(Feature::FromFreemail, 0.0)]);
        flagged(
            &x,
            Feature::ReplyToFreemail,
            None,
            "replies go to free-mail address \"Daniel Brandt\" <dbrandt.private@gmail.com>",
        );
        flagged(
            &x,
            Feature::ReplyToDomainMismatch,
            None,
            "is on gmail.com, From on kestrelfoods.com",
        );
    }

    #[test]
    fn reply_to_on_the_same_free_mail_domain_or_a_subdomain_is_fine() {
        let gmail = Mail::from("Lily <lily@gmail.com>")
            .field("Reply-To", "lily.other@gmail.com")
            .extract();
        expect(
            &gmail,
            &[
                (Feature::ReplyToFreemail, 0.0),
                (Feature::ReplyToDomainMismatch, 0.0),
            ],
        );
        let sub = Mail::from(PAYROLL)
            .field("Reply-To", "hr@hr.kestrelfoods.com")
            .extract();
        expect(&sub, &[(Feature::ReplyToDomainMismatch, 0.0)]);
    }

    #[test]
    fn disposable_sender() {
        let x = Mail::from("Buyer <buyer123@mailinator.com>").extract();
        expect(&x, &[(Feature::VipDisplayName, 0.0)]);
        flagged(
            &x,
            Feature::FromDisposable,
            None,
            "<buyer123@mailinator.com> is on a disposable-address domain",
        );
        // A VIP's name on a disposable address counts as free-mail impersonation.
        let vip = Mail::from("Daniel Brandt <ceo-brandt@mailinator.com>").extract();
        expect(&vip, &[(Feature::FromDisposable, 1.0)]);
        flagged(
            &vip,
            Feature::VipNameFreemail,
            Some(Technique::FreemailImpersonation),
            "ceo-brandt@mailinator.com",
        );
    }
}

// ------------------------------------------------------------ intent

mod intent {
    use super::*;

    const INTENT_COUNTS: [Feature; 7] = [
        Feature::IntentActionRequestCount,
        Feature::IntentPaymentCount,
        Feature::IntentGiftCardCount,
        Feature::IntentBankChangeCount,
        Feature::IntentUrgencyCount,
        Feature::IntentSecrecyCount,
        Feature::IntentCredentialLureCount,
    ];
    const INTENT_RATES: [Feature; 7] = [
        Feature::IntentActionRequestRate,
        Feature::IntentPaymentRate,
        Feature::IntentGiftCardRate,
        Feature::IntentBankChangeRate,
        Feature::IntentUrgencyRate,
        Feature::IntentSecrecyRate,
        Feature::IntentCredentialLureRate,
    ];

    /// What the intent family measures an ASCII message by: subject, a line
    /// break and the body, with every run of white space as one space.
    fn ascii_chars(view: &MessageView) -> usize {
        let text = format!("{}\n{}", view.subject, view.body_text);
        assert!(text.is_ascii());
        let mut n = 0;
        let mut in_space = false;
        for c in text.chars() {
            let space = c.is_whitespace();
            if !(space && in_space) {
                n += 1;
            }
            in_space = space;
        }
        n
    }

    /// Every rate equals count × 1000 / max(chars, 100).
    fn assert_rates(x: &Extraction) {
        let chars = x.vector.get(Feature::BodyTextChars);
        for (c, r) in INTENT_COUNTS.iter().zip(INTENT_RATES) {
            let want = x.vector.get(*c) * 1000.0 / chars.max(100.0);
            let got = x.vector.get(r);
            assert!(
                (got - want).abs() <= 1e-3 * want.max(1.0),
                "{} = {got}, want {want}:\n{}",
                r.name(),
                dump(x)
            );
        }
    }

    /// Every (feature, least) pair: the feature is at least that.
    fn at_least(x: &Extraction, pairs: &[(Feature, f32)]) {
        for (f, least) in pairs {
            assert!(
                x.vector.get(*f) >= *least,
                "{} should be ≥ {least}:\n{}",
                f.name(),
                dump(x)
            );
        }
    }

    #[test]
    fn english_bec_lure() {
        let body = "Hi,\n\nI need you to handle an urgent wire transfer today. We are closing \
                    a confidential acquisition, so keep this between us and do not discuss it \
                    with anyone. I'm in a meeting all day.\n\nAlso buy five Apple gift cards \
                    for a client and send me the codes as soon as possible.\n\nDaniel\n";
        let (view, x) = Mail::from("Daniel Brandt <dbrandt.office@gmail.com>")
            .subject("Urgent request")
            .body(body)
            .run();
        let lure = [
            Feature::IntentPaymentCount,
            Feature::IntentUrgencyCount,
            Feature::IntentSecrecyCount,
            Feature::IntentGiftCardCount,
            Feature::IntentActionRequestCount,
        ];
        at_least(&x, &all(&lure, 1.0));
        at_least(
            &x,
            &[
                (Feature::IntentSecrecyCount, 3.0),
                (Feature::IntentUrgencyCount, 2.0),
            ],
        );
        expect(&x, &[(Feature::IntentCredentialLureCount, 0.0)]);
        // ASCII text: characters of subject, newline and body, white space
        // runs counted once.
        let chars = ascii_chars(&view);
        assert_eq!(x.vector.get(Feature::BodyTextChars), chars as f32);
        assert!(chars > 100);
        assert_rates(&x);
        assert_evidence(&x, Feature::IntentPaymentCount, None, "wire transfer");
        assert_evidence(&x, Feature::IntentGiftCardCount, None, "gift card");
    }

    #[test]
    fn japanese_lure() {
        let body = "山田です。\n至急お願いがあります。取引先の振込先の変更がありましたので、\
                    本日中に新しい口座へお振込みください。\nこの件は内密にお願いします。\n";
        let x = Mail::from("=?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro.yamada.k@gmail.com>")
            .subject("=?UTF-8?B?44CQ6Iez5oCl44CR5oyv6L685YWI44Gu5aSJ5pu044Gr44Gk44GE44Gm?=")
            .mime("text/plain; charset=utf-8")
            .field("Content-Transfer-Encoding", "8bit")
            .body(body)
            .extract();
        // 至急 (subject and body) and 本日中.
        at_least(
            &x,
            &[
                (Feature::IntentUrgencyCount, 3.0),
                (Feature::IntentBankChangeCount, 2.0),
                (Feature::IntentSecrecyCount, 1.0),
            ],
        );
        assert_evidence(&x, Feature::IntentSecrecyCount, None, "内密");
        assert_evidence(&x, Feature::IntentBankChangeCount, None, "振込先");
        // Characters, not bytes: the text is far shorter in chars than in UTF-8.
        let chars = x.vector.get(Feature::BodyTextChars);
        assert!(chars > 50.0 && chars < 120.0, "{chars}");
        assert_rates(&x);
        expect(&x, &[(Feature::VipNameFreemail, 1.0)]);
    }

    #[test]
    fn benign_newsletter_has_no_intent() {
        let body = "<html><body><h1>Kestrel Kitchen News - Spring edition</h1>\
                    <p>This season our test kitchen tried twelve new soup recipes. Our favourite \
                    was a roasted pumpkin soup with ginger and a little chilli.</p>\
                    <p>The cold-storage team moved into the new warehouse in March, and the \
                    canteen now serves breakfast from seven o'clock.</p>\
                    <p>Thanks for reading, and see you next month.</p></body></html>\n";
        let (view, x) = Mail::from("Kestrel Kitchen <news@kestrelfoods.com>")
            .subject("Spring newsletter")
            .field("List-Id", "<news.kestrelfoods.com>")
            .mime("text/html; charset=utf-8")
            .body(body)
            .run();
        expect(&x, &all(&INTENT_COUNTS, 0.0));
        expect(&x, &all(&INTENT_RATES, 0.0));
        for f in INTENT_COUNTS {
            no_evidence_for(&x, f);
        }
        assert!(view.body_text.contains("roasted pumpkin soup"));
        assert!(!view.body_text.contains("<p>"), "HTML reduced to text");
        assert!(x.vector.get(Feature::BodyTextChars) > 300.0);
        assert_eq!(view.list_id.as_deref(), Some("<news.kestrelfoods.com>"));
    }

    /// The boss writes `body` under `subject`.
    fn from_the_boss(subject: &str, body: &str) -> Mail {
        Mail::from(BOSS).subject(subject).body(body)
    }

    #[test]
    fn short_texts_are_rated_per_100_chars_at_least() {
        let (view, x) = from_the_boss("urgent", "wire transfer\n").run();
        let chars = ascii_chars(&view);
        assert_eq!(chars, "urgent wire transfer ".len());
        expect(
            &x,
            &[
                (Feature::BodyTextChars, chars as f32),
                (Feature::IntentUrgencyCount, 1.0),
                (Feature::IntentUrgencyRate, 10.0),
                (Feature::IntentPaymentCount, 1.0),
                (Feature::IntentPaymentRate, 10.0),
            ],
        );
    }

    #[test]
    fn a_refused_longer_phrase_does_not_hide_a_shorter_one() {
        // "apple gift card" stops inside "cards"; "gift cards" must still count.
        let x = from_the_boss(
            "errand",
            "Please buy five Apple gift cards for the client visit.\n",
        )
        .extract();
        flagged(&x, Feature::IntentGiftCardCount, None, "gift cards");
    }

    #[test]
    fn a_refused_longer_phrase_does_not_hide_one_at_its_start() {
        // "confidential matter" and "swift code" stop inside a plural; the
        // phrases they begin with ("confidential", "swift") still count.
        let x = from_the_boss(
            "status",
            "These are confidential matters. Send the swift codes.\n",
        )
        .extract();
        flagged(&x, Feature::IntentSecrecyCount, None, "\"confidential\"");
        flagged(&x, Feature::IntentPaymentCount, None, "\"swift\"");
    }

    #[test]
    fn phrases_need_word_boundaries() {
        let x = from_the_boss(
            "nonurgent",
            "The wiretransfers team and the giftcardsshop are unrelated words.\n",
        )
        .extract();
        expect(
            &x,
            &[
                (Feature::IntentUrgencyCount, 0.0),
                (Feature::IntentPaymentCount, 0.0),
                (Feature::IntentGiftCardCount, 0.0),
            ],
        );
    }
}

// ------------------------------------------------------------ links

mod links {
    use super::*;

    /// An HTML message from `from` whose body element holds `body`.
    fn html(from: &str, body: &str) -> (MessageView, Extraction) {
        Mail::from(from)
            .subject("Your account")
            .mime("text/html; charset=utf-8")
            .body(&format!("<html><body>{body}</body></html>\n"))
            .run()
    }

    /// A plain-text message from IT with `body`.
    fn text(body: &str) -> Extraction {
        Mail::from(IT).subject("links").body(body).extract()
    }

    #[test]
    fn anchor_text_shows_another_domain_than_its_href() {
        let (view, x) = html(
            PAYPAL,
            "<p>Please sign in:</p>\
             <a href=\"https://login.secure-check.example/pp\">https://www.paypal.com</a>\
             <a href=\"https://www.paypal.com/signin\">https://www.paypal.com/signin</a>",
        );
        assert_eq!(view.links.len(), 2);
        assert_eq!(
            view.links[0].text.as_deref(),
            Some("https://www.paypal.com")
        );
        expect(
            &x,
            &[(Feature::LinkCount, 2.0), (Feature::LinkHttpOnlyCount, 0.0)],
        );
        flagged(
            &x,
            Feature::LinkTextDomainMismatchCount,
            None,
            "link text shows paypal.com but goes to login.secure-check.example",
        );
    }

    #[test]
    fn plain_http_and_ip_literal_hosts() {
        let x = text(
            "Old portal: http://portal.supplier.example/login\n\
             New portal: https://portal.supplier.example/login\n\
             Direct: http://192.0.2.17/owa/auth.php\n",
        );
        expect(
            &x,
            &[(Feature::LinkCount, 3.0), (Feature::LinkHttpOnlyCount, 2.0)],
        );
        flagged(
            &x,
            Feature::LinkIpLiteralHostCount,
            None,
            "link to a bare IP address: http://192.0.2.17/owa/auth.php",
        );
        assert_evidence(
            &x,
            Feature::LinkHttpOnlyCount,
            None,
            "plain http link http://portal.supplier.example/login",
        );
        // IPv6 literals in anchors (linkify does not find bracketed hosts in
        // plain text, so HTML is where they are seen).
        let (view, x) = html(
            IT,
            "<a href=\"https://[2001:db8::5]/reset\">Reset</a>\
             <a href=\"http://203.0.113.9:8080/x\">Portal</a>",
        );
        assert!(view.links.iter().all(|l| l.host_is_ip), "{:?}", view.links);
        expect(
            &x,
            &[
                (Feature::LinkIpLiteralHostCount, 2.0),
                (Feature::LinkHttpOnlyCount, 1.0),
            ],
        );
    }

    #[test]
    fn url_shortener() {
        let (_, x) = html(
            "Courier <track@parcel.example>",
            "<a href=\"https://bit.ly/3xYzAbC\">Track your parcel</a> \
             <a href=\"https://parcel.example/track\">Parcel home</a>",
        );
        expect(
            &x,
            &[
                (Feature::LinkCount, 2.0),
                (Feature::LinkTextDomainMismatchCount, 0.0),
            ],
        );
        flagged(&x, Feature::LinkShortenerCount, None, "bit.ly");
    }

    #[test]
    fn punycode_hosts_written_or_unicode() {
        let x = text("See https://xn--pypal-4ve.com/login and https://www.example.com/\n");
        expect(&x, &[(Feature::LinkCount, 2.0)]);
        flagged(
            &x,
            Feature::LinkPunycodeHostCount,
            None,
            "xn--pypal-4ve.com",
        );
        // A Unicode (Cyrillic а) host in an href becomes punycode too.
        let (view, x) = html(
            PAYPAL,
            "<a href=\"https://p\u{430}ypal.com/signin\">Sign in</a>",
        );
        assert!(
            view.links[0]
                .host
                .as_deref()
                .is_some_and(|h| h.starts_with("xn--")),
            "{:?}",
            view.links
        );
        expect(&x, &[(Feature::LinkPunycodeHostCount, 1.0)]);
    }

    #[test]
    fn brand_in_an_unrelated_host() {
        let (_, x) = html(
            PAYPAL,
            "<a href=\"https://paypal.account-verify.example/login\">Verify</a>\
             <a href=\"https://www.paypal.com/help\">Help</a>\
             <a href=\"https://coldchain-partners.eu.invoices.example/doc\">Invoice</a>",
        );
        expect(
            &x,
            &[
                (Feature::LinkCount, 3.0),
                (Feature::LinkBrandUnrelatedHostCount, 2.0),
            ],
        );
        assert_evidence(
            &x,
            Feature::LinkBrandUnrelatedHostCount,
            None,
            "link host paypal.account-verify.example carries the name \"paypal\" but belongs to account-verify.example",
        );
        assert_evidence(
            &x,
            Feature::LinkBrandUnrelatedHostCount,
            None,
            "carries the name \"coldchain-partners\"",
        );
    }

    #[test]
    fn lookalike_link_host() {
        let (_, x) = html(
            IT,
            "<a href=\"https://portal.kestrelfods.com/login\">Kestrel portal</a>\
             <a href=\"https://intranet.kestrelfoods.com/\">Intranet</a>",
        );
        expect(&x, &[(Feature::LinkCount, 2.0)]);
        flagged(
            &x,
            Feature::LinkHostLookalikeCount,
            LOOKALIKE,
            "link host kestrelfods.com imitates kestrelfoods.com (one letter left out)",
        );
    }

    #[test]
    fn mailto_and_fragment_anchors_are_not_links() {
        let (view, x) = html(
            IT,
            "<a href=\"mailto:it@supplier.example\">mail us</a><a href=\"#top\">top</a>\
             <a href=\"tel:+441234\">call</a>",
        );
        assert!(view.links.is_empty(), "{:?}", view.links);
        expect(&x, &[(Feature::LinkCount, 0.0)]);
    }
}

// ------------------------------------------------------------ lookalike identities

mod lookalike {
    use super::*;

    /// `feature` is flagged as a lookalike domain, with evidence mentioning `needle`.
    fn assert_lookalike(x: &Extraction, feature: Feature, needle: &str) {
        flagged(x, feature, LOOKALIKE, needle);
        assert!(
            x.techniques().contains(&Technique::LookalikeDomain),
            "{}",
            dump(x)
        );
    }

    const IDENTITIES: [Feature; 4] = [
        Feature::FromDomainLookalike,
        Feature::ReplyToDomainLookalike,
        Feature::EnvelopeDomainLookalike,
        Feature::DkimDomainLookalike,
    ];

    #[test]
    fn from_on_a_lookalike() {
        let x = Mail::from("Daniel Brandt <d.brandt@kestre1foods.com>").extract();
        assert_lookalike(
            &x,
            Feature::FromDomainLookalike,
            "From kestre1foods.com imitates kestrelfoods.com (letters swapped for lookalike glyphs, one letter replaced)",
        );
        expect(&x, &all(&IDENTITIES[1..], 0.0));
    }

    #[test]
    fn the_imitated_target_does_not_depend_on_hash_order() {
        // kestrelfoods.com and kestrelfoods.co.jp share the label; the target
        // named must be the one under the same suffix, in every Context.
        let bytes = Mail::from("Daniel Brandt <d.brandt@kestre1foods.com>").bytes();
        for _ in 0..16 {
            let (_, x) = support::run(&support::context(), &bytes);
            assert_evidence(
                &x,
                Feature::FromDomainLookalike,
                LOOKALIKE,
                "kestre1foods.com imitates kestrelfoods.com (",
            );
        }
    }

    #[test]
    fn reply_to_on_a_lookalike_of_a_partner() {
        let x = Mail::from("Accounts <accounts@coldchain-partners.eu>")
            .field("Reply-To", "accounts@coldchain-partner.eu")
            .subject("New bank details")
            .extract();
        assert_lookalike(
            &x,
            Feature::ReplyToDomainLookalike,
            "Reply-To coldchain-partner.eu imitates coldchain-partners.eu (one letter left out)",
        );
        expect(&x, &[(Feature::FromDomainLookalike, 0.0)]);
    }

    #[test]
    fn envelope_on_a_lookalike() {
        let x = Mail::from(PAYROLL)
            .return_path("<bounce@mail.kestrelfoodss.com>")
            .extract();
        assert_lookalike(
            &x,
            Feature::EnvelopeDomainLookalike,
            "envelope sender kestrelfoodss.com imitates kestrelfoods.com",
        );
        expect(&x, &[(Feature::FromDomainLookalike, 0.0)]);
    }

    #[test]
    fn dkim_signer_on_a_lookalike() {
        let x = Mail::from(PAYROLL).dkim("kestrelf0ods.com").extract();
        assert_lookalike(
            &x,
            Feature::DkimDomainLookalike,
            "DKIM signing domain kestrelf0ods.com imitates kestrelfoods.com",
        );
    }

    #[test]
    fn every_identity_at_once_and_tld_swap() {
        let x = Mail::from("CEO <ceo@kestrelfoods.net>")
            .dkim("kestrelfoods.net")
            .return_path("<b@kestrelfoods.net>")
            .field("Reply-To", "ceo@kestrelfood.com")
            .extract();
        expect(&x, &all(&IDENTITIES, 1.0));
        assert_evidence(
            &x,
            Feature::FromDomainLookalike,
            LOOKALIKE,
            "same name under another top-level domain",
        );
    }

    #[test]
    fn a_mixed_script_from_is_flagged_and_names_its_target() {
        // kеstrelfoods.com with a Cyrillic е, as a mail client shows it.
        let x = Mail::from("Daniel Brandt <d.brandt@xn--kstrelfoods-okj.com>").extract();
        expect(&x, &[(Feature::SenderDomainMixedScript, 1.0)]);
        assert_lookalike(
            &x,
            Feature::FromDomainLookalike,
            "From kеstrelfoods.com imitates kestrelfoods.com (letters swapped for lookalike glyphs)",
        );
        assert_evidence(
            &x,
            Feature::SenderDomainMixedScript,
            LOOKALIKE,
            "From domain kеstrelfoods.com mixes scripts",
        );
    }

    #[test]
    fn dictionary_and_subdomain_imitations() {
        let x = Mail::from(PAYROLL)
            .field("Reply-To", "payroll@kestrelfoods-payroll.com")
            .return_path("<b@kestrelfoods.com.secure-pay.net>")
            .extract();
        assert_lookalike(
            &x,
            Feature::ReplyToDomainLookalike,
            "Reply-To kestrelfoods-payroll.com imitates kestrelfoods.com (the name combined with a word)",
        );
        assert_lookalike(
            &x,
            Feature::EnvelopeDomainLookalike,
            "envelope sender kestrelfoods.com.secure-pay.net imitates kestrelfoods.com (the name used as a subdomain of another domain)",
        );
        expect(&x, &[(Feature::SenderDomainMixedScript, 0.0)]);
    }

    #[test]
    fn genuine_domains_and_their_subdomains_are_not_lookalikes() {
        let x = Mail::from("=?UTF-8?B?5bGx55Sw5aSq6YOO?= <yamada@kestrelfoods.co.jp>")
            .dkim("mail.kestrelfoods.co.jp")
            .return_path("<bounce@mail.kestrelfoods.com>")
            .field("Reply-To", "ap@coldchain-partners.eu")
            .extract();
        expect(&x, &all(&IDENTITIES, 0.0));
        assert!(
            x.evidence_for(Technique::LookalikeDomain).next().is_none(),
            "{}",
            dump(&x)
        );
        // The Japanese VIP on his real address.
        expect(
            &x,
            &[
                (Feature::VipDisplayName, 1.0),
                (Feature::VipNameUnlistedAddress, 0.0),
            ],
        );
    }
}
