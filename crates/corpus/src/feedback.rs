//! Reported mail back into training: messages users reported (a missed
//! attack, a false alarm) written into a labelled data directory that
//! `impostor train --base ARTIFACT --add DIR` retrains on.
//!
//! The directory ([`FeedbackConfig::output`]):
//!
//! ```text
//! DIR/messages/LABEL/SHA256.eml   each reported message, as reported
//! DIR/labels.tsv                  member, label, technique, synthetic,
//!                                 sha256, sha1, message_id, origin
//! ```
//!
//! `member` is the path below `messages/` (`phish/…eml`), so the labels
//! apply to `--add DIR/messages` (a labels.tsv beside `messages/`, as
//! `impostor gen` writes), and the LABEL folder (ham, phish, bec) labels
//! the messages of `--add DIR` by folder name. Repeated runs append.
//!
//! A report is often a forward: a message/rfc822 part (or an attached
//! `.eml` file) is the reported message, taken instead of the forward that
//! carries it ([`FeedbackConfig::unwrap_attached`]). A message forwarded
//! inline has lost its headers and is taken whole.
//!
//! What it deliberately does not do: decide labels (the caller gives one
//! for the batch), modify its inputs, or retrain (`impostor-train`).

use crate::error::CorpusError;
use crate::label::Label;
use crate::progress::Progress;
use crate::surface::scan_headers;
use impostor_features::reported::{attached_messages, message_id};
use impostor_mailsource::{read_inputs, RawMessage, ReadOptions};
use impostor_model::artifact::{self, sha256_hex};
use impostor_model::atomic::{write_bytes, write_file};
use polars::prelude::*;
use sha1::{Digest, Sha1};
use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

/// The labels file inside a feedback directory.
pub const LABELS_FILE: &str = "labels.tsv";
/// The directory of messages inside a feedback directory.
pub const MESSAGES_DIR: &str = "messages";
/// The columns of the labels file, in order.
pub const COLUMNS: [&str; 8] = [
    "member",
    "label",
    "technique",
    "synthetic",
    "sha256",
    "sha1",
    "message_id",
    "origin",
];
/// The base artifact's table of training examples.
const TRAINING_TABLE: &str = "training.parquet";

/// What to ingest, and where.
#[derive(Clone, Debug)]
pub struct FeedbackConfig {
    /// The reported messages: .eml files, directories, Maildirs (new/ and
    /// cur/), mbox files, .tar.gz archives.
    pub inputs: Vec<PathBuf>,
    /// The label of every message of the batch (spam is refused: it is not
    /// a class training learns).
    pub label: Label,
    /// The feedback directory written (created, or appended to).
    pub output: PathBuf,
    /// An artifact directory: messages already in its training data
    /// (its training.parquet's SHA-1 column) are counted, not written.
    pub base: Option<PathBuf>,
    /// Take each message/rfc822 part (or attached `.eml`) of a report as
    /// the reported message instead of the report itself.
    pub unwrap_attached: bool,
    /// How the inputs are read.
    pub read: ReadOptions,
}

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedbackCounts {
    /// Messages read from the inputs (unreadable ones included).
    pub read: u64,
    /// Forwarded messages taken out of reports (each counted below as
    /// written, duplicate, known or unreadable instead of its report).
    pub unwrapped: u64,
    /// New messages written.
    pub written: u64,
    /// Messages with the SHA-256 or Message-ID of one earlier in the batch
    /// or already in the directory.
    pub duplicates: u64,
    /// Messages the base artifact was trained on (same SHA-1).
    pub already_known: u64,
    /// Of those, messages the base labelled otherwise (its label stands:
    /// retraining leaves a known message out).
    pub known_with_other_label: u64,
    /// Messages that could not be read or are not messages.
    pub unreadable: u64,
}

/// A message the directory (or the batch) holds already.
#[derive(Clone, Debug)]
struct Held {
    label: String,
}

