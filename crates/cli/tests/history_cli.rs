//! `impostor history import | show | forget` on a store file, with mail
//! written at run time (dated over the last 60 days, so the retention
//! keeps it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;
use support::{internal_message, unix_now, write_mail_history};

const ORG: &str = "name = \"Example Org\"
internal_domains = [\"example.org\"]
trusted_authserv_ids = [\"mx1.example.org\"]
";

/// A mail history of example.org in DIR/mail (10 vendors × 5 messages,
/// ana@example.org's 8, one outbound message from ana to
/// partner@some-vendor.example), the org file; (org file, mail folder).
fn mail(dir: &Path) -> (PathBuf, PathBuf) {
    let org = dir.join("org.toml");
    std::fs::write(&org, ORG).unwrap();
    let mail = dir.join("mail");
    write_mail_history(
        &mail,
        "example.org",
        "ana@example.org",
        "bo@example.org",
        10,
    );
    let sent = internal_message(
        "ana@example.org",
        "partner@some-vendor.example",
        "10.8.2.40",
        unix_now() - 86_400,
        "Our order",
        "Please send us a quote for two pallets.",
    );
    std::fs::write(mail.join("sent.eml"), sent).unwrap();
    (org, mail)
}

fn impostor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_impostor"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Imports DIR/mail into DIR/history.redb; the store's path.
fn imported(dir: &Path) -> (PathBuf, String) {
    let (org, mail) = mail(dir);
    let store = dir.join("history.redb");
    let out = impostor(&[
        "history",
        "import",
        "--org",
        org.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        mail.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    let summary = text(&out.stderr);
    assert!(
        summary.contains("learnt 59 messages") && summary.contains("skipped 0 unreadable"),
        "{summary}"
    );
    (store, org.to_str().unwrap().to_string())
}

#[test]
fn an_import_learns_past_mail_and_show_prints_the_profile_by_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (store, org) = imported(dir.path());
    let store = store.to_str().unwrap();
    // An address outside the org stands for its registrable domain.
    let out = impostor(&[
        "history",
        "show",
        "--org",
        &org,
        "--store",
        store,
        "Sales@Vendor3.example",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with("vendor3.example\n"), "{shown}");
    assert!(
        shown.contains("messages from it      5 (0 flagged)"),
        "{shown}"
    );
    assert!(shown.contains("198.51.100.0/24 (5)"), "{shown}");
    assert!(shown.contains("never written to"), "{shown}");
    assert!(shown.contains(" UTC"), "dates are shown: {shown}");
    // An internal mailbox is its own key; its network is where it submits.
    let out = impostor(&[
        "history",
        "show",
        "--org",
        &org,
        "--store",
        store,
        "--format",
        "json",
        "ana@example.org",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["key"], "ana@example.org");
    assert_eq!(p["inbound"], 9, "{p}");
    assert_eq!(p["networks"][0][0], "10.8.2.0/24", "{p}");
    assert_eq!(p["payment_requests"], 3, "{p}");
    assert!(p.get("bank_accounts").is_none(), "no hashes: {p}");
    assert_eq!(p["bank_accounts_known"], 0);
    // Sent mail makes its recipient a solicited correspondent.
    let out = impostor(&[
        "history",
        "show",
        "--org",
        &org,
        "--store",
        store,
        "--format",
        "json",
        "some-vendor.example",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["outbound"], 1, "{p}");
    assert_eq!(p["inbound"], 0, "{p}");
}

#[test]
fn an_unknown_key_is_reported_with_exit_status_1() {
    let dir = tempfile::tempdir().unwrap();
    let (store, org) = imported(dir.path());
    let out = impostor(&[
        "history",
        "show",
        "--org",
        &org,
        "--store",
        store.to_str().unwrap(),
        "nobody@never-seen.example",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(
        said.contains("does not know \"never-seen.example\"") && said.contains("the key of"),
        "{said}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn forget_removes_a_profile_and_says_whether_it_was_known() {
    let dir = tempfile::tempdir().unwrap();
    let (store, org) = imported(dir.path());
    let store = store.to_str().unwrap();
    let forget = |key: &str| {
        let out = impostor(&["history", "forget", "--org", &org, "--store", store, key]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert!(forget("billing@vendor2.example").starts_with("forgot vendor2.example"));
    assert!(forget("vendor2.example").contains("did not know vendor2.example"));
    let out = impostor(&[
        "history",
        "show",
        "--org",
        &org,
        "--store",
        store,
        "vendor2.example",
    ]);
    assert_eq!(out.status.code(), Some(1));
    // The others stay.
    let out = impostor(&[
        "history",
        "show",
        "--org",
        &org,
        "--store",
        store,
        "vendor1.example",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn unreadable_messages_are_counted_skipped_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let (org, mail) = mail(dir.path());
    let store = dir.path().join("history.redb");
    // A message over the size limit cannot be read; the others are learnt.
    std::fs::write(mail.join("huge.eml"), "X".repeat(5_000)).unwrap();
    let out = impostor(&[
        "history",
        "import",
        "--org",
        org.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--max-message-size",
        "4000",
        mail.to_str().unwrap(),
    ]);
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("learnt 59 messages"), "{said}");
    assert!(said.contains("skipped 1 unreadable"), "{said}");
    assert!(
        said.contains("huge.eml"),
        "the unreadable one is named: {said}"
    );
}

#[test]
fn a_store_that_cannot_be_opened_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (org, mail) = mail(dir.path());
    let missing = dir.path().join("no/such/folder/history.redb");
    let out = impostor(&[
        "history",
        "import",
        "--org",
        org.to_str().unwrap(),
        "--store",
        missing.to_str().unwrap(),
        mail.to_str().unwrap(),
    ]);
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("no/such/folder"), "{said}");
    let out = impostor(&[
        "history",
        "show",
        "--store",
        "ftp://example.org/history",
        "a.example",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("redis://HOST:PORT"));
}
