#!/usr/bin/env python3
"""cosocket's benchmark driver (scripts/bench.sh runs it; BENCHMARKS.md has the output).

Everything is measured in this one run, so every ratio compares figures taken on the same
machine within minutes of each other. Peers (the C blaster, the echo / sink / lines / hold
peers) run on CPU 0; the measured readers (cosocket's processes and OpenResty's one nginx
worker) on CPU 1. Every process listens on 127.0.0.1 only and is stopped by PID at the end.

usage: python3 bench/run.py --bin target/release/cosocket-bench [--reps 5] [--quick]
"""
import argparse
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
    lua_package_path "{lua}/?.lua;;";
    server {{
        listen 127.0.0.1:{port};
        location = /stream4096 {{ content_by_lua_block {{ require("bench").stream() }} }}
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
        nginx_port = free_port()
        prefix = os.path.join(self.tmp, "nginx")
        os.makedirs(os.path.join(prefix, "logs"))
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(
                affinity="worker_cpu_affinity 10;" if self.two_cores else "",
                lua=os.path.join(HERE, "openresty", "lua"), port=nginx_port))
        self.procs.start("nginx", ["nginx", "-p", prefix, "-c", conf], nginx_port,
                         sig=signal.SIGQUIT, stderr=subprocess.DEVNULL)

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
        self.procs.stop("echo")
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
                             ("receive_line", "lines", 65536), ("pingpong", "echo", 4096)]:
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the release build of cosocket-bench")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--files", type=int, default=25, help="stream total = N x the 8 MB data file")
    ap.add_argument("--pairs", type=int, default=30)
    ap.add_argument("--round-trips", type=int, default=10000)
    ap.add_argument("--new-connections", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--syscall-ops", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="a smoke run: small counts, 1 repetition")
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "bench"))
    ap.add_argument("--only", help="comma list of sections: stream,overhead,timers,syscalls,memory")
    a = ap.parse_args()
    if a.quick:
        a.reps, a.files, a.pairs, a.round_trips = 1, 2, 4, 2000
        a.new_connections, a.connections, a.syscall_ops = 200, 1000, 200
    a.bin = os.path.abspath(a.bin)
    # 10,000 connections on each side of the memory count.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4 * a.connections + 1024
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    except (ValueError, OSError):
        if hard < want:
            sys.exit("the descriptor limit %d is below %d: raise it (ulimit -n) or run as root" % (hard, want))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    b = Bench(a)
    sections = a.only.split(",") if a.only else ["stream", "overhead", "timers", "syscalls", "memory"]
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


if __name__ == "__main__":
    main()
