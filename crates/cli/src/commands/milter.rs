//! `impostor milter`: the detector as a Postfix / Sendmail milter.

use crate::commands::history::{history_line, HistoryArgs};
use crate::config::{self, fill, ConfigArgs, Section};
use crate::gateway::{authentication_line, engine, with_history, LiveArgs, ModelArgs};
use crate::org::{tenant_lines, OrgArgs, TenantArgs};
use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, ValueEnum};
use impostor_model::Level;
use impostor_serve::engine::watch_model;
use impostor_serve::milter::{
    self, parse_threshold, ErrorPolicy, MilterConfig, MilterConfigError, SharedEngine,
};
use impostor_serve::HistoryMode;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OnError {
    /// Let the message through untouched (fail open).
    Accept,
    /// 451 4.7.0: the client retries later (fail closed, softly).
    Tempfail,
    /// 550 5.7.0: refuse the message (fail closed).
    Reject,
}

impl OnError {
    fn policy(self) -> ErrorPolicy {
        match self {
            OnError::Accept => ErrorPolicy::Accept,
            OnError::Tempfail => ErrorPolicy::Tempfail,
            OnError::Reject => ErrorPolicy::Reject,
        }
    }
}

/// Judge mail as it arrives: a milter for Postfix (or Sendmail).
///
/// The MTA hands each message to the milter; at its end the milter scores
/// it (the same verdict as `impostor scan`, with the SMTP envelope: MAIL
/// FROM, RCPT TO, HELO and the client's address) and acts by its level:
///
/// At or above --tag-level: adds X-Impostor-Score (3 decimals),
/// X-Impostor-Level, X-Impostor-Techniques (codes, or none) and
/// X-Impostor-Reasons (the top three reasons with their share in log-odds);
/// copies of these headers sent with the message are removed. Below it the
/// message passes untouched.
///
/// At or above --quarantine-at: puts it on hold (Postfix's hold queue;
/// `postqueue -p` marks it with !) with the reason.
///
/// At or above --reject-at: refuses it at SMTP time with
/// `550 5.7.1 Rejected by Impostor: TECHNIQUES (score S)`.
///
/// A message that cannot be judged (unparseable, larger than
/// --max-message-size, over --timeout-ms, an internal error) is handled by
/// --on-error: accept (fail open, the default), tempfail or reject; a fault
/// of Impostor's own while judging one (an internal error, contained to
/// that message) by --on-internal-error, tempfail by default. The
/// model is loaded and verified before the port is bound: a bad artifact
/// exits with status 2. SIGTERM or SIGINT stops it after the messages in
/// hand. One line a message goes to standard error (queue id, level,
/// score, action) unless --quiet. With --model DIR, the model is reloaded
/// on SIGHUP and when the directory's artifact changes; the new one is
/// verified first, and one that fails is refused while the old one keeps
/// judging.
///
/// With --resolver (or [dns] resolver in the org profile), SPF (client IP,
/// HELO, MAIL FROM), every DKIM signature, DMARC (with its policy) and ARC
/// are verified live before scoring, and the milter adds its own
/// Authentication-Results header (authserv-id --authserv-id) so Postfix
/// and mailbox rules downstream see the results; incoming copies claiming
/// that authserv-id are removed as forged. A DNS failure is a temperror,
/// never a fail.
///
/// With --history STORE, every message is judged against the
/// organisation's sender history (what it knew before the message: a first
/// contact, a new network, a first payment request, …) and then learnt,
/// once --history-delay has passed (its time is the clock's when it is
/// judged). A failing store never fails a message: it is judged without
/// history, and the failure logged at most once a minute. See `impostor
/// history --help`.
///
/// Sent mail: the milter tells the organisation's own submissions apart
/// by Postfix's convention, the one OpenDKIM signs by: the submission
/// service in master.cf names itself ORIGINATING,
///
///     submission inet n - y - - smtpd
///
///       -o smtpd_sasl_auth_enable=yes
///
///       -o milter_macro_daemon_name=ORIGINATING
///
/// (one service, its -o lines indented under it), and the milter reads the {daemon_name} macro (it asks Postfix for it).
/// Such a message is judged and logged but never rejected, held or tagged;
/// with --history it is learnt as the organisation's sent mail (an
/// internal From to outside: its recipients become solicited
/// correspondents, and their replies are no first contact). Mail on every
/// other service is judged as arriving mail. Let only authenticated users
/// reach the ORIGINATING service.
///
/// Several organisations (a provider): --tenant DOMAIN=FILE (repeatable)
/// or --tenants DIR give each organisation its own org profile, chosen by
/// the RCPT TO addresses: a recipient's domain, or a parent of it, names
/// the tenant (case-insensitive, IDNA-normalised); recipients no tenant
/// serves are judged under --org. Recipients of several tenants in one
/// transaction are judged once per tenant and the most severe verdict
/// acts; mail submitted on the ORIGINATING service is judged under the
/// tenant of its MAIL FROM. A tagged message of a tenant also gets
/// X-Impostor-Tenant: the tenant (its first domain), and the log line
/// says tenant=. Live verification (--resolver, and --org's [dns] table
/// and ARC sealers) and the sender history are shared by every tenant.
///
/// Postfix (main.cf), for a milter on the default address:
///
///     smtpd_milters = inet:127.0.0.1:7357
///     non_smtpd_milters = $smtpd_milters
///     milter_default_action = accept
///
/// (milter_default_action is what Postfix does when the milter is down:
/// accept keeps mail flowing, tempfail holds it back until it returns.)
///
/// Examples:
///
///     impostor milter --org org.toml
///
///     impostor milter --org org.toml --listen 127.0.0.1:7357 --reject-at off --quarantine-at high
///
///     impostor milter --model models/mine --on-error tempfail --timeout-ms 5000
#[derive(Args, Debug)]
pub struct MilterArgs {
    #[command(flatten)]
    fleet: crate::commands::model::FleetArgs,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    org: OrgArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    history: HistoryArgs,
    #[command(flatten)]
    tenants: TenantArgs,
    /// The authserv-id of the Authentication-Results header the milter adds
    /// with --resolver (usually this MTA's host name). Default: impostor.
    #[arg(long, value_name = "ID")]
    authserv_id: Option<String>,
    /// Address to listen on, HOST:PORT with an IP address (Postfix's
    /// inet:PORT@HOST form is for main.cf). Port 0 picks a free port; the
    /// address bound is printed on standard error. Default: 127.0.0.1:7357.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Add the X-Impostor-* headers at or above this level: low, medium,
    /// high, or off. Default: low.
    #[arg(long, value_name = "LEVEL")]
    tag_level: Option<String>,
    /// Put messages on hold at or above this level (low, medium, high, or
    /// off). Not above --reject-at. Default: medium.
    #[arg(long, value_name = "LEVEL")]
    quarantine_at: Option<String>,
    /// Reject at SMTP time (550 5.7.1) at or above this level (low, medium,
    /// high, or off). Default: high.
    #[arg(long, value_name = "LEVEL")]
    reject_at: Option<String>,
    /// What to do with a message that cannot be judged (unreadable, too
    /// large, over --timeout-ms). Default: accept.
    #[arg(long, value_enum)]
    on_error: Option<OnError>,
    /// What to do when judging a message hits a fault of Impostor's own (an
    /// internal error, contained to that message): by default (tempfail)
    /// the client retries later, so no mail is accepted unscanned because
    /// of our bug.
    #[arg(long, value_enum)]
    on_internal_error: Option<OnError>,
    /// Time limit of one message's scan, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    timeout_ms: u64,
    /// Largest message judged, in bytes (headers and body); a larger one is
    /// handled by --on-error.
    #[arg(long, value_name = "BYTES", default_value_t = 20 * 1024 * 1024)]
    max_message_size: usize,
    /// Simultaneous MTA connections.
    #[arg(long, value_name = "N", default_value_t = 100)]
    max_connections: usize,
    /// Append one JSON line per verdict to FILE: time (RFC 3339, UTC),
    /// sha256 (of the message as the milter assembled it from the MTA's
    /// headers and body), message_id, score, level, flagged, techniques,
    /// model (SHA-256 of the artifact's manifest.json). One write per line
    /// (O_APPEND): concurrent workers never interleave; a failed write is
    /// logged and never fails a verdict. See `impostor feedback`.
    #[arg(long, value_name = "FILE")]
    verdict_log: Option<std::path::PathBuf>,
    /// No line per message on standard error.
    #[arg(short, long)]
    quiet: bool,
    /// How often to look for a changed model directory, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    reload_poll_ms: u64,
    /// What to do when a message fails DMARC as verified live (with a
    /// resolver) and its From domain publishes p=reject or p=quarantine.
    /// honour: p=reject is refused at SMTP time (`550 5.7.1 Rejected by
    /// Impostor: DMARC failed for DOMAIN, whose policy is p=reject`) even
    /// when the score is low or --reject-at is off, and p=quarantine is put
    /// on hold unless --quarantine-at is off. ignore: only the score
    /// decides. Never acted on: results read from headers (no resolver), a
    /// DNS failure (temperror), p=none, and mailing-list or forwarded mail
    /// whose failure is explained (ARC sealed by a trusted sealer). Default:
    /// honour.
    #[arg(long, value_enum, value_name = "ACTION")]
    dmarc_policy: Option<DmarcPolicyAction>,
}

