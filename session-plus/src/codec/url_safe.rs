//! URL-safe base64 by table, for the two hot spots where decoding with the `base64` crate costs
//! more than the work itself: checking an id's shape, and reading a signed cookie's issue time
//! (which is not verified there, only used to decide whether to verify).

/// Not a character of URL-safe base64, in [`VALUE`].
pub(crate) const INVALID: u8 = 0xFF;

/// The value of each byte as a character of URL-safe base64 (`A`–`Z`, `a`–`z`, `0`–`9`, `-`, `_`),
/// or [`INVALID`].
pub(crate) const VALUE: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut table = [INVALID; 256];
    let mut value = 0;
    while value < alphabet.len() {
        table[alphabet[value] as usize] = value as u8;
        value += 1;
    }
    table
};

/// The 18 bytes that the first 24 characters of `text` encode, or `None` when `text` is shorter
/// or one of them is not a character of URL-safe base64.
#[cfg(test)]
pub(crate) fn decode_18(text: &[u8]) -> Option<[u8; 18]> {
    let text = text.get(..24)?;
    let mut bytes = [0u8; 18];
    for (chars, out) in text.chunks_exact(4).zip(bytes.chunks_exact_mut(3)) {
        out.copy_from_slice(&decode_group(chars)?);
    }
    Some(bytes)
}

/// The 3 bytes that a group of 4 characters encodes, or `None` when one of them is not a
/// character of URL-safe base64 (or `chars` is not 4 long).
pub(crate) fn decode_group(chars: &[u8]) -> Option<[u8; 3]> {
    let chars: &[u8; 4] = chars.try_into().ok()?;
    let mut group = 0u32;
    for &c in chars {
        let value = VALUE[usize::from(c)];
        if value == INVALID {
            return None;
        }
        group = group << 6 | u32::from(value);
    }
    let [_, a, b, c] = group.to_be_bytes();
    Some([a, b, c])
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn decodes_what_base64_encodes(bytes in prop::array::uniform18(any::<u8>()), tail in "[A-Za-z0-9_.-]{0,8}") {
            let text = B64.encode(bytes) + &tail;
            prop_assert_eq!(decode_18(text.as_bytes()), Some(bytes));
        }

        #[test]
        fn refuses_what_base64_refuses(text in "[A-Za-z0-9_=+/.-]{24}") {
            let mut expected = [0u8; 18];
            let decoded = B64.decode_slice(&text, &mut expected).ok().map(|_| expected);
            prop_assert_eq!(decode_18(text.as_bytes()), decoded);
        }
    }

    #[test]
    fn too_short_is_nothing() {
        assert_eq!(decode_18(b"AAAA"), None);
        assert_eq!(decode_18(&[b'A'; 23]), None);
        assert_eq!(decode_18(&[b'A'; 24]), Some([0; 18]));
    }
}
