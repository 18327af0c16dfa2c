//! The engine every front end shares: raw message + envelope → (live
//! verification, when a Verifier is set) → (the sender history's snapshot,
//! when a History is set) → features (impostor-features, under the org's
//! Context) → Verdict (the Detector) → (the message observed by the
//! history, when it learns).

use crate::tenant::Tenants;
use impostor_auth::{Enrichment, Verifier};
use impostor_features::sender_history::{Flow, HistorySnapshot, MessageFacts, UnixTime};
use impostor_features::{
    contain_panic, AuthResult, AuthResults, AuthSource, Context, DmarcPolicy, Envelope, Extraction,
    Extractor, Feature, Inputs, MessageView, ParseError,
};
use impostor_history::{History, HistoryError};
use impostor_model::artifact::{self, Artifact};
use impostor_model::detector::Detector;
use impostor_model::signing::{self, TrustedKeys};
use impostor_model::verdict::Verdict;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// A Context and a verified model, ready to judge messages from any thread.
pub struct Engine {
    /// Shared with the engines that replace this one on a model reload.
    context: Arc<Context>,
    detector: Detector,
    /// Where the model came from (a directory, or None for the built-in one).
    model_dir: Option<PathBuf>,
    /// SHA-256 of the model's manifest.json.
    model_id: String,
    /// The keys a reloaded artifact must be signed by (none: unsigned
    /// artifacts are accepted); shared with the engines a reload makes.
    trust: Arc<TrustedKeys>,
    /// Live SPF/DKIM/DMARC/ARC over DNS before extraction, when set;
    /// otherwise the trusted Authentication-Results headers are read.
    verifier: Option<Arc<Verifier>>,
    /// The sender history every message is judged against, when set.
    history: Option<HistoryUse>,
    /// The tenants whose recipients are judged under their own Context
    /// (empty: every message under `context`); shared with the engines a
    /// reload makes.
    tenants: Arc<Tenants>,
}

/// How an engine uses its sender history.
#[derive(Clone)]
struct HistoryUse {
    history: Arc<History>,
    mode: HistoryMode,
    /// Failures counted and the last time one was logged; shared with the
    /// engines a reload makes.
    failures: Arc<HistoryFailures>,
}

/// How a sender history is used by [`Engine::judge`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryMode {
    /// A gateway: a message's time is the system clock when it is judged,
    /// and each message is observed after its verdict (learnt once the
    /// history's delay has passed).
    Gateway,
    /// Read only (`impostor scan --history`): a message's time is its
    /// Date field, and nothing is observed.
    ReadOnly,
}

/// Sender-history failures: counted, and logged at most once a minute
/// (a store that went away would otherwise print a line per message).
#[derive(Default)]
pub struct HistoryFailures {
    count: AtomicU64,
    last_logged: Mutex<Option<Instant>>,
}

/// Least time between two logged history failures.
const HISTORY_LOG_EVERY: Duration = Duration::from_secs(60);

impl HistoryFailures {
    /// Failures so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Counts one failure, and logs it unless one was logged less than a
    /// minute ago.
    fn record(&self, what: &str, e: &HistoryError) {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last_logged.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() >= HISTORY_LOG_EVERY) {
            *last = Some(Instant::now());
            eprintln!(
                "impostor: sender history: {what} failed ({n} failures so far; at most one logged a minute): {e}; the message was judged without its history"
            );
        }
    }
}

/// Where a message came from, as the MTA told the gateway.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// Mail arriving from elsewhere (the MTA's port 25): judged, and
    /// observed as what it says it is.
    #[default]
    Arriving,
    /// Mail the organisation's own users submitted (Postfix's
    /// `milter_macro_daemon_name=ORIGINATING` on the submission service):
    /// authenticated by the MTA, so its internal From counts as verified
    /// and it is learnt as the organisation's sent mail (its external
    /// recipients become solicited correspondents). A front end never
    /// rejects it.
    Submitted,
}