/// Ingests `config.inputs` into `config.output`; a message's own error is
/// reported through `progress.warn` and counted, and the run goes on.
/// Each message file is written atomically before the labels file, which
/// is rewritten atomically with the new rows appended.
pub fn ingest(
    config: &FeedbackConfig,
    progress: &dyn Progress,
) -> Result<FeedbackCounts, CorpusError> {
    if config.label == Label::Spam {
        return Err(CorpusError::Invalid(
            "spam is not a class training learns; label reports attack (phish, bec) or ham".into(),
        ));
    }
    crate::manifest::check_inputs(&config.inputs)?;
    let labels_path = config.output.join(LABELS_FILE);
    let existing = read_existing(&config.output, &labels_path)?;
    let mut by_sha: HashMap<String, Held> = HashMap::new();
    let mut by_id: HashMap<String, Held> = HashMap::new();
    for row in &existing {
        let held = Held {
            label: row.get("label").cloned().unwrap_or_default(),
        };
        if let Some(s) = row.get("sha256").filter(|s| !s.is_empty()) {
            by_sha.insert(s.clone(), held.clone());
        }
        if let Some(m) = row.get("message_id").filter(|s| !s.is_empty()) {
            by_id.insert(m.clone(), held);
        }
    }
    let known = match &config.base {
        Some(dir) => base_training_sha1s(dir)?,
        None => HashMap::new(),
    };
    let label = config.label.as_str();
    let folder = config.output.join(MESSAGES_DIR).join(label);
    let mut counts = FeedbackCounts::default();
    let mut rows: Vec<String> = Vec::new();
    let stage = progress.stage("ingesting reports", None);
    for m in read_inputs(&config.inputs, &config.read) {
        counts.read += 1;
        stage.done(counts.read);
        let origin = describe(&m);
        let bytes = match m.bytes {
            Ok(b) => b,
            Err(e) => {
                counts.unreadable += 1;
                progress.warn(&format!("{origin}: unreadable: {}", e.describe()));
                continue;
            }
        };
        let reported = match config.unwrap_attached {
            true => attached_messages(&bytes),
            false => Vec::new(),
        };
        let reported: Vec<(String, Vec<u8>)> = if reported.is_empty() {
            vec![(origin, bytes)]
        } else {
            counts.unwrapped += reported.len() as u64;
            reported
                .into_iter()
                .enumerate()
                .map(|(i, b)| (format!("{origin} (forwarded message {})", i + 1), b))
                .collect()
        };
        for (origin, bytes) in reported {
            let headers = scan_headers(&bytes);
            if headers.count == 0 {
                counts.unreadable += 1;
                progress.warn(&format!("{origin}: not a message: no header fields"));
                continue;
            }
            let sha256 = sha256_hex(&bytes);
            let id = headers.message_id.and_then(message_id);
            let held = by_sha
                .get(&sha256)
                .or_else(|| id.as_ref().and_then(|i| by_id.get(i)));
            if let Some(h) = held {
                counts.duplicates += 1;
                if h.label != label {
                    progress.warn(&format!(
                        "{origin}: already held as {}, not as {label}; to change it, edit {} and move its file",
                        h.label,
                        labels_path.display()
                    ));
                }
                continue;
            }
            let sha1 = hex(&Sha1::digest(&bytes));
            if let Some(base_label) = known.get(&sha1) {
                counts.already_known += 1;
                if base_label != label && !(is_attack(base_label) && is_attack(label)) {
                    counts.known_with_other_label += 1;
                    progress.warn(&format!(
                        "{origin}: the base was trained on it as {base_label}; its label stands (retraining leaves known messages out)"
                    ));
                }
                continue;
            }
            std::fs::create_dir_all(&folder).map_err(|source| CorpusError::Read {
                path: folder.clone(),
                source,
            })?;
            write_bytes(&folder.join(format!("{sha256}.eml")), &bytes)?;
            let held = Held {
                label: label.to_string(),
            };
            if let Some(i) = &id {
                by_id.insert(i.clone(), held.clone());
            }
            by_sha.insert(sha256.clone(), held);
            let cells = [
                format!("{label}/{sha256}.eml"),
                label.to_string(),
                String::new(),
                "false".into(),
                sha256,
                sha1,
                id.map(|i| cell(&i)).unwrap_or_default(),
                cell(&origin),
            ];
            rows.push(cells.join("\t"));
            counts.written += 1;
        }
    }
    drop(stage);
    if !rows.is_empty() || existing.is_empty() {
        write_labels(&labels_path, &existing, &rows)?;
    }
    Ok(counts)
}

