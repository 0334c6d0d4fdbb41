#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md, end to end, on a fresh Debian machine: installs what it
# needs (OpenResty's half: nginx + lua-nginx-module; strace; gcc for the blaster), builds in
# release mode, runs each measurement with its baseline in the same run (bench/run.py) and
# writes the tables into BENCHMARKS.md. Extra arguments go to bench/run.py (e.g. --quick,
# --only stream, --only clients, --reps 7). About 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Debian packages"
need=()
command -v nginx >/dev/null || need+=(nginx-light)
[ -e /usr/lib/nginx/modules/ngx_http_lua_module.so ] || need+=(libnginx-mod-http-lua)
[ -e /usr/share/lua/5.1/resty/core.lua ] || need+=(lua-resty-core lua-resty-lrucache)
# §5, the clients: the servers and OpenResty's own clients.
command -v redis-server >/dev/null || need+=(redis-server)
command -v memcached >/dev/null || need+=(memcached)
# dnsmasq-base: the binary without a system service.
{ command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ]; } || need+=(dnsmasq-base)
[ -e /usr/share/lua/5.1/nginx/redis.lua ] || need+=(lua-nginx-redis)
[ -e /usr/share/lua/5.1/nginx/memcached.lua ] || need+=(lua-nginx-memcached)
command -v strace >/dev/null || need+=(strace)
command -v gcc >/dev/null || need+=(gcc)
command -v taskset >/dev/null || need+=(util-linux)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing: ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
        exit 1
    fi
    apt-get update -qq
    # The nginx package starts a system nginx on port 80 where it can: stop it, the
    # benchmark starts its own on a free loopback port.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    if pgrep -x nginx >/dev/null; then nginx -s quit 2>/dev/null || true; fi
fi

step "release build"
cargo build --release --locked -p cosocket-bench

step "benchmarks (bench/run.py)"
python3 bench/run.py --bin target/release/cosocket-bench --write --command "bash scripts/bench.sh $*" "$@"
