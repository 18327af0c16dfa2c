//! Per-tenant org profiles in the Engine: the envelope recipients choose
//! the Context a message is judged under, the verdict names its tenant,
//! and recipients of several tenants get the most severe verdict.

use impostor_features::{Context, Envelope, OrgProfile, Technique};
use impostor_model::artifact;
use impostor_serve::tenant::Tenants;
use impostor_serve::{Engine, Judgement, Origin};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Kestrel Foods, whose CEO is Daniel Brandt.
fn kestrel() -> Context {
    let path = repo().join("datasets/orgs/kestrel-foods.toml");
    Context::builder(OrgProfile::load(&path).unwrap())
        .build()
        .unwrap()
}

/// Otter Logistics: nobody named Brandt among its VIPs.
const OTTER: &str = r#"
name = "Otter Logistics"
internal_domains = ["otterlogistics.example"]
trusted_authserv_ids = ["mx.otterlogistics.example"]
trusted_receivers = ["mx.otterlogistics.example"]
protected_domains = ["otterlogistics.example"]

[[vip]]
name = "Maria Keller"
aliases = []
addresses = ["m.keller@otterlogistics.example"]
title = "CEO"
"#;

fn otter() -> Context {
    let org = OrgProfile::from_toml(OTTER, Path::new("otter.toml")).unwrap();
    Context::builder(org).build().unwrap()
}

/// Default profile: Kestrel (as the built-in example); tenants: Kestrel
/// for kestrelfoods.com, Otter for otterlogistics.example.
fn engine() -> Engine {
    let mut tenants = Tenants::new();
    tenants
        .add(
            &["kestrelfoods.com".into()],
            kestrel(),
            Path::new("kestrel.toml"),
        )
        .unwrap();
    tenants
        .add(
            &["OtterLogistics.example".into()],
            otter(),
            Path::new("otter.toml"),
        )
        .unwrap();
    Engine::new(kestrel(), artifact::builtin().unwrap(), None).with_tenants(tenants)
}

/// The From display name is Kestrel's CEO, the address free mail.
fn ceo_on_freemail() -> Vec<u8> {
    std::fs::read(repo().join("datasets/examples/02-freemail-ceo.eml")).unwrap()
}

fn judge_for(engine: &Engine, rcpt: &[&str]) -> Judgement {
    let envelope = Envelope {
        mail_from: Some("dan.brandt.office@gmail.com".into()),
        rcpt: rcpt.iter().map(|r| r.to_string()).collect(),
        ..Envelope::default()
    };
    engine.judge(&ceo_on_freemail(), &envelope).unwrap()
}

fn impersonates(j: &Judgement) -> bool {
    j.verdict
        .techniques
        .contains(&Technique::FreemailImpersonation)
}

#[test]
fn the_ceo_name_on_free_mail_is_impersonation_for_the_ceos_tenant_only() {
    let e = engine();
    let a = judge_for(&e, &["ap@kestrelfoods.com"]);
    assert!(impersonates(&a), "{:?}", a.verdict);
    assert!(a.verdict.flagged);
    assert_eq!(a.tenant.as_deref(), Some("kestrelfoods.com"));
    let b = judge_for(&e, &["ap@otterlogistics.example"]);
    assert!(!impersonates(&b), "{:?}", b.verdict);
    assert_eq!(b.tenant.as_deref(), Some("otterlogistics.example"));
}

#[test]
fn a_subdomain_and_any_case_of_a_tenants_domain_choose_that_tenant() {
    let e = engine();
    let j = judge_for(&e, &["AP@Mail.OtterLogistics.EXAMPLE"]);
    assert_eq!(j.tenant.as_deref(), Some("otterlogistics.example"));
    assert!(!impersonates(&j), "{:?}", j.verdict);
    // A domain that merely ends in the same letters is not a subdomain.
    let j = judge_for(&e, &["ap@nototterlogistics.example"]);
    assert_eq!(j.tenant, None);
}

#[test]
fn an_unknown_recipient_domain_or_none_is_judged_under_the_default_profile() {
    let e = engine();
    for rcpt in [&["ap@elsewhere.example"][..], &[]] {
        let j = judge_for(&e, rcpt);
        assert_eq!(j.tenant, None, "{rcpt:?}");
        // The default profile is Kestrel's: its CEO is impersonated.
        assert!(impersonates(&j), "{rcpt:?}: {:?}", j.verdict);
    }
}

#[test]
fn recipients_of_two_tenants_get_the_most_severe_verdict_naming_its_tenant() {
    let e = engine();
    for rcpt in [
        ["ap@otterlogistics.example", "ap@kestrelfoods.com"],
        ["ap@kestrelfoods.com", "ap@otterlogistics.example"],
    ] {
        let j = judge_for(&e, &rcpt);
        assert_eq!(j.tenant.as_deref(), Some("kestrelfoods.com"), "{rcpt:?}");
        assert!(impersonates(&j), "{rcpt:?}");
    }
}

#[test]
fn without_tenants_no_verdict_names_one() {
    let e = Engine::new(otter(), artifact::builtin().unwrap(), None);
    let j = judge_for(&e, &["ap@kestrelfoods.com"]);
    assert_eq!(j.tenant, None);
    assert!(!impersonates(&j), "judged under the one profile, Otter's");
}

#[test]
fn submitted_mail_is_judged_under_the_tenant_of_its_sender() {
    let e = engine();
    let envelope = Envelope {
        mail_from: Some("clerk@otterlogistics.example".into()),
        rcpt: vec!["ap@kestrelfoods.com".into()],
        ..Envelope::default()
    };
    let j = e
        .judge_from(&ceo_on_freemail(), &envelope, Origin::Submitted)
        .unwrap();
    assert_eq!(j.tenant.as_deref(), Some("otterlogistics.example"));
}

#[test]
fn a_model_reload_keeps_the_tenants() {
    let e = engine().with_model(artifact::builtin().unwrap());
    assert_eq!(e.tenants().len(), 2);
    let j = judge_for(&e, &["ap@otterlogistics.example"]);
    assert_eq!(j.tenant.as_deref(), Some("otterlogistics.example"));
}
