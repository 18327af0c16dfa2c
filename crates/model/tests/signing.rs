//! Signed model artifacts: keys, signing, and the loading that refuses an
//! artifact no trusted key signed. Each test works on its own copy of
//! models/default.

use impostor_model::artifact::{self, sha256_hex, CARD_FILE, MANIFEST_FILE, SUMS_FILE};
use impostor_model::signing::{
    self, new_key_pair, NewKeys, PublicKey, SecretKey, SignedStage, TrustedKeys, SIGNATURE_FILE,
};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A copy of models/default in `root/model`.
fn copy_default(root: &Path) -> PathBuf {
    let dir = root.join("model");
    std::fs::create_dir(&dir).unwrap();
    for f in std::fs::read_dir(repo().join("models/default")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.join(f.file_name())).unwrap();
    }
    dir
}

/// A new empty folder `root/name`.
fn fresh(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn keys(root: &Path, name: &str) -> (NewKeys, SecretKey, PublicKey) {
    let new = new_key_pair(&root.join("keys").join(name)).unwrap();
    let secret = SecretKey::read(&new.secret).unwrap();
    let public = PublicKey::read(&new.public).unwrap();
    (new, secret, public)
}

fn trusting(keys: &[&PublicKey]) -> TrustedKeys {
    TrustedKeys::new(keys.iter().map(|k| (*k).clone()).collect())
}

/// The refusal of loading `dir` trusting `trust`, as text.
fn refusal(dir: &Path, trust: &TrustedKeys) -> String {
    match signing::load(dir, trust) {
        Ok(_) => panic!("{} was accepted", dir.display()),
        Err(e) => e.to_string(),
    }
}

/// Writes `bytes` as `name` and records its new SHA-256 in SHA256SUMS, as
/// someone would who can write the directory but has no key.
fn replace_and_rehash(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
    let sums = std::fs::read_to_string(dir.join(SUMS_FILE)).unwrap();
    let sums: String = sums
        .lines()
        .map(|l| match l.split_once("  ") {
            Some((_, n)) if n == name => format!("{}  {name}\n", sha256_hex(bytes)),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(dir.join(SUMS_FILE), sums).unwrap();
}

#[test]
fn a_signed_artifact_loads_with_its_trusted_key_and_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_default(tmp.path());
    let (new, secret, public) = keys(tmp.path(), "ops");
    assert_eq!(new.id, public.id());
    assert_eq!(secret.id(), public.id());
    assert_eq!(public.id().len(), 16);
    // The id: SHA-256 of the 32 public-key bytes (not of the file), 16 hex digits.
    let text = std::fs::read_to_string(&new.public).unwrap();
    let b64 = text
        .lines()
        .find_map(|l| l.strip_prefix("impostor-ed25519-public "))
        .unwrap();
    let raw = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    };
    assert_eq!(raw.len(), 32);
    assert_eq!(Some(public.id()), sha256_hex(&raw).get(..16));

    let file = signing::sign(&dir, &secret).unwrap();
    assert_eq!(file.key_id, public.id());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(SIGNATURE_FILE)).unwrap()).unwrap();
    assert_eq!(json["format"], "impostor-signature");
    assert_eq!(json["algorithm"], "ed25519");
    assert_eq!(json["key_id"], public.id());

    let signed = signing::load_signed(&dir, &trusting(&[&public])).unwrap();
    assert_eq!(signed.key.id(), public.id());
    assert_eq!(signed.key.path(), new.public.as_path());
    let plain = artifact::load(&dir).unwrap();
    assert_eq!(signed.artifact.manifest_sha256, plain.manifest_sha256);
    // Without trusted keys a signed artifact loads as any other.
    signing::load(&dir, &TrustedKeys::none()).unwrap();
}

