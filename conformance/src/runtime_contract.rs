//! Checks of the backend contract ([`Runtime`], [`StreamIo`], [`DatagramIo`]) that any
//! backend must pass; [`runtime_contract_tests!`](crate::runtime_contract_tests) turns
//! them into one `#[test]` each.

use std::future::poll_fn;
use std::io::{IoSlice, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use std::future::Future;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cosocket_core::rt::{DatagramIo, Runtime, StreamIo};
use cosocket_core::{ConnectOptions, Context, Cosockets, StreamRead, StreamSock, TcpSock};
use socket2::{Domain, Socket, Type};

/// `R` with a timer that panics: while `panics` is above zero, each `sleep_until` takes one
/// and panics (the way tokio's timer once panicked on a far deadline).
#[derive(Clone)]
struct PanickyTimer<R> {
    inner: R,
    panics: Arc<AtomicUsize>,
}

impl<R: Runtime> Runtime for PanickyTimer<R> {
    type Stream = R::Stream;
    type Datagram = R::Datagram;
    type Sleep = R::Sleep;

    fn connect(&self, pending: OwnedFd) -> impl Future<Output = std::io::Result<R::Stream>> + Send {
        self.inner.connect(pending)
    }

    fn datagram(&self, socket: OwnedFd) -> std::io::Result<R::Datagram> {
        self.inner.datagram(socket)
    }

    fn sleep_until(&self, deadline: Instant) -> R::Sleep {
        let take = |n: usize| n.checked_sub(1);
        if self
            .panics
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, take)
            .is_ok()
        {
            panic!("a timer that fails on purpose");
        }
        self.inner.sleep_until(deadline)
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.inner.spawn(task);
    }

    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = std::io::Result<Vec<SocketAddr>>> + Send {
        self.inner.resolve(host, port)
    }
}

/// A non-blocking TCP connect to `addr`, started as core starts it.
fn pending_connect(addr: SocketAddr) -> std::net::TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.set_nonblocking(true).expect("non-blocking");
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(115) || e.kind() == std::io::ErrorKind::WouldBlock => {}
        Err(e) => panic!("connect: {e}"),
    }
    socket.into()
}

/// A stream registered by `rt`, connected to a std socket on loopback.
async fn connected_pair<R: Runtime>(rt: &R) -> (R::Stream, std::net::TcpStream) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let io = rt
        .connect(OwnedFd::from(pending_connect(
            listener.local_addr().unwrap(),
        )))
        .await
        .expect("connect");
    let (peer, _) = listener.accept().expect("accept");
    (io, peer)
}

/// One `poll_write_vectored` of three slices writes all of them (a backend that wrote only
/// the first slice would send 4 of 12 bytes), and one `poll_read` returns what arrived.
pub async fn vectored_write_sends_every_slice<R: Runtime>(rt: R) {
    let (io, mut peer) = connected_pair(&rt).await;
    let slices = [
        IoSlice::new(b"abcd"),
        IoSlice::new(b"efgh"),
        IoSlice::new(b"ijkl"),
    ];
    let n = poll_fn(|cx| io.poll_write_vectored(cx, &slices))
        .await
        .expect("writev");
    assert_eq!(n, 12);
    let mut got = [0u8; 12];
    peer.read_exact(&mut got).expect("peer read");
    assert_eq!(&got, b"abcdefghijkl");
    peer.write_all(b"pong").expect("peer write");
    let mut buf = [0u8; 64];
    let n = poll_fn(|cx| io.poll_read(cx, &mut buf))
        .await
        .expect("read");
    assert_eq!(&buf[..n], b"pong");
    drop(peer);
    assert_eq!(
        poll_fn(|cx| io.poll_read(cx, &mut buf)).await.expect("eof"),
        0
    );
}

/// A connect to a port nobody listens on finishes with ECONNREFUSED: returned by the
/// backend, or left in `SO_ERROR` for core to read.
pub async fn refused_connect_reports_the_errno<R: Runtime>(rt: R) {
    let addr = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap();
    let err = match rt.connect(OwnedFd::from(pending_connect(addr))).await {
        Err(e) => e,
        Ok(io) => socket2::SockRef::from(&io)
            .take_error()
            .expect("getsockopt")
            .expect("SO_ERROR holds the refusal"),
    };
    assert_eq!(
        cosocket_core::Error::from(err).to_string(),
        "connection refused"
    );
}

