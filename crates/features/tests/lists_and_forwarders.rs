//! Mailing lists and forwarders break DMARC without anyone spoofing: a list
//! rewrites the envelope and often the body, a forwarder changes the
//! sending host. Under p=none a List-Id (or a list Sender) explains the
//! failure, and so does a passing ARC seal by a trusted sealer; under
//! p=reject or quarantine only a trusted sealer that recorded a DMARC pass
//! does. What is explained is not spoofing; what is not stays evidence.

mod support;

use impostor_features::{
    Context, Extraction, Extractor, Feature, Inputs, MessageView, OrgProfile, Technique,
};
use std::path::Path;
use std::sync::OnceLock;
use support::{dump, value, Mail, EXTERNAL_HOP};

const ORG: &str = r#"
name = "Kestrel Foods"
internal_domains = ["kestrelfoods.com"]
trusted_authserv_ids = ["mx.kestrelfoods.com"]
trusted_arc_sealers = ["google.com"]
protected_domains = ["kestrelfoods.com", "coldchain-partners.eu"]
"#;

fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        let org = OrgProfile::from_toml(ORG, Path::new("lists-org.toml")).expect("org loads");
        Context::builder(org).build().expect("context builds")
    })
}

fn run(mail: &Mail) -> (MessageView, Extraction) {
    Extractor::new(ctx())
        .extract_bytes(&mail.bytes(), &Inputs::default())
        .unwrap_or_else(|e| panic!("message does not parse: {e}"))
}

/// A partner's post to an outside list, delivered by the list's server.
const LIST_HOP: &str = "from mail.lists.example (mail.lists.example [203.0.113.40])\n\
     \tby mx.kestrelfoods.com (Postfix) with ESMTPS id 4T2;\n\
     \tTue, 2 Jan 2024 09:59:58 +0000";

fn list_post(policy: &str) -> Mail {
    Mail::from("Anna Berg <a.berg@coldchain-partners.eu>")
        .return_path("<cold-users-bounces@lists.example>")
        .auth(&format!(
            "mx.kestrelfoods.com; spf=pass smtp.mailfrom=lists.example;\n\
             \tdkim=fail header.d=coldchain-partners.eu;\n\
             \tdmarc=fail ({policy}) header.from=coldchain-partners.eu"
        ))
        .received(LIST_HOP)
        .field("Sender", "cold-users <cold-users-bounces@lists.example>")
        .field("List-Id", "Cold chain users <cold-users.lists.example>")
        .field(
            "List-Unsubscribe",
            "<mailto:cold-users-leave@lists.example>",
        )
        .subject("[cold-users] Sensor firmware 2.1")
}

#[test]
fn list_mail_failing_dmarc_under_p_none_is_explained_and_not_spoofing() {
    let (_, x) = run(&list_post("p=NONE sp=NONE dis=NONE"));
    assert_eq!(
        value(&x, Feature::DmarcFailureExplainedByList),
        1.0,
        "{}",
        dump(&x)
    );
    assert_eq!(
        value(&x, Feature::AuthDmarcFail),
        1.0,
        "the failure stays a fact"
    );
    assert_eq!(value(&x, Feature::ProtectedDomainUnauthenticated), 0.0);
    assert!(x.techniques().is_empty(), "{}", dump(&x));
    assert!(
        x.evidence.iter().any(|e| e.feature == Feature::DmarcFailureExplainedByList
            && e.detail
                == "DMARC failed for coldchain-partners.eu under p=none; mailing list cold-users.lists.example (List-Id, Sender cold-users-bounces@lists.example) explains it"),
        "{}",
        dump(&x)
    );
}

#[test]
fn list_mail_with_an_unknown_policy_is_explained_too() {
    let (_, x) = run(&list_post("no policy comment"));
    assert_eq!(
        value(&x, Feature::DmarcFailureExplainedByList),
        1.0,
        "{}",
        dump(&x)
    );
    assert!(x.techniques().is_empty(), "{}", dump(&x));
}

