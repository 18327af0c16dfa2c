//! The canary: a few labelled messages shipped inside an artifact, with
//! the verdict the model gave each when the canary was made. A gateway
//! that receives the artifact scores them again, under its own Context,
//! before it serves the model: a model that does not reproduce its own
//! verdicts there (another org profile, a build that reads mail
//! differently, a damaged model) is refused and the old one keeps serving.
//!
//! ```text
//! DIR/canary.json     {"format": "impostor-canary", "version": 1,
//!                      "score_tolerance": 0.02,
//!                      "messages": [{"file": "canary-001.eml", "label": "attack",
//!                                    "level": "high", "score": 0.97}, …]}
//! DIR/canary-NNN.eml  the messages, raw (artifact file names are plain:
//!                     SHA256SUMS lists no folders)
//! ```
//!
//! Every canary file is listed in the manifest like any other, so the
//! artifact's hashes and signature cover them. A message passes when its
//! level is the recorded one and its score is within `score_tolerance`
//! (absolute, on the calibrated probability) of the recorded score; the
//! canary passes when every message does.
//!
//! Messages are judged from their bytes alone ([`Inputs::default`]: no
//! envelope, no live DNS, no sender history), so the check is the same on
//! every gateway whatever its resolver or history.
//!
//! What it deliberately does not do: decide what a label means (it is
//! recorded for people; the check compares verdicts), or fetch anything.

use crate::artifact::{self, Artifact};
use crate::detector::Detector;
use crate::error::ModelError;
use crate::verdict::Level;
use impostor_features::{Context, Extractor, Inputs};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// The canary's record file in the artifact.
pub const CANARY_FILE: &str = "canary.json";
/// The `format` of [`CANARY_FILE`].
pub const CANARY_FORMAT: &str = "impostor-canary";
/// The version of [`CANARY_FILE`] this build reads and writes.
pub const CANARY_VERSION: u32 = 1;
/// The tolerance [`make`] records unless told otherwise: scores are
/// deterministic for the same build and Context, so any real drift is
/// far larger than this.
pub const DEFAULT_TOLERANCE: f64 = 0.02;
/// Most messages a canary holds: it is run before every swap.
pub const MAX_MESSAGES: usize = 200;

/// One canary message as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryMessage {
    /// Its file in the artifact (`canary-NNN.eml`).
    pub file: String,
    /// What the message is (`attack`, `ham`, …), for people.
    pub label: String,
    /// The level the model gave it.
    pub level: Level,
    /// The score the model gave it.
    pub score: f64,
}

/// `canary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Canary {
    /// Always [`CANARY_FORMAT`].
    pub format: String,
    /// [`CANARY_VERSION`].
    pub version: u32,
    /// Largest accepted difference between a recorded and a new score.
    pub score_tolerance: f64,
    /// The messages, in order.
    pub messages: Vec<CanaryMessage>,
}

/// Files to add to an artifact: name → bytes.
pub type NamedFiles = Vec<(String, Vec<u8>)>;

/// Whether a file of an artifact belongs to its canary.
pub fn is_canary_file(name: &str) -> bool {
    name == CANARY_FILE || (name.starts_with("canary-") && name.ends_with(".eml"))
}

/// One message whose verdict differs from the recorded one.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// The message's file.
    pub file: String,
    /// What was recorded.
    pub recorded: (Level, f64),
    /// What the model gives now (`None`: the message could not be read).
    pub now: Option<(Level, f64)>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (level, score) = self.recorded;
        match self.now {
            Some((l, s)) => write!(
                f,
                "{}: recorded {} {score:.4}, now {} {s:.4}",
                self.file,
                level.as_str(),
                l.as_str()
            ),
            None => write!(
                f,
                "{}: recorded {} {score:.4}, now unreadable",
                self.file,
                level.as_str()
            ),
        }
    }
}

