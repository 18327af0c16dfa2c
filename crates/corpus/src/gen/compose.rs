//! Writing messages: header fields, encoded words, dates, MIME layouts,
//! trace and authentication headers, all from a seeded generator so the
//! same seed writes the same bytes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// How a body is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One text/plain part.
    Plain,
    /// multipart/alternative: text/plain and text/html.
    Alternative,
    /// multipart/alternative: text/plain and text/calendar.
    Calendar,
    /// multipart/report: a delivery status notification.
    Report,
}

/// A message being written: header fields in order, then a body.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    /// `(name, value)` in order; a folded value keeps its line breaks.
    pub fields: Vec<(String, String)>,
    /// Everything below the blank line, MIME parts included.
    pub body: String,
}

impl Draft {
    /// Appends a field after the others.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.fields.push((name.to_string(), value.into()));
    }

    /// Fields whose name matches (any case) are removed.
    pub fn remove(&mut self, names: &[&str]) {
        self.fields
            .retain(|(n, _)| !names.iter().any(|x| n.eq_ignore_ascii_case(x)));
    }

    /// Whether a field of this name is present.
    pub fn has(&self, name: &str) -> bool {
        self.fields
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The bytes: fields as `Name: value`, LF line ends.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.body.len() + 2048);
        for (n, v) in &self.fields {
            out.push_str(n);
            out.push_str(": ");
            out.push_str(v);
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.body);
        out.into_bytes()
    }
}

/// A header text, as an RFC 2047 encoded word when it is not ASCII.
pub fn header_text(text: &str) -> String {
    if text.is_ascii() {
        text.to_string()
    } else {
        format!("=?UTF-8?B?{}?=", STANDARD.encode(text))
    }
}

/// `Name <address>`, the name quoted or encoded as it needs.
pub fn mailbox(name: &str, address: &str) -> String {
    if name.is_empty() {
        return format!("<{address}>");
    }
    let shown = if !name.is_ascii() {
        header_text(name)
    } else if name.chars().any(|c| ",.()<>@:;\"[]".contains(c)) {
        format!("\"{}\"", name.replace('"', ""))
    } else {
        name.to_string()
    };
    format!("{shown} <{address}>")
}

