//! `--tenant DOMAIN=FILE` and `--tenants DIR` on `impostor serve` and
//! `impostor milter`: the recipients choose the org profile, the verdict
//! and the milter's headers name the tenant, a bad tenant file stops the
//! start with exit status 2.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::milter_client::{added_headers, open_session_as, send_message_in};
use support::{repo, Milter, Served};

/// Otter Logistics: its CEO is Maria Keller, nobody named Brandt.
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

/// A default profile with no VIP at all.
const PLAIN: &str = r#"
name = "Plain Default"
internal_domains = ["plain.example"]
"#;

fn kestrel() -> PathBuf {
    repo().join("datasets/orgs/kestrel-foods.toml")
}

/// Writes the Otter and default profiles into `dir`.
fn profiles(dir: &Path) -> (PathBuf, PathBuf) {
    let otter = dir.join("otter.toml");
    let plain = dir.join("plain.toml");
    std::fs::write(&otter, OTTER).unwrap();
    std::fs::write(&plain, PLAIN).unwrap();
    (otter, plain)
}

/// The From display name is Kestrel's CEO on a free-mail address.
fn ceo_on_freemail() -> Vec<u8> {
    std::fs::read(repo().join("datasets/examples/02-freemail-ceo.eml")).unwrap()
}

fn techniques(v: &serde_json::Value) -> Vec<String> {
    v["techniques"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|x| x.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn start(extra: &[&str]) -> Served {
    Served::start(&["--quiet"], extra, &[])
}

/// One request to `server`: (status, the body as JSON, or null).
fn request(server: &Served, method: &str, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let (status, body) = server.request(method, path, &[], body);
    (status, serde_json::from_str(&body).unwrap_or_default())
}

fn scan_for(server: &Served, rcpt: &str) -> serde_json::Value {
    let (status, v) = request(
        server,
        "POST",
        &format!("/v1/scan?mail_from=dan.brandt.office%40gmail.com&rcpt={rcpt}"),
        &ceo_on_freemail(),
    );
    assert_eq!(status, 200, "{v}");
    v
}

/// Serve's answers for tenant A (Kestrel), tenant B (Otter), a subdomain
/// of B, and an unknown domain (the default profile, without a VIP).
fn assert_tenants_chosen(server: &Served) {
    let a = scan_for(server, "ap%40kestrelfoods.com");
    assert_eq!(a["tenant"], "kestrelfoods.com", "{a}");
    assert!(
        techniques(&a).contains(&"freemail_impersonation".to_string()),
        "{a}"
    );
    let b = scan_for(server, "ap%40otterlogistics.example");
    assert_eq!(b["tenant"], "otterlogistics.example", "{b}");
    assert!(
        !techniques(&b).contains(&"freemail_impersonation".to_string()),
        "{b}"
    );
    let sub = scan_for(server, "ap%40Mail.OtterLogistics.example");
    assert_eq!(sub["tenant"], "otterlogistics.example", "{sub}");
    let unknown = scan_for(server, "ap%40elsewhere.example");
    assert!(
        unknown.get("tenant").is_none(),
        "the default profile judged it: {unknown}"
    );
    assert!(
        !techniques(&unknown).contains(&"freemail_impersonation".to_string()),
        "the default profile has no VIP: {unknown}"
    );
    // Both tenants in one transaction: the most severe verdict, Kestrel's.
    let both = scan_for(server, "ap%40otterlogistics.example,ap%40kestrelfoods.com");
    assert_eq!(both["tenant"], "kestrelfoods.com", "{both}");
}

#[test]
fn serve_judges_each_recipient_under_the_profile_of_its_tenant_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (otter, plain) = profiles(dir.path());
    let server = start(&[
        "--org",
        plain.to_str().unwrap(),
        "--tenant",
        &format!("kestrelfoods.com={}", kestrel().display()),
        "--tenant",
        &format!("otterlogistics.example={}", otter.display()),
    ]);
    assert_tenants_chosen(&server);
    let (status, health) = request(&server, "GET", "/healthz", b"");
    assert_eq!(status, 200);
    assert_eq!(
        health["tenants"],
        serde_json::json!(["kestrelfoods.com", "otterlogistics.example"])
    );
}

#[test]
fn serve_reads_a_tenant_directory_by_each_profiles_internal_domains() {
    let dir = tempfile::tempdir().unwrap();
    let (otter, plain) = profiles(dir.path());
    let tenants = dir.path().join("tenants");
    std::fs::create_dir(&tenants).unwrap();
    std::fs::copy(kestrel(), tenants.join("kestrel.toml")).unwrap();
    std::fs::copy(&otter, tenants.join("otter.toml")).unwrap();
    std::fs::write(tenants.join("notes.txt"), "not a profile").unwrap();
    let server = start(&[
        "--org",
        plain.to_str().unwrap(),
        "--tenants",
        tenants.to_str().unwrap(),
    ]);
    assert_tenants_chosen(&server);
    // kestrel-foods.toml also lists kestrelfoods.co.jp.
    let jp = scan_for(&server, "ap%40kestrelfoods.co.jp");
    assert_eq!(jp["tenant"], "kestrelfoods.com", "{jp}");
}

/// `impostor COMMAND ARGS` expected to refuse to start: its standard error.
fn refused(command: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_impostor"))
        .arg(command)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{command} {args:?}: {stderr}");
    stderr
}

#[test]
fn a_bad_tenant_file_is_refused_at_start_with_exit_status_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (otter, _) = profiles(dir.path());
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "name = \"Broken\"\ninternal_domains = [\n").unwrap();
    let missing = dir.path().join("missing.toml");
    for command in ["serve", "milter"] {
        for file in [&broken, &missing] {
            let spec = format!("broken.example={}", file.display());
            let err = refused(command, &["--tenant", &spec]);
            assert!(err.contains(&file.display().to_string()), "{err}");
        }
        let err = refused(command, &["--tenant", "no-equals-sign"]);
        assert!(err.contains("DOMAIN=FILE"), "{err}");
        // One domain, two tenants.
        let err = refused(
            command,
            &[
                "--tenant",
                &format!("otterlogistics.example={}", otter.display()),
                "--tenant",
                &format!("OTTERLOGISTICS.example={}", kestrel().display()),
            ],
        );
        assert!(err.contains("claimed by both"), "{err}");
        // A tenant directory whose profile serves no domain.
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        std::fs::write(empty.join("none.toml"), "name = \"None\"\n").unwrap();
        let err = refused(command, &["--tenants", empty.to_str().unwrap()]);
        assert!(err.contains("none.toml"), "{err}");
    }
}

