//! Per-tenant org profiles: a provider serving several organisations
//! judges each message under the Context of the organisation it is for,
//! chosen by the envelope recipients' domains.
//!
//! A [`Tenant`] is one org profile's Context and the recipient domains it
//! serves; [`Tenants`] maps a recipient domain to its tenant: the domain
//! itself or any parent domain listed (the most specific entry wins, so
//! `eu.example.com` may belong to another tenant than `example.com`),
//! case-insensitive and IDNA-normalised (`impostor_features::normalize_domain`).
//! A recipient no tenant serves is judged under the gateway's default
//! profile. How several tenants in one SMTP transaction are judged is the
//! [`Engine`](crate::engine::Engine)'s business (once per tenant, the most
//! severe verdict kept); this module only groups the recipients.

use impostor_features::{normalize_domain, Context, DomainSet};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A tenant table that cannot be built; each names the profile file.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// A recipient domain that does not normalise to a domain name.
    #[error("{}: {domain:?} is not a domain name; give the recipient domains this tenant serves (example.com, or an IDN such as bücher.example)", .file.display())]
    BadDomain {
        /// The domain as given.
        domain: String,
        /// The tenant's profile.
        file: PathBuf,
    },
    /// A tenant serving no domain would never be chosen.
    #[error("{}: the tenant serves no recipient domain; list them in the profile's internal_domains (--tenants DIR) or name them in --tenant DOMAIN=FILE", .file.display())]
    NoDomains {
        /// The tenant's profile.
        file: PathBuf,
    },
    /// One recipient domain claimed by two tenants.
    #[error("the recipient domain {domain} is claimed by both {} and {}: a domain belongs to one tenant; remove it from one of them", .first.display(), .second.display())]
    Duplicate {
        /// The domain, normalised.
        domain: String,
        /// The profile that claimed it first.
        first: PathBuf,
        /// The profile that claimed it again.
        second: PathBuf,
    },
}

/// One organisation served: its Context and the recipient domains it
/// receives mail for.
pub struct Tenant {
    /// The first recipient domain, normalised: what verdicts and headers
    /// name the tenant by (unique across tenants, and header-safe ASCII).
    id: String,
    /// Every recipient domain, normalised.
    domains: Vec<String>,
    /// The Context messages for this tenant are judged under.
    context: Arc<Context>,
    /// The profile file it was built from, for messages.
    file: PathBuf,
}

impl Tenant {
    /// The tenant's name in verdicts, headers and logs: its first
    /// recipient domain, normalised.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The recipient domains it serves (normalised), subdomains included.
    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    /// The Context its messages are judged under.
    pub fn context(&self) -> &Arc<Context> {
        &self.context
    }

    /// The profile file it was built from.
    pub fn file(&self) -> &Path {
        &self.file
    }
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("id", &self.id)
            .field("domains", &self.domains)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

/// The tenants a gateway serves, looked up by recipient domain. Empty:
/// every message is judged under the default profile, as without tenants.
#[derive(Debug, Default)]
pub struct Tenants {
    tenants: Vec<Tenant>,
    /// Every tenant's domains, matched with their parents.
    domains: DomainSet,
    /// Normalised domain → index in `tenants`.
    owner: HashMap<String, usize>,
}

/// Recipients of one tenant (or of none: the default profile), in the
/// order they were given.
#[derive(Debug)]
pub struct RecipientGroup<'a> {
    /// The tenant serving them; `None`: no tenant does (the default
    /// profile judges them).
    pub tenant: Option<&'a Tenant>,
    /// Their addresses, as given.
    pub rcpt: Vec<String>,
}

impl Tenants {
    /// No tenant: every message goes to the default profile.
    pub fn new() -> Tenants {
        Tenants::default()
    }

    /// Adds a tenant judged under `context` for mail to `domains` (and
    /// their subdomains); `file` is the profile it was built from, named
    /// in errors. Its id is the first domain. Refuses a domain that is not
    /// one, an empty list, and a domain another tenant already serves.
    pub fn add(
        &mut self,
        domains: &[String],
        context: Context,
        file: &Path,
    ) -> Result<(), TenantError> {
        let mut normalised: Vec<String> = Vec::with_capacity(domains.len());
        for d in domains {
            let n = normalize_domain(d)
                .filter(|n| n.parse::<std::net::IpAddr>().is_err())
                .ok_or_else(|| TenantError::BadDomain {
                    domain: d.clone(),
                    file: file.to_path_buf(),
                })?;
            if let Some(&i) = self.owner.get(&n) {
                return Err(TenantError::Duplicate {
                    domain: n,
                    first: self.tenants[i].file.clone(),
                    second: file.to_path_buf(),
                });
            }
            if !normalised.contains(&n) {
                normalised.push(n);
            }
        }
        let Some(id) = normalised.first().cloned() else {
            return Err(TenantError::NoDomains {
                file: file.to_path_buf(),
            });
        };
        let index = self.tenants.len();
        for d in &normalised {
            self.domains.insert(d);
            self.owner.insert(d.clone(), index);
        }
        self.tenants.push(Tenant {
            id,
            domains: normalised,
            context: Arc::new(context),
            file: file.to_path_buf(),
        });
        Ok(())
    }

    /// How many tenants there are.
    pub fn len(&self) -> usize {
        self.tenants.len()
    }

