//! What a message is: ham, spam, phishing or BEC, read from the folder names
//! a corpus keeps its messages under, or from a labels file.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A message's class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// Legitimate mail.
    Ham,
    /// Unwanted bulk mail; not forged, so not an attack.
    Spam,
    /// Phishing: an attack, usually for credentials.
    Phish,
    /// Business email compromise: an attack impersonating someone the
    /// reader trusts, usually for money.
    Bec,
}

impl Label {
    /// Every label, in order.
    pub const ALL: [Label; 4] = [Label::Ham, Label::Spam, Label::Phish, Label::Bec];

    /// The lower-case name used in labels files, manifests and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Ham => "ham",
            Label::Spam => "spam",
            Label::Phish => "phish",
            Label::Bec => "bec",
        }
    }

    /// Parses a label as written in a labels file ("phishing" and
    /// "legit" are accepted too).
    pub fn parse(text: &str) -> Option<Label> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ham" | "legit" | "legitimate" => Some(Label::Ham),
            "spam" => Some(Label::Spam),
            "phish" | "phishing" => Some(Label::Phish),
            "bec" => Some(Label::Bec),
            _ => None,
        }
    }

    /// Whether a message of this class is an attack a BEC detector should
    /// flag (spam is not: it is unwanted, not forged).
    pub fn is_attack(self) -> bool {
        matches!(self, Label::Phish | Label::Bec)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The label a folder name stands for: `ham`, `spam`, `phish`,
/// `phishing`, `bec`, and the SpamAssassin corpus's `easy_ham`,
/// `hard_ham`, each optionally followed by `-N` / `_N` (`easy-ham-2`,
/// `spam_1`). A name that merely starts with one ("spamassassin-2002")
/// is not a label.
pub fn folder_label(name: &str) -> Option<Label> {
    let lower = name.to_ascii_lowercase();
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit());
    let stem = stem
        .strip_suffix('-')
        .or_else(|| stem.strip_suffix('_'))
        .unwrap_or(stem);
    match stem {
        "ham" | "easy_ham" | "easy-ham" | "hard_ham" | "hard-ham" => Some(Label::Ham),
        "spam" => Some(Label::Spam),
        "phish" | "phishing" => Some(Label::Phish),
        "bec" => Some(Label::Bec),
        _ => None,
    }
}

/// The label of the first folder of `member` (a '/'-separated path inside
/// an archive or below a directory) that names one; the file name itself
/// is not read.
pub fn label_from_member(member: &str) -> Option<Label> {
    let mut parts: Vec<&str> = member.split('/').collect();
    parts.pop();
    parts.into_iter().find_map(folder_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_name_labels_and_prefixes_do_not() {
        let cases = [
            (
                "spamassassin-2002/ham/easy-ham-1/00001.7c53",
                Some(Label::Ham),
            ),
            ("spamassassin-2002/spam/spam-2/0001", Some(Label::Spam)),
            ("corpus/easy_ham_2/0001", Some(Label::Ham)),
            (
                "phishing-pot-2022-2025/phish/sample-1.eml",
                Some(Label::Phish),
            ),
            ("csdmc2010-a/ham/TRAIN_00023.eml", Some(Label::Ham)),
            ("spamassassin-2002/x/0001", None),
            ("ham", None),
            ("BEC/01.eml", Some(Label::Bec)),
        ];
        for (member, want) in cases {
            assert_eq!(label_from_member(member), want, "{member}");
        }
    }

    #[test]
    fn labels_parse_their_spellings() {
        assert_eq!(Label::parse(" Phishing "), Some(Label::Phish));
        assert_eq!(Label::parse("legit"), Some(Label::Ham));
        assert_eq!(Label::parse("malware"), None);
        for l in Label::ALL {
            assert_eq!(Label::parse(l.as_str()), Some(l));
        }
    }
}
