//! What the scripted peer does: FORMAT §3's `"peer"` object as Rust values, parsed from
//! the scenario JSON or built in code with the constructors.

use serde::Deserialize;
use serde::de::{Deserializer, Error as _};
use serde_json::{Map, Value};

use super::bytes::latin1_to_bytes;

/// The peer's read bound when a spec gives no `recv_timeout_ms` (FORMAT §3.2).
pub(crate) const DEFAULT_RECV_TIMEOUT_MS: u64 = 3000;

/// The `"peer"` object of a scenario (FORMAT §3.1–3.3).
///
/// Deserializes from the JSON object (`"type"` is [`kind`](Self::kind)); the scripts are
/// checked against the kind when parsed and again by [`Peer::start`](super::Peer::start)
/// (a UDP step in a stream script, both `steps` and `connections`, ... are errors).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawPeerSpec")]
pub struct PeerSpec {
    /// What the peer provides (`"type"`).
    pub kind: PeerKind,
    /// The script run for every connection (stream peers) or once (UDP).
    pub steps: Option<Vec<Step>>,
    /// Per-connection scripts in accept order (stream peers only).
    pub connections: Option<Vec<Vec<Step>>>,
    /// The script of connections beyond `connections` (missing = `[]`).
    pub default: Option<Vec<Step>>,
    /// The bound of peer reads in ms (default 3000).
    pub recv_timeout_ms: Option<u64>,
    /// `log_recv` (default true): `false` reports `recv` as `null` (FORMAT §10.4, for a
    /// `tcp` peer that receives a ClientHello whose bytes differ from run to run).
    pub log_recv: Option<bool>,
    /// The server side of a `tls` peer (FORMAT §10.3).
    pub tls: Option<TlsServerSpec>,
}

/// FORMAT §10.3's keys of a `tls` peer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsServerSpec {
    /// The certificate the server presents (a FORMAT §10.1 name).
    #[serde(default = "default_cert")]
    pub cert: String,
    /// The lowest version accepted: `"1.2"` or `"1.3"`.
    #[serde(default = "default_min")]
    pub tls_min: String,
    /// The highest version accepted.
    #[serde(default = "default_max")]
    pub tls_max: String,
    /// A client certificate verified against `ca` is required.
    #[serde(default)]
    pub require_client_cert: bool,
    /// A client certificate is asked for but not required.
    #[serde(default)]
    pub request_client_cert: bool,
    /// TLS 1.3 session tickets sent after the handshake.
    #[serde(default = "default_tickets")]
    pub tickets: usize,
    /// The wait between the first ClientHello bytes and the answer.
    #[serde(default)]
    pub handshake_delay_ms: u64,
    /// ALPN protocols the server accepts, most preferred first (not in FORMAT: for the
    /// conformance cases).
    #[serde(default)]
    pub alpn: Vec<String>,
}

fn default_cert() -> String {
    "ca_test_local".into()
}

fn default_min() -> String {
    "1.2".into()
}

fn default_max() -> String {
    "1.3".into()
}

fn default_tickets() -> usize {
    2
}

impl Default for TlsServerSpec {
    fn default() -> Self {
        Self {
            cert: default_cert(),
            tls_min: default_min(),
            tls_max: default_max(),
            require_client_cert: false,
            request_client_cert: false,
            tickets: default_tickets(),
            handshake_delay_ms: 0,
            alpn: Vec::new(),
        }
    }
}

/// FORMAT §3.1's `peer.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerKind {
    /// A TCP listener on 127.0.0.1.
    Tcp,
    /// A stream listener on a unix socket path.
    Unix,
    /// A datagram socket on 127.0.0.1.
    Udp,
    /// Nothing (the scenario only talks to `closed`, `backlog_full`, ... targets).
    None,
    /// A TCP listener on 127.0.0.1 that speaks TLS (FORMAT §10.3).
    Tls,
}

