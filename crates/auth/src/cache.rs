//! The bounded record cache mail-auth reads and fills through its
//! `Parameters` API: parsed TXT records (SPF, DKIM keys, DMARC), MX and
//! address sets. Entries expire with their DNS TTL; when full, the oldest
//! stored entry goes first, so memory stays bounded whatever senders
//! arrive.

use mail_auth::ResolverCache;
use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

/// At most `capacity` entries, oldest out first, each until its TTL ends.
pub struct BoundedCache<K, V> {
    capacity: usize,
    inner: Mutex<Inner<K, V>>,
}

struct Inner<K, V> {
    map: HashMap<K, (V, Instant)>,
    /// Insertion order, for eviction; may hold keys already removed.
    order: VecDeque<K>,
}

impl<K: Hash + Eq + Clone, V: Clone> BoundedCache<K, V> {
    /// An empty cache holding at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Self {
        BoundedCache {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // A panic elsewhere while holding the lock leaves a whole map.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<K: Hash + Eq + Clone, V: Clone> ResolverCache<K, V> for BoundedCache<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut g = self.lock();
        match g.map.get(name) {
            Some((v, until)) if *until > Instant::now() => Some(v.clone()),
            Some(_) => {
                g.map.remove(name);
                None
            }
            None => None,
        }
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().map.remove(name).map(|(v, _)| v)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        let mut g = self.lock();
        let g = &mut *g;
        if g.map.insert(key.clone(), (value, valid_until)).is_none() {
            g.order.push_back(key);
        }
        while g.map.len() > self.capacity {
            match g.order.pop_front() {
                Some(old) => {
                    g.map.remove(&old);
                }
                None => break,
            }
        }
        // Keys removed by get/remove linger in `order`: compact it so it
        // stays bounded too.
        if g.order.len() > 2 * self.capacity {
            let map = &g.map;
            g.order.retain(|k| map.contains_key(k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_cache_never_holds_more_than_its_capacity_and_drops_the_oldest() {
        let c: BoundedCache<Box<str>, u32> = BoundedCache::new(3);
        let later = Instant::now() + Duration::from_secs(60);
        for i in 0..10u32 {
            c.insert(format!("k{i}").into(), i, later);
            assert!(c.len() <= 3);
        }
        assert_eq!(c.get("k9"), Some(9));
        assert_eq!(c.get("k7"), Some(7));
        assert_eq!(c.get("k6"), None);
        for i in 0..1000u32 {
            c.insert(format!("j{i}").into(), i, later);
            c.remove(format!("j{i}").as_str());
        }
        assert!(c.lock().order.len() <= 6);
    }

    #[test]
    fn an_expired_entry_is_not_returned() {
        let c: BoundedCache<Box<str>, u32> = BoundedCache::new(3);
        c.insert("gone".into(), 1, Instant::now());
        assert_eq!(c.get("gone"), None);
        assert!(c.is_empty());
    }
}
