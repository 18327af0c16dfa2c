//! `impostor model`: sign a model artifact, verify its signature, give it
//! a canary, publish it to a model repository and roll one back; and the
//! fleet options of the gateways (`--model-url`).

use crate::org::OrgArgs;
use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, Subcommand};
use impostor_model::artifact;
use impostor_model::canary;
use impostor_model::signing::{self, SecretKey, SignedStage, TrustedKeys};
use impostor_serve::fleet::{self, FollowConfig, Follower, Limits};
use impostor_serve::SharedEngine;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Sign model artifacts, check their signatures, give them a canary, and
/// distribute them to a fleet of gateways.
///
/// The signature (DIR/manifest.json.sig) is Ed25519 over the exact bytes
/// of DIR/manifest.json, which holds the SHA-256 of every other file: it
/// covers the whole artifact. Make keys with `impostor keys new`.
///
/// Examples:
///
///     impostor model sign models/mine --key keys/models.key
///
///     impostor model verify models/mine --trust-key keys/models.pub
///
///     impostor model canary models/mine --add canary/ --labels canary/labels.tsv --key keys/models.key
///
///     impostor model publish models/mine --to /srv/models --trust-key keys/models.pub
///
///     impostor model rollback --to /srv/models
#[derive(Args, Debug)]
pub struct ModelCommandArgs {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Subcommand, Debug)]
enum ModelCommand {
    Sign(SignArgs),
    Verify(VerifyArgs),
    Canary(Box<CanaryArgs>),
    Publish(PublishArgs),
    Rollback(RollbackArgs),
}

/// Give an artifact a canary: labelled messages, shipped inside it with
/// the verdict (level, score) its model gives each now.
///
/// A gateway following a model server (--model-url) scores the canary
/// again with the new model, under its own org profile, before serving
/// it: the model is refused unless every message gets its recorded level
/// and a score within the tolerance of the recorded one. Make the canary
/// with the org profile (--org) the gateways use.
///
/// Writes DIR/canary.json and DIR/canary-NNN.eml (replacing an earlier
/// canary), and rewrites manifest.json and SHA256SUMS to cover them,
/// atomically. The manifest changes, so a signature must be redone: a
/// signed DIR is refused unless --key is given, and is then signed again
/// before it is renamed into place (it is never left with a stale
/// signature).
#[derive(Args, Debug)]
struct CanaryArgs {
    /// The model artifact's directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Messages for the canary: files, or directories whose .eml files
    /// are taken in name order (not recursively). Repeatable.
    #[arg(long, value_name = "PATH", required = true, num_args = 1..)]
    add: Vec<PathBuf>,
    /// Labels: `NAME<TAB>LABEL` lines (NAME the message's file name or
    /// path as given; `#` comments). Messages not listed are `unlabelled`.
    #[arg(long, value_name = "TSV")]
    labels: Option<PathBuf>,
    /// Largest accepted difference of a score from the recorded one.
    #[arg(long, value_name = "X", default_value_t = canary::DEFAULT_TOLERANCE)]
    tolerance: f64,
    /// Sign the rewritten artifact with this secret key (required when DIR
    /// is signed).
    #[arg(long, value_name = "KEY")]
    key: Option<PathBuf>,
    #[command(flatten)]
    org: OrgArgs,
}

/// Publish an artifact to a model repository: copies it (verified; with
/// --trust-key, signed by a trusted key) whole to DEST/<id>/ (id: the
/// SHA-256 of its manifest.json) and points DEST/current at it. Older
/// ids stay for `impostor model rollback`. `impostor serve --publish-dir
/// DEST` serves the repository to gateways (--model-url).
#[derive(Args, Debug)]
struct PublishArgs {
    /// The model artifact's directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The model repository (created if missing).
    #[arg(long = "to", value_name = "DEST")]
    to: PathBuf,
    /// Publish only an artifact signed by this key (PREFIX.pub);
    /// repeatable: any one suffices.
    #[arg(long = "trust-key", value_name = "PUB")]
    trust_keys: Vec<PathBuf>,
}

/// Point a model repository, or a gateway's cache, back at the model
/// before the current one (a second rollback undoes the first).
///
/// With --to, gateways following the repository swap back within one
/// poll (the model is verified and canary-tested again). With --cache, a
/// running gateway using that cache swaps back within one poll and keeps
/// the older model until the repository names a new one.
#[derive(Args, Debug)]
struct RollbackArgs {
    /// A model repository (what `impostor model publish --to` wrote).
    #[arg(
        long = "to",
        value_name = "DEST",
        required_unless_present = "cache",
        conflicts_with = "cache"
    )]
    to: Option<PathBuf>,
    /// A gateway's --model-cache.
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
}

