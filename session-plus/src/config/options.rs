//! The groups of a session's keys: its cookie, its lifetimes, its store, its Flask format and its
//! error statuses. Each field is named after its configuration key, and its default is the
//! group's `Default`.

use std::fmt;
use std::time::Duration;

use http::StatusCode;
use serde::Deserialize;

use super::de;
use super::kinds::{FlaskDigest, FlaskKeyDerivation, Format, SameSite};

/// Default idle lifetime of a session: one day.
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(86_400);
/// Default lifetime of a permanent session: 31 days.
pub const DEFAULT_PERMANENT_LIFETIME: Duration = Duration::from_secs(31 * 86_400);

/// The cookie's attributes ([`SessionConfig::cookie`](super::SessionConfig::cookie)).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CookieOptions {
    /// `cookie_domain`: the `Domain` attribute (none by default, the safest: host-only).
    #[serde(deserialize_with = "de::optional_string")]
    pub cookie_domain: Option<String>,
    /// `cookie_path`: the `Path` attribute (`/`).
    pub cookie_path: String,
    /// `cookie_httponly`: the `HttpOnly` attribute (on).
    pub cookie_httponly: bool,
    /// `cookie_secure`: the `Secure` attribute (off, so that the demo works over plain HTTP).
    pub cookie_secure: bool,
    /// `cookie_samesite`: the `SameSite` attribute (`Lax`).
    pub cookie_samesite: SameSite,
    /// `cookie_max_age`: the `Max-Age` of a non-permanent session's cookie (none: a
    /// browser-session cookie).
    #[serde(deserialize_with = "de::optional_duration")]
    pub cookie_max_age: Option<Duration>,
}

impl Default for CookieOptions {
    fn default() -> Self {
        Self {
            cookie_domain: None,
            cookie_path: "/".to_owned(),
            cookie_httponly: true,
            cookie_secure: false,
            cookie_samesite: SameSite::Lax,
            cookie_max_age: None,
        }
    }
}

/// How long a session lives, and when it is written again to slide its expiry
/// ([`SessionConfig::lifetimes`](super::SessionConfig::lifetimes)).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Lifetimes {
    /// `session_lifetime`: the idle lifetime, enforced on the server (one day).
    #[serde(deserialize_with = "de::duration")]
    pub session_lifetime: Duration,
    /// `session_permanent_lifetime`: the lifetime once the session is permanent (31 days).
    #[serde(deserialize_with = "de::duration")]
    pub session_permanent_lifetime: Duration,
    /// `session_absolute_lifetime`: the lifetime from creation, whatever the activity. None by
    /// default for server-side sessions; a native `secure_cookie` session without one ends 31
    /// days after its creation (or its permanent lifetime, if longer), so a stolen cookie
    /// does not live for ever however often it is refreshed.
    #[serde(deserialize_with = "de::optional_duration")]
    pub session_absolute_lifetime: Option<Duration>,
    /// `refresh_interval`: how old a used session's last write may be before it is written
    /// again (none: a tenth of the lifetime).
    #[serde(deserialize_with = "de::optional_duration")]
    pub refresh_interval: Option<Duration>,
    /// `refresh_on_request`: slide the expiry while the session is used (on).
    pub refresh_on_request: bool,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            session_lifetime: DEFAULT_SESSION_LIFETIME,
            session_permanent_lifetime: DEFAULT_PERMANENT_LIFETIME,
            session_absolute_lifetime: None,
            refresh_interval: None,
            refresh_on_request: true,
        }
    }
}

/// Where a server-side session's store is ([`SessionConfig::backend`](super::SessionConfig::backend)).
///
/// Each store's connection keys sit here. `Debug` hides a password in `url`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct BackendOptions {
    /// `url`: the connection URL of a server store (`redis://…`, `postgres://…`, …).
    pub url: Option<String>,
    /// `path`: the database file of a `sqlite` session.
    pub path: Option<String>,
    /// `table`: the table (or collection) name (none: the store's, `sessions`).
    pub table: Option<String>,
    /// `purge_interval`: how often expired records are deleted from stores without native
    /// expiry (5 minutes).
    #[serde(deserialize_with = "de::duration")]
    pub purge_interval: Duration,
    /// `tls_ca_file`: the CA certificates (a PEM file) that verify the store server's certificate,
    /// instead of the system's roots (none). TLS itself is switched on by the URL (`rediss://`,
    /// `sslmode=`, `ssl-mode=`, `tls=true`); with a CA file, a mode that encrypts without verifying
    /// (`sslmode=require`, `ssl-mode=REQUIRED`) verifies the chain against it, as libpq does.
    #[serde(deserialize_with = "de::optional_string")]
    pub tls_ca_file: Option<String>,
    /// `redis_wait_replicas`: a `redis` session's writes wait until this many replicas confirm
    /// them (Redis's `WAIT`), and fail when fewer do within `redis_wait_timeout` (0: off, the
    /// default; Redis replicates asynchronously, so a failover can lose a write that no replica
    /// had yet).
    pub redis_wait_replicas: u32,
    /// `redis_wait_timeout`: how long a write waits for `redis_wait_replicas` (100 ms; at most
    /// 1.5 s, under the client's response timeout).
    #[serde(deserialize_with = "de::duration")]
    pub redis_wait_timeout: Duration,
}

/// The default `redis_wait_timeout`.
pub const DEFAULT_REDIS_WAIT_TIMEOUT: Duration = Duration::from_millis(100);

