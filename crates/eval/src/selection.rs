//! Which messages an evaluation may measure a model on: the key invariant
//! of evaluation. A model is measured only on mail it did not fit or
//! choose its levels on: messages of its training data's train and
//! validation roles (matched by SHA-1), and every message sharing a
//! duplicate group with one of them, are left out and counted. Its test
//! role, and mail new to it, are kept. Spam, unlabelled and unreadable
//! messages are left out too: the detectors are judged on ham against
//! phishing and BEC.
//!
//! [`select`] applies the rule to a corpus index; [`Selection`] holds what
//! is evaluated, what was left out by [`Excluded`] reason, and the
//! leakage checks the report prints.

use crate::metrics::Item;
use crate::report::Check;
use impostor_corpus::{Label, ManifestRow, Summary};
use impostor_train::training::Role;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Why a message is left out of an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Excluded {
    /// No label said what it is.
    Unlabelled,
    /// Spam: the detectors are judged on ham against phishing and BEC.
    Spam,
    /// It could not be read.
    Unreadable,
    /// The model was fitted on it (its train role).
    TrainedOn,
    /// The model's levels were chosen on it (its validation role).
    ChoseLevelsOn,
    /// It shares a duplicate group with a message the model trained or
    /// chose its levels on.
    CopyOfTrainingMessage,
}

impl Excluded {
    /// The reason as the report and metrics.json name it.
    pub fn reason(self) -> &'static str {
        match self {
            Excluded::Unlabelled => "unlabelled",
            Excluded::Spam => "spam (the detectors are judged on ham against phishing and BEC)",
            Excluded::Unreadable => "unreadable",
            Excluded::TrainedOn => "in the model's train role",
            Excluded::ChoseLevelsOn => {
                "in the model's validation role (its levels were chosen on it)"
            }
            Excluded::CopyOfTrainingMessage => {
                "a copy of a message the model trained on (same duplicate group)"
            }
        }
    }
}

/// Where a message was read from: its input path, archive member and mbox
/// index, as the corpus index and the mail reader both name it.
pub type MessageKey = (String, Option<String>, Option<u64>);

/// The key of a message the mail reader read.
pub fn message_key(origin: &impostor_mailsource::Origin) -> MessageKey {
    (
        origin.path.display().to_string(),
        origin.member.clone(),
        origin.index.map(|i| i as u64),
    )
}

/// What an evaluation measures, and what it left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    /// The messages to evaluate, in index order.
    pub items: Vec<Item>,
    /// Where each of `items` is read from.
    pub keys: Vec<MessageKey>,
    /// Messages left out, by reason.
    pub excluded: BTreeMap<Excluded, u64>,
    /// Evaluated messages of the model's test role.
    pub in_test_role: u64,
    /// Evaluated messages the model's training data does not hold.
    pub new_to_model: u64,
    /// Evaluated messages the model trained or chose its levels on: zero
    /// unless the selection was told to keep them.
    pub seen_included: u64,
}

/// Applies the rule to `rows` (a corpus index). `roles` maps the SHA-1 of
/// every message of the model's training data to its role. With
/// `keep_seen`, the train and validation roles and their copies are
/// evaluated too (and [`Selection::own_data_check`] fails).
pub fn select(rows: &[ManifestRow], roles: &HashMap<String, Role>, keep_seen: bool) -> Selection {
    let role_of = |r: &ManifestRow| r.sha1.as_ref().and_then(|s| roles.get(s)).copied();
    // Groups holding a message the model trained or chose levels on; any
    // row counts, evaluated or not, since a copy is a copy.
    let tainted: HashSet<&str> = rows
        .iter()
        .filter(|r| role_of(r).is_some_and(|role| role != Role::Test))
        .map(|r| r.group.as_str())
        .collect();
    let mut s = Selection::default();
    for r in rows {
        let role = role_of(r);
        let left_out = match (r.label, role) {
            (None, _) => Some(Excluded::Unlabelled),
            (Some(Label::Spam), _) => Some(Excluded::Spam),
            _ if r.error.is_some() => Some(Excluded::Unreadable),
            _ if keep_seen => None,
            (_, Some(Role::Train)) => Some(Excluded::TrainedOn),
            (_, Some(Role::Validation)) => Some(Excluded::ChoseLevelsOn),
            _ if tainted.contains(r.group.as_str()) => Some(Excluded::CopyOfTrainingMessage),
            _ => None,
        };
        if let Some(why) = left_out {
            *s.excluded.entry(why).or_default() += 1;
            continue;
        }
        let label = r.label.expect("unlabelled rows are left out above");
        match role {
            Some(Role::Test) => s.in_test_role += 1,
            None => s.new_to_model += 1,
            Some(_) => s.seen_included += 1,
        }
        s.keys.push((r.path.clone(), r.member.clone(), r.index));
        s.items.push(Item {
            id: r.id.clone(),
            source: r.source.clone(),
            label: label.as_str().to_string(),
            attack: label.is_attack(),
            technique: r.technique.clone(),
            synthetic: r.synthetic,
            // Filled in by the evaluation from the generator's labels.
            kind: None,
            carrier: None,
        });
    }
    s
}

