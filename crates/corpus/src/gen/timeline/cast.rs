//! Who writes in a timeline: the organisation's mailboxes with their
//! habits (networks, client, hours, correspondents, link hosts), and its
//! vendors and customers with their mail hosts, contacts and bank
//! accounts. Everything is drawn once per timeline from its seed.

use super::super::template::Lang;
use super::super::world::{Person, World};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Staff the world does not name, added so the org has a realistic
/// number of mailboxes: (name, local part, title, lang).
const MORE_STAFF: &[(&str, &str, &str, Lang)] = &[
    ("Olivia Hart", "o.hart", "Sales Manager", Lang::En),
    ("James Moreno", "j.moreno", "Account Manager", Lang::En),
    ("Sofia Rossi", "s.rossi", "Buyer", Lang::En),
    (
        "Noah Fischer",
        "n.fischer",
        "Warehouse Supervisor",
        Lang::En,
    ),
    (
        "Emma Kowalczyk",
        "e.kowalczyk",
        "Customer Service Lead",
        Lang::En,
    ),
    ("Liam Murphy", "l.murphy", "Demand Planner", Lang::En),
    (
        "Chloe Martin",
        "c.martin",
        "Marketing Coordinator",
        Lang::En,
    ),
    ("Ethan Park", "e.park", "Finance Assistant", Lang::En),
    (
        "Isla Campbell",
        "i.campbell",
        "Food Safety Officer",
        Lang::En,
    ),
    ("Lucas Weber", "l.weber", "Office Manager", Lang::En),
    ("伊藤 陽子", "y.ito", "営業部", Lang::Ja),
    ("渡辺 大輔", "d.watanabe", "物流課", Lang::Ja),
    ("小林 さくら", "s.kobayashi", "経理部", Lang::Ja),
    ("加藤 直樹", "n.kato", "品質管理部", Lang::Ja),
    ("吉田 彩", "a.yoshida", "営業部", Lang::Ja),
    ("山本 翔太", "s.yamamoto", "購買課", Lang::Ja),
];

/// Mail clients staff use: (header name, value).
const CLIENTS: &[(&str, &str)] = &[
    ("X-Mailer", "Microsoft Outlook 16.0"),
    ("X-Mailer", "Microsoft Outlook 16.0"),
    ("X-Mailer", "Microsoft Outlook 16.0"),
    ("X-Mailer", "Apple Mail (2.3774.500.171)"),
    (
        "User-Agent",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.8.1",
    ),
];

/// A phone client some staff also write from.
pub const PHONE_CLIENT: (&str, &str) = ("X-Mailer", "iPhone Mail (21D61)");

/// Clients an intruder's session may show, some of which staff use too.
pub const OTHER_CLIENTS: &[(&str, &str)] = &[
    ("X-Mailer", "Microsoft Outlook 16.0"),
    ("X-Mailer", "Apple Mail (2.3774.500.171)"),
    ("X-Mailer", "iPhone Mail (21D61)"),
    (
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0",
    ),
    ("X-Mailer", "Microsoft Windows Live Mail 16.4.3528.331"),
];

/// Network families of hotels, mobile carriers and hosting providers: a
/// traveller's laptop and an intruder's session both come from them.
pub const ROAMING_FAMILIES: &[&str] = &[
    "185.220.101",
    "185.220.102",
    "45.134",
    "91.219",
    "102.67",
    "176.10",
    "100.64",
    "37.120",
];

/// A /24 of the roaming families (its first three octets).
pub fn roaming_net(rng: &mut ChaCha8Rng) -> String {
    let family = ROAMING_FAMILIES[rng.gen_range(0..ROAMING_FAMILIES.len())];
    if family.matches('.').count() == 2 {
        family.to_string()
    } else {
        format!("{family}.{}", rng.gen_range(0..256))
    }
}

/// Links staff put in mail besides the org's own hosts.
const SAAS_LINK_HOSTS: &[&str] = &[
    "docs.google.com",
    "app.box.com",
    "zoom.us",
    "teams.microsoft.com",
    "www.dropbox.com",
    "miro.com",
];

