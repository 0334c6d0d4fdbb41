#!/usr/bin/env python3
"""Same-run A/B of two builds of cosocket-bench: is a change a regression?

Runs cosocket's readers (stream parsing on tokio and smol, both buffer sizes) and the
ping-pong / pool loops of build A and build B alternately, A and B swapping places every
repetition, against the same peers (the C blaster and the echo peer of run.py, on CPU 0;
the readers on CPU 1). Prints, per case, each build's median and B / A.

usage: python3 bench/ab.py --a OLD/cosocket-bench --b NEW/cosocket-bench [--reps 7]
       [--only tokio/any,pingpong] [--clients]

`--clients` runs BENCHMARKS.md §5's cosocket client cases instead (cosocket-redis,
cosocket-memcached, cosocket-http, cosocket-dns against the real servers of run.py).

`bash scripts/bench-ab.sh REV` builds REV in a worktree and runs this against the work
tree's build.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the driver's helpers: data, peers, placement)

READERS = {"line": ("co-line", "lines", None), "fixed": ("co-fixed", "lines", 65536),
           "any": ("co-any", "lines", 65536), "until": ("co-until", "multipart", None),
           "until_size": ("co-until-size", "multipart", 4096)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True, help="the baseline build of cosocket-bench")
    ap.add_argument("--b", required=True, help="the build under test")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--files", type=int, default=25)
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--round-trips", type=int, default=10000)
    ap.add_argument("--only", help="comma list of substrings: run the cases whose name has one")
    ap.add_argument("--clients", action="store_true", help="§5's client cases (real servers)")
    ap.add_argument("--ops", type=int, default=20000, help="§5: operations per 1-task case")
    a = ap.parse_args()
    builds = {"A": os.path.abspath(a.a), "B": os.path.abspath(a.b)}

    args = argparse.Namespace(bin=builds["A"], reps=a.reps, files=a.files)
    bench = run.Bench(args)
    results = {}
    try:
        if a.clients:
            cases = client_cases(bench.start_client_servers(), a.ops)
        else:
            cases = stream_cases(bench, a)
        if a.only:
            wanted = a.only.split(",")
            cases = [c for c in cases if any(w in c[0] for w in wanted)]
        for rep in range(a.reps):
            order = ("A", "B") if rep % 2 == 0 else ("B", "A")
            for name, argv, key in cases:
                for build in order:
                    bench.a.bin = builds[build]
                    res = bench.run_bin(*argv)
                    results.setdefault(name, {"A": [], "B": []})[build].append(res[key])
            print("repetition %d of %d done" % (rep + 1, a.reps), flush=True)
    finally:
        bench.procs.stop()
        shutil.rmtree(bench.tmp, ignore_errors=True)

    print()
    print("| case | A (median) | B (median) | B / A |")
    print("|---|---|---|---|")
    for name, runs in results.items():
        ma, mb = statistics.median(runs["A"]), statistics.median(runs["B"])
        print("| %s | %.4g | %.4g | %.3f |" % (name, ma, mb, mb / ma if ma else float("nan")))


def client_cases(ports, ops):
    """§5's cosocket cases (ops/s, higher is better) on both runtimes."""
    cases = []
    for rt in ("tokio", "smol"):
        for tasks in (1, 50):
            n = ops * (1 if tasks == 1 else 2)
            for fname, size in run.CLIENT_FILES.items():
                m = n // (1 if fname == "small" else 20)
                cases.append(("http %s/%s/%d ops/s" % (rt, fname, tasks),
                              ["http", "--client", "co-http", "--runtime", rt, "--port", ports["http"],
                               "--path", "/files/" + fname, "--size", size, "--tasks", tasks, "--n", m],
                              "ops_per_s"))
            cases.append(("dns %s/a/%d ops/s" % (rt, tasks),
                          ["dns", "--client", "co-dns", "--runtime", rt, "--port", ports["dns"],
                           "--tasks", tasks, "--n", n // 2], "ops_per_s"))
            for client, port in (("co-memc-persistent", "memcached"), ("co-memc-pool", "memcached"),
                                 ("co-redis-persistent", "redis"), ("co-redis-pool", "redis"),
                                 ("co-redis-mux", "redis")):
                cases.append(("kv %s/%s/get/%d ops/s" % (rt, client, tasks),
                              ["kv", "--client", client, "--runtime", rt, "--port", ports[port],
                               "--op", "get", "--tasks", tasks, "--n", n], "ops_per_s"))
    return cases


def stream_cases(bench, a):
    """The stream readers (MB/s) and the ping-pong / pool loops (time ratios)."""
    sizes = run.gen_data(bench.tmp)
    blaster = os.path.join(bench.tmp, "blaster")
    subprocess.check_call(["gcc", "-O2", "-o", blaster,
                           os.path.join(run.HERE, "openresty", "blaster.c")])
    blast_port = run.free_port()
    bench.procs.start("blaster", bench.peer([blaster, str(blast_port), bench.tmp]),
                      blast_port, stderr=subprocess.DEVNULL)
    echo_port = bench.start_peer("echo")
    cases = []
    for bs in run.BUFFER_SIZES:
        for mode, (reader, ds, size) in READERS.items():
            for rt in ("tokio", "smol"):
                argv = ["stream", "--reader", reader, "--runtime", rt, "--buffer-size", bs,
                        "--dataset", ds, "--total", sizes[ds] * a.files,
                        "--port", blast_port, "--data-dir", bench.tmp]
                if size:
                    argv += ["--size", size]
                cases.append(("stream %s/%s/%d MB/s" % (rt, mode, bs), argv, "mb_per_s"))
    for rt in ("tokio", "smol"):
        loop = ["--runtime", rt, "--port", echo_port, "--pairs", a.pairs,
                "--round-trips", a.round_trips]
        # Within-build ratios (BENCHMARKS.md section 2): cosocket's time over the raw
        # loop's (lower is better); a persistent connection's time over connect-from-pool
        # + set_keepalive per request (closer to 1 is better).
        cases.append(("pingpong %s time cosocket/raw" % rt, ["pingpong"] + loop, "median"))
        cases.append(("pool %s time persistent/pooled" % rt,
                      ["pool"] + loop + ["--new-connections", 200, "--new-connection-reps", 1],
                      "median"))
    return cases


if __name__ == "__main__":
    main()
