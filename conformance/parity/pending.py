#!/usr/bin/env python3
"""Checks compare.py's verbose output for one backend against the PENDING list.

usage:
    pending.py PENDING_FILE COMPARE_OUTPUT LABEL

COMPARE_OUTPUT is what `compare.py EXPECTED ACTUAL --verbose` printed: one
"ok   NAME" or "FAIL NAME: ..." line per scenario (continuation lines start with
spaces).  PENDING_FILE lists scenarios not expected to pass yet, one per line as
"NAME  reason" ('#' comments and blank lines allowed); only pool scenarios
(ka_*, unix_keepalive), UDP scenarios (udp_*) and TLS scenarios (tls_*) may be
listed.

Prints "LABEL: P passed, F failed, N pending" and exits 1 if a scenario not
listed fails, a listed one passes (take it off the list: it only shrinks), or
the list names a scenario compare.py did not score or one it may not hold.
"""
import re
import sys

ALLOWED = re.compile(r"^(ka_.*|unix_keepalive|udp_.*|tls_.*)$")


def read_pending(path):
    pending = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, _, reason = line.partition(" ")
            if not reason.strip():
                sys.exit("%s:%d: %r has no reason" % (path, n, name))
            pending[name] = reason.strip()
    return pending


def read_results(path):
    results = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^(ok|FAIL) +([^:\s]+)(?::|$)", line.rstrip("\n"))
            if m:
                results[m.group(2)] = m.group(1) == "ok"
    return results


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    pending = read_pending(argv[1])
    results = read_results(argv[2])
    label = argv[3]
    problems = []
    for name in sorted(pending):
        if not ALLOWED.match(name):
            problems.append("PENDING may list only pool, UDP and TLS scenarios, not %s" % name)
        if name not in results:
            problems.append("PENDING lists %s, which compare.py did not score" % name)
    passed = failed = waiting = 0
    for name, ok in sorted(results.items()):
        if name in pending:
            waiting += 1
            if ok:
                problems.append("%s passes: take it off PENDING" % name)
        elif ok:
            passed += 1
        else:
            failed += 1
            problems.append("%s fails and is not in PENDING" % name)
    if not results:
        problems.append("no scenario results in %s" % argv[2])
    for p in problems:
        print("%s: %s" % (label, p))
    print("%s: %d passed, %d failed, %d pending" % (label, passed, failed, waiting))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
