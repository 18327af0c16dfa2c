//! End to end with a real Postfix: a private instance (its own config,
//! queue and Maildir in a temporary directory, listening on loopback only)
//! hands the seed scenarios to `impostor milter`; attacks are rejected at
//! SMTP time, tagged, or held, and genuine mail is delivered untouched.
//! With `--resolver` pointing at a real DNS server (Knot on loopback,
//! zones written by the test), the milter verifies live: a message signed
//! at run time is delivered with the milter's own Authentication-Results
//! (dkim=pass), and one failing DMARC under p=reject is refused at SMTP
//! time.
//!
//! Needs the Debian `postfix` and `knot` packages and root (Postfix's
//! daemons drop to the postfix user; .ci/setup installs both). None is
//! optional: a missing one fails the test rather than skipping it.

#[path = "support/postfix.rs"]
mod postfix;
mod support;

use impostor_auth::loopback::{DkimKey, KnotServer, Zone};
use postfix::{
    delivered_copy, header, postfix_cmd, seeds, smtp_send, smtp_send_as, smtp_send_from, Postfix,
    GENUINE, RCPT,
};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{seed_dir, Milter};

#[test]
fn postfix_rejects_tags_and_holds_attacks_and_delivers_genuine_mail() {
    let started = Instant::now();
    let org = seed_dir().join("org.toml");
    let org = org.to_str().unwrap();
    // 1. Reject at medium, the default flagging level (the default model
    // flags the six attacks; the genuine two stay below low).
    let mut args = vec!["--org", org];
    args.extend(postfix::REJECT_AT_MEDIUM);
    let reject = Milter::start(&args);
    let pf = postfix::rejects_attacks_and_delivers_genuine_mail(&reject);

    // 2. Tag only: the attacks are delivered, labelled.
    let tag = Milter::start(&[
        "--org",
        org,
        "--reject-at",
        "off",
        "--quarantine-at",
        "off",
        "--tag-level",
        "low",
    ]);
    pf.use_milter(tag.addr.port());
    let attacks: Vec<(String, Vec<u8>)> = seeds()
        .into_iter()
        .filter(|(n, _)| !GENUINE.contains(&n.as_str()))
        .collect();
    for (name, raw) in &attacks {
        let (code, text) = smtp_send(pf.port, raw);
        assert_eq!(
            code,
            250,
            "{name} is delivered when rejection is off: {text}\n{}",
            tag.log()
        );
    }
    let delivered = pf.delivered(GENUINE.len() + attacks.len());
    for (name, raw) in &attacks {
        let got = delivered_copy(&delivered, raw, name);
        assert!(
            got.contains("\nX-Impostor-Level: high\n")
                || got.contains("\nX-Impostor-Level: medium\n"),
            "{name} is tagged at the flagging level or above:\n{got}"
        );
        let score = header(got, "X-Impostor-Score", name);
        assert!(
            score.len() == 5 && score.parse::<f64>().is_ok_and(|s| (0.0..=1.0).contains(&s)),
            "{name}: score {score:?} has three decimals in [0, 1]"
        );
        assert!(got.contains("\nX-Impostor-Reasons: "), "{name}:\n{got}");
        let techniques = header(got, "X-Impostor-Techniques", name);
        assert!(
            techniques != "none" && techniques.contains('_'),
            "{name}: {techniques}"
        );
    }

    // 3. Quarantine: the attack is accepted and put on hold (`!` in the queue).
    let hold = Milter::start(&[
        "--org",
        org,
        "--reject-at",
        "off",
        "--quarantine-at",
        "medium",
    ]);
    pf.use_milter(hold.addr.port());
    let (code, text) = smtp_send(pf.port, &attacks[0].1);
    assert_eq!(code, 250, "{text}");
    let c = pf.c();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let queue = postfix_cmd("postqueue", &["-c", &c, "-p"]);
        // A held message's queue id is followed by `!`.
        if queue.lines().any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|id| id.ends_with('!'))
        }) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no held message after 30 s:\n{queue}\n{}",
            pf.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        pf.log().contains("hold:"),
        "the log says why it is held\n{}",
        pf.log()
    );
    assert_eq!(
        pf.delivered(0).len(),
        GENUINE.len() + attacks.len(),
        "the held message is not delivered"
    );
    eprintln!(
        "postfix end-to-end took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A message from `from` to the test's recipient, CRLF line ends.
fn live_message(from: &str, subject: &str, body: &str) -> Vec<u8> {
    let domain = from.rsplit_once('@').map_or("", |(_, d)| d);
    format!(
        "From: {from}\r\nTo: Jessie <{RCPT}>\r\nSubject: {subject}\r\n\
         Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{subject_id}@{domain}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        subject_id = subject.len()
    )
    .into_bytes()
}

/// A header block's fields, continuation lines unfolded: (name, value).
fn header_fields(message: &str) -> Vec<(String, String)> {
    let message = message.replace("\r\n", "\n");
    let head = message
        .split_once("\n\n")
        .map_or(message.as_str(), |(h, _)| h);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((n, v)) = line.split_once(':') {
            fields.push((n.to_string(), v.trim().to_string()));
        }
    }
    fields
}

