//! One suite of scenarios, run on every backend: `memory::…`, `file::…`
//! and `redis::…` are the same checks, so the backends behave alike.
//! Backend-only checks (reopening a file, two gateways on one Redis) follow.

mod support;

use impostor_features::sender_history::{Flow, MessageFacts, UnixTime};
use impostor_history::{FileStore, History, HistoryParams, Observation, RedisStore, Store};
use support::{Fixture, Kind};

const DAY: i64 = 86_400;
/// 2024-01-01, a Monday.
const T0: UnixTime = 1_704_067_200;

fn params(delay_secs: i64) -> HistoryParams {
    HistoryParams {
        delay_secs,
        ..HistoryParams::default()
    }
}

/// A message from `sender` (a domain key) to the organisation.
fn inbound(sender: &str, time: UnixTime) -> MessageFacts {
    MessageFacts {
        time: Some(time),
        sender_key: Some(sender.to_string()),
        sender_address: Some(format!("billing@{sender}")),
        sender_verified: true,
        flow: Flow::Inbound,
        recipient_keys: vec!["ap@org.example".into()],
        internal_recipients: 1,
        network: Some("203.0.113.0/24".into()),
        client: Some("Outlook".into()),
        hour_of_week: Some(9),
        link_domains: vec!["docs.example".into()],
        message_id: Some(format!("{time}.{sender}@mail.{sender}")),
        ..MessageFacts::default()
    }
}

/// A message from the organisation to `recipient`.
fn outbound(recipient: &str, time: UnixTime) -> MessageFacts {
    MessageFacts {
        time: Some(time),
        sender_key: Some("me@org.example".into()),
        sender_address: Some("me@org.example".into()),
        sender_verified: true,
        sender_internal: true,
        flow: Flow::Outbound,
        recipient_keys: vec![recipient.to_string()],
        network: Some("198.51.100.0/24".into()),
        message_id: Some(format!("{time}.out@org.example")),
        ..MessageFacts::default()
    }
}

/// A question about a message from `sender` at `time`, learning nothing.
fn ask(sender: &str, time: UnixTime) -> MessageFacts {
    MessageFacts {
        message_id: None,
        ..inbound(sender, time)
    }
}

fn sender_inbound(h: &History, sender: &str, time: UnixTime) -> Option<u64> {
    let snap = h.snapshot(&ask(sender, time)).expect("snapshot");
    snap.sender.map(|p| p.inbound)
}

// ---- the scenarios, on any backend ----

fn a_message_is_known_only_after_the_delay(f: &Fixture) {
    let h = f.history(params(3_600));
    h.observe(&inbound("supplier.example", T0), false)
        .expect("observe");
    assert_eq!(h.stats().expect("stats").pending, 1);
    assert_eq!(sender_inbound(&h, "supplier.example", T0 + 3_599), None);
    assert_eq!(h.stats().expect("stats").learned, 0);
    assert_eq!(sender_inbound(&h, "supplier.example", T0 + 3_600), Some(1));
    let stats = h.stats().expect("stats");
    assert_eq!((stats.learned, stats.pending), (1, 0));
}

fn a_first_contact_is_unknown_and_a_returning_sender_known(f: &Fixture) {
    let h = f.history(params(0));
    h.observe(&inbound("supplier.example", T0), false)
        .expect("observe");
    h.observe(&inbound("supplier.example", T0 + 60), false)
        .expect("observe");
    let known = h
        .snapshot(&ask("supplier.example", T0 + 120))
        .expect("snap");
    let p = known.sender.expect("the returning sender is known");
    assert_eq!(p.inbound, 2);
    assert_eq!(p.first_seen, T0);
    assert_eq!(p.last_seen, T0 + 60);
    assert_eq!(p.networks.get("203.0.113.0/24"), Some(&2));
    let first = h
        .snapshot(&ask("stranger.example", T0 + 120))
        .expect("snap");
    assert_eq!(first.sender, None);
}

