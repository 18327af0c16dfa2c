//! `impostor feedback`: reported mail → a labelled directory for
//! `impostor train --base ARTIFACT --add DIR`; and the `--verdict-log`
//! that scan, serve and milter share.

use crate::commands::Console;
use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use impostor_corpus::feedback::{ingest, FeedbackConfig};
use impostor_corpus::Label;
use impostor_mailsource::{ReadOptions, DEFAULT_MAX_MESSAGE_BYTES};
use impostor_serve::verdict_log::VerdictLog;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What users reported the messages as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LabelArg {
    /// An attack the model missed (written as phish).
    Attack,
    /// Phishing (an attack).
    Phish,
    /// Business email compromise (an attack).
    Bec,
    /// Legitimate mail the model flagged: a false alarm.
    Ham,
}

/// Turn reported mail into labelled training data.
///
/// Reads the messages users reported (a missed attack from a
/// report-phishing mailbox, or a false alarm), labels them all with
/// --label, and writes them into DIR, which `impostor train --base
/// ARTIFACT --add DIR -o NEW` retrains on (the regression gate still
/// applies: train refuses a model whose false-positive rate rose or whose
/// detection fell on the base's test set).
///
/// PATH may be a Maildir (new/ and cur/ are read, tmp/ is not), .eml
/// files, directories (walked recursively), mbox files or .tar.gz
/// archives. Inputs are only read.
///
/// Forwarded reports: a user who forwards a suspicious message *as an
/// attachment* (Outlook "Forward as attachment", Thunderbird "Forward As >
/// Attachment", most report-phishing buttons) sends it whole, headers
/// included, as a message/rfc822 part (or an attached .eml file): that
/// inner message is the one labelled and written, not the forward around
/// it. A message forwarded inline has lost its original headers (sender,
/// route, authentication), which is most of what Impostor reads: it is
/// taken whole, as the forward it now is; ask users to forward as
/// attachment. With --whole every message is taken as it is (for a
/// mailbox that receives the reported messages themselves, by redirect or
/// journaling, where an attached .eml is part of the attack).
///
/// DIR holds messages/LABEL/SHA256.eml and labels.tsv (member, label,
/// technique, synthetic, sha256, sha1, message_id, origin). Runs append:
/// a message whose SHA-256 or Message-ID is already in DIR or earlier in
/// the batch is a duplicate and skipped. With --base, a message the
/// artifact was trained on (same SHA-1 in its training.parquet) is
/// counted as already known and skipped (retraining would leave it out).
/// Each file is written atomically; labels.tsv last.
///
/// Retraining weighs every source alike within its class, and DIR is
/// one source: feed it everything users reported, caught or missed. A few
/// misses alone weigh as much as a whole corpus, can pull the model toward
/// them, and the regression gate may then refuse the retrained model.
///
/// Printed: read, forwarded messages unwrapped, written, duplicates,
/// already known, unreadable. A message that cannot be read is named on
/// standard error and the run goes on (exit status 1 at the end).
///
/// Examples:
///
///     impostor feedback ~/Maildir/.Reported --label attack -o feedback/
///
///     impostor feedback false-alarms/ --label ham --base models/default -o feedback/
///
///     impostor train --base models/default --add feedback -o models/next
#[derive(Args, Debug)]
pub struct FeedbackArgs {
    /// Reported messages: Maildir, .eml, directories, mbox, .tar.gz.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// What the messages are: attack (a missed attack; written as phish),
    /// phish, bec, or ham (a false alarm).
    #[arg(long, value_enum)]
    label: LabelArg,
    /// The feedback directory (created, or appended to).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// The artifact that will be retrained: messages already in its
    /// training data are counted and skipped.
    #[arg(long, value_name = "ARTIFACT")]
    base: Option<PathBuf>,
    /// Take every message as it is, even one carrying a forwarded message.
    #[arg(long)]
    whole: bool,
    /// Messages larger than this many bytes are counted unreadable.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
    max_message_size: u64,
    /// Only the counts on standard error.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(args: FeedbackArgs) -> Result<ExitCode> {
    let config = FeedbackConfig {
        inputs: args.paths,
        label: match args.label {
            LabelArg::Attack | LabelArg::Phish => Label::Phish,
            LabelArg::Bec => Label::Bec,
            LabelArg::Ham => Label::Ham,
        },
        output: args.output,
        base: args.base,
        unwrap_attached: !args.whole,
        read: ReadOptions {
            max_message_bytes: args.max_message_size,
        },
    };
    let c = ingest(&config, &Console::new(args.quiet))
        .with_context(|| format!("writing the feedback directory {}", config.output.display()))?;
    eprintln!(
        "read {}; forwarded messages unwrapped {}; written {}; duplicates {}; already known {}{}; unreadable {}",
        c.read,
        c.unwrapped,
        c.written,
        c.duplicates,
        c.already_known,
        if c.known_with_other_label > 0 {
            format!(" ({} labelled otherwise in the base)", c.known_with_other_label)
        } else {
            String::new()
        },
        c.unreadable
    );
    Ok(if c.unreadable == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The verdict log of `--verdict-log FILE` (scan, serve, milter), opened
/// for appending; `None` without the flag.
pub fn open_verdict_log(path: Option<&Path>) -> Result<Option<VerdictLog>> {
    path.map(|p| {
        VerdictLog::open(p).with_context(|| {
            format!(
                "--verdict-log {}: cannot open it for appending; check that its directory exists and is writable",
                p.display()
            )
        })
    })
    .transpose()
}
