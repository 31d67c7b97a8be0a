//! The demo's HTML: the index page, which shows each named session as a card (its cookie as the
//! browser sent it, its backend, its fields and when it expires), the login form and the error
//! page. Plain HTML with a little inline CSS and no JavaScript; every value is escaped.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::header::COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use session_plus::config::Format;
use session_plus::{session, Session, SessionConfig, SessionManager, SessionType};

/// What the page shows of one named session.
struct NamedView<'a> {
    config: &'a SessionConfig,
    /// `name=value` as the request's `Cookie` header carried it, in bytes.
    cookie_bytes: Option<usize>,
    expiry: Option<SystemTime>,
    id: Option<String>,
    fields: Vec<(&'a str, &'a Value)>,
}

/// `GET /`: who is logged in, then one card per named session, in configuration order.
pub(crate) async fn index(
    State(manager): State<SessionManager>,
    session: Session,
    headers: HeaderMap,
) -> Result<Html<String>, session::Error> {
    let visits: u64 = session.get("visits").await?.unwrap_or(0) + 1;
    session.insert("visits", visits).await?;
    let user: Option<String> = session.get("user_id").await?;
    let token = crate::csrf_token(&session).await?;
    let fields = session.fields().await?;

    let mut views = Vec::new();
    for config in manager.sessions() {
        let name = config.cookie_name();
        let owned = fields.iter().filter(|(field, _)| session.owners(field).contains(&name));
        let fields = owned.map(|(field, value)| (field.as_str(), value)).collect();
        views.push(NamedView {
            config,
            cookie_bytes: sent_cookie_bytes(&headers, name),
            expiry: session.expiry(name).await?,
            id: session.id(name).await?.map(|id| id.as_str().to_owned()),
            fields,
        });
    }

    let who = match &user {
        Some(name) => format!(
            "Logged in as <b>{}</b>. <form method=post action=/logout><input type=hidden name=csrf_token value={token}> \
             <button>Log out</button></form>",
            escape(name)
        ),
        None => "Not logged in. <a href=/login>Log in</a>".to_owned(),
    };
    let mut body =
        format!("<div class=who>{who}</div><p class=note>Visits: {visits}. Each card is one named session.</p>");
    body.push_str("<div class=cards>");
    let now = SystemTime::now();
    for view in &views {
        card(&mut body, view, now);
    }
    body.push_str("</div><p class=note>The same as JSON: <a href=/api/session>/api/session</a></p>");
    Ok(Html(layout("session-plus demo", &body)))
}

/// `GET /login`: the form, with this session's CSRF token.
pub(crate) fn login_form(token: &str) -> Html<String> {
    let body = format!(
        "<form method=post action=/login class=login><input type=hidden name=csrf_token value={token}>\
         <label>User name <input name=username required autofocus maxlength=64></label> <button>Log in</button></form>\
         <p class=note><a href=/>Back to the sessions</a></p>"
    );
    Html(layout("Log in", &body))
}

/// The page of a refused form: its status, what happened and a way back.
pub(crate) fn refused(status: StatusCode, message: &str) -> Response {
    let title = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("Error"));
    let body = format!("<p class=error>{}</p><p><a href=/>Back to the sessions</a></p>", escape(message));
    (status, Html(layout(&title, &body))).into_response()
}

/// A whole page: the title as `<title>` and `<h1>`, the body, the style sheet.
fn layout(title: &str, body: &str) -> String {
    let title = escape(title);
    format!(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
             <title>{title}</title><style>{STYLE}</style><h1>{title}</h1>{body}</html>"
    )
}

const STYLE: &str = "body{font:16px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.6rem}h2{font-size:1.15rem;margin:0 0 .5rem}code{font-size:.95em}\
.who form{display:inline}.note{color:#555}.error{color:#a00;font-weight:bold}\
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(17rem,1fr));gap:1rem}\
.card{border:1px solid #ccc;border-radius:.5rem;padding:.8rem 1rem;background:#fafafa}\
.backend{font-weight:normal;color:#555;font-size:.9em}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .8rem;margin:.3rem 0 .7rem}dt{color:#555}dd{margin:0}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.2rem .4rem;border-top:1px solid #ddd;vertical-align:top}\
td.value{font-family:monospace;word-break:break-all}.empty{color:#777;font-style:italic}";

