//! Support code for the `dcrpeer` tool and the examples.

pub mod chain;
