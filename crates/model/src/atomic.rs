//! Every output of the workspace is written here, whole or not at all: into
//! a temporary file or directory beside its destination (the same file
//! system, so the rename is atomic), flushed to disk, then renamed into
//! place. An interrupted run leaves the old output or the new one, never
//! half of either, and at most a hidden `.impostor-*` temporary.
//!
//! Outputs are ordinary files (0644) and directories (0755), not the
//! private modes temporaries are created with.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// An output that could not be written, and which path it concerns.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}; check that its directory exists and is writable")]
pub struct WriteError {
    /// The path the failure concerns (the destination or a temporary).
    pub path: PathBuf,
    /// The operating system's reason.
    #[source]
    pub source: std::io::Error,
}

impl WriteError {
    fn at(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
        move |source| WriteError {
            path: path.to_path_buf(),
            source,
        }
    }
}

const FILE_MODE: u32 = 0o644;
const DIR_MODE: u32 = 0o755;

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// Flushes a directory's entries (a rename is durable only then); best
/// effort where the platform cannot open a directory.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `path` through `fill`; the file appears whole or not at all, and
/// an existing file is replaced only once the new one is on disk. `fill`'s
/// own error is returned as it is (the temporary is removed).
pub fn write_file<E, F>(path: &Path, fill: F) -> Result<(), E>
where
    E: From<WriteError>,
    F: FnOnce(&mut BufWriter<&mut std::fs::File>) -> Result<(), E>,
{
    let dir = parent_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".impostor-")
        .suffix(".tmp")
        .tempfile_in(dir)
        // Named for the destination: that is the file the user asked for.
        .map_err(WriteError::at(path))?;
    {
        let mut writer = BufWriter::new(tmp.as_file_mut());
        fill(&mut writer)?;
        writer.flush().map_err(WriteError::at(path))?;
    }
    set_mode(tmp.path(), FILE_MODE).map_err(WriteError::at(path))?;
    tmp.as_file().sync_all().map_err(WriteError::at(path))?;
    tmp.persist(path)
        .map_err(|e| WriteError::at(path)(e.error))?;
    sync_dir(dir);
    Ok(())
}

/// [`write_file`] of bytes already in memory.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_file(path, |w| w.write_all(bytes).map_err(WriteError::at(path)))
}

