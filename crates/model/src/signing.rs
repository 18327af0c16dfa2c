//! Signed model artifacts: Ed25519 keys, the signature file, and the
//! loading that refuses an artifact no trusted key signed.
//!
//! SHA256SUMS and the manifest's hashes catch a changed byte, but anyone
//! who can write the directory can hash again. A signature cannot be
//! redone without the secret key. It covers the exact bytes of
//! manifest.json, and the manifest covers every other file by its SHA-256
//! (checked against the files and SHA256SUMS as [`artifact::verify`]
//! always does), so the one signature covers the whole artifact.
//!
//! ```text
//! DIR/manifest.json.sig  {"format": "impostor-signature", "algorithm": "ed25519",
//!                         "key_id": "0123456789abcdef", "signature": "BASE64"}
//! PREFIX.pub             impostor-ed25519-public BASE64   (the 32 public-key bytes)
//! PREFIX.key             impostor-ed25519-secret BASE64   (the 32-byte seed; mode 0600)
//! ```
//!
//! A key file holds one key line; lines starting with `#` and blank lines
//! are comments. A key's id is the first 16 hex digits of the SHA-256 of
//! its 32 public-key bytes; the signature file names the id, so a refusal
//! can say which key signed. With trusted keys, [`load`] refuses an
//! artifact that is unsigned, signed by a key not trusted, changed after
//! signing (any file), or holding a file its manifest does not list; any
//! one trusted key suffices (rotation: trust the new key beside the old,
//! sign with the new, then drop the old).
//!
//! What it deliberately does not do: keep keys anywhere but the files it
//! is given, revoke keys, sign anything but an artifact's manifest, or
//! sign the model built into the binary (it has no signature: with trusted
//! keys, give a signed artifact's directory).

use crate::artifact::{self, Artifact, BUILTIN_DIR, MANIFEST_FILE, SUMS_FILE};
use crate::atomic::{self, StagedDir, WriteError};
use crate::error::ModelError;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The signature's file name in the artifact directory. It is not listed
/// in SHA256SUMS or the manifest: it is made after them, over the manifest.
pub const SIGNATURE_FILE: &str = "manifest.json.sig";
/// The `format` every signature file names.
pub const SIGNATURE_FORMAT: &str = "impostor-signature";
/// The one signature algorithm.
pub const ALGORITHM: &str = "ed25519";
/// The first word of a public key file's key line.
pub const PUBLIC_TAG: &str = "impostor-ed25519-public";
/// The first word of a secret key file's key line.
pub const SECRET_TAG: &str = "impostor-ed25519-secret";
/// Hex digits of a key id.
pub const KEY_ID_LEN: usize = 16;

/// A key file is one line; anything much larger is not one.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// A signature file is about 200 bytes.
const MAX_SIGNATURE_BYTES: u64 = 64 * 1024;

/// How to make keys, for the messages about key files.
const MAKE_KEYS: &str = "make a key pair with `impostor keys new --out PREFIX`";

