//! The engine every front end shares: raw message + envelope → features
//! (impostor-features, under the org's Context) → Verdict (the Detector).

use crate::artifact::Artifact;
use crate::detector::Detector;
use crate::verdict::Verdict;
use impostor_features::{Context, Envelope, Extractor, ParseError};
use std::path::PathBuf;
use std::sync::Arc;

/// A Context and a verified model, ready to judge messages from any thread.
pub struct Engine {
    /// Shared with the engines that replace this one on a model reload.
    context: Arc<Context>,
    detector: Detector,
    /// Where the model came from (a directory, or None for the built-in one).
    model_dir: Option<PathBuf>,
    /// SHA-256 of the model's manifest.json.
    model_id: String,
}

impl Engine {
    pub fn new(context: Context, artifact: Artifact, model_dir: Option<PathBuf>) -> Engine {
        Engine {
            context: Arc::new(context),
            model_id: artifact.manifest_sha256,
            detector: Detector::new(artifact.model),
            model_dir,
        }
    }

    /// The same Context with another (verified) model: a hot reload.
    pub fn with_model(&self, artifact: Artifact) -> Engine {
        Engine {
            context: Arc::clone(&self.context),
            model_id: artifact.manifest_sha256,
            detector: Detector::new(artifact.model),
            model_dir: self.model_dir.clone(),
        }
    }

    /// The verdict on one message. An error is this message's alone: the
    /// caller reports it and goes on.
    pub fn scan(&self, bytes: &[u8], envelope: &Envelope) -> Result<Verdict, ParseError> {
        let (_, extraction) = Extractor::new(&self.context).extract_bytes(bytes, envelope)?;
        Ok(self.detector.verdict(&extraction))
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    pub fn context(&self) -> &Context {
        &self.context
    }

    /// SHA-256 of the model's manifest.json.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    pub fn model_dir(&self) -> Option<&PathBuf> {
        self.model_dir.as_ref()
    }
}
