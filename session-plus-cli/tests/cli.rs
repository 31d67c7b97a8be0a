//! Runs the built `session-plus` binary as a person would, and checks its output and exit codes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};
use session_plus::store::{Record, SessionStore, SqliteStore};

/// Flask's cookie for `{"csrf_token": "abc", "user_id": 42}` at 1700000000, key `dev-secret-key`.
const FLASK: &str = "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.tT7hhq0ULXtby1BLGd0qtzZi284";
/// flask-session-plus's cookie (SHA3-256) for the same session, time and key.
const FLASK_SESSION_PLUS: &str =
    "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.TMcz2tGrNLkTCUYG9gH7_683iN_os1VMtayAWSYhkCo";
/// A native secret long enough for a configuration.
const SECRET: &str = "a test secret that is at least thirty-two bytes";

/// Runs the tool with `args`.
fn run(args: &[&str]) -> Output {
    run_with(args, &[])
}

/// Runs the tool with `args` and extra environment variables.
fn run_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_session-plus"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code, showing stderr when it differs.
fn assert_code(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "stdout: {}\nstderr: {}", stdout(out), stderr(out));
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("the temporary file is written");
}

#[test]
fn decodes_the_flask_vector_cookie_and_says_flask_sha1() {
    let out = run(&["cookie", "decode", "--secret", "dev-secret-key", "--now", "1700000000", FLASK]);
    assert_code(&out, 0);
    assert_eq!(json_of(&out), json!({"csrf_token": "abc", "user_id": 42}));
    assert_eq!(json_of(&out)["user_id"], 42);
    let err = stderr(&out);
    assert!(err.contains("format flask (sha1"), "{err}");
    assert!(err.contains("key 0 (the newest) of 1"), "{err}");
    assert!(err.contains("issued at 1700000000 (2023-11-14T22:13:20Z)"), "{err}");
}

/// Issue 10, item 9 (the reproduction): an integer beyond 64 bits in a Flask cookie is shown
/// with its digits, not as a float, and a tuple as its tagged form, not as a list.
#[test]
fn decode_shows_big_integers_and_tuples_exactly() {
    use session_plus::flask_wire::itsdangerous::TimedSerializer;
    let flask = TimedSerializer::flask(vec![b"dev-secret-key".to_vec()]);
    let text = r#"{"big":123456789012345678901234567890,"pair":{" t":[1,-98765432109876543210987654321]}}"#;
    let cookie = flask.dumps_text(text, 1_700_000_000).unwrap();
    let out = run(&["cookie", "decode", "--secret", "dev-secret-key", "--now", "1700000000", &cookie]);
    assert_code(&out, 0);
    assert_eq!(
        json_of(&out),
        json!({"big": {" i": "123456789012345678901234567890"},
               "pair": {" t": [1, {" i": "-98765432109876543210987654321"}]}})
    );
}

#[test]
fn decodes_the_flask_session_plus_vector_cookie() {
    let out = run(&["cookie", "decode", "--secret", "dev-secret-key", "--now", "1700000000", FLASK_SESSION_PLUS]);
    assert_code(&out, 0);
    assert_eq!(json_of(&out), json!({"csrf_token": "abc", "user_id": 42}));
    assert!(stderr(&out).contains("format flask-session-plus (sha3_256"), "{}", stderr(&out));
}

#[test]
fn older_keys_verify_and_env_keys_are_read() {
    let args = ["cookie", "decode", "--secret", "env:NEW_KEY", "--secret", "dev-secret-key", "--format", "flask"];
    let out = run_with(&[&args[..], &[FLASK]].concat(), &[("NEW_KEY", "a newer key")]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("key 1 of 2 (an older key"), "{}", stderr(&out));

    let out = run_with(&[&args[..], &[FLASK]].concat(), &[]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("`NEW_KEY` is not set"), "{}", stderr(&out));
}

#[test]
fn a_tampered_cookie_is_a_bad_signature_under_every_format() {
    let tampered = FLASK.replace("eyJjc3Jm", "eyJjc3Jn");
    let out = run(&["cookie", "decode", "--secret", "dev-secret-key", &tampered]);
    assert_code(&out, 1);
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(err.starts_with("session-plus: "), "{err}");
    assert!(err.contains("flask (sha1): bad signature under every key"), "{err}");
    assert!(err.contains("flask-session-plus (sha3_256): bad signature under every key"), "{err}");

    let out = run(&["cookie", "decode", "--secret", "dev-secret-key", "--format", "flask", &tampered]);
    assert_code(&out, 1);
    assert_eq!(stderr(&out).trim(), "session-plus: flask (sha1): bad signature under every key (1 tried)");
}