/// Following a model server: the gateway options (serve, milter).
#[derive(Args, Debug, Clone, Default)]
pub struct FleetArgs {
    /// Follow the model repository that `impostor serve --publish-dir`
    /// serves at URL (http://HOST:PORT). Every --model-poll-secs the
    /// gateway asks for the current model (If-None-Match); a new one is
    /// downloaded into --model-cache (bounded: 256 MiB a file, 1 GiB and
    /// 256 files a model, 60 s a request), verified (hashes, format,
    /// feature schema; signed by a --trust-key key when any is given),
    /// canary-tested under this gateway's org profile (see `impostor model
    /// canary`; a model without a canary is refused) and only then
    /// swapped in. A refused model is logged, shown at /metrics
    /// (impostor_fleet_*), and the old one keeps serving.
    #[arg(long, value_name = "URL", requires = "model_cache")]
    pub model_url: Option<String>,
    /// How often to ask the model server, in seconds.
    /// [default: 60]
    #[arg(long, value_name = "SECS")]
    pub model_poll_secs: Option<u64>,
    /// Where downloaded models are kept (a model repository: every model
    /// accepted under its id, DIR/current naming the one serving; see
    /// `impostor model rollback --cache`). At start, the cache's current
    /// model serves (verified and canary-tested again) before the server
    /// is first asked; without --model the gateway starts from it (the
    /// built-in model is unsigned, so with --trust-key it cannot serve).
    #[arg(long, value_name = "DIR", requires = "model_url")]
    pub model_cache: Option<PathBuf>,
}

impl FleetArgs {
    /// The follower these options ask for (none without --model-url),
    /// after swapping in the cache's current model, if any.
    pub fn start(
        &self,
        engine: &SharedEngine,
        trust: TrustedKeys,
        log: &str,
    ) -> Result<Option<Arc<Follower>>> {
        let (Some(url), Some(cache)) = (&self.model_url, &self.model_cache) else {
            return Ok(None);
        };
        let config = FollowConfig {
            url: url.clone(),
            cache: cache.clone(),
            limits: Limits::default(),
        };
        let follower = Follower::new(config, trust).map_err(|e| anyhow!("--model-url: {e}"))?;
        match follower.follow_cache(engine) {
            Ok(fleet::Checked::Swapped(id)) => {
                eprintln!("impostor {log}: serving model {id} from the cache {}", cache.display())
            }
            Ok(_) => {}
            Err(e) => eprintln!(
                "impostor {log}: the cache's current model is refused ({e}); serving the model given at start"
            ),
        }
        Ok(Some(Arc::new(follower)))
    }

    /// Without --model: the cache's current model, so a gateway that
    /// trusts keys (and refuses the unsigned built-in model) can start from
    /// what it last accepted. `None` when there is no cache or it is empty.
    pub fn cached_model(&self) -> Option<PathBuf> {
        let cache = self.model_cache.as_ref()?;
        let now = fleet::current(cache).ok().flatten()?;
        Some(cache.join(now.id))
    }

    /// The poll interval.
    pub fn poll(&self) -> Duration {
        Duration::from_secs(self.model_poll_secs.unwrap_or(60).max(1))
    }
}

/// Largest canary message read.
const MAX_CANARY_MESSAGE: u64 = 10 * 1024 * 1024;

/// The messages of --add, with their labels.
fn canary_messages(a: &CanaryArgs) -> Result<Vec<(String, Vec<u8>)>> {
    let mut labels = std::collections::HashMap::new();
    if let Some(tsv) = &a.labels {
        let text =
            std::fs::read_to_string(tsv).with_context(|| format!("--labels {}", tsv.display()))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, label)) = line.split_once('\t') else {
                bail!(
                    "--labels {} line {}: expected NAME<TAB>LABEL",
                    tsv.display(),
                    n + 1
                );
            };
            labels.insert(name.trim().to_string(), label.trim().to_string());
        }
    }
    let mut paths = Vec::new();
    for p in &a.add {
        if p.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("--add {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "eml"))
                .collect();
            inside.sort();
            paths.extend(inside);
        } else {
            paths.push(p.clone());
        }
    }
    let mut messages = Vec::new();
    for path in paths {
        use std::io::Read as _;
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_CANARY_MESSAGE + 1).read_to_end(&mut bytes))
            .with_context(|| format!("--add: reading {}", path.display()))?;
        if bytes.len() as u64 > MAX_CANARY_MESSAGE {
            bail!(
                "--add: {} is larger than {MAX_CANARY_MESSAGE} bytes",
                path.display()
            );
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let label = labels
            .get(&name)
            .or_else(|| labels.get(&path.display().to_string()))
            .cloned()
            .unwrap_or_else(|| "unlabelled".into());
        messages.push((label, bytes));
    }
    Ok(messages)
}

