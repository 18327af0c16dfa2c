//! The carrier of an injected attack: a generated ham message, or a real
//! one read back into its header fields as written and its body layout.

use super::compose::{Draft, Layout};
use super::template::Lang;
use super::world::Person;

/// Most fields a carrier may bring; a header block beyond it is cut.
const MAX_FIELDS: usize = 500;

/// A message an attack is injected into.
pub struct Carrier {
    /// Its header fields in order, and a generated ham's body (an injected
    /// lure replaces the body).
    pub draft: Draft,
    /// Its body's layout, which the lure keeps.
    pub layout: Layout,
    /// The second part of a calendar or report layout.
    pub extra: String,
    /// The mailbox it was delivered to.
    pub recipient: Person,
    /// The language of the lure it gets.
    pub lang: Lang,
}

/// The header fields of `bytes` in order (folded values kept as written,
/// read as UTF-8 with replacement) and the layout of its body.
pub fn carrier_draft(bytes: &[u8]) -> (Draft, Layout) {
    let mut draft = Draft::default();
    let mut pos = 0;
    while pos < bytes.len() && draft.fields.len() < MAX_FIELDS {
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
        let line = String::from_utf8_lossy(&bytes[pos..end]);
        let line = line.trim_end_matches(['\r', '\n']);
        pos = end;
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = draft.fields.last_mut() {
                value.push('\n');
                value.push_str(line);
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim();
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()) {
                draft.push(name, value.trim_start());
            }
        }
    }
    let content_type = draft
        .fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    let layout = if content_type.contains("multipart/") || content_type.contains("text/html") {
        Layout::Alternative
    } else {
        Layout::Plain
    };
    (draft, layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carriers_keep_fields_in_order_with_folding() {
        let (d, layout) = carrier_draft(
            b"Received: from a\r\n\tby b\r\nFrom: x@y.example\r\nContent-Type: multipart/mixed;\r\n boundary=q\r\n\r\nbody: not a header\r\n",
        );
        let names: Vec<&str> = d.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Received", "From", "Content-Type"]);
        assert_eq!(d.fields[0].1, "from a\n\tby b");
        assert_eq!(layout, Layout::Alternative);
        let (d, layout) = carrier_draft(b"no colon here\nSubject: hi\n\n");
        assert_eq!(d.fields.len(), 1);
        assert_eq!(layout, Layout::Plain);
    }
}