/// A `recv` into an empty buffer still consumes one datagram.
pub async fn empty_datagram_recv_consumes<R: Runtime>(rt: R) {
    let peer = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    socket.connect(peer.local_addr().unwrap()).unwrap();
    socket.set_nonblocking(true).unwrap();
    peer.send_to(b"first", socket.local_addr().unwrap())
        .unwrap();
    peer.send_to(b"second", socket.local_addr().unwrap())
        .unwrap();
    let io = rt.datagram(socket.into()).expect("register");
    assert_eq!(poll_fn(|cx| io.poll_recv(cx, &mut [])).await.unwrap(), 0);
    let mut buf = [0u8; 3];
    assert_eq!(poll_fn(|cx| io.poll_recv(cx, &mut buf)).await.unwrap(), 3);
    assert_eq!(&buf, b"sec");
    assert_eq!(poll_fn(|cx| io.poll_send(cx, b"ping")).await.unwrap(), 4);
    let mut got = [0u8; 8];
    assert_eq!(peer.recv(&mut got).unwrap(), 4);
}

/// `fut`, or `None` once `ms` milliseconds passed on `rt`'s clock.
async fn within_ms<R: Runtime, T>(rt: &R, ms: u64, fut: impl Future<Output = T>) -> Option<T> {
    let sleep = rt.sleep_until(rt.now() + Duration::from_millis(ms));
    match futures::future::select(std::pin::pin!(fut), std::pin::pin!(sleep)).await {
        futures::future::Either::Left((value, _)) => Some(value),
        futures::future::Either::Right(((), _)) => None,
    }
}

/// A registered UDP socket connected to a loopback port nobody listens on.
fn udp_to_closed_port<R: Runtime>(rt: &R) -> R::Datagram {
    let closed = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    socket.connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    socket.set_nonblocking(true).unwrap();
    rt.datagram(socket.into()).expect("register")
}

