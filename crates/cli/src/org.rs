//! Building the feature Context from command-line options.

use anyhow::{Context as _, Result};
use clap::Args;
use impostor_features::{Context, HeaderFilter, OrgProfile, DEFAULT_VERDICT_HEADERS};
use impostor_serve::tenant::Tenants;
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
    /// More protected domains, one a line, added to the org profile's and
    /// guarded as brands: a tld-swap counts only under --brand-tlds, and
    /// one-letter edits of short names are reported weak (see `impostor
    /// lookalike --help`).
    #[arg(long, value_name = "FILE")]
    pub protected: Option<PathBuf>,
    /// Brand list replacing the built-in one (about a hundred brands
    /// attackers impersonate). One brand a line, "Name<TAB>domain domain
    /// ...", '#' comments; a line with no tab that reads as a domain
    /// (paypal.com) is that brand domain alone, named by its label. The
    /// domains are guarded against lookalikes as brands, the names are
    /// looked for in text.
    #[arg(long, value_name = "FILE", conflicts_with = "no_brands")]
    pub brands: Option<PathBuf>,
    /// Turn the brand list off: no brand domains guarded, no brand names
    /// looked for (the org's own domains and --protected still are).
    #[arg(long)]
    pub no_brands: bool,
    /// Popular registrable domains, one a line, replacing the built-in
    /// list (top sites, free-mail providers, real ham senders): a lookalike
    /// that is one of them is still reported, at a strength of 0.1 or less.
    #[arg(
        long = "popular-domains",
        value_name = "FILE",
        conflicts_with = "no_popular_domains"
    )]
    pub popular_domains: Option<PathBuf>,
    /// Do not demote lookalikes that are popular domains.
    #[arg(long = "no-popular-domains")]
    pub no_popular_domains: bool,
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
        if self.no_brands {
            builder = builder.brand_list(None);
        } else if let Some(path) = &self.brands {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!(
                    "reading the brand list {} (one brand a line: Name<TAB>domain …, or one domain a line)",
                    path.display()
                )
            })?;
            builder = builder.brand_list(Some(brand_list_text(&text)));
        }
        if self.no_popular_domains {
            builder = builder.lookalike_popular_list(String::new());
        } else if let Some(path) = &self.popular_domains {
            builder = builder.lookalike_popular_file(path)?;
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

/// Per-tenant org profiles of the gateways (serve, milter): a provider
/// serving several organisations judges each message under the profile
/// of its recipients' organisation.
#[derive(Args, Debug, Clone, Default)]
pub struct TenantArgs {
    /// A tenant: mail to DOMAIN (or any subdomain of it; several domains
    /// comma-separated; any case, Unicode or punycode) is judged under the
    /// org profile FILE instead of --org. Repeatable; the same FILE named
    /// twice is one tenant. The tenant is named by its first DOMAIN in the
    /// verdict's "tenant" field and the milter's X-Impostor-Tenant header.
    /// The chosen recipients are the envelope's (HTTP: rcpt; milter: RCPT
    /// TO); recipients of several tenants in one transaction are judged
    /// once per tenant and the most severe verdict is kept; a recipient no
    /// tenant serves is judged under --org (or the built-in example).
    #[arg(long = "tenant", value_name = "DOMAIN=FILE")]
    pub tenant: Vec<String>,
    /// A directory of tenant profiles: every *.toml in it (not below) is a
    /// tenant serving the recipient domains of its internal_domains (and
    /// their subdomains), named by the first. May be combined with
    /// --tenant; a domain claimed by two tenants is refused.
    #[arg(long = "tenants", value_name = "DIR")]
    pub tenants: Option<PathBuf>,
}

impl TenantArgs {
    /// The tenants these options name, each profile built into a Context
    /// with `org`'s lists and filters (free-mail, brands, hidden headers,
    /// …). A file that cannot be read or checked, a bad domain, or a domain
    /// claimed twice is an error naming the file (exit status 2).
    pub fn build(&self, org: &OrgArgs) -> Result<Tenants> {
        let mut tenants = Tenants::new();
        // --tenant: domains grouped by file, in the order first given.
        let mut by_file: Vec<(PathBuf, Vec<String>)> = Vec::new();
        for spec in &self.tenant {
            let Some((domains, file)) = spec.split_once('=') else {
                anyhow::bail!(
                    "--tenant {spec:?}: give DOMAIN=FILE, e.g. --tenant example.com=/etc/impostor/example.toml"
                );
            };
            let file = PathBuf::from(file.trim());
            if file.as_os_str().is_empty() {
                anyhow::bail!("--tenant {spec:?}: no org profile after '='");
            }
            let domains: Vec<String> = domains
                .split(',')
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect();
            match by_file.iter_mut().find(|(f, _)| *f == file) {
                Some((_, ds)) => ds.extend(domains),
                None => by_file.push((file, domains)),
            }
        }
        for (file, domains) in by_file {
            let (_, context) = tenant_profile(org, &file)?;
            tenants.add(&domains, context, &file)?;
        }
        if let Some(dir) = &self.tenants {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .with_context(|| {
                    format!(
                        "reading the tenant directory {} (--tenants DIR: a directory of org profiles, *.toml)",
                        dir.display()
                    )
                })?
                .map(|e| e.map(|e| e.path()))
                .collect::<std::io::Result<_>>()
                .with_context(|| format!("reading the tenant directory {}", dir.display()))?;
            files.retain(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file());
            files.sort();
            if files.is_empty() {
                anyhow::bail!(
                    "the tenant directory {} holds no *.toml org profile",
                    dir.display()
                );
            }
            for file in files {
                let (domains, context) = tenant_profile(org, &file)?;
                tenants.add(&domains, context, &file)?;
            }
        }
        Ok(tenants)
    }
}

/// The tenant profile at `file`, read and checked: its internal domains,
/// and its Context with `org`'s lists and filters.
fn tenant_profile(org: &OrgArgs, file: &Path) -> Result<(Vec<String>, Context)> {
    let profile =
        OrgProfile::load(file).with_context(|| format!("the tenant profile {}", file.display()))?;
    let domains = profile.internal_domains.clone();
    let context = org
        .context(profile)
        .with_context(|| format!("building the tenant profile {}", file.display()))?;
    Ok((domains, context))
}

/// One line per tenant for a gateway's start: an operator sees which
/// profile judges which domains.
pub fn tenant_lines(tenants: &Tenants) -> Vec<String> {
    tenants
        .iter()
        .map(|t| {
            format!(
                "tenant {}: mail to {} judged under {}",
                t.id(),
                t.domains().join(", "),
                t.file().display()
            )
        })
        .collect()
}

/// A brand list in the TSV form: a line with no tab that reads as a domain
/// (the one-domain-a-line files `--brands` took before) becomes
/// `label<TAB>domain`; every other line is kept as it is.
fn brand_list_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let bare = line.split('#').next().unwrap_or("").trim();
        let is_domain = !line.contains('\t')
            && !bare.is_empty()
            && !bare.contains(char::is_whitespace)
            && bare.contains('.')
            && impostor_features::normalize_domain(bare)
                .is_some_and(|d| impostor_features::registrable_domain(&d).is_some());
        match bare.split('.').next().filter(|_| is_domain) {
            Some(label) => {
                out.push_str(label);
                out.push('\t');
                out.push_str(bare);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_domain_list_reads_as_a_brand_list() {
        let text = brand_list_text("# brands\npaypal.com\nAcme Corp\tacme.com acme.de\nOkta\n");
        let brands = impostor_features::parse_brand_list(&text);
        let got: Vec<(&str, Vec<&str>)> = brands
            .iter()
            .map(|b| {
                (
                    b.name.as_str(),
                    b.domains.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("paypal", vec!["paypal.com"]),
                ("Acme Corp", vec!["acme.com", "acme.de"]),
                ("Okta", vec![]),
            ]
        );
    }
}
