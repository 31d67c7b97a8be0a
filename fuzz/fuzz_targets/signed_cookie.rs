//! Signed cookies: `CookieCodec::signed(..).decode(name, value)` never panics, and whatever it
//! accepts encodes again to a value that decodes to the same contents under the newest key.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use session_plus::codec::CookieCodec;

fn codec() -> &'static CookieCodec {
    static CODEC: OnceLock<CookieCodec> = OnceLock::new();
    CODEC.get_or_init(session_plus_fuzz::signed_codec)
}

fuzz_target!(|data: &[u8]| session_plus_fuzz::check_native_round_trip(codec(), data));
