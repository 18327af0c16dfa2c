//! Distributing models to a fleet: a model repository on disk, hosted
//! read-only over HTTP by `impostor serve`, and followed by gateways that
//! download, verify, canary-test and only then swap a new model in.
//!
//! ```text
//! REPO/current        the id serving now, then (second line, optional)
//!                     the id before it: what a rollback returns to
//! REPO/<id>/          one artifact, id = SHA-256 of its manifest.json
//! REPO/remote         (a gateway's cache only) the repository's last
//!                     answer acted on: `ID ETAG`
//!
//! GET /v1/model/current        {"id": ID, "files": [{"name", "size"}, …]},
//!                              ETag (If-None-Match: 304)
//! GET /v1/model/<id>/<file>    the file's bytes
//! ```
//!
//! A gateway's cache is a repository too: every model it accepted stays
//! under its id, `current` names the one serving, and `impostor model
//! rollback --cache DIR` points it back (a running gateway follows within
//! one poll, and keeps the rolled-back model until the repository names
//! another one).
//!
//! A new model is accepted only when every file downloads within the
//! limits ([`Limits`]), the artifact verifies (hashes, format, feature
//! schema), it is signed by a trusted key when the gateway has any, its
//! id is the one the repository named, and its canary
//! ([`impostor_model::canary`]) gives the recorded verdicts under the
//! gateway's Context. Otherwise it is refused, the reason logged and kept
//! for /metrics, and the old model keeps serving.
//!
//! What it deliberately does not do: speak TLS (plain `http://`; the
//! signature, not the transport, vouches for a model: give --trust-key),
//! authenticate clients, or delete old models (rollback needs them).

use crate::engine::SharedEngine;
use impostor_model::artifact::{self, Artifact, MANIFEST_FILE, SUMS_FILE};
use impostor_model::atomic::{self, StagedDir};
use impostor_model::canary::{self, Outcome};
use impostor_model::signing::{self, TrustedKeys, SIGNATURE_FILE};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The file naming a repository's current id (and the previous one).
pub const CURRENT_FILE: &str = "current";
/// A gateway cache's record of the repository's last answer acted on.
pub const REMOTE_FILE: &str = "remote";
/// Largest `current` / `remote` file or listing read.
const MAX_SMALL_BYTES: u64 = 64 * 1024;

/// What can go wrong with a repository or a download.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The artifact (or its signature, or its canary) was refused.
    #[error(transparent)]
    Model(#[from] impostor_model::ModelError),
    /// A repository file that cannot be read or written.
    #[error("model repository {path}: {problem}")]
    Repository {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong, in words.
        problem: String,
    },
    /// The model server could not be asked, or answered something else
    /// than a model.
    #[error("model server {url}: {problem}")]
    Remote {
        /// The URL asked.
        url: String,
        /// What went wrong, in words.
        problem: String,
    },
    /// The canary gave other verdicts than the recorded ones.
    #[error("model {id}: {outcome}; refused, the previous model keeps serving")]
    Canary {
        /// The refused model's id.
        id: String,
        /// What the canary found.
        outcome: Outcome,
    },
}

fn repo_error(path: &Path, problem: impl Into<String>) -> FleetError {
    FleetError::Repository {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

/// Whether `id` is a model id: 64 lower-case hex digits.
pub fn is_model_id(id: &str) -> bool {
    id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `name` may be an artifact file's name (no folders, not hidden).
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
}

fn read_small(path: &Path) -> Result<Option<String>, FleetError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(repo_error(path, format!("cannot read: {e}"))),
    };
    let mut text = String::new();
    file.take(MAX_SMALL_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| repo_error(path, format!("cannot read: {e}")))?;
    Ok(Some(text))
}

/// A repository's `current` file: the id serving, and the one before.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Current {
    /// The id serving now.
    pub id: String,
    /// The id before it, when there was one.
    pub previous: Option<String>,
}

