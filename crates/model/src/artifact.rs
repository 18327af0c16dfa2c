//! The model artifact (design.md §6): a directory that training writes
//! whole or not at all, and that loading verifies before trusting a byte.
//!
//! ```text
//! DIR/manifest.json   format and version, feature schema, the model (rules
//!                     with weights, classifier, calibration, levels), how
//!                     it was trained, and the SHA-256 of every other file
//! DIR/SHA256SUMS      SHA-256 of every file, manifest included
//!                     (`sha256sum -c SHA256SUMS` checks it by hand)
//! DIR/MODEL_CARD.md   data, command, date, metrics, known limits
//! DIR/…               what training keeps beside it (its data table)
//! DIR/manifest.json.sig  optional: an Ed25519 signature over the exact
//!                     bytes of manifest.json (crate::signing)
//! ```
//!
//! Loading refuses, naming the file and the check: a file missing or whose
//! SHA-256 differs from SHA256SUMS, another format or format version, a
//! feature schema other than this build's, or a model that does not
//! resolve against the schema. [`load`] does not read the signature;
//! [`crate::signing::load`] does, given trusted keys.

use crate::atomic::{self, StagedDir, WriteError};
use crate::error::ModelError;
use crate::model::{Model, ModelParams};
use impostor_features::{Feature, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `format` every manifest names; anything else is not an artifact.
pub const FORMAT: &str = "impostor-model";
/// Bumped when the manifest's meaning changes; a reader refuses others.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's file name in the artifact directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The checksum file's name: `HEX  NAME` lines (`sha256sum` format), one
/// per file, the manifest included.
pub const SUMS_FILE: &str = "SHA256SUMS";
/// The model card's file name (Markdown, for people; not read when loading).
pub const CARD_FILE: &str = "MODEL_CARD.md";

/// Largest file an artifact may hold; a manifest is kilobytes, the data
/// table a few megabytes. Bounds what a hostile directory can make us read.
const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Which feature schema a model was trained on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaStamp {
    /// `impostor_features::SCHEMA_VERSION` of the build that trained it.
    pub version: u32,
    /// `Feature::schema_hash()` of that build: hex SHA-256 over the version
    /// and every column's name and family, in order.
    pub hash: String,
}

impl SchemaStamp {
    /// This build's schema.
    pub fn current() -> SchemaStamp {
        SchemaStamp {
            version: SCHEMA_VERSION,
            hash: Feature::schema_hash(),
        }
    }
}

/// How the model was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingRecord {
    /// The `impostor train` arguments (the output directory left out, so
    /// the same training gives the same bytes wherever it is written).
    pub command: String,
    /// SHA-256 of the training data's manifest (every message's id, label,
    /// source, group, date and SHA-1, in order).
    pub data_manifest_sha256: String,
    /// The date the card states (`YYYY-MM-DD`): SOURCE_DATE_EPOCH, or the
    /// newest message of the data, never the clock, so that a rerun gives
    /// the same bytes.
    pub date: String,
    /// Counts, class balance, splits, cross-validation and held-out
    /// metrics, as training reports them.
    pub details: serde_json::Value,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer; loading refuses any other.
    pub format_version: u32,
    /// The feature schema the model was trained on; loading refuses a
    /// stamp other than [`SchemaStamp::current`].
    pub feature_schema: SchemaStamp,
    /// Every learned number: rules, classifier, calibration, levels.
    pub model: ModelParams,
    /// How the model was made.
    pub training: TrainingRecord,
    /// SHA-256 (hex) of every other file of the artifact, by name; must
    /// agree with [`SUMS_FILE`]. [`write()`] fills it in.
    pub files: BTreeMap<String, String>,
}

/// A verified artifact: every file matched its SHA-256, the format and the
/// feature schema are this build's, and the model resolved.
#[derive(Clone, Debug)]
pub struct Artifact {
    /// The directory it was loaded from ([`BUILTIN_DIR`] for the built-in
    /// one, which has no directory on disk).
    pub dir: PathBuf,
    /// SHA-256 (hex) of manifest.json: names this exact model.
    pub manifest_sha256: String,
    /// The manifest as read.
    pub manifest: Manifest,
    /// The manifest's parameters, resolved and ready to score.
    pub model: Model,
}

