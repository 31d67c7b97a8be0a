//! Writes the seed corpora under `fuzz/seeds/<target>/` (committed; run again after a format
//! change): `cargo run --manifest-path fuzz/Cargo.toml --example make_seeds`.

use std::fs;
use std::path::{Path, PathBuf};

use flask_wire::itsdangerous::TimedSerializer;
use flask_wire::{msgpack_record, tagged_json};
use serde_json::{json, Map, Value};
use session_plus::codec::{CookieCodec, CookieContents, Key, KeyRing};
use session_plus_fuzz::{flask_secrets, private_codec, signed_codec, OLD_SECRET};

const T: i64 = 1_700_000_000;

fn write(dir: &Path, target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    let path = dir.join(target);
    fs::create_dir_all(&path).expect("seed dir");
    fs::write(path.join(name), bytes).expect("seed file");
}

fn contents() -> Vec<(&'static str, CookieContents)> {
    let mut out = vec![("empty", CookieContents::new(T))];
    let mut c = CookieContents::new(T);
    c.fields.insert("csrf_token".into(), "abc".into());
    c.fields.insert("theme".into(), json!({"dark": true, "sizes": [1, 2.5, -3, null], "name": "Zoë \"q\""}));
    out.push(("fields", c.clone()));
    c.permanent = true;
    c.created_at = T - 86_400;
    out.push(("permanent", c));
    let mut u = CookieContents::new(T);
    u.fields.insert("user_id".into(), 42.into());
    u.fields.insert("cart".into(), json!([{"sku": "a-1", "n": 2}]));
    out.push(("user", u));
    out
}

