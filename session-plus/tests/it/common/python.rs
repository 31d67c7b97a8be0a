//! The Python side of the live interoperability tests (`flask_live.rs`, `flask_live_mongo.rs`):
//! the venvs of `tests/python/setup_venvs.sh`, a Python app on a free loopback port, and one
//! browser (one cookie jar) talking to a Python app and a Rust app on the same host.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};
use session_plus::{Config, SessionManager};

use super::{serve, Client, Reply};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the crate sits in a workspace").to_path_buf()
}

fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

/// The interpreter of a venv, after building both venvs once per test binary.
pub fn python(venv: &str) -> PathBuf {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let status = Command::new("bash")
            .arg(python_dir().join("setup_venvs.sh"))
            .status()
            .expect("bash runs tests/python/setup_venvs.sh");
        assert!(status.success(), "tests/python/setup_venvs.sh failed: {status}");
    });
    workspace_root().join("target/python").join(venv).join("bin/python")
}

/// A Python app on a free loopback port, killed when dropped.
pub struct PyApp {
    child: Child,
    pub addr: SocketAddr,
}

impl PyApp {
    /// Starts `script` with the venv's interpreter and the environment variables `env`, and
    /// waits for its `ready http://ADDR` line.
    pub fn start(venv: &str, script: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(python(venv));
        command
            .arg(python_dir().join(script))
            .arg("0")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        command.envs(env.iter().copied());
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {} // drain, so the child never blocks on a full pipe
        });
        let mut app = Self { child, addr: ([127, 0, 0, 1], 0).into() };
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(Ok(line))) => line,
            other => panic!("{script} did not start: {other:?}"),
        };
        let addr = line.strip_prefix("ready http://").unwrap_or_else(|| panic!("{script} said {line:?}"));
        app.addr = addr.parse().unwrap_or_else(|e| panic!("{script} said {line:?}: {e}"));
        app
    }
}

impl Drop for PyApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Side {
    Python,
    Rust,
}
use Side::{Python, Rust};

/// One browser (one cookie jar) talking to the Python app and the Rust app on the same host.
pub struct Browser {
    pub jar: BTreeMap<String, String>,
    py: Client,
    rs: Client,
}

impl Browser {
    pub fn new(py: &PyApp, rs: SocketAddr) -> Self {
        Self { jar: BTreeMap::new(), py: Client::new(py.addr), rs: Client::new(rs) }
    }

    pub fn client(&mut self, side: Side) -> &mut Client {
        match side {
            Python => &mut self.py,
            Rust => &mut self.rs,
        }
    }

    pub async fn send(&mut self, side: Side, post: Option<&str>, path: &str) -> Reply {
        let jar = std::mem::take(&mut self.jar);
        let client = self.client(side);
        client.jar = jar;
        let reply = match post {
            Some(body) => client.post(path, body).await,
            None => client.get(path).await,
        };
        self.jar = std::mem::take(&mut client.jar);
        assert_eq!(reply.status, 200, "{side:?} {path}: {}", reply.body);
        reply
    }

    pub async fn set(&mut self, side: Side, field: &str, value: Value) {
        self.send(side, Some(&value.to_string()), &format!("/set/{field}")).await;
    }

    /// Stores the datetime `unix` (UTC seconds) from Python, as a real `datetime`.
    pub async fn set_datetime(&mut self, field: &str, unix: impl ToString) {
        self.send(Python, Some(&unix.to_string()), &format!("/setdt/{field}")).await;
    }

    pub async fn get(&mut self, side: Side, field: &str) -> Value {
        self.send(side, None, &format!("/get/{field}")).await.json()
    }

    pub async fn fields(&mut self, side: Side) -> Value {
        self.send(side, None, "/fields").await.json()
    }

    /// Python's `repr` of a field: its exact type after the trip.
    pub async fn py_repr(&mut self, field: &str) -> String {
        self.send(Python, None, &format!("/repr/{field}")).await.body
    }

    pub async fn clear(&mut self, side: Side) {
        self.send(side, Some(""), "/clear").await;
    }

    /// A copy of this browser (the same cookies), to replay them later.
    pub fn snapshot(&self) -> Self {
        Self { jar: self.jar.clone(), py: self.py.clone(), rs: self.rs.clone() }
    }
}

pub async fn rust_app(toml: &str) -> (SessionManager, SocketAddr) {
    let manager = SessionManager::new(Config::from_toml_str(toml).unwrap()).await.unwrap();
    let addr = serve(&manager).await;
    (manager, addr)
}

pub fn cart(skus: &[(&str, i64)]) -> Value {
    let items: Vec<Value> = skus.iter().map(|(sku, qty)| json!({"sku": sku, "qty": qty})).collect();
    json!({"items": items, "coupon": null, "total": 9.5})
}
