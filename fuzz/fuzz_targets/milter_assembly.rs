//! The milter's message assembly (`milter::assemble`: header fields,
//! end-of-headers and body chunks into the bounded per-connection buffer,
//! folded lines to CRLF), fed the way an MTA feeds it, then the assembled
//! message judged by the Engine and turned into milter actions.
//!
//! The input is a raw message, split into fields and a body as an MTA
//! does. Side data after the last NUL byte steers the connection: byte 0
//! bit 0 withholds end-of-headers, bits 1–2 choose the limit (the default,
//! or the message's own size give or take byte 1 as a signed delta of up
//! to 15), bytes 2.. are the body's chunk sizes (1–256, cycled).

#![no_main]

use impostor_features::{Context, Envelope, OrgProfile};
use impostor_fuzz::{split_side, EXAMPLE_ORG};
use impostor_model::artifact;
use impostor_serve::milter::{self, MilterConfig};
use impostor_serve::Engine;
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

/// What `impostor milter` runs with no options: the built-in org and model.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let org = OrgProfile::from_toml(EXAMPLE_ORG, Path::new("kestrel-foods.toml")).unwrap();
        let ctx = Context::builder(org).build().unwrap();
        Engine::new(ctx, artifact::builtin().expect("built-in model"), None)
    })
}

/// Header fields as the MTA passes them: (name, value).
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// Header fields (name, value with folded lines joined by LF, as Postfix
/// passes them) and the body, split as an MTA reads a message: the header
/// block ends at a blank line or at the first line that is neither a field
/// nor a continuation. NUL cannot travel in a field (C strings).
fn mta_split(message: &[u8]) -> (Fields, &[u8]) {
    let mut fields = Fields::new();
    let mut at = 0;
    while at < message.len() {
        let end = message[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(message.len(), |i| at + i + 1);
        let line = &message[at..end];
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.is_empty() {
            at = end;
            break;
        }
        let no_nul = |s: &[u8]| s.iter().copied().filter(|&b| b != 0).collect::<Vec<u8>>();
        if matches!(text[0], b' ' | b'\t') {
            if let Some((_, value)) = fields.last_mut() {
                value.push(b'\n');
                value.extend(no_nul(text));
                at = end;
                continue;
            }
            break;
        }
        let Some(colon) = text.iter().position(|&b| b == b':') else {
            break;
        };
        let name = no_nul(&text[..colon]);
        let value = &text[colon + 1..];
        let value = value.strip_prefix(b" ").unwrap_or(value);
        fields.push((name, no_nul(value)));
        at = end;
    }
    (fields, &message[at..])
}

/// The message the milter should judge, written out independently of
/// `milter.rs`: `Name: value` lines with every line end CRLF, the blank
/// line, the body; the blank line last when end-of-headers never came.
fn expected(fields: &[(Vec<u8>, Vec<u8>)], end_of_headers: bool, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        for (i, line) in value.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                if out.last() != Some(&b'\r') {
                    out.push(b'\r');
                }
                out.push(b'\n');
            }
            out.extend_from_slice(line);
        }
        out.extend_from_slice(b"\r\n");
    }
    if end_of_headers {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
    } else {
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Text that reaches the MTA: printable ASCII, no line breaks.
fn mta_safe(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let (message, side) = split_side(data);
    let side = side.unwrap_or(&[]);
    let control = side.first().copied().unwrap_or(0);
    let end_of_headers = control & 1 == 0;
    let (fields, body) = mta_split(message);
    let want = expected(&fields, end_of_headers, body);
    let max = match (control >> 1) & 3 {
        0 => MilterConfig::default().max_message_size,
        _ => {
            let delta = side.get(1).map_or(0, |&d| (d as i8 % 16) as isize);
            want.len().saturating_add_signed(delta).max(1)
        }
    };
    let sizes: Vec<usize> = side.iter().skip(2).map(|&b| b as usize + 1).collect();
    let mut chunks: Vec<&[u8]> = Vec::new();
    let mut rest = body;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at((*size).min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    if !rest.is_empty() {
        chunks.push(rest);
    }
    let headers: Vec<(&[u8], &[u8])> = fields
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    let got = milter::assemble(max, &headers, end_of_headers, &chunks);
    // How the body was chunked changes nothing.
    let whole = milter::assemble(max, &headers, end_of_headers, &[body]);
    assert_eq!(got, whole, "chunking changed the assembly");
    let bytes = match got {
        Ok(bytes) => {
            assert!(
                bytes.len() <= max,
                "{} bytes under a limit of {max}",
                bytes.len()
            );
            assert!(bytes == want, "the assembled message differs");
            bytes
        }
        Err(_) => {
            assert!(want.len() > max, "{} bytes refused under {max}", want.len());
            return;
        }
    };
    let envelope = Envelope {
        client_ip: Some([198, 51, 100, 23].into()),
        helo: Some("mail.example".into()),
        ..Envelope::default()
    };
    let verdict = match engine().scan(&bytes, &envelope) {
        Ok(v) => v,
        // The engine contains panics as internal errors; to the fuzzer
        // they are crashes all the same.
        Err(e) => {
            assert!(!e.is_internal(), "{e}");
            return;
        }
    };
    let d = milter::decide(&verdict, &MilterConfig::default());
    for (name, value) in &d.headers {
        assert!(mta_safe(value), "{name}: {value:?}");
    }
    for text in d.reject.iter().chain(&d.quarantine) {
        assert!(mta_safe(text), "{text:?}");
    }
});
