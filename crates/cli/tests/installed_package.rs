//! The installed Debian package (scripts/package.sh install, which CI runs
//! before the tests): its files where they belong, /usr/bin/impostor this
//! tree's build, its systemd units sound and hardened, and the milter
//! started the way impostor-milter.service starts it (the unit's
//! ExecStart= as its User=, without capabilities or new privileges, in an
//! empty environment, with the installed /etc/impostor/impostor.toml)
//! passing the Postfix end-to-end flow.
//!
//! Needs the package installed, root, and Debian's postfix (.ci/setup).
//! Nothing here skips: without the package every test fails, saying how
//! to install it.

#[path = "support/postfix.rs"]
mod postfix;
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{seed_dir, Milter};

const PACKAGE: &str = "impostor";
const MILTER_UNIT: &str = "/usr/lib/systemd/system/impostor-milter.service";
const SERVE_UNIT: &str = "/usr/lib/systemd/system/impostor-serve.service";
const CONFIG: &str = "/etc/impostor/impostor.toml";

/// Runs a program; its standard output, failing the test unless it
/// succeeds.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails the test, saying how to install it, unless the package is
/// installed.
fn installed() {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", PACKAGE])
        .output()
        .expect("dpkg-query: these tests run on Debian");
    let status = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        status, "install ok installed",
        "the {PACKAGE} package is not installed: build the tests (cargo test --workspace --locked --no-run), then run scripts/package.sh install as root (.ci/run does both before the tests)"
    );
}

/// The GNU build id of an ELF file (kept by strip), by readelf.
fn build_id(path: &str) -> String {
    let notes = run("readelf", &["--notes", path]);
    notes
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: "))
        .unwrap_or_else(|| panic!("{path} has no GNU build id:\n{notes}"))
        .trim()
        .to_string()
}

/// A systemd unit file's settings: (section, key, value), in order.
struct Unit {
    path: String,
    settings: Vec<(String, String, String)>,
}

impl Unit {
    /// Reads and parses a unit file; a line that is neither a comment, a
    /// section nor KEY=VALUE fails the test.
    fn read(path: &str) -> Unit {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut section = String::new();
        let mut settings = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(['#', ';']) {
                continue;
            }
            assert!(!line.ends_with('\\'), "{path}:{}: no continuations", n + 1);
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.to_string();
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{path}:{}: not KEY=VALUE: {line}", n + 1));
            assert!(!section.is_empty(), "{path}:{}: outside a section", n + 1);
            settings.push((
                section.clone(),
                key.trim().to_string(),
                value.trim().to_string(),
            ));
        }
        Unit {
            path: path.to_string(),
            settings,
        }
    }

    /// Every value of `key` in [Service].
    fn all(&self, key: &str) -> Vec<&str> {
        self.settings
            .iter()
            .filter(|(s, k, _)| s == "Service" && k == key)
            .map(|(_, _, v)| v.as_str())
            .collect()
    }

    /// The one value of `key` in [Service].
    fn one(&self, key: &str) -> &str {
        match self.all(key)[..] {
            [v] => v,
            ref vs => panic!("{}: [Service] {key}= {vs:?}, want one", self.path),
        }
    }

    /// ExecStart= as argv: the units use no quoting and no prefixes.
    fn exec_start(&self) -> Vec<String> {
        let line = self.one("ExecStart");
        assert!(
            !line.contains(['"', '\'', '$', '%']) && !line.starts_with(['-', '@', '+', '!', ':']),
            "{}: this test reads only a plain ExecStart=: {line}",
            self.path
        );
        line.split_whitespace().map(str::to_string).collect()
    }

    /// The unit's command as the unit runs it: as User=/Group= (setpriv
    /// execs it, so the child is the service itself), with no new
    /// privileges and no capabilities when the unit says so, in an empty
    /// environment from /; `extra` appended to ExecStart=.
    fn command(&self, extra: &[&str]) -> Command {
        let user = self.one("User");
        let group = self.one("Group");
        let mut command = Command::new("setpriv");
        command.args(["--reuid", user, "--regid", group, "--init-groups"]);
        if self.one("NoNewPrivileges") == "yes" {
            command.arg("--no-new-privs");
        }
        if self.one("CapabilityBoundingSet").is_empty() {
            command.args(["--bounding-set", "-all", "--inh-caps", "-all"]);
        }
        command
            .arg("--")
            .args(self.exec_start())
            .args(extra)
            .env_clear()
            .current_dir("/");
        command
    }
}

