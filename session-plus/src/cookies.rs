//! Cookie headers: reading the request's `Cookie`, writing `Set-Cookie` with the session's
//! attributes, the 4096-byte check browsers impose, and the cache headers every response that
//! carries a session cookie needs.

use std::ops::Range;

use cookie::time::Duration;
use cookie::{Cookie, SameSite as CookieSameSite};
use http::header::Entry;
use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue};

use crate::codec::MAX_COOKIE_LEN;
use crate::config::{SameSite, SessionConfig};

/// A cookie's value in the request: a slice of its `Cookie` header, shared rather than copied.
#[derive(Debug, Clone)]
pub(crate) struct RequestCookie {
    header: HeaderValue,
    range: Range<usize>,
}

impl RequestCookie {
    pub(crate) fn as_str(&self) -> &str {
        // `request_values` checked that the range is ASCII, hence UTF-8.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The value's bytes, without the UTF-8 check of [`as_str`](Self::as_str).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.header.as_bytes()[self.range.clone()]
    }
}

/// Calls `found(index, value)` for each cookie of the request named `names[index]`, in order (a
/// name may repeat; the caller keeps the first). Names and values are trimmed of spaces and values
/// of double quotes, as RFC 6265 parses them; a value that is not ASCII (RFC 6265's cookie octets
/// are ASCII, and every format this crate reads is) is skipped.
pub(crate) fn request_values(headers: &HeaderMap, names: &[String], mut found: impl FnMut(usize, RequestCookie)) {
    for header in headers.get_all(COOKIE) {
        // Bytes, not `to_str`: only the values of our own cookies are checked, not the whole
        // header; `memchr` finds the separators a word at a time, not byte by byte.
        let bytes = header.as_bytes();
        let mut rest = 0;
        while rest < bytes.len() {
            let end = memchr::memchr(b';', &bytes[rest..]).map_or(bytes.len(), |at| rest + at);
            let pair = &bytes[rest..end];
            rest = end + 1;
            let Some(equals) = memchr::memchr(b'=', pair) else { continue };
            let name = pair[..equals].trim_ascii();
            let Some(index) = names.iter().position(|n| n.as_bytes() == name) else { continue };
            let mut value = pair[equals + 1..].trim_ascii();
            while let [b'"', rest @ ..] = value {
                value = rest;
            }
            while let [rest @ .., b'"'] = value {
                value = rest;
            }
            if is_ascii(value) {
                // `value` is a slice of `bytes`: its offset there is the distance between them.
                let start = value.as_ptr() as usize - bytes.as_ptr() as usize;
                found(index, RequestCookie { header: header.clone(), range: start..start + value.len() });
            }
        }
    }
}

/// `bytes.is_ascii()`, a word at a time. The standard library's checks 64-byte blocks and then
/// the rest byte by byte, which for cookie values (40 to 200 bytes) is mostly the byte loop.
fn is_ascii(bytes: &[u8]) -> bool {
    let (words, rest) = bytes.as_chunks::<8>();
    let high_bits = words.iter().fold(0, |seen, word| seen | u64::from_ne_bytes(*word));
    high_bits & 0x8080_8080_8080_8080 == 0 && rest.iter().fold(0, |seen, byte| seen | byte) < 0x80
}

/// A `Set-Cookie` value for this session, with `Max-Age` when given.
pub(crate) fn set(config: &SessionConfig, value: &str, max_age: Option<i64>) -> String {
    let mut cookie = base(config, value.to_owned());
    if let Some(seconds) = max_age {
        cookie.set_max_age(Duration::seconds(seconds));
    }
    cookie.to_string()
}

/// A `Set-Cookie` value that expires this session's cookie: same name, path and domain.
pub(crate) fn removal(config: &SessionConfig) -> String {
    let mut cookie = base(config, String::new());
    cookie.make_removal();
    cookie.to_string()
}

/// A `Set-Cookie` value longer than browsers keep: [`MAX_COOKIE_LEN`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge {
    /// The value's length in bytes.
    pub(crate) len: usize,
}

