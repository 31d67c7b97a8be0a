//! Runs the built `session-plus` binary as a user would.

use std::process::{Command, Output};

const FLASK: &str = "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.tT7hhq0ULXtby1BLGd0qtzZi284";
const FSP: &str = "eyJjc3JmX3Rva2VuIjoiYWJjIiwidXNlcl9pZCI6NDJ9.ZVPxAA.TMcz2tGrNLkTCUYG9gH7_683iN_os1VMtayAWSYhkCo";
const SECRET: &str = "a test secret that is at least thirty-two bytes";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_session-plus")).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("session-plus-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn decodes_flask_and_flask_session_plus_cookies_and_says_which() {
    for (cookie, format) in [(FLASK, "format flask (sha1"), (FSP, "format flask-session-plus (sha3_256")] {
        let out = run(&["cookie", "decode", "--secret", "dev-secret-key", "--now", "1700000000", cookie]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let session: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(session, serde_json::json!({"csrf_token": "abc", "user_id": 42}));
        assert!(text(&out.stderr).contains(format), "{}", text(&out.stderr));
    }
}

#[test]
fn a_tampered_cookie_fails_with_the_reason() {
    let tampered = format!("{}5", &FLASK[..FLASK.len() - 1]);
    let out = run(&["cookie", "decode", "--secret", "dev-secret-key", "--format", "flask", &tampered]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("bad signature"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn an_expired_cookie_says_by_how_much() {
    let out = run(&[
        "cookie",
        "decode",
        "--secret",
        "dev-secret-key",
        "--format",
        "flask",
        "--max-age",
        "10",
        "--now",
        "1700000100",
        FLASK,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("expired by 90 s"), "{}", text(&out.stderr));
}

#[test]
fn native_cookies_round_trip_and_bind_their_name() {
    let out = run(&["cookie", "encode", "--secret", SECRET, "--name", "csrf", "--permanent", r#"{"csrf_token":"t"}"#]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let cookie = text(&out.stdout).trim().to_owned();
    let out = run(&["cookie", "decode", "--secret", SECRET, "--name", "csrf", &cookie]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
        serde_json::json!({"csrf_token": "t"})
    );
    assert!(text(&out.stderr).contains("format native (signed)") && text(&out.stderr).contains("permanent: true"));
    let out = run(&["cookie", "decode", "--secret", SECRET, "--name", "data", "--format", "native", &cookie]);
    assert_eq!(out.status.code(), Some(1), "another cookie name does not verify");
}

#[test]
fn config_check_prints_the_routing_table_or_names_the_fault() {
    let dir = temp_dir("check");
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        format!(
            "secret_keys = [\"{SECRET}\"]\n[[session]]\ncookie_name = \"csrf\"\nsession_fields = [\"csrf_token\"]\n\
             [[session]]\ncookie_name = \"session\"\nsession_type = \"sqlite\"\npath = \"x.db\"\nsession_fields = [\"user_id\"]\n\
             [[session]]\ncookie_name = \"data\"\nsession_fields = \"auto\"\n"
        ),
    )
    .unwrap();
    let out = run(&["config", "check", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("user_id -> session (sqlite session"), "{table}");
    assert!(table.contains("every other field -> data (secure_cookie session"), "{table}");

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[[session]]\ncookie_name = \"s\"\nsession_type = \"memory\"\ncookie_secure = \"yes\"\n")
        .unwrap();
    let out = run(&["config", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("session `s`, key `cookie_secure`"), "{}", text(&out.stderr));
}

#[test]
fn purge_removes_expired_sqlite_records() {
    let dir = temp_dir("purge");
    let config = dir.join("sessions.toml");
    let db = dir.join("sessions.db");
    std::fs::write(
        &config,
        format!("[[session]]\ncookie_name = \"session\"\nsession_type = \"sqlite\"\npath = \"{}\"\n", db.display()),
    )
    .unwrap();
    // First run creates the table; then two rows, one long expired.
    assert_eq!(run(&["purge", "--config", config.to_str().unwrap()]).status.code(), Some(0));
    let sql = "INSERT INTO sessions VALUES ('session:old', '{}', 0, 10, 0), ('session:live', '{}', 0, 99999999999, 0);";
    let status = Command::new("sqlite3").arg(&db).arg(sql).status().unwrap();
    assert!(status.success());
    let out = run(&["purge", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("purged 1 expired record"), "{}", text(&out.stdout));
    let left = Command::new("sqlite3").arg(&db).arg("SELECT id FROM sessions").output().unwrap();
    assert_eq!(text(&left.stdout).trim(), "session:live");
}

#[test]
fn help_everywhere_and_exit_2_on_bad_usage() {
    for args in [
        &["--help"][..],
        &["cookie", "decode", "--help"],
        &["cookie", "encode", "--help"],
        &["config", "check", "--help"],
        &["purge", "--help"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(text(&out.stdout).contains("Usage"), "{args:?}");
    }
    assert_eq!(run(&["cookie", "decode"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
}
