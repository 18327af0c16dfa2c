//! SHA-1 digests of a batch of messages. Without the SHA instructions
//! (most x86 servers before 2020), one message at a time SHA-1 was the
//! largest cost of indexing: its rounds depend on each other. Eight
//! messages side by side, one in each 32-bit lane of an AVX2 register, take
//! about a third of the time per byte.

use sha1::{Digest, Sha1};

/// The SHA-1 digest of each message, in order.
pub fn sha1_each(messages: &[&[u8]]) -> Vec<[u8; 20]> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked on the line above.
        return unsafe { lanes::sha1_each(messages) };
    }
    messages.iter().map(|m| sha1_one(m)).collect()
}

/// The SHA-1 digest of one message, one block at a time.
pub fn sha1_one(message: &[u8]) -> [u8; 20] {
    Sha1::digest(message).into()
}

/// Blocks SHA-1 reads for a message of `len` bytes, padding included.
fn block_count(len: usize) -> usize {
    (len + 8) / 64 + 1
}

/// Block `index` of `block_count(message.len())` as SHA-1 pads the message.
fn padded_block(message: &[u8], index: usize) -> [u8; 64] {
    let start = index.saturating_mul(64);
    let mut block = [0u8; 64];
    let data = message.get(start..).unwrap_or_default();
    let take = data.len().min(64);
    block[..take].copy_from_slice(&data[..take]);
    if take < 64 && start <= message.len() {
        block[take] = 0x80;
    }
    if index + 1 == block_count(message.len()) {
        let bits = (message.len() as u64).wrapping_mul(8);
        block[56..].copy_from_slice(&bits.to_be_bytes());
    }
    block
}

