//! The engine, the HTTP service and the milter verifying live against a real authoritative
//! DNS server (Knot on loopback, zones written by the test): the verdict
//! reads the live results, and the milter adds its own
//! Authentication-Results header after removing forged copies claiming
//! its authserv-id; it refuses (p=reject) or holds (p=quarantine) what
//! fails DMARC live, unless told to ignore the policy, and never on a DNS
//! failure. Fails loudly when knotd is missing.

use impostor_auth::loopback::{DkimKey, KnotServer, Zone};
use impostor_auth::{Verifier, VerifierConfig};
use impostor_features::{AuthResult, AuthSource, Context, DmarcPolicy, Envelope, OrgProfile};
use impostor_model::artifact;
use impostor_model::Level;
use impostor_serve::http;
use impostor_serve::milter::{self, MilterConfig};
use impostor_serve::{DmarcFailure, Engine, SharedEngine};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const AUTHSERV: &str = "mx.receiver.test";

struct World {
    _server: KnotServer,
    key: DkimKey,
    engine: Arc<Engine>,
    milter: SocketAddr,
    /// Honours DMARC policies; rejects and quarantines by level are off
    /// (high) so that what it refuses or holds, DMARC decided.
    enforcing: SocketAddr,
    /// Told to ignore DMARC policies (`honour_dmarc: false`).
    ignoring: SocketAddr,
    http: SocketAddr,
}

fn bind() -> (std::net::TcpListener, SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    (listener, addr)
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let key = DkimKey::rsa("sender.test", "s1", 2048);
        let zones = [
            Zone::new("test"),
            Zone::new("sender.test")
                // The milter test client connects from 127.0.0.1.
                .txt("@", "v=spf1 ip4:127.0.0.1 -all")
                .txt("_dmarc", "v=DMARC1; p=reject")
                .record("@", "MX", "10 mx.sender.test.")
                .record("mx", "A", "127.0.0.1")
                .dkim_key(&key),
            // Domains the client at 127.0.0.1 may not send for: its mail
            // (MAIL FROM bounce@sender.test, unsigned) fails DMARC.
            Zone::new("reject.test")
                .txt("@", "v=spf1 -all")
                .txt("_dmarc", "v=DMARC1; p=reject")
                .record("@", "A", "192.0.2.1"),
            Zone::new("quarantine.test")
                .txt("@", "v=spf1 -all")
                .txt("_dmarc", "v=DMARC1; p=quarantine")
                .record("@", "A", "192.0.2.1"),
        ];
        let server = KnotServer::start(&zones)
            .unwrap_or_else(|e| panic!("these tests need a real DNS server: {e}"));
        let mut c = VerifierConfig::new(server.addr());
        c.authserv_id = AUTHSERV.into();
        let verifier = Arc::new(Verifier::new(c).expect("verifier"));
        let engine = || {
            let ctx = Context::builder(OrgProfile::default()).build().unwrap();
            Engine::new(ctx, artifact::builtin().unwrap(), None).with_verifier(verifier.clone())
        };
        let (listener, milter) = bind();
        let (enforcing_listener, enforcing) = bind();
        let (ignoring_listener, ignoring) = bind();
        let shared = SharedEngine::new(engine());
        let http_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let http = http_listener.local_addr().unwrap();
        http_listener.set_nonblocking(true).unwrap();
        let service = http::Service::new(
            engine(),
            http::HttpConfig {
                max_message_bytes: 1 << 20,
                token: None,
                scan_timeout: Duration::from_secs(20),
            },
        );
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let http_listener = tokio::net::TcpListener::from_std(http_listener).unwrap();
                tokio::spawn(async move {
                    axum::serve(http_listener, http::router(service))
                        .await
                        .unwrap();
                });
                let run = |l: std::net::TcpListener, config: MilterConfig| {
                    let l = tokio::net::TcpListener::from_std(l).unwrap();
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        milter::run(l, shared, config, std::future::pending::<()>())
                            .await
                            .unwrap();
                    });
                };
                let quiet = MilterConfig {
                    quiet: true,
                    timeout: Duration::from_secs(20),
                    ..MilterConfig::default()
                };
                run(
                    enforcing_listener,
                    MilterConfig {
                        reject_at: None,
                        quarantine_at: Some(Level::High),
                        ..quiet.clone()
                    },
                );
                run(
                    ignoring_listener,
                    MilterConfig {
                        reject_at: None,
                        quarantine_at: None,
                        honour_dmarc: false,
                        ..quiet.clone()
                    },
                );
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let config = MilterConfig {
                    quiet: true,
                    // Never reject or quarantine here: the headers are tested.
                    reject_at: None,
                    quarantine_at: None,
                    timeout: Duration::from_secs(20),
                    ..MilterConfig::default()
                };
                milter::run(listener, shared, config, std::future::pending::<()>())
                    .await
                    .unwrap();
            });
        });
        World {
            _server: server,
            key,
            engine: Arc::new(engine()),
            milter,
            enforcing,
            ignoring,
            http,
        }
    })
}

