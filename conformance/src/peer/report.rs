//! What the peer saw: FORMAT §3.4's result object.

use serde_json::{Value, json};

use super::bytes::bytes_to_latin1;

/// A `recv` log longer than this is reported as [`summarize`]d (FORMAT §3.4).
const SUMMARY_OVER: usize = 4096;

/// How a connection ended, as seen by the peer (FORMAT §3.4: the first that happened).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum End {
    /// The client's FIN was read.
    Eof,
    /// The client's RST was read, or a peer write failed.
    Reset,
    /// A `close` step ran.
    ClosedByPeer,
    /// A `reset` step ran.
    ResetByPeer,
    /// None of the above before the snapshot (e.g. the connection sits in a pool).
    Open,
}

impl End {
    /// The FORMAT §3.4 name: `"eof"`, `"reset"`, `"closed_by_peer"`, `"reset_by_peer"`,
    /// `"open"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Eof => "eof",
            Self::Reset => "reset",
            Self::ClosedByPeer => "closed_by_peer",
            Self::ResetByPeer => "reset_by_peer",
            Self::Open => "open",
        }
    }
}

/// One accepted connection in the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReport {
    /// Every byte the peer read from the connection, in order (plaintext over TLS).
    pub recv: Vec<u8>,
    /// How it ended.
    pub end: End,
    /// `false` for a peer with `log_recv: false`: `recv` is reported as `null`.
    pub logged: bool,
    /// What a `tls` peer saw (FORMAT §10.4); `None` for other peers.
    pub tls: Option<TlsReport>,
}

impl ConnectionReport {
    /// A plain connection's report.
    pub fn plain(recv: Vec<u8>, end: End) -> Self {
        Self {
            recv,
            end,
            logged: true,
            tls: None,
        }
    }
}

/// How a `tls` peer's handshake went (FORMAT §10.4 `handshake`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Handshake {
    /// The client sent nothing before closing or the snapshot.
    #[default]
    None,
    /// The server's handshake failed.
    Failed,
    /// The handshake completed.
    Ok,
}

/// FORMAT §10.4's keys of a `tls` peer's connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsReport {
    /// How the handshake went.
    pub handshake: Handshake,
    /// `"TLSv1.2"` / `"TLSv1.3"` after a successful handshake.
    pub tls_version: Option<&'static str>,
    /// The server name of the ClientHello, as sent.
    pub sni: Option<String>,
    /// Whether the handshake resumed a session.
    pub resumed: bool,
    /// The subject CN of the verified client certificate.
    pub client_cert: Option<String>,
    /// Whether the client's close_notify arrived before its FIN; reported only when the
    /// client ended the stream (`end` `eof`) after a completed handshake.
    pub close_notify: bool,
}

/// The peer's snapshot (FORMAT §3.4, §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerReport {
    /// TCP / unix / none peers: the connections in accept order.
    Connections(Vec<ConnectionReport>),
    /// UDP peers: every datagram the script received, in order.
    Datagrams(Vec<Vec<u8>>),
}

impl PeerReport {
    /// The FORMAT §3.4 JSON object: `{"connections": [{"recv", "end"}, ...]}` with `recv`
    /// over 4096 bytes as `"<N bytes md5=HEX>"`, or `{"datagrams": [...]}`, never
    /// summarized.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Connections(connections) => {
                let connections: Vec<Value> = connections
                    .iter()
                    .map(|c| {
                        let recv = if c.recv.len() > SUMMARY_OVER {
                            summarize(&c.recv)
                        } else {
                            bytes_to_latin1(&c.recv)
                        };
                        let recv = if c.logged { json!(recv) } else { Value::Null };
                        let mut object = json!({"recv": recv, "end": c.end.as_str()});
                        if let (Some(tls), Value::Object(o)) = (&c.tls, &mut object) {
                            tls.add_to(o, c.end);
                        }
                        object
                    })
                    .collect();
                json!({ "connections": connections })
            }
            Self::Datagrams(datagrams) => {
                let datagrams: Vec<String> = datagrams.iter().map(|d| bytes_to_latin1(d)).collect();
                json!({ "datagrams": datagrams })
            }
        }
    }

    /// The connections (empty for a UDP peer).
    pub fn connections(&self) -> &[ConnectionReport] {
        match self {
            Self::Connections(c) => c,
            Self::Datagrams(_) => &[],
        }
    }

    /// The datagrams (empty for a stream peer).
    pub fn datagrams(&self) -> &[Vec<u8>] {
        match self {
            Self::Connections(_) => &[],
            Self::Datagrams(d) => d,
        }
    }
}

impl TlsReport {
    /// The keys of FORMAT §10.4, after `recv` and `end`.
    fn add_to(&self, object: &mut serde_json::Map<String, Value>, end: End) {
        let handshake = match self.handshake {
            Handshake::None => "none",
            Handshake::Failed => "failed",
            Handshake::Ok => "ok",
        };
        let close_notify =
            (self.handshake == Handshake::Ok && end == End::Eof).then_some(self.close_notify);
        object.insert("handshake".into(), json!(handshake));
        object.insert("tls_version".into(), json!(self.tls_version));
        object.insert("sni".into(), json!(self.sni));
        object.insert("resumed".into(), json!(self.resumed));
        object.insert("client_cert".into(), json!(self.client_cert));
        object.insert("close_notify".into(), json!(close_notify));
    }
}

/// `"<N bytes md5=HEX>"`: length in bytes and lower-case hex md5, FORMAT's rendering of
/// long byte strings (§3.4 for peer logs, §3.6 `summary` for op results).
pub fn summarize(b: &[u8]) -> String {
    format!("<{} bytes md5={:x}>", b.len(), md5::compute(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_length_and_lower_case_md5() {
        assert_eq!(
            summarize(&[b'a'; 5000]),
            "<5000 bytes md5=7aaa7dec709fa4fa82f3746abfd80bdb>"
        );
        assert_eq!(
            summarize(b""),
            "<0 bytes md5=d41d8cd98f00b204e9800998ecf8427e>"
        );
    }

    #[test]
    fn recv_is_summarized_only_over_4096_bytes() {
        let report = PeerReport::Connections(vec![
            ConnectionReport::plain(vec![0xff; 4096], End::Eof),
            ConnectionReport::plain([b'a'; 5000].to_vec(), End::Open),
        ]);
        let json = report.to_json();
        assert_eq!(json["connections"][0]["recv"], "\u{ff}".repeat(4096));
        assert_eq!(json["connections"][0]["end"], "eof");
        assert_eq!(
            json["connections"][1],
            json!({"recv": "<5000 bytes md5=7aaa7dec709fa4fa82f3746abfd80bdb>", "end": "open"})
        );
        assert!(report.datagrams().is_empty());
    }

    #[test]
    fn datagrams_are_never_summarized() {
        let report = PeerReport::Datagrams(vec![vec![b'x'; 5000], vec![0, 0xe9]]);
        let json = report.to_json();
        assert_eq!(json["datagrams"][0].as_str().unwrap().len(), 5000);
        assert_eq!(json["datagrams"][1], "\u{0}\u{e9}");
        assert!(report.connections().is_empty());
    }

    #[test]
    fn end_names_are_formats() {
        let names: Vec<_> = [
            End::Eof,
            End::Reset,
            End::ClosedByPeer,
            End::ResetByPeer,
            End::Open,
        ]
        .iter()
        .map(End::as_str)
        .collect();
        assert_eq!(
            names,
            ["eof", "reset", "closed_by_peer", "reset_by_peer", "open"]
        );
    }
}
