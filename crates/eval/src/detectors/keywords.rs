//! Baseline: a keyword filter. Counts urgency and money phrases (payment,
//! gift cards, bank-detail changes) in the message text with Impostor's
//! intent lexicon, and flags a message that has both an urgent phrase and
//! a money phrase: the rule of thumb many hand-written gateway filters use.
//!
//! It reads no sender, route or authentication data: it shows how far
//! content alone goes.

use crate::detector::{Detector, DetectorError, Judgement, Sample};
use impostor_features::Feature;

/// Flags urgency and money words (a keyword filter).
pub struct Keywords;

const URGENCY: [(Feature, &str); 1] = [(Feature::IntentUrgencyCount, "urgency")];
const MONEY: [(Feature, &str); 3] = [
    (Feature::IntentPaymentCount, "payment"),
    (Feature::IntentGiftCardCount, "gift_card"),
    (Feature::IntentBankChangeCount, "bank_change"),
];

impl Detector for Keywords {
    fn name(&self) -> &str {
        "keywords"
    }

    fn description(&self) -> String {
        "Keyword filter: the number of urgency and money phrases (payment, gift card, bank-detail change) of Impostor's intent lexicon; flagged when the text has at least one of each.".into()
    }

    fn needs_features(&self) -> bool {
        true
    }

    fn judge(&self, sample: &Sample<'_>) -> Result<Judgement, DetectorError> {
        let e = sample.features()?;
        let count = |list: &[(Feature, &str)], hits: &mut Vec<String>| -> f64 {
            let mut n = 0.0;
            for (feature, name) in list {
                let v = f64::from(e.vector.get(*feature));
                if v > 0.0 {
                    hits.push(format!("{name}×{v}"));
                }
                n += v;
            }
            n
        };
        let mut hits = Vec::new();
        let urgent = count(&URGENCY, &mut hits);
        let money = count(&MONEY, &mut hits);
        Ok(Judgement {
            score: urgent + money,
            flagged: Some(urgent >= 1.0 && money >= 1.0),
            hits,
        })
    }
}
