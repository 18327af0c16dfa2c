//! Feature tables: one row per message, one column per named feature, plus
//! where the message came from and why it failed if it did.
//!
//! Columns, in order: `path`, `member`, `index`, `error`, `techniques`
//! (technique codes the evidence points to, comma-separated), `identity`
//! (how each reader saw the sender, when they disagree: JSON text in
//! Parquet, an object in NDJSON; null otherwise), then every feature of
//! the schema in [`Feature::ALL`] order as Float32. A failed
//! message has its error set and every feature null.

use crate::error::TrainError;
use impostor_features::{Feature, FeatureVector, IdentityReadings, Technique};
use impostor_model::atomic::write_file;
use polars::prelude::*;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// One extracted message.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureRow {
    /// The input the message was read from.
    pub path: String,
    /// Its member inside an archive or directory.
    pub member: Option<String>,
    /// Its position inside an mbox.
    pub index: Option<u64>,
    /// Why the message could not be read or parsed; `values` is None then.
    pub error: Option<String>,
    /// The techniques its evidence points to.
    pub techniques: Vec<Technique>,
    /// How each reader saw the sender, when they disagree.
    pub identity: Option<IdentityReadings>,
    /// Every named feature; `None` when it could not be read or parsed.
    pub values: Option<FeatureVector>,
}

/// The table formats, chosen by the output file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// Apache Parquet (`.parquet`), through polars.
    Parquet,
    /// One JSON object a line (`.ndjson`, `.jsonl`).
    Ndjson,
}

