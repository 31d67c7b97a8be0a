//! The configuration's unit tests: reading, defaults, and errors that name the session and the key.

use std::time::Duration;

use super::*;

const KEY: &str = "a literal key for development, at least 32 bytes long";

fn toml(body: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(&format!("secret_keys = [\"{KEY}\"]\n{body}"))
}

#[test]
fn seed_example_parses_with_defaults() {
    let config = toml(
        r#"
        [[session]]
        cookie_name = "csrf"
        session_type = "secure_cookie"
        session_fields = ["csrf_token"]

        [[session]]
        cookie_name = "session"
        session_type = "sqlite"
        session_fields = ["user_id", "user_data"]
        path = "sessions.db"

        [[session]]
        cookie_name = "data"
        session_type = "secure_cookie"
        session_fields = "auto"
        "#,
    )
    .unwrap();
    let s = &config.sessions()[1];
    assert_eq!(s.session_type, SessionType::Sqlite);
    assert_eq!(s.cookie.cookie_path, "/");
    assert!(s.cookie.cookie_httponly);
    assert!(!s.cookie.cookie_secure);
    assert_eq!(s.cookie.cookie_samesite, SameSite::Lax);
    assert_eq!(s.cookie.cookie_max_age, None);
    assert_eq!(s.lifetimes.session_lifetime, Duration::from_secs(86_400));
    assert_eq!(s.lifetimes.session_permanent_lifetime, Duration::from_secs(2_678_400));
    assert_eq!(s.lifetimes.session_absolute_lifetime, None);
    assert_eq!(s.key_prefix, "session");
    assert!(!s.use_signer);
    assert!(s.lifetimes.refresh_on_request);
    assert_eq!(s.refresh_secs(false), 8_640);
    assert_eq!(config.sessions()[2].session_fields, FieldSelector::Auto);
    assert_eq!(config.sessions()[0].session_type, SessionType::SecureCookie);
}

#[test]
fn json_and_durations() {
    let config = Config::from_json_str(&format!(
        r#"{{"secret_keys": ["{KEY}"], "session": [
            {{"cookie_name": "a", "session_lifetime": "30m", "session_permanent_lifetime": 7200,
              "session_absolute_lifetime": "1d", "cookie_max_age": "90s", "refresh_interval": "1m",
              "session_fields": {{"include": [], "exclude": ["x"]}}}}
        ]}}"#
    ))
    .unwrap();
    let s = &config.sessions()[0];
    assert_eq!(s.lifetimes.session_lifetime, Duration::from_secs(1800));
    assert_eq!(s.lifetimes.session_permanent_lifetime, Duration::from_secs(7200));
    assert_eq!(s.lifetimes.session_absolute_lifetime, Some(Duration::from_secs(86_400)));
    assert_eq!(s.cookie.cookie_max_age, Some(Duration::from_secs(90)));
    assert_eq!(s.lifetimes.refresh_interval, Some(Duration::from_secs(60)));
    assert!(matches!(&s.session_fields, FieldSelector::IncludeExclude { include, exclude }
        if include.is_empty() && exclude.contains("x")));
}

fn fails(body: &str, session: Option<&str>, key: &str) -> String {
    let err = toml(body).expect_err(body);
    assert_eq!(err.session(), session, "{err}");
    assert_eq!(err.key(), Some(key), "{err}");
    err.to_string()
}