fn make_canary(a: CanaryArgs) -> Result<ExitCode> {
    let signed = a.dir.join(signing::SIGNATURE_FILE).is_file();
    let key = match &a.key {
        Some(k) => Some(SecretKey::read(k).map_err(|e| anyhow!("--key: {e}"))?),
        None if signed => bail!(
            "{} is signed; adding a canary changes its manifest, so the signature must be redone: give --key with the secret key (or delete {} to leave it unsigned)",
            a.dir.display(),
            signing::SIGNATURE_FILE
        ),
        None => None,
    };
    let context = a.org.build()?;
    let model = artifact::load(&a.dir).map_err(|e| anyhow!("{e}"))?;
    let messages = canary_messages(&a)?;
    let (record, files) =
        canary::make(&model, &context, &messages, a.tolerance).map_err(|e| anyhow!("{e}"))?;
    let keep = |name: &str| !canary::is_canary_file(name);
    let written = match &key {
        Some(key) => {
            let stage = SignedStage::beside(&a.dir).map_err(|e| anyhow!("{e}"))?;
            artifact::rewrite_files(&a.dir, stage.dir(), &keep, &files)
                .map_err(|e| anyhow!("{e}"))?;
            stage.commit(key).map_err(|e| anyhow!("{e}"))?;
            artifact::load(&a.dir).map_err(|e| anyhow!("{e}"))?
        }
        None => {
            artifact::rewrite_files(&a.dir, &a.dir, &keep, &files).map_err(|e| anyhow!("{e}"))?
        }
    };
    for m in &record.messages {
        println!(
            "{}\t{}\t{}\t{:.4}",
            m.file,
            m.label,
            m.level.as_str(),
            m.score
        );
    }
    println!(
        "canary of {} messages written into {} (score tolerance {}); model id now {}{}",
        record.messages.len(),
        a.dir.display(),
        record.score_tolerance,
        written.manifest_sha256,
        if key.is_some() { ", signed again" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}

fn show(repo: &Path, c: &fleet::Current) {
    println!(
        "{}: current model {}{}",
        repo.display(),
        c.id,
        c.previous
            .as_deref()
            .map_or(String::new(), |p| format!(" (previous {p})"))
    );
}

/// Sign an artifact: writes DIR/manifest.json.sig (replacing an earlier
/// signature) and touches no other file.
///
/// The artifact is verified first (every file against SHA256SUMS and the
/// manifest, no file the manifest does not list): a changed artifact is
/// not signed. A gateway watching DIR reloads it once signed.
#[derive(Args, Debug)]
struct SignArgs {
    /// The model artifact's directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The secret key (PREFIX.key of `impostor keys new`).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
}

/// Verify an artifact and its signature by a trusted key, as scan, serve
/// and milter do with --trust-key.
///
/// Exit status 0 when the artifact verifies and is signed by one of the
/// trusted keys; 2 otherwise, with what failed (the file and the key).
#[derive(Args, Debug)]
struct VerifyArgs {
    /// The model artifact's directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// A public key to trust (PREFIX.pub); repeatable: any one suffices.
    #[arg(long = "trust-key", value_name = "PUB", required = true)]
    trust_keys: Vec<PathBuf>,
}

pub fn run(args: ModelCommandArgs) -> Result<ExitCode> {
    match args.command {
        ModelCommand::Sign(a) => {
            let key = SecretKey::read(&a.key).map_err(|e| anyhow!("--key: {e}"))?;
            let file = signing::sign(&a.dir, &key).map_err(|e| anyhow!("{e}"))?;
            println!(
                "signed {} with key {} ({})",
                a.dir.join(signing::SIGNATURE_FILE).display(),
                file.key_id,
                a.key.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Verify(a) => {
            let trust =
                TrustedKeys::read(&a.trust_keys).map_err(|e| anyhow!("--trust-key: {e}"))?;
            let signed = signing::load_signed(&a.dir, &trust).map_err(|e| anyhow!("{e}"))?;
            println!(
                "{}: verified, signed by trusted key {}; manifest SHA-256 {}",
                a.dir.display(),
                signed.key,
                signed.artifact.manifest_sha256
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Canary(a) => make_canary(*a),
        ModelCommand::Publish(a) => {
            let trust =
                TrustedKeys::read(&a.trust_keys).map_err(|e| anyhow!("--trust-key: {e}"))?;
            let now = fleet::publish(&a.dir, &a.to, &trust).map_err(|e| anyhow!("{e}"))?;
            show(&a.to, &now);
            if !a.dir.join(canary::CANARY_FILE).is_file() {
                eprintln!(
                    "impostor model publish: warning: {} has no canary; gateways following the repository refuse it (add one with `impostor model canary`)",
                    a.dir.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Rollback(a) => {
            let repo = a.to.or(a.cache).unwrap_or_default();
            let now = fleet::rollback(&repo).map_err(|e| anyhow!("{e}"))?;
            show(&repo, &now);
            Ok(ExitCode::SUCCESS)
        }
    }
}
