//! Distributing models to a fleet, on loopback: `impostor model canary`,
//! `model publish`, a `serve --publish-dir` hosting the repository, and
//! gateways (`serve --model-url`) that verify, canary-test and swap; a
//! failing canary refused; rollback. Every test works on its own copies
//! of models/default.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{copy_default_model, http, impostor, ok, p, repo, Milter, Served};

/// The gateways' poll interval, in seconds.
const POLL_SECS: u64 = 1;

/// A copy of models/default in `root/name`.
fn copy_model(root: &Path, name: &str) -> PathBuf {
    copy_default_model(&root.join(name))
}

/// The example messages `names` (datasets/examples) as canary messages.
fn examples(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            repo()
                .join("datasets/examples")
                .join(n)
                .display()
                .to_string()
        })
        .collect()
}

/// A test's world: a key pair, and models with a canary, signed.
struct World {
    tmp: tempfile::TempDir,
    key: PathBuf,
    public: PathBuf,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let prefix = tmp.path().join("keys/ops");
        ok(&["keys", "new", "--out", p(&prefix)]);
        World {
            key: tmp.path().join("keys/ops.key"),
            public: tmp.path().join("keys/ops.pub"),
            tmp,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// A copy of models/default given a canary of `messages` and signed;
    /// its id.
    fn model(&self, name: &str, messages: &[&str]) -> (PathBuf, String) {
        let dir = copy_model(self.tmp.path(), name);
        let mut args = vec!["model", "canary", p(&dir), "--key", p(&self.key), "--add"];
        let paths = examples(messages);
        args.extend(paths.iter().map(String::as_str));
        let out = ok(&args);
        let id = out
            .rsplit("model id now ")
            .next()
            .and_then(|r| r.split(',').next())
            .unwrap()
            .trim()
            .to_string();
        assert_eq!(id.len(), 64, "{out}");
        (dir, id)
    }

    fn publish(&self, dir: &Path) {
        ok(&[
            "model",
            "publish",
            p(dir),
            "--to",
            p(&self.path("repo")),
            "--trust-key",
            p(&self.public),
        ]);
    }
}

/// A running `impostor serve` with `extra`, killed when dropped.
fn serve(extra: &[&str]) -> Served {
    Served::start(&[], extra, &[])
}

/// A gateway following `hub`, starting with a signed model of its own
/// (with --trust-key the unsigned built-in model is refused).
fn gateway(world: &World, hub: &Served, cache: &str) -> Served {
    gateway_from(world, hub, cache).0
}

/// [`gateway`], and the id of the model it started with.
fn gateway_from(world: &World, hub: &Served, cache: &str) -> (Served, String) {
    let (start, id) = world.model(&format!("{cache}-start"), &["03-lookalike-partner.eml"]);
    let server = serve(&[
        "--model",
        p(&start),
        "--model-url",
        &format!("http://{}", hub.addr),
        "--model-cache",
        p(&world.path(cache)),
        "--model-poll-secs",
        &POLL_SECS.to_string(),
        "--trust-key",
        p(&world.public),
    ]);
    (server, id)
}

/// One GET on a fresh connection: (status, headers, body).
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    http(addr, "GET", path, headers, b"")
}

fn serving(server: &Served) -> String {
    let (_, _, body) = get(&server.addr, "/healthz", &[]);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["model_manifest_sha256"].as_str().unwrap().to_string()
}

fn metrics(server: &Served) -> String {
    get(&server.addr, "/metrics", &[]).2
}

