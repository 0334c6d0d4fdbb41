//! spec §11 cases 26–51: `receiveuntil` on real sockets, including mixing with other
//! readers and patterns split across segments.

use cosocket_core::{StreamRead, Until};

use super::Call::{All, Exact, It, Line, Timeout};
use super::{Call, connected, script, start};
use crate::Case;
use crate::harness::Harness;
use crate::peer::{PeerSpec, Step};
use crate::render::expect;

/// The peer sends `data` then closes; the client runs `calls` with iterators for
/// `patterns` (pattern, inclusive).
async fn until_case<H: Harness>(
    t: &Case<H>,
    data: &str,
    patterns: &[(&str, bool)],
    calls: &[(Call, &str)],
) {
    let mut peer = start(PeerSpec::tcp(vec![Step::send(data), Step::Close]));
    let mut s = connected(t, &mut peer).await;
    let mut untils: Vec<Until> = patterns
        .iter()
        .map(|&(p, inclusive)| Until::new(p).unwrap().inclusive(inclusive))
        .collect();
    script(t, &mut s, &mut untils, calls).await;
}

/// Case 26.
pub async fn s26_until_size_chunks<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "hello, world! -agentzh\r\n--abcedhb blah blah", &[("\r\n--abcedhb", false)], &[
        (It(0, 4), r#"("hell")"#), (It(0, 4), r#"("o, w")"#), (It(0, 4), r#"("orld")"#),
        (It(0, 4), r#"("! -a")"#), (It(0, 4), r#"("gent")"#), (It(0, 4), r#"("zh")"#),
        (It(0, 4), "(nil,nil,nil)"), (All, r#"(" blah blah")"#),
    ]).await;
}

/// Case 27.
pub async fn s27_until_overlap_aab<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "aaab", &[("aab", false)], &[
        (It(0, 0), r#"("a")"#), (It(0, 0), r#"(nil,"closed","")"#),
    ]).await;
}

/// Case 28.
pub async fn s28_until_overlap_dashes<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "---abc", &[("--abc", false)], &[
        (It(0, 0), r#"("-")"#), (It(0, 0), r#"(nil,"closed","")"#),
    ]).await;
}