fn key_error(path: &Path, problem: impl Into<String>) -> ModelError {
    ModelError::Key {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

fn signature_error(dir: &Path, problem: String) -> ModelError {
    ModelError::Signature {
        dir: dir.to_path_buf(),
        problem,
    }
}

/// The id of a public key: the first 16 hex digits of its SHA-256.
fn key_id_of(key: &VerifyingKey) -> String {
    let hex = artifact::sha256_hex(key.as_bytes());
    hex.get(..KEY_ID_LEN).unwrap_or(&hex).to_string()
}

/// Reads at most `limit` bytes of `path` (more is refused by the caller).
fn read_limited(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Public,
    Secret,
}

impl KeyKind {
    fn tag(self) -> &'static str {
        match self {
            KeyKind::Public => PUBLIC_TAG,
            KeyKind::Secret => SECRET_TAG,
        }
    }

    fn expected(self) -> String {
        format!("expected one line `{} BASE64` ({MAKE_KEYS})", self.tag())
    }
}

/// The 32 key bytes of a key file's text. Never quotes the text: it may
/// be a secret, or someone's other file.
fn parse_key_text(text: &str, path: &Path, want: KeyKind) -> Result<[u8; 32], ModelError> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let Some(line) = lines.next() else {
        return Err(key_error(
            path,
            format!("holds no key; {}", want.expected()),
        ));
    };
    if lines.next().is_some() {
        return Err(key_error(
            path,
            format!(
                "holds more than one line besides comments; {}",
                want.expected()
            ),
        ));
    }
    let (tag, value) = line
        .split_once(char::is_whitespace)
        .map_or((line, ""), |(t, v)| (t, v.trim()));
    match (tag, want) {
        (PUBLIC_TAG, KeyKind::Public) | (SECRET_TAG, KeyKind::Secret) => {}
        (SECRET_TAG, KeyKind::Public) => {
            return Err(key_error(
                path,
                "is a secret key, not a public one: give the .pub file written beside it \
                 (and keep the .key file off the machines that only verify)",
            ))
        }
        (PUBLIC_TAG, KeyKind::Secret) => {
            return Err(key_error(
                path,
                "is a public key, not a secret one: signing takes the .key file written beside it",
            ))
        }
        _ => {
            return Err(key_error(
                path,
                format!("is not an impostor key file; {}", want.expected()),
            ))
        }
    }
    let bytes = BASE64.decode(value).map_err(|_| {
        key_error(
            path,
            format!("the key after `{tag}` is not base64; {}", want.expected()),
        )
    })?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        key_error(
            path,
            format!(
                "the key after `{tag}` is {} bytes, not 32; {}",
                bytes.len(),
                want.expected()
            ),
        )
    })
}

fn read_key_file(path: &Path) -> Result<String, ModelError> {
    let bytes = read_limited(path, MAX_KEY_FILE_BYTES).map_err(|source| ModelError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(key_error(
            path,
            format!("is larger than any key file ({MAX_KEY_FILE_BYTES} bytes); {MAKE_KEYS}"),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| key_error(path, format!("is not a text key file; {MAKE_KEYS}")))
}

/// A public key that verifies signatures, and the file it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: String,
    path: PathBuf,
}

impl PublicKey {
    /// Reads a public key file (`impostor-ed25519-public BASE64`). A
    /// secret key file, or any other file, is refused saying what it is.
    pub fn read(path: &Path) -> Result<PublicKey, ModelError> {
        PublicKey::parse(&read_key_file(path)?, path)
    }

    /// A public key file's text; `path` names it in errors and messages.
    pub fn parse(text: &str, path: &Path) -> Result<PublicKey, ModelError> {
        let bytes = parse_key_text(text, path, KeyKind::Public)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| {
            key_error(
                path,
                format!("holds 32 bytes that are not an Ed25519 public key; {MAKE_KEYS}"),
            )
        })?;
        Ok(PublicKey {
            id: key_id_of(&key),
            key,
            path: path.to_path_buf(),
        })
    }

    /// The key id: the first 16 hex digits of SHA-256 of the key's bytes.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The file it was read from (for a key derived from a secret key,
    /// the secret key's file).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The text of its .pub file: a comment naming the id, and the key line.
    pub fn to_file_text(&self) -> String {
        format!(
            "# impostor model-signing public key {}\n{PUBLIC_TAG} {}\n",
            self.id,
            BASE64.encode(self.key.as_bytes())
        )
    }
}

/// `ID (PATH)`: how messages name a key.
impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.id, self.path.display())
    }
}

