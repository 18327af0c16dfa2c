//! `--config FILE` of `impostor serve` and `impostor milter`: one TOML
//! file (the packages install /etc/impostor/impostor.toml) for what the
//! systemd units would otherwise spell as flags.
//!
//! The file only fills options the command line left unset: a flag always
//! wins. Unknown keys are errors naming the file and the key (a misspelt
//! `reject_at` must not silently leave the default policy in force).
//! Relative paths are read from the file's directory. Parsing lives here,
//! in the CLI, because the file names CLI options; impostor-serve takes
//! the resulting values, never the file.

use crate::commands::history::HistoryArgs;
use crate::commands::model::FleetArgs;
use crate::gateway::{LiveArgs, ModelArgs};
use crate::org::{OrgArgs, TenantArgs};
use anyhow::{anyhow, Context as _, Result};
use clap::Args;
use impostor_serve::milter::parse_threshold;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The `--config` option of serve and milter.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// Read settings from this TOML file (the packages' units give
    /// /etc/impostor/impostor.toml): org, model, trust_keys, resolver,
    /// history at the top; listen (and history) under [serve]; listen,
    /// authserv_id, tag_level, quarantine_at, reject_at, on_error,
    /// on_internal_error, dmarc_policy (and history) under [milter]. A flag
    /// given on the command line wins over the file; an unknown key is an
    /// error (exit status 2); relative paths are read from the file's
    /// directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ConfigArgs {
    /// The file --config names, read and checked; the empty configuration
    /// without one.
    pub fn load(&self) -> Result<ConfigFile> {
        match &self.config {
            None => Ok(ConfigFile::default()),
            Some(path) => ConfigFile::load(path),
        }
    }
}

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The org profile (`--org`).
    pub org: Option<PathBuf>,
    /// The model artifact directory (`--model`).
    pub model: Option<PathBuf>,
    /// Public keys a model's signature may be made with (`--trust-key`,
    /// repeatable there).
    #[serde(default)]
    pub trust_keys: Vec<PathBuf>,
    /// The DNS server of live verification (`--resolver`).
    pub resolver: Option<String>,
    /// The sender-history store (`--history`) of both commands, unless
    /// their own table names one.
    pub history: Option<String>,
    /// A directory of tenant profiles (`--tenants DIR`).
    pub tenants: Option<PathBuf>,
    /// Following a model repository (`--model-url` and the rest).
    #[serde(default)]
    pub fleet: FleetSection,
    /// `impostor serve`'s settings.
    #[serde(default)]
    pub serve: ServeSection,
    /// `impostor milter`'s settings.
    #[serde(default)]
    pub milter: MilterSection,
}

/// The `[serve]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeSection {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--history` for serve alone (an embedded store is one process's).
    pub history: Option<String>,
    /// `--verdict-log` for serve.
    pub verdict_log: Option<PathBuf>,
}

/// The `[fleet]` table: the model repository a gateway follows.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSection {
    /// `--model-url`.
    pub model_url: Option<String>,
    /// `--model-cache`.
    pub model_cache: Option<PathBuf>,
    /// `--model-poll-secs`.
    pub model_poll_secs: Option<u64>,
}

/// The `[milter]` table: where it listens and its policy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilterSection {
    /// `--listen` (HOST:PORT).
    pub listen: Option<String>,
    /// `--history` for the milter alone (an embedded store is one
    /// process's).
    pub history: Option<String>,
    /// `--authserv-id`.
    pub authserv_id: Option<String>,
    /// `--tag-level`: low, medium, high or off.
    pub tag_level: Option<String>,
    /// `--quarantine-at`: low, medium, high or off.
    pub quarantine_at: Option<String>,
    /// `--reject-at`: low, medium, high or off.
    pub reject_at: Option<String>,
    /// `--on-error`: accept, tempfail or reject.
    pub on_error: Option<String>,
    /// `--on-internal-error`: accept, tempfail or reject.
    pub on_internal_error: Option<String>,
    /// `--dmarc-policy`: honour or ignore.
    pub dmarc_policy: Option<String>,
    /// `--verdict-log` for the milter.
    pub verdict_log: Option<PathBuf>,
}

