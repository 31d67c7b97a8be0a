//! Flask's tagged JSON: `tagged_json::loads` never panics, and whatever it loads dumps again
//! (`dumps` succeeds) to a text that loads to the same value.
#![no_main]

use flask_wire::tagged_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(value) = tagged_json::loads(text) else { return };
    let dumped = tagged_json::dumps(&value).expect("a loaded value dumps");
    let again = tagged_json::loads(&dumped).expect("a dumped value loads");
    assert_eq!(again, value, "round trip through {dumped:?} changed the value");
    if let serde_json::Value::Object(map) = &value {
        assert_eq!(tagged_json::dumps_object(map).as_deref(), Ok(dumped.as_str()));
    }
});
