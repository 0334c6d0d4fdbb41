//! Every record type against dnsmasq, and NXDOMAIN.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use cosocket_conformance::servers::{DnsRecord, Dnsmasq};
use cosocket_conformance::{Case, Harness};
use cosocket_dns::{CLASS_IN, Error, Record, RecordData, RecordType};

use super::client;

/// dnsmasq gives its local records TTL 0 (`--local-ttl` unset).
const TTL: u32 = 0;

fn record(name: &str, data: RecordData) -> Record {
    Record {
        name: name.to_owned(),
        ttl: TTL,
        class: CLASS_IN,
        data,
    }
}

pub(crate) async fn a_records<H: Harness>(t: Case<H>) {
    let server = Dnsmasq::start(&[
        DnsRecord::A("www.test".into(), Ipv4Addr::new(10, 1, 2, 3)),
        DnsRecord::A("www.test".into(), Ipv4Addr::new(10, 1, 2, 4)),
        DnsRecord::A("other.test".into(), Ipv4Addr::new(10, 9, 9, 9)),
    ]);
    let dns = client(&t, server.port());
    let mut records = dns.query("www.test", RecordType::A).await.unwrap();
    records.sort_by_key(|r| format!("{:?}", r.data));
    assert_eq!(
        records,
        [
            record("www.test", RecordData::A(Ipv4Addr::new(10, 1, 2, 3))),
            record("www.test", RecordData::A(Ipv4Addr::new(10, 1, 2, 4))),
        ]
    );
    // A trailing dot and another case name the same name.
    let mut ips = dns.lookup_ipv4("WWW.Test.").await.unwrap();
    ips.sort();
    assert_eq!(
        ips,
        [Ipv4Addr::new(10, 1, 2, 3), Ipv4Addr::new(10, 1, 2, 4)]
    );
    assert_eq!(
        dns.lookup_ipv4("other.test").await.unwrap(),
        [Ipv4Addr::new(10, 9, 9, 9)]
    );
    // A name with an A record but no AAAA: NODATA, an empty answer, not an error.
    assert!(dns.lookup_ipv6("other.test").await.unwrap().is_empty());
}

pub(crate) async fn aaaa_records<H: Harness>(t: Case<H>) {
    let ip: Ipv6Addr = "fd00::1:2".parse().unwrap();
    let server = Dnsmasq::start(&[DnsRecord::Aaaa("six.test".into(), ip)]);
    let dns = client(&t, server.port());
    assert_eq!(
        dns.query("six.test", RecordType::Aaaa).await.unwrap(),
        [record("six.test", RecordData::Aaaa(ip))]
    );
    assert_eq!(dns.lookup_ipv6("six.test").await.unwrap(), [ip]);
}

pub(crate) async fn cname_chain_to_an_a_record<H: Harness>(t: Case<H>) {
    let ip = Ipv4Addr::new(10, 2, 0, 1);
    let server = Dnsmasq::start(&[
        DnsRecord::A("real.test".into(), ip),
        DnsRecord::Cname("mid.test".into(), "real.test".into()),
        DnsRecord::Cname("alias.test".into(), "mid.test".into()),
    ]);
    let dns = client(&t, server.port());
    let records = dns.query("alias.test", RecordType::A).await.unwrap();
    assert_eq!(
        records,
        [
            record("alias.test", RecordData::Cname("mid.test".into())),
            record("mid.test", RecordData::Cname("real.test".into())),
            record("real.test", RecordData::A(ip)),
        ]
    );
    assert_eq!(dns.lookup_ipv4("alias.test").await.unwrap(), [ip]);
    let cname = dns.query("mid.test", RecordType::Cname).await.unwrap();
    assert_eq!(
        cname[0],
        record("mid.test", RecordData::Cname("real.test".into()))
    );
}

pub(crate) async fn mx_ns_and_srv_records<H: Harness>(t: Case<H>) {
    let server = Dnsmasq::start(&[
        DnsRecord::Mx("mail.test".into(), "mx1.mail.test".into(), 10),
        DnsRecord::Ns("zone.test".into(), "ns1.zone.test".into()),
        DnsRecord::Srv(
            "_sip._tcp.svc.test".into(),
            "sip.svc.test".into(),
            5060,
            20,
            30,
        ),
    ]);
    let dns = client(&t, server.port());
    let mx = dns.query("mail.test", RecordType::Mx).await.unwrap();
    assert_eq!(
        mx,
        [record(
            "mail.test",
            RecordData::Mx {
                preference: 10,
                exchange: "mx1.mail.test".into()
            }
        )]
    );
    let ns = dns.query("zone.test", RecordType::Ns).await.unwrap();
    assert_eq!(ns.len(), 1);
    assert_eq!(ns[0].name, "zone.test");
    assert_eq!(ns[0].data, RecordData::Ns("ns1.zone.test".into()));
    let srv = dns
        .query("_sip._tcp.svc.test", RecordType::Srv)
        .await
        .unwrap();
    assert_eq!(
        srv,
        [record(
            "_sip._tcp.svc.test",
            RecordData::Srv {
                priority: 20,
                weight: 30,
                port: 5060,
                target: "sip.svc.test".into()
            }
        )]
    );
}

pub(crate) async fn txt_record_with_several_strings<H: Harness>(t: Case<H>) {
    let strings = ["v=spf1 -all", "second string", "", "x=y"];
    let server = Dnsmasq::start(&[DnsRecord::Txt(
        "text.test".into(),
        strings.iter().map(|s| (*s).to_owned()).collect(),
    )]);
    let dns = client(&t, server.port());
    let txt = dns.query("text.test", RecordType::Txt).await.unwrap();
    let expected: Vec<Bytes> = strings.iter().map(|s| Bytes::from(s.to_string())).collect();
    assert_eq!(txt, [record("text.test", RecordData::Txt(expected))]);
}

pub(crate) async fn ptr_and_reverse<H: Harness>(t: Case<H>) {
    let server = Dnsmasq::start(&[
        DnsRecord::A("host.test".into(), Ipv4Addr::new(10, 3, 2, 1)),
        DnsRecord::Ptr("4.3.2.10.in-addr.arpa".into(), "named.test".into()),
    ]);
    let dns = client(&t, server.port());
    assert_eq!(
        dns.reverse(IpAddr::from([10, 3, 2, 1])).await.unwrap(),
        ["host.test"]
    );
    assert_eq!(
        dns.query("4.3.2.10.in-addr.arpa", RecordType::Ptr)
            .await
            .unwrap(),
        [record(
            "4.3.2.10.in-addr.arpa",
            RecordData::Ptr("named.test".into())
        )]
    );
    assert!(matches!(
        dns.reverse(IpAddr::from([10, 9, 9, 9])).await,
        Err(Error::NxDomain)
    ));
}

pub(crate) async fn nxdomain_is_a_typed_error<H: Harness>(t: Case<H>) {
    let server = Dnsmasq::start(&[DnsRecord::A("www.test".into(), Ipv4Addr::new(10, 1, 1, 1))]);
    let dns = client(&t, server.port());
    let err = dns.query("nope.test", RecordType::A).await.unwrap_err();
    assert!(matches!(err, Error::NxDomain), "{err:?}");
    assert_eq!(err.rcode(), Some(3));
    assert_eq!(err.to_string(), "name does not exist (NXDOMAIN)");
    assert!(matches!(
        dns.lookup_ipv4("nope.test").await,
        Err(Error::NxDomain)
    ));
    // The client goes on working after an error answer.
    assert_eq!(
        dns.lookup_ipv4("www.test").await.unwrap(),
        [Ipv4Addr::new(10, 1, 1, 1)]
    );
}
