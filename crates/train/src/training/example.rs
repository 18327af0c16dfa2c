//! Training examples: a message's features with its label, provenance and
//! role (train, validation or test).

use impostor_corpus::split::Side;
use impostor_corpus::Label;
use impostor_features::FeatureVector;
use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// What an example is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Fits the weights (in k folds, then all at once).
    Train,
    /// Chooses the levels' thresholds.
    Validation,
    /// Never influences the model: the fixed regression set that held-out
    /// metrics, and retraining's before / after, are measured on.
    Test,
}

impl Role {
    /// Every role, in order.
    pub const ALL: [Role; 3] = [Role::Train, Role::Validation, Role::Test];

    /// The role as training.parquet writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Train => "train",
            Role::Validation => "validation",
            Role::Test => "test",
        }
    }

    /// The role [`Role::as_str`] names.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One labelled message.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// `source:member[#index]`, as in the corpus manifest.
    pub id: String,
    /// The source (corpus) it came from.
    pub source: String,
    /// Duplicate group: folds and splits never separate one.
    pub group: String,
    /// Ham, phishing or BEC (spam is left out before).
    pub label: Label,
    /// A technique code, for injected attacks.
    pub technique: Option<String>,
    /// Written by the generator.
    pub synthetic: bool,
    /// The Date header, seconds since the epoch.
    pub timestamp: Option<i64>,
    /// SHA-1 of the message bytes.
    pub sha1: Option<String>,
    /// What it is used for.
    pub role: Role,
    /// Its features.
    pub values: FeatureVector,
}

impl Example {
    /// The training target: phishing and BEC are attacks, ham is not.
    pub fn is_attack(&self) -> bool {
        matches!(self.label, Label::Phish | Label::Bec)
    }

    /// The folder a message lies in below its last label folder (a list
    /// of a list archive: `lists-2019-2026:lists-2019-2026/ham/usrp-users/
    /// 1.eml` → `usrp-users`); `None` for a message directly under its
    /// label (`spamassassin-2002/ham/easy-ham-1/0001`: `easy-ham-1` is a
    /// label folder itself). How a source is split by list, never by
    /// message (`--hold-out-folder`, the transfer report's units).
    pub fn folder(&self) -> Option<&str> {
        let rest = self
            .id
            .strip_prefix(self.source.as_str())
            .and_then(|r| r.strip_prefix(':'))
            .or_else(|| self.id.split_once(':').map(|(_, r)| r))
            .unwrap_or(&self.id);
        // An mbox member carries `#index`.
        let member = match rest.rsplit_once('#') {
            Some((m, i)) if !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) => m,
            _ => rest,
        };
        let mut folders: Vec<&str> = member.split('/').collect();
        folders.pop(); // the file
        let last_label = folders
            .iter()
            .rposition(|f| impostor_corpus::label::folder_label(f).is_some())?;
        folders.get(last_label + 1).copied()
    }
}

/// Roles from a held-out split: the held-out groups are halved, by a seeded
/// hash of the group, into validation and test.
pub fn roles_from_split(groups: &[&str], sides: &[Side], seed: u64) -> Vec<Role> {
    groups
        .iter()
        .zip(sides)
        .map(|(group, side)| match side {
            Side::Train => Role::Train,
            Side::Test => {
                if xxh3_64_with_seed(group.as_bytes(), seed ^ 0x5eed_7e57) & 1 == 0 {
                    Role::Validation
                } else {
                    Role::Test
                }
            }
        })
        .collect()
}

/// SHA-256 (hex) over every example's id, label, source, group, date,
/// SHA-1 and role, in order: the "training data manifest hash" an artifact
/// records.
pub fn data_manifest_sha256(examples: &[Example]) -> String {
    let mut h = Sha256::new();
    for e in examples {
        for part in [
            e.id.as_str(),
            e.label.as_str(),
            e.source.as_str(),
            e.group.as_str(),
            &e.timestamp.map_or(String::new(), |t| t.to_string()),
            e.sha1.as_deref().unwrap_or(""),
            e.role.as_str(),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update([b'\n']);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(id: &str) -> Example {
        Example {
            id: id.into(),
            source: "s".into(),
            group: "g".into(),
            label: Label::Ham,
            technique: None,
            synthetic: false,
            timestamp: None,
            sha1: None,
            role: Role::Train,
            values: FeatureVector::default(),
        }
    }

    #[test]
    fn a_list_archives_folder_is_the_list() {
        assert_eq!(
            example("lists-2019-2026:lists-2019-2026/ham/usrp-users.lists.ettus.com/1.eml")
                .folder(),
            Some("usrp-users.lists.ettus.com")
        );
        assert_eq!(
            example("csdmc2010-a:csdmc2010-a/ham/TRAIN_1.eml").folder(),
            None
        );
        assert_eq!(
            example("spamassassin-2002:spamassassin-2002/ham/easy-ham-1/0001").folder(),
            None
        );
        assert_eq!(example("x.eml").folder(), None);
    }
}
