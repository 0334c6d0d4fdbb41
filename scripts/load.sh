#!/usr/bin/env bash
# Issue 19's full-size load run, in release mode, on every harness (RELIABILITY.md records
# its figures): 10 000 connections open at once on one runtime thread, 1 000 000 requests
# through a pool with a backlog, the soak of pool churn with random peer closes and random
# cancellation (200 tasks x 1 000 cycles), the random driver (2 500 connections, about
# 75 000 random reads), and the 1 GiB hostile peer against every limited reader.
# `bash scripts/test.sh` runs the same at CI size. About 25 minutes on 2 cores (the soak
# is 5 minutes per harness).
set -euo pipefail
cd "$(dirname "$0")/.."
export COSOCKET_LOAD=full
cargo build --release -p cosocket-conformance --tests
cargo test --release -p cosocket-conformance --test load -- --nocapture
for t in tokio_current_thread tokio_multi_thread smol; do
  cargo test --release -p cosocket-conformance --test "$t" -- --exact \
    suite::x_pool_stress_random_cancellation --nocapture
  cargo test --release -p cosocket-conformance --test "$t" -- --exact \
    suite::x_random_driver --nocapture
done
cargo test --release -p cosocket-conformance --test read_limit_memory -- --nocapture
