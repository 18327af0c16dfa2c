//! The identity readers on the header-ambiguity fixtures of
//! datasets/examples/ambiguity: each attack class (Chen et al.,
//! "Composition Kills", USENIX Security 2020) makes the readers disagree as
//! expected and sets a feature a floor rule of datasets/rules.toml reads;
//! honest mail with unusual but legal sender headers sets none.

use impostor_features::{
    registrable_domain, Context, Envelope, Extraction, Extractor, Feature, Inputs, OrgProfile,
    Reader, Technique, MAX_READINGS, MAX_READING_BYTES,
};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn context() -> Context {
    let path = root().join("datasets/orgs/kestrel-foods.toml");
    let org = OrgProfile::from_toml(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
    Context::builder(org).build().unwrap()
}

fn extract(ctx: &Context, bytes: &[u8]) -> Extraction {
    Extractor::new(ctx)
        .extract_bytes(bytes, &Inputs::new(Envelope::default()))
        .unwrap()
        .1
}

fn fixture(ctx: &Context, name: &str) -> Extraction {
    let path = root().join("datasets/examples/ambiguity").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    extract(ctx, &bytes)
}

/// A floor rule of datasets/rules.toml: its code and the flags that must
/// all be set for it to fire (floor rules are `flag` or `all` of flags).
struct FloorRule {
    code: String,
    flags: Vec<Feature>,
}

fn floor_rules() -> Vec<FloorRule> {
    let text = std::fs::read_to_string(root().join("datasets/rules.toml")).unwrap();
    let file: toml::Value = toml::from_str(&text).unwrap();
    // A `not` entry of an `all` is not a flag that must be set.
    let flag = |v: &toml::Value| {
        let name = v.get("flag").and_then(|f| f.as_str())?;
        Some(Feature::from_name(name).unwrap_or_else(|| panic!("unknown feature {name}")))
    };
    let rules: Vec<FloorRule> = file["rule"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("floor").is_some())
        .map(|r| {
            let when = &r["when"];
            let flags = match when.get("all") {
                Some(all) => all.as_array().unwrap().iter().filter_map(flag).collect(),
                None => vec![flag(when).expect("a floor on one flag")],
            };
            FloorRule {
                code: r["code"].as_str().unwrap().to_string(),
                flags,
            }
        })
        .collect();
    assert!(rules.len() >= 10, "only {} floor rules", rules.len());
    rules
}

fn fired_floors(x: &Extraction, rules: &[FloorRule]) -> Vec<String> {
    rules
        .iter()
        .filter(|r| r.flags.iter().all(|f| x.vector.get(*f) > 0.0))
        .map(|r| r.code.clone())
        .collect()
}

const OURS: &str = "kestrelfoods.com";
const THEIRS: &str = "northwind-mailer.net";

/// One attack fixture: the feature that must be set, and which readers
/// must see our domain and which the attacker's (none of either when the
/// class is not about parsers disagreeing).
struct Attack {
    file: &'static str,
    feature: Feature,
    sees_ours: &'static [Reader],
    sees_theirs: &'static [Reader],
}

const ATTACKS: &[Attack] = &[
    Attack {
        file: "attack-multiple-from.eml",
        feature: Feature::FromHeaderMultiple,
        sees_ours: &[Reader::MailParser, Reader::FirstFromField],
        sees_theirs: &[Reader::LastFromField],
    },
    Attack {
        file: "attack-space-before-colon.eml",
        feature: Feature::IdentityHeaderSpaceBeforeColon,
        sees_ours: &[Reader::MailParser, Reader::FirstFromField],
        sees_theirs: &[Reader::Mailparse, Reader::LastFromField],
    },
    Attack {
        file: "attack-empty-from-sender.eml",
        feature: Feature::FromEmpty,
        sees_ours: &[Reader::SenderOrResentFrom],
        sees_theirs: &[],
    },
    Attack {
        file: "attack-encoded-word-address.eml",
        feature: Feature::FromEncodedWordTrick,
        sees_ours: &[Reader::DecodedEncodedWords],
        sees_theirs: &[Reader::MailParser, Reader::Mailparse],
    },
    Attack {
        file: "attack-route-syntax.eml",
        feature: Feature::FromRouteSyntax,
        sees_ours: &[Reader::RouteFirstHost],
        sees_theirs: &[Reader::MailParser, Reader::Mailparse],
    },
    Attack {
        file: "attack-comment-address.eml",
        feature: Feature::FromCommentAddress,
        sees_ours: &[Reader::CommentAddress],
        sees_theirs: &[Reader::MailParser, Reader::StrictRfc5322, Reader::Mailparse],
    },
    Attack {
        file: "attack-quoted-local-part.eml",
        feature: Feature::FromQuotedLocalPartAddress,
        sees_ours: &[Reader::QuotedLocalPart],
        sees_theirs: &[Reader::MailParser, Reader::StrictRfc5322],
    },
    Attack {
        file: "attack-nul-byte.eml",
        feature: Feature::IdentityHeaderControlChar,
        sees_ours: &[Reader::NulTerminated],
        sees_theirs: &[Reader::MailParser, Reader::Mailparse],
    },
    Attack {
        file: "attack-bidi-override.eml",
        feature: Feature::IdentityBidiControl,
        sees_ours: &[Reader::BidiRendered],
        sees_theirs: &[Reader::MailParser, Reader::StrictRfc5322, Reader::Mailparse],
    },
    Attack {
        file: "attack-dmarc-other-domain.eml",
        feature: Feature::FromDomainNotAuthenticatedDomain,
        sees_ours: &[Reader::MailParser, Reader::StrictRfc5322, Reader::Mailparse],
        sees_theirs: &[],
    },
];

const HONEST: &[&str] = &[
    "honest-quoted-comma-name.eml",
    "honest-folded-encoded-name.eml",
    "honest-encoded-japanese-name.eml",
    "honest-sender-same-domain.eml",
    "honest-resent-from-forward.eml",
    "honest-name-is-the-address.eml",
    "honest-old-style-comment-name.eml",
];

fn org_of(x: &Extraction, reader: Reader) -> Option<String> {
    let r = x.identity.get(reader)?;
    r.domain
        .as_deref()
        .map(|d| registrable_domain(d).unwrap_or(d).to_string())
}

#[test]
fn every_ambiguity_class_makes_the_readers_disagree_as_expected_and_sets_a_floor() {
    let ctx = context();
    let floors = floor_rules();
    for a in ATTACKS {
        let x = fixture(&ctx, a.file);
        assert_eq!(
            x.vector.get(a.feature),
            1.0,
            "{}: {}",
            a.file,
            a.feature.name()
        );
        for r in a.sees_ours {
            assert_eq!(org_of(&x, *r).as_deref(), Some(OURS), "{}: {r:?}", a.file);
        }
        for r in a.sees_theirs {
            assert_eq!(org_of(&x, *r).as_deref(), Some(THEIRS), "{}: {r:?}", a.file);
        }
        let parsers_split = !a.sees_ours.is_empty() && !a.sees_theirs.is_empty();
        assert_eq!(
            x.identity.domain_disagreement().is_some(),
            parsers_split,
            "{}: {:?}",
            a.file,
            x.identity
        );
        assert_eq!(
            x.vector.get(Feature::IdentityReadersDisagree) == 1.0,
            parsers_split,
            "{}",
            a.file
        );
        let fired = fired_floors(&x, &floors);
        assert!(!fired.is_empty(), "{}: no floor rule fires", a.file);
        // The evidence names the technique and both readings.
        let e = x
            .evidence
            .iter()
            .find(|e| e.feature == a.feature)
            .unwrap_or_else(|| panic!("{}: no evidence for {}", a.file, a.feature.name()));
        assert_eq!(e.technique, Some(Technique::HeaderFromSpoof), "{}", a.file);
        let two_readings = e.detail.matches(" shows ").count() >= 2;
        let names_both = e.detail.contains(OURS) && (e.detail.contains(THEIRS) || two_readings);
        assert!(names_both, "{}: {}", a.file, e.detail);
        assert!(
            x.techniques().contains(&Technique::HeaderFromSpoof),
            "{}",
            a.file
        );
    }
}

#[test]
fn honest_but_unusual_sender_headers_set_no_floor() {
    let ctx = context();
    let floors = floor_rules();
    let floor_flags: Vec<Feature> = floors.iter().flat_map(|r| r.flags.clone()).collect();
    for file in HONEST {
        let x = fixture(&ctx, file);
        assert!(!x.identity.disagree(), "{file}: {:?}", x.identity);
        assert_eq!(fired_floors(&x, &floors), Vec::<String>::new(), "{file}");
        let set: Vec<&str> = floor_flags
            .iter()
            .filter(|f| x.vector.get(**f) > 0.0)
            .map(|f| f.name())
            .collect();
        assert!(set.is_empty(), "{file}: {set:?}");
        // mail-parser, the strict reader and mailparse all read it.
        for r in [Reader::MailParser, Reader::StrictRfc5322, Reader::Mailparse] {
            assert!(
                x.identity.get(r).is_some_and(|r| r.address.is_some()),
                "{file}: {r:?} found no address"
            );
        }
    }
}

#[test]
fn every_fixture_in_the_directory_is_a_listed_case() {
    let dir = root().join("datasets/examples/ambiguity");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();
    let mut listed: Vec<String> = ATTACKS
        .iter()
        .map(|a| a.file.to_string())
        .chain(HONEST.iter().map(|h| h.to_string()))
        .collect();
    listed.sort();
    assert_eq!(names, listed);
}

#[test]
fn readings_are_bounded_however_hostile_the_sender_headers() {
    let ctx = context();
    let long_name = "A".repeat(100_000);
    let mut cases: Vec<Vec<u8>> = vec![
        format!("From: \"{long_name}\" <a@x.example>\r\n").into_bytes(),
        format!("From: {}\r\n", "(".repeat(50_000)).into_bytes(),
        format!("From: {}\r\n", "\"".repeat(50_001)).into_bytes(),
        format!("From: {}x@y.example>\r\n", "<@".repeat(50_000)).into_bytes(),
        format!(
            "From: {}\r\n",
            "=?utf-8?b?PGFAeC5leGFtcGxlPg==?=,".repeat(5_000)
        )
        .into_bytes(),
        format!("From: {}\r\n", "\u{202e}".repeat(30_000)).into_bytes(),
        (0..200)
            .flat_map(|i| format!("From: u{i}@d{i}.example\r\nFrom : v@w.example\r\n").into_bytes())
            .collect(),
    ];
    for c in &mut cases {
        c.extend_from_slice(b"Sender: s@x.example\r\nSubject: s\r\n\r\nbody\r\n");
    }
    for c in &cases {
        let started = std::time::Instant::now();
        let x = extract(&ctx, c);
        assert!(
            started.elapsed().as_secs_f64() < 2.0,
            "{:?}",
            started.elapsed()
        );
        assert!(x.identity.readings.len() <= MAX_READINGS);
        for r in &x.identity.readings {
            for v in [&r.name, &r.address].into_iter().flatten() {
                assert!(v.len() <= MAX_READING_BYTES, "{} bytes", v.len());
            }
        }
    }
}

#[test]
fn readings_serialise_with_snake_case_reader_codes() {
    let ctx = context();
    let x = fixture(&ctx, "attack-nul-byte.eml");
    let json = serde_json::to_value(&x.identity).unwrap();
    let readers: Vec<&str> = json["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reader"].as_str().unwrap())
        .collect();
    assert_eq!(readers[0], "mail_parser");
    assert!(readers.contains(&"nul_terminated"), "{readers:?}");
    assert!(readers.contains(&"strict_rfc5322"), "{readers:?}");
}

