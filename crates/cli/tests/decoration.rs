//! Issue 17: what an attacker adds to their own message (a Resent-From, a
//! Sender, a List-Id, a link, a neutral paragraph, a long signature) must
//! never lower its score or its level under the shipped model, or the
//! attacker has a free way under the threshold.
//!
//! Every attack of the default generated corpus is decorated once per
//! decoration and judged by models/default before and after. A second test
//! checks that each decoration lands where the extractor reads it, so the
//! property cannot hold by decorating nothing.

mod support;

use impostor_corpus::gen::GenConfig;
use impostor_corpus::Silent;
use impostor_features::{
    Context, Extraction, Extractor, Feature, HeaderFilter, Inputs, MessageView, OrgProfile,
    DEFAULT_VERDICT_HEADERS,
};
use impostor_model::{Level, Model};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::sync::OnceLock;
use support::repo;

/// Scores are compared with this slack: floating-point noise, not a drop.
const SLACK: f64 = 1e-9;

const LINK: &str = "http://portal.example.net/docs";
const OTHER_DOMAIN: &str = "relay-notice.example";

/// ~400 characters of neutral office news: no request, no money, no
/// credentials. Lines stay short and free of `=`, so they are valid
/// quoted-printable as they are.
const PARAGRAPH: &[&str] = &[
    "Thank you for your help during the quarter. Our office hours stay",
    "Monday to Friday, nine to five, and the reception desk can arrange",
    "visitor badges and parking. The facilities team will service the air",
    "conditioning on the second floor next week, so the meeting rooms there",
    "may be closed for a few hours. Lunch for the team meeting will be",
    "sandwiches and fruit from the usual caterer, served at noon.",
];

/// A long corporate signature (~1,200 characters): name, title, phones,
/// address and a legal disclaimer.
const SIGNATURE: &[&str] = &[
    "--",
    "Margaret Ellison",
    "Senior Procurement Coordinator, Supply Chain Operations",
    "Phone: +1 (555) 010-2234 | Mobile: +1 (555) 010-7781",
    "Fax: +1 (555) 010-2299",
    "Harbourview Business Centre, Suite 1400",
    "2250 Commerce Park Drive, Riverside, CA 92507, United States",
    "",
    "CONFIDENTIALITY NOTICE: This message and any attachments are intended",
    "solely for the addressee and may contain confidential or legally",
    "privileged information. If you have received this message in error,",
    "notify the sender by reply and delete it from your system. Any",
    "unauthorised review, use, disclosure or distribution is prohibited.",
    "Messages sent over the internet may be intercepted, corrupted, lost or",
    "delayed, and the sender accepts no liability for errors or omissions",
    "in the contents of this message which arise as a result of its",
    "transmission. Statements and opinions expressed in this message are",
    "those of the author and do not necessarily represent those of the",
    "company. The company is registered in the State of California under",
    "number C4409127; its registered office is at the address above.",
    "Please consider the environment before printing this message.",
];

/// One thing an attacker may add to their message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decoration {
    ResentFromOtherDomain,
    SenderSameDomain,
    SenderOtherDomain,
    ListId,
    HttpLink,
    BenignParagraph,
    LongSignature,
}

impl Decoration {
    const ALL: [Decoration; 7] = [
        Decoration::ResentFromOtherDomain,
        Decoration::SenderSameDomain,
        Decoration::SenderOtherDomain,
        Decoration::ListId,
        Decoration::HttpLink,
        Decoration::BenignParagraph,
        Decoration::LongSignature,
    ];

