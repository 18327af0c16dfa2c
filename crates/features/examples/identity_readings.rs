//! Prints what each reader sees as the sender of each message, and the
//! header-ambiguity flags that fired, as Markdown: one table per message
//! and a summary table (one row per message) at the end.
//!
//! ```text
//! cargo run -p impostor-features --example identity_readings -- \
//!     [--org datasets/orgs/kestrel-foods.toml] datasets/examples/ambiguity
//! ```
//!
//! PATH may be a file or a directory (its `.eml` files, sorted by name).

use impostor_features::{Context, Envelope, Extractor, Feature, Inputs, OrgProfile, Reading};
use std::path::{Path, PathBuf};

/// The flags of the identity family a reader of the table cares about.
const AMBIGUITY: &[Feature] = &[
    Feature::IdentityReadersDisagree,
    Feature::FromHeaderMultiple,
    Feature::IdentityHeaderSpaceBeforeColon,
    Feature::SenderWithoutFrom,
    Feature::FromEmpty,
    Feature::FromEncodedWordTrick,
    Feature::FromRouteSyntax,
    Feature::FromCommentAddress,
    Feature::FromQuotedLocalPartAddress,
    Feature::IdentityHeaderControlChar,
    Feature::IdentityBidiControl,
    Feature::FromDomainNotAuthenticatedDomain,
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut org_path = root.join("datasets/orgs/kestrel-foods.toml");
    let mut paths: Vec<PathBuf> = Vec::new();
    while let Some(a) = args.next() {
        if a == "--org" {
            org_path = args.next().ok_or("--org needs a file")?.into();
        } else {
            paths.push(a.into());
        }
    }
    if paths.is_empty() {
        paths.push(root.join("datasets/examples/ambiguity"));
    }
    let org = OrgProfile::from_toml(&std::fs::read_to_string(&org_path)?, &org_path)?;
    let ctx = Context::builder(org).build()?;
    let extractor = Extractor::new(&ctx);
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(&p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        } else {
            files.push(p);
        }
    }
    let inputs = Inputs::new(Envelope::default());
    let mut summary = Vec::new();
    for file in files {
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let bytes = std::fs::read(&file)?;
        let (_, x) = match extractor.extract_bytes(&bytes, &inputs) {
            Ok(r) => r,
            Err(e) => {
                println!("## {name}\n\nnot read: {e}\n");
                continue;
            }
        };
        println!("## {name}\n");
        println!("| reader | display name | address | domain |");
        println!("|---|---|---|---|");
        for r in &x.identity.readings {
            println!(
                "| `{}` | {} | {} | {} |",
                r.reader.code(),
                cell(r.name.as_deref()),
                match (&r.address, &r.refused) {
                    (Some(a), _) => cell(Some(a)),
                    (None, Some(why)) => format!("refused: {why}"),
                    (None, None) => "—".into(),
                },
                cell(r.domain.as_deref())
            );
        }
        let flags: Vec<&str> = AMBIGUITY
            .iter()
            .filter(|f| x.vector.get(**f) > 0.0)
            .map(|f| f.name())
            .collect();
        println!(
            "\nreaders disagree: {}; flags: {}\n",
            if x.identity.disagree() { "yes" } else { "no" },
            if flags.is_empty() {
                "none".into()
            } else {
                flags.join(", ")
            }
        );
        let shown = |r: Option<&Reading>| r.map_or("—".to_string(), compact);
        let others: Vec<String> = x
            .identity
            .readings
            .iter()
            .skip(3)
            .map(|r| format!("{}: {}", r.reader.code(), shown(Some(r))))
            .collect();
        summary.push(format!(
            "| {name} | {} | {} | {} | {} | {} |",
            shown(x.identity.readings.first()),
            shown(x.identity.readings.get(1)),
            shown(x.identity.readings.get(2)),
            if others.is_empty() {
                "—".into()
            } else {
                others.join("; ")
            },
            if flags.is_empty() {
                "none".into()
            } else {
                flags.join(", ")
            }
        ));
    }
    println!("## Summary\n");
    println!(
        "| message | mail-parser | strict RFC 5322 | mailparse | other readers | ambiguity flags |"
    );
    println!("|---|---|---|---|---|---|");
    for row in summary {
        println!("{row}");
    }
    Ok(())
}

/// `"name" <address>` (domain d when the address does not end in it), or
/// why the reader shows none.
fn compact(r: &Reading) -> String {
    let mut out = match (&r.name, &r.address) {
        (Some(n), Some(a)) => format!("\"{}\" <{}>", escape(n), escape(a)),
        (None, Some(a)) => format!("<{}>", escape(a)),
        (Some(n), None) => format!("\"{}\", no address", escape(n)),
        (None, None) => match &r.refused {
            Some(why) => format!("refused ({why})"),
            None => "(none)".into(),
        },
    };
    if let (Some(d), Some(a)) = (&r.domain, &r.address) {
        if !a.to_ascii_lowercase().ends_with(d.as_str()) {
            out.push_str(&format!(" (domain {d})"));
        }
    }
    out
}

fn cell(s: Option<&str>) -> String {
    s.map_or_else(|| "—".to_string(), escape)
}

/// Control and bidi characters as `\u{…}`, and table pipes escaped.
fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else if c == '|' {
            out.push_str("\\|");
        } else {
            out.push(c);
        }
    }
    out
}
