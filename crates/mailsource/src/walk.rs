//! Walking a directory given as input: recursively, in name order, skipping
//! hidden entries and not following symlinked directories. A Maildir
//! (a directory holding `cur/`, `new/` and `tmp/`) contributes only the
//! messages of `cur/` and `new/`.

use std::ffi::OsString;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::input::{error_message, open_file, Source};
use crate::{RawMessage, ReadError};

/// Depth-first walk below one directory, yielding the messages of each file.
pub(crate) struct Walk {
    root: PathBuf,
    limit: u64,
    /// Paths still to visit, the next one last.
    pending: Vec<PathBuf>,
    root_listed: bool,
    current: Option<Source>,
}

impl Walk {
    /// A walk below `root`, which is a directory; nothing is read yet.
    pub(crate) fn new(root: PathBuf, limit: u64) -> Self {
        Self {
            root,
            limit,
            pending: Vec::new(),
            root_listed: false,
            current: None,
        }
    }

    /// The next message below the root.
    pub(crate) fn next(&mut self) -> Option<RawMessage> {
        loop {
            if let Some(source) = &mut self.current {
                if let Some(message) = source.next() {
                    return Some(message);
                }
                self.current = None;
            }
            if !self.root_listed {
                self.root_listed = true;
                let root = self.root.clone();
                if let Some(error) = self.list(&root) {
                    return Some(error);
                }
                continue;
            }
            let path = self.pending.pop()?;
            let member = self.member(&path);
            let metadata = match fs::symlink_metadata(&path) {
                Ok(metadata) => metadata,
                Err(source) => return Some(self.error(path, member, source)),
            };
            let kind = metadata.file_type();
            if kind.is_dir() {
                if let Some(error) = self.list(&path) {
                    return Some(error);
                }
                continue;
            }
            if kind.is_symlink() {
                match fs::metadata(&path) {
                    Ok(target) if target.is_file() => {}
                    // Symlinked directories are not followed (no loops);
                    // devices, FIFOs and sockets are not messages.
                    Ok(_) => continue,
                    Err(source) => return Some(self.error(path, member, source)),
                }
            } else if !kind.is_file() {
                continue;
            }
            self.current = Some(open_file(path, member, self.limit));
        }
    }

    /// Queues the visible entries of `dir` in name order (only `cur` and
    /// `new` for a Maildir). Returns the error to report if `dir` cannot
    /// be listed.
    fn list(&mut self, dir: &Path) -> Option<RawMessage> {
        let mut names: Vec<OsString> = Vec::new();
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(source) => return Some(self.dir_error(dir, source)),
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(source) => return Some(self.dir_error(dir, source)),
            };
            let name = entry.file_name();
            if !name.as_encoded_bytes().starts_with(b".") {
                names.push(name);
            }
        }
        if is_maildir(dir, &names) {
            names.retain(|name| name == "cur" || name == "new");
        }
        names.sort();
        self.pending
            .extend(names.into_iter().rev().map(|name| dir.join(name)));
        None
    }

    /// The '/'-separated path of `path` below the root, if it is below it.
    fn member(&self, path: &Path) -> Option<String> {
        let relative = path.strip_prefix(&self.root).ok()?;
        let parts: Vec<String> = relative
            .components()
            .filter_map(|component| match component {
                Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join("/"))
    }

    fn dir_error(&self, dir: &Path, source: std::io::Error) -> RawMessage {
        self.error(dir.to_path_buf(), self.member(dir), source)
    }

    fn error(&self, path: PathBuf, member: Option<String>, source: std::io::Error) -> RawMessage {
        let error = ReadError::Io {
            path: path.clone(),
            member: member.clone(),
            source,
        };
        error_message(path, member, error)
    }
}

/// A Maildir holds the directories `cur`, `new` and `tmp`.
fn is_maildir(dir: &Path, names: &[OsString]) -> bool {
    ["cur", "new", "tmp"].iter().all(|wanted| {
        names.iter().any(|name| name == wanted)
            && fs::symlink_metadata(dir.join(wanted)).is_ok_and(|m| m.is_dir())
    })
}
