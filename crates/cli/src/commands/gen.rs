//! `impostor gen`: synthetic ham of the example organisation and attacks
//! injected into ham.

use anyhow::{bail, Context as _, Result};
use clap::Args;
use impostor_corpus::gen::{write_corpus, Generated, Generator};
use impostor_corpus::label::label_from_member;
use impostor_corpus::Label;
use impostor_mailsource::{read_inputs, ReadOptions};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Most carriers held in memory; more are not needed for variety.
const MAX_CARRIERS: usize = 50_000;

/// Generate labelled mail: the embedded default corpus, or attacks
/// injected into real ham.
///
/// Without --carriers, writes the embedded default corpus: ham of the
/// example organisation Kestrel Foods (internal threads, vendor invoices,
/// newsletters through ESPs, mailing lists, calendar and e-signature
/// notifications, auto-replies, bounces; English and Japanese) and attacks
/// injected into more of that ham, the five techniques in turn:
/// envelope_from_spoof, header_from_spoof, lookalike_domain,
/// freemail_impersonation, account_compromise.
///
/// With --carriers, injects the attacks into the ham of those corpora
/// instead (messages under a ham/ or easy_ham/ folder), keeping each
/// carrier's fields, their order and its layout, rewriting the identity
/// fields, adding the attacker's hop and the Authentication-Results the
/// org's MX would have written, and delivering to a mailbox of the org.
///
/// Writes DIR/messages/{ham,bec,phish}/NNNNNN.eml and DIR/labels.tsv
/// (member, label, technique, synthetic, kind, and for an attack injected
/// into a real message that carrier's SHA-1, so the corpus index keeps the
/// two in one duplicate group), all at once: an
/// interrupted run leaves nothing. The same --seed writes the same bytes.
///
/// Examples:
///
///     impostor gen -o corpus/default
///
///     impostor corpus index corpus/default/messages --labels corpus/default/labels.tsv --source generated -o corpus/default.parquet
///
///     impostor gen --carriers ../shared/corpora/spamassassin-2002.tar.gz --attacks 5000 -o corpus/sa-attacks
#[derive(Args, Debug)]
pub struct GenArgs {
    /// The directory to create.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Generated ham messages (without --carriers).
    #[arg(long, default_value_t = 3000, value_name = "N")]
    ham: usize,
    /// Attack messages, the five techniques in turn.
    #[arg(long, default_value_t = 1500, value_name = "N")]
    attacks: usize,
    /// Real corpora whose ham carries the attacks (.eml, directories,
    /// mbox, Maildir, .tar.gz).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    carriers: Vec<PathBuf>,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(args: GenArgs) -> Result<ExitCode> {
    let generator = Generator::new(args.seed)?;
    let messages: Vec<Generated> = if args.carriers.is_empty() {
        generator.default_corpus(args.ham, args.attacks)
    } else {
        let mut carriers = Vec::new();
        let mut unreadable = 0;
        for m in read_inputs(&args.carriers, &ReadOptions::default()) {
            let member = m.origin.member.clone().unwrap_or_default();
            if label_from_member(&member) != Some(Label::Ham) {
                continue;
            }
            match m.bytes {
                Ok(b) => carriers.push(b),
                Err(_) => unreadable += 1,
            }
            if carriers.len() >= MAX_CARRIERS {
                break;
            }
        }
        if carriers.is_empty() {
            bail!(
                "no ham carriers in {:?}: keep ham under a ham/ or easy_ham/ folder ({unreadable} unreadable)",
                args.carriers
            );
        }
        if !args.quiet {
            eprintln!(
                "{} ham carriers read ({unreadable} unreadable)",
                carriers.len()
            );
        }
        generator.inject_into(&carriers, args.attacks)
    };
    write_corpus(&args.output, &messages)
        .with_context(|| format!("writing {}", args.output.display()))?;
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for m in &messages {
        let technique = m.technique.map_or("none", |t| t.code()).to_string();
        *counts.entry((m.label.to_string(), technique)).or_default() += 1;
    }
    eprintln!(
        "wrote {} messages to {}:",
        messages.len(),
        args.output.display()
    );
    for ((label, technique), n) in counts {
        eprintln!("  {label:5} {technique:24} {n}");
    }
    eprintln!(
        "index them with:\n  impostor corpus index {0}/messages --labels {0}/labels.tsv --source generated -o {0}.parquet",
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
