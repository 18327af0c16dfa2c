//! What the org profile says it owns: mail for its report mailbox alone
//! (the security desk) reaches no victim (the flag reads the SMTP
//! recipients when the gateway gives them, else To and Cc), and a link to
//! one of its own SaaS tenants does not borrow its name.

mod support;
use impostor_features::{Envelope, Extractor, Feature, Inputs};
use support::{ctx, dump, run, value};

/// An employee's forward of a lure to `to` (the fixture builder always
/// adds a To of its own, so this one is written out).
struct Forward(Vec<u8>);

fn forward(to: &str) -> Forward {
    Forward(
        format!(
            "From: Ann Lee <a.lee@kestrelfoods.com>\r\nTo: {to}\r\nSubject: Fwd: Verify your mailbox now\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\n\r\nIs this real?\r\n\r\n---------- Forwarded message ---------\r\nVerify your account at https://bit.ly/x\r\n"
        )
        .into_bytes(),
    )
}

impl Forward {
    fn run(
        &self,
    ) -> (
        impostor_features::MessageView,
        impostor_features::Extraction,
    ) {
        run(ctx(), &self.0)
    }

    fn bytes(&self) -> Vec<u8> {
        self.0.clone()
    }
}

#[test]
fn a_forward_only_to_the_security_desk_is_a_report() {
    let (_, x) = forward("Security <security@kestrelfoods.com>").run();
    assert_eq!(value(&x, Feature::OnlyToReportMailbox), 1.0, "{}", dump(&x));
}

#[test]
fn a_colleague_beside_the_security_desk_makes_it_mail_with_a_reader() {
    let (_, x) = forward("security@kestrelfoods.com, b.wong@kestrelfoods.com").run();
    assert_eq!(value(&x, Feature::OnlyToReportMailbox), 0.0, "{}", dump(&x));
}

#[test]
// Envelope and Inputs are #[non_exhaustive]: no struct expression outside
// their crate.
#[allow(clippy::field_reassign_with_default)]
fn the_smtp_recipients_win_over_the_headers_the_sender_wrote() {
    // To names the desk, but the MTA delivers to a colleague: not a report.
    let bytes = forward("security@kestrelfoods.com").bytes();
    let with_rcpt = |rcpt: &str| {
        let mut envelope = Envelope::default();
        envelope.rcpt = vec![rcpt.to_string()];
        let mut inputs = Inputs::default();
        inputs.envelope = envelope;
        inputs
    };
    let inputs = with_rcpt("<b.wong@kestrelfoods.com>");
    let (_, x) = Extractor::new(ctx())
        .extract_bytes(&bytes, &inputs)
        .unwrap();
    assert_eq!(value(&x, Feature::OnlyToReportMailbox), 0.0, "{}", dump(&x));
    let inputs = with_rcpt("<Security@KestrelFoods.com>");
    let bytes = forward("b.wong@kestrelfoods.com").bytes();
    let (_, x) = Extractor::new(ctx())
        .extract_bytes(&bytes, &inputs)
        .unwrap();
    assert_eq!(value(&x, Feature::OnlyToReportMailbox), 1.0, "{}", dump(&x));
}

#[test]
fn a_link_to_the_orgs_own_tenant_does_not_borrow_its_name() {
    let ctx = impostor_features::Context::builder(
        impostor_features::OrgProfile::from_toml(
            &format!(
                "{}\ntenant_hosts = [\"kestrelfoods.okta.com\"]\n",
                org_head()
            ),
            std::path::Path::new("t.toml"),
        )
        .unwrap(),
    )
    .build()
    .unwrap();
    let mail = |host: &str| {
        format!(
            "From: IT <it@kestrelfoods.com>\r\nTo: b.wong@kestrelfoods.com\r\nSubject: MFA\r\n\r\nEnrol at https://{host}/enrol\r\n"
        )
        .into_bytes()
    };
    let (_, own) = run(&ctx, &mail("kestrelfoods.okta.com"));
    assert_eq!(
        value(&own, Feature::LinkBrandUnrelatedHostCount),
        0.0,
        "{}",
        dump(&own)
    );
    let (_, other) = run(&ctx, &mail("kestrelfoods.okta-login.com"));
    assert_eq!(
        value(&other, Feature::LinkBrandUnrelatedHostCount),
        1.0,
        "{}",
        dump(&other)
    );
    let (_, under) = run(&ctx, &mail("login.kestrelfoods.okta.com"));
    assert_eq!(
        value(&under, Feature::LinkBrandUnrelatedHostCount),
        0.0,
        "{}",
        dump(&under)
    );
}

/// The test org's keys before its `[[vip]]` tables.
fn org_head() -> &'static str {
    support::ORG.split("[[vip]]").next().unwrap_or_default()
}

#[test]
fn an_internal_credential_notice_is_a_lure_only_when_its_link_leaves_the_org() {
    let notice = |link: &str| {
        support::Mail::from("IT Desk <it@kestrelfoods.com>")
            .auth("mx.kestrelfoods.com; spf=pass smtp.mailfrom=kestrelfoods.com; dkim=pass header.d=kestrelfoods.com; dmarc=pass header.from=kestrelfoods.com")
            .received(support::INTERNAL_HOP)
            .return_path("<it@kestrelfoods.com>")
            .subject("Your password expires in 3 days")
            .body(&format!("Your password expires soon. Verify your account and reset your password at {link}\n"))
    };
    let (_, own) = notice("https://sso.kestrelfoods.com/reset").run();
    assert_eq!(
        value(&own, Feature::InternalAuthenticatedSender),
        1.0,
        "{}",
        dump(&own)
    );
    assert_eq!(
        value(&own, Feature::InternalSenderLure),
        0.0,
        "{}",
        dump(&own)
    );
    let (_, away) = notice("https://kestrel-reset.example.net/reset").run();
    assert_eq!(
        value(&away, Feature::InternalSenderLure),
        1.0,
        "{}",
        dump(&away)
    );
}
