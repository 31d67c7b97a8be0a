//! `cookie decode` and `cookie encode`: session-plus's own cookies and Flask's, through the
//! library's public codecs.

use serde_json::{Map, Value};
use session_plus::codec::{CookieCodec, CookieContents, ErrorKind, Key, KeyRing, MAX_COOKIE_LEN};
use session_plus::config::MIN_SECRET_LEN;
use session_plus::flask_wire::itsdangerous::{self, Digest, KeyDerivation, TimedSerializer};
use session_plus::flask_wire::PERMANENT_KEY;

use crate::{argument_or_stdin, now, resolve_secrets, timestamp, CookieArgs, DecodeArgs, EncodeArgs, Failure, Format};

/// A cookie that verified: its session, and what to report about it on stderr.
#[derive(Debug)]
struct Verified {
    /// The session's fields.
    session: Map<String, Value>,
    /// Which format and key matched, the issue time, and so on.
    report: String,
}

/// Why one format refused the cookie.
#[derive(Debug)]
struct Refusal {
    /// Whether the MAC verified: the format and key matched, and only the times or the contents
    /// are wrong, so this is the reason to give whatever the other formats say.
    authentic: bool,
    /// The reason, for a person.
    reason: String,
}

impl Refusal {
    /// The MAC did not verify, or the value is not of this format.
    fn forged(reason: impl Into<String>) -> Self {
        Self { authentic: false, reason: reason.into() }
    }

    /// The MAC verified, but the cookie is refused all the same.
    fn authentic(reason: impl Into<String>) -> Self {
        Self { authentic: true, reason: reason.into() }
    }
}

/// `session-plus cookie decode`: prints the session as pretty JSON on stdout and the details on
/// stderr, or fails with the reason.
pub(crate) fn decode(args: &DecodeArgs) -> Result<(), Failure> {
    let cookie = &args.cookie;
    if cookie.format == Some(Format::Native) && cookie.name.is_none() {
        return Err(Failure::Usage(
            "--format native needs --name COOKIE_NAME: the cookie name is bound under the MAC".into(),
        ));
    }
    let value = argument_or_stdin(&args.value, "cookie value")?;
    if value.len() > MAX_COOKIE_LEN {
        return Err(Failure::Failed(format!(
            "too large: {} bytes; browsers keep at most {MAX_COOKIE_LEN}, and nothing longer is decoded",
            value.len()
        )));
    }
    let secrets = resolve_secrets(&cookie.secrets)?;
    let now = now(cookie.now);
    let formats = match cookie.format {
        Some(format) => vec![format],
        None => vec![Format::Native, Format::Flask, Format::FlaskSessionPlus],
    };
    let mut refusals = Vec::new();
    for format in formats {
        let attempt = match format {
            Format::Native => decode_native(cookie, &secrets, &value, now, args.max_age),
            Format::Flask | Format::FlaskSessionPlus => {
                decode_flask(cookie, format, &secrets, &value, now, args.max_age)
            }
        };
        match attempt {
            Ok(verified) => {
                let json = serde_json::to_string_pretty(&verified.session)
                    .map_err(|e| Failure::Failed(format!("cannot print the session as JSON: {e}")))?;
                println!("{json}");
                eprintln!("{}", verified.report);
                return Ok(());
            }
            Err(refusal) => refusals.push((label(cookie, format), refusal)),
        }
    }
    Err(Failure::Failed(explain(&refusals)))
}

/// One line for a single refusal, or one per format tried; a format whose MAC verified is the
/// only one worth naming.
fn explain(refusals: &[(String, Refusal)]) -> String {
    if let Some((label, refusal)) = refusals.iter().find(|(_, refusal)| refusal.authentic) {
        return format!("{label}: {}", refusal.reason);
    }
    match refusals {
        [(label, refusal)] => format!("{label}: {}", refusal.reason),
        _ => {
            let mut text = String::from("the cookie verifies under no format:");
            for (label, refusal) in refusals {
                text.push_str(&format!("\n  {label}: {}", refusal.reason));
            }
            text
        }
    }
}

