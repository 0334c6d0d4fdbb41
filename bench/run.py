#!/usr/bin/env python3
"""cosocket's benchmark driver (scripts/bench.sh runs it; BENCHMARKS.md has the output).

Everything is measured in this one run, so every ratio compares figures taken on the same
machine within minutes of each other. Peers (the C blaster, the echo / sink / lines / hold
peers) run on CPU 0; the measured readers (cosocket's processes and OpenResty's one nginx
worker) on CPU 1. Every process listens on 127.0.0.1 only and is stopped by PID at the end.

usage: python3 bench/run.py --bin target/release/cosocket-bench [--reps 5] [--quick]
"""
import argparse
import random
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The data sets of shared/bench/openresty (same generator, same seed): lines.dat is
# 80,000 lines of 98 printable bytes + CRLF; multipart.dat 2,000 parts of 40 such lines
# (4000 bytes) each followed by "\r\n--boundary". The blaster repeats a file to the total.
LINE_LEN, LINES_PER_FILE, PART_LINES, PARTS_PER_FILE = 100, 80000, 40, 2000
BOUNDARY = b"\r\n--boundary"
BUFFER_SIZES = (4096, 65536)
# §5's HTTP files: name -> size.
CLIENT_FILES = {"small": 100, "large": 1 << 20}

NGINX_CONF = r"""
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
daemon off;
master_process on;
worker_processes 1;
{affinity}
error_log logs/error.log warn;
pid logs/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    lua_package_path "{lua}/?.lua;;";
    lua_ssl_protocols TLSv1.2 TLSv1.3;
    server {{
        listen 127.0.0.1:{port};
        location = /stream4096 {{ content_by_lua_block {{ require("bench").stream() }} }}
        location = /kv {{ content_by_lua_block {{ require("bench").kv() }} }}
        location /files/ {{ alias {www}/; }}
        location = /stream65536 {{
            lua_socket_buffer_size 64k;
            content_by_lua_block {{ require("bench").stream() }}
        }}
    }}
}}
"""


