//! Flask's formats through the middleware: the vectors of ../shared/spec/vectors.json read and
//! written by a Rust app over TCP, cookies byte for byte and records in a real Redis.
#![cfg(all(feature = "flask", feature = "store-redis"))]

use crate::common;

use common::{serve, Client};
use serde_json::{json, Value};
use session_plus::clock::ManualClock;
use session_plus::flask_wire::itsdangerous::TimedSerializer;
use session_plus::flask_wire::msgpack_record;
use session_plus::{Config, SessionManager};

const FLASK_COOKIE: &str = "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.tT7hhq0ULXtby1BLGd0qtzZi284";
const FSP_COOKIE: &str =
    "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.TMcz2tGrNLkTCUYG9gH7_683iN_os1VMtayAWSYhkCo";
const VECTOR_TIME: i64 = 1_700_000_000;

fn redis_db(db: u8) -> String {
    let base = std::env::var("SESSION_PLUS_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());
    let base = base.rsplit_once('/').map_or(base.as_str(), |(host, _)| host).to_owned();
    format!("{base}/{db}")
}

async fn redis(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap()
}

async fn cookie_app(format: &str) -> (Client, SessionManager) {
    let config = Config::from_toml_str(&format!(
        r#"
        [[session]]
        cookie_name = "session"
        format = "{format}"
        secret_keys = ["dev-secret-key"]
        session_lifetime = "31d"
        "#
    ))
    .unwrap();
    let manager = SessionManager::builder(config).with_clock(ManualClock::new(VECTOR_TIME)).build().await.unwrap();
    (Client::new(serve(&manager).await), manager)
}

#[tokio::test]
async fn flask_cookies_are_read_and_written_byte_for_byte() {
    for (format, vector) in [("flask", FLASK_COOKIE), ("flask-session-plus", FSP_COOKIE)] {
        let (mut client, _manager) = cookie_app(format).await;
        client.jar.insert("session".into(), vector.into());
        assert_eq!(client.get("/fields").await.json(), json!({"csrf_token": "abc", "user_id": 42}), "{format}");

        // The same data at the same time gives the very cookie Flask made.
        let (mut fresh, _manager) = cookie_app(format).await;
        fresh.post("/set/csrf_token", "\"abc\"").await;
        fresh.post("/set/user_id", "42").await;
        assert_eq!(fresh.cookie("session").unwrap(), vector, "{format}");
    }
    // Each format refuses the other's cookie (SHA-1 vs SHA3-256).
    let (mut client, _manager) = cookie_app("flask").await;
    client.jar.insert("session".into(), FSP_COOKIE.into());
    assert_eq!(client.get("/fields").await.json(), json!({}));
}

/// Issue 10, item 9: a Flask cookie holding every Python type Flask tags, read by a Rust handler
/// that changes another field: the re-issued cookie holds exactly the same text but for that
/// field (integers beyond 64 bits, tuples, bytes, UUIDs, datetimes, Markup, nested).
#[tokio::test]
async fn python_values_a_handler_did_not_touch_go_back_to_flask_unchanged() {
    // As Flask writes it: keys sorted, every tag, nested combinations.
    let original = concat!(
        r#"{"big":123456789012345678901234567890,"bytes":{" b":"AAEC/w=="},"#,
        r#""dict":{" di":{" t__":{"n":-98765432109876543210987654321}}},"markup":{" m":"<b>hi</b>"},"#,
        r#""nested":{" t":[{" t":[]},[{" u":"12345678123456781234567812345678"},-18446744073709551616],"#,
        r#"{"when":{" d":"Tue, 14 Nov 2023 22:13:20 GMT"}}]},"pair":{" t":["sku-1",2]},"#,
        r#""uid":{" u":"12345678123456781234567812345678"},"user_id":42,"#,
        r#""when":{" d":"Tue, 14 Nov 2023 22:13:20 GMT"}}"#
    );
    let flask = TimedSerializer::flask(vec![b"dev-secret-key".to_vec()]);
    let (mut client, _manager) = cookie_app("flask").await;
    client.jar.insert("session".into(), flask.dumps_text(original, VECTOR_TIME as u64).unwrap());
    let reply = client.post("/set/user_id", "43").await;
    assert_eq!(reply.status, 200);
    let reissued = client.cookie("session").expect("a re-issued cookie");
    let (text, _, _) = flask.loads_text(&reissued, VECTOR_TIME as u64, None).unwrap();
    assert_eq!(text, original.replace(r#""user_id":42"#, r#""user_id":43"#));
}

#[tokio::test]
async fn flask_session_plus_records_in_redis() {
    let url = redis_db(14);
    let mut raw = redis(&url).await;
    let sid = "5b6f7c1e-3d2a-4f7b-9c1d-2e3f4a5b6c7d";
    let key = format!("session{sid}");
    // Issue 10, item 9: the tuple and the integer beyond 64 bits survive a Rust write exactly.
    let record = r#"{"_permanent":true,"big":123456789012345678901234567890,"cart":{" t":["sku-1",2]},"user_id":42}"#;
    let _: () = redis::cmd("SETEX").arg(&key).arg(2_678_400).arg(record).query_async(&mut raw).await.unwrap();

    let config = Config::from_toml_str(&format!(
        r#"
        [[session]]
        cookie_name = "session"
        session_type = "redis"
        format = "flask-session-plus"
        url = "{url}"
        use_signer = true
        secret_keys = ["dev-secret-key"]
        "#
    ))
    .unwrap();
    let manager = SessionManager::new(config).await.unwrap();
    let addr = serve(&manager).await;
    let mut client = Client::new(addr);
    client.jar.insert("session".into(), format!("{sid}.KEaktIgFPD6h525sm7zLPSD9Cuo"));
    assert_eq!(
        client.get("/fields").await.json(),
        json!({"big": {" i": "123456789012345678901234567890"}, "cart": {" t": ["sku-1", 2]}, "user_id": 42})
    );

    client.post("/set/user_id", "43").await;
    let stored: String = redis::cmd("GET").arg(&key).query_async(&mut raw).await.unwrap();
    assert_eq!(stored, record.replace("42", "43"));
    let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut raw).await.unwrap();
    assert!((2_678_390..=2_678_400).contains(&ttl), "permanent: the seed's 31 days, not {ttl}");

    // A new session: a uuid4 sid, signed like flask-session-plus signs it, one day of TTL.
    let mut newcomer = Client::new(addr);
    newcomer.post("/set/user_id", "1").await;
    let cookie = newcomer.cookie("session").unwrap();
    let (new_sid, mac) = cookie.split_once('.').unwrap();
    assert!(session_plus::session::Id::parse_uuid(new_sid).is_some() && mac.len() == 27, "{cookie}");
    let key = format!("session{new_sid}");
    let stored: String = redis::cmd("GET").arg(&key).query_async(&mut raw).await.unwrap();
    assert_eq!(stored, r#"{"_permanent":false,"user_id":1}"#);
    let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut raw).await.unwrap();
    assert!((86_390..=86_400).contains(&ttl), "{ttl}");

    // A forged signature never reaches Redis, and logout deletes the record.
    let mut forged = Client::new(addr);
    forged.jar.insert("session".into(), format!("{sid}.AAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_eq!(forged.get("/get/user_id").await.json(), Value::Null);
    client.post("/clear", "").await;
    let exists: i64 = redis::cmd("EXISTS").arg(format!("session{sid}")).query_async(&mut raw).await.unwrap();
    assert_eq!(exists, 0);
}

#[tokio::test]
async fn flask_session_records_in_redis_and_pickles_refused() {
    let url = redis_db(15);
    let mut raw = redis(&url).await;
    let sid = "Xy0_Q8rHqv6t0bVx7kz2mN4pW9sL1cD3eF5gH7jK2aB";
    let key = format!("session:{sid}");
    let record = hex("84aa5f7065726d616e656e74c3a7757365725f69642aa46361727492a5736b752d3102a47768656ed6ff6553f100");
    let _: () = redis::cmd("SET").arg(&key).arg(&record).arg("EX").arg(2_678_400).query_async(&mut raw).await.unwrap();

    let config = Config::from_toml_str(&format!(
        r#"
        [[session]]
        cookie_name = "session"
        session_type = "redis"
        format = "flask-session"
        url = "{url}"
        "#
    ))
    .unwrap();
    let manager = SessionManager::new(config).await.unwrap();
    let addr = serve(&manager).await;
    let mut client = Client::new(addr);
    client.jar.insert("session".into(), sid.into());
    let when = json!({" d": "Tue, 14 Nov 2023 22:13:20 GMT"});
    assert_eq!(client.get("/fields").await.json(), json!({"cart": ["sku-1", 2], "user_id": 42, "when": when}));

    client.post("/set/user_id", "7").await;
    let stored: Vec<u8> = redis::cmd("GET").arg(&key).query_async(&mut raw).await.unwrap();
    let (fields, permanent) = msgpack_record::decode(&stored).unwrap();
    assert!(permanent);
    assert_eq!(Value::Object(fields), json!({"cart": ["sku-1", 2], "user_id": 7, "when": when}));
    assert_eq!(stored[0], 0x84, "a map of 4: _permanent and the three fields");

    // A pickle (what Flask-Session falls back to) is no session, and nothing runs.
    let pickle_sid = "Pk0_Q8rHqv6t0bVx7kz2mN4pW9sL1cD3eF5gH7jK2aB";
    let pickle = b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x04true\x94\x85\x94R\x94.";
    let _: () =
        redis::cmd("SET").arg(format!("session:{pickle_sid}")).arg(&pickle[..]).query_async(&mut raw).await.unwrap();
    let mut victim = Client::new(addr);
    victim.jar.insert("session".into(), pickle_sid.into());
    let reply = victim.get("/get/user_id").await;
    assert_eq!((reply.status, reply.json()), (200, Value::Null));
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}
