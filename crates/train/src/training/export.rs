//! Writes a trained model as the artifact of design.md §6.

use super::card;
use super::data_table;
use super::example::Example;
use super::Trained;
use crate::error::TrainError;
use impostor_model::artifact::{
    self, Manifest, SchemaStamp, TrainingRecord, CARD_FILE, FORMAT, FORMAT_VERSION,
};
use serde::Serialize;
use std::path::Path;

/// How the run was set up, recorded in the manifest beside the report.
#[derive(Clone, Debug, Serialize)]
pub struct RunSettings {
    /// Seed of the folds and the validation / test halves.
    pub seed: u64,
    /// Cross-validation folds.
    pub folds: usize,
    /// How the held-out groups were chosen, in words.
    pub validation_rule: String,
    /// Target false-positive rates of low, medium and high.
    pub targets: [f64; 3],
    /// SHA-256 of the rule file's text.
    pub rules_sha256: String,
    /// How rows were weighted (`classes` or `sources`).
    pub balance: String,
    /// The base rate the score is stated at.
    pub prior: f64,
    /// Sources added when retraining (reports, weighed per row; a later
    /// retraining keeps them so).
    pub added_sources: Vec<String>,
    /// What one added row counts, in mean corpus rows of its class.
    pub added_weight: f64,
    /// How the sender-history features were computed, in words.
    pub history: String,
    /// What was left out of the data, by reason.
    pub excluded: serde_json::Value,
}

/// Writes `trained` into `dir` with its card and training table, whole or
/// not at all. `command` leaves out the output directory.
pub fn write_artifact(
    dir: &Path,
    trained: &Trained,
    examples: &[Example],
    settings: &RunSettings,
    command: String,
    date: String,
    data_manifest_sha256: String,
) -> Result<(), TrainError> {
    let details = serde_json::json!({
        "settings": settings,
        "report": trained.report,
    });
    let record = TrainingRecord {
        command,
        data_manifest_sha256,
        date,
        details,
    };
    let card = card::render(
        &trained.params,
        &trained.report,
        &record,
        examples,
        &settings.validation_rule,
    );
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        feature_schema: SchemaStamp::current(),
        model: trained.params.clone(),
        training: record,
        files: Default::default(),
    };
    let files = vec![
        (CARD_FILE.to_string(), card.into_bytes()),
        (
            data_table::FILE.to_string(),
            data_table::to_parquet(examples)?,
        ),
    ];
    artifact::write(dir, manifest, &files).map_err(|e| TrainError::Invalid(e.to_string()))
}