/// The `current` file of `repo` (`None`: nothing published yet).
pub fn current(repo: &Path) -> Result<Option<Current>, FleetError> {
    let path = repo.join(CURRENT_FILE);
    let Some(text) = read_small(&path)? else {
        return Ok(None);
    };
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let id = lines.next().unwrap_or_default().to_string();
    let previous = lines.next().map(str::to_string);
    if !is_model_id(&id) || previous.as_deref().is_some_and(|p| !is_model_id(p)) {
        return Err(repo_error(
            &path,
            "is not one or two model ids (64 hex digits each); publish again with `impostor model publish`",
        ));
    }
    Ok(Some(Current { id, previous }))
}

/// Points `repo`'s `current` at `id` (which must be in the repository),
/// remembering the id it named before. Written atomically.
pub fn set_current(repo: &Path, id: &str) -> Result<Current, FleetError> {
    if !is_model_id(id) || !repo.join(id).is_dir() {
        return Err(repo_error(repo, format!("holds no model {id}")));
    }
    let before = current(repo)?;
    let next = match before {
        Some(c) if c.id == id => c,
        Some(c) => Current {
            id: id.to_string(),
            previous: Some(c.id),
        },
        None => Current {
            id: id.to_string(),
            previous: None,
        },
    };
    let mut text = format!("{}\n", next.id);
    if let Some(p) = &next.previous {
        let _ = writeln!(text, "{p}");
    }
    atomic::write_bytes(&repo.join(CURRENT_FILE), text.as_bytes())
        .map_err(impostor_model::ModelError::from)?;
    Ok(next)
}

/// Points `repo` back at the id before the current one (a second rollback
/// undoes the first). Returns the new current.
pub fn rollback(repo: &Path) -> Result<Current, FleetError> {
    let Some(now) = current(repo)? else {
        return Err(repo_error(repo, "has no current model to roll back from"));
    };
    let Some(previous) = now.previous else {
        return Err(repo_error(
            repo,
            format!("names no model before {}: nothing to roll back to", now.id),
        ));
    };
    set_current(repo, &previous)
}

/// The files of an artifact directory that travel with it: every file its
/// manifest lists, manifest.json, SHA256SUMS and the signature if any.
fn travelling_files(artifact: &Artifact) -> Vec<String> {
    let mut names: Vec<String> = artifact.manifest.files.keys().cloned().collect();
    names.push(MANIFEST_FILE.into());
    names.push(SUMS_FILE.into());
    if artifact.dir.join(SIGNATURE_FILE).is_file() {
        names.push(SIGNATURE_FILE.into());
    }
    names
}

/// Copies the verified (and, with `trust`, signature-checked) artifact in
/// `dir` into `repo/<id>` (whole or not at all; kept as is when already
/// there) and points `repo/current` at it. Older ids stay for rollback.
pub fn publish(dir: &Path, repo: &Path, trust: &TrustedKeys) -> Result<Current, FleetError> {
    let artifact = signing::load(dir, trust)?;
    let id = artifact.manifest_sha256.clone();
    let dest = repo.join(&id);
    if signing::load(&dest, trust).is_err() {
        let staged = StagedDir::beside(&dest).map_err(impostor_model::ModelError::from)?;
        for name in travelling_files(&artifact) {
            let bytes = std::fs::read(dir.join(&name))
                .map_err(|e| repo_error(&dir.join(&name), format!("cannot read: {e}")))?;
            staged
                .write(&name, &bytes)
                .map_err(impostor_model::ModelError::from)?;
        }
        // Checked again as copied, before it is renamed into place.
        signing::load(staged.path(), trust)?;
        staged
            .commit(&dest)
            .map_err(impostor_model::ModelError::from)?;
    }
    set_current(repo, &id)
}

/// One file of a model as the repository lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedFile {
    /// Its name in the artifact directory.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The answer to `GET /v1/model/current`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The current model's id.
    pub id: String,
    /// Its files.
    pub files: Vec<ListedFile>,
}

