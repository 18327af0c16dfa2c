//! SpamAssassin as a peer baseline: each message goes to a running `spamd`
//! over TCP in the SPAMC protocol (`SYMBOLS SPAMC/1.5`), spoken here
//! directly so that no `spamc` process runs per message and the bytes
//! arrive exactly as stored.
//!
//! What it deliberately does not do: start or configure spamd
//! (`scripts/baselines.sh` does, with every network test off), learn,
//! report, or skip large messages the way `spamc` does by default (over
//! 500 KB): spamd itself has no size limit, so everything up to
//! [`MAX_MESSAGE`] is judged.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::detector::{clip, Detector, DetectorError, Judgement, Sample};

/// The largest message sent (20 MiB); a larger one is an error for that
/// message. Far above any mail server's limit, it only bounds memory.
pub const MAX_MESSAGE: usize = 20 << 20;

/// Replies are a status line, two headers and a rule list; anything far
/// longer is not spamd.
const MAX_REPLY: usize = 1 << 20;

const NAME: &str = "spamassassin";

/// A connection recipe for one spamd; every message opens its own TCP
/// connection, so one value serves many threads.
pub struct SpamAssassin {
    addr: SocketAddr,
    timeout: Duration,
    version: String,
}

impl SpamAssassin {
    /// Checks that spamd answers at `addr` (SPAMC `PING`) and asks its
    /// version; `timeout` bounds that and, later, each message's whole
    /// exchange.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<SpamAssassin, DetectorError> {
        let sa = SpamAssassin {
            addr,
            timeout,
            version: String::new(),
        };
        let reply = sa.exchange(b"PING SPAMC/1.5\r\n\r\n", true).map_err(|e| {
            sa.error(format!(
                "no spamd answers ({e}); start one with scripts/baselines.sh start DIR"
            ))
        })?;
        let status = reply.split(|&b| b == b'\n').next().unwrap_or_default();
        let status = String::from_utf8_lossy(status);
        if !(status.starts_with("SPAMD/") && status.contains("PONG")) {
            return Err(sa.error(format!(
                "answered PING with {:?}, not SPAMD/… PONG: is this spamd?",
                status.trim_end()
            )));
        }
        let version = sa.ask_version();
        Ok(SpamAssassin { version, ..sa })
    }

    /// spamd's version as its own header reports it
    /// (`X-Spam-Checker-Version: SpamAssassin 4.0.1 (2022-12-14) on host`),
    /// from a `HEADERS` request on a two-line message. The protocol has no
    /// version command; a failure here is not fatal (PING succeeded).
    fn ask_version(&self) -> String {
        let probe = b"Subject: version probe\r\n\r\nversion probe\r\n";
        let mut request = format!(
            "HEADERS SPAMC/1.5\r\nContent-length: {}\r\n\r\n",
            probe.len()
        )
        .into_bytes();
        request.extend_from_slice(probe);
        let Ok(reply) = self.exchange(&request, false) else {
            return "SpamAssassin (version not reported)".to_owned();
        };
        let text = String::from_utf8_lossy(&reply);
        text.lines()
            .find_map(|l| l.strip_prefix("X-Spam-Checker-Version:"))
            .and_then(|v| v.trim().split(" on ").next())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "SpamAssassin (version not reported)".to_owned())
    }

    /// The address judged against, as given to [`SpamAssassin::connect`].
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn error(&self, what: impl Into<String>) -> DetectorError {
        DetectorError::Peer {
            detector: NAME.to_owned(),
            address: self.addr.to_string(),
            what: what.into(),
        }
    }

    /// Sends `request`, half-closes (spamd reads exactly Content-length
    /// bytes; the half-close only ends the request early if we lied), and
    /// reads the reply to EOF, all within `self.timeout`. PING replies do
    /// not close the connection on every spamd version: `ping` stops at the
    /// first line.
    fn exchange(&self, request: &[u8], ping: bool) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + self.timeout;
        let mut stream = TcpStream::connect_timeout(&self.addr, self.timeout)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(remaining(deadline)?))?;
        stream.write_all(request)?;
        if !ping {
            stream.shutdown(Shutdown::Write)?;
        }
        let mut reply = Vec::with_capacity(512);
        let mut buf = [0u8; 8192];
        loop {
            stream.set_read_timeout(Some(remaining(deadline)?))?;
            let n = match stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no complete reply within {:?}", self.timeout),
                    ))
                }
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&buf[..n]);
            if reply.len() > MAX_REPLY {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("reply longer than {MAX_REPLY} bytes"),
                ));
            }
            if ping && reply.contains(&b'\n') {
                break;
            }
        }
        Ok(reply)
    }
}

/// Time left before `deadline`, or a timeout error once it has passed
/// (a zero socket timeout would mean "wait forever").
fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "per-message timeout reached",
        ))
    } else {
        Ok(left)
    }
}

