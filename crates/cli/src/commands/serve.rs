//! `impostor serve`: the detector as an HTTP service.

use crate::commands::history::{history_line, HistoryArgs};
use crate::config::{ConfigArgs, Section};
use crate::gateway::{authentication_line, engine, with_history, LiveArgs, ModelArgs};
use crate::org::{tenant_lines, OrgArgs, TenantArgs};
use anyhow::{anyhow, bail, Context as _, Result};
use clap::Args;
use impostor_serve::engine::watch_model;
use impostor_serve::http::{router, HttpConfig, Service};
use impostor_serve::HistoryMode;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Serve verdicts over HTTP.
///
///     POST /v1/scan     the raw message as the body; envelope data, if any,
///                       in the query: mail_from, client_ip, helo, rcpt
///                       (comma-separated). Answers the verdict as JSON
///                       (score, level, flagged, techniques, reasons, error:
///                       the fields of `impostor scan`), 413 for a message
///                       over --max-message-size, 422 for one that is not
///                       a message, 401 without the bearer token.
///     GET  /healthz     status and the model serving (its manifest SHA-256)
///     GET  /metrics     Prometheus text: requests by outcome, a latency
///                       histogram, verdicts by level and technique, reloads
///
/// With --resolver (or [dns] resolver in the org profile), SPF, DKIM,
/// DMARC and ARC are verified live for every message (the query's
/// client_ip, helo and mail_from are the SMTP envelope), and the answer's
/// `auth.source` is `live`; otherwise the org's trusted receivers'
/// Authentication-Results are read (`header`).
///
/// With --history STORE, every message is judged against the
/// organisation's sender history (what it knew before the message: a first
/// contact, a new network, a first payment request, …) and then learnt,
/// once --history-delay has passed (its time is the clock's when it is
/// judged). A failing store never fails a request: the message is judged
/// without history, the failure logged (at most once a minute) and counted
/// at /metrics (impostor_history_failures_total). See `impostor history
/// --help`.
///
/// Several organisations (a provider): --tenant DOMAIN=FILE (repeatable)
/// or --tenants DIR give each organisation its own org profile, chosen by
/// the envelope's rcpt: a recipient's domain, or a parent of it, names the
/// tenant (case-insensitive, IDNA-normalised); recipients no tenant serves
/// are judged under --org. Recipients of several tenants are judged once
/// per tenant and the most severe verdict is answered. The answer then
/// carries "tenant": the tenant that gave the verdict (absent when --org
/// did), and /healthz lists the tenants. Live verification (--resolver,
/// and --org's [dns] table and ARC sealers) and the sender history are
/// the gateway's, shared by every tenant; a tenant file's [dns] is unused.
///
/// Binds 127.0.0.1 unless --listen says otherwise. With --model DIR, the
/// model is reloaded on SIGHUP and when the directory's artifact changes;
/// the new one is verified first, and one that fails verification is
/// refused while the old one keeps serving.
///
/// Examples:
///
///     impostor serve --org org.toml --model models/default
///
///     curl --data-binary @message.eml 'http://127.0.0.1:8025/v1/scan?mail_from=a@example.com&client_ip=192.0.2.7'
#[derive(Args, Debug)]
pub struct ServeArgs {
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
    #[command(flatten)]
    fleet: crate::commands::model::FleetArgs,
    /// Serve the model repository DIR (`impostor model publish --to DIR`)
    /// read-only to gateways: GET /v1/model/current ({id, files}, with an
    /// ETag) and GET /v1/model/<id>/<file>; no token is asked for.
    #[arg(long, value_name = "DIR")]
    publish_dir: Option<PathBuf>,
    /// Address to listen on. Default: 127.0.0.1:8025.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Largest message accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 20 * 1024 * 1024)]
    max_message_size: usize,
    /// A file holding the bearer token /v1/scan requires (its first line).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Time limit of one scan, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    scan_timeout_ms: u64,
    /// Threads scoring messages (default: one per core).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// How often to look for a changed model directory, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    reload_poll_ms: u64,
    /// Append one JSON line per verdict to FILE: time (RFC 3339, UTC),
    /// sha256 (of the raw message), message_id, score, level, flagged,
    /// techniques, model (SHA-256 of the artifact's manifest.json). One
    /// write per line (O_APPEND): concurrent workers never interleave; a
    /// failed write is logged and never fails a verdict. See `impostor
    /// feedback`.
    #[arg(long, value_name = "FILE")]
    verdict_log: Option<PathBuf>,
    /// No log lines on standard error.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(mut args: ServeArgs) -> Result<ExitCode> {
    // --config fills what the flags left unset; then the defaults.
    let file = args.config.load()?;
    let a = &mut args;
    file.fill_shared(
        Section::Serve,
        &mut a.org,
        &mut a.model,
        &mut a.live,
        &mut a.history,
    );
    file.fill_gateway(
        Section::Serve,
        &mut a.tenants,
        &mut a.fleet,
        &mut a.verdict_log,
    );
    let listen = a
        .listen
        .or(file.serve.listen)
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8025)));
    let token = match &args.token_file {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the token file {}", path.display()))?;
            let token = text.lines().next().unwrap_or("").trim().to_string();
            if token.is_empty() {
                bail!(
                    "{}: the token file is empty; put the bearer token on its first line",
                    path.display()
                );
            }
            Some(token)
        }
    };
    if args.max_message_size == 0 {
        bail!("--max-message-size must be at least 1 byte");
    }
    // The model is verified before anything binds: a bad artifact exits 2.
    if args.model.model.is_none() {
        args.model.model = args.fleet.cached_model();
    }
    let engine = engine(&args.org, &args.model, &args.live, None)?;
    let (engine, history) = with_history(engine, &args.history, HistoryMode::Gateway)?;
    // Every tenant profile is checked before anything binds, like --org.
    let engine = engine.with_tenants(args.tenants.build(&args.org)?);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = args.workers.unwrap_or(cores).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        // Scans are CPU work: more threads than cores only queue.
        .max_blocking_threads(workers * 2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let config = HttpConfig {
        max_message_bytes: args.max_message_size,
        token,
        scan_timeout: Duration::from_millis(args.scan_timeout_ms.max(1)),
    };
    let service = Service::new(engine, config);
    if let Some(dir) = &args.publish_dir {
        service.host_models(dir.clone());
    }
    let follower = args.fleet.start(
        &service.shared_engine(),
        args.model.trusted_keys()?,
        "serve",
    )?;
    if let Some(f) = &follower {
        service.show_fleet(f.status());
    }
    if let Some(log) = crate::commands::feedback::open_verdict_log(args.verdict_log.as_deref())? {
        service.log_verdicts(log);
    }
    let quiet = args.quiet;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let local = listener.local_addr()?;
        if !quiet {
            let e = service.engine();
            eprintln!(
                "impostor serve: listening on http://{local} (model {}, manifest SHA-256 {})",
                e.model_dir()
                    .map_or("built in".into(), |d| d.display().to_string()),
                e.model_id()
            );
            eprintln!("impostor serve: {}", authentication_line(&e));
            if let Some(h) = e.history() {
                eprintln!("impostor serve: {}", history_line(h));
            }
            for line in tenant_lines(e.tenants()) {
                eprintln!("impostor serve: {line}");
            }
        }
        if let Some(f) = follower {
            tokio::spawn(impostor_serve::fleet::follow(
                service.shared_engine(),
                f,
                args.fleet.poll(),
                move |outcome| match outcome {
                    Ok(line) if !quiet => eprintln!("impostor serve: {line}"),
                    Ok(_) => {}
                    Err(line) => eprintln!("impostor serve: {line}"),
                },
            ));
        }
        let counted = service.clone();
        tokio::spawn(watch_model(
            service.shared_engine(),
            Duration::from_millis(args.reload_poll_ms.max(10)),
            move |outcome| {
                counted.count_reload(&outcome);
                if !quiet {
                    let (Ok(line) | Err(line)) = outcome;
                    eprintln!("impostor serve: {line}");
                }
            },
        ));
        axum::serve(listener, router(service))
            .with_graceful_shutdown(shutdown())
            .await
            .context("serving HTTP")
    })?;
    if let Some(h) = history {
        h.sync()
            .map_err(|e| anyhow!("writing the sender history at exit: {e}"))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
