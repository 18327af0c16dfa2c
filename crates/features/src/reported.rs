//! Reported mail: the messages a user's report forwards as attachments,
//! and the Message-ID by which a reported message is matched with its
//! verdict line (`impostor feedback` and the gateways' verdict log share
//! this one reading, so the two always agree).

use mail_parser::{MessageParser, MimeHeaders};

/// The most messages taken out of one report.
pub const MAX_ATTACHED: usize = 64;

/// The longest Message-ID kept, in bytes (longer ones are cut on a
/// character boundary).
pub const MAX_MESSAGE_ID_BYTES: usize = 256;

/// The messages a report forwards as attachments: each message/rfc822
/// part, and each attached file named `*.eml`, in order (at most
/// [`MAX_ATTACHED`]). Empty when the report forwards nothing that way (or
/// cannot be parsed).
pub fn attached_messages(bytes: &[u8]) -> Vec<Vec<u8>> {
    // A parser fault is this report's: it is then taken whole.
    std::panic::catch_unwind(|| {
        let Some(message) = MessageParser::default().parse(bytes) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for part in message.attachments().take(MAX_ATTACHED) {
            if let Some(inner) = part.message() {
                out.push(inner.raw_message().to_vec());
            } else if part
                .attachment_name()
                .is_some_and(|n| n.to_ascii_lowercase().ends_with(".eml"))
            {
                out.push(part.contents().to_vec());
            }
        }
        out
    })
    .unwrap_or_default()
}

/// A Message-ID field's value as the identifier alone: what lies between
/// its first `<` and last `>` (the whole value without them), with any
/// further brackets and white space around it taken off (`< <id> >`,
/// `<<id>>`), at most [`MAX_MESSAGE_ID_BYTES`]; `None` when nothing is
/// left.
pub fn message_id(value: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(value);
    let text = text.trim();
    let inner = match (text.find('<'), text.rfind('>')) {
        (Some(a), Some(b)) if a < b => text.get(a + 1..b).unwrap_or(text),
        _ => text,
    };
    let inner = inner
        .trim_start_matches(|c: char| c == '<' || c.is_whitespace())
        .trim_end_matches(|c: char| c == '>' || c.is_whitespace());
    let mut end = inner.len().min(MAX_MESSAGE_ID_BYTES);
    while !inner.is_char_boundary(end) {
        end -= 1;
    }
    inner
        .get(..end)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_id_loses_its_brackets_and_the_white_space_around_them() {
        assert_eq!(
            message_id(b" <AbC@x.example> ").as_deref(),
            Some("AbC@x.example")
        );
        assert_eq!(
            message_id(b"< <spaced@x.example> >").as_deref(),
            Some("spaced@x.example")
        );
        assert_eq!(message_id(b"<<a@x>>").as_deref(), Some("a@x"));
        assert_eq!(message_id(b"<a@x> (a comment)").as_deref(), Some("a@x"));
        assert_eq!(message_id(b" bare@x ").as_deref(), Some("bare@x"));
        assert_eq!(message_id(b" <> "), None);
        assert_eq!(message_id(b"< < >"), None);
    }

    #[test]
    fn a_long_message_id_is_cut_on_a_character_boundary() {
        let long = format!("<{}@x>", "é".repeat(300));
        let id = message_id(long.as_bytes()).unwrap();
        assert!(id.len() <= MAX_MESSAGE_ID_BYTES && id.len() >= MAX_MESSAGE_ID_BYTES - 1);
        assert!(id.chars().all(|c| c == 'é'));
    }

    #[test]
    fn a_forward_as_attachment_gives_the_forwarded_message_and_an_inline_one_nothing() {
        let inner = b"From: a@x.example\r\nSubject: pay\r\nMessage-ID: <in@x>\r\n\r\nbody\r\n";
        let mut report = b"From: u@y.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nlook\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n".to_vec();
        report.extend_from_slice(inner);
        report.extend_from_slice(b"\r\n--b--\r\n");
        let got = attached_messages(&report);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].starts_with(b"From: a@x.example"),
            "{:?}",
            String::from_utf8_lossy(&got[0])
        );
        assert!(attached_messages(
            b"From: u@y\r\nSubject: Fwd: x\r\n\r\n-- Forwarded --\r\nFrom: a@x\r\n"
        )
        .is_empty());
    }
}
