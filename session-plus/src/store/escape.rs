//! Reversible escaping of the names a document store treats specially (MongoDB field names,
//! Firestore document ids and field names): a character the store names is written `%XX`, `%`
//! itself always is, and the empty name is `%` alone. Ordinary names (`user_id`, `session:abc`)
//! stay as they are, so stored documents remain readable.

/// `name` with every character that `escape(index, character)` maps to a code written as `%`
/// and that code; `%` is always escaped (`%25`), so the result decodes back to `name` alone.
pub(super) fn encode(name: &str, escape: impl Fn(usize, char) -> Option<&'static str>) -> String {
    if name.is_empty() {
        return "%".to_owned();
    }
    let mut encoded = String::with_capacity(name.len());
    for (index, c) in name.char_indices() {
        match if c == '%' { Some("25") } else { escape(index, c) } {
            Some(code) => {
                encoded.push('%');
                encoded.push_str(code);
            }
            None => encoded.push(c),
        }
    }
    encoded
}

/// The name [`encode`] made `encoded` from, given the codes it may hold besides `25` (`%`);
/// `None` when it holds another escape or a broken one.
pub(super) fn decode(encoded: &str, codes: &[(&str, char)]) -> Option<String> {
    if encoded == "%" {
        return Some(String::new());
    }
    let mut name = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(at) = rest.find('%') {
        name.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3)?;
        let c = if code == "25" { '%' } else { codes.iter().find(|(known, _)| *known == code)?.1 };
        name.push(c);
        rest = &rest[at + 3..];
    }
    name.push_str(rest);
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODES: &[(&str, char)] = &[("2E", '.')];

    fn dots(_: usize, c: char) -> Option<&'static str> {
        (c == '.').then_some("2E")
    }

    #[test]
    fn names_round_trip_and_ordinary_ones_stay_readable() {
        for name in ["", "%", "%25", ".", "a.b", "%2E", "a%", "日本.語", "user_id"] {
            let encoded = encode(name, dots);
            assert!(!encoded.contains('.') && !encoded.is_empty(), "{encoded}");
            assert_eq!(decode(&encoded, CODES).as_deref(), Some(name));
        }
        assert_eq!(encode("user_id", dots), "user_id");
        for broken in ["a%zz", "a%2", "%2F", "%%"] {
            assert_eq!(decode(broken, CODES), None, "{broken}");
        }
    }
}
