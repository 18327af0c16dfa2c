//! Reads the real SpamAssassin 2002 archive from the shared corpora and checks
//! it against its index (`spamassassin-2002.tsv`: a header line, then one line
//! per archive member, the member path in the first column; every member of
//! the archive is a one-message file starting with an mbox "From " line or a
//! bare message).

use std::collections::BTreeSet;
use std::path::PathBuf;

use impostor_mailsource::{read_inputs, ReadOptions};

/// This crate's directory, as cargo gives it when the test runs: the
/// compile-time value names the clone the binary was built in, which a
/// shared build cache may have reused for another clone.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

fn shared_corpora() -> PathBuf {
    let dir = manifest_dir().join("../../../shared/corpora");
    assert!(
        dir.is_dir(),
        "{} is missing: this test needs ../shared (the shared corpora); CI always has it",
        dir.display()
    );
    dir
}

#[test]
fn spamassassin_archive_yields_one_message_per_indexed_member() {
    let dir = shared_corpora();
    let archive = dir.join("spamassassin-2002.tar.gz");
    let index = std::fs::read_to_string(dir.join("spamassassin-2002.tsv")).unwrap_or_else(|e| {
        panic!("cannot read spamassassin-2002.tsv: {e}; this test needs ../shared (the shared corpora); CI always has it")
    });
    let mut lines = index.lines();
    let header = lines.next().expect("the .tsv has a header line");
    assert_eq!(
        header.split('\t').next(),
        Some("member"),
        "unexpected header: {header}"
    );
    let indexed: Vec<&str> = lines
        .filter(|line| !line.is_empty())
        .map(|line| line.split('\t').next().unwrap())
        .collect();
    assert!(indexed.len() > 6000, "index has {} members", indexed.len());

    let mut count = 0usize;
    let mut members = BTreeSet::new();
    let mut senders = 0usize;
    for message in read_inputs(std::slice::from_ref(&archive), &ReadOptions::default()) {
        count += 1;
        if let Err(error) = &message.bytes {
            panic!("unexpected error: {error}");
        }
        assert_eq!(message.origin.path, archive);
        assert!(message.bytes.as_ref().is_ok_and(|b| !b.is_empty()));
        senders += usize::from(message.mbox_sender.is_some());
        members.insert(
            message
                .origin
                .member
                .expect("archive messages have a member"),
        );
    }
    assert_eq!(count, indexed.len(), "one message per indexed member");
    let indexed: BTreeSet<String> = indexed.into_iter().map(str::to_owned).collect();
    assert_eq!(
        members, indexed,
        "the members read are exactly the indexed ones"
    );
    assert!(
        senders > 5000,
        "most members start with an mbox From line ({senders})"
    );
}
