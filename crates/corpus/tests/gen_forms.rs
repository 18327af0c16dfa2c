//! The generator's header-From spoof forms (Composition Kills' header
//! ambiguities, DKIM replays, a DMARC verdict on another From) and its
//! honest mail with unusual but legal headers: every form is written, often
//! enough to learn from, labelled as it should be, shaped as its name says,
//! and reproducible from the seed.

use impostor_corpus::gen::ambiguity::SpoofForm;
use impostor_corpus::gen::unusual::HamVariant;
use impostor_corpus::gen::{write_corpus, GenConfig, Generated, Generator};
use impostor_corpus::Label;
use impostor_features::{Context, Extractor, Inputs, OrgProfile, Technique};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

/// The embedded default corpus's sizes (`GenConfig::default()`), seed 7.
fn corpus() -> &'static [Generated] {
    static CORPUS: OnceLock<Vec<Generated>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let sizes = GenConfig::default();
        Generator::new(7)
            .unwrap()
            .default_corpus(sizes.ham, sizes.attacks)
    })
}

/// Header fields of `bytes` as (name as written, unfolded value), in order.
fn fields(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let head = text.split("\n\n").next().unwrap_or("");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((n, v)) = line.split_once(':') {
            out.push((n.to_string(), v.trim().to_string()));
        }
    }
    out
}

fn named<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// A tag's value in a DKIM-Signature or ARC field (`d`, `h`, `l`).
fn tag<'a>(value: &'a str, tag: &str) -> Option<&'a str> {
    value.split(';').find_map(|t| {
        let (k, v) = t.split_once('=')?;
        (k.trim() == tag).then(|| v.trim())
    })
}

fn of_variant<'a>(corpus: &'a [Generated], variant: &str) -> Vec<&'a Generated> {
    corpus.iter().filter(|m| m.variant == variant).collect()
}

#[test]
fn every_header_from_form_is_written_at_least_fifteen_times_labelled_header_from_spoof() {
    let corpus = corpus();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for m in corpus
        .iter()
        .filter(|m| m.technique == Some(Technique::HeaderFromSpoof))
    {
        assert!(matches!(m.label, Label::Bec | Label::Phish), "{}", m.member);
        *counts.entry(m.variant.as_str()).or_default() += 1;
    }
    for form in SpoofForm::ALL {
        let n = counts.get(form.code()).copied().unwrap_or(0);
        assert!(n >= 15, "{} written {n} times: {counts:?}", form.code());
    }
    assert_eq!(
        counts.len(),
        SpoofForm::ALL.len(),
        "no other forms: {counts:?}"
    );
    // Every form's messages carry header_from_spoof and nothing else.
    for form in SpoofForm::ALL {
        for m in of_variant(corpus, form.code()) {
            assert_eq!(
                m.technique,
                Some(Technique::HeaderFromSpoof),
                "{}",
                m.member
            );
        }
    }
    // Injected into real carriers, the forms come in turn too.
    let carriers = vec![
        b"Received: from a.example by b.example; Tue, 20 Aug 2002 10:00:00 +0100\nFrom: Ann <ann@lists.example>\nTo: x@y.example\nSubject: hi\nDate: Tue, 20 Aug 2002 10:00:00 +0100\nMessage-ID: <1@lists.example>\n\nhello\n".to_vec(),
    ];
    let injected = Generator::new(7)
        .unwrap()
        .inject_into(&carriers, 5 * SpoofForm::ALL.len());
    let forms: std::collections::BTreeSet<&str> = injected
        .iter()
        .filter(|m| m.technique == Some(Technique::HeaderFromSpoof))
        .map(|m| m.variant.as_str())
        .collect();
    assert_eq!(forms.len(), SpoofForm::ALL.len(), "{forms:?}");
}

