//! Hard ham: honest mail that looks like an attack, so that a model trained
//! on the generator stops flagging it. A namesake of an executive posting
//! to a public list from free mail; SaaS notifications that carry
//! colleagues' and executives' names from the provider's domain; the org's
//! own IT and HR notices with lure words; an employee forwarding a phish
//! to the security mailbox; a CFO's wire approval in a known thread; a
//! vendor's genuine bank change from its own, aligned domain; list mail
//! that fails DMARC under the poster's `p=none` because the list changed
//! it.
//!
//! Each is delivered and authenticated as its real kind is, and shares
//! dates, hosts, address pools and URL shapes with the attacks: what tells
//! them from an account-compromise attack is only what tells real mail
//! apart (links to the org's own hosts or the provider's, no Reply-To
//! outside, a thread of the org's own message ids).

use super::carrier::Carrier;
use super::compose::{
    dkim_signature, doc_ip, header_text, hex, mailbox, received, rfc5322_date,
    set_body_with_attachments, Attachment, Draft, Layout,
};
use super::ham::{people, timestamp, Ham};
use super::payload::{self, Payload};
use super::template::{Lang, Template, Templates};
use super::unusual::HamVariant;
use super::values::{url, Values};
use super::verdicts::{arc_set, DkimVerdict, MxVerdicts};
use super::world::{colleague, Bulk, Person, World};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Writes one hard ham message of `kind`, one of
/// [`HARD_HAM_KINDS`](super::template::HARD_HAM_KINDS).
pub fn hard_ham(
    rng: &mut ChaCha8Rng,
    world: &World,
    templates: &Templates,
    kind: &'static str,
) -> Ham {
    match kind {
        "namesake_freemail_list" | "list_dmarc_none_failure" => {
            list_post(rng, world, templates, kind)
        }
        "saas_notification" => saas_notification(rng, world, templates),
        "it_notice" => desk_notice(rng, world, templates, kind, "it"),
        "hr_programme" => desk_notice(rng, world, templates, kind, "hr"),
        "security_forward" => security_forward(rng, world, templates),
        "wire_approval_thread" => wire_approval(rng, world, templates),
        _ => vendor_bank_change(rng, world, templates),
    }
}

/// A message as the org's MX received it, field by field.
struct Delivery {
    envelope: String,
    verdicts: MxVerdicts,
    /// Received fields, the MX's own (the boundary) first.
    received: Vec<String>,
    /// The ARC set a list sealed.
    arc: Vec<(String, String)>,
    signatures: Vec<String>,
    /// Fields between the signatures and From: a list's, Sender.
    fields: Vec<(&'static str, String)>,
    from: String,
    reply_to: Option<String>,
    to: String,
    subject: String,
    date: String,
    message_id: String,
    /// The thread's message ids, oldest first: References; the last is
    /// In-Reply-To.
    thread: Vec<String>,
}

impl Delivery {
    /// The message in the order the rest of the generator writes fields:
    /// the MX's verdicts above its own Received field.
    fn draft(self, rng: &mut ChaCha8Rng, mx: &str, layout: Layout, body: &str) -> Draft {
        self.draft_with(rng, mx, layout, body, &[])
    }

    /// [`Delivery::draft`] with `attachments` after the body.
    fn draft_with(
        self,
        rng: &mut ChaCha8Rng,
        mx: &str,
        layout: Layout,
        body: &str,
        attachments: &[Attachment],
    ) -> Draft {
        let mut d = Draft::default();
        d.push("Return-Path", format!("<{}>", self.envelope));
        d.push("Authentication-Results", self.verdicts.header(mx));
        for r in self.received {
            d.push("Received", r);
        }
        for (n, v) in self.arc {
            d.push(&n, v);
        }
        for s in self.signatures {
            d.push("DKIM-Signature", s);
        }
        for (n, v) in self.fields {
            d.push(n, v);
        }
        d.push("From", self.from);
        if let Some(r) = self.reply_to {
            d.push("Reply-To", r);
        }
        d.push("To", self.to);
        d.push("Subject", header_text(&self.subject));
        d.push("Date", self.date);
        d.push("Message-ID", self.message_id);
        if let Some(parent) = self.thread.last() {
            d.push("In-Reply-To", parent.clone());
            d.push("References", self.thread.join("\n "));
        }
        set_body_with_attachments(&mut d, rng, layout, body, "", attachments);
        d
    }
}

/// The message's times: (written, its Date in the writer's zone, the
/// MX's delivery time).
fn dates(rng: &mut ChaCha8Rng, lang: Lang) -> (i64, String, String) {
    let ts = timestamp(rng);
    let offset = if lang == Lang::Ja { 9 } else { 0 };
    let date = rfc5322_date(ts, offset);
    let delivered = rfc5322_date(ts + rng.gen_range(2..90), 0);
    (ts, date, delivered)
}

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Ja => "ja",
    }
}

