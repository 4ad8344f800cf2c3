//! The prefix cache: computed key/value caches kept by the token sequence
//! they hold, so that a prompt sharing a prefix with one seen before (the
//! same system prompt and issue, the same conversation one turn later)
//! computes only the tokens after the longest common prefix.
//!
//! Matches are by token identity, never assumed: a chat template that
//! renders earlier turns differently simply matches less. Memory is
//! bounded: each entry is counted in bytes and the least recently used
//! entries go first; an evicted prefix is recomputed, never wrong.

/// A byte-bounded store of values keyed by token sequences, looked up by
/// longest common prefix.
///
/// ```
/// use entropo_burn::engine::PrefixCache;
/// let mut cache = PrefixCache::new(100);
/// cache.insert(vec![1, 2, 3, 4], "a", 40);
/// cache.insert(vec![1, 2, 9], "b", 30);
/// // The longest common prefix with [1, 2, 3, 7] is 3 tokens, of entry "a".
/// assert_eq!(cache.lookup(&[1, 2, 3, 7], usize::MAX), Some((3, "a")));
/// // A cap on the match (a prompt needs one token left to compute).
/// assert_eq!(cache.lookup(&[1, 2, 3, 4], 3), Some((3, "a")));
/// // Over budget, the least recently used entry ("b") goes.
/// cache.insert(vec![5, 6], "c", 50);
/// assert_eq!(cache.lookup(&[1, 2, 9], usize::MAX), Some((2, "a")));
/// assert_eq!(cache.bytes(), 90);
/// ```
#[derive(Debug)]
pub struct PrefixCache<V> {
    entries: Vec<Entry<V>>,
    budget: usize,
    bytes: usize,
    clock: u64,
}

#[derive(Debug)]
struct Entry<V> {
    tokens: Vec<u32>,
    value: V,
    bytes: usize,
    used: u64,
}

impl<V: Clone> PrefixCache<V> {
    /// An empty cache holding at most `budget` bytes.
    pub fn new(budget: usize) -> Self {
        PrefixCache { entries: Vec::new(), budget, bytes: 0, clock: 0 }
    }

    /// The entry sharing the longest common prefix with `tokens`, as the
    /// prefix's length (at most `max_len`) and the entry's value; `None`
    /// when no entry shares a token. A hit counts as a use.
    pub fn lookup(&mut self, tokens: &[u32], max_len: usize) -> Option<(usize, V)> {
        let (i, len) = self.best(tokens, max_len).filter(|&(_, len)| len > 0)?;
        self.clock += 1;
        self.entries[i].used = self.clock;
        Some((len, self.entries[i].value.clone()))
    }

    /// The length [`PrefixCache::lookup`] would match, without using the entry.
    pub fn longest(&self, tokens: &[u32], max_len: usize) -> usize {
        self.best(tokens, max_len).map_or(0, |(_, len)| len)
    }

    /// The index of the entry sharing the longest prefix with `tokens` (the
    /// first of equals) and that length, at most `max_len`.
    fn best(&self, tokens: &[u32], max_len: usize) -> Option<(usize, usize)> {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i, common_prefix(&e.tokens, tokens).min(max_len)))
            .max_by_key(|&(i, len)| (len, std::cmp::Reverse(i)))
    }

    /// Keeps `value` (of `bytes` bytes) for `tokens`. Entries whose tokens
    /// are a prefix of `tokens` go (the new one answers for them), then the
    /// least recently used ones until the cache fits its budget; a value
    /// larger than the whole budget is not kept.
    pub fn insert(&mut self, tokens: Vec<u32>, value: V, bytes: usize) {
        if bytes > self.budget || tokens.is_empty() {
            return;
        }
        let mut freed = 0;
        self.entries.retain(|e| {
            let covered = e.tokens.len() <= tokens.len() && tokens.starts_with(&e.tokens);
            if covered {
                freed += e.bytes;
            }
            !covered
        });
        self.bytes -= freed;
        while self.bytes + bytes > self.budget {
            let oldest = self.entries.iter().enumerate().min_by_key(|(_, e)| e.used).map(|(i, _)| i).expect("over budget means an entry");
            self.bytes -= self.entries.swap_remove(oldest).bytes;
        }
        self.clock += 1;
        self.bytes += bytes;
        self.entries.push(Entry { tokens, value, bytes, used: self.clock });
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Length of the longest common prefix of `a` and `b`.
///
/// ```
/// assert_eq!(entropo_burn::engine::common_prefix(&[1, 2, 3], &[1, 2, 4, 5]), 2);
/// ```
pub fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever is inserted, the cache stays within budget, and every
        /// hit is a true common prefix of the query and some inserted sequence.
        #[test]
        fn bounded_and_never_wrong(
            inserts in proptest::collection::vec((proptest::collection::vec(0u32..4, 1..12), 1usize..60), 1..30),
            query in proptest::collection::vec(0u32..4, 1..12),
        ) {
            let mut cache = PrefixCache::new(100);
            for (tokens, bytes) in &inserts {
                cache.insert(tokens.clone(), tokens.clone(), *bytes);
                prop_assert!(cache.bytes() <= 100);
            }
            if let Some((len, tokens)) = cache.lookup(&query, usize::MAX) {
                prop_assert!(len > 0 && tokens[..len] == query[..len]);
                prop_assert!(inserts.iter().any(|(t, _)| *t == tokens));
                // No inserted sequence still held shares more.
                prop_assert!(cache.entries.iter().all(|e| common_prefix(&e.tokens, &query) <= len));
            }
        }
    }

    #[test]
    fn an_extension_replaces_its_prefix_and_oversized_values_are_dropped() {
        let mut cache = PrefixCache::new(10);
        cache.insert(vec![1, 2], 'a', 4);
        cache.insert(vec![1, 2, 3], 'b', 5);
        assert_eq!((cache.len(), cache.bytes()), (1, 5));
        cache.insert(vec![7], 'c', 11);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.lookup(&[1, 2], 1), Some((1, 'b')));
        assert_eq!(cache.lookup(&[8], 5), None);
    }
}