/// A secret key that signs artifacts. Its Debug output shows the key id
/// and file, never the key.
pub struct SecretKey {
    key: SigningKey,
    path: PathBuf,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.id())
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A new key from the operating system's random numbers; `path` is
    /// where it is to be kept (named in errors).
    pub fn generate(path: &Path) -> Result<SecretKey, ModelError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| {
            key_error(
                path,
                format!("the operating system gave no random numbers for a new key: {e}"),
            )
        })?;
        let key = SigningKey::from_bytes(&seed);
        seed.fill(0);
        Ok(SecretKey {
            key,
            path: path.to_path_buf(),
        })
    }

    /// Reads a secret key file (`impostor-ed25519-secret BASE64`). A
    /// public key file, any other file, or (on unix) a file other users
    /// may read is refused saying what to do.
    pub fn read(path: &Path) -> Result<SecretKey, ModelError> {
        // The kind first: a .pub given by mistake is named as such.
        let key = SecretKey::parse(&read_key_file(path)?, path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|source| ModelError::Read {
                    path: path.to_path_buf(),
                    source,
                })?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(key_error(
                    path,
                    format!(
                        "other users may read or write this secret key (mode {:04o}); make it private: chmod 600 {}",
                        mode & 0o7777,
                        path.display()
                    ),
                ));
            }
        }
        Ok(key)
    }

    /// A secret key file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<SecretKey, ModelError> {
        let mut seed = parse_key_text(text, path, KeyKind::Secret)?;
        let key = SigningKey::from_bytes(&seed);
        seed.fill(0);
        Ok(SecretKey {
            key,
            path: path.to_path_buf(),
        })
    }

    /// The matching public key (its path is this key's file).
    pub fn public_key(&self) -> PublicKey {
        let key = self.key.verifying_key();
        PublicKey {
            id: key_id_of(&key),
            key,
            path: self.path.clone(),
        }
    }

    /// The key id (of its public key).
    pub fn id(&self) -> String {
        key_id_of(&self.key.verifying_key())
    }

    /// The file it was read from, or is to be written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The signature of `manifest` (the exact bytes of manifest.json).
    pub fn sign(&self, manifest: &[u8]) -> SignatureFile {
        SignatureFile {
            format: SIGNATURE_FORMAT.into(),
            algorithm: ALGORITHM.into(),
            key_id: self.id(),
            signature: BASE64.encode(self.key.sign(manifest).to_bytes()),
        }
    }

    fn to_file_text(&self) -> String {
        format!(
            "# impostor model-signing SECRET key {}: keep it private (mode 0600), off the gateways\n{SECRET_TAG} {}\n",
            self.id(),
            BASE64.encode(self.key.as_bytes())
        )
    }
}

/// `manifest.json.sig`: who signed the manifest, and the signature.
/// Unknown fields are ignored (a later version may add some).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureFile {
    /// Always [`SIGNATURE_FORMAT`].
    pub format: String,
    /// Always [`ALGORITHM`].
    pub algorithm: String,
    /// The signing key's id (see [`PublicKey::id`]).
    pub key_id: String,
    /// The 64-byte Ed25519 signature over manifest.json, standard base64.
    pub signature: String,
}

impl SignatureFile {
    /// The file's bytes: pretty JSON and a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// The files [`new_key_pair`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewKeys {
    /// PREFIX.key: the secret key, mode 0600.
    pub secret: PathBuf,
    /// PREFIX.pub: the public key, for `--trust-key`.
    pub public: PathBuf,
    /// The key id.
    pub id: String,
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Makes a new key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub
/// (public). Refuses if either exists: a key is never overwritten. The
/// prefix's folder is created if needed.
pub fn new_key_pair(prefix: &Path) -> Result<NewKeys, ModelError> {
    if prefix.as_os_str().is_empty() || prefix.file_name().is_none() || prefix.is_dir() {
        return Err(key_error(
            prefix,
            "is not a file prefix: give one such as keys/models, which makes keys/models.key and keys/models.pub",
        ));
    }
    let secret = with_suffix(prefix, ".key");
    let public = with_suffix(prefix, ".pub");
    let exists = |path: &Path| {
        key_error(
            path,
            "exists, and a key is never overwritten: choose another --out PREFIX, or move the old keys away first",
        )
    };
    for path in [&secret, &public] {
        if path.symlink_metadata().is_ok() {
            return Err(exists(path));
        }
    }
    if let Some(dir) = prefix.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| WriteError {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let key = SecretKey::generate(&secret)?;
    let public_key = PublicKey {
        path: public.clone(),
        ..key.public_key()
    };
    let refused = |path: &Path, e: WriteError| {
        if e.source.kind() == std::io::ErrorKind::AlreadyExists {
            exists(path)
        } else {
            ModelError::Write(e)
        }
    };
    atomic::write_new(&secret, key.to_file_text().as_bytes(), 0o600)
        .map_err(|e| refused(&secret, e))?;
    if let Err(e) = atomic::write_new(&public, public_key.to_file_text().as_bytes(), 0o644) {
        // Half a pair is no use: the secret goes too.
        let _ = std::fs::remove_file(&secret);
        return Err(refused(&public, e));
    }
    Ok(NewKeys {
        secret,
        public,
        id: public_key.id,
    })
}

/// The public keys an artifact's signature may be made by; any one
/// suffices. Empty: artifacts are not asked for a signature.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    keys: Vec<PublicKey>,
}

impl TrustedKeys {
    /// No trusted key: signatures are not checked.
    pub fn none() -> TrustedKeys {
        TrustedKeys::default()
    }

