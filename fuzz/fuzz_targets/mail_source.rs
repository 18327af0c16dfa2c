//! File bytes → `impostor_mailsource::read_inputs`: what `impostor scan`,
//! `extract` and `corpus` do with a file they are given (one message, an
//! mbox, a tar archive, gzip-compressed or not, told apart by their bytes).

#![no_main]

use impostor_mailsource::{read_inputs, ReadOptions};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A small per-message limit, so that the fuzzer reaches it.
const LIMIT: u64 = 4096;

/// The reader takes paths: one file per fuzzing process, rewritten for
/// every input (left behind at exit, a few KiB).
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("impostor-fuzz-mail-source-{}", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = path();
    std::fs::write(path, data).expect("write the input file");
    let options = ReadOptions {
        max_message_bytes: LIMIT,
    };
    let compressed = data.starts_with(&[0x1f, 0x8b]);
    let mut total = 0;
    for message in read_inputs(std::slice::from_ref(path), &options) {
        assert_eq!(&message.origin.path, path);
        if let Ok(bytes) = &message.bytes {
            assert!(bytes.len() as u64 <= LIMIT, "{} bytes", bytes.len());
            total += bytes.len();
        }
    }
    // Messages are cut out of the file (a separator or quoting taken away,
    // nothing added); only a compressed archive holds more than it stores.
    if !compressed {
        assert!(total <= data.len(), "{total} bytes out of {}", data.len());
    }
});
