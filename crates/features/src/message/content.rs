//! The text a reader sees in the body, within the text limit, and the links
//! in it.

use super::{MessageView, ParseLimits};
use crate::attachment::LinkOrigin;
use crate::html::{read_html, truncate_at_char, Anchor};
use mail_parser::{Message, PartType};
use serde::Serialize;

/// A link in the body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The link as written, trimmed (at most 2,048 bytes).
    pub href: String,
    /// `http` or `https` (a bare `www.` link counts as http).
    pub scheme: String,
    /// Host, lower case, punycode for Unicode hosts; None when unparsable.
    pub host: Option<String>,
    /// Whether the host is an IP address rather than a name.
    pub host_is_ip: bool,
    /// Text the reader sees (HTML anchors only).
    pub text: Option<String>,
    /// Where the link was found: the body, an attachment or a QR code.
    pub origin: LinkOrigin,
}

impl MessageView {
    pub(super) fn read_content(&mut self, message: &Message<'_>, limits: &ParseLimits) {
        // What the subject and its line break leave of the text limit.
        let max_text = limits.max_text_bytes.saturating_sub(self.subject.len() + 1);
        let mut text = String::new();
        let mut truncated = false;
        let mut anchors = Vec::new();
        // HTML-only mail lists the same part as text and HTML body: scan it once.
        let mut scanned: Vec<u32> = Vec::new();
        // The HTML body read for its findings below (the first HTML part of
        // `html_body`), and its anchors when read here: not read twice.
        let findings_part = message.html_body.iter().copied().find(|id| {
            matches!(
                message.parts.get(*id as usize).map(|p| &p.body),
                Some(PartType::Html(_))
            )
        });
        let mut findings_anchors: Option<Vec<Anchor>> = None;
        for id in &message.text_body {
            let Some(part) = message.parts.get(*id as usize) else {
                continue;
            };
            match &part.body {
                PartType::Text(t) => push_bounded(&mut text, t, max_text, &mut truncated),
                PartType::Html(h) => {
                    let content = read_html(h, limits.max_html_bytes, max_text, limits.max_links);
                    if findings_part == Some(*id) && findings_anchors.is_none() {
                        findings_anchors = Some(content.anchors.clone());
                    }
                    truncated |= h.len() > limits.max_html_bytes;
                    push_bounded(&mut text, &content.text, max_text, &mut truncated);
                    if message.html_body.contains(id) && anchors.len() < limits.max_links {
                        anchors.extend(content.anchors);
                        scanned.push(*id);
                    }
                }
                _ => {}
            }
        }
        for id in &message.html_body {
            if anchors.len() >= limits.max_links {
                break;
            }
            let Some(part) = message.parts.get(*id as usize) else {
                continue;
            };
            if let (PartType::Html(h), false) = (&part.body, scanned.contains(id)) {
                let content = read_html(h, limits.max_html_bytes, 0, limits.max_links);
                if findings_part == Some(*id) && findings_anchors.is_none() {
                    findings_anchors = Some(content.anchors.clone());
                }
                anchors.extend(content.anchors);
            }
        }
        let mut links: Vec<Link> = anchors
            .into_iter()
            .take(limits.max_links)
            .filter_map(|a| link_from(&a.href, Some(a.text), LinkOrigin::Body))
            .collect();
        if links.is_empty() {
            // Plain-text mail: URLs written in the text.
            let finder = linkify::LinkFinder::new();
            for found in finder
                .links(&text)
                .filter(|l| *l.kind() == linkify::LinkKind::Url)
            {
                if links.len() >= limits.max_links {
                    break;
                }
                if let Some(l) = link_from(found.as_str(), None, LinkOrigin::Body) {
                    links.push(l);
                }
            }
        }
        // The body's own HTML, read for what a page can do besides link:
        // forms that post credentials, refreshes, smuggled pages.
        if let Some(html) = findings_part
            .and_then(|id| message.parts.get(id as usize))
            .and_then(|p| match &p.body {
                PartType::Html(h) => Some(h),
                _ => None,
            })
        {
            let mut budget = crate::attachment::Budget::new(&limits.attachments);
            let mut found = crate::attachment::Analysis::default();
            let html = crate::html::truncate_at_char(html, limits.max_html_bytes);
            // Read above with `max_links` anchors kept: enough when the
            // attachment limit keeps no more.
            let anchors = findings_anchors
                .as_deref()
                .filter(|_| limits.attachments.max_links <= limits.max_links);
            crate::attachment::inspect_html_body(html, anchors, &mut budget, &mut found);
            self.body_findings = found.findings;
            for url in found.urls {
                if links.len() >= limits.max_links {
                    break;
                }
                if !links.iter().any(|l| l.href == url.url) {
                    links.extend(link_from(&url.url, None, LinkOrigin::Body));
                }
            }
        }
        self.body_text = text;
        self.body_truncated = truncated;
        self.links = links;
    }
}

fn push_bounded(buf: &mut String, s: &str, max: usize, truncated: &mut bool) {
    if buf.len() >= max {
        *truncated |= !s.is_empty();
        return;
    }
    if !buf.is_empty() {
        buf.push('\n');
    }
    let room = max.saturating_sub(buf.len());
    let piece = truncate_at_char(s, room);
    *truncated |= piece.len() < s.len();
    buf.push_str(piece);
}

/// A link from an href or a URL in text; None for schemes that are not web
/// links (mailto:, tel:, cid:, fragments).
pub(crate) fn link_from(href: &str, text: Option<String>, origin: LinkOrigin) -> Option<Link> {
    let href = href.trim();
    // Bytes, not a str slice: an attacker's href may end its first four
    // bytes inside a multi-byte character.
    let www = href
        .as_bytes()
        .get(..4)
        .is_some_and(|head| head.eq_ignore_ascii_case(b"www."));
    let candidate = if href.len() > 4 && www {
        format!("http://{href}")
    } else {
        href.to_string()
    };
    let url = url::Url::parse(&candidate).ok()?;
    let scheme = url.scheme().to_string();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (host, host_is_ip) = match url.host() {
        Some(url::Host::Domain(d)) => (Some(d.trim_end_matches('.').to_ascii_lowercase()), false),
        Some(url::Host::Ipv4(ip)) => (Some(ip.to_string()), true),
        Some(url::Host::Ipv6(ip)) => (Some(ip.to_string()), true),
        None => (None, false),
    };
    Some(Link {
        href: truncate_at_char(href, 2048).to_string(),
        scheme,
        host,
        host_is_ip,
        text: text.filter(|t| !t.is_empty()),
        origin,
    })
}
