//! Every worked example of spec §2.3–§2.5 and the pure read cases of §11, on the pure core:
//! a scripted peer, the receive buffer, the readers and the `receiveuntil` automaton.
//! A call still waiting when the peer's script is exhausted times out (the read timer).

mod common;

use common::Op::{self, All, Any, Exact, Line, Until};
use common::Session;

fn session(chunks: &[&str], fin: bool) -> Session {
    let mut s = Session::new(4096);
    for c in chunks {
        s.send(c);
    }
    if fin {
        s.fin();
    }
    s
}

fn check(s: &mut Session, ops: &[Op], expected: &[&str]) {
    assert_eq!(s.renders(ops), expected);
}

// ---- §2.3 / §11 "Line reading" ----------------------------------------------------

#[test]
fn line_drops_every_cr_case_1() {
    let mut s = session(&["foo\r\r\nbar\rbaz\r\nqux\n\r\n\nlast"], true);
    check(
        &mut s,
        &[Line; 7],
        &[
            r#"("foo")"#,
            r#"("barbaz")"#,
            r#"("qux")"#,
            r#"("")"#,
            r#"("")"#,
            r#"(nil,"closed","last")"#,
            r#"(nil,"closed")"#,
        ],
    );
}

#[test]
fn line_eof_partial_then_closed_case_2() {
    let mut s = session(&["abc\ndef"], true);
    check(
        &mut s,
        &[Line; 3],
        &[r#"("abc")"#, r#"(nil,"closed","def")"#, r#"(nil,"closed")"#],
    );
}

#[test]
fn line_eof_with_nothing_pending_case_3() {
    let mut s = session(&["abc\n"], true);
    check(
        &mut s,
        &[Line; 3],
        &[r#"("abc")"#, r#"(nil,"closed","")"#, r#"(nil,"closed")"#],
    );
}

#[test]
fn line_crs_split_across_segments_case_4() {
    let mut s = session(&["a\rb\rc"], false);
    s.pause();
    s.send("\r\n");
    check(&mut s, &[Line], &[r#"("abc")"#]);
}

#[test]
fn line_timeout_consumes_partial_case_5() {
    let mut s = session(&["abc"], false);
    check(&mut s, &[Line], &[r#"(nil,"timeout","abc")"#]);
    s.send("def\n");
    s.fin();
    check(&mut s, &[Line], &[r#"("def")"#]);
}

#[test]
fn long_line_with_one_byte_buffer_case_6() {
    let mut s = Session::new(1);
    let line = "x".repeat(100_000);
    s.send(format!("{line}\n{}", "y".repeat(10)));
    s.fin();
    assert_eq!(s.render(Line), format!("(\"{line}\")"));
    check(&mut s, &[All], &[r#"("yyyyyyyyyy")"#]);
}

#[test]
fn http_headers_then_body_without_newline_case_7_and_8() {
    for (segment, body, tail) in [
        (4096, "foo", vec![r#"(nil,"closed","foo")"#]),
        (1, "foo\n", vec![r#"("foo")"#, r#"(nil,"closed","")"#]),
    ] {
        let mut s = Session::new(segment);
        s.send(format!("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n{body}"));
        s.fin();
        let mut expected = vec![r#"("HTTP/1.1 200 OK")"#, r#"("Server: x")"#, r#"("")"#];
        expected.extend(tail);
        let ops = vec![Line; expected.len()];
        check(&mut s, &ops, &expected);
    }
}

// ---- *a --------------------------------------------------------------------------

#[test]
fn all_eof_is_success_and_repeats_case_9() {
    let mut s = session(&["hello "], false);
    s.pause();
    s.send("world\r\n");
    s.fin();
    check(
        &mut s,
        &[All, All, Line, Line],
        &[
            r#"("hello world\r\n")"#,
            r#"("")"#,
            r#"(nil,"closed","")"#,
            r#"(nil,"closed")"#,
        ],
    );
}

#[test]
fn all_timeout_then_empty_case_10() {
    let mut s = session(&["partial-data"], false);
    check(&mut s, &[All], &[r#"(nil,"timeout","partial-data")"#]);
    s.fin();
    check(&mut s, &[All], &[r#"("")"#]);
}

#[test]
fn all_on_immediate_fin_case_11() {
    let mut s = session(&[], true);
    check(&mut s, &[All, All], &[r#"("")"#, r#"("")"#]);
}

#[test]
fn any_after_all_eof_case_12() {
    let mut s = session(&["hello world\r\n"], true);
    check(
        &mut s,
        &[All, Any(10), All],
        &[
            r#"("hello world\r\n")"#,
            r#"(nil,"closed","")"#,
            r#"(nil,"closed")"#,
        ],
    );
}

#[test]
fn line_then_all_keeps_crs_case_13() {
    let mut s = session(&["HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody\r\n"], true);
    check(
        &mut s,
        &[Line, All],
        &[r#"("HTTP/1.1 200 OK")"#, r#"("A: b\r\n\r\nbody\r\n")"#],
    );
}

// ---- exactly n ----------------------------------------------------------------------

#[test]
fn exact_and_zero_case_14() {
    let mut s = session(&["12345"], true);
    check(
        &mut s,
        &[Exact(3), Exact(0), Exact(5), Exact(0), Exact(1)],
        &[
            r#"("123")"#,
            r#"("")"#,
            r#"(nil,"closed","45")"#,
            r#"(nil,"closed")"#,
            r#"(nil,"closed")"#,
        ],
    );
}

#[test]
fn exact_timeout_then_rest_case_15() {
    let mut s = session(&["abc"], false);
    check(&mut s, &[Exact(5)], &[r#"(nil,"timeout","abc")"#]);
    s.send("defgh");
    s.fin();
    check(
        &mut s,
        &[Exact(5), Exact(5)],
        &[r#"("defgh")"#, r#"(nil,"closed","")"#],
    );
}

#[test]
fn exact_trickle_case_16() {
    let mut s = Session::new(4096);
    for c in ["a", "b", "c", "d"] {
        s.send(c);
        s.pause();
    }
    check(&mut s, &[Exact(4)], &[r#"("abcd")"#]);
}

#[test]
fn exact_pieces_of_a_response_case_19() {
    let stream = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhello\n";
    for segment in [1, 4096] {
        let mut s = Session::new(segment);
        s.send(stream);
        s.fin();
        let pieces = stream.len() / 10;
        let mut expected: Vec<String> = (0..pieces)
            .map(|i| format!("(\"{}\")", stream[i * 10..i * 10 + 10].escape_default()))
            .collect();
        expected.push(format!(
            "(nil,\"closed\",\"{}\")",
            stream[pieces * 10..].escape_default()
        ));
        assert_eq!(
            s.renders(&vec![Exact(10); pieces + 1]),
            expected,
            "segment {segment}"
        );
    }
}

// ---- receiveany (§2.4) --------------------------------------------------------------

#[test]
fn any_returns_buffered_then_one_recv_case_20() {
    let mut s = session(&["hello", "world"], true);
    // The client slept: both pieces are in the kernel; one recv takes both.
    let mut merged = Session::new(4096);
    merged.send("helloworld");
    merged.fin();
    check(
        &mut merged,
        &[Any(3), Any(100), Any(100), Any(100)],
        &[
            r#"("hel")"#,
            r#"("loworld")"#,
            r#"(nil,"closed","")"#,
            r#"(nil,"closed")"#,
        ],
    );
    // Arriving separately, each recv returns one piece.
    check(
        &mut s,
        &[Any(3), Any(100), Any(100)],
        &[r#"("hel")"#, r#"("lo")"#, r#"("world")"#],
    );
}

#[test]
fn any_mixed_with_exact_and_timeout_case_21() {
    let mut s = session(&["01234567890123456789"], false);
    check(
        &mut s,
        &[Exact(2), Any(5), Any(100), Any(100)],
        &[
            r#"("01")"#,
            r#"("23456")"#,
            r#"("7890123456789")"#,
            r#"(nil,"timeout","")"#,
        ],
    );
}

#[test]
fn any_zero_is_bad_max_argument_case_22() {
    let mut s = session(&["x"], false);
    let out = s.call(Any(0));
    assert_eq!(out.render(), r#"(nil,"bad max argument")"#);
    check(&mut s, &[Any(5)], &[r#"("x")"#]);
}

#[test]
fn any_is_bounded_by_buffer_size_case_23() {
    for (segment, first) in [(4096, 4096), (1, 1)] {
        let mut s = Session::new(segment);
        s.send(vec![b'z'; 100_010]);
        let a = s.call(Any(20_000));
        let b = s.call(Any(3));
        match (a, b) {
            (common::Outcome::Data(a), common::Outcome::Data(b)) => {
                assert_eq!((a.len(), b.len()), (first, first.min(3)));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn any_on_fin_case_24() {
    let mut s = session(&[], true);
    check(
        &mut s,
        &[Any(10), Any(10)],
        &[r#"(nil,"closed","")"#, r#"(nil,"closed")"#],
    );
}

// ---- receiveuntil (§2.5) ------------------------------------------------------------

/// Runs `calls` iterator calls of sizes `sizes` (cycled) on a fresh session.
fn until_run(
    stream: &str,
    fin: bool,
    pattern: &str,
    inclusive: bool,
    sizes: &[usize],
    calls: usize,
) -> Vec<String> {
    let mut s = session(&[stream], fin);
    let it = s.until(pattern, inclusive);
    (0..calls)
        .map(|i| s.render(Until(it, sizes[i % sizes.len()])))
        .collect()
}

#[test]
fn size_mode_chunks_then_end_of_part_case_26() {
    let mut s = session(&["hello, world! -agentzh\r\n--abcedhb blah blah"], true);
    let it = s.until("\r\n--abcedhb", false);
    check(
        &mut s,
        &[Until(it, 4); 7],
        &[
            r#"("hell")"#,
            r#"("o, w")"#,
            r#"("orld")"#,
            r#"("! -a")"#,
            r#"("gent")"#,
            r#"("zh")"#,
            "(nil,nil,nil)",
        ],
    );
    check(&mut s, &[All], &[r#"(" blah blah")"#]);
}

#[test]
fn worked_examples_of_section_2_5() {
    let cases = [
        ("aab", "aaab", "a"),
        ("--abc", "---abc", "-"),
        ("abcabd", "abcabcabd\n", "abc"),
        ("aa", "abcabcaad\n", "abcabc"),
        ("aaa", "abaabcaaaef\n", "abaabc"),
        ("aaaaad", "baaaaaaaaeaaaaaaadf\n", "baaaaaaaaeaa"),
        ("abcabdabcabe", "abcabdabcabdabcabe\n", "abcabd"),
        ("abcabdabcabe", "abcabdabcabcabdabcabe\n", "abcabdabc"),
        ("abcabdabcabe", "abcabcabdabcabe\n", "abc"),
        ("abcabdabcabe", "ababcabdabcabe\n", "ab"),
    ];
    for (pattern, stream, first) in cases {
        for segment in [1, 2, 4096] {
            let mut s = Session::new(segment);
            s.send(stream);
            s.fin();
            let it = s.until(pattern, false);
            assert_eq!(
                s.render(Until(it, 0)),
                format!("(\"{first}\")"),
                "{pattern} on {stream}"
            );
        }
    }
}

#[test]
fn eof_after_match_cases_27_28() {
    assert_eq!(
        until_run("aaab", true, "aab", false, &[0], 2),
        [r#"("a")"#, r#"(nil,"closed","")"#]
    );
    assert_eq!(
        until_run("---abc", true, "--abc", false, &[0], 2),
        [r#"("-")"#, r#"(nil,"closed","")"#]
    );
}

#[test]
fn eof_discards_withheld_bytes_case_29() {
    for inclusive in [false, true] {
        assert_eq!(
            until_run("hello--ab", true, "--abc", inclusive, &[0], 2),
            [r#"(nil,"closed","hello")"#, r#"(nil,"closed")"#]
        );
    }
}

#[test]
fn size_mode_without_pattern_case_30() {
    assert_eq!(
        until_run("hello world", true, "XYZ", false, &[4], 4),
        [
            r#"("hell")"#,
            r#"("o wo")"#,
            r#"(nil,"closed","rld")"#,
            r#"(nil,"closed")"#
        ]
    );
}

#[test]
fn unlimited_mode_repeats_case_31() {
    assert_eq!(
        until_run("one--abctwo--abc--abcthree", true, "--abc", false, &[0], 5),
        [
            r#"("one")"#,
            r#"("two")"#,
            r#"("")"#,
            r#"(nil,"closed","three")"#,
            r#"(nil,"closed")"#
        ]
    );
}

#[test]
fn size_mode_parts_case_32() {
    assert_eq!(
        until_run("one--abctwo--abc--abcthree", true, "--abc", false, &[3], 9),
        [
            r#"("one")"#,
            r#"("")"#,
            "(nil,nil,nil)",
            r#"("two")"#,
            r#"("")"#,
            "(nil,nil,nil)",
            r#"("")"#,
            "(nil,nil,nil)",
            r#"("thr")"#
        ]
    );
}

#[test]
fn chunk_boundary_before_pattern_case_33() {
    assert_eq!(
        until_run("abcdefgh--abcrest", true, "--abc", false, &[4], 5),
        [
            r#"("abcd")"#,
            r#"("efgh")"#,
            r#"("")"#,
            "(nil,nil,nil)",
            r#"("rest")"#
        ]
    );
}

#[test]
fn timeout_keeps_withheld_bytes_case_34() {
    let mut s = session(&["hello--ab"], false);
    let it = s.until("--abc", false);
    check(&mut s, &[Until(it, 0)], &[r#"(nil,"timeout","hello")"#]);
    s.send("c rest");
    s.fin();
    check(&mut s, &[Until(it, 0), All], &[r#"("")"#, r#"(" rest")"#]);
}

#[test]
fn unlimited_call_after_size_mode_completion_case_35() {
    assert_eq!(
        until_run("one--abctwo--abc", true, "--abc", false, &[3, 3, 0, 0], 4),
        [r#"("one")"#, r#"("")"#, "(nil,nil,nil)", r#"("two")"#]
    );
}

#[test]
fn inclusive_size_mode_case_37() {
    assert_eq!(
        until_run("hello, world ----abc", true, "--abc", true, &[4], 6),
        [
            r#"("hell")"#,
            r#"("o, w")"#,
            r#"("orld")"#,
            r#"(" ----abc")"#,
            "(nil,nil,nil)",
            r#"(nil,"closed","")"#
        ]
    );
}

#[test]
fn non_inclusive_size_mode_case_38() {
    assert_eq!(
        until_run("hello, world ----abc\n", true, "--abc", false, &[4], 6),
        [
            r#"("hell")"#,
            r#"("o, w")"#,
            r#"("orld")"#,
            r#"(" --")"#,
            "(nil,nil,nil)",
            r#"(nil,"closed","\n")"#
        ]
    );
}

#[test]
fn self_overlapping_patterns_cases_39_to_44() {
    let two = |stream: &str, pattern: &str, inclusive: bool| {
        until_run(stream, true, pattern, inclusive, &[0], 2)
    };
    assert_eq!(
        two("abcabcabd\n", "abcabd", false),
        [r#"("abc")"#, r#"(nil,"closed","\n")"#]
    );
    assert_eq!(
        two("abcabcaad\n", "aa", false),
        [r#"("abcabc")"#, r#"(nil,"closed","d\n")"#]
    );
    assert_eq!(two("abcabcaad\n", "aa", true)[0], r#"("abcabcaa")"#);
    assert_eq!(
        two("abaabcaaaef\n", "aaa", false),
        [r#"("abaabc")"#, r#"(nil,"closed","ef\n")"#]
    );
    assert_eq!(
        two("baaaaaaaaeaaaaaaadf\n", "aaaaad", false),
        [r#"("baaaaaaaaeaa")"#, r#"(nil,"closed","f\n")"#]
    );
    for (stream, first) in [
        ("abcabdabcabdabcabe\n", "abcabd"),
        ("abcabdabcabcabdabcabe\n", "abcabdabc"),
        ("abcabcabdabcabe\n", "abc"),
        ("ababcabdabcabe\n", "ab"),
    ] {
        assert_eq!(
            two(stream, "abcabdabcabe", false),
            [
                format!("(\"{first}\")"),
                r#"(nil,"closed","\n")"#.to_owned()
            ]
        );
    }
    assert_eq!(
        two("ababcabdabcabe\n", "abcabdabcabe", true)[0],
        r#"("ababcabdabcabe")"#
    );
    for segment in [1, 4096] {
        let mut s = Session::new(segment);
        s.send("abcabcabdabcabd\n");
        s.fin();
        let it = s.until("abcabd", true);
        check(
            &mut s,
            &[Until(it, 0); 3],
            &[
                r#"("abcabcabd")"#,
                r#"("abcabd")"#,
                r#"(nil,"closed","\n")"#,
            ],
        );
    }
}

#[test]
fn recovery_in_size_mode_case_45() {
    assert_eq!(
        until_run("-----abc\n", true, "--abc", false, &[2], 4),
        [
            r#"("--")"#,
            r#"("-")"#,
            "(nil,nil,nil)",
            r#"(nil,"closed","\n")"#
        ]
    );
}

/// `r(4)` on `"--abc"` alternating with `receive(1)` over `"hello, world ----abc\n"`.
fn alternate_with_receive(inclusive: bool) -> Vec<String> {
    let mut s = session(&["hello, world ----abc\n"], true);
    let it = s.until("--abc", inclusive);
    s.renders(&[Until(it, 4), Exact(1)].repeat(5))
}

#[test]
fn mixing_with_receive_pushes_back_case_46() {
    assert_eq!(
        alternate_with_receive(false),
        [
            r#"("hell")"#,
            r#"("o")"#,
            r#"(", wo")"#,
            r#"("r")"#,
            r#"("ld -")"#,
            r#"("-")"#,
            r#"("")"#,
            r#"("\n")"#,
            "(nil,nil,nil)",
            r#"(nil,"closed","")"#
        ]
    );
}

#[test]
fn mixing_with_receive_case_47() {
    for segment in [1, 4096] {
        let mut s = Session::new(segment);
        s.send("----abc----abc-\n");
        s.fin();
        let it = s.until("--abc", false);
        let mut got = Vec::new();
        loop {
            let a = s.call(Until(it, 2));
            let stop = a == common::Outcome::EndOfPart;
            got.push(a.render());
            if stop {
                break;
            }
            let b = s.call(Exact(1));
            got.push(b.render());
        }
        got.push(s.render(Until(it, 2)));
        assert_eq!(
            got,
            [
                r#"("--")"#,
                r#"("-")"#,
                r#"("-a")"#,
                r#"("b")"#,
                r#"("c-")"#,
                r#"("-")"#,
                r#"("")"#,
                r#"("-")"#,
                "(nil,nil,nil)",
                r#"(nil,"closed","\n")"#
            ],
            "segment {segment}"
        );
    }
}

#[test]
fn two_iterators_case_48() {
    let mut s = session(&["------abd----abc\n"], true);
    let r1 = s.until("--abc", false);
    let r2 = s.until("-ab", false);
    check(
        &mut s,
        &[
            Until(r1, 2),
            Exact(1),
            Until(r1, 1),
            Until(r2, 2),
            Until(r1, 0),
            Until(r1, 0),
        ],
        &[
            r#"("--")"#,
            r#"("-")"#,
            r#"("-")"#,
            r#"("-")"#,
            r#"("d--")"#,
            r#"(nil,"closed","\n")"#,
        ],
    );
}

#[test]
fn dropped_iterator_gives_its_bytes_back_case_49() {
    let mut s = session(&["ab1ab1\n"], false);
    let it = s.until("ab1ab2", false);
    check(&mut s, &[Until(it, 2)], &[r#"("ab1")"#]);
    s.untils.clear();
    check(&mut s, &[Exact(3)], &[r#"("ab1")"#]);
}

#[test]
fn inclusive_mixing_case_50() {
    assert_eq!(
        alternate_with_receive(true),
        [
            r#"("hell")"#,
            r#"("o")"#,
            r#"(", wo")"#,
            r#"("r")"#,
            r#"("ld -")"#,
            r#"("-")"#,
            r#"("--abc")"#,
            r#"("\n")"#,
            "(nil,nil,nil)",
            r#"(nil,"closed","")"#
        ]
    );
}

#[test]
fn iterator_on_closed_read_half_case_51() {
    let mut s = session(&["x"], true);
    let it = s.until("--", false);
    check(
        &mut s,
        &[Exact(2), Until(it, 0), Until(it, 3)],
        &[
            r#"(nil,"closed","x")"#,
            r#"(nil,"closed")"#,
            r#"(nil,"closed")"#,
        ],
    );
}

#[test]
fn socket_error_closes_the_read_half() {
    let mut s = session(&["abc"], false);
    s.src.push(cosocket_core::proto::testing::Feed::Error(104));
    check(
        &mut s,
        &[Line, Line],
        &[
            r#"(nil,"connection reset by peer","abc")"#,
            r#"(nil,"closed")"#,
        ],
    );
}
