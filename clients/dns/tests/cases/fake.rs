//! A scripted UDP "nameserver" on a std thread (never the executor under test): it answers
//! each query with whatever datagrams the test's closure makes from it.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running fake server; stopped (and joined) when dropped.
#[derive(Debug)]
pub(crate) struct FakeServer {
    port: u16,
    stop: Arc<AtomicBool>,
    received: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    /// Answers every query with the datagrams `respond` makes from it, in order.
    pub(crate) fn start(mut respond: impl FnMut(&[u8]) -> Vec<Vec<u8>> + Send + 'static) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let port = sock.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(AtomicUsize::new(0));
        let (s, r) = (stop.clone(), received.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while !s.load(Ordering::SeqCst) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                r.fetch_add(1, Ordering::SeqCst);
                for reply in respond(&buf[..n]) {
                    sock.send_to(&reply, from).unwrap();
                }
            }
        });
        Self {
            port,
            stop,
            received,
            thread: Some(thread),
        }
    }

    /// A server that reads queries and never answers.
    pub(crate) fn silent() -> Self {
        Self::start(|_| Vec::new())
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// How many datagrams arrived so far.
    pub(crate) fn received(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The ID of a query.
pub(crate) fn id_of(query: &[u8]) -> u16 {
    u16::from_be_bytes([query[0], query[1]])
}

/// The question of a query (the client sends one question and nothing after it).
pub(crate) fn question_of(query: &[u8]) -> &[u8] {
    &query[12..]
}

/// The name of a query's question, as text (`www.test`).
pub(crate) fn name_of(query: &[u8]) -> String {
    let q = question_of(query);
    let mut labels = Vec::new();
    let mut i = 0;
    while q[i] != 0 {
        let len = usize::from(q[i]);
        labels.push(String::from_utf8_lossy(&q[i + 1..i + 1 + len]).into_owned());
        i += 1 + len;
    }
    labels.join(".")
}

/// A question for `name`, type A, class IN, in wire form.
pub(crate) fn question(name: &str) -> Vec<u8> {
    let mut q = Vec::new();
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// A response: `id`, QR + RD + RA, one `question`, `ancount` answers whose bytes are
/// `answers`.
pub(crate) fn response(id: u16, question: &[u8], ancount: u16, answers: &[u8]) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[0x81, 0x80, 0, 1]);
    m.extend_from_slice(&ancount.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(question);
    m.extend_from_slice(answers);
    m
}

/// An A record owned by the question's name (a pointer to offset 12), TTL 60.
pub(crate) fn a_record(ip: [u8; 4]) -> Vec<u8> {
    let mut r = vec![0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4];
    r.extend_from_slice(&ip);
    r
}