/// Lower-case hex SHA-256 of `bytes` (64 characters).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn refuse<T>(dir: &Path, problem: String) -> Result<T, ModelError> {
    Err(ModelError::Artifact {
        dir: dir.to_path_buf(),
        problem,
    })
}

pub(crate) fn read_bounded(dir: &Path, name: &str) -> Result<Vec<u8>, ModelError> {
    use std::io::Read;
    let path = dir.join(name);
    let file = std::fs::File::open(&path).or_else(|e| {
        refuse(
            dir,
            format!("cannot open {name} ({e}); the artifact is incomplete: train it again or restore the directory"),
        )
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| ModelError::Read { path, source })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return refuse(dir, format!("{name} is larger than {MAX_FILE_BYTES} bytes"));
    }
    Ok(bytes)
}

/// Parses SHA256SUMS strictly: `HEX  NAME` lines, plain names only.
fn parse_sums(dir: &Path, text: &[u8]) -> Result<BTreeMap<String, String>, ModelError> {
    let Ok(text) = std::str::from_utf8(text) else {
        return refuse(dir, format!("{SUMS_FILE} is not UTF-8"));
    };
    let mut sums = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let parsed = line.split_once("  ").filter(|(hex, name)| {
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && !name.is_empty()
                && !name.contains('/')
                && !name.contains('\\')
                && !name.starts_with('.')
        });
        let Some((hex, name)) = parsed else {
            return refuse(
                dir,
                format!(
                    "{SUMS_FILE} line {}: expected `SHA256  FILE`, got {line:?}",
                    n + 1
                ),
            );
        };
        if sums.insert(name.to_string(), hex.to_string()).is_some() {
            return refuse(dir, format!("{SUMS_FILE} lists {name} twice"));
        }
    }
    if !sums.contains_key(MANIFEST_FILE) {
        return refuse(dir, format!("{SUMS_FILE} does not list {MANIFEST_FILE}"));
    }
    Ok(sums)
}

/// Reads and verifies the artifact in `dir`.
///
/// An error ([`ModelError::Artifact`], or [`ModelError::Read`] for an I/O
/// failure) names the directory and the check that failed; nothing of a
/// refused artifact is used.
pub fn load(dir: &Path) -> Result<Artifact, ModelError> {
    if !dir.is_dir() {
        return refuse(
            dir,
            "not a directory; give the model artifact's directory (e.g. models/default)".into(),
        );
    }
    verify(dir, &|name| read_bounded(dir, name))
}

/// The name the built-in artifact gives as its [`Artifact::dir`] (in
/// errors and logs); no such directory is read.
pub const BUILTIN_DIR: &str = "models/default (built in)";

/// The files of `models/default` as this binary was built with them.
const BUILTIN_FILES: [(&str, &[u8]); 4] = [
    (
        MANIFEST_FILE,
        include_bytes!("../../../models/default/manifest.json"),
    ),
    (
        SUMS_FILE,
        include_bytes!("../../../models/default/SHA256SUMS"),
    ),
    (
        CARD_FILE,
        include_bytes!("../../../models/default/MODEL_CARD.md"),
    ),
    (
        "training.parquet",
        include_bytes!("../../../models/default/training.parquet"),
    ),
];

/// The default artifact (`models/default`) built into the binary, verified
/// like any other.
pub fn builtin() -> Result<Artifact, ModelError> {
    let dir = Path::new(BUILTIN_DIR);
    verify(dir, &|name| {
        BUILTIN_FILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.to_vec())
            .map_or_else(
                || refuse(dir, format!("cannot open {name}: not built in")),
                Ok,
            )
    })
}

/// One file of a verified artifact, read again (from its directory, or
/// from the binary for the built-in one), and checked against the
/// SHA-256 the artifact's manifest recorded.
pub fn read_file(artifact: &Artifact, name: &str) -> Result<Vec<u8>, ModelError> {
    let dir = &artifact.dir;
    let bytes = match BUILTIN_FILES.iter().find(|(n, _)| *n == name) {
        Some((_, b)) if dir == Path::new(BUILTIN_DIR) => b.to_vec(),
        _ => read_bounded(dir, name)?,
    };
    match artifact.manifest.files.get(name) {
        Some(want) if *want == sha256_hex(&bytes) => Ok(bytes),
        Some(_) => refuse(
            dir,
            format!("{name} changed since the artifact was verified; load it again"),
        ),
        None => refuse(dir, format!("the artifact has no file {name}")),
    }
}

