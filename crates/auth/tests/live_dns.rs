//! Live verification against a real authoritative DNS server (Knot, started
//! by the test on 127.0.0.1 with zones it writes): every result is compared
//! with the truth the zone states. Fails loudly when knotd is missing.

use impostor_auth::loopback::{free_port, DkimKey, KnotServer, Zone};
use impostor_auth::{Enrichment, Subject, Verifier, VerifierConfig};
use impostor_features::{
    AuthResult, AuthSource, Context, DmarcPolicy, DomainStatus, Envelope, MessageView, OrgProfile,
};
use mail_auth::ArcOutput;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const GOOD_IP: &str = "192.0.2.10";
const OTHER_IP: &str = "198.51.100.7";
const INCLUDED_IP: &str = "203.0.113.5";

struct World {
    server: KnotServer,
    rsa: DkimKey,
    ed: DkimKey,
    unpublished: DkimKey,
    none_key: DkimKey,
    quarantine_key: DkimKey,
    reject_key: DkimKey,
    strict_key: DkimKey,
    relaxed_key: DkimKey,
    sealer: DkimKey,
}

/// One server for the whole test binary: the zones are the truth.
fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rsa = DkimKey::rsa("dkim.test", "r1", 2048);
        let ed = DkimKey::ed25519("dkim.test", "e1");
        let unpublished = DkimKey::ed25519("dkim.test", "gone");
        let none_key = DkimKey::ed25519("p-none.test", "k");
        let quarantine_key = DkimKey::ed25519("p-quarantine.test", "k");
        let reject_key = DkimKey::ed25519("p-reject.test", "k");
        let strict_key = DkimKey::ed25519("strict.test", "k");
        let relaxed_key = DkimKey::ed25519("relaxed.test", "k");
        let sealer = DkimKey::rsa("lists.test", "arc", 2048);
        let mut loops = Zone::new("spf-loop.test");
        for i in 0..12 {
            loops = loops.txt(
                &format!("l{i}"),
                &format!("v=spf1 include:l{}.spf-loop.test -all", i + 1),
            );
        }
        loops = loops
            .txt("@", "v=spf1 include:l0.spf-loop.test -all")
            .txt("l12", "v=spf1 -all");
        let zones = vec![
            // The parent of every test zone: DMARC's tree walk asks it too,
            // and an authoritative answer (NXDOMAIN) is what a recursive
            // resolver would give.
            Zone::new("test"),
            Zone::new("spf-fail.test")
                .txt("@", &format!("v=spf1 ip4:{GOOD_IP} -all"))
                .record("@", "MX", "10 mx.spf-fail.test.")
                .record("mx", "A", GOOD_IP),
            Zone::new("spf-soft.test").txt("@", &format!("v=spf1 ip4:{GOOD_IP} ~all")),
            Zone::new("spf-neutral.test").txt("@", "v=spf1 ?all"),
            Zone::new("spf-include.test")
                .txt("@", "v=spf1 include:_spf.spf-include.test -all")
                .txt("_spf", "v=spf1 include:_spf2.spf-include.test -all")
                .txt("_spf2", "v=spf1 ip4:203.0.113.0/24 -all"),
            loops,
            Zone::new("spf-none.test").record("@", "A", GOOD_IP),
            Zone::new("dkim.test")
                .txt("@", &format!("v=spf1 ip4:{GOOD_IP} -all"))
                .record("@", "MX", "10 mx.dkim.test.")
                .record("mx", "A", GOOD_IP)
                .txt("_dmarc", "v=DMARC1; p=reject")
                .dkim_key(&rsa)
                .dkim_key(&ed),
            Zone::new("p-none.test")
                .txt("_dmarc", "v=DMARC1; p=none")
                .record("@", "MX", "10 mx.p-none.test.")
                .record("mx", "A", GOOD_IP)
                .dkim_key(&none_key),
            Zone::new("p-quarantine.test")
                .txt("_dmarc", "v=DMARC1; p=quarantine")
                .record("@", "A", GOOD_IP)
                .dkim_key(&quarantine_key),
            Zone::new("p-reject.test")
                .txt("_dmarc", "v=DMARC1; p=reject; sp=none")
                .txt("@", &format!("v=spf1 ip4:{GOOD_IP} -all"))
                .record("@", "A", GOOD_IP)
                .record("sub", "A", GOOD_IP)
                .dkim_key(&reject_key),
            Zone::new("strict.test")
                .txt("_dmarc", "v=DMARC1; p=reject; adkim=s; aspf=s")
                .record("@", "A", GOOD_IP)
                .record("mail", "A", GOOD_IP)
                .dkim_key(&strict_key),
            Zone::new("relaxed.test")
                .txt("_dmarc", "v=DMARC1; p=reject")
                .record("@", "A", GOOD_IP)
                .record("mail", "A", GOOD_IP)
                .dkim_key(&relaxed_key),
            Zone::new("other.test")
                .txt("@", &format!("v=spf1 ip4:{GOOD_IP} -all"))
                .record("@", "A", GOOD_IP),
            Zone::new("lists.test")
                .record("@", "MX", "10 mx.lists.test.")
                .record("mx", "A", GOOD_IP)
                .dkim_key(&sealer),
            // Exists, but no MX and no address: takes no mail.
            Zone::new("nomx.test").txt("@", "v=spf1 -all"),
            // A null MX (RFC 7505).
            Zone::new("nullmx.test").record("@", "MX", "0 ."),
            // No MX, an address: mail falls back to it.
            Zone::new("aonly.test").record("@", "A", GOOD_IP),
        ];
        let server = KnotServer::start(&zones).unwrap_or_else(|e| {
            panic!("these tests need a real DNS server and could not start one: {e}")
        });
        World {
            server,
            rsa,
            ed,
            unpublished,
            none_key,
            quarantine_key,
            reject_key,
            strict_key,
            relaxed_key,
            sealer,
        }
    })
}

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let mut c = VerifierConfig::new(world().server.addr());
        c.trusted_arc_sealers = vec!["lists.test".into()];
        c.authserv_id = "mx.receiver.test".into();
        Verifier::new(c).expect("verifier builds")
    })
}

