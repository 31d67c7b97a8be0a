//! `session-plus`: decode and encode session cookies, check a configuration and print its routing
//! table, purge expired records. Exit codes: 0 success, 1 verification or configuration failure,
//! 2 bad usage.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Map, Value};
use session_plus::clock::{Clock, SystemClock};
use session_plus::codec::flask::itsdangerous::{self, TimedSerializer};
use session_plus::codec::{CookieCodec, CookieContents, ErrorKind, Key, KeyRing};
use session_plus::config::SecretKey;
use session_plus::routing::Routing;
use session_plus::{Config, SessionManager};

#[derive(Parser)]
#[command(
    name = "session-plus",
    version,
    about = "Decode and encode session cookies, check configurations, purge stores"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode or encode a cookie value.
    #[command(subcommand)]
    Cookie(CookieCommand),
    /// Check a configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Remove expired records from the server-side stores of a configuration.
    Purge {
        /// The configuration file (TOML, or JSON when it ends in .json).
        #[arg(long)]
        config: String,
    },
}

#[derive(Subcommand)]
enum CookieCommand {
    /// Verify a cookie value and print its session as JSON.
    Decode {
        #[command(flatten)]
        keys: CookieArgs,
        /// Refuse cookies older than this many seconds.
        #[arg(long)]
        max_age: Option<u64>,
        /// The cookie value.
        value: String,
    },
    /// Make a cookie value from a JSON object.
    Encode {
        #[command(flatten)]
        keys: CookieArgs,
        /// Mark the session permanent.
        #[arg(long)]
        permanent: bool,
        /// The session, as a JSON object.
        json: String,
    },
}

#[derive(clap::Args)]
struct CookieArgs {
    /// A secret key, newest first; repeat for older keys. `env:NAME` reads the environment.
    #[arg(long = "secret", required = true)]
    secrets: Vec<String>,
    /// The cookie format; decode tries native, flask, then flask-session-plus when not given.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The cookie's name (native cookies bind it under the MAC).
    #[arg(long)]
    name: Option<String>,
    /// itsdangerous digest for Flask formats (sha1, sha256, sha3_256, sha512).
    #[arg(long)]
    digest: Option<String>,
    /// itsdangerous salt for Flask formats.
    #[arg(long, default_value = "cookie-session")]
    salt: String,
    /// itsdangerous key derivation for Flask formats (hmac, django-concat, concat, none).
    #[arg(long, default_value = "hmac")]
    key_derivation: String,
    /// The time to judge or stamp the cookie with (Unix seconds; default: now).
    #[arg(long)]
    now: Option<i64>,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate a configuration and print which field goes to which cookie and backend.
    Check {
        /// The configuration file.
        file: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Native,
    Flask,
    FlaskSessionPlus,
}

/// A failure to report: its message and exit code.
struct Failure(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Cookie(CookieCommand::Decode { keys, max_age, value }) => decode(&keys, max_age, &value),
        Command::Cookie(CookieCommand::Encode { keys, permanent, json }) => encode(&keys, permanent, &json),
        Command::Config(ConfigCommand::Check { file }) => check(&file),
        Command::Purge { config } => purge(&config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("session-plus: {message}");
            ExitCode::from(1)
        }
    }
}

fn secrets(args: &CookieArgs) -> Result<Vec<Vec<u8>>, Failure> {
    args.secrets
        .iter()
        .map(|secret| match secret.strip_prefix("env:") {
            Some(name) => std::env::var(name)
                .map(String::into_bytes)
                .map_err(|_| Failure(format!("environment variable `{name}` is not set"))),
            None => Ok(secret.clone().into_bytes()),
        })
        .collect()
}

fn serializer(args: &CookieArgs, format: Format, secrets: Vec<Vec<u8>>) -> Result<TimedSerializer, Failure> {
    let default_digest = if format == Format::FlaskSessionPlus { "sha3_256" } else { "sha1" };
    let digest: itsdangerous::Digest =
        args.digest.as_deref().unwrap_or(default_digest).parse().map_err(|e| Failure(format!("--digest: {e}")))?;
    let derivation: itsdangerous::KeyDerivation =
        args.key_derivation.parse().map_err(|e| Failure(format!("--key-derivation: {e}")))?;
    Ok(TimedSerializer::new(secrets, args.salt.as_str(), digest, derivation))
}

fn native_ring(secrets: &[Vec<u8>]) -> Result<KeyRing, Failure> {
    let keys = secrets.iter().map(|s| Key::derive(s)).collect();
    KeyRing::new(keys).ok_or_else(|| Failure("at least one --secret is needed".into()))
}

fn decode(args: &CookieArgs, max_age: Option<u64>, value: &str) -> Result<(), Failure> {
    let secrets = secrets(args)?;
    let now = args.now.unwrap_or_else(|| SystemClock.now());
    let formats = match args.format {
        Some(format) => vec![format],
        None => vec![Format::Native, Format::Flask, Format::FlaskSessionPlus],
    };
    let mut reasons = Vec::new();
    for format in formats {
        let outcome = match format {
            Format::Native => decode_native(args, &secrets, value, now, max_age),
            _ => decode_flask(args, format, secrets.clone(), value, now, max_age),
        };
        match outcome {
            Ok((session, details)) => {
                println!("{}", serde_json::to_string_pretty(&Value::Object(session)).unwrap_or_default());
                eprintln!("{details}");
                return Ok(());
            }
            Err(reason) => reasons.push(format!("{}: {reason}", name(format))),
        }
    }
    Err(Failure(format!("the cookie did not verify — {}", reasons.join("; "))))
}

