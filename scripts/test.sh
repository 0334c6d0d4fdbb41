#!/usr/bin/env bash
# Runs every test of the workspace, on a fresh Debian machine as on a developer's.
# Installs what the tests need first; every step must pass.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain and tools"
if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install Rust (rustup) first" >&2
    exit 1
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
# python3 runs the parity comparison (Foundation 3); install it where it is missing.
if ! command -v python3 >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3
fi
# The TLS server cases (conformance `tls_servers`) run a real `openssl s_server` and nginx
# with `ssl` (Debian's `nginx` package holds /usr/sbin/nginx, often outside a user's PATH).
# The client libraries' tests (clients/) run real redis-server, memcached, dnsmasq and
# nginx processes, started by the tests on free loopback ports and stopped by PID
# (dnsmasq-base: the binary without a system service).
missing=()
command -v openssl >/dev/null || missing+=(openssl)
{ command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || missing+=(nginx)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v memcached >/dev/null || missing+=(memcached)
{ command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ]; } || missing+=(dnsmasq-base)
# OpenResty's own clients (lua-resty-redis, lua-resty-memcached in nginx with
# lua-nginx-module), which the client tests compare their results with.
[ -e /usr/lib/nginx/modules/ngx_http_lua_module.so ] || missing+=(libnginx-mod-http-lua)
[ -e /usr/share/lua/5.1/resty/core.lua ] || missing+=(lua-resty-core lua-resty-lrucache)
[ -e /usr/share/lua/5.1/nginx/redis.lua ] || missing+=(lua-nginx-redis)
[ -e /usr/share/lua/5.1/nginx/memcached.lua ] || missing+=(lua-nginx-memcached)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, all features, warnings denied)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "fuzz targets (fuzz/, a workspace of its own): fmt, clippy, their checks over the committed corpus"
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --manifest-path fuzz/Cargo.toml --all-targets --locked -- -D warnings
cargo test --manifest-path fuzz/Cargo.toml --locked

step "cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked

step "the facade with no feature, each feature alone, and all"
cargo check -p cosocket --locked --no-default-features
cargo check -p cosocket --locked --no-default-features --features tokio
cargo check -p cosocket --locked --no-default-features --features smol
cargo check -p cosocket --locked --no-default-features --features tls
cargo check -p cosocket --locked --no-default-features --features tokio,tls
cargo check -p cosocket --locked --no-default-features --features smol,tls-native-roots
cargo check -p cosocket --locked --all-features

step "the conformance suite without the in-tree backends (what a third-party backend gets)"
cargo check -p cosocket-conformance --locked --no-default-features
if cargo tree -p cosocket-conformance --locked --no-default-features -e normal \
    | grep -E '(^| )(tokio|smol|async-io|cosocket-tokio|cosocket-smol) v'; then
    echo "cosocket-conformance without features must not depend on a runtime" >&2
    exit 1
fi

step "every test (unit, property, spec examples, backend contract, conformance, clients, doc tests)"
# A hung test must not stall CI: the whole run is bounded.
timeout 1800 cargo test --workspace --all-features --locked

step "the examples, run (each asserts what it prints)"
for example in quickstart pooling proxy; do
    timeout 120 cargo run -q -p cosocket --example "$example" --features tokio --locked >/dev/null
done
# The TLS example starts a real `openssl s_server` and checks a verified request and a
# resumed session.
timeout 120 cargo run -q -p cosocket --example tls --features tokio,tls --locked >/dev/null
# Each client library's example starts its own real server and asserts what it prints,
# on each backend.
for client in redis memcached dns http; do
    for backend in tokio smol; do
        timeout 120 cargo run -q -p "cosocket-$client" --example "$client" --features "$backend" \
            --locked >/dev/null
    done
done

step "parity with OpenResty's recordings (tokio current-thread, tokio multi-thread, smol)"
bash scripts/parity.sh

# Each target under libFuzzer for a bounded time when a nightly toolchain is here (the
# script says plainly when it is not, after the stable replay). 20 s keeps the whole
# command under 30 minutes; `bash scripts/fuzz.sh 600` is the long run (RELIABILITY.md).
step "fuzzing, ${FUZZ_SECONDS:-20} s per target (needs nightly)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
