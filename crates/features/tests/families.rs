//! Each feature family on small hand-written messages for a fictional
//! organisation (Kestrel Foods): every test asserts exact feature values and
//! the evidence and technique behind them, so a regression makes it fail.

use impostor_features::{
    Context, Envelope, Extraction, Extractor, Feature, MessageView, OrgProfile, Technique,
};
use std::path::Path;
use std::sync::OnceLock;

const ORG: &str = r#"
name = "Kestrel Foods"
internal_domains = ["kestrelfoods.com", "kestrelfoods.co.jp"]
trusted_authserv_ids = ["mx.kestrelfoods.com"]
protected_domains = ["kestrelfoods.com", "coldchain-partners.eu"]

[[vip]]
name = "Daniel Brandt"
aliases = ["Dan Brandt"]
addresses = ["d.brandt@kestrelfoods.com"]
title = "CEO"

[[vip]]
name = "山田 太郎"
addresses = ["yamada@kestrelfoods.co.jp"]
"#;

/// A DKIM-Signature value that parses; only d= varies.
fn dkim(d: &str) -> String {
    format!(
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={d}; s=sel1;\n\
         \th=from:to:subject:date; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n\
         \tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ==\n"
    )
}

/// An external first hop: a public IP with a name outside the organisation.
const EXTERNAL_HOP: &str =
    "Received: from mail.bulk-sender.example (mail.bulk-sender.example [198.51.100.23])\n\
     \tby mx.kestrelfoods.com (Postfix) with ESMTPS id 4T1xyz;\n\
     \tTue, 2 Jan 2024 09:59:58 +0000\n";

/// An internal first hop: a private address.
const INTERNAL_HOP: &str = "Received: from app01.corp (app01.corp [10.20.30.40])\n\
     \tby mx.kestrelfoods.com (Postfix) with ESMTP id 4T1abc;\n\
     \tTue, 2 Jan 2024 09:59:58 +0000\n";

fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        let org = OrgProfile::from_toml(ORG, Path::new("families-org.toml")).expect("org loads");
        Context::builder(org).build().expect("context builds")
    })
}

