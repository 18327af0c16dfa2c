//! Content-borne attacks and their honest look-alikes: lures carried by an
//! HTML attachment, a PDF, a QR image or a callback number, in both
//! languages, and ham in the same carriers; the documents are real (the
//! PDF parses, the QR decodes), the payload is in labels.tsv, and a seed
//! fixes every byte.

use impostor_corpus::gen::payload::Payload;
use impostor_corpus::gen::world::World;
use impostor_corpus::gen::{write_corpus, Generated, Generator};
use impostor_corpus::manifest::read_labels;
use impostor_corpus::Label;
use impostor_features::Technique;
use mail_parser::{MessageParser, MimeHeaders};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A corpus of a few thousand messages.
fn corpus() -> &'static [Generated] {
    static CORPUS: OnceLock<Vec<Generated>> = OnceLock::new();
    CORPUS.get_or_init(|| Generator::new(7).unwrap().default_corpus(3000, 1500))
}

fn japanese(text: &str) -> bool {
    text.chars()
        .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The body text, the From address and the attachments (type, name, bytes).
struct Parsed {
    text: String,
    html: String,
    from: String,
    reply_to: String,
    files: Vec<(String, String, Vec<u8>)>,
}

fn parse(m: &Generated) -> Parsed {
    let msg = MessageParser::default().parse(&m.bytes).unwrap();
    let from = msg
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .unwrap_or("")
        .to_string();
    let reply_to = msg
        .reply_to()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .unwrap_or("")
        .to_string();
    let files = msg
        .attachments()
        .map(|a| {
            let ct = a
                .content_type()
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
                .unwrap_or_default();
            (
                ct,
                a.attachment_name().unwrap_or("").to_string(),
                a.contents().to_vec(),
            )
        })
        .collect();
    Parsed {
        text: msg.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
        html: msg.body_html(0).map(|t| t.to_string()).unwrap_or_default(),
        from,
        reply_to,
        files,
    }
}

fn domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

fn host(url: &str) -> &str {
    url.trim_start_matches("https://")
        .split(['/', '"', ' '])
        .next()
        .unwrap_or("")
}

/// The URI of every /Link annotation of a PDF, and its text.
fn pdf_links_and_text(bytes: &[u8]) -> (Vec<String>, String) {
    let doc = lopdf::Document::load_mem(bytes).expect("the PDF parses");
    let mut uris = Vec::new();
    let mut text = String::new();
    for (_, page) in doc.get_pages() {
        let dict = doc.get_dictionary(page).unwrap();
        if let Ok(annots) = dict.get(b"Annots").and_then(|a| a.as_array()) {
            for a in annots {
                let a = doc.dereference(a).unwrap().1.as_dict().unwrap();
                assert_eq!(a.get(b"Subtype").unwrap().as_name().unwrap(), b"Link");
                let action = a.get(b"A").unwrap().as_dict().unwrap();
                let uri = action.get(b"URI").unwrap().as_str().unwrap();
                uris.push(String::from_utf8_lossy(uri).to_string());
            }
        }
        text.push_str(&String::from_utf8_lossy(&doc.get_page_content(page)));
    }
    (uris, text)
}

fn decode_qr(png: &[u8]) -> String {
    let image = image::load_from_memory(png).expect("a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("the QR code decodes").1
}

fn phone_like(text: &str) -> bool {
    ["555-01", "0120-000-", "050-0000-"]
        .iter()
        .any(|p| text.contains(p))
}

#[test]
fn every_payload_appears_in_attacks_and_ham_in_both_languages_a_fifth_of_attacks() {
    let mut counts: BTreeMap<(bool, Payload, bool), usize> = BTreeMap::new();
    for m in corpus() {
        let p = parse(m);
        let ja = japanese(&p.text);
        *counts
            .entry((m.label.is_attack(), m.payload, ja))
            .or_default() += 1;
    }
    for attack in [true, false] {
        for payload in [
            Payload::HtmlAttachment,
            Payload::Pdf,
            Payload::QrImage,
            Payload::Callback,
        ] {
            for ja in [false, true] {
                let n = counts.get(&(attack, payload, ja)).copied().unwrap_or(0);
                assert!(n >= 5, "attack {attack} {payload} ja {ja}: {n}: {counts:?}");
            }
        }
    }
    let share = |attack: bool| {
        let all: usize = counts
            .iter()
            .filter(|((a, _, _), _)| *a == attack)
            .map(|(_, n)| n)
            .sum();
        let carried: usize = counts
            .iter()
            .filter(|((a, p, _), _)| *a == attack && *p != Payload::Body)
            .map(|(_, n)| n)
            .sum();
        carried as f64 / all as f64
    };
    let (attacks, ham) = (share(true), share(false));
    eprintln!("payload shares: attacks {attacks:.3}, ham {ham:.3}; {counts:?}");
    assert!((0.15..=0.25).contains(&attacks), "attacks: {attacks:.3}");
    assert!((0.1..=0.2).contains(&ham), "ham: {ham:.3}");
}

#[test]
fn payload_lures_hold_no_link_in_the_body_and_attach_what_they_say() {
    let world = World::builtin().unwrap();
    // An attack's link goes to a phishing host or its lookalike domain
    // (of From, or of Reply-To when only that imitates).
    let attackers = |p: &Parsed, h: &str| {
        world.phish_hosts.iter().any(|x| x == h) || h == domain(&p.from) || h == domain(&p.reply_to)
    };
    let mut seen = 0;
    for m in corpus()
        .iter()
        .filter(|m| m.label.is_attack() && m.payload != Payload::Body)
    {
        assert_eq!(m.label, Label::Phish, "{}", m.member);
        let p = parse(m);
        assert!(!p.text.contains("https://"), "{}: {}", m.member, p.text);
        assert!(!p.html.contains("href="), "{}", m.member);
        // A calendar or report carrier keeps its second part.
        let p = Parsed {
            files: p
                .files
                .into_iter()
                .filter(|f| f.0 != "text/calendar" && !f.0.starts_with("message/"))
                .collect(),
            ..p
        };
        let types: Vec<&str> = p.files.iter().map(|f| f.0.as_str()).collect();
        match m.payload {
            Payload::HtmlAttachment => {
                assert_eq!(types, ["text/html"], "{}", m.member);
                let name = &p.files[0].1;
                assert!(
                    [".html", ".htm", ".shtml"]
                        .iter()
                        .any(|e| name.ends_with(e)),
                    "{}: {name}",
                    m.member
                );
                let page = String::from_utf8(p.files[0].2.clone()).unwrap();
                let action = page
                    .split("action=\"")
                    .nth(1)
                    .or_else(|| page.split("url=").nth(1));
                if let Some(url) = action {
                    let h = host(url);
                    assert!(attackers(&p, h), "{}: posts to {h}", m.member);
                } else {
                    assert!(
                        page.contains("atob(") && page.contains("Blob"),
                        "{}",
                        m.member
                    );
                }
            }
            Payload::Pdf => {
                assert_eq!(types, ["application/pdf"], "{}", m.member);
                let (uris, text) = pdf_links_and_text(&p.files[0].2);
                if m.kind == "callback_pdf" {
                    assert!(uris.is_empty(), "{}", m.member);
                    assert!(phone_like(&text), "{}: {text}", m.member);
                    assert!(!phone_like(&p.text), "{}: number only in the PDF", m.member);
                } else {
                    assert_eq!(uris.len(), 1, "{}", m.member);
                    assert!(text.contains(uris[0].as_str()), "{}", m.member);
                }
            }
            Payload::QrImage => {
                assert_eq!(types, ["image/png"], "{}", m.member);
                let url = decode_qr(&p.files[0].2);
                let h = host(&url);
                assert!(
                    url.starts_with("https://") && attackers(&p, h),
                    "{}: {url}",
                    m.member
                );
            }
            Payload::Callback => {
                assert!(types.is_empty(), "{}", m.member);
                assert!(phone_like(&p.text), "{}: {}", m.member, p.text);
                assert_eq!(
                    m.technique,
                    Some(Technique::FreemailImpersonation),
                    "{}",
                    m.member
                );
                assert!(
                    world.freemail.iter().any(|f| f == domain(&p.from)),
                    "{}",
                    m.member
                );
            }
            Payload::Body => unreachable!(),
        }
        seen += 1;
    }
    assert!(seen > 200, "{seen}");
}

#[test]
fn carrier_ham_links_and_qr_codes_point_to_the_senders_own_domain() {
    let mut checked = BTreeMap::new();
    for m in corpus()
        .iter()
        .filter(|m| m.label == Label::Ham && m.payload != Payload::Body)
    {
        let p = parse(m);
        let own = domain(&p.from);
        let owned = |url: &str| {
            let h = host(url);
            h == own || h.ends_with(&format!(".{own}"))
        };
        match m.payload {
            Payload::Pdf => {
                let (uris, _) = pdf_links_and_text(&p.files[0].2);
                assert!(!uris.is_empty(), "{}", m.member);
                assert!(uris.iter().all(|u| owned(u)), "{}: {uris:?}", m.member);
            }
            Payload::QrImage => {
                let url = decode_qr(&p.files[0].2);
                assert!(owned(&url), "{}: {url} from {own}", m.member);
            }
            Payload::HtmlAttachment => {
                let page = String::from_utf8(p.files[0].2.clone()).unwrap();
                assert!(
                    !page.contains("<form") && !page.contains("<script"),
                    "{}",
                    m.member
                );
                for href in page.split("href=\"").skip(1) {
                    assert!(owned(href), "{}: {href}", m.member);
                }
            }
            Payload::Callback => {
                assert!(phone_like(&p.text), "{}", m.member);
                assert!(p.files.is_empty(), "{}", m.member);
            }
            Payload::Body => unreachable!(),
        }
        *checked.entry(m.payload).or_insert(0) += 1;
    }
    assert_eq!(checked.len(), 4, "{checked:?}");
}

#[test]
fn the_same_seed_writes_the_same_payload_bytes() {
    let a = Generator::new(21).unwrap().default_corpus(300, 300);
    let b = Generator::new(21).unwrap().default_corpus(300, 300);
    let with = a.iter().filter(|m| m.payload != Payload::Body).count();
    assert!(with > 40, "{with}");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.member, x.payload), (&y.member, y.payload));
        assert!(x.bytes == y.bytes, "{} differs", x.member);
    }
    let carriers = vec![
        b"From: a@b.example\nTo: c@d.example\nSubject: hi\nDate: Tue, 20 Aug 2002 10:00:00 +0100\nContent-Type: text/html\n\n<p>hello</p>\n".to_vec(),
    ];
    let x = Generator::new(21).unwrap().inject_into(&carriers, 200);
    let y = Generator::new(21).unwrap().inject_into(&carriers, 200);
    assert!(x.iter().any(|m| m.payload != Payload::Body));
    assert!(x
        .iter()
        .zip(&y)
        .all(|(p, q)| p.bytes == q.bytes && p.payload == q.payload));
}

