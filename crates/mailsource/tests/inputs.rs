//! Reading real fixture files of every supported kind through the public API.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use impostor_mailsource::{read_inputs, Messages, Origin, RawMessage, ReadError, ReadOptions};

fn read_all(paths: &[PathBuf]) -> Vec<RawMessage> {
    read_inputs(paths, &ReadOptions::default()).collect()
}

fn read_limited(paths: &[PathBuf], max_message_bytes: u64) -> Vec<RawMessage> {
    read_inputs(paths, &ReadOptions { max_message_bytes }).collect()
}

fn bytes(message: &RawMessage) -> &[u8] {
    match &message.bytes {
        Ok(bytes) => bytes,
        Err(error) => panic!("expected bytes from {}, got error: {error}", message.origin),
    }
}

fn text(message: &RawMessage) -> String {
    String::from_utf8(bytes(message).to_vec()).expect("fixture messages are UTF-8")
}

fn origin(path: &Path, member: Option<&str>, index: Option<usize>) -> Origin {
    Origin {
        path: path.to_path_buf(),
        member: member.map(str::to_owned),
        index,
    }
}

fn write(path: &Path, content: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, content).unwrap();
}

const EML: &[u8] =
    b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nHello.\r\n";

/// Three messages: ">From " quoting, a CRLF message, an unsplit body "From me"
/// line and a last message without trailing newline.
const MBOX: &[u8] = b"From alice@example.com Mon Jan  1 00:00:00 2024\n\
Subject: one\n\
\n\
body\n\
>From quoted\n\
>>From twice quoted\n\
From me to you, not after a blank line\n\
\n\
From MAILER-DAEMON Tue Jan  2 10:11:12 2024\r\n\
Subject: two\r\n\
\r\n\
crlf line\r\n\
\r\n\
From - Wed Jan  3 23:59:59 2024\n\
Subject: three\n\
\n\
no trailing newline";

#[test]
fn single_eml_is_one_message_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hello.eml");
    write(&path, EML);
    let messages = read_all(std::slice::from_ref(&path));
    assert_eq!(messages.len(), 1);
    assert_eq!(bytes(&messages[0]), EML);
    assert_eq!(messages[0].origin, origin(&path, None, None));
    assert_eq!(messages[0].mbox_sender, None);
}

#[test]
fn mbox_is_split_unquoted_and_keeps_line_endings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox");
    write(&path, MBOX);
    let messages = read_all(std::slice::from_ref(&path));
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(
        text(&messages[0]),
        "Subject: one\n\nbody\nFrom quoted\n>From twice quoted\n\
         From me to you, not after a blank line\n"
    );
    assert_eq!(text(&messages[1]), "Subject: two\r\n\r\ncrlf line\r\n");
    assert_eq!(text(&messages[2]), "Subject: three\n\nno trailing newline");
    let senders: Vec<_> = messages.iter().map(|m| m.mbox_sender.as_deref()).collect();
    assert_eq!(
        senders,
        [Some("alice@example.com"), Some("MAILER-DAEMON"), Some("-")]
    );
    for (i, message) in messages.iter().enumerate() {
        assert_eq!(message.origin, origin(&path, None, Some(i)));
    }
}

#[test]
fn spamassassin_style_file_is_a_one_message_mbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("00001.7c53336b37003a9286aba55d2945844c");
    let content = b"From ilug-admin@linux.ie  Fri Aug 23 16:14:11 2002\n\
Return-Path: <ilug-admin@linux.ie>\n\
Subject: x\n\
\n\
From home recordings to downloaded mp3s, this plug-in helps.\n";
    write(&path, content);
    let messages = read_all(std::slice::from_ref(&path));
    assert_eq!(messages.len(), 1);
    assert_eq!(bytes(&messages[0]), &content[51..]);
    assert_eq!(
        messages[0].mbox_sender.as_deref(),
        Some("ilug-admin@linux.ie")
    );
    assert_eq!(messages[0].origin.index, Some(0));
}

#[test]
fn maildir_yields_cur_and_new_but_not_tmp() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Mail");
    write(
        &maildir.join("cur/1700000001.M1.host:2,S"),
        b"Subject: cur1\n\n",
    );
    write(
        &maildir.join("cur/1700000002.M2.host:2,"),
        b"Subject: cur2\n\n",
    );
    write(
        &maildir.join("new/1700000003.M3.host"),
        b"Subject: new1\n\n",
    );
    write(&maildir.join("tmp/1700000004.M4.host"), b"Subject: tmp\n\n");
    write(&maildir.join("dovecot-uidlist"), b"3 V1 N4\n");
    write(&maildir.join(".Sent/cur/x"), b"Subject: hidden folder\n\n");
    let messages = read_all(std::slice::from_ref(&maildir));
    let got: Vec<_> = messages
        .iter()
        .map(|m| (m.origin.member.clone().unwrap(), text(m)))
        .collect();
    assert_eq!(
        got,
        [
            (
                "cur/1700000001.M1.host:2,S".to_owned(),
                "Subject: cur1\n\n".to_owned()
            ),
            (
                "cur/1700000002.M2.host:2,".to_owned(),
                "Subject: cur2\n\n".to_owned()
            ),
            (
                "new/1700000003.M3.host".to_owned(),
                "Subject: new1\n\n".to_owned()
            ),
        ]
    );
    assert_eq!(
        messages[0].origin.path,
        maildir.join("cur/1700000001.M1.host:2,S")
    );
}