fn is_attack(label: &str) -> bool {
    Label::parse(label).is_some_and(Label::is_attack)
}

/// Where a message came from, for warnings and the `origin` column.
fn describe(m: &RawMessage) -> String {
    let mut s = m.origin.path.display().to_string();
    // Below a directory the path names the file already.
    if let Some(member) = m
        .origin
        .member
        .as_ref()
        .filter(|mb| !m.origin.path.ends_with(mb))
    {
        s.push_str(&format!(" {member}"));
    }
    if let Some(i) = m.origin.index {
        s.push_str(&format!(" #{i}"));
    }
    s
}

/// A value fit for one TSV cell: tabs, line breaks and other controls
/// become spaces.
fn cell(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-1 of every message the artifact in `dir` was trained on (its
/// verified training.parquet), with its label.
pub fn base_training_sha1s(dir: &Path) -> Result<HashMap<String, String>, CorpusError> {
    let artifact = artifact::load(dir).map_err(CorpusError::Artifact)?;
    let bytes = artifact::read_file(&artifact, TRAINING_TABLE).map_err(CorpusError::Artifact)?;
    let path = dir.join(TRAINING_TABLE);
    let parquet = |source| CorpusError::Parquet {
        path: path.clone(),
        hint: "an artifact's training table, as `impostor train` writes it",
        source,
    };
    let df = ParquetReader::new(Cursor::new(bytes))
        .with_columns(Some(vec!["sha1".to_string(), "label".to_string()]))
        .finish()
        .map_err(parquet)?;
    let text = |name: &str| -> Result<Vec<Option<String>>, CorpusError> {
        let c = df.column(name).map_err(parquet)?;
        let c = c.str().map_err(parquet)?;
        Ok(c.iter().map(|v| v.map(str::to_string)).collect())
    };
    let (sha1, label) = (text("sha1")?, text("label")?);
    Ok(sha1
        .into_iter()
        .zip(label)
        .filter_map(|(s, l)| Some((s?, l.unwrap_or_default())))
        .collect())
}

/// The rows of an existing feedback directory's labels file, by column;
/// empty for a directory that does not exist or is empty. Anything else
/// (a directory without a labels file of ours) is someone's data: refused.
fn read_existing(
    dir: &Path,
    labels_path: &Path,
) -> Result<Vec<HashMap<String, String>>, CorpusError> {
    if !labels_path.exists() {
        let empty = match std::fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(source) => {
                return Err(CorpusError::Read {
                    path: dir.to_path_buf(),
                    source,
                })
            }
        };
        if !empty {
            return Err(CorpusError::Invalid(format!(
                "{}: not empty and not a feedback directory (no {LABELS_FILE}); give a new or empty directory, or one `impostor feedback` wrote",
                dir.display()
            )));
        }
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(labels_path).map_err(|source| CorpusError::Read {
        path: labels_path.to_path_buf(),
        source,
    })?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    if header != COLUMNS {
        return Err(CorpusError::Table {
            path: labels_path.to_path_buf(),
            message: format!(
                "its columns are {header:?}, not those `impostor feedback` writes ({COLUMNS:?}); give another directory"
            ),
        });
    }
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            COLUMNS
                .iter()
                .zip(l.split('\t'))
                .map(|(c, v)| (c.to_string(), v.to_string()))
                .collect()
        })
        .collect())
}