fn threshold(flag: &str, value: &str) -> Result<Option<Level>> {
    parse_threshold(value).map_err(|e| anyhow!("--{flag}: {e}"))
}

/// The listen address: plain HOST:PORT with an IP address.
fn listen_addr(s: &str) -> Result<SocketAddr> {
    if s.starts_with("inet:") || s.starts_with("unix:") {
        bail!("--listen {s:?}: give HOST:PORT such as 127.0.0.1:7357 (the inet:PORT@HOST form belongs in Postfix's main.cf)");
    }
    s.parse().map_err(|_| {
        anyhow!("--listen {s:?}: not HOST:PORT with an IP address (for example 127.0.0.1:7357, or [::1]:7357)")
    })
}

pub fn run(mut args: MilterArgs) -> Result<ExitCode> {
    // --config fills what the flags left unset; then the defaults.
    let file = args.config.load()?;
    let a = &mut args;
    file.fill_shared(
        Section::Milter,
        &mut a.org,
        &mut a.model,
        &mut a.live,
        &mut a.history,
    );
    file.fill_gateway(
        Section::Milter,
        &mut a.tenants,
        &mut a.fleet,
        &mut a.verdict_log,
    );
    let m = &file.milter;
    for (flag, value) in [
        (&mut a.listen, &m.listen),
        (&mut a.authserv_id, &m.authserv_id),
        (&mut a.tag_level, &m.tag_level),
        (&mut a.quarantine_at, &m.quarantine_at),
        (&mut a.reject_at, &m.reject_at),
    ] {
        fill(flag, value);
    }
    let on_error = a.on_error.or(config::value_enum(
        &a.config,
        "[milter] on_error",
        m.on_error.as_deref(),
    )?);
    let on_internal_error = a.on_internal_error.or(config::value_enum(
        &a.config,
        "[milter] on_internal_error",
        m.on_internal_error.as_deref(),
    )?);
    let dmarc_policy = a.dmarc_policy.or(config::value_enum(
        &a.config,
        "[milter] dmarc_policy",
        m.dmarc_policy.as_deref(),
    )?);
    let listen = args.listen.as_deref().unwrap_or("127.0.0.1:7357");
    let authserv_id = args
        .authserv_id
        .as_deref()
        .unwrap_or(impostor_auth::DEFAULT_AUTHSERV_ID);
    let config = MilterConfig {
        tag_at: threshold("tag-level", args.tag_level.as_deref().unwrap_or("low"))?,
        quarantine_at: threshold(
            "quarantine-at",
            args.quarantine_at.as_deref().unwrap_or("medium"),
        )?,
        reject_at: threshold("reject-at", args.reject_at.as_deref().unwrap_or("high"))?,
        on_error: on_error.unwrap_or(OnError::Accept).policy(),
        on_internal_error: on_internal_error.unwrap_or(OnError::Tempfail).policy(),
        timeout: Duration::from_millis(args.timeout_ms),
        max_message_size: args.max_message_size,
        quiet: args.quiet,
        max_connections: args.max_connections,
        honour_dmarc: dmarc_policy.unwrap_or(DmarcPolicyAction::Honour)
            == DmarcPolicyAction::Honour,
        verdict_log: crate::commands::feedback::open_verdict_log(args.verdict_log.as_deref())?,
    };
    config.validate().map_err(|e| match e {
        MilterConfigError::QuarantineAboveReject { quarantine, reject } => anyhow!(
            "--quarantine-at {} is above --reject-at {}: every message it would hold is rejected first; lower --quarantine-at or set it to off",
            quarantine.as_str(),
            reject.as_str()
        ),
        MilterConfigError::ZeroTimeout => anyhow!("--timeout-ms must be at least 1"),
        MilterConfigError::ZeroMessageSize => anyhow!("--max-message-size must be at least 1"),
    })?;
    let addr = listen_addr(listen)?;
    // The model first: a bad artifact must stop us before the MTA can
    // connect to a milter that cannot judge.
    if args.model.model.is_none() {
        args.model.model = args.fleet.cached_model();
    }
    let built = engine(&args.org, &args.model, &args.live, Some(authserv_id))?;
    let (built, history) = with_history(built, &args.history, HistoryMode::Gateway)?;
    // Every tenant profile is checked before the MTA can connect.
    let built = built.with_tenants(args.tenants.build(&args.org)?);
    eprintln!("impostor milter: {}", authentication_line(&built));
    if let Some(h) = &history {
        eprintln!("impostor milter: {}", history_line(h));
    }
    for line in tenant_lines(built.tenants()) {
        eprintln!("impostor milter: {line}");
    }
    let engine = SharedEngine::new(built);
    let follower = args
        .fleet
        .start(&engine, args.model.trusted_keys()?, "milter")?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        // Handlers before the address is announced: a SIGTERM right after
        // it must stop us gracefully, not by the default action.
        let shutdown = shutdown_signal()?;
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!(
                "cannot listen on {addr}: is another milter running there? choose another --listen"
            )
        })?;
        let bound = listener.local_addr().context("reading the bound address")?;
        // Reloads are always logged: an operator needs to know which model judges.
        tokio::spawn(watch_model(
            engine.clone(),
            Duration::from_millis(args.reload_poll_ms.max(10)),
            |outcome| {
                let (Ok(line) | Err(line)) = outcome;
                eprintln!("impostor milter: {line}");
            },
        ));
        if let Some(f) = follower {
            tokio::spawn(impostor_serve::fleet::follow(
                engine.clone(),
                f,
                args.fleet.poll(),
                |outcome| {
                    let (Ok(line) | Err(line)) = outcome;
                    eprintln!("impostor milter: {line}");
                },
            ));
        }
        eprintln!("impostor milter: listening on {bound}");
        milter::run(listener, engine, config, shutdown)
            .await
            .context("the milter stopped accepting connections")?;
        if let Some(h) = &history {
            h.sync()
                .map_err(|e| anyhow!("writing the sender history at exit: {e}"))?;
        }
        eprintln!("impostor milter: stopped");
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}

/// A future that completes on SIGTERM or SIGINT (Ctrl-C); the handlers
/// are installed when this returns.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// `--dmarc-policy`: whether the From domain's DMARC policy is acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DmarcPolicyAction {
    /// Refuse (p=reject) or hold (p=quarantine) what fails DMARC live.
    Honour,
    /// Let only the score decide.
    Ignore,
}