#[test]
fn labels_carry_the_payload_last_and_old_labels_still_read() {
    let corpus = Generator::new(3).unwrap().default_corpus(200, 200);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    write_corpus(&out, &corpus).unwrap();
    let text = std::fs::read_to_string(out.join("labels.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(header.last(), Some(&"payload"));
    assert_eq!(header.len(), 8);
    for (line, m) in lines.zip(&corpus) {
        let cells: Vec<&str> = line.split('\t').collect();
        assert_eq!(cells.len(), 8, "{line}");
        assert_eq!(Payload::from_code(cells[7]), Some(m.payload), "{line}");
    }
    let read = read_labels(&out.join("labels.tsv")).unwrap();
    assert_eq!(read.len(), corpus.len());
    // A labels file written before the column: read as it always was.
    let old = dir.path().join("old.tsv");
    std::fs::write(
        &old,
        "member\tlabel\ttechnique\tsynthetic\tkind\tcarrier_sha1\tvariant\nbec/000001.eml\tbec\tfreemail_impersonation\ttrue\twire_transfer\t\tfreemail\n",
    )
    .unwrap();
    let read = read_labels(&old).unwrap();
    let e = &read["bec/000001.eml"];
    assert_eq!(e.label, Some(Label::Bec));
    assert_eq!(e.technique.as_deref(), Some("freemail_impersonation"));
}
