//! Verdicts and the scan record: what every front end reports about one
//! message (design.md §5).

use impostor_features::{AttachmentSummary, AuthSummary, IdentityReadings, Technique};
use serde::{Deserialize, Serialize};

/// How suspicious a message is, in the artifact's operating points.
/// Ordered so `flagged` can be `level >= default level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Below the low threshold.
    None,
    /// At or above the low threshold.
    Low,
    /// At or above the medium threshold.
    Medium,
    /// At or above the high threshold.
    High,
}

impl Level {
    /// The name used in headers, logs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }
}

/// One rule or feature that moved the score, said so an administrator can act.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable machine code, e.g. `reply_to_lookalike`.
    pub code: String,
    /// Human sentence naming the domains or names involved.
    pub detail: String,
    /// Its share of the score, in the model's log-odds units.
    pub contribution: f64,
}

/// The Detector's judgement of one message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// Calibrated probability of attack, in [0, 1].
    pub score: f64,
    /// The highest level whose threshold `score` reaches.
    pub level: Level,
    /// Whether `level` is at or above the model's default level: what a
    /// front end acts on.
    pub flagged: bool,
    /// The forging techniques behind the score, sorted, each once; empty
    /// when `level` is [`Level::None`].
    pub techniques: Vec<Technique>,
    /// At most eight, highest contribution first (what lowered the score
    /// comes last).
    pub reasons: Vec<Reason>,
    /// The authentication verdicts the score read, and whether they were
    /// verified live or read from trusted headers.
    pub auth: AuthSummary,
    /// How each reader of the header block saw the sender, present only
    /// when they disagree (the ambiguity attacks live in that gap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityReadings>,
    /// Each attachment: name, type (sniffed, else declared) and what was
    /// found in it; absent when the message has none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentSummary>,
}

/// One line of `impostor scan --format ndjson`.
///
/// Serialises flat: the verdict's fields sit beside `path`, and vanish when
/// the message could not be read. `error` is always present (null on
/// success) so consumers can test one key instead of probing for `score`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScanRecord {
    /// The file given or found: the mbox, the `.tar.gz`, the `.eml`.
    pub path: String,
    /// Name inside a .tar.gz, or path below a directory given as PATH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// 0-based position inside an mbox.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The verdict; `None` exactly when `error` is set.
    #[serde(flatten)]
    pub verdict: Option<Verdict>,
    /// Why the message could not be read or judged; null on success.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    use impostor_features::{AuthResult, AuthSource, DkimSummary, DmarcPolicy, DmarcSummary};

    /// The example in design.md §5, verbatim, with the `auth` object it
    /// describes since the authentication work.
    const DESIGN_EXAMPLE: &str = r#"{"path": "inbox.mbox", "index": 3,
 "score": 0.93, "level": "high", "flagged": true,
 "techniques": ["lookalike_domain", "freemail_impersonation"],
 "reasons": [{"code": "reply_to_lookalike", "detail": "Reply-To comqany.com looks like company.com (letter replaced)", "contribution": 2.1}],
 "auth": {"spf": "pass", "dkim": [{"domain": "comqany.com", "result": "pass"}],
          "dmarc": {"result": "fail", "policy": "reject", "domain": "company.com"},
          "arc": "none", "source": "live"},
 "error": null}"#;

    fn design_record() -> ScanRecord {
        ScanRecord {
            path: "inbox.mbox".into(),
            member: None,
            index: Some(3),
            verdict: Some(Verdict {
                score: 0.93,
                level: Level::High,
                flagged: true,
                techniques: vec![Technique::LookalikeDomain, Technique::FreemailImpersonation],
                reasons: vec![Reason {
                    code: "reply_to_lookalike".into(),
                    detail: "Reply-To comqany.com looks like company.com (letter replaced)".into(),
                    contribution: 2.1,
                }],
                auth: AuthSummary {
                    spf: AuthResult::Pass,
                    dkim: vec![DkimSummary {
                        domain: Some("comqany.com".into()),
                        result: AuthResult::Pass,
                    }],
                    dmarc: DmarcSummary {
                        result: AuthResult::Fail,
                        policy: Some(DmarcPolicy::Reject),
                        domain: Some("company.com".into()),
                    },
                    arc: AuthResult::None,
                    source: AuthSource::Live,
                },
                identity: None,
                attachments: Vec::new(),
            }),
            error: None,
        }
    }

    #[test]
    fn record_with_verdict_matches_design_example() {
        let got = serde_json::to_value(design_record()).unwrap();
        let want: Value = serde_json::from_str(DESIGN_EXAMPLE).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn record_keys_come_in_design_order() {
        // Not part of the contract, but a stable order keeps NDJSON diffable.
        let line = serde_json::to_string(&design_record()).unwrap();
        let keys = [
            "\"path\"",
            "\"index\"",
            "\"score\"",
            "\"level\"",
            "\"flagged\"",
            "\"techniques\"",
            "\"reasons\"",
            "\"auth\"",
            "\"error\"",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| line.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
    }

    #[test]
    fn record_with_error_has_no_verdict_fields() {
        let record = ScanRecord {
            path: "bundle.tgz".into(),
            member: Some("mail/broken.eml".into()),
            index: None,
            verdict: None,
            error: Some("not a message: no header block".into()),
        };
        let got = serde_json::to_value(record).unwrap();
        assert_eq!(
            got,
            json!({
                "path": "bundle.tgz",
                "member": "mail/broken.eml",
                "error": "not a message: no header block",
            })
        );
    }

    #[test]
    fn absent_member_and_index_are_omitted_not_null() {
        let mut record = design_record();
        record.index = None;
        let got = serde_json::to_value(record).unwrap();
        let obj = got.as_object().unwrap();
        assert!(!obj.contains_key("member") && !obj.contains_key("index"));
        assert!(obj["error"].is_null());
    }

    #[test]
    fn levels_are_ordered_and_lower_case() {
        assert!(Level::None < Level::Low);
        assert!(Level::Low < Level::Medium);
        assert!(Level::Medium < Level::High);
        let names: Vec<Value> = [Level::None, Level::Low, Level::Medium, Level::High]
            .iter()
            .map(|l| serde_json::to_value(l).unwrap())
            .collect();
        assert_eq!(
            names,
            [json!("none"), json!("low"), json!("medium"), json!("high")]
        );
        assert_eq!(
            serde_json::from_str::<Level>("\"medium\"").unwrap(),
            Level::Medium
        );
    }
}