/// One of the organisation's mailboxes.
#[derive(Clone, Debug)]
pub struct Mailbox {
    /// Name, address and title.
    pub person: Person,
    /// The language it writes.
    pub lang: Lang,
    /// Its UTC offset in hours.
    pub offset: i64,
    /// Networks it submits from, as first three octets: office first, then
    /// a VPN or home network for some.
    pub networks: Vec<String>,
    /// Its client: (header name, value).
    pub client: (&'static str, &'static str),
    /// Whether it also writes from a phone.
    pub phone: bool,
    /// How much it writes, relative to others.
    pub activity: u32,
    /// Link hosts it habitually sends.
    pub link_hosts: Vec<String>,
    /// A role mailbox (IT, HR desk) rather than a person's.
    pub desk: Option<String>,
}

impl Mailbox {
    /// The role of its person in a word, for topics.
    pub fn role(&self) -> Role {
        let t = self.person.title.to_lowercase();
        if let Some(d) = &self.desk {
            return if d == "it" { Role::It } else { Role::Hr };
        }
        let has = |w: &[&str]| w.iter().any(|x| t.contains(x));
        if has(&["cfo", "payable", "payroll", "treasury", "finance", "経理"]) {
            Role::Finance
        } else if has(&["ceo", "代表"]) {
            Role::Executive
        } else if has(&[
            "procurement",
            "buyer",
            "購買",
            "logistics",
            "物流",
            "warehouse",
        ]) {
            Role::Supply
        } else if has(&["sales", "account manager", "customer", "営業", "marketing"]) {
            Role::Sales
        } else if has(&["hr", "人事"]) {
            Role::Hr
        } else if has(&["it ", "administrator"]) {
            Role::It
        } else {
            Role::Other
        }
    }
}

/// What a mailbox's person mostly writes about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Payments, invoices, payroll.
    Finance,
    /// Vendors, deliveries.
    Supply,
    /// Customers, orders.
    Sales,
    /// Staff matters.
    Hr,
    /// Accounts, devices.
    It,
    /// The chief executive.
    Executive,
    /// Anyone else.
    Other,
}

/// A company the org trades with.
#[derive(Clone, Debug)]
pub struct Correspondent {
    /// Company name.
    pub company: String,
    /// Its mail domain.
    pub domain: String,
    /// The language it writes.
    pub lang: Lang,
    /// Its UTC offset in hours.
    pub offset: i64,
    /// Its people (one or two).
    pub contacts: Vec<Person>,
    /// Its outbound mail host and address.
    pub mta: (String, String),
    /// The bank account its invoices give, as written.
    pub bank: String,
    /// The host its letters and invoices link to.
    pub link_host: String,
    /// A vendor (invoices the org) rather than a customer.
    pub vendor: bool,
    /// Whether it signs with DKIM.
    pub signs: bool,
}

/// The whole cast of one timeline.
#[derive(Clone, Debug)]
pub struct Cast {
    /// The org's mailboxes (people first, then role desks).
    pub staff: Vec<Mailbox>,
    /// Vendors, then customers.
    pub firms: Vec<Correspondent>,
}

/// Vendors the world names only by name: their domains.
const KNOWN_DOMAINS: &[(&str, &str)] = &[
    ("Alpine Dairy Co.", "alpine-dairy.com"),
    ("Riverside Grain", "riverside-grain.com"),
    ("北海乳業株式会社", "hokkai-nyugyo.co.jp"),
    ("みなと水産株式会社", "minato-suisan.co.jp"),
];

/// More vendors: (company, domain, lang, contact name, local part).
const MORE_VENDORS: &[(&str, &str, Lang, &str, &str)] = &[
    (
        "Brightwater Packaging",
        "brightwater-pack.com",
        Lang::En,
        "Nora Quinn",
        "n.quinn",
    ),
    (
        "Meadowfield Eggs",
        "meadowfield-eggs.co.uk",
        Lang::En,
        "Harry Dawson",
        "accounts",
    ),
    (
        "Hanse Reefer Logistik",
        "hanse-reefer.de",
        Lang::En,
        "Jana Vogel",
        "j.vogel",
    ),
    (
        "Sunridge Spices",
        "sunridge-spices.com",
        Lang::En,
        "Arjun Mehta",
        "billing",
    ),
    (
        "北陸製缶株式会社",
        "hokuriku-seikan.co.jp",
        Lang::Ja,
        "森 健太",
        "k.mori",
    ),
    (
        "Lakeside Labels",
        "lakeside-labels.com",
        Lang::En,
        "Paula Reyes",
        "p.reyes",
    ),
];

