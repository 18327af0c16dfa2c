//! What DKIM signatures leave open (a body length limit shorter than the
//! body, From or Subject unsigned, From not oversigned, the org's own
//! signature replayed from outside) and what DNS said of the sender's
//! domains (NXDOMAIN, no mail host). Unknown DNS is never evidence.

mod support;

use impostor_features::{DomainStatus, Extraction, Extractor, Feature, Inputs, Technique};
use support::{ctx, dump, evidence, value, Mail, EXTERNAL_HOP, INTERNAL_HOP};

const NEWS: &str = "Supplier News <news@supplier.example>";

/// A DKIM-Signature that parses: signing domain, h= and l= vary.
fn signature(d: &str, h: &str, l: Option<u64>) -> String {
    let l = l.map(|l| format!(" l={l};")).unwrap_or_default();
    format!(
        "v=1; a=rsa-sha256; c=relaxed/relaxed; d={d}; s=sel1;{l}\n\
         \th={h}; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n\
         \tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ=="
    )
}

const FULL: &str = "from:from:subject:subject:to:date:reply-to:reply-to";
/// "Original text." + CRLF: 16 bytes relaxed; the appended line 33 more.
const REPLAYED_BODY: &str = "Original text.\nPay the invoice at evil.example\n";

const WEAK_FLAGS: [Feature; 6] = [
    Feature::DkimBodyLengthLimit,
    Feature::DkimUnsignedBodyBytes,
    Feature::DkimFromNotSigned,
    Feature::DkimSubjectNotSigned,
    Feature::DkimFromNotOversigned,
    Feature::OwnDomainSignatureForeignRoute,
];

#[test]
fn a_dkim_signature_with_l_shorter_than_the_body_is_replay_evidence() {
    let x = Mail::from(NEWS)
        .trace(
            "DKIM-Signature",
            &signature("supplier.example", FULL, Some(16)),
        )
        .body(REPLAYED_BODY)
        .extract();
    assert_eq!(value(&x, Feature::DkimBodyLengthLimit), 1.0, "{}", dump(&x));
    assert_eq!(
        value(&x, Feature::DkimUnsignedBodyBytes),
        33.0,
        "{}",
        dump(&x)
    );
    let e = evidence(&x, Feature::DkimBodyLengthLimit);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].technique, Some(Technique::HeaderFromSpoof));
    assert!(
        e[0].detail
            .contains("covers 16 body bytes (l=) and 33 more follow"),
        "{}",
        e[0].detail
    );
}

const LIST_BOUNCE: &str = "<bounce-users=member@lists.project.example>";

/// A post as a list re-sends it: the poster's l= signature covers the
/// post; the list's footer follows.
fn list_post(return_path: &str, footer: &str) -> Mail {
    Mail::from("Rick <rick@university.example>")
        .return_path(return_path)
        .field("List-Id", "<users.lists.project.example>")
        .trace(
            "DKIM-Signature",
            &signature("university.example", FULL, Some(16)),
        )
        .body(&format!("Original text.\n{footer}"))
}

#[test]
fn a_mailing_lists_footer_after_an_l_signature_is_said_but_not_counted() {
    let x = list_post(
        LIST_BOUNCE,
        "-- \nTo UNSUBSCRIBE, email to users-request@lists.project.example\n\
         Archive: https://lists.project.example/archive/1234\n",
    )
    .extract();
    assert_eq!(value(&x, Feature::DkimBodyLengthLimit), 0.0, "{}", dump(&x));
    assert_eq!(value(&x, Feature::DkimUnsignedBodyBytes), 0.0);
    let e = evidence(&x, Feature::DkimBodyLengthLimit);
    assert_eq!(e.len(), 1, "{}", dump(&x));
    assert_eq!(e[0].technique, None);
    assert!(
        e[0].detail
            .contains("footer of mailing list users.lists.project.example"),
        "{}",
        e[0].detail
    );
}

