//! Planning a timeline: ordinary mail in threads over the whole span,
//! then hard ham and attack scenarios in its later two thirds, each
//! written with the same routes and hosts as the ham around it and
//! differing only by the behaviour its scenario describes.

use super::cast::{bank_account, roaming_net, Cast, Role, OTHER_CLIENTS, PHONE_CLIENT};
use super::letters::{self, pick, scenario as words};
use super::{domain_of, Planned, Route, START};
use crate::gen::compose::{hex, rfc5322_date};
use crate::gen::template::Lang;
use crate::gen::world::World;
use crate::Label;
use impostor_features::Technique;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Kinds of ordinary ham.
pub const ORDINARY_KINDS: &[&str] = &[
    "internal",
    "outbound",
    "vendor",
    "customer",
    "newsletter",
    "saas_notice",
    "announcement",
];

/// Hard ham: honest mail with an attack's words.
pub const HARD_HAM_KINDS: &[&str] = &[
    "it_notice",
    "hr_gift_card",
    "forward_to_security",
    "vendor_bank_change_genuine",
    "cfo_approval_in_thread",
];

/// Attack scenarios.
pub const ATTACK_KINDS: &[&str] = &[
    "takeover_new_network",
    "takeover_odd_hours",
    "internal_phish_wave",
    "vendor_compromise_bank_change",
    "vendor_lookalike_thread",
    "first_contact_impersonation",
];

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// Names of people who write to the org from free mail the first time.
const WALK_INS: &[(&str, &str, Lang)] = &[
    ("Rosa Delgado", "rosa.delgado.cafe", Lang::En),
    ("Tim Baker", "timbakes", Lang::En),
    ("Ahmed Karim", "ahmed.karim.deli", Lang::En),
    ("Lena Hoff", "lena.hoff", Lang::En),
    ("大野 悟", "s.oono.kitchen", Lang::Ja),
    ("藤井 美和", "miwa.fujii", Lang::Ja),
];

/// Where a link points in the phish of an attack or a forwarded phish.
fn phish_host(rng: &mut ChaCha8Rng, world: &World) -> String {
    let base = pick_string(rng, &world.phish_hosts);
    if rng.gen_bool(0.5) {
        base
    } else {
        let words = ["docs", "portal", "share", "login", "view"];
        format!(
            "{}-{}.com",
            words[rng.gen_range(0..words.len())],
            hex(rng, 5)
        )
    }
}

fn pick_string(rng: &mut ChaCha8Rng, pool: &[String]) -> String {
    pool.choose(rng).cloned().unwrap_or_default()
}

/// Something said in a thread, for quoting and referencing.
#[derive(Clone, Debug)]
struct Said {
    ts: i64,
    id: String,
    from: (String, String),
    to: String,
    date: String,
    subject: String,
    text: String,
}

/// A conversation with a firm (or among staff).
#[derive(Clone, Debug)]
struct Thread {
    firm: Option<usize>,
    subject: String,
    msgs: Vec<Said>,
}

struct Planner<'a> {
    rng: &'a mut ChaCha8Rng,
    world: &'a World,
    cast: &'a Cast,
    days: i64,
    out: Vec<Planned>,
    threads: Vec<Thread>,
    sent: BTreeMap<String, Vec<i64>>,
    nets: BTreeMap<String, BTreeSet<String>>,
    owners: Vec<Vec<usize>>,
    count: u64,
}

/// Plans `messages` messages over `days` days.
pub fn plan(
    rng: &mut ChaCha8Rng,
    world: &World,
    cast: &Cast,
    days: i64,
    messages: usize,
) -> Vec<Planned> {
    let attacks = messages * 6 / 100;
    let hard = messages * 6 / 100;
    let cfo = (0..hard).filter(|i| i % HARD_HAM_KINDS.len() == 4).count();
    let ordinary = messages - attacks - hard - cfo;
    let owners = owners(rng, cast);
    let mut p = Planner {
        rng,
        world,
        cast,
        days,
        out: Vec::with_capacity(messages),
        threads: Vec::new(),
        sent: BTreeMap::new(),
        nets: BTreeMap::new(),
        owners,
        count: 0,
    };
    while p.out.len() < ordinary {
        let left = ordinary - p.out.len();
        match p.rng.gen_range(0..100) {
            0..=29 => p.internal_thread(left),
            30..=51 => p.vendor_thread(left),
            52..=59 => p.invoice(left),
            60..=73 => p.customer_thread(left),
            74..=83 => p.newsletter(),
            84..=93 => p.saas_notice(),
            _ => p.announcement(),
        }
    }
    let lo = START + days * DAY / 3;
    let hi = START + days * DAY;
    for i in 0..hard {
        let kind = HARD_HAM_KINDS[i % HARD_HAM_KINDS.len()];
        let t = p.rng.gen_range(lo..hi);
        p.hard_ham(kind, t, lo, hi);
    }
    // Attacks a little later than a third in, so that even by position
    // (threads run past the span's end) none falls in the first third.
    let lo = START + days * DAY * 2 / 5;
    for i in 0..attacks {
        let kind = ATTACK_KINDS[i % ATTACK_KINDS.len()];
        let t = p.rng.gen_range(lo..hi);
        p.attack(kind, t, lo, hi);
    }
    p.out
}

/// Who deals with each firm: staff of its language in the roles that do.
fn owners(rng: &mut ChaCha8Rng, cast: &Cast) -> Vec<Vec<usize>> {
    cast.firms
        .iter()
        .map(|f| {
            let roles: &[Role] = if f.vendor {
                &[Role::Supply, Role::Finance]
            } else {
                &[Role::Sales, Role::Executive]
            };
            let mut fit: Vec<usize> = (0..cast.staff.len())
                .filter(|&i| {
                    let m = &cast.staff[i];
                    m.desk.is_none() && m.lang == f.lang && roles.contains(&m.role())
                })
                .collect();
            if fit.is_empty() {
                fit = (0..cast.staff.len())
                    .filter(|&i| cast.staff[i].desk.is_none() && cast.staff[i].lang == f.lang)
                    .collect();
            }
            fit.shuffle(rng);
            fit.truncate(rng.gen_range(1..3));
            fit
        })
        .collect()
}

/// Day of the week of a local day number: 0 Monday … 6 Sunday.
fn weekday(local: i64) -> i64 {
    (local.div_euclid(DAY) + 3).rem_euclid(7)
}

/// A placeholder filler over a few named values.
fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

fn first_name(name: &str) -> String {
    if name.is_ascii() {
        name.split_whitespace().next().unwrap_or(name).to_string()
    } else {
        name.to_string()
    }
}

