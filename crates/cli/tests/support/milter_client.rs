//! The MTA side of the milter protocol (version 6), spoken byte by byte
//! over TCP: 4-byte big-endian length (command byte included), command,
//! data.

use super::Milter;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One milter packet: length, command, data.
pub fn packet(cmd: u8, data: &[u8]) -> Vec<u8> {
    let mut p = ((data.len() + 1) as u32).to_be_bytes().to_vec();
    p.push(cmd);
    p.extend_from_slice(data);
    p
}

/// A connection to the milter, reads timing out after 30 s.
pub fn connect(m: &Milter) -> TcpStream {
    let s = TcpStream::connect(m.addr).expect("connecting to the milter");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// One reply: (command, data); a length outside 1 byte..1 MiB fails.
pub fn read_reply(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("reading a reply length");
    let len = u32::from_be_bytes(len) as usize;
    assert!((1..1 << 20).contains(&len), "reply length {len}");
    let mut buf = vec![0u8; len];
    s.read_exact(&mut buf).expect("reading a reply");
    (buf[0], buf[1..].to_vec())
}

/// Sends a command and expects `c` (continue).
pub fn step(s: &mut TcpStream, cmd: u8, data: &[u8]) {
    s.write_all(&packet(cmd, data)).unwrap();
    let (r, body) = read_reply(s);
    assert_eq!(
        r as char,
        'c',
        "reply to {:?}: {:?}",
        cmd as char,
        String::from_utf8_lossy(&body)
    );
}

/// NUL-terminated strings, one after another.
pub fn cstr(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for p in parts {
        v.extend_from_slice(p);
        v.push(0);
    }
    v
}

/// Negotiation (every action and protocol option, as Postfix offers;
/// add/change header and quarantine must be requested), connect from
/// client.example 127.0.0.1 (with `daemon_name` as the connect stage's
/// `{daemon_name}` macro, Postfix's milter_macro_daemon_name), HELO,
/// MAIL FROM `mail_from` and one RCPT TO each of `rcpts`: the start of a
/// session.
pub fn open_session_as(
    m: &Milter,
    mail_from: &str,
    rcpts: &[&str],
    daemon_name: Option<&str>,
) -> TcpStream {
    let mut s = connect(m);
    let mut neg = Vec::new();
    neg.extend_from_slice(&6u32.to_be_bytes());
    neg.extend_from_slice(&0x1ffu32.to_be_bytes()); // every action
    neg.extend_from_slice(&0x1f_ffffu32.to_be_bytes()); // every protocol option, as Postfix offers
    s.write_all(&packet(b'O', &neg)).unwrap();
    let (r, body) = read_reply(&mut s);
    assert_eq!(r, b'O', "option negotiation reply");
    let actions = body
        .get(4..8)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .expect("the negotiation reply carries actions");
    assert_eq!(
        actions & 0x31,
        0x31,
        "add/change header and quarantine are requested: {actions:#x}"
    );
    if let Some(name) = daemon_name {
        // The daemon name is requested with the connect macros.
        assert!(
            body.windows(13).any(|w| w == b"{daemon_name}"),
            "the milter asks for {{daemon_name}}: {:?}",
            String::from_utf8_lossy(&body)
        );
        let mut macros = vec![b'C'];
        macros.extend_from_slice(&cstr(&[b"{daemon_name}", name.as_bytes()]));
        // Macros get no reply.
        s.write_all(&packet(b'D', &macros)).unwrap();
    }
    let mut conn = cstr(&[b"client.example"]);
    conn.push(b'4');
    conn.extend_from_slice(&25000u16.to_be_bytes());
    conn.extend_from_slice(&cstr(&[b"127.0.0.1"]));
    step(&mut s, b'C', &conn);
    step(&mut s, b'H', &cstr(&[b"client.example"]));
    step(&mut s, b'M', &cstr(&[format!("<{mail_from}>").as_bytes()]));
    for rcpt in rcpts {
        step(&mut s, b'R', &cstr(&[format!("<{rcpt}>").as_bytes()]));
    }
    s
}

/// A message split into header fields (name, unfolded value) and a CRLF body.
pub fn split_message(raw: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push('\n');
                last.1.push_str(line);
            }
        } else if let Some((n, v)) = line.split_once(':') {
            fields.push((n.to_string(), v.trim_start().to_string()));
        }
    }
    (fields, body.replace('\n', "\r\n").into_bytes())
}

/// The rest of a session already open: the header fields, the body in
/// 64 KiB chunks, end of message, then quit. What end-of-message sent back
/// (modifications, then the final reply), data read lossily as UTF-8.
pub fn send_message_in(mut s: TcpStream, raw: &[u8]) -> Vec<(u8, String)> {
    let (fields, body) = split_message(raw);
    for (n, v) in &fields {
        step(&mut s, b'L', &cstr(&[n.as_bytes(), v.as_bytes()]));
    }
    step(&mut s, b'N', &[]);
    for chunk in body.chunks(65535) {
        step(&mut s, b'B', chunk);
    }
    s.write_all(&packet(b'E', &[])).unwrap();
    let mut replies = Vec::new();
    loop {
        let (r, data) = read_reply(&mut s);
        replies.push((r, String::from_utf8_lossy(&data).into_owned()));
        if matches!(r, b'c' | b'a' | b'r' | b't' | b'y' | b'd') {
            break;
        }
    }
    let _ = s.write_all(&packet(b'Q', &[]));
    replies
}

/// The header fields an end-of-message's replies add (`h`: name NUL
/// value NUL), as (name, value).
pub fn added_headers(replies: &[(u8, String)]) -> Vec<(String, String)> {
    replies
        .iter()
        .filter(|(r, _)| *r == b'h')
        .map(|(_, data)| {
            let mut parts = data.split('\0');
            let name = parts.next().unwrap_or_default().to_string();
            let value = parts.next().unwrap_or_default().to_string();
            (name, value)
        })
        .collect()
}
