//! The lenient readers: how careless or forgiving clients read a sender
//! field. Each one models a way real clients and verifiers have been shown
//! to read the same bytes differently (Chen et al., "Composition Kills",
//! USENIX Security 2020). Every function is one linear pass over a value of
//! at most `MAX_IDENTITY_FIELD_BYTES`.

/// Unicode bidirectional embedding, override and isolate controls: they
/// reorder what a reader sees. (LRM/RLM marks are left out: names in
/// right-to-left scripts carry them honestly.)
pub(super) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A control character no header value should hold: C0 except tab (line
/// breaks are folding, already removed by unfolding), DEL and C1.
pub(super) fn is_forbidden_control(c: char) -> bool {
    c.is_control() && c != '\t'
}

/// The value unfolded into one line (CRLF or LF followed by white space →
/// one space), lossily decoded; NUL and other control characters kept.
pub(super) fn unfold(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if i > 0 {
            out.push(' ');
            out.push_str(line.trim_start_matches([' ', '\t']));
        } else {
            out.push_str(line);
        }
    }
    out.trim_matches([' ', '\t']).to_string()
}

/// Splits text into the words a careless reader sees, on white space and
/// the structural characters of an address.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || "<>\"(),;".contains(c))
        .filter(|w| !w.is_empty())
}

/// The first word holding an '@' with something on both sides of it.
pub(super) fn first_address_word(text: &str) -> Option<&str> {
    words(text).find(|w| {
        w.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
    })
}

/// A forgiving mailbox reading: the text in the last angle brackets (up to
/// `>` or the end) with what stands before it as the name; else the first
/// word holding an '@'.
pub(super) fn loose_mailbox(text: &str) -> (Option<String>, Option<String>) {
    if let Some((before, after)) = text.rsplit_once('<') {
        let address = after.split('>').next().unwrap_or("").trim();
        let name = before.trim().trim_matches('"').trim();
        return (
            (!name.is_empty()).then(|| name.to_string()),
            (!address.is_empty()).then(|| address.to_string()),
        );
    }
    (None, first_address_word(text).map(str::to_string))
}

/// The texts of the top-level comments `( … )`, quoted strings skipped,
/// nested comments inside their parent's text. At most `max` of them.
pub(super) fn comments(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    let mut current = String::new();
    for c in text.chars() {
        if escaped {
            escaped = false;
            if depth > 0 {
                current.push(c);
            }
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' if depth == 0 => quoted = !quoted,
            '(' if !quoted => {
                if depth > 0 {
                    current.push(c);
                }
                depth += 1;
            }
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    if out.len() < max {
                        out.push(std::mem::take(&mut current));
                    }
                    current.clear();
                } else {
                    current.push(c);
                }
            }
            _ if depth > 0 => current.push(c),
            _ => {}
        }
    }
    out
}

/// The content of a quoted string holding an '@' that is itself followed
/// by '@', i.e. a quoted local part that looks like a whole address:
/// `"ceo@kestrelfoods.com"@evil.example`.
pub(super) fn quoted_local_part_address(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some((_, after_open)) = rest.split_once('"') {
        // The closing quote, quoted-pairs skipped.
        let mut escaped = false;
        let mut close = None;
        for (i, c) in after_open.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    close = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let close = close?;
        let content = after_open.get(..close).unwrap_or("");
        let after = after_open.get(close + 1..).unwrap_or("");
        if content.contains('@') && after.trim_start().starts_with('@') {
            return Some(content.trim().to_string());
        }
        rest = after;
    }
    escaped_at_local_part_address(text)
}

/// `d.brandt\@kestrelfoods.com@evil.example`: an '@' escaped as a
/// quoted-pair in an unquoted local part (obsolete syntax) hides an address
/// that a reader dropping the backslash shows.
fn escaped_at_local_part_address(text: &str) -> Option<String> {
    let (before, after) = text.split_once("\\@")?;
    let local = before
        .rsplit(|c: char| c.is_whitespace() || "<\"(,;:".contains(c))
        .next()
        .unwrap_or("");
    let (domain, rest) = after.split_once('@')?;
    let real_domain = rest
        .split(|c: char| c.is_whitespace() || ">),;".contains(c))
        .next()
        .unwrap_or("");
    let shown = format!("{local}@{domain}");
    // The hidden domain and the real one are one token with the local part.
    let one_token = !domain.contains(|c: char| c.is_whitespace() || "<>\"(),;".contains(c));
    (one_token && !local.is_empty() && !domain.is_empty() && !real_domain.is_empty())
        .then_some(shown)
}

/// The route's first host of an angle address `<@a,@b:user@c>`: what a
/// reader that takes the first '@' for the domain sees; with the whole
/// angle-bracketed text.
pub(super) fn route_first_host(text: &str) -> Option<(String, String)> {
    text.split('<').skip(1).find_map(|after| {
        let inside = after.split('>').next().unwrap_or("").trim();
        let route = inside.strip_prefix('@')?;
        let (route, _) = route.split_once(':')?;
        let host = route.split(',').next().unwrap_or("").trim();
        (!host.is_empty()).then(|| (host.to_string(), inside.to_string()))
    })
}

/// The text as a reader that applies bidi overrides shows it: each run
/// after an RLO (U+202E) or RLE/RLI up to its PDF/PDI or the end is
/// reversed; the controls themselves are dropped.
pub(super) fn bidi_rendered(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run: Option<String> = None;
    for c in text.chars() {
        match c {
            '\u{202E}' | '\u{202B}' | '\u{2067}' => {
                if let Some(r) = run.take() {
                    out.extend(r.chars().rev());
                }
                run = Some(String::new());
            }
            '\u{202C}' | '\u{2069}' => {
                if let Some(r) = run.take() {
                    out.extend(r.chars().rev());
                }
            }
            c if is_bidi_control(c) => {}
            c => match run.as_mut() {
                Some(r) => r.push(c),
                None => out.push(c),
            },
        }
    }
    if let Some(r) = run {
        out.extend(r.chars().rev());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn careless_readings_of_tricky_values() {
        assert_eq!(
            quoted_local_part_address("\"ceo@kestrelfoods.com\"@evil.example").as_deref(),
            Some("ceo@kestrelfoods.com")
        );
        assert_eq!(
            quoted_local_part_address("\"ceo@kestrelfoods.com\" <ceo@kestrelfoods.com>"),
            None
        );
        assert_eq!(
            quoted_local_part_address("Dan <d.brandt\\@kestrelfoods.com@evil.example>").as_deref(),
            Some("d.brandt@kestrelfoods.com")
        );
        assert_eq!(quoted_local_part_address("a\\@b <x@y.com>"), None);
        assert_eq!(
            route_first_host("<@kestrelfoods.com,@any.example:x@evil.example>")
                .unwrap()
                .0,
            "kestrelfoods.com"
        );
        assert_eq!(
            comments("x@evil.example (ceo@kestrelfoods.com) \"(not)\"", 4),
            ["ceo@kestrelfoods.com"]
        );
        assert_eq!(
            bidi_rendered("\u{202E}moc.sdooflertsek@oec\u{202C} <x@evil.example>"),
            "ceo@kestrelfoods.com <x@evil.example>"
        );
        assert_eq!(
            loose_mailbox("CEO <ceo@kestrelfoods.com"),
            (Some("CEO".into()), Some("ceo@kestrelfoods.com".into()))
        );
        assert_eq!(unfold(b"A\r\n\t<a@x.com>"), "A <a@x.com>");
    }
}