/// One step of a peer script: a one-key JSON object of FORMAT §3.2 (stream) or §3.3 (UDP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `{"send": S, "repeat": N}`: write `data` `repeat` times (stream), or send `data` as
    /// one datagram to the last sender (UDP; `repeat` is then 1).
    Send {
        /// The bytes to send.
        data: Vec<u8>,
        /// How many times (default 1).
        repeat: usize,
    },
    /// `{"sleep_ms": N}`.
    SleepMs(u64),
    /// `{"expect_recv": N}`: read until N bytes arrived since the step began.
    ExpectRecv(usize),
    /// `{"expect_recv": {"until": P}}`: read until the step's bytes contain P.
    ExpectRecvUntil(Vec<u8>),
    /// `{"drain": true}` (alias `{"expect_eof": true}`): read until EOF or an idle limit.
    Drain,
    /// `{"half_close": true}`: `shutdown(SHUT_WR)`.
    HalfClose,
    /// `{"close": true}`: read what is queued without blocking, then `close()`.
    Close,
    /// `{"reset": true}`: `SO_LINGER {on, 0}` then `close()` (RST).
    Reset,
    /// UDP `{"recv": true}`: receive one datagram.
    Recv,
    /// UDP `{"echo": N}`: N times, receive one datagram and send it back.
    Echo(usize),
    /// TLS `{"send_records": [S1, S2, ...]}`: one record each, all in one TCP write.
    SendRecords(Vec<Vec<u8>>),
    /// TLS `{"close_notify": true}`: the alert; the TCP connection stays open.
    CloseNotify,
    /// TLS `{"send_raw": S}`: bytes written to the TCP connection as they are, outside
    /// any record (not in FORMAT: a peer that breaks the protocol, for the conformance
    /// cases).
    SendRaw(Vec<u8>),
}

impl PeerSpec {
    /// A TCP peer running `steps` on every connection.
    pub fn tcp(steps: Vec<Step>) -> Self {
        Self::with_steps(PeerKind::Tcp, steps)
    }

    /// A unix-socket peer running `steps` on every connection.
    pub fn unix(steps: Vec<Step>) -> Self {
        Self::with_steps(PeerKind::Unix, steps)
    }

    /// A UDP peer running `steps` once.
    pub fn udp(steps: Vec<Step>) -> Self {
        Self::with_steps(PeerKind::Udp, steps)
    }

    /// A peer that provides nothing but the extra targets.
    pub fn none() -> Self {
        Self {
            kind: PeerKind::None,
            steps: None,
            connections: None,
            default: None,
            recv_timeout_ms: None,
            log_recv: None,
            tls: None,
        }
    }

    /// A TLS peer (FORMAT §10.3) with the default server settings, running `steps` on
    /// every connection.
    pub fn tls(steps: Vec<Step>) -> Self {
        Self {
            tls: Some(TlsServerSpec::default()),
            ..Self::with_steps(PeerKind::Tls, steps)
        }
    }

    /// A stream peer running `connections[i]` on the i-th accepted connection and
    /// `default` on the ones beyond.
    pub fn per_connection(kind: PeerKind, connections: Vec<Vec<Step>>, default: Vec<Step>) -> Self {
        Self {
            connections: Some(connections),
            default: Some(default),
            ..Self::none_of(kind)
        }
    }

    /// The same spec with `recv_timeout_ms` set.
    #[must_use]
    pub fn recv_timeout(self, ms: u64) -> Self {
        Self {
            recv_timeout_ms: Some(ms),
            ..self
        }
    }

    fn with_steps(kind: PeerKind, steps: Vec<Step>) -> Self {
        Self {
            steps: Some(steps),
            ..Self::none_of(kind)
        }
    }

    fn none_of(kind: PeerKind) -> Self {
        Self {
            kind,
            ..Self::none()
        }
    }

    /// The script of the `index`-th accepted connection (FORMAT §3.2's selection).
    pub(crate) fn script_for(&self, index: usize) -> &[Step] {
        if let Some(steps) = &self.steps {
            return steps;
        }
        self.connections
            .as_deref()
            .and_then(|c| c.get(index))
            .or(self.default.as_ref())
            .map_or(&[], Vec::as_slice)
    }

    /// The read bound of the peer (FORMAT §3.2, default 3000 ms).
    pub(crate) fn recv_timeout_ms(&self) -> u64 {
        self.recv_timeout_ms.unwrap_or(DEFAULT_RECV_TIMEOUT_MS)
    }

