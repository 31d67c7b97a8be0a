//! A minimal HTTP/1.1 client for the setup and smoke-check requests (not for the load: that is
//! wrk's job, from a process of its own).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// What a server answered.
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// The `name=value` part of each `Set-Cookie` header.
    pub(crate) set_cookies: Vec<String>,
    /// The body, as text.
    pub(crate) body: String,
}

/// Sends one request to 127.0.0.1:`port` with the given `Cookie` header (none if empty).
pub(crate) fn request(port: u16, method: &str, path: &str, cookie: &str) -> Result<Response, String> {
    let failed = |e: std::io::Error| format!("{method} {path} on port {port}: {e}");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(failed)?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(failed)?;
    let cookie = if cookie.is_empty() { String::new() } else { format!("Cookie: {cookie}\r\n") };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cookie}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(failed)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(failed)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("{method} {path}: no HTTP response"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        .ok_or_else(|| format!("{method} {path}: no status line"))?;
    let set_cookies = lines
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie")
                .then(|| value.split(';').next().unwrap_or_default().trim().to_owned())
        })
        .collect();
    Ok(Response { status, set_cookies, body: body.to_owned() })
}
