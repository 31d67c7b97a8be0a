//! Dumping: values to tagged JSON text exactly as Python's `json.dumps` writes it.

use super::*;

/// Serialize `value` exactly as Flask's `session_json_serializer.dumps` does
/// (see the module docs for the mapping and the text format).
///
/// # Errors
///
/// [`Error::TooDeep`] when `value` nests deeper than [`MAX_DEPTH`].
///
/// ```
/// use flask_wire::tagged_json;
/// use serde_json::json;
/// let value = json!({"name": "Zoë", "ratio": 1e-5, "uid": {" u": "12345678123456781234567812345678"}});
/// assert_eq!(
///     tagged_json::dumps(&value).unwrap(),
///     r#"{"name":"Zo\u00eb","ratio":1e-05,"uid":{" u":"12345678123456781234567812345678"}}"#
/// );
/// ```
pub fn dumps(value: &Value) -> Result<String, Error> {
    let mut out = String::with_capacity(64);
    write_tagged(&mut out, value, 0)?;
    Ok(out)
}

/// [`dumps`] for a top-level object, without cloning it into a `Value`.
///
/// # Errors
///
/// [`Error::TooDeep`] when the object nests deeper than [`MAX_DEPTH`].
///
/// ```
/// use flask_wire::tagged_json;
/// use serde_json::json;
/// let session = json!({"user_id": 42, "csrf_token": "abc"});
/// let text = tagged_json::dumps_object(session.as_object().unwrap()).unwrap();
/// assert_eq!(text, r#"{"csrf_token":"abc","user_id":42}"#);
/// ```
pub fn dumps_object(map: &Map<String, Value>) -> Result<String, Error> {
    let mut out = String::with_capacity(64);
    write_tagged_object(&mut out, map, 0)?;
    Ok(out)
}

/// Whether `{tag: inner}` may be emitted as that tag (Python can load it).
pub(super) fn emit_as_tag(tag: &str, inner: &Value) -> bool {
    let Value::String(s) = inner else {
        return false;
    };
    match tag {
        TAG_BYTES => STANDARD.decode(s).is_ok(),
        TAG_UUID => parse_uuid(s).is_some(),
        TAG_DATETIME | TAG_MARKUP => true,
        _ => false,
    }
}

/// Whether `text` is an integer Python writes as digits but serde_json cannot hold: a canonical
/// decimal literal (no `+`, no leading zero, no `-0`) beyond the 64-bit range, of at most
/// [`MAX_INT_DIGITS`] digits.
pub(super) fn is_big_int(text: &str) -> bool {
    is_int_literal(text) && text.parse::<i64>().is_err() && text.parse::<u64>().is_err()
}

/// A canonical decimal integer literal of at most [`MAX_INT_DIGITS`] digits, as Python's
/// `repr(int)` writes one.
pub(super) fn is_int_literal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = match digits.as_bytes() {
        [b'0'] => digits.len() == text.len(),
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    canonical && digits.len() <= MAX_INT_DIGITS
}

pub(super) fn write_tagged(out: &mut String, value: &Value, depth: usize) -> Result<(), Error> {
    match value {
        Value::Object(map) => write_tagged_object(out, map, depth),
        Value::Array(_) if container_too_deep(depth) => Err(Error::TooDeep),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_tagged(out, item, depth + 1)?;
            }
            out.push(']');
            Ok(())
        }
        scalar => {
            write_scalar(out, scalar);
            Ok(())
        }
    }
}

pub(super) fn write_tagged_object(out: &mut String, map: &Map<String, Value>, depth: usize) -> Result<(), Error> {
    if let Some(digits) = big_int_digits(map) {
        // Python wrote it as bare digits.
        out.push_str(digits);
        return Ok(());
    }
    if container_too_deep(depth) {
        return Err(Error::TooDeep);
    }
    if let Some((key, inner)) = single_entry(map) {
        if key == TAG_TUPLE && inner.is_array() {
            out.push_str("{\" t\":");
            write_tagged(out, inner, depth + 1)?;
            out.push('}');
            return Ok(());
        }
        if is_tag(key) {
            if emit_as_tag(key, inner) {
                // `{" b": "..."}` etc.: emitted unchanged.
                out.push_str("{\"");
                out.push_str(key);
                out.push_str("\":");
                write_scalar(out, inner);
                out.push('}');
            } else {
                // Python rule 1: `{" di": {K + "__": tag(v)}}`, one level deeper.
                if container_too_deep(depth + 1) {
                    return Err(Error::TooDeep);
                }
                out.push_str("{\" di\":{\"");
                out.push_str(key);
                out.push_str("__\":");
                write_tagged(out, inner, depth + 2)?;
                out.push_str("}}");
            }
            return Ok(());
        }
    }
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_unstable();
    out.push('{');
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, key);
        out.push(':');
        if let Some(v) = map.get(key) {
            write_tagged(out, v, depth + 1)?;
        }
    }
    out.push('}');
    Ok(())
}

pub(super) fn write_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        // Only called for scalars; containers are handled by the callers.
        Value::Array(_) | Value::Object(_) => {}
    }
}

pub(super) fn write_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(f) = n.as_f64() {
        out.push_str(&py_float_repr(f));
    }
}

/// Python's `repr(float)` for a finite `f64`: shortest round-trip digits,
/// scientific notation when the decimal exponent is < -4 or >= 16
/// (`1e-05`, `-1.5e-07`, `1e+16`), whole numbers as `1.0`.
///
/// Non-finite input gives Python's JSON spellings `NaN`, `Infinity`,
/// `-Infinity` (which are not valid JSON).
pub(super) fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's
    // repr (both pick the closest shortest candidate), e.g. "-1.5e-7".
    let sci = shortest_sci(f);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if !(-4..16).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    } else if exp >= 0 {
        let int_len = exp.unsigned_abs() as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', exp.unsigned_abs() as usize - 1));
        out.push_str(&digits);
    }
    out
}

/// Shortest round-trip digits in Rust's `{:e}` layout (`-1.5e-7`), choosing
/// like Python (David Gay's dtoa) between equally short candidates: the one
/// closest to the exact value, ties to even. Rust's shortest mode can pick
/// the other candidate on an exact tie (1793192556270674.25 → `…674.3`,
/// Python `…674.2`), so the digit count comes from `{:e}` and the digits
/// from the correctly rounded `{:.N$e}`, when that still round-trips.
pub(super) fn shortest_sci(f: f64) -> String {
    let shortest = format!("{f:e}");
    let mantissa = shortest.split_once('e').map_or(shortest.as_str(), |(m, _)| m);
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).count();
    let rounded = format!("{:.*e}", digits.saturating_sub(1), f);
    if rounded.parse::<f64>().ok() == Some(f) {
        rounded
    } else {
        shortest
    }
}

/// Write a JSON string literal the way Python's `json.dumps(ensure_ascii=True)`
/// does.
pub(super) fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units).iter() {
                    out.push_str("\\u");
                    for shift in [12u32, 8, 4, 0] {
                        out.push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
                    }
                }
            }
        }
    }
    out.push('"');
}
