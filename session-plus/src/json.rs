//! JSON text: one pass over an object's text that checks it and finds where each field's name and
//! value are. It lets a request parse only the fields it reads ([`session`](crate::session)'s
//! `Fields`), and the memory store rewrite a record without parsing the values it keeps.
//!
//! The check is RFC 8259's grammar with serde_json's limits (nesting at most 128 deep, strings
//! of UTF-8, `\u` escapes with surrogates in pairs), so that text this accepts, `serde_json`
//! parses, with one exception: a number too large for an `f64` (`1e400`) passes here and fails
//! there, so that one field reads as absent (no writer of this crate produces one). Names with
//! escapes are not indexed (their text is not the name): the caller parses such an object whole.

use std::ops::Range;

use smallvec::SmallVec;

/// How many arrays and objects may nest: as many as serde_json's recursion limit (128) lets it
/// parse.
const MAX_DEPTH: usize = 127;

/// The fields [`index`] found: a session's cookie holds one or two, kept inline rather than in
/// an allocation of their own (about 110 instructions to make and free, on every verified cookie).
pub(crate) type Entries = SmallVec<[Entry; 2]>;

/// Where one field of an object's text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The name, without its quotes (no escapes in it).
    pub(crate) name: Range<usize>,
    /// The value's JSON text.
    pub(crate) value: Range<usize>,
}

/// What [`index`] found wrong, or could not index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unindexed {
    /// Not one JSON object.
    Invalid,
    /// A valid object with a name that has escapes.
    EscapedName,
}

/// The fields of `json`, which must be exactly one JSON object (whitespace around it allowed).
pub(crate) fn index(json: &[u8]) -> Result<Entries, Unindexed> {
    let mut scan = Scan::new(json);
    scan.whitespace();
    if !scan.eat(b'{') {
        return Err(Unindexed::Invalid);
    }
    let mut entries = Entries::new();
    let mut escaped = false;
    scan.whitespace();
    if !scan.eat(b'}') {
        loop {
            scan.whitespace();
            let start = scan.at + 1;
            escaped |= scan.string().ok_or(Unindexed::Invalid)?;
            let name = start..scan.at - 1;
            scan.whitespace();
            if !scan.eat(b':') {
                return Err(Unindexed::Invalid);
            }
            scan.whitespace();
            let start = scan.at;
            scan.value(1).ok_or(Unindexed::Invalid)?;
            entries.push(Entry { name, value: start..scan.at });
            scan.whitespace();
            if scan.eat(b'}') {
                break;
            }
            if !scan.eat(b',') {
                return Err(Unindexed::Invalid);
            }
        }
    }
    scan.whitespace();
    if scan.at != json.len() {
        return Err(Unindexed::Invalid);
    }
    if escaped {
        return Err(Unindexed::EscapedName);
    }
    Ok(entries)
}

/// Whether `json` is exactly one JSON value (whitespace around it allowed).
pub(crate) fn is_value(json: &[u8]) -> bool {
    let mut scan = Scan::new(json);
    scan.whitespace();
    let valid = scan.value(0).is_some();
    scan.whitespace();
    valid && scan.at == json.len()
}

/// The bytes that end a run of plain characters in a string: the quote, the backslash, the
/// control characters and the bytes of non-ASCII characters (one table lookup per byte rather
/// than four comparisons).
const ENDS_RUN: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    byte = 0x80;
    while byte < 0x100 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

struct Scan<'a> {
    text: &'a [u8],
    at: usize,
    /// Whether the text from the first non-ASCII byte on is known to be UTF-8. Only strings may
    /// hold such bytes (the grammar refuses them elsewhere), so a text of ASCII, the usual one,
    /// is never checked apart from its scan.
    utf8_checked: bool,
}

