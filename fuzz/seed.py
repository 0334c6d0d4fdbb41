#!/usr/bin/env python3
"""Writes the seed corpus: fuzz/corpus/<target>/<name>, a few meaningful inputs each.

Each target reads its input one byte per choice (src/lib.rs), so a seed is its knob bytes,
then its choices, then the payload. Run `python3 fuzz/seed.py` after changing a target's
input layout; the files are committed, the fuzzer's own finds are not (run it with a
scratch corpus directory first: scripts/fuzz.sh does).
"""

import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
SEGMENT = {1: 0, 2: 1, 3: 2, 7: 3, 16: 4, 4096: 5}


def cut(length, pause):
    """One cut of the byte stream: 1 + (b >> 1) % max bytes, a pause if b is odd."""
    return bytes([((length - 1) << 1) | int(pause)])


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def until():
    # knobs: alphabet, segment, patterns-1, ops-1, cuts-1
    def case(alphabet, segment, patterns, ops, cuts, stream):
        abc = [b"ab", b"ab-", b"ab\n\r", b"aaab", b"abc"][alphabet]
        out = bytes([alphabet, SEGMENT[segment], len(patterns) - 1, len(ops) - 1, len(cuts) - 1])
        for p, inclusive in patterns:
            out += bytes([len(p) - 1]) + bytes(abc.index(c) for c in p) + bytes([inclusive])
        out += b"".join(cut(n, p) for n, p in cuts)
        for kind, it, size in ops:  # kind 0/1: until(it, size), 2: exact(size % 4), 3: line
            out += bytes([kind, it, size])
        return out + bytes(abc.index(c) for c in stream)

    write("until", "self_overlap", case(0, 4096, [(b"aab", 0)], [(0, 0, 0)] * 6, [(1, True)],
                                        b"aaabaabababaab"))
    write("until", "chunked_inclusive", case(0, 3, [(b"abab", 1)], [(0, 0, 2)] * 8,
                                             [(2, False), (3, True)], b"abaababababbab"))
    write("until", "two_iterators_and_lines", case(2, 7, [(b"\r\n", 0), (b"ab", 1)],
                                                   [(0, 0, 0), (1, 1, 0), (3, 0, 0), (2, 0, 3), (0, 1, 1)],
                                                   [(5, False)], b"ab\r\naab\nbb\r\nab"))
    write("until", "dashes", case(1, 1, [(b"--a", 0)], [(0, 0, 0), (0, 0, 0), (3, 0, 5)],
                                  [(4, True), (1, False)], b"a---a--b--aab"))


def readers():
    # knobs: segment, ops-1, cuts-1, raw, limit
    def op(kind, n=0):
        return bytes([kind | (n << 3)])  # kind: 0 line, 2 all, 3 exact, 5 any, 7 lent

    # Stream bytes map to "ab\r\n"[b % 4] unless raw is odd.
    lines = bytes([0, 1, 2, 3, 0, 2, 0, 3, 3, 1, 2, 2, 3, 0])
    write("readers", "lines", bytes([0, 5, 1, 0, 5]) + cut(3, True) + cut(1, False)
          + op(0) * 3 + op(3, 2) + op(7, 0) + op(2) + lines)
    write("readers", "any_and_exact", bytes([3, 5, 2, 1, 9]) + cut(5, False) + cut(2, True) + cut(9, False)
          + op(5, 3) + op(3, 4) + op(5, 7) + op(7, 3) + op(3, 8) + op(2) + b"\x00\xffbinary\r\n\x00tail")
    write("readers", "limit", bytes([1, 3, 0, 0, 4]) + cut(2, True) + op(0) + op(0) + op(3, 8) + op(2)
          + bytes([0, 1, 0, 1, 3, 0, 0, 0, 0, 0, 0, 1, 1, 3]))


