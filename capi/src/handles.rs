//! The registry of live handles: every pointer given to C is recorded with its type until
//! its `_free`, so a NULL, freed, foreign or wrongly typed handle is refused with an error
//! instead of being dereferenced.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::error::{Failure, Result};

/// A type handed to C behind an opaque pointer.
pub(crate) trait Handle: Sized {
    /// The C type name, for messages and the registry.
    const NAME: &'static str;
}

static LIVE: Mutex<Option<HashSet<(usize, &'static str)>>> = Mutex::new(None);

/// The registry's key for a pointer: the address with its bits flipped, so that the
/// registry does not hold the pointer itself and leak checkers (valgrind, LeakSanitizer)
/// still see a handle the caller forgot to free as lost.
fn key<T: Handle>(p: *const T) -> (usize, &'static str) {
    (!(p as usize), T::NAME)
}

fn with_live<T>(f: impl FnOnce(&mut HashSet<(usize, &'static str)>) -> T) -> T {
    let mut g = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(HashSet::new))
}

/// Move `value` to the heap and record it.
pub(crate) fn new_handle<T: Handle>(value: T) -> *mut T {
    let p = Box::into_raw(Box::new(value));
    with_live(|l| l.insert(key(p)));
    p
}

fn check<T: Handle>(p: *const T) -> Result<()> {
    if p.is_null() {
        return Err(Failure::invalid(format!("{} is NULL", T::NAME)));
    }
    if !with_live(|l| l.contains(&key(p))) {
        return Err(Failure::invalid(format!(
            "{} {p:p} is not a live handle (freed, or not made by this library)",
            T::NAME
        )));
    }
    Ok(())
}

/// Borrow a live handle.
///
/// # Safety
/// No other thread may free or change the handle during the borrow (the documented
/// threading rules of each function).
pub(crate) unsafe fn handle_ref<'a, T: Handle>(p: *const T) -> Result<&'a T> {
    check(p)?;
    // SAFETY: `p` came from `new_handle` (Box::into_raw) and is still registered, so it
    // points to a live `T`; the caller guarantees no concurrent free or mutation.
    Ok(unsafe { &*p })
}

/// Borrow a live handle mutably.
///
/// # Safety
/// As [`handle_ref`], and no other thread may use the handle during the borrow.
pub(crate) unsafe fn handle_mut<'a, T: Handle>(p: *mut T) -> Result<&'a mut T> {
    check(p)?;
    // SAFETY: as in `handle_ref`; exclusivity is the caller's documented duty.
    Ok(unsafe { &mut *p })
}

/// Unregister and drop a handle. NULL is accepted and ignored; an unknown pointer is an
/// error (and is not touched).
///
/// # Safety
/// No other thread may use the handle at the same time.
pub(crate) unsafe fn free_handle<T: Handle>(p: *mut T) -> Result<()> {
    if p.is_null() {
        return Ok(());
    }
    if !with_live(|l| l.remove(&key(p))) {
        return Err(Failure::invalid(format!(
            "{} {p:p} is not a live handle (freed twice?)",
            T::NAME
        )));
    }
    // SAFETY: the pointer was registered, i.e. made by Box::into_raw and not freed since;
    // it is now unregistered, so no later call can reach it.
    drop(unsafe { Box::from_raw(p) });
    Ok(())
}