/// `native`, or a Flask format with its digest: `flask (sha1)`.
fn label(cookie: &CookieArgs, format: Format) -> String {
    match format {
        Format::Native => "native".to_owned(),
        Format::Flask | Format::FlaskSessionPlus => format!("{} ({})", format.as_str(), digest_name(cookie, format)),
    }
}

/// A session-plus cookie: `1.` signed, `2.` encrypted.
fn decode_native(
    cookie: &CookieArgs,
    secrets: &[Vec<u8>],
    value: &str,
    now: i64,
    max_age: Option<u64>,
) -> Result<Verified, Refusal> {
    let encrypted = value.starts_with("2.");
    let Some(name) = cookie.name.as_deref() else {
        return Err(Refusal::forged(if encrypted || value.starts_with("1.") {
            "this looks like a native cookie: give --name COOKIE_NAME (the name is bound under the MAC)"
        } else {
            "not tried: needs --name COOKIE_NAME (the name is bound under the MAC)"
        }));
    };
    let ring = key_ring(secrets).map_err(Refusal::forged)?;
    let codec = if encrypted { CookieCodec::private(ring) } else { CookieCodec::signed(ring) };
    let keys = secrets.len();
    let decoded = codec.decode(name, value).map_err(|error| {
        Refusal::forged(match error.kind() {
            ErrorKind::Invalid if encrypted => format!(
                "does not decrypt under any of the {keys} key(s) (another key, a cookie not named `{name}`, \
                 or tampered)"
            ),
            ErrorKind::Invalid => {
                format!("bad signature under every key ({keys} tried; or the cookie is not named `{name}`)")
            }
            ErrorKind::Malformed => "malformed: not a session-plus cookie (`1.` signed or `2.` encrypted, \
                                     then base64url)"
                .to_owned(),
            ErrorKind::TooLarge => format!("too large: over {MAX_COOKIE_LEN} bytes"),
            _ => error.to_string(),
        })
    })?;
    let contents = decoded.contents;
    check_times(contents.issued_at, now, max_age).map_err(Refusal::authentic)?;
    let kind = if encrypted { "encrypted, XChaCha20-Poly1305" } else { "signed, HMAC-SHA256" };
    let report = format!(
        "verified: format native ({kind}), cookie `{name}`, {}\nissued at {}, {} s before now\ncreated at {}\n\
         permanent: {}",
        key_report(decoded.key_index, keys),
        timestamp(contents.issued_at),
        i128::from(now) - i128::from(contents.issued_at),
        timestamp(contents.created_at),
        contents.permanent
    );
    Ok(Verified { session: contents.fields, report })
}

/// A Flask or flask-session-plus cookie, through itsdangerous' own checks for precise errors.
fn decode_flask(
    cookie: &CookieArgs,
    format: Format,
    secrets: &[Vec<u8>],
    value: &str,
    now: i64,
    max_age: Option<u64>,
) -> Result<Verified, Refusal> {
    let (serializer, settings) = serializer(cookie, format, secrets).map_err(Refusal::forged)?;
    // `now` is never negative: `--now` is checked by clap and the system clock says 0 at worst.
    let now_secs = u64::try_from(now).unwrap_or(0);
    let keys = secrets.len();
    match serializer.loads(value, now_secs, max_age) {
        Ok(loaded) => {
            let permanent = loaded.session.get(PERMANENT_KEY) == Some(&Value::Bool(true));
            let report = format!(
                "verified: format {} ({settings}), {}\nissued at {}, {} s before now\npermanent: {permanent}",
                format.as_str(),
                key_report(loaded.key_index, keys),
                timestamp(seconds(loaded.timestamp)),
                now_secs.saturating_sub(loaded.timestamp),
            );
            Ok(Verified { session: loaded.session, report })
        }
        Err(itsdangerous::Error::BadSignature) => {
            Err(Refusal::forged(format!("bad signature under every key ({keys} tried)")))
        }
        Err(itsdangerous::Error::Expired { age, max_age }) => Err(Refusal::authentic(format!(
            "expired by {} s: issued at {}, {age} s before now, over --max-age {max_age}",
            age - max_age,
            timestamp(seconds(now_secs.saturating_sub(age))),
        ))),
        Err(itsdangerous::Error::FutureTimestamp) => {
            // The MAC verified; read the timestamp again with a clock that accepts it.
            let issued = serializer.signer().unsign_timestamped(value, u64::MAX, None).map(|(_, issued, _)| issued);
            Err(Refusal::authentic(match issued {
                Ok(issued) => format!(
                    "issued in the future: at {}, {} s after now",
                    timestamp(seconds(issued)),
                    issued.saturating_sub(now_secs)
                ),
                Err(_) => "issued in the future".to_owned(),
            }))
        }
        Err(itsdangerous::Error::MalformedTimestamp) => Err(Refusal::authentic(
            "malformed: the signature is good, but the timestamp is not 1 to 8 bytes of base64url",
        )),
        Err(itsdangerous::Error::BadPayload(message)) => Err(Refusal::authentic(format!(
            "malformed: the signature is good, but the payload is not a session: {message}"
        ))),
        Err(itsdangerous::Error::TooLarge) => Err(Refusal::authentic(format!(
            "too large: the signature is good, but the payload inflates beyond {} KiB",
            itsdangerous::DEFAULT_MAX_INFLATED_SIZE / 1024
        ))),
        Err(other) => Err(Refusal::authentic(other.to_string())),
    }
}