#[test]
fn signing_writes_only_the_signature_and_leaves_every_other_file_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_default(tmp.path());
    let (_, secret, _) = keys(tmp.path(), "ops");
    let before: Vec<(String, Vec<u8>, std::time::SystemTime)> =
        [MANIFEST_FILE, SUMS_FILE, CARD_FILE, "training.parquet"]
            .iter()
            .map(|n| {
                let p = dir.join(n);
                (
                    n.to_string(),
                    std::fs::read(&p).unwrap(),
                    std::fs::metadata(&p).unwrap().modified().unwrap(),
                )
            })
            .collect();
    signing::sign(&dir, &secret).unwrap();
    // Signing again replaces the signature, atomically.
    signing::sign(&dir, &secret).unwrap();
    for (name, bytes, modified) in before {
        let p = dir.join(&name);
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name} changed");
        assert_eq!(
            std::fs::metadata(&p).unwrap().modified().unwrap(),
            modified,
            "{name} was rewritten"
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            CARD_FILE,
            SUMS_FILE,
            MANIFEST_FILE,
            SIGNATURE_FILE,
            "training.parquet"
        ],
        "no temporary is left"
    );
}

#[test]
fn a_tampered_manifest_is_refused_naming_the_manifest_and_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_default(tmp.path());
    let (new, secret, public) = keys(tmp.path(), "ops");
    signing::sign(&dir, &secret).unwrap();
    let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).unwrap();
    let changed = text.replacen("\"weight\": ", "\"weight\": 1", 1);
    assert_ne!(changed, text);
    // SHA256SUMS rehashed too: only the signature can tell.
    replace_and_rehash(&dir, MANIFEST_FILE, changed.as_bytes());
    artifact::load(&dir).expect("the sums alone are fooled");
    let e = refusal(&dir, &trusting(&[&public]));
    assert!(
        e.contains(MANIFEST_FILE) && e.contains(SIGNATURE_FILE),
        "{e}"
    );
    assert!(e.contains(public.id()), "{e}");
    assert!(e.contains(&new.public.display().to_string()), "{e}");
    assert!(e.contains("changed after it was signed"), "{e}");
}

#[test]
fn a_changed_model_card_is_refused_naming_the_file_and_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let (new, secret, public) = keys(tmp.path(), "ops");
    let trust = trusting(&[&public]);
    let card = b"# Model card\n\nAll good, trust me.\n";

    // The card changed, the sums not: the sums catch it.
    let dir = copy_default(&fresh(tmp.path(), "a"));
    signing::sign(&dir, &secret).unwrap();
    std::fs::write(dir.join(CARD_FILE), card).unwrap();
    let e = refusal(&dir, &trust);
    assert!(e.contains(CARD_FILE), "{e}");
    assert!(
        e.contains(public.id()) && e.contains(&new.public.display().to_string()),
        "{e}"
    );

    // The card changed and SHA256SUMS rehashed: the signed manifest's hash
    // of the card still tells.
    let dir = copy_default(&fresh(tmp.path(), "b"));
    signing::sign(&dir, &secret).unwrap();
    replace_and_rehash(&dir, CARD_FILE, card);
    let e = refusal(&dir, &trust);
    assert!(e.contains(CARD_FILE) && e.contains(MANIFEST_FILE), "{e}");
    assert!(e.contains(public.id()), "{e}");
}

#[test]
fn an_unsigned_artifact_is_refused_when_keys_are_trusted_and_accepted_without() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_default(tmp.path());
    let (new, _, public) = keys(tmp.path(), "ops");
    signing::load(&dir, &TrustedKeys::none()).unwrap();
    let e = refusal(&dir, &trusting(&[&public]));
    assert!(e.contains(SIGNATURE_FILE) && e.contains("unsigned"), "{e}");
    assert!(
        e.contains(public.id()) && e.contains(&new.public.display().to_string()),
        "{e}"
    );
    assert!(e.contains("impostor model sign"), "{e}");
}

#[test]
fn the_built_in_model_is_refused_when_keys_are_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, _, public) = keys(tmp.path(), "ops");
    signing::builtin(&TrustedKeys::none()).unwrap();
    let e = signing::builtin(&trusting(&[&public]))
        .unwrap_err()
        .to_string();
    assert!(e.contains(SIGNATURE_FILE) && e.contains("--model"), "{e}");
    assert!(e.contains(public.id()), "{e}");
}

