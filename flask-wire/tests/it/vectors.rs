//! Every applicable vector of ../shared/spec/vectors.json, committed as tests/data/flask-vectors.json.
//! The derived keys and Flask-Session's field order are internals: their checks are unit tests
//! (`itsdangerous::tests::derived_keys_match_vectors`, `msgpack_record::tests::flask_session_vector_bytes`).

use flask_wire::itsdangerous::{Digest, Error, KeyDerivation, Signer, TimedSerializer};
use flask_wire::{msgpack_record, sid, tagged_json};
use serde_json::{json, Map, Value};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/flask-vectors.json");
const TS: u64 = 1_700_000_000;
const SECRET: &[u8] = b"dev-secret-key";
const FLASK_COOKIE: &str = "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.tT7hhq0ULXtby1BLGd0qtzZi284";

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(VECTORS).expect("vectors.json readable");
    serde_json::from_str(&text).expect("vectors.json is JSON")
}

fn vector(id: &str) -> Value {
    vectors().into_iter().find(|v| v["id"] == id).unwrap_or_else(|| panic!("vector {id} missing"))
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or_else(|| panic!("{path:?} is not a string"))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect()
}

fn keys() -> Vec<Vec<u8>> {
    vec![SECRET.to_vec()]
}

fn serializer_for(v: &Value) -> TimedSerializer {
    let inputs = &v["inputs"];
    TimedSerializer::new(
        vec![s(inputs, &["secret_key"]).as_bytes().to_vec()],
        s(inputs, &["salt"]),
        s(inputs, &["digest"]).parse().unwrap(),
        s(inputs, &["key_derivation"]).parse().unwrap(),
    )
}

fn basic_session() -> Map<String, Value> {
    json!({"csrf_token": "abc", "user_id": 42}).as_object().unwrap().clone()
}

#[test]
fn timed_cookie_vectors() {
    let all = vectors();
    let cookies: Vec<&Value> = all.iter().filter(|v| v["kind"] == "timed_cookie").collect();
    assert_eq!(cookies.len(), 9);
    for v in cookies {
        let id = s(v, &["id"]);
        let ser = serializer_for(v);
        let output = s(v, &["output"]);
        assert_eq!(v["inputs"]["timestamp"], json!(TS), "{id}");
        // flask3-sha1-basic has no `intermediate`; it equals flask1-sha1-basic.
        let tagged = match v["intermediate"]["tagged_json"].as_str() {
            Some(t) => t.to_owned(),
            None => r#"{"csrf_token":"abc","user_id":42}"#.to_owned(),
        };

        // Text-level path: byte-identical cookie from the vector's TaggedJSON.
        assert_eq!(ser.dumps_text(&tagged, TS).unwrap(), output, "{id} dumps_text");
        // Decode: MAC, timestamp, inflate, text.
        let (text, ts, idx) = ser.loads_text(output, TS, Some(2_678_400)).unwrap();
        assert_eq!((text.as_str(), ts, idx), (tagged.as_str(), TS, 0), "{id} loads_text");
        if let Some(inter) = v["intermediate"].as_object() {
            let signing_input = inter["signing_input"].as_str().unwrap();
            assert!(output.starts_with(&format!("{signing_input}.")), "{id}");
            assert_eq!(output.starts_with('.'), inter["compressed"].as_bool().unwrap(), "{id}");
            assert_eq!(
                signing_input,
                format!(
                    "{}.{}",
                    inter["payload_segment"].as_str().unwrap(),
                    inter["timestamp_segment"].as_str().unwrap()
                )
            );
        }

        // Value-level path.
        let loaded = ser.loads(output, TS, Some(2_678_400)).unwrap();
        assert_eq!(loaded.timestamp, TS);
        assert_eq!(loaded.key_index, 0);
        let expected = tagged_json::loads(&tagged).unwrap();
        assert_eq!(Value::Object(loaded.session.clone()), expected, "{id}");
        if id == "flask1-sha1-tag-tuple" {
            // Tuples stay tagged in memory (issue 10, item 9), so they go back as tuples.
            assert_eq!(
                Value::Object(loaded.session.clone()),
                json!({"l": [1, {" t": [4]}], "t": {" t": [1, "a", {" t": [2, 3]}]}})
            );
        }
        assert_eq!(tagged_json::dumps(&expected).unwrap(), tagged, "{id}");
        assert_eq!(ser.dumps(&loaded.session, TS).unwrap(), output, "{id} dumps");
    }
}