impl TableFormat {
    /// The format `path`'s extension names.
    pub fn from_path(path: &Path) -> Result<TableFormat, TrainError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("parquet") => Ok(TableFormat::Parquet),
            Some("ndjson") | Some("jsonl") => Ok(TableFormat::Ndjson),
            _ => Err(TrainError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

fn techniques_text(t: &[Technique]) -> String {
    t.iter().map(|t| t.code()).collect::<Vec<_>>().join(",")
}

/// The rows as a polars DataFrame with the columns described above.
pub fn to_dataframe(rows: &[FeatureRow]) -> PolarsResult<DataFrame> {
    let mut columns: Vec<Column> = Vec::with_capacity(6 + Feature::ALL.len());
    columns.push(Column::new(
        "path".into(),
        rows.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "member".into(),
        rows.iter().map(|r| r.member.as_deref()).collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "index".into(),
        rows.iter()
            .map(|r| r.index.map(|i| i as i64))
            .collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "error".into(),
        rows.iter().map(|r| r.error.as_deref()).collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "techniques".into(),
        rows.iter()
            .map(|r| techniques_text(&r.techniques))
            .collect::<Vec<_>>(),
    ));
    columns.push(Column::new(
        "identity".into(),
        rows.iter()
            .map(|r| {
                r.identity
                    .as_ref()
                    .and_then(|i| serde_json::to_string(i).ok())
            })
            .collect::<Vec<_>>(),
    ));
    for f in Feature::ALL {
        let values: Vec<Option<f32>> = rows
            .iter()
            .map(|r| r.values.as_ref().map(|v| v.get(*f)))
            .collect();
        columns.push(Column::new(f.name().into(), values));
    }
    DataFrame::new(rows.len(), columns)
}

/// Writes the table in the format the extension names, atomically.
pub fn write_table(rows: &[FeatureRow], path: &Path) -> Result<(), TrainError> {
    let format = TableFormat::from_path(path)?;
    let table_err = |source: PolarsError| TrainError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let io_err = |source| {
        TrainError::from(impostor_model::atomic::WriteError {
            path: path.to_path_buf(),
            source,
        })
    };
    match format {
        TableFormat::Parquet => {
            let mut df = to_dataframe(rows).map_err(table_err)?;
            write_file(path, |w| {
                ParquetWriter::new(w).finish(&mut df).map_err(table_err)?;
                Ok(())
            })
        }
        TableFormat::Ndjson => write_file(path, |w| {
            for row in rows {
                write_ndjson_row(&mut *w, row).map_err(io_err)?;
            }
            Ok(())
        }),
    }
}

/// One row as compact JSON, keys in table order. Values go through
/// serde_json; the feature names are plain snake_case (a test holds them to
/// it) and are written as they are: escaping them a byte at a time was most
/// of the cost of writing a table.
fn write_ndjson_row<W: Write>(mut w: W, row: &FeatureRow) -> std::io::Result<()> {
    fn value<W: Write, T: Serialize + ?Sized>(w: &mut W, v: &T) -> std::io::Result<()> {
        serde_json::to_writer(w, v).map_err(std::io::Error::from)
    }
    w.write_all(b"{\"path\":")?;
    value(&mut w, &row.path)?;
    if let Some(m) = &row.member {
        w.write_all(b",\"member\":")?;
        value(&mut w, m)?;
    }
    if let Some(i) = row.index {
        w.write_all(b",\"index\":")?;
        value(&mut w, &i)?;
    }
    w.write_all(b",\"error\":")?;
    value(&mut w, &row.error)?;
    w.write_all(b",\"techniques\":")?;
    let codes: Vec<&str> = row.techniques.iter().map(|t| t.code()).collect();
    value(&mut w, &codes)?;
    w.write_all(b",\"identity\":")?;
    value(&mut w, &row.identity)?;
    for f in Feature::ALL {
        w.write_all(b",\"")?;
        w.write_all(f.name().as_bytes())?;
        w.write_all(b"\":")?;
        value(&mut w, &row.values.as_ref().map(|v| v.get(*f)))?;
    }
    w.write_all(b"}\n")
}

/// Reads a Parquet feature table back.
pub fn read_parquet(path: &Path) -> Result<DataFrame, TrainError> {
    let file = std::fs::File::open(path).map_err(|source| TrainError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    ParquetReader::new(file)
        .finish()
        .map_err(|source| TrainError::Parquet {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use impostor_features::{Reader, Reading};

    fn reading(reader: Reader, address: &str) -> Reading {
        Reading {
            reader,
            name: None,
            address: Some(address.into()),
            domain: address.split_once('@').map(|(_, d)| d.to_string()),
            refused: None,
        }
    }

    fn rows() -> Vec<FeatureRow> {
        let mut v = FeatureVector::default();
        v.set(Feature::LinkCount, 3.0);
        v.set_flag(Feature::VipNameFreemail, true);
        vec![
            FeatureRow {
                path: "a.mbox".into(),
                member: None,
                index: Some(2),
                error: None,
                techniques: vec![Technique::FreemailImpersonation],
                identity: Some(IdentityReadings {
                    readings: vec![
                        reading(Reader::MailParser, "ceo@kestrelfoods.com"),
                        reading(Reader::LastFromField, "x@evil.example"),
                    ],
                }),
                values: Some(v),
            },
            FeatureRow {
                path: "b.tar.gz".into(),
                member: Some("x/1.eml".into()),
                index: None,
                error: Some("the message is empty".into()),
                techniques: vec![],
                identity: None,
                values: None,
            },
        ]
    }

    #[test]
    fn parquet_round_trips_every_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.parquet");
        write_table(&rows(), &path).unwrap();
        let df = read_parquet(&path).unwrap();
        assert_eq!(df.height(), 2);
        assert_eq!(df.width(), 6 + Feature::ALL.len());
        let identity = df.column("identity").unwrap().str().unwrap();
        assert!(identity
            .get(0)
            .unwrap()
            .contains("\"reader\":\"last_from_field\""));
        assert_eq!(identity.get(1), None);
        let links = df.column("link_count").unwrap().f32().unwrap();
        assert_eq!(links.get(0), Some(3.0));
        assert_eq!(links.get(1), None);
        let err = df.column("error").unwrap().str().unwrap();
        assert_eq!(err.get(1), Some("the message is empty"));
        let t = df.column("techniques").unwrap().str().unwrap();
        assert_eq!(t.get(0), Some("freemail_impersonation"));
    }

    #[test]
    fn ndjson_has_one_object_per_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.ndjson");
        write_table(&rows(), &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["vip_name_freemail_flag"], 1.0);
        assert_eq!(lines[0]["index"], 2);
        assert_eq!(lines[1]["member"], "x/1.eml");
        assert_eq!(
            lines[0]["identity"]["readings"][1]["address"],
            "x@evil.example"
        );
        assert!(lines[1]["identity"].is_null());
        assert!(lines[1]["link_count"].is_null());
    }

    /// serde_json's own map serialisation, which the hand-written rows
    /// must match byte for byte.
    fn row_through_a_serde_map(row: &FeatureRow) -> Vec<u8> {
        use serde::ser::{SerializeMap, Serializer};
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::new(&mut out);
        let mut map = ser.serialize_map(None).unwrap();
        map.serialize_entry("path", &row.path).unwrap();
        if let Some(m) = &row.member {
            map.serialize_entry("member", m).unwrap();
        }
        if let Some(i) = row.index {
            map.serialize_entry("index", &i).unwrap();
        }
        map.serialize_entry("error", &row.error).unwrap();
        let codes: Vec<&str> = row.techniques.iter().map(|t| t.code()).collect();
        map.serialize_entry("techniques", &codes).unwrap();
        map.serialize_entry("identity", &row.identity).unwrap();
        for f in Feature::ALL {
            map.serialize_entry(f.name(), &row.values.as_ref().map(|v| v.get(*f)))
                .unwrap();
        }
        map.end().unwrap();
        out.push(b'\n');
        out
    }

    #[test]
    fn ndjson_rows_are_what_serde_json_writes() {
        assert!(Feature::ALL.iter().all(|f| f
            .name()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')));
        let mut odd = rows();
        odd[0].path = "dir/\"quoted\"\\\u{1}é.mbox".into();
        odd[1].error = Some("tab\there\nnewline".into());
        for row in rows().iter().chain(&odd) {
            let mut mine = Vec::new();
            write_ndjson_row(&mut mine, row).unwrap();
            assert_eq!(
                String::from_utf8(mine).unwrap(),
                String::from_utf8(row_through_a_serde_map(row)).unwrap()
            );
        }
    }

    #[test]
    fn unknown_extensions_are_refused() {
        let err = write_table(&rows(), Path::new("out.csv"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("out.csv") && err.contains(".parquet"), "{err}");
    }
}
