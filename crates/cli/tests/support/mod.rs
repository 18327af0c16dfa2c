//! What the milter tests share: a running `impostor milter` and the seed
//! scenarios.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `impostor ARGS` in `dir` (or here) and fails the test, with its
/// standard error, unless it succeeds.
pub fn impostor_ok(args: &[&str], dir: Option<&std::path::Path>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_impostor"));
    command.args(args);
    if let Some(d) = dir {
        command.current_dir(d);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "impostor {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Moves a file's modification time a minute ahead, bytes unchanged: a
/// model watcher then sees a new artifact whatever the file system's
/// timestamp granularity.
pub fn touch_later(path: &std::path::Path) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(60);
    file.set_modified(later).unwrap();
}

/// The seed scenarios in ../shared; their absence fails the test (CI
/// provides ../shared, see .ci/run).
pub fn seed_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/scenarios/seed");
    assert!(
        dir.join("org.toml").is_file(),
        "{} is missing: these tests need ../shared beside the clone",
        dir.display()
    );
    dir
}

/// An `impostor milter` child, killed on drop, its standard error kept.
pub struct Milter {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Milter {
    /// Starts `impostor milter --listen 127.0.0.1:0 ARGS` and waits for the
    /// address it bound.
    pub fn start(args: &[&str]) -> Milter {
        Milter::start_with_env(args, &[])
    }

    /// [`Milter::start`] with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Milter {
        let mut child = Command::new(env!("CARGO_BIN_EXE_impostor"))
            .envs(env.iter().copied())
            .arg("milter")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting impostor milter");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("impostor milter: listening on ") {
                    let _ = tx.send(a.parse::<SocketAddr>().ok());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Some(a)) => a,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "impostor milter did not start listening:\n{}",
                    stderr.lock().unwrap().join("\n")
                );
            }
        };
        Milter {
            child,
            addr,
            stderr,
        }
    }

    /// Everything it printed on standard error so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Waits (at most 30 s: a loaded machine is slow to reload) for a line of standard error containing
    /// `needle`; the log so far on failure.
    pub fn wait_log(&self, needle: &str) {
        for _ in 0..300 {
            if self.log().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no {needle:?} in the milter's log:\n{}", self.log());
    }

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Milter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Milter {
    /// Sends SIGTERM and waits (at most 30 s) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid} failed");
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("impostor milter ignored SIGTERM for 30 s:\n{}", self.log());
    }
}