    /// These keys (a key given twice counts once).
    pub fn new(keys: Vec<PublicKey>) -> TrustedKeys {
        let mut out: Vec<PublicKey> = Vec::with_capacity(keys.len());
        for k in keys {
            if !out.iter().any(|o| o.id == k.id) {
                out.push(k);
            }
        }
        TrustedKeys { keys: out }
    }

    /// Reads each public key file (`--trust-key`), refusing the first
    /// that is not one.
    pub fn read(paths: &[PathBuf]) -> Result<TrustedKeys, ModelError> {
        let keys = paths
            .iter()
            .map(|p| PublicKey::read(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedKeys::new(keys))
    }

    /// Whether there is no trusted key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, in the order given.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// The trusted key with this id.
    pub fn get(&self, id: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|k| k.id == id)
    }
}

/// `key ID (PATH)` or `keys ID (PATH), ID (PATH)`: how refusals name the
/// trusted keys.
impl fmt::Display for TrustedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.keys.len() == 1 {
            "key "
        } else {
            "keys "
        })?;
        for (n, k) in self.keys.iter().enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

/// A verified artifact and the trusted key whose signature it carries.
#[derive(Clone, Debug)]
pub struct SignedArtifact {
    /// The artifact, verified as [`artifact::load`] verifies.
    pub artifact: Artifact,
    /// The trusted key that signed its manifest.
    pub key: PublicKey,
}

/// The artifact in `dir`: without trusted keys, [`artifact::load`]; with
/// them, [`load_signed`].
pub fn load(dir: &Path, trust: &TrustedKeys) -> Result<Artifact, ModelError> {
    if trust.is_empty() {
        artifact::load(dir)
    } else {
        load_signed(dir, trust).map(|s| s.artifact)
    }
}

/// The model built into the binary ([`artifact::builtin`]); refused when
/// there are trusted keys, for it carries no signature.
pub fn builtin(trust: &TrustedKeys) -> Result<Artifact, ModelError> {
    if trust.is_empty() {
        return artifact::builtin();
    }
    Err(signature_error(
        Path::new(BUILTIN_DIR),
        format!(
            "the model built into the binary has no {SIGNATURE_FILE}, and only artifacts signed by trusted {trust} are accepted; give --model DIR with an artifact signed by that key (`impostor model sign DIR --key KEY`)"
        ),
    ))
}

