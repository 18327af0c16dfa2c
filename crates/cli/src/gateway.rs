//! What the gateway commands (scan, serve, milter) share: the model option
//! and building the Engine.

use crate::org::OrgArgs;
use anyhow::{anyhow, Result};
use clap::Args;
use impostor_model::artifact;
use impostor_serve::Engine;
use std::path::PathBuf;

/// The model option of the gateway commands.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model artifact directory (written by `impostor train`). Default: the
    /// copy of models/default built into this binary. An artifact that fails
    /// verification (a changed byte, another feature schema, another format
    /// version) is refused with exit status 2.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
}

impl ModelArgs {
    /// Loads and verifies the artifact.
    pub fn load(&self) -> Result<artifact::Artifact> {
        match &self.model {
            Some(dir) => artifact::load(dir).map_err(|e| anyhow!("{e}")),
            None => artifact::builtin().map_err(|e| anyhow!("{e}")),
        }
    }
}

/// The org's Context and the verified model, as one Engine.
pub fn engine(org: &OrgArgs, model: &ModelArgs) -> Result<Engine> {
    let artifact = model.load()?;
    Ok(Engine::new(org.build()?, artifact, model.model.clone()))
}
