//! The trust chain: which Authentication-Results and Received-SPF fields are
//! believed. Only fields the org's own receivers prepended above the trust
//! boundary (the hop where a trusted host took the message from outside)
//! count, the topmost winning, and a DMARC pass counts only for the
//! displayed From domain.

mod support;

use impostor_features::{
    AuthResult, Context, Extraction, Extractor, Feature, Inputs, MessageView, OrgProfile, Technique,
};
use std::path::Path;
use std::sync::OnceLock;
use support::{dump, value, Mail, EXTERNAL_HOP, INTERNAL_HOP};

/// Kestrel Foods with Microsoft 365 in front of its Japanese office.
const ORG: &str = r#"
name = "Kestrel Foods"
internal_domains = ["kestrelfoods.com", "kestrelfoods.co.jp"]
trusted_authserv_ids = ["mx.kestrelfoods.com"]
trusted_receivers = ["mail.protection.outlook.com"]
trusted_arc_sealers = ["google.com"]
protected_domains = ["kestrelfoods.com", "coldchain-partners.eu"]
"#;

fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        let org = OrgProfile::from_toml(ORG, Path::new("trust-org.toml")).expect("org loads");
        Context::builder(org).build().expect("context builds")
    })
}

fn run_with(ctx: &Context, mail: &Mail) -> (MessageView, Extraction) {
    Extractor::new(ctx)
        .extract_bytes(&mail.bytes(), &Inputs::default())
        .unwrap_or_else(|e| panic!("message does not parse: {e}"))
}

fn run(mail: &Mail) -> (MessageView, Extraction) {
    run_with(ctx(), mail)
}

const DANIEL: &str = "Daniel Brandt <d.brandt@kestrelfoods.com>";
const SUPPLIER: &str = "Billing <billing@supplier.example>";

/// A Microsoft 365 front end taking mail from the sender's server.
const M365_HOP: &str = "from mail.supplier.example (mail.supplier.example [198.51.100.7])\n\
     \tby AM4PEPF00027A5F.mail.protection.outlook.com (10.167.16.5) with Microsoft SMTP Server;\n\
     \tTue, 2 Jan 2024 09:59:58 +0000";

#[test]
fn a_forged_authentication_results_below_the_boundary_is_ignored() {
    // The attacker wrote a passing verdict for the org's own domain into
    // the message; the org's MX received it from outside and wrote its own.
    let mail = Mail::from(DANIEL)
        .auth("mx.kestrelfoods.com; spf=softfail smtp.mailfrom=kestrelfoods.com; dkim=none")
        .received(EXTERNAL_HOP)
        .auth(
            "mx.kestrelfoods.com; spf=pass smtp.mailfrom=kestrelfoods.com;\n\
             \tdkim=pass header.d=kestrelfoods.com; dmarc=pass header.from=kestrelfoods.com",
        )
        .subject("Quick task");
    let (view, x) = run(&mail);
    assert_eq!(view.auth.spf, AuthResult::SoftFail);
    assert!(
        view.auth.dkim.iter().all(|d| d.result != AuthResult::Pass),
        "{:?}",
        view.auth.dkim
    );
    assert_eq!(
        view.auth.dmarc,
        AuthResult::None,
        "the forged DMARC pass was read"
    );
    assert_eq!(value(&x, Feature::AuthDmarcPass), 0.0);
    assert_eq!(value(&x, Feature::AuthDkimPass), 0.0);
    assert_eq!(
        value(&x, Feature::InternalDomainExternalRoute),
        1.0,
        "{}",
        dump(&x)
    );
    assert_eq!(value(&x, Feature::InternalAuthenticatedSender), 0.0);
}

