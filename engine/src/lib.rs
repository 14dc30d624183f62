//! placeholder

pub mod landlock;
