//! `impostor features`: the feature schema, for people and scripts.

use anyhow::Result;
use clap::Args;
use impostor_features::{Direction, Feature, SCHEMA_VERSION};
use std::process::ExitCode;

/// List every feature with its family, its direction and what it measures.
///
/// The list is the column order of `impostor extract` tables. The schema
/// version and hash identify it; model artifacts record both.
///
/// Direction: `raises` for whatever the sender writes (and evidence): its
/// weight is never below zero, so adding it never lowers a score; `either`
/// for facts someone else vouches for (a trusted pass verdict), which
/// training may weigh either way. `input: no` marks the rates per 1,000
/// characters, which no model reads (added text dilutes them).
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
            .map(|f| {
                serde_json::json!({
                    "name": f.name(),
                    "family": f.family().name(),
                    "direction": f.direction(),
                    "model_input": f.is_model_input(),
                    "doc": f.doc(),
                })
            })
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
            let direction = match (f.direction(), f.is_model_input()) {
                (_, false) => "input: no",
                (Direction::Raises, true) => "raises",
                (Direction::Either, true) => "either",
            };
            println!(
                "{:<46} {:<12} {:<9} {}",
                f.name(),
                f.family().name(),
                direction,
                f.doc()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