#[test]
fn a_forged_authentication_results_alone_below_the_boundary_gives_no_verdict_at_all() {
    let mail = Mail::from(DANIEL)
        .received(EXTERNAL_HOP)
        .auth("mx.kestrelfoods.com; dkim=pass header.d=kestrelfoods.com; dmarc=pass header.from=kestrelfoods.com")
        .subject("Quick task");
    let (view, x) = run(&mail);
    assert!(!view.auth.trusted_header_seen);
    assert_eq!(
        value(&x, Feature::InternalDomainExternalRoute),
        1.0,
        "{}",
        dump(&x)
    );
}

#[test]
fn the_topmost_trusted_authentication_results_wins_and_dkim_is_not_merged() {
    // An internal filter re-checked the message after the MX: its verdict,
    // the topmost, is the one that counts, DKIM results included.
    let mail = Mail::from(SUPPLIER)
        .auth("mx.kestrelfoods.com; dkim=fail header.d=supplier.example")
        .auth(
            "mx.kestrelfoods.com; dkim=pass header.d=supplier.example;\n\
             \tdkim=pass header.d=esp.example; dmarc=pass header.from=supplier.example",
        )
        .received(EXTERNAL_HOP)
        .subject("Invoice");
    let (view, x) = run(&mail);
    assert_eq!(view.auth.dkim.len(), 1, "{:?}", view.auth.dkim);
    assert_eq!(value(&x, Feature::AuthDkimFail), 1.0, "{}", dump(&x));
    assert_eq!(value(&x, Feature::AuthDkimPass), 0.0);
    // DMARC only the lower field reported: the topmost field holding it wins.
    assert_eq!(value(&x, Feature::AuthDmarcPass), 1.0);
}

#[test]
fn an_untrusted_authserv_id_above_the_boundary_is_still_ignored() {
    let mail = Mail::from(SUPPLIER)
        .auth("filter.evil.example; dmarc=pass header.from=supplier.example")
        .received(EXTERNAL_HOP)
        .subject("Invoice");
    let (view, _) = run(&mail);
    assert!(!view.auth.trusted_header_seen);
    assert_eq!(view.auth.dmarc, AuthResult::None);
}

#[test]
fn received_spf_below_the_boundary_is_ignored() {
    let below = Mail::from(SUPPLIER)
        .return_path("<billing@supplier.example>")
        .received(EXTERNAL_HOP)
        .trace("Received-SPF", "pass (mx.kestrelfoods.com: domain of billing@supplier.example designates 198.51.100.23 as permitted sender) envelope-from=billing@supplier.example")
        .subject("Invoice");
    let (view, x) = run(&below);
    assert_eq!(view.auth.spf, AuthResult::None);
    assert_eq!(value(&x, Feature::AuthSpfPass), 0.0);

    let above = Mail::from(SUPPLIER)
        .return_path("<billing@supplier.example>")
        .trace("Received-SPF", "softfail (mx.kestrelfoods.com: domain of billing@supplier.example does not designate 198.51.100.23) envelope-from=billing@supplier.example")
        .received(EXTERNAL_HOP)
        .subject("Invoice");
    let (view, x) = run(&above);
    assert_eq!(view.auth.spf, AuthResult::SoftFail);
    assert_eq!(
        view.auth.spf_mailfrom.as_deref(),
        Some("billing@supplier.example")
    );
    assert_eq!(value(&x, Feature::AuthSpfFail), 1.0);
}

#[test]
fn received_spf_written_above_an_untrusted_hop_is_ignored() {
    // The topmost hop was received by a host the org does not know: no
    // boundary, so nothing above it can be attributed to the org.
    let hop = "from mail.bulk-sender.example (mail.bulk-sender.example [198.51.100.23])\n\
               \tby relay.unknown-isp.example; Tue, 2 Jan 2024 09:59:58 +0000";
    let mail = Mail::from(SUPPLIER)
        .trace(
            "Received-SPF",
            "pass envelope-from=billing@supplier.example",
        )
        .auth("mx.kestrelfoods.com; spf=pass smtp.mailfrom=supplier.example")
        .received(hop)
        .subject("Invoice");
    let (view, _) = run(&mail);
    assert_eq!(view.auth.spf, AuthResult::None);
    assert_eq!(view.trust_boundary_hop, None);
    assert_eq!(view.first_external_hop, Some(0));
}