/// Reads and verifies the artifact in `dir` and its signature: the
/// signature must be by one of `trust`'s keys and match the exact bytes of
/// manifest.json that are then parsed; every file must match the
/// manifest's SHA-256 (and SHA256SUMS); no other file may be in the
/// directory (hidden `.impostor-*` temporaries of a write in progress
/// aside). A refusal ([`ModelError::Signature`]) names the file and the
/// key.
pub fn load_signed(dir: &Path, trust: &TrustedKeys) -> Result<SignedArtifact, ModelError> {
    if trust.is_empty() {
        return Err(signature_error(
            dir,
            "no trusted key to check its signature against; give --trust-key PUB".into(),
        ));
    }
    if !dir.is_dir() {
        // The plain loader's refusal says what to give instead.
        artifact::load(dir)?;
    }
    let sig_path = dir.join(SIGNATURE_FILE);
    let sig_bytes = match read_limited(&sig_path, MAX_SIGNATURE_BYTES) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(signature_error(
                dir,
                format!(
                    "{SIGNATURE_FILE} is missing: the artifact is unsigned, and only artifacts signed by trusted {trust} are accepted; sign it with `impostor model sign {} --key KEY` (the .key of that key)",
                    dir.display()
                ),
            ))
        }
        Err(source) => {
            return Err(ModelError::Read {
                path: sig_path,
                source,
            })
        }
    };
    // One reading of the manifest: the bytes verified are the bytes parsed.
    let manifest = artifact::read_bounded(dir, MANIFEST_FILE)?;
    let key = check_signature(dir, &manifest, &sig_bytes, trust)?;
    let signed = |problem: String| {
        signature_error(
            dir,
            format!("{problem} (its {MANIFEST_FILE} is signed by trusted key {key})"),
        )
    };
    let artifact = verify_with(dir, &manifest).map_err(|e| match e {
        ModelError::Artifact { problem, .. } => signed(problem),
        other => other,
    })?;
    if let Some(name) = uncovered_file(dir, &artifact.manifest.files)? {
        return Err(signed(format!(
            "{name} is in the directory but not listed in the signed {MANIFEST_FILE}: a signed artifact holds only the files its manifest lists; remove {name}"
        )));
    }
    Ok(SignedArtifact {
        artifact,
        key: key.clone(),
    })
}

/// [`artifact::verify`] of `dir` with manifest.json's bytes as read once.
fn verify_with(dir: &Path, manifest: &[u8]) -> Result<Artifact, ModelError> {
    artifact::verify(dir, &|name| {
        if name == MANIFEST_FILE {
            Ok(manifest.to_vec())
        } else {
            artifact::read_bounded(dir, name)
        }
    })
}

/// The first entry of `dir` that is neither an artifact file nor listed
/// in `files`.
fn uncovered_file(
    dir: &Path,
    files: &BTreeMap<String, String>,
) -> Result<Option<String>, ModelError> {
    let read_err = |source| ModelError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let name = entry.map_err(read_err)?.file_name();
        let name = name.to_string_lossy();
        let ours = [MANIFEST_FILE, SUMS_FILE, SIGNATURE_FILE].contains(&name.as_ref())
            || files.contains_key(name.as_ref())
            // An atomic write in progress (a new signature being renamed in).
            || name.starts_with(".impostor-");
        if !ours {
            return Ok(Some(name.into_owned()));
        }
    }
    Ok(None)
}

/// The trusted key whose signature in `sig_bytes` matches `manifest`.
fn check_signature<'t>(
    dir: &Path,
    manifest: &[u8],
    sig_bytes: &[u8],
    trust: &'t TrustedKeys,
) -> Result<&'t PublicKey, ModelError> {
    let refuse = |problem: String| Err(signature_error(dir, problem));
    if sig_bytes.len() as u64 > MAX_SIGNATURE_BYTES {
        return refuse(format!(
            "{SIGNATURE_FILE} is larger than any signature ({MAX_SIGNATURE_BYTES} bytes); sign the artifact again with a trusted key ({trust})"
        ));
    }
    let file: SignatureFile = match serde_json::from_slice(sig_bytes) {
        Ok(f) => f,
        Err(e) => {
            return refuse(format!(
                "{SIGNATURE_FILE} is not a signature file ({e}); sign the artifact again with `impostor model sign` and the .key of trusted {trust}"
            ))
        }
    };
    if file.format != SIGNATURE_FORMAT || file.algorithm != ALGORITHM {
        return refuse(format!(
            "{SIGNATURE_FILE} is not an {SIGNATURE_FORMAT} file of algorithm {ALGORITHM}; sign the artifact again with `impostor model sign` and the .key of trusted {trust}"
        ));
    }
    let well_formed = file.key_id.len() == KEY_ID_LEN
        && file
            .key_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return refuse(format!(
            "{SIGNATURE_FILE} names no valid key id; sign the artifact again with `impostor model sign` and the .key of trusted {trust}"
        ));
    }
    let Some(key) = trust.get(&file.key_id) else {
        return refuse(format!(
            "{MANIFEST_FILE} is signed ({SIGNATURE_FILE}) by key {}, which is not trusted: only trusted {trust} are accepted; sign it with a trusted key, or add --trust-key with the .pub file of key {}",
            file.key_id, file.key_id
        ));
    };
    let signature = BASE64
        .decode(&file.signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
        .map(|b| Signature::from_bytes(&b));
    let Some(signature) = signature else {
        return refuse(format!(
            "{SIGNATURE_FILE}: the signature by key {key} is not 64 bytes of base64; sign the artifact again"
        ));
    };
    if key.key.verify_strict(manifest, &signature).is_err() {
        return refuse(format!(
            "{MANIFEST_FILE} does not match its signature ({SIGNATURE_FILE}) by trusted key {key}: the manifest changed after it was signed; restore the artifact, or sign it again if the change is yours"
        ));
    }
    Ok(key)
}

