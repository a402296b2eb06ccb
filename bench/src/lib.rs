//! `make bench`: the measurements behind `docs/performance.md` (cold starts
//! against a Lambda Runtime API stand-in, peak memory, sizes, the requests
//! and capacity of each journey step, the cost model, many families at
//! once with their audit (`load`), the partition-load model built from that
//! run (`partitions`)), and the small
//! lambda_http "hello" every cold start is compared with. The criterion
//! benchmarks are `src/bin/bench-domain.rs`; `src/bin/bench-report.rs` runs
//! the rest and writes the report. Nothing here is a test: no timing is
//! ever asserted.

pub mod coldstart;
pub mod counter;
pub mod journey;
pub mod load;
pub mod machine;
pub mod partitions;
pub mod report;
pub mod stack;