fn message(from: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: Alice <{from}>\r\nTo: bob@receiver.test\r\nSubject: {subject}\r\n\
         Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@example.test>\r\n\r\n\
         Please find the quarterly figures attached.\r\n"
    )
    .into_bytes()
}

fn subject(ip: &str, mail_from: &str, from_domain: &str) -> Subject {
    Subject {
        client_ip: Some(ip.parse::<IpAddr>().unwrap()),
        helo: Some("mx.sender.test".into()),
        mail_from: (!mail_from.is_empty()).then(|| mail_from.to_string()),
        from_domain: Some(from_domain.into()),
    }
}

fn verify(bytes: &[u8], s: &Subject) -> Enrichment {
    verifier()
        .verify_blocking(bytes, s)
        .expect("verification runs")
}

fn spf_of(ip: &str, domain: &str) -> AuthResult {
    let m = message(&format!("a@{domain}"), "SPF");
    verify(&m, &subject(ip, &format!("bounce@{domain}"), domain))
        .auth
        .spf
}

fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let s = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(s.contains(from), "the message holds {from:?}");
    s.replacen(from, to, 1).into_bytes()
}

#[test]
fn spf_results_match_the_zone_for_pass_fail_softfail_neutral_and_none() {
    assert_eq!(spf_of(GOOD_IP, "spf-fail.test"), AuthResult::Pass);
    assert_eq!(spf_of(OTHER_IP, "spf-fail.test"), AuthResult::Fail);
    assert_eq!(spf_of(OTHER_IP, "spf-soft.test"), AuthResult::SoftFail);
    assert_eq!(spf_of(OTHER_IP, "spf-neutral.test"), AuthResult::Neutral);
    assert_eq!(spf_of(OTHER_IP, "spf-none.test"), AuthResult::None);
}

