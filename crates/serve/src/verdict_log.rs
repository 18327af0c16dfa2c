//! The verdict log: one JSON line per judged message (NDJSON), appended to
//! a file, so what users later report (a missed attack, a false alarm) can
//! be matched with the verdict it got and the model that gave it.
//!
//! A line: `{"time": "2026-12-05T06:11:32.123Z", "sha256": "…",
//! "message_id": "…", "score": 0.93, "level": "high", "flagged": true,
//! "techniques": ["lookalike_domain"], "model": "…"}`, where `sha256` is of
//! the raw bytes judged, `message_id` the Message-ID without its angle
//! brackets (null when there is none) and `model` the SHA-256 of the
//! artifact's manifest.json (what `/healthz` calls model_manifest_sha256).
//!
//! Each line is one `write` on a file opened with O_APPEND: lines of
//! concurrent workers (threads, or several processes on one file) never
//! interleave. A write that fails is counted and logged on standard error
//! (at most once a minute) and never fails the verdict.
//!
//! What it does not do: rotate the file (use logrotate's copytruncate, or
//! rename the file and restart), or log messages that could not be judged.

use impostor_features::Technique;
use impostor_model::artifact::sha256_hex;
use impostor_model::verdict::{Level, Verdict};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// Least time between two logged write failures: a full disk would
/// otherwise print a line per message.
const FAILURE_LOG_EVERY: Duration = Duration::from_secs(60);

/// Header bytes searched for the Message-ID: past them a header block is
/// hostile, and the line says null.
const MAX_HEADER_BYTES: usize = 256 * 1024;

/// One line of the verdict log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerdictLine {
    /// When the verdict was given, RFC 3339 in UTC with milliseconds.
    pub time: String,
    /// Lower-case hex SHA-256 of the raw message bytes judged.
    pub sha256: String,
    /// The Message-ID without angle brackets; `None` when there is none.
    pub message_id: Option<String>,
    /// The verdict's calibrated score, in [0, 1].
    pub score: f64,
    /// The verdict's level.
    pub level: Level,
    /// Whether the level reached the model's default level.
    pub flagged: bool,
    /// The techniques the verdict named.
    pub techniques: Vec<Technique>,
    /// SHA-256 of the judging artifact's manifest.json.
    pub model: String,
    /// The tenant whose org profile judged it (serve and milter with
    /// tenants); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

impl VerdictLine {
    /// The line for `verdict` on the message `bytes`, given at `time` by
    /// the model whose manifest SHA-256 is `model`.
    pub fn new(bytes: &[u8], verdict: &Verdict, model: &str, time: SystemTime) -> VerdictLine {
        VerdictLine {
            time: rfc3339_utc(time),
            sha256: sha256_hex(bytes),
            message_id: message_id(bytes),
            score: verdict.score,
            level: verdict.level,
            flagged: verdict.flagged,
            techniques: verdict.techniques.clone(),
            model: model.to_string(),
            tenant: None,
        }
    }
}

/// An append-only verdict log; cheap to clone (the clones share the file).
#[derive(Clone)]
pub struct VerdictLog {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    file: File,
    failures: AtomicU64,
    last_logged: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for VerdictLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerdictLog")
            .field("path", &self.inner.path)
            .field("failures", &self.failures())
            .finish()
    }
}

impl VerdictLog {
    /// Opens `path` for appending, creating it (0644 under the umask) when
    /// missing. Fails when it cannot be opened: better at start than a
    /// failure per message.
    pub fn open(path: &Path) -> std::io::Result<VerdictLog> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)?;
        Ok(VerdictLog {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                file,
                failures: AtomicU64::new(0),
                last_logged: Mutex::new(None),
            }),
        })
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Lines that could not be written so far.
    pub fn failures(&self) -> u64 {
        self.inner.failures.load(Ordering::Relaxed)
    }

    /// Appends the line for `verdict` on `bytes`, judged by the model whose
    /// manifest SHA-256 is `model` under `tenant`'s profile, timed now.
    /// Never fails: a failure is counted and logged. Blocking file I/O:
    /// call it from a worker thread.
    pub fn record(&self, bytes: &[u8], verdict: &Verdict, model: &str, tenant: Option<&str>) {
        let mut line = VerdictLine::new(bytes, verdict, model, SystemTime::now());
        line.tenant = tenant.map(str::to_string);
        self.append(&line);
    }

    /// Appends `line`; never fails (see [`VerdictLog::record`]).
    pub fn append(&self, line: &VerdictLine) {
        let mut text = match serde_json::to_vec(line) {
            Ok(t) => t,
            Err(e) => return self.failed(&format!("cannot encode the line: {e}")),
        };
        text.push(b'\n');
        // One write: with O_APPEND the kernel places it whole at the end,
        // whoever else is appending. A short write (a full disk) leaves a
        // partial line, which readers skip as unparseable.
        match (&self.inner.file).write(&text) {
            Ok(n) if n == text.len() => {}
            Ok(n) => self.failed(&format!(
                "only {n} of {} bytes written (is the disk full?)",
                text.len()
            )),
            Err(e) => self.failed(&e.to_string()),
        }
    }

    fn failed(&self, why: &str) {
        let n = self.inner.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self
            .inner
            .last_logged
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() >= FAILURE_LOG_EVERY) {
            *last = Some(Instant::now());
            eprintln!(
                "impostor: verdict log {}: a line could not be written ({n} so far; at most one logged a minute): {why}; the verdicts stand",
                self.inner.path.display()
            );
        }
    }
}