#[test]
fn each_header_ambiguity_form_is_shaped_as_its_name_says() {
    let corpus = corpus();
    let from_lines = |m: &Generated| -> Vec<String> {
        let text = String::from_utf8_lossy(&m.bytes).into_owned();
        text.split("\n\n")
            .next()
            .unwrap_or("")
            .lines()
            .filter(|l| l.starts_with("From") && !l.starts_with("From-"))
            .map(str::to_string)
            .collect()
    };
    for m in of_variant(corpus, "from_multiple") {
        let f = fields(&m.bytes);
        let froms = named(&f, "From");
        assert_eq!(froms.len(), 2, "{}", m.member);
        assert_ne!(
            froms[0], froms[1],
            "{}: the two From fields differ",
            m.member
        );
    }
    for m in of_variant(corpus, "from_address_list") {
        let f = fields(&m.bytes);
        let from = named(&f, "From");
        assert_eq!(from.len(), 1);
        assert_eq!(from[0].matches('@').count(), 2, "{}: {}", m.member, from[0]);
    }
    for m in of_variant(corpus, "from_space_before_colon") {
        let lines = from_lines(m);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("From :") || l.starts_with("From\t:")),
            "{}: {lines:?}",
            m.member
        );
        assert!(
            lines.iter().any(|l| l.starts_with("From: ")),
            "{}",
            m.member
        );
    }
    for m in of_variant(corpus, "from_empty_with_sender") {
        let f = fields(&m.bytes);
        let from = named(&f, "From");
        assert_eq!(from.len(), 1);
        assert!(
            !from[0].contains('@'),
            "{}: From is empty: {}",
            m.member,
            from[0]
        );
        let claimed: Vec<&str> = [named(&f, "Sender"), named(&f, "Resent-From")].concat();
        assert!(claimed.iter().any(|s| s.contains('@')), "{}", m.member);
    }
    for m in of_variant(corpus, "from_missing_with_sender") {
        let f = fields(&m.bytes);
        assert!(named(&f, "From").is_empty(), "{}", m.member);
        assert!(
            !named(&f, "Sender").is_empty() || !named(&f, "Resent-From").is_empty(),
            "{}",
            m.member
        );
    }
    for m in of_variant(corpus, "from_encoded_word") {
        let from = named(&fields(&m.bytes), "From").concat();
        assert!(from.contains("=?"), "{}: {from}", m.member);
        // What the encoded word hides is an address.
        let parsed = mail_parser::MessageParser::default()
            .parse(&m.bytes)
            .unwrap();
        let decoded = parsed
            .from()
            .and_then(|a| a.first())
            .map(|a| format!("{:?} {:?}", a.name(), a.address()))
            .unwrap_or_default();
        assert!(decoded.contains('@'), "{}: {decoded}", m.member);
    }
    for m in of_variant(corpus, "from_route_syntax") {
        let from = named(&fields(&m.bytes), "From").concat();
        assert!(
            from.contains("<@") && from.contains(':'),
            "{}: {from}",
            m.member
        );
    }
    for m in of_variant(corpus, "from_comment_address") {
        let from = named(&fields(&m.bytes), "From").concat();
        let comment = from.split_once('(').and_then(|(_, c)| c.split_once(')'));
        assert!(
            comment.is_some_and(|(c, _)| c.contains('@')),
            "{}: {from}",
            m.member
        );
    }
    for m in of_variant(corpus, "from_quoted_local_part") {
        let from = named(&fields(&m.bytes), "From").concat();
        assert!(
            from.contains("\"@") || from.contains("\\@"),
            "{}: {from}",
            m.member
        );
    }
    for m in of_variant(corpus, "from_control_char") {
        let from = named(&fields(&m.bytes), "From").concat();
        assert!(
            from.chars().any(|c| c.is_control() && c != '\t'),
            "{}: {from:?}",
            m.member
        );
    }
    for m in of_variant(corpus, "from_bidi_control") {
        let parsed = mail_parser::MessageParser::default()
            .parse(&m.bytes)
            .unwrap();
        let raw = named(&fields(&m.bytes), "From").concat();
        let decoded = parsed
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.name())
            .unwrap_or("")
            .to_string();
        let bidi = |s: &str| {
            s.chars()
                .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        };
        assert!(bidi(&raw) || bidi(&decoded), "{}: {raw:?}", m.member);
    }
    for m in of_variant(corpus, "dmarc_other_from") {
        let f = fields(&m.bytes);
        let ar = named(&f, "Authentication-Results")[0];
        let evaluated = ar
            .split("header.from=")
            .nth(1)
            .unwrap()
            .split([';', ' '])
            .next()
            .unwrap();
        let shown = named(&f, "From")[0];
        assert!(ar.contains("dmarc=pass"), "{}", m.member);
        assert!(
            !shown.contains(&format!("@{evaluated}>")),
            "{}: {shown} vs {evaluated}",
            m.member
        );
        let signer = tag(named(&f, "DKIM-Signature")[0], "d").unwrap();
        assert_eq!(
            signer, evaluated,
            "{}: signed by the attacker's domain",
            m.member
        );
    }
    for m in of_variant(corpus, "forged_auth_results") {
        let f = fields(&m.bytes);
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        let received = names.iter().position(|n| *n == "Received").unwrap();
        let ars: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| **n == "Authentication-Results")
            .map(|(i, _)| i)
            .collect();
        assert_eq!(ars.len(), 2, "{}", m.member);
        assert!(
            ars[0] < received && ars[1] > received,
            "{}: {names:?}",
            m.member
        );
        assert!(f[ars[0]].1.contains("dmarc=fail") && f[ars[1]].1.contains("dmarc=pass"));
    }
}

