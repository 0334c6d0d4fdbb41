//! Byte strings as JSON strings (FORMAT §2): every code point U+0000..U+00FF stands for
//! one byte (latin-1). Received bytes are never UTF-8-decoded, so `"\u00ff"` is the byte
//! 0xFF both in a scenario and in a result.

/// The bytes of a FORMAT §2 byte string: one byte per char.
///
/// A char above U+00FF is not a byte and is rejected (FORMAT §2: "no code point above
/// U+00FF ever occurs"), so a UTF-8 encoded scenario can never slip through as bytes.
pub fn latin1_to_bytes(s: &str) -> Result<Vec<u8>, String> {
    s.chars()
        .map(|c| {
            u8::try_from(c).map_err(|_| {
                format!(
                    "byte string holds U+{:04X}, above U+00FF (FORMAT §2: one char per byte)",
                    u32::from(c)
                )
            })
        })
        .collect()
}

/// The FORMAT §2 byte string of `b`: byte `x` becomes `char::from(x)`.
pub fn bytes_to_latin1(b: &[u8]) -> String {
    b.iter().copied().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips_through_one_char() {
        let all: Vec<u8> = (0..=255).collect();
        let s = bytes_to_latin1(&all);
        assert_eq!(s.chars().count(), 256);
        assert_eq!(latin1_to_bytes(&s).unwrap(), all);
    }

    #[test]
    fn chars_above_u00ff_are_rejected() {
        let err = latin1_to_bytes("a\u{100}").unwrap_err();
        assert!(err.contains("U+0100"), "{err}");
        assert!(latin1_to_bytes("\u{20ac}").is_err());
    }
}