fn the_history_is_silent_until_warm(f: &Fixture) {
    let h = f.history(params(0));
    for i in 0..49 {
        h.learn_now(&inbound(&format!("s{i}.example"), T0 + i), false)
            .expect("learn");
    }
    let snap = h.snapshot(&ask("s1.example", T0 + 100)).expect("snap");
    assert_eq!(snap.learned_messages, 49);
    assert!(!snap.is_warm());
    h.learn_now(&inbound("s49.example", T0 + 49), false)
        .expect("learn");
    assert!(h
        .snapshot(&ask("s1.example", T0 + 100))
        .expect("snap")
        .is_warm());
}

fn outbound_mail_makes_the_recipient_solicited_and_a_correspondent(f: &Fixture) {
    let h = f.history(params(0));
    let lookalike = MessageFacts {
        lookalike_candidates: vec!["greenvaie-produce.com".into()],
        ..ask("greenvaie-produce.com", T0)
    };
    // The first question builds the correspondents' index: none yet.
    let snap = h.snapshot(&lookalike).expect("snap");
    assert!(snap.imitated_correspondents.is_empty());

    h.observe(&outbound("greenvale-produce.com", T0), false)
        .expect("observe");
    let p = h
        .profile("greenvale-produce.com")
        .expect("profile")
        .expect("the recipient has a profile");
    assert_eq!((p.outbound, p.inbound), (1, 0));
    assert_eq!(p.last_outbound, Some(T0));

    // The index is rebuilt only after 200 more messages were learnt.
    let snap = h.snapshot(&lookalike).expect("snap");
    assert!(snap.imitated_correspondents.is_empty());
    for i in 0..200 {
        h.learn_now(&inbound(&format!("filler{i}.example"), T0 + i), false)
            .expect("learn");
    }
    let snap = h.snapshot(&lookalike).expect("snap");
    let found: Vec<(&str, &str)> = snap
        .imitated_correspondents
        .iter()
        .map(|m| (m.domain.as_str(), m.correspondent.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![("greenvaie-produce.com", "greenvale-produce.com")]
    );
    // The correspondent itself imitates nothing.
    let own = MessageFacts {
        lookalike_candidates: vec!["greenvale-produce.com".into()],
        ..ask("greenvale-produce.com", T0 + 500)
    };
    assert!(h
        .snapshot(&own)
        .expect("snap")
        .imitated_correspondents
        .is_empty());

    // Forgetting the correspondent removes it from the index at once.
    assert!(h.forget("greenvale-produce.com").expect("forget"));
    assert!(h
        .snapshot(&lookalike)
        .expect("snap")
        .imitated_correspondents
        .is_empty());
}

fn three_messages_make_a_sending_domain_a_correspondent(f: &Fixture) {
    let h = f.history(params(0));
    for i in 0..3 {
        h.learn_now(&inbound("greenvale-produce.com", T0 + i), false)
            .expect("learn");
    }
    for i in 0..200 {
        h.learn_now(&inbound(&format!("filler{i}.example"), T0 + i), false)
            .expect("learn");
    }
    let snap = h
        .snapshot(&MessageFacts {
            lookalike_candidates: vec!["greenvaie-produce.com".into()],
            ..ask("greenvaie-produce.com", T0 + 500)
        })
        .expect("snap");
    assert_eq!(snap.imitated_correspondents.len(), 1);
    assert_eq!(
        snap.imitated_correspondents[0].correspondent,
        "greenvale-produce.com"
    );
}

fn a_reply_to_a_stored_message_id_is_a_known_thread(f: &Fixture) {
    let h = f.history(params(0));
    let mut first = outbound("supplier.example", T0);
    first.message_id = Some("quote-42@org.example".into());
    h.observe(&first, false).expect("observe");

    let reply = |refs: &[&str]| MessageFacts {
        references: refs.iter().map(|r| r.to_string()).collect(),
        ..ask("supplier.example", T0 + 60)
    };
    let snap = h.snapshot(&reply(&["quote-42@org.example"])).expect("snap");
    assert_eq!(snap.thread_known, Some(true));
    let snap = h
        .snapshot(&reply(&["other@x.example", "quote-42@org.example"]))
        .expect("snap");
    assert_eq!(snap.thread_known, Some(true));
    let snap = h.snapshot(&reply(&["forged-1@org.example"])).expect("snap");
    assert_eq!(snap.thread_known, Some(false));
    assert_eq!(h.snapshot(&reply(&[])).expect("snap").thread_known, None);
}

const IBAN: &str = "DE44500105175407324931";
const IBAN_DIGITS: &str = "500105175407324931";
const OTHER_IBAN: &str = "GB82WEST12345698765432";

fn a_known_bank_account_is_recognised_and_never_stored_in_clear(f: &Fixture) {
    let h = f.history(params(3_600));
    let with_account = |time| MessageFacts {
        bank_accounts: vec![IBAN.into()],
        asks_payment: true,
        ..inbound("supplier.example", time)
    };
    h.observe(&with_account(T0), false).expect("observe");
    // A second one stays pending: pending observations hold no clear
    // account either.
    h.observe(&with_account(T0 + 7_200), false)
        .expect("observe");
    let snap = h
        .snapshot(&MessageFacts {
            bank_accounts: vec![IBAN.into(), OTHER_IBAN.into()],
            ..ask("supplier.example", T0 + 3_600)
        })
        .expect("snap");
    assert_eq!(snap.bank_accounts_known, vec![true, false]);
    let p = snap.sender.expect("known sender");
    assert_eq!((p.bank_accounts.len(), p.payment_requests), (1, 1));
    assert_eq!(h.stats().expect("stats").pending, 1);

    let bytes = f.stored_bytes(&h);
    assert!(!bytes.is_empty());
    for clear in [IBAN, IBAN_DIGITS] {
        assert!(
            !bytes.windows(clear.len()).any(|w| w == clear.as_bytes()),
            "{clear} is stored in clear"
        );
    }
    // The search can fail: the sender's key is in the bytes.
    assert!(bytes
        .windows("supplier.example".len())
        .any(|w| w == b"supplier.example"));
}

fn flagged_mail_never_makes_a_new_sender_known(f: &Fixture) {
    let h = f.history(params(0));
    h.observe(&inbound("attacker.example", T0), true)
        .expect("observe");
    assert_eq!(sender_inbound(&h, "attacker.example", T0 + 1), None);
    // A known sender's flagged message counts against it.
    h.observe(&inbound("supplier.example", T0), false)
        .expect("observe");
    h.observe(&inbound("supplier.example", T0 + 10), true)
        .expect("observe");
    let p = h
        .profile("supplier.example")
        .expect("profile")
        .expect("known");
    assert_eq!((p.inbound, p.flagged), (1, 1));
    assert_eq!(h.stats().expect("stats").learned, 3);
}

fn a_message_whose_sender_failed_teaches_nothing(f: &Fixture) {
    let h = f.history(params(0));
    let mut forged = inbound("supplier.example", T0);
    forged.sender_failed = true;
    forged.message_id = Some("forged@supplier.example".into());
    h.observe(&forged, false).expect("observe");
    assert_eq!(sender_inbound(&h, "supplier.example", T0 + 1), None);
    let snap = h
        .snapshot(&MessageFacts {
            references: vec!["forged@supplier.example".into()],
            ..ask("supplier.example", T0 + 2)
        })
        .expect("snap");
    assert_eq!(snap.thread_known, Some(false));
    assert_eq!(snap.learned_messages, 1);
    assert!(h.keys().expect("keys").is_empty());
}

fn forget_removes_a_key(f: &Fixture) {
    let h = f.history(params(0));
    h.observe(&inbound("supplier.example", T0), false)
        .expect("observe");
    h.observe(&inbound("other.example", T0), false)
        .expect("observe");
    assert!(h.forget(" Supplier.Example ").expect("forget"));
    assert_eq!(h.profile("supplier.example").expect("profile"), None);
    assert!(!h.forget("supplier.example").expect("forget"));
    assert_eq!(h.keys().expect("keys"), vec!["other.example"]);
}

fn expiry_removes_what_is_older_than_the_retention(f: &Fixture) {
    let h = f.history(HistoryParams {
        delay_secs: 0,
        retention_secs: DAY,
        ..HistoryParams::default()
    });
    let mut old = inbound("old.example", T0);
    old.recipient_keys.clear();
    let mut new = inbound("new.example", T0 + 2 * DAY);
    new.recipient_keys.clear();
    h.observe(&old, false).expect("observe");
    h.observe(&new, false).expect("observe");
    let expired = h.expire(T0 + 2 * DAY + 10).expect("expire");
    assert_eq!((expired.profiles, expired.message_ids), (1, 1));
    assert_eq!(h.keys().expect("keys"), vec!["new.example"]);
    let thread = |id: &str| {
        h.snapshot(&MessageFacts {
            references: vec![id.to_string()],
            ..ask("new.example", T0 + 2 * DAY + 20)
        })
        .expect("snap")
        .thread_known
    };
    assert_eq!(
        thread(old.message_id.as_deref().unwrap_or_default()),
        Some(false)
    );
    assert_eq!(
        thread(new.message_id.as_deref().unwrap_or_default()),
        Some(true)
    );
    let again = h.expire(T0 + 2 * DAY + 10).expect("expire");
    assert_eq!((again.profiles, again.message_ids), (0, 0));
}

fn expiry_keeps_the_most_recent_within_the_size_bounds(f: &Fixture) {
    let h = f.history(HistoryParams {
        delay_secs: 0,
        max_profiles: 2,
        max_message_ids: 2,
        ..HistoryParams::default()
    });
    let mut ids = Vec::new();
    for (i, s) in ["a.example", "b.example", "c.example"].iter().enumerate() {
        let mut m = inbound(s, T0 + i as i64);
        m.recipient_keys.clear();
        ids.push(m.message_id.clone().unwrap_or_default());
        h.observe(&m, false).expect("observe");
    }
    let expired = h.expire(T0 + 10).expect("expire");
    assert_eq!((expired.profiles, expired.message_ids), (1, 1));
    assert_eq!(h.keys().expect("keys"), vec!["b.example", "c.example"]);
    let thread = |id: &String| {
        h.snapshot(&MessageFacts {
            references: vec![id.clone()],
            ..ask("c.example", T0 + 20)
        })
        .expect("snap")
        .thread_known
    };
    assert_eq!(thread(&ids[0]), Some(false));
    assert_eq!(thread(&ids[1]), Some(true));
    assert_eq!(thread(&ids[2]), Some(true));
}

fn stats_count_learnt_pending_and_profiles(f: &Fixture) {
    let h = f.history(params(3_600));
    for i in 0..3 {
        h.learn_now(&inbound(&format!("s{i}.example"), T0), false)
            .expect("learn");
    }
    h.observe(&inbound("later.example", T0), false)
        .expect("observe");
    h.observe(&inbound("later.example", T0 + 1), false)
        .expect("observe");
    let stats = h.stats().expect("stats");
    // Inbound mail makes profiles of its senders only.
    assert_eq!((stats.learned, stats.pending, stats.profiles), (3, 2, 3));
    assert_eq!(h.apply_all_pending().expect("apply"), 2);
    let stats = h.stats().expect("stats");
    assert_eq!((stats.learned, stats.pending, stats.profiles), (5, 0, 4));
}

fn many_pending_observations_are_all_learnt(f: &Fixture) {
    let h = f.history(params(60));
    let mut batch = Vec::new();
    for i in 0..2_500 {
        let mut m = inbound("bulk.example", T0 + i);
        m.recipient_keys.clear();
        batch.push(m);
    }
    for m in &batch {
        h.observe(m, false).expect("observe");
    }
    assert_eq!(h.apply_due(T0 + 1_000).expect("apply"), 941);
    assert_eq!(h.apply_all_pending().expect("apply"), 2_500 - 941);
    let p = h.profile("bulk.example").expect("profile").expect("known");
    assert_eq!(p.inbound, 2_500);
    assert_eq!(p.last_seen, T0 + 2_499);
}

fn due_observations_are_taken_earliest_first_and_at_most_max(f: &Fixture) {
    let store = f.store();
    let obs = |n: i64| Observation {
        time: n,
        ..Observation::default()
    };
    for (due, n) in [(30, 1), (10, 2), (20, 3), (10, 4)] {
        store.push_pending(due, &obs(n)).expect("push");
    }
    assert_eq!(store.pending().expect("pending"), 4);
    assert!(store.take_due(9, 10).expect("take").is_empty());
    assert!(store.take_due(30, 0).expect("take").is_empty());
    let times = |v: Vec<Observation>| v.iter().map(|o| o.time).collect::<Vec<_>>();
    assert_eq!(times(store.take_due(20, 2).expect("take")), vec![2, 4]);
    assert_eq!(times(store.take_due(20, 10).expect("take")), vec![3]);
    assert_eq!(store.pending().expect("pending"), 1);
    assert_eq!(
        times(store.take_due(UnixTime::MAX, 10).expect("take")),
        vec![1]
    );
    assert_eq!(store.pending().expect("pending"), 0);
}

fn a_store_keeps_its_salt_for_every_handle(f: &Fixture) {
    let a = f.store();
    let salt = a.salt().expect("salt");
    assert_ne!(salt, [0; 32]);
    assert_eq!(a.salt().expect("salt"), salt);
    match f.kind {
        // Each memory store is its own.
        Kind::Memory => assert_eq!(a.describe(), "memory"),
        // One file handle at a time.
        Kind::File => {
            drop(a);
            assert_eq!(f.store().salt().expect("salt"), salt);
        }
        Kind::Redis => assert_eq!(f.store().salt().expect("salt"), salt),
    }
}

macro_rules! on_backend {
    ($module:ident, $kind:expr) => {
        mod $module {
            use super::*;
            on_backend!(@tests $kind;
                a_message_is_known_only_after_the_delay,
                a_first_contact_is_unknown_and_a_returning_sender_known,
                the_history_is_silent_until_warm,
                outbound_mail_makes_the_recipient_solicited_and_a_correspondent,
                three_messages_make_a_sending_domain_a_correspondent,
                a_reply_to_a_stored_message_id_is_a_known_thread,
                a_known_bank_account_is_recognised_and_never_stored_in_clear,
                flagged_mail_never_makes_a_new_sender_known,
                a_message_whose_sender_failed_teaches_nothing,
                forget_removes_a_key,
                expiry_removes_what_is_older_than_the_retention,
                expiry_keeps_the_most_recent_within_the_size_bounds,
                stats_count_learnt_pending_and_profiles,
                many_pending_observations_are_all_learnt,
                due_observations_are_taken_earliest_first_and_at_most_max,
                a_store_keeps_its_salt_for_every_handle
            );
        }
    };
    (@tests $kind:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                super::$name(&Fixture::new($kind, stringify!($name)));
            }
        )*
    };
}

