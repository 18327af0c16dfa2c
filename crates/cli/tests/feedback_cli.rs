//! Reported mail back into training, end to end: `scan --verdict-log`,
//! `impostor feedback` (duplicates, already known, forwards), and the
//! round trip missed attacks → feedback → `train --base --add` → caught.

use impostor_model::artifact::sha256_hex;
use serde_json::Value;
use std::path::{Path, PathBuf};

mod support;
use std::process::Command;
use support::{copy_default_model, gen_corpus as gen, impostor_code as impostor, p as s, repo};

/// A copy of models/default (train --base reads it; nothing writes it).
fn default_model(dir: &Path) -> PathBuf {
    copy_default_model(&dir.join("base"))
}

/// The messages below `dir` (recursively), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A Maildir holding `messages`, alternately in new/ and cur/.
fn maildir(dir: &Path, messages: &[Vec<u8>]) -> PathBuf {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (i, m) in messages.iter().enumerate() {
        let name = if i % 2 == 0 {
            format!("new/{i}.host")
        } else {
            format!("cur/{i}.host:2,S")
        };
        std::fs::write(dir.join(name), m).unwrap();
    }
    dir.to_path_buf()
}

/// `report` forwarded as an attachment by a user, as Outlook does.
fn forwarded(report: &[u8]) -> Vec<u8> {
    let mut m = b"From: Ana Lima <ana@kestrelfoods.com>\r\nTo: phishing@kestrelfoods.com\r\nSubject: FW: please check\r\nMessage-ID: <fw-1@kestrelfoods.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n--=_b\r\nContent-Type: text/plain\r\n\r\nThis looks odd.\r\n--=_b\r\nContent-Type: message/rfc822\r\n\r\n".to_vec();
    m.extend_from_slice(report);
    m.extend_from_slice(b"\r\n--=_b--\r\n");
    m
}

/// The count after `what` in feedback's summary line.
fn count(summary: &str, what: &str) -> u64 {
    let at = summary
        .find(what)
        .unwrap_or_else(|| panic!("{what} in {summary}"));
    summary
        .get(at + what.len()..)
        .unwrap()
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// `impostor feedback INBOX --label attack --base BASE -o OUT`: the exit
/// status and standard error.
fn report_attacks(inbox: &Path, base: &Path, out: &Path) -> (i32, String) {
    let (code, _, err) = impostor(&[
        "feedback",
        s(inbox),
        "--label",
        "attack",
        "--base",
        s(base),
        "-o",
        s(out),
    ]);
    (code, err)
}

/// Verdict records of `scan --model MODEL PATHS`, by path.
fn scan(model: &Path, paths: &[PathBuf], extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["scan", "--model", s(model), "--quiet"];
    args.extend_from_slice(extra);
    args.extend(paths.iter().map(|p| s(p)));
    let (code, out, err) = impostor(&args);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn scan_with_a_verdict_log_appends_one_parseable_line_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = gen(dir.path(), "g", "6", "6", "4");
    let messages = files(&corpus.join("messages"));
    let log = dir.path().join("verdicts.ndjson");
    let records = scan(
        &repo().join("models/default"),
        &[corpus.join("messages")],
        &["--verdict-log", s(&log)],
    );
    assert_eq!(records.len(), messages.len());
    let model = impostor_model::artifact::load(&repo().join("models/default"))
        .unwrap()
        .manifest_sha256;
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), messages.len(), "{text}");
    for (record, line) in records.iter().zip(&lines) {
        let bytes = std::fs::read(record["path"].as_str().unwrap()).unwrap();
        let sha = sha256_hex(&bytes);
        // Workers write in any order: find the message's line.
        let line = lines
            .iter()
            .find(|l| l["sha256"] == sha.as_str())
            .unwrap_or_else(|| panic!("no line for {sha}: {line}"));
        assert_eq!(line["score"], record["score"]);
        assert_eq!(line["level"], record["level"]);
        assert_eq!(line["flagged"], record["flagged"]);
        assert_eq!(line["techniques"], record["techniques"]);
        assert_eq!(line["model"], model.as_str());
        assert!(line["message_id"].as_str().is_some_and(|m| m.contains('@')));
        let time = line["time"].as_str().unwrap();
        assert!(
            time.len() == 24 && time.ends_with('Z') && time.get(10..11) == Some("T"),
            "{time}"
        );
    }
    // Appended, not replaced.
    scan(
        &repo().join("models/default"),
        &[corpus.join("messages")],
        &["--verdict-log", s(&log)],
    );
    let again = std::fs::read_to_string(&log).unwrap();
    assert_eq!(again.lines().count(), 2 * messages.len());
}

