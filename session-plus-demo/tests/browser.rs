//! The demo in a real browser: headless Chromium, driven over WebDriver by a chromedriver this
//! test starts itself. It logs in through the form, reads the three cookies from the browser's
//! own jar, has a tampered CSRF token refused, logs out, goes back, and replays the cookies of
//! the logged-in browser: none of it logs back in.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`scripts/test.sh` installs them); without
//! them the test fails and says so. A failed step saves a screenshot and the page's HTML under
//! `target/browser-failures/`.

mod common;

use std::error::Error;
use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use fantoccini::cookies::Cookie;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use session_plus::config::SameSite;
use session_plus::Config;

type StepResult<T = ()> = Result<T, Box<dyn Error>>;

/// Fails the step with a message unless `condition` holds.
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+).into());
        }
    };
}

#[tokio::test]
async fn the_demo_in_headless_chromium() {
    let demo = common::start(&[]);
    let driver = ChromeDriver::start();
    let browser = Browser::open(&driver, &demo.url).await;
    let config = Config::from_toml_str(include_str!("../sessions.toml")).expect("the demo's configuration");

    browser
        .step("open_login", async {
            browser.goto("/login").await?;
            ensure!(browser.client.title().await? == "Log in", "not the login page");
            Ok(())
        })
        .await;

    browser
        .step("log_in", async {
            browser.client.find(Locator::Css("input[name=username]")).await?.send_keys("alice").await?;
            browser.client.find(Locator::Css("form.login button")).await?.click().await?;
            browser.wait_for_text("Logged in as alice").await
        })
        .await;

    browser
        .step("page_shows_each_session", async {
            let cards = browser.client.find_all(Locator::Css("section.card")).await?;
            let mut ids = Vec::new();
            for card in &cards {
                ids.push(card.attr("id").await?.unwrap_or_default());
            }
            ensure!(ids == ["session-csrf", "session-session", "session-data"], "cards {ids:?}");
            let session = browser.client.find(Locator::Css("#session-session")).await?.text().await?;
            ensure!(session.contains("SQLite") && session.contains("user_id"), "the session card: {session}");
            // The id cookie is not re-issued by this page: the size shown is the jar's.
            let cookie = browser.client.get_named_cookie("session").await?;
            let size = format!("{} bytes", cookie.name().len() + 1 + cookie.value().len());
            ensure!(session.contains(&size), "the session card does not say {size}: {session}");
            Ok(())
        })
        .await;

    browser
        .step("cookie_attributes", async {
            let jar = browser.client.get_all_cookies().await?;
            ensure!(jar.len() == config.sessions().len(), "the jar: {jar:?}");
            for session in config.sessions() {
                let name = session.cookie_name();
                let cookie = jar.iter().find(|c| c.name() == name).ok_or(format!("no `{name}` cookie in {jar:?}"))?;
                let wanted = session.cookie();
                // The demo keeps the defaults; the browser must have what the configuration says.
                ensure!(wanted.cookie_httponly && wanted.cookie_samesite == SameSite::Lax, "{name}: not the defaults");
                ensure!(
                    cookie.http_only() == Some(wanted.cookie_httponly),
                    "{name}: HttpOnly {:?}",
                    cookie.http_only()
                );
                let same_site = cookie.same_site().map(|s| s.to_string());
                ensure!(same_site == Some(format!("{:?}", wanted.cookie_samesite)), "{name}: SameSite {same_site:?}");
                ensure!(cookie.path() == Some(wanted.cookie_path.as_str()), "{name}: Path {:?}", cookie.path());
                ensure!(cookie.secure() != Some(true), "{name}: Secure over plain HTTP");
                check_expiry(cookie, wanted.cookie_max_age)?;
            }
            Ok(())
        })
        .await;

    browser
        .step("replayed_while_logged_in", async {
            // The control for the replay after logout: the same steps log in while the session lives.
            let captured = browser.client.get_all_cookies().await?;
            browser.client.delete_all_cookies().await?;
            browser.client.refresh().await?;
            browser.wait_for_text("Not logged in").await?;
            browser.replace_cookies(&captured).await?;
            browser.client.refresh().await?;
            browser.wait_for_text("Logged in as alice").await
        })
        .await;

    browser
        .step("tampered_csrf_refused", async {
            let tamper = "const input = document.querySelector('form[action=\"/logout\"] input[name=csrf_token]');\
                          input.value = input.value.replace(/^./, c => c === '0' ? '1' : '0'); return input.value;";
            let sent = browser.client.execute(tamper, Vec::new()).await?;
            ensure!(sent.as_str().is_some_and(|token| token.len() == 64), "tampered token {sent}");
            browser.client.find(Locator::Css("form[action='/logout'] button")).await?.click().await?;
            browser.wait_for_text("Invalid CSRF token").await?;
            ensure!(browser.client.title().await? == "403 Forbidden", "not the 403 page");
            browser.goto("/").await?;
            browser.wait_for_text("Logged in as alice").await
        })
        .await;

    let captured = browser
        .step("log_out", async {
            let captured = browser.client.get_all_cookies().await?;
            ensure!(captured.len() == 3, "the jar before logout: {captured:?}");
            browser.client.find(Locator::Css("form[action='/logout'] button")).await?.click().await?;
            browser.wait_for_text("Not logged in").await?;
            Ok(captured)
        })
        .await;

    browser
        .step("back_button", async {
            browser.client.back().await?;
            browser.client.refresh().await?;
            browser.wait_for_text("Not logged in").await?;
            let url = browser.client.current_url().await?;
            ensure!(url.path() == "/", "back went to {url}");
            Ok(())
        })
        .await;

    browser
        .step("replayed_after_logout", async {
            browser.replace_cookies(&captured).await?;
            browser.client.refresh().await?;
            browser.wait_for_text("Not logged in").await?;
            let page = browser.body_text().await?;
            ensure!(!page.contains("logged_in_at") && !page.contains("user_data"), "fields came back: {page}");
            Ok(())
        })
        .await;

    browser.close().await;
}

