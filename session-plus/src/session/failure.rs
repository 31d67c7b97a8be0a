//! A named session that could not be loaded or saved, as the response sees it: which session,
//! at which step, and the status the configuration gives it. What went wrong (the store's
//! error) is logged where it happens, never carried here: an error response must not show it.

use http::StatusCode;

use crate::config::SessionConfig;

/// A named session that could not be loaded or saved ([`Finished::failure`](super::Finished::failure)).
///
/// Given to the application's [error response](crate::SessionManagerBuilder::with_error_response);
/// it holds no id, no value and no store error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    status: StatusCode,
    session: String,
    stage: Stage,
}

/// When a [`Failure`] happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Its store could not load it.
    Load,
    /// It could not be saved: its store failed, or its cookie was over the size browsers keep.
    Save,
}

impl Failure {
    /// A failure of the session `config` at `stage`, with the status configured for it.
    pub(crate) fn new(config: &SessionConfig, stage: Stage) -> Self {
        let status = match stage {
            Stage::Load => config.on_error.load_error_status,
            Stage::Save => config.on_error.save_error_status,
        };
        Self { status, session: config.cookie_name.clone(), stage }
    }

    /// The status the configuration gives this failure (`load_error_status`, 503 by default;
    /// `save_error_status`, 500).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The cookie name of the session that failed.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// Whether it failed to load or to save.
    pub fn stage(&self) -> Stage {
        self.stage
    }
}
