//! Checked conversion of C arguments: strings, out-pointers, arrays.

use std::ffi::{c_char, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;

use crate::error::{Failure, Result};

fn c_str<'a>(p: *const c_char, what: &str) -> Result<&'a CStr> {
    if p.is_null() {
        return Err(Failure::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL; the C caller passes a NUL-terminated string valid for the call
    // (the documented contract of every `const char *` parameter).
    Ok(unsafe { CStr::from_ptr(p) })
}

/// A string that must be UTF-8 (names, JSON, host names).
pub(crate) fn text<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    c_str(p, what)?
        .to_str()
        .map_err(|_| Failure::invalid(format!("{what} is not valid UTF-8")))
}

/// A string taken as bytes (paths, arguments, environment): any bytes but NUL.
pub(crate) fn bytes<'a>(p: *const c_char, what: &str) -> Result<&'a OsStr> {
    Ok(OsStr::from_bytes(c_str(p, what)?.to_bytes()))
}

/// [`bytes`], or `None` for NULL.
pub(crate) fn opt_bytes<'a>(p: *const c_char, what: &str) -> Result<Option<&'a OsStr>> {
    if p.is_null() {
        Ok(None)
    } else {
        bytes(p, what).map(Some)
    }
}

/// A required out-pointer.
pub(crate) fn out<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T> {
    if p.is_null() {
        return Err(Failure::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and, by the documented contract, pointing to writable storage for
    // a `T` owned by the caller for the duration of the call.
    Ok(unsafe { &mut *p })
}

/// A C array `(p, n)`; NULL is allowed when `n` is 0.
pub(crate) fn slice<'a, T>(p: *const T, n: usize, what: &str) -> Result<&'a [T]> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::invalid(format!(
            "{what} is NULL but its length is {n}"
        )));
    }
    if n > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(Failure::invalid(format!("{what}: length {n} is too large")));
    }
    // SAFETY: non-NULL, length checked against isize::MAX; the caller passes `n` readable
    // elements (documented contract).
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// An array of `n` C strings taken as bytes.
pub(crate) fn string_array<'a>(
    p: *const *const c_char,
    n: usize,
    what: &str,
) -> Result<Vec<&'a OsStr>> {
    slice(p, n, what)?
        .iter()
        .enumerate()
        .map(|(i, s)| bytes(*s, &format!("{what}[{i}]")))
        .collect()
}