#[test]
fn bad_configs_name_session_and_key() {
    fails("[[session]]\ncookie_name = \"a\"\nfoo = 1", Some("a"), "foo");
    fails("[[session]]\ncookie_name = \"a\"\n[[session]]\ncookie_name = \"a\"", Some("a"), "cookie_name");
    fails(
        "[[session]]\ncookie_name = \"a\"\nsession_fields = \"auto\"\n[[session]]\ncookie_name = \"b\"\nsession_fields = \"auto\"",
        Some("b"),
        "session_fields",
    );
    fails(
        "[[session]]\ncookie_name = \"__Host-s\"\ncookie_secure = true\ncookie_domain = \"x.com\"",
        Some("__Host-s"),
        "cookie_domain",
    );
    fails("[[session]]\ncookie_name = \"__Host-s\"", Some("__Host-s"), "cookie_secure");
    fails(
        "[[session]]\ncookie_name = \"__Host-s\"\ncookie_secure = true\ncookie_path = \"/a\"",
        Some("__Host-s"),
        "cookie_path",
    );
    let msg = fails(
        "[[session]]\ncookie_name = \"a\"\nsession_fields = { include = [\"x\"], exclude = [\"x\"] }",
        Some("a"),
        "session_fields",
    );
    assert!(msg.contains("`x`"), "{msg}");
    fails("[[session]]\ncookie_name = \"a\"\ncookie_samesite = \"sideways\"", Some("a"), "cookie_samesite");
    fails("[[session]]\ncookie_name = \"a\"\nsession_lifetime = \"soon\"", Some("a"), "session_lifetime");
    fails("[[session]]\ncookie_name = \"a\"\ncookie_secure = \"yes\"", Some("a"), "cookie_secure");
    fails("[[session]]\ncookie_name = \"a\"\nsession_type = \"oracle\"", Some("a"), "session_type");
    fails("[[session]]\ncookie_name = \"a\"\nsession_type = \"sqlite\"", Some("a"), "path");
    fails("[[session]]\ncookie_name = \"a\"\nsession_type = \"memory\"\nencrypt = true", Some("a"), "encrypt");
    fails("[[session]]\nsession_type = \"memory\"", Some("#1"), "cookie_name");
    fails(
        "[[session]]\ncookie_name = \"a\"\nsession_lifetime = 60\nrefresh_interval = 60",
        Some("a"),
        "refresh_interval",
    );
    fails("[[session]]\ncookie_name = \"a b\"", Some("a b"), "cookie_name");
    fails("bogus = 1\n[[session]]\ncookie_name = \"a\"", None, "bogus");
}

/// Issue 10, item 9: the Flask formats record no creation time (a Flask cookie, a
/// flask-session-plus or Flask-Session record), so `session_absolute_lifetime` cannot be enforced
/// on them: it is refused at start-up, naming the session and the key.
#[test]
fn absolute_lifetime_with_a_flask_format_is_refused() {
    for (format, session_type) in [
        ("flask", "secure_cookie"),
        ("flask-session-plus", "secure_cookie"),
        ("flask-session-plus", "redis"),
        ("flask-session-plus", "memcache"),
        ("flask-session-plus", "mongodb"),
        ("flask-session", "redis"),
    ] {
        let body = format!(
            "[[session]]\ncookie_name = \"a\"\nsession_type = \"{session_type}\"\nurl = \"redis://127.0.0.1\"\n\
             format = \"{format}\"\nsecret_keys = [\"dev\"]\nsession_absolute_lifetime = \"1d\""
        );
        let body =
            if session_type == "secure_cookie" { body.replace("url = \"redis://127.0.0.1\"\n", "") } else { body };
        let body = if session_type == "memcache" { body.replace("redis://", "memcache://") } else { body };
        let body = if session_type == "mongodb" { body.replace("redis://", "mongodb://") } else { body };
        let msg = fails(&body, Some("a"), "session_absolute_lifetime");
        assert!(msg.contains("no creation time"), "{format} on {session_type}: {msg}");
    }
    // Issue 11, item 3: flask-session-plus's MongoDB records are a format of their own; Flask's
    // cookie and Flask-Session's records have no MongoDB form.
    let mongo = |format: &str| {
        format!(
            "[[session]]\ncookie_name = \"a\"\nsession_type = \"mongodb\"\nurl = \"mongodb://127.0.0.1/app\"\n\
             format = \"{format}\""
        )
    };
    toml(&mongo("flask-session-plus")).unwrap();
    for format in ["flask", "flask-session"] {
        let msg = fails(&mongo(format), Some("a"), "format");
        assert!(msg.contains("does not apply to a mongodb session"), "{msg}");
    }
    // The native format enforces it.
    toml("[[session]]\ncookie_name = \"a\"\nsecret_keys = [\"a-secret-key-of-32-bytes-or-more!\"]\nsession_absolute_lifetime = \"1d\"")
        .unwrap();
}

