#!/usr/bin/env bash
# Fuzzes every target of fuzz/ (cargo-fuzz, libFuzzer) for SECONDS each (default 300),
# then prints "target executions crashes" and fails if any target crashed.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]
#
# cargo-fuzz needs a nightly toolchain. Without one, the targets' checks run on stable
# over the committed corpus only (`cargo test --manifest-path fuzz/Cargo.toml`, what CI
# runs) and the script says so. The fuzzer writes what it finds into a scratch corpus
# (FUZZ_SCRATCH, default /tmp/cosocket-fuzz-corpus), never into fuzz/corpus (the
# committed seeds); crashing inputs land in fuzz/artifacts/<target>/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: bash scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
    exit 2
fi
scratch="${FUZZ_SCRATCH:-/tmp/cosocket-fuzz-corpus}"
targets=(until readers fragments host redis_reply memcached_reply dns_message http_head http_chunked)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    cargo test --manifest-path fuzz/Cargo.toml
    echo "fuzz: no nightly toolchain on this machine; the targets' checks ran on stable over the committed corpus only"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# The stable replay first: a seed that fails is a failure before any fuzzing.
cargo test --manifest-path fuzz/Cargo.toml
# Every target built once, so each one's time is spent fuzzing.
cargo +nightly fuzz build --fuzz-dir fuzz

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
declare -A execs crashed
failed=0
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    echo "==> fuzz $t for ${seconds}s"
    # Exit status: non-zero when libFuzzer found a crash (or a hang: -timeout, or a leak
    # of memory past -rss_limit_mb); the input is in fuzz/artifacts/$t/.
    if cargo +nightly fuzz run --fuzz-dir fuzz "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$logs/$t" 2>&1; then
        crashed[$t]=0
    else
        crashed[$t]=1
        failed=1
        grep -E "panicked|ERROR: libFuzzer|SUMMARY|Test unit written" "$logs/$t" | head -20 || true
    fi
    # libFuzzer's last words: "Done N runs in S second(s)", or after a crash the last
    # status line "#N ...".
    n="$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$logs/$t" | tail -1)"
    if [ -z "$n" ]; then
        n="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$logs/$t" | tail -1)"
    fi
    if [ -z "$n" ]; then
        n="$(sed -n 's/^#\([0-9]*\).*/\1/p' "$logs/$t" | tail -1)"
    fi
    execs[$t]="${n:-?}"
done

printf '\n%-18s %12s %8s\n' target executions crashes
for t in "${targets[@]}"; do
    printf '%-18s %12s %8s\n' "$t" "${execs[$t]}" "${crashed[$t]}"
done
if [ "$failed" -ne 0 ]; then
    echo "fuzz: a target crashed; reproduce with: cargo +nightly fuzz run --fuzz-dir fuzz TARGET fuzz/artifacts/TARGET/<file>" >&2
    exit 1
fi
