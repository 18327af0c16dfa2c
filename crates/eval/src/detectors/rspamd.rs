//! Rspamd as a peer baseline: each message is POSTed, byte for byte, to a
//! running Rspamd's `/checkv2` over plain HTTP/1.1 (the normal worker,
//! which also answers `/ping`), and the JSON verdict read back.
//!
//! What it deliberately does not do: start or configure Rspamd
//! (`scripts/baselines.sh` does, with network modules off), send SMTP
//! envelope headers (`IP`, `Helo`, `From`, `Rcpt`: a stored message has
//! no session, and SpamAssassin is not given one either), learn, or speak
//! TLS (loopback only).

use std::time::Duration;

use serde::Deserialize;

use crate::detector::{clip, Detector, DetectorError, Judgement, Sample};

/// The largest message sent (20 MiB), as for SpamAssassin; Rspamd's own
/// limit (`max_message`) is 50 MiB.
pub const MAX_MESSAGE: usize = 20 << 20;

/// A verdict is a few kilobytes of JSON; a much longer body is refused.
const MAX_REPLY: u64 = 4 << 20;

const NAME: &str = "rspamd";

/// Actions that mean Rspamd would act on the message. `greylist` and
/// `soft reject` only defer delivery (and need state we run without);
/// `no action` passes it.
const FLAGGING_ACTIONS: [&str; 3] = ["reject", "add header", "rewrite subject"];

/// One Rspamd worker's base URL and an HTTP agent; safe to share between
/// threads (each request takes its own connection).
pub struct Rspamd {
    base: String,
    agent: ureq::Agent,
    version: String,
}

/// The part of a `/checkv2` reply judged on.
#[derive(Debug, Deserialize)]
struct CheckReply {
    score: f64,
    required_score: f64,
    action: String,
    #[serde(default)]
    symbols: serde_json::Map<String, serde_json::Value>,
}

impl Rspamd {
    /// Checks that Rspamd answers `/ping` at `url_or_addr`
    /// (`http://127.0.0.1:11333` or `127.0.0.1:11333`) and reads its
    /// version from the `Server` header. `timeout` bounds that and, later,
    /// each message's whole exchange.
    pub fn connect(url_or_addr: &str, timeout: Duration) -> Result<Rspamd, DetectorError> {
        let trimmed = url_or_addr.trim().trim_end_matches('/');
        let base = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("http://{trimmed}")
        };
        let peer_error = |what: String| DetectorError::Peer {
            detector: NAME.to_owned(),
            address: base.clone(),
            what,
        };
        if !base.starts_with("http://") {
            return Err(peer_error(
                "only plain http:// is supported (Rspamd on loopback)".to_owned(),
            ));
        }
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            // Error statuses are read and reported with their body.
            .http_status_as_error(false)
            // Loopback traffic must not go through an HTTP_PROXY from the
            // environment, nor follow a redirect elsewhere.
            .proxy(None)
            .max_redirects(0)
            .build();
        let agent = ureq::Agent::new_with_config(config);
        let ping = format!("{base}/ping");
        let mut response = agent.get(&ping).call().map_err(|e| {
            peer_error(format!(
                "no Rspamd answers ({e}); start one with scripts/baselines.sh start DIR"
            ))
        })?;
        let server = response
            .headers()
            .get("server")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .with_config()
            .limit(1024)
            .read_to_string()
            .unwrap_or_default();
        if response.status() != 200 || body.trim() != "pong" {
            return Err(peer_error(format!(
                "GET /ping answered {} {:?}, not 200 pong: is this Rspamd's normal or controller worker?",
                response.status(),
                clip(body.trim(), 200)
            )));
        }
        let version = match server {
            Some(s) if s.starts_with("rspamd/") => format!("Rspamd {}", &s["rspamd/".len()..]),
            Some(s) => format!("Rspamd (server {s:?})"),
            None => "Rspamd (version not reported)".to_owned(),
        };
        Ok(Rspamd {
            base,
            agent,
            version,
        })
    }

    /// The base URL judged against.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn error(&self, what: impl Into<String>) -> DetectorError {
        DetectorError::Peer {
            detector: NAME.to_owned(),
            address: self.base.clone(),
            what: what.into(),
        }
    }
}

/// Reads a `/checkv2` reply: status 200 and the JSON verdict.
fn parse_check_reply(status: u16, body: &str) -> Result<Judgement, String> {
    if status != 200 {
        return Err(format!(
            "/checkv2 answered {status}: {}",
            clip(body.trim(), 200)
        ));
    }
    let reply: CheckReply = serde_json::from_str(body)
        .map_err(|e| format!("/checkv2 answered JSON that is not a verdict ({e})"))?;
    if !reply.score.is_finite() || !reply.required_score.is_finite() {
        return Err("/checkv2 answered a score that is not a number".to_owned());
    }
    let mut hits: Vec<String> = reply.symbols.keys().cloned().collect();
    hits.sort();
    Ok(Judgement {
        score: reply.score,
        flagged: Some(FLAGGING_ACTIONS.contains(&reply.action.as_str())),
        hits,
    })
}

impl Detector for Rspamd {
    fn name(&self) -> &str {
        NAME
    }

    fn description(&self) -> String {
        format!(
            "{} (normal worker at {}, POST /checkv2), as scripts/baselines.sh runs it: the stock \
             rules and module defaults of the Debian package with every network module off (DNS \
             lists, URL lists, fuzzy hashes, SPF/DKIM/DMARC/ARC lookups, ASN, remote maps), no \
             Redis (so no Bayes, neural, reputation or greylisting), and no SMTP envelope. Score: \
             Rspamd's score; flagged when the action is reject, add header or rewrite subject \
             (greylist, soft reject and no action are not).",
            self.version, self.base
        )
    }

    fn is_peer(&self) -> bool {
        true
    }

    fn judge(&self, sample: &Sample<'_>) -> Result<Judgement, DetectorError> {
        let raw = sample.raw;
        if raw.len() > MAX_MESSAGE {
            return Err(self.error(format!(
                "message of {} bytes is over the {MAX_MESSAGE}-byte limit; not sent",
                raw.len()
            )));
        }
        let mut response = self
            .agent
            .post(format!("{}/checkv2", self.base))
            .send(raw)
            .map_err(|e| self.error(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_REPLY)
            .read_to_string()
            .map_err(|e| self.error(format!("reading the reply: {e}")))?;
        parse_check_reply(status, &body).map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_decide_flagged() {
        for (action, flagged) in [
            ("reject", true),
            ("add header", true),
            ("rewrite subject", true),
            ("greylist", false),
            ("soft reject", false),
            ("no action", false),
        ] {
            let body = format!(
                r#"{{"score":3.5,"required_score":15.0,"action":"{action}","symbols":{{"B":{{}},"A":{{}}}}}}"#
            );
            let j = parse_check_reply(200, &body).unwrap();
            assert_eq!(j.flagged, Some(flagged), "{action}");
            assert_eq!(j.score, 3.5);
            assert_eq!(j.hits, ["A", "B"]);
        }
    }

    #[test]
    fn errors_and_nonsense_are_errors() {
        assert!(parse_check_reply(400, "{\"error\":\"bad\"}").is_err());
        assert!(parse_check_reply(200, "pong").is_err());
        assert!(parse_check_reply(200, "{\"score\":1}").is_err());
        assert!(parse_check_reply(200, "").is_err());
    }
}