/// The file's settings name which command's table they come from.
#[derive(Debug, Clone, Copy)]
pub enum Section {
    /// `[serve]`.
    Serve,
    /// `[milter]`.
    Milter,
}

impl ConfigFile {
    /// Reads and checks the file at `path`; the error names the file and,
    /// for a bad key or value, the key.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "reading the configuration file {} (--config)",
                path.display()
            )
        })?;
        let mut file: ConfigFile = toml::from_str(&text).map_err(|e| {
            anyhow!(
                "{}: {} (see README, Packages and services, for the keys)",
                path.display(),
                e.to_string().trim_end()
            )
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        file.org.as_mut().map(resolve);
        file.model.as_mut().map(resolve);
        file.trust_keys.iter_mut().for_each(resolve);
        file.tenants.as_mut().map(resolve);
        file.fleet.model_cache.as_mut().map(resolve);
        file.serve.verdict_log.as_mut().map(resolve);
        file.milter.verdict_log.as_mut().map(resolve);
        if file.fleet.model_url.is_some() != file.fleet.model_cache.is_some() {
            return Err(anyhow!(
                "{}: [fleet] model_url and model_cache go together: name both, or neither",
                path.display()
            ));
        }
        let m = &file.milter;
        for (key, value) in [
            ("tag_level", &m.tag_level),
            ("quarantine_at", &m.quarantine_at),
            ("reject_at", &m.reject_at),
        ] {
            if let Some(v) = value {
                parse_threshold(v)
                    .map_err(|e| anyhow!("{}: [milter] {key}: {e}", path.display()))?;
            }
        }
        Ok(file)
    }

    /// Fills what the flags common to serve and milter left unset: the
    /// org profile, the model and its trusted keys, the resolver and the
    /// history store (`section`'s own, else the top-level one).
    pub fn fill_shared(
        &self,
        section: Section,
        org: &mut OrgArgs,
        model: &mut ModelArgs,
        live: &mut LiveArgs,
        history: &mut HistoryArgs,
    ) {
        fill(&mut org.org, &self.org);
        fill(&mut model.model, &self.model);
        fill_list(&mut model.trust_keys, &self.trust_keys);
        fill(&mut live.resolver, &self.resolver);
        let store = match section {
            Section::Serve => self.serve.history.as_ref(),
            Section::Milter => self.milter.history.as_ref(),
        }
        .or(self.history.as_ref());
        fill(&mut history.store, &store.cloned());
    }
}

impl ConfigFile {
    /// Fills the gateway flags serve and milter share beyond the model:
    /// the tenants' directory, the fleet (only when no --model-url is
    /// given, so a flag never pairs with the file's other half) and
    /// `section`'s verdict log.
    pub fn fill_gateway(
        &self,
        section: Section,
        tenants: &mut TenantArgs,
        fleet: &mut FleetArgs,
        verdict_log: &mut Option<PathBuf>,
    ) {
        fill(&mut tenants.tenants, &self.tenants);
        if fleet.model_url.is_none() {
            fill(&mut fleet.model_url, &self.fleet.model_url);
            fill(&mut fleet.model_cache, &self.fleet.model_cache);
        }
        fill(&mut fleet.model_poll_secs, &self.fleet.model_poll_secs);
        let log = match section {
            Section::Serve => &self.serve.verdict_log,
            Section::Milter => &self.milter.verdict_log,
        };
        fill(verdict_log, log);
    }
}

/// `flag` unless it is unset, then the file's value.
pub fn fill<T: Clone>(flag: &mut Option<T>, file: &Option<T>) {
    if flag.is_none() {
        flag.clone_from(file);
    }
}

/// A repeatable flag: the flags given, or (none given) the file's list.
pub fn fill_list<T: Clone>(flags: &mut Vec<T>, file: &[T]) {
    if flags.is_empty() {
        flags.extend_from_slice(file);
    }
}

