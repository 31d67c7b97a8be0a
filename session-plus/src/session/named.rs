//! The named sessions of a configuration, ready for requests: each with its backend, and the
//! table every request shares (routing, names, clock).
//!
//! The [manager](crate::SessionManager) builds these once at start-up; a [`Session`](super::Session)
//! only reads them.

use std::collections::HashMap;
use std::sync::Arc;

use super::{ErrorResponder, Id};
use crate::clock::Clock;
use crate::codec::{CookieCodec, IdSigner};
use crate::config::{Format, SessionConfig};
use crate::routing::Routing;
use crate::store::turns::KeyLocks;
use crate::store::SessionStore;

/// Everything a request needs to run its sessions, shared by all requests.
pub(crate) struct Sessions {
    pub(crate) list: Vec<NamedSession>,
    pub(crate) by_name: HashMap<String, usize>,
    /// The cookie names, in configuration order.
    pub(crate) names: Vec<String>,
    pub(crate) routing: Routing,
    pub(crate) clock: Arc<dyn Clock>,
    /// Per session: the index of the server-side session it is bound to (`bind_to`), if any.
    pub(crate) bound_to: Vec<Option<usize>>,
    /// The application's response to a failed session, instead of the generic one.
    pub(crate) error_responder: Option<ErrorResponder>,
    /// Whether a response with a 4xx or 5xx status saves the session's changes (it does by default).
    pub(crate) save_error_responses: bool,
    /// The atomic updates of one record by this process's requests take turns (see
    /// [`Session::update`](super::Session::update)).
    pub(crate) turns: KeyLocks,
}

impl Sessions {
    /// The shared table of these sessions, in configuration order.
    pub(crate) fn new(list: Vec<NamedSession>, routing: Routing, clock: Arc<dyn Clock>) -> Self {
        let names: Vec<String> = list.iter().map(|s| s.config.cookie_name.clone()).collect();
        let by_name: HashMap<String, usize> =
            names.iter().enumerate().map(|(index, name)| (name.clone(), index)).collect();
        // The configuration was validated: a `bind_to` names a server-side session of this list.
        let bound_to = list
            .iter()
            .map(|named| {
                let target = by_name.get(named.config.bind_to.as_deref()?).copied()?;
                matches!(list[target].backend, Backend::Store(_)).then_some(target)
            })
            .collect();
        Self {
            list,
            by_name,
            names,
            routing,
            clock,
            bound_to,
            error_responder: None,
            save_error_responses: true,
            turns: KeyLocks::default(),
        }
    }
}

/// One configured session with its backend.
pub(crate) struct NamedSession {
    pub(crate) config: SessionConfig,
    pub(crate) backend: Backend,
    /// Signs id cookies, with `use_signer`.
    pub(crate) id_signer: Option<IdSigner>,
}

/// Where a session's fields live.
pub(crate) enum Backend {
    /// In the cookie itself.
    Cookie(CookieCodec),
    /// In a store, behind an id cookie.
    Store(Arc<dyn SessionStore>),
}

impl NamedSession {
    /// The store key of an id: `key_prefix:id`, or `key_prefix` and the id with nothing between
    /// for flask-session-plus's records.
    pub(crate) fn key(&self, id: &Id) -> String {
        // Pushed rather than `format!`ed: this runs on every load and save.
        let (prefix, id) = (self.config.key_prefix.as_str(), id.as_str());
        let mut key = String::with_capacity(prefix.len() + 1 + id.len());
        key.push_str(prefix);
        if self.config.flask.format != Format::FlaskSessionPlus {
            key.push(':');
        }
        key.push_str(id);
        key
    }

    /// A fresh id in this session's format.
    pub(crate) fn new_id(&self) -> Result<Id, getrandom::Error> {
        match self.config.flask.format {
            Format::FlaskSessionPlus => Id::random_uuid(),
            _ => Id::random(),
        }
    }

    /// The id in `text`, if it has this session's shape; nothing else reaches a store.
    pub(crate) fn parse_id(&self, text: &str) -> Option<Id> {
        match self.config.flask.format {
            Format::FlaskSessionPlus => Id::parse_uuid(text),
            Format::FlaskSession => Id::parse_token(text),
            _ => Id::parse(text),
        }
    }
}
