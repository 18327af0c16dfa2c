//! Placeholder values for one message: people, money, dates and links,
//! drawn from the world with the message's generator.

use super::compose::hex;
use super::template::{fill, Lang, Template};
use super::world::{Person, World};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Everything a template may ask for, for one message.
pub struct Values(BTreeMap<&'static str, String>);

impl Values {
    /// The values of one message from `sender` to `recipient` in `lang`,
    /// with `link` as `{link}`; the rest drawn from `world` with `rng`.
    pub fn new(
        rng: &mut ChaCha8Rng,
        world: &World,
        lang: Lang,
        sender: &Person,
        recipient: &Person,
        link: &str,
    ) -> Values {
        let pick =
            |rng: &mut ChaCha8Rng, list: &[String]| list.choose(rng).cloned().unwrap_or_default();
        let ja = lang == Lang::Ja;
        let mut v = BTreeMap::new();
        v.insert("recipient_first", recipient.first().to_string());
        v.insert("recipient_name", recipient.name.clone());
        v.insert("sender_first", sender.first().to_string());
        v.insert("sender_name", sender.name.clone());
        let title = if sender.title.is_empty() {
            if ja {
                "担当"
            } else {
                "Manager"
            }
        } else {
            &sender.title
        };
        v.insert("sender_title", title.to_string());
        v.insert(
            "org",
            if ja {
                "ケストレルフーズ株式会社".to_string()
            } else {
                world.org.clone()
            },
        );
        let partners: Vec<String> = world.external.iter().map(|p| p.company.clone()).collect();
        v.insert("partner_org", pick(rng, &partners));
        v.insert(
            "vendor",
            pick(
                rng,
                if ja {
                    &world.vendors_ja
                } else {
                    &world.vendors
                },
            ),
        );
        v.insert("amount", amount(rng, ja));
        v.insert(
            "invoice_no",
            format!(
                "INV-{}-{:05}",
                rng.gen_range(2023..2027),
                rng.gen_range(100..99_999)
            ),
        );
        v.insert(
            "bank_name",
            pick(rng, if ja { &world.banks_ja } else { &world.banks }),
        );
        v.insert("account_tail", format!("{:04}", rng.gen_range(0..10_000)));
        v.insert("link", link.to_string());
        let hour = rng.gen_range(11..18);
        let deadline = match (ja, hour) {
            (true, h) => format!("本日{h}時まで"),
            (false, 11) => "by 11 am today".to_string(),
            (false, 12) => "by noon today".to_string(),
            (false, h) => format!("by {} pm today", h - 12),
        };
        v.insert("deadline", deadline);
        let (month, day) = (rng.gen_range(1..13), rng.gen_range(1..29));
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        v.insert(
            "date",
            if ja {
                format!("{month}月{day}日")
            } else {
                format!("{} {day}", MONTHS[month - 1])
            },
        );
        v.insert(
            "phone",
            if ja {
                format!(
                    "03-{:04}-{:04}",
                    rng.gen_range(1000..10_000),
                    rng.gen_range(0..10_000)
                )
            } else {
                format!("+1 312 555 {:04}", rng.gen_range(100..200))
            },
        );
        let h = rng.gen_range(9..17);
        v.insert(
            "meeting_time",
            format!("{h}:{:02}", [0, 15, 30, 45][rng.gen_range(0..4)]),
        );
        v.insert(
            "product",
            pick(
                rng,
                if ja {
                    &world.products_ja
                } else {
                    &world.products
                },
            ),
        );
        v.insert(
            "city",
            pick(rng, if ja { &world.cities_ja } else { &world.cities }),
        );
        // Set by the kinds that use them (`set`).
        for name in [
            "service",
            "ticket_no",
            "list_name",
            "forwarded_subject",
            "brand",
            "brand_product",
            "charge",
        ] {
            v.insert(name, String::new());
        }
        Values(v)
    }

    /// Sets the value of placeholder `name`.
    pub fn set(&mut self, name: &'static str, value: impl Into<String>) {
        self.0.insert(name, value.into());
    }

    /// The value of placeholder `name` (empty when unknown).
    pub fn get(&self, name: &str) -> String {
        self.0.get(name).cloned().unwrap_or_default()
    }

    /// `text` (a template's `document`) filled.
    pub fn fill_text(&self, text: &str) -> String {
        let get = |name: &str| self.0.get(name).cloned().unwrap_or_default();
        fill(text.trim_start_matches('\n'), &get)
    }

    /// The template's subject and body, filled.
    pub fn render(&self, t: &Template) -> (String, String) {
        let get = |name: &str| self.0.get(name).cloned().unwrap_or_default();
        (
            fill(&t.subject, &get),
            fill(t.body.trim_start_matches('\n'), &get),
        )
    }
}

fn amount(rng: &mut ChaCha8Rng, ja: bool) -> String {
    if ja {
        let yen: u64 = rng.gen_range(30..2_000) * 10_000 + rng.gen_range(0..10) * 1_000;
        format!("{}円", thousands(yen))
    } else {
        let dollars: u64 = rng.gen_range(2_500..250_000);
        let cents: u64 = if rng.gen_bool(0.5) {
            0
        } else {
            rng.gen_range(0..100)
        };
        let symbol = ["$", "$", "€", "£"][rng.gen_range(0..4)];
        format!("{symbol}{}.{cents:02}", thousands(dollars))
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A URL on `host` with a random path.
pub fn url(rng: &mut ChaCha8Rng, host: &str) -> String {
    let paths = ["login", "review", "doc", "s", "verify", "portal", "share"];
    format!(
        "https://{host}/{}/{}",
        paths[rng.gen_range(0..paths.len())],
        hex(rng, 12)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(1_250_000), "1,250,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }
}