fn template<'t>(rng: &mut ChaCha8Rng, templates: &'t Templates, kind: &str) -> &'t Template {
    let choices: Vec<&Template> = templates.ham.iter().filter(|t| t.kind == kind).collect();
    choices
        .choose(rng)
        .copied()
        .expect("every ham kind has templates (tested)")
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// A Message-ID as the org's and its correspondents' clients write them.
fn message_id(rng: &mut ChaCha8Rng, domain: &str) -> String {
    format!("<{}.{}@{domain}>", hex(rng, 12), hex(rng, 6))
}

/// The world's executives among `staff` (CEO, CFO, 代表取締役).
fn executives(staff: &[Person]) -> Vec<&Person> {
    staff
        .iter()
        .filter(|p| ["CEO", "CFO", "代表取締役"].contains(&p.title.as_str()))
        .collect()
}

/// Who handles payments among `staff`: executives and finance.
fn finance(staff: &[Person]) -> Vec<Person> {
    const TITLES: &[&str] = &[
        "CEO",
        "CFO",
        "Accounts Payable Manager",
        "Treasury Analyst",
        "代表取締役",
        "経理部長",
        "購買課長",
    ];
    staff
        .iter()
        .filter(|p| TITLES.contains(&p.title.as_str()))
        .cloned()
        .collect()
}

/// Mail written inside the org and submitted to its MX, as the org's
/// other internal mail (and a compromised mailbox's) is: the route, the
/// envelope, the MX's verdicts and, half the time, the relay's signature.
fn internal_delivery(
    rng: &mut ChaCha8Rng,
    world: &World,
    sender: &Person,
    delivered: &str,
) -> (String, MxVerdicts, Vec<String>, Vec<String>) {
    let d = sender.domain();
    let ip = format!("10.20.{}.{}", rng.gen_range(0..8), rng.gen_range(2..250));
    let hop = received(rng, &format!("[{ip}]"), &ip, &world.mx, delivered, true);
    let signed = rng.gen_bool(0.5);
    let verdicts = MxVerdicts::new(
        ("pass", d),
        signed.then_some(("pass", d)),
        ("pass", d, world.dmarc_policy_of(d)),
    );
    let signatures = if signed {
        vec![dkim_signature(rng, d)]
    } else {
        Vec::new()
    };
    (sender.address.clone(), verdicts, vec![hop], signatures)
}

/// A hop below the MX's: the author's client submitting to its own
/// server, a little before delivery.
fn submission(rng: &mut ChaCha8Rng, by: &str, ts: i64) -> String {
    let ip = doc_ip(rng);
    let date = rfc5322_date(ts + rng.gen_range(0..2), 0);
    received(rng, &format!("[{ip}]"), &ip, by, &date, true)
}

fn ham_of(
    draft: Draft,
    layout: Layout,
    recipient: Person,
    lang: Lang,
    kind: &'static str,
    variant: HamVariant,
) -> Ham {
    Ham {
        carrier: Carrier {
            draft,
            layout,
            extra: String::new(),
            recipient,
            lang,
        },
        kind,
        variant,
        payload: Payload::Body,
    }
}

/// The org's IT (`role` `it`) or HR (`hr`) notice: from its role mailbox
/// or the person who runs it, authenticated inside the org, linking to the
/// org's own sign-in or intranet only.
fn desk_notice(
    rng: &mut ChaCha8Rng,
    world: &World,
    templates: &Templates,
    kind: &'static str,
    role: &str,
) -> Ham {
    let t = template(rng, templates, kind);
    let (lang, code) = (t.lang, lang_code(t.lang));
    let staff = people(world, lang);
    let recipient = staff.choose(rng).cloned().expect("world has employees");
    let desk = world
        .desk(role, code)
        .expect("the world has the desk (tested)");
    let person = world
        .desk_staff(role, code)
        .filter(|p| p.address != recipient.address)
        .cloned();
    let sender = match person {
        Some(p) if rng.gen_bool(0.4) => p,
        _ => desk.clone(),
    };
    let (_, date, delivered) = dates(rng, lang);
    let hosts = if role == "it" {
        &world.sso_hosts
    } else {
        &world.intranet_hosts
    };
    let host = hosts.choose(rng).cloned().unwrap_or_default();
    let link = url(rng, &host);
    let values = Values::new(rng, world, lang, &sender, &recipient, &link);
    let (subject, body) = values.render(t);
    let (envelope, verdicts, received, signatures) =
        internal_delivery(rng, world, &sender, &delivered);
    // A person sending for the desk points replies back to it.
    let reply_to = (sender.address != desk.address && rng.gen_bool(0.5))
        .then(|| mailbox(&desk.name, &desk.address));
    let to = if role == "hr" && rng.gen_bool(0.3) {
        let (name, local) = match lang {
            Lang::En => ("All Staff", "all-staff"),
            Lang::Ja => ("全社員", "all"),
        };
        mailbox(name, &format!("{local}@{}", recipient.domain()))
    } else {
        mailbox(&recipient.name, &recipient.address)
    };
    let layout = if rng.gen_bool(0.7) {
        Layout::Alternative
    } else {
        Layout::Plain
    };
    let delivery = Delivery {
        envelope,
        verdicts,
        received,
        arc: Vec::new(),
        signatures,
        fields: Vec::new(),
        from: mailbox(&sender.name, &sender.address),
        reply_to,
        to,
        subject,
        date,
        message_id: message_id(rng, sender.domain()),
        thread: Vec::new(),
    };
    let draft = delivery.draft(rng, &world.mx, layout, &body);
    ham_of(draft, layout, recipient, lang, kind, HamVariant::Plain)
}