fn counter(server: &Served, result: &str) -> u64 {
    let prefix = format!("impostor_fleet_checks_total{{result=\"{result}\"}} ");
    metrics(server)
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Waits until every gateway serves `id`; the time it took.
fn wait_serving(gateways: &[&Served], id: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    while !gateways.iter().all(|g| serving(g) == id) {
        assert!(
            started.elapsed() < limit,
            "the gateways did not all swap to {id} within {limit:?}: {:?}",
            gateways.iter().map(|g| serving(g)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    started.elapsed()
}

/// One poll interval, and room for the download, verification and
/// canary of a debug build.
fn one_poll() -> Duration {
    Duration::from_secs(POLL_SECS) + Duration::from_secs(10)
}

#[test]
fn two_gateways_swap_to_a_newly_published_model_within_one_poll_interval() {
    let w = World::new();
    let (m1, id1) = w.model("m1", &["01-internal-ham.eml", "02-freemail-ceo.eml"]);
    let (m2, id2) = w.model("m2", &["02-freemail-ceo.eml", "03-lookalike-partner.eml"]);
    assert_ne!(id1, id2);
    w.publish(&m1);
    let hub = serve(&["--publish-dir", p(&w.path("repo"))]);

    // The repository as hosted: the id, its files, an ETag honoured.
    let (status, head, body) = get(&hub.addr, "/v1/model/current", &[]);
    assert_eq!(status, 200, "{body}");
    let listing: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listing["id"], id1.as_str());
    let names: Vec<&str> = listing["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for n in [
        "manifest.json",
        "manifest.json.sig",
        "SHA256SUMS",
        "canary.json",
    ] {
        assert!(names.contains(&n), "{names:?}");
    }
    let etag = head
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .expect("an ETag")
        .to_string();
    let (status, _, _) = get(&hub.addr, "/v1/model/current", &[("If-None-Match", &etag)]);
    assert_eq!(status, 304);
    let (status, _, _) = get(&hub.addr, &format!("/v1/model/{id1}/../../etc"), &[]);
    assert_eq!(status, 404);

    let g1 = gateway(&w, &hub, "cache1");
    let g2 = gateway(&w, &hub, "cache2");
    wait_serving(&[&g1, &g2], &id1, one_poll());

    w.publish(&m2);
    let took = wait_serving(&[&g1, &g2], &id2, one_poll());
    assert!(took <= one_poll(), "{took:?}");
    let m = metrics(&g1);
    assert!(
        m.contains(&format!("impostor_fleet_model_info{{id=\"{id2}\"}} 1")),
        "{m}"
    );
    assert!(counter(&g1, "swapped") >= 2, "{m}");
    // Nothing new: the server answers 304 to the gateways' If-None-Match.
    std::thread::sleep(Duration::from_secs(POLL_SECS * 2));
    assert!(counter(&g2, "not_modified") >= 1, "{}", metrics(&g2));
    assert_eq!(serving(&g2), id2);
    // Both models stay in the cache, for rollback.
    for id in [&id1, &id2] {
        assert!(w.path("cache1").join(id).join("manifest.json").is_file());
    }
}

/// Rewrites `canary.json` of `dir` so its first message records another
/// level, fixes the manifest's and SHA256SUMS's hashes as someone with
/// the key would, and signs it again.
fn record_another_level(w: &World, dir: &Path) {
    let sha = impostor_model::artifact::sha256_hex;
    let old = std::fs::read(dir.join("canary.json")).unwrap();
    let mut canary: serde_json::Value = serde_json::from_slice(&old).unwrap();
    let level = &mut canary["messages"][0]["level"];
    *level = if level == "high" { "none" } else { "high" }.into();
    let new = serde_json::to_vec_pretty(&canary).unwrap();
    std::fs::write(dir.join("canary.json"), &new).unwrap();
    let manifest = std::fs::read_to_string(dir.join("manifest.json"))
        .unwrap()
        .replace(&sha(&old), &sha(&new));
    std::fs::write(dir.join("manifest.json"), &manifest).unwrap();
    let sums: String = std::fs::read_to_string(dir.join("SHA256SUMS"))
        .unwrap()
        .lines()
        .map(|l| match l.split_once("  ") {
            Some((_, "canary.json")) => format!("{}  canary.json\n", sha(&new)),
            Some((_, "manifest.json")) => format!("{}  manifest.json\n", sha(manifest.as_bytes())),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
    ok(&["model", "sign", p(dir), "--key", p(&w.key)]);
}

#[test]
fn a_model_whose_canary_fails_is_refused_and_the_old_one_keeps_serving() {
    let w = World::new();
    let (m1, id1) = w.model("m1", &["01-internal-ham.eml", "02-freemail-ceo.eml"]);
    let (bad, _) = w.model("bad", &["02-freemail-ceo.eml", "01-internal-ham.eml"]);
    record_another_level(&w, &bad);
    w.publish(&m1);
    let hub = serve(&["--publish-dir", p(&w.path("repo"))]);
    let g = gateway(&w, &hub, "cache");
    wait_serving(&[&g], &id1, one_poll());

    // Valid, signed by the trusted key, but its canary disagrees.
    w.publish(&bad);
    let started = Instant::now();
    while counter(&g, "canary_failed") < 1 {
        assert!(started.elapsed() < one_poll(), "{}", metrics(&g));
        std::thread::sleep(Duration::from_millis(50));
    }
    let m = metrics(&g);
    assert!(m.contains("canary failed"), "{m}");
    assert_eq!(serving(&g), id1);
    // Refused once, not downloaded again on every poll.
    std::thread::sleep(Duration::from_secs(POLL_SECS * 2));
    assert_eq!(counter(&g, "canary_failed"), 1, "{}", metrics(&g));
    assert_eq!(serving(&g), id1);
    let (status, body) = scan(&g);
    assert_eq!(status, 200, "{body}");
}

/// A scan of 02-freemail-ceo.eml: (status, body).
fn scan(server: &Served) -> (u16, String) {
    let msg = std::fs::read(repo().join("datasets/examples/02-freemail-ceo.eml")).unwrap();
    server.request("POST", "/v1/scan", &[], &msg)
}

#[test]
fn an_unsigned_model_is_refused_by_a_gateway_that_trusts_a_key() {
    let w = World::new();
    let (m1, id1) = w.model("m1", &["01-internal-ham.eml"]);
    let (m2, _) = w.model("m2", &["02-freemail-ceo.eml"]);
    std::fs::remove_file(m2.join("manifest.json.sig")).unwrap();
    w.publish(&m1);
    // Published without --trust-key: the repository takes it.
    ok(&["model", "publish", p(&m2), "--to", p(&w.path("repo"))]);
    let hub = serve(&["--publish-dir", p(&w.path("repo"))]);
    let (g, start) = gateway_from(&w, &hub, "cache");
    let started = Instant::now();
    while counter(&g, "refused") < 1 {
        assert!(started.elapsed() < one_poll(), "{}", metrics(&g));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(metrics(&g).contains("unsigned"), "{}", metrics(&g));
    assert_eq!(
        serving(&g),
        start,
        "the model it started with keeps serving"
    );
    assert_ne!(serving(&g), id1);
}

#[test]
fn rolling_back_the_repository_or_a_cache_brings_the_previous_model_back() {
    let w = World::new();
    let (m1, id1) = w.model("m1", &["01-internal-ham.eml"]);
    let (m2, id2) = w.model("m2", &["02-freemail-ceo.eml"]);
    w.publish(&m1);
    w.publish(&m2);
    let hub = serve(&["--publish-dir", p(&w.path("repo"))]);
    let g = gateway(&w, &hub, "cache");
    wait_serving(&[&g], &id2, one_poll());

    let out = ok(&["model", "rollback", "--to", p(&w.path("repo"))]);
    assert!(out.contains(&id1), "{out}");
    wait_serving(&[&g], &id1, one_poll());

    // Forward again at the repository, then back in the gateway's cache
    // alone: the gateway follows its cache and stays there.
    ok(&["model", "rollback", "--to", p(&w.path("repo"))]);
    wait_serving(&[&g], &id2, one_poll());
    ok(&["model", "rollback", "--cache", p(&w.path("cache"))]);
    wait_serving(&[&g], &id1, one_poll());
    std::thread::sleep(Duration::from_secs(POLL_SECS * 2));
    assert_eq!(serving(&g), id1);

    // Nothing to roll back to in a fresh repository.
    let fresh = w.path("fresh");
    ok(&["model", "publish", p(&m1), "--to", p(&fresh)]);
    let out = impostor(&["model", "rollback", "--to", p(&fresh)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to roll back to"));
}

#[test]
fn a_canary_on_a_signed_artifact_needs_the_key_and_never_leaves_a_stale_signature() {
    let w = World::new();
    let (m, _) = w.model("m", &["01-internal-ham.eml"]);
    let before = std::fs::read(m.join("manifest.json")).unwrap();
    let out = impostor(&[
        "model",
        "canary",
        p(&m),
        "--add",
        &examples(&["02-freemail-ceo.eml"])[0],
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key"));
    assert_eq!(std::fs::read(m.join("manifest.json")).unwrap(), before);
    ok(&["model", "verify", p(&m), "--trust-key", p(&w.public)]);
}

#[test]
fn a_milter_follows_the_model_server_too() {
    let w = World::new();
    let (m1, id1) = w.model("m1", &["01-internal-ham.eml", "02-freemail-ceo.eml"]);
    let (start, _) = w.model("start", &["03-lookalike-partner.eml"]);
    w.publish(&m1);
    let hub = serve(&["--publish-dir", p(&w.path("repo"))]);
    let url = format!("http://{}", hub.addr);
    let m = Milter::start(&[
        "--model",
        p(&start),
        "--trust-key",
        p(&w.public),
        "--model-url",
        &url,
        "--model-cache",
        p(&w.path("cache")),
        "--model-poll-secs",
        "1",
    ]);
    m.wait_log(&format!(
        "model {id1} from the model server verified, canary passed"
    ));
    let current = std::fs::read_to_string(w.path("cache/current")).unwrap();
    assert_eq!(current.lines().next(), Some(id1.as_str()));
}

#[test]
fn a_restarted_gateway_without_model_starts_from_its_cache_and_a_hangup_keeps_the_swap() {
    let w = World::new();
    let (m1, id1) = w.model("m1", &["01-internal-ham.eml", "02-freemail-ceo.eml"]);
    w.publish(&m1);
    let hub = serve(&["--publish-dir", p(&w.path("repo"))]);
    let (g, start_id) = gateway_from(&w, &hub, "cache");
    assert_ne!(start_id, id1);
    wait_serving(&[&g], &id1, one_poll());

    // A hangup reloads the directory of the model serving, which is now
    // the cache's copy of the fleet's model, not the one given at start.
    let status = Command::new("kill")
        .args(["-HUP", &g.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(serving(&g), id1);
    drop(g);

    // Restarted with no --model (the built-in model is unsigned and
    // refused under --trust-key): it serves what its cache holds.
    let cache = w.path("cache");
    let restarted = serve(&[
        "--model-url",
        &format!("http://{}", hub.addr),
        "--model-cache",
        p(&cache),
        "--model-poll-secs",
        &POLL_SECS.to_string(),
        "--trust-key",
        p(&w.public),
    ]);
    assert_eq!(serving(&restarted), id1);
}