    /// Rejects what FORMAT §3 gives no meaning: scripts on a `none` peer, both `steps`
    /// and `connections`, `default` alone, per-connection scripts on UDP, and steps of
    /// the other socket type.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.steps.is_some() && self.connections.is_some() {
            return Err("peer: give either \"steps\" or \"connections\", not both".into());
        }
        if self.default.is_some() && self.connections.is_none() {
            return Err("peer: \"default\" needs \"connections\"".into());
        }
        let scripts = self
            .steps
            .iter()
            .chain(self.connections.iter().flatten())
            .chain(self.default.iter());
        match self.kind {
            PeerKind::None => {
                if self.steps.is_some() || self.connections.is_some() {
                    return Err("peer: a \"none\" peer runs no script".into());
                }
            }
            PeerKind::Udp => {
                if self.connections.is_some() {
                    return Err("peer: a udp peer has one script, \"steps\" (FORMAT §3.3)".into());
                }
                for step in scripts.flatten() {
                    if !step.is_udp() {
                        return Err(format!("peer: {step:?} is not a udp step (FORMAT §3.3)"));
                    }
                }
            }
            PeerKind::Tcp | PeerKind::Unix | PeerKind::Tls => {
                for step in scripts.flatten() {
                    if matches!(step, Step::Recv | Step::Echo(_)) {
                        return Err(format!("peer: {step:?} is a udp step (FORMAT §3.3)"));
                    }
                    let tls_step = matches!(
                        step,
                        Step::SendRecords(_) | Step::CloseNotify | Step::SendRaw(_)
                    );
                    if tls_step && self.kind != PeerKind::Tls {
                        return Err(format!("peer: {step:?} is a tls step (FORMAT §10.3)"));
                    }
                }
            }
        }
        if (self.kind == PeerKind::Tls) != self.tls.is_some() {
            return Err("peer: TLS settings go with a \"tls\" peer only".into());
        }
        Ok(())
    }
}

/// The derived shape of the JSON object; [`PeerSpec`] is this after [`PeerSpec::check`].
#[derive(Deserialize)]
struct RawPeerSpec {
    #[serde(rename = "type")]
    kind: PeerKind,
    steps: Option<Vec<Step>>,
    connections: Option<Vec<Vec<Step>>>,
    default: Option<Vec<Step>>,
    recv_timeout_ms: Option<u64>,
    log_recv: Option<bool>,
    /// Every other key: a `tls` peer's settings (FORMAT §10.3).
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl TryFrom<RawPeerSpec> for PeerSpec {
    type Error = String;

    fn try_from(raw: RawPeerSpec) -> Result<Self, String> {
        let tls = match raw.kind {
            PeerKind::Tls => Some(
                serde_json::from_value(Value::Object(raw.rest))
                    .map_err(|e| format!("peer: bad TLS settings (FORMAT §10.3): {e}"))?,
            ),
            _ if raw.rest.is_empty() => None,
            _ => {
                let keys: Vec<&String> = raw.rest.keys().collect();
                return Err(format!("peer: unknown keys {keys:?}"));
            }
        };
        let spec = Self {
            kind: raw.kind,
            steps: raw.steps,
            connections: raw.connections,
            default: raw.default,
            recv_timeout_ms: raw.recv_timeout_ms,
            log_recv: raw.log_recv,
            tls,
        };
        spec.check()?;
        Ok(spec)
    }
}

impl Step {
    /// `{"send": data}`.
    pub fn send(data: impl AsRef<[u8]>) -> Self {
        Self::send_rep(data, 1)
    }

    /// `{"send": data, "repeat": n}`.
    pub fn send_rep(data: impl AsRef<[u8]>, n: usize) -> Self {
        Self::Send {
            data: data.as_ref().to_vec(),
            repeat: n,
        }
    }

    /// `{"sleep_ms": ms}`.
    pub fn sleep(ms: u64) -> Self {
        Self::SleepMs(ms)
    }

    /// `{"expect_recv": n}`.
    pub fn expect(n: usize) -> Self {
        Self::ExpectRecv(n)
    }

    /// `{"expect_recv": {"until": p}}`.
    pub fn expect_until(p: impl AsRef<[u8]>) -> Self {
        Self::ExpectRecvUntil(p.as_ref().to_vec())
    }

    /// Whether FORMAT §3.3 defines this step for the UDP script.
    fn is_udp(&self) -> bool {
        match self {
            Self::Send { repeat, .. } => *repeat == 1,
            Self::SleepMs(_) | Self::Recv | Self::Echo(_) => true,
            _ => false,
        }
    }