def fragments():
    def leaf(data):
        return bytes([0, len(data)]) + data

    def big(size_index, fill):
        return bytes([2, size_index, fill])

    def integer(n):
        return bytes([3]) + struct.pack("<q", n)

    def lst(*children):
        return bytes([4, len(children)]) + b"".join(children)

    writes = bytes([1, 0, 0, 1, 2, 5, 1, 255]) * 8
    write("fragments", "resp_pipeline", lst(leaf(b"*2\r\n"), leaf(b"$3\r\nGET\r\n$"), integer(3),
                                            lst(leaf(b"\r\nkey\r\n")), lst()) + writes)
    write("fragments", "large_values", lst(big(3, 0x61), leaf(b"\r\n"), big(4, 0x62), big(2, 0x63),
                                           lst(big(1, 0x64), integer(-9223372036854775808))) + writes)
    write("fragments", "nested_empty", lst(lst(lst()), leaf(b""), integer(0), lst(leaf(b"x"))) + writes)


def host():
    def case(port, text, pieces=False):
        return struct.pack(">H", port) + bytes([int(pieces)]) + text

    for name, port, text in [
        ("ipv4", 6379, b"127.0.0.1"),
        ("ipv4_port", 80, b"10.0.0.1:8080"),
        ("ipv4_nginx", 1, b"010..2.3"),
        ("ipv6", 443, b"[::1]"),
        ("ipv6_port", 443, b"[::ffff:127.0.0.1]:81"),
        ("bare_ipv6", 1, b"::1"),
        ("name", 53, b"example.invalid"),
        ("digits", 80, b"12345"),
        ("unix", 0, b"UNIX:/tmp/x.sock"),
        ("bad", 1, b"[zz]x"),
    ]:
        write("host", name, case(port, text))
    # Pieces: 0 "0", 1 "1", 2 "25", 3 "255", 4 "256", 5 ".", 6 ":", 7 "::", 8 "[", 9 "]",
    # 10 "ffff", 11 "a", 12 "/", 13 "unix:", 14 "%", 15 "00".
    write("host", "pieces_v4", case(7, bytes([3, 5, 2, 5, 15, 5, 4, 6, 1]), True))
    write("host", "pieces_v6", case(7, bytes([8, 7, 10, 6, 3, 5, 0, 5, 0, 5, 1, 9, 6, 2]), True))


def redis():
    # knobs: segment, max_bulk, max_elements, max_depth (255: the defaults), cuts-1
    defaults = bytes([255, 255, 255])
    cuts = cut(3, True) + cut(1, True) + cut(7, False)
    for name, segment, limits, payload in [
        ("resp2", 4096, defaults, b"+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n"
                                  b"*3\r\n$1\r\na\r\n:1\r\n*0\r\n"),
        ("nested", 3, defaults, b"*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n$3\r\nabc\r\n"),
        ("resp3", 7, defaults, b"%2\r\n+a\r\n,1.5\r\n+b\r\n#t\r\n~1\r\n_\r\n>2\r\n+pubsub\r\n(123\r\n"
                               b"=8\r\ntxt:text\r\n|1\r\n+key\r\n+val\r\n:7\r\n!3\r\nERR\r\n,inf\r\n,nan\r\n"),
        ("limits", 1, bytes([4, 3, 2]), b"$4\r\nabcd\r\n$5\r\nabcde\r\n"),
        ("too_deep", 16, bytes([64, 8, 2]), b"*1\r\n*1\r\n*1\r\n:1\r\n"),
        ("malformed", 2, defaults, b"$3\r\nabcde\r\n"),
    ]:
        write("redis_reply", name, bytes([SEGMENT[segment]]) + limits + bytes([2]) + cuts + payload)


def memcached():
    # knobs: segment, command, max_value (255: 1 MiB), cuts-1
    # command: 0 get, 1 gets, 2 set, 3 cas, 4 delete, 5 incr, 6 touch, 7 flush_all,
    # 8 version, 9 stats, 10 verbosity
    cuts = cut(4, True) + cut(1, False)
    for name, command, payload in [
        ("get", 0, b"VALUE k 5 3\r\nabc\r\nEND\r\n"),
        ("gets", 1, b"VALUE a 0 1 99\r\nx\r\nVALUE b 1 0 100\r\n\r\nEND\r\n"),
        ("stored", 2, b"STORED\r\nNOT_STORED\r\nSERVER_ERROR out of memory\r\n"),
        ("exists", 3, b"EXISTS\r\nNOT_FOUND\r\n"),
        ("incr", 5, b"18446744073709551615\r\nNOT_FOUND\r\nCLIENT_ERROR bad\r\n"),
        ("stats", 9, b"STAT pid 1\r\nSTAT version 1.6\r\nEND\r\n"),
        ("version", 8, b"VERSION 1.6.21\r\nERROR\r\n"),
        ("too_large", 0, b"VALUE k 0 99\r\n"),
    ]:
        write("memcached_reply", name, bytes([SEGMENT[7], command, 255 if name != "too_large" else 20, 1]) + cuts + payload)


