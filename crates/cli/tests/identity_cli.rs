//! Sender identity through `impostor scan`: every header-ambiguity fixture
//! is flagged `header_from_spoof` by its floor rule with the readings that
//! disagree, honest but unusual headers are not, and with `--resolver`
//! the live SPF, DKIM and DMARC results agree with zones a real DNS server
//! (Knot on loopback, zones written here) serves; a DNS outage is a
//! temperror and never a spoof verdict.
//!
//! The live tests need the Debian package `knot` (.ci/setup installs it);
//! without it they fail rather than skip.

mod support;

use impostor_auth::loopback::{DkimKey, KnotServer, Zone};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::repo;

/// The org profile the ambiguity fixtures are written for (they
/// impersonate d.brandt@kestrelfoods.com, Kestrel's CEO).
fn kestrel_org() -> PathBuf {
    repo().join("datasets/orgs/kestrel-foods.toml")
}

fn ambiguity_dir() -> PathBuf {
    repo().join("datasets/examples/ambiguity")
}

/// The fixtures whose name starts with `prefix`, sorted: new ones are
/// covered without touching this file.
fn fixtures(prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(ambiguity_dir())
        .expect("datasets/examples/ambiguity exists")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "eml")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    files.sort();
    files
}

/// Runs `impostor scan -q ARGS`; fails unless it exits 0, and returns one
/// parsed record per output line.
fn scan(args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .arg("scan")
        .arg("-q")
        .args(args)
        .output()
        .expect("the impostor binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "impostor scan {args:?} exits 0\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
        .collect()
}

/// Scans one message (written to a temporary file) with `args` before it.
fn scan_one(dir: &Path, name: &str, message: &[u8], args: &[&str]) -> Value {
    let path = dir.join(name);
    std::fs::write(&path, message).unwrap();
    let mut all: Vec<&str> = args.to_vec();
    all.push(path.to_str().unwrap());
    let mut records = scan(&all);
    assert_eq!(records.len(), 1, "one record for {name}: {records:?}");
    let r = records.remove(0);
    assert!(r["error"].is_null(), "{name} is read: {r:#}");
    r
}

/// The codes of the default model's floor rules, as its manifest declares
/// them (the built-in model is a copy of models/default).
fn floor_codes() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("models/default/manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let codes: Vec<String> = manifest["model"]["rules"]["rules"]
        .as_array()
        .expect("model.rules.rules in the manifest")
        .iter()
        .filter(|r| !r["rule"]["floor"].is_null())
        .map(|r| r["rule"]["code"].as_str().unwrap().to_string())
        .collect();
    assert!(
        codes.iter().any(|c| c == "identity_readers_disagree"),
        "the default model declares the ambiguity floors: {codes:?}"
    );
    codes
}

fn name_of(r: &Value) -> String {
    Path::new(r["path"].as_str().unwrap_or_default())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn techniques(r: &Value) -> Vec<&str> {
    r["techniques"]
        .as_array()
        .unwrap_or_else(|| panic!("techniques is a list: {r:#}"))
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect()
}

fn reason_codes(r: &Value) -> Vec<&str> {
    r["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("reasons is a list: {r:#}"))
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect()
}

/// Whether a reason's text names two views of the sender: what mail-parser
/// (the displayed reading) shows and either another reader's view or the
/// domain authentication was about.
fn names_both_readings(detail: &str) -> bool {
    detail.contains("mail-parser shows")
        && (detail.matches(" shows ").count() >= 2 || detail.contains("evaluated on"))
}

/// The attack classes that are a disagreement between readers by
/// construction: their records must carry the readings.
const READERS_DISAGREE: [&str; 8] = [
    "attack-bidi-override.eml",
    "attack-comment-address.eml",
    "attack-encoded-word-address.eml",
    "attack-multiple-from.eml",
    "attack-nul-byte.eml",
    "attack-quoted-local-part.eml",
    "attack-route-syntax.eml",
    "attack-space-before-colon.eml",
];

#[test]
fn scan_flags_every_header_ambiguity_attack_as_header_from_spoof() {
    let files = fixtures("attack-");
    assert!(files.len() >= 10, "at least ten attack fixtures: {files:?}");
    let org = kestrel_org();
    let mut args = vec!["--org", org.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let records = scan(&args);
    assert_eq!(records.len(), files.len(), "one record per fixture");
    let floors = floor_codes();
    let mut with_readings = Vec::new();
    for (file, r) in files.iter().zip(&records) {
        let name = name_of(r);
        assert_eq!(
            Some(name.as_str()),
            file.file_name().and_then(|n| n.to_str()),
            "input order is kept"
        );
        assert!(r["error"].is_null(), "{name} is read: {r:#}");
        assert_ne!(r["level"], "none", "{name} is flagged: {r:#}");
        assert_eq!(r["flagged"], true, "{name} is flagged: {r:#}");
        assert!(
            techniques(r).contains(&"header_from_spoof"),
            "{name}: header_from_spoof: {r:#}"
        );
        // The floor's reason names both readings, whatever its weight.
        let floor_reason = r["reasons"].as_array().unwrap().iter().find(|x| {
            floors.iter().any(|f| x["code"] == f.as_str())
                && names_both_readings(x["detail"].as_str().unwrap_or_default())
        });
        assert!(
            floor_reason.is_some(),
            "{name}: a floor reason names the readings that differ: {r:#}"
        );
        let disagree_reason = reason_codes(r).contains(&"identity_readers_disagree");
        if disagree_reason || READERS_DISAGREE.contains(&name.as_str()) {
            let readings = r["identity"]["readings"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: identity.readings: {r:#}"));
            assert!(
                readings.iter().any(|x| x["reader"] == "mail_parser"),
                "{name}: mail-parser's reading is there: {readings:?}"
            );
            // The displayed sender against the impersonated one.
            let domains: Vec<&str> = readings
                .iter()
                .filter_map(|x| x["domain"].as_str())
                .collect();
            assert!(
                domains.contains(&"kestrelfoods.com") && domains.contains(&"northwind-mailer.net"),
                "{name}: the readings name both the impersonated and the real domain: {readings:?}"
            );
            with_readings.push(name);
        } else {
            assert!(
                r["identity"].is_null(),
                "{name}: readings appear only when readers disagree: {r:#}"
            );
        }
    }
    for name in READERS_DISAGREE {
        assert!(
            with_readings.iter().any(|n| n == name),
            "{name} is among the fixtures and carries its readings: {with_readings:?}"
        );
    }
}

#[test]
fn scan_leaves_honest_but_unusual_headers_unflagged() {
    let files = fixtures("honest-");
    assert!(
        files.len() >= 7,
        "at least seven honest fixtures: {files:?}"
    );
    let org = kestrel_org();
    let mut args = vec!["--org", org.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let records = scan(&args);
    assert_eq!(records.len(), files.len(), "one record per fixture");
    let floors = floor_codes();
    for r in &records {
        let name = name_of(r);
        assert!(r["error"].is_null(), "{name} is read: {r:#}");
        assert_eq!(r["level"], "none", "{name} is not flagged: {r:#}");
        assert_eq!(r["flagged"], false, "{name} is not flagged: {r:#}");
        assert!(
            !techniques(r).contains(&"header_from_spoof"),
            "{name}: no header_from_spoof: {r:#}"
        );
        assert!(
            r["identity"].is_null(),
            "{name}: its readers agree, so no readings are shown: {r:#}"
        );
        let fired: Vec<&str> = reason_codes(r)
            .into_iter()
            .filter(|c| floors.iter().any(|f| f == c))
            .collect();
        assert!(fired.is_empty(), "{name}: no floor rule fires: {fired:?}");
    }
}

const GOOD_IP: &str = "192.0.2.10";
const OTHER_IP: &str = "198.51.100.7";

/// A message from `from` to Kestrel's CFO, CRLF line ends.
fn message(from: &str, subject: &str, body: &str) -> Vec<u8> {
    let domain = from.rsplit_once('@').map_or("", |(_, d)| d);
    format!(
        "From: Alice Martin <{from}>\r\nTo: Priya Raman <p.raman@kestrelfoods.com>\r\n\
         Subject: {subject}\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\n\
         Message-ID: <{n}.20261204@{domain}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        n = subject.len()
    )
    .into_bytes()
}

fn genuine(from: &str) -> Vec<u8> {
    message(
        from,
        "Quarterly figures",
        "The figures you asked for are in the shared folder; the board meets on Friday.",
    )
}

/// The scan options of a live check: resolver and SMTP envelope.
fn live_args<'a>(org: &'a str, resolver: &'a str, ip: &'a str, from: &'a str) -> Vec<&'a str> {
    vec![
        "--org",
        org,
        "--resolver",
        resolver,
        "--client-ip",
        ip,
        "--helo",
        "mail.signed.test",
        "--mail-from",
        from,
    ]
}

fn dkim(r: &Value) -> Vec<(String, String)> {
    r["auth"]["dkim"]
        .as_array()
        .unwrap_or_else(|| panic!("auth.dkim is a list: {r:#}"))
        .iter()
        .map(|d| {
            (
                d["domain"].as_str().unwrap_or_default().to_string(),
                d["result"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A running Knot serving the zones whose truth the live tests check, and
/// the key that signs signed.test's mail (made now, published there).
struct Live {
    knot: KnotServer,
    key: DkimKey,
    dir: tempfile::TempDir,
}

impl Live {
    /// Starts Knot with the zones. The parent `test` zone answers DMARC's
    /// walk towards the organisational domain and says NXDOMAIN for the
    /// names it does not hold (ghost.test).
    fn start() -> Live {
        let key = DkimKey::rsa("signed.test", "sel2026", 2048);
        let knot = KnotServer::start(&[
            Zone::new("test"),
            Zone::new("signed.test")
                .txt("@", &format!("v=spf1 ip4:{GOOD_IP} -all"))
                .txt("_dmarc", "v=DMARC1; p=reject")
                .record("@", "MX", "10 mx.signed.test.")
                .record("mx", "A", GOOD_IP)
                .dkim_key(&key),
            // Exists, but no MX and no address: no mail reaches it.
            Zone::new("nomx.test").txt("@", "v=spf1 -all"),
        ])
        .unwrap_or_else(|e| panic!("this test needs a real DNS server (Debian package knot): {e}"));
        Live {
            knot,
            key,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn resolver(&self) -> String {
        self.knot.addr().to_string()
    }

    /// `impostor scan` of one message, verified live with this envelope.
    fn scan(&self, name: &str, message: &[u8], ip: &str, mail_from: &str) -> Value {
        let org = kestrel_org();
        let resolver = self.resolver();
        let args = live_args(org.to_str().unwrap(), &resolver, ip, mail_from);
        scan_one(self.dir.path(), name, message, &args)
    }

    /// The `impostor extract` row of one message, verified live with this
    /// envelope (the features scan's model reads).
    fn extract(&self, name: &str, message: &[u8], ip: &str, mail_from: &str) -> Value {
        let path = self.dir.path().join(name);
        std::fs::write(&path, message).unwrap();
        let table = self.dir.path().join(format!("{name}.ndjson"));
        let org = kestrel_org();
        let resolver = self.resolver();
        let mut args = vec!["extract"];
        args.extend(live_args(org.to_str().unwrap(), &resolver, ip, mail_from));
        args.extend(["-o", table.to_str().unwrap(), path.to_str().unwrap()]);
        let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
            .args(&args)
            .output()
            .expect("the impostor binary runs");
        assert!(
            out.status.success(),
            "impostor {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&table).unwrap();
        let rows: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 1, "one row for {name}: {text}");
        rows.into_iter().next().unwrap()
    }
}

const SPOOFS: [&str; 2] = ["envelope_from_spoof", "header_from_spoof"];

#[test]
fn scan_with_a_resolver_reports_live_results_that_match_the_zones() {
    let live = Live::start();

    // 1. Signed at run time, sent from the address SPF lists.
    let signed = live.key.sign(&genuine("alice@signed.test")).unwrap();
    let r = live.scan("signed.eml", &signed, GOOD_IP, "bounce@signed.test");
    let auth = &r["auth"];
    assert_eq!(auth["source"], "live", "{r:#}");
    assert_eq!(auth["spf"], "pass", "{r:#}");
    assert_eq!(
        dkim(&r),
        [("signed.test".to_string(), "pass".to_string())],
        "{r:#}"
    );
    assert_eq!(auth["dmarc"]["result"], "pass", "{r:#}");
    assert_eq!(auth["dmarc"]["policy"], "reject", "{r:#}");
    assert_eq!(auth["dmarc"]["domain"], "signed.test", "{r:#}");
    assert!(
        !techniques(&r).iter().any(|t| SPOOFS.contains(t)),
        "verified mail is no spoof: {r:#}"
    );
    assert_eq!(r["flagged"], false, "{r:#}");

    // 2. The same message with its body changed after signing.
    let text = String::from_utf8(signed.clone()).unwrap();
    assert!(text.contains("shared folder"));
    let tampered = text.replacen("shared folder", "new bank account", 1);
    let r = live.scan(
        "tampered.eml",
        tampered.as_bytes(),
        GOOD_IP,
        "bounce@signed.test",
    );
    assert_eq!(r["auth"]["source"], "live", "{r:#}");
    assert_eq!(
        dkim(&r),
        [("signed.test".to_string(), "fail".to_string())],
        "the tampered copy fails DKIM: {r:#}"
    );
    // SPF still passes for an aligned domain: DMARC passes on it.
    assert_eq!(r["auth"]["spf"], "pass", "{r:#}");
    assert_eq!(r["auth"]["dmarc"]["result"], "pass", "{r:#}");

    // 3. signed.test's name, unsigned, from an address SPF does not list.
    let spoof = genuine("alice@signed.test");
    let r = live.scan("spoof.eml", &spoof, OTHER_IP, "bounce@signed.test");
    let auth = &r["auth"];
    assert_eq!(auth["source"], "live", "{r:#}");
    assert_eq!(auth["spf"], "fail", "{r:#}");
    assert!(dkim(&r).is_empty(), "no signature: {r:#}");
    assert_eq!(auth["dmarc"]["result"], "fail", "{r:#}");
    assert_eq!(auth["dmarc"]["policy"], "reject", "{r:#}");
    assert_eq!(auth["dmarc"]["domain"], "signed.test", "{r:#}");
    assert!(
        techniques(&r).iter().any(|t| SPOOFS.contains(t)),
        "a spoof technique: {r:#}"
    );
    assert!(
        reason_codes(&r).contains(&"dmarc_fail"),
        "a reason says DMARC failed: {r:#}"
    );

    // 4. A From and envelope domain that does not exist: nothing to pass,
    // and the features say NXDOMAIN for both.
    let ghost = genuine("alice@ghost.test");
    let r = live.scan("ghost.eml", &ghost, OTHER_IP, "bounce@ghost.test");
    assert_eq!(r["auth"]["source"], "live", "{r:#}");
    assert_eq!(r["auth"]["spf"], "none", "{r:#}");
    assert!(dkim(&r).is_empty(), "{r:#}");
    assert_eq!(r["auth"]["dmarc"]["result"], "none", "{r:#}");
    assert_eq!(r["auth"]["dmarc"]["domain"], "ghost.test", "{r:#}");
    let row = live.extract("ghost.eml", &ghost, OTHER_IP, "bounce@ghost.test");
    assert_eq!(row["from_domain_nxdomain_flag"], 1.0, "{row:#}");
    assert_eq!(row["envelope_domain_nxdomain_flag"], 1.0, "{row:#}");

    // 5. A domain that exists but takes no mail, and one that does.
    let nomx = genuine("alice@nomx.test");
    let row = live.extract("nomx.eml", &nomx, OTHER_IP, "bounce@nomx.test");
    assert_eq!(row["from_domain_nxdomain_flag"], 0.0, "{row:#}");
    assert_eq!(row["sender_domain_no_mail_host_flag"], 1.0, "{row:#}");
    let row = live.extract("signed.eml", &signed, GOOD_IP, "bounce@signed.test");
    for flag in [
        "from_domain_nxdomain_flag",
        "envelope_domain_nxdomain_flag",
        "sender_domain_no_mail_host_flag",
    ] {
        assert_eq!(row[flag], 0.0, "{flag}: {row:#}");
    }
}

#[test]
fn scan_flags_a_live_dmarc_failure_under_p_reject() {
    // The issue: DMARC p=reject failures stay strong evidence. The milter
    // refuses this message by policy; scan's verdict should agree.
    let live = Live::start();
    let spoof = genuine("alice@signed.test");
    let r = live.scan("spoof.eml", &spoof, OTHER_IP, "bounce@signed.test");
    assert_eq!(r["auth"]["dmarc"]["result"], "fail", "{r:#}");
    assert_eq!(r["auth"]["dmarc"]["policy"], "reject", "{r:#}");
    assert_eq!(
        r["flagged"], true,
        "a live DMARC failure under p=reject is flagged: {r:#}"
    );
}

#[test]
fn scan_gives_a_reason_when_the_sender_domain_does_not_exist() {
    // The issue: NXDOMAIN for the From or envelope domain is evidence.
    let live = Live::start();
    let ghost = genuine("alice@ghost.test");
    let r = live.scan("ghost.eml", &ghost, OTHER_IP, "bounce@ghost.test");
    let codes = reason_codes(&r);
    assert!(
        codes.contains(&"from_domain_nxdomain") || codes.contains(&"envelope_domain_nxdomain"),
        "a reason says the sender's domain does not exist: {r:#}"
    );
    assert!(
        techniques(&r).iter().any(|t| SPOOFS.contains(t)),
        "a spoof technique: {r:#}"
    );
}

/// A copy of the Kestrel profile whose `[dns]` gives up fast: one try of
/// 200 ms per lookup, a second per message.
fn impatient_org(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(kestrel_org()).unwrap();
    // Its [dns] table runs from the header to the next blank line.
    let start = text
        .find("[dns]\n")
        .expect("the Kestrel profile has a [dns] table");
    let end = text[start..]
        .find("\n\n")
        .map_or(text.len(), |e| start + e + 1);
    let text = format!(
        "{}[dns]\ntimeout_ms = 200\nattempts = 1\nmessage_timeout_ms = 1000\n{}",
        &text[..start],
        &text[end..]
    );
    let path = dir.join("org.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn scan_during_a_dns_outage_reports_temperror_and_no_spoof() {
    let dir = tempfile::tempdir().unwrap();
    let org = impatient_org(dir.path());
    let org = org.to_str().unwrap();
    let key = DkimKey::rsa("signed.test", "sel2026", 2048);
    let signed = key.sign(&genuine("alice@signed.test")).unwrap();
    let unsigned = genuine("bob@signed.test");
    // Two outages: a server that never answers (the query times out) and
    // a port where nothing listens (the query is refused at once).
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let closed = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    let mail = dir.path().join("mail");
    std::fs::create_dir(&mail).unwrap();
    std::fs::write(mail.join("1-signed.eml"), &signed).unwrap();
    std::fs::write(mail.join("2-unsigned.eml"), &unsigned).unwrap();
    for (outage, addr) in [("silent", silent.local_addr().unwrap()), ("closed", closed)] {
        let resolver = addr.to_string();
        let mut args = live_args(org, &resolver, GOOD_IP, "bounce@signed.test");
        let mail = mail.to_str().unwrap();
        args.push(mail);
        let records = scan(&args);
        assert_eq!(
            records.len(),
            2,
            "{outage}: one line per message: {records:?}"
        );
        for r in &records {
            let name = r["path"].as_str().unwrap_or_default();
            assert!(r["error"].is_null(), "{outage} {name}: scanned: {r:#}");
            let auth = &r["auth"];
            assert_eq!(auth["source"], "live", "{outage} {name}: {r:#}");
            assert_eq!(auth["spf"], "temperror", "{outage} {name}: {r:#}");
            assert!(
                ["temperror", "none"].contains(&auth["dmarc"]["result"].as_str().unwrap_or("")),
                "{outage} {name}: DMARC is unknown, not failed: {r:#}"
            );
            for (domain, result) in dkim(r) {
                assert_eq!(
                    result, "temperror",
                    "{outage} {name}: the key of {domain} could not be fetched: {r:#}"
                );
            }
            assert!(
                !techniques(r).iter().any(|t| SPOOFS.contains(t)),
                "{outage} {name}: an outage is no spoof: {r:#}"
            );
            assert_eq!(r["flagged"], false, "{outage} {name}: {r:#}");
        }
        // What the message itself says is known without DNS: the
        // signature's domain, the From domain DMARC would be evaluated on.
        assert_eq!(
            dkim(&records[0]),
            [("signed.test".to_string(), "temperror".to_string())],
            "{outage}: the signed message's signature is reported with its domain: {:#}",
            records[0]
        );
        for r in &records {
            assert_eq!(
                r["auth"]["dmarc"]["domain"], "signed.test",
                "{outage}: {r:#}"
            );
        }
    }
    drop(silent);
}

/// A partner's post to an outside list, as Kestrel's MX received it: DMARC
/// fails under `policy` because the list rewrote the envelope and body.
fn list_post(policy: &str) -> Vec<u8> {
    format!(
        "Return-Path: <cold-users-bounces@lists.example>\r\n\
         Authentication-Results: mx.kestrelfoods.com; spf=pass smtp.mailfrom=lists.example;\r\n\
         \tdkim=fail header.d=coldchain-partners.eu;\r\n\
         \tdmarc=fail ({policy}) header.from=coldchain-partners.eu\r\n\
         Received: from mail.lists.example (mail.lists.example [203.0.113.40])\r\n\
         \tby mx.kestrelfoods.com (Postfix) with ESMTPS id 4T2;\r\n\
         \tTue, 2 Jan 2024 09:59:58 +0000\r\n\
         From: Anna Berg <a.berg@coldchain-partners.eu>\r\n\
         Sender: cold-users <cold-users-bounces@lists.example>\r\n\
         To: cold-users@lists.example\r\n\
         List-Id: Cold chain users <cold-users.lists.example>\r\n\
         List-Unsubscribe: <mailto:cold-users-leave@lists.example>\r\n\
         Subject: [cold-users] Sensor firmware 2.1\r\n\
         Date: Tue, 2 Jan 2024 09:59:50 +0000\r\n\
         Message-ID: <fw21.4411@coldchain-partners.eu>\r\n\
         \r\n\
         Firmware 2.1 for the door sensors is out; the release notes are on the wiki.\r\n"
    )
    .into_bytes()
}

/// A partner's message forwarded by an alias hosted at `sealer`, which
/// sealed with ARC that it saw DMARC pass; Kestrel's MX saw SPF and DMARC
/// fail (the forwarder is not the partner's host) and the chain pass.
fn forwarded(sealer: &str) -> Vec<u8> {
    format!(
        "Return-Path: <anna+caf_=ap=kestrelfoods.com@forwarder.example>\r\n\
         Authentication-Results: mx.kestrelfoods.com; spf=fail smtp.mailfrom=coldchain-partners.eu;\r\n\
         \tdkim=fail header.d=coldchain-partners.eu;\r\n\
         \tdmarc=fail (p=REJECT) header.from=coldchain-partners.eu; arc=pass\r\n\
         Received: from mail-sor-f41.{sealer} (mail-sor-f41.{sealer} [209.85.220.41])\r\n\
         \tby mx.kestrelfoods.com (Postfix) with ESMTPS id 4T3;\r\n\
         \tTue, 2 Jan 2024 09:59:58 +0000\r\n\
         ARC-Seal: i=1; a=rsa-sha256; t=1704189598; cv=none; d={sealer}; s=arc-20160816;\r\n\
         \tb=c2VhbA==\r\n\
         ARC-Authentication-Results: i=1; mx.{sealer};\r\n\
         \tdkim=pass header.d=coldchain-partners.eu;\r\n\
         \tdmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=coldchain-partners.eu\r\n\
         From: Anna Berg <a.berg@coldchain-partners.eu>\r\n\
         To: ap@kestrelfoods.com\r\n\
         Subject: Delivery schedule\r\n\
         Date: Tue, 2 Jan 2024 09:59:50 +0000\r\n\
         Message-ID: <ds.9921@coldchain-partners.eu>\r\n\
         \r\n\
         The January deliveries move to Tuesdays; the schedule is unchanged otherwise.\r\n"
    )
    .into_bytes()
}

const SPOOF: [&str; 2] = ["envelope_from_spoof", "header_from_spoof"];

#[test]
fn scan_does_not_flag_list_mail_or_mail_a_trusted_sealer_forwarded() {
    let dir = tempfile::tempdir().unwrap();
    let org = kestrel_org();
    let org = org.to_str().unwrap();
    let args = ["--org", org];
    for (name, message, why) in [
        (
            "list-p-none.eml",
            list_post("p=NONE sp=NONE dis=NONE"),
            "dmarc_failure_explained_by_list",
        ),
        (
            "forwarded-google.eml",
            forwarded("google.com"),
            "auth_failure_explained_by_arc",
        ),
    ] {
        let r = scan_one(dir.path(), name, &message, &args);
        assert_eq!(r["flagged"], false, "{name} is not flagged: {r:#}");
        assert!(
            !techniques(&r).iter().any(|t| SPOOF.contains(t)),
            "{name}: no spoofing technique: {r:#}"
        );
        // The list's explanation reads a List-Id the sender could write,
        // so it may not lower a score: it shows as the failure rule not
        // firing. A trusted sealer's seal is verified and may weigh below
        // zero, so it is a reason of its own.
        let codes = reason_codes(&r);
        assert!(
            codes.contains(&why)
                || (why == "dmarc_failure_explained_by_list" && !codes.contains(&"dmarc_fail")),
            "{name}: what explains the failure shows ({why}): {r:#}"
        );
    }
    // The same failures with nothing to explain them stay evidence: a list
    // cannot excuse p=reject, and a seal by an untrusted forwarder vouches
    // for nothing.
    for (name, message) in [
        (
            "list-p-reject.eml",
            list_post("p=REJECT sp=REJECT dis=REJECT"),
        ),
        ("forwarded-untrusted.eml", forwarded("forwarder.example")),
    ] {
        let r = scan_one(dir.path(), name, &message, &args);
        assert_eq!(r["flagged"], true, "{name} is flagged: {r:#}");
        assert!(
            techniques(&r).iter().any(|t| SPOOF.contains(t)),
            "{name}: a spoofing technique: {r:#}"
        );
    }
}