/// An employee forwards a phish they received to the security mailbox:
/// the lure, its sender and its link quoted below their note.
fn security_forward(rng: &mut ChaCha8Rng, world: &World, templates: &Templates) -> Ham {
    let kind = "security_forward";
    let t = template(rng, templates, kind);
    let (lang, code) = (t.lang, lang_code(t.lang));
    let staff = people(world, lang);
    let reporter = staff.choose(rng).cloned().expect("world has employees");
    let security = world
        .desk("security", code)
        .expect("the world has a security desk (tested)");
    let (ts, date, delivered) = dates(rng, lang);
    // The phish as it reached the reporter: an imitation of an executive
    // or of the IT desk, from an attacker's domain or free mail.
    // Most phish staff report are after credentials, and link to them.
    let credential = rng.gen_bool(0.7);
    let lures: Vec<&Template> = templates
        .lures
        .iter()
        .filter(|l| l.lang == lang && (!credential || l.kind == "credential_phish"))
        .collect();
    let lure = *lures.choose(rng).expect("lures in both languages (tested)");
    let claimed = match executives(staff).choose(rng) {
        Some(p) if rng.gen_bool(0.6) => (*p).clone(),
        _ => Person {
            name: match lang {
                Lang::En => "IT Service Desk".into(),
                Lang::Ja => "情報システム部".into(),
            },
            address: String::new(),
            title: String::new(),
            company: String::new(),
        },
    };
    let local = if claimed.address.is_empty() {
        ["it-support", "helpdesk", "no-reply", "admin"][rng.gen_range(0..4)].to_string()
    } else {
        claimed
            .address
            .split('@')
            .next()
            .unwrap_or("")
            .replace('.', "")
    };
    let phish_domain = if rng.gen_bool(0.5) {
        world.attacker_domains.choose(rng)
    } else {
        world.freemail.choose(rng)
    }
    .cloned()
    .unwrap_or_default();
    let phish_address = format!("{local}@{phish_domain}");
    let phish_host = world.phish_hosts.choose(rng).cloned().unwrap_or_default();
    let phish_link = url(rng, &phish_host);
    let lure_values = Values::new(rng, world, lang, &claimed, &reporter, &phish_link);
    let (lure_subject, lure_body) = lure_values.render(lure);
    let received_at = rfc5322_date(
        ts - rng.gen_range(300..172_800),
        if lang == Lang::Ja { 9 } else { 0 },
    );
    let block = match (lang, rng.gen_bool(0.5)) {
        (Lang::En, true) => format!(
            "---------- Forwarded message ---------\nFrom: {} <{phish_address}>\nDate: {received_at}\nSubject: {lure_subject}\nTo: {} <{}>\n\n{lure_body}",
            claimed.name, reporter.name, reporter.address
        ),
        (Lang::En, false) => format!(
            "-----Original Message-----\nFrom: {} <{phish_address}>\nSent: {received_at}\nTo: {} <{}>\nSubject: {lure_subject}\n\n{lure_body}",
            claimed.name, reporter.name, reporter.address
        ),
        (Lang::Ja, _) => format!(
            "---------- 転送メッセージ ----------\n差出人: {} <{phish_address}>\n日付: {received_at}\n件名: {lure_subject}\n宛先: {} <{}>\n\n{lure_body}",
            claimed.name, reporter.name, reporter.address
        ),
    };
    let intranet = world
        .intranet_hosts
        .choose(rng)
        .cloned()
        .unwrap_or_default();
    let link = url(rng, &intranet);
    let mut values = Values::new(rng, world, lang, &reporter, &security, &link);
    values.set("forwarded_subject", lure_subject);
    let (subject, note) = values.render(t);
    let body = format!("{}\n\n{block}", note.trim_end());
    let (envelope, verdicts, received, signatures) =
        internal_delivery(rng, world, &reporter, &delivered);
    let layout = if rng.gen_bool(0.5) {
        Layout::Alternative
    } else {
        Layout::Plain
    };
    let delivery = Delivery {
        envelope,
        verdicts,
        received,
        arc: Vec::new(),
        signatures,
        fields: Vec::new(),
        from: mailbox(&reporter.name, &reporter.address),
        reply_to: None,
        to: mailbox(&security.name, &security.address),
        subject,
        date,
        message_id: message_id(rng, reporter.domain()),
        thread: Vec::new(),
    };
    let draft = delivery.draft(rng, &world.mx, layout, &body);
    ham_of(draft, layout, security, lang, kind, HamVariant::Plain)
}