/// Refuses a `Set-Cookie` longer than browsers keep, rather than let them drop it silently.
pub(crate) fn checked(set_cookie: String) -> Result<String, TooLarge> {
    if set_cookie.len() <= MAX_COOKIE_LEN {
        Ok(set_cookie)
    } else {
        Err(TooLarge { len: set_cookie.len() })
    }
}

/// Adds the sessions' `Set-Cookie` values to a response's headers, with what keeps caches from
/// serving one visitor's session to another: `Vary: Cookie` when a session was used or a cookie
/// is set, and, with any `Set-Cookie`, a `Cache-Control` that shared caches may not store
/// (`public` and `s-maxage` are removed, `private` added unless `no-store` is there).
pub(crate) fn add_to_response(headers: &mut HeaderMap, set_cookies: Vec<String>, accessed: bool) {
    let mut any = false;
    for set_cookie in set_cookies {
        match HeaderValue::try_from(set_cookie) {
            Ok(value) => {
                headers.append(SET_COOKIE, value);
                any = true;
            }
            // `Config::validate` refuses domains and paths that could cause this.
            Err(_) => tracing::error!("a session cookie is not a valid header value; not sent"),
        }
    }
    if accessed || any {
        add_vary_cookie(headers);
    }
    if any {
        keep_out_of_shared_caches(headers);
    }
}

fn add_vary_cookie(headers: &mut HeaderMap) {
    // One lookup of `Vary` for both the check and the insert: most responses have none.
    match headers.entry(VARY) {
        Entry::Vacant(vacant) => drop(vacant.insert(HeaderValue::from_static("Cookie"))),
        Entry::Occupied(mut occupied) => {
            let varies = occupied.iter().any(|value| {
                value.to_str().is_ok_and(|v| {
                    v.split(',').any(|name| matches!(name.trim(), "*") || name.trim().eq_ignore_ascii_case("cookie"))
                })
            });
            if !varies {
                occupied.append(HeaderValue::from_static("Cookie"));
            }
        }
    }
}

fn keep_out_of_shared_caches(headers: &mut HeaderMap) {
    let mut directives: Vec<String> = Vec::new();
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let name = directive.split('=').next().unwrap_or_default().trim().to_ascii_lowercase();
            if name != "public" && name != "s-maxage" {
                directives.push(directive.to_owned());
            }
        }
    }
    let named = |wanted: &str| {
        directives.iter().any(|d| d.split('=').next().is_some_and(|n| n.trim().eq_ignore_ascii_case(wanted)))
    };
    if !named("private") && !named("no-store") {
        directives.insert(0, "private".to_owned());
    }
    // Built from a header value's visible ASCII and commas: always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&directives.join(", ")) {
        headers.insert(CACHE_CONTROL, value);
    }
}

