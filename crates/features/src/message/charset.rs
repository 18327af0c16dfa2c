//! A text part's bytes as a string, in its declared charset, exactly as
//! mail-parser decodes them.

use mail_parser::decoders::charsets::map::charset_decoder;
use std::borrow::Cow;
use std::sync::OnceLock;

/// Names mail-parser decodes as windows-1252 (us-ascii and latin-1 among
/// them), written as its charset table writes them: lower case, '_' for '-'.
const WINDOWS_1252_NAMES: &[&str] = &[
    "ansi_x3.4_1968",
    "ascii",
    "cp1252",
    "cp819",
    "csisolatin1",
    "cswindows1252",
    "ibm819",
    "iso88591",
    "iso8859_1",
    "iso_8859_1",
    "iso_8859_1:1987",
    "iso_ir_100",
    "l1",
    "latin1",
    "us_ascii",
    "windows_1252",
    "x_cp1252",
];

/// A text part's bytes as a string, exactly as mail-parser decodes them.
/// Its windows-1252 decoder (us-ascii and latin-1 among its names) builds
/// the string a char at a time: ASCII text is the same string, taken as it
/// is, and other text is decoded here by the same table.
pub(super) fn decode_charset<'x>(bytes: Cow<'x, [u8]>, charset: Option<&str>) -> Cow<'x, str> {
    if charset.is_some_and(is_windows_1252) {
        if !bytes.is_ascii() {
            return Cow::Owned(decode_windows_1252(&bytes));
        }
        return match bytes {
            Cow::Borrowed(b) => {
                std::str::from_utf8(b).map_or_else(|_| String::from_utf8_lossy(b), Cow::Borrowed)
            }
            Cow::Owned(v) => Cow::Owned(
                String::from_utf8(v)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        };
    }
    let decoder = charset.and_then(|c| charset_decoder(c.as_bytes()));
    match (bytes, decoder) {
        (Cow::Owned(vec), Some(decode)) => decode(&vec).into(),
        (Cow::Owned(vec), None) => String::from_utf8(vec)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            .into(),
        (Cow::Borrowed(bytes), Some(decode)) => decode(bytes).into(),
        // The same string as from_utf8_lossy, whose validation is slower
        // on the valid text nearly all mail is.
        (Cow::Borrowed(bytes), None) => std::str::from_utf8(bytes)
            .map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed),
    }
}

/// Bytes as mail-parser's windows-1252 decoder reads them: ASCII as it is,
/// each other byte as the char its table gives (taken from the decoder
/// itself, one byte at a time, once).
fn decode_windows_1252(bytes: &[u8]) -> String {
    static HIGH_HALF: OnceLock<Vec<char>> = OnceLock::new();
    let high = HIGH_HALF.get_or_init(|| {
        let decode = charset_decoder(b"windows-1252");
        (0x80..=0xffu8)
            .map(|b| {
                decode
                    .and_then(|d| d(&[b]).chars().next())
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect()
    });
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2);
    for chunk in bytes.split_inclusive(|b| !b.is_ascii()) {
        let (last, ascii) = match chunk.split_last() {
            Some((&last, ascii)) if !last.is_ascii() => (Some(last), ascii),
            _ => (None, chunk),
        };
        // Only ASCII bytes here, so always valid.
        out.push_str(std::str::from_utf8(ascii).unwrap_or_default());
        if let Some(b) = last {
            let c = high.get(usize::from(b - 0x80)).copied();
            out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
        }
    }
    out
}

fn is_windows_1252(charset: &str) -> bool {
    charset.len() <= 45
        && WINDOWS_1252_NAMES.iter().any(|name| {
            name.len() == charset.len()
                && name.bytes().zip(charset.bytes()).all(|(n, c)| {
                    n == match c {
                        b'-' => b'_',
                        c => c.to_ascii_lowercase(),
                    }
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_names_are_mail_parsers() {
        let all: Vec<u8> = (0..=255).collect();
        let reference = charset_decoder(b"windows-1252").unwrap()(&all);
        let ascii: String = (0..128u8).map(char::from).collect();
        for name in WINDOWS_1252_NAMES {
            let decode = charset_decoder(name.as_bytes()).unwrap();
            assert_eq!(decode(&all), reference, "{name}");
            assert_eq!(decode(ascii.as_bytes()), ascii, "{name}");
        }
        assert_eq!(decode_windows_1252(&all), reference);
        let mixed = b"caf\xe9 \x80uro \x81\x8d\x9d \xff plain tail";
        assert_eq!(
            decode_windows_1252(mixed),
            charset_decoder(b"latin1").unwrap()(mixed)
        );
        assert!(is_windows_1252("US-ASCII") && is_windows_1252("ISO-8859-1"));
        assert!(!is_windows_1252("utf-8") && !is_windows_1252("iso-8859-2"));
    }
}