/// The cookie's expiry: absent for a browser-session cookie (no `cookie_max_age`), else about
/// `Max-Age` from now.
fn check_expiry(cookie: &Cookie<'_>, max_age: Option<Duration>) -> StepResult {
    let name = cookie.name();
    match (cookie.expires_datetime(), max_age) {
        (None, None) => Ok(()),
        (Some(at), Some(max_age)) => {
            let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?.as_secs();
            let wanted = i64::try_from(now + max_age.as_secs())?;
            ensure!((at.unix_timestamp() - wanted).abs() < 120, "{name}: expires {at}, not in {max_age:?}");
            Ok(())
        }
        (at, _) => Err(format!("{name}: expiry {at:?}, but the configuration's Max-Age is {max_age:?}").into()),
    }
}

/// A WebDriver session in headless Chromium, on the demo at `base`.
struct Browser {
    client: Client,
    base: String,
}

impl Browser {
    async fn open(driver: &ChromeDriver, base: &str) -> Self {
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1200,1000".to_owned(),
            format!("--user-data-dir={}", driver.profile.display()),
        ];
        let options = json!({ "binary": driver.chromium, "args": args });
        let capabilities = serde_json::Map::from_iter([("goog:chromeOptions".to_owned(), options)]);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|error| panic!("chromedriver could not start {}: {error}", driver.chromium.display()));
        Self { client, base: base.to_owned() }
    }

    /// Runs one step; when it fails, saves a screenshot and the page, ends the browser and
    /// panics with both paths.
    async fn step<T>(&self, name: &str, step: impl Future<Output = StepResult<T>>) -> T {
        let error = match step.await {
            Ok(value) => return value,
            Err(error) => error,
        };
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap_or(Path::new(".")).join("browser-failures");
        let saved = match self.save_failure(&dir, name).await {
            Ok(png) => format!("screenshot: {}", png.display()),
            Err(why) => format!("no screenshot: {why}"),
        };
        let _ = self.client.clone().close().await;
        panic!("browser step `{name}` failed: {error}\n{saved}");
    }

    async fn save_failure(&self, dir: &Path, name: &str) -> StepResult<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let png = dir.join(format!("{name}.png"));
        std::fs::write(&png, self.client.screenshot().await?)?;
        std::fs::write(dir.join(format!("{name}.html")), self.client.source().await?)?;
        Ok(png)
    }

    async fn goto(&self, path: &str) -> StepResult {
        Ok(self.client.goto(&format!("{}{path}", self.base)).await?)
    }

    async fn body_text(&self) -> StepResult<String> {
        Ok(self.client.find(Locator::Css("body")).await?.text().await?)
    }

    /// Waits until the page shows `text` (a form's submission navigates after the click).
    async fn wait_for_text(&self, text: &str) -> StepResult {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // The body may be gone for a moment while the next page loads.
            let shown = self.body_text().await.unwrap_or_default();
            if shown.contains(text) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("the page never showed `{text}`; it shows:\n{shown}").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Empties the jar and puts `cookies` back, as a thief would with copies of them.
    async fn replace_cookies(&self, cookies: &[Cookie<'static>]) -> StepResult {
        self.client.delete_all_cookies().await?;
        for cookie in cookies {
            self.client.add_cookie(cookie.clone()).await?;
        }
        let mut jar: Vec<String> = self.client.get_all_cookies().await?.iter().map(|c| c.to_string()).collect();
        let mut wanted: Vec<String> = cookies.iter().map(|c| c.to_string()).collect();
        jar.sort();
        wanted.sort();
        ensure!(jar == wanted, "the jar after replacing: {jar:?}, not {wanted:?}");
        Ok(())
    }

    async fn close(self) {
        self.client.close().await.expect("the browser closes");
    }
}

/// A chromedriver on a free port, with a fresh Chromium profile directory; both go on drop.
struct ChromeDriver {
    child: Child,
    port: u16,
    url: String,
    chromium: PathBuf,
    profile: PathBuf,
}

impl ChromeDriver {
    fn start() -> Self {
        let chromium = ["chromium", "chromium-browser"].iter().find_map(|name| on_path(name)).unwrap_or_else(|| {
            panic!("Chromium is not installed: `apt-get install chromium chromium-driver` (scripts/test.sh does)")
        });
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let mut child = match Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                panic!(
                    "chromedriver is not installed: `apt-get install chromium chromium-driver` (scripts/test.sh does)"
                )
            }
            Err(error) => panic!("chromedriver did not start: {error}"),
        };
        // Read its output on a thread until it is ready, then drain it so it never blocks.
        let stdout = child.stdout.take().expect("piped");
        let (ready, started) = mpsc::channel();
        std::thread::spawn(move || {
            let mut said = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                said.push_str(&line);
                said.push('\n');
                if line.contains("started successfully") {
                    let _ = ready.send(Ok(()));
                }
            }
            let _ = ready.send(Err(said));
        });
        let profile = std::env::temp_dir().join(format!("session-plus-chromium-{}", std::process::id()));
        let driver = Self { child, port, url: format!("http://127.0.0.1:{port}"), chromium, profile };
        match started.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(())) => driver,
            Ok(Err(said)) => panic!("chromedriver exited before it was ready:\n{said}"),
            Err(_) => panic!("chromedriver was not ready within 30 s"),
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // `/shutdown` makes chromedriver quit its browsers too; killing it would orphan them.
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.write_all(b"GET /shutdown HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            let _ = stream.read_to_end(&mut Vec::new());
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The path of the executable `name` on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|path| path.is_file())
}
