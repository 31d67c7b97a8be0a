//! itsdangerous: vectors, tampering and limits.

use super::*;
use crate::test_vectors::{hex, vector, vectors};

#[test]
fn derived_keys_match_spec() {
    let k = || vec![b"dev-secret-key".to_vec()];
    let s = TimedSerializer::flask(k());
    assert_eq!(hex(s.signer().derived_key(0).unwrap()), "71009d16d198ed703005b52dd74858969d57a0be");
    let s = TimedSerializer::flask_session_plus(k());
    assert_eq!(
        hex(s.signer().derived_key(0).unwrap()),
        "eb5095c20825ae83091e895b6cf1f0cc9042d45b7512867f57f255be21adc11b"
    );
}

/// The derived keys of every vector that records one (moved from the integration tests of
/// the vectors, which see only the public API).
#[test]
fn derived_keys_match_vectors() {
    let text = |v: &Value, key: &str| v["inputs"][key].as_str().unwrap().to_owned();
    let all = vectors();
    let mut checked = 0;
    for v in all.iter().filter(|v| v["kind"] == "timed_cookie" && v["intermediate"].is_object()) {
        let serializer = TimedSerializer::new(
            vec![text(v, "secret_key").into_bytes()],
            text(v, "salt"),
            text(v, "digest").parse().unwrap(),
            text(v, "key_derivation").parse().unwrap(),
        );
        let want = v["intermediate"]["derived_key_hex"].as_str().unwrap();
        assert_eq!(hex(serializer.signer().derived_key(0).unwrap()), want, "{}", v["id"]);
        checked += 1;
    }
    for v in all.iter().filter(|v| v["kind"] == "signer") {
        let signer = Signer::new(
            vec![b"dev-secret-key".to_vec()],
            text(v, "salt"),
            text(v, "digest").parse::<Digest>().unwrap(),
            text(v, "key_derivation").parse::<KeyDerivation>().unwrap(),
        );
        let want = v["intermediate"]["derived_key_hex"].as_str().unwrap();
        assert_eq!(hex(signer.derived_key(0).unwrap()), want, "{}", v["id"]);
        checked += 1;
    }
    assert_eq!(checked, 8 + 5);
    assert_eq!(vector("signer-sha1-none")["intermediate"]["derived_key_hex"], hex(b"dev-secret-key"));
}

#[test]
fn timestamp_codec() {
    assert_eq!(encode_timestamp(1_700_000_000), "ZVPxAA");
    assert_eq!(decode_timestamp("ZVPxAA"), Ok(1_700_000_000));
    assert_eq!(encode_timestamp(0), "");
    assert_eq!(decode_timestamp(""), Ok(0));
    assert_eq!(decode_timestamp(&encode_timestamp(u64::MAX)), Ok(u64::MAX));
    assert_eq!(decode_timestamp("AQAAAAAAAAAA"), Err(Error::MalformedTimestamp));
    assert_eq!(decode_timestamp("AAAAAAAAAAAA"), Err(Error::MalformedTimestamp));
    assert_eq!(decode_timestamp("ZVPxAB"), Err(Error::MalformedTimestamp));
    assert_eq!(decode_timestamp("ZVP=AA"), Err(Error::MalformedTimestamp));
}

#[test]
fn inflate_cap_and_truncation() {
    let data = vec![b'a'; 10_000];
    let z = zlib_compress(&data).unwrap();
    assert_eq!(inflate_capped(&z, 10_000).unwrap(), data);
    assert_eq!(inflate_capped(&z, 9_999), Err(Error::TooLarge));
    assert!(matches!(inflate_capped(&z[..z.len() - 3], 20_000), Err(Error::BadPayload(_))));
    assert!(matches!(inflate_capped(&[], 20_000), Err(Error::BadPayload(_))));
    assert!(matches!(inflate_capped(b"garbage", 20_000), Err(Error::BadPayload(_))));
}

#[test]
fn parse_names() {
    assert_eq!("sha3_256".parse::<Digest>(), Ok(Digest::Sha3_256));
    assert_eq!("django-concat".parse::<KeyDerivation>(), Ok(KeyDerivation::DjangoConcat));
    assert!("md5".parse::<Digest>().is_err());
    assert!("HMAC".parse::<KeyDerivation>().is_err());
}

#[test]
fn debug_redacts_keys() {
    let s = Signer::new(vec![b"top-secret".to_vec()], "x", Digest::Sha1, KeyDerivation::None);
    assert!(!format!("{s:?}").contains("top"));
}