#[test]
fn mutated_sender_headers_never_panic_the_readers() {
    let ctx = context();
    let dir = root().join("datasets/examples/ambiguity");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    // Bytes the readers treat specially, spliced in at random places of
    // the header block.
    let specials: &[&[u8]] = &[
        b"\0",
        b"(",
        b")",
        b"\"",
        b"<",
        b">",
        b"@",
        b":",
        b",",
        b"\\",
        b"=?",
        b"?=",
        b"\r\n ",
        b"\r\nFrom: ",
        b"\xe2\x80\xae",
        b"\xe2\x81\xa6",
        b"\xff",
        b"[",
        b"]",
    ];
    let mut state: u32 = 16;
    let mut next = |n: usize| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (state >> 16) as usize % n
    };
    let mut read = 0;
    for path in names {
        let original = std::fs::read(&path).unwrap();
        let header_end = original.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        for _ in 0..300 {
            let mut bytes = original.clone();
            for _ in 0..1 + next(4) {
                let at = next(header_end);
                let what = specials[next(specials.len())];
                bytes.splice(at..at, what.iter().copied());
            }
            match Extractor::new(&ctx).extract_bytes(&bytes, &Inputs::new(Envelope::default())) {
                Ok((_, x)) => {
                    read += 1;
                    assert!(x.identity.readings.len() <= MAX_READINGS);
                }
                Err(e) => assert!(
                    !matches!(e, impostor_features::ParseError::Internal(_)),
                    "{}: {e}",
                    path.display()
                ),
            }
        }
    }
    assert!(read > 1000, "only {read} mutated messages were read");
}

