//! Signed cookies: `CookieCodec::signed(..).decode(name, value)` never panics, and whatever it
//! accepts encodes again to a value that decodes to the same contents under the newest key.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use session_plus::codec::{CookieCodec, ErrorKind};

fn codec() -> &'static CookieCodec {
    static CODEC: OnceLock<CookieCodec> = OnceLock::new();
    CODEC.get_or_init(session_plus_fuzz::signed_codec)
}

fuzz_target!(|data: &[u8]| {
    let Some((name, value)) = session_plus_fuzz::split_name(data) else { return };
    let codec = codec();
    let Ok(decoded) = codec.decode(name, value) else { return };
    match codec.encode(name, &decoded.contents) {
        Ok(again) => {
            let redecoded = codec.decode(name, &again).expect("a value just encoded decodes");
            assert_eq!(redecoded.contents, decoded.contents, "round trip changed the contents");
            assert_eq!(redecoded.key_index, 0, "a value just encoded verifies under the newest key");
        }
        // Re-encoding may only fail by size (JSON re-serialised differently, e.g. escapes).
        Err(e) => assert_eq!(e.kind(), ErrorKind::TooLarge, "re-encoding failed: {e:?}"),
    }
});
