//! A load generator for `impostor serve`: POSTs messages of a given size to
//! /v1/scan at a fixed rate over keep-alive connections, from this second
//! process, and prints throughput and latency percentiles.
//!
//!     impostor serve --listen 127.0.0.1:8025 &
//!     cargo run --release -p impostor-serve --example http_load -- \
//!         --addr 127.0.0.1:8025 --rate 2000 --seconds 20 --size 20480
//!
//! Open loop: every request has a scheduled send time, and its latency is
//! measured from that time, not from when a late connection got round to
//! sending it, so a stalled server shows in the percentiles instead of
//! silently lowering the offered rate (coordinated omission).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const BASE_MESSAGE: &str = include_str!("../../../datasets/examples/02-freemail-ceo.eml");

struct Options {
    addr: String,
    rate: f64,
    seconds: f64,
    connections: usize,
    size: usize,
    token: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        addr: "127.0.0.1:8025".into(),
        rate: 2000.0,
        seconds: 20.0,
        connections: 32,
        size: 20 * 1024,
        token: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = format!("{flag}: not a number: {value}");
        match flag.as_str() {
            "--addr" => o.addr = value,
            "--rate" => o.rate = value.parse().map_err(|_| bad.clone())?,
            "--seconds" => o.seconds = value.parse().map_err(|_| bad.clone())?,
            "--connections" => o.connections = value.parse().map_err(|_| bad.clone())?,
            "--size" => o.size = value.parse().map_err(|_| bad.clone())?,
            "--token" => o.token = Some(value),
            _ => {
                return Err(format!(
                "unknown flag {flag}; flags: --addr --rate --seconds --connections --size --token"
            ))
            }
        }
    }
    if o.rate <= 0.0 || o.seconds <= 0.0 || o.connections == 0 {
        return Err("--rate, --seconds and --connections must be positive".into());
    }
    Ok(o)
}

/// The base message with plain-text paragraphs appended to reach `size`.
fn message(size: usize) -> Vec<u8> {
    let mut m = BASE_MESSAGE.replace("\r\n", "\n").into_bytes();
    let filler = b"Please find the quarterly figures attached; the meeting notes follow below.\n";
    while m.len() < size {
        m.extend_from_slice(filler);
    }
    m
}

/// One request over a kept-alive connection; Ok(status).
fn request(
    stream: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    head: &[u8],
    body: &[u8],
) -> std::io::Result<u16> {
    stream.write_all(head)?;
    stream.write_all(body)?;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other("connection closed mid-response"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut sink = vec![0u8; length];
    reader.read_exact(&mut sink)?;
    Ok(status)
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("http_load: {e}");
            std::process::exit(2);
        }
    };
    let body = message(o.size);
    let mut head = format!(
        "POST /v1/scan HTTP/1.1\r\nHost: {}\r\nContent-Type: message/rfc822\r\nContent-Length: {}\r\n",
        o.addr,
        body.len()
    );
    if let Some(t) = &o.token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    let interval = Duration::from_secs_f64(o.connections as f64 / o.rate);
    let per_connection = (o.rate * o.seconds / o.connections as f64).ceil() as usize;
    let start = Instant::now() + Duration::from_millis(200);
    let threads: Vec<_> = (0..o.connections)
        .map(|c| {
            let (addr, head, body) = (o.addr.clone(), head.clone().into_bytes(), body.clone());
            let offset = interval.mul_f64(c as f64 / o.connections as f64);
            std::thread::spawn(move || {
                let mut latencies: Vec<u32> = Vec::with_capacity(per_connection);
                let mut errors = 0u64;
                let connect = || -> std::io::Result<(TcpStream, BufReader<TcpStream>)> {
                    let s = TcpStream::connect(&addr)?;
                    s.set_nodelay(true)?;
                    let r = BufReader::new(s.try_clone()?);
                    Ok((s, r))
                };
                let mut conn = connect().ok();
                for k in 0..per_connection {
                    let due = start + offset + interval.mul_f64(k as f64);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    let result = match conn.as_mut() {
                        Some((s, r)) => request(s, r, &head, &body),
                        None => Err(std::io::Error::other("not connected")),
                    };
                    match result {
                        Ok(200) => {
                            latencies.push(due.elapsed().as_micros().min(u32::MAX as u128) as u32)
                        }
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            conn = connect().ok();
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all: Vec<u32> = Vec::new();
    let mut errors = 0;
    for t in threads {
        let (l, e) = t.join().expect("a load thread");
        all.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((p / 100.0) * (all.len() - 1) as f64).round() as usize;
        all[i] as f64 / 1000.0
    };
    println!(
        "{} requests of {} bytes in {elapsed:.1} s: {:.0} per second answered 200 (offered {:.0}), {errors} errors",
        all.len() as u64 + errors,
        body.len(),
        all.len() as f64 / elapsed,
        o.rate
    );
    println!(
        "latency from the scheduled send: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        pct(50.0),
        pct(90.0),
        pct(99.0),
        pct(99.9),
        all.last().map_or(f64::NAN, |m| *m as f64 / 1000.0)
    );
}
