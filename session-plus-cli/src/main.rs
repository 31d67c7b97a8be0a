//! `session-plus`, the command-line tool of the session-plus library.
//!
//! - `cookie decode` verifies a cookie value (session-plus's own signed or encrypted cookies,
//!   Flask's, flask-session-plus's) and prints its session as JSON, or says exactly why it fails.
//! - `cookie encode` makes a cookie value from a JSON object.
//! - `config check` validates a configuration file and prints which cookie holds which field.
//! - `purge` removes expired records from the stores a configuration names.
//!
//! Exit codes: 0 success; 1 verification failure, invalid configuration or store error; 2 bad
//! usage. Every error goes to stderr, prefixed `session-plus: `.

mod config_file;
mod cookie;

use std::io::Read as _;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The parsed command line.
#[derive(Debug, Parser)]
#[command(
    name = "session-plus",
    version,
    about = "Decode and encode session cookies, check session configurations, purge expired records",
    after_help = "Exit codes: 0 success; 1 verification failure, invalid configuration or store error; 2 bad usage."
)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The top-level subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Decode (verify) or encode a cookie value
    #[command(subcommand)]
    Cookie(CookieCommand),
    /// Check a configuration file and print its routing table
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Remove expired records from the server-side stores of a configuration
    Purge(PurgeArgs),
}

/// `session-plus cookie …`.
#[derive(Debug, Subcommand)]
enum CookieCommand {
    /// Verify a cookie value and print its session as JSON (details on stderr)
    Decode(DecodeArgs),
    /// Make a cookie value from a session given as a JSON object
    Encode(EncodeArgs),
}

/// `session-plus config …`.
#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate a configuration (without connecting to any store) and print which cookie holds which field
    Check(CheckArgs),
}

/// The key ring and cookie format, shared by `cookie decode` and `cookie encode`.
#[derive(Debug, Args)]
struct CookieArgs {
    /// A secret key; repeat it for older keys, newest first. `env:NAME` reads the variable NAME
    #[arg(long = "secret", value_name = "KEY", required = true)]
    secrets: Vec<String>,
    /// The cookie format [default for decode: try native, then flask, then flask-session-plus;
    /// for encode: native]
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The cookie's name; native cookies need it, as it is bound under their MAC
    #[arg(long, value_name = "COOKIE_NAME")]
    name: Option<String>,
    /// itsdangerous digest of the Flask formats [default: sha1 for flask, sha3_256 for flask-session-plus]
    #[arg(long, value_name = "D", value_parser = ["sha1", "sha256", "sha3_256", "sha512"])]
    digest: Option<String>,
    /// itsdangerous salt of the Flask formats
    #[arg(long, value_name = "S", default_value = "cookie-session")]
    salt: String,
    /// itsdangerous key derivation of the Flask formats
    #[arg(
        long = "key-derivation",
        value_name = "K",
        default_value = "hmac",
        value_parser = ["hmac", "django-concat", "concat", "none"]
    )]
    key_derivation: String,
    /// The current time, in Unix seconds [default: the system clock]
    #[arg(long, value_name = "UNIX", value_parser = clap::value_parser!(i64).range(0..))]
    now: Option<i64>,
}

/// `session-plus cookie decode`.
#[derive(Debug, Args)]
struct DecodeArgs {
    /// Keys and format.
    #[command(flatten)]
    cookie: CookieArgs,
    /// Refuse a cookie issued more than this many seconds before now
    #[arg(long, value_name = "SECONDS")]
    max_age: Option<u64>,
    /// The cookie value (`-` reads it from stdin)
    #[arg(value_name = "VALUE")]
    value: String,
}

/// `session-plus cookie encode`.
#[derive(Debug, Args)]
struct EncodeArgs {
    /// Keys and format.
    #[command(flatten)]
    cookie: CookieArgs,
    /// Mark the session permanent (Flask formats: `_permanent: true`)
    #[arg(long)]
    permanent: bool,
    /// Encrypt a native cookie (XChaCha20-Poly1305) instead of signing it
    #[arg(long)]
    encrypt: bool,
    /// The session, as a JSON object (`-` reads it from stdin)
    #[arg(value_name = "JSON")]
    json: String,
}

/// `session-plus config check`.
#[derive(Debug, Args)]
struct CheckArgs {
    /// The configuration file: TOML, or JSON when its name ends in `.json`
    #[arg(value_name = "FILE")]
    file: String,
}

/// `session-plus purge`.
#[derive(Debug, Args)]
struct PurgeArgs {
    /// The configuration file: TOML, or JSON when its name ends in `.json`; relative store paths
    /// in it are taken from the current directory
    #[arg(long, value_name = "FILE")]
    config: String,
}