/// The canonical (CRLF) length of a message's body.
fn canonical_body_length(bytes: &[u8]) -> usize {
    let text = String::from_utf8_lossy(bytes);
    let body = text.split_once("\n\n").map_or("", |(_, b)| b);
    body.len() + body.matches('\n').count()
}

#[test]
fn dkim_replays_carry_the_signers_aligned_signature_and_its_weakness() {
    let corpus = corpus();
    for form in [
        "dkim_body_length_appended",
        "dkim_from_unsigned",
        "dkim_subject_unsigned",
    ] {
        for m in of_variant(corpus, form) {
            let f = fields(&m.bytes);
            let sig = named(&f, "DKIM-Signature");
            assert_eq!(sig.len(), 1, "{}", m.member);
            let d = tag(sig[0], "d").unwrap();
            let h = tag(sig[0], "h").unwrap();
            let from = named(&f, "From").concat();
            assert!(
                from.ends_with(&format!("@{d}>")),
                "{}: {from} signed by {d}",
                m.member
            );
            let ar = named(&f, "Authentication-Results")[0];
            assert!(
                ar.contains(&format!("dkim=pass header.d={d}")),
                "{}: {ar}",
                m.member
            );
            let envelope = named(&f, "Return-Path")[0];
            assert!(
                !envelope.ends_with(&format!("@{d}>")),
                "{}: sent from elsewhere",
                m.member
            );
            let signed: Vec<&str> = h.split(':').map(str::trim).collect();
            match form {
                "dkim_body_length_appended" => {
                    let l: usize = tag(sig[0], "l").unwrap().parse().unwrap();
                    let body = canonical_body_length(&m.bytes);
                    assert!(l > 0 && l < body, "{}: l={l} of {body}", m.member);
                    assert!(signed.contains(&"from") && signed.contains(&"subject"));
                }
                "dkim_from_unsigned" => {
                    assert!(!signed.contains(&"from"), "{}: h={h}", m.member);
                    assert!(tag(sig[0], "l").is_none());
                }
                _ => {
                    assert!(!signed.contains(&"subject"), "{}: h={h}", m.member);
                    assert!(signed.contains(&"from"));
                }
            }
        }
    }
}