#[test]
fn the_package_puts_its_files_where_they_belong_and_makes_its_user() {
    installed();
    let files = run("dpkg", &["-L", PACKAGE]);
    for want in [
        "/usr/bin/impostor",
        "/usr/share/impostor/model/manifest.json",
        "/usr/share/impostor/model/SHA256SUMS",
        "/usr/share/impostor/model/training.parquet",
        "/usr/share/impostor/examples/kestrel-foods.toml",
        "/usr/share/impostor/postfix/main.cf.snippet",
        MILTER_UNIT,
        SERVE_UNIT,
        CONFIG,
    ] {
        assert!(
            files.lines().any(|l| l == want),
            "dpkg -L {PACKAGE} lists {want}:\n{files}"
        );
        assert!(Path::new(want).is_file(), "{want} is installed");
    }
    // The shipped model is the tree's models/default, file for file.
    let tree = support::repo().join("models/default");
    for name in ["manifest.json", "SHA256SUMS", "training.parquet"] {
        assert!(
            std::fs::read(tree.join(name)).unwrap()
                == std::fs::read(Path::new("/usr/share/impostor/model").join(name)).unwrap(),
            "/usr/share/impostor/model/{name} is models/default/{name}"
        );
    }
    let conffiles = run("dpkg-query", &["-W", "-f", "${Conffiles}", PACKAGE]);
    assert!(
        conffiles.lines().any(|l| l.trim().starts_with(CONFIG)),
        "{CONFIG} is a conffile (an upgrade keeps the operator's edits): {conffiles:?}"
    );
    let passwd = run("getent", &["passwd", "impostor"]);
    let fields: Vec<&str> = passwd.trim().split(':').collect();
    let uid: u32 = fields[2].parse().unwrap();
    assert!(uid < 1000, "impostor is a system user: {passwd}");
    assert!(
        fields[6].ends_with("nologin") || fields[6].ends_with("false"),
        "impostor cannot log in: {passwd}"
    );
    let gid: u32 = run("getent", &["group", "impostor"])
        .split(':')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    let meta = std::fs::metadata(CONFIG).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.permissions().mode() & 0o777),
        (0, gid, 0o640),
        "{CONFIG} is root:impostor 0640 (readable by the services, not by everyone)"
    );
}

#[test]
fn the_installed_binary_is_this_trees_build() {
    installed();
    let ours = env!("CARGO_BIN_EXE_impostor");
    assert_eq!(
        build_id("/usr/bin/impostor"),
        build_id(ours),
        "/usr/bin/impostor is not the build under test ({ours}): rebuild the tests and run scripts/package.sh install again"
    );
    assert_eq!(
        run("/usr/bin/impostor", &["--version"]),
        run(ours, &["--version"])
    );
    // Stripped: the debug build's symbols stay out of the package.
    let installed = std::fs::metadata("/usr/bin/impostor").unwrap().len();
    let built = std::fs::metadata(ours).unwrap().len();
    assert!(
        installed < built,
        "/usr/bin/impostor is stripped ({installed} bytes, the build {built})"
    );
}

#[test]
fn the_installed_units_are_sound_and_hardened() {
    installed();
    for (path, command) in [(MILTER_UNIT, "milter"), (SERVE_UNIT, "serve")] {
        let unit = Unit::read(path);
        assert_eq!(
            unit.exec_start(),
            ["/usr/bin/impostor", command, "--config", CONFIG],
            "{path}: ExecStart="
        );
        assert_eq!(unit.one("User"), "impostor", "{path}");
        assert_eq!(unit.one("Group"), "impostor", "{path}");
        for (key, want) in [
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
            ("PrivateDevices", "yes"),
            ("ProtectKernelTunables", "yes"),
            ("ProtectKernelModules", "yes"),
            ("ProtectKernelLogs", "yes"),
            ("ProtectControlGroups", "yes"),
            ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
            ("MemoryDenyWriteExecute", "yes"),
            ("StateDirectory", "impostor"),
            ("ConfigurationDirectory", "impostor"),
            ("CapabilityBoundingSet", ""),
            ("SystemCallFilter", "@system-service"),
        ] {
            assert_eq!(unit.one(key), want, "{path}: {key}=");
        }
        // systemd's own reading, when systemd is installed (the parse
        // above stands in for it otherwise).
        if Path::new("/usr/bin/systemd-analyze").exists() {
            let out = Command::new("systemd-analyze")
                .args(["verify", "--man=no", path])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && !err.contains(path.rsplit('/').next().unwrap()),
                "systemd-analyze verify {path}:\n{err}"
            );
        }
    }
}

