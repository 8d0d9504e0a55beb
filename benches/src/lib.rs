//! Benchmark workloads and measurements: what `cargo bench` and
//! `cargo xtask bench` run. Not part of the tool or the library.

pub mod latency;
pub mod load;
pub mod measure;
pub mod sigv4_peer;
pub mod workload;
