//! The corpus manifest: one row per message of the inputs, saying where it
//! is, what it is, when it was written and what it duplicates.

use super::digests::sha1_each;
use super::duplicates::{group_duplicates, DuplicateCounts};
use super::label::{label_from_member, Label};
use super::surface::{scan_headers, surface_of};
use crate::error::CorpusError;
use impostor_mailsource::{read_inputs, RawMessage, ReadOptions};
use impostor_model::atomic::write_file;
use mail_parser::{DateTime, MessageParser};
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64;

/// Messages handed to the workers at a time.
const BATCH: usize = 256;
/// Messages a worker takes at a time: their SHA-1 digests are computed
/// side by side (see [`sha1_each`]).
const CHUNK: usize = 32;
/// Bodies with fewer letters than this are not compared: "thanks!" twice
/// is not a duplicate.
const MIN_BODY_LETTERS: usize = 64;
/// Bytes of a body whose letters go into its hash; mass mail that differs
/// far down (a footer with the recipient) still groups.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// One message of the corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct ManifestRow {
    /// `source:member[#index]`, unique within a manifest.
    pub id: String,
    /// The input's name (see [`source_name`]), or the one given in
    /// [`IndexOptions::source`].
    pub source: String,
    /// The file read: the archive, mbox or message file.
    pub path: String,
    /// The name inside an archive, or the path below a directory given as
    /// input.
    pub member: Option<String>,
    /// 0-based position inside an mbox.
    pub index: Option<u64>,
    /// From the labels file when it lists the message, else from the
    /// folder names; `None` when neither says.
    pub label: Option<Label>,
    /// A technique code of design.md §3 for injected attacks.
    pub technique: Option<String>,
    /// Generated rather than collected, as the labels file says.
    pub synthetic: bool,
    /// The Date header in UTC, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Seconds since the epoch of the Date header.
    pub timestamp: Option<i64>,
    /// SHA-1 of the message bytes as read (an mbox "From " line removed).
    pub sha1: Option<String>,
    /// The Message-ID without its angle brackets.
    pub message_id: Option<String>,
    /// A hash of the body's letters, lower-cased: equal for copies that
    /// differ only in white space, punctuation, digits or MIME boundaries.
    /// Hex xxh3 of the first 16 KiB's letters; `None` under 64 letters.
    pub body_hash: Option<String>,
    /// Size of the message as read, in bytes (0 when it could not be read).
    pub bytes: u64,
    /// For an attack injected into a real message: that carrier's SHA-1.
    /// The attack joins its carrier's duplicate group, so no split puts
    /// the two on different sides.
    pub carrier_sha1: Option<String>,
    /// The id of the first message of this one's duplicate group (itself
    /// when it has no duplicates).
    pub group: String,
    /// Why the message could not be read or is not a message; such a row
    /// has no date, Message-ID or body hash (and no SHA-1 if unreadable).
    pub error: Option<String>,
}

/// What a labels file says of one message.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelEntry {
    /// The `label` cell; `None` when empty.
    pub label: Option<Label>,
    /// The `technique` cell: a technique code of design.md §3; `None` when
    /// empty or `none`.
    pub technique: Option<String>,
    /// The `synthetic` cell is `true`, `1` or `yes`.
    pub synthetic: bool,
    /// The SHA-1 of the real message an attack was injected into.
    pub carrier_sha1: Option<String>,
}

/// How to index.
#[derive(Clone, Debug, Default)]
pub struct IndexOptions {
    /// The source name of every input; default: each input's file name
    /// without its archive extension.
    pub source: Option<String>,
    /// Labels by member (or file name), overriding folder names.
    pub labels: HashMap<String, LabelEntry>,
    /// Labels of generated corpora, by their `messages` directory as given
    /// (see [`generated_labels`]), for the messages below that directory
    /// (two generated corpora name their members alike, so one global map
    /// could not hold both). `labels`, given explicitly, wins.
    pub labels_by_input: HashMap<PathBuf, HashMap<String, LabelEntry>>,
    /// How the inputs are read (archives, mboxes, limits).
    pub read: ReadOptions,
}

