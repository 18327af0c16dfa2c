//! The HTTP service: `POST /v1/scan` (a raw message in, a verdict out),
//! `GET /healthz`, `GET /metrics` (Prometheus text), and hot reload of the
//! model, verified before it replaces the one serving. With a model
//! repository ([`Service::host_models`]), `GET /v1/model/current` and
//! `GET /v1/model/<id>/<file>` serve it read-only to a fleet
//! ([`crate::fleet`]); those routes ask for no token.
//!
//! Envelope data rides in the query string: `mail_from`, `client_ip`,
//! `helo`, `rcpt` (comma-separated). With tenants (see [`crate::tenant`]),
//! `rcpt` chooses the org profile, and the answer's `tenant` names the
//! one that gave the verdict. A bearer token, when configured, is
//! required on `/v1/scan`. Scoring runs on tokio's blocking pool so a slow
//! message never stalls the accept loop; each request has a time limit.
//! With a sender history in the engine, each message is judged against
//! what the history knew before it and then observed (the history's
//! failures are counted at /metrics, never a request's failure).

use crate::engine::{Engine, SharedEngine};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use impostor_features::{Envelope, Technique};
use impostor_model::verdict::{Level, Verdict};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// How the service is set up.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Largest message accepted, in bytes; larger bodies get 413.
    pub max_message_bytes: usize,
    /// Required as `Authorization: Bearer TOKEN` on /v1/scan when set.
    pub token: Option<String>,
    /// Time limit of one scan; past it the request gets 503.
    pub scan_timeout: Duration,
}

/// Counters for /metrics.
#[derive(Default)]
pub struct Metrics {
    requests_ok: AtomicU64,
    requests_bad: AtomicU64,
    requests_unauthorized: AtomicU64,
    requests_too_large: AtomicU64,
    requests_failed: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    /// Sum of latencies in microseconds.
    latency_sum_us: AtomicU64,
    verdicts: [AtomicU64; 4],
    techniques: [AtomicU64; 5],
    reloads_ok: AtomicU64,
    reloads_refused: AtomicU64,
}

impl Metrics {
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    fn count_verdict(&self, v: &Verdict) {
        self.verdicts[v.level as usize].fetch_add(1, Ordering::Relaxed);
        for t in &v.techniques {
            // Technique::ALL lists the variants in declaration order.
            self.techniques[*t as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# HELP impostor_requests_total Scan requests by outcome."
        );
        let _ = writeln!(s, "# TYPE impostor_requests_total counter");
        for (status, a) in [
            ("ok", &self.requests_ok),
            ("bad_message", &self.requests_bad),
            ("unauthorized", &self.requests_unauthorized),
            ("too_large", &self.requests_too_large),
            ("failed", &self.requests_failed),
        ] {
            let _ = writeln!(
                s,
                "impostor_requests_total{{outcome=\"{status}\"}} {}",
                g(a)
            );
        }
        let _ = writeln!(
            s,
            "# HELP impostor_request_duration_seconds Time to answer a scan request."
        );
        let _ = writeln!(s, "# TYPE impostor_request_duration_seconds histogram");
        for (bound, a) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                s,
                "impostor_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                g(a)
            );
        }
        let count = g(&self.latency_count);
        let _ = writeln!(
            s,
            "impostor_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            s,
            "impostor_request_duration_seconds_sum {}",
            g(&self.latency_sum_us) as f64 / 1e6
        );
        let _ = writeln!(s, "impostor_request_duration_seconds_count {count}");
        let _ = writeln!(s, "# HELP impostor_verdicts_total Verdicts by level.");
        let _ = writeln!(s, "# TYPE impostor_verdicts_total counter");
        for (level, a) in ["none", "low", "medium", "high"].iter().zip(&self.verdicts) {
            let _ = writeln!(s, "impostor_verdicts_total{{level=\"{level}\"}} {}", g(a));
        }
        let _ = writeln!(
            s,
            "# HELP impostor_techniques_total Verdicts naming each technique."
        );
        let _ = writeln!(s, "# TYPE impostor_techniques_total counter");
        for (t, a) in Technique::ALL.iter().zip(&self.techniques) {
            let _ = writeln!(
                s,
                "impostor_techniques_total{{technique=\"{}\"}} {}",
                t.code(),
                g(a)
            );
        }
        let _ = writeln!(
            s,
            "# HELP impostor_model_reloads_total Model reloads by result."
        );
        let _ = writeln!(s, "# TYPE impostor_model_reloads_total counter");
        let _ = writeln!(
            s,
            "impostor_model_reloads_total{{result=\"ok\"}} {}",
            g(&self.reloads_ok)
        );
        let _ = writeln!(
            s,
            "impostor_model_reloads_total{{result=\"refused\"}} {}",
            g(&self.reloads_refused)
        );
        s
    }
}

