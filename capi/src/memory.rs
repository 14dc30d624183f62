//! Memory handed to C: strings and byte buffers with their length, and their free
//! functions.

use std::ffi::{c_char, CString};

use crate::error::{guard, Failure, Result};

/// A string for C (`*out` = pointer, `*len` = length without the NUL).
pub(crate) fn give_string(s: String, out: &mut *mut c_char, len: Option<&mut usize>) -> Result<()> {
    let n = s.len();
    let c = CString::new(s).map_err(|_| Failure::invalid("text contains a NUL byte"))?;
    *out = c.into_raw();
    if let Some(l) = len {
        *l = n;
    }
    Ok(())
}

/// A byte buffer for C (`*out` = pointer, NULL when empty; `*len` = length).
pub(crate) fn give_buffer(v: Vec<u8>, out: &mut *mut u8, len: &mut usize) {
    *len = v.len();
    *out = if v.is_empty() {
        std::ptr::null_mut()
    } else {
        Box::into_raw(v.into_boxed_slice()).cast::<u8>()
    };
}

/// Free a string returned by the library (`hakoniwa_status_to_json`,
/// `hakoniwa_container_to_json`). NULL is ignored.
///
/// # Safety
/// `s` must come from this library and not have been freed.
///
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn hakoniwa_string_free(s: *mut c_char) {
    guard(
        |_| (),
        || {
            if !s.is_null() {
                // SAFETY: made by CString::into_raw in `give_string` (the caller's contract).
                drop(unsafe { CString::from_raw(s) });
            }
            Ok(())
        },
    )
}

/// Free a byte buffer returned by the library with its length (captured output). NULL is
/// ignored.
///
/// # Safety
/// `data` and `len` must be exactly as returned, and not freed before.
///
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn hakoniwa_buffer_free(data: *mut u8, len: usize) {
    guard(
        |_| (),
        || {
            if !data.is_null() {
                let slice = std::ptr::slice_from_raw_parts_mut(data, len);
                // SAFETY: made by Box::into_raw of a boxed slice of `len` bytes in
                // `give_buffer` (the caller's contract).
                drop(unsafe { Box::from_raw(slice) });
            }
            Ok(())
        },
    )
}