#[test]
fn timed_cookie_typed_values() {
    // The Rust-side representations of the tag vectors.
    let ser = TimedSerializer::flask(keys());
    let cases: Vec<(Value, &str)> = vec![
        (json!({"b": tagged_json::Bytes(b"\x00\xfb\xff hello".to_vec())}), "flask1-sha1-tag-bytes"),
        (json!({"dt": tagged_json::HttpDate(1_700_000_000)}), "flask1-sha1-tag-datetime"),
        (
            json!({"u": tagged_json::Uuid::parse("12345678-1234-5678-1234-567812345678").unwrap()}),
            "flask1-sha1-tag-uuid",
        ),
        (json!({"m": tagged_json::Markup("<b>hi</b> & bye".into())}), "flask1-sha1-tag-markup"),
        (json!({"csrf_token": "abc", "user_id": 42}), "flask1-sha1-basic"),
    ];
    for (value, id) in cases {
        let cookie = ser.dumps(value.as_object().unwrap(), TS).unwrap();
        assert_eq!(cookie, s(&vector(id), &["output"]), "{id}");
    }
    let items: Vec<String> = (0..60).map(|i| format!("repeat-me-{}", i % 3)).collect();
    let v = json!({"items": items, "user_id": 42});
    assert_eq!(ser.dumps(v.as_object().unwrap(), TS).unwrap(), s(&vector("flask1-sha1-compressed"), &["output"]));
    let fsp = TimedSerializer::flask_session_plus(keys());
    assert_eq!(fsp.dumps(&basic_session(), TS).unwrap(), s(&vector("fsp-sha3-basic"), &["output"]));
}

#[test]
fn signer_vectors() {
    let all = vectors();
    let signers: Vec<&Value> = all.iter().filter(|v| v["kind"] == "signer").collect();
    assert_eq!(signers.len(), 5);
    for v in signers {
        let id = s(v, &["id"]);
        let inputs = &v["inputs"];
        let signer = Signer::new(
            keys(),
            s(inputs, &["salt"]),
            s(inputs, &["digest"]).parse::<Digest>().unwrap(),
            s(inputs, &["key_derivation"]).parse::<KeyDerivation>().unwrap(),
        );
        let value = s(inputs, &["value"]);
        let output = s(v, &["output"]);
        assert_eq!(signer.sign(value), output, "{id}");
        assert_eq!(signer.unsign(output), Ok((value, 0)), "{id}");
        let mut bad = output.to_owned();
        bad.push('A');
        assert_eq!(signer.unsign(&bad), Err(Error::BadSignature), "{id}");
    }
}

#[test]
fn timestamp_signer_vector() {
    let v = vector("timestampsigner-default");
    let signer = Signer::new(keys(), "itsdangerous.Signer", Digest::Sha1, KeyDerivation::DjangoConcat);
    let output = s(&v, &["output"]);
    assert_eq!(signer.sign_timestamped("hello", TS), output);
    assert_eq!(signer.unsign_timestamped(output, TS + 10, Some(10)), Ok(("hello", TS, 0)));
    assert_eq!(signer.unsign_timestamped(output, TS + 11, Some(10)), Err(Error::Expired { age: 11, max_age: 10 }));
    assert_eq!(signer.unsign_timestamped(output, TS - 1, None), Err(Error::FutureTimestamp));
    // The plain signer sees "hello.ZVPxAA" as the value.
    assert_eq!(signer.unsign(output), Ok(("hello.ZVPxAA", 0)));
    // Tampered timestamp under a valid MAC is impossible; a missing one is BadSignature.
    assert_eq!(signer.unsign_timestamped(&signer.sign("hello"), TS, None), Err(Error::BadSignature));
    // A valid MAC over a malformed timestamp segment.
    assert_eq!(signer.unsign_timestamped(&signer.sign("hello.AAAAAAAAAAAA"), TS, None), Err(Error::MalformedTimestamp));
    assert_eq!(signer.unsign_timestamped(&signer.sign("hello.!!"), TS, None), Err(Error::MalformedTimestamp));
}