impl<'a> Scan<'a> {
    fn new(text: &'a [u8]) -> Self {
        Self { text, at: 0, utf8_checked: false }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    /// One value at nesting `depth` (the arrays and objects around it).
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' if depth >= MAX_DEPTH => None,
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        self.at += 1; // '{'
        self.whitespace();
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            self.whitespace();
            self.string()?;
            self.whitespace();
            self.eat(b':').then_some(())?;
            self.whitespace();
            self.value(depth)?;
            self.whitespace();
            if self.eat(b'}') {
                return Some(());
            }
            self.eat(b',').then_some(())?;
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        self.at += 1; // '['
        self.whitespace();
        if self.eat(b']') {
            return Some(());
        }
        loop {
            self.whitespace();
            self.value(depth)?;
            self.whitespace();
            if self.eat(b']') {
                return Some(());
            }
            self.eat(b',').then_some(())?;
        }
    }

    fn literal(&mut self, literal: &[u8]) -> Option<()> {
        let found = self.text.get(self.at..)?.starts_with(literal);
        self.at += literal.len();
        found.then_some(())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<()> {
        self.eat(b'-');
        if !self.eat(b'0') {
            self.digits()?;
        }
        if self.eat(b'.') {
            self.digits()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _ = self.eat(b'+') || self.eat(b'-');
            self.digits()?;
        }
        Some(())
    }

    /// One or more digits.
    fn digits(&mut self) -> Option<()> {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        (self.at > start).then_some(())
    }

    /// A string, from its opening quote to past its closing one: whether it has escapes.
    fn string(&mut self) -> Option<bool> {
        self.eat(b'"').then_some(())?;
        let mut escaped = false;
        loop {
            let rest = self.text.get(self.at..)?;
            let stop = rest.iter().position(|&b| ENDS_RUN[usize::from(b)])?;
            self.at += stop;
            match self.text[self.at] {
                b'"' => {
                    self.at += 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.at += 1;
                    self.escape()?;
                }
                0x80.. => {
                    // The first non-ASCII byte of the text (all before it are ASCII, so it starts
                    // a character): the rest of the text is checked once, here.
                    if !self.utf8_checked {
                        std::str::from_utf8(&self.text[self.at..]).ok()?;
                        self.utf8_checked = true;
                    }
                    self.at += 1;
                }
                _ => return None, // a control character
            }
        }
    }

    /// One escape, after its backslash.
    fn escape(&mut self) -> Option<()> {
        let byte = self.peek()?;
        self.at += 1;
        match byte {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(()),
            b'u' => match self.hex4()? {
                // A leading surrogate must be followed by an escaped trailing one.
                0xD800..=0xDBFF => {
                    (self.eat(b'\\') && self.eat(b'u')).then_some(())?;
                    matches!(self.hex4()?, 0xDC00..=0xDFFF).then_some(())
                }
                0xDC00..=0xDFFF => None,
                _ => Some(()),
            },
            _ => None,
        }
    }

    fn hex4(&mut self) -> Option<u16> {
        let digits = std::str::from_utf8(self.text.get(self.at..self.at + 4)?).ok()?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        u16::from_str_radix(digits, 16).ok()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::*;

    /// Whether serde_json stopped at a number too large for an `f64`: the one thing this module
    /// lets pass and serde_json does not, and serde_json then reads no further, so nothing about
    /// the rest of the text can be compared.
    fn out_of_range(error: &serde_json::Error) -> bool {
        error.to_string().contains("number out of range")
    }

    /// `index` accepts exactly what serde_json parses as an object, and each entry's value is
    /// the field's value; `is_value` accepts exactly what serde_json parses.
    fn agrees_with_serde(text: &[u8]) {
        let shown = String::from_utf8_lossy(text);
        match serde_json::from_slice::<Value>(text) {
            Err(error) if out_of_range(&error) => return,
            parsed => assert_eq!(is_value(text), parsed.is_ok(), "{shown:?}"),
        }
        let expected = match serde_json::from_slice::<Map<String, Value>>(text) {
            Ok(object) => Some(object),
            Err(error) if out_of_range(&error) => return,
            Err(_) => None,
        };
        match index(text) {
            Ok(entries) => {
                let object = expected.unwrap_or_else(|| panic!("indexed, but serde refuses {shown:?}"));
                let mut rebuilt = Map::new();
                for entry in entries {
                    let name = std::str::from_utf8(&text[entry.name]).unwrap().to_owned();
                    rebuilt.insert(name, serde_json::from_slice(&text[entry.value]).unwrap());
                }
                assert_eq!(rebuilt, object);
            }
            Err(Unindexed::EscapedName) => assert!(expected.is_some(), "{shown:?}"),
            Err(Unindexed::Invalid) => assert!(expected.is_none(), "serde parses what index refuses: {shown:?}"),
        }
    }

    #[test]
    fn the_grammar_agrees_with_serde_json() {
        let cases: &[&[u8]] = &[
            br#"{}"#,
            br#" { "a" : 1 , "b":[true,false,null,-0.5e+3,1E2,"x"] } "#,
            br#"{"a":{"b":{"c":[[],{}]}}}"#,
            br#"{"u":"\u00e9\ud83d\ude00\n\t\"\\\/"}"#,
            br#"{"a\u0062":1}"#,
            "{\"é\":\"ü\"}".as_bytes(),
            br#"{"a":1,"a":2}"#,
            br#"{"a":1,}"#,
            br#"{,}"#,
            br#"{"a"}"#,
            br#"{"a":}"#,
            br#"{"a":01}"#,
            br#"{"a":1.}"#,
            br#"{"a":.5}"#,
            br#"{"a":1e}"#,
            br#"{"a":-}"#,
            br#"{"a":+1}"#,
            br#"{"a":tru}"#,
            br#"{"a":truex}"#,
            br#"{"a":"\x"}"#,
            br#"{"a":"\u12"}"#,
            br#"{"a":"\ud800"}"#,
            br#"{"a":"\ud800\u0041"}"#,
            br#"{"a":"\udc00"}"#,
            b"{\"a\":\"tab\there\"}",
            b"{\"a\":\"\xff\"}",
            // UTF-8 is checked from the first non-ASCII byte on: bad bytes after good ones, in a
            // later string, outside strings, or cut short.
            b"{\"\xc3\xa9\":\"ok\",\"b\":\"\xc3\"}",
            b"{\"a\":\"\xc3\xa9\",\"b\":\"\xed\xa0\x80\"}",
            b"{\"a\":\"\xc0\xaf\"}",
            b"{\"a\":\"\xe2\x82\"}",
            b"{\"a\":\xc3\xa9}",
            b"{\"a\":1}\xc3\xa9",
            b"{\"a\":\"\xf0\x9f\x98\x80\",\"b\":\"\xe2\x82\xac\"}",
            br#"{"a":1} {"#,
            br#"[1]"#,
            br#""s""#,
            br#""#,
            br#"{"a":[1,]}"#,
            br#"{"a":[,1]}"#,
            br#"{"a":"unterminated}"#,
            br#"{"a":1"#,
        ];
        for case in cases {
            agrees_with_serde(case);
        }
    }

    #[test]
    fn nesting_stops_where_serde_json_stops() {
        for depth in 120..=132 {
            let text = format!("{{\"a\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
            agrees_with_serde(text.as_bytes());
            let text = format!("{{\"a\":{}1{}}}", "{\"b\":".repeat(depth), "}".repeat(depth));
            agrees_with_serde(text.as_bytes());
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            ".*".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(".*", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn every_serialized_object_is_indexed_to_its_fields(fields in prop::collection::btree_map(".*", json_value(), 0..8)) {
            let object: Map<String, Value> = fields.into_iter().collect();
            agrees_with_serde(&serde_json::to_vec(&object).unwrap());
            agrees_with_serde(&serde_json::to_vec_pretty(&object).unwrap());
        }

        #[test]
        fn a_damaged_text_is_refused_unless_serde_json_reads_it(
            fields in prop::collection::btree_map("[a-z]{1,3}", json_value(), 1..5),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            cut in any::<bool>(),
        ) {
            let object: Map<String, Value> = fields.into_iter().collect();
            let mut text = serde_json::to_vec(&object).unwrap();
            let at = at.index(text.len());
            if cut { text.truncate(at) } else { text[at] = byte }
            agrees_with_serde(&text);
        }
    }
}