/// Customers: (company, domain, lang, contact name, local part).
const CUSTOMERS: &[(&str, &str, Lang, &str, &str)] = &[
    (
        "Brightside Markets",
        "brightside-markets.com",
        Lang::En,
        "Kevin Doyle",
        "k.doyle",
    ),
    (
        "Urban Pantry",
        "urbanpantry.co.uk",
        Lang::En,
        "Megan Price",
        "orders",
    ),
    (
        "Lindqvist Catering",
        "lindqvist-catering.se",
        Lang::En,
        "Erik Lindqvist",
        "erik",
    ),
    (
        "Hotel Aurora Group",
        "aurora-hotels.com",
        Lang::En,
        "Sandra Ruiz",
        "purchasing",
    ),
    (
        "FreshWay Stores",
        "freshway-stores.com",
        Lang::En,
        "Tariq Hassan",
        "t.hassan",
    ),
    (
        "Harbour Bistro Group",
        "harbourbistro.co.uk",
        Lang::En,
        "Fiona Blake",
        "f.blake",
    ),
    (
        "Rheinland Feinkost",
        "rheinland-feinkost.de",
        Lang::En,
        "Markus Braun",
        "einkauf",
    ),
    (
        "Northgate Schools Catering",
        "northgate-catering.org",
        Lang::En,
        "Joyce Allen",
        "j.allen",
    ),
    (
        "Campus Dining Co.",
        "campusdining.com",
        Lang::En,
        "Victor Chen",
        "v.chen",
    ),
    (
        "SkyKitchen Airline Catering",
        "skykitchen.aero",
        Lang::En,
        "Amelia Ross",
        "a.ross",
    ),
    (
        "まるや商店",
        "maruya-shoten.co.jp",
        Lang::Ja,
        "丸山 健",
        "maruyama",
    ),
    (
        "株式会社ひかりスーパー",
        "hikari-super.co.jp",
        Lang::Ja,
        "石井 真理",
        "m.ishii",
    ),
    (
        "京都おばんざい本舗",
        "kyoto-obanzai.jp",
        Lang::Ja,
        "西村 和也",
        "nishimura",
    ),
    (
        "株式会社みどり給食",
        "midori-kyushoku.co.jp",
        Lang::Ja,
        "岡田 恵",
        "okada",
    ),
    (
        "ホテル青葉",
        "hotel-aoba.jp",
        Lang::Ja,
        "長谷川 亮",
        "hasegawa",
    ),
];

/// Given names for second contacts, by language.
const SECOND_EN: &[&str] = &["Chris Evans", "Dana Lee", "Maria Costa", "Peter Novak"];
const SECOND_JA: &[&str] = &["斎藤 恵", "松田 亮", "村上 優"];

/// A domain for a company the world names without one: a slug of its
/// name, or a fixed one for names we cannot spell in ASCII.
fn domain_of_company(world: &World, company: &str, n: usize) -> String {
    if let Some(p) = world.external.iter().find(|p| p.company == company) {
        return p.domain().to_string();
    }
    if let Some((_, d)) = KNOWN_DOMAINS.iter().find(|(c, _)| *c == company) {
        return (*d).to_string();
    }
    if company.is_ascii() {
        let slug: Vec<String> = company
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("co"))
            .map(str::to_lowercase)
            .collect();
        format!("{}.com", slug.join("-"))
    } else {
        format!("vendor{n}.co.jp")
    }
}

/// A bank account as an invoice writes it: an IBAN for a European
/// company, account and routing numbers for an American one, 口座番号 for a
/// Japanese one.
pub fn bank_account(rng: &mut ChaCha8Rng, domain: &str, lang: Lang) -> String {
    let digits = |rng: &mut ChaCha8Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect()
    };
    if lang == Lang::Ja {
        return format!(
            "普通 口座番号 {} （支店番号 {}）",
            digits(rng, 7),
            digits(rng, 3)
        );
    }
    let iban = |rng: &mut ChaCha8Rng, cc: &str, body: usize| {
        let all = format!("{cc}{}{}", digits(rng, 2), digits(rng, body));
        let groups: Vec<String> = all
            .chars()
            .collect::<Vec<char>>()
            .chunks(4)
            .map(|c| c.iter().collect())
            .collect();
        format!("IBAN {}", groups.join(" "))
    };
    if domain.ends_with(".de") || domain.ends_with(".eu") {
        iban(rng, "DE", 18)
    } else if domain.ends_with(".uk") {
        iban(rng, "GB", 18)
    } else if domain.ends_with(".se") {
        iban(rng, "SE", 20)
    } else {
        format!(
            "account number {}, routing {}",
            digits(rng, 10),
            digits(rng, 9)
        )
    }
}