fn message() -> Vec<u8> {
    b"From: Alice <alice@sender.test>\r\nTo: bob@receiver.test\r\nSubject: Quarterly figures\r\n\
      Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@sender.test>\r\n\r\n\
      The figures are attached.\r\n"
        .to_vec()
}

fn envelope() -> Envelope {
    Envelope {
        mail_from: Some("bounce@sender.test".into()),
        client_ip: Some("127.0.0.1".parse().unwrap()),
        helo: Some("mx.sender.test".into()),
        ..Envelope::default()
    }
}

#[test]
fn the_engine_scores_with_the_live_results_it_verified() {
    let w = world();
    let signed = w.key.sign(&message()).unwrap();
    let j = w.engine.judge(&signed, &envelope()).unwrap();
    let e = j.enrichment.expect("a verifier is set");
    assert_eq!(e.auth.dkim[0].result, AuthResult::Pass);
    assert_eq!(e.auth.dmarc, AuthResult::Pass);
    assert_eq!(j.verdict.auth.source, AuthSource::Live);
    assert_eq!(j.verdict.auth.spf, AuthResult::Pass);
    assert_eq!(j.verdict.auth.dmarc.result, AuthResult::Pass);
    // A tampered copy: the verdict reads the failure.
    let tampered = String::from_utf8(signed)
        .unwrap()
        .replace("figures are attached", "bank details changed")
        .into_bytes();
    let mut env = envelope();
    env.mail_from = Some("bounce@elsewhere.example".into());
    let j = w.engine.judge(&tampered, &env).unwrap();
    assert_eq!(j.verdict.auth.dkim[0].result, AuthResult::Fail);
    assert_eq!(j.verdict.auth.dmarc.result, AuthResult::Fail);
}

#[test]
fn the_http_service_answers_with_the_live_results_for_the_envelope_in_the_query() {
    let w = world();
    let signed = w.key.sign(&message()).unwrap();
    let mut s = TcpStream::connect(w.http).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut request = format!(
        "POST /v1/scan?mail_from=bounce@sender.test&client_ip=127.0.0.1&helo=mx.sender.test HTTP/1.1\r\n\
         Host: localhost\r\nContent-Type: message/rfc822\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        signed.len()
    )
    .into_bytes();
    request.extend_from_slice(&signed);
    s.write_all(&request).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let body = response.split_once("\r\n\r\n").unwrap().1;
    let answer: serde_json::Value = serde_json::from_str(body).unwrap();
    let auth = &answer["auth"];
    assert_eq!(auth["source"], "live", "{answer}");
    assert_eq!(auth["spf"], "pass", "{answer}");
    assert_eq!(auth["dkim"][0]["domain"], "sender.test", "{answer}");
    assert_eq!(auth["dkim"][0]["result"], "pass", "{answer}");
    assert_eq!(auth["dmarc"]["result"], "pass", "{answer}");
}