/// The longest `redis_wait_timeout` (the Redis store's own cap, checked equal where both are
/// compiled).
pub(crate) const MAX_REDIS_WAIT_TIMEOUT: Duration = Duration::from_millis(1_500);

impl fmt::Debug for BackendOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendOptions")
            .field("url", &self.url.as_deref().map(redact_password))
            .field("path", &self.path)
            .field("table", &self.table)
            .field("purge_interval", &self.purge_interval)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("redis_wait_replicas", &self.redis_wait_replicas)
            .field("redis_wait_timeout", &self.redis_wait_timeout)
            .finish()
    }
}

/// `scheme://user:secret@host/…` → `scheme://user:***@host/…`, for every comma-separated URL
/// (a Cluster or several Memcached servers), so logs and panics never show a password.
fn redact_password(url: &str) -> String {
    let redact_one = |url: &str| -> String {
        let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let tail = redact_query_password(tail);
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                let hidden = if userinfo.contains(':') { format!("{user}:***") } else { user.to_owned() };
                format!("{scheme}://{hidden}@{host}{tail}")
            }
            None => format!("{scheme}://{authority}{tail}"),
        }
    };
    url.split(',').map(redact_one).collect::<Vec<_>>().join(",")
}

/// `…?password=secret&x=1` → `…?password=***&x=1`, as sqlx's URLs allow.
fn redact_query_password(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else { return tail.to_owned() };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

impl Default for BackendOptions {
    fn default() -> Self {
        Self {
            url: None,
            path: None,
            table: None,
            purge_interval: Duration::from_secs(300),
            tls_ca_file: None,
            redis_wait_replicas: 0,
            redis_wait_timeout: DEFAULT_REDIS_WAIT_TIMEOUT,
        }
    }
}

/// The wire format, and itsdangerous's settings for a Flask-format cookie
/// ([`SessionConfig::flask`](super::SessionConfig::flask)).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FlaskOptions {
    /// `format`: whose wire format the session reads and writes (`native`).
    pub format: Format,
    /// `digest`: the signature's hash (none: see [`FlaskOptions::digest_or_default`]).
    pub digest: Option<FlaskDigest>,
    /// `salt`: the signature's salt (none: `cookie-session`).
    pub salt: Option<String>,
    /// `key_derivation`: how the signing key is derived (none: `hmac`).
    pub key_derivation: Option<FlaskKeyDerivation>,
}

impl FlaskOptions {
    /// The digest: as configured, else SHA3-256 for `flask-session-plus` and SHA-1 (Flask's) for
    /// the others.
    ///
    /// ```
    /// use session_plus::config::{FlaskDigest, Format};
    /// let session = session_plus::SessionConfig::new("s").with_format(Format::FlaskSessionPlus);
    /// assert_eq!(session.flask().digest_or_default(), FlaskDigest::Sha3_256);
    /// ```
    pub fn digest_or_default(&self) -> FlaskDigest {
        match (self.digest, self.format) {
            (Some(digest), _) => digest,
            (None, Format::FlaskSessionPlus) => FlaskDigest::Sha3_256,
            (None, _) => FlaskDigest::Sha1,
        }
    }

    /// The salt: as configured, else Flask's `cookie-session`.
    pub fn salt_or_default(&self) -> &str {
        self.salt.as_deref().unwrap_or("cookie-session")
    }

    /// The key derivation: as configured, else `hmac` (Flask's).
    pub fn key_derivation_or_default(&self) -> FlaskKeyDerivation {
        self.key_derivation.unwrap_or_default()
    }
}

/// The HTTP statuses of a store's failures ([`SessionConfig::on_error`](super::SessionConfig::on_error)).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ErrorStatuses {
    /// `load_error_status`: the response when the store cannot load the session (503).
    #[serde(deserialize_with = "de::error_status")]
    pub load_error_status: StatusCode,
    /// `save_error_status`: the response when the store cannot save it (500).
    #[serde(deserialize_with = "de::error_status")]
    pub save_error_status: StatusCode,
    /// `load_error_as_empty`: a store that cannot load the session makes it an empty session
    /// for this request instead of an error response (`false`), so that pages needing only other
    /// sessions (a CSRF cookie) survive the store's outage. The client's cookie is left as it is,
    /// and a change to the session is refused at the save (`save_error_status`): never lost, never
    /// written over the record the store still holds.
    pub load_error_as_empty: bool,
}

impl Default for ErrorStatuses {
    fn default() -> Self {
        Self {
            load_error_status: StatusCode::SERVICE_UNAVAILABLE,
            save_error_status: StatusCode::INTERNAL_SERVER_ERROR,
            load_error_as_empty: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_passwords_in_urls() {
        let cases = [
            ("postgres://app:s3cret@db:5432/test", "postgres://app:***@db:5432/test"),
            ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
            ("mysql://root@127.0.0.1/test", "mysql://root@127.0.0.1/test"),
            ("memcache://a:s3cret@h1:11211,memcache://h2:11211", "memcache://a:***@h1:11211,memcache://h2:11211"),
            ("postgres://h/db?user=a&password=s3cret&ssl=1", "postgres://h/db?user=a&password=***&ssl=1"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_password(url), shown);
            let options = BackendOptions { url: Some(url.to_owned()), ..BackendOptions::default() };
            let debug = format!("{options:?}");
            assert!(debug.contains(shown), "{debug}");
            assert!(!debug.contains("s3cret"), "{debug}");
        }
    }
}