#[test]
fn sid_vectors() {
    let v = vector("fsp-signed-sid");
    let fsp_sid = s(&v, &["inputs", "value"]);
    let output = s(&v, &["output"]);
    assert!(sid::is_flask_session_plus(fsp_sid));
    assert!(!sid::is_flask_session(fsp_sid));
    assert_eq!(sid::sign(SECRET, fsp_sid), output);
    assert_eq!(sid::unsign(&keys(), output).as_deref(), Some(fsp_sid));
    assert_eq!(sid::unsign(&[b"other".to_vec()], output), None);
    assert_eq!(s(&vector("fsp-redis-record"), &["output", "set_cookie_value"]), output);

    let v = vector("flask-session-0.8-redis-record");
    let fs_sid = s(&v, &["inputs", "sid"]);
    let signed = s(&v, &["output", "set_cookie_value_use_signer"]);
    assert!(sid::is_flask_session(fs_sid));
    assert!(!sid::is_flask_session_plus(fs_sid));
    assert_eq!(s(&v, &["output", "set_cookie_value_unsigned"]), fs_sid);
    assert_eq!(sid::sign(SECRET, fs_sid), signed);
    assert_eq!(sid::unsign(&keys(), signed).as_deref(), Some(fs_sid));
    let mut flipped = signed.to_owned();
    flipped.replace_range(0..1, "x");
    assert_eq!(sid::unsign(&keys(), &flipped), None);
}

#[test]
fn fsp_redis_record_vector() {
    let v = vector("fsp-redis-record");
    let text = s(&v, &["output", "redis_value_utf8"]);
    assert_eq!(hex(text.as_bytes()), s(&v, &["output", "redis_value_hex"]));
    assert_eq!(
        s(&v, &["output", "redis_key"]),
        format!("{}{}", s(&v, &["inputs", "key_prefix"]), s(&v, &["inputs", "sid"]))
    );
    let loaded = tagged_json::loads(text).unwrap();
    assert_eq!(loaded, json!({"_permanent": true, "cart": {" t": ["sku-1", 2]}, "user_id": 42}));
    // The record holds a tuple, which stays tagged in memory (issue 10, item 9): re-dumping
    // gives flask-session-plus's very text.
    assert_eq!(tagged_json::dumps(&loaded).unwrap(), text);
    // The documented ambiguity: a dict whose only key is `" t"`, holding an array, loads like a
    // tuple and goes back as one.
    let dict = r#"{"_permanent":true,"cart":{" di":{" t__":["sku-1",2]}},"user_id":42}"#;
    assert_eq!(tagged_json::dumps(&tagged_json::loads(dict).unwrap()).unwrap(), text);
    // The mongodb `val` is the same serializer without _permanent.
    let val = s(&v, &["output", "mongodb_document", "val"]);
    assert_eq!(tagged_json::loads(val).unwrap(), json!({"cart": {" t": ["sku-1", 2]}, "user_id": 42}));
    assert_eq!(s(&v, &["output", "memcached", "value"]), text);
}

#[test]
fn flask_session_msgpack_vector() {
    let v = vector("flask-session-0.8-redis-record");
    let want = s(&v, &["output", "redis_value_hex"]);
    // Encoding in Python's field order, byte for byte: `msgpack_record::tests::flask_session_vector_bytes`.
    let bytes = unhex(want);

    let (fields, permanent) = msgpack_record::decode(&bytes).unwrap();
    assert!(permanent);
    assert_eq!(
        Value::Object(fields.clone()),
        json!({"user_id": 42, "cart": ["sku-1", 2], "when": {" d": "Tue, 14 Nov 2023 22:13:20 GMT"}})
    );
    let typed: tagged_json::HttpDate = serde_json::from_value(fields["when"].clone()).unwrap();
    assert_eq!(typed, tagged_json::HttpDate(TS));
    // Sorted-map encode differs only in order; it decodes to the same thing.
    let sorted = msgpack_record::encode(&fields, true);
    assert_eq!(sorted.len(), bytes.len());
    assert_eq!(msgpack_record::decode(&sorted).unwrap(), (fields, true));
    assert_eq!(s(&v, &["output", "redis_key"]), format!("session:{}", s(&v, &["inputs", "sid"])));
}

