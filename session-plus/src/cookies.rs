//! Cookie headers: reading the request's `Cookie`, writing `Set-Cookie` with the session's
//! attributes, and the 4096-byte check browsers impose.

use cookie::time::Duration;
use cookie::{Cookie, SameSite as CookieSameSite};
use http::header::COOKIE;
use http::HeaderMap;

use crate::config::{SameSite, SessionConfig};
use crate::session::Failure;

/// Browsers ignore a cookie whose name, value and attributes exceed 4096 bytes.
pub(crate) const MAX_SET_COOKIE_LEN: usize = 4096;

/// The value of each named cookie in the request (the first one, when a name repeats).
pub(crate) fn request_values(headers: &HeaderMap, names: &[String]) -> Vec<Option<String>> {
    let mut values = vec![None; names.len()];
    for header in headers.get_all(COOKIE) {
        let Ok(header) = header.to_str() else { continue };
        for pair in header.split(';') {
            let Some((name, value)) = pair.trim().split_once('=') else { continue };
            if let Some(index) = names.iter().position(|n| n == name) {
                let value = value.trim_matches('"');
                values[index].get_or_insert_with(|| value.to_owned());
            }
        }
    }
    values
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

/// Refuses a `Set-Cookie` longer than browsers keep, rather than let them drop it silently.
pub(crate) fn checked(config: &SessionConfig, set_cookie: String) -> Result<String, Failure> {
    if set_cookie.len() <= MAX_SET_COOKIE_LEN {
        return Ok(set_cookie);
    }
    tracing::error!(session = %config.cookie_name, bytes = set_cookie.len(), "Set-Cookie exceeds 4096 bytes; not sent");
    Err(Failure {
        status: config.save_error_status,
        message: format!(
            "session `{}` needs a {}-byte cookie; browsers keep at most {MAX_SET_COOKIE_LEN}: move fields to a server-side session",
            config.cookie_name,
            set_cookie.len()
        ),
    })
}

fn base(config: &SessionConfig, value: String) -> Cookie<'static> {
    let mut cookie = Cookie::new(config.cookie_name.clone(), value);
    cookie.set_path(config.cookie_path.clone());
    if let Some(domain) = &config.cookie_domain {
        cookie.set_domain(domain.clone());
    }
    cookie.set_http_only(config.cookie_httponly);
    cookie.set_secure(config.cookie_secure);
    cookie.set_same_site(match config.cookie_samesite {
        SameSite::Strict => CookieSameSite::Strict,
        SameSite::Lax => CookieSameSite::Lax,
        SameSite::None => CookieSameSite::None,
    });
    cookie
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn reads_named_cookies_first_wins() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; b=2; a=3"));
        headers.append(COOKIE, HeaderValue::from_static("c=4"));
        assert_eq!(
            request_values(&headers, &["a".to_owned(), "c".to_owned(), "d".to_owned()]),
            vec![Some("1".into()), Some("4".into()), None]
        );
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
    fn oversized_set_cookie_is_refused() {
        let config = SessionConfig::new("s");
        assert!(checked(&config, "x".repeat(4096)).is_ok());
        let failure = checked(&config, "x".repeat(4097)).unwrap_err();
        assert_eq!(failure.status, 500);
        assert!(failure.message.contains("4096"));
    }
}