    fn name(self) -> &'static str {
        match self {
            Decoration::ResentFromOtherDomain => "resent_from_other_domain",
            Decoration::SenderSameDomain => "sender_same_domain",
            Decoration::SenderOtherDomain => "sender_other_domain",
            Decoration::ListId => "list_id",
            Decoration::HttpLink => "http_link",
            Decoration::BenignParagraph => "benign_paragraph",
            Decoration::LongSignature => "long_signature",
        }
    }

    /// The decorated message, or why its body could not be decorated.
    /// `own_domain` is the author's domain ([`own_domain`]).
    fn apply(self, raw: &[u8], own_domain: Option<&str>) -> Result<Vec<u8>, String> {
        let field = match self {
            Decoration::ResentFromOtherDomain => {
                format!("Resent-From: Desk <desk@{OTHER_DOMAIN}>")
            }
            Decoration::SenderSameDomain => {
                let domain = own_domain.ok_or("no author domain")?;
                format!("Sender: Office Assistant <assistant@{domain}>")
            }
            Decoration::SenderOtherDomain => format!("Sender: Mailer <mailer@{OTHER_DOMAIN}>"),
            Decoration::ListId => "List-Id: <announce.lists.example.org>".to_string(),
            Decoration::HttpLink => return decorate_body(raw, &Addition::link()),
            Decoration::BenignParagraph => return decorate_body(raw, &Addition::lines(PARAGRAPH)),
            Decoration::LongSignature => return decorate_body(raw, &Addition::lines(SIGNATURE)),
        };
        Ok(add_header_field(raw, &field))
    }
}

/// The domain the message shows as its author's: the From domain the
/// extractor read, else (no From, or an empty one) the Sender's or the
/// Resent-From's, which readers then show, else the envelope's.
fn own_domain(view: &MessageView) -> Option<&str> {
    view.from_domain()
        .or_else(|| view.sender.as_ref()?.domain.as_deref())
        .or_else(|| view.resent_from.first()?.domain.as_deref())
        .or_else(|| view.envelope_domain())
}

/// One attack of the corpus.
struct Attack {
    member: String,
    technique: String,
    variant: String,
    bytes: Vec<u8>,
}

/// Every attack (bec, phish) of the default generated corpus, generated
/// once per test binary.
fn attacks() -> &'static [Attack] {
    static ATTACKS: OnceLock<Vec<Attack>> = OnceLock::new();
    ATTACKS.get_or_init(|| {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().join("corpus");
        let config = GenConfig {
            output: dir.clone(),
            ..GenConfig::default()
        };
        config.run(&Silent).expect("generating the default corpus");
        let labels = std::fs::read_to_string(dir.join("labels.tsv")).unwrap();
        let mut lines = labels.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (member, label, technique, variant) = (
            column("member"),
            column("label"),
            column("technique"),
            column("variant"),
        );
        let attacks: Vec<Attack> = lines
            .map(|l| l.split('\t').collect::<Vec<&str>>())
            .filter(|cells| matches!(cells[label], "bec" | "phish"))
            // The mailbox timeline's attacks are judged with their history
            // (history_timeline.rs); these are the corpus's own.
            .filter(|cells| cells[variant] != "timeline")
            .map(|cells| Attack {
                member: cells[member].to_string(),
                technique: cells[technique].to_string(),
                variant: cells[variant].to_string(),
                bytes: std::fs::read(dir.join("messages").join(cells[member])).unwrap(),
            })
            .collect();
        assert_eq!(attacks.len(), GenConfig::default().attacks);
        attacks
    })
}

/// The org Context the default model was trained with (the example org,
/// the built-in lists) and the shipped model.
struct Judge {
    ctx: Context,
    model: Model,
}

/// A message as the model sees it.
struct Judged {
    view: MessageView,
    extraction: Extraction,
    fired: Vec<usize>,
    /// Calibrated log-odds: near 1 the probability hides how far a
    /// score fell.
    logit: f64,
    probability: f64,
    level: Level,
}