#[test]
fn negative_and_edge_vector() {
    let v = vector("negative-and-edge");
    let cookie = s(&v, &["inputs", "cookie"]);
    assert_eq!(cookie, FLASK_COOKIE);
    let flask = TimedSerializer::flask(keys());
    let fsp = TimedSerializer::flask_session_plus(keys());
    let out = &v["output"];

    // expired by 1 s at max_age 31 d; exactly max_age is still fine
    assert!(s(out, &["expired_by_1s_at_max_age_31d"]).contains("2678401 > 2678400"));
    assert_eq!(
        flask.loads(cookie, TS + 2_678_401, Some(2_678_400)).unwrap_err(),
        Error::Expired { age: 2_678_401, max_age: 2_678_400 }
    );
    assert_eq!(flask.loads(cookie, TS + 2_678_400, Some(2_678_400)).unwrap().session, basic_session());
    assert_eq!(
        Error::Expired { age: 2_678_401, max_age: 2_678_400 }.to_string(),
        "signature age 2678401 > 2678400 seconds"
    );

    // future timestamp: itsdangerous 1.x accepts; we reject (like 2.x with max_age)
    assert_eq!(flask.loads(cookie, TS - 100, Some(2_678_400)), Err(Error::FutureTimestamp));
    assert_eq!(flask.loads(cookie, TS - 100, None), Err(Error::FutureTimestamp));

    // a flask-session-plus cookie is rejected by Flask's serializer, and vice versa
    assert_eq!(s(out, &["fsp_sha3_cookie_loaded_by_flask_default"]), "BadSignature");
    let fsp_cookie = s(&vector("fsp-sha3-basic"), &["output"]).to_owned();
    assert_eq!(flask.loads(&fsp_cookie, TS, None), Err(Error::BadSignature));
    assert_eq!(fsp.loads(cookie, TS, None), Err(Error::BadSignature));
    assert_eq!(fsp.loads(&fsp_cookie, TS, None).unwrap().session, basic_session());

    // last signature character flipped
    let mut flipped = cookie.to_owned();
    flipped.pop();
    flipped.push('5');
    assert_eq!(flask.loads(&flipped, TS, None), Err(Error::BadSignature));

    // SHA-512 + django-concat (itsdangerous 1.1's implicit fallback):
    // rejected by default; readable only with an explicit serializer.
    let sha512 = s(out, &["sha512_django_concat_cookie"]);
    assert_eq!(flask.loads(sha512, TS, None), Err(Error::BadSignature));
    assert_eq!(fsp.loads(sha512, TS, None), Err(Error::BadSignature));
    let legacy = TimedSerializer::new(keys(), "cookie-session", Digest::Sha512, KeyDerivation::DjangoConcat);
    assert_eq!(legacy.loads(sha512, TS, None).unwrap().session, basic_session());
    assert_eq!(legacy.dumps(&basic_session(), TS).unwrap(), sha512);
}

#[test]
fn itsdangerous2_behaviour_vector() {
    let v = vector("itsdangerous2-behaviour");
    let cookie = s(&v, &["inputs", "cookie"]);
    let flask = TimedSerializer::flask(keys());
    let sha512 = s(&vector("negative-and-edge"), &["output", "sha512_django_concat_cookie"]).to_owned();
    assert_eq!(flask.loads(&sha512, TS, None), Err(Error::BadSignature));
    assert_eq!(flask.loads(cookie, TS - 100, Some(10)), Err(Error::FutureTimestamp));
    // 2.x accepts a future timestamp without max_age; we do not (documented).
    assert_eq!(flask.loads(cookie, TS - 100, None), Err(Error::FutureTimestamp));
    // Python's lenient base64 accepts these; our strict decoding rejects them.
    assert!(cookie.ends_with('4'));
    let four_to_five = format!("{}5", &cookie[..cookie.len() - 1]);
    assert_eq!(flask.loads(&four_to_five, TS, None), Err(Error::BadSignature));
    assert_eq!(flask.loads(&format!("{cookie}!!"), TS, None), Err(Error::BadSignature));
    assert_eq!(flask.loads(cookie, TS, None).unwrap().session, basic_session());
}