/// A mail host's address in the documentation ranges.
fn host_ip(rng: &mut ChaCha8Rng) -> String {
    let net = ["192.0.2", "198.51.100", "203.0.113"][rng.gen_range(0..3)];
    format!("{net}.{}", rng.gen_range(2..250))
}

fn correspondent(
    rng: &mut ChaCha8Rng,
    company: &str,
    domain: &str,
    lang: Lang,
    contacts: Vec<Person>,
    vendor: bool,
) -> Correspondent {
    let offset = if lang == Lang::Ja {
        9
    } else if domain.ends_with(".com") || domain.ends_with(".org") || domain.ends_with(".aero") {
        [-5, -6, 0][rng.gen_range(0..3)]
    } else if domain.ends_with(".uk") {
        0
    } else {
        1
    };
    let mta_host = if rng.gen_bool(0.3) {
        format!(
            "mail-{}.outbound.protection.outlook.com",
            super::super::compose::hex(rng, 6)
        )
    } else {
        format!("mail.{domain}")
    };
    Correspondent {
        company: company.to_string(),
        domain: domain.to_string(),
        lang,
        offset,
        contacts,
        mta: (mta_host, host_ip(rng)),
        bank: bank_account(rng, domain, lang),
        link_host: if vendor {
            format!("portal.{domain}")
        } else {
            format!("www.{domain}")
        },
        vendor,
        signs: rng.gen_bool(0.85),
    }
}

fn person(name: &str, address: String, company: &str) -> Person {
    Person {
        name: name.to_string(),
        address,
        title: String::new(),
        company: company.to_string(),
    }
}