/// Headers (one field a line, `\n` ends) + the usual To/Date + body, in CRLF.
fn mail(headers: &str, body: &str) -> Vec<u8> {
    let mut m = String::new();
    m.push_str(headers);
    if !headers.ends_with('\n') {
        m.push('\n');
    }
    m.push_str("To: Accounts Payable <ap@kestrelfoods.com>\n");
    m.push_str("Date: Tue, 2 Jan 2024 10:00:00 +0000\n");
    m.push('\n');
    m.push_str(body);
    m.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

fn run(bytes: &[u8]) -> (MessageView, Extraction) {
    Extractor::new(ctx())
        .extract_bytes(bytes, &Envelope::default())
        .unwrap_or_else(|e| panic!("message does not parse: {e}"))
}

fn extract(headers: &str, body: &str) -> Extraction {
    run(&mail(headers, body)).1
}

fn dump(x: &Extraction) -> String {
    let mut s: String = x
        .vector
        .nonzero()
        .map(|(f, v)| format!("  {} = {v}\n", f.name()))
        .collect();
    for e in &x.evidence {
        s.push_str(&format!(
            "  [{} {:?}] {}\n",
            e.feature.name(),
            e.technique,
            e.detail
        ));
    }
    s
}

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

fn no_evidence_for(x: &Extraction, feature: Feature) {
    assert!(
        x.evidence.iter().all(|e| e.feature != feature),
        "unexpected evidence for {}:\n{}",
        feature.name(),
        dump(x)
    );
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

const PLAIN: &str = "Hello,\nplease see the attached schedule.\nRegards\n";

// ------------------------------------------------------------ sender path

mod sender_path {
    use super::*;

    #[test]
    fn envelope_on_a_subdomain_is_relaxed_aligned_but_not_strict() {
        let x = extract(
            "Return-Path: <bounce-42@mail.kestrelfoods.com>\n\
             From: Payroll <payroll@kestrelfoods.com>\nSubject: Payslips\n",
            PLAIN,
        );
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
        let x = extract(
            "Return-Path: <x@bulk-sender.example>\n\
             From: Payroll <payroll@kestrelfoods.com>\nSubject: Payslips\n",
            PLAIN,
        );
        expect(
            &x,
            &[
                (Feature::EnvelopeFromDomainMismatch, 1.0),
                (Feature::EnvelopeFromHostMismatch, 1.0),
            ],
        );
        // From claims an internal domain: that is a header-From spoof.
        assert_evidence(
            &x,
            Feature::EnvelopeFromDomainMismatch,
            Some(Technique::HeaderFromSpoof),
            "envelope sender is on bulk-sender.example, the From address on kestrelfoods.com",
        );
    }

    #[test]
    fn smtp_mail_from_takes_precedence_over_return_path() {
        let bytes = mail(
            "Return-Path: <payroll@kestrelfoods.com>\n\
             From: Payroll <payroll@kestrelfoods.com>\nSubject: Payslips\n",
            PLAIN,
        );
        let envelope = Envelope {
            mail_from: Some("<x@bulk-sender.example>".into()),
            ..Envelope::default()
        };
        let (view, x) = Extractor::new(ctx())
            .extract_bytes(&bytes, &envelope)
            .unwrap();
        assert_eq!(view.envelope_domain(), Some("bulk-sender.example"));
        expect(&x, &[(Feature::EnvelopeFromDomainMismatch, 1.0)]);
    }

    #[test]
    fn missing_envelope_is_not_a_mismatch() {
        let x = extract(
            "From: Payroll <payroll@kestrelfoods.com>\nSubject: Payslips\n",
            PLAIN,
        );
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
        // Subdomain signer: relaxed aligned, strict not.
        let sub = extract(
            &format!(
                "{}From: Payroll <payroll@kestrelfoods.com>\nSubject: x\n",
                dkim("mail.kestrelfoods.com")
            ),
            PLAIN,
        );
        expect(
            &sub,
            &[
                (Feature::DkimFromDomainMismatch, 0.0),
                (Feature::DkimFromHostMismatch, 1.0),
            ],
        );
        // Exact signer: both aligned.
        let exact = extract(
            &format!(
                "{}From: Payroll <payroll@kestrelfoods.com>\nSubject: x\n",
                dkim("kestrelfoods.com")
            ),
            PLAIN,
        );
        expect(
            &exact,
            &[
                (Feature::DkimFromDomainMismatch, 0.0),
                (Feature::DkimFromHostMismatch, 0.0),
            ],
        );
        // A third party signs for us: both fail, evidence names the signer.
        let other = extract(
            &format!(
                "{}From: Payroll <payroll@kestrelfoods.com>\nSubject: x\n",
                dkim("esp-mailer.example")
            ),
            PLAIN,
        );
        expect(
            &other,
            &[
                (Feature::DkimFromDomainMismatch, 1.0),
                (Feature::DkimFromHostMismatch, 1.0),
            ],
        );
        assert_evidence(
            &other,
            Feature::DkimFromDomainMismatch,
            None,
            "signed by esp-mailer.example but From is on kestrelfoods.com",
        );
    }

    #[test]
    fn unsigned_mail_has_no_dkim_mismatch() {
        let x = extract(
            "From: Payroll <payroll@kestrelfoods.com>\nSubject: x\n",
            PLAIN,
        );
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
        let x = extract(
            "From: Supplier <billing@supplier.example>\nSubject: Invoice\n",
            PLAIN,
        );
        let pairs: Vec<(Feature, f32)> = AUTH_FLAGS.iter().map(|f| (*f, 0.0)).collect();
        expect(&x, &pairs);
    }

    #[test]
    fn untrusted_authserv_id_is_ignored() {
        let x = extract(
            "Authentication-Results: mx.evil.example; spf=fail smtp.mailfrom=kestrelfoods.com;\n\
             \tdkim=fail header.d=kestrelfoods.com; dmarc=fail header.from=kestrelfoods.com;\n\
             \tarc=fail; compauth=fail reason=000\n\
             Authentication-Results: kestrelfoods.com.evil.example; dmarc=fail\n\
             From: Daniel Brandt <d.brandt@kestrelfoods.com>\nSubject: hello\n",
            PLAIN,
        );
        let pairs: Vec<(Feature, f32)> = AUTH_FLAGS.iter().map(|f| (*f, 0.0)).collect();
        expect(&x, &pairs);
        no_evidence_for(&x, Feature::AuthDmarcFail);
    }

    #[test]
    fn trusted_softfail_is_an_spf_fail_and_only_that() {
        let x = extract(
            "Authentication-Results: MX.KestrelFoods.com;\n\
             \tspf=softfail (domain of x@bulk-sender.example does not designate 198.51.100.23) smtp.mailfrom=x@bulk-sender.example\n\
             Return-Path: <x@bulk-sender.example>\n\
             From: Supplier <billing@bulk-sender.example>\nSubject: Invoice\n",
            PLAIN,
        );
        let mut pairs: Vec<(Feature, f32)> = AUTH_FLAGS.iter().map(|f| (*f, 0.0)).collect();
        pairs.retain(|(f, _)| *f != Feature::AuthSpfFail);
        pairs.push((Feature::AuthSpfFail, 1.0));
        expect(&x, &pairs);
        assert_evidence(
            &x,
            Feature::AuthSpfFail,
            Some(Technique::EnvelopeFromSpoof),
            "SPF failed for x@bulk-sender.example",
        );
    }

    #[test]
    fn trusted_passes_are_read() {
        let x = extract(
            "Authentication-Results: mx.kestrelfoods.com; spf=pass smtp.mailfrom=news.supplier.example;\n\
             \tdkim=pass header.d=supplier.example; dmarc=pass header.from=supplier.example; arc=pass\n\
             From: Supplier <news@supplier.example>\nSubject: News\n",
            PLAIN,
        );
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

    #[test]
    fn internal_domain_over_an_external_route_without_authentication() {
        let x = extract(
            &format!(
                "{EXTERNAL_HOP}From: Daniel Brandt <d.brandt@kestrelfoods.com>\nSubject: Quick task\n"
            ),
            PLAIN,
        );
        expect(&x, &[(Feature::InternalDomainExternalRoute, 1.0)]);
        assert_evidence(
            &x,
            Feature::InternalDomainExternalRoute,
            Some(Technique::HeaderFromSpoof),
            "From claims internal domain kestrelfoods.com but the message came from outside (mail.bulk-sender.example [198.51.100.23])",
        );
    }

    #[test]
    fn internal_domain_over_an_internal_route_is_fine() {
        let x = extract(
            &format!(
                "{INTERNAL_HOP}From: Daniel Brandt <d.brandt@kestrelfoods.com>\nSubject: Quick task\n"
            ),
            PLAIN,
        );
        expect(&x, &[(Feature::InternalDomainExternalRoute, 0.0)]);
        no_evidence_for(&x, Feature::InternalDomainExternalRoute);
    }

    #[test]
    fn internal_domain_over_an_external_route_with_dmarc_pass_is_authenticated() {
        let x = extract(
            &format!(
                "Authentication-Results: mx.kestrelfoods.com; dmarc=pass header.from=kestrelfoods.com\n\
                 {EXTERNAL_HOP}From: Daniel Brandt <d.brandt@kestrelfoods.com>\nSubject: Quick task\n"
            ),
            PLAIN,
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
        let x = extract(
            "From: Daniel Brandt <d.brandt@kestrelfoods.com>\n\
             From: Attacker <x@evil.example>\nSubject: hi\n",
            PLAIN,
        );
        expect(
            &x,
            &[
                (Feature::FromHeaderMultiple, 1.0),
                (Feature::FromAddressMultiple, 0.0),
            ],
        );
        assert_evidence(
            &x,
            Feature::FromHeaderMultiple,
            Some(Technique::HeaderFromSpoof),
            "2 From headers: \"Daniel Brandt\" <d.brandt@kestrelfoods.com> / \"Attacker\" <x@evil.example>",
        );
    }

    #[test]
    fn two_addresses_in_one_from() {
        let x = extract(
            "From: d.brandt@kestrelfoods.com, Attacker <x@evil.example>\nSubject: hi\n",
            PLAIN,
        );
        expect(
            &x,
            &[
                (Feature::FromAddressMultiple, 1.0),
                (Feature::FromHeaderMultiple, 0.0),
            ],
        );
        assert_evidence(
            &x,
            Feature::FromAddressMultiple,
            Some(Technique::HeaderFromSpoof),
            "several addresses",
        );
    }

    #[test]
    fn display_name_carrying_another_address() {
        let x = extract(
            "From: \"ceo@kestrelfoods.com\" <x@evil.example>\nSubject: hi\n",
            PLAIN,
        );
        expect(&x, &[(Feature::DisplayNameEmbeddedAddressMismatch, 1.0)]);
        assert_evidence(
            &x,
            Feature::DisplayNameEmbeddedAddressMismatch,
            Some(Technique::HeaderFromSpoof),
            "display name shows an address on kestrelfoods.com, the real address is on evil.example",
        );
        // Its own address in the display name is no trick.
        let own = extract(
            "From: \"x@evil.example\" <x@evil.example>\nSubject: hi\n",
            PLAIN,
        );
        expect(&own, &[(Feature::DisplayNameEmbeddedAddressMismatch, 0.0)]);
    }

    #[test]
    fn encoded_word_hiding_an_address_in_the_display_name() {
        let (view, x) = run(&mail(
            "From: =?utf-8?q?ceo=40kestrelfoods=2Ecom?= <x@evil.example>\nSubject: hi\n",
            PLAIN,
        ));
        // The client shows the decoded name: an internal address.
        assert_eq!(
            view.from().and_then(|i| i.name.as_deref()),
            Some("ceo@kestrelfoods.com")
        );
        expect(
            &x,
            &[
                (Feature::FromEncodedWordTrick, 1.0),
                (Feature::DisplayNameEmbeddedAddressMismatch, 1.0),
            ],
        );
        assert_evidence(
            &x,
            Feature::FromEncodedWordTrick,
            Some(Technique::HeaderFromSpoof),
            "=?utf-8?q?ceo=40kestrelfoods=2Ecom?=",
        );
    }

    #[test]
    fn encoded_word_in_the_address_and_a_harmless_one() {
        let x = extract(
            "From: Boss <=?utf-8?q?ceo?=@kestrelfoods.com>\nSubject: hi\n",
            PLAIN,
        );
        expect(&x, &[(Feature::FromEncodedWordTrick, 1.0)]);
        // An encoded-word that only spells a name with an umlaut.
        let benign = extract(
            "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <j.mueller@supplier.example>\nSubject: hi\n",
            PLAIN,
        );
        expect(&benign, &[(Feature::FromEncodedWordTrick, 0.0)]);
        no_evidence_for(&benign, Feature::FromEncodedWordTrick);
    }

    #[test]
    fn obsolete_route_syntax() {
        let x = extract(
            "From: <@relay.evil.example:ceo@kestrelfoods.com>\nSubject: hi\n",
            PLAIN,
        );
        expect(&x, &[(Feature::FromRouteSyntax, 1.0)]);
        assert_evidence(
            &x,
            Feature::FromRouteSyntax,
            Some(Technique::HeaderFromSpoof),
            "From uses obsolete route syntax",
        );
        let reply = extract(
            "From: Boss <ceo@kestrelfoods.com>\n\
             Reply-To: < @relay.evil.example,@b.example:ceo@kestrelfoods.com>\nSubject: hi\n",
            PLAIN,
        );
        expect(&reply, &[(Feature::FromRouteSyntax, 1.0)]);
        assert_evidence(
            &reply,
            Feature::FromRouteSyntax,
            Some(Technique::HeaderFromSpoof),
            "Reply-To",
        );
        // An address with a colon-free angle form is not route syntax.
        let plain = extract("From: Boss <ceo@kestrelfoods.com>\nSubject: a:b\n", PLAIN);
        expect(&plain, &[(Feature::FromRouteSyntax, 0.0)]);
    }

    #[test]
    fn sender_without_from() {
        let (view, x) = run(&mail(
            "Sender: Daniel Brandt <d.brandt@kestrelfoods.com>\nSubject: hi\n",
            PLAIN,
        ));
        assert!(view.from().is_none());
        expect(&x, &[(Feature::SenderWithoutFrom, 1.0)]);
        assert_evidence(
            &x,
            Feature::SenderWithoutFrom,
            Some(Technique::HeaderFromSpoof),
            "without a From header",
        );
        let with_from = extract(
            "From: Daniel Brandt <d.brandt@kestrelfoods.com>\n\
             Sender: Daniel Brandt <d.brandt@kestrelfoods.com>\nSubject: hi\n",
            PLAIN,
        );
        expect(&with_from, &[(Feature::SenderWithoutFrom, 0.0)]);
    }

    #[test]
    fn white_space_before_the_colon_of_from() {
        let (view, x) = run(&mail(
            "From : Daniel Brandt <d.brandt@kestrelfoods.com>\nSubject: hi\n",
            PLAIN,
        ));
        // Some clients take "From :" as the From header; the view does too.
        assert_eq!(
            view.from().and_then(|i| i.address.as_deref()),
            Some("d.brandt@kestrelfoods.com")
        );
        expect(
            &x,
            &[
                (Feature::HeaderSpaceBeforeColon, 1.0),
                (Feature::SenderWithoutFrom, 0.0),
            ],
        );
        assert_evidence(
            &x,
            Feature::HeaderSpaceBeforeColon,
            Some(Technique::HeaderFromSpoof),
            "header \"From :\"",
        );
        // Not first in the block: the same.
        let (view, x) = run(&mail(
            "Subject: hi\nFrom\t: Daniel Brandt <d.brandt@kestrelfoods.com>\n",
            PLAIN,
        ));
        assert_eq!(view.from_domain(), Some("kestrelfoods.com"));
        expect(&x, &[(Feature::HeaderSpaceBeforeColon, 1.0)]);
        // A real mbox separator line is still taken off the top.
        let (view, x) = run(&mail(
            "From MAILER-DAEMON Tue Jan  2 10:00:00 2024\n\
             From: Daniel Brandt <d.brandt@kestrelfoods.com>\nSubject: hi\n",
            PLAIN,
        ));
        assert_eq!(view.from_headers.len(), 1);
        expect(
            &x,
            &[
                (Feature::HeaderSpaceBeforeColon, 0.0),
                (Feature::FromHeaderMultiple, 0.0),
            ],
        );
        // On a field that names no identity it is a quirk, not a technique.
        let subject = extract(
            "From: Daniel Brandt <d.brandt@kestrelfoods.com>\nSubject\t: hi\n",
            PLAIN,
        );
        expect(&subject, &[(Feature::HeaderSpaceBeforeColon, 1.0)]);
        assert_evidence(&subject, Feature::HeaderSpaceBeforeColon, None, "Subject");
    }

    #[test]
    fn sender_on_another_domain() {
        // A mailing service sends for an external From: a mismatch, no technique.
        let esp = extract(
            "From: Supplier <news@supplier.example>\n\
             Sender: bounce@esp-mailer.example\nSubject: hi\n",
            PLAIN,
        );
        expect(&esp, &[(Feature::SenderDomainMismatch, 1.0)]);
        assert_evidence(
            &esp,
            Feature::SenderDomainMismatch,
            None,
            "Sender is on esp-mailer.example, From on supplier.example",
        );
        // Sender claims our domain for a stranger's From: a spoof.
        let ours = extract(
            "From: Someone <x@evil.example>\n\
             Sender: d.brandt@kestrelfoods.com\nSubject: hi\n",
            PLAIN,
        );
        expect(&ours, &[(Feature::SenderDomainMismatch, 1.0)]);
        assert_evidence(
            &ours,
            Feature::SenderDomainMismatch,
            Some(Technique::HeaderFromSpoof),
            "Sender is on kestrelfoods.com",
        );
        // Same organisation, other host: aligned.
        let sub = extract(
            "From: Payroll <payroll@kestrelfoods.com>\n\
             Sender: robot@hr.kestrelfoods.com\nSubject: hi\n",
            PLAIN,
        );
        expect(&sub, &[(Feature::SenderDomainMismatch, 0.0)]);
    }
}

// ------------------------------------------------------------ display name

mod display_name {
    use super::*;

    fn vip_on_freemail(from: &str, who: &str) {
        let x = extract(&format!("From: {from}\nSubject: hi\n"), PLAIN);
        expect(
            &x,
            &[
                (Feature::VipDisplayName, 1.0),
                (Feature::VipNameUnlistedAddress, 1.0),
                (Feature::VipNameFreemail, 1.0),
                (Feature::VipNameExternalDomain, 1.0),
                (Feature::FromFreemail, 1.0),
            ],
        );
        assert_evidence(
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
        let x = extract(
            "From: Daniel Brandt <D.Brandt@KestrelFoods.com>\nSubject: hi\n",
            PLAIN,
        );
        expect(
            &x,
            &[
                (Feature::VipDisplayName, 1.0),
                (Feature::VipNameUnlistedAddress, 0.0),
                (Feature::VipNameFreemail, 0.0),
                (Feature::VipNameExternalDomain, 0.0),
                (Feature::FromFreemail, 0.0),
            ],
        );
        for f in [
            Feature::VipNameUnlistedAddress,
            Feature::VipNameFreemail,
            Feature::VipNameExternalDomain,
        ] {
            no_evidence_for(&x, f);
        }
        assert!(x.techniques().is_empty(), "{}", dump(&x));
    }

    #[test]
    fn vip_name_on_another_internal_address_is_a_header_spoof_hint() {
        let x = extract(
            "From: Daniel Brandt <ap-team@kestrelfoods.com>\nSubject: hi\n",
            PLAIN,
        );
        expect(
            &x,
            &[
                (Feature::VipNameUnlistedAddress, 1.0),
                (Feature::VipNameExternalDomain, 0.0),
                (Feature::VipNameFreemail, 0.0),
            ],
        );
        assert_evidence(
            &x,
            Feature::VipNameUnlistedAddress,
            Some(Technique::HeaderFromSpoof),
            "<ap-team@kestrelfoods.com> is not one of their addresses",
        );
    }

    #[test]
    fn non_vip_names_do_not_match() {
        for name in ["Daniel", "Daniel Brandtson", "山田", "Dan Brand"] {
            let x = extract(
                &format!("From: {name} <someone@gmail.com>\nSubject: hi\n"),
                PLAIN,
            );
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
        let x = extract(
            "From: Daniel Brandt <d.brandt@kestrelfoods.com>\n\
             Reply-To: Daniel Brandt <dbrandt.private@gmail.com>\nSubject: hi\n",
            PLAIN,
        );
        expect(
            &x,
            &[
                (Feature::ReplyToFreemail, 1.0),
                (Feature::ReplyToDomainMismatch, 1.0),
                (Feature::FromFreemail, 0.0),
            ],
        );
        assert_evidence(
            &x,
            Feature::ReplyToFreemail,
            None,
            "replies go to free-mail address \"Daniel Brandt\" <dbrandt.private@gmail.com>",
        );
        assert_evidence(
            &x,
            Feature::ReplyToDomainMismatch,
            None,
            "is on gmail.com, From on kestrelfoods.com",
        );
    }

    #[test]
    fn reply_to_on_the_same_free_mail_domain_or_a_subdomain_is_fine() {
        let gmail = extract(
            "From: Lily <lily@gmail.com>\nReply-To: lily.other@gmail.com\nSubject: hi\n",
            PLAIN,
        );
        expect(
            &gmail,
            &[
                (Feature::ReplyToFreemail, 0.0),
                (Feature::ReplyToDomainMismatch, 0.0),
            ],
        );
        let sub = extract(
            "From: Payroll <payroll@kestrelfoods.com>\n\
             Reply-To: hr@hr.kestrelfoods.com\nSubject: hi\n",
            PLAIN,
        );
        expect(&sub, &[(Feature::ReplyToDomainMismatch, 0.0)]);
    }

    #[test]
    fn disposable_sender() {
        let x = extract(
            "From: Buyer <buyer123@mailinator.com>\nSubject: hi\n",
            PLAIN,
        );
        expect(
            &x,
            &[
                (Feature::FromDisposable, 1.0),
                (Feature::VipDisplayName, 0.0),
            ],
        );
        assert_evidence(
            &x,
            Feature::FromDisposable,
            None,
            "<buyer123@mailinator.com> is on a disposable-address domain",
        );
        // A VIP's name on a disposable address counts as free-mail impersonation.
        let vip = extract(
            "From: Daniel Brandt <ceo-brandt@mailinator.com>\nSubject: hi\n",
            PLAIN,
        );
        expect(
            &vip,
            &[
                (Feature::FromDisposable, 1.0),
                (Feature::VipNameFreemail, 1.0),
            ],
        );
        assert_evidence(
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

    #[test]
    fn english_bec_lure() {
        let body = "Hi,\n\nI need you to handle an urgent wire transfer today. We are closing \
                    a confidential acquisition, so keep this between us and do not discuss it \
                    with anyone. I'm in a meeting all day.\n\nAlso buy five Apple gift cards \
                    for a client and send me the codes as soon as possible.\n\nDaniel\n";
        let (view, x) = run(&mail(
            "From: Daniel Brandt <dbrandt.office@gmail.com>\nSubject: Urgent request\n",
            body,
        ));
        for f in [
            Feature::IntentPaymentCount,
            Feature::IntentUrgencyCount,
            Feature::IntentSecrecyCount,
            Feature::IntentGiftCardCount,
            Feature::IntentActionRequestCount,
        ] {
            assert!(
                x.vector.get(f) >= 1.0,
                "{} should be ≥ 1:\n{}",
                f.name(),
                dump(&x)
            );
        }
        assert!(
            x.vector.get(Feature::IntentSecrecyCount) >= 3.0,
            "{}",
            dump(&x)
        );
        assert!(
            x.vector.get(Feature::IntentUrgencyCount) >= 2.0,
            "{}",
            dump(&x)
        );
        assert_eq!(
            x.vector.get(Feature::IntentCredentialLureCount),
            0.0,
            "{}",
            dump(&x)
        );
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
        let x = extract(
            "From: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro.yamada.k@gmail.com>\n\
             Subject: =?UTF-8?B?44CQ6Iez5oCl44CR5oyv6L685YWI44Gu5aSJ5pu044Gr44Gk44GE44Gm?=\n\
             MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\
             Content-Transfer-Encoding: 8bit\n",
            body,
        );
        // 至急 (subject and body) and 本日中.
        assert!(
            x.vector.get(Feature::IntentUrgencyCount) >= 3.0,
            "{}",
            dump(&x)
        );
        assert!(
            x.vector.get(Feature::IntentBankChangeCount) >= 2.0,
            "{}",
            dump(&x)
        );
        assert!(
            x.vector.get(Feature::IntentSecrecyCount) >= 1.0,
            "{}",
            dump(&x)
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
        let (view, x) = run(&mail(
            "From: Kestrel Kitchen <news@kestrelfoods.com>\nSubject: Spring newsletter\n\
             List-Id: <news.kestrelfoods.com>\nMIME-Version: 1.0\n\
             Content-Type: text/html; charset=utf-8\n",
            body,
        ));
        for f in INTENT_COUNTS.iter().chain(INTENT_RATES.iter()) {
            assert_eq!(
                x.vector.get(*f),
                0.0,
                "{} should be 0:\n{}",
                f.name(),
                dump(&x)
            );
        }
        for f in INTENT_COUNTS {
            no_evidence_for(&x, f);
        }
        assert!(view.body_text.contains("roasted pumpkin soup"));
        assert!(!view.body_text.contains("<p>"), "HTML reduced to text");
        assert!(x.vector.get(Feature::BodyTextChars) > 300.0);
        assert_eq!(view.list_id.as_deref(), Some("<news.kestrelfoods.com>"));
    }

    #[test]
    fn short_texts_are_rated_per_100_chars_at_least() {
        let (view, x) = run(&mail(
            "From: Boss <boss@supplier.example>\nSubject: urgent\n",
            "wire transfer\n",
        ));
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
        let x = extract(
            "From: Boss <boss@supplier.example>\nSubject: errand\n",
            "Please buy five Apple gift cards for the client visit.\n",
        );
        expect(&x, &[(Feature::IntentGiftCardCount, 1.0)]);
        assert_evidence(&x, Feature::IntentGiftCardCount, None, "gift cards");
    }

    #[test]
    fn a_refused_longer_phrase_does_not_hide_one_at_its_start() {
        // "confidential matter" and "swift code" stop inside a plural; the
        // phrases they begin with ("confidential", "swift") still count.
        let x = extract(
            "From: Boss <boss@supplier.example>\nSubject: status\n",
            "These are confidential matters. Send the swift codes.\n",
        );
        expect(
            &x,
            &[
                (Feature::IntentSecrecyCount, 1.0),
                (Feature::IntentPaymentCount, 1.0),
            ],
        );
        assert_evidence(&x, Feature::IntentSecrecyCount, None, "\"confidential\"");
        assert_evidence(&x, Feature::IntentPaymentCount, None, "\"swift\"");
    }

    #[test]
    fn phrases_need_word_boundaries() {
        let x = extract(
            "From: Boss <boss@supplier.example>\nSubject: nonurgent\n",
            "The wiretransfers team and the giftcardsshop are unrelated words.\n",
        );
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

    fn html(headers_from: &str, body: &str) -> (MessageView, Extraction) {
        run(&mail(
            &format!(
                "From: {headers_from}\nSubject: Your account\nMIME-Version: 1.0\n\
                 Content-Type: text/html; charset=utf-8\n"
            ),
            &format!("<html><body>{body}</body></html>\n"),
        ))
    }

    #[test]
    fn anchor_text_shows_another_domain_than_its_href() {
        let (view, x) = html(
            "PayPal <service@paypal-support.example>",
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
            &[
                (Feature::LinkCount, 2.0),
                (Feature::LinkTextDomainMismatchCount, 1.0),
                (Feature::LinkHttpOnlyCount, 0.0),
            ],
        );
        assert_evidence(
            &x,
            Feature::LinkTextDomainMismatchCount,
            None,
            "link text shows paypal.com but goes to login.secure-check.example",
        );
    }

    #[test]
    fn plain_http_and_ip_literal_hosts() {
        let x = extract(
            "From: IT <it@supplier.example>\nSubject: links\n",
            "Old portal: http://portal.supplier.example/login\n\
             New portal: https://portal.supplier.example/login\n\
             Direct: http://192.0.2.17/owa/auth.php\n",
        );
        expect(
            &x,
            &[
                (Feature::LinkCount, 3.0),
                (Feature::LinkHttpOnlyCount, 2.0),
                (Feature::LinkIpLiteralHostCount, 1.0),
            ],
        );
        assert_evidence(
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
            "IT <it@supplier.example>",
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
                (Feature::LinkShortenerCount, 1.0),
                (Feature::LinkTextDomainMismatchCount, 0.0),
            ],
        );
        assert_evidence(&x, Feature::LinkShortenerCount, None, "bit.ly");
    }

    #[test]
    fn punycode_hosts_written_or_unicode() {
        let x = extract(
            "From: IT <it@supplier.example>\nSubject: links\n",
            "See https://xn--pypal-4ve.com/login and https://www.example.com/\n",
        );
        expect(
            &x,
            &[
                (Feature::LinkCount, 2.0),
                (Feature::LinkPunycodeHostCount, 1.0),
            ],
        );
        assert_evidence(
            &x,
            Feature::LinkPunycodeHostCount,
            None,
            "xn--pypal-4ve.com",
        );
        // A Unicode (Cyrillic а) host in an href becomes punycode too.
        let (view, x) = html(
            "PayPal <service@paypal-support.example>",
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
            "PayPal <service@paypal-support.example>",
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
            "IT <it@supplier.example>",
            "<a href=\"https://portal.kestrelfods.com/login\">Kestrel portal</a>\
             <a href=\"https://intranet.kestrelfoods.com/\">Intranet</a>",
        );
        expect(
            &x,
            &[
                (Feature::LinkCount, 2.0),
                (Feature::LinkHostLookalikeCount, 1.0),
            ],
        );
        assert_evidence(
            &x,
            Feature::LinkHostLookalikeCount,
            Some(Technique::LookalikeDomain),
            "link host kestrelfods.com imitates kestrelfoods.com (one letter left out)",
        );
    }

    #[test]
    fn mailto_and_fragment_anchors_are_not_links() {
        let (view, x) = html(
            "IT <it@supplier.example>",
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

    fn assert_lookalike(x: &Extraction, feature: Feature, needle: &str) {
        expect(x, &[(feature, 1.0)]);
        assert_evidence(x, feature, Some(Technique::LookalikeDomain), needle);
        assert!(
            x.techniques().contains(&Technique::LookalikeDomain),
            "{}",
            dump(x)
        );
    }

    #[test]
    fn from_on_a_lookalike() {
        let x = extract(
            "From: Daniel Brandt <d.brandt@kestre1foods.com>\nSubject: hi\n",
            PLAIN,
        );
        assert_lookalike(
            &x,
            Feature::FromDomainLookalike,
            "From kestre1foods.com imitates kestrelfoods.com (letters swapped for lookalike glyphs)",
        );
        expect(
            &x,
            &[
                (Feature::ReplyToDomainLookalike, 0.0),
                (Feature::EnvelopeDomainLookalike, 0.0),
                (Feature::DkimDomainLookalike, 0.0),
            ],
        );
    }

    #[test]
    fn the_imitated_target_does_not_depend_on_hash_order() {
        // kestrelfoods.com and kestrelfoods.co.jp share the label; the target
        // named must be the one under the same suffix, in every Context.
        let bytes = mail(
            "From: Daniel Brandt <d.brandt@kestre1foods.com>\nSubject: hi\n",
            PLAIN,
        );
        for _ in 0..16 {
            let org = OrgProfile::from_toml(ORG, Path::new("families-org.toml")).unwrap();
            let ctx = Context::builder(org).build().unwrap();
            let (_, x) = Extractor::new(&ctx)
                .extract_bytes(&bytes, &Envelope::default())
                .unwrap();
            assert_evidence(
                &x,
                Feature::FromDomainLookalike,
                Some(Technique::LookalikeDomain),
                "kestre1foods.com imitates kestrelfoods.com (",
            );
        }
    }

    #[test]
    fn reply_to_on_a_lookalike_of_a_partner() {
        let x = extract(
            "From: Accounts <accounts@coldchain-partners.eu>\n\
             Reply-To: accounts@coldchain-partner.eu\nSubject: New bank details\n",
            PLAIN,
        );
        assert_lookalike(
            &x,
            Feature::ReplyToDomainLookalike,
            "Reply-To coldchain-partner.eu imitates coldchain-partners.eu (one letter left out)",
        );
        expect(&x, &[(Feature::FromDomainLookalike, 0.0)]);
    }

    #[test]
    fn envelope_on_a_lookalike() {
        let x = extract(
            "Return-Path: <bounce@mail.kestrelfoodss.com>\n\
             From: Payroll <payroll@kestrelfoods.com>\nSubject: hi\n",
            PLAIN,
        );
        assert_lookalike(
            &x,
            Feature::EnvelopeDomainLookalike,
            "envelope sender kestrelfoodss.com imitates kestrelfoods.com",
        );
        expect(&x, &[(Feature::FromDomainLookalike, 0.0)]);
    }

    #[test]
    fn dkim_signer_on_a_lookalike() {
        let x = extract(
            &format!(
                "{}From: Payroll <payroll@kestrelfoods.com>\nSubject: hi\n",
                dkim("kestrelf0ods.com")
            ),
            PLAIN,
        );
        assert_lookalike(
            &x,
            Feature::DkimDomainLookalike,
            "DKIM signing domain kestrelf0ods.com imitates kestrelfoods.com",
        );
    }

    #[test]
    fn every_identity_at_once_and_tld_swap() {
        let x = extract(
            &format!(
                "{}Return-Path: <b@kestrelfoods.net>\n\
                 From: CEO <ceo@kestrelfoods.net>\n\
                 Reply-To: ceo@kestrelfood.com\nSubject: hi\n",
                dkim("kestrelfoods.net")
            ),
            PLAIN,
        );
        for f in [
            Feature::FromDomainLookalike,
            Feature::ReplyToDomainLookalike,
            Feature::EnvelopeDomainLookalike,
            Feature::DkimDomainLookalike,
        ] {
            expect(&x, &[(f, 1.0)]);
        }
        assert_evidence(
            &x,
            Feature::FromDomainLookalike,
            Some(Technique::LookalikeDomain),
            "same name under another top-level domain",
        );
    }

    #[test]
    fn genuine_domains_and_their_subdomains_are_not_lookalikes() {
        let x = extract(
            &format!(
                "{}Return-Path: <bounce@mail.kestrelfoods.com>\n\
                 From: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <yamada@kestrelfoods.co.jp>\n\
                 Reply-To: ap@coldchain-partners.eu\nSubject: hi\n",
                dkim("mail.kestrelfoods.co.jp")
            ),
            PLAIN,
        );
        for f in [
            Feature::FromDomainLookalike,
            Feature::ReplyToDomainLookalike,
            Feature::EnvelopeDomainLookalike,
            Feature::DkimDomainLookalike,
        ] {
            expect(&x, &[(f, 0.0)]);
        }
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