/// What running a canary found.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The artifact has no canary.
    Absent,
    /// Every message gave its recorded verdict.
    Passed {
        /// How many messages were judged.
        messages: usize,
    },
    /// Some did not.
    Failed {
        /// How many messages were judged.
        messages: usize,
        /// The ones that differ.
        mismatches: Vec<Mismatch>,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Absent => write!(f, "no canary ({CANARY_FILE} absent)"),
            Outcome::Passed { messages } => write!(f, "canary passed ({messages} messages)"),
            Outcome::Failed {
                messages,
                mismatches,
            } => {
                write!(
                    f,
                    "canary failed: {} of {messages} messages differ from their recorded verdict",
                    mismatches.len()
                )?;
                for m in mismatches.iter().take(5) {
                    write!(f, "; {m}")?;
                }
                Ok(())
            }
        }
    }
}

fn refuse<T>(dir: &Path, problem: String) -> Result<T, ModelError> {
    Err(ModelError::Artifact {
        dir: dir.to_path_buf(),
        problem,
    })
}

/// The verdict `detector` gives `bytes` under `context`, from the bytes
/// alone.
fn judge(detector: &Detector, context: &Context, bytes: &[u8]) -> Option<(Level, f64)> {
    let (_, extraction) = Extractor::new(context)
        .extract_bytes(bytes, &Inputs::default())
        .ok()?;
    let v = detector.verdict(&extraction);
    Some((v.level, v.score))
}

/// Reads the canary record of a verified artifact (`None`: it has none).
pub fn read(artifact: &Artifact) -> Result<Option<Canary>, ModelError> {
    if !artifact.manifest.files.contains_key(CANARY_FILE) {
        return Ok(None);
    }
    let bytes = artifact::read_file(artifact, CANARY_FILE)?;
    let canary: Canary = serde_json::from_slice(&bytes)
        .or_else(|e| refuse(&artifact.dir, format!("{CANARY_FILE}: {e}")))?;
    if canary.format != CANARY_FORMAT || canary.version != CANARY_VERSION {
        return refuse(
            &artifact.dir,
            format!(
                "{CANARY_FILE} is not an {CANARY_FORMAT} file of version {CANARY_VERSION}; make the canary again with `impostor model canary`"
            ),
        );
    }
    let tolerance_ok =
        canary.score_tolerance.is_finite() && (0.0..=1.0).contains(&canary.score_tolerance);
    if !tolerance_ok || canary.messages.len() > MAX_MESSAGES {
        return refuse(
            &artifact.dir,
            format!(
                "{CANARY_FILE}: score_tolerance must be within 0..=1 and there may be at most {MAX_MESSAGES} messages"
            ),
        );
    }
    Ok(Some(canary))
}

/// Scores the artifact's canary messages with its model under `context`
/// and compares with what was recorded. An error is an artifact whose
/// canary cannot be read at all (a file missing or changed).
pub fn run(artifact: &Artifact, context: &Context) -> Result<Outcome, ModelError> {
    let Some(canary) = read(artifact)? else {
        return Ok(Outcome::Absent);
    };
    let detector = Detector::new(artifact.model.clone());
    let mut mismatches = Vec::new();
    for m in &canary.messages {
        let bytes = artifact::read_file(artifact, &m.file)?;
        let now = judge(&detector, context, &bytes);
        let same = now.is_some_and(|(level, score)| {
            level == m.level && (score - m.score).abs() <= canary.score_tolerance
        });
        if !same {
            mismatches.push(Mismatch {
                file: m.file.clone(),
                recorded: (m.level, m.score),
                now,
            });
        }
    }
    let messages = canary.messages.len();
    Ok(if mismatches.is_empty() {
        Outcome::Passed { messages }
    } else {
        Outcome::Failed {
            messages,
            mismatches,
        }
    })
}

