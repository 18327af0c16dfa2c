//! The crate's one error type.

use std::path::PathBuf;
use thiserror::Error;

/// What can go wrong evaluating detectors and writing the report.
#[derive(Debug, Error)]
pub enum EvalError {
    /// An output that cannot be written.
    #[error(transparent)]
    Write(#[from] impostor_model::atomic::WriteError),
    /// An output directory that may not be replaced.
    #[error("{}: {what}", path.display())]
    Refused {
        /// The directory.
        path: PathBuf,
        /// Why, and what to do instead.
        what: String,
    },
    /// A figure that could not be drawn.
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
    /// The metrics could not be written as JSON.
    #[error("metrics.json cannot be serialised")]
    Metrics(#[source] serde_json::Error),
    /// The sender-history replay failed.
    #[error("sender-history replay: {0}")]
    History(String),
    /// A matched false-positive rate outside (0, 1).
    #[error("a matched false-positive rate is a rate between 0 and 1, not {0}")]
    NotARate(f64),
    /// Every labelled message was left out.
    #[error("no message to evaluate in {inputs}: every labelled message was left out ({excluded}); give mail the model has not trained on")]
    NothingToEvaluate {
        /// The inputs, comma-separated.
        inputs: String,
        /// What was left out, by reason.
        excluded: String,
    },
    /// Fewer messages could be read for scoring than were indexed.
    #[error("{read} of {wanted} messages could be read again for scoring; did the inputs change during the run?")]
    InputsChanged {
        /// Messages read again.
        read: usize,
        /// Messages selected when indexing.
        wanted: usize,
    },
    /// The worker threads could not be started.
    #[error("starting worker threads")]
    Threads(#[source] rayon::ThreadPoolBuildError),
    /// The model artifact refused something (a file failing verification).
    #[error(transparent)]
    Model(Box<impostor_model::ModelError>),
    /// The corpus layer refused something (inputs, labels).
    #[error(transparent)]
    Corpus(Box<impostor_corpus::CorpusError>),
    /// The artifact's training data could not be read.
    #[error(transparent)]
    Train(Box<impostor_train::TrainError>),
}

// Boxed: they are large, and every `Result` of an evaluation carries them.
impl From<impostor_model::ModelError> for EvalError {
    fn from(e: impostor_model::ModelError) -> Self {
        EvalError::Model(Box::new(e))
    }
}

impl From<impostor_corpus::CorpusError> for EvalError {
    fn from(e: impostor_corpus::CorpusError) -> Self {
        EvalError::Corpus(Box::new(e))
    }
}

impl From<impostor_train::TrainError> for EvalError {
    fn from(e: impostor_train::TrainError) -> Self {
        EvalError::Train(Box::new(e))
    }
}
