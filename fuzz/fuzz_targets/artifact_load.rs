//! manifest.json (and SHA256SUMS) bytes → `artifact::verify`, the check
//! every artifact passes before a byte of it is trusted (`artifact::load`
//! reads the files from a directory into the same function), then the
//! verified model scoring the example messages.
//!
//! The input is manifest.json. SHA256SUMS is made to match it, listing
//! MODEL_CARD.md and training.parquet as empty files (hashing the real
//! 900 KB table on every run would leave no time to fuzz); the seed is
//! models/default/manifest.json with those two hashes replaced
//! (scripts/fuzz.sh). An input with a NUL byte is instead
//! `SHA256SUMS NUL manifest.json`, both as given, for the sums parser.

#![no_main]

use impostor_features::{Extraction, Extractor, Inputs};
use impostor_fuzz::default_context;
use impostor_model::artifact::{self, sha256_hex, MANIFEST_FILE, SUMS_FILE};
use impostor_model::{Detector, ModelError};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

/// The files SHA256SUMS lists besides the manifest, as empty stand-ins.
const OTHER_FILES: [&str; 2] = ["MODEL_CARD.md", "training.parquet"];

fn extractions() -> &'static [Extraction] {
    static X: OnceLock<Vec<Extraction>> = OnceLock::new();
    X.get_or_init(|| {
        let ctx = default_context();
        [
            &include_bytes!("../../datasets/examples/01-internal-ham.eml")[..],
            include_bytes!("../../datasets/examples/02-freemail-ceo.eml"),
            include_bytes!("../../datasets/examples/03-lookalike-partner.eml"),
            include_bytes!("../../datasets/examples/04-header-spoof-ja.eml"),
        ]
        .iter()
        .map(|m| {
            Extractor::new(ctx)
                .extract_bytes(m, &Inputs::default())
                .expect("example parses")
                .1
        })
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let (sums, manifest) = match data.iter().position(|&b| b == 0) {
        Some(i) => (data[..i].to_vec(), &data[i + 1..]),
        None => {
            let mut sums = format!("{}  {MANIFEST_FILE}\n", sha256_hex(data));
            for name in OTHER_FILES {
                sums.push_str(&format!("{}  {name}\n", sha256_hex(b"")));
            }
            (sums.into_bytes(), data)
        }
    };
    let dir = Path::new("fuzz-artifact");
    let read = |name: &str| -> Result<Vec<u8>, ModelError> {
        Ok(match name {
            SUMS_FILE => sums.clone(),
            MANIFEST_FILE => manifest.to_vec(),
            _ => Vec::new(),
        })
    };
    let Ok(artifact) = artifact::verify(dir, &read) else {
        return;
    };
    assert_eq!(artifact.manifest_sha256, sha256_hex(manifest));
    let model = artifact.model.clone();
    let detector = Detector::new(artifact.model);
    for x in extractions() {
        let verdict = detector.verdict(x);
        let score = model.score(&x.vector);
        // NaN is possible from finite but huge coefficients; what must
        // hold is that the verdict is the score's, and a probability is one.
        assert!(
            score.probability.is_nan() || (0.0..=1.0).contains(&score.probability),
            "probability {}",
            score.probability
        );
        assert_eq!(verdict.level, model.level(score.probability));
        assert!(
            verdict.reasons.len() <= 8,
            "{} reasons",
            verdict.reasons.len()
        );
    }
});
