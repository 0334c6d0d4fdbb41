//! Just enough DER to read a certificate's issuer and subject (RFC 5280 §4.1): whether a
//! leaf is self-issued decides between OpenSSL's verify errors 18 and 20. Malformed input
//! gives `false`, never a panic.

/// One TLV: its tag, its contents and what follows it.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        let len = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((tag, content, rest))
}

const SEQUENCE: u8 = 0x30;
/// `[0] EXPLICIT Version` of a v2/v3 certificate.
const VERSION: u8 = 0xa0;

/// The raw issuer and subject names of a DER certificate.
fn issuer_and_subject(cert: &[u8]) -> Option<(&[u8], &[u8])> {
    let (tag, certificate, _) = tlv(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, tbs, _) = tlv(certificate)?;
    if tag != SEQUENCE {
        return None;
    }
    let mut rest = tbs;
    let (tag, _, after) = tlv(rest)?;
    if tag == VERSION {
        rest = after;
    }
    // serialNumber, signature AlgorithmIdentifier.
    let (_, _, rest) = tlv(rest)?;
    let (_, _, rest) = tlv(rest)?;
    let (_, issuer, rest) = tlv(rest)?;
    // validity.
    let (_, _, rest) = tlv(rest)?;
    let (_, subject, _) = tlv(rest)?;
    Some((issuer, subject))
}

/// Whether the certificate names itself as its issuer.
pub(crate) fn is_self_issued(cert: &[u8]) -> bool {
    matches!(issuer_and_subject(cert), Some((issuer, subject)) if issuer == subject)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_input_is_not_self_issued() {
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x85\x01",
            b"\x30\x02\x30\x00",
            b"\xff\xff",
        ] {
            assert!(!is_self_issued(input));
        }
    }

    #[test]
    fn equal_names_are_self_issued() {
        // SEQUENCE { SEQUENCE { [0]{INT 2}, INT 1, SEQ{}, SEQ{A}, SEQ{}, SEQ{A} } }
        let name = [0x30, 0x01, 0x41];
        let mut tbs = vec![0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01, 0x30, 0x00];
        tbs.extend_from_slice(&name);
        tbs.extend_from_slice(&[0x30, 0x00]);
        tbs.extend_from_slice(&name);
        let mut inner = vec![0x30, tbs.len() as u8];
        inner.extend_from_slice(&tbs);
        let mut cert = vec![0x30, inner.len() as u8];
        cert.extend_from_slice(&inner);
        assert!(is_self_issued(&cert));
        let other = cert.len() - 1;
        cert[other] = 0x42;
        assert!(!is_self_issued(&cert));
    }
}
