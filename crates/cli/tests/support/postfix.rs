//! A private Postfix on loopback and the end-to-end flow through it, for
//! the tests that run Postfix against a milter: postfix_e2e.rs (the tree's
//! binary) and installed_package.rs (the installed package's, started as
//! its systemd unit starts it). Included by `#[path]` beside `mod
//! support;`, so only these tests compile it.
//!
//! Needs the Debian `postfix` package and root (Postfix's daemons drop to
//! the postfix user; .ci/setup installs it): a missing one fails the test.

#![allow(dead_code)]

use crate::support::free_port;
use crate::support::{seed_dir, Milter};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const RCPT: &str = "jessie@interface.com";

/// Runs a Postfix command; its output on failure.
pub fn postfix_cmd(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("running {program}: {e} (is the postfix package installed? see .ci/run)")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

fn id(flag: &str) -> String {
    postfix_cmd("id", &[flag, "postfix"]).trim().to_string()
}

/// A private Postfix instance, stopped on drop (also when a test fails).
pub struct Postfix {
    root: tempfile::TempDir,
    /// The SMTP port mail arrives on.
    pub port: u16,
    /// A second smtpd, the organisation's submission service: it names
    /// itself ORIGINATING to milters (`milter_macro_daemon_name`), as
    /// OpenDKIM's setups do.
    pub submission_port: u16,
    running: bool,
}

impl Postfix {
    fn config(&self) -> PathBuf {
        self.root.path().join("etc")
    }
    fn maildir(&self) -> PathBuf {
        self.root.path().join("mail/jessie/new")
    }
    pub fn c(&self) -> String {
        self.config().display().to_string()
    }

    pub fn new(milter_port: u16) -> Postfix {
        assert!(
            Path::new("/usr/sbin/postfix").exists(),
            "Postfix is not installed: apt-get install postfix (.ci/run does)"
        );
        assert_eq!(
            std::fs::metadata("/proc/self").unwrap().uid(),
            0,
            "the Postfix test runs as root (Postfix's master must)"
        );
        let root = tempfile::tempdir().unwrap();
        // Postfix's daemons run as the postfix user and must reach in.
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = |d: &str| {
            let p = root.path().join(d);
            std::fs::create_dir_all(&p).unwrap();
            p
        };
        let (etc, queue, data, mail) = (dir("etc"), dir("queue"), dir("data"), dir("mail"));
        let (uid, gid) = (id("-u"), id("-g"));
        let (uid_n, gid_n): (u32, u32) = (uid.parse().unwrap(), gid.parse().unwrap());
        std::os::unix::fs::chown(&data, Some(uid_n), Some(gid_n)).unwrap();
        std::os::unix::fs::chown(&mail, Some(uid_n), Some(gid_n)).unwrap();
        let port = free_port();
        let submission_port = free_port();
        let t = root.path().display();
        let main_cf = format!(
            "compatibility_level = 3.6
queue_directory = {t}/queue
data_directory = {t}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = {t}/maillog
maillog_file_prefixes = {t}
myhostname = mx.impostor-test.invalid
mydomain = impostor-test.invalid
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
default_transport = error:this test relays nothing
relay_transport = error:this test relays nothing
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = interface.com
virtual_mailbox_base = {t}/mail
virtual_mailbox_maps = static:jessie/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
smtpd_milters = inet:127.0.0.1:{milter_port}
milter_default_action = tempfail
milter_protocol = 6
smtpd_authorized_xclient_hosts = 127.0.0.0/8
transport_maps = inline:{{ some-vendor.example=discard: }}
"
        );
        std::fs::write(etc.join("main.cf"), main_cf).unwrap();
        // The packaged master.cf, with the SMTP listener moved to our port
        // and no chroot (the chroot would be our queue without /etc).
        let master = std::fs::read_to_string("/etc/postfix/master.cf")
            .expect("/etc/postfix/master.cf (postfix package)");
        let mut out = String::new();
        for line in master.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if line.starts_with(['#', ' ', '\t']) || fields.len() < 8 {
                out.push_str(line);
            } else if fields[0] == "smtp" && fields[1] == "inet" {
                out.push_str(&format!("127.0.0.1:{port} inet n - n - - smtpd\n"));
                out.push_str(&format!(
                    "127.0.0.1:{submission_port} inet n - n - - smtpd\n  -o milter_macro_daemon_name=ORIGINATING"
                ));
            } else if fields[1] == "inet" {
                continue;
            } else {
                let mut f = fields.clone();
                f[4] = "n";
                out.push_str(&f.join(" "));
            }
            out.push('\n');
        }
        std::fs::write(etc.join("master.cf"), out).unwrap();
        let _ = queue;
        let mut pf = Postfix {
            root,
            port,
            submission_port,
            running: false,
        };
        let c = pf.c();
        postfix_cmd("postfix", &["-c", &c, "check"]);
        postfix_cmd("postfix", &["-c", &c, "start"]);
        pf.running = true;
        pf.wait_for_smtp();
        pf
    }

    fn wait_for_smtp(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err()
            || TcpStream::connect(("127.0.0.1", self.submission_port)).is_err()
        {
            assert!(
                Instant::now() < deadline,
                "Postfix does not listen\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Points smtpd at another milter. A restart rather than a reload: no
    /// smtpd of the old configuration may take the next message.
    pub fn use_milter(&self, port: u16) {
        let c = self.c();
        postfix_cmd(
            "postconf",
            &[
                "-c",
                &c,
                "-e",
                &format!("smtpd_milters = inet:127.0.0.1:{port}"),
            ],
        );
        self.stop();
        postfix_cmd("postfix", &["-c", &c, "start"]);
        self.wait_for_smtp();
    }

    /// Stops the instance and waits (at most 10 s) for its master to exit.
    pub fn stop(&self) {
        let c = self.c();
        let _ = Command::new("postfix").args(["-c", &c, "stop"]).output();
        let pid = self.root.path().join("queue/pid/master.pid");
        for _ in 0..100 {
            let alive = std::fs::read_to_string(&pid)
                .ok()
                .and_then(|p| p.trim().parse::<u32>().ok())
                .is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
            if !alive {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("maillog")).unwrap_or_default()
    }

    /// Delivered messages (Maildir new/), waiting up to 30 s for `n`.
    pub fn delivered(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut files: Vec<PathBuf> = std::fs::read_dir(self.maildir())
                .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            if files.len() >= n {
                files.sort();
                return files
                    .iter()
                    .map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned())
                    .collect();
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} messages delivered after 30 s\n{}",
                files.len(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        if self.running {
            self.stop();
        }
    }
}

/// One SMTP reply (all its lines) and its code.
fn reply(r: &mut BufReader<TcpStream>) -> (u16, String) {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).expect("reading an SMTP reply");
        assert!(line.len() >= 4, "short SMTP reply {line:?} after {text:?}");
        text.push_str(&line);
        if line.as_bytes()[3] == b' ' {
            return (line[..3].parse().unwrap(), text);
        }
    }
}

fn expect(r: &mut BufReader<TcpStream>, code: u16, what: &str) {
    let (c, text) = reply(r);
    assert_eq!(c, code, "{what}: {text}");
}

/// The message as sent: CRLF lines, without Delivered-To (Postfix's
/// delivery agent would take its own recipient there for a mail loop).
fn wire_form(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap();
    let mut kept = String::new();
    let mut skipping = false;
    for line in head.lines() {
        if !line.starts_with([' ', '\t']) {
            skipping = line.to_ascii_lowercase().starts_with("delivered-to:");
        }
        if !skipping {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    format!("{kept}\n{body}").replace('\n', "\r\n")
}

fn return_path(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.lines()
        .find_map(|l| l.strip_prefix("Return-Path:"))
        .map(|v| {
            v.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
        .unwrap_or_else(|| "sender@example.org".into())
}

/// Sends one message, MAIL FROM its Return-Path; the reply to the end of
/// DATA.
pub fn smtp_send(port: u16, raw: &[u8]) -> (u16, String) {
    smtp_send_from(port, &return_path(raw), raw)
}

/// Sends one message with MAIL FROM `mail_from`; the reply to the end of
/// DATA.
pub fn smtp_send_from(port: u16, mail_from: &str, raw: &[u8]) -> (u16, String) {
    smtp_send_as(port, None, mail_from, RCPT, raw)
}

/// Sends one message with MAIL FROM `mail_from` to `rcpt`; with
/// `client_addr`, XCLIENT first makes Postfix (and so the milter) take the
/// client for that address. The reply to the end of DATA.
pub fn smtp_send_as(
    port: u16,
    client_addr: Option<&str>,
    mail_from: &str,
    rcpt: &str,
    raw: &[u8],
) -> (u16, String) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    expect(&mut r, 220, "greeting");
    w.write_all(b"EHLO client.impostor-test.invalid\r\n")
        .unwrap();
    expect(&mut r, 250, "EHLO");
    if let Some(addr) = client_addr {
        w.write_all(format!("XCLIENT ADDR={addr}\r\n").as_bytes())
            .unwrap();
        // XCLIENT starts the session again: a new greeting, a new EHLO.
        expect(&mut r, 220, "XCLIENT");
        w.write_all(b"EHLO client.impostor-test.invalid\r\n")
            .unwrap();
        expect(&mut r, 250, "EHLO after XCLIENT");
    }
    w.write_all(format!("MAIL FROM:<{mail_from}>\r\n").as_bytes())
        .unwrap();
    expect(&mut r, 250, "MAIL FROM");
    w.write_all(format!("RCPT TO:<{rcpt}>\r\n").as_bytes())
        .unwrap();
    expect(&mut r, 250, "RCPT TO");
    w.write_all(b"DATA\r\n").unwrap();
    expect(&mut r, 354, "DATA");
    let mut data = String::new();
    for line in wire_form(raw).split_inclusive("\r\n") {
        if line.starts_with('.') {
            data.push('.');
        }
        data.push_str(line);
    }
    if !data.ends_with("\r\n") {
        data.push_str("\r\n");
    }
    data.push_str(".\r\n");
    w.write_all(data.as_bytes()).unwrap();
    let end = reply(&mut r);
    let _ = w.write_all(b"QUIT\r\n");
    end
}

/// The body of a message (after the first blank line), LF line ends.
fn body(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    text.split_once("\n\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = seed_dir();
    (1..=8)
        .map(|i| {
            let name = format!("{i:03}.eml");
            let raw = std::fs::read(dir.join(&name)).unwrap();
            (name, raw)
        })
        .collect()
}

/// The value of a delivered message's header `field`.
pub fn header<'a>(message: &'a str, field: &str, name: &str) -> &'a str {
    message
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|v| v.strip_prefix(": ")))
        .unwrap_or_else(|| panic!("{name} has {field}:\n{message}"))
}

/// The delivered copy of `raw`, known by its unchanged body.
pub fn delivered_copy<'a>(delivered: &'a [String], raw: &[u8], name: &str) -> &'a String {
    let want = body(&wire_form(raw));
    delivered
        .iter()
        .find(|d| body(d) == want)
        .unwrap_or_else(|| panic!("{name} is delivered with its body unchanged\n{delivered:?}"))
}

