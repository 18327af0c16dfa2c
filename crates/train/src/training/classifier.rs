//! The classifier: linfa-logistic over the model inputs of the feature
//! vector, each transformed (ln(1 + x) for counts and lengths) and
//! standardised on the training rows (flags only centred).
//!
//! Sign constraints: a feature the sender writes ([`Direction::Raises`])
//! never gets a negative weight. linfa-logistic has no constraints, so the
//! fit is an active-set method around it: fit, pin every input whose
//! weight came out negative at zero (drop its column), refit; then free a
//! pinned input again when the loss's gradient says a positive weight
//! would help (the KKT condition of the constrained optimum), and repeat
//! until nothing changes. linfa stays the solver, each refit is an ordinary
//! L2 fit, and the result satisfies the constraints by construction.

use crate::error::TrainError;
use impostor_features::{Direction, Feature, FeatureVector};
use impostor_model::model::{ClassifierInput, ClassifierWeights, Transform};
use impostor_model::stats::standardiser;
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, Axis, ShapeBuilder};

/// Which features the classifier reads, and which it keeps small.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputPolicy {
    /// Not read at all (provenance markers).
    pub excluded: Vec<Feature>,
    /// Read only while their weight stays within `bound` in size
    /// (confounded with the source or era).
    pub capped: Vec<Feature>,
    /// The cap, in log-odds per standardised unit (per flag).
    pub bound: f64,
}

/// Validated settings of the classifier fit.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassifierParams {
    /// linfa-logistic's `alpha`: the L2 penalty on the standardised weights.
    pub l2: f64,
    /// linfa-logistic's iteration limit.
    pub max_iterations: u64,
}

impl Default for ClassifierParams {
    fn default() -> Self {
        ClassifierParams {
            l2: 1.0,
            max_iterations: 300,
        }
    }
}