    /// One step object: exactly one action key (`send` may carry `repeat`).
    fn from_json(object: &Map<String, Value>) -> Result<Self, String> {
        let mut actions = object.iter().filter(|(k, _)| *k != "repeat");
        let (Some((key, value)), None) = (actions.next(), actions.next()) else {
            return Err(format!(
                "peer step {}: needs exactly one action key (FORMAT §3.2)",
                Value::Object(object.clone())
            ));
        };
        if object.contains_key("repeat") && key != "send" {
            return Err(format!(
                "peer step {key:?}: \"repeat\" only goes with \"send\""
            ));
        }
        let step = match key.as_str() {
            "send" => Self::Send {
                data: byte_string(key, value)?,
                repeat: object.get("repeat").map_or(Ok(1), |n| count("repeat", n))?,
            },
            "sleep_ms" => Self::SleepMs(integer(key, value)?),
            "expect_recv" => match value {
                Value::Object(until) if until.len() == 1 && until.contains_key("until") => {
                    Self::ExpectRecvUntil(byte_string("until", &until["until"])?)
                }
                _ => Self::ExpectRecv(count(key, value)?),
            },
            "drain" | "expect_eof" => flag(key, value, Self::Drain)?,
            "half_close" => flag(key, value, Self::HalfClose)?,
            "close" => flag(key, value, Self::Close)?,
            "reset" => flag(key, value, Self::Reset)?,
            "recv" => flag(key, value, Self::Recv)?,
            "echo" => Self::Echo(count(key, value)?),
            "send_records" => match value {
                Value::Array(records) => Self::SendRecords(
                    records
                        .iter()
                        .map(|r| byte_string(key, r))
                        .collect::<Result<_, _>>()?,
                ),
                _ => return Err(format!("peer step {key:?}: needs a list of strings")),
            },
            "close_notify" => flag(key, value, Self::CloseNotify)?,
            "send_raw" => Self::SendRaw(byte_string(key, value)?),
            _ => return Err(format!("peer step {key:?}: unknown (FORMAT §3.2, §3.3)")),
        };
        Ok(step)
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let object = Map::<String, Value>::deserialize(d)?;
        Self::from_json(&object).map_err(D::Error::custom)
    }
}

fn byte_string(key: &str, value: &Value) -> Result<Vec<u8>, String> {
    let s = value
        .as_str()
        .ok_or_else(|| format!("peer step {key:?}: expected a byte string, got {value}"))?;
    latin1_to_bytes(s).map_err(|e| format!("peer step {key:?}: {e}"))
}

fn integer(key: &str, value: &Value) -> Result<u64, String> {
    value
        .as_u64()
        .ok_or_else(|| format!("peer step {key:?}: expected an integer >= 0, got {value}"))
}

fn count(key: &str, value: &Value) -> Result<usize, String> {
    usize::try_from(integer(key, value)?).map_err(|e| format!("peer step {key:?}: {e}"))
}

/// `{"close": true}` and friends: the value must be `true` (a `false` would read as
/// "don't", which FORMAT never means).
fn flag(key: &str, value: &Value, step: Step) -> Result<Step, String> {
    if value == &Value::Bool(true) {
        Ok(step)
    } else {
        Err(format!("peer step {key:?}: expected true, got {value}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<PeerSpec, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn tls_peer_keys_parse_and_stay_with_tls_peers() {
        let spec = parse(
            r#"{"type": "tls", "tls_max": "1.2", "cert": "expired", "handshake_delay_ms": 30,
                "require_client_cert": true, "tickets": 0,
                "steps": [{"send_records": ["a", "b"]}, {"close_notify": true}]}"#,
        )
        .unwrap();
        let tls = spec.tls.as_ref().unwrap();
        assert_eq!(
            (
                tls.cert.as_str(),
                tls.tls_min.as_str(),
                tls.tls_max.as_str()
            ),
            ("expired", "1.2", "1.2")
        );
        assert_eq!((tls.handshake_delay_ms, tls.tickets), (30, 0));
        assert!(tls.require_client_cert && !tls.request_client_cert);
        assert_eq!(
            spec.steps.as_deref().unwrap(),
            [
                Step::SendRecords(vec![b"a".to_vec(), b"b".to_vec()]),
                Step::CloseNotify
            ]
        );
        assert_eq!(PeerSpec::tls(vec![]).tls.unwrap().cert, "ca_test_local");
        // TLS keys and steps belong to TLS peers; unknown keys are errors.
        assert!(parse(r#"{"type": "tcp", "cert": "ca", "steps": []}"#).is_err());
        assert!(parse(r#"{"type": "tcp", "steps": [{"close_notify": true}]}"#).is_err());
        assert!(parse(r#"{"type": "tls", "ticketz": 1, "steps": []}"#).is_err());
        let quiet = parse(r#"{"type": "tcp", "log_recv": false, "steps": []}"#).unwrap();
        assert_eq!(quiet.log_recv, Some(false));
    }

    #[test]
    fn format_example_peer_object_parses() {
        let spec =
            parse(r#"{"type": "tcp", "steps": [{"send": "hello\r\n"}, {"sleep_ms": 50}, {"close": true}]}"#)
                .unwrap();
        assert_eq!(
            spec,
            PeerSpec::tcp(vec![Step::send("hello\r\n"), Step::sleep(50), Step::Close])
        );
        assert_eq!(spec.recv_timeout_ms(), 3000);
    }

    #[test]
    fn byte_strings_are_latin1_not_utf8() {
        let spec =
            parse(r#"{"type": "tcp", "steps": [{"send": "\u0000\u00ff\u00e9", "repeat": 3}]}"#)
                .unwrap();
        assert_eq!(
            spec.steps.unwrap(),
            vec![Step::send_rep([0x00, 0xff, 0xe9], 3)]
        );
        // Raw UTF-8 in the JSON text is the same code point, hence the same byte.
        let raw = parse("{\"type\": \"tcp\", \"steps\": [{\"send\": \"\u{ff}\"}]}").unwrap();
        assert_eq!(raw.steps.unwrap(), vec![Step::send([0xff])]);
    }

    #[test]
    fn a_char_above_u00ff_is_a_parse_error() {
        let err = parse(r#"{"type": "tcp", "steps": [{"send": "\u0100"}]}"#).unwrap_err();
        assert!(err.contains("U+0100"), "{err}");
        let err =
            parse(r#"{"type": "tcp", "steps": [{"expect_recv": {"until": "€"}}]}"#).unwrap_err();
        assert!(err.contains("U+20AC"), "{err}");
    }

    #[test]
    fn every_stream_step_parses() {
        let spec = parse(
            r#"{"type": "unix", "recv_timeout_ms": 250, "connections": [
                [{"expect_recv": 4}, {"expect_recv": {"until": "\n"}}, {"drain": true},
                 {"expect_eof": true}, {"half_close": true}, {"reset": true}],
                []
               ], "default": [{"close": true}]}"#,
        )
        .unwrap();
        let expected = PeerSpec::per_connection(
            PeerKind::Unix,
            vec![
                vec![
                    Step::expect(4),
                    Step::expect_until("\n"),
                    Step::Drain,
                    Step::Drain,
                    Step::HalfClose,
                    Step::Reset,
                ],
                vec![],
            ],
            vec![Step::Close],
        )
        .recv_timeout(250);
        assert_eq!(spec, expected);
        assert_eq!(spec.script_for(1), &[]);
        assert_eq!(spec.script_for(7), &[Step::Close]);
    }

    #[test]
    fn missing_default_is_the_empty_script() {
        let spec = parse(r#"{"type": "tcp", "connections": [[{"close": true}]]}"#).unwrap();
        assert_eq!(spec.script_for(0), &[Step::Close]);
        assert_eq!(spec.script_for(1), &[]);
    }

    #[test]
    fn udp_and_none_peers_parse() {
        let spec = parse(
            r#"{"type": "udp", "steps": [{"recv": true}, {"send": "x"}, {"echo": 3}, {"sleep_ms": 5}]}"#,
        )
        .unwrap();
        assert_eq!(
            spec,
            PeerSpec::udp(vec![
                Step::Recv,
                Step::send("x"),
                Step::Echo(3),
                Step::sleep(5)
            ])
        );
        assert_eq!(parse(r#"{"type": "none"}"#).unwrap(), PeerSpec::none());
    }

    #[test]
    fn malformed_steps_are_rejected() {
        for bad in [
            r#"{"type": "tcp", "steps": [{"send": "a", "close": true}]}"#,
            r#"{"type": "tcp", "steps": [{}]}"#,
            r#"{"type": "tcp", "steps": [{"close": false}]}"#,
            r#"{"type": "tcp", "steps": [{"sleep_ms": -1}]}"#,
            r#"{"type": "tcp", "steps": [{"bogus": 1}]}"#,
            r#"{"type": "tcp", "steps": [{"close": true, "repeat": 2}]}"#,
            r#"{"type": "tcp", "steps": [{"expect_recv": {"until": "a", "x": 1}}]}"#,
            r#"{"type": "tcp", "steps": [{"echo": 1}]}"#,
            r#"{"type": "udp", "steps": [{"drain": true}]}"#,
            r#"{"type": "udp", "connections": [[]]}"#,
            r#"{"type": "none", "steps": []}"#,
            r#"{"type": "tcp", "steps": [], "connections": []}"#,
            r#"{"type": "tcp", "default": []}"#,
            r#"{"type": "sctp"}"#,
        ] {
            assert!(parse(bad).is_err(), "accepted {bad}");
        }
    }
}
