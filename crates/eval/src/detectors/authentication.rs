//! Baseline: authentication only. Flags a message when the org's mail
//! server recorded an SPF or DMARC failure (trusted Authentication-Results,
//! as Impostor's features read them); what a gateway that enforces
//! authentication and nothing else would catch.
//!
//! It does not query DNS: it reads the verdicts the receiving server wrote,
//! so mail that carries none (most archived corpora) is never flagged.

use crate::detector::{Detector, DetectorError, Judgement, Sample};
use impostor_features::Feature;

/// Flags SPF or DMARC failures the org's own server recorded.
pub struct AuthenticationOnly;

impl Detector for AuthenticationOnly {
    fn name(&self) -> &str {
        "auth_only"
    }

    fn description(&self) -> String {
        "Authentication only: flagged when the org's trusted Authentication-Results record spf=fail or dmarc=fail (score: the number of the two that failed).".into()
    }

    fn needs_features(&self) -> bool {
        true
    }

    fn judge(&self, sample: &Sample<'_>) -> Result<Judgement, DetectorError> {
        let e = sample.features()?;
        let mut hits = Vec::new();
        for (feature, name) in [
            (Feature::AuthSpfFail, "spf_fail"),
            (Feature::AuthDmarcFail, "dmarc_fail"),
        ] {
            if e.vector.get(feature) > 0.0 {
                hits.push(name.to_string());
            }
        }
        Ok(Judgement {
            score: hits.len() as f64,
            flagged: Some(!hits.is_empty()),
            hits,
        })
    }
}
