//! `impostor features`: the feature schema, for people and scripts.

use anyhow::Result;
use clap::Args;
use impostor_features::{Feature, SCHEMA_VERSION};
use std::process::ExitCode;

/// List every feature with its family and what it measures.
///
/// The list is the column order of `impostor extract` tables. The schema
/// version and hash identify it; model artifacts record both.
#[derive(Args, Debug)]
pub struct FeaturesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: FeaturesArgs) -> Result<ExitCode> {
    if args.json {
        let features: Vec<_> = Feature::ALL
            .iter()
            .map(|f| serde_json::json!({"name": f.name(), "family": f.family().name(), "doc": f.doc()}))
            .collect();
        let doc = serde_json::json!({
            "schema_version": SCHEMA_VERSION,
            "schema_hash": Feature::schema_hash(),
            "features": features,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "feature schema v{SCHEMA_VERSION} ({} features, hash {})",
            Feature::ALL.len(),
            &Feature::schema_hash()[..16]
        );
        for f in Feature::ALL {
            println!("{:<46} {:<12} {}", f.name(), f.family().name(), f.doc());
        }
    }
    Ok(ExitCode::SUCCESS)
}