#[test]
fn a_dmarc_failure_under_p_reject_stays_strong_evidence_even_on_a_list() {
    for policy in ["p=REJECT sp=REJECT dis=REJECT", "p=QUARANTINE"] {
        let (_, x) = run(&list_post(policy));
        assert_eq!(
            value(&x, Feature::DmarcFailureExplainedByList),
            0.0,
            "{policy}"
        );
        assert_eq!(
            value(&x, Feature::ProtectedDomainUnauthenticated),
            1.0,
            "{policy}: {}",
            dump(&x)
        );
        assert!(
            x.evidence
                .iter()
                .any(|e| e.feature == Feature::AuthDmarcFail
                    && e.technique == Some(Technique::HeaderFromSpoof)),
            "{policy}: {}",
            dump(&x)
        );
    }
}

#[test]
fn list_unsubscribe_alone_does_not_make_a_spoof_list_mail() {
    // Every bulk sender (and spoofer) can add List-Unsubscribe: without a
    // List-Id or a list Sender it explains nothing.
    let mail = Mail::from("Anna Berg <a.berg@coldchain-partners.eu>")
        .return_path("<x@bulk-sender.example>")
        .auth("mx.kestrelfoods.com; spf=pass smtp.mailfrom=bulk-sender.example; dmarc=fail (p=NONE) header.from=coldchain-partners.eu")
        .received(EXTERNAL_HOP)
        .field("List-Unsubscribe", "<mailto:leave@bulk-sender.example>")
        .subject("Invoice");
    let (_, x) = run(&mail);
    assert_eq!(value(&x, Feature::DmarcFailureExplainedByList), 0.0);
    assert_eq!(
        value(&x, Feature::ProtectedDomainUnauthenticated),
        1.0,
        "{}",
        dump(&x)
    );
    assert!(
        x.techniques().contains(&Technique::HeaderFromSpoof),
        "{}",
        dump(&x)
    );
}

#[test]
fn a_list_id_the_sender_added_explains_nothing() {
    // The header alone is free to write: a list that re-sent the message
    // also puts its domain on the envelope, the Sender or a signature.
    let mail = Mail::from("Anna Berg <a.berg@coldchain-partners.eu>")
        .return_path("<x@bulk-sender.example>")
        .auth("mx.kestrelfoods.com; spf=pass smtp.mailfrom=bulk-sender.example; dmarc=fail (p=NONE) header.from=coldchain-partners.eu")
        .received(EXTERNAL_HOP)
        .field("List-Id", "<announce.lists.example.org>")
        .subject("Invoice");
    let (_, x) = run(&mail);
    assert_eq!(
        value(&x, Feature::DmarcFailureExplainedByList),
        0.0,
        "{}",
        dump(&x)
    );
    assert_eq!(value(&x, Feature::AuthDmarcFail), 1.0, "{}", dump(&x));
}

#[test]
fn the_orgs_own_domain_gets_no_list_excuse() {
    let mail = Mail::from("Daniel Brandt <d.brandt@kestrelfoods.com>")
        .return_path("<cold-users-bounces@lists.example>")
        .auth("mx.kestrelfoods.com; spf=pass smtp.mailfrom=lists.example; dmarc=fail (p=NONE) header.from=kestrelfoods.com")
        .received(LIST_HOP)
        .field("List-Id", "<cold-users.lists.example>")
        .subject("[cold-users] hello");
    let (_, x) = run(&mail);
    assert_eq!(value(&x, Feature::DmarcFailureExplainedByList), 0.0);
    assert_eq!(
        value(&x, Feature::InternalDomainExternalRoute),
        1.0,
        "{}",
        dump(&x)
    );
    assert!(
        x.techniques().contains(&Technique::HeaderFromSpoof),
        "{}",
        dump(&x)
    );
}

/// A partner's message forwarded by a Google-hosted alias: the forwarder
/// sealed what it saw (`recorded`) with ARC, sealer `sealer`.
fn forwarded(sealer: &str, recorded: &str, policy: &str) -> Mail {
    let hop = "from mail-sor-f41.google.com (mail-sor-f41.google.com [209.85.220.41])\n\
               \tby mx.kestrelfoods.com (Postfix) with ESMTPS id 4T3;\n\
               \tTue, 2 Jan 2024 09:59:58 +0000";
    Mail::from("Anna Berg <a.berg@coldchain-partners.eu>")
        .return_path("<anna+caf_=ap=kestrelfoods.com@forwarder.example>")
        .auth(&format!(
            "mx.kestrelfoods.com; spf=fail smtp.mailfrom=coldchain-partners.eu;\n\
             \tdkim=fail header.d=coldchain-partners.eu;\n\
             \tdmarc=fail ({policy}) header.from=coldchain-partners.eu; arc=pass"
        ))
        .received(hop)
        .trace(
            "ARC-Seal",
            &format!("i=1; a=rsa-sha256; t=1704189598; cv=none; d={sealer}; s=arc-20160816;\n\tb=c2VhbA=="),
        )
        .trace(
            "ARC-Authentication-Results",
            &format!("i=1; mx.google.com;\n\tdkim=pass header.d=coldchain-partners.eu;\n\t{recorded}"),
        )
        .subject("Delivery schedule")
}