#[test]
fn spf_follows_an_include_chain_and_refuses_more_than_ten_lookups() {
    assert_eq!(spf_of(INCLUDED_IP, "spf-include.test"), AuthResult::Pass);
    assert_eq!(spf_of(OTHER_IP, "spf-include.test"), AuthResult::Fail);
    assert_eq!(spf_of(GOOD_IP, "spf-loop.test"), AuthResult::PermError);
}

#[test]
fn spf_checks_the_helo_name_for_the_null_sender_and_names_it() {
    let m = message("a@spf-fail.test", "bounce");
    let mut s = subject(OTHER_IP, "", "spf-fail.test");
    s.helo = Some("spf-fail.test".into());
    let e = verify(&m, &s);
    assert_eq!(e.auth.spf, AuthResult::Fail);
    assert_eq!(e.spf_helo.as_deref(), Some("spf-fail.test"));
    assert_eq!(e.auth.spf_mailfrom.as_deref(), Some("spf-fail.test"));
}

#[test]
fn rsa_and_ed25519_signatures_pass_with_their_domain_and_selector() {
    let w = world();
    let m = message("alice@dkim.test", "Quarterly figures");
    let signed = w.ed.sign(&w.rsa.sign(&m).unwrap()).unwrap();
    let e = verify(&signed, &subject(GOOD_IP, "bounce@dkim.test", "dkim.test"));
    assert_eq!(e.auth.source, AuthSource::Live);
    assert_eq!(e.auth.dkim.len(), 2, "{:?}", e.auth.dkim);
    let mut got: Vec<(AuthResult, Option<&str>, Option<&str>)> = e
        .auth
        .dkim
        .iter()
        .map(|d| (d.result, d.domain.as_deref(), d.selector.as_deref()))
        .collect();
    got.sort_by_key(|g| g.2.map(str::to_string));
    assert_eq!(
        got,
        [
            (AuthResult::Pass, Some("dkim.test"), Some("e1")),
            (AuthResult::Pass, Some("dkim.test"), Some("r1")),
        ]
    );
    assert_eq!(e.auth.dmarc, AuthResult::Pass);
    assert_eq!(e.auth.dmarc_policy, Some(DmarcPolicy::Reject));
    assert_eq!(e.auth.dmarc_header_from.as_deref(), Some("dkim.test"));
}

#[test]
fn a_tampered_body_or_header_fails_every_signature() {
    let w = world();
    let m = message("alice@dkim.test", "Quarterly figures");
    let signed = w.ed.sign(&w.rsa.sign(&m).unwrap()).unwrap();
    let s = subject(OTHER_IP, "bounce@other.test", "dkim.test");
    for tampered in [
        replace(&signed, "quarterly figures", "new bank details"),
        replace(
            &signed,
            "Subject: Quarterly figures",
            "Subject: Urgent wire",
        ),
    ] {
        let e = verify(&tampered, &s);
        assert_eq!(e.auth.dkim.len(), 2);
        assert!(
            e.auth.dkim.iter().all(|d| d.result == AuthResult::Fail),
            "{:?}",
            e.auth.dkim
        );
        // Nothing aligned passes: DMARC fails under the zone's p=reject.
        assert_eq!(e.auth.dmarc, AuthResult::Fail);
        assert_eq!(e.auth.dmarc_policy, Some(DmarcPolicy::Reject));
    }
}

#[test]
fn a_signature_whose_key_is_not_published_is_a_permanent_error() {
    let w = world();
    let signed = w
        .unpublished
        .sign(&message("alice@dkim.test", "Hello"))
        .unwrap();
    let e = verify(&signed, &subject(GOOD_IP, "bounce@dkim.test", "dkim.test"));
    assert_eq!(e.auth.dkim.len(), 1);
    assert_eq!(e.auth.dkim[0].result, AuthResult::PermError);
    assert_eq!(e.auth.dkim[0].selector.as_deref(), Some("gone"));
    // SPF still passes and aligns.
    assert_eq!(e.auth.dmarc, AuthResult::Pass);
}

