//! The DNS message format (RFC 1035 §4): query encoding and reply decoding, with no I/O.
//!
//! Every read of a reply is bounds-checked and every failure is an [`Error::Protocol`]:
//! the bytes come from the network, so no value of them may panic or loop.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::record::{CLASS_IN, Record, RecordData, RecordType};

/// The fixed header's size (RFC 1035 §4.1.1).
pub(crate) const HEADER_LEN: usize = 12;
/// The longest name in text form, without the trailing dot: 255 wire bytes hold at most
/// 253 characters (RFC 1035 §2.3.4 counts the length octets).
const MAX_NAME_TEXT: usize = 253;
/// The longest name in wire form (RFC 1035 §2.3.4).
const MAX_NAME_WIRE: usize = 255;
/// The longest label (RFC 1035 §2.3.4); the two top bits of a length byte are its type.
const MAX_LABEL: usize = 63;

// Header flag bits (RFC 1035 §4.1.1).
const FLAG_QR: u16 = 0x8000;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;

/// A validated question: the name in wire form and the type.
#[derive(Debug, Clone)]
pub(crate) struct Question {
    wire: Vec<u8>,
    pub(crate) rtype: RecordType,
}

impl Question {
    /// Checks and encodes `name`; nothing is sent for a name this refuses.
    pub(crate) fn new(name: &str, rtype: RecordType) -> Result<Self> {
        let wire = encode_name(name)?;
        Ok(Self { wire, rtype })
    }

    /// The query message: a header with `id`, RD if `recurse`, and this one question.
    pub(crate) fn packet(&self, id: u16, recurse: bool) -> Vec<u8> {
        let mut p = Vec::with_capacity(HEADER_LEN + self.wire.len() + 4);
        p.extend_from_slice(&id.to_be_bytes());
        let flags = if recurse { FLAG_RD } else { 0 };
        p.extend_from_slice(&flags.to_be_bytes());
        // QDCOUNT 1, ANCOUNT, NSCOUNT, ARCOUNT 0.
        p.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&self.wire);
        p.extend_from_slice(&self.rtype.code().to_be_bytes());
        p.extend_from_slice(&CLASS_IN.to_be_bytes());
        p
    }
}

/// `name` (dotted text, an optional trailing dot for the root) in wire form: length-prefixed
/// labels and the root's zero byte (RFC 1035 §3.1). The limits are §2.3.4's.
fn encode_name(name: &str) -> Result<Vec<u8>> {
    let bad = |why: &str| Error::InvalidName(format!("{name:?}: {why}"));
    if name == "." {
        return Ok(vec![0]);
    }
    let text = name.strip_suffix('.').unwrap_or(name);
    if text.is_empty() {
        return Err(bad("empty name"));
    }
    if !text.is_ascii() {
        // An internationalised name goes on the wire as its A-labels (RFC 5890): the
        // caller converts it, this client does not guess an encoding.
        return Err(bad("not ASCII (convert it to punycode first)"));
    }
    if text.len() > MAX_NAME_TEXT {
        return Err(bad(&format!(
            "{} characters, more than {MAX_NAME_TEXT}",
            text.len()
        )));
    }
    let mut wire = Vec::with_capacity(text.len() + 2);
    for label in text.split('.') {
        if label.is_empty() {
            return Err(bad("empty label"));
        }
        if label.len() > MAX_LABEL {
            return Err(bad(&format!(
                "label of {} bytes, more than {MAX_LABEL}",
                label.len()
            )));
        }
        if label.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(bad("control character or space in a label"));
        }
        wire.push(label.len() as u8);
        wire.extend_from_slice(label.as_bytes());
    }
    wire.push(0);
    Ok(wire)
}

/// What a datagram that arrived on a query's socket is.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Not the answer to this query (another ID, not a response, another question): a
    /// late reply to an earlier query, or a spoofing attempt. UDP skips it.
    Mismatch,
    /// The answer, with TC set: the records are incomplete, ask again over TCP.
    Truncated,
    /// The answer's records (RCODE 0).
    Answer(Vec<Record>),
}