/// Seconds since the epoch → RFC 5322 date with the given offset in hours.
pub fn rfc5322_date(ts: i64, offset_hours: i64) -> String {
    let local = ts + offset_hours * 3600;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} {}{:02}00",
        WEEKDAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        if offset_hours < 0 { '-' } else { '+' },
        offset_hours.abs()
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Random lower-case hex of `n` digits.
pub fn hex(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// An address in one of the documentation ranges (RFC 5737).
pub fn doc_ip(rng: &mut ChaCha8Rng) -> String {
    let net = ["192.0.2", "198.51.100", "203.0.113"][rng.gen_range(0..3)];
    format!("{net}.{}", rng.gen_range(1..255))
}

/// A Received field for a hop from `helo` at `ip` to `by`.
pub fn received(
    rng: &mut ChaCha8Rng,
    helo: &str,
    ip: &str,
    by: &str,
    date: &str,
    authenticated: bool,
) -> String {
    let with = if authenticated { "ESMTPSA" } else { "ESMTPS" };
    format!(
        "from {helo} ({helo} [{ip}])\n\tby {by} (Postfix) with {with} id {}\n\t; {date}",
        hex(rng, 10).to_uppercase()
    )
}

/// The header fields an ordinary DKIM signature covers.
pub const SIGNED_HEADERS: &str = "from:to:subject:date:message-id";

/// A DKIM-Signature for `domain` over [`SIGNED_HEADERS`] and the whole
/// body (its b= is random: nothing here verifies signatures offline, only
/// the tags are read).
pub fn dkim_signature(rng: &mut ChaCha8Rng, domain: &str) -> String {
    dkim_signature_with(rng, domain, SIGNED_HEADERS, None)
}

/// A DKIM-Signature for `domain` covering the fields `headers` (an `h=`
/// list) and, with `body_length`, only that many bytes of the body (`l=`).
pub fn dkim_signature_with(
    rng: &mut ChaCha8Rng,
    domain: &str,
    headers: &str,
    body_length: Option<usize>,
) -> String {
    let b: Vec<u8> = (0..64).map(|_| rng.gen()).collect();
    let bh: Vec<u8> = (0..32).map(|_| rng.gen()).collect();
    let length = body_length.map_or(String::new(), |l| format!(" l={l};"));
    format!(
        "v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain};\n\ts=s{}; h={headers};{length}\n\tbh={}; b={}",
        rng.gen_range(1..4),
        STANDARD.encode(bh),
        STANDARD.encode(b)
    )
}

/// How many bytes of the canonical body (CRLF line ends) the text
/// `signed` takes when it begins the body text `text` (as [`set_body`]
/// writes it in [`Layout::Plain`]): the `l=` of a signer that signed only
/// `signed`.
pub fn signed_length(signed: &str, text: &str) -> usize {
    if text.is_ascii() {
        signed.len() + signed.matches('\n').count()
    } else {
        // base64 in lines of 76: whole groups of three bytes of `signed`.
        let chars = signed.len() / 3 * 4;
        chars + 2 * (chars / 76)
    }
}

/// `text` as one RFC 2047 encoded word: `b` (base64) or `q`
/// (quoted-printable, `_` for space) in `charset` spelled as given.
pub fn encoded_word(text: &str, charset: &str, encoding: char) -> String {
    if encoding.eq_ignore_ascii_case(&'q') {
        let mut q = String::new();
        for b in text.bytes() {
            match b {
                b' ' => q.push('_'),
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' => q.push(char::from(b)),
                _ => q.push_str(&format!("={b:02X}")),
            }
        }
        format!("=?{charset}?{encoding}?{q}?=")
    } else {
        format!("=?{charset}?{encoding}?{}?=", STANDARD.encode(text))
    }
}

/// `text` as several encoded words, one per whitespace-separated word,
/// folded onto lines of their own (as clients write long names): each
/// word but the first carries the space before it.
pub fn folded_encoded_words(text: &str, charset: &str, encoding: char) -> String {
    let mut words = text.split(' ');
    let mut out = words
        .next()
        .map(|w| encoded_word(w, charset, encoding))
        .unwrap_or_default();
    for w in words {
        out.push_str("\n ");
        out.push_str(&encoded_word(&format!(" {w}"), charset, encoding));
    }
    out
}

/// The text of a body part: 7bit when ASCII, base64 otherwise.
fn text_part(content_type: &str, text: &str) -> (Vec<(String, String)>, String) {
    if text.is_ascii() {
        (
            vec![
                (
                    "Content-Type".into(),
                    format!("{content_type}; charset=us-ascii"),
                ),
                ("Content-Transfer-Encoding".into(), "7bit".into()),
            ],
            text.to_string(),
        )
    } else {
        let encoded = STANDARD.encode(text);
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect();
        (
            vec![
                (
                    "Content-Type".into(),
                    format!("{content_type}; charset=utf-8"),
                ),
                ("Content-Transfer-Encoding".into(), "base64".into()),
            ],
            lines.join("\n") + "\n",
        )
    }
}

/// Plain text as simple HTML: paragraphs, and URLs as anchors.
pub fn html_of(text: &str) -> String {
    let mut html = String::from("<html><body>\n");
    for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let escaped = para
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let lines: Vec<String> = escaped
            .lines()
            .map(|line| {
                line.split(' ')
                    .map(|w| {
                        if w.starts_with("https://") || w.starts_with("http://") {
                            format!("<a href=\"{w}\">{w}</a>")
                        } else {
                            w.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        html.push_str("<p>");
        html.push_str(&lines.join("<br>\n"));
        html.push_str("</p>\n");
    }
    html.push_str("</body></html>\n");
    html
}

/// Sets the MIME fields and body of `draft` to `text` in `layout`.
pub fn set_body(draft: &mut Draft, rng: &mut ChaCha8Rng, layout: Layout, text: &str, extra: &str) {
    draft.remove(&["Content-Type", "Content-Transfer-Encoding", "MIME-Version"]);
    draft.push("MIME-Version", "1.0");
    let text = if text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    };
    let part = |(fields, body): (Vec<(String, String)>, String)| {
        let mut s = String::new();
        for (n, v) in fields {
            s.push_str(&format!("{n}: {v}\n"));
        }
        s.push('\n');
        s.push_str(&body);
        s
    };
    let multipart = |draft: &mut Draft, rng: &mut ChaCha8Rng, subtype: &str, parts: Vec<String>| {
        let boundary = format!("----=_Part_{}", hex(rng, 16));
        draft.push(
            "Content-Type",
            format!("multipart/{subtype}; boundary=\"{boundary}\""),
        );
        let mut body = String::new();
        for p in parts {
            body.push_str(&format!("--{boundary}\n{p}"));
        }
        body.push_str(&format!("--{boundary}--\n"));
        draft.body = body;
    };
    match layout {
        Layout::Plain => {
            let (fields, body) = text_part("text/plain", &text);
            draft.fields.extend(fields);
            draft.body = body;
        }
        Layout::Alternative => {
            let parts = vec![
                part(text_part("text/plain", &text)),
                part(text_part("text/html", &html_of(&text))),
            ];
            multipart(draft, rng, "alternative", parts);
        }
        Layout::Calendar => {
            let parts = vec![
                part(text_part("text/plain", &text)),
                part(text_part("text/calendar; method=REQUEST", extra)),
            ];
            multipart(draft, rng, "alternative", parts);
        }
        Layout::Report => {
            let parts = vec![
                part(text_part("text/plain", &text)),
                part((
                    vec![("Content-Type".into(), "message/delivery-status".into())],
                    extra.to_string(),
                )),
            ];
            multipart(draft, rng, "report; report-type=delivery-status", parts);
        }
    }
}

/// A file attached to a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// Its file name (any script: a non-ASCII name is written as RFC 2231
    /// says).
    pub filename: String,
    /// Its media type, e.g. `application/pdf`.
    pub content_type: String,
    /// Its content.
    pub bytes: Vec<u8>,
    /// Shown in the body (`Content-Disposition: inline`, a Content-ID)
    /// rather than as an attachment.
    pub inline: bool,
}

/// A MIME parameter: quoted when ASCII, else RFC 2231's `name*=UTF-8''…`
/// with every byte but attr-chars percent-encoded.
pub fn mime_parameter(name: &str, value: &str) -> String {
    if value.is_ascii()
        && !value.contains(['"', '\\'])
        && !value.chars().any(|c| c.is_ascii_control())
    {
        return format!("{name}=\"{value}\"");
    }
    let mut encoded = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{name}*=UTF-8''{encoded}")
}

/// `bytes` as base64 in lines of 76 characters, each ended by LF.
pub fn base64_lines(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 76 + 1);
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out
}

/// Sets the body as [`set_body`] does and, with `attachments`, wraps it
/// in multipart/mixed as the first part, the attachments base64-encoded
/// after it (an inline one with a Content-ID).
pub fn set_body_with_attachments(
    draft: &mut Draft,
    rng: &mut ChaCha8Rng,
    layout: Layout,
    text: &str,
    extra: &str,
    attachments: &[Attachment],
) {
    set_body(draft, rng, layout, text, extra);
    if attachments.is_empty() {
        return;
    }
    let inner: Vec<(String, String)> = draft
        .fields
        .iter()
        .filter(|(n, _)| {
            n.eq_ignore_ascii_case("content-type")
                || n.eq_ignore_ascii_case("content-transfer-encoding")
        })
        .cloned()
        .collect();
    draft.remove(&["Content-Type", "Content-Transfer-Encoding"]);
    let boundary = format!("----=_Part_{}", hex(rng, 16));
    let mut body = format!("This is a multi-part message in MIME format.\n\n--{boundary}\n");
    for (n, v) in inner {
        body.push_str(&format!("{n}: {v}\n"));
    }
    body.push('\n');
    body.push_str(&draft.body);
    for a in attachments {
        body.push_str(&format!("--{boundary}\n"));
        body.push_str(&format!(
            "Content-Type: {}; {}\n",
            a.content_type,
            mime_parameter("name", &a.filename)
        ));
        body.push_str("Content-Transfer-Encoding: base64\n");
        let disposition = if a.inline { "inline" } else { "attachment" };
        body.push_str(&format!(
            "Content-Disposition: {disposition}; {}\n",
            mime_parameter("filename", &a.filename)
        ));
        if a.inline {
            body.push_str(&format!(
                "Content-ID: <{}@01{}>\n",
                hex(rng, 8),
                hex(rng, 14).to_uppercase()
            ));
        }
        body.push('\n');
        body.push_str(&base64_lines(&a.bytes));
    }
    body.push_str(&format!("--{boundary}--\n"));
    draft.push(
        "Content-Type",
        format!("multipart/mixed; boundary=\"{boundary}\""),
    );
    draft.body = body;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn attachments_follow_the_body_in_multipart_mixed_with_their_names() {
        use mail_parser::MimeHeaders;
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut d = Draft::default();
        d.push("Subject", "x");
        let files = [
            Attachment {
                filename: "請求書_INV-1.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: vec![7u8; 300],
                inline: false,
            },
            Attachment {
                filename: "image001.png".into(),
                content_type: "image/png".into(),
                bytes: vec![1, 2, 3],
                inline: true,
            },
        ];
        set_body_with_attachments(
            &mut d,
            &mut rng,
            Layout::Alternative,
            "本文です。",
            "",
            &files,
        );
        let bytes = d.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("filename*=UTF-8''%E8%AB%8B"), "{text}");
        assert!(text.lines().all(|l| l.len() <= 998));
        assert!(text.lines().filter(|l| l.len() == 76).count() >= 4);
        let m = mail_parser::MessageParser::default().parse(&bytes).unwrap();
        assert!(m.body_text(0).unwrap().contains("本文"));
        let names: Vec<String> = m
            .attachments()
            .filter_map(|a| a.attachment_name().map(str::to_string))
            .collect();
        assert!(names.contains(&"請求書_INV-1.pdf".to_string()), "{names:?}");
        let pdf = m
            .attachments()
            .find(|a| a.attachment_name() == Some("請求書_INV-1.pdf"))
            .unwrap();
        assert_eq!(pdf.contents(), &[7u8; 300][..]);
    }

    #[test]
    fn dates_are_rfc5322() {
        assert_eq!(rfc5322_date(0, 0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_736_845_923, 9),
            "Tue, 14 Jan 2025 18:12:03 +0900"
        );
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn composed_messages_parse_back() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut d = Draft::default();
        d.push("From", mailbox("山田 太郎", "t.yamada@kestrelfoods.co.jp"));
        d.push("Subject", header_text("至急のお願い"));
        set_body(
            &mut d,
            &mut rng,
            Layout::Alternative,
            "本日中に振込をお願いします。\n\nhttps://example.com/x",
            "",
        );
        let bytes = d.to_bytes();
        let m = mail_parser::MessageParser::default().parse(&bytes).unwrap();
        assert_eq!(m.subject(), Some("至急のお願い"));
        assert_eq!(m.from().unwrap().first().unwrap().name(), Some("山田 太郎"));
        assert!(m.body_text(0).unwrap().contains("振込"));
        assert!(m
            .body_html(0)
            .unwrap()
            .contains("href=\"https://example.com/x\""));
        assert_eq!(
            mailbox("Brandt, Daniel", "d@x.com"),
            "\"Brandt, Daniel\" <d@x.com>"
        );
    }

    #[test]
    fn folded_encoded_names_decode_to_the_name() {
        for (charset, enc) in [("UTF-8", 'B'), ("utf-8", 'q'), ("UTF-8", 'Q')] {
            let mut d = Draft::default();
            let name = folded_encoded_words("山田 太郎", charset, enc);
            assert!(name.contains("\n "), "{name}");
            d.push("From", format!("{name} <t.yamada@kestrelfoods.co.jp>"));
            d.push("Subject", encoded_word("Søren's invoice", charset, enc));
            let bytes = d.to_bytes();
            let m = mail_parser::MessageParser::default().parse(&bytes).unwrap();
            let from = m.from().unwrap().first().unwrap();
            assert_eq!(from.name(), Some("山田 太郎"), "{charset} {enc}");
            assert_eq!(from.address(), Some("t.yamada@kestrelfoods.co.jp"));
            assert_eq!(m.subject(), Some("Søren's invoice"));
        }
    }

    #[test]
    fn the_signed_length_covers_the_signed_text_and_not_what_follows() {
        let signed = "Hello,\nthe report is attached.\n";
        let text = format!("{signed}\nPlease also pay invoice 7 today.\n");
        let l = signed_length(signed, &text);
        assert_eq!(l, signed.len() + 2);
        assert!(l < text.len() + text.matches('\n').count());
        // base64: whole groups of the signed bytes, with CRLF per line.
        let signed = "請求書を送付します。\n".repeat(10);
        let text = format!("{signed}\n至急お振込みください。\n");
        let l = signed_length(&signed, &text);
        let chars = signed.len() / 3 * 4;
        assert_eq!(l, chars + 2 * (chars / 76));
        assert!(l < STANDARD.encode(&text).len());
    }
}
