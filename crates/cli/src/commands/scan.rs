//! `impostor scan`: a verdict for every message, with its reasons.

use crate::commands::history::HistoryArgs;
use crate::gateway::{engine, with_history, FileEnvelopeArgs, LiveArgs, ModelArgs};
use crate::org::OrgArgs;
use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, ValueEnum};
use impostor_history::History;
use impostor_mailsource::{RawMessage, ReadOptions, DEFAULT_MAX_MESSAGE_BYTES};
use impostor_model::{Level, ScanRecord};
use impostor_serve::{Engine, HistoryMode, Prepared};
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
/// Attachments: every attachment and inline picture is read in memory,
/// within bounds (no extraction to disk, nothing run): its name, the type
/// its bytes say, archives' members, HTML pages' forms and smuggling, PDF
/// text and links, QR codes in images and PDFs, Office macros and external
/// links. Each record lists them under `attachments` (name, type,
/// findings); links found in them are judged as body links are, and
/// reasons name the attachment.
///
/// Sender history: with --history STORE each message is also judged
/// against what the organisation's history store knows of its sender (a
/// first contact, a new network, a first payment request, …; see
/// `impostor history --help`); the store is only read. With
/// --history-replay the messages are instead judged in date order, each
/// against a history in memory of the messages before it (learnt after
/// --history-delay), to see what the history would have said of this mail.
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
    #[command(flatten)]
    history: HistoryArgs,
    /// Judge the messages in date order (messages without a Date last, in
    /// input order), each against a sender history in memory of the
    /// messages before it, then learn it (after --history-delay). The
    /// output keeps input order. Holds every message's features in memory
    /// until the end. Not with --history.
    #[arg(long)]
    history_replay: bool,
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
    /// Append one JSON line per verdict to FILE: time (RFC 3339, UTC),
    /// sha256 (of the raw message), message_id, score, level, flagged,
    /// techniques, model (SHA-256 of the artifact's manifest.json). One
    /// write per line (O_APPEND): concurrent workers never interleave; a
    /// failed write is logged and never fails a verdict. See `impostor
    /// feedback`.
    #[arg(long, value_name = "FILE")]
    verdict_log: Option<PathBuf>,
    /// No summary on standard error.
    #[arg(short, long)]
    quiet: bool,
}

/// The verdict (or error) of one message read from a file.
fn judge(engine: &Engine, envelope: &FileEnvelopeArgs, m: &RawMessage) -> ScanRecord {
    let mut record = record_of(m);
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
            for a in &v.attachments {
                let name = if a.name.is_empty() {
                    "(no name)"
                } else {
                    &a.name
                };
                s.push_str(&format!("  attachment {name} ({})\n", a.kind));
                for f in &a.findings {
                    s.push_str(&format!("    {f}\n"));
                }
            }
            s
        }
        (None, None) => format!("{place}: no verdict\n"),
    }
}

/// Writes records as they come and counts them.
struct Output<W: Write> {
    out: W,
    format: Format,
    scanned: u64,
    errors: u64,
    by_level: [u64; 4],
    write_error: Option<std::io::Error>,
}

impl<W: Write> Output<W> {
    fn emit(&mut self, r: &ScanRecord) {
        self.scanned += 1;
        match &r.verdict {
            Some(v) => self.by_level[v.level as usize] += 1,
            None => self.errors += 1,
        }
        if self.write_error.is_some() {
            return;
        }
        let written = match self.format {
            Format::Ndjson => serde_json::to_writer(&mut self.out, r)
                .map_err(std::io::Error::from)
                .and_then(|_| self.out.write_all(b"\n")),
            Format::Text => self.out.write_all(text(r).as_bytes()),
        };
        if let Err(e) = written {
            self.write_error = Some(e);
        }
    }
}

/// A message read from a file, extracted without history (or its error).
type Extracted = (ScanRecord, Option<Prepared>);

