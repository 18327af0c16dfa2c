//! Building the feature Context from command-line options.

use anyhow::{Context as _, Result};
use clap::Args;
use impostor_features::{Context, HeaderFilter, OrgProfile, DEFAULT_VERDICT_HEADERS};
use std::path::{Path, PathBuf};

const EXAMPLE_ORG: &str = include_str!("../../../datasets/orgs/kestrel-foods.toml");

/// Options that describe the protected organisation and the world's lists
/// (the default: the example organisation and the built-in lists).
#[derive(Args, Debug, Clone, Default)]
pub struct OrgArgs {
    /// Org profile (TOML: internal_domains, trusted_authserv_ids,
    /// trusted_receivers, trusted_arc_sealers, protected_domains, [dns],
    /// [[vip]]). Default: the example organisation of
    /// datasets/orgs/kestrel-foods.toml, built in.
    #[arg(long, value_name = "FILE")]
    pub org: Option<PathBuf>,
    /// Free-mail domains, one a line (replaces the built-in list).
    #[arg(long, value_name = "FILE")]
    pub freemail: Option<PathBuf>,
    /// Disposable-address domains, one a line (replaces the built-in list).
    #[arg(long, value_name = "FILE")]
    pub disposable: Option<PathBuf>,
    /// Protected brand domains, one a line (added to the org's). Brands
    /// hold their name under many suffixes themselves, so a tld-swap of a
    /// brand counts only under --brand-tlds, and one-letter edits only on
    /// names of five letters or more.
    #[arg(long, visible_alias = "brands", value_name = "FILE")]
    pub protected: Option<PathBuf>,
    /// Suffixes under which a brand's name is an imitation (cheap and typo
    /// TLDs), one a line (replaces the built-in list).
    #[arg(long = "brand-tlds", value_name = "FILE")]
    pub brand_tlds: Option<PathBuf>,
    /// Words the lookalike check looks for beside a protected name
    /// (kestrelfoods-secure.com), one a line (replaces the built-in list).
    #[arg(long = "lookalike-words", visible_alias = "words", value_name = "FILE")]
    pub lookalike_words: Option<PathBuf>,
    /// Another header never to read (receiving filters' verdicts leak
    /// labels); a trailing * matches a prefix. Repeatable; added to the
    /// built-in list (X-Spam-*, X-MS-Exchange-*, …).
    #[arg(long = "hide-header", value_name = "NAME")]
    pub hide_headers: Vec<String>,
    /// Take an mbox "From " line's sender as the envelope sender when a
    /// message has no Return-Path. Off by default: corpora add these lines,
    /// so they tell the source apart.
    #[arg(long)]
    pub trust_mbox_envelope: bool,
}

impl OrgArgs {
    /// The org profile given, or the built-in example.
    pub fn profile(&self) -> Result<OrgProfile> {
        Ok(match &self.org {
            Some(path) => OrgProfile::load(path)?,
            None => OrgProfile::from_toml(
                EXAMPLE_ORG,
                Path::new("datasets/orgs/kestrel-foods.toml (built in)"),
            )?,
        })
    }

    pub fn build(&self) -> Result<Context> {
        self.context(self.profile()?)
    }

    /// The Context of `org` with the lists and filters these options name.
    pub fn context(&self, org: OrgProfile) -> Result<Context> {
        let patterns = DEFAULT_VERDICT_HEADERS
            .iter()
            .copied()
            .chain(self.hide_headers.iter().map(String::as_str));
        let mut builder = Context::builder(org)
            .header_filter(HeaderFilter::new(patterns))
            .trust_mbox_envelope(self.trust_mbox_envelope);
        if let Some(path) = &self.freemail {
            builder = builder.freemail_file(path)?;
        }
        if let Some(path) = &self.disposable {
            builder = builder.disposable_file(path)?;
        }
        if let Some(path) = &self.protected {
            builder = builder.protected_file(path)?;
        }
        if let Some(path) = &self.lookalike_words {
            builder = builder.lookalike_words_file(path)?;
        }
        if let Some(path) = &self.brand_tlds {
            builder = builder.brand_tlds_file(path)?;
        }
        builder.build().context("building the feature context")
    }
}