#[test]
fn a_signature_by_a_key_not_trusted_is_refused_naming_both_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_default(tmp.path());
    let (_, intruder, _) = keys(tmp.path(), "intruder");
    let (new, _, public) = keys(tmp.path(), "ops");
    signing::sign(&dir, &intruder).unwrap();
    let e = refusal(&dir, &trusting(&[&public]));
    assert!(
        e.contains(&intruder.id()) && e.contains("not trusted"),
        "{e}"
    );
    assert!(
        e.contains(public.id()) && e.contains(&new.public.display().to_string()),
        "{e}"
    );
    assert!(e.contains(MANIFEST_FILE), "{e}");
}

#[test]
fn a_forged_signature_under_a_trusted_key_id_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_default(tmp.path());
    let (_, intruder, _) = keys(tmp.path(), "intruder");
    let (_, _, public) = keys(tmp.path(), "ops");
    // The intruder's signature, claiming the trusted key's id.
    let mut file = intruder.sign(&std::fs::read(dir.join(MANIFEST_FILE)).unwrap());
    file.key_id = public.id().to_string();
    std::fs::write(dir.join(SIGNATURE_FILE), file.to_json()).unwrap();
    let e = refusal(&dir, &trusting(&[&public]));
    assert!(
        e.contains("does not match its signature") && e.contains(public.id()),
        "{e}"
    );
    // Nor is a signature file that is not one.
    std::fs::write(dir.join(SIGNATURE_FILE), b"not json").unwrap();
    let e = refusal(&dir, &trusting(&[&public]));
    assert!(
        e.contains(SIGNATURE_FILE) && e.contains("not a signature file"),
        "{e}"
    );
}

#[test]
fn either_of_two_trusted_keys_is_accepted_for_rotation() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, old_secret, old_public) = keys(tmp.path(), "old");
    let (_, new_secret, new_public) = keys(tmp.path(), "new");
    let (_, _, other_public) = keys(tmp.path(), "other");
    let both = trusting(&[&old_public, &new_public]);
    let dir = copy_default(tmp.path());
    signing::sign(&dir, &old_secret).unwrap();
    assert_eq!(
        signing::load_signed(&dir, &both).unwrap().key.id(),
        old_public.id()
    );
    signing::sign(&dir, &new_secret).unwrap();
    assert_eq!(
        signing::load_signed(&dir, &both).unwrap().key.id(),
        new_public.id()
    );
    // Once the old key is dropped, what it signed is refused.
    signing::sign(&dir, &old_secret).unwrap();
    let e = refusal(&dir, &trusting(&[&new_public, &other_public]));
    assert!(
        e.contains(&old_secret.id()) && e.contains("not trusted"),
        "{e}"
    );
}

#[test]
fn a_file_the_manifest_does_not_list_is_refused_and_not_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_default(tmp.path());
    let (_, secret, public) = keys(tmp.path(), "ops");
    signing::sign(&dir, &secret).unwrap();
    std::fs::write(dir.join("extra.bin"), b"x").unwrap();
    let e = refusal(&dir, &trusting(&[&public]));
    assert!(e.contains("extra.bin") && e.contains(public.id()), "{e}");
    let e = signing::sign(&dir, &secret).unwrap_err().to_string();
    assert!(e.contains("extra.bin"), "{e}");
}

#[test]
fn a_changed_artifact_is_not_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_default(tmp.path());
    let (_, secret, _) = keys(tmp.path(), "ops");
    std::fs::write(dir.join(CARD_FILE), b"changed").unwrap();
    let e = signing::sign(&dir, &secret).unwrap_err().to_string();
    assert!(e.contains(CARD_FILE) && e.contains("SHA-256"), "{e}");
    assert!(!dir.join(SIGNATURE_FILE).exists());
}