#[test]
fn a_tail_on_list_mail_naming_another_domain_still_counts() {
    let x = list_post(
        LIST_BOUNCE,
        "-- \nTo unsubscribe, email users-request@lists.project.example\n\
         Pay the invoice at https://evil.example/pay\n",
    )
    .extract();
    assert_eq!(value(&x, Feature::DkimBodyLengthLimit), 1.0, "{}", dump(&x));
    assert!(value(&x, Feature::DkimUnsignedBodyBytes) > 0.0);
}

#[test]
fn a_footer_like_tail_without_a_list_that_re_sent_the_message_still_counts() {
    // The same footer, but only a List-Id says it is list mail: the
    // envelope is the poster's own.
    let x = list_post(
        "<rick@university.example>",
        "-- \nTo unsubscribe, email users-request@lists.project.example\n",
    )
    .extract();
    assert_eq!(value(&x, Feature::DkimBodyLengthLimit), 1.0, "{}", dump(&x));
}

#[test]
fn an_l_covering_the_whole_body_is_not_flagged() {
    let x = Mail::from(NEWS)
        .trace(
            "DKIM-Signature",
            &signature("supplier.example", FULL, Some(49)),
        )
        .body(REPLAYED_BODY)
        .extract();
    assert_eq!(value(&x, Feature::DkimBodyLengthLimit), 0.0, "{}", dump(&x));
    assert_eq!(value(&x, Feature::DkimUnsignedBodyBytes), 0.0);
}

#[test]
fn a_third_partys_l_limit_is_noted_without_a_technique() {
    let x = Mail::from(NEWS)
        .trace("DKIM-Signature", &signature("esp.example", FULL, Some(16)))
        .body(REPLAYED_BODY)
        .extract();
    assert_eq!(value(&x, Feature::DkimBodyLengthLimit), 1.0);
    assert_eq!(
        evidence(&x, Feature::DkimBodyLengthLimit)[0].technique,
        None
    );
}

#[test]
fn a_signature_that_does_not_sign_from_is_flagged() {
    let x = Mail::from(NEWS)
        .trace(
            "DKIM-Signature",
            &signature("supplier.example", "subject:subject:to:date", None),
        )
        .extract();
    assert_eq!(value(&x, Feature::DkimFromNotSigned), 1.0, "{}", dump(&x));
    assert_eq!(
        evidence(&x, Feature::DkimFromNotSigned)[0].technique,
        Some(Technique::HeaderFromSpoof)
    );
    assert_eq!(value(&x, Feature::DkimSubjectNotSigned), 0.0);
}

#[test]
fn subject_left_unsigned_counts_only_for_a_signer_the_organisation_guards() {
    // Another signer: common and honest (a list adds "(no subject)" to mail
    // signed without one), so no flag at all.
    let x = Mail::from(NEWS)
        .trace(
            "DKIM-Signature",
            &signature("supplier.example", "from:from:to:date", None),
        )
        .extract();
    assert_eq!(
        value(&x, Feature::DkimSubjectNotSigned),
        0.0,
        "{}",
        dump(&x)
    );
    // The organisation's own signature: its mail can be re-sent under
    // another Subject.
    let x = Mail::from("Daniel Brandt <d.brandt@kestrelfoods.com>")
        .trace(
            "DKIM-Signature",
            &signature("kestrelfoods.com", "from:from:to:date", None),
        )
        .extract();
    assert_eq!(
        value(&x, Feature::DkimSubjectNotSigned),
        1.0,
        "{}",
        dump(&x)
    );
    assert_eq!(value(&x, Feature::DkimFromNotSigned), 0.0);
    assert_eq!(
        evidence(&x, Feature::DkimSubjectNotSigned)[0].technique,
        Some(Technique::HeaderFromSpoof)
    );
}