/// What `GET /v1/model/current` answers for `repo` (`None`: nothing
/// published): the listing as JSON bytes, and its ETag.
pub fn listing(repo: &Path) -> Result<Option<(Vec<u8>, String)>, FleetError> {
    let Some(now) = current(repo)? else {
        return Ok(None);
    };
    let dir = repo.join(&now.id);
    let mut files = Vec::new();
    let entries =
        std::fs::read_dir(&dir).map_err(|e| repo_error(&dir, format!("cannot list: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| repo_error(&dir, format!("cannot list: {e}")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = entry
            .metadata()
            .map_err(|e| repo_error(&dir, format!("cannot list: {e}")))?;
        if meta.is_file() && is_plain_name(&name) {
            files.push(ListedFile {
                name,
                size: meta.len(),
            });
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let body = serde_json::to_vec(&Listing { id: now.id, files })
        .map_err(|e| repo_error(repo, format!("cannot write the listing: {e}")))?;
    let etag = format!("\"{}\"", artifact::sha256_hex(&body));
    Ok(Some((body, etag)))
}

/// The path of `file` of model `id` in `repo`, when both names are valid
/// and it exists.
pub fn model_file(repo: &Path, id: &str, file: &str) -> Option<PathBuf> {
    if !is_model_id(id) || !is_plain_name(file) {
        return None;
    }
    let path = repo.join(id).join(file);
    path.is_file().then_some(path)
}

/// Models a gateway's cache keeps besides the current and previous one
/// (the most recently accepted): the disk a fleet of new models can take
/// is bounded.
pub const KEEP_IN_CACHE: usize = 3;

/// Removes from `repo` the models other than `now`'s two and the `keep`
/// most recently written; a failure to remove one is left for next time.
fn prune(repo: &Path, now: &Current, keep: usize) {
    let Ok(entries) = std::fs::read_dir(repo) else {
        return;
    };
    let mut others: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            is_model_id(&name) && name != now.id && now.previous.as_deref() != Some(name.as_str())
        })
        .filter_map(|e| {
            let when = e.metadata().and_then(|m| m.modified()).ok()?;
            Some((when, e.path()))
        })
        .collect();
    others.sort_by_key(|o| std::cmp::Reverse(o.0));
    for (_, dir) in others.into_iter().skip(keep) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Bounds on what a model server may make a gateway download: a hostile
/// server must not exhaust its memory or disk, or hold it forever.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest file.
    pub max_file_bytes: u64,
    /// Largest artifact (all files).
    pub max_total_bytes: u64,
    /// Most files in an artifact.
    pub max_files: usize,
    /// Time limit of one request (the listing, or one file), connect
    /// included.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 256 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
            max_files: 256,
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// How a gateway follows a model server.
#[derive(Clone, Debug)]
pub struct FollowConfig {
    /// The server's base URL (`http://HOST:PORT`), serving /v1/model/….
    pub url: String,
    /// The cache repository downloaded models are kept in.
    pub cache: PathBuf,
    /// Download bounds.
    pub limits: Limits,
}

/// Counts of checks by result, for /metrics.
#[derive(Clone, Debug, Default)]
struct Counters {
    not_modified: u64,
    unchanged: u64,
    swapped: u64,
    refused: u64,
    canary_failed: u64,
    failed: u64,
}

#[derive(Clone, Debug, Default)]
struct StatusInner {
    model_id: String,
    last_check: Option<SystemTime>,
    last_failure: Option<String>,
    counters: Counters,
}

/// What a follower has done, for /metrics.
#[derive(Debug, Default)]
pub struct FleetStatus(Mutex<StatusInner>);

/// Escapes a Prometheus label value.
fn label(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().take(300) {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

impl FleetStatus {
    fn with<T>(&self, f: impl FnOnce(&mut StatusInner) -> T) -> T {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// The last failure, if any (a refused model or an unreachable server).
    pub fn last_failure(&self) -> Option<String> {
        self.with(|s| s.last_failure.clone())
    }

    /// The Prometheus text of the follower's state.
    pub fn render(&self) -> String {
        let s = self.with(|s| s.clone());
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# HELP impostor_fleet_model_info The model serving, by id (SHA-256 of its manifest)."
        );
        let _ = writeln!(t, "# TYPE impostor_fleet_model_info gauge");
        let _ = writeln!(
            t,
            "impostor_fleet_model_info{{id=\"{}\"}} 1",
            label(&s.model_id)
        );
        let _ = writeln!(t, "# HELP impostor_fleet_last_check_timestamp_seconds When the model server was last asked (Unix time; 0: never).");
        let _ = writeln!(
            t,
            "# TYPE impostor_fleet_last_check_timestamp_seconds gauge"
        );
        let when = s
            .last_check
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let _ = writeln!(t, "impostor_fleet_last_check_timestamp_seconds {when}");
        let _ = writeln!(t, "# HELP impostor_fleet_last_failure_info The last refusal or failure (1 when there was one).");
        let _ = writeln!(t, "# TYPE impostor_fleet_last_failure_info gauge");
        match &s.last_failure {
            Some(f) => {
                let _ = writeln!(
                    t,
                    "impostor_fleet_last_failure_info{{reason=\"{}\"}} 1",
                    label(f)
                );
            }
            None => {
                let _ = writeln!(t, "impostor_fleet_last_failure_info{{reason=\"\"}} 0");
            }
        }
        let _ = writeln!(
            t,
            "# HELP impostor_fleet_checks_total Model server checks by result."
        );
        let _ = writeln!(t, "# TYPE impostor_fleet_checks_total counter");
        let c = &s.counters;
        for (result, n) in [
            ("not_modified", c.not_modified),
            ("unchanged", c.unchanged),
            ("swapped", c.swapped),
            ("refused", c.refused),
            ("canary_failed", c.canary_failed),
            ("failed", c.failed),
        ] {
            let _ = writeln!(t, "impostor_fleet_checks_total{{result=\"{result}\"}} {n}");
        }
        t
    }
}

/// What one check did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    /// The server answered 304 Not Modified.
    NotModified,
    /// Nothing new: the model named is the one serving.
    Unchanged,
    /// A new model was verified, passed its canary and now serves.
    Swapped(String),
}

/// A gateway following a model server.
pub struct Follower {
    config: FollowConfig,
    trust: TrustedKeys,
    agent: ureq::Agent,
    etag: Mutex<Option<String>>,
    status: Arc<FleetStatus>,
}

impl Follower {
    /// A follower of `config.url` accepting models signed by one of
    /// `trust` (none: unsigned models are accepted). Refuses a URL that is
    /// not `http://`.
    pub fn new(config: FollowConfig, trust: TrustedKeys) -> Result<Follower, FleetError> {
        let url = config.url.trim_end_matches('/').to_string();
        if !url.starts_with("http://") {
            return Err(FleetError::Remote {
                url,
                problem: "only http:// URLs are followed (the signature vouches for the model: give --trust-key)".into(),
            });
        }
        std::fs::create_dir_all(&config.cache)
            .map_err(|e| repo_error(&config.cache, format!("cannot create the cache: {e}")))?;
        let agent_config = ureq::Agent::config_builder()
            .timeout_global(Some(config.limits.request_timeout))
            .http_status_as_error(false)
            // Not through an HTTP_PROXY of the environment, nor elsewhere
            // by a redirect.
            .proxy(None)
            .max_redirects(0)
            .max_response_header_size(64 * 1024)
            .build();
        let etag = read_small(&config.cache.join(REMOTE_FILE))?
            .and_then(|t| t.split_once(' ').map(|(_, e)| e.trim().to_string()));
        Ok(Follower {
            config: FollowConfig { url, ..config },
            trust,
            agent: ureq::Agent::new_with_config(agent_config),
            etag: Mutex::new(etag),
            status: Arc::new(FleetStatus::default()),
        })
    }

    /// The follower's state, for /metrics.
    pub fn status(&self) -> Arc<FleetStatus> {
        Arc::clone(&self.status)
    }

    fn remote(&self, problem: impl Into<String>) -> FleetError {
        FleetError::Remote {
            url: self.config.url.clone(),
            problem: problem.into(),
        }
    }

    /// Loads model `id` from the cache, verified, signature-checked with
    /// the gateway's keys, and canary-tested under `engine`'s Context.
    fn accept(&self, dir: &Path, id: &str, engine: &SharedEngine) -> Result<Artifact, FleetError> {
        let artifact = signing::load(dir, &self.trust)?;
        if artifact.manifest_sha256 != id {
            return Err(self.remote(format!(
                "named model {id}, but the files downloaded are model {}",
                artifact.manifest_sha256
            )));
        }
        match canary::run(&artifact, engine.current().context())? {
            Outcome::Passed { .. } => Ok(artifact),
            outcome => Err(FleetError::Canary {
                id: id.to_string(),
                outcome,
            }),
        }
    }

    fn swap(&self, artifact: Artifact, engine: &SharedEngine) -> Result<String, FleetError> {
        let id = artifact.manifest_sha256.clone();
        let cache = &self.config.cache;
        let now = set_current(cache, &id)?;
        engine.replace(engine.current().with_model_in(artifact, cache.join(&id)));
        prune(cache, &now, KEEP_IN_CACHE);
        Ok(id)
    }

    /// Serves the cache's current model if it is not the one serving
    /// (after a restart, or `impostor model rollback --cache`).
    pub fn follow_cache(&self, engine: &SharedEngine) -> Result<Checked, FleetError> {
        let Some(now) = current(&self.config.cache)? else {
            return Ok(Checked::Unchanged);
        };
        if now.id == engine.current().model_id() {
            self.status.with(|s| s.model_id = now.id.clone());
            return Ok(Checked::Unchanged);
        }
        let artifact = self.accept(&self.config.cache.join(&now.id), &now.id, engine)?;
        let id = self.swap(artifact, engine)?;
        self.status.with(|s| s.model_id = id.clone());
        Ok(Checked::Swapped(id))
    }

    /// Asks the server for its current model (If-None-Match the last
    /// answer) and, when it names a new one, downloads, verifies,
    /// canary-tests and swaps it in.
    pub fn check_remote(&self, engine: &SharedEngine) -> Result<Checked, FleetError> {
        let url = format!("{}/v1/model/current", self.config.url);
        let mut request = self.agent.get(&url);
        let sent = self.etag.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(e) = &sent {
            request = request.header("If-None-Match", e);
        }
        let mut response = request
            .call()
            .map_err(|e| self.remote(format!("GET /v1/model/current: {e}")))?;
        match response.status().as_u16() {
            304 => return Ok(Checked::NotModified),
            200 => {}
            s => return Err(self.remote(format!("GET /v1/model/current answered {s}"))),
        }
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_SMALL_BYTES)
            .read_to_vec()
            .map_err(|e| self.remote(format!("reading /v1/model/current: {e}")))?;
        let listing: Listing = serde_json::from_slice(&body)
            .map_err(|e| self.remote(format!("/v1/model/current is not a model listing: {e}")))?;
        // Whatever comes of it, this answer has been acted on: a refused
        // model is not downloaded again until the server names another.
        let remember = |this: &Follower| -> Result<(), FleetError> {
            *this.etag.lock().unwrap_or_else(|p| p.into_inner()) = etag.clone();
            let line = format!("{} {}\n", listing.id, etag.clone().unwrap_or_default());
            atomic::write_bytes(&this.config.cache.join(REMOTE_FILE), line.as_bytes())
                .map_err(impostor_model::ModelError::from)?;
            Ok(())
        };
        if !is_model_id(&listing.id) {
            return Err(self.remote(format!("names {:?}, which is not a model id", listing.id)));
        }
        if listing.id == engine.current().model_id() {
            remember(self)?;
            return Ok(Checked::Unchanged);
        }
        let dir = self.config.cache.join(&listing.id);
        let verdict = if signing::load(&dir, &self.trust).is_ok() {
            self.accept(&dir, &listing.id, engine)
        } else {
            let staged = self.download(&listing)?;
            match self.accept(staged.path(), &listing.id, engine) {
                Ok(_) => {
                    staged
                        .commit(&dir)
                        .map_err(impostor_model::ModelError::from)?;
                    // The artifact as it now lies in the cache.
                    self.accept(&dir, &listing.id, engine)
                }
                Err(e) => Err(e),
            }
        };
        let artifact = match verdict {
            Ok(a) => a,
            Err(e) => {
                if !matches!(e, FleetError::Remote { .. }) {
                    remember(self)?;
                }
                return Err(e);
            }
        };
        let id = self.swap(artifact, engine)?;
        remember(self)?;
        self.status.with(|s| s.model_id = id.clone());
        Ok(Checked::Swapped(id))
    }

    /// Downloads every listed file into a hidden directory of the cache,
    /// within the limits.
    fn download(&self, listing: &Listing) -> Result<StagedDir, FleetError> {
        let limits = &self.config.limits;
        if listing.files.len() > limits.max_files {
            return Err(self.remote(format!(
                "lists {} files, more than the {} an artifact may hold",
                listing.files.len(),
                limits.max_files
            )));
        }
        let staged = StagedDir::beside(&self.config.cache.join(&listing.id))
            .map_err(impostor_model::ModelError::from)?;
        let mut total: u64 = 0;
        for f in &listing.files {
            if !is_plain_name(&f.name) {
                return Err(self.remote(format!("lists a file named {:?}", f.name)));
            }
            let url = format!("{}/v1/model/{}/{}", self.config.url, listing.id, f.name);
            let mut response = self
                .agent
                .get(&url)
                .call()
                .map_err(|e| self.remote(format!("GET {url}: {e}")))?;
            if response.status().as_u16() != 200 {
                return Err(self.remote(format!("GET {url} answered {}", response.status())));
            }
            let room = limits
                .max_file_bytes
                .min(limits.max_total_bytes.saturating_sub(total));
            let path = staged.path().join(&f.name);
            let mut out = std::fs::File::create(&path)
                .map_err(|e| repo_error(&path, format!("cannot write: {e}")))?;
            let mut reader = response.body_mut().with_config().limit(room).reader();
            let n = std::io::copy(&mut reader, &mut out).map_err(|e| {
                self.remote(format!(
                    "GET {url}: {e} (at most {room} bytes are accepted for this file)"
                ))
            })?;
            total += n;
        }
        Ok(staged)
    }

    /// One poll: the cache first (a local rollback), then the server.
    /// Every outcome is counted for /metrics.
    pub fn check(&self, engine: &SharedEngine) -> Result<Checked, FleetError> {
        let outcome = self.follow_cache(engine).and_then(|c| match c {
            Checked::Swapped(_) => Ok(c),
            Checked::Unchanged | Checked::NotModified => self.check_remote(engine),
        });
        self.status.with(|s| {
            s.last_check = Some(SystemTime::now());
            let c = &mut s.counters;
            match &outcome {
                Ok(Checked::NotModified) => c.not_modified += 1,
                Ok(Checked::Unchanged) => c.unchanged += 1,
                Ok(Checked::Swapped(_)) => c.swapped += 1,
                Err(FleetError::Canary { .. }) => c.canary_failed += 1,
                Err(FleetError::Model(_)) => c.refused += 1,
                Err(_) => c.failed += 1,
            }
            if let Err(e) = &outcome {
                s.last_failure = Some(e.to_string());
            }
            if s.model_id.is_empty() {
                s.model_id = engine.current().model_id().to_string();
            }
        });
        outcome
    }
}

/// Polls the server every `poll` (the first time at once), forever;
/// `report` hears of every swap and every failure (not of an unchanged
/// answer). Each check runs on the blocking pool.
pub async fn follow(
    engine: SharedEngine,
    follower: Arc<Follower>,
    poll: Duration,
    report: impl Fn(Result<String, String>) + Send + 'static,
) {
    loop {
        let (e, f) = (engine.clone(), Arc::clone(&follower));
        match tokio::task::spawn_blocking(move || f.check(&e)).await {
            Ok(Ok(Checked::Unchanged | Checked::NotModified)) => {}
            Ok(Ok(Checked::Swapped(id))) => report(Ok(format!(
                "model {id} from the model server verified, canary passed: now serving"
            ))),
            Ok(Err(e)) => report(Err(e.to_string())),
            Err(e) => report(Err(format!("model check failed: {e}"))),
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    /// A copy of the built-in artifact in `dir`.
    fn artifact_copy(dir: &Path) -> String {
        let a = artifact::builtin().unwrap();
        let files: Vec<(String, Vec<u8>)> = a
            .manifest
            .files
            .keys()
            .map(|n| (n.clone(), artifact::read_file(&a, n).unwrap()))
            .collect();
        artifact::write(dir, a.manifest.clone(), &files).unwrap();
        artifact::load(dir).unwrap().manifest_sha256
    }

    #[test]
    fn publishing_names_the_model_current_and_rollback_returns_to_the_one_before() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let id = artifact_copy(&tmp.path().join("a"));
        let now = publish(&tmp.path().join("a"), &repo, &TrustedKeys::none()).unwrap();
        assert_eq!(
            now,
            Current {
                id: id.clone(),
                previous: None
            }
        );
        assert!(rollback(&repo).is_err(), "nothing before the first");
        let (body, etag) = listing(&repo).unwrap().unwrap();
        let l: Listing = serde_json::from_slice(&body).unwrap();
        assert_eq!(l.id, id);
        assert!(etag.starts_with('"') && etag.len() == 66);
        let b = tmp.path().join("b");
        artifact_copy(&b);
        let id_b = artifact::rewrite_files(&b, &b, &|_| true, &[("NOTES".into(), b"x".to_vec())])
            .unwrap()
            .manifest_sha256;
        publish(&b, &repo, &TrustedKeys::none()).unwrap();
        assert_eq!(rollback(&repo).unwrap().id, id);
        assert_eq!(
            rollback(&repo).unwrap().id,
            id_b,
            "a second rollback undoes the first"
        );
        assert!(repo.join(&id).is_dir() && repo.join(&id_b).is_dir());
        assert!(model_file(&repo, &id, "manifest.json").is_some());
        assert!(model_file(&repo, &id, "../current").is_none());
        assert!(model_file(&repo, "../repo", "current").is_none());
    }

    #[test]
    fn a_cache_keeps_the_current_and_previous_models_and_a_few_more() {
        let tmp = tempfile::tempdir().unwrap();
        let ids: Vec<String> = (0..7).map(|i| format!("{i}").repeat(64)).collect();
        for id in &ids {
            std::fs::create_dir(tmp.path().join(id)).unwrap();
        }
        let now = Current {
            id: ids[0].clone(),
            previous: Some(ids[1].clone()),
        };
        prune(tmp.path(), &now, 3);
        let left = std::fs::read_dir(tmp.path()).unwrap().count();
        assert_eq!(left, 5);
        assert!(tmp.path().join(&ids[0]).is_dir() && tmp.path().join(&ids[1]).is_dir());
    }

    /// A server answering every request with `listing` for /current and
    /// `file` otherwise, on loopback; its base URL.
    fn hostile_server(listing: String, file: Vec<u8>) -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                let body = if req.contains("/v1/model/current") {
                    listing.clone().into_bytes()
                } else {
                    file.clone()
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
            }
        });
        url
    }

    #[test]
    fn a_file_larger_than_the_limit_is_refused_and_nothing_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let id = "a".repeat(64);
        let listing =
            format!("{{\"id\":\"{id}\",\"files\":[{{\"name\":\"manifest.json\",\"size\":1}}]}}");
        let url = hostile_server(listing, vec![b'x'; 10_000]);
        let cache = tmp.path().join("cache");
        let follower = Follower::new(
            FollowConfig {
                url,
                cache: cache.clone(),
                limits: Limits {
                    max_file_bytes: 1_000,
                    ..Limits::default()
                },
            },
            TrustedKeys::none(),
        )
        .unwrap();
        let a = artifact::builtin().unwrap();
        let ctx = impostor_features::Context::builder(
            impostor_features::OrgProfile::from_toml(
                include_str!("../../../datasets/orgs/kestrel-foods.toml"),
                Path::new("kestrel-foods.toml"),
            )
            .unwrap(),
        )
        .build()
        .unwrap();
        let engine = SharedEngine::new(crate::Engine::new(ctx, a.clone(), None));
        let e = follower.check(&engine).unwrap_err();
        assert!(e.to_string().contains("at most 1000 bytes"), "{e}");
        assert_eq!(engine.current().model_id(), a.manifest_sha256);
        let left: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        assert!(follower.status().render().contains("result=\"failed\"} 1"));
    }
}