/// The ICMP port unreachable a datagram to a closed port brings back is the error of the
/// next `poll_recv`, whether it arrived before the receive or while it waited — not of
/// the next send (spec §6: `send` → 1, `receive()` → `connection refused`, then
/// `timeout`). Linux reports it as `EPOLLERR` only, which a backend waiting for
/// readability alone never sees.
pub async fn icmp_refusal_is_the_next_recv_error<R: Runtime>(rt: R) {
    let mut buf = [0u8; 16];
    // The error is pending before the receive starts.
    let io = udp_to_closed_port(&rt);
    assert_eq!(poll_fn(|cx| io.poll_send(cx, b"x")).await.unwrap(), 1);
    rt.sleep_until(rt.now() + Duration::from_millis(50)).await;
    let refused = within_ms(&rt, 2000, poll_fn(|cx| io.poll_recv(cx, &mut buf)))
        .await
        .expect("the refusal ends the receive");
    assert_eq!(
        refused.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    // Reported once: the next receive waits (and times out).
    let next = within_ms(&rt, 100, poll_fn(|cx| io.poll_recv(cx, &mut buf))).await;
    assert!(next.is_none(), "a second receive got {next:?}");
    assert_eq!(poll_fn(|cx| io.poll_send(cx, b"y")).await.unwrap(), 1);

    // The error arrives while a receive waits.
    let io = udp_to_closed_port(&rt);
    let recv = within_ms(&rt, 2000, poll_fn(|cx| io.poll_recv(cx, &mut buf)));
    let send = async {
        rt.sleep_until(rt.now() + Duration::from_millis(30)).await;
        poll_fn(|cx| io.poll_send(cx, b"x")).await
    };
    let (refused, sent) = futures::join!(recv, send);
    assert_eq!(sent.unwrap(), 1);
    let refused = refused.expect("the refusal wakes the waiting receive");
    assert_eq!(
        refused.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
}

/// `sleep_until` completes at (not before) its deadline; `now` is the clock it uses.
pub async fn sleep_until_waits_for_the_deadline<R: Runtime>(rt: R) {
    let start = rt.now();
    rt.sleep_until(start + Duration::from_millis(30)).await;
    assert!(rt.now() >= start + Duration::from_millis(30));
    // A deadline in the past completes at once.
    rt.sleep_until(start).await;
    assert!(Instant::now() - start < Duration::from_secs(5));
}

/// Issue 19: nothing the pool's background watcher does may end it silently. A timer
/// that panics in the watcher is logged as an error, and idle connections of that pool
/// still expire (here at the retry, 100 ms later), then and afterwards.
pub async fn pool_watcher_survives_a_panicking_timer<R: Runtime>(rt: R) {
    crate::logs::install();
    let panics = Arc::new(AtomicUsize::new(0));
    let timer = PanickyTimer {
        inner: rt.clone(),
        panics: Arc::clone(&panics),
    };
    let cx = Context::new(timer);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = listener.local_addr().expect("address").port();
    let pool = format!("panicky-timer-{port}");
    let opts = ConnectOptions::new().pool(&pool);
    let mut socks = Vec::new();
    for _ in 0..2 {
        let mut s = cx.stream();
        s.connect("127.0.0.1", port, &opts).await.expect("connect");
        socks.push(s);
    }
    let mark = crate::logs::mark();
    let released = Instant::now();
    // The watcher's first sleep for the new deadline panics.
    panics.store(1, Ordering::SeqCst);
    socks[0]
        .set_keepalive(Some(Duration::from_millis(50)), None)
        .expect("keepalive");
    let idle = |cx: &Context<PanickyTimer<R>>| cx.pool_stats(&pool).map_or(0, |p| p.idle);
    while idle(&cx) != 0 {
        assert!(
            released.elapsed() < Duration::from_secs(5),
            "the connection never expired after the watcher's timer panicked"
        );
        rt.sleep_until(rt.now() + Duration::from_millis(5)).await;
    }
    assert_eq!(panics.load(Ordering::SeqCst), 0, "the timer was asked");
    let logged = crate::logs::lines_since(mark, &format!("pool \"{pool}\""));
    assert!(
        logged
            .iter()
            .any(|l| l.starts_with("[error]") && l.contains("a timer that fails on purpose")),
        "the failure is logged: {logged:?}"
    );
    // The watcher goes on: a second connection expires as well.
    let released = Instant::now();
    socks[1]
        .set_keepalive(Some(Duration::from_millis(50)), None)
        .expect("keepalive");
    while cx.pool_stats(&pool).is_some() {
        assert!(
            released.elapsed() < Duration::from_secs(5),
            "the second connection never expired"
        );
        rt.sleep_until(rt.now() + Duration::from_millis(5)).await;
    }
}

/// `spawn` runs a task to completion in the background.
pub async fn spawned_tasks_run<R: Runtime>(rt: R) {
    let (tx, rx) = mpsc::channel();
    let sleeper = rt.clone();
    rt.spawn(async move {
        sleeper
            .sleep_until(sleeper.now() + Duration::from_millis(5))
            .await;
        tx.send(42).unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(v) = rx.try_recv() {
            assert_eq!(v, 42);
            return;
        }
        assert!(Instant::now() < deadline, "the spawned task never ran");
        rt.sleep_until(rt.now() + Duration::from_millis(1)).await;
    }
}

/// `resolve` gives every address with the port set; IP literals need no lookup.
pub async fn resolve_sets_the_port<R: Runtime>(rt: R) {
    let addrs = rt
        .resolve("localhost", 8080)
        .await
        .expect("localhost resolves");
    assert!(!addrs.is_empty());
    assert!(
        addrs
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 8080)
    );
    assert_eq!(
        rt.resolve("127.0.0.1", 1).await.unwrap(),
        ["127.0.0.1:1".parse::<SocketAddr>().unwrap()]
    );
    assert!(rt.resolve("no-such-host.invalid", 1).await.is_err());
}

/// One `poll_read` is one `recv` of at most the buffer's length: the bytes it did not ask
/// for are still in the kernel (no read-ahead into a hidden buffer), so core decides what
/// leaves the kernel (FIN vs RST at close, `connection in dubious state`).
pub async fn one_recv_per_poll_and_no_read_ahead<R: Runtime>(rt: R) {
    let (io, mut peer) = connected_pair(&rt).await;
    peer.write_all(b"0123456789").expect("peer write");
    rt.sleep_until(rt.now() + Duration::from_millis(50)).await;
    let mut three = [0u8; 3];
    let n = poll_fn(|cx| io.poll_read(cx, &mut three))
        .await
        .expect("read");
    assert_eq!(&three[..n], b"012");
    let kernel = std::net::TcpStream::from(io.as_fd().try_clone_to_owned().expect("dup"));
    let mut rest = [0u8; 16];
    assert_eq!(
        kernel.peek(&mut rest).expect("peek"),
        7,
        "7 bytes stay in the kernel"
    );
}

/// A [`Runtime`] that counts the timers armed through it (the contract's proof that reads
/// served from the buffer arm none).
#[derive(Debug, Clone)]
pub struct CountingTimers<R> {
    inner: R,
    armed: Arc<AtomicUsize>,
}

impl<R: Runtime> CountingTimers<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            armed: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Timers armed so far.
    pub fn armed(&self) -> usize {
        self.armed.load(Ordering::SeqCst)
    }
}

impl<R: Runtime> Runtime for CountingTimers<R> {
    type Stream = R::Stream;
    type Datagram = R::Datagram;
    type Sleep = R::Sleep;

    fn connect(&self, pending: OwnedFd) -> impl Future<Output = std::io::Result<R::Stream>> + Send {
        self.inner.connect(pending)
    }

    fn datagram(&self, socket: OwnedFd) -> std::io::Result<R::Datagram> {
        self.inner.datagram(socket)
    }

    fn sleep_until(&self, deadline: Instant) -> R::Sleep {
        self.armed.fetch_add(1, Ordering::SeqCst);
        self.inner.sleep_until(deadline)
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.inner.spawn(task);
    }

    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = std::io::Result<Vec<SocketAddr>>> + Send {
        self.inner.resolve(host, port)
    }
}

/// Receives served from buffered bytes arm no timer; one that has to wait arms exactly one.
pub async fn buffered_receives_arm_no_timer<R: Runtime>(rt: R) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let counting = CountingTimers::new(rt.clone());
    let cx = Context::new(counting.clone());
    let mut s = cx.stream();
    s.connect_addr(listener.local_addr().unwrap(), &ConnectOptions::new())
        .await
        .expect("connect");
    let (mut peer, _) = listener.accept().expect("accept");
    peer.write_all(b"a\nb\nc\n").expect("peer write");
    rt.sleep_until(rt.now() + Duration::from_millis(50)).await;
    let before = counting.armed();
    for line in ["a", "b", "c"] {
        assert_eq!(s.receive_line().await.expect("line"), line);
        assert_eq!(s.receive_exact(0).await.expect("zero"), "");
    }
    assert_eq!(counting.armed(), before, "buffered receives armed a timer");
    let waiter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        peer.write_all(b"late\n").expect("peer write");
        peer
    });
    assert_eq!(s.receive_line().await.expect("late line"), "late");
    assert_eq!(
        counting.armed(),
        before + 1,
        "a waiting receive arms one timer"
    );
    drop(waiter.join());
}

/// Expands into one `#[test]` per check of the backend contract. `$runtime` is an
/// expression that makes the runtime, `$block_on` a function that runs a future to
/// completion on it (it receives the runtime and the future).
#[macro_export]
macro_rules! runtime_contract_tests {
    ($runtime:expr, $block_on:expr) => {
        $crate::runtime_contract_tests!(@cases $runtime, $block_on;
            vectored_write_sends_every_slice,
            refused_connect_reports_the_errno,
            empty_datagram_recv_consumes,
            icmp_refusal_is_the_next_recv_error,
            sleep_until_waits_for_the_deadline,
            spawned_tasks_run,
            resolve_sets_the_port,
            one_recv_per_poll_and_no_read_ahead,
            buffered_receives_arm_no_timer,
            pool_watcher_survives_a_panicking_timer);
    };
    (@cases $runtime:expr, $block_on:expr; $($case:ident),*) => {$(
        #[test]
        fn $case() {
            let rt = $runtime;
            ($block_on)(rt.clone(), $crate::runtime_contract::$case(rt));
        }
    )*};
}
