//! Tamper, zip-bomb and property tests.

use std::io::Write as _;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use flask_wire::itsdangerous::{Error, TimedSerializer};
use flask_wire::{msgpack_record, tagged_json};
use proptest::prelude::*;
use serde_json::{json, Map, Number, Value};

const TS: u64 = 1_700_000_000;

fn flask() -> TimedSerializer {
    TimedSerializer::flask(vec![b"dev-secret-key".to_vec()])
}

#[test]
fn every_byte_flip_is_rejected_without_panic() {
    let ser = flask();
    let items: Vec<String> = (0..60).map(|i| format!("repeat-me-{}", i % 3)).collect();
    let sessions = [json!({"csrf_token": "abc", "user_id": 42}), json!({"items": items, "user_id": 42})];
    for session in sessions {
        let cookie = ser.dumps(session.as_object().unwrap(), TS).unwrap();
        assert!(ser.loads(&cookie, TS, Some(60)).is_ok());
        let original = cookie.as_bytes();
        let mut tried = 0;
        for i in 0..original.len() {
            for b in 0..=255u8 {
                if b == original[i] {
                    continue;
                }
                let mut bytes = original.to_vec();
                bytes[i] = b;
                let Ok(variant) = std::str::from_utf8(&bytes) else {
                    continue;
                };
                tried += 1;
                assert!(ser.loads(variant, TS, Some(60)).is_err(), "byte {i} -> {b:#x} accepted");
            }
            // truncation and deletion too
            assert!(ser.loads(&cookie[..i], TS, Some(60)).is_err());
            let mut deleted = cookie.clone();
            deleted.remove(i);
            assert!(ser.loads(&deleted, TS, Some(60)).is_err());
        }
        assert!(tried > 1000);
    }
}

/// Sign an arbitrary payload segment with Flask's key, as an attacker who
/// knows the key (or a buggy writer) could.
fn sign_segment(ser: &TimedSerializer, segment: &str) -> String {
    ser.signer().sign_timestamped(segment, TS)
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn zip_bomb_with_valid_signature_is_too_large() {
    let ser = flask();
    // 16 MiB of JSON whitespace-free data that would be a valid session.
    let mut payload = b"{\"a\":\"".to_vec();
    payload.resize(16 << 20, b'a');
    payload.extend_from_slice(b"\"}");
    let bomb = zlib(&payload);
    assert!(bomb.len() < 64 * 1024);
    let cookie = sign_segment(&ser, &format!(".{}", URL_SAFE_NO_PAD.encode(&bomb)));
    assert_eq!(ser.loads(&cookie, TS, None), Err(Error::TooLarge));

    // Just under / over a custom cap.
    let small = br#"{"a":"0123456789"}"#;
    let cookie = sign_segment(&ser, &format!(".{}", URL_SAFE_NO_PAD.encode(zlib(small))));
    let capped = flask().with_max_inflated_size(small.len());
    assert!(capped.loads(&cookie, TS, None).is_ok());
    let capped = flask().with_max_inflated_size(small.len() - 1);
    assert_eq!(capped.loads(&cookie, TS, None), Err(Error::TooLarge));
}

#[test]
fn valid_mac_over_bad_payload_is_bad_payload() {
    let ser = flask();
    for segment in ["!!!", ".!!!", ".AAAA", "W10", "bnVsbA", "eyJh", ".eJwDAAAAAAE", "_w"] {
        // W10 = "[]", bnVsbA = "null", eyJh = '{"a', eJwDAAAAAAE = zlib(""), _w = 0xff
        let cookie = sign_segment(&ser, segment);
        assert!(matches!(ser.loads(&cookie, TS, None), Err(Error::BadPayload(_))), "{segment}");
    }
    // NaN / lone surrogate / huge integer under a valid MAC
    for text in [r#"{"a":NaN}"#, r#"{"a":"\ud800"}"#] {
        let cookie = ser.dumps_text(text, TS).unwrap();
        assert!(matches!(ser.loads(&cookie, TS, None), Err(Error::BadPayload(_))));
    }
    // A huge integer is no bad payload: it keeps its digits (issue 10, item 9).
    let cookie = ser.dumps_text(r#"{"a":123456789012345678901234567890}"#, TS).unwrap();
    assert_eq!(ser.loads(&cookie, TS, None).unwrap().session["a"], json!({" i": "123456789012345678901234567890"}));
}

#[test]
fn key_rotation_newest_first() {
    let old = TimedSerializer::flask(vec![b"old".to_vec()]);
    let both = TimedSerializer::flask(vec![b"new".to_vec(), b"old".to_vec()]);
    let session = json!({"x": 1});
    let session = session.as_object().unwrap();
    let cookie = old.dumps(session, TS).unwrap();
    let loaded = both.loads(&cookie, TS, None).unwrap();
    assert_eq!(loaded.key_index, 1);
    let fresh = both.dumps(session, TS).unwrap();
    assert_eq!(both.loads(&fresh, TS, None).unwrap().key_index, 0);
    assert_eq!(old.loads(&fresh, TS, None), Err(Error::BadSignature));
    let none = TimedSerializer::flask(vec![]);
    assert_eq!(none.loads(&cookie, TS, None), Err(Error::BadSignature));
}

// ---------------------------------------------------------------- proptest

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        1 => prop::sample::select(vec![" t", " di", " b", " u", " d", " m", "k__", "", "_permanent"])
            .prop_map(str::to_owned),
    ]
}