fn rich_session() -> Map<String, Value> {
    json!({
        "csrf_token": "abc",
        "user_id": 42,
        "pair": [1, {" b": "aGk="}],
        "uid": {" u": "12345678123456781234567812345678"},
        "when": {" d": "Tue, 14 Nov 2023 22:13:20 GMT"},
        "html": {" m": "<b>hi</b>"},
        "escaped": {" t": "not a tuple"},
        "ratio": 1e-5,
        "big": 18446744073709551615u64,
        "neg": -9007199254740993i64,
        "nested": {"a": {"b": [true, false, null, "é\u{1F600}"]}},
    })
    .as_object()
    .expect("an object")
    .clone()
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let vectors: Value = serde_json::from_str(
        &fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../flask-wire/tests/data/flask-vectors.json"))
            .expect("the Flask vectors"),
    )
    .expect("JSON vectors");

    // Native cookies, signed and encrypted, under the newest and the older key.
    let old_ring = || KeyRing::new(vec![Key::derive(OLD_SECRET.as_bytes())]).expect("one key");
    let codecs = [
        ("signed_cookie", signed_codec(), CookieCodec::signed(old_ring())),
        ("private_cookie", private_codec(), CookieCodec::private(old_ring())),
    ];
    let mut header = Vec::new();
    for (target, codec, old) in &codecs {
        for (label, c) in contents() {
            let value = codec.encode("sig", &c).expect("encodes");
            write(&dir, target, label, format!("sig\0{value}"));
            if *target == "signed_cookie" && label != "user" {
                header.push(format!("sig={value}"));
            }
            if *target == "private_cookie" && label == "user" {
                header.push(format!("enc={}", codec.encode("enc", &c).expect("encodes")));
            }
        }
        write(
            &dir,
            target,
            "old-key",
            format!("session\0{}", old.encode("session", &contents()[1].1).expect("encodes")),
        );
    }

    // The Cookie header: cookies of all three sessions, several headers, odd spacing and quoting.
    write(
        &dir,
        "cookie_header",
        "all",
        format!("{}; {}; mem=5b6f7c1e3d2a4f7b9c1d2e3f4a5b6c7d.AAAA", header[0], header[3]),
    );
    write(&dir, "cookie_header", "lines", header.join("\n"));
    write(&dir, "cookie_header", "quoted", format!("theme=dark;{}  ;  x=\"y\"; sig=; =v; mem", header[1]));
    write(&dir, "cookie_header", "duplicate", format!("{}; {}", header[2], header[1]));

    // Flask cookies: the vectors' cookies and signed ids, and sessions with every tag.
    let mut jsons = Vec::new();
    for v in vectors.as_array().expect("a list") {
        let id = v["id"].as_str().unwrap_or("vector");
        match v["kind"].as_str() {
            Some("timed_cookie" | "signer" | "timestamp_signer") => {
                if let Some(out) = v["output"].as_str() {
                    write(&dir, "flask_cookie", id, out);
                }
                if let Some(text) = v["intermediate"]["tagged_json"].as_str() {
                    jsons.push((id.to_owned(), text.to_owned()));
                }
            }
            Some("redis_record") => {
                let out = &v["output"];
                if let Some(hex) = out["redis_value_hex"].as_str() {
                    let bytes: Vec<u8> = (0..hex.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                        .collect();
                    write(&dir, "msgpack_record", id, bytes);
                }
                for key in ["set_cookie_value", "set_cookie_value_use_signer"] {
                    if let Some(cookie) = out[key].as_str() {
                        write(&dir, "flask_cookie", &format!("{id}-{key}"), cookie);
                    }
                }
            }
            _ => {}
        }
    }
    let session = rich_session();
    let flask = TimedSerializer::flask(flask_secrets());
    let fsp = TimedSerializer::flask_session_plus(flask_secrets());
    write(&dir, "flask_cookie", "rich-flask", flask.dumps(&session, T as u64).expect("dumps"));
    write(&dir, "flask_cookie", "rich-fsp", fsp.dumps(&session, T as u64).expect("dumps"));
    let long = json!({"items": vec!["repeat-me"; 40]});
    write(&dir, "flask_cookie", "compressed", flask.dumps(long.as_object().expect("object"), T as u64).expect("dumps"));
    write(
        &dir,
        "flask_cookie",
        "sid",
        flask_wire::sid::signer(flask_secrets()).sign("Xy0_Q8rHqv6t0bVx7kz2mN4pW9sL1cD3eF5gH7jK2aB"),
    );

    // Tagged JSON: the vectors' texts and one with every tag, escaped tags and numbers.
    for (id, text) in jsons {
        write(&dir, "tagged_json", &id, text);
    }
    write(&dir, "tagged_json", "rich", tagged_json::dumps_object(&session).expect("dumps"));
    write(
        &dir,
        "tagged_json",
        "every-tag",
        r#"{"b":{" b":"aGk="},"d":{" d":"Tue, 14 Nov 2023 22:13:20 GMT"},"di":{" di":{" t__":[1]}},"m":{" m":"<i>x</i>"},"t":{" t":[1,{" t":[]}]},"u":{" u":"12345678123456781234567812345678"}}"#,
    );
    write(
        &dir,
        "tagged_json",
        "numbers",
        r#"[0,-0,1.0,-0.0,1e-05,1e+16,1.5e308,5e-324,18446744073709551615,-9223372036854775808,"\u00e9\ud83d\ude00"]"#,
    );

    // Flask-Session records: MessagePack from the encoder, with every value kind, and JSON.
    write(&dir, "msgpack_record", "rich", msgpack_record::encode(&session, true));
    write(
        &dir,
        "msgpack_record",
        "plain",
        msgpack_record::encode(json!({"user_id": 42}).as_object().expect("object"), false),
    );
    write(&dir, "msgpack_record", "json", r#"{"_permanent":false,"cart":{" t":["sku-1",2]},"user_id":42}"#);
    write(&dir, "msgpack_record", "pickle", b"\x80\x04\x95\x10\x00");

    // Configuration: the demo's TOML files and a JSON one.
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../session-plus-demo/configs");
    for entry in fs::read_dir(configs).expect("the demo configs") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().expect("a name").to_string_lossy().into_owned();
        write(&dir, "config", &name, fs::read(&path).expect("a config"));
    }
    write(
        &dir,
        "config",
        "full.json",
        r#"{"secret_keys":["env:SESSION_SECRET","a literal key for development, at least 32 bytes"],"session":[{"cookie_name":"csrf","session_fields":["csrf_token"],"encrypt":true,"same_site":"strict","lifetime":"1h","permanent_lifetime":"31 days","format":"flask"},{"cookie_name":"session","session_type":"memory","use_signer":true,"session_fields":"auto","key_prefix":"session:","purge_interval":"10m"}]}"#,
    );
    println!("seeds written under {}", dir.display());
}