impl Selection {
    /// Messages left out for `why`.
    pub fn excluded(&self, why: Excluded) -> u64 {
        self.excluded.get(&why).copied().unwrap_or(0)
    }

    /// Messages left out, by the reason's text (as metrics.json keys them).
    pub fn excluded_by_reason(&self) -> BTreeMap<String, u64> {
        self.excluded
            .iter()
            .map(|(why, n)| (why.reason().to_string(), *n))
            .collect()
    }

    /// `N reason, M reason`, ordered by the reason's text; `none` when
    /// nothing was left out.
    pub fn excluded_text(&self) -> String {
        let counts = self.excluded_by_reason();
        if counts.is_empty() {
            return "none".into();
        }
        counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The check that no evaluated message is one the model trained or
    /// chose its levels on.
    pub fn own_data_check(&self) -> Check {
        let passed = self.seen_included == 0;
        Check {
            name: "model's own data".into(),
            result: if passed {
                format!(
                    "no evaluated message is in the model's train or validation role ({} of its test role, {} new to it)",
                    self.in_test_role, self.new_to_model
                )
            } else {
                format!(
                    "{} evaluated messages were in the model's train or validation role (kept on request): these numbers flatter the model",
                    self.seen_included
                )
            },
            passed,
        }
    }

    /// Every leakage check of the report: the model's own data, copies
    /// across the split, and the source probe of `summary` (the index's),
    /// which warns when surface features alone tell two sources apart.
    pub fn leakage_checks(&self, summary: &Summary) -> Vec<Check> {
        let mut checks = vec![
            self.own_data_check(),
            Check {
                name: "copies across the split".into(),
                result: format!(
                    "{} duplicate groups; {} messages left out as copies of training messages; injected attacks share their carrier's group ({} joined)",
                    summary.duplicate_groups,
                    self.excluded(Excluded::CopyOfTrainingMessage),
                    summary.duplicates.same_carrier
                ),
                passed: true,
            },
        ];
        for p in &summary.source_probe {
            let strong = p.result.auc >= 0.9;
            checks.push(Check {
                name: format!(
                    "source probe, {} of {} vs {}",
                    p.label.as_str(),
                    p.source_a,
                    p.source_b
                ),
                result: format!(
                    "surface features alone tell the two sources apart with AUC {:.2}{}",
                    p.result.auc,
                    if strong {
                        ": a model can learn where mail comes from; read the per-source tables, not only the totals"
                    } else {
                        ""
                    }
                ),
                passed: !strong,
            });
        }
        checks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A readable message `n` of group `group`, labelled `label`.
    fn row(n: u32, group: u32, label: Option<Label>) -> ManifestRow {
        ManifestRow {
            id: format!("s:{n}"),
            source: "s".into(),
            path: format!("/mail/{n}.eml"),
            member: None,
            index: None,
            label,
            technique: None,
            synthetic: false,
            date: None,
            timestamp: None,
            sha1: Some(format!("sha{n}")),
            message_id: None,
            body_hash: None,
            bytes: 100,
            carrier_sha1: None,
            group: format!("s:{group}"),
            error: None,
        }
    }

    fn roles(of: &[(u32, Role)]) -> HashMap<String, Role> {
        of.iter().map(|(n, r)| (format!("sha{n}"), *r)).collect()
    }

    fn ids(s: &Selection) -> Vec<&str> {
        s.items.iter().map(|i| i.id.as_str()).collect()
    }

    #[test]
    fn a_copy_of_a_training_message_in_the_same_duplicate_group_is_left_out() {
        // 2 is a copy of 1 (same group) the training data does not hold.
        let rows = [row(1, 1, Some(Label::Ham)), row(2, 1, Some(Label::Ham))];
        let s = select(&rows, &roles(&[(1, Role::Train)]), false);
        assert!(s.items.is_empty());
        assert_eq!(s.excluded(Excluded::TrainedOn), 1);
        assert_eq!(s.excluded(Excluded::CopyOfTrainingMessage), 1);
    }

    #[test]
    fn a_copy_of_a_spam_message_the_model_trained_on_is_still_a_copy() {
        // Any row taints its group, evaluated or not.
        let rows = [row(1, 1, Some(Label::Spam)), row(2, 1, Some(Label::Bec))];
        let s = select(&rows, &roles(&[(1, Role::Validation)]), false);
        assert_eq!(s.excluded(Excluded::Spam), 1);
        assert_eq!(s.excluded(Excluded::CopyOfTrainingMessage), 1);
    }

    #[test]
    fn the_test_role_its_copies_and_mail_new_to_the_model_are_kept() {
        let rows = [
            row(1, 1, Some(Label::Ham)),
            row(2, 1, Some(Label::Phish)),
            row(3, 3, Some(Label::Bec)),
        ];
        let s = select(&rows, &roles(&[(1, Role::Test)]), false);
        assert_eq!(ids(&s), ["s:1", "s:2", "s:3"]);
        assert_eq!((s.in_test_role, s.new_to_model, s.seen_included), (1, 2, 0));
        assert!(s.excluded.is_empty());
        assert_eq!(s.keys[2], ("/mail/3.eml".to_string(), None, None));
        assert!(s.items[1].attack && !s.items[0].attack);
        assert!(s.own_data_check().passed);
    }

    #[test]
    fn the_validation_role_is_left_out_because_the_levels_were_chosen_on_it() {
        let rows = [row(1, 1, Some(Label::Ham)), row(2, 2, Some(Label::Ham))];
        let s = select(&rows, &roles(&[(1, Role::Validation)]), false);
        assert_eq!(ids(&s), ["s:2"]);
        assert_eq!(s.excluded(Excluded::ChoseLevelsOn), 1);
    }

    #[test]
    fn unlabelled_spam_and_unreadable_messages_are_counted_and_not_evaluated() {
        let mut unreadable = row(3, 3, Some(Label::Ham));
        unreadable.error = Some("truncated".into());
        let rows = [row(1, 1, None), row(2, 2, Some(Label::Spam)), unreadable];
        // Even when seen mail is kept: these are never evaluated.
        let s = select(&rows, &HashMap::new(), true);
        assert!(s.items.is_empty());
        assert_eq!(
            s.excluded_text(),
            "1 spam (the detectors are judged on ham against phishing and BEC), 1 unlabelled, 1 unreadable"
        );
    }

    #[test]
    fn keeping_seen_mail_evaluates_the_training_data_and_fails_the_leakage_check() {
        let rows = [
            row(1, 1, Some(Label::Ham)),
            row(2, 1, Some(Label::Bec)),
            row(3, 3, Some(Label::Ham)),
        ];
        let r = roles(&[(1, Role::Train), (3, Role::Validation)]);
        let s = select(&rows, &r, true);
        assert_eq!(ids(&s), ["s:1", "s:2", "s:3"]);
        assert_eq!((s.seen_included, s.new_to_model), (2, 1));
        let check = s.own_data_check();
        assert!(!check.passed);
        assert!(
            check.result.starts_with("2 evaluated messages"),
            "{}",
            check.result
        );
        // The same mail without keeping it: nothing left to evaluate.
        assert!(select(&rows, &r, false).items.is_empty());
    }

    #[test]
    fn reasons_keep_the_report_text_and_its_order() {
        let mut s = Selection::default();
        s.excluded.insert(Excluded::TrainedOn, 4);
        s.excluded.insert(Excluded::CopyOfTrainingMessage, 2);
        assert_eq!(
            s.excluded_text(),
            "2 a copy of a message the model trained on (same duplicate group), 4 in the model's train role"
        );
        assert_eq!(Selection::default().excluded_text(), "none");
    }
}