#[test]
fn nested_directory_is_walked_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    write(&root.join("b.eml"), b"Subject: b\n\n");
    write(&root.join("a/2.eml"), b"Subject: a2\n\n");
    write(&root.join("a/10.eml"), b"Subject: a10\n\n");
    write(&root.join("c/sub/deep.eml"), b"Subject: deep\n\n");
    write(&root.join(".hidden.eml"), b"Subject: hidden\n\n");
    write(&root.join(".git/config"), b"[core]\n");
    write(&root.join("z.mbox"), MBOX);
    #[cfg(unix)]
    {
        // A loop and a link to a file: the loop is not followed, the file is read.
        std::os::unix::fs::symlink(&root, root.join("c/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("b.eml"), root.join("d-link.eml")).unwrap();
    }
    let messages = read_all(std::slice::from_ref(&root));
    let got: Vec<_> = messages
        .iter()
        .map(|m| (m.origin.member.clone().unwrap(), m.origin.index))
        .collect();
    let mut expected = vec![
        ("a/10.eml".to_owned(), None),
        ("a/2.eml".to_owned(), None),
        ("b.eml".to_owned(), None),
        ("c/sub/deep.eml".to_owned(), None),
    ];
    if cfg!(unix) {
        expected.push(("d-link.eml".to_owned(), None));
    }
    expected.extend((0..3).map(|i| ("z.mbox".to_owned(), Some(i))));
    assert_eq!(got, expected);
    assert_eq!(text(&messages[1]), "Subject: a2\n\n");
    assert_eq!(messages[3].origin.path, root.join("c/sub/deep.eml"));
    assert_eq!(
        text(messages.last().unwrap()),
        "Subject: three\n\nno trailing newline"
    );
}

/// A tar with an .eml, an mbox (3 messages), a subdirectory with a message,
/// plus entries that are not messages.
fn build_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append_data(&mut header, name, data).unwrap();
    };
    add("corpus/one.eml", EML);
    add("corpus/inbox.mbox", MBOX);
    add("corpus/.DS_Store", b"junk");
    add("corpus/sub/two.eml", b"Subject: two\n\nin a subdirectory\n");
    let mut dir_header = tar::Header::new_gnu();
    dir_header.set_entry_type(tar::EntryType::Directory);
    dir_header.set_size(0);
    dir_header.set_mode(0o755);
    dir_header.set_cksum();
    builder
        .append_data(&mut dir_header, "corpus/empty-dir/", std::io::empty())
        .unwrap();
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    link.set_cksum();
    builder
        .append_link(&mut link, "corpus/link.eml", "one.eml")
        .unwrap();
    builder.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn check_tar_messages(messages: &[RawMessage], path: &Path) {
    let got: Vec<_> = messages
        .iter()
        .map(|m| (m.origin.member.as_deref().unwrap(), m.origin.index))
        .collect();
    assert_eq!(
        got,
        [
            ("corpus/one.eml", None),
            ("corpus/inbox.mbox", Some(0)),
            ("corpus/inbox.mbox", Some(1)),
            ("corpus/inbox.mbox", Some(2)),
            ("corpus/sub/two.eml", None),
        ]
    );
    assert!(messages.iter().all(|m| m.origin.path == path));
    assert_eq!(bytes(&messages[0]), EML);
    assert_eq!(text(&messages[2]), "Subject: two\r\n\r\ncrlf line\r\n");
    assert_eq!(messages[3].mbox_sender.as_deref(), Some("-"));
    assert_eq!(text(&messages[4]), "Subject: two\n\nin a subdirectory\n");
}

#[test]
fn tar_gz_members_are_messages_and_mboxes_are_split() {
    let dir = tempfile::tempdir().unwrap();
    // Recognised by content, not by name.
    let path = dir.path().join("download.bin");
    write(&path, &gzip(&build_tar()));
    let messages = read_all(std::slice::from_ref(&path));
    check_tar_messages(&messages, &path);
}

#[test]
fn plain_tar_is_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corpus.tar");
    write(&path, &build_tar());
    let messages = read_all(std::slice::from_ref(&path));
    check_tar_messages(&messages, &path);
}

#[test]
fn archive_inside_a_directory_names_the_archive_and_its_member() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("inputs");
    write(&root.join("a.tgz"), &gzip(&build_tar()));
    write(&root.join("b.eml.gz"), &gzip(EML));
    let messages = read_all(std::slice::from_ref(&root));
    assert_eq!(messages.len(), 6);
    check_tar_messages(&messages[..5], &root.join("a.tgz"));
    assert_eq!(
        messages[5].origin,
        origin(&root.join("b.eml.gz"), Some("b.eml.gz"), None)
    );
    assert_eq!(bytes(&messages[5]), EML);
}

