//! Flask cookies: `TimedSerializer::flask(..)` and `::flask_session_plus(..)` `.loads`, the
//! session codec's Flask format (`CookieCodec::flask`) and the id signer's `Signer::unsign` never
//! panic on any text. What verifies is re-signed and must load again to the same session (or id).
#![no_main]

use std::sync::OnceLock;

use flask_wire::itsdangerous::{Signer, TimedSerializer};
use libfuzzer_sys::fuzz_target;
use session_plus::codec::CookieCodec;
use session_plus_fuzz::{flask_secrets, NOW};

struct Fixtures {
    serializers: [TimedSerializer; 2],
    codec: CookieCodec,
    signer: Signer,
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| Fixtures {
        serializers: [TimedSerializer::flask(flask_secrets()), TimedSerializer::flask_session_plus(flask_secrets())],
        codec: CookieCodec::flask(TimedSerializer::flask(flask_secrets())),
        signer: flask_wire::sid::signer(flask_secrets()),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let f = fixtures();
    for serializer in &f.serializers {
        for max_age in [None, Some(31 * 24 * 3600)] {
            let Ok(loaded) = serializer.loads(text, NOW, max_age) else { continue };
            assert!(loaded.timestamp <= NOW, "a future timestamp was accepted");
            let cookie = serializer.dumps(&loaded.session, loaded.timestamp).expect("a loaded session dumps");
            let again = serializer.loads(&cookie, NOW, max_age).expect("a dumped session loads");
            assert_eq!(again.session, loaded.session, "round trip changed the session");
            assert_eq!((again.timestamp, again.key_index), (loaded.timestamp, 0));
        }
    }
    let _ = f.codec.decode("session", text);
    if let Ok((value, _)) = f.signer.unsign(text) {
        let signed = f.signer.sign(value);
        assert_eq!(f.signer.unsign(&signed).ok(), Some((value, 0)), "a signed id unsigns to itself");
    }
});