// ---- a milter client (the MTA side of the protocol, version 6) ----

fn packet(cmd: u8, data: &[u8]) -> Vec<u8> {
    let mut p = ((data.len() + 1) as u32).to_be_bytes().to_vec();
    p.push(cmd);
    p.extend_from_slice(data);
    p
}

fn read_reply(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("a reply length");
    let len = u32::from_be_bytes(len) as usize;
    assert!((1..1 << 20).contains(&len), "reply length {len}");
    let mut buf = vec![0u8; len];
    s.read_exact(&mut buf).expect("a reply");
    (buf[0], buf[1..].to_vec())
}

fn step(s: &mut TcpStream, cmd: u8, data: &[u8]) {
    s.write_all(&packet(cmd, data)).unwrap();
    let (r, body) = read_reply(s);
    assert_eq!(
        r,
        b'c',
        "reply to {:?}: {:?}",
        cmd as char,
        String::from_utf8_lossy(&body)
    );
}

fn cstr(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for p in parts {
        v.extend_from_slice(p);
        v.push(0);
    }
    v
}

/// One message through a session with the milter at `to`; the
/// end-of-message replies.
fn send(to: SocketAddr, headers: &[(&str, &str)], body: &str) -> Vec<(u8, Vec<u8>)> {
    let mut s = TcpStream::connect(to).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut neg = Vec::new();
    neg.extend_from_slice(&6u32.to_be_bytes());
    neg.extend_from_slice(&0x1ffu32.to_be_bytes());
    neg.extend_from_slice(&0x1f_ffffu32.to_be_bytes());
    s.write_all(&packet(b'O', &neg)).unwrap();
    assert_eq!(read_reply(&mut s).0, b'O');
    let mut conn = cstr(&[b"mx.sender.test"]);
    conn.push(b'4');
    conn.extend_from_slice(&25000u16.to_be_bytes());
    conn.extend_from_slice(&cstr(&[b"127.0.0.1"]));
    step(&mut s, b'C', &conn);
    step(&mut s, b'H', &cstr(&[b"mx.sender.test"]));
    step(&mut s, b'M', &cstr(&[b"<bounce@sender.test>"]));
    step(&mut s, b'R', &cstr(&[b"<bob@receiver.test>"]));
    for (n, v) in headers {
        step(&mut s, b'L', &cstr(&[n.as_bytes(), v.as_bytes()]));
    }
    step(&mut s, b'N', &[]);
    step(&mut s, b'B', body.as_bytes());
    s.write_all(&packet(b'E', &[])).unwrap();
    let mut replies = Vec::new();
    loop {
        let (r, data) = read_reply(&mut s);
        replies.push((r, data));
        if matches!(r, b'c' | b'a' | b'r' | b't' | b'y' | b'd') {
            break;
        }
    }
    let _ = s.write_all(&packet(b'Q', &[]));
    replies
}

/// Header fields and body of a signed message, as an MTA passes them.
fn fields(raw: &[u8]) -> (Vec<(String, String)>, String) {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap();
    let mut f: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            let last = f.last_mut().unwrap();
            last.1.push('\n');
            last.1.push_str(line);
        } else if let Some((n, v)) = line.split_once(':') {
            f.push((n.to_string(), v.trim_start().to_string()));
        }
    }
    (f, body.replace('\n', "\r\n"))
}

/// (index, name, value) of the inserted ('i') and changed ('m') headers.
fn modifications(replies: &[(u8, Vec<u8>)], kind: u8) -> Vec<(u32, String, String)> {
    replies
        .iter()
        .filter(|(r, _)| *r == kind)
        .map(|(_, d)| {
            let index = u32::from_be_bytes(d[0..4].try_into().unwrap());
            let mut parts = d[4..].split(|&b| b == 0);
            let name = String::from_utf8_lossy(parts.next().unwrap()).into_owned();
            let value = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
            (index, name, value)
        })
        .collect()
}