/// Judges a native cookie's issue time against `now` and `--max-age`.
fn check_times(issued_at: i64, now: i64, max_age: Option<u64>) -> Result<(), String> {
    let age = i128::from(now) - i128::from(issued_at);
    if age < 0 {
        return Err(format!("issued in the future: at {}, {} s after now", timestamp(issued_at), -age));
    }
    match max_age {
        Some(max_age) if age > i128::from(max_age) => Err(format!(
            "expired by {} s: issued at {}, {age} s before now, over --max-age {max_age}",
            age - i128::from(max_age),
            timestamp(issued_at)
        )),
        _ => Ok(()),
    }
}

/// `key 0 (the newest) of 2`, or a note that an older key matched.
fn key_report(index: usize, keys: usize) -> String {
    if index == 0 {
        format!("key 0 (the newest) of {keys}")
    } else {
        format!("key {index} of {keys} (an older key: the service re-issues the cookie under the newest)")
    }
}

/// A Unix time that fits an `i64` (every real one does).
fn seconds(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// The native key ring: one key derived from each secret, newest first.
fn key_ring(secrets: &[Vec<u8>]) -> Result<KeyRing, String> {
    KeyRing::new(secrets.iter().map(|secret| Key::derive(secret)).collect())
        .ok_or_else(|| "at least one --secret is needed".to_owned())
}

/// The digest a Flask format uses: `--digest`, or the format's own.
fn digest_name(cookie: &CookieArgs, format: Format) -> &str {
    cookie.digest.as_deref().unwrap_or(if format == Format::FlaskSessionPlus { "sha3_256" } else { "sha1" })
}

/// The itsdangerous serializer of a Flask format, and its settings for the report.
fn serializer(cookie: &CookieArgs, format: Format, secrets: &[Vec<u8>]) -> Result<(TimedSerializer, String), String> {
    let digest_name = digest_name(cookie, format);
    // clap accepts only the names these parse, so the errors are for completeness.
    let digest: Digest = digest_name.parse().map_err(|e| format!("--digest: {e}"))?;
    let derivation: KeyDerivation = cookie.key_derivation.parse().map_err(|e| format!("--key-derivation: {e}"))?;
    let serializer = TimedSerializer::new(secrets.to_vec(), cookie.salt.as_bytes(), digest, derivation);
    let settings = format!("{digest_name}, salt `{}`, {} key derivation", cookie.salt, cookie.key_derivation);
    Ok((serializer, settings))
}

/// `session-plus cookie encode`: prints the cookie value on stdout.
pub(crate) fn encode(args: &EncodeArgs) -> Result<(), Failure> {
    let cookie = &args.cookie;
    let format = cookie.format.unwrap_or(Format::Native);
    if args.encrypt && format != Format::Native {
        return Err(Failure::Usage("--encrypt is for native cookies; Flask's formats are only signed".into()));
    }
    let name = match (format, cookie.name.as_deref()) {
        (Format::Native, None) => {
            return Err(Failure::Usage(
                "native cookies need --name COOKIE_NAME: the cookie name is bound under the MAC".into(),
            ))
        }
        (_, name) => name,
    };
    let text = argument_or_stdin(&args.json, "session JSON")?;
    let fields = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) => return Err(Failure::Usage("the session must be a JSON object, such as {\"user_id\": 42}".into())),
        Err(e) => return Err(Failure::Usage(format!("the session is not valid JSON: {e}"))),
    };
    let secrets = resolve_secrets(&cookie.secrets)?;
    let now = now(cookie.now);
    let contents = CookieContents { fields, issued_at: now, created_at: now, permanent: args.permanent };
    let (codec, description) = match format {
        Format::Native => {
            for (index, secret) in secrets.iter().enumerate() {
                if secret.len() < MIN_SECRET_LEN {
                    eprintln!(
                        "note: --secret {index} is {} bytes; a configuration refuses keys under {MIN_SECRET_LEN} bytes",
                        secret.len()
                    );
                }
            }
            let ring = key_ring(&secrets).map_err(Failure::Usage)?;
            if args.encrypt {
                (CookieCodec::private(ring), "native (encrypted, XChaCha20-Poly1305)".to_owned())
            } else {
                (CookieCodec::signed(ring), "native (signed, HMAC-SHA256)".to_owned())
            }
        }
        Format::Flask | Format::FlaskSessionPlus => {
            let (serializer, settings) = serializer(cookie, format, &secrets).map_err(Failure::Usage)?;
            (CookieCodec::flask(serializer), format!("{} ({settings})", format.as_str()))
        }
    };
    let value = codec.encode(name.unwrap_or_default(), &contents).map_err(|error| {
        Failure::Failed(match error.kind() {
            ErrorKind::TooLarge => {
                format!("too large: the cookie value would be over {MAX_COOKIE_LEN} bytes, which browsers drop")
            }
            _ => format!("cannot encode the cookie: {error}"),
        })
    })?;
    println!("{value}");
    let cookie_name = name.filter(|_| format == Format::Native).map(|name| format!(", cookie `{name}`"));
    eprintln!(
        "encoded: format {description}{}, key 0 (the newest) of {}, issued at {}, permanent: {}",
        cookie_name.unwrap_or_default(),
        secrets.len(),
        timestamp(now),
        args.permanent
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_judged_without_overflow() {
        assert_eq!(check_times(100, 100, Some(0)), Ok(()));
        assert_eq!(check_times(90, 100, None), Ok(()));
        assert!(check_times(0, 100, Some(10)).unwrap_err().starts_with("expired by 90 s: issued at 0 ("));
        assert!(check_times(101, 100, None).unwrap_err().contains("1 s after now"));
        assert!(check_times(i64::MIN, i64::MAX, Some(0)).unwrap_err().starts_with("expired by 18446744073709551615 s"));
        assert!(check_times(i64::MAX, 0, None).unwrap_err().starts_with("issued in the future"));
    }

    #[test]
    fn an_authentic_refusal_is_the_only_reason_given() {
        let refusals = vec![
            ("native".to_owned(), Refusal::forged("bad signature")),
            ("flask (sha1)".to_owned(), Refusal::authentic("expired by 1 s")),
        ];
        assert_eq!(explain(&refusals), "flask (sha1): expired by 1 s");
        assert_eq!(explain(&refusals[..1]), "native: bad signature");
        let forged = vec![
            ("native".to_owned(), Refusal::forged("malformed")),
            ("flask (sha1)".to_owned(), Refusal::forged("bad signature")),
        ];
        assert_eq!(
            explain(&forged),
            "the cookie verifies under no format:\n  native: malformed\n  flask (sha1): bad signature"
        );
    }

    #[test]
    fn key_reports_say_when_an_older_key_matched() {
        assert_eq!(key_report(0, 1), "key 0 (the newest) of 1");
        assert!(key_report(1, 2).starts_with("key 1 of 2 (an older key"));
    }
}
