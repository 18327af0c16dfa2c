//! Domains as the features compare them: normalised, and reduced to their
//! registrable part (eTLD+1) through the public-suffix list of the `psl` crate.

use rustc_hash::FxHashSet;

/// Longest domain we look at; longer is hostile or broken (RFC 1035: 253).
const MAX_DOMAIN_LEN: usize = 253;

/// The entries of a list file: one a line, `#` starts a comment, blank
/// lines skipped, each trimmed.
pub(crate) fn list_entries(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

/// Lower-cases, trims brackets, dots and white space, and turns a Unicode
/// domain into its ASCII (punycode) form. `None` for nothing usable.
pub fn normalize_domain(raw: &str) -> Option<String> {
    let trimmed = raw
        .trim()
        .trim_matches(|c| c == '[' || c == ']' || c == '<' || c == '>')
        .trim_end_matches('.')
        .trim_start_matches('.');
    if trimmed.is_empty() || trimmed.len() > MAX_DOMAIN_LEN {
        return None;
    }
    if trimmed.is_ascii() {
        let lower = trimmed.to_ascii_lowercase();
        if lower
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        {
            return Some(lower);
        }
        return None;
    }
    idna::domain_to_ascii(trimmed)
        .ok()
        .filter(|d| !d.is_empty() && d.len() <= MAX_DOMAIN_LEN)
}

/// The domain part of an address (`user@Example.COM` → `example.com`).
pub fn address_domain(address: &str) -> Option<String> {
    let (_, domain) = address.rsplit_once('@')?;
    normalize_domain(domain)
}

/// The registrable domain (eTLD+1) of a normalised domain:
/// `bounce.email.sans.org` → `sans.org`, `mail.kestrelfoods.co.jp` →
/// `kestrelfoods.co.jp`. A bare public suffix or an IP literal has none.
pub fn registrable_domain(domain: &str) -> Option<&str> {
    if domain.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    psl::domain_str(domain)
}

/// The registrable domain, or the domain itself when the list knows no
/// registrable part (an unlisted TLD, a single label).
pub fn organisational_domain(domain: &str) -> &str {
    registrable_domain(domain).unwrap_or(domain)
}

/// Relaxed alignment (DMARC's): same organisational domain.
pub fn relaxed_aligned(a: &str, b: &str) -> bool {
    organisational_domain(a) == organisational_domain(b)
}

/// A set of domains matched by the domain itself or any parent domain, so a
/// list entry `yahoo.co.jp` also covers `mail.yahoo.co.jp`.
#[derive(Clone, Debug, Default)]
pub struct DomainSet {
    /// Fx hashing: looked up for every domain of every message, and the
    /// lists are ours, not an attacker's choice of keys.
    domains: FxHashSet<String>,
}

impl DomainSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a domain; entries that do not normalise are ignored.
    pub fn insert(&mut self, domain: &str) {
        if let Some(d) = normalize_domain(domain) {
            self.domains.insert(d);
        }
    }

    /// Reads the list format: one domain a line, `#` starts a comment.
    pub fn extend_from_list(&mut self, text: &str) {
        for entry in list_entries(text) {
            if !entry.contains('*') {
                self.insert(entry);
            }
        }
    }

    /// How many domains are listed.
    pub fn len(&self) -> usize {
        self.domains.len()
    }

    /// Whether no domain is listed.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// True when the normalised `domain` or one of its parents is listed.
    pub fn contains(&self, domain: &str) -> bool {
        let mut rest = domain;
        loop {
            if self.domains.contains(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) => rest = parent,
                None => return false,
            }
        }
    }

    /// The listed entry covering `domain`, if any.
    pub fn matching_entry<'a>(&'a self, domain: &'a str) -> Option<&'a str> {
        let mut rest = domain;
        loop {
            if let Some(d) = self.domains.get(rest) {
                return Some(d.as_str());
            }
            rest = rest.split_once('.')?.1;
        }
    }

    /// The listed domains, normalised, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.domains.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_follow_the_public_suffix_list() {
        assert_eq!(
            registrable_domain("bounce.email.sans.org"),
            Some("sans.org")
        );
        assert_eq!(
            registrable_domain("mail.kestrelfoods.co.jp"),
            Some("kestrelfoods.co.jp")
        );
        assert_eq!(
            registrable_domain("a.b.example.co.uk"),
            Some("example.co.uk")
        );
        assert_eq!(registrable_domain("co.uk"), None);
        assert_eq!(registrable_domain("192.0.2.1"), None);
    }

    #[test]
    fn normalisation_lowercases_and_encodes_unicode() {
        assert_eq!(
            normalize_domain(" Example.COM. ").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            normalize_domain("[192.0.2.1]").as_deref(),
            Some("192.0.2.1")
        );
        assert_eq!(
            normalize_domain("bücher.de").as_deref(),
            Some("xn--bcher-kva.de")
        );
        assert_eq!(normalize_domain("bad domain.com"), None);
        assert_eq!(normalize_domain(""), None);
        assert_eq!(
            address_domain("Mandy@Company.com").as_deref(),
            Some("company.com")
        );
    }

    #[test]
    fn domain_set_matches_parents_not_siblings() {
        let mut set = DomainSet::new();
        set.extend_from_list("# comment\nyahoo.co.jp\ngmail.com # inline\n*.wild.example\n");
        assert_eq!(set.len(), 2);
        assert!(set.contains("gmail.com"));
        assert!(set.contains("mail.yahoo.co.jp"));
        assert!(!set.contains("co.jp"));
        assert!(!set.contains("notgmail.com"));
        assert_eq!(set.matching_entry("a.gmail.com"), Some("gmail.com"));
    }

    #[test]
    fn alignment_is_relaxed_on_organisational_domains() {
        assert!(relaxed_aligned("bounce.email.sans.org", "sans.org"));
        assert!(!relaxed_aligned("comqany.com", "company.com"));
    }
}