/// What the handlers share.
pub struct Service {
    engine: SharedEngine,
    /// Request, latency, verdict and reload counters, served at /metrics.
    pub metrics: Metrics,
    config: HttpConfig,
    /// Where each verdict is appended, once set ([`Service::log_verdicts`]).
    verdict_log: std::sync::OnceLock<crate::verdict_log::VerdictLog>,
    /// The model repository served at /v1/model/…, once set
    /// ([`Service::host_models`]).
    repository: std::sync::OnceLock<std::path::PathBuf>,
    /// The fleet follower's state, shown at /metrics once set
    /// ([`Service::show_fleet`]).
    fleet: std::sync::OnceLock<Arc<crate::fleet::FleetStatus>>,
}

impl Service {
    /// Serves `engine` (replaceable later by a reload) under `config`.
    pub fn new(engine: Engine, config: HttpConfig) -> Arc<Service> {
        Arc::new(Service {
            engine: SharedEngine::new(engine),
            metrics: Metrics::default(),
            config,
            verdict_log: std::sync::OnceLock::new(),
            repository: std::sync::OnceLock::new(),
            fleet: std::sync::OnceLock::new(),
        })
    }

    /// Serves the model repository `dir` read-only from now on:
    /// `GET /v1/model/current` and `GET /v1/model/<id>/<file>` (see
    /// [`crate::fleet`]); a second call is ignored.
    pub fn host_models(&self, dir: std::path::PathBuf) {
        let _ = self.repository.set(dir);
    }

    /// Shows a fleet follower's state at /metrics from now on (a second
    /// call is ignored).
    pub fn show_fleet(&self, status: Arc<crate::fleet::FleetStatus>) {
        let _ = self.fleet.set(status);
    }

    /// Appends a line to `log` for every verdict from now on (a second
    /// call is ignored: the first log stays).
    pub fn log_verdicts(&self, log: crate::verdict_log::VerdictLog) {
        let _ = self.verdict_log.set(log);
    }

    /// The engine serving now.
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.current()
    }

    /// The swappable engine, for [`watch_model`](crate::engine::watch_model).
    pub fn shared_engine(&self) -> SharedEngine {
        self.engine.clone()
    }

    /// Counts a reload attempt for /metrics.
    pub fn count_reload(&self, outcome: &Result<String, String>) {
        let counter = match outcome {
            Ok(_) => &self.metrics.reloads_ok,
            Err(_) => &self.metrics.reloads_refused,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Envelope data of a scan request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeQuery {
    mail_from: Option<String>,
    client_ip: Option<String>,
    helo: Option<String>,
    /// Recipients, comma-separated.
    rcpt: Option<String>,
}

/// The answer to a scan: the verdict's fields, or an error.
#[derive(Serialize)]
struct ScanAnswer {
    #[serde(flatten)]
    verdict: Option<Verdict>,
    /// The tenant whose org profile gave the verdict; absent without
    /// tenants and when the default profile judged the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
    error: Option<String>,
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ScanAnswer {
            verdict: None,
            tenant: None,
            error: Some(message.into()),
        }),
    )
        .into_response()
}

fn authorized(config: &HttpConfig, headers: &HeaderMap) -> bool {
    let Some(token) = &config.token else {
        return true;
    };
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    // Compare in constant time: the token is a secret.
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn scan(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    query: Result<Query<EnvelopeQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let m = &service.metrics;
    let response = if !authorized(&service.config, &headers) {
        m.requests_unauthorized.fetch_add(1, Ordering::Relaxed);
        error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token: send Authorization: Bearer TOKEN",
        )
    } else {
        match (query, body) {
            (_, Err(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                m.requests_too_large.fetch_add(1, Ordering::Relaxed);
                error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the message is larger than {} bytes, this service's limit",
                        service.config.max_message_bytes
                    ),
                )
            }
            (_, Err(e)) => {
                m.requests_bad.fetch_add(1, Ordering::Relaxed);
                error(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the request body: {e}"),
                )
            }
            (Err(e), _) => {
                m.requests_bad.fetch_add(1, Ordering::Relaxed);
                error(
                    StatusCode::BAD_REQUEST,
                    format!("bad envelope parameters ({e}); use mail_from, client_ip, helo, rcpt"),
                )
            }
            (Ok(Query(q)), Ok(body)) => judge(&service, q, body).await,
        }
    };
    m.observe(started.elapsed());
    response
}

