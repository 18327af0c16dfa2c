//! The engine every front end shares: raw message + envelope → (live
//! verification, when a Verifier is set) → features (impostor-features,
//! under the org's Context) → Verdict (the Detector).

use impostor_auth::{Enrichment, Verifier};
use impostor_features::{
    contain_panic, AuthResult, AuthResults, AuthSource, Context, DmarcPolicy, Envelope, Extraction,
    Extractor, Feature, Inputs, ParseError,
};
use impostor_model::artifact::{self, Artifact};
use impostor_model::detector::Detector;
use impostor_model::verdict::Verdict;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// A Context and a verified model, ready to judge messages from any thread.
pub struct Engine {
    /// Shared with the engines that replace this one on a model reload.
    context: Arc<Context>,
    detector: Detector,
    /// Where the model came from (a directory, or None for the built-in one).
    model_dir: Option<PathBuf>,
    /// SHA-256 of the model's manifest.json.
    model_id: String,
    /// Live SPF/DKIM/DMARC/ARC over DNS before extraction, when set;
    /// otherwise the trusted Authentication-Results headers are read.
    verifier: Option<Arc<Verifier>>,
}

/// One message judged: the verdict, and what live verification found
/// (`None` without a Verifier).
#[derive(Clone, Debug)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// The live results the features read, for a front end that reports
    /// them (the milter's Authentication-Results header).
    pub enrichment: Option<Enrichment>,
    /// The From domain's DMARC policy asks receivers to act on this
    /// message (quarantine or reject), as verified live and not explained
    /// by forwarding; `None` otherwise, and always without a Verifier.
    pub dmarc_failure: Option<DmarcFailure>,
}

/// A message that failed DMARC, verified live, for a domain whose
/// effective policy (p, or sp for a subdomain, as DMARC's policy discovery
/// found it) is quarantine or reject, with nothing that explains the
/// failure: the domain's owner asked receivers to refuse or hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmarcFailure {
    /// The From domain DMARC was evaluated on (lower case).
    pub domain: String,
    /// Quarantine or Reject (never None).
    pub policy: DmarcPolicy,
}

impl DmarcFailure {
    /// The failure `auth` shows, unless it is not one to enforce: results
    /// read from headers (the milter acts only on what it verified), a
    /// temperror or permerror (unknown, never a failure), p=none, or a
    /// failure the features explained (mailing-list mail, or ARC from a
    /// trusted sealer that saw DMARC pass: forwarding breaks DMARC).
    pub fn of(auth: &AuthResults, extraction: &Extraction) -> Option<DmarcFailure> {
        if auth.source != AuthSource::Live || auth.dmarc != AuthResult::Fail {
            return None;
        }
        let policy = auth
            .dmarc_policy
            .filter(|p| matches!(p, DmarcPolicy::Quarantine | DmarcPolicy::Reject))?;
        let explained = [
            Feature::DmarcFailureExplainedByList,
            Feature::AuthFailureExplainedByArc,
        ]
        .iter()
        .any(|f| extraction.vector.get(*f) != 0.0);
        if explained {
            return None;
        }
        let domain = auth
            .dmarc_header_from
            .as_deref()
            .filter(|d| !d.is_empty())?
            .to_ascii_lowercase();
        Some(DmarcFailure { domain, policy })
    }
}

impl Engine {
    /// Judges under `context` with `artifact`'s model. `model_dir` is where
    /// the artifact was loaded from, for reloads: `None` for the built-in
    /// model, which cannot be reloaded.
    pub fn new(context: Context, artifact: Artifact, model_dir: Option<PathBuf>) -> Engine {
        Engine {
            context: Arc::new(context),
            model_id: artifact.manifest_sha256,
            detector: Detector::new(artifact.model),
            model_dir,
            verifier: None,
        }
    }

    /// The same engine verifying every message live first (HTTP, milter,
    /// and `scan` with a resolver).
    pub fn with_verifier(mut self, verifier: Arc<Verifier>) -> Engine {
        self.verifier = Some(verifier);
        self
    }

    /// The live verifier, when set.
    pub fn verifier(&self) -> Option<&Arc<Verifier>> {
        self.verifier.as_ref()
    }

    /// The same Context with another (verified) model: a hot reload.
    pub fn with_model(&self, artifact: Artifact) -> Engine {
        Engine {
            context: Arc::clone(&self.context),
            model_id: artifact.manifest_sha256,
            detector: Detector::new(artifact.model),
            model_dir: self.model_dir.clone(),
            verifier: self.verifier.clone(),
        }
    }

    /// The verdict on one message. An error is this message's alone: the
    /// caller reports it and goes on.
    ///
    /// A panic while judging it (a bug the message found) is contained to
    /// it: [`ParseError::Internal`], which front ends tell apart with
    /// [`ParseError::is_internal`].
    pub fn scan(&self, bytes: &[u8], envelope: &Envelope) -> Result<Verdict, ParseError> {
        self.judge(bytes, envelope).map(|j| j.verdict)
    }

    /// The verdict and the live results behind it. The message is parsed
    /// once: the view gives live verification its boundary hop and
    /// envelope sender, then features are extracted from the same view.
    /// Runs on a blocking thread (rayon, `spawn_blocking`), never inside
    /// an async task: live verification waits for DNS there.
    pub fn judge(&self, bytes: &[u8], envelope: &Envelope) -> Result<Judgement, ParseError> {
        contain_panic(|| {
            let extractor = Extractor::new(&self.context);
            let view = extractor.parse(bytes, envelope)?;
            let mut inputs = Inputs::new(envelope.clone());
            let enrichment = match &self.verifier {
                Some(v) => {
                    let e = v
                        .verify_view_blocking(bytes, &view, envelope)
                        .map_err(|e| ParseError::Internal(e.to_string()))?;
                    e.apply(&mut inputs);
                    Some(e)
                }
                None => None,
            };
            let (_, extraction) = extractor.extract_view(view, &inputs)?;
            let dmarc_failure = enrichment
                .as_ref()
                .and_then(|e| DmarcFailure::of(&e.auth, &extraction));
            Ok(Judgement {
                verdict: self.detector.verdict(&extraction),
                enrichment,
                dmarc_failure,
            })
        })
    }