#[test]
fn flask_session_behaviour_vector() {
    let v = vector("flask-session-0.8-behaviour");
    assert!(s(&v, &["output", "tagged_json_record_read_via_json_fallback"]).contains("' t'"));
    // TaggedJSON record read through the JSON fallback: tags are NOT converted.
    let record = s(&vector("fsp-redis-record"), &["output", "redis_value_utf8"]).to_owned();
    let (fields, permanent) = msgpack_record::decode(record.as_bytes()).unwrap();
    assert!(permanent);
    assert_eq!(Value::Object(fields), json!({"cart": {" t": ["sku-1", 2]}, "user_id": 42}));
    // Pickle record (pickle.dumps({'user_id': 99}), protocol 4): never unpickled.
    let pickle = unhex("80049510000000000000007d948c07757365725f6964944b63732e");
    assert_eq!(msgpack_record::decode(&pickle), Err(msgpack_record::Error::Pickle));
    // Protocol 0 pickles are neither MessagePack nor JSON.
    assert!(matches!(msgpack_record::decode(b"(dp0\nVuser_id\np1\nI99\ns."), Err(msgpack_record::Error::Malformed(_))));
    // "unknown sid -> fresh sid" is store-level behaviour, not a codec one.
}

#[test]
fn cross_verification_vector() {
    let v = vector("cross-verification");
    let out = v["output"].as_object().unwrap();
    let flask = TimedSerializer::flask(keys());
    let fsp = TimedSerializer::flask_session_plus(keys());
    let mut loaded = 0;
    for id in out.keys() {
        let Some(cookie_vec) = vectors().into_iter().find(|x| x["id"] == id.as_str()) else {
            continue;
        };
        let cookie = s(&cookie_vec, &["output"]);
        let ser = if id.starts_with("fsp") { &fsp } else { &flask };
        ser.loads(cookie, TS, Some(2_678_400)).unwrap();
        loaded += 1;
    }
    assert_eq!(loaded, 8);

    // Python-side values without stored cookies: check our TaggedJSON text.
    let escape = json!({"a": {" t": "not a tuple"}, "b": {" di": [1]}, "c": {" t": 1, "x": 2}});
    let text = tagged_json::dumps(&escape).unwrap();
    assert_eq!(text, r#"{"a":{" di":{" t__":"not a tuple"}},"b":{" di":{" di__":[1]}},"c":{" t":1,"x":2}}"#);
    assert_eq!(tagged_json::loads(&text).unwrap(), escape);

    let unicode = json!({"_permanent": true, "ctl": "a\"b\\c/\n\u{7f}", "name": "Zo\u{eb} \u{1F600}"});
    let text = tagged_json::dumps(&unicode).unwrap();
    // json.dumps(..., sort_keys=True, separators=(',', ':'), ensure_ascii=True)
    assert_eq!(text, r#"{"_permanent":true,"ctl":"a\"b\\c/\n\u007f","name":"Zo\u00eb \ud83d\ude00"}"#);
    let cookie = flask.dumps(unicode.as_object().unwrap(), TS).unwrap();
    assert_eq!(Value::Object(flask.loads(&cookie, TS, None).unwrap().session), unicode);

    // 2**70 keeps its digits (issue 10, item 9); the date is already a string on the Python side.
    let python =
        r#"{"big":1180591620717411303424,"d":"Tue, 14 Nov 2023 00:00:00 GMT","f":0.1,"n":null,"neg":-1.5e-07}"#;
    let loaded = tagged_json::loads(python).unwrap();
    assert_eq!(loaded["neg"].as_f64(), Some(-1.5e-7));
    assert_eq!(loaded["big"], json!({" i": "1180591620717411303424"}));
    assert_eq!(tagged_json::dumps(&loaded).unwrap(), python);
}
