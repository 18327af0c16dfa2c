//! `impostor scan`: a verdict for every message, with its reasons.

use crate::gateway::{engine, FileEnvelopeArgs, LiveArgs, ModelArgs};
use crate::org::OrgArgs;
use anyhow::{bail, Context as _, Result};
use clap::{Args, ValueEnum};
use impostor_mailsource::{RawMessage, ReadOptions, DEFAULT_MAX_MESSAGE_BYTES};
use impostor_model::{Level, ScanRecord};
use impostor_serve::Engine;
use impostor_train::extract::for_each_batch;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One JSON object a message (design.md §5).
    Ndjson,
    /// A line a message and a line a reason, for people.
    Text,
}

/// Judge messages: score, level, techniques, and the reasons, ranked.
///
/// Each message gets a calibrated score in [0, 1], a level (none, low,
/// medium, high: the model's thresholds at stated false-positive rates),
/// `flagged` (level at or above the model's default level), the techniques
/// seen (envelope_from_spoof, header_from_spoof, lookalike_domain,
/// freemail_impersonation, account_compromise), and the rules and features
/// that moved the score, each with its share in log-odds.
///
/// PATH may be an .eml file, a directory (walked recursively, Maildirs
/// included), an mbox, or a .tar.gz/.tgz of these. A message that cannot be
/// read or parsed gets `error` set and the scan goes on. Messages are
/// judged in parallel; output keeps input order.
///
/// Authentication: with --resolver (or [dns] resolver in the org
/// profile), SPF, DKIM, DMARC and ARC are verified live over DNS (SPF from
/// --client-ip/--helo/--mail-from, by default the boundary hop's Received
/// header and Return-Path); otherwise only the Authentication-Results and
/// Received-SPF that the org's trusted receivers added above the boundary
/// are believed. Each record's `auth` says which (`source`: live or
/// header) and what was found; `identity.readings` appears when readers of
/// the sender (mail-parser, strict RFC 5322, mailparse, lenient readings)
/// disagree.
///
/// Exit status: 0 when every message was scanned (whatever the verdicts),
/// 1 when some could not be read, 2 for a usage or configuration error
/// (an unreadable org file, an artifact that fails verification).
///
/// Examples:
///
///     impostor scan --org org.toml inbox.mbox
///
///     impostor scan --format text --model models/mine suspicious.eml
///
///     impostor scan --resolver 127.0.0.1:53 --client-ip 192.0.2.7 --helo mx.example.org message.eml
#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    org: OrgArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    envelope: FileEnvelopeArgs,
    /// Messages: .eml, directories, mbox, Maildir, .tar.gz.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "ndjson")]
    format: Format,
    /// Messages larger than this many bytes get an error instead of a verdict.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
    max_message_size: u64,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// No summary on standard error.
    #[arg(short, long)]
    quiet: bool,
}

/// The verdict (or error) of one message read from a file.
fn judge(engine: &Engine, envelope: &FileEnvelopeArgs, m: &RawMessage) -> ScanRecord {
    let mut record = ScanRecord {
        path: m.origin.path.display().to_string(),
        member: m.origin.member.clone(),
        index: m.origin.index.map(|i| i as u64),
        verdict: None,
        error: None,
    };
    match &m.bytes {
        Err(e) => record.error = Some(e.describe()),
        Ok(bytes) => {
            let envelope = envelope.envelope(m.mbox_sender.clone());
            match engine.scan(bytes, &envelope) {
                Ok(v) => record.verdict = Some(v),
                Err(e) => record.error = Some(e.to_string()),
            }
        }
    }
    record
}

/// The text form of one record.
fn text(record: &ScanRecord) -> String {
    let mut place = record.path.clone();
    if let Some(m) = &record.member {
        place.push_str(&format!(" {m}"));
    }
    if let Some(i) = record.index {
        place.push_str(&format!(" #{i}"));
    }
    match (&record.verdict, &record.error) {
        (_, Some(e)) => format!("{place}: error: {e}\n"),
        (Some(v), None) => {
            let level = match v.level {
                Level::None => "none",
                Level::Low => "LOW",
                Level::Medium => "MEDIUM",
                Level::High => "HIGH",
            };
            let mut s = format!(
                "{place}: {level} {:.3}{}",
                v.score,
                if v.flagged { " flagged" } else { "" }
            );
            if !v.techniques.is_empty() {
                let t: Vec<&str> = v.techniques.iter().map(|t| t.code()).collect();
                s.push_str(&format!(" [{}]", t.join(", ")));
            }
            s.push('\n');
            for r in &v.reasons {
                s.push_str(&format!(
                    "  {:+.2} {}: {}\n",
                    r.contribution, r.code, r.detail
                ));
            }
            s
        }
        (None, None) => format!("{place}: no verdict\n"),
    }
}

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    for p in &args.paths {
        if !p.exists() {
            bail!(
                "{}: no such file or directory; give .eml files, directories, mbox files or .tar.gz archives",
                p.display()
            );
        }
    }
    let engine = engine(&args.org, &args.model, &args.live, None)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let options = ReadOptions {
        max_message_bytes: args.max_message_size,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut scanned, mut errors, mut write_error) = (0u64, 0u64, None);
    let mut by_level = [0u64; 4];
    for_each_batch(
        &args.paths,
        &options,
        &pool,
        |m| judge(&engine, &args.envelope, m),
        |records| {
            for r in records {
                scanned += 1;
                match &r.verdict {
                    Some(v) => by_level[v.level as usize] += 1,
                    None => errors += 1,
                }
                if write_error.is_some() {
                    continue;
                }
                let written = match args.format {
                    Format::Ndjson => serde_json::to_writer(&mut out, &r)
                        .map_err(std::io::Error::from)
                        .and_then(|_| out.write_all(b"\n")),
                    Format::Text => out.write_all(text(&r).as_bytes()),
                };
                if let Err(e) = written {
                    write_error = Some(e);
                }
            }
        },
    );
    if let Some(e) = write_error.or_else(|| out.flush().err()) {
        // A reader that went away (`| head`) is not a failure of the scan.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("writing the verdicts to standard output");
        }
    }
    if !args.quiet {
        eprintln!(
            "scanned {scanned} messages: {} high, {} medium, {} low, {} none; {errors} could not be read",
            by_level[Level::High as usize],
            by_level[Level::Medium as usize],
            by_level[Level::Low as usize],
            by_level[Level::None as usize],
        );
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