/// A thread of `n` earlier message ids of `domain`.
fn thread(rng: &mut ChaCha8Rng, domains: &[&str]) -> Vec<String> {
    domains.iter().map(|d| message_id(rng, d)).collect()
}

/// Subjects of replies start with Re: (a template may already say so).
fn reply_subject(subject: String) -> String {
    let lower = subject.to_ascii_lowercase();
    if lower.starts_with("re:") || lower.starts_with("re：") {
        subject
    } else {
        format!("Re: {subject}")
    }
}

/// The CFO (or finance, or the CEO) approves a payment in a thread the org
/// started: internal, authenticated, In-Reply-To and References of the
/// org's own earlier messages.
fn wire_approval(rng: &mut ChaCha8Rng, world: &World, templates: &Templates) -> Ham {
    let kind = "wire_approval_thread";
    let t = template(rng, templates, kind);
    let lang = t.lang;
    let staff = people(world, lang);
    let pool = finance(staff);
    let pool = if pool.len() >= 2 {
        pool
    } else {
        staff.to_vec()
    };
    let sender = pool.choose(rng).cloned().expect("employees");
    let recipient = colleague(rng, &pool, &sender).clone();
    let (_, date, delivered) = dates(rng, lang);
    let host = world
        .intranet_hosts
        .choose(rng)
        .cloned()
        .unwrap_or_default();
    let link = url(rng, &host);
    let values = Values::new(rng, world, lang, &sender, &recipient, &link);
    let (subject, body) = values.render(t);
    let domain = sender.domain().to_string();
    let depth = rng.gen_range(1..4);
    let ids = thread(rng, &vec![domain.as_str(); depth]);
    let (envelope, verdicts, received, signatures) =
        internal_delivery(rng, world, &sender, &delivered);
    let delivery = Delivery {
        envelope,
        verdicts,
        received,
        arc: Vec::new(),
        signatures,
        fields: Vec::new(),
        from: mailbox(&sender.name, &sender.address),
        reply_to: None,
        to: mailbox(&recipient.name, &recipient.address),
        subject: reply_subject(subject),
        date,
        message_id: message_id(rng, &domain),
        thread: ids,
    };
    let draft = delivery.draft(rng, &world.mx, Layout::Plain, &body);
    ham_of(
        draft,
        Layout::Plain,
        recipient,
        lang,
        kind,
        HamVariant::Plain,
    )
}

/// A known vendor's genuine notice of new bank details, from its own
/// domain (SPF, DKIM and DMARC aligned and passing), in reply to the
/// org's message in their thread.
fn vendor_bank_change(rng: &mut ChaCha8Rng, world: &World, templates: &Templates) -> Ham {
    let kind = "vendor_bank_change_thread";
    let t = template(rng, templates, kind);
    let lang = t.lang;
    let staff = people(world, lang);
    // Vendors writing the template's language; not the org's own bank.
    let vendors: Vec<&Person> = world
        .external
        .iter()
        .filter(|p| p.name.is_ascii() == (lang == Lang::En) && p.domain() != "harvestbank.com")
        .collect();
    let vendor = vendors
        .choose(rng)
        .map_or_else(|| world.external[0].clone(), |p| (*p).clone());
    let payables = finance(staff);
    let recipient = payables
        .choose(rng)
        .cloned()
        .unwrap_or_else(|| staff[0].clone());
    let (ts, date, delivered) = dates(rng, lang);
    let d = vendor.domain().to_string();
    let link = url(rng, &format!("www.{d}"));
    let values = Values::new(rng, world, lang, &vendor, &recipient, &link);
    let (subject, body) = values.render(t);
    // The vendor's server, its own or its Microsoft 365 tenant's.
    let server = if rng.gen_bool(0.5) {
        format!("mail.{d}")
    } else {
        format!("mail-{}.outbound.protection.outlook.com", hex(rng, 6))
    };
    let ip = doc_ip(rng);
    let hop = received(rng, &server, &ip, &world.mx, &delivered, false);
    let lower = submission(rng, &server, ts);
    let policy = world.dmarc_policy_of(&d).to_string();
    let verdicts = MxVerdicts::new(("pass", &d), Some(("pass", &d)), ("pass", &d, &policy));
    let signatures = vec![dkim_signature(rng, &d)];
    // Their earlier message, and the org's answer this one replies to.
    let ids = thread(rng, &[d.as_str(), recipient.domain()]);
    let delivery = Delivery {
        envelope: vendor.address.clone(),
        verdicts,
        received: vec![hop, lower],
        arc: Vec::new(),
        signatures,
        fields: Vec::new(),
        from: mailbox(&vendor.name, &vendor.address),
        reply_to: None,
        to: mailbox(&recipient.name, &recipient.address),
        subject: reply_subject(subject),
        date,
        message_id: message_id(rng, &d),
        thread: ids,
    };
    let layout = if rng.gen_bool(0.6) {
        Layout::Alternative
    } else {
        Layout::Plain
    };
    let draft = delivery.draft(rng, &world.mx, layout, &body);
    ham_of(draft, layout, recipient, lang, kind, HamVariant::Plain)
}