/// Writes the labels file whole: the existing rows, then `new`.
fn write_labels(
    path: &Path,
    existing: &[HashMap<String, String>],
    new: &[String],
) -> Result<(), CorpusError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| CorpusError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let io = |source| {
        CorpusError::Write(impostor_model::atomic::WriteError {
            path: path.to_path_buf(),
            source,
        })
    };
    let mut seen: HashSet<&str> = HashSet::new();
    write_file(path, |w| {
        writeln!(w, "{}", COLUMNS.join("\t")).map_err(io)?;
        for row in existing {
            let cells: Vec<&str> = COLUMNS
                .iter()
                .map(|c| row.get(*c).map_or("", String::as_str))
                .collect();
            // A row twice (an edit by hand) is written once.
            if seen.insert(cells.first().copied().unwrap_or_default()) {
                writeln!(w, "{}", cells.join("\t")).map_err(io)?;
            }
        }
        for row in new {
            writeln!(w, "{row}").map_err(io)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    fn message(id: &str, body: &str) -> Vec<u8> {
        format!("From: Dan <dan@freemail.example>\r\nTo: ap@kestrel.example\r\nSubject: urgent\r\nMessage-ID: <{id}>\r\n\r\n{body}\r\n").into_bytes()
    }

    fn config(inputs: Vec<PathBuf>, output: PathBuf) -> FeedbackConfig {
        FeedbackConfig {
            inputs,
            label: Label::Phish,
            output,
            base: None,
            unwrap_attached: true,
            read: ReadOptions::default(),
        }
    }

    #[test]
    fn duplicates_are_counted_within_a_batch_and_across_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let inbox = tmp.path().join("reports");
        std::fs::create_dir_all(&inbox).unwrap();
        std::fs::write(inbox.join("1.eml"), message("a@x", "pay now")).unwrap();
        // Same bytes, and another copy with the same Message-ID.
        std::fs::write(inbox.join("2.eml"), message("a@x", "pay now")).unwrap();
        std::fs::write(inbox.join("3.eml"), message("a@x", "pay now, please")).unwrap();
        std::fs::write(inbox.join("4.eml"), message("b@x", "gift cards")).unwrap();
        std::fs::write(inbox.join("5.eml"), b"\r\n\r\n").unwrap();
        let out = tmp.path().join("feedback");
        let c = ingest(&config(vec![inbox.clone()], out.clone()), &Silent).unwrap();
        assert_eq!(
            (c.read, c.written, c.duplicates, c.unreadable),
            (5, 2, 2, 1)
        );
        let labels = crate::manifest::read_labels(&out.join(LABELS_FILE)).unwrap();
        assert_eq!(labels.len(), 2);
        assert!(labels.values().all(|e| e.label == Some(Label::Phish)));
        for member in labels.keys() {
            assert!(out.join(MESSAGES_DIR).join(member).is_file(), "{member}");
        }
        // Again, plus one new message: only that one is written.
        std::fs::write(inbox.join("6.eml"), message("c@x", "wire transfer")).unwrap();
        let again = ingest(&config(vec![inbox], out.clone()), &Silent).unwrap();
        assert_eq!((again.written, again.duplicates), (1, 4));
        let labels = crate::manifest::read_labels(&out.join(LABELS_FILE)).unwrap();
        assert_eq!(labels.len(), 3);
    }

    #[test]
    fn a_message_forwarded_as_attachment_is_the_one_written() {
        let inner = message("inner@x", "please buy gift cards");
        let mut report = b"From: user@kestrel.example\r\nSubject: Fwd: urgent\r\nMessage-ID: <outer@kestrel.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nphishing?\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n".to_vec();
        report.extend_from_slice(&inner);
        report.extend_from_slice(b"\r\n--b--\r\n");
        let got = attached_messages(&report);
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with(b"From: Dan <dan@freemail.example>"));
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("report.eml");
        std::fs::write(&path, &report).unwrap();
        let out = tmp.path().join("fb");
        let c = ingest(&config(vec![path.clone()], out.clone()), &Silent).unwrap();
        assert_eq!((c.read, c.unwrapped, c.written), (1, 1, 1));
        let text = std::fs::read_to_string(out.join(LABELS_FILE)).unwrap();
        assert!(text.contains("\tinner@x\t"), "{text}");
        // Taken whole when asked.
        let whole = FeedbackConfig {
            unwrap_attached: false,
            ..config(vec![path], tmp.path().join("fb2"))
        };
        let c = ingest(&whole, &Silent).unwrap();
        assert_eq!((c.unwrapped, c.written), (0, 1));
        let text = std::fs::read_to_string(tmp.path().join("fb2").join(LABELS_FILE)).unwrap();
        assert!(text.contains("\touter@kestrel.example\t"), "{text}");
    }

    #[test]
    fn a_directory_of_someone_elses_data_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
        let input = tmp.path().join("notes.txt");
        let e = ingest(&config(vec![input], tmp.path().to_path_buf()), &Silent).unwrap_err();
        assert!(e.to_string().contains("not a feedback directory"), "{e}");
    }
}