/// Verifies an artifact whose files `read` returns by name; `dir` names
/// it in errors.
pub fn verify(
    dir: &Path,
    read: &dyn Fn(&str) -> Result<Vec<u8>, ModelError>,
) -> Result<Artifact, ModelError> {
    let sums = parse_sums(dir, &read(SUMS_FILE)?)?;
    let mut manifest_bytes = Vec::new();
    for (name, want) in &sums {
        let bytes = read(name)?;
        let got = sha256_hex(&bytes);
        if &got != want {
            return refuse(
                dir,
                format!(
                    "{name} has SHA-256 {got} but {SUMS_FILE} says {want}: the file changed after training; restore it or train again"
                ),
            );
        }
        if name == MANIFEST_FILE {
            manifest_bytes = bytes;
        }
    }
    // Format first, on a loose reading, so a newer artifact is named as
    // such rather than failing on a field this build does not know.
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
        format_version: Option<u32>,
        feature_schema: Option<SchemaStamp>,
    }
    let head: Head = serde_json::from_slice(&manifest_bytes)
        .or_else(|e| refuse(dir, format!("{MANIFEST_FILE} is not JSON: {e}")))?;
    if head.format.as_deref() != Some(FORMAT) {
        return refuse(
            dir,
            format!(
                "{MANIFEST_FILE} is not an {FORMAT} manifest (format {:?})",
                head.format
            ),
        );
    }
    match head.format_version {
        Some(FORMAT_VERSION) => {}
        other => {
            return refuse(
                dir,
                format!(
                    "unknown format version {} in {MANIFEST_FILE}; this build reads version {FORMAT_VERSION}: use the impostor that trained it, or train again",
                    other.map_or("(none)".to_string(), |v| v.to_string())
                ),
            )
        }
    }
    let current = SchemaStamp::current();
    match head.feature_schema {
        Some(s) if s == current => {}
        Some(s) => {
            return refuse(
                dir,
                format!(
                    "trained on feature schema version {} (hash {}), but this build computes version {} (hash {}); train the model again with this build",
                    s.version, s.hash, current.version, current.hash
                ),
            )
        }
        None => return refuse(dir, format!("{MANIFEST_FILE} names no feature schema")),
    }
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .or_else(|e| refuse(dir, format!("{MANIFEST_FILE}: {e}")))?;
    for (name, want) in &manifest.files {
        match sums.get(name) {
            Some(got) if got == want => {}
            Some(got) => {
                return refuse(
                    dir,
                    format!("{MANIFEST_FILE} gives {name} SHA-256 {want}, {SUMS_FILE} gives {got}"),
                )
            }
            None => return refuse(dir, format!("{SUMS_FILE} does not list {name}")),
        }
    }
    for name in sums.keys() {
        if name != MANIFEST_FILE && !manifest.files.contains_key(name) {
            return refuse(dir, format!("{MANIFEST_FILE} does not list {name}"));
        }
    }
    let model = Model::new(manifest.model.clone())
        .or_else(|e| refuse(dir, format!("{MANIFEST_FILE}: {e}")))?;
    Ok(Artifact {
        dir: dir.to_path_buf(),
        manifest_sha256: sums[MANIFEST_FILE].clone(),
        manifest,
        model,
    })
}

/// Writes an artifact into `dir`, whole or not at all: the files go into a
/// temporary directory beside it, which is renamed into place. An existing
/// artifact at `dir` is replaced; any other existing directory is refused.
///
/// `manifest.files` is filled in from `files` (name → bytes).
pub fn write(
    dir: &Path,
    mut manifest: Manifest,
    files: &[(String, Vec<u8>)],
) -> Result<(), ModelError> {
    let werr = |source| WriteError {
        path: dir.to_path_buf(),
        source,
    };
    if !atomic::replaceable(dir, SUMS_FILE).map_err(werr)? {
        return refuse(
            dir,
            "exists and is not a model artifact; choose another output directory".into(),
        );
    }
    manifest.files = files
        .iter()
        .map(|(name, bytes)| (name.clone(), sha256_hex(bytes)))
        .collect();
    let mut manifest_json = serde_json::to_vec_pretty(&manifest).map_err(ModelError::Json)?;
    manifest_json.push(b'\n');
    let mut all: BTreeMap<&str, &[u8]> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    all.insert(MANIFEST_FILE, &manifest_json);
    let sums: String = all
        .iter()
        .map(|(name, bytes)| format!("{}  {name}\n", sha256_hex(bytes)))
        .collect();
    let staged = StagedDir::beside(dir)?;
    for (name, bytes) in all.iter().chain([(&SUMS_FILE, &sums.as_bytes())]) {
        staged.write(name, bytes)?;
    }
    staged.commit(dir)?;
    Ok(())
}