/// A message extracted without its history, for a replay that judges
/// messages in date order afterwards ([`Engine::prepare`],
/// [`Engine::finish`]).
#[derive(Clone, Debug)]
pub struct Prepared {
    /// What the message tells a history store.
    pub facts: MessageFacts,
    /// Its features, without the history's.
    pub extraction: Extraction,
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
    /// The tenant whose Context gave this verdict ([`Tenant::id`](crate::tenant::Tenant::id)):
    /// `None` without tenants, or when the default profile judged it.
    pub tenant: Option<String>,
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
            trust: Arc::new(TrustedKeys::none()),
            verifier: None,
            history: None,
            tenants: Arc::new(Tenants::new()),
        }
    }

    /// The same engine judging mail for `tenants`' recipient domains under
    /// their own Context (see [`Engine::judge_from`]); other mail stays
    /// under this engine's Context, the default profile.
    pub fn with_tenants(mut self, tenants: Tenants) -> Engine {
        self.tenants = Arc::new(tenants);
        self
    }

    /// The tenants (empty without).
    pub fn tenants(&self) -> &Tenants {
        &self.tenants
    }

    /// The same engine judging every message against `history`: a
    /// snapshot of what it knew before the message is an input of the
    /// features, and in [`HistoryMode::Gateway`] the message is observed
    /// after its verdict. A history failure never fails a message: it is
    /// judged without its history, and the failure counted
    /// ([`Engine::history_failures`]) and logged at most once a minute.
    pub fn with_history(mut self, history: Arc<History>, mode: HistoryMode) -> Engine {
        self.history = Some(HistoryUse {
            history,
            mode,
            failures: Arc::new(HistoryFailures::default()),
        });
        self
    }

    /// The sender history, when set.
    pub fn history(&self) -> Option<&Arc<History>> {
        self.history.as_ref().map(|h| &h.history)
    }

    /// Sender-history failures so far (0 without a history).
    pub fn history_failures(&self) -> u64 {
        self.history.as_ref().map_or(0, |h| h.failures.count())
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

    /// The same engine refusing, on a reload, an artifact not signed by one
    /// of `keys` (the first model is the caller's to verify: load it with
    /// [`signing::load`] and the same keys).
    pub fn with_trusted_keys(mut self, keys: TrustedKeys) -> Engine {
        self.trust = Arc::new(keys);
        self
    }

    /// The keys a reloaded artifact must be signed by (empty: none asked).
    pub fn trusted_keys(&self) -> &TrustedKeys {
        &self.trust
    }

    /// The same Context with another (verified) model: a hot reload.
    pub fn with_model(&self, artifact: Artifact) -> Engine {
        Engine {
            context: Arc::clone(&self.context),
            model_id: artifact.manifest_sha256,
            detector: Detector::new(artifact.model),
            model_dir: self.model_dir.clone(),
            trust: Arc::clone(&self.trust),
            verifier: self.verifier.clone(),
            history: self.history.clone(),
            tenants: Arc::clone(&self.tenants),
        }
    }

    /// [`Engine::with_model`] for an artifact loaded from `dir`, which
    /// later reloads (SIGHUP) read: a model the fleet follower swapped in
    /// stays the one served.
    pub fn with_model_in(&self, artifact: Artifact, dir: PathBuf) -> Engine {
        Engine {
            model_dir: Some(dir),
            ..self.with_model(artifact)
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

    /// The verdict and the live results behind it, for mail arriving
    /// ([`Origin::Arriving`]); see [`Engine::judge_from`].
    pub fn judge(&self, bytes: &[u8], envelope: &Envelope) -> Result<Judgement, ParseError> {
        self.judge_from(bytes, envelope, Origin::Arriving)
    }

    /// The verdict and the live results behind it. The message is parsed
    /// once: the view gives live verification its boundary hop and
    /// envelope sender, then features are extracted from the same view.
    /// With a history, the message's facts are read from the view (in a
    /// gateway, its time is the clock's), the history's snapshot of them
    /// adds the `history_*` features, and (in
    /// [`HistoryMode::Gateway`]) the message is observed after its
    /// verdict; `origin` says whether the organisation's users submitted
    /// it. Runs on a blocking thread (rayon, `spawn_blocking`), never
    /// inside an async task: live verification waits for DNS there, and a
    /// history store may wait for its disk or server.
    ///
    /// With tenants ([`Engine::with_tenants`]), the Context is chosen by
    /// the envelope recipients' domains: recipients all of one tenant (or
    /// all of none: the default profile) are judged once under its
    /// Context. Recipients of several (one SMTP transaction for two
    /// organisations) are judged once per tenant, each judgement seeing
    /// the envelope with that tenant's recipients only (and observed by
    /// the history as such), and the most severe verdict is returned
    /// (highest level, then score; the first group on a tie), naming its
    /// tenant. A submitted message ([`Origin::Submitted`]) is judged under
    /// the tenant of its MAIL FROM: the organisation whose user sent it.
    pub fn judge_from(
        &self,
        bytes: &[u8],
        envelope: &Envelope,
        origin: Origin,
    ) -> Result<Judgement, ParseError> {
        if self.tenants.is_empty() {
            return self.judge_under(&self.context, None, bytes, envelope, origin);
        }
        if origin == Origin::Submitted {
            let tenant = envelope
                .mail_from
                .as_deref()
                .and_then(|a| self.tenants.of_address(a));
            let context = tenant.map_or(&self.context, |t| t.context());
            return self.judge_under(context, tenant.map(|t| t.id()), bytes, envelope, origin);
        }
        let groups = self.tenants.group_recipients(&envelope.rcpt);
        let mut most: Option<Judgement> = None;
        for g in groups {
            let context = g.tenant.map_or(&self.context, |t| t.context());
            let part = Envelope {
                rcpt: g.rcpt,
                ..envelope.clone()
            };
            let j = self.judge_under(context, g.tenant.map(|t| t.id()), bytes, &part, origin)?;
            let worse = most.as_ref().is_none_or(|m| {
                let (a, b) = (&j.verdict, &m.verdict);
                a.level > b.level || (a.level == b.level && a.score > b.score)
            });
            if worse {
                most = Some(j);
            }
        }
        // group_recipients always gives one group at least.
        most.ok_or_else(|| ParseError::Internal("no recipient group to judge".into()))
    }

    /// [`Engine::judge_from`] under `context`, naming `tenant`.
    fn judge_under(
        &self,
        context: &Context,
        tenant: Option<&str>,
        bytes: &[u8],
        envelope: &Envelope,
        origin: Origin,
    ) -> Result<Judgement, ParseError> {
        let (verdict, enrichment, dmarc_failure, learn) = contain_panic(|| {
            let extractor = Extractor::new(context);
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
            // The facts a history is asked about and learns: in a gateway
            // their time is the clock's, not the Date the sender wrote.
            let mut facts = self
                .history
                .as_ref()
                .map(|h| facts(h, &view, envelope, context));
            let snapshot = match (&self.history, &facts) {
                (Some(h), Some(f)) => h.snapshot(f),
                _ => None,
            };
            let (view, mut extraction) = extractor.extract_view(view, &inputs)?;
            if let (Some(f), Some(s)) = (&mut facts, &snapshot) {
                if enrichment.is_some() {
                    // Live results replaced what the view said of the
                    // From's authentication: read the facts again from the
                    // view judged, keeping their time.
                    let mut again = MessageFacts::read(&view, envelope, context);
                    again.time = f.time;
                    again.hour_of_week = f.hour_of_week;
                    *f = again;
                }
                // What Inputs::history would do inside extract_view, with
                // these facts (the clock's time) rather than a fresh read.
                extraction.apply_history(f, s, context);
            }
            let dmarc_failure = enrichment
                .as_ref()
                .and_then(|e| DmarcFailure::of(&e.auth, &extraction));
            let verdict = self.detector.verdict(&extraction);
            // A message whose snapshot failed is still learnt: the store
            // may be back by then, and the verdict stands either way.
            let learn = match (facts, &self.history) {
                (Some(mut f), Some(h)) if h.mode == HistoryMode::Gateway => match origin {
                    Origin::Arriving => Some((f, verdict.flagged)),
                    // The MTA authenticated its user: the organisation's
                    // own sent mail, never "flagged".
                    Origin::Submitted => submitted(&mut f).then_some((f, false)),
                },
                _ => None,
            };
            Ok((verdict, enrichment, dmarc_failure, learn))
        })?;
        // Outside the panic guard's closure: a store error is not a panic,
        // and observing happens after the verdict whatever it costs.
        if let (Some((facts, flagged)), Some(h)) = (learn, &self.history) {
            if let Err(e) = h.history.observe(&facts, flagged) {
                h.failures.record("observing a message", &e);
            }
        }
        Ok(Judgement {
            verdict,
            enrichment,
            dmarc_failure,
            tenant: tenant.map(str::to_string),
        })
    }

    /// Extracts a message without its history and reads its facts (the
    /// Date field its time), for a replay: [`Engine::finish`] then judges
    /// it against a snapshot taken in date order. Verified live first when
    /// a Verifier is set; panics contained like [`Engine::judge`].
    pub fn prepare(&self, bytes: &[u8], envelope: &Envelope) -> Result<Prepared, ParseError> {
        contain_panic(|| {
            let extractor = Extractor::new(&self.context);
            let view = extractor.parse(bytes, envelope)?;
            let mut inputs = Inputs::new(envelope.clone());
            if let Some(v) = &self.verifier {
                let e = v
                    .verify_view_blocking(bytes, &view, envelope)
                    .map_err(|e| ParseError::Internal(e.to_string()))?;
                e.apply(&mut inputs);
            }
            let (view, extraction) = extractor.extract_view(view, &inputs)?;
            Ok(Prepared {
                facts: MessageFacts::read(&view, envelope, &self.context),
                extraction,
            })
        })
    }

    /// The verdict on a [`Prepared`] message, with what a history knew
    /// before it (`None`: without history).
    pub fn finish(&self, prepared: &Prepared, snapshot: Option<&HistorySnapshot>) -> Verdict {
        match snapshot {
            None => self.detector.verdict(&prepared.extraction),
            Some(s) => {
                let mut extraction = prepared.extraction.clone();
                extraction.apply_history(&prepared.facts, s, &self.context);
                self.detector.verdict(&extraction)
            }
        }
    }

    /// The detector of its model.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The org's Context messages are extracted under: the default
    /// profile when there are tenants ([`Engine::tenants`]).
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

impl HistoryUse {
    /// What the history knew before the message; `None` (and the failure
    /// counted) when the store fails.
    fn snapshot(&self, facts: &MessageFacts) -> Option<HistorySnapshot> {
        match self.history.snapshot(facts) {
            Ok(s) => Some(s),
            Err(e) => {
                self.failures.record("reading a snapshot", &e);
                None
            }
        }
    }
}

/// A message's facts for its history, read under `context`: in a gateway
/// its time is now.
fn facts(
    h: &HistoryUse,
    view: &MessageView,
    envelope: &Envelope,
    context: &Context,
) -> MessageFacts {
    let mut facts = MessageFacts::read(view, envelope, context);
    if h.mode == HistoryMode::Gateway {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as UnixTime);
        facts.time = Some(now);
        facts.hour_of_week = Some(hour_of_week(now));
    }
    facts
}

/// Makes the facts of a submitted message those of the organisation's
/// sent mail: its internal From authenticated by the MTA, its flow
/// outbound (or internal when every recipient is). False when the From is
/// not the organisation's: such a message teaches nothing.
fn submitted(f: &mut MessageFacts) -> bool {
    if !f.sender_internal {
        return false;
    }
    f.sender_verified = true;
    f.sender_failed = false;
    let external = f.recipient_keys.len() > f.internal_recipients as usize;
    f.flow = if external {
        Flow::Outbound
    } else {
        Flow::Internal
    };
    true
}

/// Hour of the week of `t` in UTC (Monday 00:00 is 0), as
/// [`MessageFacts::hour_of_week`] counts it.
fn hour_of_week(t: UnixTime) -> u16 {
    // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday.
    let day = t.div_euclid(86_400);
    let weekday = (day + 3).rem_euclid(7);
    let hour = t.rem_euclid(86_400) / 3_600;
    (weekday * 24 + hour) as u16
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

    /// Loads the model directory again and swaps it in if it verifies
    /// (and, with trusted keys, carries a signature by one of them);
    /// otherwise the current model keeps serving. Ok or Err, the line says
    /// what happened.
    pub fn reload(&self) -> Result<String, String> {
        let current = self.current();
        let Some(dir) = current.model_dir().cloned() else {
            return Err("the built-in model cannot be reloaded; load the model from a directory to reload it".into());
        };
        let loaded = if current.trust.is_empty() {
            artifact::load(&dir).map(|a| (a, String::new()))
        } else {
            signing::load_signed(&dir, &current.trust)
                .map(|s| (s.artifact, format!(", signed by trusted key {}", s.key)))
        };
        match loaded {
            Ok((a, signed)) => {
                let id = a.manifest_sha256.clone();
                self.replace(current.with_model(a));
                Ok(format!("model reloaded: manifest SHA-256 {id}{signed}"))
            }
            Err(e) => Err(format!(
                "reload refused, the previous model keeps serving: {e}"
            )),
        }
    }
}

/// When the model directory's SHA256SUMS or signature last changed (a
/// new artifact is renamed into place whole, so its sums file changes
/// with it; signing in place writes only the signature).
pub fn model_stamp(dir: &Path) -> Option<SystemTime> {
    let modified = |name: &str| {
        std::fs::metadata(dir.join(name))
            .and_then(|m| m.modified())
            .ok()
    };
    modified(artifact::SUMS_FILE).max(modified(signing::SIGNATURE_FILE))
}

/// Reloads `engine`'s model on SIGHUP and whenever its directory's
/// artifact changes (looked at every `poll`); `report` receives each
/// attempt's outcome. The returned future runs until the runtime stops.
///
/// The artifact's stamp is read and the SIGHUP handler installed when this
/// is called (inside the runtime), not when the future first runs: a
/// spawned task may start late on a loaded machine, and a change made, or
/// a SIGHUP sent, after the caller announces itself would then be missed
/// (or would end the process, SIGHUP's default action).
pub fn watch_model(
    engine: SharedEngine,
    poll: Duration,
    report: impl Fn(Result<String, String>) + Send + 'static,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let dir: Option<PathBuf> = engine.current().model_dir().cloned();
    let mut stamp = dir.as_deref().and_then(model_stamp);
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    async move {
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
    fn submitted_mail_from_an_internal_mailbox_is_the_organisations_sent_mail() {
        let mut f = MessageFacts {
            sender_internal: true,
            sender_failed: true,
            recipient_keys: vec!["vendor.example".into(), "bo@example.org".into()],
            internal_recipients: 1,
            ..MessageFacts::default()
        };
        assert!(submitted(&mut f));
        assert!(f.sender_verified && !f.sender_failed);
        assert_eq!(f.flow, Flow::Outbound);
        f.recipient_keys.truncate(1);
        f.recipient_keys[0] = "bo@example.org".into();
        assert!(submitted(&mut f));
        assert_eq!(f.flow, Flow::Internal);
        let mut outside = MessageFacts::default();
        assert!(!submitted(&mut outside), "an outside From teaches nothing");
    }

    #[test]
    fn the_hour_of_the_week_counts_from_monday_midnight_utc() {
        // 2026-12-07 was a Monday.
        assert_eq!(hour_of_week(1_796_601_600), 0);
        assert_eq!(hour_of_week(1_796_601_600 + 86_400 + 9 * 3_600), 33);
        assert_eq!(hour_of_week(1_796_601_600 - 3_600), 167);
    }

    #[test]
    fn history_failures_are_counted_each_time() {
        let f = HistoryFailures::default();
        let e = HistoryError::Spec("x".into());
        f.record("reading a snapshot", &e);
        f.record("reading a snapshot", &e);
        assert_eq!(f.count(), 2);
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