/// A canary made from `messages` (label, raw bytes), judged by
/// `artifact`'s model under `context`: the record and the files to add to
/// the artifact ([`artifact::rewrite_files`], leaving out the old canary's
/// files with [`is_canary_file`]). A message that cannot be read as mail
/// is refused, naming its position.
pub fn make(
    artifact: &Artifact,
    context: &Context,
    messages: &[(String, Vec<u8>)],
    score_tolerance: f64,
) -> Result<(Canary, NamedFiles), ModelError> {
    if messages.is_empty() || messages.len() > MAX_MESSAGES {
        return refuse(
            &artifact.dir,
            format!(
                "a canary holds 1 to {MAX_MESSAGES} messages, not {}",
                messages.len()
            ),
        );
    }
    if !(score_tolerance.is_finite() && (0.0..=1.0).contains(&score_tolerance)) {
        return refuse(
            &artifact.dir,
            "the score tolerance must be within 0..=1".into(),
        );
    }
    let detector = Detector::new(artifact.model.clone());
    let mut record = Vec::new();
    let mut files = Vec::new();
    for (n, (label, bytes)) in messages.iter().enumerate() {
        let file = format!("canary-{:03}.eml", n + 1);
        let Some((level, score)) = judge(&detector, context, bytes) else {
            return refuse(
                &artifact.dir,
                format!(
                    "canary message {} ({label}) is not a message the extractor reads",
                    n + 1
                ),
            );
        };
        record.push(CanaryMessage {
            file: file.clone(),
            label: label.clone(),
            level,
            score,
        });
        files.push((file, bytes.clone()));
    }
    let canary = Canary {
        format: CANARY_FORMAT.into(),
        version: CANARY_VERSION,
        score_tolerance,
        messages: record,
    };
    let mut json = serde_json::to_vec_pretty(&canary).map_err(ModelError::Json)?;
    json.push(b'\n');
    files.push((CANARY_FILE.into(), json));
    Ok((canary, files))
}

#[cfg(test)]
mod tests {
    use super::*;
    use impostor_features::OrgProfile;

    fn context() -> Context {
        let org = OrgProfile::from_toml(
            include_str!("../../../datasets/orgs/kestrel-foods.toml"),
            Path::new("kestrel-foods.toml"),
        )
        .unwrap();
        Context::builder(org).build().unwrap()
    }

    const CEO: &[u8] = b"From: Daniel Brandt <daniel.brandt.ceo@gmail.com>\r\n\
To: p.raman@kestrelfoods.com\r\nSubject: Quick favour\r\nMessage-ID: <1@example.net>\r\n\r\n\
Are you at your desk? I need you to buy six gift cards for a client today and send me the codes.\r\n";

    /// A copy of the built-in artifact in a temporary directory.
    fn artifact_copy(dir: &Path) {
        let a = artifact::builtin().unwrap();
        let files: Vec<(String, Vec<u8>)> = a
            .manifest
            .files
            .keys()
            .map(|n| (n.clone(), artifact::read_file(&a, n).unwrap()))
            .collect();
        artifact::write(dir, a.manifest.clone(), &files).unwrap();
    }

    #[test]
    fn a_canary_made_by_a_model_passes_under_the_same_context_and_fails_when_a_level_is_recorded_wrong(
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        artifact_copy(&dir);
        let ctx = context();
        let a = artifact::load(&dir).unwrap();
        assert_eq!(run(&a, &ctx).unwrap(), Outcome::Absent);
        let (mut record, files) = make(
            &a,
            &ctx,
            &[("attack".into(), CEO.to_vec())],
            DEFAULT_TOLERANCE,
        )
        .unwrap();
        let keep = |n: &str| !is_canary_file(n);
        let with = artifact::rewrite_files(&dir, &dir, &keep, &files).unwrap();
        assert_ne!(
            with.manifest_sha256, a.manifest_sha256,
            "the manifest covers the canary"
        );
        assert_eq!(run(&with, &ctx).unwrap(), Outcome::Passed { messages: 1 });

        record.messages[0].level = match record.messages[0].level {
            Level::High => Level::None,
            _ => Level::High,
        };
        let json = serde_json::to_vec(&record).unwrap();
        let bad =
            artifact::rewrite_files(&dir, &dir, &|_| true, &[(CANARY_FILE.into(), json)]).unwrap();
        match run(&bad, &ctx).unwrap() {
            Outcome::Failed { mismatches, .. } => assert_eq!(mismatches[0].file, "canary-001.eml"),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_file_name_with_a_folder_cannot_be_added_to_an_artifact() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        artifact_copy(&dir);
        let e = artifact::rewrite_files(&dir, &dir, &|_| true, &[("x/../y".into(), vec![])]);
        assert!(e.unwrap_err().to_string().contains("plain names"));
    }
}
