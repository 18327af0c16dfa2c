//! Report bytes → `reported::attached_messages`: the forwarded messages
//! (message/rfc822 parts, attached `.eml` files) that `impostor feedback`
//! takes out of a user's report instead of the forward itself. The input
//! is tried as a report, and as the message a well-formed report forwards.

#![no_main]

use impostor_features::reported::{attached_messages, MAX_ATTACHED};
use libfuzzer_sys::fuzz_target;
use std::sync::Once;

/// Bytes out for each byte in: every message taken out is cut out of the
/// report or decoded from it (base64, quoted-printable, a charset), and
/// decoding turns one byte into at most one character of three bytes (a
/// replacement character for a byte that is not valid UTF-8).
const MAX_GROWTH: usize = 3;

const BOUNDARY: &[u8] = b"impostor-fuzz-boundary";
/// The end of the forwarded part and of the report.
const CLOSE: &[u8] = b"\r\n--impostor-fuzz-boundary--\r\n";

/// A forward as mail clients write it: a note, then `inner` as a
/// message/rfc822 part, neither encoded.
fn forward_of(inner: &[u8]) -> Vec<u8> {
    let mut report = b"From: user@kestrel.example\r\nSubject: Fwd: urgent\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"impostor-fuzz-boundary\"\r\n\r\n\
--impostor-fuzz-boundary\r\nContent-Type: text/plain\r\n\r\nphishing?\r\n\
--impostor-fuzz-boundary\r\nContent-Type: message/rfc822\r\n\r\n"
        .to_vec();
    report.extend_from_slice(inner);
    report.extend_from_slice(CLOSE);
    report
}

/// The checks every answer passes: at most 64 messages, their bytes
/// bounded by the report's.
fn assert_bounded(report: &[u8], got: &[Vec<u8>]) {
    assert!(got.len() <= MAX_ATTACHED, "{} messages", got.len());
    let total: usize = got.iter().map(Vec::len).sum();
    assert!(
        total <= MAX_GROWTH * report.len(),
        "{total} bytes out of a report of {}",
        report.len()
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// attached_messages catches a panic of mail-parser and takes the report
/// whole (its documented answer, an empty list); libfuzzer-sys's panic
/// hook would abort first. Panics from mail-parser pass silently, every
/// other one still aborts. (The fuzzer's second find: mail-parser 0.11.9
/// panics "Invalid part ID, could not find multipart", message.rs:485.)
fn let_mail_parser_panics_be_caught() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_parser = info
                .location()
                .is_some_and(|l| l.file().contains("/mail-parser-"));
            if !in_parser {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_mail_parser_panics_be_caught();
    let got = attached_messages(data);
    assert_bounded(data, &got);
    // The same bytes, the same answer (no state between reports).
    assert_eq!(attached_messages(data), got, "a second reading differs");

    // Forwarded whole: a message that holds no boundary line of its own
    // cannot end the part early. The first message taken out, if any, is
    // the forwarded part, cut out of the report as it stands (nothing is
    // decoded in a 7bit part).
    if contains(data, BOUNDARY) {
        return;
    }
    //
    // Not that it ends with the part: mail-parser lets a forwarded
    // multipart that never closes run on to the end of the report (the
    // fuzzer's first find; the outer closing boundary is then part of it).
    let report = forward_of(data);
    let got = attached_messages(&report);
    assert_bounded(&report, &got);
    if let Some(first) = got.first() {
        let part_start = report.len() - data.len() - CLOSE.len();
        let from_part = report.get(part_start..).unwrap_or_default();
        assert!(
            contains(from_part, first),
            "the forwarded message ({} bytes) is not cut out of its part on",
            first.len()
        );
    }
});