    /// The detector of its model.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The org's Context messages are extracted under.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// SHA-256 of the model's manifest.json.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The directory the model was loaded from; `None` for the built-in one.
    pub fn model_dir(&self) -> Option<&PathBuf> {
        self.model_dir.as_ref()
    }
}

/// The engine a front end judges with, replaceable while it serves: a
/// model reload swaps the inner Arc, and requests in flight keep the one
/// they took.
#[derive(Clone)]
pub struct SharedEngine(Arc<RwLock<Arc<Engine>>>);

impl SharedEngine {
    /// Serves `engine` until it is replaced.
    pub fn new(engine: Engine) -> SharedEngine {
        SharedEngine(Arc::new(RwLock::new(Arc::new(engine))))
    }

    /// The engine serving now; hold it for the whole message. Never fails,
    /// even after a panic elsewhere while the lock was held.
    pub fn current(&self) -> Arc<Engine> {
        // A poisoned lock still holds a whole Arc: a panic elsewhere must
        // not stop the service.
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Serves `engine` from the next [`SharedEngine::current`] on; work in
    /// flight finishes with the engine it took.
    pub fn replace(&self, engine: Engine) {
        let mut g = match self.0.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *g = Arc::new(engine);
    }

    /// Loads the model directory again and swaps it in if it verifies;
    /// otherwise the current model keeps serving. Ok or Err, the line says
    /// what happened.
    pub fn reload(&self) -> Result<String, String> {
        let current = self.current();
        let Some(dir) = current.model_dir().cloned() else {
            return Err("the built-in model cannot be reloaded; load the model from a directory to reload it".into());
        };
        match artifact::load(&dir) {
            Ok(a) => {
                let id = a.manifest_sha256.clone();
                self.replace(current.with_model(a));
                Ok(format!("model reloaded: manifest SHA-256 {id}"))
            }
            Err(e) => Err(format!(
                "reload refused, the previous model keeps serving: {e}"
            )),
        }
    }
}

/// When the model directory's SHA256SUMS last changed (a new artifact is
/// renamed into place whole, so its sums file changes with it).
pub fn model_stamp(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(dir.join(artifact::SUMS_FILE))
        .and_then(|m| m.modified())
        .ok()
}

/// Reloads `engine`'s model on SIGHUP and whenever its directory's
/// artifact changes (looked at every `poll`); `report` receives each
/// attempt's outcome. Runs until the runtime stops.
pub async fn watch_model(
    engine: SharedEngine,
    poll: Duration,
    report: impl Fn(Result<String, String>) + Send + 'static,
) {
    let dir: Option<PathBuf> = engine.current().model_dir().cloned();
    let mut stamp = dir.as_deref().and_then(model_stamp);
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        #[cfg(unix)]
        let signalled = async {
            match hangup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let signalled = std::future::pending::<()>();
        let by_signal = tokio::select! {
            _ = signalled => true,
            _ = tokio::time::sleep(poll) => false,
        };
        let now = dir.as_deref().and_then(model_stamp);
        if !by_signal && now == stamp {
            continue;
        }
        stamp = now;
        let e = engine.clone();
        match tokio::task::spawn_blocking(move || e.reload()).await {
            Ok(outcome) => report(outcome),
            Err(e) => report(Err(format!("reload failed: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(policy: Option<DmarcPolicy>) -> AuthResults {
        AuthResults {
            source: AuthSource::Live,
            dmarc: AuthResult::Fail,
            dmarc_policy: policy,
            dmarc_header_from: Some("Bank.Test".into()),
            ..AuthResults::default()
        }
    }

    #[test]
    fn a_live_dmarc_failure_under_reject_or_quarantine_is_one_to_enforce() {
        let x = Extraction::default();
        for p in [DmarcPolicy::Reject, DmarcPolicy::Quarantine] {
            assert_eq!(
                DmarcFailure::of(&failed(Some(p)), &x),
                Some(DmarcFailure {
                    domain: "bank.test".into(),
                    policy: p
                })
            );
        }
        assert_eq!(DmarcFailure::of(&failed(Some(DmarcPolicy::None)), &x), None);
        assert_eq!(DmarcFailure::of(&failed(None), &x), None);
    }

    #[test]
    fn header_results_temperror_and_explained_failures_are_not_enforced() {
        let x = Extraction::default();
        let mut from_headers = failed(Some(DmarcPolicy::Reject));
        from_headers.source = AuthSource::Header;
        assert_eq!(DmarcFailure::of(&from_headers, &x), None);
        for r in [
            AuthResult::TempError,
            AuthResult::PermError,
            AuthResult::Pass,
        ] {
            let mut a = failed(Some(DmarcPolicy::Reject));
            a.dmarc = r;
            assert_eq!(DmarcFailure::of(&a, &x), None, "{r:?}");
        }
        for f in [
            Feature::DmarcFailureExplainedByList,
            Feature::AuthFailureExplainedByArc,
        ] {
            let mut x = Extraction::default();
            x.vector.set_flag(f, true);
            assert_eq!(
                DmarcFailure::of(&failed(Some(DmarcPolicy::Reject)), &x),
                None,
                "{f:?}"
            );
        }
    }
}
