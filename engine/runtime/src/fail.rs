//! The child's error value: which stage failed, the errno, and the plan entry concerned.

use crate::stage::{ErrorRecord, Stage, RECORD_MAGIC};

/// A setup failure inside the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fail {
    /// Stage that failed.
    pub stage: Stage,
    /// Positive errno.
    pub errno: i32,
    /// Plan entry concerned, or [`crate::stage::NO_INDEX`].
    pub index: u32,
}

impl Fail {
    /// A failure at `stage`.
    pub const fn new(stage: Stage, errno: i32, index: u32) -> Self {
        Fail {
            stage,
            errno,
            index,
        }
    }

    /// The record sent to the parent.
    pub fn record(&self) -> ErrorRecord {
        ErrorRecord {
            magic: RECORD_MAGIC,
            stage: self.stage as u32,
            errno: self.errno,
            index: self.index,
        }
    }
}

/// Attach a stage and index to a raw errno result.
pub trait Step<T> {
    /// Convert `Err(errno)` into a [`Fail`] at `stage`.
    fn at(self, stage: Stage, index: u32) -> Result<T, Fail>;
}

impl<T> Step<T> for Result<T, i32> {
    fn at(self, stage: Stage, index: u32) -> Result<T, Fail> {
        self.map_err(|e| Fail::new(stage, e, index))
    }
}