#[test]
fn key_files_are_private_never_overwritten_and_refused_as_the_wrong_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("k/ops");
    let new = new_key_pair(&prefix).unwrap();
    assert_eq!(new.secret, tmp.path().join("k/ops.key"));
    assert_eq!(new.public, tmp.path().join("k/ops.pub"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&new.secret), 0o600);
        assert_eq!(mode(&new.public), 0o644);
    }
    let secret_text = std::fs::read_to_string(&new.secret).unwrap();
    let public_text = std::fs::read_to_string(&new.public).unwrap();
    assert!(secret_text
        .lines()
        .any(|l| l.starts_with("impostor-ed25519-secret ")));
    assert!(public_text
        .lines()
        .any(|l| l.starts_with("impostor-ed25519-public ")));

    // Never overwritten, either of the two.
    let e = new_key_pair(&prefix).unwrap_err().to_string();
    assert!(
        e.contains("ops.key") && e.contains("never overwritten"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&new.secret).unwrap(), secret_text);
    std::fs::remove_file(&new.secret).unwrap();
    let e = new_key_pair(&prefix).unwrap_err().to_string();
    assert!(
        e.contains("ops.pub") && e.contains("never overwritten"),
        "{e}"
    );
    assert!(!new.secret.exists(), "no half pair is written");

    // The wrong kind of file is named as such.
    let e = PublicKey::parse(&secret_text, Path::new("ops.key"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ops.key") && e.contains("is a secret key"),
        "{e}"
    );
    let e = SecretKey::parse(&public_text, Path::new("ops.pub"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ops.pub") && e.contains("is a public key"),
        "{e}"
    );
    let e = PublicKey::parse("ssh-ed25519 AAAAC3Nza user@host\n", Path::new("id.pub"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not an impostor key file"), "{e}");
    let e = PublicKey::parse("impostor-ed25519-public AAAA\n", Path::new("short.pub"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("3 bytes, not 32"), "{e}");
    // A secret key others may read is refused.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let loose = tmp.path().join("loose.key");
        std::fs::write(&loose, &secret_text).unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = SecretKey::read(&loose).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o600)).unwrap();
        SecretKey::read(&loose).unwrap();
    }
    // Debug output never shows the secret.
    let key = SecretKey::parse(&secret_text, Path::new("ops.key")).unwrap();
    let b64 = secret_text
        .lines()
        .find_map(|l| l.strip_prefix("impostor-ed25519-secret "))
        .unwrap();
    assert!(!format!("{key:?}").contains(b64));
}

#[test]
fn a_signed_stage_puts_the_artifact_in_place_signed_and_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let src = copy_default(tmp.path());
    let (_, secret, public) = keys(tmp.path(), "ops");
    let manifest: artifact::Manifest =
        serde_json::from_slice(&std::fs::read(src.join(MANIFEST_FILE)).unwrap()).unwrap();
    let files: Vec<(String, Vec<u8>)> = manifest
        .files
        .keys()
        .map(|n| (n.clone(), std::fs::read(src.join(n)).unwrap()))
        .collect();

    let dest = tmp.path().join("out/model");
    let stage = SignedStage::beside(&dest).unwrap();
    artifact::write(stage.dir(), manifest.clone(), &files).unwrap();
    assert!(
        !dest.exists(),
        "nothing at the destination before the commit"
    );
    stage.commit(&secret).unwrap();
    signing::load_signed(&dest, &trusting(&[&public])).unwrap();
    let names: Vec<_> = std::fs::read_dir(tmp.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["model"], "no temporary is left beside it");

    // A stage dropped without a commit leaves the old artifact as it was.
    let before = std::fs::read(dest.join(SIGNATURE_FILE)).unwrap();
    {
        let stage = SignedStage::beside(&dest).unwrap();
        artifact::write(stage.dir(), manifest, &files).unwrap();
    }
    assert_eq!(std::fs::read(dest.join(SIGNATURE_FILE)).unwrap(), before);
    assert_eq!(
        std::fs::read_dir(tmp.path().join("out")).unwrap().count(),
        1
    );

    // A directory that is not an artifact is refused before any work.
    let photos = tmp.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::write(photos.join("cat.jpg"), b"meow").unwrap();
    let e = SignedStage::beside(&photos).unwrap_err().to_string();
    assert!(e.contains("not a model artifact"), "{e}");
}