/// One message through a whole session with `rcpt` as RCPT TO: the
/// header fields the milter added (name, value) and the final reply.
fn milter_message(m: &Milter, rcpt: &[&str], raw: &[u8]) -> (Vec<(String, String)>, u8) {
    let session = open_session_as(m, "dan.brandt.office@gmail.com", rcpt, None);
    let replies = send_message_in(session, raw);
    let last = replies.last().expect("end of message is answered").0;
    (added_headers(&replies), last)
}

fn header<'a>(added: &'a [(String, String)], name: &str) -> Option<&'a str> {
    added
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_milter_chooses_the_tenant_by_rcpt_to_and_names_it_in_a_header_and_its_verdict_log() {
    let dir = tempfile::tempdir().unwrap();
    let (otter, plain) = profiles(dir.path());
    let log = dir.path().join("verdicts.ndjson");
    let kestrel_spec = format!("kestrelfoods.com={}", kestrel().display());
    let otter_spec = format!("otterlogistics.example={}", otter.display());
    // Tag everything, reject and hold nothing: the headers tell the verdict.
    let m = Milter::start(&[
        "--org",
        plain.to_str().unwrap(),
        "--tenant",
        &kestrel_spec,
        "--tenant",
        &otter_spec,
        "--reject-at",
        "off",
        "--quarantine-at",
        "off",
        "--verdict-log",
        log.to_str().unwrap(),
    ]);
    m.wait_log("tenant otterlogistics.example: mail to otterlogistics.example judged under");
    let raw = ceo_on_freemail();
    let (a, reply) = milter_message(&m, &["ap@kestrelfoods.com"], &raw);
    assert_eq!(reply, b'c', "{}", m.log());
    assert_eq!(header(&a, "X-Impostor-Tenant"), Some("kestrelfoods.com"));
    assert!(
        header(&a, "X-Impostor-Techniques").is_some_and(|t| t.contains("freemail_impersonation")),
        "{a:?}"
    );
    let (b, _) = milter_message(&m, &["ap@otterlogistics.example"], &raw);
    assert_eq!(
        header(&b, "X-Impostor-Tenant"),
        Some("otterlogistics.example"),
        "{b:?}\n{}",
        m.log()
    );
    assert!(
        !header(&b, "X-Impostor-Techniques")
            .unwrap_or("")
            .contains("freemail_impersonation"),
        "{b:?}"
    );
    // Two tenants in one transaction: the most severe verdict, Kestrel's.
    let (both, _) = milter_message(
        &m,
        &["ap@otterlogistics.example", "ap@kestrelfoods.com"],
        &raw,
    );
    assert_eq!(header(&both, "X-Impostor-Tenant"), Some("kestrelfoods.com"));
    // An unknown domain: the default profile, and no tenant header.
    let (other, _) = milter_message(&m, &["ap@elsewhere.example"], &raw);
    assert_eq!(header(&other, "X-Impostor-Tenant"), None, "{other:?}");
    m.wait_log("tenant=kestrelfoods.com");
    // One verdict line a message, in the order judged, naming the tenant
    // (none for the default profile) and the message as the milter saw it.
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tenants: Vec<Option<&str>> = lines.iter().map(|l| l["tenant"].as_str()).collect();
    assert_eq!(
        tenants,
        [
            Some("kestrelfoods.com"),
            Some("otterlogistics.example"),
            Some("kestrelfoods.com"),
            None
        ],
        "{text}"
    );
    let message_id = impostor_serve::verdict_log::message_id(&raw);
    for l in &lines {
        assert_eq!(l["message_id"].as_str(), message_id.as_deref(), "{l}");
        assert_eq!(l["sha256"].as_str().map(str::len), Some(64), "{l}");
    }
    assert_eq!(lines[0]["flagged"], true, "{text}");
    assert!(lines[0]["techniques"]
        .as_array()
        .unwrap()
        .contains(&"freemail_impersonation".into()));
}