on_backend!(memory, Kind::Memory);
on_backend!(file, Kind::File);
on_backend!(redis, Kind::Redis);

// ---- the embedded store only ----

mod file_only {
    use super::*;

    #[test]
    fn the_store_survives_close_and_reopen() {
        let f = Fixture::new(Kind::File, "reopen");
        let account = MessageFacts {
            bank_accounts: vec![IBAN.into()],
            ..inbound("supplier.example", T0)
        };
        let before = {
            let h = f.history(params(3_600));
            h.observe(&account, false).expect("observe");
            h.observe(&inbound("supplier.example", T0 + 4_000), false)
                .expect("observe");
            h.apply_due(T0 + 3_600).expect("apply");
            h.profile("supplier.example").expect("profile")
        };
        assert!(before.is_some());
        let h = f.history(params(3_600));
        assert_eq!(h.profile("supplier.example").expect("profile"), before);
        let stats = h.stats().expect("stats");
        assert_eq!((stats.learned, stats.pending), (1, 1));
        // The same salt: hashes written before still match.
        let snap = h
            .snapshot(&MessageFacts {
                bank_accounts: vec![IBAN.into()],
                references: vec![account.message_id.clone().unwrap_or_default()],
                ..ask("supplier.example", T0 + 3_700)
            })
            .expect("snap");
        assert_eq!(snap.bank_accounts_known, vec![true]);
        assert_eq!(snap.thread_known, Some(true));
    }