fn base(config: &SessionConfig, value: String) -> Cookie<'static> {
    let mut cookie = Cookie::new(config.cookie_name.clone(), value);
    cookie.set_path(config.cookie.cookie_path.clone());
    if let Some(domain) = &config.cookie.cookie_domain {
        cookie.set_domain(domain.clone());
    }
    cookie.set_http_only(config.cookie.cookie_httponly);
    cookie.set_secure(config.cookie.cookie_secure);
    cookie.set_same_site(match config.cookie.cookie_samesite {
        SameSite::Strict => CookieSameSite::Strict,
        SameSite::Lax => CookieSameSite::Lax,
        SameSite::None => CookieSameSite::None,
    });
    cookie
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_named_cookies_first_wins() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; b=2; a=3"));
        headers.append(COOKIE, HeaderValue::from_static("c=4"));
        headers.append(COOKIE, HeaderValue::from_static(" d = \"5\" ;x"));
        // Not ASCII: skipped, so the next `e` counts.
        headers.append(COOKIE, HeaderValue::from_bytes(b"e=\xff; e=ok").unwrap());
        // UTF-8 but not ASCII: skipped too; empty pieces and a trailing `;` are nothing.
        headers.append(COOKIE, HeaderValue::from_bytes("g=\u{e9}t\u{e9};;  ; g=2;".as_bytes()).unwrap());
        let names = ["a", "c", "d", "e", "f", "g"].map(str::to_owned);
        let mut values = vec![None; names.len()];
        request_values(&headers, &names, |index, value| {
            values[index].get_or_insert_with(|| value.as_str().to_owned());
        });
        let expected = [Some("1"), Some("4"), Some("5"), Some("ok"), None, Some("2")].map(|v| v.map(str::to_owned));
        assert_eq!(values, expected);
    }

    #[test]
    fn ascii_is_checked_in_every_position() {
        for len in 0..40 {
            let text = vec![b'a'; len];
            assert!(is_ascii(&text));
            for at in 0..len {
                for byte in [0x80, 0xC3, 0xFF] {
                    let mut text = text.clone();
                    text[at] = byte;
                    assert!(!is_ascii(&text), "{byte:#04x} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn attributes_and_removal() {
        let config = SessionConfig::new("s").with_domain("example.com").with_secure(true).with_cookie_path("/app");
        let set = set(&config, "v", Some(60));
        assert_eq!(set, "s=v; HttpOnly; SameSite=Lax; Secure; Path=/app; Domain=example.com; Max-Age=60");
        let removal = removal(&config);
        assert!(
            removal.starts_with("s=; HttpOnly; SameSite=Lax; Secure; Path=/app; Domain=example.com; Max-Age=0"),
            "{removal}"
        );
    }

    #[test]
    fn responses_with_session_cookies_stay_out_of_shared_caches() {
        // (the response's Cache-Control headers, whether a session was used, the result)
        let cases: [(&[&str], bool, &str); 6] = [
            (&[], false, "private"),
            (&["public, max-age=60"], false, "private, max-age=60"),
            (&["max-age=60, s-maxage=600, Public"], false, "private, max-age=60"),
            (&["no-store"], false, "no-store"),
            (&["private, max-age=5"], false, "private, max-age=5"),
            (&["public", "max-age=9"], true, "private, max-age=9"),
        ];
        for (existing, accessed, cache_control) in cases {
            let mut headers = HeaderMap::new();
            for value in existing {
                headers.append(CACHE_CONTROL, HeaderValue::from_static(value));
            }
            add_to_response(&mut headers, vec!["s=v; Path=/".to_owned()], accessed);
            assert_eq!(headers.get(CACHE_CONTROL).unwrap(), cache_control, "{existing:?}");
            assert_eq!(headers.get_all(CACHE_CONTROL).iter().count(), 1);
            assert_eq!(headers.get(VARY).unwrap(), "Cookie", "a Set-Cookie always varies on Cookie");
            assert_eq!(headers.get(SET_COOKIE).unwrap(), "s=v; Path=/");
        }
    }

    #[test]
    fn vary_is_added_once_and_cache_control_left_alone_without_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
        add_to_response(&mut headers, Vec::new(), true);
        assert_eq!(headers.get(CACHE_CONTROL).unwrap(), "public, max-age=60", "no session cookie: untouched");
        assert_eq!(headers.get(VARY).unwrap(), "Cookie");
        let mut headers = HeaderMap::new();
        headers.insert(VARY, HeaderValue::from_static("Accept-Encoding, cookie"));
        add_to_response(&mut headers, vec!["s=v".to_owned()], true);
        assert_eq!(headers.get_all(VARY).iter().count(), 1);
        let mut headers = HeaderMap::new();
        add_to_response(&mut headers, Vec::new(), false);
        assert!(headers.is_empty());
    }

    #[test]
    fn oversized_set_cookie_is_refused() {
        assert!(checked("x".repeat(4096)).is_ok());
        assert_eq!(checked("x".repeat(4097)), Err(TooLarge { len: 4097 }));
    }
}
