//! Flask-Session records: `msgpack_record::decode` never panics (and never unpickles), and
//! whatever it decodes encodes again to bytes that decode to the same fields and flag.
#![no_main]

use flask_wire::msgpack_record;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((fields, permanent)) = msgpack_record::decode(data) else { return };
    assert!(!fields.contains_key(flask_wire::PERMANENT_KEY), "the flag is not a field");
    let bytes = msgpack_record::encode(&fields, permanent);
    let again = msgpack_record::decode(&bytes).expect("an encoded record decodes");
    assert_eq!(again, (fields, permanent), "round trip changed the record");
});