#[test]
fn feedback_counts_duplicates_forwards_and_what_the_base_already_knows() {
    let dir = tempfile::tempdir().unwrap();
    let base = default_model(dir.path());
    // `impostor gen` with its defaults is the kestrel-generated source of
    // models/default (models/train-default.sh): byte for byte the mail the
    // base was trained on.
    let known = dir.path().join("kestrel-generated");
    let (code, _, err) = impostor(&["gen", "-o", s(&known)]);
    assert_eq!(code, 0, "{err}");
    let known_files: Vec<PathBuf> = files(&known.join("messages/ham"))
        .into_iter()
        .take(3)
        .collect();
    let fresh = gen(dir.path(), "fresh", "2", "2", "99");
    let fresh_files = files(&fresh.join("messages"));
    assert_eq!(fresh_files.len(), 4);
    let read = |p: &PathBuf| std::fs::read(p).unwrap();
    let mut reports: Vec<Vec<u8>> = fresh_files.iter().map(read).collect();
    // The same message again, and forwarded as an attachment: duplicates.
    reports.push(read(&fresh_files[0]));
    reports.push(forwarded(&read(&fresh_files[1])));
    reports.extend(known_files.iter().map(read));
    reports.push(b"\r\n".to_vec());
    let inbox = maildir(&dir.path().join("Reported"), &reports);
    let out = dir.path().join("feedback");
    let (code, err) = report_attacks(&inbox, &base, &out);
    // One report is not a message: exit 1, the others written.
    assert_eq!(code, 1, "{err}");
    let summary = err.lines().last().unwrap();
    assert_eq!(count(summary, "read"), 10, "{err}");
    assert_eq!(count(summary, "unwrapped"), 1, "{err}");
    assert_eq!(count(summary, "written"), 4, "{err}");
    assert_eq!(count(summary, "duplicates"), 2, "{err}");
    assert_eq!(count(summary, "already known"), 3, "{err}");
    assert_eq!(count(summary, "unreadable"), 1, "{err}");
    assert!(err.contains("labelled otherwise in the base"), "{err}");
    // What was written is what the messages were.
    let written = files(&out.join("messages"));
    assert_eq!(written.len(), 4);
    for f in &fresh_files {
        let sha = sha256_hex(&read(f));
        assert!(out.join(format!("messages/phish/{sha}.eml")).is_file());
    }
    // A second run appends nothing new: every message is a duplicate or known.
    let (_, err) = report_attacks(&inbox, &base, &out);
    let summary = err.lines().last().unwrap();
    assert_eq!(count(summary, "written"), 0, "{err}");
    assert_eq!(count(summary, "duplicates"), 6, "{err}");
    let labels = std::fs::read_to_string(out.join("labels.tsv")).unwrap();
    assert_eq!(labels.lines().count(), 5, "{labels}");
    // The inputs are untouched.
    assert_eq!(files(&inbox).len(), reports.len());
}

