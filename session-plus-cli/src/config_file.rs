//! `config check` and `purge`: commands that read a configuration file.

use std::time::Duration;

use session_plus::config::{FieldSelector, Format, SecretKey};
use session_plus::routing::Routing;
use session_plus::{Config, SessionConfig, SessionManager, SessionType};

use crate::Failure;

/// How long `purge` waits for the stores to connect and to purge.
const STORE_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads and validates a configuration file; the error names the file, the session and the key.
fn load(file: &str) -> Result<Config, Failure> {
    Config::from_file(file).map_err(|e| {
        let message = e.to_string();
        // "cannot read FILE: …" names the file already.
        Failure::Failed(if message.contains(file) { message } else { format!("{file}: {message}") })
    })
}

/// `session-plus config check`: validates the file without connecting to any store, then prints
/// each session and the routing table.
pub(crate) fn check(file: &str) -> Result<(), Failure> {
    let config = load(file)?;
    for key in config.secret_keys() {
        if let SecretKey::Env(name) = key
            && std::env::var_os(name).is_none()
        {
            eprintln!(
                "note: the environment variable `{name}` (in secret_keys) is not set here; \
                     it must be where the service runs"
            );
        }
    }
    let sessions = config.sessions();
    println!("{file} is valid: {} session(s).\n", sessions.len());

    let mut rows = vec![["cookie".to_owned(), "session_type".to_owned(), "format".to_owned(), "fields".to_owned()]];
    rows.extend(sessions.iter().map(|session| {
        [
            session.cookie_name().to_owned(),
            match session.bind_to() {
                Some(server) => format!("{}, bound to {server}", session.session_type()),
                None => session.session_type().to_string(),
            },
            session.format().to_string(),
            describe_fields(session.field_selector()),
        ]
    }));
    print_table(&rows, "  ");

    println!();
    let routing = Routing::new(sessions);
    let mut rows = vec![["field".to_owned(), "→ cookie (backend)".to_owned()]];
    for (field, owners) in routing.named_fields() {
        rows.push([field.to_owned(), format!("→ {}", owners_text(sessions, owners))]);
    }
    rows.push(["every other field".to_owned(), format!("→ {}", owners_text(sessions, routing.default_owner_names()))]);
    print_table(&rows, " ");
    Ok(())
}

/// The owners of a field as `csrf (secure_cookie)`, several when the field is mirrored.
fn owners_text<'a>(sessions: &[SessionConfig], owners: impl Iterator<Item = &'a str>) -> String {
    let owners: Vec<String> = owners
        .map(|owner| match sessions.iter().find(|session| session.cookie_name() == owner) {
            Some(session) => format!("{owner} ({})", backend(session)),
            None => owner.to_owned(),
        })
        .collect();
    match owners.len() {
        0 => "no session: writing it is refused".to_owned(),
        1 => owners.concat(),
        _ => format!("{} (mirrored)", owners.join(", ")),
    }
}

/// `sqlite`, or `redis, flask-session-plus` when the format is not the native one.
fn backend(session: &SessionConfig) -> String {
    match session.format() {
        Format::Native => session.session_type().to_string(),
        format => format!("{}, {format}", session.session_type()),
    }
}

/// What `session_fields` selects, in words.
fn describe_fields(selector: &FieldSelector) -> String {
    let list = |fields: &std::collections::BTreeSet<String>| fields.iter().cloned().collect::<Vec<_>>().join(", ");
    match selector {
        FieldSelector::All => "every field".to_owned(),
        FieldSelector::List(fields) => list(fields),
        FieldSelector::IncludeExclude { include, exclude } => match (include.is_empty(), exclude.is_empty()) {
            (true, true) => "every field".to_owned(),
            (true, false) => format!("every field except {}", list(exclude)),
            (false, true) => list(include),
            (false, false) => format!("{} (except {})", list(include), list(exclude)),
        },
        FieldSelector::Auto => "auto: every field no other session lists".to_owned(),
        other => format!("{other:?}"),
    }
}

/// Prints rows with their columns aligned, the last column unpadded.
fn print_table<const N: usize>(rows: &[[String; N]], gap: &str) {
    let mut widths = [0; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (index, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if index + 1 < N {
                let pad = widths[index] - cell.chars().count();
                line.push_str(&" ".repeat(pad));
                line.push_str(gap);
            }
        }
        println!("{}", line.trim_end());
    }
}

/// `session-plus purge`: builds the session manager (connecting to every store), removes the
/// expired records and prints how many went.
pub(crate) fn purge(file: &str) -> Result<(), Failure> {
    let config = load(file)?;
    let sessions: Vec<(String, SessionType)> =
        config.sessions().iter().map(|s| (s.cookie_name().to_owned(), s.session_type())).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Failed(format!("cannot start the async runtime: {e}")))?;
    let purged = runtime.block_on(async {
        let build = SessionManager::builder(config).without_purge_tasks().build();
        let manager = tokio::time::timeout(STORE_TIMEOUT, build)
            .await
            .map_err(|_| {
                Failure::Failed(format!("{file}: the stores did not connect within {} s", STORE_TIMEOUT.as_secs()))
            })?
            .map_err(|e| Failure::Failed(format!("{file}: {e}")))?;
        tokio::time::timeout(STORE_TIMEOUT, manager.purge_expired())
            .await
            .map_err(|_| Failure::Failed(format!("the purge did not finish within {} s", STORE_TIMEOUT.as_secs())))?
            .map_err(|e| Failure::Failed(format!("the purge failed: {e}")))
    })?;
    println!("purged {purged} expired record(s)");
    for (name, session_type) in sessions {
        let what = match session_type {
            SessionType::SecureCookie => "no records: the session lives in its cookie",
            SessionType::Redis | SessionType::Memcache => {
                "expires records natively, so it reports 0: nothing is left to purge"
            }
            SessionType::Memory => "this process's own memory, empty: a service's memory store purges itself",
            _ => "expired records deleted",
        };
        println!("  {name} ({session_type}): {what}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn set(fields: &[&str]) -> BTreeSet<String> {
        fields.iter().map(|f| (*f).to_owned()).collect()
    }

    #[test]
    fn field_selectors_in_words() {
        assert_eq!(describe_fields(&FieldSelector::All), "every field");
        assert_eq!(describe_fields(&FieldSelector::List(set(&["b", "a"]))), "a, b");
        let exclude = FieldSelector::IncludeExclude { include: set(&[]), exclude: set(&["x"]) };
        assert_eq!(describe_fields(&exclude), "every field except x");
        let both = FieldSelector::IncludeExclude { include: set(&["a"]), exclude: set(&["x"]) };
        assert_eq!(describe_fields(&both), "a (except x)");
        assert!(describe_fields(&FieldSelector::Auto).starts_with("auto"));
    }

    #[test]
    fn owners_name_their_backend_and_mirroring() {
        let sessions = [
            SessionConfig::new("csrf"),
            SessionConfig::new("session").with_type(SessionType::Sqlite),
            SessionConfig::new("flask").with_format(Format::Flask),
        ];
        assert_eq!(owners_text(&sessions, std::iter::empty()), "no session: writing it is refused");
        assert_eq!(owners_text(&sessions, ["session"].into_iter()), "session (sqlite)");
        assert_eq!(
            owners_text(&sessions, ["csrf", "flask"].into_iter()),
            "csrf (secure_cookie), flask (secure_cookie, flask) (mirrored)"
        );
    }
}