/// Case 29, plain and inclusive.
pub async fn s29_until_eof_discards_withheld<H: Harness>(t: Case<H>) {
    for inclusive in [false, true] {
        #[rustfmt::skip]
        until_case(&t, "hello--ab", &[("--abc", inclusive)], &[
            (It(0, 0), r#"(nil,"closed","hello")"#), (It(0, 0), r#"(nil,"closed")"#),
        ]).await;
    }
}

/// Case 30.
pub async fn s30_until_no_pattern_size_chunks<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "hello world", &[("XYZ", false)], &[
        (It(0, 4), r#"("hell")"#), (It(0, 4), r#"("o wo")"#), (It(0, 4), r#"(nil,"closed","rld")"#),
        (It(0, 4), r#"(nil,"closed")"#),
    ]).await;
}

/// Case 31.
pub async fn s31_until_unlimited_parts<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "one--abctwo--abc--abcthree", &[("--abc", false)], &[
        (It(0, 0), r#"("one")"#), (It(0, 0), r#"("two")"#), (It(0, 0), r#"("")"#),
        (It(0, 0), r#"(nil,"closed","three")"#), (It(0, 0), r#"(nil,"closed")"#),
    ]).await;
}

/// Case 32.
pub async fn s32_until_size_3_parts<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "one--abctwo--abc--abcthree", &[("--abc", false)], &[
        (It(0, 3), r#"("one")"#), (It(0, 3), r#"("")"#), (It(0, 3), "(nil,nil,nil)"),
        (It(0, 3), r#"("two")"#), (It(0, 3), r#"("")"#), (It(0, 3), "(nil,nil,nil)"),
        (It(0, 3), r#"("")"#), (It(0, 3), "(nil,nil,nil)"), (It(0, 3), r#"("thr")"#),
    ]).await;
}

/// Case 33.
pub async fn s33_until_chunk_boundary_before_pattern<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "abcdefgh--abcrest", &[("--abc", false)], &[
        (It(0, 4), r#"("abcd")"#), (It(0, 4), r#"("efgh")"#), (It(0, 4), r#"("")"#),
        (It(0, 4), "(nil,nil,nil)"), (It(0, 4), r#"("rest")"#),
    ]).await;
}

/// Case 34: the withheld bytes survive a timeout.
pub async fn s34_until_timeout_keeps_withheld<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("hello--ab"),
        Step::sleep(1000),
        Step::send("c rest"),
        Step::sleep(300),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    let mut untils = [Until::new("--abc").unwrap()];
    #[rustfmt::skip]
    script(&t, &mut s, &mut untils, &[
        (Timeout(200), ""), (It(0, 0), r#"(nil,"timeout","hello")"#), (Timeout(2000), ""),
        (It(0, 0), r#"("")"#), (All, r#"(" rest")"#),
    ]).await;
}

/// Case 35.
pub async fn s35_until_size_then_unlimited<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "one--abctwo--abc", &[("--abc", false)], &[
        (It(0, 3), r#"("one")"#), (It(0, 3), r#"("")"#), (It(0, 0), "(nil,nil,nil)"),
        (It(0, 0), r#"("two")"#),
    ]).await;
}

/// Case 36, the part a Rust caller can express.
pub async fn s36_until_empty_pattern<H: Harness>(_t: Case<H>) {
    let err = Until::new("").unwrap_err();
    assert_eq!(err.to_string(), "pattern is empty");
    assert!(err.partial().is_none());
    assert!(Until::new("123").is_ok());
}

/// Case 37.
pub async fn s37_until_inclusive_size_4<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "hello, world ----abc", &[("--abc", true)], &[
        (It(0, 4), r#"("hell")"#), (It(0, 4), r#"("o, w")"#), (It(0, 4), r#"("orld")"#),
        (It(0, 4), r#"(" ----abc")"#), (It(0, 4), "(nil,nil,nil)"),
        (It(0, 4), r#"(nil,"closed","")"#),
    ]).await;
}

/// Case 38.
pub async fn s38_until_size_4_then_eof<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "hello, world ----abc\n", &[("--abc", false)], &[
        (It(0, 4), r#"("hell")"#), (It(0, 4), r#"("o, w")"#), (It(0, 4), r#"("orld")"#),
        (It(0, 4), r#"(" --")"#), (It(0, 4), "(nil,nil,nil)"),
        (It(0, 4), r#"(nil,"closed","\n")"#),
    ]).await;
}

/// Case 39.
pub async fn s39_until_kmp_abcabd<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "abcabcabd\n", &[("abcabd", false)], &[
        (It(0, 0), r#"("abc")"#), (It(0, 0), r#"(nil,"closed","\n")"#),
    ]).await;
}

/// Case 40, plain and inclusive.
pub async fn s40_until_aa<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "abcabcaad\n", &[("aa", false)], &[
        (It(0, 0), r#"("abcabc")"#), (It(0, 0), r#"(nil,"closed","d\n")"#),
    ]).await;
    until_case(
        &t,
        "abcabcaad\n",
        &[("aa", true)],
        &[(It(0, 0), r#"("abcabcaa")"#)],
    )
    .await;
}

/// Case 41.
pub async fn s41_until_aaa<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "abaabcaaaef\n", &[("aaa", false)], &[
        (It(0, 0), r#"("abaabc")"#), (It(0, 0), r#"(nil,"closed","ef\n")"#),
    ]).await;
}

/// Case 42 (the buffer sizes of the spec: 4096, 2 and 1 give the same result).
pub async fn s42_until_aaaaad_any_buffer<H: Harness>(t: Case<H>) {
    for segment in [4096, 2, 1] {
        let mut peer = start(PeerSpec::tcp(vec![
            Step::send("baaaaaaaaeaaaaaaadf\n"),
            Step::Close,
        ]));
        let mut s = super::connected_with_buffer(&t, &mut peer, segment).await;
        let mut until = Until::new("aaaaad").unwrap();
        expect(
            "it()",
            &super::it(&mut s, &mut until, 0).await,
            r#"("baaaaaaaaeaa")"#,
        );
        expect(
            "it()",
            &super::it(&mut s, &mut until, 0).await,
            r#"(nil,"closed","f\n")"#,
        );
    }
}

/// Case 43.
pub async fn s43_until_abcabdabcabe<H: Harness>(t: Case<H>) {
    let p = "abcabdabcabe";
    for (data, first) in [
        ("abcabdabcabdabcabe\n", r#"("abcabd")"#),
        ("abcabdabcabcabdabcabe\n", r#"("abcabdabc")"#),
        ("abcabcabdabcabe\n", r#"("abc")"#),
        ("ababcabdabcabe\n", r#"("ab")"#),
    ] {
        #[rustfmt::skip]
        until_case(&t, data, &[(p, false)], &[
            (It(0, 0), first), (It(0, 0), r#"(nil,"closed","\n")"#),
        ]).await;
    }
    until_case(
        &t,
        "ababcabdabcabe\n",
        &[(p, true)],
        &[(It(0, 0), r#"("ababcabdabcabe")"#)],
    )
    .await;
}

/// Case 44.
pub async fn s44_until_inclusive_abcabd<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "abcabcabdabcabd\n", &[("abcabd", true)], &[
        (It(0, 0), r#"("abcabcabd")"#), (It(0, 0), r#"("abcabd")"#),
        (It(0, 0), r#"(nil,"closed","\n")"#),
    ]).await;
}

/// Case 45.
pub async fn s45_until_size_2_dashes<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "-----abc\n", &[("--abc", false)], &[
        (It(0, 2), r#"("--")"#), (It(0, 2), r#"("-")"#), (It(0, 2), "(nil,nil,nil)"),
        (It(0, 2), r#"(nil,"closed","\n")"#),
    ]).await;
}

/// Case 46: iterator calls and `receive(1)` alternate.
pub async fn s46_until_mixed_with_receive<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "hello, world ----abc\n", &[("--abc", false)], &[
        (It(0, 4), r#"("hell")"#), (Exact(1), r#"("o")"#), (It(0, 4), r#"(", wo")"#),
        (Exact(1), r#"("r")"#), (It(0, 4), r#"("ld -")"#), (Exact(1), r#"("-")"#),
        (It(0, 4), r#"("")"#), (Exact(1), r#"("\n")"#), (It(0, 4), "(nil,nil,nil)"),
        (Exact(1), r#"(nil,"closed","")"#),
    ]).await;
}

/// Case 47.
pub async fn s47_until_mixed_size_2<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "----abc----abc-\n", &[("--abc", false)], &[
        (It(0, 2), r#"("--")"#), (Exact(1), r#"("-")"#), (It(0, 2), r#"("-a")"#),
        (Exact(1), r#"("b")"#), (It(0, 2), r#"("c-")"#), (Exact(1), r#"("-")"#),
        (It(0, 2), r#"("")"#), (Exact(1), r#"("-")"#), (It(0, 2), "(nil,nil,nil)"),
        (It(0, 2), r#"(nil,"closed","\n")"#),
    ]).await;
}

/// Case 48: two iterators on one socket.
pub async fn s48_two_untils_interleaved<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "------abd----abc\n", &[("--abc", false), ("-ab", false)], &[
        (It(0, 2), r#"("--")"#), (Exact(1), r#"("-")"#), (It(0, 1), r#"("-")"#),
        (It(1, 2), r#"("-")"#), (It(0, 0), r#"("d--")"#), (It(0, 0), r#"(nil,"closed","\n")"#),
    ]).await;
}

/// Case 49: an iterator dropped while it withholds bytes gives them back.
pub async fn s49_dropped_until_gives_bytes_back<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![Step::send("ab1ab1\n")]));
    let mut s = connected(&t, &mut peer).await;
    let mut until = Until::new("ab1ab2").unwrap();
    expect(
        "it(2)",
        &super::it(&mut s, &mut until, 2).await,
        r#"("ab1")"#,
    );
    drop(until);
    expect("receive(3)", &s.receive_exact(3).await, r#"("ab1")"#);
}

/// Case 50.
pub async fn s50_until_inclusive_mixed<H: Harness>(t: Case<H>) {
    #[rustfmt::skip]
    until_case(&t, "hello, world ----abc\n", &[("--abc", true)], &[
        (It(0, 4), r#"("hell")"#), (Exact(1), r#"("o")"#), (It(0, 4), r#"(", wo")"#),
        (Exact(1), r#"("r")"#), (It(0, 4), r#"("ld -")"#), (Exact(1), r#"("-")"#),
        (It(0, 4), r#"("--abc")"#), (Exact(1), r#"("\n")"#), (It(0, 4), "(nil,nil,nil)"),
        (Exact(1), r#"(nil,"closed","")"#),
    ]).await;
}

/// Case 51.
pub async fn s51_until_on_closed_socket<H: Harness>(t: Case<H>) {
    let mut s = t.stream();
    let mut until = Until::new("x").unwrap();
    expect(
        "never connected",
        &super::it(&mut s, &mut until, 0).await,
        r#"(nil,"closed")"#,
    );
    let mut peer = start(PeerSpec::tcp(vec![Step::send("a\n")]));
    let mut s = connected(&t, &mut peer).await;
    expect("line", &s.receive_line().await, r#"("a")"#);
    expect("close", &cosocket_core::StreamSock::close(&mut s), "(1)");
    expect(
        "closed",
        &super::it(&mut s, &mut until, 3).await,
        r#"(nil,"closed")"#,
    );
}

/// A pattern arriving a byte at a time, self-overlapping prefixes in between.
pub async fn x_pattern_split_across_segments<H: Harness>(t: Case<H>) {
    let mut peer = start(PeerSpec::tcp(vec![
        Step::send("one-"),
        Step::sleep(20),
        Step::send("-"),
        Step::sleep(20),
        Step::send("-a"),
        Step::sleep(20),
        Step::send("b"),
        Step::sleep(20),
        Step::send("-"),
        Step::sleep(20),
        Step::send("-abc"),
        Step::sleep(20),
        Step::send("two\n"),
        Step::Close,
    ]));
    let mut s = connected(&t, &mut peer).await;
    let mut untils = [Until::new("--abc").unwrap()];
    #[rustfmt::skip]
    script(&t, &mut s, &mut untils, &[
        (It(0, 0), r#"("one---ab")"#), (Line, r#"("two")"#),
    ]).await;
}
