//! What the demo's test binaries share: the demo binary, started as a user would start it.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The secret every demo started here signs with.
pub(crate) const SECRET: &str = "a demo test secret, at least thirty-two bytes long";

/// A running demo, stopped (and its directory removed) on drop.
pub(crate) struct Demo {
    child: Child,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub(crate) url: String,
    dir: std::path::PathBuf,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the demo binary on a free port with `extra` arguments, in a directory of its own
/// (where the SQLite configurations make their database), once it says where it listens.
pub(crate) fn start(extra: &[&str]) -> Demo {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("session-plus-demo-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_session-plus-demo"))
        .args(["--port", "0"])
        .args(extra)
        .current_dir(&dir)
        .env("SESSION_SECRET", SECRET)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().trim_end_matches('/').to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    Demo { child, url, dir }
}

/// The CSRF token in a page's form.
pub(crate) fn token(html: &str) -> String {
    let start = html.find("name=csrf_token value=").unwrap() + "name=csrf_token value=".len();
    html[start..].chars().take_while(char::is_ascii_hexdigit).collect()
}