/// One named session's card.
fn card(out: &mut String, view: &NamedView<'_>, now: SystemTime) {
    let config = view.config;
    let name = escape(config.cookie_name());
    let _ = write!(
        out,
        "<section class=card id=\"session-{name}\"><h2><code>{name}</code> <span class=backend>{}</span></h2><dl>",
        escape(&backend(config))
    );
    let sent = match view.cookie_bytes {
        Some(bytes) => format!("{bytes} bytes"),
        None => "no cookie".to_owned(),
    };
    let _ = write!(out, "<dt>Cookie sent</dt><dd class=size>{sent}</dd>");
    let expires = match view.expiry {
        Some(at) => format!("{} ({})", date(at), from_now(at, now)),
        None => "nothing to expire: it holds nothing".to_owned(),
    };
    let _ = write!(out, "<dt>Expires</dt><dd class=expiry>{expires}</dd>");
    // A prefix of the id: enough to see it change on login and logout, too little to use.
    if let Some(id) = &view.id {
        let _ = write!(out, "<dt>Id</dt><dd class=id><code>{}…</code></dd>", escape(id.get(..8).unwrap_or(id)));
    }
    if let Some(server) = config.bind_to() {
        let _ = write!(
            out,
            "<dt>Bound to</dt><dd>the <code>{}</code> session: its logout ends this one</dd>",
            escape(server)
        );
    }
    let _ = write!(out, "<dt>Attributes</dt><dd class=attributes>{}</dd></dl>", escape(&attributes(config)));
    if view.fields.is_empty() {
        out.push_str("<p class=empty>no fields</p>");
    } else {
        out.push_str("<table><tr><th>field</th><th>value</th></tr>");
        for (field, value) in &view.fields {
            let _ =
                write!(out, "<tr><td>{}</td><td class=value>{}</td></tr>", escape(field), escape(&value.to_string()));
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
}

/// Where a session keeps its fields, in words.
fn backend(config: &SessionConfig) -> String {
    let kind = match config.session_type() {
        SessionType::SecureCookie if config.encrypt() => "encrypted cookie",
        SessionType::SecureCookie => "signed cookie",
        SessionType::Memory => "memory",
        SessionType::Sqlite => "SQLite",
        SessionType::Redis => "Redis",
        SessionType::Postgres => "PostgreSQL",
        SessionType::Mysql => "MySQL / MariaDB",
        SessionType::Memcache => "Memcached",
        SessionType::Mongodb => "MongoDB",
        SessionType::Firestore => "Firestore",
        other => other.as_str(),
    };
    let mut text = kind.to_owned();
    if let (SessionType::Sqlite, Some(path)) = (config.session_type(), &config.backend().path) {
        let _ = write!(text, ", {path}");
    }
    if config.format() != Format::Native {
        let _ = write!(text, ", {} format", config.format());
    }
    text
}

/// The cookie's attributes as the configuration sets them.
fn attributes(config: &SessionConfig) -> String {
    let cookie = config.cookie();
    let mut parts = Vec::new();
    if cookie.cookie_httponly {
        parts.push("HttpOnly".to_owned());
    }
    if cookie.cookie_secure {
        parts.push("Secure".to_owned());
    }
    parts.push(format!("SameSite={:?}", cookie.cookie_samesite));
    parts.push(format!("Path={}", cookie.cookie_path));
    if let Some(domain) = &cookie.cookie_domain {
        parts.push(format!("Domain={domain}"));
    }
    parts.push(match cookie.cookie_max_age {
        Some(max_age) => format!("Max-Age={}", max_age.as_secs()),
        None => "no Max-Age (until the browser closes)".to_owned(),
    });
    parts.join("; ")
}

/// The size of the cookie `name` as the request carried it (`name=value`, the first one when
/// it repeats), or `None` when the request did not carry it.
fn sent_cookie_bytes(headers: &HeaderMap, name: &str) -> Option<usize> {
    headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|header| header.as_bytes().split(|&b| b == b';'))
        .map(<[u8]>::trim_ascii)
        .find(|pair| pair.strip_prefix(name.as_bytes()).is_some_and(|rest| rest.first() == Some(&b'=')))
        .map(<[u8]>::len)
}

/// `2025-06-01 12:00:00 UTC`.
fn date(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string().replace('T', " ").replace('Z', " UTC")
}

/// `in 23h 59m`, to the minute; `now` once it is past.
fn from_now(at: SystemTime, now: SystemTime) -> String {
    match at.duration_since(now) {
        Ok(left) if left.as_secs() >= 60 => {
            format!("in {}", humantime::format_duration(Duration::from_secs(left.as_secs() / 60 * 60)))
        }
        Ok(_) => "in less than a minute".to_owned(),
        Err(_) => "now".to_owned(),
    }
}

/// HTML-escapes text for element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_sizes_are_read_from_the_header_as_sent() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, "csrf=abc; session=0123456789".parse().unwrap());
        headers.append(COOKIE, "data=x;csrf=second".parse().unwrap());
        assert_eq!(sent_cookie_bytes(&headers, "csrf"), Some("csrf=abc".len()));
        assert_eq!(sent_cookie_bytes(&headers, "session"), Some(18));
        assert_eq!(sent_cookie_bytes(&headers, "data"), Some(6));
        assert_eq!(sent_cookie_bytes(&headers, "sess"), None);
        assert_eq!(sent_cookie_bytes(&HeaderMap::new(), "csrf"), None);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<b a='1' b=\"2\">&</b>"), "&lt;b a=&#39;1&#39; b=&quot;2&quot;&gt;&amp;&lt;/b&gt;");
    }

    #[test]
    fn expiry_reads_as_a_date_and_a_delay() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(date(at), "2023-11-14 22:13:20 UTC");
        assert_eq!(from_now(at, at - Duration::from_secs(86_399)), "in 23h 59m");
        assert_eq!(from_now(at, at - Duration::from_secs(5)), "in less than a minute");
        assert_eq!(from_now(at, at + Duration::from_secs(5)), "now");
    }
}
