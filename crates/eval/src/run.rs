//! Scoring: every message through every detector, in one run, so the
//! comparison is on the same mail under the same load. Features are
//! extracted once per message and shared by the in-process detectors.

use crate::detector::{Detector, Judgement, Sample};
use crate::metrics::DetectorScores;
use impostor_features::{Context, Extractor, Inputs, LureCarrier};
use rayon::prelude::*;
use std::time::Instant;

/// Accumulates every detector's results, batch after batch, in message
/// order.
pub struct Scorer<'a> {
    detectors: &'a [Box<dyn Detector>],
    context: &'a Context,
    results: Vec<DetectorScores>,
    carriers: Vec<Option<LureCarrier>>,
}

impl<'a> Scorer<'a> {
    /// A scorer of `detectors` extracting features for the organisation of
    /// `context`.
    pub fn new(detectors: &'a [Box<dyn Detector>], context: &'a Context) -> Scorer<'a> {
        let results = detectors
            .iter()
            .map(|d| DetectorScores {
                name: d.name().to_string(),
                description: d.description(),
                is_peer: d.is_peer(),
                ..DetectorScores::default()
            })
            .collect();
        Scorer {
            detectors,
            context,
            results,
            carriers: Vec::new(),
        }
    }

    /// Scores a batch on the current rayon pool; results keep its order.
    pub fn score(&mut self, batch: &[&[u8]]) {
        self.score_with_inputs(batch, &[]);
    }

    /// [`Scorer::score`], message i extracted with `inputs[i]` when given
    /// (an mbox separator's sender, what a replay's store knew before it),
    /// as `scan` and `train` extract it.
    pub fn score_with_inputs(&mut self, batch: &[&[u8]], inputs: &[Inputs]) {
        let extractor = Extractor::new(self.context);
        type Judged = (Option<LureCarrier>, Vec<(Result<Judgement, String>, f64)>);
        let judged: Vec<Judged> = batch
            .par_iter()
            .enumerate()
            .map(|(i, raw)| {
                let started = Instant::now();
                let inputs = inputs.get(i).cloned().unwrap_or_default();
                let extraction = extractor.extract_bytes(raw, &inputs);
                let extract_seconds = started.elapsed().as_secs_f64();
                let (extraction, parse_error) = match &extraction {
                    Ok((_, e)) => (Some(e), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                let carrier = extraction.map(|e| e.carrier);
                let sample = Sample { raw, extraction };
                let judged = self
                    .detectors
                    .iter()
                    .map(|d| {
                        let started = Instant::now();
                        let result = match (&parse_error, d.needs_features()) {
                            (Some(e), true) => Err(format!("the message could not be parsed: {e}")),
                            _ => d.judge(&sample).map_err(|e| e.to_string()),
                        };
                        let mut seconds = started.elapsed().as_secs_f64();
                        if d.needs_features() {
                            seconds += extract_seconds;
                        }
                        (result, seconds)
                    })
                    .collect();
                (carrier, judged)
            })
            .collect();
        for (carrier, per_message) in judged {
            self.carriers.push(carrier);
            for ((result, seconds), out) in per_message.into_iter().zip(&mut self.results) {
                out.busy_seconds += seconds;
                match result {
                    Ok(j) => {
                        out.scores.push(Some(j.score));
                        out.flagged.push(j.flagged);
                        out.hits.push(j.hits);
                        out.errors.push(None);
                    }
                    Err(e) => {
                        out.scores.push(None);
                        out.flagged.push(None);
                        out.hits.push(Vec::new());
                        out.errors.push(Some(e));
                    }
                }
            }
        }
    }

    /// Every detector's results, in message order.
    pub fn finish(self) -> Vec<DetectorScores> {
        self.results
    }

    /// Each message's lure carrier so far, in message order (None where it
    /// could not be parsed); taken, so a second call starts afresh.
    pub fn take_carriers(&mut self) -> Vec<Option<LureCarrier>> {
        std::mem::take(&mut self.carriers)
    }
}
