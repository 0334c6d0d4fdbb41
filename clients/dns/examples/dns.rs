//! cosocket-dns against a real dnsmasq it starts itself: A, AAAA, CNAME, MX, SRV, TXT
//! (one so large that the UDP answer is truncated and the client asks again over TCP),
//! PTR, NXDOMAIN, and a context that resolves the names of its connects through the
//! client.
//!
//! ```sh
//! cargo run -p cosocket-dns --example dns --features tokio
//! cargo run -p cosocket-dns --example dns --features smol
//! ```

#[cfg(any(feature = "tokio", feature = "smol"))]
mod demo {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use std::sync::Arc;
    use std::time::Duration;

    use cosocket::{Cosockets, Resolve};
    use cosocket_conformance::servers::{DnsRecord, Dnsmasq};
    use cosocket_dns::{DnsClient, Error, Options, RecordData, RecordType};

    /// The records dnsmasq serves.
    pub(crate) fn records() -> Vec<DnsRecord> {
        vec![
            DnsRecord::A("www.test".into(), Ipv4Addr::new(10, 0, 0, 1)),
            DnsRecord::Aaaa("www.test".into(), "fd00::1".parse().unwrap()),
            DnsRecord::Cname("alias.test".into(), "www.test".into()),
            DnsRecord::Mx("test".into(), "mail.test".into(), 10),
            DnsRecord::Srv("_http._tcp.test".into(), "www.test".into(), 8080, 1, 5),
            DnsRecord::Txt(
                "big.test".into(),
                (0..10)
                    .map(|i| format!("chunk-{i}-{}", "z".repeat(60)))
                    .collect(),
            ),
        ]
    }

    /// Every query, printed and checked.
    pub(crate) async fn run<C: Cosockets>(cx: C, server: &Dnsmasq) -> Result<(), Error> {
        let dns = DnsClient::new(
            cx,
            Options::new()
                .nameserver("127.0.0.1", server.port())
                .timeout(Duration::from_secs(1)),
        )?;

        let v4 = dns.lookup_ipv4("www.test").await?;
        println!("www.test A     {v4:?}");
        assert_eq!(v4, [Ipv4Addr::new(10, 0, 0, 1)]);

        let v6 = dns.lookup_ipv6("www.test").await?;
        println!("www.test AAAA  {v6:?}");
        assert_eq!(v6, ["fd00::1".parse::<Ipv6Addr>().unwrap()]);

        for r in dns.query("alias.test", RecordType::A).await? {
            println!("alias.test     {} ttl={} {:?}", r.name, r.ttl, r.data);
        }
        assert_eq!(dns.lookup_ipv4("alias.test").await?, v4);

        let mx = dns.query("test", RecordType::Mx).await?;
        println!("test MX        {:?}", mx[0].data);
        assert_eq!(
            mx[0].data,
            RecordData::Mx {
                preference: 10,
                exchange: "mail.test".into()
            }
        );

        let srv = dns.query("_http._tcp.test", RecordType::Srv).await?;
        println!("_http._tcp SRV {:?}", srv[0].data);
        assert!(matches!(
            &srv[0].data,
            RecordData::Srv { priority: 1, weight: 5, port: 8080, target } if target == "www.test"
        ));

        // About 700 bytes of TXT: dnsmasq truncates the UDP answer, the client goes TCP.
        let txt = dns.query("big.test", RecordType::Txt).await?;
        let RecordData::Txt(strings) = &txt[0].data else {
            unreachable!("a TXT query answered {:?}", txt[0].data)
        };
        println!(
            "big.test TXT   {} strings, {} bytes (over TCP: the UDP answer was truncated)",
            strings.len(),
            strings.iter().map(|s| s.len()).sum::<usize>()
        );
        assert_eq!(strings.len(), 10);

        let names = dns.reverse(IpAddr::from([10, 0, 0, 1])).await?;
        println!("10.0.0.1 PTR   {names:?}");
        assert_eq!(names, ["www.test"]);

        let missing = dns.query("missing.test", RecordType::A).await;
        println!("missing.test   {}", missing.as_ref().unwrap_err());
        assert!(matches!(missing, Err(Error::NxDomain)));

        // As a context's resolver (`Resolver::Custom(Arc::new(dns))`): the addresses a
        // connect to "alias.test" would try.
        let resolver: Arc<dyn Resolve> = Arc::new(dns);
        let addrs = resolver.resolve("alias.test", 443).await.unwrap();
        println!("resolve        alias.test:443 -> {addrs:?}");
        assert_eq!(addrs.len(), 2);
        Ok(())
    }
}

#[cfg(feature = "tokio")]
fn main() {
    use cosocket_conformance::servers::Dnsmasq;

    let server = Dnsmasq::start(&demo::records());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let cx = cosocket::Context::new(cosocket::tokio::Tokio::new(rt.handle().clone()));
    rt.block_on(demo::run(cx, &server)).expect("the queries");
    println!("ok (tokio, dnsmasq on port {})", server.port());
}

#[cfg(all(feature = "smol", not(feature = "tokio")))]
fn main() {
    use cosocket_conformance::servers::Dnsmasq;

    let server = Dnsmasq::start(&demo::records());
    let cx = cosocket::Context::new(cosocket::smol::Smol::new());
    smol::block_on(demo::run(cx, &server)).expect("the queries");
    println!("ok (smol, dnsmasq on port {})", server.port());
}

#[cfg(not(any(feature = "tokio", feature = "smol")))]
fn main() {
    eprintln!("pick a backend: cargo run -p cosocket-dns --example dns --features tokio (or smol)");
    std::process::exit(2);
}
