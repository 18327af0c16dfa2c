//! A strict RFC 5322 reader of a From value: the `mailbox-list` of §3.4
//! without any of the obsolete syntax of §4.4 (no route, no unquoted '.' in
//! a display name, no groups), no control characters. Comments and quoted
//! strings are understood as the standard says. A value it cannot read is
//! refused with a short reason rather than guessed at.
//!
//! Linear in the value's length: one pass to tokens, one over the tokens,
//! comment nesting counted rather than recursed into.

/// Deepest comment nesting accepted; deeper is refused.
const MAX_COMMENT_DEPTH: usize = 16;

/// One lexical token of a structured header value.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    /// An atom (unquoted).
    Atom(String),
    /// A quoted string's content, quoted-pairs resolved.
    Quoted(String),
    /// A domain literal `[…]`, brackets included.
    Literal(String),
    /// One of `<>:;@,.`.
    Special(char),
}

/// A mailbox the strict reader accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct StrictMailbox {
    pub name: Option<String>,
    pub address: String,
    pub domain: String,
}

/// `atext` of RFC 5322 §3.2.3, with UTF-8 beyond ASCII (RFC 6532).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

/// The value as tokens, comments dropped; a reason when it breaks the
/// grammar's lexical rules.
fn tokens(value: &str) -> Result<Vec<Tok>, &'static str> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {}
            '(' => {
                let mut depth = 1usize;
                while depth > 0 {
                    match chars.next() {
                        None => return Err("an unterminated comment"),
                        Some('\\') => {
                            chars.next();
                        }
                        Some('(') => {
                            depth += 1;
                            if depth > MAX_COMMENT_DEPTH {
                                return Err("comments nested too deep");
                            }
                        }
                        Some(')') => depth -= 1,
                        Some(_) => {}
                    }
                }
            }
            '"' => {
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => return Err("an unterminated quoted string"),
                        Some('\\') => match chars.next() {
                            Some(q) => text.push(q),
                            None => return Err("an unterminated quoted string"),
                        },
                        Some('"') => break,
                        Some(q) => text.push(q),
                    }
                }
                out.push(Tok::Quoted(text));
            }
            '[' => {
                let mut text = String::from("[");
                loop {
                    match chars.next() {
                        None => return Err("an unterminated domain literal"),
                        Some(']') => break,
                        Some('[' | '\\') => return Err("a malformed domain literal"),
                        Some(q) => text.push(q),
                    }
                }
                text.push(']');
                out.push(Tok::Literal(text));
            }
            '<' | '>' | ':' | ';' | '@' | ',' | '.' => out.push(Tok::Special(c)),
            c if is_atext(c) => {
                let mut atom = String::from(c);
                while let Some(&n) = chars.peek() {
                    if !is_atext(n) {
                        break;
                    }
                    atom.push(n);
                    chars.next();
                }
                out.push(Tok::Atom(atom));
            }
            _ => return Err("a character no address may hold"),
        }
    }
    Ok(out)
}

/// Reads a From value as a strict RFC 5322 `mailbox-list`: every mailbox,
/// or why it cannot be read.
pub(super) fn mailbox_list(value: &str) -> Result<Vec<StrictMailbox>, &'static str> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
    {
        return Err("control characters");
    }
    let toks = tokens(value)?;
    let mut out = Vec::new();
    // Mailboxes split at top-level commas (none stand inside <…>).
    let mut start = 0;
    let mut inside = false;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Special('<') => inside = true,
            Tok::Special('>') => inside = false,
            Tok::Special(',') if !inside => {
                out.push(mailbox(toks.get(start..i).unwrap_or_default())?);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(mailbox(toks.get(start..).unwrap_or_default())?);
    Ok(out)
}