#[test]
fn dmarc_reports_each_policy_the_zone_publishes_when_nothing_aligns() {
    let w = world();
    for (domain, policy) in [
        ("p-none.test", DmarcPolicy::None),
        ("p-quarantine.test", DmarcPolicy::Quarantine),
        ("p-reject.test", DmarcPolicy::Reject),
    ] {
        let m = message(&format!("ceo@{domain}"), "Wire today");
        let e = verify(&m, &subject(GOOD_IP, "bounce@other.test", domain));
        assert_eq!(e.auth.spf, AuthResult::Pass, "{domain}");
        assert_eq!(e.auth.dmarc, AuthResult::Fail, "{domain}");
        assert_eq!(e.auth.dmarc_policy, Some(policy), "{domain}");
        assert_eq!(e.auth.dmarc_header_from.as_deref(), Some(domain));
    }
    // And each passes when its own key signs.
    for key in [&w.none_key, &w.quarantine_key, &w.reject_key] {
        let m = key
            .sign(&message(&format!("ceo@{}", key.domain), "Hi"))
            .unwrap();
        let e = verify(&m, &subject(OTHER_IP, "bounce@other.test", &key.domain));
        assert_eq!(e.auth.dmarc, AuthResult::Pass, "{}", key.domain);
    }
}

#[test]
fn a_subdomain_gets_the_organisational_domains_sp_policy() {
    let m = message("ceo@sub.p-reject.test", "Wire today");
    let e = verify(
        &m,
        &subject(GOOD_IP, "bounce@other.test", "sub.p-reject.test"),
    );
    assert_eq!(e.auth.dmarc, AuthResult::Fail);
    assert_eq!(e.auth.dmarc_policy, Some(DmarcPolicy::None));
    assert_eq!(
        e.auth.dmarc_header_from.as_deref(),
        Some("sub.p-reject.test")
    );
    // SPF of the organisational domain aligns (relaxed) with the subdomain.
    let e = verify(
        &m,
        &subject(GOOD_IP, "bounce@p-reject.test", "sub.p-reject.test"),
    );
    assert_eq!(e.auth.dmarc, AuthResult::Pass);
}

#[test]
fn strict_alignment_refuses_a_parent_domain_signature_that_relaxed_accepts() {
    let w = world();
    let strict = w
        .strict_key
        .sign(&message("ceo@mail.strict.test", "Hi"))
        .unwrap();
    let e = verify(
        &strict,
        &subject(OTHER_IP, "bounce@other.test", "mail.strict.test"),
    );
    assert_eq!(e.auth.dkim[0].result, AuthResult::Pass);
    assert_eq!(e.auth.dmarc, AuthResult::Fail);
    let relaxed = w
        .relaxed_key
        .sign(&message("ceo@mail.relaxed.test", "Hi"))
        .unwrap();
    let e = verify(
        &relaxed,
        &subject(OTHER_IP, "bounce@other.test", "mail.relaxed.test"),
    );
    assert_eq!(e.auth.dkim[0].result, AuthResult::Pass);
    assert_eq!(e.auth.dmarc, AuthResult::Pass);
}

fn status(e: &Enrichment, domain: &str) -> DomainStatus {
    e.domains
        .iter()
        .find(|d| d.domain == domain)
        .cloned()
        .unwrap_or_else(|| panic!("{domain} was looked up: {:?}", e.domains))
}

#[test]
fn nxdomain_no_mail_host_null_mx_and_address_fallback_match_the_zone() {
    let cases = [
        ("ghost.dkim.test", Some(false), Some(false)),
        ("nomx.test", Some(true), Some(false)),
        ("nullmx.test", Some(true), Some(false)),
        ("aonly.test", Some(true), Some(true)),
        ("dkim.test", Some(true), Some(true)),
    ];
    for (domain, exists, accepts) in cases {
        let m = message(&format!("x@{domain}"), "Hi");
        let e = verify(&m, &subject(OTHER_IP, "bounce@lists.test", domain));
        let s = status(&e, domain);
        assert_eq!((s.exists, s.accepts_mail), (exists, accepts), "{domain}");
        let env = status(&e, "lists.test");
        assert_eq!((env.exists, env.accepts_mail), (Some(true), Some(true)));
    }
}

