//! Time, as an input: every expiry decision asks a [`Clock`], so tests can move time.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time, in whole Unix seconds.
///
/// Session expiry (idle, permanent and absolute lifetimes, cookie issue times, purges) reads the
/// time only through this trait, so tests can inject a [`ManualClock`].
///
/// ```
/// use session_plus::clock::{Clock, SystemClock};
/// assert!(SystemClock.now() > 1_700_000_000);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time in seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The operating system's wall clock.
///
/// ```
/// use session_plus::clock::{Clock, SystemClock};
/// let now = SystemClock.now();
/// assert!(now > 0);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(elapsed) => i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX),
            // A clock set before 1970 is a broken machine; time zero expires everything safely.
            Err(_) => 0,
        }
    }
}

/// A clock that moves only when told to; cheap to clone, clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use session_plus::clock::{Clock, ManualClock};
/// let clock = ManualClock::new(1_700_000_000);
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), 1_700_000_060);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock that reads `now` (Unix seconds) until moved.
    pub fn new(now: i64) -> Self {
        Self(Arc::new(AtomicI64::new(now)))
    }

    /// Sets the time to `now` (Unix seconds).
    ///
    /// ```
    /// use session_plus::clock::{Clock, ManualClock};
    /// let clock = ManualClock::new(0);
    /// clock.set(42);
    /// assert_eq!(clock.now(), 42);
    /// ```
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }

    /// Moves the time forward by `by` (whole seconds).
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_plus::clock::{Clock, ManualClock};
    /// let clock = ManualClock::new(0);
    /// clock.advance(Duration::from_secs(2));
    /// assert_eq!(clock.now(), 2);
    /// ```
    pub fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
