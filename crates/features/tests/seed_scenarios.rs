//! The whitepaper's forged-email examples in ../shared/scenarios/seed: each
//! attack raises the evidence of its technique; the ham raises none.
//! Needs ../shared (CI always has it); fails loudly without it.

use impostor_features::{Context, Extraction, Extractor, Feature, Inputs, OrgProfile, Technique};
use std::path::PathBuf;

/// This crate's directory, as cargo gives it when the test runs: the
/// compile-time value names the clone the binary was built in, which a
/// shared build cache may have reused for another clone.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

fn seed_dir() -> PathBuf {
    let dir = manifest_dir().join("../../../shared/scenarios/seed");
    assert!(
        dir.join("labels.csv").is_file(),
        "this test needs ../shared/scenarios/seed (the shared data beside the repository); CI always has it. Looked in {}",
        dir.display()
    );
    dir
}

fn context() -> Context {
    let dir = seed_dir();
    let org = OrgProfile::load(&dir.join("org.toml")).expect("seed org.toml loads");
    Context::builder(org).build().expect("context builds")
}

fn extract(ctx: &Context, file: &str) -> Extraction {
    let bytes = std::fs::read(seed_dir().join(file)).expect("seed message readable");
    let (_, extraction) = Extractor::new(ctx)
        .extract_bytes(&bytes, &Inputs::default())
        .unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
    extraction
}

fn dump(x: &Extraction) -> String {
    x.evidence
        .iter()
        .map(|e| format!("  {} [{:?}] {}", e.feature.name(), e.technique, e.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every labelled file: the label's technique is among the evidence's, ham has none.
#[test]
fn every_labelled_message_raises_the_evidence_of_its_technique() {
    let ctx = context();
    let labels = std::fs::read_to_string(seed_dir().join("labels.csv")).unwrap();
    let mut checked = 0;
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.splitn(5, ',').collect();
        let (file, label, technique) = (cols[0], cols[1], cols[2]);
        let x = extract(&ctx, file);
        if label == "ham" {
            assert!(
                x.techniques().is_empty(),
                "{file} is ham but raised spoofing evidence:\n{}",
                dump(&x)
            );
        } else {
            let t = Technique::from_code(technique)
                .unwrap_or_else(|| panic!("unknown technique {technique}"));
            assert!(
                x.techniques().contains(&t),
                "{file} ({technique}) did not raise it:\n{}",
                dump(&x)
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 8, "labels.csv should list the eight seed messages");
}

#[test]
fn sans_newsletter_is_aligned_and_authenticated() {
    let x = extract(&context(), "001.eml");
    let v = &x.vector;
    assert_eq!(
        v.get(Feature::EnvelopeFromDomainMismatch),
        0.0,
        "bounce.email.sans.org aligns with sans.org"
    );
    assert_eq!(
        v.get(Feature::EnvelopeFromHostMismatch),
        1.0,
        "strict alignment differs"
    );
    assert_eq!(v.get(Feature::DkimFromDomainMismatch), 0.0);
    assert_eq!(v.get(Feature::AuthSpfPass), 1.0);
    assert_eq!(v.get(Feature::AuthDmarcPass), 1.0);
    assert_eq!(v.get(Feature::FirstHopHeloDomainMismatch), 0.0);
}

#[test]
fn gmail_envelope_from_a_vps_is_an_envelope_spoof() {
    let x = extract(&context(), "002.eml");
    assert_eq!(x.vector.get(Feature::AuthSpfFail), 1.0);
    assert_eq!(x.vector.get(Feature::AuthDmarcFail), 1.0);
    assert_eq!(x.vector.get(Feature::FirstHopHeloDomainMismatch), 1.0);
    assert!(
        x.evidence_for(Technique::EnvelopeFromSpoof)
            .any(|e| e.detail.contains("vps1183.fastcloud-servers.net")),
        "{}",
        dump(&x)
    );
}

#[test]
fn michael_doyle_header_spoof_claims_an_internal_domain_from_outside() {
    let x = extract(&context(), "003.eml");
    assert_eq!(
        x.vector.get(Feature::InternalDomainExternalRoute),
        1.0,
        "{}",
        dump(&x)
    );
    assert_eq!(x.vector.get(Feature::EnvelopeFromDomainMismatch), 1.0);
    assert_eq!(x.vector.get(Feature::VipDisplayName), 1.0);
    assert_eq!(
        x.vector.get(Feature::VipNameUnlistedAddress),
        0.0,
        "it is his real address, forged"
    );
    assert!(x.vector.get(Feature::IntentPaymentCount) >= 1.0);
}

#[test]
fn inteirface_and_comqany_are_lookalikes_with_their_targets() {
    let ctx = context();
    let x = extract(&ctx, "004.eml");
    assert_eq!(x.vector.get(Feature::FromDomainLookalike), 1.0);
    assert!(
        x.evidence_for(Technique::LookalikeDomain)
            .any(|e| e.detail.contains("inteirface.com imitates interface.com")),
        "{}",
        dump(&x)
    );
    let x = extract(&ctx, "005.eml");
    assert_eq!(x.vector.get(Feature::ReplyToDomainLookalike), 1.0);
    assert_eq!(x.vector.get(Feature::EnvelopeDomainLookalike), 1.0);
    assert_eq!(
        x.vector.get(Feature::FromDomainLookalike),
        0.0,
        "company.com itself is protected"
    );
    assert!(
        x.evidence_for(Technique::LookalikeDomain).any(|e| e
            .detail
            .contains("Reply-To comqany.com imitates company.com")),
        "{}",
        dump(&x)
    );
}

#[test]
fn harry_potter_on_gmail_is_freemail_impersonation() {
    let x = extract(&context(), "006.eml");
    assert_eq!(x.vector.get(Feature::VipNameFreemail), 1.0);
    assert_eq!(
        x.vector.get(Feature::AuthDmarcPass),
        1.0,
        "it passes DMARC: gmail's own domain"
    );
    assert!(
        x.vector.get(Feature::IntentGiftCardCount) >= 1.0,
        "{}",
        dump(&x)
    );
    assert_eq!(
        x.techniques(),
        vec![Technique::FreemailImpersonation],
        "{}",
        dump(&x)
    );
}

#[test]
fn compromised_mailbox_sends_a_brand_lure() {
    let x = extract(&context(), "007.eml");
    assert_eq!(x.vector.get(Feature::InternalAuthenticatedSender), 1.0);
    assert_eq!(x.vector.get(Feature::LinkHttpOnlyCount), 1.0);
    assert_eq!(
        x.vector.get(Feature::LinkBrandUnrelatedHostCount),
        1.0,
        "{}",
        dump(&x)
    );
    assert_eq!(x.vector.get(Feature::InternalSenderLure), 1.0);
}