impl Judge {
    fn get() -> &'static Judge {
        static JUDGE: OnceLock<Judge> = OnceLock::new();
        JUDGE.get_or_init(|| {
            let org_path = repo().join("datasets/orgs/kestrel-foods.toml");
            let org = OrgProfile::load(&org_path).unwrap();
            let ctx = Context::builder(org)
                .header_filter(HeaderFilter::new(DEFAULT_VERDICT_HEADERS.iter().copied()))
                .build()
                .unwrap();
            let artifact = impostor_model::artifact::load(&repo().join("models/default"))
                .unwrap_or_else(|e| panic!("models/default does not load: {e}"));
            Judge {
                ctx,
                model: artifact.model,
            }
        })
    }

    fn judge(&self, bytes: &[u8]) -> Result<Judged, String> {
        let (view, extraction) = Extractor::new(&self.ctx)
            .extract_bytes(bytes, &Inputs::default())
            .map_err(|e| e.to_string())?;
        let mut fired = Vec::new();
        let score = self.model.score_with(&extraction.vector, &mut fired);
        let (_, level) = self.model.floored(score.probability, &fired);
        Ok(Judged {
            view,
            extraction,
            fired,
            logit: score.logit,
            probability: score.probability,
            level,
        })
    }

    /// What moved the calibrated log-odds from `a` to `b`, weightiest
    /// first: classifier inputs (value before → after) and rules that
    /// started or stopped firing.
    fn deltas(&self, a: &Judged, b: &Judged) -> String {
        let mut moves: Vec<(f64, String)> = Vec::new();
        let before = self.model.classifier_contributions(&a.extraction.vector);
        let after = self.model.classifier_contributions(&b.extraction.vector);
        for ((feature, x), (_, y)) in before.iter().zip(&after) {
            if (y - x).abs() > 1e-6 {
                let (va, vb) = (
                    a.extraction.vector.get(*feature),
                    b.extraction.vector.get(*feature),
                );
                moves.push((y - x, format!("{} {va}→{vb}", feature.name())));
            }
        }
        let rules = self.model.rules();
        for (fired, sign, word) in [(&b.fired, 1.0, "fires"), (&a.fired, -1.0, "stops")] {
            let other = if sign > 0.0 { &a.fired } else { &b.fired };
            for &i in fired.iter().filter(|i| !other.contains(i)) {
                let c = sign * self.model.rule_contribution(i);
                if c != 0.0 || rules[i].floor.is_some() {
                    moves.push((c, format!("rule {} {word}", rules[i].text.code)));
                }
            }
        }
        moves.sort_by(|x, y| y.0.abs().total_cmp(&x.0.abs()));
        moves
            .iter()
            .take(4)
            .map(|(c, what)| format!("{what} ({c:+.2})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A decoration that lowered an attack's score or level.
struct Violation {
    decoration: Decoration,
    /// Fall of the calibrated probability, and of the log-odds.
    drop: f64,
    logit_drop: f64,
    level_fell: bool,
    line: String,
}

#[test]
fn decorating_an_attack_never_lowers_its_score_or_level() {
    let judge = Judge::get();
    let results: Vec<(Vec<Violation>, Vec<String>)> = attacks()
        .par_iter()
        .map(|attack| {
            let mut violations = Vec::new();
            let mut problems = Vec::new();
            let original = match judge.judge(&attack.bytes) {
                Ok(j) => j,
                Err(e) => {
                    problems.push(format!("{}: the original does not parse: {e}", attack.member));
                    return (violations, problems);
                }
            };
            for decoration in Decoration::ALL {
                let name = decoration.name();
                let decorated = match decoration.apply(&attack.bytes, own_domain(&original.view))
                {
                    Ok(d) => d,
                    Err(why) => {
                        problems.push(format!("{name}: {}: undecorated: {why}", attack.member));
                        continue;
                    }
                };
                let after = match judge.judge(&decorated) {
                    Ok(j) => j,
                    Err(e) => {
                        problems.push(format!("{name}: {}: does not parse: {e}", attack.member));
                        continue;
                    }
                };
                let (p0, p1) = (original.probability, after.probability);
                if p1 < p0 - SLACK || after.level < original.level {
                    violations.push(Violation {
                        decoration,
                        drop: p0 - p1,
                        logit_drop: original.logit - after.logit,
                        level_fell: after.level < original.level,
                        line: format!(
                            "{name}: {} {}/{}: {p0:.4} → {p1:.4} (log-odds {:+.2} → {:+.2}, {:?} → {:?}); {}",
                            attack.member,
                            attack.technique,
                            attack.variant,
                            original.logit,
                            after.logit,
                            original.level,
                            after.level,
                            judge.deltas(&original, &after)
                        ),
                    });
                }
            }
            (violations, problems)
        })
        .collect();
    let (mut violations, mut problems) = (Vec::new(), Vec::new());
    for (v, p) in results {
        violations.extend(v);
        problems.extend(p);
    }
    // Nothing may be skipped silently: an attack that could not be
    // decorated or judged fails the test as surely as a drop.
    assert!(
        problems.is_empty(),
        "{} decorations could not be judged:\n{}",
        problems.len(),
        problems.join("\n")
    );
    violations.sort_by(|a, b| {
        (a.decoration as u8)
            .cmp(&(b.decoration as u8))
            .then(b.drop.total_cmp(&a.drop))
    });
    for v in &violations {
        println!("{}", v.line);
    }
    let mut summary = String::new();
    for decoration in Decoration::ALL {
        let drops: Vec<&Violation> = violations
            .iter()
            .filter(|v| v.decoration == decoration)
            .collect();
        if let Some(worst) = drops.first() {
            let worst_logit = drops.iter().map(|v| v.logit_drop).fold(0.0, f64::max);
            let _ = writeln!(
                summary,
                "  {}: {} of {} attacks score lower ({} by more than 0.01), {} fall a level; worst by {:.4} (log-odds by {worst_logit:.2})",
                decoration.name(),
                drops.len(),
                attacks().len(),
                drops.iter().filter(|v| v.drop > 0.01).count(),
                drops.iter().filter(|v| v.level_fell).count(),
                worst.drop
            );
        }
    }
    assert!(
        violations.is_empty(),
        "{} decorated attacks score lower than undecorated (one line each above):\n{summary}",
        violations.len()
    );
}

#[test]
fn each_decoration_lands_where_the_extractor_reads_it() {
    let judge = Judge::get();
    // Every 7th attack: every body form the generator writes is among
    // them (checked below).
    let sample: Vec<&Attack> = attacks().iter().step_by(7).collect();
    let failures: Vec<String> = sample
        .par_iter()
        .flat_map_iter(|attack| {
            let original = judge.judge(&attack.bytes).unwrap();
            Decoration::ALL.into_iter().filter_map(move |decoration| {
                let name = decoration.name();
                let member = &attack.member;
                let decorated = match decoration.apply(&attack.bytes, own_domain(&original.view)) {
                    Ok(d) => d,
                    Err(why) => return Some(format!("{name}: {member}: undecorated: {why}")),
                };
                let after = match judge.judge(&decorated) {
                    Ok(j) => j,
                    Err(e) => return Some(format!("{name}: {member}: does not parse: {e}")),
                };
                let feature = |j: &Judged, f: Feature| j.extraction.vector.get(f);
                let chars = |j: &Judged| feature(j, Feature::BodyTextChars);
                let landed = match decoration {
                    Decoration::ResentFromOtherDomain => after
                        .view
                        .resent_from
                        .iter()
                        .any(|i| i.domain.as_deref() == Some(OTHER_DOMAIN)),
                    Decoration::SenderSameDomain => {
                        after.view.sender.as_ref().and_then(|s| s.domain.as_deref())
                            == own_domain(&original.view)
                    }
                    Decoration::SenderOtherDomain => {
                        after.view.sender.as_ref().and_then(|s| s.domain.as_deref())
                            == Some(OTHER_DOMAIN)
                    }
                    Decoration::ListId => after
                        .view
                        .list_id
                        .as_deref()
                        .is_some_and(|l| l.contains("announce.lists.example.org")),
                    Decoration::HttpLink => {
                        feature(&after, Feature::LinkHttpOnlyCount)
                            >= feature(&original, Feature::LinkHttpOnlyCount) + 1.0
                            && after.view.links.iter().any(|l| l.href == LINK)
                    }
                    Decoration::BenignParagraph => {
                        chars(&after) >= chars(&original) + 300.0
                            && after.view.body_text.contains("visitor badges")
                    }
                    Decoration::LongSignature => {
                        chars(&after) >= chars(&original) + 1000.0
                            && after.view.body_text.contains("CONFIDENTIALITY NOTICE")
                    }
                };
                (!landed).then(|| format!("{name}: {member}: did not land"))
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The sample covers every body form: base64 and 7bit, HTML, and the
    // multipart layouts.
    for needle in [
        "base64",
        "7bit",
        "text/html",
        "multipart/alternative",
        "multipart/report",
        "text/calendar",
    ] {
        assert!(
            sample
                .iter()
                .any(|a| memchr_find(&a.bytes, needle.as_bytes())),
            "no sampled attack has {needle}"
        );
    }
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---- Decorating raw messages ----

/// The line end a message uses: CRLF when its first line ends so.
fn line_end(raw: &[u8]) -> &'static str {
    match raw.iter().position(|&b| b == b'\n') {
        Some(i) if i > 0 && raw.get(i - 1) == Some(&b'\r') => "\r\n",
        _ => "\n",
    }
}

/// `raw` with `field` inserted after its first header field (and that
/// field's continuation lines).
fn add_header_field(raw: &[u8], field: &str) -> Vec<u8> {
    let eol = line_end(raw);
    let mut at = 0;
    let mut first = true;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let continues = matches!(line.first(), Some(b' ' | b'\t'));
        if !first && !continues {
            break;
        }
        first = false;
        at += line.len();
    }
    let mut out = Vec::with_capacity(raw.len() + field.len() + 2);
    out.extend_from_slice(&raw[..at]);
    out.extend_from_slice(field.as_bytes());
    out.extend_from_slice(eol.as_bytes());
    out.extend_from_slice(&raw[at..]);
    out
}

/// Text added to every text part: as plain text, and as HTML.
struct Addition {
    text: Vec<String>,
    /// The HTML for a part that already has anchors.
    html_with_anchors: String,
    /// The HTML for a part without: an anchor there would hide the text
    /// links the extractor reads only when there are no anchors (see
    /// message/content.rs), so the link stays text.
    html_plain: String,
}

impl Addition {
    fn lines(lines: &[&str]) -> Addition {
        let html = format!("<p>{}</p>", lines.join("<br>\n"));
        Addition {
            text: lines.iter().map(|l| l.to_string()).collect(),
            html_with_anchors: html.clone(),
            html_plain: html,
        }
    }

    fn link() -> Addition {
        Addition {
            text: vec![format!("Documents: {LINK}")],
            html_with_anchors: format!("<p>Documents: <a href=\"{LINK}\">{LINK}</a></p>"),
            html_plain: format!("<p>Documents: {LINK}</p>"),
        }
    }
}

/// The header fields of an entity, unfolded: (lower-case name, value).
fn fields(header: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in String::from_utf8_lossy(header).lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    out
}

/// An entity split at its first empty line: header (with its line ends),
/// the empty line, and the body; None when there is no empty line.
fn split_entity(entity: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let mut at = 0;
    for line in entity.split_inclusive(|&b| b == b'\n') {
        if line == b"\n" || line == b"\r\n" {
            let (header, rest) = entity.split_at(at);
            let (blank, body) = rest.split_at(line.len());
            return Some((header, blank, body));
        }
        at += line.len();
    }
    None
}

/// A Content-Type's media type (lower case) and parameters (names lower
/// case, values unquoted).
fn content_type(value: &str) -> (String, Vec<(String, String)>) {
    let mut pieces = value.split(';');
    let media = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = pieces
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            )
        })
        .collect();
    (media, params)
}

/// `raw` with `add` appended to every text/plain and text/html part.
fn decorate_body(raw: &[u8], add: &Addition) -> Result<Vec<u8>, String> {
    let (out, parts) = decorate_entity(raw, add, 0)?;
    if parts == 0 {
        return Err("no text/plain or text/html part".into());
    }
    Ok(out)
}

/// One MIME entity decorated, and how many text parts took the addition.
fn decorate_entity(
    entity: &[u8],
    add: &Addition,
    depth: usize,
) -> Result<(Vec<u8>, usize), String> {
    let (header, blank, body) = split_entity(entity).ok_or("no body")?;
    let fields = fields(header);
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let (media, params) = content_type(get("content-type").unwrap_or("text/plain"));
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let attached = get("content-disposition")
        .is_some_and(|d| d.to_ascii_lowercase().starts_with("attachment"));
    let rebuilt = |body: Vec<u8>| [header, blank, &body].concat();
    if let Some(boundary) = param("boundary").filter(|_| media.starts_with("multipart/")) {
        if depth > 8 {
            return Err("multipart nested deeper than 8".into());
        }
        let (body, parts) = decorate_multipart(body, boundary, add, depth)?;
        return Ok((rebuilt(body), parts));
    }
    if attached || !matches!(media.as_str(), "text/plain" | "text/html") {
        return Ok((entity.to_vec(), 0));
    }
    // The additions are ASCII: appended to text in an ASCII-compatible
    // charset they stay what they say.
    let charset = param("charset").unwrap_or("us-ascii").to_ascii_lowercase();
    if !matches!(charset.as_str(), "us-ascii" | "utf-8" | "iso-8859-1") {
        return Err(format!("{media} in charset {charset}"));
    }
    let eol = line_end(entity);
    let html = media == "text/html";
    let encoding = get("content-transfer-encoding")
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    let body = match encoding.as_str() {
        "7bit" | "8bit" | "binary" => append(body, add, html, eol),
        // The addition is quoted-printable as it is (short lines, no `=`),
        // so appending it after a hard line end is decode, append, encode.
        "quoted-printable" => append(body, add, html, eol),
        "base64" => {
            let text = base64_decode(body)?;
            let text_eol = if text.windows(2).any(|w| w == b"\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            base64_encode(&append(&text, add, html, text_eol), eol)
        }
        other => return Err(format!("{media} in transfer encoding {other}")),
    };
    Ok((rebuilt(body), 1))
}

/// A multipart body with every part decorated; delimiter lines, preamble
/// and epilogue kept byte for byte.
fn decorate_multipart(
    body: &[u8],
    boundary: &str,
    add: &Addition,
    depth: usize,
) -> Result<(Vec<u8>, usize), String> {
    let delimiter = format!("--{boundary}");
    let closing = format!("--{boundary}--");
    let mut out = Vec::with_capacity(body.len() + 2048);
    let mut part: Vec<u8> = Vec::new();
    // Before the first delimiter (preamble) and after the last
    // (epilogue) nothing is decorated.
    let mut inside = false;
    let mut done = false;
    let mut count = 0;
    for line in body.split_inclusive(|&b| b == b'\n') {
        let bare = String::from_utf8_lossy(line);
        let bare = bare.trim_end();
        let is_delimiter = !done && (bare == delimiter || bare == closing);
        if !is_delimiter {
            if inside {
                part.extend_from_slice(line);
            } else {
                out.extend_from_slice(line);
            }
            continue;
        }
        if inside {
            let (decorated, n) = decorate_entity(&part, add, depth + 1)?;
            out.extend_from_slice(&decorated);
            count += n;
            part.clear();
        }
        out.extend_from_slice(line);
        inside = bare == delimiter;
        done = bare == closing;
    }
    if inside {
        return Err("multipart without its closing delimiter".into());
    }
    Ok((out, count))
}

/// `text` with the addition after it: as a last paragraph of plain text,
/// or before `</body>` (else `</html>`, else at the end) of HTML. The
/// result ends with a line end.
fn append(text: &[u8], add: &Addition, html: bool, eol: &str) -> Vec<u8> {
    let mut out = text.to_vec();
    if html {
        let lower = text.to_ascii_lowercase();
        let snippet = if memchr_find(&lower, b"href") {
            &add.html_with_anchors
        } else {
            &add.html_plain
        };
        let snippet = format!("{}{eol}", snippet.replace('\n', eol));
        let at = rfind(&lower, b"</body>")
            .or_else(|| rfind(&lower, b"</html>"))
            .unwrap_or(text.len());
        out.splice(at..at, snippet.bytes());
        if !out.ends_with(b"\n") {
            out.extend_from_slice(eol.as_bytes());
        }
        return out;
    }
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(eol.as_bytes());
    }
    out.extend_from_slice(eol.as_bytes());
    for line in &add.text {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(eol.as_bytes());
    }
    out
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_decode(encoded: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(encoded.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for &b in encoded {
        if b == b'=' {
            break;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        let Some(v) = BASE64.iter().position(|&c| c == b) else {
            return Err(format!("base64 body with the byte {b:#04x}"));
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// Base64 in lines of 76 characters, each ended by `eol`.
fn base64_encode(bytes: &[u8], eol: &str) -> Vec<u8> {
    let mut encoded = Vec::with_capacity(bytes.len() * 4 / 3 + 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | ((b as u32) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                encoded.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize]);
            } else {
                encoded.push(b'=');
            }
        }
    }
    let mut out = Vec::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for line in encoded.chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(eol.as_bytes());
    }
    out
}

#[test]
fn base64_round_trips_through_the_decorations_codec() {
    for text in ["", "a", "ab", "abc", "abcd", "山田 太郎様\n\n1月12日"] {
        let encoded = base64_encode(text.as_bytes(), "\n");
        assert_eq!(base64_decode(&encoded).unwrap(), text.as_bytes());
    }
    assert_eq!(base64_encode(b"Man", "\n"), b"TWFu\n");
}