impl ClassifierParams {
    /// Refuses a negative penalty or no iterations.
    pub fn check(&self) -> Result<(), TrainError> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) || self.max_iterations == 0 {
            return Err(TrainError::Invalid(format!(
                "the classifier needs a non-negative L2 penalty and at least one iteration (l2 {}, iterations {})",
                self.l2, self.max_iterations
            )));
        }
        Ok(())
    }

    /// Fits on `rows` with targets `y`; row i is repeated `repeat[i]` times
    /// (how sample weights reach linfa-logistic, which takes none). Reads
    /// every [`Feature::is_model_input`] except `inputs.excluded`;
    /// sender-written features keep a weight at or above zero (see the
    /// module docs), and a `capped` feature whose weight would exceed
    /// `bound` in size is dropped and the rest refitted.
    pub fn fit(
        &self,
        rows: &[&FeatureVector],
        y: &[bool],
        repeat: &[usize],
        inputs: &InputPolicy,
    ) -> Result<ClassifierWeights, TrainError> {
        let excluded = inputs.excluded.as_slice();
        self.check()?;
        let features: Vec<Feature> = Feature::ALL
            .iter()
            .copied()
            .filter(|f| f.is_model_input() && !excluded.contains(f))
            .collect();
        let d = features.len();
        if d == 0 {
            return Err(TrainError::Invalid(
                "classifier: every feature is excluded".into(),
            ));
        }
        let transforms: Vec<Transform> = features
            .iter()
            .map(|f| Transform::for_feature(*f))
            .collect();
        // Mean and spread over the rows as given (unrepeated).
        let (mean, mut scale) = standardiser(
            rows.iter().map(|r| {
                features
                    .iter()
                    .zip(&transforms)
                    .map(|(f, t)| t.apply(r.get(*f) as f64))
            }),
            d,
        );
        // Flags are centred, not scaled. Dividing a 0/1 flag by its spread
        // multiplies a rare flag by up to 1/√p, which shrinks its L2 penalty
        // by as much: a sign seen in a handful of synthetic attacks and one
        // real ham then carries a log-odds of 20 on that ham. Unscaled, a
        // flag's penalty is that of any 0/1 input.
        for (c, t) in transforms.iter().enumerate() {
            if *t == Transform::Identity {
                scale[c] = 1.0;
            }
        }
        let total: usize = repeat.iter().sum();
        // Column-major: linfa-logistic's gradient is Xᵀ·r, which then reads
        // contiguous columns.
        let mut x = Array2::<f64>::zeros((total, d).f());
        let mut t = Vec::with_capacity(total);
        let mut at = 0;
        for ((r, &target), &k) in rows.iter().zip(y).zip(repeat) {
            for _ in 0..k {
                let mut row = x.row_mut(at);
                for (c, f) in features.iter().enumerate() {
                    row[c] = (transforms[c].apply(r.get(*f) as f64) - mean[c]) / scale[c];
                }
                t.push(target);
                at += 1;
            }
        }
        if !t.iter().any(|v| *v) || t.iter().all(|v| *v) {
            return Err(TrainError::Invalid(
                "classifier: the training rows need both ham and attacks".into(),
            ));
        }
        let raises: Vec<bool> = features
            .iter()
            .map(|f| f.direction() == Direction::Raises)
            .collect();
        let capped: Vec<bool> = features.iter().map(|f| inputs.capped.contains(f)).collect();
        let mut active: Vec<bool> = vec![true; d];
        // Dropped for exceeding the cap: never freed again.
        let mut dropped: Vec<bool> = vec![false; d];
        let mut fitted = (vec![0.0; d], 0.0);
        // Each round changes the active set or ends; d + 2 rounds bound it.
        for _ in 0..d + 2 {
            let columns: Vec<usize> = (0..d).filter(|&c| active[c]).collect();
            let (weights, intercept) = self.fit_columns(&x, &t, &columns, total)?;
            let mut beta = vec![0.0; d];
            for (c, w) in columns.iter().zip(&weights) {
                beta[*c] = *w;
            }
            fitted = (beta, intercept);
            let negative: Vec<usize> = columns
                .iter()
                .copied()
                .filter(|&c| raises[c] && fitted.0[c] < 0.0)
                .collect();
            let too_heavy: Vec<usize> = columns
                .iter()
                .copied()
                .filter(|&c| capped[c] && fitted.0[c].abs() > inputs.bound)
                .collect();
            if !negative.is_empty() || !too_heavy.is_empty() {
                for c in negative {
                    active[c] = false;
                    fitted.0[c] = 0.0;
                }
                for c in too_heavy {
                    active[c] = false;
                    dropped[c] = true;
                    fitted.0[c] = 0.0;
                }
                continue;
            }
            // KKT: a pinned input whose loss gradient is negative at zero
            // wants a positive weight; free it and refit.
            let wanted: Vec<usize> = pinned_wanting_positive(&x, &t, &fitted, &active)
                .into_iter()
                .filter(|&c| !dropped[c])
                .collect();
            if wanted.is_empty() {
                break;
            }
            for c in wanted {
                active[c] = true;
            }
        }
        let (beta, intercept) = fitted;
        let inputs = features
            .iter()
            .enumerate()
            .map(|(c, f)| ClassifierInput {
                feature: f.name().to_string(),
                transform: transforms[c],
                mean: mean[c],
                scale: scale[c],
                weight: beta[c],
            })
            .collect();
        Ok(ClassifierWeights {
            intercept,
            l2: self.l2,
            inputs,
        })
    }

    /// One linfa-logistic fit on the given columns of `x`: the weights (as
    /// attack log-odds) in `columns` order and the intercept.
    fn fit_columns(
        &self,
        x: &Array2<f64>,
        t: &[bool],
        columns: &[usize],
        total: usize,
    ) -> Result<(Vec<f64>, f64), TrainError> {
        if columns.is_empty() {
            // No input left: the intercept is the base rate's log-odds.
            let attacks = t.iter().filter(|v| **v).count() as f64;
            let ham = t.len() as f64 - attacks;
            return Ok((Vec::new(), (attacks / ham).ln()));
        }
        let sub = x.select(Axis(1), columns);
        let dataset = Dataset::new(sub, Array1::from(t.to_vec()));
        let model = LogisticRegression::default()
            .alpha(self.l2)
            .max_iterations(self.max_iterations)
            // The loss is a sum over rows: a gradient norm of 1e-4 per row.
            .gradient_tolerance(1e-4 * total as f64)
            .fit(&dataset)
            .map_err(|e| TrainError::Invalid(format!("classifier fit: {e}")))?;
        // linfa-logistic's "positive" class is the more numerous training
        // target, not necessarily `true`: turn its weights to attack odds.
        let sign = if model.labels().pos.class { 1.0 } else { -1.0 };
        Ok((
            model.params().iter().map(|w| sign * w).collect(),
            sign * model.intercept(),
        ))
    }
}

/// The pinned (inactive) columns where the logistic loss falls as the
/// weight rises from zero: ∂L/∂βc = Σ (pᵢ − yᵢ)·xᵢc < 0.
fn pinned_wanting_positive(
    x: &Array2<f64>,
    t: &[bool],
    (beta, intercept): &(Vec<f64>, f64),
    active: &[bool],
) -> Vec<usize> {
    let z = x.dot(&Array1::from(beta.clone())) + *intercept;
    let residual: Array1<f64> = z
        .iter()
        .zip(t)
        .map(|(z, &y)| impostor_model::model::sigmoid(*z) - if y { 1.0 } else { 0.0 })
        .collect();
    // A margin keeps rounding noise from cycling an input in and out.
    let margin = 1e-3 * t.len() as f64;
    (0..active.len())
        .filter(|&c| !active[c])
        .filter(|&c| x.column(c).dot(&residual) < -margin)
        .collect()
}