fn decode_native(
    args: &CookieArgs,
    secrets: &[Vec<u8>],
    value: &str,
    now: i64,
    max_age: Option<u64>,
) -> Result<(Map<String, Value>, String), String> {
    let Some(cookie_name) = &args.name else { return Err("needs --name (the name is under the MAC)".into()) };
    let ring = native_ring(secrets).map_err(|Failure(m)| m)?;
    let codec = if value.starts_with("2.") { CookieCodec::private(ring) } else { CookieCodec::signed(ring) };
    let decoded = codec.decode(cookie_name, value).map_err(|e| match e.kind() {
        ErrorKind::Invalid => "bad signature under every key".to_owned(),
        ErrorKind::TooLarge => "too large (over 4096 bytes)".to_owned(),
        _ => "malformed".to_owned(),
    })?;
    let c = decoded.contents;
    check_age(now, c.issued_at, max_age)?;
    let details = format!(
        "format native ({}), key #{} of {}, issued at {}, created at {}, permanent: {}",
        if value.starts_with("2.") { "encrypted" } else { "signed" },
        decoded.key_index,
        secrets.len(),
        c.issued_at,
        c.created_at,
        c.permanent
    );
    Ok((c.fields, details))
}

fn decode_flask(
    args: &CookieArgs,
    format: Format,
    secrets: Vec<Vec<u8>>,
    value: &str,
    now: i64,
    max_age: Option<u64>,
) -> Result<(Map<String, Value>, String), String> {
    let count = secrets.len();
    let serializer = serializer(args, format, secrets).map_err(|Failure(m)| m)?;
    let now = u64::try_from(now).map_err(|_| "--now is before 1970".to_owned())?;
    let loaded = serializer.loads(value, now, max_age).map_err(|e| match e {
        itsdangerous::Error::BadSignature => "bad signature under every key".to_owned(),
        itsdangerous::Error::Expired { age, max_age } => {
            format!("expired by {} s (age {age} > {max_age})", age - max_age)
        }
        itsdangerous::Error::FutureTimestamp => "issued in the future".to_owned(),
        other => other.to_string(),
    })?;
    let digest =
        args.digest.clone().unwrap_or_else(|| if format == Format::Flask { "sha1" } else { "sha3_256" }.into());
    let details = format!(
        "format {} ({digest}, salt {}), key #{} of {count}, issued at {}",
        name(format),
        args.salt,
        loaded.key_index,
        loaded.timestamp
    );
    Ok((loaded.session, details))
}

fn check_age(now: i64, issued_at: i64, max_age: Option<u64>) -> Result<(), String> {
    let age = now - issued_at;
    if age < 0 {
        return Err("issued in the future".into());
    }
    match max_age {
        Some(max) if age.unsigned_abs() > max => {
            Err(format!("expired by {} s (age {age} > {max})", age.unsigned_abs() - max))
        }
        _ => Ok(()),
    }
}

fn encode(args: &CookieArgs, permanent: bool, json: &str) -> Result<(), Failure> {
    let Ok(Value::Object(fields)) = serde_json::from_str(json) else {
        return Err(Failure("the session must be a JSON object".into()));
    };
    let secrets = secrets(args)?;
    let now = args.now.unwrap_or_else(|| SystemClock.now());
    let contents = CookieContents { fields, issued_at: now, created_at: now, permanent };
    let value = match args.format.unwrap_or(Format::Native) {
        Format::Native => {
            let cookie_name = args.name.as_deref().ok_or_else(|| Failure("native cookies need --name".into()))?;
            CookieCodec::signed(native_ring(&secrets)?).encode(cookie_name, &contents)
        }
        format => CookieCodec::flask(serializer(args, format, secrets)?).encode("", &contents),
    };
    println!("{}", value.map_err(|e| Failure(format!("cannot encode: {e}")))?);
    Ok(())
}

fn check(file: &str) -> Result<(), Failure> {
    let config = Config::from_file(file).map_err(|e| Failure(e.to_string()))?;
    for key in config.secret_keys() {
        if let SecretKey::Env(name) = key {
            if std::env::var_os(name).is_none() {
                eprintln!("note: environment variable `{name}` is not set here; it must be where the service runs");
            }
        }
    }
    let backend = |cookie: &str| {
        config
            .sessions()
            .iter()
            .find(|s| s.cookie_name() == cookie)
            .map_or(String::new(), |s| format!("{} session, {} format", s.session_type(), s.format()))
    };
    println!("{} session(s) are valid.\n\nfield -> cookie (backend)", config.sessions().len());
    let routing = Routing::new(config.sessions());
    for (field, owners) in routing.named_fields() {
        let owners: Vec<String> = owners.map(|o| format!("{o} ({})", backend(o))).collect();
        let owners = if owners.is_empty() { "(no session: writes are refused)".to_owned() } else { owners.join(", ") };
        println!("  {field} -> {owners}");
    }
    let others: Vec<String> = routing.default_owner_names().map(|o| format!("{o} ({})", backend(o))).collect();
    let others = if others.is_empty() { "(no session: writes are refused)".to_owned() } else { others.join(", ") };
    println!("  every other field -> {others}");
    Ok(())
}

fn purge(file: &str) -> Result<(), Failure> {
    let config = Config::from_file(file).map_err(|e| Failure(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let manager =
            SessionManager::builder(config).without_purge_tasks().build().await.map_err(|e| Failure(e.to_string()))?;
        let purged = manager.purge_expired().await.map_err(|e| Failure(format!("purge failed: {e}")))?;
        println!("purged {purged} expired record(s) (stores with native expiry — Redis, Memcached — report 0)");
        Ok(())
    })
}

fn name(format: Format) -> &'static str {
    match format {
        Format::Native => "native",
        Format::Flask => "flask",
        Format::FlaskSessionPlus => "flask-session-plus",
    }
}