#[test]
fn an_arc_seal_by_a_published_sealer_verifies_and_a_broken_one_fails() {
    let w = world();
    let signed = w
        .rsa
        .sign(&message("alice@dkim.test", "List post"))
        .unwrap();
    let sealed = w
        .sealer
        .seal(&signed, "mx.lists.test", &ArcOutput::default())
        .unwrap();
    let s = subject(OTHER_IP, "bounce@lists.test", "dkim.test");
    let e = verify(&sealed, &s);
    assert_eq!(e.auth.arc, AuthResult::Pass);
    assert_eq!(e.arc_sealers, ["lists.test"]);
    assert!(e.arc_trusted_sealer);
    // The list changed the subject after sealing: the seal no longer covers it.
    let broken = replace(&sealed, "Subject: List post", "Subject: [list] List post");
    let e = verify(&broken, &s);
    assert_eq!(e.auth.arc, AuthResult::Fail);
    assert!(!e.arc_trusted_sealer);
    // A sealer that is not trusted still verifies, but vouches for nothing.
    let mut c = VerifierConfig::new(w.server.addr());
    c.trusted_arc_sealers = vec!["other.test".into()];
    let untrusted = Verifier::new(c).unwrap();
    let e = untrusted.verify_blocking(&sealed, &s).unwrap();
    assert_eq!(e.auth.arc, AuthResult::Pass);
    assert!(!e.arc_trusted_sealer);
}

/// Nothing in an outage may read as a failure: no false spoof.
fn assert_nothing_fails(e: &Enrichment) {
    let bad = [
        AuthResult::Fail,
        AuthResult::SoftFail,
        AuthResult::PermError,
    ];
    assert!(!bad.contains(&e.auth.spf), "spf {:?}", e.auth.spf);
    assert!(
        e.auth.dkim.iter().all(|d| !bad.contains(&d.result)),
        "{:?}",
        e.auth.dkim
    );
    assert!(!bad.contains(&e.auth.dmarc), "dmarc {:?}", e.auth.dmarc);
    assert!(!bad.contains(&e.auth.arc), "arc {:?}", e.auth.arc);
    assert!(
        e.domains
            .iter()
            .all(|d| d.exists.is_none() && d.accepts_mail.is_none()),
        "{:?}",
        e.domains
    );
}

fn outage_config(addr: std::net::SocketAddr) -> VerifierConfig {
    let mut c = VerifierConfig::new(addr);
    c.timeout = Duration::from_millis(200);
    c.attempts = 1;
    c
}