const RECORDED_PASS: &str =
    "dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=coldchain-partners.eu";
const RECORDED_FAIL: &str =
    "dmarc=fail (p=REJECT sp=REJECT dis=QUARANTINE) header.from=coldchain-partners.eu";

#[test]
fn forwarded_mail_sealed_by_a_trusted_sealer_that_saw_dmarc_pass_is_explained() {
    let (view, x) = run(&forwarded("google.com", RECORDED_PASS, "p=REJECT"));
    assert_eq!(view.auth.arc_sealers, ["google.com"]);
    assert_eq!(
        value(&x, Feature::AuthFailureExplainedByArc),
        1.0,
        "{}",
        dump(&x)
    );
    assert_eq!(value(&x, Feature::AuthSpfFail), 1.0);
    assert_eq!(value(&x, Feature::ProtectedDomainUnauthenticated), 0.0);
    assert!(x.techniques().is_empty(), "{}", dump(&x));
}

#[test]
fn a_trusted_seal_without_a_recorded_verdict_explains_only_under_p_none() {
    let silent = "spf=pass smtp.mailfrom=coldchain-partners.eu";
    let (_, x) = run(&forwarded("google.com", silent, "p=NONE"));
    assert_eq!(
        value(&x, Feature::AuthFailureExplainedByArc),
        1.0,
        "{}",
        dump(&x)
    );
    assert!(x.techniques().is_empty(), "{}", dump(&x));
    let (_, x) = run(&forwarded("google.com", silent, "p=REJECT"));
    assert_eq!(value(&x, Feature::AuthFailureExplainedByArc), 0.0);
    assert!(
        x.techniques().contains(&Technique::HeaderFromSpoof),
        "{}",
        dump(&x)
    );
}

#[test]
fn a_seal_by_an_untrusted_sealer_or_over_a_recorded_failure_explains_nothing() {
    for (sealer, recorded) in [
        ("evil.example", RECORDED_PASS),
        ("google.com", RECORDED_FAIL),
    ] {
        let (_, x) = run(&forwarded(sealer, recorded, "p=NONE"));
        assert_eq!(
            value(&x, Feature::AuthFailureExplainedByArc),
            0.0,
            "{sealer}"
        );
        assert_eq!(
            value(&x, Feature::ProtectedDomainUnauthenticated),
            1.0,
            "{sealer}: {}",
            dump(&x)
        );
        assert!(
            x.evidence.iter().any(|e| e.feature == Feature::AuthSpfFail
                && e.technique == Some(Technique::EnvelopeFromSpoof)),
            "{sealer}: {}",
            dump(&x)
        );
    }
}

#[test]
fn the_orgs_own_seal_above_the_boundary_is_no_forwarder() {
    // The org's receiving service sealed the message after its own check:
    // that seal vouches for nothing the check did not already say.
    let mail = Mail::from("Anna Berg <a.berg@coldchain-partners.eu>")
        .trace("ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=google.com; s=arc; b=c2VhbA==")
        .trace(
            "ARC-Authentication-Results",
            &format!("i=1; mx.google.com; {RECORDED_PASS}"),
        )
        .auth("mx.kestrelfoods.com; spf=fail smtp.mailfrom=coldchain-partners.eu; dmarc=fail (p=NONE) header.from=coldchain-partners.eu; arc=pass")
        .received(EXTERNAL_HOP)
        .subject("Invoice");
    let (view, x) = run(&mail);
    assert!(
        view.auth.arc_sealers.is_empty(),
        "{:?}",
        view.auth.arc_sealers
    );
    assert_eq!(value(&x, Feature::AuthFailureExplainedByArc), 0.0);
    assert_eq!(value(&x, Feature::ProtectedDomainUnauthenticated), 1.0);
    assert!(
        x.techniques().contains(&Technique::EnvelopeFromSpoof),
        "{}",
        dump(&x)
    );
}
