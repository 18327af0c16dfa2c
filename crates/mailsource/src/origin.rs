//! Where a message came from, in terms a user can act on.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a message came from, as reported to users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file given or found: the `.tar.gz`, the mbox, the `.eml`.
    pub path: PathBuf,
    /// The name inside a tar archive, or the path below a directory given as
    /// input (relative, '/'-separated). `None` for a file given directly.
    pub member: Option<String>,
    /// 0-based position inside an mbox; `None` for single-message files.
    pub index: Option<usize>,
}

impl Origin {
    /// An origin for a whole file given directly (no member, no index).
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            member: None,
            index: None,
        }
    }
}

/// Formats "path[ member m][ mbox message at index i]".
pub(crate) fn describe(
    f: &mut fmt::Formatter<'_>,
    path: &Path,
    member: Option<&str>,
    index: Option<usize>,
) -> fmt::Result {
    write!(f, "{}", path.display())?;
    if let Some(member) = member {
        write!(f, " member {member}")?;
    }
    if let Some(index) = index {
        write!(f, " mbox message at index {index}")?;
    }
    Ok(())
}

impl fmt::Display for Origin {
    /// Shows e.g. `corpus.tar.gz member easy_ham/0001`, or
    /// `inbox.mbox mbox message at index 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, &self.path, self.member.as_deref(), self.index)
    }
}