#[test]
fn with_a_resolver_postfix_delivers_live_verified_mail_with_its_results_and_refuses_a_dmarc_reject_failure(
) {
    let started = Instant::now();
    // The zones are the truth: signed.test lets the test's client
    // (127.0.0.1) send and publishes the key signing its mail;
    // reject.test lets only 192.0.2.1 send and asks for rejection. The
    // parent `test` zone answers DMARC's walk towards the organisational
    // domain (without it the walk gets no answer: temperror).
    let key = DkimKey::rsa("signed.test", "mail2026", 2048);
    let knot = KnotServer::start(&[
        Zone::new("test"),
        Zone::new("signed.test")
            .txt("@", "v=spf1 ip4:127.0.0.1 -all")
            .txt("_dmarc", "v=DMARC1; p=reject")
            .record("@", "MX", "10 mx.signed.test.")
            .record("mx", "A", "127.0.0.1")
            .dkim_key(&key),
        Zone::new("reject.test")
            .txt("@", "v=spf1 ip4:192.0.2.1 -all")
            .txt("_dmarc", "v=DMARC1; p=reject")
            .record("@", "MX", "10 mx.reject.test.")
            .record("mx", "A", "192.0.2.1"),
    ])
    .unwrap_or_else(|e| panic!("this test needs a real DNS server (knot, see .ci/setup): {e}"));
    let resolver = knot.addr().to_string();
    // Rejection and quarantine by score are off: what is refused here, the
    // sender's DMARC policy refused (--dmarc-policy honour, the default).
    let milter = Milter::start(&[
        "--resolver",
        &resolver,
        "--reject-at",
        "off",
        "--quarantine-at",
        "off",
        "--timeout-ms",
        "20000",
    ]);
    assert!(
        milter.log().contains(&format!(
            "impostor milter: SPF, DKIM, DMARC and ARC verified live through the resolver at {resolver}"
        )),
        "the milter says at start that it verifies live:\n{}",
        milter.log()
    );
    let pf = Postfix::new(milter.addr.port());

    // 1. Spoofed: reject.test's name, sent from an address its SPF does
    // not list, unsigned: DMARC fails under p=reject.
    let spoof = live_message(
        "The CEO <ceo@reject.test>",
        "Wire transfer today",
        "Please wire the amount below before noon and keep this between us.",
    );
    let (code, text) = smtp_send_from(pf.port, "ceo@reject.test", &spoof);
    assert_eq!(
        code,
        550,
        "a DMARC p=reject failure is refused: {text}\n{}\n{}",
        milter.log(),
        pf.log()
    );
    assert!(
        text.starts_with("550 5.7.1 ")
            && text.contains("DMARC failed for reject.test, whose policy is p=reject"),
        "the reply names the domain and its policy: {text}"
    );

    // 2. Genuine: signed at run time with signed.test's key, from an
    // address its SPF lists.
    let genuine = key
        .sign(&live_message(
            "Alice Martin <alice@signed.test>",
            "Quarterly figures",
            "The figures you asked for are attached; the board meets on Friday.",
        ))
        .unwrap();
    let (code, text) = smtp_send_from(pf.port, "bounce@signed.test", &genuine);
    assert_eq!(
        code,
        250,
        "the signed message is accepted: {text}\n{}",
        milter.log()
    );
    pf.delivered(1);
    // A spoof wrongly queued would arrive about as fast: give it a moment.
    std::thread::sleep(Duration::from_secs(1));
    let delivered = pf.delivered(0);
    assert_eq!(
        delivered.len(),
        1,
        "only the genuine message is delivered:\n{delivered:?}"
    );
    let got = delivered_copy(&delivered, &genuine, "the signed message");
    let results: Vec<String> = header_fields(got)
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        results.len(),
        1,
        "the milter adds one Authentication-Results:\n{got}"
    );
    let ours = &results[0];
    let authserv_id = ours.split(';').next().unwrap_or_default().trim();
    assert!(
        !authserv_id.is_empty() && !authserv_id.contains('='),
        "it opens with the milter's authserv-id: {ours}"
    );
    for part in [
        "spf=pass smtp.mailfrom=bounce@signed.test",
        "dkim=pass header.d=signed.test header.s=mail2026",
        "dmarc=pass (p=reject) header.from=signed.test",
    ] {
        assert!(ours.contains(part), "{part:?} in {ours:?}\n{got}");
    }
    assert!(
        pf.log().contains("milter-reject") && pf.log().contains("reject.test"),
        "Postfix logs the milter's rejection\n{}",
        pf.log()
    );
    eprintln!(
        "postfix end-to-end with live verification took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Runs `impostor ARGS`; (exit code, standard output, standard error).
fn impostor(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether a delivered message was tagged at the flagging level or above.
fn flagged_tag(message: &str) -> bool {
    message.contains("\nX-Impostor-Level: high\n")
        || message.contains("\nX-Impostor-Level: medium\n")
}

#[test]
fn with_a_history_postfix_learns_sent_mail_and_tags_a_takeover_from_a_new_network() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.toml");
    std::fs::write(
        &org,
        "name = \"Interface Inc.\"\ninternal_domains = [\"interface.com\"]\ntrusted_authserv_ids = [\"mx1.interface.com\"]\n",
    )
    .unwrap();
    let org = org.to_str().unwrap();
    // The default model's rules and weights, with history rules of known
    // weights (support::history_model).
    let model = support::history_model(&dir.path().join("model"));
    let model = model.to_str().unwrap();
    let store = dir.path().join("history.redb");
    let store = store.to_str().unwrap();

    // (a) Warm: 50 vendor messages and carol@interface.com's 8, from
    // 10.8.2.0/24, imported at once.
    let mail = dir.path().join("mail");
    let written =
        support::write_mail_history(&mail, "interface.com", "carol@interface.com", RCPT, 10);
    assert!(written >= 58);
    let (code, _, err) = impostor(&[
        "history",
        "import",
        "--org",
        org,
        "--store",
        store,
        mail.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let milter_args = [
        "--org",
        org,
        "--model",
        model,
        "--history",
        store,
        "--history-delay",
        "0s",
        "--reject-at",
        "off",
        "--quarantine-at",
        "off",
        "--tag-level",
        "low",
    ];
    let mut milter = Milter::start(&milter_args);
    assert!(
        milter.log().contains("sender history embedded store")
            && milter.log().contains("58 messages learnt"),
        "the milter says which history it reads:\n{}",
        milter.log()
    );
    let pf = Postfix::new(milter.addr.port());
    let now = support::unix_now();

    // (b) carol writes to a vendor the organisation never wrote to,
    // through the submission service (ORIGINATING).
    let sent = support::internal_message(
        "carol@interface.com",
        "partner@some-vendor.example",
        "10.8.2.44",
        now - 300,
        "Quote request",
        "Could you send us a quote for two pallets of the usual order?",
    );
    let (code, text) = smtp_send_as(
        pf.submission_port,
        None,
        "carol@interface.com",
        "partner@some-vendor.example",
        sent.as_bytes(),
    );
    assert_eq!(
        code,
        250,
        "submitted mail is accepted: {text}\n{}",
        milter.log()
    );
    milter.wait_log("origin=submitted");
    // The file store is one process's: stop the milter to look into it.
    assert!(milter.terminate().success(), "{}", milter.log());
    let (code, shown, err) = impostor(&[
        "history",
        "show",
        "--org",
        org,
        "--store",
        store,
        "--format",
        "json",
        "partner@some-vendor.example",
    ]);
    assert_eq!(
        code, 0,
        "the vendor is known after carol wrote to it: {err}"
    );
    let profile: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert!(profile["outbound"].as_u64().unwrap() >= 1, "{profile}");
    let milter = Milter::start(&milter_args);
    pf.use_milter(milter.addr.port());

    // The vendor's reply is solicited; the same text from a firm nobody
    // wrote to is not (the test model flags "never written to").
    // Bodies differ: delivered copies are told apart by them.
    let reply = |from: &str, subject: &str| {
        support::inbound_message(
            from,
            "carol@interface.com",
            "192.0.2.80",
            now - 120,
            subject,
            &format!("Thank you for your request, our quote is attached.\r\n{from}"),
        )
    };
    let solicited = reply("partner@some-vendor.example", "Re: Quote request");
    let unsolicited = reply("sales@unknown-firm.example", "Re: Your request");
    for (m, from) in [
        (&solicited, "partner@some-vendor.example"),
        (&unsolicited, "sales@unknown-firm.example"),
    ] {
        let (code, text) = smtp_send_as(pf.port, None, from, RCPT, m.as_bytes());
        assert_eq!(code, 250, "{text}\n{}", milter.log());
    }

    // (c) carol's mailbox asks for a payment: from her usual network,
    // then from one she never used (XCLIENT gives the milter that client
    // address, as a real client's connection would).
    let ask = |client: &str, subject: &str| {
        support::internal_message(
            "carol@interface.com",
            RCPT,
            client,
            now - 60,
            subject,
            &format!("Please process the payment of invoice 4471 today by wire transfer; I am in meetings all day.\r\nCarol ({subject})"),
        )
    };
    let usual = ask("10.8.2.45", "Invoice 4471 payment");
    let takeover = ask("185.220.101.7", "Urgent: invoice 4471 payment");
    for (m, client) in [(&usual, "10.8.2.45"), (&takeover, "185.220.101.7")] {
        let (code, text) = smtp_send_as(
            pf.port,
            Some(client),
            "carol@interface.com",
            RCPT,
            m.as_bytes(),
        );
        assert_eq!(code, 250, "{text}\n{}\n{}", milter.log(), pf.log());
    }

    // Mail to the vendor is discarded (transport_maps); the four arrive.
    let delivered = pf.delivered(4);
    let copy = |raw: &str, name: &str| delivered_copy(&delivered, raw.as_bytes(), name).clone();
    let got = copy(&solicited, "the solicited reply");
    assert!(
        !flagged_tag(&got),
        "the solicited reply is not flagged:\n{got}"
    );
    assert!(!got.contains("test_history_never_written_to"), "{got}");
    let got = copy(&unsolicited, "the unsolicited reply");
    assert!(
        flagged_tag(&got),
        "the unsolicited reply is flagged:\n{got}"
    );
    assert!(got.contains("test_history_never_written_to"), "{got}");
    let got = copy(&usual, "the request from the usual network");
    assert!(
        !got.contains("test_history_"),
        "from its usual network the request departs from nothing:\n{got}"
    );
    let got = copy(&takeover, "the takeover");
    assert!(
        flagged_tag(&got),
        "the takeover is flagged:\n{got}\n{}",
        milter.log()
    );
    let reasons = header(&got, "X-Impostor-Reasons", "the takeover");
    assert!(
        reasons.contains("test_history_account_compromise"),
        "a history reason: {reasons}"
    );
    let techniques = header(&got, "X-Impostor-Techniques", "the takeover");
    assert!(techniques.contains("account_compromise"), "{techniques}");
    eprintln!(
        "postfix end-to-end with a sender history took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