/// A SaaS provider tells an employee what a colleague (an executive as
/// often as not) did: the colleague's name in the display name and the
/// body, the provider's domain or the org's tenant on it in From, signed
/// by the provider, links to the provider over https.
fn saas_notification(rng: &mut ChaCha8Rng, world: &World, templates: &Templates) -> Ham {
    let kind = "saas_notification";
    let t = template(rng, templates, kind);
    let lang = t.lang;
    let staff = people(world, lang);
    let recipient = staff.choose(rng).cloned().expect("world has employees");
    let actor = match executives(staff).choose(rng) {
        Some(p) if p.address != recipient.address && rng.gen_bool(0.45) => (*p).clone(),
        _ => colleague(rng, staff, &recipient).clone(),
    };
    let providers: Vec<_> = world.saas.iter().filter(|s| s.notice == t.notice).collect();
    let provider = *providers
        .choose(rng)
        .expect("a provider for every notice (tested)");
    let (_, date, delivered) = dates(rng, lang);
    let shown = if provider.via.is_empty() {
        actor.name.clone()
    } else {
        format!("{} {}", actor.name, provider.via)
    };
    let sender = Person {
        name: actor.name.clone(),
        address: provider.address.clone(),
        title: actor.title.clone(),
        company: actor.company.clone(),
    };
    let link = url(rng, &provider.link_host);
    let mut values = Values::new(rng, world, lang, &sender, &recipient, &link);
    values.set("service", provider.product.clone());
    values.set("ticket_no", rng.gen_range(1_000..99_999).to_string());
    let (subject, body) = values.render(t);
    let from_domain = domain_of(&provider.address).to_string();
    let env_domain = domain_of(&provider.return_path).to_string();
    let helo = format!("mail-{}.{}", hex(rng, 6), provider.mta);
    let ip = doc_ip(rng);
    let hop = received(rng, &helo, &ip, &world.mx, &delivered, false);
    let policy = world.dmarc_policy_of(&from_domain).to_string();
    let verdicts = MxVerdicts::new(
        ("pass", &env_domain),
        Some(("pass", &provider.dkim)),
        ("pass", &from_domain, &policy),
    );
    let signatures = vec![dkim_signature(rng, &provider.dkim)];
    let mut fields = Vec::new();
    if provider.unsubscribe {
        fields.push((
            "List-Unsubscribe",
            format!(
                "<https://{}/unsubscribe/{}>",
                provider.link_host,
                hex(rng, 16)
            ),
        ));
    }
    let reply_to = provider
        .reply_to_actor
        .then(|| mailbox(&actor.name, &actor.address));
    let delivery = Delivery {
        envelope: provider.return_path.clone(),
        verdicts,
        received: vec![hop],
        arc: Vec::new(),
        signatures,
        fields,
        from: mailbox(&shown, &provider.address),
        reply_to,
        to: mailbox(&recipient.name, &recipient.address),
        subject,
        date,
        message_id: message_id(rng, &from_domain),
        thread: Vec::new(),
    };
    let draft = delivery.draft(rng, &world.mx, Layout::Alternative, &body);
    ham_of(
        draft,
        Layout::Alternative,
        recipient,
        lang,
        kind,
        HamVariant::Plain,
    )
}

