//! `impostor keys`: the Ed25519 key pairs that sign model artifacts.

use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use impostor_model::signing;
use std::path::PathBuf;
use std::process::ExitCode;

/// Make the keys that sign model artifacts.
///
/// A model artifact's SHA-256 sums catch a changed byte, but anyone who
/// can write its directory can hash again. A signature cannot be redone
/// without the secret key: sign artifacts where they are trained, and give
/// the gateways only the public key (`--trust-key`), so a changed or
/// foreign artifact is refused.
///
/// Key files are one line of text: `impostor-ed25519-secret BASE64` (the
/// 32-byte Ed25519 seed; mode 0600) or `impostor-ed25519-public BASE64`
/// (the 32-byte public key); lines starting with # are comments. A key is
/// named by its id: the first 16 hex digits of SHA-256 of the public key.
///
/// Examples:
///
///     impostor keys new --out keys/models
///
///     impostor model sign models/mine --key keys/models.key
///
///     impostor serve --model models/mine --trust-key keys/models.pub
#[derive(Args, Debug)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    New(NewArgs),
}

/// Make a new key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub
/// (public); prints the key id.
///
/// Refuses if either file exists: a key is never overwritten. Keep the
/// .key where models are trained and signed; copy only the .pub to the
/// gateways. To rotate, make a new pair, give the gateways both .pub files
/// (--trust-key twice), sign with the new key, then drop the old .pub.
#[derive(Args, Debug)]
struct NewArgs {
    /// Where to write the keys: PREFIX.key and PREFIX.pub (the folder is
    /// created if needed).
    #[arg(long, value_name = "PREFIX")]
    out: PathBuf,
}

pub fn run(args: KeysArgs) -> Result<ExitCode> {
    match args.command {
        KeysCommand::New(a) => {
            let keys = signing::new_key_pair(&a.out).map_err(|e| anyhow!("{e}"))?;
            println!("key id {}", keys.id);
            eprintln!(
                "wrote {} (secret: keep it private) and {} (public: give it to --trust-key)",
                keys.secret.display(),
                keys.public.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