#[test]
fn from_signed_once_is_a_weakness_and_with_a_second_from_an_attack() {
    let once = "from:subject:to:date";
    let x = Mail::from(NEWS)
        .trace("DKIM-Signature", &signature("supplier.example", once, None))
        .extract();
    assert_eq!(value(&x, Feature::DkimFromNotOversigned), 1.0);
    assert_eq!(
        evidence(&x, Feature::DkimFromNotOversigned)[0].technique,
        None
    );

    let x = Mail::from(NEWS)
        .trace("DKIM-Signature", &signature("supplier.example", once, None))
        .field("From", "Daniel Brandt <d.brandt@kestrelfoods.com>")
        .extract();
    let e = evidence(&x, Feature::DkimFromNotOversigned);
    assert_eq!(
        e[0].technique,
        Some(Technique::HeaderFromSpoof),
        "{}",
        dump(&x)
    );
    assert!(e[0].detail.contains("the message has 2"), "{}", e[0].detail);
}

#[test]
fn an_honest_fully_signed_message_is_not_flagged() {
    let x = Mail::from(NEWS)
        .auth("mx.kestrelfoods.com; dkim=pass header.d=supplier.example; dmarc=pass header.from=supplier.example")
        .received(EXTERNAL_HOP)
        .trace("DKIM-Signature", &signature("supplier.example", FULL, None))
        .body(REPLAYED_BODY)
        .extract();
    for f in WEAK_FLAGS {
        assert_eq!(value(&x, f), 0.0, "{}: {}", f.name(), dump(&x));
        assert!(evidence(&x, f).is_empty(), "{}", dump(&x));
    }
    assert!(x.techniques().is_empty(), "{}", dump(&x));
}

#[test]
fn the_orgs_own_signature_arriving_from_outside_unverified_is_flagged() {
    let own = signature("kestrelfoods.com", FULL, None);
    let daniel = "Daniel Brandt <d.brandt@kestrelfoods.com>";
    let x = Mail::from(daniel)
        .received(EXTERNAL_HOP)
        .trace("DKIM-Signature", &own)
        .extract();
    assert_eq!(
        value(&x, Feature::OwnDomainSignatureForeignRoute),
        1.0,
        "{}",
        dump(&x)
    );
    let e = evidence(&x, Feature::OwnDomainSignatureForeignRoute);
    assert_eq!(e[0].technique, Some(Technique::HeaderFromSpoof));
    assert!(
        e[0].detail.contains("signed by internal domain kestrelfoods.com but the message came from outside via mail.bulk-sender.example and nothing verified it"),
        "{}",
        e[0].detail
    );

    // Verified by the org's MX: the org's own mail through an outside service.
    let verified = Mail::from(daniel)
        .auth("mx.kestrelfoods.com; dkim=pass header.d=kestrelfoods.com")
        .received(EXTERNAL_HOP)
        .trace("DKIM-Signature", &own)
        .extract();
    assert_eq!(
        value(&verified, Feature::OwnDomainSignatureForeignRoute),
        0.0
    );

    // Over the internal route it is just internal mail.
    let internal = Mail::from(daniel)
        .received(INTERNAL_HOP)
        .trace("DKIM-Signature", &own)
        .extract();
    assert_eq!(
        value(&internal, Feature::OwnDomainSignatureForeignRoute),
        0.0
    );
}

fn with_dns(mail: &Mail, domains: Vec<DomainStatus>) -> Extraction {
    let mut inputs = Inputs::default();
    inputs.domains = domains;
    Extractor::new(ctx())
        .extract_bytes(&mail.bytes(), &inputs)
        .expect("parses")
        .1
}

fn status(domain: &str, exists: Option<bool>, accepts_mail: Option<bool>) -> DomainStatus {
    DomainStatus {
        domain: domain.into(),
        exists,
        accepts_mail,
    }
}

fn supplier_mail() -> Mail {
    Mail::from("Billing <billing@supplier-billing.example>")
        .return_path("<bounce@bounces.example>")
        .subject("Invoice")
}

const DNS_FLAGS: [Feature; 3] = [
    Feature::FromDomainNxdomain,
    Feature::EnvelopeDomainNxdomain,
    Feature::SenderDomainNoMailHost,
];