/// Checks that `msg` answers `q` with `id` (RFC 1035 §7.3: a resolver matches the ID and
/// the question before it uses a reply) and decodes its answer section.
///
/// A server error (RCODE ≠ 0) is its [`Error`]; a reply too short for a header, or one
/// with this ID whose question or records cannot be read, is [`Error::Protocol`].
pub(crate) fn parse_reply(msg: &[u8], id: u16, q: &Question, max_records: usize) -> Result<Reply> {
    if msg.len() < HEADER_LEN {
        return Err(Error::protocol(format!(
            "reply of {} bytes, shorter than the {HEADER_LEN}-byte header",
            msg.len()
        )));
    }
    let mut r = Cursor { msg, pos: 0 };
    let reply_id = r.u16()?;
    let flags = r.u16()?;
    if reply_id != id || flags & FLAG_QR == 0 {
        return Ok(Reply::Mismatch);
    }
    let qdcount = r.u16()?;
    let ancount = usize::from(r.u16()?);
    let _nscount = r.u16()?;
    let _arcount = r.u16()?;
    let rcode = (flags & 0x000f) as u8;
    match qdcount {
        // An error reply may leave the question out (a server that could not parse it).
        0 if rcode != 0 => return Err(Error::from_rcode(rcode)),
        1 => {}
        n => {
            return Err(Error::protocol(format!("{n} questions in a reply to one")));
        }
    }
    let (qname, end) = read_name(msg, r.pos)?;
    r.pos = end;
    let qtype = r.u16()?;
    let qclass = r.u16()?;
    // Names compare case-insensitively (RFC 1035 §2.3.3; a server may echo another case).
    // Length bytes are at most 63, below 'A', so folding the whole wire form is safe.
    if !qname.eq_ignore_ascii_case(&q.wire) || qtype != q.rtype.code() || qclass != CLASS_IN {
        return Ok(Reply::Mismatch);
    }
    if flags & FLAG_TC != 0 {
        // The sections of a truncated reply may end anywhere: only its header counts.
        return Ok(Reply::Truncated);
    }
    if rcode != 0 {
        return Err(Error::from_rcode(rcode));
    }
    if ancount > max_records {
        return Err(Error::protocol(format!(
            "{ancount} answer records, more than the limit of {max_records}"
        )));
    }
    let mut answers = Vec::with_capacity(ancount);
    for _ in 0..ancount {
        answers.push(read_record(&mut r)?);
    }
    // The authority and additional sections are not read: a stub resolver uses the
    // answer, and their records would only be trusted less (RFC 2181 §5.4.1).
    Ok(Reply::Answer(answers))
}

/// A bounds-checked reader over a message.
struct Cursor<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.msg.len());
        let end = end.ok_or_else(|| {
            Error::protocol(format!(
                "reply ends at byte {} inside a field that needs {n} bytes from {}",
                self.msg.len(),
                self.pos
            ))
        })?;
        let bytes = &self.msg[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// The name at `start` in wire form (uncompressed, ending with the root's zero) and the
/// offset just past it in place (past its first pointer, if it has one).
///
/// Compression (RFC 1035 §4.1.4) points to a *prior* occurrence, so every pointer must go
/// below the start of the labels it ends: the bound only decreases, so a loop (even one
/// through labels, not only pointer to pointer) is an error, not a hang. The 255-byte
/// limit bounds the work too.
fn read_name(msg: &[u8], start: usize) -> Result<(Vec<u8>, usize)> {
    let mut name = Vec::new();
    let mut pos = start;
    // A pointer here must target below this: the start of the current run of labels.
    let mut bound = start;
    let mut end = None;
    loop {
        let len = *msg
            .get(pos)
            .ok_or_else(|| Error::protocol(format!("name at {start} runs past the end")))?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                name.push(0);
                return Ok((name, end.unwrap_or(pos + 1)));
            }
            0x00 => {
                let len = usize::from(len);
                let label = msg
                    .get(pos + 1..pos + 1 + len)
                    .ok_or_else(|| Error::protocol(format!("label at {pos} runs past the end")))?;
                if name.len() + 1 + len + 1 > MAX_NAME_WIRE {
                    return Err(Error::protocol(format!(
                        "name at {start} is longer than {MAX_NAME_WIRE} bytes"
                    )));
                }
                name.push(len as u8);
                name.extend_from_slice(label);
                pos += 1 + len;
            }
            0xc0 => {
                let low = *msg.get(pos + 1).ok_or_else(|| {
                    Error::protocol(format!("compression pointer at {pos} runs past the end"))
                })?;
                let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                if target >= bound {
                    return Err(Error::protocol(format!(
                        "compression pointer at {pos} to {target} does not point to an \
                         earlier name (a loop)"
                    )));
                }
                end.get_or_insert(pos + 2);
                bound = target;
                pos = target;
            }
            // 0x40 and 0x80: the extended label types of RFC 6891 §5, never deployed.
            _ => {
                return Err(Error::protocol(format!(
                    "unknown label type 0x{len:02x} at {pos}"
                )));
            }
        }
    }
}

