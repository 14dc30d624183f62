//! Native-endian words in and out of the fixed-size records the child, the init and the
//! engine exchange over pipes ([`crate::stage::ErrorRecord`], [`crate::init_proto::Event`]).
//! Allocation-free; also compiled into the init.

/// A fixed-size integer that travels in native byte order.
pub trait Word: Copy + Default {
    /// Its size in bytes.
    const SIZE: usize;
    /// Write it into `out` (exactly `SIZE` bytes).
    fn put(self, out: &mut [u8]);
    /// Read it from `b` (exactly `SIZE` bytes).
    fn get(b: &[u8]) -> Self;
}

macro_rules! word {
    ($t:ty) => {
        impl Word for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            fn put(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_ne_bytes());
            }
            fn get(b: &[u8]) -> Self {
                let mut w = [0u8; core::mem::size_of::<$t>()];
                w.copy_from_slice(b);
                <$t>::from_ne_bytes(w)
            }
        }
    };
}
word!(u32);
word!(i64);

/// Write `words` one after the other at the start of `out` (as many as fit).
pub fn put<T: Word>(out: &mut [u8], words: &[T]) {
    for (chunk, w) in out.chunks_exact_mut(T::SIZE).zip(words) {
        w.put(chunk);
    }
}

/// Read `N` words from the start of `b` (zero for those beyond its end).
pub fn get<T: Word, const N: usize>(b: &[u8]) -> [T; N] {
    let mut words = [T::default(); N];
    for (slot, chunk) in words.iter_mut().zip(b.chunks_exact(T::SIZE)) {
        *slot = T::get(chunk);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_back_as_written_and_missing_ones_are_zero() {
        let mut b = [0u8; 12];
        put(&mut b, &[1u32, 0xdead_beef, 3, 4]);
        assert_eq!(get::<u32, 4>(&b), [1, 0xdead_beef, 3, 0]);
        put(&mut b[4..], &[-2i64]);
        assert_eq!(get::<i64, 1>(&b[4..]), [-2]);
    }
}