#[test]
fn oversize_messages_are_skipped_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let big_body = "x".repeat(500);
    let mbox = format!(
        "From a Mon Jan  1 00:00:00 2024\nSubject: small\n\n\
         From b Mon Jan  1 00:00:01 2024\nSubject: big\n\n{big_body}\n\n\
         From c Mon Jan  1 00:00:02 2024\nSubject: after\n"
    );
    let mbox_path = dir.path().join("box");
    write(&mbox_path, mbox.as_bytes());
    let big_eml = dir.path().join("big.eml");
    write(&big_eml, format!("Subject: big\n\n{big_body}").as_bytes());
    let archive = dir.path().join("a.tar.gz");
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("big", big_body.as_bytes()),
        ("small", b"Subject: s\n\n".as_slice()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, data).unwrap();
    }
    write(&archive, &gzip(&builder.into_inner().unwrap()));

    let messages = read_limited(&[mbox_path.clone(), big_eml.clone(), archive.clone()], 100);
    assert_eq!(messages.len(), 6, "{messages:?}");
    assert_eq!(text(&messages[0]), "Subject: small\n");
    match &messages[1].bytes {
        Err(ReadError::TooLarge {
            path,
            index,
            size,
            limit,
            ..
        }) => {
            assert_eq!(path, &mbox_path);
            assert_eq!(*index, Some(1));
            assert_eq!(*size, 516);
            assert_eq!(*limit, 100);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(messages[1].mbox_sender.as_deref(), Some("b"));
    assert_eq!(text(&messages[2]), "Subject: after\n");
    assert_eq!(messages[2].mbox_sender.as_deref(), Some("c"));
    assert!(matches!(
        messages[3].bytes,
        Err(ReadError::TooLarge { size: 514, .. })
    ));
    let error = messages[4].bytes.as_ref().unwrap_err();
    assert!(matches!(error, ReadError::TooLarge { size: 500, .. }));
    let shown = error.to_string();
    assert!(shown.contains("a.tar.gz member big"), "{shown}");
    assert!(
        shown.contains("500 bytes, over the 100 bytes limit"),
        "{shown}"
    );
    assert!(
        shown.contains("raise the per-message size limit"),
        "{shown}"
    );
    assert_eq!(text(&messages[5]), "Subject: s\n\n");
}

#[test]
fn missing_input_is_an_error_and_the_next_input_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-file.mbox");
    let present = dir.path().join("ok.eml");
    write(&present, EML);
    let messages = read_all(&[missing.clone(), present.clone()]);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].origin, origin(&missing, None, None));
    let error = messages[0].bytes.as_ref().unwrap_err();
    assert!(matches!(error, ReadError::NotFound { path } if path == &missing));
    assert!(error.to_string().contains("no-such-file.mbox"), "{error}");
    assert_eq!(bytes(&messages[1]), EML);
}

#[test]
fn truncated_tar_gz_gives_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut tar = build_tar();
    // Make the archive long enough that a cut lands mid-stream.
    let mut builder = tar::Builder::new(Vec::new());
    for i in 0..50 {
        let data = format!("Subject: {i}\n\n{}\n", "lorem ipsum ".repeat(200 + i));
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("m/{i:03}"), data.as_bytes())
            .unwrap();
    }
    tar.truncate(tar.len() - 1024); // drop the end-of-archive blocks
    tar.extend(builder.into_inner().unwrap());
    let full = gzip(&tar);
    let after = dir.path().join("after.eml");
    write(&after, EML);
    for cut in [full.len() / 2, full.len() - 9, 30] {
        let path = dir.path().join(format!("cut-{cut}.tar.gz"));
        write(&path, &full[..cut]);
        let messages = read_all(&[path.clone(), after.clone()]);
        let errors: Vec<_> = messages
            .iter()
            .filter_map(|m| m.bytes.as_ref().err())
            .collect();
        assert_eq!(errors.len(), 1, "cut at {cut}: {messages:?}");
        assert!(
            matches!(errors[0], ReadError::CorruptArchive { path: p, .. } if p == &path),
            "cut at {cut}: {:?}",
            errors[0]
        );
        assert!(errors[0].to_string().contains("corrupt or truncated"));
        let last = messages.last().unwrap();
        assert_eq!(last.origin.path, after, "the next input is still read");
        assert_eq!(bytes(last), EML);
    }
}

#[test]
fn binary_garbage_is_one_message_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage");
    let mut state: u32 = 0x1234_5678;
    let garbage: Vec<u8> = (0..20_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect();
    assert_ne!(&garbage[..2], &[0x1f, 0x8b]);
    write(&path, &garbage);
    let messages = read_all(std::slice::from_ref(&path));
    assert_eq!(messages.len(), 1);
    assert_eq!(bytes(&messages[0]), &garbage[..]);
}

#[test]
fn empty_inputs_list_yields_nothing_and_messages_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let messages: Messages = read_inputs(&[], &ReadOptions::default());
    assert_send(&messages);
    assert_eq!(messages.count(), 0);
    assert_eq!(ReadOptions::default().max_message_bytes, 64 * 1024 * 1024);
}