impl Planner<'_> {
    // ---- time -------------------------------------------------------

    /// A working-hours moment of a weekday in days `lo..hi` for someone at
    /// `offset`; now and then early or late.
    fn work_time(&mut self, lo: i64, hi: i64, offset: i64) -> i64 {
        loop {
            let day = START + self.rng.gen_range(lo..hi.max(lo + 1)) * DAY;
            if weekday(day) >= 5 && !self.rng.gen_bool(0.03) {
                continue;
            }
            let hour = if self.rng.gen_bool(0.05) {
                self.rng.gen_range(6..23)
            } else {
                self.rng.gen_range(8..19)
            };
            return day + hour * 3600 + self.rng.gen_range(0..3600) - offset * 3600;
        }
    }

    /// When someone at `offset` answers something written at `ts`: within
    /// hours, moved to their next working morning when it falls outside.
    fn after(&mut self, ts: i64, offset: i64) -> i64 {
        let t = ts + self.rng.gen_range(600..30 * 3600);
        if self.rng.gen_bool(0.03) {
            return t;
        }
        let mut local = t + offset * 3600;
        let hour = local.rem_euclid(DAY) / 3600;
        if weekday(local) < 5 && (8..19).contains(&hour) {
            return t;
        }
        local = local.div_euclid(DAY) * DAY + DAY;
        while weekday(local) >= 5 {
            local += DAY;
        }
        local + 8 * 3600 + self.rng.gen_range(0..9000) - offset * 3600
    }

    /// A time in `lo..hi` at an hour of the week `address` has written at
    /// before (weeks later, minutes apart): its usual hours.
    fn usual_time(&mut self, address: &str, lo: i64, hi: i64, offset: i64) -> i64 {
        let earlier: Vec<i64> = self
            .sent
            .get(address)
            .map(|v| v.iter().copied().filter(|&t| t < hi - WEEK).collect())
            .unwrap_or_default();
        if let Some(&t0) = earlier.choose(self.rng) {
            let k_min = ((lo - t0) as f64 / WEEK as f64).ceil().max(1.0) as i64;
            let k_max = (hi - t0) / WEEK;
            if k_max >= k_min {
                let k = self.rng.gen_range(k_min..=k_max);
                return t0 + k * WEEK + self.rng.gen_range(-900..900);
            }
        }
        let (a, b) = ((lo - START) / DAY, (hi - START) / DAY);
        self.work_time(a, b, offset)
    }

    // ---- identities and routes ---------------------------------------

    fn new_id(&mut self, domain: &str) -> String {
        self.count += 1;
        format!("{}.{:x}@{domain}", hex(self.rng, 16), self.count)
    }

    fn link(&mut self, host: &str) -> String {
        let words = ["view", "s", "docs", "files", "d", "page"];
        format!(
            "https://{host}/{}/{}",
            words[self.rng.gen_range(0..words.len())],
            hex(self.rng, 10)
        )
    }

    /// The network and client a staff mailbox writes from now: the office
    /// mostly, its VPN or home network some of the time, its phone now and
    /// then, a hotel's network rarely.
    fn staff_route(&mut self, s: usize) -> (Route, (String, String)) {
        let m = &self.cast.staff[s];
        let net = if self.rng.gen_bool(0.01) && m.desk.is_none() {
            roaming_net(self.rng)
        } else if m.networks.len() > 1 && self.rng.gen_bool(0.3) {
            m.networks[1].clone()
        } else {
            m.networks[0].clone()
        };
        let client = if m.phone && self.rng.gen_bool(0.15) {
            PHONE_CLIENT
        } else {
            m.client
        };
        self.staff_route_from(s, &net, client)
    }

    fn staff_route_from(
        &mut self,
        s: usize,
        net: &str,
        client: (&str, &str),
    ) -> (Route, (String, String)) {
        let address = self.cast.staff[s].person.address.clone();
        self.nets
            .entry(address)
            .or_default()
            .insert(net.to_string());
        let ip = format!("{net}.{}", self.rng.gen_range(2..250));
        (
            Route::Internal { ip },
            (client.0.to_string(), client.1.to_string()),
        )
    }

    fn firm_route(&mut self, f: usize, contact: usize) -> Route {
        let firm = &self.cast.firms[f];
        Route::Inbound {
            helo: firm.mta.0.clone(),
            ip: firm.mta.1.clone(),
            mail_from: firm.contacts[contact % firm.contacts.len()].address.clone(),
            dkim: firm.signs.then(|| firm.domain.clone()),
        }
    }

    fn freemail_route(&mut self, address: &str) -> Route {
        let domain = domain_of(address).to_string();
        let helo = match domain.as_str() {
            "gmail.com" => format!("mail-sor-f{}.google.com", self.rng.gen_range(41..73)),
            "outlook.com" | "hotmail.com" => {
                format!("mail-{}.outbound.protection.outlook.com", hex(self.rng, 6))
            }
            d => format!("mta{}.mail.{d}", self.rng.gen_range(1..9)),
        };
        let net = ["192.0.2", "198.51.100", "203.0.113"][self.rng.gen_range(0..3)];
        Route::Inbound {
            helo,
            ip: format!("{net}.{}", self.rng.gen_range(2..250)),
            mail_from: address.to_string(),
            dkim: Some(domain),
        }
    }

    fn person_of(&self, s: usize) -> (String, String) {
        let p = &self.cast.staff[s].person;
        (p.name.clone(), p.address.clone())
    }

    fn colleague(&mut self, s: usize) -> usize {
        let lang = self.cast.staff[s].lang;
        let same = self.rng.gen_bool(0.9);
        let pool: Vec<usize> = (0..self.cast.staff.len())
            .filter(|&i| i != s && self.cast.staff[i].desk.is_none())
            .filter(|&i| !same || self.cast.staff[i].lang == lang)
            .collect();
        pool.choose(self.rng)
            .copied()
            .unwrap_or((s + 1) % self.cast.staff.len())
    }

    /// A staff member, the busier more often.
    fn active_staff(&mut self) -> usize {
        let weights: Vec<u32> = self
            .cast
            .staff
            .iter()
            .map(|m| if m.desk.is_some() { 0 } else { m.activity })
            .collect();
        let total: u32 = weights.iter().sum();
        let mut roll = self.rng.gen_range(0..total.max(1));
        for (i, w) in weights.iter().enumerate() {
            if roll < *w {
                return i;
            }
            roll -= w;
        }
        0
    }

    fn staff_link(&mut self, s: usize) -> String {
        let host = pick_string(self.rng, &self.cast.staff[s].link_hosts);
        self.link(&host)
    }

    // ---- writing -----------------------------------------------------

    /// Records a planned message and what it says in its thread.
    fn push(&mut self, p: Planned, thread: Option<usize>) {
        if let Some(t) = thread {
            let said = Said {
                ts: p.ts,
                id: p.id.clone(),
                from: p.from.clone(),
                to: p
                    .to
                    .iter()
                    .map(|(n, a)| format!("{n} <{a}>"))
                    .collect::<Vec<_>>()
                    .join(", "),
                date: rfc5322_date(p.ts, p.offset),
                subject: p.subject.clone(),
                text: p
                    .body
                    .split("\n\n-----Original Message-----")
                    .next()
                    .unwrap_or("")
                    .split("\n\nOn ")
                    .next()
                    .unwrap_or("")
                    .to_string(),
            };
            self.threads[t].msgs.push(said);
        }
        self.sent.entry(p.from.1.clone()).or_default().push(p.ts);
        self.out.push(p);
    }

    /// A reply's subject, threading fields and quote of the last message
    /// of thread `t` written before `ts`.
    fn reply_to_thread(
        &mut self,
        t: usize,
        ts: i64,
        lang: Lang,
    ) -> (String, Option<String>, Vec<String>, String) {
        let earlier: Vec<Said> = self.threads[t]
            .msgs
            .iter()
            .filter(|m| m.ts < ts)
            .cloned()
            .collect();
        let subject = format!("RE: {}", self.threads[t].subject);
        let Some(last) = earlier.last() else {
            return (subject, None, Vec::new(), String::new());
        };
        let refs: Vec<String> = earlier
            .iter()
            .rev()
            .take(8)
            .rev()
            .map(|m| m.id.clone())
            .collect();
        let quote = self.quote(last, lang);
        (subject, Some(last.id.clone()), refs, quote)
    }

    fn quote(&mut self, last: &Said, lang: Lang) -> String {
        if self.rng.gen_bool(0.5) {
            let (from, sent, to, subj) = if lang == Lang::Ja {
                ("差出人", "送信日時", "宛先", "件名")
            } else {
                ("From", "Sent", "To", "Subject")
            };
            format!(
                "\n\n-----Original Message-----\n{from}: {} <{}>\n{sent}: {}\n{to}: {}\n{subj}: {}\n\n{}",
                last.from.0, last.from.1, last.date, last.to, last.subject, last.text
            )
        } else {
            let quoted: Vec<String> = last.text.lines().map(|l| format!("> {l}")).collect();
            format!(
                "\n\nOn {}, {} <{}> wrote:\n{}",
                last.date,
                last.from.0,
                last.from.1,
                quoted.join("\n")
            )
        }
    }

    fn signature(&self, name: &str, title: &str, company: &str) -> String {
        let mut s = format!("\n\n{name}");
        if !title.is_empty() {
            s.push_str(&format!("\n{title}"));
        }
        if !company.is_empty() {
            s.push_str(&format!("\n{company}"));
        }
        s
    }

    /// A message from staff mailbox `s`.
    #[allow(clippy::too_many_arguments)]
    fn staff_writes(
        &mut self,
        s: usize,
        ts: i64,
        kind: &'static str,
        to: Vec<(String, String)>,
        subject: String,
        body: String,
        route: Option<(Route, (String, String))>,
    ) -> Planned {
        let (route, client) = route.unwrap_or_else(|| self.staff_route(s));
        let m = &self.cast.staff[s];
        let org = if m.lang == Lang::Ja {
            "ケストレルフーズ株式会社"
        } else {
            "Kestrel Foods"
        };
        let body = format!(
            "{body}{}",
            self.signature(&m.person.name, &m.person.title, org)
        );
        let domain = m.person.domain().to_string();
        let id = self.new_id(&domain);
        let external = to.iter().any(|(_, a)| !a.contains("@kestrelfoods."));
        Planned {
            ts,
            offset: m.offset,
            kind: if kind == "internal" && external {
                "outbound"
            } else {
                kind
            },
            label: Label::Ham,
            technique: None,
            from: self.person_of(s),
            to,
            cc: Vec::new(),
            subject,
            body,
            id,
            in_reply_to: None,
            references: Vec::new(),
            reply_to: None,
            route,
            extra: vec![client],
            html: false,
        }
    }

    /// A message from contact `c` of firm `f`.
    #[allow(clippy::too_many_arguments)]
    fn firm_writes(
        &mut self,
        f: usize,
        c: usize,
        ts: i64,
        kind: &'static str,
        to: Vec<(String, String)>,
        subject: String,
        body: String,
    ) -> Planned {
        let route = self.firm_route(f, c);
        let firm = &self.cast.firms[f];
        let contact = firm.contacts[c % firm.contacts.len()].clone();
        let body = format!("{body}{}", self.signature(&contact.name, "", &firm.company));
        let id = self.new_id(&firm.domain.clone());
        let offset = self.cast.firms[f].offset;
        Planned {
            ts,
            offset,
            kind,
            label: Label::Ham,
            technique: None,
            from: (contact.name.clone(), contact.address.clone()),
            to,
            cc: Vec::new(),
            subject,
            body,
            id,
            in_reply_to: None,
            references: Vec::new(),
            reply_to: None,
            route,
            extra: vec![("X-Mailer".into(), "Microsoft Outlook 16.0".into())],
            html: false,
        }
    }

    fn threaded(&mut self, p: &mut Planned, t: usize, lang: Lang) {
        let (subject, irt, refs, quote) = self.reply_to_thread(t, p.ts, lang);
        p.subject = subject;
        p.in_reply_to = irt;
        p.references = refs;
        p.body.push_str(&quote);
    }

    fn new_thread(&mut self, firm: Option<usize>, subject: &str) -> usize {
        self.threads.push(Thread {
            firm,
            subject: subject.to_string(),
            msgs: Vec::new(),
        });
        self.threads.len() - 1
    }

    fn values(&mut self, lang: Lang) -> Vec<(&'static str, String)> {
        let products = if lang == Lang::Ja {
            &self.world.products_ja
        } else {
            &self.world.products
        };
        let vendor = self
            .cast
            .firms
            .iter()
            .filter(|f| f.vendor && f.lang == lang)
            .collect::<Vec<_>>()
            .choose(self.rng)
            .map_or(String::new(), |f| f.company.clone());
        let amount = if lang == Lang::Ja {
            format!("{}円", self.rng.gen_range(100..5000) * 1000)
        } else {
            format!(
                "EUR {}.{:02}",
                self.rng.gen_range(800..60_000),
                self.rng.gen_range(0..100)
            )
        };
        vec![
            ("po", format!("PO-{}", self.rng.gen_range(20_000..99_999))),
            (
                "inv",
                format!("INV-{}", self.rng.gen_range(100_000..999_999)),
            ),
            ("product", pick_string(self.rng, products)),
            ("vendor", vendor),
            ("amount", amount),
        ]
    }

    // ---- ordinary episodes -------------------------------------------

    fn internal_thread(&mut self, left: usize) {
        let a = self.active_staff();
        let b = self.colleague(a);
        let lang = self.cast.staff[a].lang;
        let role = self.cast.staff[a].role();
        let topics = letters::internal_topic(role, lang);
        let (subject, text) = *topics.choose(self.rng).unwrap_or(&("Update", "{link}"));
        let link = self.staff_link(a);
        let mut v = self.values(lang);
        v.push(("link", link));
        v.push(("to", first_name(&self.cast.staff[b].person.name)));
        let vals: Vec<(&str, &str)> = v.iter().map(|(k, x)| (*k, x.as_str())).collect();
        let subject = fill(subject, &vals);
        let body = fill(text, &vals);
        let t = self.new_thread(None, &subject);
        let days = self.days;
        let ts = self.work_time(0, days, self.cast.staff[a].offset);
        let to = vec![self.person_of(b)];
        let mut p = self.staff_writes(a, ts, "internal", to, subject, body, None);
        if self.rng.gen_bool(0.3) {
            let c = self.colleague(a);
            if c != b {
                p.cc.push(self.person_of(c));
            }
        }
        self.push(p, Some(t));
        let replies = self.rng.gen_range(0..4).min(left.saturating_sub(1));
        let (mut who, mut other, mut last) = (b, a, ts);
        for _ in 0..replies {
            let ts = self.after(last, self.cast.staff[who].offset);
            let text = pick(self.rng, letters::reply_text(lang));
            let body = fill(
                text,
                &[("to", &first_name(&self.cast.staff[other].person.name))],
            );
            let to = vec![self.person_of(other)];
            let mut p = self.staff_writes(who, ts, "internal", to, String::new(), body, None);
            self.threaded(&mut p, t, lang);
            self.push(p, Some(t));
            last = ts;
            std::mem::swap(&mut who, &mut other);
        }
    }

    fn firm_pick(&mut self, vendor: bool) -> (usize, usize) {
        let firms: Vec<usize> = (0..self.cast.firms.len())
            .filter(|&f| self.cast.firms[f].vendor == vendor)
            .collect();
        let f = *firms.choose(self.rng).unwrap_or(&0);
        let s = self.owners[f].choose(self.rng).copied().unwrap_or(0);
        (f, s)
    }

    fn vendor_thread(&mut self, left: usize) {
        let (f, s) = self.firm_pick(true);
        let lang = self.cast.firms[f].lang;
        let c = self.rng.gen_range(0..self.cast.firms[f].contacts.len());
        let contact = self.cast.firms[f].contacts[c].clone();
        let (subject, text) = *letters::to_vendor(lang)
            .choose(self.rng)
            .unwrap_or(&("Order", ""));
        let mut v = self.values(lang);
        v.push(("to", first_name(&contact.name)));
        let portal = self.cast.firms[f].link_host.clone();
        v.push(("link", self.link(&portal)));
        v.push(("bank", self.cast.firms[f].bank.clone()));
        let vals: Vec<(String, String)> =
            v.iter().map(|(k, x)| (k.to_string(), x.clone())).collect();
        let get = |k: &str| -> Vec<(&str, &str)> {
            vals.iter()
                .filter(|(n, _)| n != k)
                .map(|(n, x)| (n.as_str(), x.as_str()))
                .collect()
        };
        let subject = fill(subject, &get(""));
        let body = fill(text, &get(""));
        let t = self.new_thread(Some(f), &subject);
        let days = self.days;
        let ts = self.work_time(0, days, self.cast.staff[s].offset);
        let p = self.staff_writes(
            s,
            ts,
            "outbound",
            vec![(contact.name.clone(), contact.address.clone())],
            subject,
            body,
            None,
        );
        self.push(p, Some(t));
        let mut last = ts;
        let steps = self.rng.gen_range(1..5).min(left.saturating_sub(1));
        let staff_first = first_name(&self.cast.staff[s].person.name);
        for step in 0..steps {
            if step % 2 == 0 {
                let ts = self.after(last, self.cast.firms[f].offset);
                let invoice = step == 2 || self.rng.gen_bool(0.2);
                let link = self.link(&portal);
                let mut vals = get("link");
                vals.push(("link", &link));
                vals.retain(|(k, _)| *k != "to");
                vals.push(("to", &staff_first));
                let text = if invoice {
                    pick_pair(self.rng, letters::invoice(lang)).1
                } else {
                    pick(self.rng, letters::vendor_reply(lang))
                };
                let body = fill(text, &vals);
                let to = vec![self.person_of(s)];
                let mut p = self.firm_writes(f, c, ts, "vendor", to, String::new(), body);
                self.threaded(&mut p, t, lang);
                self.push(p, Some(t));
                last = ts;
            } else {
                let ts = self.after(last, self.cast.staff[s].offset);
                let text = pick(self.rng, letters::reply_text(lang));
                let body = fill(text, &[("to", &first_name(&contact.name))]);
                let to = vec![(contact.name.clone(), contact.address.clone())];
                let mut p = self.staff_writes(s, ts, "outbound", to, String::new(), body, None);
                self.threaded(&mut p, t, lang);
                self.push(p, Some(t));
                last = ts;
            }
        }
    }

    fn invoice(&mut self, left: usize) {
        let (f, s) = self.firm_pick(true);
        let lang = self.cast.firms[f].lang;
        let c = self.rng.gen_range(0..self.cast.firms[f].contacts.len());
        let (subject, text) = pick_pair(self.rng, letters::invoice(lang));
        let portal = self.cast.firms[f].link_host.clone();
        let mut v = self.values(lang);
        v.push(("to", first_name(&self.cast.staff[s].person.name)));
        v.push(("link", self.link(&portal)));
        v.push(("bank", self.cast.firms[f].bank.clone()));
        let vals: Vec<(&str, &str)> = v.iter().map(|(k, x)| (*k, x.as_str())).collect();
        let subject = fill(subject, &vals);
        let body = fill(text, &vals);
        let t = self.new_thread(Some(f), &subject);
        let days = self.days;
        let ts = self.work_time(0, days, self.cast.firms[f].offset);
        let to = vec![self.person_of(s)];
        let p = self.firm_writes(f, c, ts, "vendor", to, subject, body);
        self.push(p, Some(t));
        if left > 1 && self.rng.gen_bool(0.4) {
            let ts = self.after(ts, self.cast.staff[s].offset);
            let contact = self.cast.firms[f].contacts[c].clone();
            let text = pick(self.rng, letters::reply_text(lang));
            let body = fill(text, &[("to", &first_name(&contact.name))]);
            let to = vec![(contact.name.clone(), contact.address.clone())];
            let mut p = self.staff_writes(s, ts, "outbound", to, String::new(), body, None);
            self.threaded(&mut p, t, lang);
            self.push(p, Some(t));
        }
    }

    fn customer_thread(&mut self, left: usize) {
        let walk_in = self.rng.gen_bool(0.1);
        let (f, s) = self.firm_pick(false);
        let (lang, from, offset) = if walk_in {
            let (name, local, lang) = *WALK_INS.choose(self.rng).unwrap_or(&WALK_INS[0]);
            let domain = if lang == Lang::Ja {
                ["yahoo.co.jp", "gmail.com"][self.rng.gen_range(0..2)].to_string()
            } else {
                pick_string(self.rng, &self.world.freemail)
            };
            let n = self.rng.gen_range(1..99);
            let address = format!("{local}{n}@{domain}");
            (
                lang,
                (name.to_string(), address),
                if lang == Lang::Ja { 9 } else { 0 },
            )
        } else {
            let firm = &self.cast.firms[f];
            let c = &firm.contacts[self.rng.gen_range(0..firm.contacts.len())];
            (firm.lang, (c.name.clone(), c.address.clone()), firm.offset)
        };
        let s = if walk_in {
            let pool: Vec<usize> = (0..self.cast.staff.len())
                .filter(|&i| {
                    self.cast.staff[i].lang == lang && self.cast.staff[i].role() == Role::Sales
                })
                .collect();
            pool.choose(self.rng).copied().unwrap_or(s)
        } else {
            s
        };
        let (subject, text) = pick_pair(self.rng, letters::customer(lang));
        let mut v = self.values(lang);
        v.push(("to", first_name(&self.cast.staff[s].person.name)));
        let host = if walk_in {
            "docs.google.com".to_string()
        } else {
            self.cast.firms[f].link_host.clone()
        };
        v.push(("link", self.link(&host)));
        let vals: Vec<(&str, &str)> = v.iter().map(|(k, x)| (*k, x.as_str())).collect();
        let subject = fill(subject, &vals);
        let body = fill(text, &vals);
        let t = self.new_thread(if walk_in { None } else { Some(f) }, &subject);
        let days = self.days;
        let ts = self.work_time(0, days, offset);
        let body = format!("{body}\n\n{}", from.0);
        let id = self.new_id(domain_of(&from.1));
        let route = if walk_in {
            self.freemail_route(&from.1)
        } else {
            self.firm_route(f, 0)
        };
        let route = match route {
            Route::Inbound { helo, ip, dkim, .. } => Route::Inbound {
                helo,
                ip,
                mail_from: from.1.clone(),
                dkim,
            },
            r => r,
        };
        let p = Planned {
            ts,
            offset,
            kind: "customer",
            label: Label::Ham,
            technique: None,
            from: from.clone(),
            to: vec![self.person_of(s)],
            cc: Vec::new(),
            subject,
            body,
            id,
            in_reply_to: None,
            references: Vec::new(),
            reply_to: None,
            route,
            extra: Vec::new(),
            html: false,
        };
        self.push(p, Some(t));
        if left > 1 && self.rng.gen_bool(0.8) {
            let ts = self.after(ts, self.cast.staff[s].offset);
            let link = self.staff_link(s);
            let text = pick(self.rng, letters::to_customer(lang));
            let body = fill(text, &[("to", &first_name(&from.0)), ("link", &link)]);
            let mut p = self.staff_writes(s, ts, "outbound", vec![from], String::new(), body, None);
            self.threaded(&mut p, t, lang);
            self.push(p, Some(t));
        }
    }

    fn newsletter(&mut self) {
        let bulk: Vec<_> = self
            .world
            .bulk
            .iter()
            .filter(|b| b.kind == "newsletter")
            .cloned()
            .collect();
        let Some(b) = bulk.choose(self.rng).cloned() else {
            return self.announcement();
        };
        let lang = if b.name.is_ascii() {
            Lang::En
        } else {
            Lang::Ja
        };
        let readers: Vec<usize> = (0..self.cast.staff.len())
            .filter(|&i| self.cast.staff[i].lang == lang && self.cast.staff[i].desk.is_none())
            .collect();
        let s = readers.choose(self.rng).copied().unwrap_or(0);
        let domain = domain_of(&b.address).to_string();
        let (subject, text) = pick_pair(self.rng, letters::newsletter(lang));
        let link = self.link(&format!("www.{domain}"));
        let v = self.values(lang);
        let mut vals: Vec<(&str, &str)> = v.iter().map(|(k, x)| (*k, x.as_str())).collect();
        vals.push(("link", &link));
        let body = fill(text, &vals);
        let days = self.days;
        let ts = self.work_time(0, days, 0);
        let id = self.new_id(&domain);
        let unsubscribe = format!("<https://{domain}/unsubscribe/{}>", hex(self.rng, 12));
        let route = Route::Inbound {
            helo: format!("mta-{}.{}", hex(self.rng, 4), domain_of(&b.return_path)),
            ip: format!("203.0.113.{}", self.rng.gen_range(2..250)),
            mail_from: b.return_path.clone(),
            dkim: Some(domain.clone()),
        };
        let p = Planned {
            ts,
            offset: 0,
            kind: "newsletter",
            label: Label::Ham,
            technique: None,
            from: (b.name.clone(), b.address.clone()),
            to: vec![self.person_of(s)],
            cc: Vec::new(),
            subject: subject.to_string(),
            body,
            id,
            in_reply_to: None,
            references: Vec::new(),
            reply_to: None,
            route,
            extra: vec![("List-Unsubscribe".into(), unsubscribe)],
            html: true,
        };
        self.push(p, None);
    }

    fn saas_notice(&mut self) {
        let Some(sv) = self.world.saas.choose(self.rng).cloned() else {
            return self.announcement();
        };
        let actor = self.active_staff();
        let s = self.colleague(actor);
        let (an, aa) = self.person_of(actor);
        let name = if sv.via.is_empty() {
            an.clone()
        } else {
            format!("{an} {}", sv.via)
        };
        let link = self.link(&sv.link_host);
        let (subject, text) = match sv.notice.as_str() {
            "share" => (
                format!("{an} shared a file with you"),
                format!(
                    "{an} shared a file with you on {}.\n\nOpen: {link}",
                    sv.product
                ),
            ),
            "ticket" => {
                let n = self.rng.gen_range(100..9999);
                (
                    format!("[{}] Ticket {n} updated", sv.product),
                    format!("{an} updated ticket {n}.\n\nView the ticket: {link}"),
                )
            }
            "signature" => (
                format!("{an} sent you a document to sign"),
                format!("{an} sent you a document to review and sign.\n\nReview: {link}"),
            ),
            _ => (
                format!("{an} mentioned you"),
                format!("{an} mentioned you in a comment.\n\n{link}"),
            ),
        };
        let days = self.days;
        let ts = self.work_time(0, days, self.cast.staff[actor].offset);
        let id = self.new_id(&sv.dkim);
        let mut extra = Vec::new();
        if sv.unsubscribe {
            extra.push((
                "List-Unsubscribe".to_string(),
                format!(
                    "<https://{}/unsubscribe/{}>",
                    sv.link_host,
                    hex(self.rng, 12)
                ),
            ));
        }
        let route = Route::Inbound {
            helo: format!("mail-{}.{}", hex(self.rng, 6), sv.mta),
            ip: format!("198.51.100.{}", self.rng.gen_range(2..250)),
            mail_from: sv.return_path.clone(),
            dkim: Some(sv.dkim.clone()),
        };
        let p = Planned {
            ts,
            offset: 0,
            kind: "saas_notice",
            label: Label::Ham,
            technique: None,
            from: (name, sv.address.clone()),
            to: vec![self.person_of(s)],
            cc: Vec::new(),
            subject,
            body: text,
            id,
            in_reply_to: None,
            references: Vec::new(),
            reply_to: sv.reply_to_actor.then(|| (an.clone(), aa.clone())),
            route,
            extra,
            html: true,
        };
        self.push(p, None);
    }

    /// Many internal recipients of `lang`, not `s`.
    fn many(&mut self, s: usize, lang: Lang, n: usize) -> Vec<(String, String)> {
        let mut pool: Vec<usize> = (0..self.cast.staff.len())
            .filter(|&i| i != s && self.cast.staff[i].desk.is_none())
            .filter(|&i| self.cast.staff[i].lang == lang || n > 12)
            .collect();
        pool.shuffle(self.rng);
        pool.truncate(n);
        pool.into_iter().map(|i| self.person_of(i)).collect()
    }

    fn announcement(&mut self) {
        let senders: Vec<usize> = (0..self.cast.staff.len())
            .filter(|&i| {
                let m = &self.cast.staff[i];
                m.desk.is_some() || matches!(m.role(), Role::Executive | Role::Hr | Role::It)
            })
            .collect();
        let s = senders.choose(self.rng).copied().unwrap_or(0);
        let lang = self.cast.staff[s].lang;
        let (subject, text) = pick_pair(self.rng, letters::announcement(lang));
        let link = self.staff_link(s);
        let body = fill(text, &[("link", &link)]);
        let n = self.rng.gen_range(6..16);
        let to = self.many(s, lang, n);
        let days = self.days;
        let offset = self.cast.staff[s].offset;
        let ts = self.work_time(0, days, offset);
        let p = self.staff_writes(s, ts, "announcement", to, subject.to_string(), body, None);
        self.push(p, None);
    }

    // ---- hard ham ----------------------------------------------------

    fn desk_or_staff(&self, role: &str) -> usize {
        let lang_en = self.rng_free_bool();
        (0..self.cast.staff.len())
            .find(|&i| {
                self.cast.staff[i].desk.as_deref() == Some(role)
                    && (self.cast.staff[i].lang == Lang::En) == lang_en
            })
            .or_else(|| {
                (0..self.cast.staff.len())
                    .find(|&i| self.cast.staff[i].desk.as_deref() == Some(role))
            })
            .unwrap_or(0)
    }

    /// English three times in four, from the count so far (no draw: the
    /// desk chosen must not shift later draws).
    fn rng_free_bool(&self) -> bool {
        !self.count.is_multiple_of(4)
    }

    fn hard_ham(&mut self, kind: &'static str, t: i64, lo: i64, hi: i64) {
        match kind {
            "it_notice" | "hr_gift_card" => {
                let s = self.desk_or_staff(if kind == "it_notice" { "it" } else { "hr" });
                let lang = self.cast.staff[s].lang;
                let (subject, text) = if kind == "it_notice" {
                    words::it_notice(lang)
                } else {
                    words::hr_gift_card(lang)
                };
                let host = if kind == "it_notice" {
                    pick_string(self.rng, &self.world.sso_hosts)
                } else {
                    self.world
                        .intranet_hosts
                        .iter()
                        .find(|h| h.starts_with("benefits") || h.starts_with("intra."))
                        .cloned()
                        .unwrap_or_default()
                };
                let host = if self.cast.staff[s].link_hosts.contains(&host) || kind == "it_notice" {
                    host
                } else {
                    pick_string(self.rng, &self.cast.staff[s].link_hosts)
                };
                let link = self.link(&host);
                let n = self.rng.gen_range(6..14);
                let to = if kind == "it_notice" && self.rng.gen_bool(0.5) {
                    let c = self.colleague(s);
                    vec![self.person_of(c)]
                } else {
                    self.many(s, lang, n)
                };
                let first = first_name(&to[0].0);
                let body = fill(text, &[("link", &link), ("to", &first)]);
                let addr = self.cast.staff[s].person.address.clone();
                let ts = self.usual_time(&addr, lo, hi, self.cast.staff[s].offset);
                let p = self.staff_writes(s, ts, kind, to, subject.to_string(), body, None);
                self.push(p, None);
            }
            "forward_to_security" => {
                let s = self.active_staff();
                let lang = self.cast.staff[s].lang;
                let security = if lang == Lang::Ja {
                    self.world.desk("security", "ja")
                } else {
                    self.world.desk("security", "en")
                };
                let security = security.map_or(
                    ("Security Team".into(), "security@kestrelfoods.com".into()),
                    |p| (p.name, p.address),
                );
                let (ps, pt) = words::forwarded_phish(lang);
                let host = phish_host(self.rng, self.world);
                let link = self.link(&host);
                let phish_from = format!(
                    "IT Helpdesk <noreply@{}>",
                    pick_string(self.rng, &self.world.attacker_domains)
                );
                let addr = self.cast.staff[s].person.address.clone();
                let ts = self.usual_time(&addr, lo, hi, self.cast.staff[s].offset);
                let sent = rfc5322_date(ts - self.rng.gen_range(600..20_000), 0);
                let (from, sent_w, to_w, subj) = if lang == Lang::Ja {
                    ("差出人", "送信日時", "宛先", "件名")
                } else {
                    ("From", "Sent", "To", "Subject")
                };
                let note = fill(
                    words::forward_note(lang),
                    &[("sender", &first_name(&self.cast.staff[s].person.name))],
                );
                let body = format!(
                    "{note}\n\n-----Original Message-----\n{from}: {phish_from}\n{sent_w}: {sent}\n{to_w}: {addr}\n{subj}: {ps}\n\n{}",
                    fill(pt, &[("link", &link)])
                );
                let p =
                    self.staff_writes(s, ts, kind, vec![security], format!("FW: {ps}"), body, None);
                self.push(p, None);
            }
            "vendor_bank_change_genuine" => self.vendor_bank_change(t, lo, hi, None),
            _ => self.cfo_approval(lo, hi),
        }
    }

    /// A vendor thread with messages before `t`, from an established
    /// vendor (at least five earlier messages), when there is one.
    fn known_vendor_thread(&mut self, t: i64) -> Option<usize> {
        let fit: Vec<usize> = (0..self.threads.len())
            .filter(|&i| {
                let th = &self.threads[i];
                th.firm.is_some_and(|f| {
                    let firm = &self.cast.firms[f];
                    let established = firm.contacts.iter().any(|c| {
                        self.sent
                            .get(&c.address)
                            .is_some_and(|v| v.iter().filter(|&&x| x < t).count() >= 5)
                    });
                    firm.vendor && established && firm.domain != "coldchain-partners.eu"
                }) && th.msgs.first().is_some_and(|m| m.ts < t - DAY)
                    && th.msgs.iter().any(|m| !m.from.1.contains("@kestrelfoods."))
            })
            .collect();
        fit.choose(self.rng).copied()
    }

    /// A vendor's bank change in a thread: genuine (`attack` None) from its
    /// usual host at its usual hours, or its compromised mailbox's (with a
    /// Reply-To never seen, an odd hour or a new thread).
    fn vendor_bank_change(&mut self, t: i64, lo: i64, hi: i64, attack: Option<&'static str>) {
        let Some(th) = self.known_vendor_thread(t) else {
            // Too early or too small a timeline: an invoice instead.
            return self.fallback_invoice(t, attack);
        };
        let f = self.threads[th].firm.unwrap_or(0);
        let firm = self.cast.firms[f].clone();
        let said = self.threads[th].msgs.clone();
        let c = said
            .iter()
            .filter_map(|m| firm.contacts.iter().position(|p| p.address == m.from.1))
            .next()
            .unwrap_or(0);
        let contact = firm.contacts[c].clone();
        let staff_addr = said
            .iter()
            .find(|m| m.from.1.contains("@kestrelfoods."))
            .map(|m| m.from.clone())
            .or_else(|| self.owners[f].first().map(|&s| self.person_of(s)))
            .unwrap_or_default();
        let new_account = bank_account(self.rng, &firm.domain, firm.lang);
        let link = self.link(&firm.link_host);
        let text = words::bank_change(firm.lang, self.rng.gen_range(0..2));
        let body = fill(
            text,
            &[
                ("to", &first_name(&staff_addr.0)),
                ("account", &new_account),
                ("link", &link),
            ],
        );
        let mut in_thread = true;
        let mut reply_to = None;
        let ts = match attack {
            None => self.usual_time(&contact.address, lo, hi, firm.offset),
            Some(_) => {
                in_thread = self.rng.gen_bool(0.4);
                let odd = self.rng.gen_bool(0.45);
                // Most diversions route the replies elsewhere (the vendor
                // must not see the thread); the rest differ only in the
                // hour, or not at all.
                if self.rng.gen_bool(0.85) || (in_thread && !odd) {
                    let local = contact.address.split('@').next().unwrap_or("accounts");
                    let domain = if self.rng.gen_bool(0.5) {
                        pick_string(self.rng, &self.world.freemail)
                    } else {
                        let stem = firm.domain.split('.').next().unwrap_or("vendor");
                        format!("{stem}-payments.com")
                    };
                    let n = self.rng.gen_range(1..99);
                    reply_to = Some((contact.name.clone(), format!("{local}{n}@{domain}")));
                }
                if odd {
                    let day = (t - START) / DAY + 1;
                    START + day * DAY + self.rng.gen_range(3600..4 * 3600) - firm.offset * 3600
                } else {
                    self.usual_time(&contact.address, lo, hi, firm.offset)
                }
            }
        };
        let subject = if firm.lang == Lang::Ja {
            "振込先口座変更のお知らせ"
        } else {
            "Change of bank details"
        };
        let kind = attack.unwrap_or("vendor_bank_change_genuine");
        let mut p = self.firm_writes(f, c, ts, kind, vec![staff_addr], subject.into(), body);
        if in_thread {
            self.threaded(&mut p, th, firm.lang);
        }
        p.reply_to = reply_to;
        if attack.is_some() {
            p.label = Label::Bec;
            p.technique = Some(Technique::AccountCompromise);
            self.push(p, None);
        } else {
            // From now on its invoices give the new account.
            let old = firm.bank.clone();
            for q in self.out.iter_mut().filter(|q| {
                q.ts > ts && domain_of(&q.from.1) == firm.domain && q.body.contains(&old)
            }) {
                q.body = q.body.replace(&old, &new_account);
            }
            self.push(p, Some(th));
        }
    }

    /// When no vendor thread is old enough: an invoice of a vendor
    /// (genuine), or for an attack the same invoice with another account.
    fn fallback_invoice(&mut self, t: i64, attack: Option<&'static str>) {
        let (f, s) = self.firm_pick(true);
        let firm = self.cast.firms[f].clone();
        let account = if attack.is_some() {
            bank_account(self.rng, &firm.domain, firm.lang)
        } else {
            firm.bank.clone()
        };
        let link = self.link(&firm.link_host);
        let text = words::bank_change(firm.lang, 0);
        let to = self.person_of(s);
        let body = fill(
            text,
            &[
                ("to", &first_name(&to.0)),
                ("account", &account),
                ("link", &link),
            ],
        );
        let kind = attack.unwrap_or("vendor_bank_change_genuine");
        let mut p = self.firm_writes(
            f,
            0,
            t,
            kind,
            vec![to],
            "Change of bank details".into(),
            body,
        );
        if let Some(a) = attack {
            p.label = Label::Bec;
            p.technique = Some(if a == "vendor_lookalike_thread" {
                Technique::LookalikeDomain
            } else {
                Technique::AccountCompromise
            });
        }
        self.push(p, None);
    }

    fn cfo_approval(&mut self, lo: i64, hi: i64) {
        let en = self.rng_free_bool();
        let lang = if en { Lang::En } else { Lang::Ja };
        let cfo = (0..self.cast.staff.len())
            .find(|&i| {
                let t = &self.cast.staff[i].person.title;
                self.cast.staff[i].lang == lang && (t == "CFO" || t == "経理部長")
            })
            .unwrap_or(0);
        let finance: Vec<usize> = (0..self.cast.staff.len())
            .filter(|&i| {
                i != cfo
                    && self.cast.staff[i].lang == lang
                    && self.cast.staff[i].role() == Role::Finance
                    && self.cast.staff[i].desk.is_none()
            })
            .collect();
        let asker = finance.choose(self.rng).copied().unwrap_or((cfo + 1) % 3);
        let (subject, text) = words::approval_request(lang);
        let mut v = self.values(lang);
        v.push(("to", first_name(&self.cast.staff[cfo].person.name)));
        let link = self.staff_link(asker);
        v.push(("link", link));
        let vals: Vec<(&str, &str)> = v.iter().map(|(k, x)| (*k, x.as_str())).collect();
        let vendor = vals
            .iter()
            .find(|(k, _)| *k == "vendor")
            .map_or(String::new(), |(_, x)| (*x).to_string());
        let subject = fill(subject, &vals);
        let body = fill(text, &vals);
        let th = self.new_thread(None, &subject);
        let addr = self.cast.staff[asker].person.address.clone();
        let offset = self.cast.staff[asker].offset;
        let ts = self.usual_time(&addr, lo, hi - DAY, offset);
        let to = vec![self.person_of(cfo)];
        let p = self.staff_writes(asker, ts, "internal", to, subject, body, None);
        self.push(p, Some(th));
        let ts = self.after(ts, self.cast.staff[cfo].offset);
        let body = fill(
            words::cfo_approval(lang),
            &[
                ("to", &first_name(&self.cast.staff[asker].person.name)),
                ("vendor", &vendor),
            ],
        );
        let to = vec![self.person_of(asker)];
        let mut p = self.staff_writes(
            cfo,
            ts,
            "cfo_approval_in_thread",
            to,
            String::new(),
            body,
            None,
        );
        self.threaded(&mut p, th, lang);
        self.push(p, Some(th));
    }

    // ---- attacks -----------------------------------------------------

    /// A busy mailbox with at least `min` messages before `t`.
    fn victim(&mut self, t: i64, min: usize) -> usize {
        let fit: Vec<usize> = (0..self.cast.staff.len())
            .filter(|&i| self.cast.staff[i].desk.is_none())
            .filter(|&i| {
                self.sent
                    .get(&self.cast.staff[i].person.address)
                    .is_some_and(|v| v.iter().filter(|&&x| x < t).count() >= min)
            })
            .collect();
        match fit.choose(self.rng) {
            Some(&v) => v,
            None => self.active_staff(),
        }
    }

    /// A /24 of the roaming families the mailbox never wrote from.
    fn unused_net(&mut self, s: usize) -> String {
        let used = self
            .nets
            .get(&self.cast.staff[s].person.address)
            .cloned()
            .unwrap_or_default();
        loop {
            let n = roaming_net(self.rng);
            if !used.contains(&n) && !self.cast.staff[s].networks.contains(&n) {
                return n;
            }
        }
    }

    fn attack(&mut self, kind: &'static str, t: i64, lo: i64, hi: i64) {
        match kind {
            "takeover_new_network" | "takeover_odd_hours" => {
                let odd = kind == "takeover_odd_hours";
                let s = self.victim(t, if odd { 20 } else { 5 });
                let m = self.cast.staff[s].clone();
                let target = {
                    let finance: Vec<usize> = (0..self.cast.staff.len())
                        .filter(|&i| {
                            i != s
                                && self.cast.staff[i].lang == m.lang
                                && self.cast.staff[i].role() == Role::Finance
                        })
                        .collect();
                    match finance.choose(self.rng) {
                        Some(&f) if self.rng.gen_bool(0.6) => f,
                        _ => self.colleague(s),
                    }
                };
                let ask = if odd {
                    2 * usize::from(self.rng.gen_bool(0.7))
                } else {
                    self.rng.gen_range(0..3)
                };
                let (subject, text) = words::takeover(m.lang, ask);
                let host = phish_host(self.rng, self.world);
                let link = self.link(&host);
                let account = bank_account(self.rng, "new-supplier.com", m.lang);
                let body = fill(
                    text,
                    &[
                        ("to", &first_name(&self.cast.staff[target].person.name)),
                        ("link", &link),
                        ("account", &account),
                    ],
                );
                let (ts, route) = if odd {
                    // A weekend night, 02:00–04:00 local, usual network.
                    let mut day = START + ((t - START) / DAY) * DAY;
                    while weekday(day) < 5 {
                        day += DAY;
                    }
                    let ts = day + self.rng.gen_range(2 * 3600..4 * 3600) - m.offset * 3600;
                    let net = m.networks.last().cloned().unwrap_or_default();
                    (ts, self.staff_route_from(s, &net, m.client))
                } else {
                    let net = self.unused_net(s);
                    let client = if self.rng.gen_bool(0.5) {
                        *OTHER_CLIENTS
                            .iter()
                            .filter(|c| c.1 != m.client.1)
                            .collect::<Vec<_>>()
                            .choose(self.rng)
                            .copied()
                            .unwrap_or(&m.client)
                    } else {
                        m.client
                    };
                    let ts = self.usual_time(&m.person.address, lo, hi, m.offset);
                    (ts, self.staff_route_from(s, &net, client))
                };
                let to = vec![self.person_of(target)];
                let mut p = self.staff_writes(s, ts, kind, to, subject.into(), body, Some(route));
                p.label = if ask == 2 { Label::Phish } else { Label::Bec };
                p.technique = Some(Technique::AccountCompromise);
                self.push(p, None);
            }
            "internal_phish_wave" => {
                let s = self.victim(t, 5);
                let m = self.cast.staff[s].clone();
                let (subject, text) = words::phish_wave(m.lang);
                let host = phish_host(self.rng, self.world);
                let link = self.link(&host);
                let body = fill(text, &[("link", &link)]);
                let n = self.rng.gen_range(10..18);
                let to = self.many(s, m.lang, n);
                let ts = self.usual_time(&m.person.address, lo, hi, m.offset);
                let route = if self.rng.gen_bool(0.5) {
                    let net = self.unused_net(s);
                    Some(self.staff_route_from(s, &net, m.client))
                } else {
                    None
                };
                let mut p = self.staff_writes(s, ts, kind, to, subject.into(), body, route);
                p.label = Label::Phish;
                p.technique = Some(Technique::AccountCompromise);
                self.push(p, None);
            }
            "vendor_compromise_bank_change" => self.vendor_bank_change(t, lo, hi, Some(kind)),
            "vendor_lookalike_thread" => self.lookalike_thread(t),
            _ => self.impersonation(t),
        }
    }

    fn lookalike_thread(&mut self, t: i64) {
        let Some(th) = self.known_vendor_thread(t) else {
            return self.fallback_invoice(t, Some("vendor_lookalike_thread"));
        };
        let f = self.threads[th].firm.unwrap_or(0);
        let firm = self.cast.firms[f].clone();
        let fake = lookalike(self.rng, &firm.domain, self.cast);
        let contact = firm.contacts[0].clone();
        let local = contact.address.split('@').next().unwrap_or("accounts");
        let from = (contact.name.clone(), format!("{local}@{fake}"));
        let said: Vec<Said> = self.threads[th]
            .msgs
            .iter()
            .filter(|m| m.ts < t)
            .cloned()
            .collect();
        let staff = said
            .iter()
            .find(|m| m.from.1.contains("@kestrelfoods."))
            .map(|m| m.from.clone())
            .unwrap_or_default();
        let account = bank_account(self.rng, &firm.domain, firm.lang);
        let link = self.link(&format!("portal.{fake}"));
        let text = words::bank_change(firm.lang, self.rng.gen_range(0..2));
        let mut body = fill(
            text,
            &[
                ("to", &first_name(&staff.0)),
                ("account", &account),
                ("link", &link),
            ],
        );
        body.push_str(&self.signature(&contact.name, "", &firm.company));
        if let Some(last) = said.last() {
            let q = self.quote(last, firm.lang);
            body.push_str(&q);
        }
        let ts = self.work_time((t - START) / DAY, (t - START) / DAY + 1, firm.offset);
        let route = Route::Inbound {
            helo: format!("mail.{fake}"),
            ip: format!(
                "{}.{}",
                ["192.0.2", "198.51.100", "203.0.113"][self.rng.gen_range(0..3)],
                self.rng.gen_range(2..250)
            ),
            mail_from: from.1.clone(),
            dkim: Some(fake.clone()),
        };
        let id = self.new_id(&fake);
        let in_reply_to = self
            .rng
            .gen_bool(0.5)
            .then(|| format!("{}.{:x}@{}", hex(self.rng, 16), self.count + 7, firm.domain));
        let references = in_reply_to.iter().cloned().collect();
        let p = Planned {
            ts,
            offset: firm.offset,
            kind: "vendor_lookalike_thread",
            label: Label::Bec,
            technique: Some(Technique::LookalikeDomain),
            from,
            to: vec![staff],
            cc: Vec::new(),
            subject: format!("RE: {}", self.threads[th].subject),
            body,
            id,
            in_reply_to,
            references,
            reply_to: None,
            route,
            extra: vec![("X-Mailer".into(), "Microsoft Outlook 16.0".into())],
            html: false,
        };
        self.push(p, None);
    }

    fn impersonation(&mut self, t: i64) {
        let execs: Vec<usize> = (0..self.cast.staff.len())
            .filter(|&i| {
                let title = &self.cast.staff[i].person.title;
                ["CEO", "CFO", "代表取締役"].contains(&title.as_str())
            })
            .collect();
        let e = execs.choose(self.rng).copied().unwrap_or(0);
        let m = self.cast.staff[e].clone();
        let domain = if m.lang == Lang::Ja {
            ["yahoo.co.jp", "gmail.com"][self.rng.gen_range(0..2)].to_string()
        } else {
            pick_string(self.rng, &self.world.freemail)
        };
        let local = m.person.address.split('@').next().unwrap_or("office");
        let suffix = ["", ".office", ".exec", ".private"][self.rng.gen_range(0..4)];
        let n = self.rng.gen_range(1..99);
        let address = format!("{}{suffix}{n}@{domain}", local.replace('.', "_"));
        let target = {
            let finance: Vec<usize> = (0..self.cast.staff.len())
                .filter(|&i| {
                    i != e
                        && self.cast.staff[i].lang == m.lang
                        && self.cast.staff[i].role() == Role::Finance
                })
                .collect();
            finance
                .choose(self.rng)
                .copied()
                .unwrap_or_else(|| self.colleague(e))
        };
        let ask = self.rng.gen_range(0..2);
        let (subject, text) = words::impersonation(m.lang, ask);
        let body = fill(
            text,
            &[("to", &first_name(&self.cast.staff[target].person.name))],
        );
        let offset = if m.lang == Lang::Ja { 9 } else { 0 };
        let ts = self.work_time((t - START) / DAY, (t - START) / DAY + 1, offset);
        let route = self.freemail_route(&address);
        let id = self.new_id(&domain);
        let p = Planned {
            ts,
            offset,
            kind: "first_contact_impersonation",
            label: Label::Bec,
            technique: Some(Technique::FreemailImpersonation),
            from: (m.person.name.clone(), address),
            to: vec![self.person_of(target)],
            cc: Vec::new(),
            subject: subject.into(),
            body,
            id,
            in_reply_to: None,
            references: Vec::new(),
            reply_to: None,
            route,
            extra: Vec::new(),
            html: false,
        };
        self.push(p, None);
    }
}