#[test]
fn an_authentication_results_without_authserv_id_from_a_trusted_receiver_is_believed() {
    let m365 = "spf=pass (sender IP is 198.51.100.7) smtp.mailfrom=supplier.example;\n\
                \tdkim=pass (signature was verified) header.d=supplier.example;dmarc=pass action=none\n\
                \theader.from=supplier.example;compauth=pass reason=100";
    let mail = Mail::from(SUPPLIER)
        .auth(m365)
        .received(M365_HOP)
        .subject("Invoice");
    let (view, x) = run(&mail);
    assert!(view.auth.trusted_header_seen);
    assert_eq!(
        view.boundary_hop().and_then(|h| h.ip),
        Some("198.51.100.7".parse().unwrap())
    );
    for f in [
        Feature::AuthSpfPass,
        Feature::AuthDkimPass,
        Feature::AuthDmarcPass,
        Feature::AuthCompauthPass,
    ] {
        assert_eq!(value(&x, f), 1.0, "{}: {}", f.name(), dump(&x));
    }

    // The same field below the boundary came with the message.
    let forged = Mail::from(SUPPLIER)
        .received(M365_HOP)
        .auth(m365)
        .subject("Invoice");
    let (view, _) = run(&forged);
    assert!(!view.auth.trusted_header_seen);

    // An org that does not name Microsoft's hosts believes none of it.
    let plain = OrgProfile::from_toml(
        "name = \"K\"\ninternal_domains = [\"kestrelfoods.com\"]\ntrusted_authserv_ids = [\"mx.kestrelfoods.com\"]",
        Path::new("plain.toml"),
    )
    .unwrap();
    let plain = Context::builder(plain).build().unwrap();
    let (view, _) = run_with(&plain, &mail);
    assert!(!view.auth.trusted_header_seen);
}

#[test]
fn a_dmarc_pass_for_another_domain_does_not_authenticate_from() {
    // The verifier evaluated DMARC on the attacker's domain (another From
    // field, say); the reader sees Daniel's internal address.
    let mail = Mail::from(DANIEL)
        .auth(
            "mx.kestrelfoods.com; spf=pass smtp.mailfrom=attacker.example;\n\
             \tdmarc=pass header.from=attacker.example",
        )
        .received(EXTERNAL_HOP)
        .subject("Quick task");
    let (_, x) = run(&mail);
    assert_eq!(value(&x, Feature::AuthDmarcPass), 0.0, "{}", dump(&x));
    assert_eq!(value(&x, Feature::InternalAuthenticatedSender), 0.0);
    assert_eq!(value(&x, Feature::InternalDomainExternalRoute), 1.0);
    assert!(
        x.techniques().contains(&Technique::HeaderFromSpoof),
        "{}",
        dump(&x)
    );

    // Evaluated on Daniel's domain, the same pass authenticates him.
    let genuine = Mail::from(DANIEL)
        .auth("mx.kestrelfoods.com; dmarc=pass header.from=kestrelfoods.com")
        .received(EXTERNAL_HOP)
        .subject("Quick task");
    let (_, x) = run(&genuine);
    assert_eq!(value(&x, Feature::AuthDmarcPass), 1.0);
    assert_eq!(value(&x, Feature::InternalDomainExternalRoute), 0.0);
}

#[test]
fn a_message_without_received_fields_keeps_the_topmost_trusted_results() {
    // Saved by the MTA right after receipt: no route to bound the block.
    let mail = Mail::from(SUPPLIER)
        .auth("mx.kestrelfoods.com; dkim=pass header.d=supplier.example; dmarc=pass header.from=supplier.example")
        .auth("mx.kestrelfoods.com; dkim=fail header.d=supplier.example; dmarc=fail header.from=supplier.example")
        .auth("dkim=fail header.d=supplier.example")
        .subject("Invoice");
    let (view, x) = run(&mail);
    assert_eq!(view.received_count, 0);
    assert_eq!(view.auth.dkim.len(), 1);
    assert_eq!(value(&x, Feature::AuthDkimPass), 1.0);
    assert_eq!(value(&x, Feature::AuthDmarcPass), 1.0);
    assert_eq!(value(&x, Feature::AuthDmarcFail), 0.0);
}

