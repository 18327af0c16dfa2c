//! `impostor history`: the organisation's sender-history store (import
//! past mail, show and forget a profile), and the `--history` options of
//! scan, serve and milter.

use crate::history_replay::parse_duration;
use crate::org::OrgArgs;
use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use impostor_features::sender_history::{history_key, MessageFacts, SenderProfile, UnixTime};
use impostor_features::{Envelope, Extractor};
use impostor_history::{CheckedHistoryParams, History, HistoryParams};
use impostor_mailsource::{ReadOptions, DEFAULT_MAX_MESSAGE_BYTES};
use impostor_train::extract::for_each_batch;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Messages learnt per write of an import.
const IMPORT_BATCH: usize = 1_000;

/// The sender-history options of the gateway commands (scan, serve,
/// milter).
#[derive(Args, Debug, Clone, Default)]
pub struct HistoryArgs {
    /// Judge every message against the organisation's sender history:
    /// FILE (the embedded store, one process at a time; created when
    /// missing), redis://HOST:PORT[/DB][?prefix=NAME] (shared by several
    /// gateways), or memory: (forgotten at exit). serve and milter learn
    /// every message they judge (after --history-delay); scan only reads.
    /// Fill it first with `impostor history import`.
    #[arg(long = "history", value_name = "STORE")]
    pub store: Option<String>,
    /// How long a message waits before it counts in the history (30s,
    /// 15m, 4h, 2d; 0s: at once): an attacker cannot make an address
    /// known by writing first and attacking a little later.
    #[arg(
        long = "history-delay",
        value_name = "DURATION",
        default_value = "4h",
        value_parser = parse_duration
    )]
    pub delay_secs: i64,
    /// Days a profile is kept after its key was last seen.
    #[arg(long = "history-retention", value_name = "DAYS", default_value_t = 400)]
    pub retention_days: u32,
}

impl HistoryArgs {
    /// The parameters these options give.
    pub fn params(&self) -> Result<CheckedHistoryParams> {
        params(self.delay_secs, self.retention_days)
    }

    /// Opens the store named by --history, when one is.
    pub fn open(&self) -> Result<Option<Arc<History>>> {
        match &self.store {
            None => Ok(None),
            Some(spec) => Ok(Some(Arc::new(open(spec, self.params()?)?))),
        }
    }
}

/// Checked parameters from a delay and a retention.
fn params(delay_secs: i64, retention_days: u32) -> Result<CheckedHistoryParams> {
    HistoryParams {
        delay_secs,
        retention_secs: i64::from(retention_days) * 86_400,
        ..HistoryParams::default()
    }
    .check()
    .map_err(|e| anyhow!("{e}"))
}

/// Opens a store, the error naming it and what to do.
fn open(spec: &str, params: CheckedHistoryParams) -> Result<History> {
    History::open(spec, params).map_err(|e| anyhow!("opening the sender history: {e}"))
}

/// One line for a gateway's start: the store and what it holds.
pub fn history_line(history: &History) -> String {
    let p = history.params();
    match history.stats() {
        Ok(s) => format!(
            "sender history {}: {} messages learnt, {} profiles, {} pending; messages count after {}",
            history.describe(),
            s.learned,
            s.profiles,
            s.pending,
            describe_duration(p.delay_secs)
        ),
        Err(e) => format!("sender history {}: cannot count it: {e}", history.describe()),
    }
}

