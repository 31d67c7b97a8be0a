//! Compare-and-set of one field: its outcome, and what the stores share to decide it.

use serde_json::Value;

#[cfg(any(feature = "store-redis", feature = "store-mongodb"))]
use super::{Error, Result};

/// What [`SessionStore::compare_and_set`](super::SessionStore::compare_and_set) did.
///
/// ```
/// use session_plus::store::{CasOutcome, MemoryStore, Record, SessionStore};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// store.create("session:k", &Record { expires_at: 100, ..Record::default() }).await?;
/// let one = serde_json::json!(1);
/// assert_eq!(store.compare_and_set("session:k", "n", None, &one, 100).await?, CasOutcome::Set);
/// assert_eq!(store.compare_and_set("session:k", "n", None, &one, 100).await?, CasOutcome::Conflict);
/// assert_eq!(store.compare_and_set("session:gone", "n", None, &one, 100).await?, CasOutcome::NoRecord);
/// # Ok::<(), session_plus::store::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CasOutcome {
    /// The field held the expected value (or was absent, as expected) and now holds the new one.
    Set,
    /// The field held something else: nothing was written. Read it again and retry.
    Conflict,
    /// There is no record under the key (deleted meanwhile, or expired and dropped): nothing was
    /// written, and no record was created.
    NoRecord,
}

/// How a compare-and-set ends without writing, given what the store holds: `current` is `None`
/// when there is no record, `Some(None)` when the record lacks the field. `None`: the field holds
/// `expected`, go ahead and write.
pub(crate) fn refusal(current: Option<Option<&Value>>, expected: Option<&Value>) -> Option<CasOutcome> {
    match current {
        None => Some(CasOutcome::NoRecord),
        Some(current) if current != expected => Some(CasOutcome::Conflict),
        Some(_) => None,
    }
}

/// How many times a compare-and-swap re-reads after losing a race (Memcached, Firestore, the
/// Python-format records of `FlaskStore`), or a text compare-and-set tries another spelling of
/// the same value (Redis, MongoDB).
#[cfg(any(
    feature = "store-memcached",
    feature = "store-firestore",
    feature = "store-redis",
    feature = "store-mongodb"
))]
pub(crate) const CAS_ATTEMPTS: usize = 64;

/// The wait before compare-and-swap attempt `attempt` re-reads: up to 2^attempt milliseconds (at
/// most 64), picked at random so racing writers spread out.
pub(crate) fn cas_backoff(attempt: usize) -> std::time::Duration {
    let mut byte = [0u8; 2];
    let random = if getrandom::fill(&mut byte).is_ok() { u64::from(u16::from_le_bytes(byte)) } else { 0 };
    let ceiling = 1u64 << attempt.min(6);
    std::time::Duration::from_micros(random % (ceiling * 1000))
}

/// One try of a compare-and-set done by the server on stored JSON text (Redis, MongoDB).
#[cfg(any(feature = "store-redis", feature = "store-mongodb"))]
#[derive(Debug)]
pub(crate) enum TextTry {
    /// Written.
    Set,
    /// No record.
    NoRecord,
    /// The stored text was not the one given: here it is (`None`: the field is absent).
    Differs(Option<String>),
}

/// A compare-and-set on a server that compares the field's stored JSON text byte for byte: the
/// text of `expected` is tried first; when the server holds another text, it is parsed, and if it
/// is the same value spelled otherwise (written by a build whose `serde_json` orders object keys
/// or prints floats differently), that exact text is tried next. Byte-equal texts are equal
/// values, so the server's comparison is never looser than [`refusal`]'s.
#[cfg(any(feature = "store-redis", feature = "store-mongodb"))]
pub(crate) async fn by_text<F, Fut>(expected: Option<&Value>, mut attempt: F) -> Result<CasOutcome>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<TextTry>>,
{
    let mut text = expected.map(Value::to_string);
    for _ in 0..CAS_ATTEMPTS {
        match attempt(text.clone()).await? {
            TextTry::Set => return Ok(CasOutcome::Set),
            TextTry::NoRecord => return Ok(CasOutcome::NoRecord),
            TextTry::Differs(stored) => {
                let value: Option<Value> = match &stored {
                    Some(stored) => Some(serde_json::from_str(stored).map_err(|e| Error::Decode(Box::new(e)))?),
                    None => None,
                };
                if value.as_ref() != expected {
                    return Ok(CasOutcome::Conflict);
                }
                // The same value, spelled otherwise (or changed and changed back): that text.
                text = stored;
            }
        }
    }
    Ok(CasOutcome::Conflict)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn refusals() {
        let (one, two) = (json!(1), json!(2));
        assert_eq!(refusal(None, None), Some(CasOutcome::NoRecord));
        assert_eq!(refusal(Some(None), None), None);
        assert_eq!(refusal(Some(Some(&one)), Some(&one)), None);
        assert_eq!(refusal(Some(Some(&one)), Some(&two)), Some(CasOutcome::Conflict));
        assert_eq!(refusal(Some(Some(&one)), None), Some(CasOutcome::Conflict));
        assert_eq!(refusal(Some(None), Some(&one)), Some(CasOutcome::Conflict));
        // JSON null is a value, not an absent field.
        assert_eq!(refusal(Some(None), Some(&Value::Null)), Some(CasOutcome::Conflict));
    }

    #[cfg(any(feature = "store-redis", feature = "store-mongodb"))]
    #[tokio::test]
    async fn a_value_spelled_otherwise_is_tried_in_the_stored_spelling() {
        let expected = json!({"a": 1, "b": [1.5]});
        let stored = r#"{ "b": [1.50], "a": 1 }"#;
        let mut tried = Vec::new();
        let outcome = by_text(Some(&expected), |text| {
            tried.push(text.clone());
            let answer =
                if text.as_deref() == Some(stored) { TextTry::Set } else { TextTry::Differs(Some(stored.into())) };
            async move { Ok(answer) }
        })
        .await
        .unwrap();
        assert_eq!(outcome, CasOutcome::Set);
        assert_eq!(tried, [Some(expected.to_string()), Some(stored.to_owned())]);

        // Another value: a conflict at once.
        let outcome = by_text(Some(&json!(2)), |_| async { Ok(TextTry::Differs(Some("3".into()))) }).await.unwrap();
        assert_eq!(outcome, CasOutcome::Conflict);
        let outcome = by_text(None, |_| async { Ok(TextTry::Differs(Some("3".into()))) }).await.unwrap();
        assert_eq!(outcome, CasOutcome::Conflict);
        let outcome = by_text(Some(&json!(3)), |_| async { Ok(TextTry::Differs(None)) }).await.unwrap();
        assert_eq!(outcome, CasOutcome::Conflict);
        let outcome = by_text(None, |_| async { Ok(TextTry::NoRecord) }).await.unwrap();
        assert_eq!(outcome, CasOutcome::NoRecord);
    }
}