#[test]
fn mail_that_never_left_the_organisation_keeps_its_mx_verdicts() {
    let mail = Mail::from(DANIEL)
        .auth("mx.kestrelfoods.com; dkim=pass header.d=kestrelfoods.com; dmarc=pass header.from=kestrelfoods.com")
        .received(INTERNAL_HOP)
        .subject("Quick task");
    let (view, x) = run(&mail);
    assert_eq!(view.first_external_hop, None);
    assert_eq!(view.trust_boundary_hop, None);
    assert_eq!(
        value(&x, Feature::InternalAuthenticatedSender),
        1.0,
        "{}",
        dump(&x)
    );
}

#[test]
fn a_client_naming_itself_internal_from_a_public_address_is_from_outside() {
    // HELO is the client's word; the receiver recorded no internal name.
    let hop = "from mail.kestrelfoods.com (unknown [198.51.100.66])\n\
               \tby mx.kestrelfoods.com (Postfix) with ESMTP id 4T1;\n\
               \tTue, 2 Jan 2024 09:59:58 +0000";
    let (view, x) = run(&Mail::from(DANIEL).received(hop).subject("Quick task"));
    assert_eq!(view.first_external_hop, Some(0));
    assert_eq!(view.trust_boundary_hop, Some(0));
    assert_eq!(
        value(&x, Feature::InternalDomainExternalRoute),
        1.0,
        "{}",
        dump(&x)
    );
}

#[test]
fn a_received_field_that_does_not_parse_ends_the_trusted_zone() {
    // Nothing can be attributed below a hop that cannot be read.
    let mail = Mail::from(SUPPLIER)
        .received(INTERNAL_HOP)
        .trace("Received", "(((")
        .auth("mx.kestrelfoods.com; dmarc=pass header.from=supplier.example")
        .received(EXTERNAL_HOP)
        .subject("Invoice");
    let (view, _) = run(&mail);
    assert_eq!(view.auth.dmarc, AuthResult::None);
    assert_eq!(view.received_count, 3);
    assert_eq!(view.hops.len(), 1, "the walk went past the unreadable hop");
}