async fn judge(service: &Arc<Service>, q: EnvelopeQuery, body: Bytes) -> Response {
    let m = &service.metrics;
    let client_ip = match q.client_ip.as_deref().map(str::parse::<IpAddr>) {
        Some(Err(_)) => {
            m.requests_bad.fetch_add(1, Ordering::Relaxed);
            return error(StatusCode::BAD_REQUEST, "client_ip is not an IP address");
        }
        Some(Ok(ip)) => Some(ip),
        None => None,
    };
    let envelope = Envelope {
        mail_from: q.mail_from,
        client_ip,
        helo: q.helo,
        rcpt: q
            .rcpt
            .map(|r| r.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default(),
        mbox_sender: None,
    };
    let engine = service.engine();
    let log = service.verdict_log.get().cloned();
    let work = tokio::task::spawn_blocking(move || {
        let verdict = engine.judge(&body, &envelope);
        if let (Some(log), Ok(v)) = (&log, &verdict) {
            log.record(&body, &v.verdict, engine.model_id(), v.tenant.as_deref());
        }
        verdict
    });
    match tokio::time::timeout(service.config.scan_timeout, work).await {
        Ok(Ok(Ok(judged))) => {
            m.requests_ok.fetch_add(1, Ordering::Relaxed);
            m.count_verdict(&judged.verdict);
            Json(ScanAnswer {
                verdict: Some(judged.verdict),
                tenant: judged.tenant,
                error: None,
            })
            .into_response()
        }
        // Our fault, not the client's: a 500 with the reason, and the
        // service stays up for the next request.
        Ok(Ok(Err(e))) if e.is_internal() => {
            m.requests_failed.fetch_add(1, Ordering::Relaxed);
            error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
        Ok(Ok(Err(e))) => {
            m.requests_bad.fetch_add(1, Ordering::Relaxed);
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("not a message: {e}"),
            )
        }
        Ok(Err(e)) => {
            m.requests_failed.fetch_add(1, Ordering::Relaxed);
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("scan failed: {e}"),
            )
        }
        Err(_) => {
            m.requests_failed.fetch_add(1, Ordering::Relaxed);
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the scan took longer than {} ms",
                    service.config.scan_timeout.as_millis()
                ),
            )
        }
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    model: String,
    model_manifest_sha256: String,
    default_level: Level,
    /// The tenants served (their ids), absent without.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tenants: Vec<String>,
}

async fn healthz(State(service): State<Arc<Service>>) -> Json<Health> {
    let e = service.engine();
    Json(Health {
        status: "ok",
        model: e
            .model_dir()
            .map_or("built in".into(), |d| d.display().to_string()),
        model_manifest_sha256: e.model_id().to_string(),
        default_level: e.detector().model().default_level(),
        tenants: e.tenants().iter().map(|t| t.id().to_string()).collect(),
    })
}

async fn metrics(State(service): State<Arc<Service>>) -> Response {
    let mut text = service.metrics.render();
    let engine = service.engine();
    if engine.history().is_some() {
        let _ = writeln!(
            text,
            "# HELP impostor_history_failures_total Sender-history reads and writes that failed (the message was judged without its history)."
        );
        let _ = writeln!(text, "# TYPE impostor_history_failures_total counter");
        let _ = writeln!(
            text,
            "impostor_history_failures_total {}",
            engine.history_failures()
        );
    }
    if let Some(fleet) = service.fleet.get() {
        text.push_str(&fleet.render());
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

fn not_found(what: &str) -> Response {
    (StatusCode::NOT_FOUND, format!("{what}\n")).into_response()
}

/// `GET /v1/model/current`: the current model's id and files, with an
/// ETag; 304 when If-None-Match names it.
async fn model_current(State(service): State<Arc<Service>>, headers: HeaderMap) -> Response {
    let Some(repo) = service.repository.get().cloned() else {
        return not_found("this service hosts no model repository (serve --publish-dir DIR)");
    };
    let listing = tokio::task::spawn_blocking(move || crate::fleet::listing(&repo)).await;
    match listing {
        Ok(Ok(Some((body, etag)))) => {
            let matches = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
            if matches {
                (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response()
            } else {
                (
                    [
                        (header::CONTENT_TYPE, "application/json".to_string()),
                        (header::ETAG, etag),
                    ],
                    body,
                )
                    .into_response()
            }
        }
        Ok(Ok(None)) => not_found("no model published yet (impostor model publish DIR --to REPO)"),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

/// `GET /v1/model/<id>/<file>`: one file of a published model.
async fn model_file(
    State(service): State<Arc<Service>>,
    axum::extract::Path((id, file)): axum::extract::Path<(String, String)>,
) -> Response {
    let Some(repo) = service.repository.get() else {
        return not_found("this service hosts no model repository (serve --publish-dir DIR)");
    };
    let Some(path) = crate::fleet::model_file(repo, &id, &file) else {
        return not_found("no such model file");
    };
    match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
        Ok(Ok(bytes)) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        _ => not_found("no such model file"),
    }
}

/// The routes, over `service`.
pub fn router(service: Arc<Service>) -> Router {
    // Room for the request line and headers beside the message.
    let limit = service.config.max_message_bytes;
    Router::new()
        .route("/v1/scan", post(scan))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/model/current", get(model_current))
        .route("/v1/model/{id}/{file}", get(model_file))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(service)
}