/// The manifest rows and, beside them, each message's surface features
/// (for the source probe; not stored).
#[derive(Debug, Default)]
pub struct Index {
    /// One per message, in input order.
    pub rows: Vec<ManifestRow>,
    /// Row i's surface features (see
    /// [`surface_feature_names`](crate::surface::surface_feature_names));
    /// empty for a row that could not be read or indexed.
    pub surfaces: Vec<Vec<f64>>,
    /// What joined the duplicate groups.
    pub duplicates: DuplicateCounts,
}

/// The source name of an input: its file name without .tar.gz, .tgz, .tar,
/// .mbox or .eml; for a generated corpus's `messages` directory (beside its
/// `labels.tsv`), the corpus directory's name.
pub fn source_name(path: &Path) -> String {
    let generated = path.file_name().is_some_and(|n| n == "messages")
        && path
            .parent()
            .is_some_and(|p| p.join("labels.tsv").is_file());
    let path = match path.parent() {
        Some(parent) if generated && parent.file_name().is_some() => parent,
        _ => path,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    for ext in [".tar.gz", ".tgz", ".tar", ".mbox", ".eml"] {
        if let Some(stem) = name.strip_suffix(ext) {
            return stem.to_string();
        }
    }
    name
}

/// The input a message was found under: for a file below a directory given
/// as input (its member is its path below that directory), the directory;
/// otherwise the file itself. Every message of one input shares a source.
pub fn input_of<'a>(path: &'a Path, member: Option<&str>) -> &'a Path {
    let Some(member) = member.filter(|m| path.ends_with(m)) else {
        return path;
    };
    let mut root = path;
    for _ in Path::new(member).components() {
        match root.parent() {
            Some(p) => root = p,
            None => return path,
        }
    }
    root
}

/// Reads a labels file: tab-separated with a header naming at least
/// `member` and `label`, optionally `technique`, `synthetic`
/// (true/false/1/0) and `carrier_sha1` (the message an attack was made
/// from).
pub fn read_labels(path: &Path) -> Result<HashMap<String, LabelEntry>, CorpusError> {
    let text = std::fs::read_to_string(path).map_err(|source| CorpusError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |line: usize, message: String| CorpusError::Table {
        path: path.to_path_buf(),
        message: format!("line {line}: {message}"),
    };
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().ok_or_else(|| {
        bad(
            1,
            "empty; the first line names the columns (member, label, …)".into(),
        )
    })?;
    let columns: Vec<&str> = header.split('\t').map(str::trim).collect();
    let col = |name: &str| columns.iter().position(|c| *c == name);
    let (Some(member_col), Some(label_col)) = (col("member"), col("label")) else {
        return Err(bad(
            1,
            format!("the header must name the columns member and label; it has {columns:?}"),
        ));
    };
    let (technique_col, synthetic_col, carrier_col) =
        (col("technique"), col("synthetic"), col("carrier_sha1"));
    let mut out = HashMap::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |c: Option<usize>| {
            c.and_then(|c| cells.get(c))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };
        let member = cell(Some(member_col)).ok_or_else(|| bad(n + 1, "no member".into()))?;
        let label = match cell(Some(label_col)) {
            None => None,
            Some(l) => Some(Label::parse(l).ok_or_else(|| {
                bad(
                    n + 1,
                    format!("unknown label {l:?}; use ham, spam, phish or bec"),
                )
            })?),
        };
        let technique = cell(technique_col)
            .filter(|t| *t != "none")
            .map(str::to_string);
        if let Some(t) = &technique {
            if impostor_features::Technique::from_code(t).is_none() {
                return Err(bad(
                    n + 1,
                    format!("unknown technique {t:?}; use a code of design.md §3"),
                ));
            }
        }
        let synthetic = matches!(cell(synthetic_col), Some("true" | "1" | "yes"));
        out.insert(
            member.to_string(),
            LabelEntry {
                label,
                technique,
                synthetic,
                carrier_sha1: cell(carrier_col).map(str::to_string),
            },
        );
    }
    Ok(out)
}

/// Whether `path` is a generated corpus's `messages` directory: one named
/// `messages` with a `labels.tsv` beside it (as `impostor gen` writes).
pub fn is_generated_messages(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "messages")
        && path.is_dir()
        && path
            .parent()
            .is_some_and(|p| p.join("labels.tsv").is_file())
}