/// A model trained on a generated corpus without one technique
/// (freemail impersonation): the attacks it misses are the kind users
/// report.
fn base_without_freemail_impersonation(dir: &Path) -> PathBuf {
    let corpus = gen(dir, "corpus", "800", "500", "1");
    let labels = corpus.join("labels.tsv");
    let text = std::fs::read_to_string(&labels).unwrap();
    let mut kept = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line.split('\t').collect();
        if i > 0 && cells[2] == "freemail_impersonation" {
            std::fs::remove_file(corpus.join("messages").join(cells[0])).unwrap();
        } else {
            kept.push(line);
        }
    }
    assert!(kept.len() < text.lines().count());
    std::fs::write(&labels, kept.join("\n") + "\n").unwrap();
    let base = dir.join("base");
    let (code, _, err) = impostor(&[
        "train",
        s(&corpus.join("messages")),
        "--labels",
        s(&labels),
        "-o",
        s(&base),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    base
}

#[test]
fn reported_attacks_the_model_missed_are_caught_after_feedback_and_retraining() {
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let base = base_without_freemail_impersonation(dir.path());
    let arriving = gen(dir.path(), "arriving", "10", "1000", "2");
    let attacks = [
        arriving.join("messages/bec"),
        arriving.join("messages/phish"),
    ];
    let records = scan(&base, &attacks, &[]);
    assert_eq!(records.len(), 1000);
    let path = |r: &Value| PathBuf::from(r["path"].as_str().unwrap());
    let missed: Vec<PathBuf> = records
        .iter()
        .filter(|r| r["flagged"] == false)
        .map(path)
        .collect();
    assert!(missed.len() >= 50, "only {} misses", missed.len());
    // A report-phishing mailbox holds what users reported, caught or
    // missed; one user forwarded a missed attack as an attachment.
    let mut reports: Vec<Vec<u8>> = records
        .iter()
        .map(|r| std::fs::read(path(r)).unwrap())
        .collect();
    let first_missed = records.iter().position(|r| r["flagged"] == false).unwrap();
    reports[first_missed] = forwarded(&reports[first_missed]);
    let inbox = maildir(&dir.path().join("Reported"), &reports);
    let fb = dir.path().join("feedback");
    let (code, err) = report_attacks(&inbox, &base, &fb);
    assert_eq!(code, 0, "{err}");
    let summary = err.lines().last().unwrap();
    assert_eq!(count(summary, "written"), 1000, "{err}");
    assert_eq!(count(summary, "unwrapped"), 1, "{err}");
    // Retrained without --force: the regression gate holds.
    let new = dir.path().join("new");
    let (code, _, err) = impostor(&["train", "--base", s(&base), "--add", s(&fb), "-o", s(&new)]);
    assert_eq!(code, 0, "{err}");
    let after = scan(&new, &missed, &[]);
    let now_caught = after.iter().filter(|r| r["flagged"] == true).count();
    let share = now_caught as f64 / missed.len() as f64;
    eprintln!(
        "{now_caught} of {} reported misses caught after retraining ({:.0}%), in {:.0} s",
        missed.len(),
        100.0 * share,
        started.elapsed().as_secs_f64()
    );
    // Most: 114 of 155 (74%) when this was written (89 while the reports
    // weighed as a corpus of their own). Before: none.
    assert!(
        share > 0.5,
        "only {now_caught} of {} caught: {err}",
        missed.len()
    );
}

/// How many messages of `dirs` `model` does not flag.
fn misses(model: &Path, dirs: &[PathBuf]) -> usize {
    scan(model, dirs, &[])
        .iter()
        .filter(|r| r["flagged"] == false)
        .count()
}

#[test]
fn retraining_the_default_model_on_a_report_mailbox_keeps_the_gate_and_misses_no_more_like_them() {
    let dir = tempfile::tempdir().unwrap();
    let base = default_model(dir.path());
    // What users reported: a mailbox of attacks (the model flagged most of
    // them); what arrives next: more of the same kinds, other messages.
    let reported = gen(dir.path(), "reported", "10", "1500", "7");
    let next = gen(dir.path(), "next", "10", "1500", "8");
    let attacks = |c: &Path| [c.join("messages/bec"), c.join("messages/phish")];
    let inbox = dir.path().join("Reported");
    std::fs::create_dir_all(&inbox).unwrap();
    for d in attacks(&reported) {
        for f in files(&d) {
            std::fs::copy(&f, inbox.join(f.file_name().unwrap())).unwrap();
        }
    }
    let fb = dir.path().join("feedback");
    let (code, err) = report_attacks(&inbox, &base, &fb);
    assert_eq!(code, 0, "{err}");
    // Without --force: the regression gate on the base's test role holds.
    // (Given a corpus's share of the attack class, as every source got
    // before reports were weighed per row, these reports moved the
    // generated source's detection from 93.7% to 83.7% and were refused.)
    let new = dir.path().join("new");
    let (code, _, err) = impostor(&["train", "--base", s(&base), "--add", s(&fb), "-o", s(&new)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("attack feedback: 1500 rows") && err.contains("(added)"),
        "{err}"
    );
    let settings = &serde_json::from_str::<Value>(
        &std::fs::read_to_string(new.join("manifest.json")).unwrap(),
    )
    .unwrap()["training"]["details"]["settings"];
    assert_eq!(settings["added_sources"], serde_json::json!(["feedback"]));
    assert_eq!(settings["added_weight"], 1.0);
    let (before, after) = (
        misses(&base, &attacks(&next)),
        misses(&new, &attacks(&next)),
    );
    eprintln!("of 1,500 new attacks, the base missed {before}, the retrained model {after}");
    // 72 before; 72 after (55 with the same reports under other file
    // names). The default model's misses of generated mail are its residue
    // across every kind, not one campaign a reweighting can learn: at ten
    // times a row (--add-weight 10, --force) these reports made it miss
    // 211. Catching a kind the base never saw: the round trip test above.
    assert!(before >= 30, "the base missed only {before}");
    assert!(
        after as f64 <= 1.05 * before as f64,
        "missed {after} after retraining, {before} before"
    );
}

/// `impostor serve` on loopback, killed when dropped.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// POSTs `body` to http://ADDR/v1/scan; the response's status line.
fn post_scan(addr: &str, body: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /v1/scan HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_string()
}

#[test]
fn serve_with_a_verdict_log_writes_a_line_for_each_judged_request() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("verdicts.ndjson");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let _server = Served(
        Command::new(env!("CARGO_BIN_EXE_impostor"))
            .args([
                "serve",
                "--quiet",
                "--listen",
                &addr,
                "--verdict-log",
                s(&log),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "impostor serve did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let messages: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            format!("From: Dan Brandt <dan.brandt{i}@gmail.com>\r\nTo: ap@kestrelfoods.com\r\nSubject: wire\r\nMessage-ID: <req-{i}@gmail.com>\r\n\r\nPlease pay the attached invoice today.\r\n").into_bytes()
        })
        .collect();
    for m in &messages {
        let status = post_scan(&addr, m);
        assert!(status.contains(" 200 "), "{status}");
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let model = impostor_model::artifact::builtin().unwrap().manifest_sha256;
    for (i, m) in messages.iter().enumerate() {
        let line = lines
            .iter()
            .find(|l| l["sha256"] == sha256_hex(m).as_str())
            .unwrap_or_else(|| panic!("no line for message {i}: {text}"));
        assert_eq!(line["message_id"], format!("req-{i}@gmail.com").as_str());
        assert_eq!(line["model"], model.as_str());
    }
}
