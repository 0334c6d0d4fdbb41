//! The client as a context's resolver (`Resolver::Custom`).

use std::io::Write;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use cosocket::prelude::*;
use cosocket::{ConnectOptions, Resolve, Resolver};
use cosocket_conformance::servers::{DnsRecord, Dnsmasq};
use cosocket_conformance::{Case, Harness};
use cosocket_dns::DnsClient;

use super::fake::FakeServer;
use super::{client, options};

pub(crate) async fn context_resolves_names_through_the_client<H: Harness>(t: Case<H>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"hello\r\n").unwrap();
    });
    let server = Dnsmasq::start(&[
        DnsRecord::A("svc.test".into(), Ipv4Addr::LOCALHOST),
        DnsRecord::Cname("alias.test".into(), "svc.test".into()),
    ]);
    let dns = client(&t, server.port());

    // The Resolve implementation itself: CNAMEs followed, the port set.
    let addrs = dns.resolve("alias.test", 8080).await.unwrap();
    assert_eq!(addrs, ["127.0.0.1:8080".parse().unwrap()]);
    let err = dns.resolve("nope.test", 80).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);

    let cx = t.cx_with(|d| d.resolver = Resolver::Custom(Arc::new(dns)));
    let mut sock = cx.stream();
    sock.connect("svc.test", port, &ConnectOptions::new())
        .await
        .unwrap();
    assert_eq!(&sock.receive_line().await.unwrap()[..], b"hello");
    assert_eq!(
        sock.peer_addr().unwrap().to_string(),
        format!("127.0.0.1:{port}")
    );
    sock.close().unwrap();
    acceptor.join().unwrap();

    // NXDOMAIN: nginx's "Host not found".
    let empty = Dnsmasq::start(&[DnsRecord::A("other.test".into(), Ipv4Addr::LOCALHOST)]);
    let dns = client(&t, empty.port());
    let cx = t.cx_with(|d| d.resolver = Resolver::Custom(Arc::new(dns)));
    let err = cx
        .stream()
        .connect("svc.test", port, &ConnectOptions::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "svc.test could not be resolved (3: Host not found)"
    );

    // No answer at all: "Operation timed out".
    let silent = FakeServer::silent();
    let dns = DnsClient::new(
        t.cx(),
        options(silent.port())
            .retrans(1)
            .timeout(Duration::from_millis(100)),
    )
    .unwrap();
    let cx = t.cx_with(|d| d.resolver = Resolver::Custom(Arc::new(dns)));
    let err = cx
        .stream()
        .connect("svc.test", port, &ConnectOptions::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "svc.test could not be resolved (110: Operation timed out)"
    );
}
