//! The CLI's heap: a bump region for the short life of `hakoniwa`, in front of the system
//! allocator.
//!
//! Start-up allocates about a thousand small blocks (clap's tree of every flag, the
//! settings, the engine's plan) and frees most of them soon after. musl's allocator serves
//! that with fresh `mmap`s and hands them back with `munmap` as soon as a group empties:
//! about 55 such calls and their page faults before the sandbox is even cloned, more time
//! than the parsing itself. Here blocks are carved one after another from one region in
//! `.bss` (no system call; each page faults in once, on first use), and a freed block is
//! taken back only when it is the last one carved (the stack-like pattern of temporaries
//! and growing vectors). Whatever else is freed stays unused.
//!
//! The waste is bounded: the region is [`SIZE`] bytes, and once it is full, and for any
//! block larger than [`LARGEST`], the system allocator serves as before. The supervisor's
//! resident memory grows by at most the pages start-up touches in the region.
//! Thread safe: the region's top moves by compare-and-swap only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes in the region.
pub const SIZE: usize = 256 * 1024;
/// Larger blocks always come from the system allocator (a big buffer must not use up the
/// region that start-up's many small blocks need).
pub const LARGEST: usize = SIZE / 4;

#[repr(C, align(4096))]
struct Region(UnsafeCell<[u8; SIZE]>);

/// The bump region and the system allocator behind it.
pub struct Arena {
    region: Region,
    /// Offset of the first free byte in `region`.
    top: AtomicUsize,
}

// SAFETY: the region's bytes are handed out in disjoint blocks, each reserved by a
// compare-and-swap on `top` before it is returned; nothing reads or writes the region
// through `Arena` itself.
unsafe impl Sync for Arena {}

impl Arena {
    /// An empty arena (all zero: the static lands in `.bss`).
    pub const fn new() -> Arena {
        Arena {
            region: Region(UnsafeCell::new([0; SIZE])),
            top: AtomicUsize::new(0),
        }
    }

    fn base(&self) -> usize {
        self.region.0.get() as usize
    }

    /// The block's offset in the region, if it was carved from it.
    fn offset_of(&self, ptr: *mut u8) -> Option<usize> {
        (ptr as usize)
            .checked_sub(self.base())
            .filter(|&o| o < SIZE)
    }

    /// Carve `layout` from the region, or `None` when it does not fit.
    fn carve(&self, layout: Layout) -> Option<*mut u8> {
        if layout.size() > LARGEST {
            return None;
        }
        let base = self.base();
        let mut top = self.top.load(Ordering::Acquire);
        loop {
            let start = (base + top).next_multiple_of(layout.align()) - base;
            let end = start.checked_add(layout.size())?;
            if end > SIZE {
                return None;
            }
            match self
                .top
                .compare_exchange_weak(top, end, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some((base + start) as *mut u8),
                Err(now) => top = now,
            }
        }
    }

    /// Move the top from `from` to `to` if nothing was carved since (best effort).
    fn move_top(&self, from: usize, to: usize) -> bool {
        self.top
            .compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

impl Default for Arena {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every block returned is either a disjoint, suitably aligned part of the region
// (reserved by `carve`'s compare-and-swap, never handed out twice while live: the top only
// moves back over a block that its owner frees or shrinks) or comes from `System`, to which
// blocks outside the region are returned.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.carve(layout) {
            Some(p) => p,
            // SAFETY: the caller's layout, passed on unchanged.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match self.offset_of(ptr) {
            // The last block carved: the region takes it back; any other stays unused.
            Some(off) => {
                self.move_top(off + layout.size(), off);
            }
            // SAFETY: a block `System` allocated with this layout (it is not the region's).
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(off) = self.offset_of(ptr) else {
            // SAFETY: a `System` block with this layout; the caller's new size.
            return unsafe { System.realloc(ptr, layout, new_size) };
        };
        let old_end = off + layout.size();
        // The last block carved grows or shrinks in place while it fits the region.
        if off + new_size <= SIZE && self.move_top(old_end, off + new_size) {
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: the caller guarantees that `new_size`, rounded up to the alignment, does
        // not overflow `isize` (GlobalAlloc::realloc's contract).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a non-zero size (larger than the old one).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live and disjoint (the old one is still reserved), and
            // at least `layout.size()` bytes long.
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size()) };
            // SAFETY: the old block, no longer used.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn blocks_come_from_the_region_aligned_and_disjoint() {
        let a = Box::new(Arena::new());
        let l1 = layout(3, 1);
        let l2 = layout(64, 64);
        // SAFETY: non-zero layouts; the blocks are freed with them.
        let (p, q) = unsafe { (a.alloc(l1), a.alloc(l2)) };
        assert!(a.offset_of(p).is_some() && a.offset_of(q).is_some());
        assert_eq!(q as usize % 64, 0);
        assert!(q as usize >= p as usize + 3);
        // SAFETY: as allocated.
        unsafe {
            a.dealloc(q, l2);
            a.dealloc(p, l1);
        }
    }

