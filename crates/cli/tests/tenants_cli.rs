//! `--tenant DOMAIN=FILE` and `--tenants DIR` on `impostor serve` and
//! `impostor milter`: the recipients choose the org profile, the verdict
//! and the milter's headers name the tenant, a bad tenant file stops the
//! start with exit status 2.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{free_port, repo, Milter};

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

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let addr = format!("127.0.0.1:{}", free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_impostor"))
            .args(["serve", "--quiet", "--listen", &addr])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(&server.addr).is_err() {
            assert!(Instant::now() < deadline, "impostor serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut rest = Vec::new();
        let _ = r.read_to_end(&mut rest);
        let text = String::from_utf8_lossy(&rest).into_owned();
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (status, serde_json::from_str(body).unwrap_or_default())
    }

    fn scan_for(&self, rcpt: &str) -> serde_json::Value {
        let (status, v) = self.request(
            "POST",
            &format!("/v1/scan?mail_from=dan.brandt.office%40gmail.com&rcpt={rcpt}"),
            &ceo_on_freemail(),
        );
        assert_eq!(status, 200, "{v}");
        v
    }
}

/// Serve's answers for tenant A (Kestrel), tenant B (Otter), a subdomain
/// of B, and an unknown domain (the default profile, without a VIP).
fn assert_tenants_chosen(server: &Server) {
    let a = server.scan_for("ap%40kestrelfoods.com");
    assert_eq!(a["tenant"], "kestrelfoods.com", "{a}");
    assert!(
        techniques(&a).contains(&"freemail_impersonation".to_string()),
        "{a}"
    );
    let b = server.scan_for("ap%40otterlogistics.example");
    assert_eq!(b["tenant"], "otterlogistics.example", "{b}");
    assert!(
        !techniques(&b).contains(&"freemail_impersonation".to_string()),
        "{b}"
    );
    let sub = server.scan_for("ap%40Mail.OtterLogistics.example");
    assert_eq!(sub["tenant"], "otterlogistics.example", "{sub}");
    let unknown = server.scan_for("ap%40elsewhere.example");
    assert!(
        unknown.get("tenant").is_none(),
        "the default profile judged it: {unknown}"
    );
    assert!(
        !techniques(&unknown).contains(&"freemail_impersonation".to_string()),
        "the default profile has no VIP: {unknown}"
    );
    // Both tenants in one transaction: the most severe verdict, Kestrel's.
    let both = server.scan_for("ap%40otterlogistics.example,ap%40kestrelfoods.com");
    assert_eq!(both["tenant"], "kestrelfoods.com", "{both}");
}

#[test]
fn serve_judges_each_recipient_under_the_profile_of_its_tenant_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (otter, plain) = profiles(dir.path());
    let server = Server::start(&[
        "--org",
        plain.to_str().unwrap(),
        "--tenant",
        &format!("kestrelfoods.com={}", kestrel().display()),
        "--tenant",
        &format!("otterlogistics.example={}", otter.display()),
    ]);
    assert_tenants_chosen(&server);
    let (status, health) = server.request("GET", "/healthz", b"");
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
    let server = Server::start(&[
        "--org",
        plain.to_str().unwrap(),
        "--tenants",
        tenants.to_str().unwrap(),
    ]);
    assert_tenants_chosen(&server);
    // kestrel-foods.toml also lists kestrelfoods.co.jp.
    let jp = server.scan_for("ap%40kestrelfoods.co.jp");
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

// The milter side of the protocol, as in milter_cli.rs: 4-byte length,
// command byte, data.

fn packet(cmd: u8, data: &[u8]) -> Vec<u8> {
    let mut p = ((data.len() + 1) as u32).to_be_bytes().to_vec();
    p.push(cmd);
    p.extend_from_slice(data);
    p
}

fn read_reply(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("reading a reply length");
    let len = u32::from_be_bytes(len) as usize;
    assert!((1..1 << 20).contains(&len), "reply length {len}");
    let mut buf = vec![0u8; len];
    s.read_exact(&mut buf).expect("reading a reply");
    (buf[0], buf[1..].to_vec())
}

fn step(s: &mut TcpStream, cmd: u8, data: &[u8]) {
    s.write_all(&packet(cmd, data)).unwrap();
    let (r, body) = read_reply(s);
    assert_eq!(r, b'c', "reply to {:?}: {:?}", cmd as char, body);
}

fn cstr(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for p in parts {
        v.extend_from_slice(p);
        v.push(0);
    }
    v
}

/// One message through a whole session with `rcpt` as RCPT TO: the
/// header fields the milter added (name, value) and the final reply.
fn milter_message(m: &Milter, rcpt: &[&str], raw: &[u8]) -> (Vec<(String, String)>, u8) {
    let mut s = TcpStream::connect(m.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut neg = Vec::new();
    neg.extend_from_slice(&6u32.to_be_bytes());
    neg.extend_from_slice(&0x1ffu32.to_be_bytes());
    neg.extend_from_slice(&0x1f_ffffu32.to_be_bytes());
    s.write_all(&packet(b'O', &neg)).unwrap();
    assert_eq!(read_reply(&mut s).0, b'O');
    let mut conn = cstr(&[b"client.example"]);
    conn.push(b'4');
    conn.extend_from_slice(&25000u16.to_be_bytes());
    conn.extend_from_slice(&cstr(&[b"127.0.0.1"]));
    step(&mut s, b'C', &conn);
    step(&mut s, b'H', &cstr(&[b"client.example"]));
    step(&mut s, b'M', &cstr(&[b"<dan.brandt.office@gmail.com>"]));
    for r in rcpt {
        step(&mut s, b'R', &cstr(&[format!("<{r}>").as_bytes()]));
    }
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap();
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            let last = fields.last_mut().unwrap();
            last.1.push('\n');
            last.1.push_str(line);
        } else if let Some((n, v)) = line.split_once(':') {
            fields.push((n.to_string(), v.trim_start().to_string()));
        }
    }
    for (n, v) in &fields {
        step(&mut s, b'L', &cstr(&[n.as_bytes(), v.as_bytes()]));
    }
    step(&mut s, b'N', &[]);
    step(&mut s, b'B', body.replace('\n', "\r\n").as_bytes());
    s.write_all(&packet(b'E', &[])).unwrap();
    let mut added = Vec::new();
    loop {
        let (r, data) = read_reply(&mut s);
        if r == b'h' {
            // Add header: name NUL value NUL.
            let mut parts = data.split(|&b| b == 0);
            let name = String::from_utf8_lossy(parts.next().unwrap_or_default());
            let value = String::from_utf8_lossy(parts.next().unwrap_or_default());
            added.push((name.into_owned(), value.into_owned()));
        }
        if matches!(r, b'c' | b'a' | b'r' | b't' | b'y' | b'd') {
            let _ = s.write_all(&packet(b'Q', &[]));
            return (added, r);
        }
    }
}

fn header<'a>(added: &'a [(String, String)], name: &str) -> Option<&'a str> {
    added
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_milter_chooses_the_tenant_by_rcpt_to_and_names_it_in_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let (otter, plain) = profiles(dir.path());
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
}