    #[test]
    fn a_second_open_is_refused_while_the_first_is_alive() {
        let f = Fixture::new(Kind::File, "locked");
        let first = FileStore::open(&f.path()).expect("first open");
        let err = match FileStore::open(&f.path()) {
            Ok(_) => panic!("a second open of a locked store succeeded"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("open in another impostor process")
                && err.contains("share one store between processes with Redis"),
            "{err}"
        );
        assert!(err.contains("history.redb"), "{err}");
        drop(first);
        FileStore::open(&f.path()).expect("open after the first closed");
    }

    #[test]
    fn a_missing_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nowhere").join("history.redb");
        let err = match FileStore::open(&path) {
            Ok(_) => panic!("a store opened in a missing folder"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("does not exist; create it first"), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn the_store_is_opened_by_path_and_describes_itself() {
        let f = Fixture::new(Kind::File, "describe");
        let spec = f.path().display().to_string();
        let h = History::open(&spec, params(0).check().expect("params")).expect("open");
        assert_eq!(h.describe(), format!("embedded store {spec}"));
        assert!(f.path().exists());
    }
}

// ---- Redis only ----

mod redis_only {
    use super::*;
    use std::collections::HashSet;
    use std::time::{Duration, Instant};

    #[test]
    fn two_handles_taking_due_observations_never_get_the_same_one() {
        let f = Fixture::new(Kind::Redis, "concurrent-take");
        let a = RedisStore::connect(&f.url()).expect("a");
        let b = RedisStore::connect(&f.url()).expect("b");
        const N: i64 = 3_000;
        for n in 0..N {
            let o = Observation {
                time: n,
                ..Observation::default()
            };
            a.push_pending(T0 + n % 50, &o).expect("push");
        }
        let take_all = |s: &RedisStore| {
            let mut got = Vec::new();
            loop {
                let batch = s.take_due(T0 + 100, 7).expect("take");
                if batch.is_empty() {
                    return got;
                }
                got.extend(batch.into_iter().map(|o| o.time));
            }
        };
        let (got_a, got_b) = std::thread::scope(|scope| {
            let ta = scope.spawn(|| take_all(&a));
            let tb = scope.spawn(|| take_all(&b));
            (ta.join().expect("a"), tb.join().expect("b"))
        });
        assert!(
            !got_a.is_empty() && !got_b.is_empty(),
            "both handles took some"
        );
        let mut seen = HashSet::new();
        for t in got_a.iter().chain(&got_b) {
            assert!(seen.insert(*t), "observation {t} was taken twice");
        }
        assert_eq!(seen.len() as i64, N);
        assert_eq!(a.pending().expect("pending"), 0);
    }

    #[test]
    fn gateways_on_one_prefix_share_salt_and_profiles_and_prefixes_are_apart() {
        let f = Fixture::new(Kind::Redis, "shared");
        let one = f.history(params(0));
        let two = f.history(params(0));
        one.observe(&inbound("supplier.example", T0), false)
            .expect("observe");
        let snap = two
            .snapshot(&MessageFacts {
                references: vec![inbound("supplier.example", T0)
                    .message_id
                    .unwrap_or_default()],
                ..ask("supplier.example", T0 + 1)
            })
            .expect("snap");
        assert_eq!(snap.sender.map(|p| p.inbound), Some(1));
        assert_eq!(snap.thread_known, Some(true));

        let other_url = f.url().replace("prefix=t-shared", "prefix=other-org");
        let other = History::open(&other_url, params(0).check().expect("params")).expect("other");
        assert_eq!(other.profile("supplier.example").expect("profile"), None);
        assert!(other.keys().expect("keys").is_empty());
    }

    #[test]
    fn the_description_shows_the_url_without_its_password() {
        let f = Fixture::new(Kind::Redis, "describe");
        let h = f.history(params(0));
        assert_eq!(h.describe(), f.url());
        let with_password = f.url().replace("redis://", "redis://:hunter2@");
        let err = match RedisStore::connect(&with_password) {
            // No password is set on the test server: Redis refuses AUTH.
            Ok(s) => s.describe(),
            Err(e) => e.to_string(),
        };
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_dead_server_is_an_error_not_a_hang() {
        let port = {
            let server = support::RedisServer::start();
            let url = server.url();
            url.rsplit(':').next().unwrap_or_default().to_string()
        };
        let start = Instant::now();
        let err = match RedisStore::connect(&format!("redis://127.0.0.1:{port}")) {
            Ok(_) => panic!("connected to a stopped server"),
            Err(e) => e.to_string(),
        };
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(err.contains(&format!("redis://127.0.0.1:{port}")), "{err}");
        assert!(err.contains("check that Redis runs there"), "{err}");
    }
}