/// The labels of every generated corpus among `paths` (read from the
/// `labels.tsv` beside its `messages` directory), by input path.
pub fn generated_labels(
    paths: &[PathBuf],
) -> Result<HashMap<PathBuf, HashMap<String, LabelEntry>>, CorpusError> {
    let mut out = HashMap::new();
    for p in paths.iter().filter(|p| is_generated_messages(p)) {
        let labels = p.parent().expect("checked above").join("labels.tsv");
        out.insert(p.clone(), read_labels(&labels)?);
    }
    Ok(out)
}

/// Every input exists, or an error names the first that does not (before
/// a long run starts rather than as an error row per input).
pub fn check_inputs(paths: &[PathBuf]) -> Result<(), CorpusError> {
    match paths.iter().find(|p| !p.exists()) {
        Some(p) => Err(CorpusError::MissingInput { path: p.clone() }),
        None => Ok(()),
    }
}

/// Indexes every message of `paths`, in input order, on the current rayon
/// pool; `progress` is called with the number of messages done after each
/// batch. Duplicate groups are computed over all inputs together.
pub fn index_inputs(paths: &[PathBuf], options: &IndexOptions, progress: &dyn Fn(u64)) -> Index {
    index_inputs_with(paths, options, progress, &|_: &RawMessage| ()).0
}

/// [`index_inputs`] that also hands every message to `each` in the same
/// single pass over the inputs (the workers call it beside the indexing,
/// on the same bytes), e.g. to extract its features. The results come back
/// in the order of `Index::rows`: element i belongs to row i.
///
/// A panic while indexing one message (a bug its bytes found) becomes that
/// row's error; `each` should contain its own panics the same way (feature
/// extraction does).
pub fn index_inputs_with<T: Send>(
    paths: &[PathBuf],
    options: &IndexOptions,
    progress: &dyn Fn(u64),
    each: &(dyn Fn(&RawMessage) -> T + Sync),
) -> (Index, Vec<T>) {
    let mut index = Index::default();
    let mut results = Vec::new();
    // Reading (gunzip, tar) fills the next batch on its own thread while
    // the workers index this one; the small channel bounds memory.
    let (batches, incoming) = std::sync::mpsc::sync_channel::<Vec<RawMessage>>(2);
    let messages = read_inputs(paths, &options.read);
    // Each input's source name, once: naming a generated corpus looks at
    // the file system, which is no work for every message.
    let sources: HashMap<&Path, String> = paths
        .iter()
        .map(|p| (p.as_path(), source_name(p)))
        .collect();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut messages = messages;
            loop {
                let batch: Vec<RawMessage> = messages.by_ref().take(BATCH).collect();
                if batch.is_empty() || batches.send(batch).is_err() {
                    break;
                }
            }
        });
        for batch in incoming {
            let done: Vec<(ManifestRow, Vec<f64>, T)> = batch
                .par_chunks(CHUNK)
                .flat_map_iter(|chunk| {
                    let bytes: Vec<&[u8]> = chunk
                        .iter()
                        .map(|m| m.bytes.as_deref().unwrap_or_default())
                        .collect();
                    let digests = sha1_each(&bytes);
                    chunk.iter().zip(digests).map(|(m, sha1)| {
                        let (row, surface) = index_contained(m, &sha1, options, &sources);
                        (row, surface, each(m))
                    })
                })
                .collect();
            for (row, surface, result) in done {
                index.rows.push(row);
                index.surfaces.push(surface);
                results.push(result);
            }
            progress(index.rows.len() as u64);
        }
    });
    index.duplicates = group_duplicates(&mut index.rows);
    (index, results)
}

/// [`index_one`], with a panic contained to the message's own row.
fn index_contained(
    m: &RawMessage,
    sha1: &[u8; 20],
    options: &IndexOptions,
    sources: &HashMap<&Path, String>,
) -> (ManifestRow, Vec<f64>) {
    match impostor_features::contain_panic(|| Ok(index_one(m, sha1, options, sources))) {
        Ok(done) => done,
        Err(e) => {
            // Where the message is and its label come from the input's
            // names, not from the bytes that caused the panic.
            let mut row = identify(m, options, sources);
            row.error = Some(e.to_string());
            (row, Vec::new())
        }
    }
}