fn run_through_milter(raw: &[u8], extra: &[(&str, &str)]) -> Vec<(u8, Vec<u8>)> {
    run_through(world().milter, raw, extra)
}

fn run_through(to: SocketAddr, raw: &[u8], extra: &[(&str, &str)]) -> Vec<(u8, Vec<u8>)> {
    let (f, body) = fields(raw);
    let mut headers: Vec<(&str, &str)> = extra.to_vec();
    headers.extend(f.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    send(to, &headers, &body)
}

#[test]
fn the_milter_adds_its_authentication_results_with_the_live_dkim_and_dmarc_results() {
    let w = world();
    let signed = w.key.sign(&message()).unwrap();
    let replies = run_through_milter(&signed, &[]);
    let inserted = modifications(&replies, b'i');
    assert_eq!(inserted.len(), 1, "{inserted:?}");
    let (index, name, value) = &inserted[0];
    assert_eq!((*index, name.as_str()), (0, "Authentication-Results"));
    assert_eq!(
        value,
        "mx.receiver.test; spf=pass smtp.mailfrom=bounce@sender.test; \
         dkim=pass header.d=sender.test header.s=s1; \
         dmarc=pass (p=reject) header.from=sender.test; arc=none"
    );
    assert!(modifications(&replies, b'm')
        .iter()
        .all(|(_, n, _)| n != "Authentication-Results"));

    let tampered = String::from_utf8(signed)
        .unwrap()
        .replace("Subject: Quarterly figures", "Subject: New bank details")
        .into_bytes();
    let replies = run_through_milter(&tampered, &[]);
    let (_, _, value) = &modifications(&replies, b'i')[0];
    assert!(
        value.contains("dkim=fail header.d=sender.test header.s=s1"),
        "{value}"
    );
    // SPF still passes and aligns: DMARC passes on it, as the zone says.
    assert!(
        value.contains("spf=pass") && value.contains("dmarc=pass"),
        "{value}"
    );
}

#[test]
fn forged_authentication_results_claiming_our_authserv_id_are_removed_and_others_kept() {
    let w = world();
    let signed = w.key.sign(&message()).unwrap();
    let replies = run_through_milter(
        &signed,
        &[
            (
                "Authentication-Results",
                "mx.receiver.test; dkim=pass header.d=bank.example",
            ),
            ("Authentication-Results", "relay.partner.example; spf=pass"),
            (
                "Authentication-Results",
                "MX.Receiver.Test 1; dmarc=pass header.from=bank.example",
            ),
        ],
    );
    let removed: Vec<(u32, String, String)> = modifications(&replies, b'm')
        .into_iter()
        .filter(|(_, n, _)| n == "Authentication-Results")
        .collect();
    // The third and the first copy, last first so the indices hold; the
    // partner's stays.
    assert_eq!(
        removed,
        [
            (3, "Authentication-Results".to_string(), String::new()),
            (1, "Authentication-Results".to_string(), String::new()),
        ]
    );
    assert_eq!(modifications(&replies, b'i').len(), 1);
}

/// An unsigned message from `from`, sent by the client at 127.0.0.1 with
/// MAIL FROM bounce@sender.test: SPF passes for sender.test, which is not
/// aligned with the From domain.
fn unsigned_from(from: &str) -> Vec<u8> {
    format!(
        "From: The CEO <{from}>\r\nTo: bob@receiver.test\r\nSubject: Quarterly figures\r\n\
         Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <2@sender.test>\r\n\r\n\
         The figures are attached.\r\n"
    )
    .into_bytes()
}

/// The final reply and, when the message was held, the hold reason.
fn outcome(replies: &[(u8, Vec<u8>)]) -> (u8, String, Option<String>) {
    let (last, data) = replies.last().expect("a final reply");
    let held = replies.iter().find(|(r, _)| *r == b'q').map(|(_, d)| {
        String::from_utf8_lossy(d)
            .trim_end_matches('\0')
            .to_string()
    });
    (
        *last,
        String::from_utf8_lossy(data)
            .trim_end_matches('\0')
            .to_string(),
        held,
    )
}

#[test]
fn the_engine_names_a_live_dmarc_failure_under_reject_with_its_domain() {
    let w = world();
    let j = w
        .engine
        .judge(&unsigned_from("ceo@reject.test"), &envelope())
        .unwrap();
    assert_eq!(
        j.dmarc_failure,
        Some(DmarcFailure {
            domain: "reject.test".into(),
            policy: DmarcPolicy::Reject
        }),
        "{:?}",
        j.enrichment
    );
    // DMARC passes for a signed message of sender.test: nothing to enforce.
    let signed = w.key.sign(&message()).unwrap();
    assert_eq!(
        w.engine.judge(&signed, &envelope()).unwrap().dmarc_failure,
        None
    );
}

#[test]
fn the_milter_refuses_a_message_failing_dmarc_under_p_reject_and_names_the_domain() {
    let w = world();
    let (reply, text, held) = outcome(&run_through(
        w.enforcing,
        &unsigned_from("ceo@reject.test"),
        &[],
    ));
    assert_eq!(reply, b'y', "an SMTP reply: {text}");
    assert!(
        text.starts_with("550 5.7.1 ")
            && text.contains("DMARC failed for reject.test, whose policy is p=reject"),
        "{text}"
    );
    assert_eq!(held, None);
    // A genuine, signed message through the same milter is accepted.
    let signed = w.key.sign(&message()).unwrap();
    let (reply, text, held) = outcome(&run_through(w.enforcing, &signed, &[]));
    assert_eq!((reply, held), (b'c', None), "{text}");
}

#[test]
fn the_milter_holds_a_message_failing_dmarc_under_p_quarantine() {
    let w = world();
    let (reply, text, held) = outcome(&run_through(
        w.enforcing,
        &unsigned_from("ceo@quarantine.test"),
        &[],
    ));
    assert_eq!(reply, b'c', "accepted, then held: {text}");
    let held = held.expect("a quarantine request");
    assert!(
        held.contains("DMARC failed for quarantine.test, whose policy is p=quarantine"),
        "{held}"
    );
}

#[test]
fn a_milter_told_to_ignore_dmarc_policies_accepts_what_fails_them() {
    let w = world();
    for from in ["ceo@reject.test", "ceo@quarantine.test"] {
        let (reply, text, held) = outcome(&run_through(w.ignoring, &unsigned_from(from), &[]));
        assert_eq!((reply, held), (b'c', None), "{from}: {text}");
    }
}

#[test]
fn a_dns_outage_is_temperror_and_never_enforces_a_dmarc_policy() {
    let port = impostor_auth::loopback::free_port().unwrap();
    let mut c = VerifierConfig::new(([127, 0, 0, 1], port).into());
    c.timeout = Duration::from_millis(200);
    c.attempts = 1;
    let verifier = Arc::new(Verifier::new(c).unwrap());
    let ctx = Context::builder(OrgProfile::default()).build().unwrap();
    let engine = Engine::new(ctx, artifact::builtin().unwrap(), None).with_verifier(verifier);
    let j = engine
        .judge(&unsigned_from("ceo@reject.test"), &envelope())
        .unwrap();
    assert_eq!(j.verdict.auth.dmarc.result, AuthResult::TempError);
    assert_eq!(j.dmarc_failure, None);
    let d = milter::decide_judged(&j, &MilterConfig::default());
    assert!(
        d.reject.as_deref().is_none_or(|r| !r.contains("DMARC")),
        "{d:?}"
    );
}
