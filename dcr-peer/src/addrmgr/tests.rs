//! Tests of the rules across the module.