/// The records of a replay: every message extracted (in parallel), then
/// judged in date order against a history in memory of the messages
/// before it, and learnt.
fn replay(
    args: &ScanArgs,
    engine: &Engine,
    pool: &rayon::ThreadPool,
    options: &ReadOptions,
) -> Result<Vec<ScanRecord>> {
    let history = History::memory(args.history.params()?);
    let mut all: Vec<Extracted> = Vec::new();
    for_each_batch(
        &args.paths,
        options,
        pool,
        |m| {
            let mut record = record_of(m);
            let mut prepared = None;
            match &m.bytes {
                Err(e) => record.error = Some(e.describe()),
                Ok(bytes) => {
                    let envelope = args.envelope.envelope(m.mbox_sender.clone());
                    match engine.prepare(bytes, &envelope) {
                        Ok(p) => prepared = Some(p),
                        Err(e) => record.error = Some(e.to_string()),
                    }
                }
            }
            (record, prepared)
        },
        |batch| all.extend(batch),
    );
    let mut order: Vec<usize> = (0..all.len()).filter(|&i| all[i].1.is_some()).collect();
    // Stable: messages without a Date keep their input order, at the end.
    order.sort_by_key(|&i| {
        let t = all[i].1.as_ref().and_then(|p| p.facts.time);
        (t.is_none(), t)
    });
    for i in order {
        let (record, prepared) = &mut all[i];
        let Some(p) = prepared.take() else { continue };
        let snapshot = history
            .snapshot(&p.facts)
            .map_err(|e| anyhow!("the replay's history in memory: {e}"))?;
        let verdict = engine.finish(&p, Some(&snapshot));
        history
            .observe(&p.facts, verdict.flagged)
            .map_err(|e| anyhow!("the replay's history in memory: {e}"))?;
        record.verdict = Some(verdict);
    }
    Ok(all.into_iter().map(|(r, _)| r).collect())
}

/// A record naming where `m` came from, without verdict or error yet.
fn record_of(m: &RawMessage) -> ScanRecord {
    ScanRecord {
        path: m.origin.path.display().to_string(),
        member: m.origin.member.clone(),
        index: m.origin.index.map(|i| i as u64),
        verdict: None,
        error: None,
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
    if args.history_replay && args.history.store.is_some() {
        bail!("--history-replay builds its own history in memory from the messages given and cannot start from --history; give one or the other");
    }
    if args.history_replay && args.verdict_log.is_some() {
        bail!("--verdict-log records the verdicts mail gets as it arrives; a --history-replay is a what-if over past mail: give one or the other");
    }
    let verdict_log = crate::commands::feedback::open_verdict_log(args.verdict_log.as_deref())?;
    let engine = engine(&args.org, &args.model, &args.live, None)?;
    let (engine, _history) = with_history(engine, &args.history, HistoryMode::ReadOnly)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let options = ReadOptions {
        max_message_bytes: args.max_message_size,
    };
    let stdout = std::io::stdout();
    let mut out = Output {
        out: std::io::BufWriter::new(stdout.lock()),
        format: args.format,
        scanned: 0,
        errors: 0,
        by_level: [0; 4],
        write_error: None,
    };
    if args.history_replay {
        for r in replay(&args, &engine, &pool, &options)? {
            out.emit(&r);
        }
    } else {
        for_each_batch(
            &args.paths,
            &options,
            &pool,
            |m| {
                let r = judge(&engine, &args.envelope, m);
                if let (Some(log), Some(v), Ok(b)) = (&verdict_log, &r.verdict, &m.bytes) {
                    log.record(b, v, engine.model_id(), None);
                }
                r
            },
            |records| {
                for r in records {
                    out.emit(&r);
                }
            },
        );
    }
    let Output {
        out: mut writer,
        scanned,
        errors,
        by_level,
        write_error,
        ..
    } = out;
    if let Some(e) = write_error.or_else(|| writer.flush().err()) {
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