#[test]
fn honest_mail_with_unusual_headers_is_labelled_ham_and_every_kind_of_it_is_written() {
    let corpus = corpus();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for m in corpus.iter().filter(|m| m.label == Label::Ham) {
        assert_eq!(m.technique, None, "{}", m.member);
        *counts.entry(m.variant.as_str()).or_default() += 1;
    }
    for v in HamVariant::ALL {
        let n = counts.get(v.code()).copied().unwrap_or(0);
        assert!(n >= 20, "{} written {n} times: {counts:?}", v.code());
    }
    let unusual: usize = counts
        .iter()
        .filter(|(v, _)| **v != "plain")
        .map(|(_, n)| n)
        .sum();
    assert!(
        (300..=1200).contains(&unusual),
        "a sensible share of ham is unusual: {unusual} of {}",
        GenConfig::default().ham
    );
    // No attack is written with a ham variant's code.
    let ham_codes: Vec<&str> = HamVariant::ALL.iter().map(|v| v.code()).collect();
    assert!(corpus
        .iter()
        .filter(|m| m.label != Label::Ham)
        .all(|m| !ham_codes.contains(&m.variant.as_str())));
}

/// The domain of the first address in a field value.
fn domain_in(value: &str) -> String {
    let address = value
        .rsplit_once('<')
        .map_or(value, |(_, a)| a.split('>').next().unwrap_or(""));
    let address = address.split_whitespace().next().unwrap_or("");
    address.rsplit_once('@').map_or("", |(_, d)| d).to_string()
}

#[test]
fn each_unusual_ham_variant_is_shaped_as_its_name_says() {
    let corpus = corpus();
    for m in of_variant(corpus, "quoted_comma_name") {
        let from = named(&fields(&m.bytes), "From").concat();
        assert!(
            from.starts_with('"') && from.contains(", "),
            "{}: {from}",
            m.member
        );
    }
    for m in of_variant(corpus, "encoded_name") {
        let from = named(&fields(&m.bytes), "From").concat();
        assert!(
            from.to_ascii_lowercase().starts_with("=?utf-8?"),
            "{}: {from}",
            m.member
        );
    }
    for m in of_variant(corpus, "name_is_address") {
        let parsed = mail_parser::MessageParser::default()
            .parse(&m.bytes)
            .unwrap();
        let a = parsed.from().and_then(|a| a.first()).unwrap();
        let address = a.address().unwrap();
        assert!(a.name().unwrap().contains(address), "{}", m.member);
    }
    for m in of_variant(corpus, "comment_name") {
        let from = named(&fields(&m.bytes), "From").concat();
        assert!(
            !from.contains('<') && from.contains(" ("),
            "{}: {from}",
            m.member
        );
    }
    for m in of_variant(corpus, "sender_same_domain") {
        let f = fields(&m.bytes);
        let (from, sender) = (named(&f, "From").concat(), named(&f, "Sender").concat());
        assert_eq!(domain_in(&from), domain_in(&sender), "{}", m.member);
        assert_ne!(from, sender);
    }
    for m in of_variant(corpus, "resent_from") {
        let f = fields(&m.bytes);
        for name in [
            "Resent-From",
            "Resent-To",
            "Resent-Date",
            "Resent-Message-ID",
        ] {
            assert_eq!(named(&f, name).len(), 1, "{}: {name}", m.member);
        }
        let resent = named(&f, "Resent-From").concat();
        let envelope = named(&f, "Return-Path").concat();
        assert_eq!(domain_in(&resent), domain_in(&envelope), "{}", m.member);
    }
    // A self-hosted list seals as its own domain (the List-Id's host).
    for (variant, sealer) in [
        ("forwarded_arc", "microsoft.com"),
        ("list_arc_dmarc_none", "google.com"),
        ("list_from_rewritten", "google.com"),
        ("list_sealed_dmarc_none", "own"),
    ] {
        for m in of_variant(corpus, variant) {
            let f = fields(&m.bytes);
            let seal = named(&f, "ARC-Seal");
            assert_eq!(seal.len(), 1, "{}", m.member);
            let list_id = named(&f, "List-Id").concat();
            let sealed_by = tag(seal[0], "d").unwrap_or("");
            let own = !sealed_by.is_empty() && list_id.ends_with(&format!(".{sealed_by}>"));
            assert!(
                sealed_by == sealer || (variant == "list_from_rewritten" || sealer == "own") && own,
                "{}: sealed by {sealed_by}, List-Id {list_id}",
                m.member
            );
            if variant == "list_sealed_dmarc_none" {
                let ar = named(&f, "Authentication-Results")[0];
                assert!(ar.contains("dmarc=fail (p=none"), "{}: {ar}", m.member);
                assert!(ar.contains("arc=pass"), "{}: {ar}", m.member);
                assert!(own && sealed_by != "google.com", "{}", m.member);
            }
            let ar = named(&f, "Authentication-Results")[0];
            assert!(ar.contains("arc=pass"), "{}: {ar}", m.member);
            if variant == "list_arc_dmarc_none" {
                assert!(ar.contains("dmarc=fail (p=none"), "{}: {ar}", m.member);
                assert!(
                    !named(&f, "List-Id").is_empty() && !named(&f, "List-Unsubscribe").is_empty()
                );
                let sender = named(&f, "Sender").concat();
                assert!(
                    sender.ends_with("@googlegroups.com"),
                    "{}: {sender}",
                    m.member
                );
            }
        }
    }
}

