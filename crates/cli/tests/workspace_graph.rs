//! The crate graph and its licences, read from `cargo metadata` (the
//! resolved dependency graph, not Cargo.toml text): only the gateway crate
//! and the binary may link GPL code, and the gateway stays free of the
//! training and plotting stacks (design.md §1).

use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;

/// The crates allowed to link GPL code: the gateway (indymilter) and the
/// binary that links it.
const MAY_LINK_GPL: [&str; 2] = ["impostor-serve", "impostor-cli"];

/// What a gateway must never pull in.
const NOT_IN_THE_GATEWAY: [&str; 4] = ["polars", "linfa", "plotters", "ndarray"];

struct Graph {
    /// package id → (name, licence expression)
    packages: HashMap<String, (String, String)>,
    /// package id → ids of its normal (non-dev, non-build) dependencies
    normal: HashMap<String, Vec<String>>,
    members: Vec<String>,
}

fn graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(cargo)
        .current_dir(&root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--offline",
            "--filter-platform",
            "x86_64-unknown-linux-gnu",
        ])
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let packages = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["license"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect();
    let normal = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let deps = n["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| d["pkg"].as_str().unwrap().to_string())
                .collect();
            (n["id"].as_str().unwrap().to_string(), deps)
        })
        .collect();
    let members = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    Graph {
        packages,
        normal,
        members,
    }
}

impl Graph {
    fn name(&self, id: &str) -> &str {
        &self.packages[id].0
    }

    fn member(&self, name: &str) -> &str {
        self.members
            .iter()
            .find(|id| self.name(id) == name)
            .unwrap_or_else(|| panic!("{name} is a workspace member"))
    }

    /// Every package `id` links, through normal dependencies only.
    fn linked(&self, id: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![id.to_string()];
        while let Some(next) = todo.pop() {
            for dep in self.normal.get(&next).into_iter().flatten() {
                if seen.insert(dep.clone()) {
                    todo.push(dep.clone());
                }
            }
        }
        seen
    }
}

/// Whether a licence expression leaves no choice but a GPL-family licence:
/// "MIT OR GPL-2.0" may be taken as MIT, "GPL-3.0-or-later" may not.
fn gpl_only(licence: &str) -> bool {
    licence
        .split(" OR ")
        .flat_map(|alt| alt.split('/'))
        .all(|alt| alt.contains("GPL"))
        && licence.contains("GPL")
}

#[test]
fn licence_expressions_are_read_as_choices() {
    assert!(gpl_only("GPL-3.0-or-later"));
    assert!(gpl_only("AGPL-3.0"));
    assert!(!gpl_only("MIT OR GPL-2.0"));
    assert!(!gpl_only("MIT/Apache-2.0"));
    assert!(!gpl_only("Apache-2.0 WITH LLVM-exception"));
}

#[test]
fn only_the_gateway_and_the_binary_link_gpl_code() {
    let g = graph();
    let mut offenders = Vec::new();
    for member in &g.members {
        let name = g.name(member);
        if MAY_LINK_GPL.contains(&name) {
            continue;
        }
        let own = &g.packages[member].1;
        assert!(!gpl_only(own), "{name} is itself declared {own}");
        for dep in g.linked(member) {
            let (dep_name, licence) = &g.packages[&dep];
            if gpl_only(licence) {
                offenders.push(format!("{name} links {dep_name} ({licence})"));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
    // The check can see GPL code where it is: the gateway links indymilter.
    let serve = g.linked(g.member("impostor-serve"));
    assert!(
        serve.iter().any(|id| gpl_only(&g.packages[id].1)),
        "impostor-serve links no GPL code any more: update this test and the README's Licence"
    );
}

#[test]
fn no_library_but_the_binary_depends_on_the_gateway() {
    let g = graph();
    let serve = g.member("impostor-serve");
    for member in &g.members {
        if g.name(member) == "impostor-cli" || member == serve {
            continue;
        }
        assert!(
            !g.linked(member).contains(serve),
            "{} links impostor-serve",
            g.name(member)
        );
    }
}

#[test]
fn the_gateway_links_no_training_or_plotting_stack() {
    let g = graph();
    let linked = g.linked(g.member("impostor-serve"));
    let names: BTreeSet<&str> = linked.iter().map(|id| g.name(id)).collect();
    for banned in NOT_IN_THE_GATEWAY {
        assert!(
            !names.iter().any(|n| n.starts_with(banned)),
            "impostor-serve links {banned}"
        );
    }
    for banned in ["impostor-train", "impostor-eval", "impostor-corpus"] {
        assert!(!names.contains(banned), "impostor-serve links {banned}");
    }
    // The scan must see the gateway's real dependencies, or it proves nothing.
    assert!(names.contains("impostor-model") && names.contains("indymilter"));
}

#[test]
fn the_model_crate_runs_no_async_runtime_and_links_no_heavy_stack() {
    let g = graph();
    let model = g.member("impostor-model");
    let direct: BTreeSet<&str> = g.normal[model].iter().map(|id| g.name(id)).collect();
    // tokio is linked below it only through mail-auth, whose DNS backend
    // is not optional; the model itself never depends on a runtime.
    for banned in ["tokio", "async-std", "futures"] {
        assert!(
            !direct.contains(banned),
            "impostor-model depends on {banned}"
        );
    }
    let linked = g.linked(model);
    let names: BTreeSet<&str> = linked.iter().map(|id| g.name(id)).collect();
    for banned in ["axum", "hyper", "polars", "linfa", "plotters", "indymilter"] {
        assert!(!names.contains(banned), "impostor-model links {banned}");
    }
    assert!(names.contains("impostor-features"));
}
