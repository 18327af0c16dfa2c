//! Column standardisation for linear models fitted on features of very
//! different scales.

/// Column means and standard deviations of `rows` (each `width` values);
/// the deviation is 1 where a column is constant, so standardising never
/// divides by zero.
pub fn standardiser<R: IntoIterator<Item = f64>>(
    rows: impl Iterator<Item = R>,
    width: usize,
) -> (Vec<f64>, Vec<f64>) {
    let mut sum = vec![0.0; width];
    let mut sq = vec![0.0; width];
    let mut n = 0.0;
    for row in rows {
        n += 1.0;
        for (c, v) in row.into_iter().take(width).enumerate() {
            sum[c] += v;
            sq[c] += v * v;
        }
    }
    let n = f64::max(n, 1.0);
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let scale = sq
        .iter()
        .zip(&mean)
        .map(|(q, m)| {
            let var = q / n - m * m;
            if var > 1e-12 {
                var.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    (mean, scale)
}