/// A value the file gives as text for a clap value enum (on_error,
/// dmarc_policy): parsed like the flag, the error naming file and key.
pub fn value_enum<T: clap::ValueEnum>(
    config: &ConfigArgs,
    key: &str,
    value: Option<&str>,
) -> Result<Option<T>> {
    value
        .map(|v| {
            T::from_str(v, false).map_err(|_| {
                let choices: Vec<String> = T::value_variants()
                    .iter()
                    .filter_map(|c| c.to_possible_value().map(|p| p.get_name().to_string()))
                    .collect();
                anyhow!(
                    "{}: {key} = {v:?} is not one of {}",
                    config
                        .config
                        .as_deref()
                        .map_or("the configuration file".into(), |p| p.display().to_string()),
                    choices.join(", ")
                )
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("impostor.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_the_file_and_the_key() {
        let (_d, path) = write("[milter]\nrejectat = \"high\"\n");
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("rejectat"), "{err}");
    }

    #[test]
    fn the_fleet_tenants_and_verdict_log_come_from_the_file_unless_flags_name_them() {
        let (d, path) = write(
            "tenants = \"tenants\"\n[fleet]\nmodel_url = \"http://127.0.0.1:9\"\nmodel_cache = \"cache\"\nmodel_poll_secs = 5\n[milter]\nverdict_log = \"m.ndjson\"\n",
        );
        let file = ConfigFile::load(&path).unwrap();
        let (mut tenants, mut fleet, mut log) = (TenantArgs::default(), FleetArgs::default(), None);
        file.fill_gateway(Section::Milter, &mut tenants, &mut fleet, &mut log);
        assert_eq!(tenants.tenants, Some(d.path().join("tenants")));
        assert_eq!(fleet.model_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(fleet.model_cache, Some(d.path().join("cache")));
        assert_eq!(fleet.model_poll_secs, Some(5));
        assert_eq!(log, Some(d.path().join("m.ndjson")));
        // serve's table names no log; a --model-url flag keeps its own
        // cache rather than pairing with the file's.
        let mut fleet = FleetArgs {
            model_url: Some("http://10.0.0.1:1".into()),
            ..FleetArgs::default()
        };
        let mut log = None;
        file.fill_gateway(Section::Serve, &mut tenants, &mut fleet, &mut log);
        assert_eq!(log, None);
        assert_eq!(fleet.model_url.as_deref(), Some("http://10.0.0.1:1"));
        assert_eq!(fleet.model_cache, None);
    }

    #[test]
    fn a_fleet_table_with_a_url_and_no_cache_is_refused() {
        let (_d, path) = write("[fleet]\nmodel_url = \"http://127.0.0.1:9\"\n");
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("model_cache"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
    }

    #[test]
    fn relative_paths_are_read_from_the_files_directory() {
        let (d, path) =
            write("org = \"org.toml\"\nmodel = \"/abs/model\"\ntrust_keys = [\"k.pub\"]\n");
        let file = ConfigFile::load(&path).unwrap();
        assert_eq!(file.org, Some(d.path().join("org.toml")));
        assert_eq!(file.model, Some(PathBuf::from("/abs/model")));
        assert_eq!(file.trust_keys, vec![d.path().join("k.pub")]);
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_fills_the_rest() {
        let (_d, path) = write(
            "org = \"/etc/org.toml\"\nresolver = \"127.0.0.1:53\"\nhistory = \"memory:\"\ntrust_keys = [\"/k\"]\n[milter]\nhistory = \"/var/lib/impostor/milter.redb\"\n",
        );
        let file = ConfigFile::load(&path).unwrap();
        let mut org = OrgArgs {
            org: Some(PathBuf::from("/cli/org.toml")),
            ..OrgArgs::default()
        };
        let mut model = ModelArgs {
            model: None,
            trust_keys: Vec::new(),
        };
        let mut live = LiveArgs::default();
        let mut history = HistoryArgs::default();
        file.fill_shared(
            Section::Milter,
            &mut org,
            &mut model,
            &mut live,
            &mut history,
        );
        assert_eq!(org.org, Some(PathBuf::from("/cli/org.toml")));
        assert_eq!(live.resolver.as_deref(), Some("127.0.0.1:53"));
        assert_eq!(model.trust_keys, vec![PathBuf::from("/k")]);
        assert_eq!(
            history.store.as_deref(),
            Some("/var/lib/impostor/milter.redb")
        );
        let mut history = HistoryArgs::default();
        file.fill_shared(
            Section::Serve,
            &mut org,
            &mut model,
            &mut live,
            &mut history,
        );
        assert_eq!(history.store.as_deref(), Some("memory:"));
    }
}
