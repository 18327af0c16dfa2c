//! What the org's MX records of a delivery: one Authentication-Results
//! field (SPF, each DKIM signature, DMARC with the policy of the domain it
//! was evaluated on, ARC), written above its own Received field as a
//! milter at the boundary writes it; and the ARC set a provider that
//! re-sent the message (a list, a forwarding mailbox) sealed on the way.

use super::compose::hex;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// One DKIM signature's result as the MX found it.
#[derive(Clone, Debug)]
pub struct DkimVerdict {
    /// `pass`, `fail`, …
    pub result: &'static str,
    /// The signing domain (`header.d`).
    pub domain: String,
    /// Why, when it did not pass (written as a comment).
    pub why: Option<&'static str>,
}

/// The MX's verdicts on one message.
#[derive(Clone, Debug)]
pub struct MxVerdicts {
    /// SPF result and the MAIL FROM domain it was checked for.
    pub spf: (&'static str, String),
    /// Each signature's result; none: the message was not signed.
    pub dkim: Vec<DkimVerdict>,
    /// DMARC result, the From domain it was evaluated on and that
    /// domain's policy; `None`: no From domain to evaluate (`dmarc=none`).
    pub dmarc: Option<(&'static str, String, String)>,
    /// ARC result and what the sealer reported (a comment), when the
    /// message carried an ARC set.
    pub arc: Option<(&'static str, String)>,
}

impl MxVerdicts {
    /// SPF and DMARC as given, one DKIM result (or none), no ARC.
    pub fn new(
        spf: (&'static str, &str),
        dkim: Option<(&'static str, &str)>,
        dmarc: (&'static str, &str, &str),
    ) -> MxVerdicts {
        MxVerdicts {
            spf: (spf.0, spf.1.to_string()),
            dkim: dkim
                .map(|(result, domain)| DkimVerdict {
                    result,
                    domain: domain.to_string(),
                    why: None,
                })
                .into_iter()
                .collect(),
            dmarc: Some((dmarc.0, dmarc.1.to_string(), dmarc.2.to_string())),
            arc: None,
        }
    }

    /// The Authentication-Results value the MX `mx` writes, one method a
    /// line.
    pub fn header(&self, mx: &str) -> String {
        let mut clauses = vec![format!("spf={} smtp.mailfrom={}", self.spf.0, self.spf.1)];
        if self.dkim.is_empty() {
            clauses.push("dkim=none (message not signed)".into());
        }
        for d in &self.dkim {
            let why = d.why.map_or(String::new(), |w| format!(" ({w})"));
            clauses.push(format!("dkim={}{why} header.d={}", d.result, d.domain));
        }
        match &self.dmarc {
            Some((result, domain, policy)) => clauses.push(format!(
                "dmarc={result} (p={policy} dis=none) policy.dmarc={policy} header.from={domain}"
            )),
            None => clauses.push("dmarc=none (no From domain to evaluate)".into()),
        }
        if let Some((result, comment)) = &self.arc {
            clauses.push(format!("arc={result} ({comment})"));
        }
        format!("{mx};\n\t{}", clauses.join(";\n\t"))
    }
}

/// How a sealer names itself when it seals: its selector and authserv-id
/// (a self-hosted list's server is its own authserv-id).
fn sealer_names(sealer: &str) -> (&'static str, String) {
    match sealer {
        "microsoft.com" => ("arcselector10001", "mx.microsoft.com 1".into()),
        "google.com" => ("arc-20240605", "mx.google.com".into()),
        own => ("arc", own.to_string()),
    }
}

/// The ARC set (ARC-Seal, ARC-Message-Signature,
/// ARC-Authentication-Results, instance 1) `sealer` adds when it re-sends
/// a message it received from `origin` (the poster's domain) at `ts`,
/// having found SPF, DKIM and DMARC to pass for it, and the comment the
/// MX writes when it finds the set intact.
pub fn arc_set(
    rng: &mut ChaCha8Rng,
    sealer: &str,
    origin: &str,
    policy: &str,
    ts: i64,
) -> (Vec<(String, String)>, String) {
    let (selector, authserv) = sealer_names(sealer);
    let sig = |rng: &mut ChaCha8Rng, n: usize| {
        let b: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
        STANDARD.encode(b)
    };
    let seal = format!(
        "i=1; a=rsa-sha256; t={ts}; cv=none;\n\td={sealer}; s={selector};\n\tb={}",
        sig(rng, 64)
    );
    let signature = format!(
        "i=1; a=rsa-sha256; c=relaxed/relaxed; d={sealer}; s={selector};\n\th=list-id:sender:mime-version:subject:message-id:date:to:from:dkim-signature;\n\tbh={}; b={}",
        sig(rng, 32),
        sig(rng, 64)
    );
    let results = format!(
        "i=1; {authserv};\n\tdkim=pass header.i=@{origin} header.s=s1 header.b={};\n\tspf=pass smtp.mailfrom={origin};\n\tdmarc=pass (p={policy} dis=none) header.from={origin}",
        hex(rng, 8)
    );
    let comment = format!(
        "i=1 d={sealer} spf=pass spfdomain={origin} dkim=pass dkdomain={origin} dmarc=pass fromdomain={origin}"
    );
    (
        vec![
            ("ARC-Seal".into(), seal),
            ("ARC-Message-Signature".into(), signature),
            ("ARC-Authentication-Results".into(), results),
        ],
        comment,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_mx_writes_each_method_with_the_dmarc_policy_and_domain() {
        let mut v = MxVerdicts::new(
            ("pass", "lists.example"),
            Some(("pass", "lists.example")),
            ("fail", "poster.example", "none"),
        );
        v.dkim.push(DkimVerdict {
            result: "fail",
            domain: "poster.example".into(),
            why: Some("body hash did not verify"),
        });
        v.arc = Some(("pass", "i=1 d=google.com".into()));
        let h = v.header("mx.kestrelfoods.com");
        assert!(h.starts_with("mx.kestrelfoods.com;\n\tspf=pass smtp.mailfrom=lists.example;"));
        assert!(h.contains("dkim=fail (body hash did not verify) header.d=poster.example"));
        assert!(
            h.contains("dmarc=fail (p=none dis=none) policy.dmarc=none header.from=poster.example")
        );
        assert!(h.ends_with("arc=pass (i=1 d=google.com)"));
        let unsigned =
            MxVerdicts::new(("fail", "x.example"), None, ("fail", "y.example", "reject"));
        assert!(unsigned
            .header("mx")
            .contains("dkim=none (message not signed)"));
    }

    #[test]
    fn an_arc_set_names_its_sealer_in_every_field() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (fields, comment) = arc_set(
            &mut rng,
            "google.com",
            "poster.example",
            "none",
            1_700_000_000,
        );
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "ARC-Seal",
                "ARC-Message-Signature",
                "ARC-Authentication-Results"
            ]
        );
        assert!(fields[0].1.contains("d=google.com") && fields[0].1.contains("cv=none"));
        assert!(fields[1].1.contains("d=google.com"));
        assert!(fields[2].1.contains("mx.google.com"));
        assert!(comment.contains("d=google.com"));
        let (fields, _) = arc_set(
            &mut rng,
            "microsoft.com",
            "poster.example",
            "none",
            1_700_000_000,
        );
        assert!(fields[0].1.contains("d=microsoft.com; s=arcselector10001"));
        let (fields, comment) = arc_set(
            &mut rng,
            "lists.haccp-network.org",
            "poster.example",
            "none",
            1_700_000_000,
        );
        assert!(fields[0].1.contains("d=lists.haccp-network.org; s=arc;"));
        assert!(fields[2].1.starts_with("i=1; lists.haccp-network.org;"));
        assert!(comment.contains("d=lists.haccp-network.org"));
    }
}
