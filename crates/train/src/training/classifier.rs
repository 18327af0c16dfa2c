//! The classifier: linfa-logistic over the whole feature vector, each
//! feature transformed (ln(1 + x) for counts, rates and lengths) and
//! standardised on the training rows (flags only centred).

use crate::error::TrainError;
use impostor_features::{Feature, FeatureVector};
use impostor_model::model::{ClassifierInput, ClassifierWeights, Transform};
use impostor_model::stats::standardiser;
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ShapeBuilder};

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
    /// (how class imbalance reaches linfa-logistic, which takes no sample
    /// weights).
    pub fn fit(
        &self,
        rows: &[&FeatureVector],
        y: &[bool],
        repeat: &[usize],
    ) -> Result<ClassifierWeights, TrainError> {
        self.check()?;
        let features = Feature::ALL;
        let d = features.len();
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
        let dataset = Dataset::new(x, Array1::from(t));
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
        let inputs = features
            .iter()
            .enumerate()
            .map(|(c, f)| ClassifierInput {
                feature: f.name().to_string(),
                transform: transforms[c],
                mean: mean[c],
                scale: scale[c],
                weight: sign * model.params()[c],
            })
            .collect();
        Ok(ClassifierWeights {
            intercept: sign * model.intercept(),
            l2: self.l2,
            inputs,
        })
    }
}