pub const GENUINE: [&str; 2] = ["001.eml", "008.eml"];

/// The milter options [`rejects_attacks_and_delivers_genuine_mail`]
/// expects, beside `--org` naming the seed scenarios' org profile.
pub const REJECT_AT_MEDIUM: [&str; 4] = ["--quarantine-at", "low", "--reject-at", "medium"];

/// The first step of the end-to-end flow, against a milter that rejects
/// at medium and holds at low for the seed scenarios' organisation
/// ([`REJECT_AT_MEDIUM`]; the default model flags the six attacks, the
/// genuine two stay below low): a private Postfix is started on it, the
/// eight seed messages are sent, the attacks refused at SMTP time with a
/// reply naming a technique, the genuine two delivered without an
/// X-Impostor header, and the milter logs one line a message named by
/// Postfix's queue id. The Postfix instance is returned for later steps.
pub fn rejects_attacks_and_delivers_genuine_mail(milter: &Milter) -> Postfix {
    let pf = Postfix::new(milter.addr.port());
    for (name, raw) in seeds() {
        let (code, text) = smtp_send(pf.port, &raw);
        if GENUINE.contains(&name.as_str()) {
            assert_eq!(code, 250, "{name} is accepted: {text}\n{}", milter.log());
        } else {
            assert_eq!(
                code,
                550,
                "{name} is rejected: {text}\n{}\n{}",
                milter.log(),
                pf.log()
            );
            assert!(
                text.starts_with("550 5.7.1 Rejected by Impostor: ") && text.contains('_'),
                "{name}: the reply names a technique: {text}"
            );
        }
    }
    let delivered = pf.delivered(GENUINE.len());
    assert_eq!(
        delivered.len(),
        GENUINE.len(),
        "only the genuine mail is delivered"
    );
    for (name, raw) in seeds()
        .iter()
        .filter(|(n, _)| GENUINE.contains(&n.as_str()))
    {
        let got = delivered_copy(&delivered, raw, name);
        assert!(
            !got.contains("X-Impostor"),
            "{name} carries no X-Impostor header:\n{got}"
        );
    }

    // One line a message, named by Postfix's queue id (macro i).
    milter.wait_log("action=reject");
    let lines: Vec<String> = milter
        .log()
        .lines()
        .filter(|l| l.contains(" level="))
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 8, "{lines:?}");
    assert!(
        lines.iter().all(|l| !l.starts_with("impostor milter: - ")),
        "queue ids: {lines:?}"
    );
    pf
}