fn arb_f64() -> impl Strategy<Value = f64> {
    use proptest::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
    prop_oneof![
        (POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO),
        prop::sample::select(vec![0.1, 1.0, 1e16, 1e-5, -1.5e-7, 1e15, 123456789.0, 0.0001]),
    ]
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        arb_f64().prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
        any::<String>().prop_map(Value::String),
        "[ -~]{0,12}".prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..12)
            .prop_map(|b| json!({" b": base64::engine::general_purpose::STANDARD.encode(b)})),
        any::<u64>().prop_map(|s| serde_json::to_value(tagged_json::HttpDate(s % 253_402_300_800)).unwrap()),
        any::<[u8; 16]>().prop_map(|u| json!({" u": tagged_json::Uuid(u).to_hex()})),
        any::<String>().prop_map(|m| json!({" m": m})),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner.clone(), 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            (prop::sample::select(vec![" t", " di", " b", " u", " d", " m"]), inner).prop_map(|(k, v)| json!({ k: v })),
        ]
    })
}

fn arb_session() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(arb_key(), arb_value(), 0..6).prop_map(|m| m.into_iter().collect())
}

/// Text exactly as Python's Flask writes it (sorted keys, `ensure_ascii`, `repr` floats), for
/// values of every tagged type: integers of any size, tuples, bytes, UUIDs, datetimes, Markup,
/// one-key dicts keyed by a tag (`" di"`), lists and dicts, nested.
fn python_text() -> impl Strategy<Value = String> {
    let string = prop_oneof![
        "[ !#-\\[\\]-~]{0,8}".prop_map(|s| format!("\"{s}\"")),
        prop::sample::select(vec![r#""Zo\u00eb""#, r#""a\"b\\c\n\t""#, r#""\ud83d\ude00 \u007f""#, r#""""#])
            .prop_map(str::to_owned),
    ];
    let int = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|u| u.to_string()),
        // beyond 64 bits: at least 20 digits, no leading zero
        ("-?", "[1-9][0-9]{19,60}").prop_map(|(sign, digits)| format!("{sign}{digits}")),
        prop::sample::select(vec!["18446744073709551616", "-9223372036854775809", "0"]).prop_map(str::to_owned),
    ];
    let float = prop::sample::select(vec![
        "0.1",
        "1.0",
        "1e-05",
        "-1.5e-07",
        "1e+16",
        "1000000000000000.0",
        "-0.0",
        "123.456",
        "1e+30",
        "1.7976931348623157e+308",
        "5e-324",
        "-2.5",
    ])
    .prop_map(str::to_owned);
    let leaf = prop_oneof![
        prop::sample::select(vec!["null", "true", "false"]).prop_map(str::to_owned),
        int.clone(),
        float,
        string.clone(),
        prop::collection::vec(any::<u8>(), 0..12)
            .prop_map(|b| format!(r#"{{" b":"{}"}}"#, base64::engine::general_purpose::STANDARD.encode(b))),
        any::<[u8; 16]>().prop_map(|u| format!(r#"{{" u":"{}"}}"#, tagged_json::Uuid(u).to_hex())),
        (0u64..253_402_300_800)
            .prop_map(|s| tagged_json::dumps(&serde_json::to_value(tagged_json::HttpDate(s)).unwrap()).unwrap()),
        string.prop_map(|m| format!(r#"{{" m":{m}}}"#)),
    ];
    leaf.prop_recursive(5, 48, 5, move |inner| {
        // A `" di"` payload Flask would never read back as that tag: not a string, not an array.
        let di_payload = prop_oneof![
            int.clone(),
            prop::collection::btree_map("[a-z_]{1,4}", inner.clone(), 0..3).prop_map(|m| python_dict(&m)),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec(inner.clone(), 0..5).prop_map(|items| format!(r#"{{" t":[{}]}}"#, items.join(","))),
            prop::collection::btree_map("[a-z_]{1,4}|_permanent", inner, 0..5).prop_map(|m| python_dict(&m)),
            (prop::sample::select(vec![" di", " t", " b", " m", " u", " d"]), di_payload)
                .prop_map(|(tag, v)| format!(r#"{{" di":{{"{tag}__":{v}}}}}"#)),
        ]
    })
}

fn python_dict(map: &std::collections::BTreeMap<String, String>) -> String {
    let entries: Vec<String> = map.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    format!("{{{}}}", entries.join(","))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Issue 10, item 9: every value a Python Flask app writes comes back from a Rust
    /// load-and-dump byte for byte: big integers, tuples and every other tag.
    #[test]
    fn python_made_text_round_trips_byte_for_byte(text in python_text()) {
        let value = tagged_json::loads(&text).unwrap();
        prop_assert_eq!(&tagged_json::dumps(&value).unwrap(), &text);
    }

    #[test]
    fn tagged_json_roundtrip(v in arb_value()) {
        let text = tagged_json::dumps(&v).unwrap();
        prop_assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b)));
        let back = tagged_json::loads(&text).unwrap();
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(&tagged_json::dumps(&back).unwrap(), &text);
        // Plain JSON parsers agree on the text (it is valid JSON).
        prop_assert!(serde_json::from_str::<Value>(&text).is_ok());
    }

    #[test]
    fn timed_serializer_roundtrip(session in arb_session(), ts in 0u64..=u64::MAX / 2, age in 0u64..1000) {
        let ser = flask();
        let cookie = ser.dumps(&session, ts).unwrap();
        let loaded = ser.loads(&cookie, ts + age, Some(age)).unwrap();
        prop_assert_eq!(&loaded.session, &session);
        prop_assert_eq!(loaded.timestamp, ts);
        prop_assert_eq!(loaded.key_index, 0);
        prop_assert_eq!(
            ser.loads(&cookie, ts + age + 1, Some(age)),
            Err(Error::Expired { age: age + 1, max_age: age })
        );
    }

    #[test]
    fn loads_never_panics(text in "\\PC{0,200}") {
        let _ = flask().loads(&text, TS, Some(10));
        let _ = tagged_json::loads(&text);
        let _ = msgpack_record::decode(text.as_bytes());
    }

    #[test]
    fn msgpack_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = msgpack_record::decode(&bytes);
    }

    #[test]
    fn msgpack_roundtrip(session in arb_session(), permanent in any::<bool>()) {
        let bytes = msgpack_record::encode(&session, permanent);
        let (back, perm) = msgpack_record::decode(&bytes).unwrap();
        prop_assert_eq!(perm, permanent);
        let mut want = session.clone();
        want.remove("_permanent");
        prop_assert_eq!(back, want);
    }
}
