//! gflab's test cases and the GlusterFS test library (owned by the runner work).
#![forbid(unsafe_code)]