/// A number of seconds in the largest unit that divides it.
fn describe_duration(secs: i64) -> String {
    match secs {
        0 => "0s (at once)".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The organisation's sender history: who writes to it, from where and how.
///
/// The store keeps, for each correspondent, when it was first and last
/// seen, how many messages it sent and how many the organisation sent it,
/// and for its messages the submission networks (/24 or /48), mail
/// clients, hours of the week, link domains, Reply-To addresses, payment
/// and bank-change requests and its bank accounts as salted hashes; and
/// the Message-IDs the organisation has seen, hashed. Never message text.
///
/// The key rule: a mailbox of the organisation or of a free-mail provider
/// is its own key (alice@example.org, bob@gmail.com); anyone else is keyed
/// by the registrable domain (billing@mail.vendor.co.uk → vendor.co.uk),
/// since a company's many mailboxes are one correspondent. `show` and
/// `forget` apply the same rule to what you type.
///
/// The delay: a gateway (serve, milter with --history) learns a message
/// only after --history-delay (4h by default), so an attacker cannot make
/// an address known by writing first and attacking a little later. An
/// import learns at once: it is the organisation's past mail. Mail from
/// an authenticated internal mailbox to outside is the organisation's
/// sent mail: its recipients become solicited correspondents.
///
/// STORE is a file (the embedded store, locked to one process: stop the
/// gateway before `show` or `forget` on its file, or use Redis),
/// redis://HOST:PORT[/DB][?prefix=NAME], or memory:.
///
/// Examples:
///
///     impostor history import --org org.toml --store history.redb sent.mbox Maildir/
///
///     impostor history show --org org.toml --store history.redb vendor.example
///
///     impostor history forget --store history.redb alice@example.org
#[derive(Args, Debug)]
pub struct HistoryCommandArgs {
    #[command(subcommand)]
    command: HistoryCommand,
}

#[derive(Subcommand, Debug)]
enum HistoryCommand {
    Import(Box<ImportArgs>),
    Show(Box<ShowArgs>),
    Forget(Box<ForgetArgs>),
}

/// Learn the organisation's past mail, at once and in date order.
///
/// Reads .eml files, directories (Maildirs included), mbox files and
/// .tar.gz archives of these, as scan does; sorts the messages by their
/// Date (messages without one come last, in input order) and learns them
/// without the delay. Import both the inbox and the sent mail: mail from
/// an authenticated internal mailbox to outside makes its recipients
/// solicited correspondents. Authentication is read from the org's
/// trusted receivers' Authentication-Results; a message whose From fails
/// it teaches nothing. Profiles last seen before the retention are
/// expired at the end.
///
/// Exit status: 0 when every message was read, 1 when some could not be
/// (they are counted and skipped), 2 for a usage or store error.
#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// The store: FILE, redis://HOST:PORT[/DB][?prefix=NAME] or memory:.
    #[arg(long, value_name = "STORE")]
    store: String,
    /// Days a profile is kept after its key was last seen: older ones are
    /// expired after the import.
    #[arg(long, value_name = "DAYS", default_value_t = 400)]
    retention: u32,
    /// Messages: .eml, directories, mbox, Maildir, .tar.gz.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Messages larger than this many bytes are skipped as unreadable.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
    max_message_size: u64,
    /// Worker threads reading messages (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// No progress bar or summary on standard error.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people.
    Text,
    /// One JSON object.
    Json,
}

/// Show what the history knows of one address or domain.
///
/// ADDRESS|DOMAIN is keyed as messages are (see `impostor history
/// --help`): an address of the organisation or of a free-mail provider is
/// its own key, any other address stands for its registrable domain. The
/// bank accounts are counted, never shown (the store holds salted hashes
/// only). Exit status 1 when the store does not know the key.
#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// The store: FILE, redis://HOST:PORT[/DB][?prefix=NAME] or memory:.
    #[arg(long, value_name = "STORE")]
    store: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// An address or a domain.
    #[arg(value_name = "ADDRESS|DOMAIN")]
    key: String,
}

/// Forget one address or domain (a profile learnt from mistaken or
/// unwanted mail).
///
/// The key is made as for `show`. Says whether the store knew it.
#[derive(Args, Debug)]
pub struct ForgetArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// The store: FILE, redis://HOST:PORT[/DB][?prefix=NAME] or memory:.
    #[arg(long, value_name = "STORE")]
    store: String,
    /// An address or a domain.
    #[arg(value_name = "ADDRESS|DOMAIN")]
    key: String,
}

pub fn run(args: HistoryCommandArgs) -> Result<ExitCode> {
    match args.command {
        HistoryCommand::Import(a) => import(*a),
        HistoryCommand::Show(a) => show(*a),
        HistoryCommand::Forget(a) => forget(*a),
    }
}

/// Seconds since 1970 by the system clock.
fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as UnixTime)
}