/// A cookie format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// session-plus's own cookie: `1.` signed (HMAC-SHA256) or `2.` encrypted
    Native,
    /// Flask's cookie session (itsdangerous, HMAC-SHA1 by default)
    Flask,
    /// flask-session-plus's cookie (itsdangerous, HMAC-SHA3-256 by default)
    FlaskSessionPlus,
}

impl Format {
    /// The name on the command line and in configuration files.
    fn as_str(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Flask => "flask",
            Self::FlaskSessionPlus => "flask-session-plus",
        }
    }
}

/// Why a command failed; decides the exit code.
#[derive(Debug)]
enum Failure {
    /// Verification failure, invalid configuration, store error: exit code 1.
    Failed(String),
    /// The arguments do not make sense together: exit code 2.
    Usage(String),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_exit(&error),
    };
    let result = match cli.command {
        Command::Cookie(CookieCommand::Decode(args)) => cookie::decode(&args),
        Command::Cookie(CookieCommand::Encode(args)) => cookie::encode(&args),
        Command::Config(ConfigCommand::Check(args)) => config_file::check(&args.file),
        Command::Purge(args) => config_file::purge(&args.config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Failed(message)) => {
            eprintln!("session-plus: {message}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("session-plus: {message}\n\nFor more information, try '--help'.");
            ExitCode::from(2)
        }
    }
}

/// Prints clap's help, version or usage error and gives its exit code (0, or 2 for usage errors);
/// errors get the tool's `session-plus: ` prefix instead of clap's `error: `.
fn clap_exit(error: &clap::Error) -> ExitCode {
    let code = u8::try_from(error.exit_code()).unwrap_or(2);
    if error.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // A bare `session-plus` or `session-plus cookie`: the help, after the reason.
        eprint!("session-plus: a subcommand is required\n\n{}", error.render());
    } else if error.use_stderr() {
        let text = error.render().to_string();
        eprint!("session-plus: {}", text.strip_prefix("error: ").unwrap_or(&text));
    } else {
        // --help and --version: printed on stdout; nothing useful to do if stdout is closed.
        let _ = error.print();
    }
    ExitCode::from(code)
}

/// The bytes of each `--secret`, newest first; `env:NAME` reads the environment variable NAME.
fn resolve_secrets(secrets: &[String]) -> Result<Vec<Vec<u8>>, Failure> {
    secrets
        .iter()
        .map(|secret| match secret.strip_prefix("env:") {
            Some(name) => match std::env::var(name) {
                Ok(value) => Ok(value.into_bytes()),
                Err(std::env::VarError::NotPresent) => {
                    Err(Failure::Failed(format!("--secret env:{name}: the environment variable `{name}` is not set")))
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    Err(Failure::Failed(format!("--secret env:{name}: `{name}` is not valid UTF-8")))
                }
            },
            None => Ok(secret.clone().into_bytes()),
        })
        .collect()
}

/// A positional argument's text, or stdin's (trimmed) when it is `-`.
fn argument_or_stdin(argument: &str, what: &str) -> Result<String, Failure> {
    if argument != "-" {
        return Ok(argument.to_owned());
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::Usage(format!("cannot read the {what} from stdin: {e}")))?;
    Ok(text.trim().to_owned())
}

/// The current time in Unix seconds: `--now`, or the system clock.
fn now(given: Option<i64>) -> i64 {
    given.unwrap_or_else(|| session_plus::clock::Clock::now(&session_plus::clock::SystemClock))
}

/// `t` as `1700000000 (2023-11-14T22:13:20Z)`, the date left out when it cannot be shown.
fn timestamp(t: i64) -> String {
    // humantime formats years up to 9999 only.
    match u64::try_from(t) {
        Ok(secs) if secs < 253_402_300_800 => {
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            format!("{t} ({})", humantime::format_rfc3339_seconds(time))
        }
        _ => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn timestamps_show_a_date_when_they_can() {
        assert_eq!(timestamp(1_700_000_000), "1700000000 (2023-11-14T22:13:20Z)");
        assert_eq!(timestamp(-5), "-5");
        assert_eq!(timestamp(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn literal_secrets_are_their_bytes() {
        let secrets = resolve_secrets(&["abc".to_owned()]).unwrap();
        assert_eq!(secrets, [b"abc".to_vec()]);
        assert!(matches!(
            resolve_secrets(&["env:SESSION_PLUS_CLI_SURELY_UNSET".to_owned()]),
            Err(Failure::Failed(message)) if message.contains("is not set")
        ));
    }
}