def gen_data(d):
    """shared/bench/openresty's generator, unchanged, so both harnesses read the same bytes."""
    import random
    rnd = random.Random(42)
    alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:_=+"

    def line():
        return bytes(rnd.choice(alphabet) for _ in range(LINE_LEN - 2)) + b"\r\n"
    pool = [line() for _ in range(997)]
    lines = b"".join(pool[i % 997] for i in range(LINES_PER_FILE))
    with open(os.path.join(d, "lines.dat"), "wb") as f:
        f.write(lines)
    part = b"".join(pool[(i * 7) % 997] for i in range(PART_LINES))
    with open(os.path.join(d, "multipart.dat"), "wb") as f:
        f.write((part + BOUNDARY) * PARTS_PER_FILE)
    return {"lines": len(lines), "multipart": (len(part) + len(BOUNDARY)) * PARTS_PER_FILE}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, name, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("%s exited early (status %s)" % (name, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on 127.0.0.1:%d" % (name, port))


class Procs:
    """Background processes, stopped by PID (in reverse order) whatever happens."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, port, sig=signal.SIGTERM, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append((name, p, sig))
        if port:
            wait_port(port, p, name)
        return p

    def stop(self, name=None):
        keep = []
        for n, p, sig in reversed(self.procs):
            if name is not None and n != name:
                keep.append((n, p, sig))
                continue
            if p.poll() is None:
                p.send_signal(sig)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = list(reversed(keep))


class Bench:
    def __init__(self, a):
        self.a = a
        self.two_cores = (os.cpu_count() or 1) >= 2
        self.procs = Procs()
        self.tmp = tempfile.mkdtemp(prefix="cosocket-bench-")

    # -- placement -------------------------------------------------------------------
    def peer(self, argv):
        return ["taskset", "-c", "0"] + argv if self.two_cores else argv

    def reader(self, argv):
        return ["taskset", "-c", "1"] + argv if self.two_cores else argv

    def run_bin(self, *args, wrap=None, timeout=900):
        argv = self.reader([self.a.bin] + [str(x) for x in args])
        if wrap:
            argv = wrap + argv
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), out.returncode,
                                                      out.stderr.decode(errors="replace")))
        return json.loads(out.stdout.decode().strip().splitlines()[-1])

    def start_peer(self, kind):
        port = free_port()
        self.procs.start(kind, self.peer([self.a.bin, "serve", "--kind", kind, "--port", str(port)]),
                         port, stderr=subprocess.DEVNULL)
        return port

    def start_nginx(self, name, cpu=1):
        """OpenResty's one worker in a prefix of its own under the run's temp dir; returns
        its port. On CPU 1 (with two cores) where it is the measured client (lua-resty-*),
        on CPU 0 where it is the server the measured clients talk to (§5's HTTP files)."""
        port = free_port()
        prefix = os.path.join(self.tmp, name)
        os.makedirs(os.path.join(prefix, "logs"))
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(
                affinity=("worker_cpu_affinity %s;" % ("10" if cpu == 1 else "01")) if self.two_cores else "",
                lua=os.path.join(HERE, "openresty", "lua"), port=port, www=os.path.join(self.tmp, "www")))
        self.procs.start("nginx", ["nginx", "-p", prefix, "-c", conf], port,
                         sig=signal.SIGQUIT, stderr=subprocess.DEVNULL)
        return port

    # -- §1 stream parsing ----------------------------------------------------------
    def stream(self):
        sizes = gen_data(self.tmp)
        files = self.a.files
        total = {k: v * files for k, v in sizes.items()}
        blaster = os.path.join(self.tmp, "blaster")
        subprocess.check_call(["gcc", "-O2", "-o", blaster, os.path.join(HERE, "openresty", "blaster.c")])
        blast_port = free_port()
        self.procs.start("blaster", self.peer([blaster, str(blast_port), self.tmp]), blast_port,
                         stderr=subprocess.DEVNULL)
        nginx_port = self.start_nginx("nginx")

        # (name, how, dataset, options); the cosocket readers run on both backends.
        cases = []
        for bs in BUFFER_SIZES:
            for mode, ds, size in [("line", "lines", None), ("fixed", "lines", 65536),
                                   ("any", "lines", 65536), ("until", "multipart", None),
                                   ("until_size", "multipart", 4096)]:
                cases.append(("openresty/%s/%d" % (mode, bs), "openresty", ds, dict(mode=mode, bs=bs, size=size)))
                for rt in ("tokio", "smol"):
                    reader = {"line": "co-line", "fixed": "co-fixed", "any": "co-any",
                              "until": "co-until", "until_size": "co-until-size"}[mode]
                    cases.append(("%s/%s/%d" % (rt, mode, bs), "bin", ds,
                                  dict(reader=reader, runtime=rt, bs=bs, size=size)))
            # The borrowed line (`receive_line_ref`): cosocket only, OpenResty has no such call.
            for rt in ("tokio", "smol"):
                cases.append(("%s/line_ref/%d" % (rt, bs), "bin", "lines",
                              dict(reader="co-line-ref", runtime=rt, bs=bs, size=None)))
            for reader in ("raw-std", "raw-tokio", "raw-asyncio"):
                cases.append(("%s/%d" % (reader, bs), "bin", "lines", dict(reader=reader, runtime="tokio", bs=bs)))
            for reader in ("bufreader", "lines-codec"):
                cases.append(("%s/%d" % (reader, bs), "bin", "lines", dict(reader=reader, runtime="tokio", bs=bs)))
        cases.append(("memmem", "bin", "multipart", dict(reader="memmem", runtime="tokio", bs=65536)))

        runs = {name: [] for name, *_ in cases}
        items = {}
        for rep in range(self.a.reps):
            # The order rotates every repetition, so no case always runs first or last.
            shift = rep * len(cases) // max(self.a.reps, 1)
            for name, how, ds, o in cases[shift:] + cases[:shift]:
                if how == "openresty":
                    q = "/stream%d?mode=%s&dataset=%s&total=%d&port=%d" % (
                        o["bs"], o["mode"], ds, total[ds], blast_port)
                    if o["size"]:
                        q += "&size=%d" % o["size"]
                    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (nginx_port, q), timeout=600) as r:
                        res = json.loads(r.read())
                    if res["end_err"] != "closed":
                        raise RuntimeError("OpenResty %s ended with %s" % (name, res))
                else:
                    args = ["stream", "--reader", o["reader"], "--runtime", o["runtime"],
                            "--buffer-size", o["bs"], "--dataset", ds, "--total", total[ds],
                            "--port", blast_port, "--data-dir", self.tmp]
                    if o.get("size"):
                        args += ["--size", o["size"]]
                    res = self.run_bin(*args)
                runs[name].append(res["mb_per_s"])
                items[name] = res["items"]
            print("stream: repetition %d of %d done" % (rep + 1, self.a.reps), flush=True)
        self.procs.stop("nginx")
        self.procs.stop("blaster")
        med = {k: statistics.median(v) for k, v in runs.items()}
        return {"total_bytes": total, "runs": runs, "median_mb_per_s": med, "items": items}

    # -- §4 TLS ------------------------------------------------------------------------
    def tls(self):
        """`*l` and receive(65536) over TLS from the TLS blaster (cosocket-bench serve-tls),
        against OpenResty's cosocket and the raw tokio-rustls loop; then a TLS connection
        per request against pooled reuse."""
        sizes = gen_data(self.tmp)
        total = sizes["lines"] * self.a.files
        tls_port = free_port()
        self.procs.start("tls-blaster", self.peer([self.a.bin, "serve-tls", "--port", str(tls_port),
                                                   "--data-dir", self.tmp]), tls_port, stderr=subprocess.DEVNULL)
        nginx_port = self.start_nginx("nginx-tls")
        cases = []
        for mode, size in (("line", None), ("fixed", 65536)):
            cases.append(("openresty/%s" % mode, "openresty", dict(mode=mode, size=size)))
            for rt in ("tokio", "smol"):
                cases.append(("%s/%s" % (rt, mode), "bin", dict(reader="co-" + mode, runtime=rt, size=size)))
        cases.append(("raw-tokio-rustls/line", "bin", dict(reader="raw-tokio-rustls-line", runtime="tokio")))
        cases.append(("raw-tokio-rustls/fixed", "bin", dict(reader="raw-tokio-rustls-bulk", runtime="tokio")))
        runs = {name: [] for name, *_ in cases}
        for rep in range(self.a.reps):
            shift = rep * len(cases) // max(self.a.reps, 1)
            for name, how, o in cases[shift:] + cases[:shift]:
                if how == "openresty":
                    q = "/stream4096?mode=%s&dataset=lines&total=%d&port=%d&tls=1" % (o["mode"], total, tls_port)
                    if o["size"]:
                        q += "&size=%d" % o["size"]
                    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (nginx_port, q), timeout=600) as r:
                        res = json.loads(r.read())
                    if res["end_err"] != "closed":
                        raise RuntimeError("OpenResty %s ended with %s" % (name, res))
                else:
                    args = ["stream", "--reader", o["reader"], "--runtime", o["runtime"], "--buffer-size", 4096,
                            "--dataset", "lines", "--total", total, "--port", tls_port, "--tls", 1]
                    if o.get("size"):
                        args += ["--size", o["size"]]
                    res = self.run_bin(*args)
                runs[name].append(res["mb_per_s"])
            for rt in ("tokio", "smol"):
                for mode in ("new", "pooled"):
                    n = self.a.new_connections if mode == "new" else self.a.new_connections * 5
                    res = self.run_bin("tls-handshake", "--runtime", rt, "--port", tls_port, "--n", n, "--mode", mode)
                    runs.setdefault("%s/handshake-%s" % (rt, mode), []).append(res["ops_per_s"])
            print("tls: repetition %d of %d done" % (rep + 1, self.a.reps), flush=True)
        self.procs.stop("nginx")
        self.procs.stop("tls-blaster")
        med = {k: statistics.median(v) for k, v in runs.items()}
        return {"total_bytes": total, "runs": runs, "median": med}

    # -- §5 clients ------------------------------------------------------------------
    def start_client_servers(self):
        """§5's servers, each stopped by PID at the end: redis-server, memcached, dnsmasq
        and the HTTP nginx on CPU 0, OpenResty (lua-resty-*, the measured Lua clients) on
        CPU 1. Returns their ports."""
        redis_port, memc_port = free_port(), free_port()
        self.procs.start("redis", self.peer(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                             "--save", "", "--appendonly", "no", "--daemonize", "no",
                                             "--dir", self.tmp, "--logfile", os.path.join(self.tmp, "redis.log")]),
                         redis_port)
        memc = ["memcached", "-l", "127.0.0.1", "-p", str(memc_port), "-U", "0", "-m", "64", "-c", "4096"]
        if os.geteuid() == 0:
            memc += ["-u", "root"]
        self.procs.start("memcached", self.peer(memc), memc_port)
        www = os.path.join(self.tmp, "www")
        os.makedirs(www, exist_ok=True)
        # nginx's worker runs as nobody when started as root: the files must be readable.
        os.chmod(self.tmp, 0o755)
        os.chmod(www, 0o755)
        for name, size in CLIENT_FILES.items():
            with open(os.path.join(www, name), "wb") as f:
                f.write(random.Random(size).randbytes(size))
        nginx_port = self.start_nginx("nginx-kv")
        # The HTTP server: a second nginx, on the servers' CPU, so that the HTTP clients
        # (on CPU 1) do not share their core with the server they measure.
        http_port = self.start_nginx("nginx-http", cpu=0)
        dns_port = free_port()
        dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        dns = [dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
               "--no-poll", "--pid-file=", "--bind-interfaces", "--listen-address=127.0.0.1",
               "--port=%d" % dns_port, "--local=/test/", "--cache-size=0", "--log-facility=/dev/null"]
        if os.geteuid() == 0:
            dns += ["--user=root", "--group=root"]
        dns += ["--host-record=n%d.test,10.0.%d.%d" % (i, i // 250, i % 250 + 1) for i in range(100)]
        self.procs.start("dnsmasq", self.peer(dns), dns_port)
        return {"redis": redis_port, "memcached": memc_port, "nginx": nginx_port, "http": http_port,
                "dns": dns_port}

    def clients(self):
        """SET and GET of 100-byte values by cosocket-redis and cosocket-memcached (each
        connection model, tokio current-thread and smol) against redis-rs, async-memcached
        and lua-resty-redis / lua-resty-memcached (OpenResty's one worker), at 1 and 50
        tasks, interleaved; then the syscalls of a Redis GET."""
        ports = self.start_client_servers()
        redis_port, memc_port, nginx_port, http_port, dns_port = (
            ports[k] for k in ("redis", "memcached", "nginx", "http", "dns"))
        files = CLIENT_FILES
        dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        n1, n50, npipe = self.a.kv_ops, self.a.kv_ops * 2, self.a.kv_ops * 10
        cases = []  # (name, how, options)
        for tasks in (1, 50):
            for fname, size in files.items():
                n = self.a.kv_ops // (1 if fname == "small" else 20) * (1 if tasks == 1 else 2)
                for rt in ("tokio", "smol"):
                    cases.append(("http/%s/%d/co-http/%s" % (fname, tasks, rt), "http",
                                  dict(client="co-http", runtime=rt, port=http_port, path="/files/" + fname,
                                       size=size, tasks=tasks, n=n)))
                for client in ("hyper", "reqwest", "raw"):
                    cases.append(("http/%s/%d/%s" % (fname, tasks, client), "http",
                                  dict(client=client, runtime="tokio", port=http_port, path="/files/" + fname,
                                       size=size, tasks=tasks, n=n)))
            n = self.a.kv_ops // 2 * (1 if tasks == 1 else 2)
            for rt in ("tokio", "smol"):
                cases.append(("dns/a/%d/co-dns/%s" % (tasks, rt), "dns",
                              dict(client="co-dns", runtime=rt, port=dns_port, tasks=tasks, n=n)))
            cases.append(("dns/a/%d/hickory" % tasks, "dns",
                          dict(client="hickory", runtime="tokio", port=dns_port, tasks=tasks, n=n)))
        for op in ("get", "set"):
            for tasks in (1, 50):
                n = n1 if tasks == 1 else n50
                for mode in ("persistent", "pooled"):
                    cases.append(("redis/%s/%d/lua-%s" % (op, tasks, mode), "lua",
                                  dict(backend="redis", port=redis_port, op=op, mode=mode, n=n, conc=tasks)))
                    cases.append(("memc/%s/%d/lua-%s" % (op, tasks, mode), "lua",
                                  dict(backend="memc", port=memc_port, op=op, mode=mode, n=n, conc=tasks)))
                cases.append(("redis/%s/%d/lua-pipeline" % (op, tasks), "lua",
                              dict(backend="redis", port=redis_port, op=op, mode="pipeline", n=npipe, conc=tasks)))
                for rt in ("tokio", "smol"):
                    for client in ("co-redis-pool", "co-redis-persistent", "co-redis-mux", "co-redis-pipeline"):
                        cases.append(("redis/%s/%d/%s/%s" % (op, tasks, client, rt), "bin",
                                      dict(client=client, runtime=rt, port=redis_port, op=op, tasks=tasks,
                                           n=npipe if client.endswith("pipeline") else n)))
                    for client in ("co-memc-pool", "co-memc-persistent"):
                        cases.append(("memc/%s/%d/%s/%s" % (op, tasks, client, rt), "bin",
                                      dict(client=client, runtime=rt, port=memc_port, op=op, tasks=tasks, n=n)))
                for client in ("redis-rs-mux", "redis-rs-pipeline"):
                    cases.append(("redis/%s/%d/%s" % (op, tasks, client), "bin",
                                  dict(client=client, runtime="tokio", port=redis_port, op=op, tasks=tasks,
                                       n=npipe if client.endswith("pipeline") else n)))
                if tasks == 1:
                    cases.append(("redis/%s/1/redis-rs-blocking" % op, "bin",
                                  dict(client="redis-rs-blocking", runtime="tokio", port=redis_port, op=op,
                                       tasks=1, n=n)))
                cases.append(("memc/%s/%d/async-memcached" % (op, tasks), "bin",
                              dict(client="async-memcached", runtime="tokio", port=memc_port, op=op,
                                   tasks=tasks, n=n)))
        runs = {name: [] for name, *_ in cases}
        cpu = {name: [] for name, *_ in cases}
        for rep in range(self.a.reps):
            shift = rep * len(cases) // max(self.a.reps, 1)
            for name, how, o in cases[shift:] + cases[:shift]:
                if how == "lua":
                    q = "/kv?" + "&".join("%s=%s" % kv for kv in o.items())
                    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (nginx_port, q), timeout=600) as r:
                        res = json.loads(r.read())
                    if res["errors"]:
                        log = open(os.path.join(self.tmp, "nginx-kv", "logs", "error.log")).read()
                        raise RuntimeError("OpenResty %s: %d errors:\n%s" % (name, res["errors"], log[-2000:]))
                else:
                    args = [{"bin": "kv"}.get(how, how)]
                    for k, v in o.items():
                        args += ["--" + k, v]
                    res = self.run_bin(*args)
                    cpu[name].append(res["cpu_us_per_op"])
                runs[name].append(res["ops_per_s"])
            print("clients: repetition %d of %d done" % (rep + 1, self.a.reps), flush=True)
        # The syscalls of one Redis GET (1 task), the difference of two run lengths.
        syscalls = {}
        if shutil.which("strace"):
            m = self.a.syscall_ops
            for client, rt in (("co-redis-persistent", "tokio"), ("co-redis-persistent", "smol"),
                               ("co-redis-pool", "tokio"), ("co-redis-mux", "tokio"), ("redis-rs-mux", "tokio"),
                               ("redis-rs-blocking", "tokio")):
                counts = []
                for ops in (m, 2 * m):
                    trace = os.path.join(self.tmp, "strace.txt")
                    self.run_bin("kv", "--client", client, "--runtime", rt, "--port", redis_port, "--op", "get",
                                 "--tasks", 1, "--n", ops, wrap=["strace", "-f", "-c", "-o", trace])
                    counts.append(parse_strace(trace))
                total = sum(c["calls"] for c in counts[1].values()) - sum(c["calls"] for c in counts[0].values())
                syscalls["%s/%s" % (client, rt)] = round(total / m, 2)
        self.procs.stop("dnsmasq")
        self.procs.stop("nginx")
        self.procs.stop("memcached")
        self.procs.stop("redis")
        return {"runs": runs, "cpu": cpu, "syscalls": syscalls,
                "versions": {"redis-server": cmd_version(["redis-server", "--version"]),
                             "memcached": cmd_version(["memcached", "--version"]),
                             "lua-nginx-redis": pkg_version("lua-nginx-redis"),
                             "lua-nginx-memcached": pkg_version("lua-nginx-memcached"),
                             "redis": crate_version("redis"), "async-memcached": crate_version("async-memcached"),
                             "hyper-util": crate_version("hyper-util"), "reqwest": crate_version("reqwest"),
                             "hickory-resolver": crate_version("hickory-resolver"),
                             "dnsmasq": cmd_version([dnsmasq, "--version"])}}

    # -- §2 per-call overhead ---------------------------------------------------------
    def overhead(self):
        port = self.start_peer("echo")
        out = {}
        for rt in ("tokio", "smol"):
            out[rt] = self.run_bin("pingpong", "--runtime", rt, "--port", port,
                                   "--pairs", self.a.pairs, "--round-trips", self.a.round_trips)
            print("pingpong %s: median ratio %.4f" % (rt, out[rt]["median"]), flush=True)
        out["pool"] = {}
        for rt in ("tokio", "smol"):
            out["pool"][rt] = self.run_bin("pool", "--runtime", rt, "--port", port,
                                           "--pairs", self.a.pairs, "--round-trips", self.a.round_trips,
                                           "--new-connections", self.a.new_connections,
                                           "--new-connection-reps", self.a.reps)
            print("pool %s: median ratio %.4f" % (rt, out["pool"][rt]["median"]), flush=True)
        # 50 tasks on one thread: each with its own connection kept, or pooled per request.
        out["pool50"] = {}
        for rt in ("tokio", "smol"):
            out["pool50"][rt] = self.run_bin("pool", "--runtime", rt, "--port", port, "--tasks", 50,
                                             "--pairs", self.a.pairs, "--round-trips", self.a.round_trips)
            print("pool 50 tasks %s: median ratio %.4f (cpu %.4f)" % (
                rt, out["pool50"][rt]["median"], out["pool50"][rt]["cpu_median"]), flush=True)
        self.procs.stop("echo")
        sink = self.start_peer("sink")
        out["pipeline"] = {}
        for rt in ("tokio", "smol"):
            out["pipeline"][rt] = self.run_bin("pipeline", "--runtime", rt, "--port", sink,
                                               "--pairs", self.a.pairs, "--batches", self.a.round_trips // 5)
            print("pipeline %s: median ratio %.4f" % (rt, out["pipeline"][rt]["median"]), flush=True)
        self.procs.stop("sink")
        return out

    def timers(self):
        port = self.start_peer("lines")
        out = {rt: self.run_bin("timers", "--runtime", rt, "--port", port) for rt in ("tokio", "smol")}
        self.procs.stop("lines")
        return out

    def syscalls(self):
        if not shutil.which("strace"):
            raise RuntimeError("strace is missing: scripts/bench.sh installs it (apt-get install strace)")
        out = {}
        n = self.a.syscall_ops
        for op, kind, bs in [("send10", "sink", 4096), ("receive_line", "lines", 4096),
                             ("receive_line", "lines", 65536), ("pingpong", "echo-slow", 4096)]:
            port = self.start_peer(kind)
            for rt in ("tokio", "smol"):
                counts = []
                for ops in (n, 2 * n):
                    trace = os.path.join(self.tmp, "strace.txt")
                    self.run_bin("syscalls", "--runtime", rt, "--op", op, "--n", ops, "--port", port,
                                 "--buffer-size", bs, wrap=["strace", "-f", "-c", "-o", trace])
                    counts.append(parse_strace(trace))
                per = {}
                for name in set(counts[0]) | set(counts[1]):
                    for field in ("calls", "errors"):
                        d = counts[1].get(name, {}).get(field, 0) - counts[0].get(name, {}).get(field, 0)
                        if abs(d) / n >= 0.001:
                            per.setdefault(name, {})[field] = round(d / n, 4)
                out["%s/%s/%d" % (op, rt, bs)] = per
            self.procs.stop(kind)
        return out

    # -- §3 memory ------------------------------------------------------------------
    def memory(self):
        out = {}
        for rt in ("tokio", "smol"):
            for kind in ("open", "pooled", "raw"):
                per = []
                for _ in range(self.a.reps):
                    # A fresh peer (and port) each time: the previous run's ports sit in
                    # TIME_WAIT, and the peer would hold every connection it ever accepted.
                    port = self.start_peer("hold")
                    r = self.run_bin("memory", "--runtime", rt, "--kind", kind,
                                     "--n", self.a.connections, "--port", port)
                    per.append(r["bytes_per_connection"])
                    self.procs.stop("hold")
                out["%s/%s" % (rt, kind)] = {"runs": per, "median": statistics.median(per)}
        return out


def parse_strace(path):
    """strace -c's table: calls and errors per syscall."""
    counts = {}
    with open(path) as f:
        for line in f:
            cols = line.split()
            if len(cols) < 5 or not re.match(r"^[\d.]+$", cols[0]) or cols[-1] == "total":
                continue
            name = cols[-1]
            nums = cols[3:-1]
            counts[name] = {"calls": int(nums[0]), "errors": int(nums[1]) if len(nums) > 1 else 0}
    return counts


def cmd_version(argv):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return p.stdout.decode(errors="replace").strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "not found"


def pkg_version(name):
    return cmd_version(["dpkg-query", "-W", "-f", "${Version}", name])


def crate_version(name):
    lock = open(os.path.join(ROOT, "Cargo.lock")).read()
    m = re.search(r'name = "%s"\nversion = "([^"]+)"' % re.escape(name), lock)
    return m.group(1) if m else "?"


def versions(bin_path):
    def cmd(argv):
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
            return p.stdout.decode(errors="replace").strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not found"

    def pkg(name):
        return cmd(["dpkg-query", "-W", "-f", "${Version}", name])
    lock = open(os.path.join(ROOT, "Cargo.lock")).read()

    def crate(name):
        m = re.search(r'name = "%s"\nversion = "([^"]+)"' % re.escape(name), lock)
        return m.group(1) if m else "?"
    model = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": model, "cpus": os.cpu_count(), "kernel": platform.release(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "rustc": cmd(["rustc", "-V"]), "nginx": cmd(["nginx", "-v"]),
        "libnginx-mod-http-lua": pkg("libnginx-mod-http-lua"),
        "tokio": crate("tokio"), "tokio-util": crate("tokio-util"), "smol": crate("smol"),
        "async-io": crate("async-io"), "memchr": crate("memchr"),
    }


# -- the report -------------------------------------------------------------------------
LABEL = {"line": '`receive("*l")`', "fixed": "`receive(65536)`", "any": "`receive_any(65536)`",
         "until": "`receive_until(P)`", "until_size": "`receive_until(P)`, size 4096"}


def mark(value, target, higher_is_better=True):
    if target is None:
        return "%.2f" % value
    ok = value >= target if higher_is_better else value <= target
    return "%.2f %s" % (value, "✔" if ok else "✘")


def stream_tables(st):
    med, items, total = st["median_mb_per_s"], st["items"], st["total_bytes"]
    out = ["Median MB/s of %d repetitions (items per second in parentheses: lines, chunks or parts). "
           "Lines: %.0f MB; multipart: %.1f MB. P = `\\r\\n--boundary`." % (
               len(next(iter(st["runs"].values()))), total["lines"] / 1e6, total["multipart"] / 1e6), "",
           "| reader | data | 4096 | 65536 |", "|---|---|---|---|"]

    def cell(name):
        if name not in med:
            return "-"
        ds_total = total["multipart"] if ("until" in name or name == "memmem") else total["lines"]
        per_s = items[name] * med[name] * 1e6 / ds_total
        return "%.0f (%s/s)" % (med[name], human(per_s))
    for mode in ("line", "fixed", "any", "until", "until_size"):
        ds = "multipart" if mode.startswith("until") else "lines"
        for who, prefix in (("OpenResty", "openresty"), ("cosocket tokio", "tokio"), ("cosocket smol", "smol")):
            out.append("| %s %s | %s | %s | %s |" % (who, LABEL[mode], ds,
                                                     cell("%s/%s/4096" % (prefix, mode)), cell("%s/%s/65536" % (prefix, mode))))
    for who, prefix in (("cosocket tokio", "tokio"), ("cosocket smol", "smol")):
        out.append("| %s `receive_line_ref()` (borrowed `*l`) | lines | %s | %s |" % (
            who, cell("%s/line_ref/4096" % prefix), cell("%s/line_ref/65536" % prefix)))
    for name, what in (("raw-std", "raw read loop, blocking std"), ("raw-tokio", "raw read loop, tokio"),
                       ("raw-asyncio", "raw read loop, async-io"), ("bufreader", "tokio `BufReader::read_until`"),
                       ("lines-codec", "tokio-util `LinesCodec`")):
        out.append("| %s | lines | %s | %s |" % (what, cell(name + "/4096"), cell(name + "/65536")))
    out.append("| memchr `memmem` over the bytes in memory | multipart | - | %s |" % cell("memmem"))
    out += ["", "Ratios of medians (✔ meets the target, ✘ below it). Last column: the plain tokio read loop "
            "over the same baseline; where a target is above it, meeting the target means beating that loop "
            "(which some readers do: the loop is a reference, not a hard limit).", "",
            "| ratio | target | 4096 tokio | 4096 smol | 65536 tokio | 65536 smol | raw tokio loop / baseline, 4096 / 65536 |",
            "|---|---|---|---|---|---|---|"]
    raw = {"tokio": "raw-tokio", "smol": "raw-asyncio"}

    def ratio_row(text, num, den, target, target_4096=True, ceiling=True):
        cells = []
        for bs in BUFFER_SIZES:
            for rt in ("tokio", "smol"):
                a, b = num(rt, bs), den(rt, bs)
                if a in med and b in med:
                    t = target if (bs == 65536 or target_4096) else None
                    cells.append(mark(med[a] / med[b], t))
                else:
                    cells.append("-")
        ceil = "-"
        if ceiling:
            vals = []
            for bs in BUFFER_SIZES:
                b = den("tokio", bs)
                vals.append("%.2f" % (med["raw-tokio/%d" % bs] / med[b]) if b in med else "-")
            ceil = " / ".join(vals)
        out.append("| %s | %s | %s | %s |" % (text, "none" if target is None else "≥ %.2g" % target + ("" if target_4096 else " at 65536"),
                                              " | ".join(cells), ceil))
    for mode, tgt in (("line", 3), ("until", 3), ("until_size", 3), ("fixed", 1.5), ("any", 1.5)):
        ratio_row("%s / OpenResty" % LABEL[mode], lambda rt, bs, m=mode: "%s/%s/%d" % (rt, m, bs),
                  lambda rt, bs, m=mode: "openresty/%s/%d" % (m, bs), tgt)
    for mode in ("fixed", "any"):
        ratio_row("%s / raw read loop of the runtime" % LABEL[mode], lambda rt, bs, m=mode: "%s/%s/%d" % (rt, m, bs),
                  lambda rt, bs: "%s/%d" % (raw[rt], bs), 0.9, target_4096=False, ceiling=False)
    ratio_row('borrowed `*l` (`receive_line_ref`) / OpenResty', lambda rt, bs: "%s/line_ref/%d" % (rt, bs),
              lambda rt, bs: "openresty/line/%d" % bs, 3)
    ratio_row('borrowed `*l` / `LinesCodec`', lambda rt, bs: "%s/line_ref/%d" % (rt, bs),
              lambda rt, bs: "lines-codec/%d" % bs, 1.5)
    ratio_row('borrowed `*l` / `BufReader::read_until` into one reused `Vec`',
              lambda rt, bs: "%s/line_ref/%d" % (rt, bs), lambda rt, bs: "bufreader/%d" % bs, None)
    ratio_row('`receive("*l")` / `LinesCodec`', lambda rt, bs: "%s/line/%d" % (rt, bs),
              lambda rt, bs: "lines-codec/%d" % bs, 1.5)
    ratio_row('`receive("*l")` / `BufReader::read_until` into one reused `Vec`', lambda rt, bs: "%s/line/%d" % (rt, bs),
              lambda rt, bs: "bufreader/%d" % bs, None)
    cells = []
    for bs in BUFFER_SIZES:
        for rt in ("tokio", "smol"):
            a = "%s/until/%d" % (rt, bs)
            cells.append(mark(med[a] / med["memmem"], 0.5 if bs == 65536 else None) if a in med and "memmem" in med else "-")
    out.append("| `receive_until(P)` / in-memory `memmem` | ≥ 0.5 at 65536 | %s | %.2f (raw loop / memmem) |" % (
        " | ".join(cells), med.get("raw-tokio/65536", 0) / med["memmem"] if "memmem" in med else 0))
    return out


def human(x):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return "%.2f%s" % (x / div, unit)
    return "%.0f" % x


def pipeline_table(pl):
    p0 = pl["tokio"]
    out = ["A RESP pipeline of 100 `GET`s (%d fragments, 11 a command) sent to the sink peer as one "
           "fragment list (%d slice%s after coalescing) vs the same bytes copied into one reused buffer "
           "first and sent as one slice: the same 11 pieces a command, or the constant ones merged by hand "
           "(5 copies a command). Interleaved, %d rounds of %d sends; ratio = the copy's time / the "
           "fragment list's time (≥ 1: the list is as fast)." % (
               p0["fragments"], p0["slices"], "" if p0["slices"] == 1 else "s", p0["pairs"], p0["batches"]), "",
           "| runtime | fragment list µs per send | pre-copied, same pieces | ratio | IQR (q1–q3) | target "
           "| pre-copied, merged by hand | ratio |",
           "|---|---|---|---|---|---|---|---|"]
    for rt in ("tokio", "smol"):
        p = pl[rt]
        m = p.get("merged", {})
        out.append("| %s | %.2f | %.2f | %s | %.4f (%.4f–%.4f) | ≥ 1.0 | %s | %s |" % (
            rt, p["fragments_us_per_send"], p["copied_us_per_send"], mark(p["median"], 1.0),
            p["q3"] - p["q1"], p["q1"], p["q3"],
            "%.2f" % p["merged_us_per_send"] if "merged_us_per_send" in p else "-",
            "%.2f" % m["median"] if m else "-"))
    return out


def overhead_tables(ov, timers, syscalls):
    out = ["Interleaved A/B in one process, %d pairs of %d round trips; ratio = cosocket's time / the raw "
           "loop's time per pair (1.03 = 3 %% slower)." % (ov["tokio"]["pairs"], ov["tokio"]["round_trips"]), "",
           "| runtime | cosocket µs per round trip | raw µs per round trip | median ratio | IQR (q1–q3) | target |",
           "|---|---|---|---|---|---|"]
    for rt, raw in (("tokio", "raw tokio `TcpStream`"), ("smol", "raw async-io `Async<TcpStream>`")):
        o = ov[rt]
        out.append("| %s vs %s | %.2f | %.2f | %s | %.4f (%.4f–%.4f) | ≤ 1.03 |" % (
            rt, raw, o["a_us_per_round_trip"], o["b_us_per_round_trip"], mark(o["median"], 1.03, False),
            o["iqr"], o["q1"], o["q3"]))
    if timers:
        out += ["", "Timers armed (counted by a `Runtime` wrapper around each backend's `sleep_until`). "
                "Buffered: the %d receives after the first of a batch whose bytes were all in the kernel "
                "before it (tokio learns readability from its reactor, so the first may wait for one turn); "
                "waiting: receives that had to wait for the peer (the control: one each)." % timers["tokio"]["receives_each"], "",
                "| runtime | receive_line | receive_exact(100) | receive_until | receive_any(100) | waiting receives → timers |",
                "|---|---|---|---|---|---|"]
        for rt in ("tokio", "smol"):
            t = timers[rt]
            b = t["buffered"]
            out.append("| %s | %s | %s | %s | %s | %d → %d |" % (
                rt, *["%d %s" % (b[k], "✔" if b[k] == 0 else "✘") for k in
                      ("receive_line", "receive_exact", "receive_until", "receive_any")],
                t["waiting_receives"], t["timers_armed_by_waiting_receives"]))
    if syscalls:
        out += ["", "Syscalls per operation (`strace -f -c`, the difference of a run with N and 2N operations "
                "divided by N, so setup cancels out; counts under 0.001 per operation are left out).", "",
                "| operation | runtime | buffer_size | syscalls per operation |", "|---|---|---|---|"]
        what = {"send10": "`send` of a 10-fragment list (sink peer)",
                "receive_line": "`receive_line` of 100-byte lines already sent",
                "pingpong": "1-byte `send` + `receive_exact(1)` that waits (peer answers after 1 ms)"}
        for key, per in syscalls.items():
            op, rt, bs = key.split("/")
            calls = ", ".join("%s %.3g%s" % (name, v.get("calls", 0),
                                            " (%.3g failed)" % v["errors"] if v.get("errors") else "")
                              for name, v in sorted(per.items()) if v.get("calls"))
            out.append("| %s | %s | %s | %s |" % (what[op], rt, bs, calls or "none"))
    return out


def pool_tables(pool, memory, pool50=None):
    out = []
    if pool:
        p0 = pool["tokio"]
        out += ["1-byte request per %s: persistent connection vs connect-from-pool + `set_keepalive` "
                "per request, interleaved (%d pairs of %d requests; ratio = persistent time / pooled time, "
                "the pooled rate as a share of the persistent one); new connection per request: "
                "%d requests, %d repetitions." % ("round trip", p0["pairs"], p0["round_trips"],
                                                   p0["new_connections"], len(p0["new_connection_runs_us"])), "",
                "| runtime | persistent µs per request | pooled µs per request | pooled / persistent rate | IQR (q1–q3) | "
                "new connection µs per request | new / persistent rate |", "|---|---|---|---|---|---|---|"]
        for rt in ("tokio", "smol"):
            p = pool[rt]
            out.append("| %s | %.2f | %.2f | %s | %.4f (%.4f–%.4f) | %.1f | %.2f |" % (
                rt, p["a_us_per_round_trip"], p["b_us_per_round_trip"], mark(p["median"], 0.95), p["iqr"],
                p["q1"], p["q3"], p["new_connection_us_per_request"],
                p["a_us_per_round_trip"] / p["new_connection_us_per_request"]))
    if pool50:
        p0 = pool50["tokio"]
        out += ["", "50 tasks on one thread (`join_all`), each making %d requests: its own connection kept "
                "(persistent) vs `connect` from the pool + `set_keepalive` per request (pooled), "
                "interleaved, %d pairs. Wall: persistent time / pooled time; CPU: the same for the client "
                "thread's CPU time (`/proc/thread-self/schedstat`), the peer's scheduling left out." % (
                    p0["round_trips"] // 50, p0["pairs"]), "",
                "| runtime | persistent µs per request | pooled µs per request | pooled / persistent rate (wall) "
                "| IQR (q1–q3) | client CPU µs per request, persistent / pooled | pooled / persistent rate (CPU) |",
                "|---|---|---|---|---|---|---|"]
        for rt in ("tokio", "smol"):
            p = pool50[rt]
            out.append("| %s | %.2f | %.2f | %s | %.4f (%.4f–%.4f) | %.2f / %.2f | %s |" % (
                rt, p["a_us_per_round_trip"], p["b_us_per_round_trip"], mark(p["median"], 0.9), p["iqr"],
                p["q1"], p["q3"], p["a_cpu_us_per_request"], p["b_cpu_us_per_request"],
                mark(p["cpu_median"], 0.9)))
    if memory:
        n = None
        out += ["", "Memory per connection: growth of the process's RSS over N connections to a silent peer, "
                "median of the repetitions (kernel socket buffers are not in the RSS).", "",
                "| runtime | open cosocket socket | idle in the pool | raw runtime stream (baseline) |", "|---|---|---|---|"]
        for rt in ("tokio", "smol"):
            out.append("| %s | %.0f B | %.0f B | %.0f B |" % (
                rt, memory[rt + "/open"]["median"], memory[rt + "/pooled"]["median"], memory[rt + "/raw"]["median"]))
    return out


def tls_tables(t):
    med, runs = t["median"], t["runs"]

    def spread(name):
        v = runs.get(name, [])
        return "%.0f–%.0f" % (min(v), max(v)) if v else "-"
    out = ["Median MB/s of %d repetitions over TLS (TLS 1.3, AES-256-GCM, ring; lines: %.0f MB; "
           "`lua_socket_buffer_size` 4096); min–max in parentheses." % (
               len(runs.get("tokio/line", [])), t["total_bytes"] / 1e6), "",
           "| reader | `*l` | `receive(65536)` |", "|---|---|---|"]
    for who, prefix in (("OpenResty `sslhandshake`", "openresty"), ("cosocket tokio", "tokio"),
                        ("cosocket smol", "smol"), ("raw tokio-rustls loop (`read_until` / 64 KiB `read`)", "raw-tokio-rustls")):
        out.append("| %s | %s (%s) | %s (%s) |" % (
            who, "%.0f" % med[prefix + "/line"] if prefix + "/line" in med else "-", spread(prefix + "/line"),
            "%.0f" % med[prefix + "/fixed"] if prefix + "/fixed" in med else "-", spread(prefix + "/fixed")))
    out += ["", "| ratio | target | tokio | smol |", "|---|---|---|---|"]

    def row(text, mode, den, target):
        cells = []
        for rt in ("tokio", "smol"):
            a, b = "%s/%s" % (rt, mode), den
            cells.append(mark(med[a] / med[b], target) if a in med and b in med else "-")
        out.append("| %s | %s | %s |" % (text, "none" if target is None else "≥ %.2g" % target, " | ".join(cells)))
    row("`*l` over TLS / OpenResty", "line", "openresty/line", 1.0)
    row("`receive(65536)` over TLS / OpenResty", "fixed", "openresty/fixed", 1.0)
    row("`receive(65536)` over TLS / raw tokio-rustls loop", "fixed", "raw-tokio-rustls/fixed", 0.9)
    # A reference, as the same ratio without TLS in §1 (there 0.4–0.5: `receive("*l")`
    # returns each line as `Bytes`, `read_until` fills one reused `Vec`).
    row("`*l` over TLS / tokio-rustls `read_until` into one reused `Vec`", "line", "raw-tokio-rustls/line", None)
    out += ["", "Requests per second, one 16-byte echo each: a new TCP connection and full TLS 1.3 handshake "
            "per request, against the pooled, handshaked connection (`ConnectOptions::tls`).", "",
            "| runtime | new connection + handshake | pooled | pooled / new |", "|---|---|---|---|"]
    for rt in ("tokio", "smol"):
        new, pooled = med.get(rt + "/handshake-new"), med.get(rt + "/handshake-pooled")
        if new and pooled:
            out.append("| %s | %s/s | %s/s | %.1f |" % (rt, human(new), human(pooled), pooled / new))
    return out


def ratio_median(runs, a, b):
    """The median of per-repetition ratios a/b, and their min–max."""
    ra, rb = runs.get(a, []), runs.get(b, [])
    ratios = [x / y for x, y in zip(ra, rb) if y]
    if not ratios:
        return None, None, None
    return statistics.median(ratios), min(ratios), max(ratios)


def clients_tables(c):
    runs, cpu = c["runs"], c["cpu"]
    med = {k: statistics.median(v) for k, v in runs.items() if v}
    mcpu = {k: statistics.median(v) for k, v in cpu.items() if v}
    reps = len(next(iter(runs.values())))
    out = ["Operations per second, median of %d interleaved repetitions, 100-byte values on keys k0–k999; "
           "the measured client on CPU 1 (OpenResty's worker too, where lua-resty-* is the client), the "
           "servers (redis-server, memcached, dnsmasq, the HTTP nginx) on CPU 0. CPU µs/op is the client "
           "process's user + system time (`/proc/self/stat`) per operation; pipelines are 100 commands "
           "per round trip, counted as 100 operations." % reps, ""]
    for backend, title in (("redis", "Redis"), ("memc", "memcached")):
        out += ["#### %s" % title, "", "| client | GET 1 task | GET 50 tasks | SET 1 task | SET 50 tasks | "
                "CPU µs/op (GET, 1 / 50) |", "|---|---|---|---|---|---|"]
        names = sorted({k.split("/", 3)[3] for k in runs if k.startswith(backend + "/")},
                       key=lambda n: (not n.startswith("co-"), n))
        for name in names:
            cells = []
            for op, tasks in (("get", 1), ("get", 50), ("set", 1), ("set", 50)):
                k = "%s/%s/%d/%s" % (backend, op, tasks, name)
                cells.append(human(med[k]) if k in med else "-")
            cu = ["%.1f" % mcpu[k] if k in mcpu else "-" for k in
                  ("%s/get/1/%s" % (backend, name), "%s/get/50/%s" % (backend, name))]
            out.append("| %s | %s | %s |" % (name, " | ".join(cells), " / ".join(cu)))
        out.append("")
    out += ["Ratios: the median of the per-repetition ratios (min–max).", "",
            "| ratio | goal | GET 1 | GET 50 | SET 1 | SET 50 |", "|---|---|---|---|---|---|"]

    # Issue 18's goals: Redis against redis-rs and lua-resty-redis at 1 task, the
    # multiplexed connection at 50 tasks, pipelines and memcached everywhere; a ratio
    # outside its goal's columns is shown without a mark.
    def row(text, a, b, goal, tasks_with_goal=(1, 50)):
        cells = []
        for op, tasks in (("get", 1), ("get", 50), ("set", 1), ("set", 50)):
            m, lo, hi = ratio_median(runs, a.format(op=op, t=tasks), b.format(op=op, t=tasks))
            g = goal if tasks in tasks_with_goal else None
            cells.append("-" if m is None else "%s (%.2f–%.2f)" % (mark(m, g), lo, hi))
        where = "" if goal is None or len(tasks_with_goal) == 2 else " at %d task%s" % (
            tasks_with_goal[0], "" if tasks_with_goal[0] == 1 else "s")
        out.append("| %s | %s | %s |" % (text, "none" if goal is None else "≥ %.2g%s" % (goal, where),
                                         " | ".join(cells)))
    for rt in ("tokio", "smol"):
        row("redis persistent %s / redis-rs multiplexed" % rt, "redis/{op}/{t}/co-redis-persistent/" + rt,
            "redis/{op}/{t}/redis-rs-mux", 1.0, (1,))
        row("redis persistent %s / redis-rs blocking" % rt, "redis/{op}/{t}/co-redis-persistent/" + rt,
            "redis/{op}/{t}/redis-rs-blocking", None)
        row("redis pool per request %s / lua-resty-redis pooled" % rt, "redis/{op}/{t}/co-redis-pool/" + rt,
            "redis/{op}/{t}/lua-pooled", 1.0, (1,))
        row("redis persistent %s / lua-resty-redis persistent" % rt, "redis/{op}/{t}/co-redis-persistent/" + rt,
            "redis/{op}/{t}/lua-persistent", 1.0, (1,))
        row("redis multiplexed %s / redis-rs multiplexed" % rt, "redis/{op}/{t}/co-redis-mux/" + rt,
            "redis/{op}/{t}/redis-rs-mux", 1.0, (50,))
        row("redis pipelines %s / redis-rs pipelines" % rt, "redis/{op}/{t}/co-redis-pipeline/" + rt,
            "redis/{op}/{t}/redis-rs-pipeline", 1.1)
        row("redis pipelines %s / lua-resty-redis pipelines" % rt, "redis/{op}/{t}/co-redis-pipeline/" + rt,
            "redis/{op}/{t}/lua-pipeline", 1.0)
        row("memcached persistent %s / async-memcached" % rt, "memc/{op}/{t}/co-memc-persistent/" + rt,
            "memc/{op}/{t}/async-memcached", 1.0)
        row("memcached pool per request %s / lua-resty-memcached pooled" % rt,
            "memc/{op}/{t}/co-memc-pool/" + rt, "memc/{op}/{t}/lua-pooled", 1.0)
        row("memcached persistent %s / lua-resty-memcached persistent" % rt,
            "memc/{op}/{t}/co-memc-persistent/" + rt, "memc/{op}/{t}/lua-persistent", 1.0)
    out += ["", "#### HTTP/1.1 and DNS", "",
            "| client | GET 100 B, 1 task | 100 B, 50 tasks | 1 MiB, 1 task | 1 MiB, 50 tasks | DNS A, 1 task | "
            "DNS A, 50 tasks |", "|---|---|---|---|---|---|---|"]
    for name in ("co-http/tokio", "co-http/smol", "hyper", "reqwest", "raw", "co-dns/tokio", "co-dns/smol",
                 "hickory"):
        keys = ["http/small/1/", "http/small/50/", "http/large/1/", "http/large/50/", "dns/a/1/", "dns/a/50/"]
        cells = [human(med[k + name]) if k + name in med else "-" for k in keys]
        out.append("| %s | %s |" % (name, " | ".join(cells)))
    out += ["", "| ratio | goal | 100 B, 1 | 100 B, 50 | 1 MiB, 1 | 1 MiB, 50 |", "|---|---|---|---|---|---|"]

    # HTTP's goals: hyper at 50 tasks, the raw loop for the 1 MiB body; reqwest is a
    # reference.
    def hrow(text, a, b, goal, cols, where):
        cells = []
        for f, t in (("small", 1), ("small", 50), ("large", 1), ("large", 50)):
            m, lo, hi = ratio_median(runs, a.format(f=f, t=t), b.format(f=f, t=t))
            g = goal if (f, t) in cols else None
            cells.append("-" if m is None else "%s (%.2f–%.2f)" % (mark(m, g), lo, hi))
        out.append("| %s | %s | %s |" % (text, "none" if goal is None else "≥ %.2g %s" % (goal, where),
                                         " | ".join(cells)))
    for rt in ("tokio", "smol"):
        hrow("cosocket-http %s / hyper-util" % rt, "http/{f}/{t}/co-http/" + rt, "http/{f}/{t}/hyper", 1.0,
             (("small", 50), ("large", 50)), "at 50 tasks")
        hrow("cosocket-http %s / reqwest" % rt, "http/{f}/{t}/co-http/" + rt, "http/{f}/{t}/reqwest", None,
             (), "")
        hrow("cosocket-http %s / raw tokio loop" % rt, "http/{f}/{t}/co-http/" + rt, "http/{f}/{t}/raw", 0.9,
             (("large", 1), ("large", 50)), "for 1 MiB")
    out += ["", "| ratio | goal | 1 task | 50 tasks |", "|---|---|---|---|"]
    for rt in ("tokio", "smol"):
        cells = []
        for t in (1, 50):
            m, lo, hi = ratio_median(runs, "dns/a/%d/co-dns/%s" % (t, rt), "dns/a/%d/hickory" % t)
            cells.append("-" if m is None else "%s (%.2f–%.2f)" % (mark(m, 1.0), lo, hi))
        out.append("| cosocket-dns %s / hickory-resolver (cache off) | ≥ 1 | %s |" % (rt, " | ".join(cells)))
    if c.get("syscalls"):
        out += ["", "Syscalls per Redis GET (1 task; `strace -f -c`, the difference of two run lengths):", "",
                "| client | syscalls per GET |", "|---|---|"]
        for k, v in c["syscalls"].items():
            out.append("| %s | %.2f |" % (k, v))
    v = c["versions"]
    out += ["", "Versions: %s; memcached %s; lua-resty-redis %s and lua-resty-memcached %s (Debian "
            "lua-nginx-redis, lua-nginx-memcached); redis-rs %s; async-memcached %s; hyper-util %s; reqwest %s; "
            "hickory-resolver %s; %s." % (
                v["redis-server"], v["memcached"], v["lua-nginx-redis"], v["lua-nginx-memcached"], v["redis"],
                v["async-memcached"], v["hyper-util"], v["reqwest"], v["hickory-resolver"], v["dnsmasq"])]
    return out


def clients_report(r, command):
    v = r["versions"]
    return "\n".join(["Produced by `%s` in %d s (%s; load average %s at the start, %s at the end; %s; "
                      "rustc %s; %s)." % (command, r["seconds"],
                                          "servers on CPU 0, clients on CPU 1" if r["pinned"] else "unpinned",
                                          " ".join(r["loadavg_start"]), " ".join(r["loadavg_end"]), v["cpu"],
                                          v["rustc"], v["nginx"]), ""] + clients_tables(r["clients"]))


def report(r, command):
    v = r["versions"]
    out = ["Produced by `%s` in %d s (%s; load average %s at the start, %s at the end)." % (
        command, r["seconds"], "peers on CPU 0, readers on CPU 1" if r["pinned"] else "unpinned: one core",
        " ".join(r["loadavg_start"]), " ".join(r["loadavg_end"])), "",
           "| machine | versions |", "|---|---|",
           "| %s, %d CPUs, %s GiB, Linux %s | %s; %s; lua-nginx-module (Debian libnginx-mod-http-lua %s); "
           "tokio %s, tokio-util %s, smol %s, async-io %s, memchr %s |" % (
               v["cpu"], v["cpus"], v["memory_gib"], v["kernel"], v["rustc"], v["nginx"],
               v["libnginx-mod-http-lua"], v["tokio"], v["tokio-util"], v["smol"], v["async-io"], v["memchr"]), ""]
    if "stream" in r:
        out += ["### 1. Stream parsing", ""] + stream_tables(r["stream"]) + [""]
    if "overhead" in r:
        out += ["### 2. Overhead per call", ""] + overhead_tables(r["overhead"], r.get("timers"), r.get("syscalls")) + [""]
        if "pipeline" in r["overhead"]:
            out += pipeline_table(r["overhead"]["pipeline"]) + [""]
        out += ["### 3. The pool", ""] + pool_tables(r["overhead"].get("pool"), r.get("memory"),
                                                     r["overhead"].get("pool50")) + [""]
    elif "memory" in r:
        out += ["### 3. The pool", ""] + pool_tables(None, r.get("memory")) + [""]
    return "\n".join(out)


def tls_report(r, command):
    """§4 has markers of its own, so `--only tls --write` leaves §1–§3 as they are."""
    v = r["versions"]
    return "\n".join(["Produced by `%s` in %d s (%s; load average %s at the start, %s at the end; %s; "
                      "rustc %s; %s)." % (command, r["seconds"],
                                          "peers on CPU 0, readers on CPU 1" if r["pinned"] else "unpinned",
                                          " ".join(r["loadavg_start"]), " ".join(r["loadavg_end"]), v["cpu"],
                                          v["rustc"], v["nginx"]), ""] + tls_tables(r["tls"]))


BEGIN, END = "<!-- bench:begin (scripts/bench.sh writes this part) -->", "<!-- bench:end -->"
TLS_BEGIN, TLS_END = "<!-- bench-tls:begin (scripts/bench.sh writes this part) -->", "<!-- bench-tls:end -->"
CLIENTS_BEGIN, CLIENTS_END = ("<!-- bench-clients:begin (scripts/bench.sh writes this part) -->",
                              "<!-- bench-clients:end -->")


def write_benchmarks_md(text, begin=BEGIN, end=END):
    """Replaces a generated part of BENCHMARKS.md, keeping the prose around it."""
    BEGIN, END = begin, end
    path = os.path.join(ROOT, "BENCHMARKS.md")
    doc = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n%s\n%s\n" % (BEGIN, END)
    if BEGIN not in doc or END not in doc:
        doc += "\n%s\n%s\n" % (BEGIN, END)
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(head + BEGIN + "\n" + text + "\n" + END + tail)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the release build of cosocket-bench")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--files", type=int, default=25, help="stream total = N x the 8 MB data file")
    ap.add_argument("--pairs", type=int, default=30)
    ap.add_argument("--round-trips", type=int, default=10000)
    ap.add_argument("--new-connections", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--syscall-ops", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="a smoke run: small counts, 1 repetition")
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "bench"))
    ap.add_argument("--kv-ops", type=int, default=20000, help="operations per client run (§5)")
    ap.add_argument("--only", help="comma list of sections: stream,overhead,timers,syscalls,memory,tls,clients")
    ap.add_argument("--report-only", action="store_true", help="rewrite the report from --out's results.json")
    ap.add_argument("--write", action="store_true", help="put the report into BENCHMARKS.md")
    ap.add_argument("--command", default="bash scripts/bench.sh", help="the command the report names")
    a = ap.parse_args()
    if a.quick:
        a.reps, a.files, a.pairs, a.round_trips = 1, 2, 4, 2000
        a.new_connections, a.connections, a.syscall_ops = 200, 1000, 200
        a.kv_ops = 2000
    a.bin = os.path.abspath(a.bin)
    if a.report_only:
        results = json.load(open(os.path.join(a.out, "results.json")))
        finish(results, a)
        return
    # 10,000 connections in the memory count, in the client and in the peer.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.connections + 1024  # per process: the client and the hold peer each
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    except (ValueError, OSError):
        if hard < want:
            sys.exit("the descriptor limit %d is below %d: raise it (ulimit -n) or run as root" % (hard, want))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    b = Bench(a)
    sections = a.only.split(",") if a.only else ["stream", "overhead", "timers", "syscalls", "memory", "tls",
                                                  "clients"]
    results = {"versions": versions(a.bin), "pinned": b.two_cores,
               "loadavg_start": open("/proc/loadavg").read().split()[:3],
               "settings": {k: v for k, v in vars(a).items() if k not in ("out", "bin")}}
    started = time.monotonic()
    try:
        for section in sections:
            t0 = time.monotonic()
            results[section] = getattr(b, section)()
            print("%s: %.0f s" % (section, time.monotonic() - t0), flush=True)
    finally:
        b.procs.stop()
        shutil.rmtree(b.tmp, ignore_errors=True)
    results["seconds"] = round(time.monotonic() - started)
    results["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "results.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    print("wrote", path)
    finish(results, a)


def finish(results, a):
    texts = []
    if any(k in results for k in ("stream", "overhead", "timers", "syscalls", "memory")):
        texts.append((report(results, a.command), BEGIN, END))
    if "tls" in results:
        texts.append((tls_report(results, a.command), TLS_BEGIN, TLS_END))
    if "clients" in results:
        texts.append((clients_report(results, a.command), CLIENTS_BEGIN, CLIENTS_END))
    for text, begin, end in texts:
        path = os.path.join(a.out, {BEGIN: "report.md", TLS_BEGIN: "report-tls.md"}.get(begin, "report-clients.md"))
        with open(path, "w") as f:
            f.write(text + "\n")
        print()
        print(text)
        print()
        print("wrote", path)
        if a.write and not a.quick:
            print("wrote", write_benchmarks_md(text, begin, end))


if __name__ == "__main__":
    main()