/// Signs the artifact in `dir` with `key`: the artifact is verified first
/// (every file against SHA256SUMS and the manifest, no unlisted file: a
/// changed artifact is not signed), then [`SIGNATURE_FILE`] is written
/// atomically over the manifest bytes that were verified, replacing an
/// earlier signature. No other file is touched.
pub fn sign(dir: &Path, key: &SecretKey) -> Result<SignatureFile, ModelError> {
    if !dir.is_dir() {
        artifact::load(dir)?;
    }
    let manifest = artifact::read_bounded(dir, MANIFEST_FILE)?;
    let verified = verify_with(dir, &manifest)?;
    if let Some(name) = uncovered_file(dir, &verified.manifest.files)? {
        return Err(signature_error(
            dir,
            format!(
                "{name} is in the directory but not listed in {MANIFEST_FILE}: a signed artifact holds only the files its manifest lists; remove {name}, then sign"
            ),
        ));
    }
    let file = key.sign(&manifest);
    atomic::write_bytes(&dir.join(SIGNATURE_FILE), &file.to_json())?;
    Ok(file)
}

/// An artifact signed as it is written: a writer that takes a directory
/// (`impostor train`) writes it into [`SignedStage::dir`], a hidden
/// directory beside the destination; [`SignedStage::commit`] signs it and
/// renames it into place whole, so the destination never holds the
/// artifact unsigned. Dropped without a commit, nothing is left.
#[derive(Debug)]
pub struct SignedStage {
    staged: StagedDir,
    dest: PathBuf,
}

impl SignedStage {
    /// A stage for an artifact to be written at `dest`; refuses, as
    /// [`artifact::write`] does, a `dest` that exists and is not an artifact.
    pub fn beside(dest: &Path) -> Result<SignedStage, ModelError> {
        let replaceable = atomic::replaceable(dest, SUMS_FILE).map_err(|source| WriteError {
            path: dest.to_path_buf(),
            source,
        })?;
        if !replaceable {
            return Err(ModelError::Artifact {
                dir: dest.to_path_buf(),
                problem: "exists and is not a model artifact; choose another output directory"
                    .into(),
            });
        }
        Ok(SignedStage {
            staged: StagedDir::beside(dest)?,
            dest: dest.to_path_buf(),
        })
    }

    /// Where the writer writes the artifact (an empty directory).
    pub fn dir(&self) -> &Path {
        self.staged.path()
    }

    /// Where [`SignedStage::commit`] puts it.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Verifies and signs the staged artifact ([`sign`]), then renames it
    /// to the destination, replacing the artifact there.
    pub fn commit(self, key: &SecretKey) -> Result<SignatureFile, ModelError> {
        let file = sign(self.staged.path(), key)?;
        self.staged.commit(&self.dest)?;
        Ok(file)
    }
}
