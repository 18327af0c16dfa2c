//! Reading a Received field for the route: mail-parser's reading, handed
//! only the part before the date when the rest cannot change it.
//!
//! mail-parser tokenises every byte of the value, and the date after the
//! ';' (a dozen tokens: day, month, year, time, zone, a comment) was a large
//! share of its cost per field. The route reads only `from`, `helo`,
//! `from_ip`, `from_iprev` and `by`, which after the date could change only
//! through a keyword (`from`, `by`, a HELO greeting) or a token read as a
//! host name or an IP address. A tail without any of those is left out.

use mail_parser::parsers::MessageStream;
use mail_parser::HeaderValue;

/// mail-parser's `parse_received` of `value`, with the same `from`, `helo`,
/// `from_ip`, `from_iprev` and `by` (the other fields, the date above all,
/// may be missing) and Empty exactly when the full parse is Empty.
pub(crate) fn parse_received(value: &[u8]) -> HeaderValue<'_> {
    if let Some(head) = inert_tail_start(value).and_then(|cut| value.get(..cut)) {
        // A value cut before a ';' tokenises as the whole does up to the cut
        // (a ';' always ends a token), and a keyword peeking at the ';'
        // takes nothing from it, as from the end. Fields are only ever set,
        // never cleared, so a non-empty reading of the head is non-empty in
        // full; an empty one may owe its emptiness to the missing date.
        let head = MessageStream::new(head).parse_received();
        if !matches!(head, HeaderValue::Empty) {
            return head;
        }
    }
    MessageStream::new(value).parse_received()
}

/// The first ';' from which the rest of `value` holds nothing mail-parser
/// could read as a route field, whatever its state there: no keyword that
/// sets one (checked as a substring, so also inside longer words), no '.'
/// (every host name and IPv4 address has one) and no IPv6 address (one
/// needs "::" or seven ':'; a time has two).
fn inert_tail_start(value: &[u8]) -> Option<usize> {
    const KEYWORDS: [&[u8]; 5] = [b"by", b"from", b"helo", b"ehlo", b"lhlo"];
    let mut colons = 0;
    let mut start = None;
    for (i, &b) in value.iter().enumerate().rev() {
        let rest = value.get(i..).unwrap_or_default();
        let keyword = KEYWORDS.iter().any(|k| {
            rest.get(..k.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(k))
        });
        colons += usize::from(b == b':');
        if b == b'.' || keyword || rest.starts_with(b"::") || colons >= 7 {
            break;
        }
        if b == b';' {
            start = Some(i);
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header_block::{HeaderBlock, HeaderFilter};
    use mail_parser::{Host, Received};
    use std::net::IpAddr;

    /// The fields the route reads.
    type RouteFields = (
        Option<String>,
        Option<String>,
        Option<IpAddr>,
        Option<String>,
        Option<String>,
    );

    fn route_fields(value: &HeaderValue<'_>) -> Option<RouteFields> {
        let HeaderValue::Received(r) = value else {
            return None;
        };
        let r: &Received<'_> = r;
        let host = |h: &Option<Host<'_>>| h.as_ref().map(|h| format!("{h:?}"));
        Some((
            host(&r.from),
            host(&r.helo),
            r.from_ip,
            r.from_iprev.as_ref().map(|s| s.to_string()),
            host(&r.by),
        ))
    }

    /// Compares with mail-parser's reading of the whole value; true when the
    /// value was cut.
    fn assert_agrees(value: &[u8]) -> bool {
        let full = MessageStream::new(value).parse_received();
        let mine = parse_received(value);
        assert_eq!(
            route_fields(&mine),
            route_fields(&full),
            "{:?}",
            String::from_utf8_lossy(value)
        );
        inert_tail_start(value).is_some()
    }

    #[test]
    fn the_date_is_left_out() {
        let value = b"from mail.example.com (mail.example.com [192.0.2.1])\r\n\tby mx.example.net (Postfix) with ESMTP id 4F2B3\r\n\tfor <a@example.net>; Mon,  1 Jul 2002 12:00:00 +0100 (BST)";
        let cut = inert_tail_start(value).unwrap();
        assert_eq!(&value[cut..cut + 6], b"; Mon,");
        assert!(assert_agrees(value));
        let HeaderValue::Received(r) = parse_received(value) else {
            panic!("not read");
        };
        assert_eq!(r.by, Some(Host::Name("mx.example.net".into())));
        assert_eq!(r.from_ip, Some("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn tails_that_could_set_a_field_are_kept() {
        let kept: [&[u8]; 10] = [
            b"by x; Mon, 1 Jul 2002 from y [192.0.2.9]",
            b"from a (b [192.0.2.1]); by c",
            b"by a; 1 Jul 2002 (from evil.example)",
            b"from a (b; c.example [192.0.2.7])",
            b"from a (x; helo=evil) by b",
            b"from a (x; 2001::1) by b",
            b"from a (x; 1:2:3:4:5:6:7:8)",
            b"from a; (EHLO y)",
            b"from a (b ; ehlo c",
            b"by a (x; BY b)",
        ];
        for value in kept {
            assert_agrees(value);
            assert!(inert_tail_start(value).is_none(), "{value:?}");
        }
    }

    #[test]
    fn hostile_values_agree() {
        let pieces: [&[u8]; 24] = [
            b"from",
            b"by",
            b" ",
            b"\r\n\t",
            b"\n",
            b";",
            b"(",
            b")",
            b"[",
            b"]",
            b"\"",
            b"192.0.2.1",
            b"mx.example",
            b"HELO",
            b"ehlo=",
            b"1 Jul 2002",
            b"12:00:00",
            b"::1",
            b"<",
            b">",
            b"a@b.c",
            b"=",
            b"fe80::1",
            b"x",
        ];
        let mut state: u32 = 11;
        let mut cut = 0;
        for round in 0..20_000 {
            let mut value = Vec::new();
            for _ in 0..(1 + round % 16) {
                value.extend_from_slice(pieces[crate::pick(&mut state, pieces.len())]);
            }
            cut += usize::from(assert_agrees(&value));
        }
        assert!(cut > 500, "only {cut} values were cut");
    }

    /// Every Received field of the shared corpora reads the same.
    #[test]
    fn corpus_received_fields_agree() {
        let archives = crate::shared_archives();
        let options = impostor_mailsource::ReadOptions::default();
        let filter = HeaderFilter::new(std::iter::empty());
        let (mut fields, mut cut) = (0, 0);
        for message in impostor_mailsource::read_inputs(&archives, &options) {
            let Ok(bytes) = message.bytes else {
                continue;
            };
            let (block, _) = HeaderBlock::read(&bytes, &filter);
            for field in block.all("received") {
                fields += 1;
                cut += usize::from(assert_agrees(field.value));
            }
        }
        assert!(fields > 30_000, "{fields}");
        assert!(cut * 2 > fields, "only {cut} of {fields} cut");
    }
}