    #[test]
    fn the_last_block_freed_is_taken_back_and_an_earlier_one_is_not() {
        let a = Box::new(Arena::new());
        let l = layout(96, 8);
        // SAFETY: as in the test above.
        unsafe {
            let p = a.alloc(l);
            let q = a.alloc(l);
            a.dealloc(p, l);
            assert_eq!(
                a.top.load(Ordering::Relaxed),
                192,
                "an earlier block stays used"
            );
            a.dealloc(q, l);
            assert_eq!(
                a.top.load(Ordering::Relaxed),
                96,
                "the last block is taken back"
            );
        }
    }

    #[test]
    fn the_last_block_grows_in_place_and_another_moves_with_its_bytes() {
        let a = Box::new(Arena::new());
        let l = layout(8, 8);
        // SAFETY: as above; every pointer used is live.
        unsafe {
            let p = a.alloc(l);
            p.write_bytes(7, 8);
            let p2 = a.realloc(p, l, 32);
            assert_eq!(p2, p, "the last block grows in place");
            let q = a.alloc(l);
            let p3 = a.realloc(p2, layout(32, 8), 64);
            assert_ne!(p3, p2, "a block with another after it moves");
            assert_eq!(std::slice::from_raw_parts(p3, 8), [7; 8]);
            a.dealloc(p3, layout(64, 8));
            a.dealloc(q, l);
        }
    }

    #[test]
    fn a_full_region_and_large_blocks_fall_back_to_the_system_allocator() {
        let a = Box::new(Arena::new());
        let big = layout(LARGEST + 1, 8);
        let chunk = layout(LARGEST, 8);
        // SAFETY: as above.
        unsafe {
            let b = a.alloc(big);
            assert!(
                !b.is_null() && a.offset_of(b).is_none(),
                "too large for the region"
            );
            a.dealloc(b, big);
            let chunks: Vec<*mut u8> = (0..SIZE / LARGEST).map(|_| a.alloc(chunk)).collect();
            assert!(chunks.iter().all(|&c| a.offset_of(c).is_some()));
            let more = a.alloc(layout(16, 8));
            assert!(
                !more.is_null() && a.offset_of(more).is_none(),
                "the region is full"
            );
            // A region block that grows beyond the region moves to the system allocator.
            let last = *chunks.last().unwrap();
            last.write_bytes(5, 16);
            let moved = a.realloc(last, chunk, LARGEST + 8);
            assert!(a.offset_of(moved).is_none());
            assert_eq!(std::slice::from_raw_parts(moved, 16), [5; 16]);
            a.dealloc(moved, layout(LARGEST + 8, 8));
            a.dealloc(more, layout(16, 8));
        }
    }

    #[test]
    fn threads_carving_at_once_get_disjoint_blocks() {
        let a: &'static Arena = Box::leak(Box::new(Arena::new()));
        let l = layout(24, 8);
        let blocks: Vec<Vec<usize>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        // SAFETY: a non-zero layout; the blocks are never freed (leaked arena).
                        (0..500).map(|_| unsafe { a.alloc(l) } as usize).collect()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<usize> = blocks.into_iter().flatten().collect();
        all.sort_unstable();
        assert!(
            all.windows(2).all(|w| w[1] - w[0] >= 24),
            "overlapping blocks"
        );
    }
}
