//! What the gateway commands (scan, serve, milter) share: the model option,
//! live authentication, and building the Engine.

use crate::org::OrgArgs;
use anyhow::{anyhow, Context as _, Result};
use clap::Args;
use impostor_auth::{parse_resolver, Verifier, VerifierConfig};
use impostor_features::Envelope;
use impostor_model::artifact;
use impostor_model::signing::{self, TrustedKeys};
use impostor_serve::Engine;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// The model option of the gateway commands.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model artifact directory (written by `impostor train`). Default: the
    /// copy of models/default built into this binary. An artifact that fails
    /// verification (a changed byte, another feature schema, another format
    /// version) is refused with exit status 2.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Accept only a model artifact signed by this key: PUB is the public
    /// key file that `impostor keys new --out PREFIX` wrote (PREFIX.pub).
    /// Give it more than once to rotate keys: any one trusted key suffices.
    /// An unsigned artifact (the built-in model too), one signed by another
    /// key, or one with any file changed after signing is refused with exit
    /// status 2, naming the file and the key; a gateway keeps its old model
    /// when a reloaded one is refused. Sign with `impostor model sign DIR
    /// --key PREFIX.key`, or `impostor train … --sign PREFIX.key`.
    #[arg(long = "trust-key", value_name = "PUB")]
    pub trust_keys: Vec<PathBuf>,
}

impl ModelArgs {
    /// The keys of --trust-key (empty: signatures are not asked for).
    pub fn trusted_keys(&self) -> Result<TrustedKeys> {
        TrustedKeys::read(&self.trust_keys).map_err(|e| anyhow!("--trust-key: {e}"))
    }

    /// Loads and verifies the artifact (and its signature, with --trust-key).
    pub fn load(&self) -> Result<artifact::Artifact> {
        self.load_trusted(&self.trusted_keys()?)
    }

    /// Loads and verifies the artifact, signed by one of `trust` unless
    /// it is empty.
    pub fn load_trusted(&self, trust: &TrustedKeys) -> Result<artifact::Artifact> {
        match &self.model {
            Some(dir) => signing::load(dir, trust).map_err(|e| anyhow!("{e}")),
            None => signing::builtin(trust).map_err(|e| anyhow!("{e}")),
        }
    }
}

/// Live authentication: SPF, DKIM, DMARC and ARC verified over DNS before
/// the features are read.
#[derive(Args, Debug, Clone, Default)]
pub struct LiveArgs {
    /// Verify SPF, DKIM, DMARC and ARC live, asking only this DNS server
    /// (IP:PORT, or an IP for port 53; a recursive resolver, or one
    /// authoritative for the zones asked). Default: the org profile's
    /// [dns] resolver. Without either, the verdicts that the org's trusted
    /// receivers wrote into Authentication-Results are read instead. A DNS
    /// failure is a temperror (unknown), never a fail.
    #[arg(long, value_name = "IP:PORT")]
    pub resolver: Option<String>,
}

impl LiveArgs {
    /// The verifier these options and the org profile ask for; `None`
    /// when no resolver is named (header mode).
    pub fn verifier(&self, org: &OrgArgs, authserv_id: Option<&str>) -> Result<Option<Verifier>> {
        let profile = org.profile()?;
        let dns = profile
            .dns_settings()
            .map_err(|e| anyhow!("{e}; fix the [dns] table of the org profile"))?;
        let cli = self
            .resolver
            .as_deref()
            .map(parse_resolver)
            .transpose()
            .context("--resolver")?;
        let config =
            VerifierConfig::from_settings(&dns, cli, &profile.trusted_arc_sealers, authserv_id)
                .context("setting up live authentication")?;
        config
            .map(|c| Verifier::new(c).context("starting the DNS resolver of live authentication"))
            .transpose()
    }
}

/// One line for the gateway's start: where authentication comes from, so
/// an operator sees at once whether mail is verified live.
pub fn authentication_line(engine: &Engine) -> String {
    match engine.verifier() {
        Some(v) => format!(
            "SPF, DKIM, DMARC and ARC verified live through the resolver at {}",
            v.config().resolver
        ),
        None => "no resolver: authentication is read from the trusted receivers' headers; give --resolver (or [dns] resolver in the org profile) to verify SPF, DKIM, DMARC and ARC live".into(),
    }
}

/// The SMTP envelope of messages read from files, for live SPF.
#[derive(Args, Debug, Clone, Default)]
pub struct FileEnvelopeArgs {
    /// The SMTP client's IP address for live SPF (with --resolver).
    /// Default: the address the boundary hop's Received header recorded
    /// (the first host outside the organisation).
    #[arg(long, value_name = "IP")]
    pub client_ip: Option<IpAddr>,
    /// The name the client gave in HELO/EHLO. Default: the boundary hop's.
    #[arg(long, value_name = "NAME")]
    pub helo: Option<String>,
    /// The SMTP MAIL FROM address. Default: the topmost Return-Path.
    #[arg(long, value_name = "ADDRESS")]
    pub mail_from: Option<String>,
}

impl FileEnvelopeArgs {
    /// The envelope of one message read from a file.
    pub fn envelope(&self, mbox_sender: Option<String>) -> Envelope {
        Envelope {
            mail_from: self.mail_from.clone(),
            client_ip: self.client_ip,
            helo: self.helo.clone(),
            mbox_sender,
            ..Envelope::default()
        }
    }
}

/// The org's Context and the verified model, as one Engine; verifying live
/// when a resolver is named.
pub fn engine(
    org: &OrgArgs,
    model: &ModelArgs,
    live: &LiveArgs,
    authserv_id: Option<&str>,
) -> Result<Engine> {
    let trust = model.trusted_keys()?;
    let artifact = model.load_trusted(&trust)?;
    let engine = Engine::new(org.build()?, artifact, model.model.clone()).with_trusted_keys(trust);
    Ok(match live.verifier(org, authserv_id)? {
        Some(v) => engine.with_verifier(Arc::new(v)),
        None => engine,
    })
}

/// `engine` judging against the sender history --history names (none:
/// unchanged), in `mode`; the history too, for the caller to sync and
/// report.
pub fn with_history(
    engine: Engine,
    history: &crate::commands::history::HistoryArgs,
    mode: impostor_serve::HistoryMode,
) -> Result<(Engine, Option<Arc<impostor_history::History>>)> {
    Ok(match history.open()? {
        Some(h) => (engine.with_history(Arc::clone(&h), mode), Some(h)),
        None => (engine, None),
    })
}
