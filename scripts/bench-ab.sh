#!/usr/bin/env bash
# Same-run A/B of the benchmarks' cosocket cases: REV (the baseline, built in a temporary
# worktree) against the work tree. Prints a table of medians and B / A (bench/ab.py).
#
#   bash scripts/bench-ab.sh REV [--reps N] [--clients] [--only …]
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: scripts/bench-ab.sh REV [bench/ab.py options]}
shift
tools=(gcc taskset python3)
# --clients: §5's servers too.
case " $* " in *" --clients "*) tools+=(redis-server memcached nginx) ;; esac
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/bench.sh installs it)" >&2; exit 1; }
done
case " $* " in *" --clients "*)
    { command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ]; } ||
        { echo "dnsmasq is missing (scripts/bench.sh installs it)" >&2; exit 1; } ;;
esac
base=$(mktemp -d)
trap 'git worktree remove --force "$base/tree" 2>/dev/null || true; rm -rf "$base"' EXIT
git worktree add --detach "$base/tree" "$rev" >/dev/null
echo "==> release build of $rev"
(cd "$base/tree" && cargo build --release --locked -p cosocket-bench --target-dir "$base/target")
echo "==> release build of the work tree"
cargo build --release --locked -p cosocket-bench
python3 bench/ab.py --a "$base/target/release/cosocket-bench" --b target/release/cosocket-bench "$@"