fn pick_pair(
    rng: &mut ChaCha8Rng,
    pool: &[(&'static str, &'static str)],
) -> (&'static str, &'static str) {
    pool.choose(rng).copied().unwrap_or(("", ""))
}

/// A one-letter edit of the first label of `domain` that is no firm's
/// domain: a letter swapped for a look-alike, doubled or dropped.
pub fn lookalike(rng: &mut ChaCha8Rng, domain: &str, cast: &Cast) -> String {
    let (label, rest) = domain.split_once('.').unwrap_or((domain, "com"));
    let chars: Vec<char> = label.chars().collect();
    for _ in 0..50 {
        let i = rng.gen_range(0..chars.len().max(1));
        let Some(&c) = chars.get(i) else { break };
        if !c.is_ascii_lowercase() {
            continue;
        }
        let mut out = chars.clone();
        match rng.gen_range(0..3) {
            0 => {
                let swap = match c {
                    'l' => 'i',
                    'i' => 'l',
                    'o' => '0',
                    'e' => 'a',
                    'a' => 'e',
                    'n' => 'm',
                    'm' => 'n',
                    'u' => 'v',
                    'c' => 'e',
                    _ => continue,
                };
                out[i] = swap;
            }
            1 => out.insert(i, c),
            _ => {
                out.remove(i);
            }
        }
        let candidate = format!("{}.{rest}", out.iter().collect::<String>());
        if candidate != domain && cast.firms.iter().all(|f| f.domain != candidate) {
            return candidate;
        }
    }
    format!("{label}-invoices.{rest}")
}
