//! Truncation and TCP, retransmission and round robin, the ID and question check,
//! malformed replies, names and options refused before anything is sent.

use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cosocket_conformance::servers::{DnsRecord, Dnsmasq};
use cosocket_conformance::{Case, Harness};
use cosocket_dns::{DnsClient, Error, Options, RecordData, RecordType};

use super::fake::{FakeServer, a_record, id_of, name_of, question, question_of, response};
use super::{client, options};

pub(crate) async fn truncated_reply_is_repeated_over_tcp<H: Harness>(t: Case<H>) {
    // 12 strings of 60 bytes: about 750 bytes of answer, over UDP's 512.
    let strings: Vec<String> = (0..12)
        .map(|i| format!("{i:02}-{}", "x".repeat(57)))
        .collect();
    let server = Dnsmasq::start(&[
        DnsRecord::Txt("big.test".into(), strings.clone()),
        DnsRecord::A("small.test".into(), Ipv4Addr::new(10, 4, 0, 1)),
    ]);
    let dns = client(&t, server.port());
    let txt = dns.query("big.test", RecordType::Txt).await.unwrap();
    assert_eq!(txt.len(), 1);
    let expected: Vec<Bytes> = strings.iter().map(|s| Bytes::from(s.to_string())).collect();
    assert_eq!(txt[0].data, RecordData::Txt(expected.clone()));
    // dnsmasq logs the query twice: the truncated UDP answer, then the TCP one.
    let log = server.log();
    assert_eq!(log.matches("query[TXT] big.test").count(), 2, "{log}");

    // TCP from the start: one query only.
    let txt = dns.tcp_query("big.test", RecordType::Txt).await.unwrap();
    assert_eq!(txt[0].data, RecordData::Txt(expected));
    assert_eq!(
        dns.tcp_query("small.test", RecordType::A).await.unwrap()[0].data,
        RecordData::A(Ipv4Addr::new(10, 4, 0, 1))
    );
    assert!(matches!(
        dns.tcp_query("nope.test", RecordType::A).await,
        Err(Error::NxDomain)
    ));
    let log = server.log();
    assert_eq!(log.matches("query[TXT] big.test").count(), 3, "{log}");
}

pub(crate) async fn retransmission_and_round_robin<H: Harness>(t: Case<H>) {
    let ip = Ipv4Addr::new(10, 5, 0, 1);
    let silent = FakeServer::silent();
    let server = Dnsmasq::start(&[DnsRecord::A("www.test".into(), ip)]);
    let try_timeout = Duration::from_millis(300);
    let dns = DnsClient::new(
        t.cx(),
        Options::new()
            .nameserver("127.0.0.1", silent.port())
            .nameserver("127.0.0.1", server.port())
            .retrans(2)
            .timeout(try_timeout)
            .random_start(false),
    )
    .unwrap();
    // Queries start at the silent server, then at dnsmasq, and so on: a query that starts
    // at the silent one gets its answer from dnsmasq after one try's timeout.
    for k in 0..4 {
        let start = Instant::now();
        assert_eq!(dns.lookup_ipv4("www.test").await.unwrap(), [ip]);
        let took = start.elapsed();
        if k % 2 == 0 {
            assert!(took >= try_timeout, "query {k} took {took:?}");
        } else {
            assert!(took < Duration::from_millis(250), "query {k} took {took:?}");
        }
    }
    assert_eq!(silent.received(), 2);

    // A nameserver that is not there at all (an ICMP refusal) costs no timeout.
    let closed_port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dns = DnsClient::new(
        t.cx(),
        Options::new()
            .nameserver("127.0.0.1", closed_port)
            .nameserver("127.0.0.1", server.port())
            .retrans(2)
            .timeout(Duration::from_secs(2))
            .random_start(false),
    )
    .unwrap();
    let start = Instant::now();
    assert_eq!(dns.lookup_ipv4("www.test").await.unwrap(), [ip]);
    assert!(start.elapsed() < Duration::from_millis(1000));

    // With a random start, both servers are first for some queries (about half each).
    let silent2 = FakeServer::silent();
    let dns = DnsClient::new(
        t.cx(),
        Options::new()
            .nameserver("127.0.0.1", silent2.port())
            .nameserver("127.0.0.1", server.port())
            .retrans(2)
            .timeout(Duration::from_millis(50)),
    )
    .unwrap();
    for _ in 0..4 {
        assert_eq!(dns.lookup_ipv4("www.test").await.unwrap(), [ip]);
    }
    assert_eq!(silent2.received(), 2, "consecutive queries alternate");
}

pub(crate) async fn timeout_after_every_try<H: Harness>(t: Case<H>) {
    let silent = FakeServer::silent();
    let dns = DnsClient::new(
        t.cx(),
        Options::new()
            .nameserver("127.0.0.1", silent.port())
            .retrans(3)
            .timeout(Duration::from_millis(150)),
    )
    .unwrap();
    let start = Instant::now();
    let err = dns.query("www.test", RecordType::A).await.unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    t.sleep_ms(30).await;
    assert_eq!(silent.received(), 3, "one query per try");
}