/// A wire-form name in presentation form (RFC 1035 §5.1 escapes), without the trailing
/// dot; the root is `.`.
fn name_text(wire: &[u8]) -> String {
    let mut out = String::with_capacity(wire.len());
    let mut pos = 0;
    while let Some(&len) = wire.get(pos) {
        if len == 0 {
            break;
        }
        if !out.is_empty() {
            out.push('.');
        }
        for &b in &wire[pos + 1..pos + 1 + usize::from(len)] {
            match b {
                b'.' | b'\\' => {
                    out.push('\\');
                    out.push(char::from(b));
                }
                0x21..=0x7e => out.push(char::from(b)),
                _ => out.push_str(&format!("\\{b:03}")),
            }
        }
        pos += 1 + usize::from(len);
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// One resource record (RFC 1035 §4.1.3), its RDATA decoded by type (§3.3, §3.4).
fn read_record(r: &mut Cursor<'_>) -> Result<Record> {
    let (owner, end) = read_name(r.msg, r.pos)?;
    r.pos = end;
    let rtype = r.u16()?;
    let class = r.u16()?;
    let ttl = r.u32()?;
    let ttl = if ttl & 0x8000_0000 != 0 { 0 } else { ttl };
    let rdlength = usize::from(r.u16()?);
    let start = r.pos;
    let rdata = r.take(rdlength)?;
    let end = start + rdlength;
    let bad = |what: &str| {
        Error::protocol(format!(
            "{} record of {} has {what}",
            RecordType::from_code(rtype),
            name_text(&owner)
        ))
    };
    // A name inside RDATA may be compressed (pointing anywhere earlier in the message),
    // but its in-place bytes must end exactly where the RDATA does.
    let name_at = |at: usize| -> Result<String> {
        let (wire, after) = read_name(r.msg, at)?;
        if after != end {
            return Err(bad("a name that does not fill its RDATA"));
        }
        Ok(name_text(&wire))
    };
    let data = match RecordType::from_code(rtype) {
        RecordType::A => {
            let b: [u8; 4] = rdata
                .try_into()
                .map_err(|_| bad("RDATA that is not 4 bytes"))?;
            RecordData::A(Ipv4Addr::from(b))
        }
        RecordType::Aaaa => {
            let b: [u8; 16] = rdata
                .try_into()
                .map_err(|_| bad("RDATA that is not 16 bytes"))?;
            RecordData::Aaaa(Ipv6Addr::from(b))
        }
        RecordType::Cname => RecordData::Cname(name_at(start)?),
        RecordType::Ns => RecordData::Ns(name_at(start)?),
        RecordType::Ptr => RecordData::Ptr(name_at(start)?),
        RecordType::Mx => {
            let [p0, p1, ..] = *rdata else {
                return Err(bad("RDATA shorter than a preference"));
            };
            RecordData::Mx {
                preference: u16::from_be_bytes([p0, p1]),
                exchange: name_at(start + 2)?,
            }
        }
        RecordType::Srv => {
            let [p0, p1, w0, w1, o0, o1, ..] = *rdata else {
                return Err(bad("RDATA shorter than priority, weight and port"));
            };
            RecordData::Srv {
                priority: u16::from_be_bytes([p0, p1]),
                weight: u16::from_be_bytes([w0, w1]),
                port: u16::from_be_bytes([o0, o1]),
                target: name_at(start + 6)?,
            }
        }
        RecordType::Txt => {
            // One or more <character-string>s: a length byte and that many bytes (§3.3).
            let mut strings = Vec::new();
            let mut rest = rdata;
            while let Some((&len, tail)) = rest.split_first() {
                let len = usize::from(len);
                if tail.len() < len {
                    return Err(bad("a character-string past the end of its RDATA"));
                }
                strings.push(Bytes::copy_from_slice(&tail[..len]));
                rest = &tail[len..];
            }
            RecordData::Txt(strings)
        }
        RecordType::Soa | RecordType::Other(_) => RecordData::Other {
            rtype,
            data: Bytes::copy_from_slice(rdata),
        },
    };
    Ok(Record {
        name: name_text(&owner),
        ttl,
        class,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str) -> Question {
        Question::new(name, RecordType::A).unwrap()
    }

    #[test]
    fn names_are_checked_before_encoding() {
        assert_eq!(encode_name("www.test").unwrap(), b"\x03www\x04test\x00");
        assert_eq!(encode_name("www.test.").unwrap(), b"\x03www\x04test\x00");
        assert_eq!(encode_name(".").unwrap(), b"\x00");
        for bad in ["", "..", "a..b", ".a", "a b.test", "é.test"] {
            assert!(
                matches!(encode_name(bad), Err(Error::InvalidName(_))),
                "{bad:?}"
            );
        }
        assert!(encode_name(&"a".repeat(63)).is_ok());
        assert!(matches!(
            encode_name(&"a".repeat(64)),
            Err(Error::InvalidName(_))
        ));
        let label = "a".repeat(49);
        let name_253 = format!("{label}.{label}.{label}.{label}.{label}.abc");
        assert_eq!(name_253.len(), 253);
        assert_eq!(encode_name(&name_253).unwrap().len(), 255);
        let name_254 = format!("{name_253}d");
        assert!(matches!(encode_name(&name_254), Err(Error::InvalidName(_))));
    }

    #[test]
    fn query_packet_layout() {
        let p = q("a.b").packet(0x1234, true);
        assert_eq!(
            p,
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x01b\x00\x00\x01\x00\x01"
        );
        assert_eq!(q("a.b").packet(1, false)[2..4], [0, 0]);
    }

    /// A reply to `q("www.test")` with ID 7 and the given answer bytes.
    fn reply(flags: u16, ancount: u16, answers: &[u8]) -> Vec<u8> {
        let mut m = vec![0, 7];
        m.extend_from_slice(&flags.to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        m.extend_from_slice(&ancount.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(b"\x03www\x04test\x00\x00\x01\x00\x01");
        m.extend_from_slice(answers);
        m
    }

    #[test]
    fn decodes_compressed_answers() {
        // www.test CNAME w2.test (compressed: "w2" + pointer to "test" at 16),
        // then w2.test A 10.0.0.1 (owner: pointer to the CNAME's RDATA at 38).
        let mut a = b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x05\x02w2\xc0\x10".to_vec();
        a.extend_from_slice(b"\xc0\x26\x00\x01\x00\x01\xff\x00\x00\x00\x00\x04\x0a\x00\x00\x01");
        let m = reply(0x8180, 2, &a);
        let Reply::Answer(rs) = parse_reply(&m, 7, &q("www.test"), 10).unwrap() else {
            panic!("not an answer")
        };
        assert_eq!(rs[0].name, "www.test");
        assert_eq!(rs[0].ttl, 60);
        assert_eq!(rs[0].data, RecordData::Cname("w2.test".into()));
        assert_eq!(rs[1].name, "w2.test");
        assert_eq!(rs[1].ttl, 0, "a TTL with the top bit set reads as 0");
        assert_eq!(rs[1].data, RecordData::A(Ipv4Addr::new(10, 0, 0, 1)));
    }

    #[test]
    fn mismatches_and_errors() {
        let m = reply(0x8183, 0, &[]);
        assert!(matches!(
            parse_reply(&m, 8, &q("www.test"), 10),
            Ok(Reply::Mismatch)
        ));
        assert!(matches!(
            parse_reply(&m, 7, &q("ww.test"), 10),
            Ok(Reply::Mismatch)
        ));
        assert!(matches!(
            parse_reply(&m, 7, &q("WWW.Test"), 10),
            Err(Error::NxDomain)
        ));
        let query = reply(0x0100, 0, &[]);
        assert!(matches!(
            parse_reply(&query, 7, &q("www.test"), 10),
            Ok(Reply::Mismatch)
        ));
        let tc = reply(0x8380, 3, b"\xc0");
        assert!(matches!(
            parse_reply(&tc, 7, &q("www.test"), 10),
            Ok(Reply::Truncated)
        ));
        let many = reply(0x8180, 11, &[]);
        assert!(matches!(
            parse_reply(&many, 7, &q("www.test"), 10),
            Err(Error::Protocol(_))
        ));
    }

    #[test]
    fn malformed_replies_are_protocol_errors() {
        let www = q("www.test");
        // A pointer to itself, a pointer forward, a loop through a label.
        for a in [
            &b"\xc0\x1a\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x01\x02\x03\x04"[..],
            b"\xc0\x1c\x00\x01",
            b"\x01a\xc0\x1a\x00\x01",
        ] {
            let m = reply(0x8180, 1, a);
            let e = parse_reply(&m, 7, &www, 10).unwrap_err();
            assert!(matches!(e, Error::Protocol(_)), "{e}");
        }
        // Every prefix of a good reply fails cleanly.
        let good = reply(
            0x8180,
            1,
            b"\xc0\x0c\x00\x0f\x00\x01\x00\x00\x00\x3c\x00\x04\x00\x0a\xc0\x0c",
        );
        assert!(parse_reply(&good, 7, &www, 10).is_ok());
        for n in 0..good.len() {
            assert!(matches!(
                parse_reply(&good[..n], 7, &www, 10),
                Err(Error::Protocol(_))
            ));
        }
        // RDATA of the wrong size.
        let a5 = reply(
            0x8180,
            1,
            b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x05\x01\x02\x03\x04\x05",
        );
        assert!(matches!(
            parse_reply(&a5, 7, &www, 10),
            Err(Error::Protocol(_))
        ));
    }

    #[test]
    fn every_byte_string_decodes_without_panic() {
        let www = q("www.test");
        let mut rng = fastrand::Rng::with_seed(7);
        let base = reply(
            0x8180,
            2,
            b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c\x00\x04\x03abc\xc0\x0c\x00\x21\x00\x01\
              \x00\x00\x00\x3c\x00\x08\x00\x01\x00\x02\x00\x03\xc0\x0c",
        );
        assert!(parse_reply(&base, 7, &www, 10).is_ok());
        for _ in 0..20_000 {
            let mut m = base.clone();
            for _ in 0..rng.usize(1..4) {
                let i = rng.usize(..m.len());
                m[i] = rng.u8(..);
            }
            m.truncate(rng.usize(HEADER_LEN..=m.len()));
            let _ = parse_reply(&m, 7, &www, 10);
        }
    }

    #[test]
    fn names_print_escaped() {
        assert_eq!(name_text(b"\x03a.b\x02\\\x01\x00"), "a\\.b.\\\\\\001");
        assert_eq!(name_text(b"\x00"), ".");
    }
}