/// The seed scenarios' org profile, copied where the impostor user can
/// read it (the clone may be in root's home).
fn readable_seed_org(dir: &Path) -> String {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let org = dir.join("org.toml");
    std::fs::copy(seed_dir().join("org.toml"), &org).unwrap();
    std::fs::set_permissions(&org, std::fs::Permissions::from_mode(0o644)).unwrap();
    org.to_str().unwrap().to_string()
}

#[test]
fn postfix_rejects_attacks_through_the_milter_started_as_its_unit_starts_it() {
    installed();
    let started = Instant::now();
    let unit = Unit::read(MILTER_UNIT);
    let dir = tempfile::tempdir().unwrap();
    let org = readable_seed_org(dir.path());
    // The unit's command with the installed config; flags (which win over
    // the file) give the flow its org and policy. The address is the
    // config's ([milter] listen).
    let mut extra = vec!["--org", org.as_str()];
    extra.extend(postfix::REJECT_AT_MEDIUM);
    let milter = Milter::spawn(unit.command(&extra));
    assert_eq!(
        milter.addr,
        "127.0.0.1:7357".parse::<SocketAddr>().unwrap(),
        "the milter listens where {CONFIG} says and main.cf.snippet points Postfix"
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", milter.pid())).unwrap();
    let uid = run("id", &["-u", "impostor"]);
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert!(
        field("Uid:").iter().all(|u| *u == uid.trim()),
        "the milter runs as impostor:\n{status}"
    );
    assert_eq!(field("CapBnd:"), ["0000000000000000"], "{status}");
    assert_eq!(field("NoNewPrivs:"), ["1"], "{status}");
    postfix::rejects_attacks_and_delivers_genuine_mail(&milter);
    eprintln!(
        "postfix end-to-end through the installed milter took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Starts `command` (impostor serve); the child, its address and the
/// line announcing it.
fn start_serve(mut command: Command) -> (Child, SocketAddr, String) {
    let spawned = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = spawned.unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    let (tx, rx) = mpsc::channel();
    let pipe = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(120)) {
        let addr = line
            .strip_prefix("impostor serve: listening on http://")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|a| a.parse::<SocketAddr>().ok());
        if let Some(addr) = addr {
            return (child, addr, line);
        }
        seen.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("impostor serve did not start:\n{}", seen.join("\n"));
}

#[test]
fn the_serve_unit_command_serves_the_installed_model() {
    installed();
    let unit = Unit::read(SERVE_UNIT);
    // Port 0 instead of the config's 8025: the flag wins over the file.
    let (mut child, addr, first) = start_serve(unit.command(&["--listen", "127.0.0.1:0"]));
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.contains("(model /usr/share/impostor/model, manifest SHA-256 "),
        "serve loads the model {CONFIG} names: {first}"
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn an_unknown_key_in_the_config_file_stops_the_milter_with_status_2_naming_file_and_key() {
    installed();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("impostor.toml");
    let installed_config = std::fs::read_to_string(CONFIG).unwrap();
    std::fs::write(
        &config,
        installed_config.replace("reject_at = ", "rejectat = "),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let out = Command::new("/usr/bin/impostor")
        .args(["milter", "--config", config, "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(config) && err.contains("rejectat"),
        "the error names the file and the key: {err}"
    );
    // A known key with a value the flag would refuse: read, and refused.
    std::fs::write(
        config,
        installed_config.replace("on_error = \"accept\"", "on_error = \"sometimes\""),
    )
    .unwrap();
    let out = Command::new("/usr/bin/impostor")
        .args(["milter", "--config", config, "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(config) && err.contains("[milter] on_error = \"sometimes\""),
        "the error names the file, the key and the value: {err}"
    );
}