/// The cast of one timeline, drawn with `rng` from `world`.
pub fn cast(rng: &mut ChaCha8Rng, world: &World) -> Cast {
    let mut staff = Vec::new();
    let people = world
        .employee
        .iter()
        .map(|p| (p.clone(), Lang::En))
        .chain(world.employee_ja.iter().map(|p| (p.clone(), Lang::Ja)))
        .chain(MORE_STAFF.iter().map(|(name, local, title, lang)| {
            let domain = if *lang == Lang::Ja {
                "kestrelfoods.co.jp"
            } else {
                "kestrelfoods.com"
            };
            (
                Person {
                    name: (*name).to_string(),
                    address: format!("{local}@{domain}"),
                    title: (*title).to_string(),
                    company: String::new(),
                },
                *lang,
            )
        }));
    for (i, (person, lang)) in people.enumerate() {
        staff.push(mailbox(rng, world, person, lang, i, None));
    }
    for d in &world.desk {
        if d.role == "security" {
            continue;
        }
        let lang = if d.lang == "ja" { Lang::Ja } else { Lang::En };
        let p = Person {
            name: d.name.clone(),
            address: d.address.clone(),
            title: String::new(),
            company: String::new(),
        };
        let n = staff.len();
        let mut m = mailbox(rng, world, p, lang, n, Some(d.role.clone()));
        // A desk sends from the office, with the office client.
        m.networks.truncate(1);
        m.phone = false;
        m.client = CLIENTS[0];
        m.activity = 3;
        staff.push(m);
    }
    let mut firms = Vec::new();
    let vendor_names: Vec<(String, Lang)> = world
        .vendors
        .iter()
        .map(|v| (v.clone(), Lang::En))
        .chain(world.vendors_ja.iter().map(|v| (v.clone(), Lang::Ja)))
        .collect();
    for (n, (company, lang)) in vendor_names.iter().enumerate() {
        let domain = domain_of_company(world, company, n);
        let mut contacts: Vec<Person> = world
            .external
            .iter()
            .filter(|p| p.domain() == domain)
            .cloned()
            .collect();
        if contacts.is_empty() {
            let (name, local) = if *lang == Lang::Ja {
                (SECOND_JA[n % SECOND_JA.len()], "keiri")
            } else {
                (SECOND_EN[n % SECOND_EN.len()], "accounts")
            };
            contacts.push(person(name, format!("{local}@{domain}"), company));
        }
        firms.push(correspondent(rng, company, &domain, *lang, contacts, true));
    }
    for (company, domain, lang, name, local) in MORE_VENDORS {
        let contacts = vec![person(name, format!("{local}@{domain}"), company)];
        firms.push(correspondent(rng, company, domain, *lang, contacts, true));
    }
    for (company, domain, lang, name, local) in CUSTOMERS {
        let mut contacts = vec![person(name, format!("{local}@{domain}"), company)];
        if rng.gen_bool(0.4) {
            let pool = if *lang == Lang::Ja {
                SECOND_JA
            } else {
                SECOND_EN
            };
            let second = pool.choose(rng).copied().unwrap_or("Sam Lee");
            contacts.push(person(second, format!("office@{domain}"), company));
        }
        firms.push(correspondent(rng, company, domain, *lang, contacts, false));
    }
    // Habits: the link hosts each mailbox sends.
    for m in &mut staff {
        let mut hosts = vec![
            world.intranet_hosts[rng.gen_range(0..world.intranet_hosts.len())].clone(),
            "kestrelfoods.sharepoint.com".to_string(),
        ];
        if m.desk.is_some() || m.role() == Role::It || m.role() == Role::Hr {
            hosts.push(world.sso_hosts[rng.gen_range(0..world.sso_hosts.len())].clone());
        }
        for _ in 0..rng.gen_range(1..3) {
            let h = SAAS_LINK_HOSTS[rng.gen_range(0..SAAS_LINK_HOSTS.len())].to_string();
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        if rng.gen_bool(0.5) {
            hosts.push("kestrelfoods.atlassian.net".to_string());
        }
        m.link_hosts = hosts;
    }
    Cast { staff, firms }
}

/// One mailbox with its networks, client, hours and activity.
fn mailbox(
    rng: &mut ChaCha8Rng,
    world: &World,
    person: Person,
    lang: Lang,
    n: usize,
    desk: Option<String>,
) -> Mailbox {
    let _ = world;
    // Offices: London and Rotterdam for English, Tokyo for Japanese.
    let (office, offset) = match lang {
        Lang::Ja => (format!("10.40.{}", 1 + n % 3), 9),
        Lang::En if n % 4 == 3 => (format!("10.30.{}", 1 + n % 2), 1),
        Lang::En => (format!("10.20.{}", 1 + n % 6), 0),
    };
    let mut networks = vec![office];
    if rng.gen_bool(0.5) {
        let vpn = if rng.gen_bool(0.5) {
            format!("10.99.{}", rng.gen_range(0..64))
        } else {
            ["198.51.100", "203.0.113"][rng.gen_range(0..2)].to_string()
        };
        networks.push(vpn);
    }
    let busy = person.title.to_lowercase().contains("payable")
        || person.title.contains("購買")
        || person.title.to_lowercase().contains("procurement");
    Mailbox {
        person,
        lang,
        offset,
        networks,
        client: *CLIENTS.choose(rng).unwrap_or(&CLIENTS[0]),
        phone: rng.gen_bool(0.3),
        activity: if busy { 6 } else { rng.gen_range(2..6) },
        link_hosts: Vec::new(),
        desk,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_cast_has_thirty_odd_mailboxes_and_fifteen_vendors_and_customers() {
        let world = World::builtin().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let c = cast(&mut rng, &world);
        assert!((25..=40).contains(&c.staff.len()), "{}", c.staff.len());
        let vendors = c.firms.iter().filter(|f| f.vendor).count();
        let customers = c.firms.len() - vendors;
        assert!(vendors >= 15 && customers >= 15, "{vendors} {customers}");
        let domains: std::collections::BTreeSet<&str> =
            c.firms.iter().map(|f| f.domain.as_str()).collect();
        assert_eq!(domains.len(), c.firms.len(), "one domain per firm");
        assert!(c.firms.iter().any(|f| f.domain == "greenvale-produce.com"));
    }

    #[test]
    fn bank_accounts_are_read_back_as_accounts() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for (domain, lang) in [
            ("x.de", Lang::En),
            ("x.co.uk", Lang::En),
            ("x.com", Lang::En),
            ("x.co.jp", Lang::Ja),
        ] {
            let text = bank_account(&mut rng, domain, lang);
            let found = impostor_features::sender_history::bank_accounts(&text);
            assert!(!found.is_empty(), "{text}");
        }
    }
}