#[test]
fn a_from_domain_that_does_not_exist_is_header_from_evidence() {
    let x = with_dns(
        &supplier_mail(),
        vec![status("supplier-billing.example", Some(false), Some(false))],
    );
    assert_eq!(value(&x, Feature::FromDomainNxdomain), 1.0, "{}", dump(&x));
    assert_eq!(
        value(&x, Feature::SenderDomainNoMailHost),
        0.0,
        "NXDOMAIN says it all"
    );
    let e = evidence(&x, Feature::FromDomainNxdomain);
    assert_eq!(e[0].technique, Some(Technique::HeaderFromSpoof));
    assert_eq!(
        e[0].detail,
        "From domain supplier-billing.example does not exist (NXDOMAIN)"
    );
}

#[test]
fn an_envelope_domain_that_does_not_exist_is_envelope_evidence() {
    let x = with_dns(
        &supplier_mail(),
        vec![status("bounces.example", Some(false), None)],
    );
    assert_eq!(
        value(&x, Feature::EnvelopeDomainNxdomain),
        1.0,
        "{}",
        dump(&x)
    );
    assert_eq!(value(&x, Feature::FromDomainNxdomain), 0.0);
    assert_eq!(
        evidence(&x, Feature::EnvelopeDomainNxdomain)[0].technique,
        Some(Technique::EnvelopeFromSpoof)
    );
}

#[test]
fn a_sender_domain_without_a_mail_host_is_evidence() {
    let x = with_dns(
        &supplier_mail(),
        vec![
            status("supplier-billing.example", Some(true), Some(true)),
            status("bounces.example", Some(true), Some(false)),
        ],
    );
    assert_eq!(
        value(&x, Feature::SenderDomainNoMailHost),
        1.0,
        "{}",
        dump(&x)
    );
    let e = evidence(&x, Feature::SenderDomainNoMailHost);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].technique, Some(Technique::EnvelopeFromSpoof));
    assert!(e[0]
        .detail
        .contains("envelope sender domain bounces.example has no MX"));
}

#[test]
fn unknown_dns_answers_give_no_evidence() {
    let unknown = [
        vec![],
        vec![
            status("supplier-billing.example", None, None),
            status("bounces.example", None, None),
        ],
        // Facts about a domain the message does not use.
        vec![status("elsewhere.example", Some(false), Some(false))],
    ];
    for domains in unknown {
        let x = with_dns(&supplier_mail(), domains.clone());
        for f in DNS_FLAGS {
            assert_eq!(value(&x, f), 0.0, "{domains:?}: {}", f.name());
            assert!(evidence(&x, f).is_empty());
        }
    }
}

#[test]
fn a_signature_with_l_zero_signs_no_body_at_all() {
    let x = Mail::from(NEWS)
        .trace(
            "DKIM-Signature",
            &signature("supplier.example", FULL, Some(0)),
        )
        .body(REPLAYED_BODY)
        .extract();
    assert_eq!(value(&x, Feature::DkimBodyLengthLimit), 1.0, "{}", dump(&x));
    assert_eq!(value(&x, Feature::DkimUnsignedBodyBytes), 49.0);
}

#[test]
fn simple_body_canonicalisation_counts_white_space_as_written() {
    // "a  b" + CRLF is 6 bytes simple, 5 relaxed: l=5 leaves 1 byte under
    // simple and none under relaxed.
    let sig =
        |c: &str| signature("supplier.example", FULL, Some(5)).replace("c=relaxed/relaxed", c);
    let simple = Mail::from(NEWS)
        .trace("DKIM-Signature", &sig("c=relaxed/simple"))
        .body("a  b\n")
        .extract();
    assert_eq!(
        value(&simple, Feature::DkimUnsignedBodyBytes),
        1.0,
        "{}",
        dump(&simple)
    );
    let relaxed = Mail::from(NEWS)
        .trace("DKIM-Signature", &sig("c=simple/relaxed"))
        .body("a  b\n")
        .extract();
    assert_eq!(
        value(&relaxed, Feature::DkimUnsignedBodyBytes),
        0.0,
        "{}",
        dump(&relaxed)
    );
}