/// `sha1` is the digest of the message's bytes (unused for an error);
/// `sources` names the inputs.
fn index_one(
    m: &RawMessage,
    sha1: &[u8; 20],
    options: &IndexOptions,
    sources: &HashMap<&Path, String>,
) -> (ManifestRow, Vec<f64>) {
    let mut row = identify(m, options, sources);
    let bytes = match &m.bytes {
        Ok(b) => b,
        Err(e) => {
            row.error = Some(e.describe());
            return (row, Vec::new());
        }
    };
    row.bytes = bytes.len() as u64;
    row.sha1 = Some(hex(sha1));
    // One pass over the header block finds Date and Message-ID; only the
    // Date value goes through mail-parser's date reader.
    let scan = scan_headers(bytes);
    if scan.count == 0 {
        row.error = Some("not an RFC 5322 message: no header field could be read".into());
        return (row, surface_of(bytes, &scan));
    }
    row.message_id = scan.message_id.and_then(message_id);
    if let Some(ts) = scan.date.and_then(date_timestamp) {
        let day = DateTime::from_timestamp(ts);
        if (1970..2200).contains(&day.year) {
            row.timestamp = Some(ts);
            row.date = Some(format!("{:04}-{:02}-{:02}", day.year, day.month, day.day));
        }
    }
    row.body_hash = body_hash(&bytes[scan.len.min(bytes.len())..]);
    (row, surface_of(bytes, &scan))
}