#[test]
fn microsoft_365s_internal_hops_lead_down_to_its_front_end() {
    // A mailbox in Microsoft 365: three hops between Microsoft's own hosts
    // (addresses, HELO names, no reverse names), then the front end that
    // took the message from Google and wrote its verdicts without an id.
    let org = OrgProfile::from_toml(
        "name = \"K\"\ninternal_domains = [\"kestrelfoods.com\"]\ntrusted_receivers = [\"prod.outlook.com\", \"outlook.office365.com\", \"protection.outlook.com\"]",
        Path::new("m365.toml"),
    )
    .unwrap();
    let ctx = Context::builder(org).build().unwrap();
    let mail = Mail::from(SUPPLIER)
        .received("from DM6PR11MB4001.namprd11.prod.outlook.com (2603:10b6:5:3b0::12) by SA1PR11MB8002.namprd11.prod.outlook.com with HTTPS; Tue, 2 Jan 2024 10:00:01 +0000")
        .received("from BN9PR03CA0123.outlook.office365.com (2603:10b6:408:fe::8) by DM6PR11MB4001.namprd11.prod.outlook.com (2603:10b6:5:3b0::12) with Microsoft SMTP Server id 15.20.7; Tue, 2 Jan 2024 10:00:00 +0000")
        .received("from BN8NAM11FT045.eop-nam11.prod.protection.outlook.com (2603:10b6:408:fe:cafe::2f) by BN9PR03CA0123.outlook.office365.com (2603:10b6:408:fe::8) with Microsoft SMTP Server id 15.20.7; Tue, 2 Jan 2024 09:59:59 +0000")
        .auth("spf=pass (sender IP is 209.85.128.41) smtp.mailfrom=supplier.example; dkim=pass (signature was verified) header.d=supplier.example;dmarc=pass action=none header.from=supplier.example;compauth=pass reason=100")
        .trace("Received-SPF", "Pass (protection.outlook.com: domain of supplier.example designates 209.85.128.41 as permitted sender) receiver=protection.outlook.com; client-ip=209.85.128.41; helo=mail-wm1-f41.google.com;")
        .received("from mail-wm1-f41.google.com (209.85.128.41) by BN8NAM11FT045.mail.protection.outlook.com (10.13.177.77) with Microsoft SMTP Server id 15.20.7; Tue, 2 Jan 2024 09:59:58 +0000")
        .subject("Invoice");
    let (view, x) = run_with(&ctx, &mail);
    assert_eq!(view.trust_boundary_hop, Some(3), "{:?}", view.hops);
    assert_eq!(
        view.boundary_hop().and_then(|h| h.ip),
        Some("209.85.128.41".parse().unwrap())
    );
    assert_eq!(value(&x, Feature::AuthDmarcPass), 1.0, "{}", dump(&x));
    assert_eq!(value(&x, Feature::AuthSpfPass), 1.0);

    // The same front end taking a message whose HELO names one of the
    // listed hosts, but whose reverse lookup failed: from outside.
    let trick = Mail::from(SUPPLIER)
        .auth("dmarc=pass action=none header.from=supplier.example")
        .received("from mx.kestrelfoods.com (unknown [198.51.100.9]) by BN8NAM11FT045.mail.protection.outlook.com; Tue, 2 Jan 2024 09:59:58 +0000")
        .auth("dmarc=pass action=none header.from=kestrelfoods.com")
        .received("from x.prod.outlook.com (unknown [198.51.100.9]) by BN8NAM11FT046.mail.protection.outlook.com; Tue, 2 Jan 2024 09:59:57 +0000")
        .subject("Invoice");
    let (view, _) = run_with(&ctx, &trick);
    assert_eq!(view.trust_boundary_hop, Some(0));
    assert_eq!(
        view.auth.dmarc_header_from.as_deref(),
        Some("supplier.example")
    );
}

#[test]
fn an_authenticated_internal_sender_through_a_provider_claims_nothing() {
    // The org's newsletter sent by an ESP: another envelope domain, but
    // DMARC passed for the From the reader sees.
    let esp = Mail::from("Kestrel News <news@kestrelfoods.com>")
        .return_path("<bounce-7@esp-mailer.example>")
        .auth("mx.kestrelfoods.com; spf=pass smtp.mailfrom=esp-mailer.example; dkim=pass header.d=kestrelfoods.com; dmarc=pass header.from=kestrelfoods.com")
        .received(EXTERNAL_HOP)
        .subject("Spring menu");
    let (_, x) = run(&esp);
    assert_eq!(value(&x, Feature::EnvelopeFromDomainMismatch), 1.0);
    assert!(x.techniques().is_empty(), "{}", dump(&x));

    // Without the pass the same envelope is a header-From spoof.
    let spoof = Mail::from("Kestrel News <news@kestrelfoods.com>")
        .return_path("<bounce-7@esp-mailer.example>")
        .auth("mx.kestrelfoods.com; spf=pass smtp.mailfrom=esp-mailer.example; dkim=none; dmarc=fail header.from=kestrelfoods.com")
        .received(EXTERNAL_HOP)
        .subject("Spring menu");
    let (_, x) = run(&spoof);
    assert!(
        x.evidence
            .iter()
            .any(|e| e.feature == Feature::EnvelopeFromDomainMismatch
                && e.technique == Some(Technique::HeaderFromSpoof)),
        "{}",
        dump(&x)
    );
}
