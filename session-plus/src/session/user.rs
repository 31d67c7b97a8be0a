//! Sessions tied to a user, so that all of them can be ended at once (a password change, "log out
//! everywhere"): promise 23 of the specification.
//!
//! Each store keeps, beside the sessions, one small record per user under
//! `key_prefix:user:<base64url(user id)>` holding a *generation*. [`Session::set_user`] tags every
//! server session of the request with the user and the current generation (a hidden field);
//! [`SessionManager::end_user_sessions`] raises the generation; a tagged session whose generation
//! is older is no session, like an expired one. Generations only grow, even across a lost user
//! record: a new one starts at the current time shifted left by 20 bits, above every generation
//! handed out in an earlier second. The cost: loading a tagged session reads the
//! user's record too, one more store round trip; untagged sessions cost nothing more.
//!
//! The user record lives as long as the longest session could (the permanent lifetime) and is
//! written again at each login. Should it expire while a tagged session lives on, the next load
//! writes it back with that session's generation, so a later end still reaches the session.
//!
//! [`Session::set_user`]: super::Session::set_user
//! [`SessionManager::end_user_sessions`]: crate::SessionManager::end_user_sessions

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::fields::ReservedFields;
use super::NamedSession;
use crate::store::{self, Record, SessionStore, Update};

/// The hidden field holding a session's user tag: `{"id": "...", "generation": n}`. Handlers
/// can neither read nor write it.
pub(crate) const USER_FIELD: &str = "_sp_user";

/// The longest user id accepted, in bytes (its key must fit every store's key column).
pub(crate) const MAX_USER_ID_LEN: usize = 128;

/// The user a session is tied to, and the generation it was tied at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserTag {
    pub(crate) id: String,
    pub(crate) generation: u64,
}

impl UserTag {
    pub(crate) fn to_value(&self) -> Value {
        json!({ "id": self.id, "generation": self.generation })
    }

    /// The tag in a session's fields, if any (a malformed one is treated as none).
    pub(crate) fn from_fields(fields: &impl ReservedFields) -> Option<Self> {
        let tag = fields.reserved(USER_FIELD)?;
        Some(Self { id: tag.get("id")?.as_str()?.to_owned(), generation: tag.get("generation")?.as_u64()? })
    }
}

/// Whether `user_id` can be used: not empty, at most [`MAX_USER_ID_LEN`] bytes, no control
/// characters.
pub(crate) fn is_valid_user_id(user_id: &str) -> bool {
    !user_id.is_empty() && user_id.len() <= MAX_USER_ID_LEN && !user_id.chars().any(char::is_control)
}

/// The key of a user's record in this session's store. Ids never contain `:`, so it cannot
/// collide with a session's key.
pub(crate) fn user_key(named: &NamedSession, user_id: &str) -> String {
    format!("{}:user:{}", named.config.key_prefix, B64.encode(user_id))
}

/// The user's current generation in `store` (0 when the user has no record).
pub(crate) async fn generation(store: &dyn SessionStore, key: &str) -> store::Result<u64> {
    Ok(load(store, key).await?.map_or(0, |record| generation_of(&record)))
}

/// Whether a session tagged `tag` was ended by [`end`]. A missing user record (expired) is
/// written back with the tag's generation, so that a later [`end`] still reaches the session.
pub(crate) async fn is_ended(
    named: &NamedSession,
    store: &dyn SessionStore,
    tag: &UserTag,
    now: i64,
) -> store::Result<bool> {
    let key = user_key(named, &tag.id);
    match load(store, &key).await? {
        Some(record) => Ok(tag.generation < generation_of(&record)),
        None => {
            let record = user_record(named, tag.generation, now);
            if store.create(&key, &record).await? {
                return Ok(false);
            }
            // Written meanwhile (an end, or a login): judge by that.
            Ok(tag.generation < generation(store, &key).await?)
        }
    }
}

/// Ends every session of `user_id` in this session's store: raises the user's generation.
pub(crate) async fn end(named: &NamedSession, store: &dyn SessionStore, user_id: &str, now: i64) -> store::Result<()> {
    let key = user_key(named, user_id);
    // An update or a create wins each round; the loop only absorbs a race between the two.
    for _ in 0..3 {
        match load(store, &key).await? {
            Some(record) => {
                let next = (generation_of(&record) + 1).max(first_generation(now));
                if store.update(&key, &generation_update(named, next, now)).await? {
                    return Ok(());
                }
            }
            None => {
                if store.create(&key, &user_record(named, first_generation(now), now)).await? {
                    return Ok(());
                }
            }
        }
    }
    Err(store::Error::Backend("the user's record kept changing; try again".into()))
}

/// Keeps the user's record alive as long as a session tagged now could live.
pub(crate) async fn touch(
    named: &NamedSession,
    store: &dyn SessionStore,
    user_id: &str,
    now: i64,
) -> store::Result<u64> {
    let key = user_key(named, user_id);
    match load(store, &key).await? {
        Some(record) => {
            let current = generation_of(&record);
            store.update(&key, &generation_update(named, current, now)).await?;
            Ok(current)
        }
        None => {
            let first = first_generation(now);
            if store.create(&key, &user_record(named, first, now)).await? {
                Ok(first)
            } else {
                generation(store, &key).await
            }
        }
    }
}

/// A generation above every one handed out in an earlier second: the time, shifted left by 20
/// bits (room for a million ends per second).
fn first_generation(now: i64) -> u64 {
    u64::try_from(now).unwrap_or(0) << 20
}

/// The user's record; one that cannot be decoded (corrupt) is removed and taken as none, so it
/// is written afresh rather than lock the user out.
async fn load(store: &dyn SessionStore, key: &str) -> store::Result<Option<Record>> {
    match store.load(key).await {
        Err(store::Error::Decode(error)) => {
            tracing::warn!(%error, "undecodable user record replaced");
            store.delete(key).await?;
            Ok(None)
        }
        loaded => loaded,
    }
}

fn generation_of(record: &Record) -> u64 {
    record.fields.get("generation").and_then(Value::as_u64).unwrap_or(0)
}

fn user_record(named: &NamedSession, generation: u64, now: i64) -> Record {
    let mut fields = Map::new();
    fields.insert("generation".to_owned(), generation.into());
    Record { fields, created_at: now, expires_at: expiry(named, now), permanent: true }
}

fn generation_update(named: &NamedSession, generation: u64, now: i64) -> Update {
    let mut update = Update { expires_at: expiry(named, now), permanent: Some(true), ..Update::default() };
    update.set.insert("generation".to_owned(), generation.into());
    update
}

/// A user's record outlives every session tagged with it: the longest lifetime, from now.
fn expiry(named: &NamedSession, now: i64) -> i64 {
    let longest = named.config.lifetime(true).max(named.config.lifetime(false));
    now.saturating_add(longest)
}
