//! What can go wrong with a [`Session`](super::Session) operation, and the HTTP status each
//! failure answers with.

use http::StatusCode;

/// The result of a [`Session`](super::Session) operation.
pub type Result<T> = std::result::Result<T, Error>;

/// What can go wrong with a [`Session`](super::Session) operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A write to a field that no session owns: fix the configuration's `session_fields`.
    #[error("no session owns the field `{0}`; list it in some session's session_fields")]
    UnownedField(String),
    /// No session has this cookie name.
    #[error("no session is named `{0}`")]
    UnknownSession(String),
    /// A write to a field session-plus keeps for itself (`_sp_user`, the user tag; `_sp_expiry`,
    /// a lifetime set with [`Session::set_expiry`](super::Session::set_expiry)).
    #[error("the field `{0}` is reserved for session-plus")]
    ReservedField(String),
    /// A user id that is empty, over 128 bytes, or holds control characters.
    #[error("a user id must be 1 to 128 bytes without control characters")]
    InvalidUserId,
    /// [`Session::set_expiry`](super::Session::set_expiry) on a session in a Python format: Flask reads its data and its
    /// lifetimes come from Flask's configuration.
    #[error("session `{0}` is in a Python format; its lifetime is set in the configuration")]
    NativeFormatOnly(String),
    /// [`Session::set_user`](super::Session::set_user) without a server-side session in the native format to tie.
    #[error("set_user needs a server-side session in the native format")]
    NoServerSession,
    /// A change made after the response was saved (by a task that outlived its handler): it
    /// could not reach the client, so it is refused rather than lost silently.
    #[error("the session was already saved with its response; this change would be lost")]
    AlreadySaved,
    /// The store of a session could not load it.
    #[error("the store of session `{session}` is unavailable")]
    Load {
        /// The session's cookie name.
        session: String,
        /// The HTTP status the configuration gives this failure.
        status: StatusCode,
    },
    /// The store of a session failed to write an [atomic update](super::Session::update).
    #[error("the store of session `{session}` failed to write")]
    Write {
        /// The session's cookie name.
        session: String,
        /// The HTTP status the configuration gives a failed save (`save_error_status`).
        status: StatusCode,
    },
    /// An [atomic update](super::Session::update) lost to concurrent updates of the same field on every
    /// one of its attempts: nothing was written. Answered with 409 Conflict, the status of a
    /// concurrent change that defeated a read-modify-write: the client may simply retry.
    #[error("the field `{field}` kept changing under concurrent updates; nothing was written")]
    Conflict {
        /// The field.
        field: String,
    },
    /// An [atomic update](super::Session::update) of a field kept by a store that cannot compare and
    /// set one field: a session in a Python format (its records are shared with Flask, which
    /// rewrites whole records), or a store of your own without
    /// [`compare_and_set`](crate::store::SessionStore::compare_and_set).
    #[error("the store of session `{session}` cannot update one field atomically")]
    Unsupported {
        /// The session's cookie name.
        session: String,
    },
    /// A value could not be turned into JSON.
    #[error("the value does not serialize to JSON: {0}")]
    Serialize(#[source] serde_json::Error),
    /// A stored value is not of the type asked for.
    #[error("the field `{field}` holds a value of another type")]
    Deserialize {
        /// The field.
        field: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// The HTTP status this error should produce.
    ///
    /// ```
    /// use http::StatusCode;
    /// let err = session_plus::session::Error::UnownedField("x".into());
    /// assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    /// let err = session_plus::session::Error::Conflict { field: "visits".into() };
    /// assert_eq!(err.status(), StatusCode::CONFLICT);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Load { status, .. } | Self::Write { status, .. } => *status,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}
