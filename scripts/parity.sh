#!/usr/bin/env bash
# The parity test: runs every scenario of conformance/parity/scenarios on tokio
# (current-thread and multi-thread runtimes) and smol with the parity runner, scores
# each run against OpenResty's recordings with compare.py, and fails on any failing
# scenario not listed in conformance/parity/PENDING and on any listed one that passes.
set -euo pipefail
cd "$(dirname "$0")/.."

parity=conformance/parity
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "==> building the parity runner (release)"
cargo build --release --locked -p cosocket-conformance --bin parity
runner=target/release/parity

status=0
summary=()
run() {
    local label=$1
    shift
    echo
    echo "==> $label"
    # One line per scenario (its time, any op errors) goes to the log; shown on failure.
    if ! "$runner" "$@" --scenarios "$parity/scenarios" --out "$work/$label" \
        2> "$work/$label.log"; then
        cat "$work/$label.log" >&2
        echo "$label: the runner failed" >&2
        status=1
        summary+=("$label: the runner failed")
        return
    fi
    tail -n 1 "$work/$label.log"
    # compare.py exits 1 when anything fails; PENDING decides what that means.
    python3 "$parity/compare.py" "$parity/expected" "$work/$label" --verbose \
        | tee "$work/$label.txt" || true
    if ! python3 "$parity/pending.py" "$parity/PENDING" "$work/$label.txt" "$label" \
        > "$work/$label.score"; then
        status=1
    fi
    cat "$work/$label.score"
    summary+=("$(tail -n 1 "$work/$label.score")")
}

run tokio-current --backend tokio --flavor current
run tokio-multi --backend tokio --flavor multi
run smol --backend smol

echo
echo "==> parity summary"
printf '%s\n' "${summary[@]}"
exit $status