/// A post to a public list the org subscribes to, as the list delivers
/// it: for `namesake_freemail_list` by someone who shares an executive's
/// name, from free mail, through any list of the language; for
/// `list_dmarc_none_failure` by a member whose domain publishes `p=none`,
/// through a list that changes posts (footer, subject tag) and seals ARC,
/// so the poster's DKIM breaks and DMARC fails at the org.
fn list_post(
    rng: &mut ChaCha8Rng,
    world: &World,
    templates: &Templates,
    kind: &'static str,
) -> Ham {
    let t = template(rng, templates, kind);
    let (lang, code) = (t.lang, lang_code(t.lang));
    let staff = people(world, lang);
    let recipient = staff.choose(rng).cloned().expect("world has employees");
    let namesake = kind == "namesake_freemail_list";
    let lists: Vec<&Bulk> = world
        .bulk
        .iter()
        .filter(|b| {
            (b.kind == "mailing_list" || b.kind == "sealed_list")
                && b.lang == code
                && (namesake || !b.arc_sealer.is_empty())
        })
        .collect();
    let list = *lists.choose(rng).expect("lists of each language (tested)");
    let western = lang == Lang::En;
    let posters: Vec<&Person> = if namesake {
        world
            .namesake
            .iter()
            .filter(|p| p.name.is_ascii() == western)
            .collect()
    } else {
        world
            .list_member
            .iter()
            .chain(&world.external)
            .filter(|p| p.name.is_ascii() == western && world.dmarc_policy_of(p.domain()) == "none")
            .collect()
    };
    let poster = posters
        .choose(rng)
        .map_or_else(|| world.namesake[0].clone(), |p| (*p).clone());
    let poster_domain = poster.domain().to_string();
    let policy = world.dmarc_policy_of(&poster_domain).to_string();
    let list_domain = domain_of(&list.address).to_string();
    let google = list.arc_sealer == "google.com";
    let modifies = !list.arc_sealer.is_empty();
    let variant = match (modifies, policy.as_str(), google) {
        (false, _, _) => HamVariant::Plain,
        (true, "none", true) => HamVariant::ListArcDmarcNone,
        (true, "none", false) => HamVariant::ListSealedDmarcNone,
        (true, _, _) => HamVariant::ListFromRewritten,
    };
    let (ts, date, delivered) = dates(rng, lang);
    let archive_host = if google {
        "groups.google.com".to_string()
    } else {
        list_domain.clone()
    };
    let link = url(rng, &archive_host);
    let mut values = Values::new(rng, world, lang, &poster, &recipient, &link);
    values.set("list_name", list.name.clone());
    let (subject, body) = values.render(t);
    // The list's server delivers; the poster's reached it first.
    let (list_host, list_mx) = if google {
        (format!("mail-{}.google.com", hex(rng, 6)), "mx.google.com")
    } else {
        (list_domain.clone(), list_domain.as_str())
    };
    let poster_host = match poster_domain.as_str() {
        "gmail.com" => format!("mail-{}.google.com", hex(rng, 6)),
        "outlook.com" | "hotmail.com" => {
            format!("mail-{}.outbound.protection.outlook.com", hex(rng, 6))
        }
        d => format!("mail.{d}"),
    };
    let ip = doc_ip(rng);
    let hop = received(rng, &list_host, &ip, &world.mx, &delivered, false);
    let poster_ip = doc_ip(rng);
    let posted = rfc5322_date(ts + rng.gen_range(0..2), 0);
    let lower = received(rng, &poster_host, &poster_ip, list_mx, &posted, false);
    // Signatures: the list's own above the poster's.
    let list_signer = if google {
        "googlegroups.com".to_string()
    } else {
        list_domain.clone()
    };
    let signatures = vec![
        dkim_signature(rng, &list_signer),
        dkim_signature(rng, &poster_domain),
    ];
    let env_domain = domain_of(&list.return_path).to_string();
    let mut verdicts = MxVerdicts::new(
        ("pass", &env_domain),
        Some(("pass", &list_signer)),
        ("pass", &poster_domain, &policy),
    );
    verdicts.dkim.push(DkimVerdict {
        result: if modifies { "fail" } else { "pass" },
        domain: poster_domain.clone(),
        why: modifies.then_some("body hash did not verify"),
    });
    let mut arc = Vec::new();
    match variant {
        HamVariant::ListFromRewritten => {
            let list_policy = world.dmarc_policy_of(&list_domain).to_string();
            verdicts.dmarc = Some(("pass", list_domain.clone(), list_policy));
        }
        HamVariant::ListArcDmarcNone | HamVariant::ListSealedDmarcNone => {
            verdicts.dmarc = Some(("fail", poster_domain.clone(), policy.clone()));
        }
        _ => {}
    }
    if modifies {
        let (set, comment) = arc_set(rng, &list.arc_sealer, &poster_domain, &policy, ts);
        arc = set;
        verdicts.arc = Some(("pass", comment));
    }
    let mut fields: Vec<(&'static str, String)> = vec![("List-Id", format!("<{}>", list.list_id))];
    if google {
        fields.push(("List-Post", format!("<mailto:{}>", list.address)));
        fields.push((
            "List-Help",
            format!("<mailto:{}+help@googlegroups.com>", list.name),
        ));
        fields.push(("Precedence", "list".into()));
        fields.push((
            "Mailing-list",
            format!(
                "list {}; contact {}+owners@googlegroups.com",
                list.address, list.name
            ),
        ));
        fields.push(("Sender", list.address.clone()));
        fields.push((
            "List-Unsubscribe",
            format!("<mailto:{}+unsubscribe@googlegroups.com>", list.name),
        ));
        fields.push(("X-Original-Sender", poster.address.clone()));
    } else {
        fields.push((
            "List-Archive",
            format!("<https://{list_domain}/archives/list/{}/>", list.address),
        ));
        fields.push((
            "List-Help",
            format!("<mailto:{}-request@{list_domain}?subject=help>", list.name),
        ));
        fields.push(("List-Post", format!("<mailto:{}>", list.address)));
        fields.push((
            "List-Unsubscribe",
            format!("<mailto:{}-leave@{list_domain}>", list.name),
        ));
        fields.push(("Precedence", "list".into()));
        fields.push(("Sender", list.return_path.clone()));
        fields.push(("X-Mailman-Version", "3.3.9".into()));
    }
    let (from, reply_to) = if variant == HamVariant::ListFromRewritten {
        fields.push(("X-Original-From", mailbox(&poster.name, &poster.address)));
        let shown = if google {
            format!("'{}' via {}", poster.name, list.name)
        } else {
            format!("{} via {}", poster.name, list.name)
        };
        (
            mailbox(&shown, &list.address),
            Some(mailbox(&poster.name, &poster.address)),
        )
    } else {
        (mailbox(&poster.name, &poster.address), None)
    };
    let id = if poster_domain == "gmail.com" {
        format!("<CA{}@mail.gmail.com>", hex(rng, 40))
    } else {
        message_id(rng, &poster_domain)
    };
    // A reply in the list's thread refers to the post it answers.
    let lower_subject = subject.to_ascii_lowercase();
    let ids = if lower_subject.contains("re:") {
        thread(rng, &[poster_domain.as_str()])
    } else {
        Vec::new()
    };
    let delivery = Delivery {
        envelope: list.return_path.clone(),
        verdicts,
        received: vec![hop, lower],
        arc,
        signatures,
        fields,
        from,
        reply_to,
        to: list.address.clone(),
        subject,
        date,
        message_id: id,
        thread: ids,
    };
    let draft = delivery.draft(rng, &world.mx, Layout::Plain, &body);
    ham_of(draft, Layout::Plain, recipient, lang, kind, variant)
}

/// Honest mail in the carriers of content-borne attacks, one of
/// [`CARRIER_HAM_KINDS`](super::template::CARRIER_HAM_KINDS): a known
/// vendor's invoice or statement as a PDF linking to its own domain
/// (`invoice_pdf`); a boarding pass or event ticket whose QR code points
/// to the issuer's own domain (`ticket_qr`); a receipt or newsletter issue
/// as an HTML attachment without forms or scripts (`receipt_html`); an
/// order confirmation with the brand's customer-service number
/// (`order_phone`). Each comes from its sender's own domain, SPF, DKIM and
/// DMARC aligned and passing.
pub fn carrier_ham(
    rng: &mut ChaCha8Rng,
    world: &World,
    templates: &Templates,
    kind: &'static str,
) -> Ham {
    let t = template(rng, templates, kind);
    let lang = t.lang;
    let staff = people(world, lang);
    let (ts, date, delivered) = dates(rng, lang);
    // A receipt template that names no product is a newsletter's issue.
    let newsletter = kind == "receipt_html" && !t.document.contains("{brand_product}");
    let (sender, envelope, shown_brand, products, vendor) = if kind == "invoice_pdf" {
        let vendors: Vec<&Person> = world
            .external
            .iter()
            .filter(|p| p.name.is_ascii() == (lang == Lang::En))
            .collect();
        let v = vendors
            .choose(rng)
            .map_or_else(|| world.external[0].clone(), |p| (*p).clone());
        let env = v.address.clone();
        let company = v.company.clone();
        (v, env, company, Vec::new(), true)
    } else if newsletter {
        let code = lang_code(lang);
        let issues: Vec<&Bulk> = world
            .bulk
            .iter()
            .filter(|b| b.kind == "newsletter" && b.name.is_ascii() == (code == "en"))
            .collect();
        let b = issues
            .choose(rng)
            .copied()
            .or_else(|| world.bulk.iter().find(|b| b.kind == "newsletter"))
            .expect("the world has newsletters (tested)");
        let p = Person {
            name: b.name.clone(),
            address: b.address.clone(),
            title: String::new(),
            company: b.name.clone(),
        };
        (p, b.return_path.clone(), b.name.clone(), Vec::new(), false)
    } else {
        let role = if kind == "ticket_qr" {
            "ticket"
        } else {
            "retail"
        };
        let b = payload::brand(rng, lang, role).expect("brands of each role and language (tested)");
        let local = match kind {
            "ticket_qr" => ["tickets", "boarding", "no-reply"][rng.gen_range(0..3)],
            "order_phone" => ["order-update", "no-reply", "customer-service"][rng.gen_range(0..3)],
            _ => ["receipts", "no-reply", "billing"][rng.gen_range(0..3)],
        };
        let p = Person {
            name: b.name.clone(),
            address: format!("{local}@{}", b.domain),
            title: String::new(),
            company: b.name.clone(),
        };
        let env = format!("bounces+{}@mail.{}", hex(rng, 8), b.domain);
        (p, env, b.name.clone(), b.products.clone(), false)
    };
    let recipient = if vendor {
        finance(staff)
            .choose(rng)
            .cloned()
            .unwrap_or_else(|| staff[0].clone())
    } else {
        staff.choose(rng).cloned().expect("world has employees")
    };
    let d = sender.domain().to_string();
    let link = url(rng, &format!("www.{d}"));
    let mut values = Values::new(rng, world, lang, &sender, &recipient, &link);
    values.set("brand", shown_brand);
    values.set(
        "brand_product",
        products.choose(rng).cloned().unwrap_or_default(),
    );
    values.set("charge", payload::charge(rng, lang));
    if kind == "order_phone" {
        values.set("phone", payload::service_number(rng, lang));
    }
    let (subject, body) = values.render(t);
    let document = values.fill_text(&t.document);
    let reference = values.get("invoice_no");
    let ja = lang == Lang::Ja;
    let (attachments, payload) = match kind {
        "invoice_pdf" => {
            let stem = if ja {
                ["請求書", "取引明細書"][rng.gen_range(0..2)]
            } else {
                ["Invoice", "Statement", "Credit_Note"][rng.gen_range(0..3)]
            };
            let bytes = payload::pdf(&document).expect("the generator's documents always encode");
            (
                vec![Attachment {
                    filename: format!("{stem}_{reference}.pdf"),
                    content_type: "application/pdf".into(),
                    bytes,
                    inline: false,
                }],
                Payload::Pdf,
            )
        }
        "ticket_qr" => {
            let pass = url(rng, &d);
            let inline = rng.gen_bool(0.5);
            let filename = match (inline, ja) {
                (true, _) => format!("image{:03}.png", rng.gen_range(1..10)),
                (false, true) => ["搭乗券.png", "入場券.png"][rng.gen_range(0..2)].to_string(),
                (false, false) => {
                    ["boarding_pass.png", "ticket.png"][rng.gen_range(0..2)].to_string()
                }
            };
            let bytes = payload::qr_png(&pass).expect("the generator's own links always encode");
            (
                vec![Attachment {
                    filename,
                    content_type: "image/png".into(),
                    bytes,
                    inline,
                }],
                Payload::QrImage,
            )
        }
        "receipt_html" => {
            let page = payload::honest_page(lang, &document, &sender.name);
            let filename = match (newsletter, ja) {
                (true, _) => format!("issue_{}.htm", hex(rng, 4)),
                (false, true) => format!("領収書_{reference}.html"),
                (false, false) => format!("receipt_{reference}.html"),
            };
            (
                vec![Attachment {
                    filename,
                    content_type: "text/html".into(),
                    bytes: page.into_bytes(),
                    inline: false,
                }],
                Payload::HtmlAttachment,
            )
        }
        _ => (Vec::new(), Payload::Callback),
    };
    // The sender's own server (a vendor's, or its ESP's), aligned.
    let env_domain = domain_of(&envelope).to_string();
    let server = if vendor {
        format!("mail.{d}")
    } else {
        format!("mail-{}.{env_domain}", hex(rng, 4))
    };
    let ip = doc_ip(rng);
    let mut received_fields = vec![received(rng, &server, &ip, &world.mx, &delivered, false)];
    if vendor {
        received_fields.push(submission(rng, &server, ts));
    }
    let policy = world.dmarc_policy_of(&d).to_string();
    let verdicts = MxVerdicts::new(
        ("pass", &env_domain),
        Some(("pass", &d)),
        ("pass", &d, &policy),
    );
    let signatures = vec![dkim_signature(rng, &d)];
    let mut fields = Vec::new();
    if !vendor {
        fields.push((
            "List-Unsubscribe",
            format!("<https://www.{d}/unsubscribe/{}>", hex(rng, 16)),
        ));
    }
    let delivery = Delivery {
        envelope,
        verdicts,
        received: received_fields,
        arc: Vec::new(),
        signatures,
        fields,
        from: mailbox(&sender.name, &sender.address),
        reply_to: None,
        to: mailbox(&recipient.name, &recipient.address),
        subject,
        date,
        message_id: message_id(rng, &d),
        thread: Vec::new(),
    };
    let layout = if vendor && rng.gen_bool(0.4) {
        Layout::Plain
    } else {
        Layout::Alternative
    };
    let draft = delivery.draft_with(rng, &world.mx, layout, &body, &attachments);
    let mut ham = ham_of(draft, layout, recipient, lang, kind, HamVariant::Plain);
    ham.payload = payload;
    ham
}
