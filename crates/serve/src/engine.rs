//! The engine every front end shares: raw message + envelope → features
//! (impostor-features, under the org's Context) → Verdict (the Detector).

use crate::artifact::Artifact;
use crate::detector::Detector;
use crate::verdict::Verdict;
use impostor_features::{Context, Envelope, Extractor, ParseError};
use std::path::PathBuf;

/// A Context and a verified model, ready to judge messages from any thread.
pub struct Engine {
    context: Context,
    detector: Detector,
    /// Where the model came from (a directory, or None for the built-in one).
    model_dir: Option<PathBuf>,
}

impl Engine {
    pub fn new(context: Context, artifact: Artifact, model_dir: Option<PathBuf>) -> Engine {
        Engine {
            context,
            detector: Detector::new(artifact.model),
            model_dir,
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

    pub fn model_dir(&self) -> Option<&PathBuf> {
        self.model_dir.as_ref()
    }
}
