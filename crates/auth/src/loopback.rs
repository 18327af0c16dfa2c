//! A real authoritative DNS server for tests and benchmarks: Knot DNS
//! (`knotd`, Debian package `knot`) started on 127.0.0.1 at a free port
//! with zone files written at run time into a temporary directory, and
//! stopped when dropped. Beside it, DKIM keys generated at run time (RSA
//! and Ed25519), whose public halves go into a zone, and the signer and
//! ARC sealer that use them (mail-auth's).
//!
//! Nothing here is used in production: it exists so every test of live
//! verification asks a real server about a zone whose truth the test wrote.

use mail_auth::arc::ArcSealer;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::generate::DkimKeyPair;
use mail_auth::dkim::DkimSigner;
use mail_auth::{ArcOutput, AuthenticatedMessage, AuthenticationResults};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs the Knot DNS server.
pub const KNOTD: &str = "/usr/sbin/knotd";

/// One zone: its origin and its records in zone-file syntax (names
/// relative to the origin, `@` for the apex).
#[derive(Clone, Debug)]
pub struct Zone {
    origin: String,
    records: Vec<String>,
}

impl Zone {
    /// A zone for `origin` with its SOA and NS records.
    pub fn new(origin: &str) -> Zone {
        let origin = origin.trim_end_matches('.').to_ascii_lowercase();
        Zone {
            records: vec![
                format!("@ 3600 IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 300"),
                format!("@ 3600 IN NS ns.{origin}."),
                "ns 3600 IN A 127.0.0.1".to_string(),
            ],
            origin,
        }
    }

    /// The zone's origin, without the final dot.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Adds a record: `name` relative to the origin (`@` for the apex),
    /// `kind` (A, MX, …) and its data in zone-file syntax.
    pub fn record(mut self, name: &str, kind: &str, data: &str) -> Zone {
        self.records.push(format!("{name} 3600 IN {kind} {data}"));
        self
    }

    /// Adds a TXT record, split into 255-byte strings as DNS requires.
    pub fn txt(self, name: &str, text: &str) -> Zone {
        let mut data = String::new();
        let bytes = text.as_bytes();
        for chunk in bytes.chunks(255) {
            let s = String::from_utf8_lossy(chunk)
                .replace('\\', "\\\\")
                .replace('"', "\\\"");
            let _ = write!(data, "\"{s}\" ");
        }
        self.record(name, "TXT", data.trim_end())
    }

    /// Publishes a DKIM key at `selector._domainkey` (the key's domain must
    /// be this zone or below it).
    pub fn dkim_key(self, key: &DkimKey) -> Zone {
        let name = key.record_name();
        let rel = name
            .strip_suffix(&format!(".{}", self.origin))
            .unwrap_or(&name)
            .to_string();
        self.txt(&rel, &key.txt_record())
    }

    fn file_text(&self) -> String {
        let mut s = format!("$ORIGIN {}.\n$TTL 3600\n", self.origin);
        for r in &self.records {
            s.push_str(r);
            s.push('\n');
        }
        s
    }
}