/// The Message-ID of a raw message: the first Message-ID field of the top
/// header block, unfolded, without angle brackets and surrounding white
/// space, at most 256 bytes (cut on a character boundary); `None` when
/// there is none or it is empty.
pub fn message_id(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..bytes.len().min(MAX_HEADER_BYTES))?;
    let mut value: Option<Vec<u8>> = None;
    for raw in head.split(|&b| b == b'\n') {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.is_empty() {
            break;
        }
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        match (&mut value, continuation) {
            (Some(v), true) => v.extend_from_slice(line),
            (Some(_), false) => break,
            (None, true) => {}
            (None, false) => {
                let Some(colon) = memchr_colon(line) else {
                    continue;
                };
                let (name, rest) = line.split_at(colon);
                if name.trim_ascii().eq_ignore_ascii_case(b"message-id") {
                    value = Some(rest.get(1..).unwrap_or_default().to_vec());
                }
            }
        }
    }
    impostor_features::reported::message_id(&value?)
}

fn memchr_colon(line: &[u8]) -> Option<usize> {
    line.iter().position(|&b| b == b':')
}

/// `time` as RFC 3339 in UTC with milliseconds: `2026-12-05T06:11:32.123Z`
/// (a time before 1970 is written as 1970-01-01T00:00:00.000Z).
pub fn rfc3339_utc(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// Year, month and day of a count of days since 1970-01-01 (Howard
/// Hinnant's civil_from_days, proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use impostor_features::Technique;

    fn verdict() -> Verdict {
        Verdict {
            score: 0.75,
            level: Level::Medium,
            flagged: true,
            techniques: vec![Technique::FreemailImpersonation],
            reasons: Vec::new(),
            auth: Default::default(),
            identity: None,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn times_are_rfc3339_in_utc() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_451_092_123);
        assert_eq!(rfc3339_utc(t), "2026-12-05T06:11:32.123Z");
        assert_eq!(
            rfc3339_utc(SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339_utc(SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn the_message_id_is_read_folded_and_without_brackets() {
        let m = b"From: a@b.example\r\nmessage-ID:\r\n  <abc@host.example> \r\nSubject: x\r\n\r\nMessage-ID: <body@x>\r\n";
        assert_eq!(message_id(m).as_deref(), Some("abc@host.example"));
        assert_eq!(message_id(b"Subject: x\n\nMessage-ID: <b@x>\n"), None);
        assert_eq!(message_id(b"Message-ID: <>\n\nbody"), None);
        let long = format!("Message-ID: <{}é>\n\n", "a".repeat(255));
        let id = message_id(long.as_bytes()).unwrap();
        assert_eq!(id.len(), 255);
    }

    #[test]
    fn brackets_with_white_space_between_are_all_taken_off() {
        // Found by the verdict_log_message_id fuzz target.
        let m = b"Message-ID: < <spaced@x.example> >\r\n\r\n";
        assert_eq!(message_id(m).as_deref(), Some("spaced@x.example"));
        assert_eq!(message_id(b"Message-ID: < < >\n\n"), None);
    }

    #[test]
    fn each_record_is_one_parseable_line_appended() {
        let dir = std::env::temp_dir().join(format!("impostor-vlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("verdicts.ndjson");
        std::fs::write(&path, "{\"earlier\": true}\n").unwrap();
        let log = VerdictLog::open(&path).unwrap();
        let message = b"Message-ID: <m1@x.example>\n\nhello\n";
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        log.record(message, &verdict(), "ab12", None);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 401);
        assert_eq!(lines[0], "{\"earlier\": true}");
        for l in &lines[1..] {
            let v: VerdictLine = serde_json::from_str(l).unwrap();
            assert_eq!(v.sha256, sha256_hex(message));
            assert_eq!(v.message_id.as_deref(), Some("m1@x.example"));
            assert_eq!(v.level, Level::Medium);
            assert_eq!(v.techniques, vec![Technique::FreemailImpersonation]);
            assert_eq!(v.model, "ab12");
        }
        assert_eq!(log.failures(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