/// What a `SYMBOLS` reply says.
#[derive(Debug, PartialEq)]
struct Verdict {
    spam: bool,
    score: f64,
    required: f64,
    rules: Vec<String>,
}

/// Parses `SPAMD/1.1 0 EX_OK`, `Spam: True ; 7.3 / 5.0`, a blank line
/// and the comma-separated rule names.
fn parse_symbols_reply(reply: &[u8]) -> Result<Verdict, String> {
    let text = std::str::from_utf8(reply).map_err(|_| "reply is not UTF-8".to_owned())?;
    let (head, body) = match text.split_once("\r\n\r\n") {
        Some(parts) => parts,
        None => text.split_once("\n\n").unwrap_or((text, "")),
    };
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    let mut parts = status.splitn(3, ' ');
    let proto = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    let message = parts.next().unwrap_or_default().trim();
    if !proto.starts_with("SPAMD/") {
        return Err(format!("not a SPAMD reply: {:?}", clip(status, 80)));
    }
    if code != "0" {
        return Err(format!("spamd refused the message: code {code} {message}"));
    }
    let spam_line = lines
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim().eq_ignore_ascii_case("Spam").then_some(value)
        })
        .ok_or_else(|| "reply has no Spam: header".to_owned())?;
    // "True ; 7.3 / 5.0"
    let (flag, scores) = spam_line
        .split_once(';')
        .ok_or_else(|| format!("malformed Spam: header {:?}", clip(spam_line, 80)))?;
    let spam = match flag.trim() {
        f if f.eq_ignore_ascii_case("true") || f.eq_ignore_ascii_case("yes") => true,
        f if f.eq_ignore_ascii_case("false") || f.eq_ignore_ascii_case("no") => false,
        other => return Err(format!("Spam: header says {:?}", clip(other, 80))),
    };
    let (score, required) = scores
        .split_once('/')
        .ok_or_else(|| format!("malformed Spam: header {:?}", clip(spam_line, 80)))?;
    let number = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("malformed score {:?}", clip(s, 80)))
    };
    let rules = body
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Verdict {
        spam,
        score: number(score)?,
        required: number(required)?,
        rules,
    })
}

impl Detector for SpamAssassin {
    fn name(&self) -> &str {
        NAME
    }

    fn description(&self) -> String {
        format!(
            "{} (spamd at {}, SPAMC SYMBOLS), as scripts/baselines.sh runs it: the stock rules \
             of the Debian package, local tests only (spamd -L; no DNS lists, SPF/DKIM/DMARC \
             lookups, Razor, Pyzor or DCC), no Bayes, AWL or TxRep. Score: SpamAssassin points; \
             flagged when spamd calls the message spam (score >= required_score, 5.0).",
            self.version, self.addr
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
        let mut request = Vec::with_capacity(raw.len() + 64);
        request.extend_from_slice(
            format!("SYMBOLS SPAMC/1.5\r\nContent-length: {}\r\n\r\n", raw.len()).as_bytes(),
        );
        request.extend_from_slice(raw);
        let reply = self
            .exchange(&request, false)
            .map_err(|e| self.error(e.to_string()))?;
        let verdict = parse_symbols_reply(&reply).map_err(|e| self.error(e))?;
        Ok(Judgement {
            score: verdict.score,
            flagged: Some(verdict.spam),
            hits: verdict.rules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_symbols_reply() {
        let reply = b"SPAMD/1.1 0 EX_OK\r\nContent-length: 24\r\nSpam: True ; 1000.0 / 5.0\r\n\r\nGTUBE,MSGID_SHORT,NO_RELAYS";
        let v = parse_symbols_reply(reply).unwrap();
        assert!(v.spam);
        assert_eq!(v.score, 1000.0);
        assert_eq!(v.required, 5.0);
        assert_eq!(v.rules, ["GTUBE", "MSGID_SHORT", "NO_RELAYS"]);
    }

    #[test]
    fn parses_a_ham_reply_with_negative_score_and_no_rules() {
        let reply = b"SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.1 / 5.0\r\n\r\n";
        let v = parse_symbols_reply(reply).unwrap();
        assert!(!v.spam);
        assert_eq!(v.score, -0.1);
        assert!(v.rules.is_empty());
    }

    #[test]
    fn rejects_errors_and_nonsense() {
        for reply in [
            &b"SPAMD/1.0 76 Bad header line: (Content-Length mismatch)\r\n"[..],
            b"HTTP/1.1 200 OK\r\n\r\n",
            b"SPAMD/1.1 0 EX_OK\r\n\r\nA,B",
            b"SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1 / 5\r\n\r\n",
            b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; NaN / 5\r\n\r\n",
            b"SPAMD/1.1 0 EX_OK\r\nSpam: True\r\n\r\n",
            b"",
            b"\xff\xfe",
        ] {
            assert!(parse_symbols_reply(reply).is_err(), "{reply:?}");
        }
    }
}