pub(crate) async fn replies_with_another_id_or_question_are_skipped<H: Harness>(t: Case<H>) {
    let server = FakeServer::start(|query| {
        let id = id_of(query);
        vec![
            // Another ID.
            response(
                id.wrapping_add(1),
                question_of(query),
                1,
                &a_record([6, 6, 6, 6]),
            ),
            // This ID, another question.
            response(id, &question("evil.test"), 1, &a_record([6, 6, 6, 7])),
            // This ID and question, but a query, not a response (QR clear).
            {
                let mut m = response(id, question_of(query), 1, &a_record([6, 6, 6, 8]));
                m[2] &= 0x7f;
                m
            },
            // The answer.
            response(id, question_of(query), 1, &a_record([10, 9, 8, 7])),
        ]
    });
    let dns = client(&t, server.port());
    for _ in 0..3 {
        assert_eq!(
            dns.lookup_ipv4("www.test").await.unwrap(),
            [Ipv4Addr::new(10, 9, 8, 7)]
        );
    }
    assert_eq!(server.received(), 3, "no retransmission was needed");
}

pub(crate) async fn only_wrong_ids_time_out<H: Harness>(t: Case<H>) {
    let server = FakeServer::start(|query| {
        let id = id_of(query);
        (1..=5)
            .map(|k| response(id ^ k, question_of(query), 1, &a_record([6, 6, 6, 6])))
            .collect()
    });
    let dns = DnsClient::new(
        t.cx(),
        options(server.port())
            .retrans(2)
            .timeout(Duration::from_millis(200)),
    )
    .unwrap();
    let start = Instant::now();
    let err = dns.lookup_ipv4("www.test").await.unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert!(start.elapsed() >= Duration::from_millis(400));
    assert_eq!(server.received(), 2);
}

pub(crate) async fn malformed_replies_are_protocol_errors<H: Harness>(t: Case<H>) {
    let server = FakeServer::start(|query| {
        let id = id_of(query);
        let q = question_of(query);
        // The answer starts right after the question: at 12 + its length.
        let answer_at = 12 + q.len();
        let reply = match name_of(query).as_str() {
            // The answer's owner name is a pointer to itself.
            "loop.test" => {
                let mut rr = vec![0xc0 | (answer_at >> 8) as u8, answer_at as u8];
                rr.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
                response(id, q, 1, &rr)
            }
            // A label, then a pointer back to that label: a loop through a label.
            "loop2.test" => {
                let mut rr = vec![1, b'a', 0xc0 | (answer_at >> 8) as u8, answer_at as u8];
                rr.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
                response(id, q, 1, &rr)
            }
            // Two answers announced, one and a half sent.
            "cut.test" => {
                let mut rr = a_record([1, 2, 3, 4]);
                rr.extend_from_slice(&a_record([1, 2, 3, 5])[..7]);
                response(id, q, 2, &rr)
            }
            // Shorter than a header.
            "short.test" => id.to_be_bytes().repeat(3)[..5].to_vec(),
            // A CNAME whose name runs past its RDATA.
            _ => {
                let rr = [
                    0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 3, b'a', b'b', b'c', 0,
                ];
                response(id, q, 1, &rr)
            }
        };
        vec![reply]
    });
    let dns = client(&t, server.port());
    for name in [
        "loop.test",
        "loop2.test",
        "cut.test",
        "short.test",
        "overrun.test",
    ] {
        let err = dns.query(name, RecordType::A).await.unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{name}: {err:?}");
        eprintln!("{name}: {err}");
    }
    // One try each: a malformed answer is final, not retried.
    assert_eq!(server.received(), 5);
}

pub(crate) async fn invalid_names_are_refused_before_sending<H: Harness>(t: Case<H>) {
    let silent = FakeServer::silent();
    let dns = client(&t, silent.port());
    let label_64 = format!("{}.test", "a".repeat(64));
    let label = "b".repeat(49);
    let name_254 = format!("{label}.{label}.{label}.{label}.{label}.abcd");
    assert_eq!(name_254.len(), 254);
    let start = Instant::now();
    for name in [
        label_64.as_str(),
        name_254.as_str(),
        "a..test",
        ".test",
        "",
        "sp ace.test",
    ] {
        let err = dns.query(name, RecordType::A).await.unwrap_err();
        assert!(matches!(err, Error::InvalidName(_)), "{name:?}: {err:?}");
    }
    let err = dns.lookup_ipv4(&label_64).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("invalid name: \"{label_64}\": label of 64 bytes, more than 63")
    );
    assert!(start.elapsed() < Duration::from_millis(500));
    t.sleep_ms(50).await;
    assert_eq!(silent.received(), 0, "nothing was sent");
}

pub(crate) async fn bad_options_are_refused<H: Harness>(t: Case<H>) {
    let refused = |options: Options| match DnsClient::new(t.cx(), options) {
        Err(Error::InvalidInput(text)) => text,
        other => panic!("{other:?}"),
    };
    assert_eq!(refused(Options::new()), "no nameserver given");
    assert_eq!(
        refused(Options::new().nameserver("dns.example", 53)),
        "nameserver \"dns.example\" is not an IP address"
    );
    refused(Options::new().nameserver("127.0.0.1", 0));
    refused(Options::new().nameserver("127.0.0.1", 53).retrans(0));
    refused(
        Options::new()
            .nameserver("127.0.0.1", 53)
            .timeout(Duration::ZERO),
    );
    refused(Options::new().nameserver("127.0.0.1", 53).max_udp_size(100));
    let dns = DnsClient::new(
        t.cx(),
        Options::new()
            .nameserver("[::1]", 53)
            .nameserver("127.0.0.1", 5353),
    )
    .unwrap();
    assert_eq!(
        dns.nameservers(),
        [
            "[::1]:53".parse().unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        ]
    );
    assert_eq!(
        Error::InvalidInput("no nameserver given".into()).to_string(),
        "invalid input: no nameserver given"
    );
}