#[test]
fn an_expired_cookie_says_by_how_much() {
    let args = ["--secret", "dev-secret-key", "--max-age", "10", "--now", "1700000100", FLASK];
    let out = run(&[&["cookie", "decode"][..], &args].concat());
    assert_code(&out, 1);
    assert!(stderr(&out).contains("expired by 90 s"), "{}", stderr(&out));
    // The MAC verified under flask, so that is the only reason given.
    assert!(!stderr(&out).contains("flask-session-plus"), "{}", stderr(&out));
}

#[test]
fn a_cookie_from_the_future_is_refused() {
    let out = run(&["cookie", "decode", "--secret", "dev-secret-key", "--now", "1699999000", FLASK]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("issued in the future: at 1700000000"), "{}", stderr(&out));
    assert!(stderr(&out).contains("1000 s after now"), "{}", stderr(&out));
}

#[test]
fn malformed_and_too_large_values_say_so() {
    let out = run(&["cookie", "decode", "--secret", SECRET, "--name", "csrf", "--format", "native", "1.%%%.x"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("native: malformed"), "{}", stderr(&out));

    let big = "x".repeat(5000);
    let out = run(&["cookie", "decode", "--secret", SECRET, &big]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("too large: 5000 bytes"), "{}", stderr(&out));
}

#[test]
fn native_signed_cookies_round_trip_and_bind_their_name() {
    let out = run(&[
        "cookie",
        "encode",
        "--secret",
        SECRET,
        "--name",
        "csrf",
        "--permanent",
        "--now",
        "1700000000",
        r#"{"csrf_token":"t"}"#,
    ]);
    assert_code(&out, 0);
    let cookie = stdout(&out).trim().to_owned();
    assert!(cookie.starts_with("1."), "{cookie}");

    let out = run(&["cookie", "decode", "--secret", SECRET, "--name", "csrf", "--now", "1700000005", &cookie]);
    assert_code(&out, 0);
    assert_eq!(json_of(&out), json!({"csrf_token": "t"}));
    let err = stderr(&out);
    assert!(err.contains("format native (signed"), "{err}");
    assert!(err.contains("issued at 1700000000") && err.contains("5 s before now"), "{err}");
    assert!(err.contains("permanent: true"), "{err}");

    let out = run(&["cookie", "decode", "--secret", SECRET, "--name", "data", "--format", "native", &cookie]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("bad signature under every key"), "{}", stderr(&out));
}

#[test]
fn native_encrypted_cookies_round_trip_from_stdin() {
    let out = run(&["cookie", "encode", "--encrypt", "--secret", SECRET, "--name", "data", r#"{"theme":"dark"}"#]);
    assert_code(&out, 0);
    let cookie = stdout(&out).trim().to_owned();
    assert!(cookie.starts_with("2.") && !cookie.contains("dark"), "{cookie}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_session-plus"))
        .args(["cookie", "decode", "--secret", SECRET, "--name", "data", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), cookie.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_code(&out, 0);
    assert_eq!(json_of(&out), json!({"theme": "dark"}));
    assert!(stderr(&out).contains("format native (encrypted"), "{}", stderr(&out));
}

#[test]
fn flask_encode_gives_flasks_own_cookie() {
    for (format, expected) in [("flask", FLASK), ("flask-session-plus", FLASK_SESSION_PLUS)] {
        let out = run(&[
            "cookie",
            "encode",
            "--format",
            format,
            "--secret",
            "dev-secret-key",
            "--now",
            "1700000000",
            r#"{"csrf_token":"abc","user_id":42}"#,
        ]);
        assert_code(&out, 0);
        assert_eq!(stdout(&out).trim(), expected);
    }
}

#[test]
fn config_check_prints_the_routing_table() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sessions.toml");
    write(
        &file,
        &format!(
            r#"secret_keys = ["{SECRET}"]

[[session]]
cookie_name = "csrf"
session_fields = ["csrf_token"]

[[session]]
cookie_name = "session"
session_type = "sqlite"
session_fields = ["user_id", "user_data"]
path = "does-not-exist/never-opened.db"

[[session]]
cookie_name = "data"
session_fields = "auto"
bind_to = "session"
"#
        ),
    );
    let out = run(&["config", "check", file.to_str().unwrap()]);
    assert_code(&out, 0);
    let table = stdout(&out);
    assert!(table.contains("is valid: 3 session(s)"), "{table}");
    assert!(
        table.lines().any(|l| l.trim_start().starts_with("data") && l.contains("secure_cookie, bound to session")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["session", "sqlite", "native", "user_data,", "user_id"]),
        "{table}"
    );
    assert!(table.lines().any(|l| l.starts_with("user_id") && l.ends_with("→ session (sqlite)")), "{table}");
    assert!(table.lines().any(|l| l.starts_with("csrf_token") && l.ends_with("→ csrf (secure_cookie)")), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with("every other field") && l.ends_with("→ data (secure_cookie)")),
        "{table}"
    );
    // Checking connects to no store: the SQLite file was not created.
    assert!(!dir.path().join("does-not-exist").exists());
}

#[test]
fn config_check_names_the_session_and_key_of_a_fault() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    write(&file, "[[session]]\ncookie_name = \"s\"\nsession_type = \"memory\"\ncookie_samsite = \"Lax\"\n");
    let out = run(&["config", "check", file.to_str().unwrap()]);
    assert_code(&out, 1);
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(err.starts_with("session-plus: "), "{err}");
    assert!(err.contains("session `s`, key `cookie_samsite`: unknown key"), "{err}");

    let out = run(&["config", "check", dir.path().join("missing.toml").to_str().unwrap()]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

#[test]
fn purge_removes_expired_sqlite_records() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let config = dir.path().join("sessions.toml");
    write(
        &config,
        &format!(
            "[[session]]\ncookie_name = \"session\"\nsession_type = \"sqlite\"\npath = {:?}\n\n\
             [[session]]\ncookie_name = \"cache\"\nsession_type = \"memory\"\n",
            db.to_str().unwrap()
        ),
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = runtime.block_on(async {
        let store = SqliteStore::connect(db.to_str().unwrap()).await.unwrap();
        store.migrate().await.unwrap();
        for (key, expires_at) in [("session:old", 10), ("session:older", 5), ("session:live", 99_999_999_999)] {
            assert!(store.create(key, &Record { created_at: 0, expires_at, ..Default::default() }).await.unwrap());
        }
        store
    });

    let out = run(&["purge", "--config", config.to_str().unwrap()]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.starts_with("purged 2 expired record(s)"), "{text}");
    assert!(text.contains("session (sqlite): expired records deleted"), "{text}");
    runtime.block_on(async {
        assert!(store.load("session:old").await.unwrap().is_none());
        assert!(store.load("session:live").await.unwrap().is_some());
    });

    let out = run(&["purge", "--config", config.to_str().unwrap()]);
    assert_code(&out, 0);
    assert!(stdout(&out).starts_with("purged 0 expired record(s)"), "{}", stdout(&out));
}

#[test]
fn help_on_every_subcommand() {
    for args in [
        &["--help"][..],
        &["cookie", "--help"],
        &["cookie", "decode", "--help"],
        &["cookie", "encode", "--help"],
        &["config", "--help"],
        &["config", "check", "--help"],
        &["purge", "--help"],
        &["help", "cookie", "decode"],
    ] {
        let out = run(args);
        assert_code(&out, 0);
        assert!(stdout(&out).contains("Usage: session-plus"), "{args:?}: {}", stdout(&out));
    }
    assert!(stdout(&run(&["cookie", "decode", "--help"])).contains("--max-age <SECONDS>"));
    assert_code(&run(&["--version"]), 0);
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["cookie", "decode"],
        &["cookie", "decode", "--secret", "k", "--format", "json", "v"],
        &["cookie", "decode", "--secret", "k", "--max-age", "soon", "v"],
        &["cookie", "decode", "--secret", "k", "--format", "native", "v"],
        &["cookie", "encode", "--secret", SECRET, r#"{"a":1}"#],
        &["cookie", "encode", "--secret", SECRET, "--name", "n", "not json"],
        &["cookie", "encode", "--secret", SECRET, "--format", "flask", "--encrypt", "{}"],
        &["config", "check"],
        &["purge"],
    ] {
        let out = run(args);
        assert_code(&out, 2);
        assert!(stderr(&out).starts_with("session-plus: "), "{args:?}: {}", stderr(&out));
    }
}