#[test]
fn a_resolver_at_a_closed_port_gives_temperror_and_no_failure() {
    let w = world();
    let port = free_port().unwrap();
    let v = Verifier::new(outage_config(([127, 0, 0, 1], port).into())).unwrap();
    let signed = w.rsa.sign(&message("alice@dkim.test", "Hi")).unwrap();
    let sealed = w
        .sealer
        .seal(&signed, "mx.lists.test", &ArcOutput::default())
        .unwrap();
    let started = Instant::now();
    let e = v
        .verify_blocking(
            &sealed,
            &subject(OTHER_IP, "bounce@spf-fail.test", "p-reject.test"),
        )
        .unwrap();
    assert_nothing_fails(&e);
    assert_eq!(e.auth.spf, AuthResult::TempError);
    assert_eq!(e.auth.dkim[0].result, AuthResult::TempError);
    assert_eq!(e.auth.dmarc, AuthResult::TempError);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_server_that_stops_gives_temperror_and_no_failure() {
    let w = world();
    let mut server = KnotServer::start(&[
        Zone::new("test"),
        Zone::new("p-reject.test")
            .txt("_dmarc", "v=DMARC1; p=reject")
            .txt("@", &format!("v=spf1 ip4:{GOOD_IP} -all")),
    ])
    .expect("a second server starts");
    let v = Verifier::new(outage_config(server.addr())).unwrap();
    let m = message("ceo@p-reject.test", "Wire today");
    let s = subject(OTHER_IP, "bounce@p-reject.test", "p-reject.test");
    // While it runs, the zone's truth: SPF fail, DMARC fail under p=reject.
    let before = v.verify_blocking(&m, &s).unwrap();
    assert_eq!(before.auth.spf, AuthResult::Fail);
    assert_eq!(before.auth.dmarc, AuthResult::Fail);
    server.stop();
    // A fresh verifier (nothing cached) after the server stopped.
    let v = Verifier::new(outage_config(server.addr())).unwrap();
    let signed = w.ed.sign(&m).unwrap();
    let e = v.verify_blocking(&signed, &s).unwrap();
    assert_nothing_fails(&e);
    assert_eq!(e.auth.spf, AuthResult::TempError);
    assert_eq!(e.auth.dmarc, AuthResult::TempError);
}

#[test]
fn a_file_without_an_envelope_is_checked_from_its_boundary_hop_and_return_path() {
    let w = world();
    let signed = w.rsa.sign(&message("alice@dkim.test", "Hi")).unwrap();
    let mut file = format!(
        "Return-Path: <bounce@dkim.test>\r\n\
         Received: from mx.dkim.test (mx.dkim.test [{GOOD_IP}]) by mx.receiver.test with ESMTPS id 1; Fri, 04 Dec 2026 10:00:01 +0000\r\n"
    )
    .into_bytes();
    file.extend_from_slice(&signed);
    let ctx = Context::builder(OrgProfile::default()).build().unwrap();
    let view = MessageView::parse(&file, &Envelope::default(), &ctx).unwrap();
    let s = Subject::from_view(&view, &Envelope::default());
    assert_eq!(s.client_ip, Some(GOOD_IP.parse().unwrap()));
    assert_eq!(s.helo.as_deref(), Some("mx.dkim.test"));
    assert_eq!(s.mail_from.as_deref(), Some("bounce@dkim.test"));
    let e = verifier()
        .verify_view_blocking(&file, &view, &Envelope::default())
        .unwrap();
    // A hop named only by its address literal gives no HELO name to check.
    let literal = String::from_utf8(file.clone())
        .unwrap()
        .replace("from mx.dkim.test (mx.dkim.test [", "from [192.0.2.99] ([");
    let lview = MessageView::parse(literal.as_bytes(), &Envelope::default(), &ctx).unwrap();
    let ls = Subject::from_view(&lview, &Envelope::default());
    assert_eq!(ls.client_ip, Some(GOOD_IP.parse().unwrap()));
    assert_eq!(ls.helo, None);
    assert_eq!(e.auth.spf, AuthResult::Pass);
    assert_eq!(e.auth.dkim[0].result, AuthResult::Pass);
    assert_eq!(e.auth.dmarc, AuthResult::Pass);
}

#[test]
fn the_async_api_agrees_with_the_blocking_one() {
    let w = world();
    let signed = w.ed.sign(&message("alice@dkim.test", "Hi")).unwrap();
    let s = subject(GOOD_IP, "bounce@dkim.test", "dkim.test");
    let blocking = verify(&signed, &s);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let v = Arc::new(Verifier::new(VerifierConfig::new(w.server.addr())).unwrap());
    let live = rt
        .block_on(v.verify(signed.clone().into(), s.clone()))
        .unwrap();
    assert_eq!(live, blocking);
    // The caller's runtime is gone; the verifier's connections are not.
    drop(rt);
    assert_eq!(v.verify_blocking(&signed, &s).unwrap(), blocking);
}

#[test]
fn a_warm_cache_answers_without_asking_the_server_again() {
    let key = DkimKey::ed25519("cached.test", "k");
    let mut server = KnotServer::start(&[
        Zone::new("test"),
        Zone::new("cached.test")
            .txt("@", &format!("v=spf1 ip4:{GOOD_IP} -all"))
            .txt("_dmarc", "v=DMARC1; p=reject")
            .record("@", "MX", "10 mx.cached.test.")
            .record("mx", "A", GOOD_IP)
            .dkim_key(&key),
    ])
    .expect("a server for the cache test starts");
    let v = Verifier::new(outage_config(server.addr())).unwrap();
    let signed = key.sign(&message("alice@cached.test", "Hi")).unwrap();
    let s = subject(GOOD_IP, "bounce@cached.test", "cached.test");
    let cold = v.verify_blocking(&signed, &s).unwrap();
    assert_eq!(cold.auth.dkim[0].result, AuthResult::Pass);
    assert_eq!(cold.auth.spf, AuthResult::Pass);
    assert_eq!(cold.auth.dmarc, AuthResult::Pass);
    // The server is gone: only the cache can still answer.
    server.stop();
    assert_eq!(v.verify_blocking(&signed, &s).unwrap(), cold);
}

#[test]
fn a_message_with_hundreds_of_signatures_costs_at_most_sixteen_checks() {
    let mut m = Vec::new();
    for i in 0..300 {
        m.extend_from_slice(
            format!(
                "DKIM-Signature: v=1; a=rsa-sha256; d=dkim.test; s=missing{i}; c=relaxed/relaxed; \
                 h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n"
            )
            .as_bytes(),
        );
    }
    m.extend_from_slice(&message("alice@dkim.test", "Hi"));
    let started = Instant::now();
    let e = verify(&m, &subject(GOOD_IP, "bounce@dkim.test", "dkim.test"));
    assert!(
        e.auth.dkim.len() <= impostor_auth::verifier::MAX_DKIM_SIGNATURES,
        "{}",
        e.auth.dkim.len()
    );
    assert!(e.auth.dkim.iter().all(|d| d.result != AuthResult::Pass));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn garbage_and_headerless_input_verifies_nothing_and_fails_nothing() {
    let s = subject(OTHER_IP, "bounce@p-reject.test", "p-reject.test");
    for bytes in [
        &b""[..],
        b"\x00\xff\xfe garbage without any header",
        b"From \x00\r\n\r\n",
        b"DKIM-Signature: v=1; d=\xff\xfe; s=\x00\r\n\r\nbody",
        b"ARC-Seal: i=1; cv=none; a=rsa-sha256; d=lists.test; s=arc; b=\r\n\r\n",
    ] {
        let e = verify(bytes, &s);
        assert!(
            e.auth.dkim.iter().all(|d| d.result != AuthResult::Pass),
            "{:?}",
            e.auth.dkim
        );
        assert_ne!(e.auth.dmarc, AuthResult::Pass);
        assert_ne!(e.auth.arc, AuthResult::Pass);
    }
}

#[test]
fn a_resolver_that_never_answers_is_cut_off_at_the_message_time_limit() {
    let w = world();
    // Bound but silent: queries are received and never answered.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = udp.local_addr().unwrap();
    let _tcp = std::net::TcpListener::bind(addr).ok();
    let mut c = VerifierConfig::new(addr);
    c.timeout = Duration::from_secs(5);
    c.message_timeout = Duration::from_millis(300);
    let v = Verifier::new(c).unwrap();
    let signed = w.ed.sign(&message("ceo@p-reject.test", "Wire")).unwrap();
    let started = Instant::now();
    let e = v
        .verify_blocking(
            &signed,
            &subject(OTHER_IP, "bounce@p-reject.test", "p-reject.test"),
        )
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_nothing_fails(&e);
    assert_eq!(e.auth.spf, AuthResult::TempError);
    assert_eq!(e.auth.dkim.len(), 1);
    assert_eq!(e.auth.dkim[0].result, AuthResult::TempError);
    assert_eq!(e.auth.dmarc, AuthResult::TempError);
    drop(udp);
}

#[test]
fn a_verifier_dropped_inside_an_async_task_does_not_panic() {
    // A model reload can drop the last engine (and its verifier) in a task.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let v = Arc::new(Verifier::new(VerifierConfig::new(world().server.addr())).unwrap());
        let s = subject(GOOD_IP, "bounce@dkim.test", "dkim.test");
        let e = v
            .verify(message("alice@dkim.test", "Hi").into(), s)
            .await
            .unwrap();
        assert_eq!(e.auth.spf, AuthResult::Pass);
        drop(v);
    });
}
