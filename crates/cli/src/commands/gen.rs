//! `impostor gen`: synthetic ham of the example organisation and attacks
//! injected into ham.

use crate::commands::Console;
use anyhow::Result;
use clap::Args;
use impostor_corpus::gen::GenConfig;
use std::path::PathBuf;
use std::process::ExitCode;

/// Generate labelled mail: the embedded default corpus, or attacks
/// injected into real ham.
///
/// Without --carriers, writes the embedded default corpus: ham of the
/// example organisation Kestrel Foods (internal threads, vendor invoices,
/// newsletters through ESPs, mailing lists, calendar and e-signature
/// notifications, auto-replies, bounces; English and Japanese), a fifth
/// of it hard ham that looks like an attack and is not (namesakes of
/// executives on free-mail in lists, SaaS notifications carrying staff
/// names, IT and HR notices with lure words, forwards to the security
/// desk, wire approvals and vendors' bank changes in known threads, list
/// mail failing a p=none DMARC), and attacks
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
/// About a fifth of attacks carry their lure in an attachment, an image
/// or a phone number instead of a link in the body: an HTML attachment (a
/// sign-in form, a page smuggled with atob and a Blob, a meta refresh), a
/// PDF with a link or a callback number, a QR code image, or a callback
/// lure naming a brand from free mail. Ham has the same carriers (PDF
/// invoices, QR tickets, HTML receipts, order confirmations with a phone
/// number).
///
/// Writes DIR/messages/{ham,bec,phish}/NNNNNN.eml and DIR/labels.tsv
/// (member, label, technique, synthetic, kind, for an attack injected
/// into a real message that carrier's SHA-1, so the corpus index keeps the
/// two in one duplicate group, variant, and payload: body,
/// html_attachment, pdf, qr_image or callback), all at once: an
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
    #[arg(long, default_value_t = GenConfig::default().seed)]
    seed: u64,
    /// Generated ham messages (without --carriers).
    #[arg(long, default_value_t = GenConfig::default().ham, value_name = "N")]
    ham: usize,
    /// Attack messages, the five techniques in turn.
    #[arg(long, default_value_t = GenConfig::default().attacks, value_name = "N")]
    attacks: usize,
    /// Real corpora whose ham carries the attacks (.eml, directories,
    /// mbox, Maildir, .tar.gz).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    carriers: Vec<PathBuf>,
    /// Messages in a simulated mailbox timeline (0 = none): months of one
    /// organisation's mail in date order (threads with vendors and
    /// customers, internal mail, newsletters, SaaS notices), ~6% hard ham
    /// and ~6% attack scenarios (account takeovers, compromised or
    /// lookalike vendors, executive impersonation) after its first third,
    /// written as DIR/messages/timeline/NNNNNN.eml numbered by date, so
    /// sender-history features can be learnt by replaying it in order.
    /// Default: 3,000 with the default corpus (no --ham, --attacks or
    /// --carriers), else none.
    #[arg(long, value_name = "N")]
    timeline: Option<usize>,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

impl GenArgs {
    fn config(self) -> GenConfig {
        GenConfig {
            output: self.output,
            seed: self.seed,
            ham: self.ham,
            attacks: self.attacks,
            timeline: self.timeline.unwrap_or({
                // A corpus of chosen sizes, or of attacks in real ham, is
                // what was asked for; the timeline joins the default one.
                let defaults = GenConfig::default();
                let default_corpus = self.carriers.is_empty()
                    && self.ham == defaults.ham
                    && self.attacks == defaults.attacks;
                if default_corpus {
                    defaults.timeline
                } else {
                    0
                }
            }),
            carriers: self.carriers,
        }
    }
}

pub fn run(args: GenArgs) -> Result<ExitCode> {
    let quiet = args.quiet;
    generate(&args.config(), quiet)?;
    Ok(ExitCode::SUCCESS)
}

/// Generates a corpus and, unless `quiet`, says what it holds.
pub fn generate(config: &GenConfig, quiet: bool) -> Result<()> {
    let counts = config.run(&Console::new(quiet))?;
    if quiet {
        return Ok(());
    }
    eprintln!(
        "wrote {} messages to {}:",
        counts.values().sum::<usize>(),
        config.output.display()
    );
    for ((label, technique), n) in counts {
        eprintln!("  {label:5} {technique:24} {n}");
    }
    eprintln!(
        "index them with:\n  impostor corpus index {0}/messages --labels {0}/labels.tsv --source generated -o {0}.parquet",
        config.output.display()
    );
    Ok(())
}