#[cfg(target_arch = "x86_64")]
mod lanes {
    use super::{block_count, padded_block};
    use sha1::digest::generic_array::GenericArray;
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi32, _mm256_and_si256, _mm256_extract_epi32, _mm256_or_si256,
        _mm256_set1_epi32, _mm256_set_epi32, _mm256_slli_epi32, _mm256_srli_epi32,
        _mm256_xor_si256,
    };

    /// Messages hashed side by side: the 32-bit lanes of a 256-bit register.
    const LANES: usize = 8;
    /// With this few messages left in flight, each finishes alone: a
    /// nearly empty register is slower than one message at a time.
    const MIN_BUSY_LANES: usize = 3;

    const IV: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];

    type Word = __m256i;

    /// A message in a lane: its index and the next block to read.
    #[derive(Clone, Copy)]
    struct Lane {
        message: usize,
        next: usize,
        count: usize,
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn sha1_each(messages: &[&[u8]]) -> Vec<[u8; 20]> {
        let mut digests = vec![[0u8; 20]; messages.len()];
        // Longest first: the messages that start last are short, so lanes
        // finish close together.
        let mut queue: Vec<usize> = (0..messages.len()).collect();
        queue.sort_by_key(|&i| std::cmp::Reverse(messages[i].len()));
        let mut queue = queue.into_iter();
        let mut lanes: [Option<Lane>; LANES] = [None; LANES];
        let mut state = [[0u32; LANES]; 5];
        let mut blocks = [[0u8; 64]; LANES];
        loop {
            for (i, slot) in lanes.iter_mut().enumerate() {
                if slot.is_none() {
                    if let Some(message) = queue.next() {
                        let count = block_count(messages[message].len());
                        *slot = Some(Lane {
                            message,
                            next: 0,
                            count,
                        });
                        for (word, iv) in state.iter_mut().zip(IV) {
                            word[i] = iv;
                        }
                    }
                }
            }
            let busy = lanes.iter().flatten().count();
            if busy < MIN_BUSY_LANES {
                break;
            }
            for (block, lane) in blocks.iter_mut().zip(&lanes) {
                if let Some(lane) = lane {
                    *block = padded_block(messages[lane.message], lane.next);
                }
            }
            compress(&mut state, &blocks);
            for (i, slot) in lanes.iter_mut().enumerate() {
                let Some(lane) = slot else { continue };
                lane.next += 1;
                if lane.next == lane.count {
                    digests[lane.message] = digest_of(&state, i);
                    *slot = None;
                }
            }
        }
        // The last messages, each from where its lane stopped.
        for (i, lane) in lanes.iter().enumerate() {
            let Some(lane) = lane else { continue };
            let message = messages[lane.message];
            let mut h: [u32; 5] = std::array::from_fn(|k| state[k][i]);
            let full = message.len() / 64;
            if lane.next < full {
                let blocks: Vec<_> = message[lane.next * 64..full * 64]
                    .chunks_exact(64)
                    .map(GenericArray::clone_from_slice)
                    .collect();
                sha1::compress(&mut h, &blocks);
            }
            for index in lane.next.max(full)..lane.count {
                let block = padded_block(message, index);
                sha1::compress(&mut h, &[GenericArray::from(block)]);
            }
            let mut state = [[0u32; LANES]; 5];
            for (word, v) in state.iter_mut().zip(h) {
                word[i] = v;
            }
            digests[lane.message] = digest_of(&state, i);
        }
        digests
    }

    fn digest_of(state: &[[u32; LANES]; 5], lane: usize) -> [u8; 20] {
        let mut out = [0u8; 20];
        for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
            bytes.copy_from_slice(&word[lane].to_be_bytes());
        }
        out
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn pack(l: [u32; LANES]) -> Word {
        let l = l.map(|v| v as i32);
        _mm256_set_epi32(l[7], l[6], l[5], l[4], l[3], l[2], l[1], l[0])
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn unpack(x: Word) -> [u32; LANES] {
        [
            _mm256_extract_epi32::<0>(x),
            _mm256_extract_epi32::<1>(x),
            _mm256_extract_epi32::<2>(x),
            _mm256_extract_epi32::<3>(x),
            _mm256_extract_epi32::<4>(x),
            _mm256_extract_epi32::<5>(x),
            _mm256_extract_epi32::<6>(x),
            _mm256_extract_epi32::<7>(x),
        ]
        .map(|v| v as u32)
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn xor(a: Word, b: Word) -> Word {
        _mm256_xor_si256(a, b)
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn add(a: Word, b: Word) -> Word {
        _mm256_add_epi32(a, b)
    }

    macro_rules! rotl {
        ($n:literal, $x:expr) => {{
            let x = $x;
            _mm256_or_si256(
                _mm256_slli_epi32::<$n>(x),
                _mm256_srli_epi32::<{ 32 - $n }>(x),
            )
        }};
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn ch(b: Word, c: Word, d: Word) -> Word {
        xor(d, _mm256_and_si256(b, xor(c, d)))
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn parity(b: Word, c: Word, d: Word) -> Word {
        xor(xor(b, c), d)
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn maj(b: Word, c: Word, d: Word) -> Word {
        _mm256_or_si256(
            _mm256_and_si256(b, c),
            _mm256_and_si256(d, _mm256_or_si256(b, c)),
        )
    }

    /// One 64-byte block of every lane (FIPS 180-4 §6.1.2, the schedule
    /// kept as a ring of 16 words).
    // The last rounds' schedule words are stored and never read.
    #[allow(unused_assignments)]
    #[inline]
    #[target_feature(enable = "avx2")]
    fn compress(state: &mut [[u32; LANES]; 5], blocks: &[[u8; 64]; LANES]) {
        let mut w: [Word; 16] =
            std::array::from_fn(|i| {
                pack(blocks.map(|b| {
                    u32::from_be_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
                }))
            });
        let [mut a, mut b, mut c, mut d, mut e] = state.map(|s| pack(s));
        macro_rules! load {
            ($i:expr) => {
                w[$i]
            };
        }
        macro_rules! schedule {
            ($i:expr) => {{
                let v = rotl!(
                    1,
                    xor(
                        xor(w[($i + 13) & 15], w[($i + 8) & 15]),
                        xor(w[($i + 2) & 15], w[$i & 15]),
                    )
                );
                w[$i & 15] = v;
                v
            }};
        }
        // The five registers rotate by renaming, not by moving.
        macro_rules! round {
            ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $k:expr, $w:expr) => {{
                let wk = add($w, _mm256_set1_epi32($k as i32));
                $e = add(add($e, rotl!(5, $a)), add($f($b, $c, $d), wk));
                $b = rotl!(30, $b);
            }};
        }
        macro_rules! five {
            ($i:expr, $f:ident, $k:expr, $w:ident) => {
                round!(a, b, c, d, e, $f, $k, $w!($i));
                round!(e, a, b, c, d, $f, $k, $w!($i + 1));
                round!(d, e, a, b, c, $f, $k, $w!($i + 2));
                round!(c, d, e, a, b, $f, $k, $w!($i + 3));
                round!(b, c, d, e, a, $f, $k, $w!($i + 4));
            };
        }
        const K: [u32; 4] = [0x5A82_7999, 0x6ED9_EBA1, 0x8F1B_BCDC, 0xCA62_C1D6];
        five!(0, ch, K[0], load);
        five!(5, ch, K[0], load);
        five!(10, ch, K[0], load);
        round!(a, b, c, d, e, ch, K[0], w[15]);
        round!(e, a, b, c, d, ch, K[0], schedule!(16));
        round!(d, e, a, b, c, ch, K[0], schedule!(17));
        round!(c, d, e, a, b, ch, K[0], schedule!(18));
        round!(b, c, d, e, a, ch, K[0], schedule!(19));
        five!(20, parity, K[1], schedule);
        five!(25, parity, K[1], schedule);
        five!(30, parity, K[1], schedule);
        five!(35, parity, K[1], schedule);
        five!(40, maj, K[2], schedule);
        five!(45, maj, K[2], schedule);
        five!(50, maj, K[2], schedule);
        five!(55, maj, K[2], schedule);
        five!(60, parity, K[3], schedule);
        five!(65, parity, K[3], schedule);
        five!(70, parity, K[3], schedule);
        five!(75, parity, K[3], schedule);
        for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
            *s = unpack(add(pack(*s), v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_digests_equal_one_at_a_time() {
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        // Lengths around the padding's edges, and a long one among short
        // ones so that the last lanes finish alone.
        let mut lengths: Vec<usize> = (0..=130).chain([1000, 4095, 6000, 150_000]).collect();
        lengths.extend((0..300).map(|i| (i * 7919) % 9000));
        for count in [0, 1, 2, 3, 8, 9, 17, lengths.len()] {
            let messages: Vec<&[u8]> = lengths[..count]
                .iter()
                .enumerate()
                .map(|(i, &n)| &data[i..i + n])
                .collect();
            let expected: Vec<[u8; 20]> = messages.iter().map(|m| sha1_one(m)).collect();
            assert_eq!(sha1_each(&messages), expected, "{count} messages");
        }
    }

    #[test]
    fn padded_blocks_end_with_the_bit_length() {
        let message = [b'a'; 56];
        assert_eq!(block_count(55), 1);
        assert_eq!(block_count(56), 2);
        assert_eq!(block_count(64), 2);
        let last = padded_block(&message, 1);
        assert_eq!(&last[56..], &(56u64 * 8).to_be_bytes());
        assert_eq!(padded_block(&message, 0)[56], 0x80);
    }
}