fn import(args: ImportArgs) -> Result<ExitCode> {
    for p in &args.paths {
        if !p.exists() {
            bail!(
                "{}: no such file or directory; give .eml files, directories, mbox files or .tar.gz archives",
                p.display()
            );
        }
    }
    let ctx = args.org.build()?;
    let history = open(&args.store, params(0, args.retention)?)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let options = ReadOptions {
        max_message_bytes: args.max_message_size,
    };
    let reading = super::spinner(args.quiet, "reading");
    let extractor = Extractor::new(&ctx);
    let mut facts: Vec<MessageFacts> = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    for_each_batch(
        &args.paths,
        &options,
        &pool,
        |m| {
            let place = m.origin.to_string();
            let bytes = m
                .bytes
                .as_ref()
                .map_err(|e| format!("{place}: {}", e.describe()))?;
            let envelope = Envelope {
                mbox_sender: m.mbox_sender.clone(),
                ..Envelope::default()
            };
            let view = extractor
                .parse(bytes, &envelope)
                .map_err(|e| format!("{place}: {e}"))?;
            Ok(MessageFacts::read(&view, &envelope, &ctx))
        },
        |batch: Vec<Result<MessageFacts, String>>| {
            reading.inc(batch.len() as u64);
            for r in batch {
                match r {
                    Ok(f) => facts.push(f),
                    Err(e) => unreadable.push(e),
                }
            }
        },
    );
    reading.finish_and_clear();
    // Date order; messages without a Date keep their input order at the end.
    facts.sort_by_key(|f| (f.time.is_none(), f.time));
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(facts.len() as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} messages learnt, {per_sec}, eta {eta}",
        )
        .expect("static template"),
    );
    let taught_nothing = facts
        .iter()
        .filter(|f| f.sender_failed || f.sender_key.is_none())
        .count();
    for chunk in facts.chunks(IMPORT_BATCH) {
        let batch: Vec<(MessageFacts, bool)> = chunk.iter().map(|f| (f.clone(), false)).collect();
        history
            .learn_all(&batch)
            .map_err(|e| anyhow!("learning into the sender history: {e}"))?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let expired = history
        .expire(now())
        .map_err(|e| anyhow!("expiring the sender history: {e}"))?;
    history
        .sync()
        .map_err(|e| anyhow!("writing the sender history: {e}"))?;
    let stats = history
        .stats()
        .map_err(|e| anyhow!("counting the sender history: {e}"))?;
    for e in unreadable.iter().take(20) {
        eprintln!("impostor history import: unreadable: {e}");
    }
    if unreadable.len() > 20 {
        eprintln!(
            "impostor history import: … and {} more unreadable",
            unreadable.len() - 20
        );
    }
    if !args.quiet {
        eprintln!(
            "learnt {} messages into {} ({} taught nothing: no From, or its authentication failed); skipped {} unreadable; {} profiles expired (last seen over {} days ago)",
            facts.len(),
            history.describe(),
            taught_nothing,
            unreadable.len(),
            expired.profiles,
            args.retention
        );
        eprintln!(
            "the store holds {} messages learnt, {} profiles, {} pending",
            stats.learned, stats.profiles, stats.pending
        );
    }
    Ok(if unreadable.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A profile as `show --format json` prints it: the counts and lists,
/// never the bank account hashes.
#[derive(Serialize)]
struct ShownProfile<'a> {
    key: &'a str,
    first_seen: String,
    last_seen: String,
    inbound: u64,
    outbound: u64,
    last_outbound: Option<String>,
    flagged: u64,
    networks: Vec<(&'a str, u32)>,
    clients: Vec<(&'a str, u32)>,
    busiest_hours: Vec<(String, u32)>,
    link_domains: Vec<(&'a str, u32)>,
    reply_to: Vec<(&'a str, u32)>,
    payment_requests: u64,
    bank_change_requests: u64,
    bank_accounts_known: usize,
}

/// Most entries of a list shown.
const SHOWN: usize = 10;

fn ranked(map: &std::collections::BTreeMap<String, u32>) -> Vec<(&str, u32)> {
    let mut v: Vec<(&str, u32)> = map.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.truncate(SHOWN);
    v
}

fn shown(p: &SenderProfile) -> ShownProfile<'_> {
    let mut hours: Vec<(usize, u32)> = p
        .hours
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(h, n)| (h, *n))
        .collect();
    hours.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    hours.truncate(5);
    ShownProfile {
        key: &p.key,
        first_seen: date(p.first_seen),
        last_seen: date(p.last_seen),
        inbound: p.inbound,
        outbound: p.outbound,
        last_outbound: p.last_outbound.map(date),
        flagged: p.flagged,
        networks: ranked(&p.networks),
        clients: ranked(&p.clients),
        busiest_hours: hours.into_iter().map(|(h, n)| (hour_name(h), n)).collect(),
        link_domains: ranked(&p.link_domains),
        reply_to: ranked(&p.reply_to),
        payment_requests: p.payment_requests,
        bank_change_requests: p.bank_change_requests,
        bank_accounts_known: p.bank_accounts.len(),
    }
}

/// An hour of the week (Monday 00:00 UTC is 0) in words.
fn hour_name(h: usize) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    format!("{} {:02}:00 UTC", DAYS[(h / 24) % 7], h % 24)
}

/// A time as `YYYY-MM-DD HH:MM UTC`.
fn date(t: UnixTime) -> String {
    let d = mail_parser::DateTime::from_timestamp(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        d.year, d.month, d.day, d.hour, d.minute
    )
}

fn list(items: &[(&str, u32)]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|(k, n)| format!("{k} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn text(p: &ShownProfile<'_>) -> String {
    let hours: Vec<(&str, u32)> = p
        .busiest_hours
        .iter()
        .map(|(h, n)| (h.as_str(), *n))
        .collect();
    let mut s = format!("{}\n", p.key);
    let mut line = |name: &str, value: String| s.push_str(&format!("  {name:<22}{value}\n"));
    line("first seen", p.first_seen.clone());
    line("last seen", p.last_seen.clone());
    line(
        "messages from it",
        format!("{} ({} flagged)", p.inbound, p.flagged),
    );
    line(
        "messages to it",
        match &p.last_outbound {
            Some(d) => format!("{} (last {d})", p.outbound),
            None => format!("{} (never written to)", p.outbound),
        },
    );
    line("networks", list(&p.networks));
    line("clients", list(&p.clients));
    line("busiest hours", list(&hours));
    line("link domains", list(&p.link_domains));
    line("reply-to", list(&p.reply_to));
    line("payment requests", p.payment_requests.to_string());
    line("bank-change requests", p.bank_change_requests.to_string());
    line(
        "bank accounts known",
        format!(
            "{} (kept as salted hashes, never shown)",
            p.bank_accounts_known
        ),
    );
    s
}

fn show(args: ShowArgs) -> Result<ExitCode> {
    let ctx = args.org.build()?;
    let key = history_key(&args.key, &ctx);
    let history = open(&args.store, params(0, 400)?)?;
    let profile = history
        .profile(&key)
        .map_err(|e| anyhow!("reading the sender history: {e}"))?;
    let Some(profile) = profile else {
        eprintln!(
            "impostor history show: {} does not know {key:?}{}",
            history.describe(),
            if key == args.key.trim().to_ascii_lowercase() {
                String::new()
            } else {
                format!(" (the key of {:?})", args.key)
            }
        );
        return Ok(ExitCode::from(1));
    };
    let p = shown(&profile);
    match args.format {
        Format::Text => print!("{}", text(&p)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&p).context("writing the profile as JSON")?
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn forget(args: ForgetArgs) -> Result<ExitCode> {
    let ctx = args.org.build()?;
    let key = history_key(&args.key, &ctx);
    let history = open(&args.store, params(0, 400)?)?;
    let known = history
        .forget(&key)
        .map_err(|e| anyhow!("forgetting in the sender history: {e}"))?;
    if known {
        println!("forgot {key} in {}", history.describe());
    } else {
        println!(
            "{} did not know {key}: nothing to forget",
            history.describe()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_as_utc_dates() {
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
        assert_eq!(date(1_796_380_800), "2026-12-04 10:40 UTC");
        assert_eq!(hour_name(24 + 9), "Tue 09:00 UTC");
    }
}
