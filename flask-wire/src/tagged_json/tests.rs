//! Tagged JSON: vectors, round trips and limits.

use super::http_date::MAX_HTTP_DATE;
use super::*;
use serde_json::json;

#[test]
fn float_repr_matches_python() {
    let cases = [
        (0.1, "0.1"),
        (1.0, "1.0"),
        (-1.5e-7, "-1.5e-07"),
        (1e-5, "1e-05"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (0.0001, "0.0001"),
        (123.456, "123.456"),
        (1.1805916207174113e21, "1.1805916207174113e+21"),
        (f64::MAX, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (-0.0, "-0.0"),
        (1e100, "1e+100"),
        (2.5, "2.5"),
        // exact ties between two shortest candidates: Python rounds half-even
        (f64::from_bits(0x4319_7b98_b552_5149), "1793192556270674.2"),
        (f64::from_bits(0x42e2_9e39_259e_b534), "163766183196073.62"),
    ];
    for (f, want) in cases {
        assert_eq!(py_float_repr(f), want, "{f:e}");
    }
}

#[test]
fn escapes_like_python() {
    let v = json!({"ctl": "a\"b\\c/\n\u{7f}", "name": "Zo\u{eb} \u{1F600}", "x": "\u{1}\u{8}\u{c}\r\t"});
    assert_eq!(dumps(&v).unwrap(), r#"{"ctl":"a\"b\\c/\n\u007f","name":"Zo\u00eb \ud83d\ude00","x":"\u0001\b\f\r\t"}"#);
}

#[test]
fn tag_escape_roundtrip() {
    // cross-verification vector "fsp-sha3-tag-escape"
    let v = json!({"a": {" t": "not a tuple"}, "b": {" di": [1]}, "c": {" t": 1, "x": 2}});
    let text = dumps(&v).unwrap();
    assert_eq!(text, r#"{"a":{" di":{" t__":"not a tuple"}},"b":{" di":{" di__":[1]}},"c":{" t":1,"x":2}}"#);
    assert_eq!(loads(&text).unwrap(), v);
}

#[test]
fn invalid_tag_payloads_are_escaped_on_dump() {
    let v = json!({"b": {" b": "not base64!"}, "u": {" u": 7}, "ok": {" b": "AA=="}});
    let text = dumps(&v).unwrap();
    assert_eq!(text, r#"{"b":{" di":{" b__":"not base64!"}},"ok":{" b":"AA=="},"u":{" di":{" u__":7}}}"#);
    assert_eq!(loads(&text).unwrap(), v);
}

#[test]
fn loads_edge_cases() {
    assert!(matches!(loads("NaN"), Err(Error::Json(_))));
    assert!(matches!(loads("{\"a\":Infinity}"), Err(Error::Json(_))));
    assert!(matches!(loads("{\"a\":-Infinity}"), Err(Error::Json(_))));
    assert!(matches!(loads(r#"{"a":"\ud800"}"#), Err(Error::Json(_))));
    assert!(matches!(loads(r#"{"a":"\udc00x"}"#), Err(Error::Json(_))));
    assert_eq!(loads(r#"{"a":1,"a":2}"#).unwrap(), json!({"a": 2}));
    let big = loads(r#"{"big":1180591620717411303424}"#).unwrap();
    assert_eq!(big["big"], json!({" i": "1180591620717411303424"}));
    assert!(loads(&"[".repeat(100_000)).is_err());
    assert!(matches!(loads(r#"{" t":1}"#), Err(Error::BadTag { .. })));
    assert!(matches!(loads(r#"{" di":{}}"#), Err(Error::BadTag { .. })));
    assert_eq!(loads(r#"{" di":{"x":1}}"#).unwrap(), json!({"": 1}));
    // children first
    assert_eq!(loads(r#"{" di":{"k__":{" t":[1,{" t":[2]}]}}}"#).unwrap(), json!({"k": {" t": [1, {" t": [2]}]}}));
}

/// Issue 10, item 9: Python writes integers of any size as digits; one beyond 64 bits is
/// kept exactly (as `{" i": digits}` in memory) and written back as the same digits,
/// wherever it sits. Floats, exponents and `-0` load as floats, as before.
#[test]
fn integers_beyond_64_bits_keep_their_digits() {
    let big = "123456789012345678901234567890";
    let text = format!(
        r#"{{"a":{big},"b":-{big},"c":18446744073709551616,"d":-9223372036854775809,"e":18446744073709551615,"f":-9223372036854775808,"g":[1,{{"h":[{big}]}},{{" t":[{big}]}}],"i":{{" di":{{" t__":{big}}}}},"j":1e+30,"k":1.5,"l":-2.0}}"#
    );
    let v = loads(&text).unwrap();
    assert_eq!(v["a"], json!({" i": big}));
    assert_eq!(v["b"], json!({" i": format!("-{big}")}));
    assert_eq!(v["c"], json!({" i": "18446744073709551616"}));
    assert_eq!(v["d"], json!({" i": "-9223372036854775809"}));
    assert_eq!(v["e"], json!(u64::MAX));
    assert_eq!(v["f"], json!(i64::MIN));
    assert_eq!(v["g"][1]["h"][0], json!({" i": big}));
    assert_eq!(v["g"][2], json!({" t": [{" i": big}]}));
    assert_eq!(v["i"], json!({" t": {" i": big}}));
    assert_eq!(v["j"].as_f64(), Some(1e30));
    assert_eq!(v["l"].as_f64(), Some(-2.0));
    assert_eq!(dumps(&v).unwrap(), text);
    // As before: exponents and fractions are floats, `-0` a float (Python never writes it).
    assert_eq!(dumps(&loads("[1E2,100000000000000000000000.0,-0,0,-1]").unwrap()).unwrap(), "[100.0,1e+23,-0.0,0,-1]");
    // The typed helper: any Python int, a plain number when it fits in 64 bits.
    let typed: BigInt = serde_json::from_value(v["b"].clone()).unwrap();
    assert_eq!(typed.as_str(), format!("-{big}"));
    assert_eq!(serde_json::to_value(&typed).unwrap(), v["b"]);
    assert_eq!(serde_json::to_value(BigInt::new("42").unwrap()).unwrap(), json!(42));
    assert_eq!(serde_json::from_value::<BigInt>(json!(-7)).unwrap(), BigInt::new("-7").unwrap());
    for bad in ["", "-", "+1", "01", "-0", "1.0", "1e5", " 1", "١٢"] {
        assert_eq!(BigInt::new(bad), None, "{bad:?}");
    }
    // `{" i": x}` that is not an integer beyond 64 bits is a plain dict, written as one.
    let dicts = r#"[{" i":"12"},{" i":"x"},{" i":1},{" i":"-0"}]"#;
    assert_eq!(dumps(&loads(dicts).unwrap()).unwrap(), dicts);
}

/// Issue 10, item 9: the pre-pass that finds big integers skips strings (digits, escaped
/// quotes and backslashes inside them) and keys, so each number gets its own digits.
#[test]
fn integers_beyond_64_bits_next_to_strings_of_digits() {
    let text = concat!(
        r#"{"12345678901234567890123":"99999999999999999999999","a\\":[-1.5e-07,"\"1e400\\",-0.0,"#,
        r#"100000000000000000000001,{" i":"200000000000000000000002"},1e+30,-300000000000000000000003]}"#
    );
    let v = loads(text).unwrap();
    assert_eq!(v["12345678901234567890123"], json!("99999999999999999999999"));
    assert_eq!(v["a\\"][3], json!({" i": "100000000000000000000001"}));
    assert_eq!(v["a\\"][4], json!({" i": "200000000000000000000002"}), "a dict of that shape: the ambiguity");
    assert_eq!(v["a\\"][6], json!({" i": "-300000000000000000000003"}));
    assert_eq!(v["a\\"][5].as_f64(), Some(1e30));
    let back = dumps(&v).unwrap();
    assert_eq!(back, text.replace(r#"{" i":"200000000000000000000002"}"#, "200000000000000000000002"));
    // Invalid JSON around a big integer is still an error, never a panic.
    for bad in [
        "[123456789012345678901234567890",
        "[123456789012345678901234567890,]",
        "[-123456789012345678901234567890-]",
        "\"123456789012345678901234567890",
    ] {
        assert!(matches!(loads(bad), Err(Error::Json(_))), "{bad}");
    }
}

/// Issue 10, item 9: a big integer at the nesting limit loads and dumps like any number.
#[test]
fn integers_beyond_64_bits_at_the_depth_limit() {
    let deepest = (1..1000).find(|n| loads(&format!("{}1{}", "[".repeat(*n), "]".repeat(*n))).is_err()).unwrap() - 1;
    let text = format!("{}123456789012345678901234567890{}", "[".repeat(deepest), "]".repeat(deepest));
    let v = loads(&text).unwrap();
    assert_eq!(dumps(&v).unwrap(), text);
    let too_deep = format!("[{text}]");
    assert!(matches!(loads(&too_deep), Err(Error::Json(_))));
}

/// Issue 10, item 9: a tuple stays a tagged `{" t": [..]}` in memory and goes back to
/// Python as a tuple, children tagged as usual.
#[test]
fn tuples_stay_tuples() {
    let text = r#"{"empty":{" t":[]},"list":[1,2],"pair":{" t":[1,{" t":[{" b":"aGk="},[3]]}]}}"#;
    let v = loads(text).unwrap();
    assert_eq!(v["pair"], json!({" t": [1, {" t": [{" b": "aGk="}, [3]]}]}));
    assert_eq!(v["empty"], json!({" t": []}));
    assert_eq!(v["list"], json!([1, 2]));
    assert_eq!(dumps(&v).unwrap(), text);
}

#[test]
fn too_deep_dump_is_an_error() {
    let mut v = json!(1);
    for _ in 0..200 {
        v = Value::Array(vec![v]);
    }
    assert_eq!(dumps(&v), Err(Error::TooDeep));
}

#[test]
fn typed_helpers() {
    let b = Bytes(vec![0, 0xfb, 0xff, b' ', b'h', b'e', b'l', b'l', b'o']);
    assert_eq!(serde_json::to_value(&b).unwrap(), json!({" b": "APv/IGhlbGxv"}));
    assert_eq!(serde_json::from_value::<Bytes>(json!({" b": "APv/IGhlbGxv"})).unwrap(), b);
    assert!(serde_json::from_value::<Bytes>(json!({" b": "A", "x": 1})).is_err());

    let d = HttpDate(1_700_000_000);
    assert_eq!(serde_json::to_value(d).unwrap(), json!({" d": "Tue, 14 Nov 2023 22:13:20 GMT"}));
    assert_eq!(serde_json::from_value::<HttpDate>(json!({" d": "Tue, 14 Nov 2023 22:13:20 GMT"})).unwrap(), d);
    assert_eq!(format_http_date(0).unwrap(), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(format_http_date(MAX_HTTP_DATE).unwrap(), "Fri, 31 Dec 9999 23:59:59 GMT");
    assert_eq!(format_http_date(951_782_400).unwrap(), "Tue, 29 Feb 2000 00:00:00 GMT");
    assert!(format_http_date(MAX_HTTP_DATE + 1).is_none());
    for secs in (0..MAX_HTTP_DATE).step_by(86_400 * 37 + 3_607) {
        assert_eq!(parse_http_date(&format_http_date(secs).unwrap()), Some(secs));
    }
    assert!(parse_http_date("Tue, 30 Feb 2023 22:13:20 GMT").is_none());
    assert!(parse_http_date("Tue, 14 Nov 2023 24:13:20 GMT").is_none());
    assert!(parse_http_date("Tue, 14 Nov 2023 22:13:20 UTC").is_none());
    assert!(parse_http_date("Tue, 14 Nov 2023 22:13:2é GMT").is_none());

    let u = Uuid([0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78]);
    assert_eq!(serde_json::to_value(u).unwrap(), json!({" u": "12345678123456781234567812345678"}));
    assert_eq!(u.to_hyphenated(), "12345678-1234-5678-1234-567812345678");
    for form in [
        "12345678123456781234567812345678",
        "12345678-1234-5678-1234-567812345678",
        "{12345678-1234-5678-1234-567812345678}",
        "urn:uuid:12345678-1234-5678-1234-567812345678",
    ] {
        assert_eq!(serde_json::from_value::<Uuid>(json!({" u": form})).unwrap(), u);
    }
    assert!(Uuid::parse("1234567812345678123456781234567g").is_none());
    assert!(Uuid::parse("é234567812345678123456781234567").is_none());

    let m = Markup("<b>hi</b> & bye".into());
    assert_eq!(serde_json::to_value(&m).unwrap(), json!({" m": "<b>hi</b> & bye"}));
    assert_eq!(serde_json::from_value::<Markup>(json!({" m": "<b>hi</b> & bye"})).unwrap(), m);
}

/// Found with the `tagged_json` fuzz target's round-trip property: a value `loads` accepted at its
/// deepest nesting, whose innermost one-key tag object is re-emitted with the `" di"` escape,
/// dumped to text one level deeper than `loads` (serde_json) accepts. Now `loads` refuses what
/// `dumps` could not write back, and `dumps` writes nothing `loads` refuses.
#[test]
fn escaped_tag_at_max_depth_round_trips() {
    for tag in [" b", " t", " u", " i"] {
        for depth in 120..=130 {
            let text = format!("{}{{\"{tag}\":1}}{}", "[".repeat(depth), "]".repeat(depth));
            let Ok(value) = loads(&text) else { continue };
            match dumps(&value) {
                Ok(dumped) => assert_eq!(loads(&dumped).as_ref(), Ok(&value), "depth {depth}, tag {tag:?}"),
                Err(e) => panic!("a loaded value must dump (depth {depth}, tag {tag:?}): {e}"),
            }
        }
    }
    // The deepest arrays serde_json parses dump and load again; one more is too deep.
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let deepest = loads(&nested(MAX_DEPTH - 1)).unwrap();
    assert_eq!(loads(&dumps(&deepest).unwrap()).unwrap(), deepest);
    assert_eq!(dumps(&Value::Array(vec![deepest])), Err(Error::TooDeep));
    // A big integer is a scalar on the wire: at the deepest level it round-trips too.
    let big = format!("{}123456789012345678901234567890{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    let value = loads(&big).unwrap();
    assert_eq!(dumps(&value).unwrap(), big);
}
