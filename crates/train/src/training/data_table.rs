//! The examples a model was trained on, as the Parquet table an artifact
//! keeps beside its manifest (`training.parquet`), so `impostor train
//! --base` can retrain on the same data plus new samples.
//!
//! Columns: id, source, group, label, technique, synthetic, timestamp,
//! sha1, role, then every feature of the schema as Float32. No message text
//! and no addresses: features only.

use super::example::{Example, Role};
use crate::error::TrainError;
use impostor_corpus::Label;
use impostor_features::{Feature, FeatureVector};
use polars::prelude::*;
use std::io::Cursor;

/// The file name inside an artifact.
pub const FILE: &str = "training.parquet";

fn to_dataframe(rows: &[Example]) -> PolarsResult<DataFrame> {
    let s = |name: &str, f: &dyn Fn(&Example) -> Option<String>| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let mut columns = vec![
        s("id", &|r| Some(r.id.clone())),
        s("source", &|r| Some(r.source.clone())),
        s("group", &|r| Some(r.group.clone())),
        s("label", &|r| Some(r.label.as_str().to_string())),
        s("technique", &|r| r.technique.clone()),
        Column::new(
            "synthetic".into(),
            rows.iter().map(|r| r.synthetic).collect::<Vec<_>>(),
        ),
        Column::new(
            "timestamp".into(),
            rows.iter().map(|r| r.timestamp).collect::<Vec<_>>(),
        ),
        s("sha1", &|r| r.sha1.clone()),
        s("role", &|r| Some(r.role.as_str().to_string())),
    ];
    for f in Feature::ALL {
        columns.push(Column::new(
            f.name().into(),
            rows.iter().map(|r| r.values.get(*f)).collect::<Vec<f32>>(),
        ));
    }
    DataFrame::new(rows.len(), columns)
}

/// The examples as Parquet bytes.
pub fn to_parquet(rows: &[Example]) -> Result<Vec<u8>, TrainError> {
    let err = |e: PolarsError| TrainError::Invalid(format!("writing the training table: {e}"));
    let mut df = to_dataframe(rows).map_err(err)?;
    let mut out = Vec::new();
    ParquetWriter::new(&mut out).finish(&mut df).map_err(err)?;
    Ok(out)
}

/// Examples back from Parquet bytes; `origin` names the file in errors.
pub fn from_parquet(bytes: &[u8], origin: &str) -> Result<Vec<Example>, TrainError> {
    let bad = |m: String| TrainError::Invalid(format!("{origin}: {m}"));
    let df = ParquetReader::new(Cursor::new(bytes))
        .finish()
        .map_err(|e| bad(e.to_string()))?;
    let text = |name: &str| -> Result<Vec<Option<String>>, TrainError> {
        let c = df.column(name).map_err(|e| bad(e.to_string()))?;
        let c = c.str().map_err(|e| bad(e.to_string()))?;
        Ok(c.iter().map(|v| v.map(str::to_string)).collect())
    };
    let (id, source, group, label) = (text("id")?, text("source")?, text("group")?, text("label")?);
    let (technique, sha1, role) = (text("technique")?, text("sha1")?, text("role")?);
    let synthetic: Vec<Option<bool>> = df
        .column("synthetic")
        .and_then(|c| c.bool().map(|b| b.iter().collect()))
        .map_err(|e| bad(e.to_string()))?;
    let timestamp: Vec<Option<i64>> = df
        .column("timestamp")
        .and_then(|c| c.i64().map(|b| b.iter().collect()))
        .map_err(|e| bad(e.to_string()))?;
    let mut features = Vec::with_capacity(Feature::ALL.len());
    for f in Feature::ALL {
        let c = df
            .column(f.name())
            .and_then(|c| c.f32().map(|b| b.iter().collect::<Vec<_>>()))
            .map_err(|e| bad(format!("feature column {}: {e}", f.name())))?;
        features.push(c);
    }
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let label_text = label[i].as_deref().unwrap_or("");
        let label = Label::parse(label_text)
            .ok_or_else(|| bad(format!("row {i}: unknown label {label_text:?}")))?;
        let role_text = role[i].as_deref().unwrap_or("");
        let role = Role::parse(role_text)
            .ok_or_else(|| bad(format!("row {i}: unknown role {role_text:?}")))?;
        let mut values = FeatureVector::default();
        for (k, f) in Feature::ALL.iter().enumerate() {
            values.set(*f, features[k][i].unwrap_or(0.0));
        }
        rows.push(Example {
            id: id[i].clone().unwrap_or_default(),
            source: source[i].clone().unwrap_or_default(),
            group: group[i].clone().unwrap_or_default(),
            label,
            technique: technique[i].clone(),
            synthetic: synthetic[i].unwrap_or(false),
            timestamp: timestamp[i],
            sha1: sha1[i].clone(),
            role,
            values,
        });
    }
    Ok(rows)
}
