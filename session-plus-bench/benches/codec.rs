//! Microbenchmarks of the cookie codec: sign / verify and encrypt / decrypt
//! (`CookieCodec::encode` / `decode`) of the two cookie sessions the README configures.
//!
//! `cargo bench -p session-plus-bench --bench codec`

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use serde_json::json;
use session_plus::codec::{CookieCodec, CookieContents, Key, KeyRing};

/// The benchmark secret, as the load-test servers use it.
const SECRET: &[u8; 64] = b"session-plus-bench: a fixed 64-byte secret, for benchmarks only!";

/// The `csrf` cookie: one 43-character token.
fn csrf_cookie() -> CookieContents {
    let mut contents = CookieContents::new(1_764_200_000);
    contents.fields.insert("csrf_token".into(), json!("q3Vx1b2LZr7dT0wYc9uKfH4mN8pS6aJe5oGiQ2lWxRk"));
    contents
}

/// The `data` cookie: the "auto" session with a few preferences and a flash message.
fn data_cookie() -> CookieContents {
    let mut contents = CookieContents::new(1_764_200_000);
    contents.created_at = 1_764_100_000;
    contents.fields.insert("theme".into(), json!("dark"));
    contents.fields.insert("locale".into(), json!("fr-FR"));
    contents.fields.insert("tz".into(), json!("Europe/Paris"));
    contents.fields.insert("cart_items".into(), json!([1042, 77, 3190]));
    contents.fields.insert("flash".into(), json!({"level": "info", "text": "Your settings were saved."}));
    contents
}

fn codecs(c: &mut Criterion) {
    // An older key after the newest, as after a rotation: decoding uses the newest first.
    let ring = || KeyRing::new(vec![Key::derive(SECRET), Key::derive(b"an older secret, kept to verify old cookies")]);
    let signed = CookieCodec::signed(ring().expect("two keys"));
    let private = CookieCodec::private(ring().expect("two keys"));
    for (name, contents) in [("csrf", csrf_cookie()), ("data", data_cookie())] {
        for (kind, codec) in [("signed", &signed), ("private", &private)] {
            let value = codec.encode(name, &contents).expect("fits in a cookie");
            assert_eq!(codec.decode(name, &value).expect("decodes").contents, contents);
            let mut group = c.benchmark_group(format!("{kind}/{name} ({} bytes)", value.len()));
            group.bench_function("encode", |b| b.iter(|| codec.encode(black_box(name), black_box(&contents))));
            group.bench_function("decode", |b| b.iter(|| codec.decode(black_box(name), black_box(&value))));
            group.finish();
        }
    }
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, minus their undocumented `pub fn`.
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    codecs(&mut criterion);
    criterion.final_summary();
}