def dns():
    # mode (0 raw, 1 after a question, 2 round trip), type index, max_records
    header = struct.pack(">HHHHHH", 0x1234, 0x8180, 1, 2, 0, 0)
    question = b"\x03www\x04test\x00\x00\x01\x00\x01"
    answers = (b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04"
               b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x0c")
    write("dns_message", "raw_answer", bytes([0, 0, 7]) + header + question + answers)
    write("dns_message", "raw_loop", bytes([0, 0, 7]) + header + b"\xc0\x0c\x00\x01\x00\x01")
    # Mode 1: rcode byte, ancount byte, then the answer section.
    write("dns_message", "txt_mx_srv", bytes([1, 3, 7, 0, 3])
          + b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c\x00\x06\x02hi\x02yo"
          + b"\xc0\x0c\x00\x0f\x00\x01\x00\x00\x00\x3c\x00\x04\x00\x0a\xc0\x0c"
          + b"\xc0\x0c\x00\x21\x00\x01\x00\x00\x00\x3c\x00\x08\x00\x01\x00\x02\x00\x03\xc0\x0c")
    write("dns_message", "pointer_forward", bytes([1, 2, 7, 0, 1])
          + b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x1f")
    # Mode 2: labels-1, then each label's length byte (1 + b % 8) and letters
    # (abcXYZ09-_\*), the trailing-dot flag, id, RD flag, records-1 ... (see lib.rs).
    write("dns_message", "round_trip", bytes([2, 0, 7, 1, 2, 0, 1, 2, 1, 3, 4, 1, 0x12, 0x34, 1, 4,
                                                 9, 9, 0, 1, 2, 9, 9, 3, 9, 9, 4, 5, 9, 9, 2, 2, 2, 0x61, 0x62, 9]))
    write("dns_message", "long_label", bytes([2, 1, 7, 0, 255] + [0] * 64 + [0, 0, 0, 0, 0]))


def http():
    # knobs: segment, max_line, max_headers (255: the defaults), chunk_size, head, cuts-1
    cuts = cut(5, True) + cut(2, False) + cut(11, True)
    heads = [
        ("content_length", 0, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello"),
        ("interim", 0, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n"),
        ("chunked", 0, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        ("until_close", 0, b"HTTP/1.0 200 OK\r\n\r\nbody until the end"),
        ("head_method", 3, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
        ("folded", 0, b"HTTP/1.1 200 OK\r\nA: b\r\n  folded\r\n\r\n"),
        ("conflicting_length", 0, b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx"),
    ]
    for name, head, payload in heads:
        write("http_head", name, bytes([SEGMENT[7], 255, 255, 15, head, 2]) + cuts + payload)
    write("http_head", "limits", bytes([SEGMENT[3], 30, 1, 2, 0, 2]) + cuts
          + b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n")
    bodies = [
        ("simple", b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"),
        ("trailers", b"a\r\n0123456789\r\n0\r\nExpires: never\r\nX: y\r\n\r\n"),
        ("bare_lf", b"3\nabc\r\n 0 \n\n"),
        ("bad_crlf", b"3\r\nabcd\r\n0\r\n\r\n"),
        ("hex_case", b"1F\r\n" + b"x" * 31 + b"\r\n0\r\n\r\n"),
        ("truncated", b"10\r\nshort"),
    ]
    for name, payload in bodies:
        write("http_chunked", name, bytes([SEGMENT[16], 255, 255, 7, 0, 2]) + cuts + payload)
    write("http_chunked", "small_limits", bytes([SEGMENT[1], 4, 1, 0, 1, 2]) + cuts
          + b"2\r\nab\r\n0\r\nT: 1\r\n\r\n")


if __name__ == "__main__":
    until()
    readers()
    fragments()
    host()
    redis()
    memcached()
    dns()
    http()