fn mailbox(toks: &[Tok]) -> Result<StrictMailbox, &'static str> {
    if toks.is_empty() {
        return Err("an empty mailbox");
    }
    let Some(open) = toks.iter().position(|t| *t == Tok::Special('<')) else {
        let (address, domain) = addr_spec(toks)?;
        return Ok(StrictMailbox {
            name: None,
            address,
            domain,
        });
    };
    let (phrase, rest) = toks.split_at_checked(open).unwrap_or_default();
    let mut words = Vec::new();
    for t in phrase {
        match t {
            Tok::Atom(w) | Tok::Quoted(w) => words.push(w.as_str()),
            Tok::Special('.') => return Err("an unquoted '.' in the display name (obsolete)"),
            Tok::Special(':' | ';') => return Err("a group where a mailbox belongs"),
            _ => return Err("a special character in the display name"),
        }
    }
    // rest = '<' addr-spec '>'
    let inner = rest.get(1..).unwrap_or_default();
    if inner.first() == Some(&Tok::Special('@')) {
        return Err("a source route (obsolete)");
    }
    let Some(close) = inner.iter().position(|t| *t == Tok::Special('>')) else {
        return Err("an unclosed angle bracket");
    };
    if close + 1 != inner.len() {
        return Err("text after the angle-bracketed address");
    }
    let (address, domain) = addr_spec(inner.get(..close).unwrap_or_default())?;
    let name = (!words.is_empty()).then(|| words.join(" "));
    Ok(StrictMailbox {
        name,
        address,
        domain,
    })
}

/// `local-part "@" domain` with a dot-atom or quoted local part and a
/// dot-atom or literal domain: the address as text and its domain.
fn addr_spec(toks: &[Tok]) -> Result<(String, String), &'static str> {
    let ats: Vec<usize> = toks
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == Tok::Special('@'))
        .map(|(i, _)| i)
        .collect();
    let [at] = ats.as_slice() else {
        return Err(if ats.is_empty() {
            "a mailbox without '@'"
        } else {
            "several '@' outside quotes"
        });
    };
    let (local, domain) = toks.split_at_checked(*at).unwrap_or_default();
    let domain = domain.get(1..).unwrap_or_default();
    let local = match local {
        [Tok::Quoted(q)] => format!("\"{}\"", q.replace('\\', "\\\\").replace('"', "\\\"")),
        _ => dot_atom(local).ok_or("a malformed local part")?,
    };
    let domain = match domain {
        [Tok::Literal(l)] => l.clone(),
        _ => dot_atom(domain).ok_or("a malformed domain")?,
    };
    Ok((format!("{local}@{domain}"), domain))
}

/// `atom *("." atom)` as text; None for anything else (obsolete CFWS
/// between the dots has already gone with the tokens).
fn dot_atom(toks: &[Tok]) -> Option<String> {
    let mut text = String::new();
    let mut want_atom = true;
    for t in toks {
        match (t, want_atom) {
            (Tok::Atom(a), true) => text.push_str(a),
            (Tok::Special('.'), false) => text.push('.'),
            _ => return None,
        }
        want_atom = !want_atom;
    }
    (!text.is_empty() && !want_atom).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(v: &str) -> Result<(Option<String>, String), &'static str> {
        mailbox_list(v).map(|l| (l[0].name.clone(), l[0].address.clone()))
    }

    #[test]
    fn reads_plain_quoted_and_commented_mailboxes() {
        assert_eq!(
            first(" \"Brandt, Daniel\" <d.brandt@kestrelfoods.com>").unwrap(),
            (
                Some("Brandt, Daniel".into()),
                "d.brandt@kestrelfoods.com".into()
            )
        );
        assert_eq!(
            first(" d@kestrelfoods.com (Daniel)").unwrap(),
            (None, "d@kestrelfoods.com".into())
        );
        assert_eq!(
            first(" \"ceo@kestrelfoods.com\"@evil.example").unwrap(),
            (None, "\"ceo@kestrelfoods.com\"@evil.example".into())
        );
        assert_eq!(mailbox_list("a@x.com, b@y.com").unwrap().len(), 2);
    }

    #[test]
    fn refuses_obsolete_syntax_and_control_characters() {
        assert!(first("<@kestrelfoods.com:x@evil.example>")
            .unwrap_err()
            .contains("route"));
        assert!(first("J. Smith <j@x.com>")
            .unwrap_err()
            .contains("obsolete"));
        assert!(first("a@x.com\0@y.com").unwrap_err().contains("control"));
        assert!(first("Brandt, Daniel <d@x.com>").is_err());
        assert!(first("").is_err());
        assert!(first("undisclosed-recipients:;").is_err());
        assert!(first("((((((((((((((((((x").is_err());
    }
}