/// Writes to `out` the verified artifact at `dir` with its file list
/// changed: the files `keep` refuses are left out, `add` (name → bytes;
/// plain names) joins or replaces, and the manifest and SHA256SUMS are
/// written again to cover exactly the result (so the manifest's SHA-256,
/// the model's id, changes). Written whole or not at all ([`write()`]);
/// `out` may be `dir` itself. A signature is not carried over: it covered
/// the old manifest, so the caller signs the result again
/// ([`crate::signing::SignedStage`]).
pub fn rewrite_files(
    dir: &Path,
    out: &Path,
    keep: &dyn Fn(&str) -> bool,
    add: &[(String, Vec<u8>)],
) -> Result<Artifact, ModelError> {
    let artifact = load(dir)?;
    for (name, _) in add {
        let plain = !name.is_empty()
            && !name.contains('/')
            && !name.contains('\\')
            && !name.starts_with('.')
            && ![MANIFEST_FILE, SUMS_FILE].contains(&name.as_str());
        if !plain {
            return refuse(
                dir,
                format!("cannot add a file named {name:?}: artifact files have plain names"),
            );
        }
    }
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for name in artifact.manifest.files.keys() {
        if keep(name) {
            files.insert(name.clone(), read_file(&artifact, name)?);
        }
    }
    for (name, bytes) in add {
        files.insert(name.clone(), bytes.clone());
    }
    let files: Vec<(String, Vec<u8>)> = files.into_iter().collect();
    write(out, artifact.manifest.clone(), &files)?;
    load(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::example_params;

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            feature_schema: SchemaStamp::current(),
            model: example_params(),
            training: TrainingRecord {
                command: "train corpus --labels labels.tsv".into(),
                data_manifest_sha256: "ab".repeat(32),
                date: "2026-11-29".into(),
                details: serde_json::json!({"folds": 5}),
            },
            files: BTreeMap::new(),
        }
    }

    fn files() -> Vec<(String, Vec<u8>)> {
        vec![
            (CARD_FILE.into(), b"# Model card\n".to_vec()),
            ("training.parquet".into(), vec![7u8; 300]),
        ]
    }

    fn written() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("model");
        write(&dir, manifest(), &files()).unwrap();
        (tmp, dir)
    }

    /// Rewrites the manifest through `edit` and re-signs SHA256SUMS, as
    /// someone would who meant to pass off another artifact.
    fn resign(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
        let path = dir.join(MANIFEST_FILE);
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        edit(&mut v);
        let bytes = serde_json::to_vec_pretty(&v).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let sums = std::fs::read_to_string(dir.join(SUMS_FILE)).unwrap();
        let sums: String = sums
            .lines()
            .map(|l| {
                if l.ends_with(&format!("  {MANIFEST_FILE}")) {
                    format!("{}  {MANIFEST_FILE}\n", sha256_hex(&bytes))
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(dir.join(SUMS_FILE), sums).unwrap();
    }

    fn refusal(dir: &Path) -> String {
        load(dir).unwrap_err().to_string()
    }

    #[test]
    fn the_builtin_default_model_verifies() {
        let a = builtin().unwrap();
        assert!(a.model.rules().len() >= 40);
        assert_eq!(a.manifest.files.len(), 2);
    }

    #[test]
    fn a_written_artifact_loads_and_scores_as_written() {
        let (_tmp, dir) = written();
        let a = load(&dir).unwrap();
        assert_eq!(a.manifest.model, example_params());
        assert_eq!(a.manifest.files.len(), 2);
        let sums = std::fs::read_to_string(dir.join(SUMS_FILE)).unwrap();
        assert_eq!(sums.lines().count(), 3);
        // Nothing temporary is left beside it.
        let siblings: Vec<_> = std::fs::read_dir(dir.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(siblings, ["model"]);
    }

    #[test]
    fn a_changed_byte_is_refused_naming_the_file() {
        let (_tmp, dir) = written();
        let path = dir.join("training.parquet");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[100] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let e = refusal(&dir);
        assert!(
            e.contains("training.parquet") && e.contains("SHA-256"),
            "{e}"
        );

        let (_tmp, dir) = written();
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replacen("\"weight\": 2.0", "\"weight\": 9.0", 1),
        )
        .unwrap();
        let e = refusal(&dir);
        assert!(
            e.contains(MANIFEST_FILE) && e.contains("changed after training"),
            "{e}"
        );
    }

    #[test]
    fn another_feature_schema_is_refused() {
        let (_tmp, dir) = written();
        resign(&dir, |v| {
            v["feature_schema"]["version"] = serde_json::json!(SCHEMA_VERSION - 1);
            v["feature_schema"]["hash"] = serde_json::json!("0".repeat(64));
        });
        let e = refusal(&dir);
        assert!(e.contains("feature schema version"), "{e}");
        assert!(e.contains(&Feature::schema_hash()), "{e}");
    }

    #[test]
    fn floors_survive_the_round_trip_and_an_unknown_one_is_refused_by_code() {
        let (_tmp, dir) = written();
        let a = load(&dir).unwrap();
        let floored: Vec<&str> = a
            .model
            .rules()
            .iter()
            .filter(|r| r.floor.is_some())
            .map(|r| r.text.code.as_str())
            .collect();
        assert!(
            floored.contains(&"identity_readers_disagree"),
            "{floored:?}"
        );
        resign(&dir, |v| {
            let rules = v["model"]["rules"]["rules"].as_array_mut().unwrap();
            let rule = rules
                .iter_mut()
                .find(|r| r["rule"]["code"] == "from_empty")
                .unwrap();
            rule["rule"]["floor"] = serde_json::json!("sometimes");
        });
        let e = refusal(&dir);
        assert!(e.contains("from_empty") && e.contains("sometimes"), "{e}");
    }

    #[test]
    fn an_unknown_format_version_is_refused() {
        let (_tmp, dir) = written();
        resign(&dir, |v| {
            v["format_version"] = serde_json::json!(99);
            v["something_new"] = serde_json::json!(true);
        });
        let e = refusal(&dir);
        assert!(e.contains("unknown format version 99"), "{e}");
    }

    #[test]
    fn missing_files_and_bad_sums_are_refused() {
        let (_tmp, dir) = written();
        std::fs::remove_file(dir.join(CARD_FILE)).unwrap();
        assert!(refusal(&dir).contains(CARD_FILE));

        let (_tmp, dir) = written();
        std::fs::remove_file(dir.join(SUMS_FILE)).unwrap();
        assert!(refusal(&dir).contains(SUMS_FILE));

        let (_tmp, dir) = written();
        std::fs::write(dir.join(SUMS_FILE), "xyz  manifest.json\n").unwrap();
        assert!(refusal(&dir).contains("expected"));

        // A file listed in SHA256SUMS but not in the manifest.
        let (_tmp, dir) = written();
        std::fs::write(dir.join("extra.bin"), b"x").unwrap();
        let mut sums = std::fs::read_to_string(dir.join(SUMS_FILE)).unwrap();
        sums.push_str(&format!("{}  extra.bin\n", sha256_hex(b"x")));
        std::fs::write(dir.join(SUMS_FILE), sums).unwrap();
        assert!(refusal(&dir).contains("does not list extra.bin"));

        // A model that names a feature this build lacks, re-signed.
        let (_tmp, dir) = written();
        resign(&dir, |v| {
            v["model"]["classifier"]["inputs"][0]["feature"] = serde_json::json!("gone_flag");
        });
        assert!(refusal(&dir).contains("gone_flag"));

        assert!(load(Path::new("/nonexistent/model"))
            .unwrap_err()
            .to_string()
            .contains("not a directory"));
    }

    #[test]
    fn writing_replaces_an_artifact_but_not_other_directories() {
        let (tmp, dir) = written();
        let mut m = manifest();
        m.training.command = "train again".into();
        write(&dir, m, &files()).unwrap();
        assert_eq!(load(&dir).unwrap().manifest.training.command, "train again");

        let other = tmp.path().join("photos");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("cat.jpg"), b"meow").unwrap();
        let e = write(&other, manifest(), &files()).unwrap_err().to_string();
        assert!(e.contains("not a model artifact"), "{e}");
        assert_eq!(std::fs::read(other.join("cat.jpg")).unwrap(), b"meow");
    }
}