#[test]
fn the_mx_verdicts_sit_above_the_boundary_received_field_of_every_message() {
    for m in corpus() {
        let f = fields(&m.bytes);
        let first_received = f.iter().position(|(n, _)| n == "Received").unwrap();
        let top = f
            .iter()
            .position(|(n, v)| {
                n == "Authentication-Results" && v.starts_with("mx.kestrelfoods.com;")
            })
            .unwrap();
        assert!(top < first_received, "{}", m.member);
        assert!(
            f[first_received].1.contains("by mx.kestrelfoods.com "),
            "{}",
            m.member
        );
    }
}

#[test]
fn every_generated_message_parses_and_extracts_without_error() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/orgs/kestrel-foods.toml"),
    )
    .unwrap();
    let org = OrgProfile::from_toml(&text, Path::new("kestrel-foods.toml")).unwrap();
    let ctx = Context::builder(org).build().unwrap();
    let extractor = Extractor::new(&ctx);
    for m in corpus() {
        assert!(
            !m.bytes.windows(2).any(|w| w == b"\r\n"),
            "{}: LF line ends, as the rest of the generator",
            m.member
        );
        extractor
            .extract_bytes(&m.bytes, &Inputs::default())
            .unwrap_or_else(|e| panic!("{}: {e}", m.member));
    }
}

#[test]
fn the_same_seed_writes_the_same_forms_and_labels() {
    let sizes = GenConfig::default();
    let again = Generator::new(7)
        .unwrap()
        .default_corpus(sizes.ham, sizes.attacks);
    for (a, b) in corpus().iter().zip(&again) {
        assert_eq!(a.variant, b.variant, "{}", a.member);
        assert!(a.bytes == b.bytes, "{} differs between two runs", a.member);
    }
    let dir = tempfile::tempdir().unwrap();
    write_corpus(&dir.path().join("c"), corpus()).unwrap();
    let labels = std::fs::read_to_string(dir.path().join("c/labels.tsv")).unwrap();
    let header: Vec<&str> = labels.lines().next().unwrap().split('\t').collect();
    let variant = header.iter().position(|c| *c == "variant").unwrap();
    let written: Vec<&str> = labels
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(variant).unwrap())
        .collect();
    let expected: Vec<&str> = corpus().iter().map(|m| m.variant.as_str()).collect();
    assert_eq!(written, expected);
    // The labels still read as labels.
    let read = impostor_corpus::manifest::read_labels(&dir.path().join("c/labels.tsv")).unwrap();
    assert_eq!(read.len(), corpus().len());
}