#[test]
fn cookie_session_without_secret_is_refused() {
    let err = Config::from_toml_str("[[session]]\ncookie_name = \"csrf\"").unwrap_err();
    assert_eq!((err.session(), err.key()), (Some("csrf"), Some("secret_keys")));
    let err = Config::from_toml_str("secret_keys = [\"short\"]\n[[session]]\ncookie_name = \"csrf\"").unwrap_err();
    assert_eq!(err.key(), Some("secret_keys"));
    // A server-side session without signer needs no key.
    Config::from_toml_str("[[session]]\ncookie_name = \"s\"\nsession_type = \"memory\"").unwrap();
}

#[test]
fn env_keys_resolve_at_build_time() {
    let key = SecretKey::parse("env:SESSION_PLUS_TEST_UNSET_VARIABLE".into());
    let err = key.resolve().unwrap_err();
    assert!(err.message().contains("SESSION_PLUS_TEST_UNSET_VARIABLE"));
    assert_eq!(format!("{:?}", SecretKey::parse(KEY.into())), "SecretKey::Literal(..)");
}

#[test]
fn embeds_in_application_settings() {
    #[derive(serde::Deserialize)]
    struct AppSettings {
        port: u16,
        sessions: Config,
    }
    let settings: AppSettings = toml::from_str(&format!(
        r#"
        port = 8080

        [sessions]
        secret_keys = ["{KEY}"]

        [[sessions.session]]
        cookie_name = "csrf"
        session_fields = ["csrf_token"]
        cookie_secure = true

        [[sessions.session]]
        cookie_name = "session"
        session_type = "memory"
        session_lifetime = "2h"
        load_error_status = 500
        "#
    ))
    .unwrap();
    assert_eq!(settings.port, 8080);
    let sessions = settings.sessions.sessions();
    assert_eq!(sessions.len(), 2);
    assert!(sessions[0].cookie().cookie_secure);
    assert_eq!(sessions[1].lifetimes().session_lifetime, Duration::from_secs(7200));
    assert_eq!(sessions[1].on_error().load_error_status, http::StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(sessions[1].on_error().save_error_status, http::StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn embedded_unknown_key_names_session_and_key() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct AppSettings {
        port: u16,
        sessions: Config,
    }
    let err = toml::from_str::<AppSettings>(
        "port = 1\n[sessions]\n[[sessions.session]]\ncookie_name = \"csrf\"\ncookie_samsite = \"Lax\"",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("session `csrf`, key `cookie_samsite`: unknown key; expected one of: cookie_name,"), "{err}");
    // The same through serde_json, and a check between sessions.
    let err = serde_json::from_value::<AppSettings>(serde_json::json!({"port": 1, "sessions": {"sessions": [
        {"cookie_name": "s", "session_type": "memory"}, {"cookie_name": "s", "session_type": "memory"}]}}))
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("session `s`, key `cookie_name`: is used by another session too"), "{err}");
}

#[test]
fn unknown_key_lists_every_key_once() {
    let msg = fails("[[session]]\ncookie_name = \"a\"\nfoo = 1", Some("a"), "foo");
    let list = msg.split("expected one of: ").nth(1).unwrap();
    let keys: Vec<&str> = list.split(", ").collect();
    for key in [
        "cookie_name",
        "session_type",
        "session_fields",
        "cookie_domain",
        "cookie_path",
        "cookie_httponly",
        "cookie_secure",
        "cookie_samesite",
        "cookie_max_age",
        "session_lifetime",
        "session_permanent_lifetime",
        "session_absolute_lifetime",
        "refresh_interval",
        "key_prefix",
        "use_signer",
        "refresh_on_request",
        "encrypt",
        "path",
        "url",
        "table",
        "purge_interval",
        "tls_ca_file",
        "redis_wait_replicas",
        "redis_wait_timeout",
        "load_error_status",
        "save_error_status",
        "load_error_as_empty",
        "format",
        "digest",
        "salt",
        "key_derivation",
        "secret_keys",
        "bind_to",
    ] {
        assert_eq!(keys.iter().filter(|k| **k == key).count(), 1, "{key} in {list}");
    }
    assert_eq!(keys.len(), 33, "{list}");
}

#[test]
fn group_field_lists_come_from_the_derives() {
    assert_eq!(
        de::fields::<CookieOptions>(),
        ["cookie_domain", "cookie_path", "cookie_httponly", "cookie_secure", "cookie_samesite", "cookie_max_age"]
    );
    assert_eq!(de::fields::<ErrorStatuses>(), ["load_error_status", "save_error_status", "load_error_as_empty"]);
    assert_eq!(de::session_keys()[0], "cookie_name");
}

#[test]
fn type_errors_name_the_key_and_keep_the_session_label() {
    let msg = fails("[[session]]\ncookie_name = \"a\"\nsession_fields = [\"x\", 1]", Some("a"), "session_fields");
    assert!(msg.contains("expected a string"), "{msg}");
    fails(
        "[[session]]\ncookie_name = \"a\"\nsession_fields = { include = [\"x\"], only = [] }",
        Some("a"),
        "session_fields",
    );
    fails("[[session]]\ncookie_name = \"a\"\nsession_fields = \"some\"", Some("a"), "session_fields");
    fails("[[session]]\ncookie_name = \"a\"\ncookie_max_age = -5", Some("a"), "cookie_max_age");
    fails("[[session]]\ncookie_name = \"a\"\npurge_interval = 1.5", Some("a"), "purge_interval");
    fails("[[session]]\ncookie_name = \"a\"\nformat = \"django\"", Some("a"), "format");
    fails("[[session]]\ncookie_name = \"a\"\nsecret_keys = [1]", Some("a"), "secret_keys");
    fails("[[session]]\ncookie_name = 1", Some("#1"), "cookie_name");
    fails(
        "[[session]]\ncookie_name = \"a\"\nsession_type = \"memory\"\n[[session]]\nurl = \"x\"",
        Some("#2"),
        "cookie_name",
    );
    let err = Config::from_json_str(r#"{"session": [1]}"#).unwrap_err();
    assert_eq!((err.session(), err.key()), (Some("#1"), None));
    let err = Config::from_json_str(r#"{"secret_keys": "k"}"#).unwrap_err();
    assert_eq!((err.session(), err.key()), (None, Some("secret_keys")));
}

#[test]
fn none_clears_optional_keys() {
    let config = toml(
        "[[session]]\ncookie_name = \"a\"\ncookie_domain = \"none\"\ncookie_max_age = \"None\"\nrefresh_interval = \"none\"\nsession_absolute_lifetime = \"3600\"",
    )
    .unwrap();
    let s = &config.sessions()[0];
    assert_eq!((&s.cookie.cookie_domain, s.cookie.cookie_max_age), (&None, None));
    assert_eq!(s.lifetimes.refresh_interval, None);
    assert_eq!(s.lifetimes.session_absolute_lifetime, Some(Duration::from_secs(3600)));
    let config = Config::from_json_str(&format!(
        r#"{{"secret_keys": ["{KEY}"], "sessions": [{{"cookie_name": "a", "cookie_max_age": null, "cookie_domain": null}}]}}"#
    ))
    .unwrap();
    assert_eq!(config.sessions()[0].cookie.cookie_max_age, None);
}

#[test]
fn error_statuses_are_http_errors() {
    let s = SessionConfig::new("s");
    assert_eq!(s.on_error.load_error_status, http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(s.on_error.save_error_status, http::StatusCode::INTERNAL_SERVER_ERROR);
    let msg = fails("[[session]]\ncookie_name = \"a\"\nload_error_status = 200", Some("a"), "load_error_status");
    assert!(msg.ends_with("must be an HTTP error status (400-599), not 200 OK"), "{msg}");
    fails("[[session]]\ncookie_name = \"a\"\nsave_error_status = 1000", Some("a"), "save_error_status");
    fails("[[session]]\ncookie_name = \"a\"\nsave_error_status = \"500\"", Some("a"), "save_error_status");
    let config = Config::new().with_secret_key(KEY).with_session(
        SessionConfig::new("a").with_error_statuses(http::StatusCode::OK, http::StatusCode::INTERNAL_SERVER_ERROR),
    );
    let err = config.validate().unwrap_err();
    assert_eq!((err.session(), err.key()), (Some("a"), Some("load_error_status")));
}

#[test]
fn cookie_domain_and_path_cannot_inject_attributes() {
    for (key, value) in [
        ("cookie_domain", "example.com; HttpOnly"),
        ("cookie_domain", "a.com,b.com"),
        ("cookie_path", "/a\\r\\nSet-Cookie: x=1"),
        ("cookie_path", "/a\\nb"),
        ("cookie_path", "/a\\u0000"),
        ("cookie_path", "/a;b"),
    ] {
        fails(&format!("[[session]]\ncookie_name = \"a\"\n{key} = \"{value}\""), Some("a"), key);
    }
    let config = Config::new().with_secret_key(KEY).with_session(SessionConfig::new("a").with_domain("x.com\t"));
    assert_eq!(config.validate().unwrap_err().key(), Some("cookie_domain"));
    toml("[[session]]\ncookie_name = \"a\"\ncookie_domain = \"example.com\"\ncookie_path = \"/app/x-y_z\"").unwrap();
}

#[test]
fn flask_settings_are_typed_once() {
    let config = toml(
        "[[session]]\ncookie_name = \"a\"\nformat = \"flask\"\nsecret_keys = [\"dev\"]\ndigest = \"sha256\"\nkey_derivation = \"none\"",
    )
    .unwrap();
    let flask = config.sessions()[0].flask();
    assert_eq!((flask.format, flask.digest), (Format::Flask, Some(FlaskDigest::Sha256)));
    // `none` is a derivation here, not an absent key.
    assert_eq!(flask.key_derivation, Some(FlaskKeyDerivation::None));
    assert_eq!(flask.salt_or_default(), "cookie-session");
    let msg = fails(
        "[[session]]\ncookie_name = \"a\"\nformat = \"flask\"\nsecret_keys = [\"dev\"]\ndigest = \"md5\"",
        Some("a"),
        "digest",
    );
    assert!(msg.ends_with("expected one of sha1, sha256, sha3_256, sha512, not `md5`"), "{msg}");
    fails(
        "[[session]]\ncookie_name = \"a\"\nformat = \"flask\"\nsecret_keys = [\"dev\"]\nkey_derivation = \"pbkdf2\"",
        Some("a"),
        "key_derivation",
    );
    fails("[[session]]\ncookie_name = \"a\"\ndigest = \"sha1\"", Some("a"), "digest");
    let plus = SessionConfig::new("a").with_format(Format::FlaskSessionPlus);
    assert_eq!(plus.flask().digest_or_default(), FlaskDigest::Sha3_256);
    assert_eq!(plus.flask().key_derivation_or_default(), FlaskKeyDerivation::Hmac);
    assert_eq!(SessionConfig::new("a").with_format(Format::Flask).flask().digest_or_default(), FlaskDigest::Sha1);
}

#[test]
fn a_session_deserializes_alone() {
    let session: SessionConfig =
        serde_json::from_str(r#"{"cookie_name": "s", "session_type": "redis", "url": "redis://localhost"}"#).unwrap();
    assert_eq!(session.backend().url.as_deref(), Some("redis://localhost"));
    let err = serde_json::from_str::<SessionConfig>(r#"{"session_type": "redis"}"#).unwrap_err().to_string();
    assert!(err.starts_with("session `#1`, key `cookie_name`: is required"), "{err}");
    let err = serde_json::from_str::<SessionConfig>(r#"{"cookie_name": "s", "session_type": "redis"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("session `s`, key `url`"), "{err}");
}

#[test]
fn groups_deserialize_straight_from_toml() {
    // TOML gives integers as i64; the helpers take them as seconds and statuses all the same.
    let lifetimes: Lifetimes = toml::from_str("session_lifetime = 60\nrefresh_interval = \"none\"").unwrap();
    assert_eq!((lifetimes.session_lifetime, lifetimes.refresh_interval), (Duration::from_secs(60), None));
    let statuses: ErrorStatuses = toml::from_str("load_error_status = 429").unwrap();
    assert_eq!(statuses.load_error_status, http::StatusCode::TOO_MANY_REQUESTS);
    assert!(toml::from_str::<ErrorStatuses>("save_error_status = 302").is_err());
    assert!(toml::from_str::<CookieOptions>("cookie_secure = true\nurl = \"x\"").is_err());
}

/// Issue 10, item 8: two server sessions on one store must not share store keys, or a client
/// could present one session's id as the other's cookie.
#[test]
fn sessions_on_one_store_need_their_own_key_space() {
    let redis = |name: &str, prefix: &str| {
        format!("[[session]]\ncookie_name = \"{name}\"\nsession_type = \"redis\"\nurl = \"redis://127.0.0.1/0\"\nkey_prefix = \"{prefix}\"\n")
    };
    let msg = fails(&format!("{}{}", redis("a", "session"), redis("b", "session")), Some("b"), "key_prefix");
    assert!(msg.contains("`a`"), "{msg}");
    // One prefix starting the other is a clash too: `s:` + id and `s:x` + id can meet.
    fails(&format!("{}{}", redis("a", "s"), redis("b", "s:x")), Some("b"), "key_prefix");
    // Separate prefixes, servers or tables are fine; so are memory stores (one per session).
    toml(&format!("{}{}", redis("a", "one"), redis("b", "two"))).unwrap();
    let other_db = redis("b", "session").replace("/0", "/1");
    toml(&format!("{}{other_db}", redis("a", "session"))).unwrap();
    let sql = |name: &str, table: &str| {
        format!(
            "[[session]]\ncookie_name = \"{name}\"\nsession_type = \"sqlite\"\npath = \"s.db\"\ntable = \"{table}\"\n"
        )
    };
    fails(&format!("{}{}", sql("a", "t"), sql("b", "t")), Some("b"), "key_prefix");
    toml(&format!("{}{}", sql("a", "t1"), sql("b", "t2"))).unwrap();
    let memory = |name: &str| format!("[[session]]\ncookie_name = \"{name}\"\nsession_type = \"memory\"\n");
    toml(&format!("{}{}", memory("a"), memory("b"))).unwrap();
}

/// Issue 10, item 1: `bind_to` names a server-side session of the same configuration, and only a
/// native cookie session can be bound (its MAC covers the server session's id).
#[test]
fn bind_to_names_a_server_session_and_binds_only_native_cookies() {
    let server = "[[session]]\ncookie_name = \"session\"\nsession_type = \"memory\"\nsession_fields = [\"user_id\"]\n";
    let data = |extra: &str| format!("[[session]]\ncookie_name = \"data\"\nsession_fields = \"auto\"\n{extra}\n");
    let config = toml(&format!("{server}{}", data("bind_to = \"session\""))).unwrap();
    assert_eq!(config.sessions()[1].bind_to(), Some("session"));
    assert_eq!(config.sessions()[0].bind_to(), None);

    let msg = fails(&format!("{server}{}", data("bind_to = \"sesion\"")), Some("data"), "bind_to");
    assert!(msg.contains("no session is named `sesion`"), "{msg}");
    let cookie_target = "[[session]]\ncookie_name = \"csrf\"\nsession_fields = [\"csrf_token\"]\n";
    let msg = fails(&format!("{cookie_target}{}", data("bind_to = \"csrf\"")), Some("data"), "bind_to");
    assert!(msg.contains("records live on a server"), "{msg}");
    // Only a cookie session is bound: a server session's id is already revoked with its record.
    fails(&format!("{server}[[session]]\ncookie_name = \"other\"\nsession_type = \"memory\"\nkey_prefix = \"o\"\nbind_to = \"session\"\n"), Some("other"), "bind_to");
    // Flask's cookies cannot carry the binding.
    fails(&format!("{server}{}", data("format = \"flask\"\nbind_to = \"session\"")), Some("data"), "bind_to");
}

/// Issue 10, item 1: a native cookie session that configures no absolute lifetime ends 31 days
/// after its creation (or after its permanent lifetime, if longer); server sessions keep none.
#[test]
fn native_cookie_sessions_get_a_default_absolute_lifetime() {
    let config = toml(
        "[[session]]\ncookie_name = \"a\"\n[[session]]\ncookie_name = \"b\"\nsession_permanent_lifetime = \"60d\"\n\
         [[session]]\ncookie_name = \"c\"\nsession_absolute_lifetime = \"8h\"\n\
         [[session]]\ncookie_name = \"d\"\nsession_type = \"memory\"\n",
    )
    .unwrap();
    let absolute: Vec<Option<i64>> = config.sessions().iter().map(SessionConfig::absolute_secs).collect();
    assert_eq!(absolute, [Some(31 * 86_400), Some(60 * 86_400), Some(8 * 3600), None]);
}

#[test]
fn tls_ca_file_is_refused_without_a_server() {
    for (session_type, extra) in [
        ("secure_cookie", ""),
        ("memory", ""),
        ("sqlite", "path = \"s.db\"\n"),
        ("memcache", "url = \"memcache://h\"\n"),
    ] {
        let body = format!(
            "[[session]]\ncookie_name = \"a\"\nsession_type = \"{session_type}\"\n{extra}tls_ca_file = \"ca.pem\""
        );
        let msg = fails(&body, Some("a"), "tls_ca_file");
        assert!(msg.contains(session_type), "{msg}");
    }
    let body =
        "[[session]]\ncookie_name = \"a\"\nsession_type = \"redis\"\nurl = \"rediss://h\"\ntls_ca_file = \"ca.pem\"";
    let config = toml(body).unwrap();
    assert_eq!(config.sessions()[0].backend().tls_ca_file.as_deref(), Some("ca.pem"));
}

/// Issue 14, item 9: `WAIT` after every write, on redis sessions only, with a timeout that
/// neither blocks for ever (0) nor outlives the client's response timeout.
#[test]
fn redis_wait_is_read_and_checked() {
    let redis = "[[session]]\ncookie_name = \"a\"\nsession_type = \"redis\"\nurl = \"redis://h\"\n";
    let config = toml(&format!("{redis}redis_wait_replicas = 1\nredis_wait_timeout = \"250ms\"")).unwrap();
    let backend = config.sessions()[0].backend();
    assert_eq!((backend.redis_wait_replicas, backend.redis_wait_timeout), (1, Duration::from_millis(250)));
    let defaults = toml(redis).unwrap();
    assert_eq!(defaults.sessions()[0].backend().redis_wait_replicas, 0);
    assert_eq!(defaults.sessions()[0].backend().redis_wait_timeout, crate::config::DEFAULT_REDIS_WAIT_TIMEOUT);
    for timeout in ["0", "\"2s\""] {
        let msg = fails(
            &format!("{redis}redis_wait_replicas = 1\nredis_wait_timeout = {timeout}"),
            Some("a"),
            "redis_wait_timeout",
        );
        assert!(msg.contains("between 1 ms and 1.5 s"), "{msg}");
    }
    let msg = fails(
        "[[session]]\ncookie_name = \"a\"\nsession_type = \"memory\"\nredis_wait_replicas = 1",
        Some("a"),
        "redis_wait_replicas",
    );
    assert!(msg.contains("only to a redis session"), "{msg}");
}