/// A message's row as its input names it (id, source, place, label), with
/// nothing read from its bytes yet.
fn identify(
    m: &RawMessage,
    options: &IndexOptions,
    sources: &HashMap<&Path, String>,
) -> ManifestRow {
    let input = input_of(&m.origin.path, m.origin.member.as_deref());
    let source = match (&options.source, sources.get(input)) {
        (Some(s), _) | (None, Some(s)) => s.clone(),
        (None, None) => source_name(input),
    };
    let member = m.origin.member.clone();
    let key = member.clone().unwrap_or_else(|| {
        m.origin
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let mut id = format!("{source}:{key}");
    if let Some(i) = m.origin.index {
        id.push_str(&format!("#{i}"));
    }
    let given = options.labels.get(&key).or_else(|| {
        options
            .labels_by_input
            .get(input)
            .and_then(|labels| labels.get(&key))
    });
    ManifestRow {
        id: id.clone(),
        source,
        path: m.origin.path.display().to_string(),
        member,
        index: m.origin.index.map(|i| i as u64),
        label: given.map_or_else(|| label_from_member(&key), |g| g.label),
        technique: given.and_then(|g| g.technique.clone()),
        synthetic: given.is_some_and(|g| g.synthetic),
        date: None,
        timestamp: None,
        sha1: None,
        message_id: None,
        body_hash: None,
        bytes: 0,
        carrier_sha1: given.and_then(|g| g.carrier_sha1.clone()),
        group: id,
        error: None,
    }
}

/// A Message-ID as written without its angle brackets and white space.
fn message_id(value: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(value);
    let text = text.trim();
    let inner = match (text.find('<'), text.rfind('>')) {
        (Some(a), Some(b)) if a < b => &text[a + 1..b],
        _ => text,
    };
    let inner = inner.trim();
    (!inner.is_empty()).then(|| inner.to_string())
}

/// Seconds since the epoch of a Date value, read by mail-parser.
pub(crate) fn date_timestamp(value: &[u8]) -> Option<i64> {
    let mut field = Vec::with_capacity(value.len() + 8);
    field.extend_from_slice(b"Date:");
    field.extend_from_slice(value);
    field.extend_from_slice(b"\n\n");
    let parsed = MessageParser::new()
        .with_date_headers()
        .parse_headers(&field)?;
    parsed.date().map(DateTime::to_timestamp)
}

/// The hash of a body's letters as stored, lower-cased, skipping MIME
/// boundary lines (random in every copy); None for bodies too short to
/// compare. Read raw, not decoded: copies carry the same encoding, and
/// indexing must stay far cheaper than parsing.
pub fn body_hash(body: &[u8]) -> Option<String> {
    thread_local! {
        // One buffer per worker: a fresh zeroed one per message costs
        // more in page faults than the hashing itself.
        static LETTERS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let body = &body[..body.len().min(MAX_BODY_BYTES)];
    LETTERS.with_borrow_mut(|letters| {
        if letters.len() < body.len() {
            letters.resize(body.len(), 0);
        }
        letters_hash(body, letters)
    })
}

/// What each byte adds to the letters: an ASCII letter lower-cased, a
/// non-ASCII byte as it is, anything else 0 (none of the kept bytes is 0).
const LETTER: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        let lower = byte | 0x20;
        table[b] = if byte >= 0x80 {
            byte
        } else if lower.wrapping_sub(b'a') < 26 {
            lower
        } else {
            0
        };
        b += 1;
    }
    table
};

fn letters_hash(body: &[u8], letters: &mut [u8]) -> Option<String> {
    let mut n = 0;
    let mut rest = body;
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or_default();
        if line.first() == Some(&b'-') {
            continue;
        }
        // Branch-free: every byte is written, and the count moves on only
        // for the bytes kept. Eight bytes at a time, one bounds check each:
        // the letters never outrun the bytes read, so the eight bytes
        // from `n` are free, and `k & 7` is `k`.
        let (chunks, tail) = line.as_chunks::<8>();
        for chunk in chunks {
            let Some(out) = letters[n..].first_chunk_mut::<8>() else {
                break;
            };
            let mut k = 0;
            for &b in chunk {
                let v = LETTER[usize::from(b)];
                out[k & 7] = v;
                k += usize::from(v != 0);
            }
            n += k;
        }
        for &b in tail {
            let v = LETTER[usize::from(b)];
            letters[n] = v;
            n += usize::from(v != 0);
        }
    }
    (n >= MIN_BODY_LETTERS).then(|| format!("{:016x}", xxh3_64(&letters[..n])))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The manifest as a DataFrame; columns as the fields of [`ManifestRow`].
pub fn to_dataframe(rows: &[ManifestRow]) -> PolarsResult<DataFrame> {
    let s = |name: &str, f: &dyn Fn(&ManifestRow) -> Option<String>| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    DataFrame::new(
        rows.len(),
        vec![
            s("id", &|r| Some(r.id.clone())),
            s("source", &|r| Some(r.source.clone())),
            s("path", &|r| Some(r.path.clone())),
            s("member", &|r| r.member.clone()),
            Column::new(
                "index".into(),
                rows.iter()
                    .map(|r| r.index.map(|i| i as i64))
                    .collect::<Vec<_>>(),
            ),
            s("label", &|r| r.label.map(|l| l.as_str().to_string())),
            s("technique", &|r| r.technique.clone()),
            Column::new(
                "synthetic".into(),
                rows.iter().map(|r| r.synthetic).collect::<Vec<_>>(),
            ),
            s("date", &|r| r.date.clone()),
            Column::new(
                "timestamp".into(),
                rows.iter().map(|r| r.timestamp).collect::<Vec<_>>(),
            ),
            s("sha1", &|r| r.sha1.clone()),
            s("message_id", &|r| r.message_id.clone()),
            s("body_hash", &|r| r.body_hash.clone()),
            Column::new(
                "bytes".into(),
                rows.iter().map(|r| r.bytes as i64).collect::<Vec<_>>(),
            ),
            s("carrier_sha1", &|r| r.carrier_sha1.clone()),
            s("group", &|r| Some(r.group.clone())),
            s("error", &|r| r.error.clone()),
        ],
    )
}

/// Writes the manifest as Parquet, atomically.
pub fn write_manifest(rows: &[ManifestRow], path: &Path) -> Result<(), CorpusError> {
    let table = |source: PolarsError| CorpusError::Parquet {
        path: path.to_path_buf(),
        hint: "a manifest",
        source,
    };
    let mut df = to_dataframe(rows).map_err(table)?;
    write_file(path, |w| {
        ParquetWriter::new(w)
            .finish(&mut df)
            .map(|_| ())
            .map_err(table)
    })
}

/// Reads a manifest written by [`write_manifest`].
pub fn read_manifest(path: &Path) -> Result<Vec<ManifestRow>, CorpusError> {
    let table = |message: String| CorpusError::Table {
        path: path.to_path_buf(),
        message: format!("{message}; is it a manifest written by `impostor corpus index`?"),
    };
    let file = std::fs::File::open(path).map_err(|source| CorpusError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|source| CorpusError::Parquet {
            path: path.to_path_buf(),
            hint: "is it a manifest written by `impostor corpus index`?",
            source,
        })?;
    let text = |name: &str| -> Result<Vec<Option<String>>, CorpusError> {
        let c = df.column(name).map_err(|e| table(e.to_string()))?;
        let c = c.str().map_err(|e| table(e.to_string()))?;
        Ok(c.iter().map(|v| v.map(str::to_string)).collect())
    };
    let int = |name: &str| -> Result<Vec<Option<i64>>, CorpusError> {
        let c = df.column(name).map_err(|e| table(e.to_string()))?;
        let c = c.i64().map_err(|e| table(e.to_string()))?;
        Ok(c.iter().collect())
    };
    let synthetic: Vec<Option<bool>> = df
        .column("synthetic")
        .and_then(|c| c.bool().map(|b| b.iter().collect()))
        .map_err(|e| table(e.to_string()))?;
    let (id, source, path_col, member) =
        (text("id")?, text("source")?, text("path")?, text("member")?);
    let (label, technique, date, sha1) = (
        text("label")?,
        text("technique")?,
        text("date")?,
        text("sha1")?,
    );
    let (message_id, body, group, error) = (
        text("message_id")?,
        text("body_hash")?,
        text("group")?,
        text("error")?,
    );
    let (index, timestamp, bytes) = (int("index")?, int("timestamp")?, int("bytes")?);
    // Manifests written before carriers were recorded lack the column.
    let carrier = if df.column("carrier_sha1").is_ok() {
        text("carrier_sha1")?
    } else {
        vec![None; df.height()]
    };
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let label = match &label[i] {
            None => None,
            Some(l) => Some(
                Label::parse(l).ok_or_else(|| table(format!("row {i}: unknown label {l:?}")))?,
            ),
        };
        rows.push(ManifestRow {
            id: id[i].clone().unwrap_or_default(),
            source: source[i].clone().unwrap_or_default(),
            path: path_col[i].clone().unwrap_or_default(),
            member: member[i].clone(),
            index: index[i].map(|v| v as u64),
            label,
            technique: technique[i].clone(),
            synthetic: synthetic[i].unwrap_or(false),
            date: date[i].clone(),
            timestamp: timestamp[i],
            sha1: sha1[i].clone(),
            message_id: message_id[i].clone(),
            body_hash: body[i].clone(),
            bytes: bytes[i].unwrap_or(0) as u64,
            carrier_sha1: carrier[i].clone(),
            group: group[i].clone().unwrap_or_default(),
            error: error[i].clone(),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_hash_ignores_case_spacing_digits_and_short_bodies() {
        let a = "--b1\nDear customer, your order 1234 has SHIPPED.\n".repeat(4);
        let b = "--b2\ndear   customer your order 98 has shipped\n".repeat(4);
        let hash = |s: &str| body_hash(s.as_bytes());
        assert_eq!(hash(&a), hash(&b));
        assert!(hash(&a).is_some());
        assert_ne!(hash(&a), hash(&a.replace("SHIPPED", "ARRIVED")));
        assert_eq!(hash("thanks!"), None);
        assert_eq!(
            message_id(b" <AbC@x.example> "),
            Some("AbC@x.example".into())
        );
        assert_eq!(message_id(b" bare@x "), Some("bare@x".into()));
        assert_eq!(message_id(b" <> "), None);
        assert_eq!(date_timestamp(b" Thu, 1 Jan 1970 00:01:00 +0000"), Some(60));
    }

    #[test]
    fn files_below_a_directory_share_its_source() {
        let p = Path::new("corpus/default/messages/ham/000001.eml");
        assert_eq!(
            input_of(p, Some("ham/000001.eml")),
            Path::new("corpus/default/messages")
        );
        assert_eq!(source_name(input_of(p, Some("ham/000001.eml"))), "messages");
        // A tar member is not below the archive's path.
        let t = Path::new("x/sa.tar.gz");
        assert_eq!(input_of(t, Some("easy_ham/0001")), t);
        assert_eq!(input_of(p, None), p);
    }

    #[test]
    fn source_names_drop_archive_extensions() {
        assert_eq!(
            source_name(Path::new("/x/spamassassin-2002.tar.gz")),
            "spamassassin-2002"
        );
        assert_eq!(source_name(Path::new("inbox.mbox")), "inbox");
        assert_eq!(source_name(Path::new("maildir")), "maildir");
        // A generated corpus is named for its directory, not `messages`.
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("sa-injected");
        std::fs::create_dir_all(corpus.join("messages")).unwrap();
        assert_eq!(source_name(&corpus.join("messages")), "messages");
        std::fs::write(corpus.join("labels.tsv"), "member\tlabel\n").unwrap();
        assert_eq!(source_name(&corpus.join("messages")), "sa-injected");
    }
}