    /// Whether there is none (every message to the default profile).
    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }

    /// The tenants, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &Tenant> {
        self.tenants.iter()
    }

    /// The tenant serving `domain` (any case, Unicode or punycode): the one
    /// listing it or its most specific listed parent; `None` when no
    /// tenant does.
    pub fn of_domain(&self, domain: &str) -> Option<&Tenant> {
        let d = normalize_domain(domain)?;
        let entry = self.domains.matching_entry(&d)?;
        self.owner.get(entry).map(|&i| &self.tenants[i])
    }

    /// The tenant serving an address's domain (`user@Example.COM`, with or
    /// without angle brackets); `None` for an address without a domain or
    /// one no tenant serves.
    pub fn of_address(&self, address: &str) -> Option<&Tenant> {
        let a = address.trim().trim_start_matches('<').trim_end_matches('>');
        let (_, domain) = a.rsplit_once('@')?;
        self.of_domain(domain)
    }

    /// The recipients grouped by the tenant serving them, groups in the
    /// order of their first recipient. No recipient at all makes one
    /// group for the default profile, holding none.
    pub fn group_recipients<'a>(&'a self, rcpt: &[String]) -> Vec<RecipientGroup<'a>> {
        let mut groups: Vec<RecipientGroup<'a>> = Vec::new();
        for r in rcpt {
            let tenant = self.of_address(r);
            let same = |g: &RecipientGroup<'a>| match (g.tenant, tenant) {
                (Some(a), Some(b)) => std::ptr::eq(a, b),
                (None, None) => true,
                _ => false,
            };
            match groups.iter_mut().find(|g| same(g)) {
                Some(g) => g.rcpt.push(r.clone()),
                None => groups.push(RecipientGroup {
                    tenant,
                    rcpt: vec![r.clone()],
                }),
            }
        }
        if groups.is_empty() {
            groups.push(RecipientGroup {
                tenant: None,
                rcpt: Vec::new(),
            });
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use impostor_features::OrgProfile;

    fn context(name: &str) -> Context {
        let org = OrgProfile::from_toml(
            &format!("name = {name:?}\ninternal_domains = []\n"),
            Path::new("test.toml"),
        )
        .unwrap();
        Context::builder(org).build().unwrap()
    }

    fn table() -> Tenants {
        let mut t = Tenants::new();
        t.add(
            &["Example.COM".into(), "example.net".into()],
            context("A"),
            Path::new("a.toml"),
        )
        .unwrap();
        t.add(
            &["eu.example.com".into()],
            context("B"),
            Path::new("b.toml"),
        )
        .unwrap();
        t.add(
            &["bücher.example".into()],
            context("C"),
            Path::new("c.toml"),
        )
        .unwrap();
        t
    }

    #[test]
    fn a_recipient_domain_matches_exactly_or_as_a_subdomain_in_any_case() {
        let t = table();
        assert_eq!(t.of_address("ap@example.com").unwrap().id(), "example.com");
        assert_eq!(
            t.of_address("<AP@EXAMPLE.NET>").unwrap().id(),
            "example.com"
        );
        assert_eq!(
            t.of_address("ap@mail.Example.com").unwrap().id(),
            "example.com"
        );
        assert!(t.of_address("ap@notexample.com").is_none());
        assert!(t.of_address("ap@example.org").is_none());
        assert!(t.of_address("postmaster").is_none());
    }

    #[test]
    fn the_most_specific_listed_domain_wins() {
        let t = table();
        assert_eq!(
            t.of_address("ap@eu.example.com").unwrap().id(),
            "eu.example.com"
        );
        assert_eq!(
            t.of_address("ap@paris.eu.example.com").unwrap().id(),
            "eu.example.com"
        );
    }

    #[test]
    fn unicode_and_punycode_recipient_domains_are_the_same_tenant() {
        let t = table();
        let id = t.of_address("a@BÜCHER.example").unwrap().id();
        assert_eq!(id, "xn--bcher-kva.example");
        assert_eq!(t.of_address("a@xn--bcher-kva.example").unwrap().id(), id);
    }

    #[test]
    fn recipients_are_grouped_by_tenant_in_order() {
        let t = table();
        let rcpt: Vec<String> = [
            "x@other.org",
            "a@example.com",
            "b@eu.example.com",
            "c@example.net",
            "d@else.org",
        ]
        .map(String::from)
        .to_vec();
        let g = t.group_recipients(&rcpt);
        let got: Vec<(Option<&str>, Vec<&str>)> = g
            .iter()
            .map(|g| {
                (
                    g.tenant.map(Tenant::id),
                    g.rcpt.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (None, vec!["x@other.org", "d@else.org"]),
                (Some("example.com"), vec!["a@example.com", "c@example.net"]),
                (Some("eu.example.com"), vec!["b@eu.example.com"]),
            ]
        );
        let none = t.group_recipients(&[]);
        assert_eq!(none.len(), 1);
        assert!(none[0].tenant.is_none() && none[0].rcpt.is_empty());
    }

    #[test]
    fn a_domain_claimed_twice_a_bad_domain_and_no_domain_are_refused() {
        let mut t = table();
        let e = t
            .add(&["EXAMPLE.com".into()], context("D"), Path::new("d.toml"))
            .unwrap_err();
        assert!(
            matches!(&e, TenantError::Duplicate { domain, .. } if domain == "example.com"),
            "{e}"
        );
        assert!(e.to_string().contains("a.toml") && e.to_string().contains("d.toml"));
        let e = t
            .add(&["not a domain".into()], context("D"), Path::new("d.toml"))
            .unwrap_err();
        assert!(matches!(e, TenantError::BadDomain { .. }), "{e}");
        let e = t.add(&[], context("D"), Path::new("d.toml")).unwrap_err();
        assert!(matches!(e, TenantError::NoDomains { .. }), "{e}");
        assert_eq!(t.len(), 3, "refused tenants are not added");
    }
}