/// A running `knotd` serving the given zones on 127.0.0.1; stopped (and
/// its directory removed) when dropped.
pub struct KnotServer {
    child: Option<Child>,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl KnotServer {
    /// Writes the zones and a configuration to a temporary directory and
    /// starts `knotd` on a free loopback port; returns once it answers on
    /// TCP. An error says what is missing (knotd not installed, a zone
    /// that does not load).
    pub fn start(zones: &[Zone]) -> Result<KnotServer, String> {
        if !std::path::Path::new(KNOTD).exists() {
            return Err(format!(
                "{KNOTD} is missing: install the Debian package knot (.ci/setup does)"
            ));
        }
        let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temp dir: {e}"))?;
        let d = dir.path();
        let port = free_port()?;
        let mut conf = format!(
            "server:\n    listen: 127.0.0.1@{port}\n    rundir: {r}\n    pidfile: {r}/knot.pid\n\
             database:\n    storage: {r}/db\n\
             log:\n  - target: stderr\n    any: error\n\
             template:\n  - id: default\n    storage: {r}\n    zonefile-sync: -1\n    journal-content: none\n\
             zone:\n",
            r = d.display()
        );
        for z in zones {
            let file = format!("{}.zone", z.origin);
            std::fs::write(d.join(&file), z.file_text())
                .map_err(|e| format!("cannot write zone {}: {e}", z.origin))?;
            let _ = writeln!(conf, "  - domain: {}.\n    file: {file}", z.origin);
        }
        let conf_path: PathBuf = d.join("knot.conf");
        std::fs::create_dir_all(d.join("db")).map_err(|e| e.to_string())?;
        std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
        let child = Command::new(KNOTD)
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {KNOTD}: {e}"))?;
        let mut server = KnotServer {
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(100)).is_ok() {
                // The zones load just after the sockets open.
                std::thread::sleep(Duration::from_millis(150));
                return Ok(());
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut err);
                    }
                    return Err(format!("knotd exited ({status}): {err}"));
                }
            }
            if Instant::now() > deadline {
                return Err(format!("knotd did not answer on {} within 15 s", self.addr));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Where it listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The directory holding the configuration and zones.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Stops the server now (an outage); its address stays closed.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for KnotServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A business message of about 3 KB from alice@sender.test, received from
/// mx.sender.test [192.0.2.10]: the usual headers and a text body (the
/// benchmarks' message; sign it with a key of sender.test).
pub fn business_message() -> Vec<u8> {
    let mut body = String::new();
    for i in 0..24 {
        body.push_str(&format!(
            "Paragraph {i}: please review the attached quarterly figures before Friday's \
             meeting; the board asked for the regional breakdown and the updated forecast.\r\n"
        ));
    }
    format!(
        "Received: from mx.sender.test (mx.sender.test [192.0.2.10]) by mx.receiver.test \
         with ESMTPS id 4Q1; Fri, 04 Dec 2026 10:00:01 +0000\r\n\
         From: Alice Martin <alice@sender.test>\r\nTo: Bob <bob@receiver.test>\r\n\
         Subject: Quarterly figures for review\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\n\
         Message-ID: <20261204100000.1@sender.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    )
    .into_bytes()
}

/// A loopback port free for both UDP and TCP right now.
pub fn free_port() -> Result<u16, String> {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = udp.local_addr().map_err(|e| e.to_string())?.port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err("no free loopback port for the DNS server".into())
}

#[derive(Clone)]
enum KeyKind {
    Rsa(Vec<u8>),
    Ed25519(Vec<u8>),
}

/// A DKIM (or ARC) key generated at run time, its public half as a TXT
/// record, and a signer with it.
#[derive(Clone)]
pub struct DkimKey {
    /// The signing domain (`d=`).
    pub domain: String,
    /// The selector (`s=`).
    pub selector: String,
    kind: KeyKind,
    public: String,
}

impl DkimKey {
    /// A new RSA key of `bits` bits.
    pub fn rsa(domain: &str, selector: &str, bits: usize) -> DkimKey {
        let pair = DkimKeyPair::generate_rsa(bits).expect("RSA key generation");
        DkimKey {
            domain: domain.to_string(),
            selector: selector.to_string(),
            public: format!("v=DKIM1; k=rsa; p={}", pair.encoded_public_key()),
            kind: KeyKind::Rsa(pair.private_key().to_vec()),
        }
    }

    /// A new Ed25519 key.
    pub fn ed25519(domain: &str, selector: &str) -> DkimKey {
        let pair = DkimKeyPair::generate_ed25519().expect("Ed25519 key generation");
        DkimKey {
            domain: domain.to_string(),
            selector: selector.to_string(),
            public: format!("v=DKIM1; k=ed25519; p={}", pair.encoded_public_key()),
            kind: KeyKind::Ed25519(pair.private_key().to_vec()),
        }
    }

    /// `selector._domainkey.domain`.
    pub fn record_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }

    /// The TXT record publishing the public key.
    pub fn txt_record(&self) -> String {
        self.public.clone()
    }

    /// The message with a DKIM-Signature over From, To, Subject, Date and
    /// Message-ID prepended.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        const H: [&str; 5] = ["From", "To", "Subject", "Date", "Message-ID"];
        let header = match &self.kind {
            KeyKind::Rsa(der) => DkimSigner::from_key(rsa(der)?)
                .domain(&self.domain)
                .selector(&self.selector)
                .headers(H)
                .sign(message)
                .map(|s| s.to_header()),
            KeyKind::Ed25519(der) => DkimSigner::from_key(ed(der)?)
                .domain(&self.domain)
                .selector(&self.selector)
                .headers(H)
                .sign(message)
                .map(|s| s.to_header()),
        }
        .map_err(|e| format!("DKIM signing failed: {e}"))?;
        let mut out = header.into_bytes();
        out.extend_from_slice(message);
        Ok(out)
    }

    /// The message with one more ARC set (seal, message signature, and
    /// results `authserv; arc=none` or as given) prepended, as a
    /// forwarder or list would add. The message must carry no ARC set
    /// yet, or a chain that validates (sealing needs no DNS then: the
    /// chain so far is taken as `arc_so_far`).
    pub fn seal(
        &self,
        message: &[u8],
        authserv_id: &str,
        arc_so_far: &ArcOutput<'_>,
    ) -> Result<Vec<u8>, String> {
        const H: [&str; 5] = ["From", "To", "Subject", "Date", "DKIM-Signature"];
        let parsed = AuthenticatedMessage::parse(message).ok_or("unparsable message")?;
        let results = AuthenticationResults::new(authserv_id);
        let set = match &self.kind {
            KeyKind::Rsa(der) => ArcSealer::from_key(rsa(der)?)
                .domain(&self.domain)
                .selector(&self.selector)
                .headers(H)
                .seal(&parsed, &results, arc_so_far)
                .map(|s| s.to_header()),
            KeyKind::Ed25519(der) => ArcSealer::from_key(ed(der)?)
                .domain(&self.domain)
                .selector(&self.selector)
                .headers(H)
                .seal(&parsed, &results, arc_so_far)
                .map(|s| s.to_header()),
        }
        .map_err(|e| format!("ARC sealing failed: {e}"))?;
        let mut out = set.into_bytes();
        out.extend_from_slice(message);
        Ok(out)
    }
}

fn rsa(der: &[u8]) -> Result<RsaKey<Sha256>, String> {
    RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)))
        .map_err(|e| format!("RSA key: {e}"))
}

fn ed(der: &[u8]) -> Result<Ed25519Key, String> {
    Ed25519Key::from_pkcs8_der(der).map_err(|e| format!("Ed25519 key: {e}"))
}
