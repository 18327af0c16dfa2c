//! `impostor lookalike`: does a domain imitate a protected one?

use crate::org::OrgArgs;
use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use impostor_features::{display_domain, is_mixed_script_domain, LookalikeIndex};
use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

/// Say, for each domain, whether it imitates a protected domain, which one,
/// how, and how strongly.
///
/// The protected set is the org profile's internal_domains and
/// protected_domains, plus --protected FILE, plus the built-in brand list's
/// domains (replace it with --brands FILE, turn it off with --no-brands).
/// Kinds are named as dnstwist names its fuzzers: addition, bitsquatting,
/// cyrillic, dictionary, homoglyph, hyphenation, insertion, omission,
/// plural, repetition, replacement, subdomain, tld-swap, transposition,
/// various, vowel-swap. Decisions are made on registrable domains: a
/// protected domain and its own subdomains are never lookalikes. A label
/// that mixes scripts (Latin with Cyrillic, say) is reported as
/// mixed_script whether or not it imitates anything.
///
/// Every match has a strength in [0, 1]: glyph-only spellings are
/// strongest, one-letter edits of short names (okta, xero, ups) weaker,
/// since one changed letter of a short name is often another real name, and
/// a domain that is itself popular (a top site, a free-mail provider: see
/// --popular-domains) is reported at 0.1 or less. From 0.5 on a match
/// counts as an imitation in the features of `impostor extract`.
///
/// Examples:
///
///   impostor lookalike kestrelfoods.co kestreIfoods.com okta1.com
///
///   impostor lookalike --org org.toml --protected partners.txt - < domains.txt
///
/// Exit status: 0 when every domain was checked, 1 when some were not
/// domain names (each gets an error line), 2 for a usage or configuration
/// error.
#[derive(Args, Debug)]
pub struct LookalikeArgs {
    #[command(flatten)]
    pub org: OrgArgs,
    /// Output: one JSON object a line, or a line of text for people.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    pub format: Format,
    /// Domains (or addresses, or hosts) to check; none or "-" reads one a
    /// line from standard input.
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Ndjson,
    Text,
}

pub fn run(args: LookalikeArgs) -> Result<ExitCode> {
    let ctx = args.org.build()?;
    let index = ctx.lookalike();
    if index.is_empty() {
        eprintln!("impostor: warning: the protected set is empty; nothing can be a lookalike");
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut bad = 0usize;
    let mut check = |raw: &str| -> Result<()> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(());
        }
        if !report(index, raw, args.format, &mut out)? {
            bad += 1;
        }
        Ok(())
    };
    if args.domains.is_empty() || args.domains == ["-"] {
        for line in std::io::stdin().lock().lines() {
            check(&line.context("reading domains from standard input")?)?;
        }
    } else {
        for d in &args.domains {
            check(d)?;
        }
    }
    out.flush().context("writing to standard output")?;
    Ok(if bad > 0 {
        eprintln!("impostor: {bad} inputs were not domain names");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes one domain's answer; false when it is not a domain name.
fn report(index: &LookalikeIndex, raw: &str, format: Format, out: &mut impl Write) -> Result<bool> {
    // An address is checked by its domain.
    let domain = raw.rsplit_once('@').map_or(raw, |(_, d)| d);
    let ascii = impostor_features::normalize_domain(domain)
        .filter(|d| impostor_features::registrable_domain(d).is_some());
    let Some(ascii) = ascii else {
        match format {
            Format::Ndjson => writeln!(
                out,
                "{}",
                serde_json::json!({"domain": raw, "lookalike": false, "error": "not a domain name under a public suffix"})
            )?,
            Format::Text => writeln!(out, "{raw}\terror: not a domain name under a public suffix")?,
        }
        return Ok(false);
    };
    let found = index.find(&ascii);
    let mixed_script = is_mixed_script_domain(&ascii);
    let unicode = display_domain(&ascii);
    match format {
        Format::Ndjson => {
            let mut obj = serde_json::json!({
                "domain": raw,
                "lookalike": found.is_some(),
                "target": found.as_ref().map(|m| &m.target),
                "kinds": found.as_ref().map_or(&[][..], |m| &m.kinds[..]),
                "distance": found.as_ref().map(|m| m.distance),
                // Two decimals, as the index gives it (not f32 widened to f64).
                "strength": found.as_ref().map(|m| (f64::from(m.strength) * 100.0).round() / 100.0),
                "mixed_script": mixed_script,
            });
            if unicode != ascii {
                obj["unicode"] = unicode.as_ref().into();
            }
            if let Some(m) = &found {
                obj["reason"] = m.describe().into();
            }
            writeln!(out, "{obj}")?;
        }
        Format::Text => {
            let script = if mixed_script { " (mixed scripts)" } else { "" };
            match &found {
                Some(m) => {
                    let kinds: Vec<&str> = m.kinds.iter().map(|k| k.name()).collect();
                    writeln!(
                        out,
                        "{raw}\t{} of {}: {}{script} [{}; distance {}; strength {:.2}]",
                        if m.is_strong() {
                            "LOOKALIKE"
                        } else {
                            "weak lookalike"
                        },
                        m.target,
                        m.describe(),
                        kinds.join(", "),
                        m.distance,
                        m.strength
                    )?;
                }
                None => writeln!(out, "{raw}\tnot a lookalike{script}")?,
            }
        }
    }
    Ok(true)
}