/// A message from `from` (the From field's value as written), over no
/// route: only the headers matter here.
fn with_from(ctx: &Context, from: &str) -> Extraction {
    let raw = format!(
        "From: {from}\r\nTo: ap@kestrelfoods.com\r\nSubject: Invoice\r\n\
         Date: Tue, 2 Jan 2024 10:00:00 +0000\r\nMessage-ID: <x1@example.net>\r\n\r\nPlease pay.\r\n"
    );
    extract(ctx, raw.as_bytes())
}

/// Variants of the classes the generator produces and the fixtures do
/// not show: each must still make the readers disagree (or set the
/// display-name floor's two flags).
#[test]
fn hidden_variants_of_the_classes_are_read_too() {
    let ctx = context();
    let rules = floor_rules();
    // An encoded-word glued to the domain as the local part, ending in NUL.
    let x = with_from(
        &ctx,
        "=?utf-8?b?ZS5zb3JlbnNlbkBrZXN0cmVsZm9vZHMuY29tAA==?=@secure-notify.net",
    );
    assert_eq!(
        org_of(&x, Reader::DecodedEncodedWords).as_deref(),
        Some("kestrelfoods.com")
    );
    assert!(fired_floors(&x, &rules).contains(&"identity_readers_disagree".to_string()));
    // A right-to-left override inside an encoded-word display name.
    let x = with_from(
        &ctx,
        "=?UTF-8?B?T2xpdmlhIEdyYW50IOKArnVlLnNyZW50cmFwLW5pYWhjZGxvY0B0bmFyZy5v4oCs?= <o.grant@mailrelay-hub.com>",
    );
    assert_eq!(
        org_of(&x, Reader::BidiRendered).as_deref(),
        Some("coldchain-partners.eu")
    );
    assert!(fired_floors(&x, &rules).contains(&"identity_readers_disagree".to_string()));
    // Several mailboxes in one From: the first the attacker's, the last
    // the partner's.
    let x = with_from(
        &ctx,
        "Karl Meier <billing@mailrelay-hub.com>, Karl Meier <billing@coldchain-partners.eu>",
    );
    assert_eq!(
        org_of(&x, Reader::LastMailbox).as_deref(),
        Some("coldchain-partners.eu")
    );
    assert!(fired_floors(&x, &rules).contains(&"identity_readers_disagree".to_string()));
    // A partner's address as an encoded display name over another address.
    let x = with_from(
        &ctx,
        "=?UTF-8?q?sam.patel=40harvestbank.com?= <sam.patel@bizcloud-mailer.com>",
    );
    assert!(
        fired_floors(&x, &rules).contains(&"from_encoded_word_display_address".to_string()),
        "{:?}",
        fired_floors(&x, &rules)
    );
    // The honest forms stay quiet: an encoded name, a name with a comma.
    for honest in [
        "=?UTF-8?B?5bGx55SwIOWkqumDjg==?= <t.yamada@kestrelfoods.co.jp>",
        "\"Brandt, Daniel\" <d.brandt@kestrelfoods.com>",
        "=?UTF-8?Q?Brandt=2C_Daniel?= <d.brandt@kestrelfoods.com>",
    ] {
        let x = with_from(&ctx, honest);
        assert!(
            fired_floors(&x, &rules).is_empty(),
            "{honest}: {:?}",
            fired_floors(&x, &rules)
        );
    }
}