/// Writes a new file at `path` with permissions `mode` (unix; e.g. 0600
/// for a secret key), whole or not at all, and never over an existing
/// file: the error's source is then of kind
/// [`std::io::ErrorKind::AlreadyExists`]. The temporary is created
/// private, so a secret is never readable by others, not even briefly.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
    let dir = parent_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".impostor-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(WriteError::at(path))?;
    tmp.as_file_mut()
        .write_all(bytes)
        .map_err(WriteError::at(path))?;
    set_mode(tmp.path(), mode).map_err(WriteError::at(path))?;
    tmp.as_file().sync_all().map_err(WriteError::at(path))?;
    // A hard link: fails, and leaves the existing file alone, if `path` exists.
    tmp.persist_noclobber(path)
        .map_err(|e| WriteError::at(path)(e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Whether an output directory may be replaced whole: it does not exist,
/// is empty, or holds `marker` (the file its own kind of output always
/// has). Anything else is someone's data.
pub fn replaceable(dir: &Path, marker: &str) -> std::io::Result<bool> {
    if !dir.exists() || dir.join(marker).is_file() {
        return Ok(true);
    }
    Ok(std::fs::read_dir(dir)?.next().is_none())
}

/// A directory being filled beside its destination, renamed into place by
/// [`StagedDir::commit`]. Dropped without a commit, it is removed.
#[derive(Debug)]
pub struct StagedDir {
    tmp: tempfile::TempDir,
}

impl StagedDir {
    /// A new empty directory beside `dest` (its parent is created).
    pub fn beside(dest: &Path) -> Result<StagedDir, WriteError> {
        let parent = parent_of(dest);
        std::fs::create_dir_all(parent).map_err(WriteError::at(parent))?;
        let tmp = tempfile::Builder::new()
            .prefix(".impostor-staged-")
            .tempdir_in(parent)
            .map_err(WriteError::at(parent))?;
        Ok(StagedDir { tmp })
    }

    /// The staged directory, for writers that take a directory.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `relative` (folders created as needed) inside the staged
    /// directory. Flushed to disk at [`StagedDir::commit`].
    pub fn write(&self, relative: impl AsRef<Path>, bytes: &[u8]) -> Result<(), WriteError> {
        let path = self.tmp.path().join(relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(WriteError::at(dir))?;
        }
        std::fs::write(&path, bytes).map_err(WriteError::at(&path))
    }

    /// Flushes everything written to disk, then renames the directory to
    /// `dest`, replacing what is there (the caller has decided it may:
    /// see [`replaceable`]). Replacing takes two renames; in between, the
    /// old directory waits under a hidden name, so a crash leaves one
    /// whole directory. On failure the old one is put back.
    pub fn commit(self, dest: &Path) -> Result<(), WriteError> {
        let staged = self.tmp.path();
        set_mode(staged, DIR_MODE).map_err(WriteError::at(staged))?;
        // One flush of the file system for every file staged: a corpus
        // holds thousands, and fsyncing each costs a millisecond or more.
        let dir = std::fs::File::open(staged).map_err(WriteError::at(staged))?;
        rustix::fs::syncfs(&dir).map_err(|e| WriteError::at(staged)(std::io::Error::from(e)))?;
        let staged = self.tmp.keep();
        let parent = parent_of(dest);
        let old = parent.join(format!(
            ".impostor-old-{}",
            dest.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("output")
        ));
        if dest.exists() {
            let _ = std::fs::remove_dir_all(&old);
            if let Err(e) = std::fs::rename(dest, &old) {
                let _ = std::fs::remove_dir_all(&staged);
                return Err(WriteError::at(dest)(e));
            }
        }
        if let Err(e) = std::fs::rename(&staged, dest) {
            if old.exists() {
                let _ = std::fs::rename(&old, dest);
            }
            let _ = std::fs::remove_dir_all(&staged);
            return Err(WriteError::at(dest)(e));
        }
        sync_dir(parent);
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(WriteError::at(&old))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        let result: Result<(), WriteError> = write_file(&path, |w| {
            w.write_all(b"half").unwrap();
            Err(WriteError::at(&path)(std::io::Error::other("refused")))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        write_bytes(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644, "outputs are readable like any file");
        }
    }

    #[test]
    fn a_new_file_never_replaces_an_existing_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        write_new(&path, b"first", 0o600).unwrap();
        let e = write_new(&path, b"second", 0o600).unwrap_err();
        assert_eq!(e.source.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_staged_directory_replaces_the_old_one_whole() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("old.txt"), "old").unwrap();
        let staged = StagedDir::beside(&dest).unwrap();
        staged.write("a/b.txt", b"new").unwrap();
        // Until the commit the old directory is untouched.
        assert!(dest.join("old.txt").is_file());
        staged.commit(&dest).unwrap();
        assert!(!dest.join("old.txt").exists());
        assert_eq!(
            std::fs::read_to_string(dest.join("a/b.txt")).unwrap(),
            "new"
        );
        let names: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out"], "no temporary or old copy is left behind");
    }

    #[test]
    fn a_staged_directory_dropped_without_commit_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        {
            let staged = StagedDir::beside(&dest).unwrap();
            staged.write("x", b"x").unwrap();
        }
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn only_empty_or_marked_directories_are_replaceable() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("d");
        assert!(replaceable(&dir, "M").unwrap());
        std::fs::create_dir(&dir).unwrap();
        assert!(replaceable(&dir, "M").unwrap());
        std::fs::write(dir.join("cat.jpg"), "meow").unwrap();
        assert!(!replaceable(&dir, "M").unwrap());
        std::fs::write(dir.join("M"), "").unwrap();
        assert!(replaceable(&dir, "M").unwrap());
    }
}
