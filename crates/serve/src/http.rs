//! The HTTP service: `POST /v1/scan` (a raw message in, a verdict out),
//! `GET /healthz`, `GET /metrics` (Prometheus text), and hot reload of the
//! model, verified before it replaces the one serving.
//!
//! Envelope data rides in the query string: `mail_from`, `client_ip`,
//! `helo`, `rcpt` (comma-separated). A bearer token, when configured, is
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
}

impl Service {
    /// Serves `engine` (replaceable later by a reload) under `config`.
    pub fn new(engine: Engine, config: HttpConfig) -> Arc<Service> {
        Arc::new(Service {
            engine: SharedEngine::new(engine),
            metrics: Metrics::default(),
            config,
        })
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
    error: Option<String>,
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ScanAnswer {
            verdict: None,
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
    let work = tokio::task::spawn_blocking(move || engine.scan(&body, &envelope));
    match tokio::time::timeout(service.config.scan_timeout, work).await {
        Ok(Ok(Ok(verdict))) => {
            m.requests_ok.fetch_add(1, Ordering::Relaxed);
            m.count_verdict(&verdict);
            Json(ScanAnswer {
                verdict: Some(verdict),
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
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The routes, over `service`.
pub fn router(service: Arc<Service>) -> Router {
    // Room for the request line and headers beside the message.
    let limit = service.config.max_message_bytes;
    Router::new()
        .route("/v1/scan", post(scan))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(service)
}
