//! Deadlines inside one operation (spec §4.2): connect is a *total* timeout, read and send
//! are *idle* timeouts restarted by progress.
//!
//! [`Timeout`] is what a user sets: the directive, a duration, or never. The arithmetic is
//! pure and saturating, and any wait longer than [`NEVER_AFTER`] (`Duration::MAX`
//! included) is no wait at all: no timer is armed, so no backend sees an instant it cannot
//! add to (tokio rounds every deadline up by a millisecond). A [`Deadline`] is re-armed lazily: progress only records the time,
//! and when the timer fires [`Deadline::check`] says whether the operation really expired
//! or must wait until the moved deadline. One timer per operation, never one per chunk.

use std::time::{Duration, Instant};

/// How a timeout counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutMode {
    /// From the start of the operation (connect, backlog wait, name resolution, UDP
    /// receive).
    Total,
    /// From the last progress (TCP send and receive: data trickling in every 150 ms never
    /// trips a 250 ms read timeout).
    Idle,
}

/// What [`Deadline::check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The operation timed out.
    Expired,
    /// Not yet: sleep until this instant and check again.
    WaitUntil(Instant),
}

/// The deadline of one running operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    mode: TimeoutMode,
    timeout: Duration,
    /// The start (total) or the last progress (idle).
    since: Instant,
}

impl Deadline {
    /// A deadline that started `now`.
    pub fn new(mode: TimeoutMode, timeout: Duration, now: Instant) -> Self {
        Self {
            mode,
            timeout,
            since: now,
        }
    }

    /// The instant the operation expires if nothing else happens.
    pub fn at(&self) -> Instant {
        saturating_add(self.since, self.timeout)
    }

    /// The operation made progress at `now`: an idle deadline moves, a total one does not.
    pub fn progress(&mut self, now: Instant) {
        if self.mode == TimeoutMode::Idle && now > self.since {
            self.since = now;
        }
    }

    /// Whether the operation has expired at `now`, or until when to wait.
    pub fn check(&self, now: Instant) -> Check {
        let at = self.at();
        if now >= at {
            Check::Expired
        } else {
            Check::WaitUntil(at)
        }
    }
}

/// Waits at least this long (about 30 years) never end: a timeout this long arms no timer,
/// and an instant computed from one is clamped here.
pub const NEVER_AFTER: Duration = Duration::from_secs(30 * 365 * 86_400);

/// A timeout as a user sets it on a socket: the context's directive, a duration, or none.
///
/// `From<Duration>` and `From<Option<Duration>>` (`None` is the directive) let the setters
/// take plain durations. **Zero keeps OpenResty's meaning** for each call: an operation
/// timeout of zero is the directive (spec §4.1, `settimeout(0)`), a `set_keepalive` idle
/// timeout of zero keeps the connection until the server closes it (spec §5.4). A duration
/// of [`NEVER_AFTER`] or more (`Duration::MAX` included) is [`Timeout::Never`].
///
/// ```
/// use std::time::Duration;
/// use cosocket_core::Timeout;
/// assert_eq!(Timeout::from(None), Timeout::Directive);
/// assert_eq!(Timeout::from(Duration::from_millis(5)), Timeout::After(Duration::from_millis(5)));
/// assert_eq!(Timeout::from(Duration::MAX).resolve(Duration::from_secs(60)), None);
/// assert_eq!(Timeout::After(Duration::ZERO).resolve(Duration::from_secs(60)), Some(Duration::from_secs(60)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Timeout {
    /// The context's `lua_socket_*_timeout` directive (the default).
    #[default]
    Directive,
    /// This long (zero: see the type's docs).
    After(Duration),
    /// The operation waits as long as it takes (`std`'s `set_read_timeout(None)`).
    Never,
}

impl From<Duration> for Timeout {
    fn from(d: Duration) -> Self {
        Self::After(d)
    }
}

impl From<Option<Duration>> for Timeout {
    fn from(d: Option<Duration>) -> Self {
        d.map_or(Self::Directive, Self::After)
    }
}

impl Timeout {
    /// An operation timeout in force, given the directive: `None` is never. Zero is the
    /// directive (spec §4.1: `0` means "use the directive", not "infinite").
    pub fn resolve(self, directive: Duration) -> Option<Duration> {
        let d = match self {
            Self::Never => return None,
            Self::After(d) if !d.is_zero() => d,
            Self::After(_) | Self::Directive => directive,
        };
        (d < NEVER_AFTER).then_some(d)
    }

    /// A `set_keepalive` idle timeout in force: `None` is never; zero (set here or in the
    /// directive) keeps the connection until the server closes it (spec §5.4).
    pub fn resolve_idle(self, directive: Duration) -> Option<Duration> {
        let d = match self {
            Self::Never => return None,
            Self::After(d) => d,
            Self::Directive => directive,
        };
        (!d.is_zero() && d < NEVER_AFTER).then_some(d)
    }
}

/// `now + d`, clamped to `now +` [`NEVER_AFTER`]: never panics, and leaves every backend
/// room to round the instant up.
pub fn saturating_add(now: Instant, d: Duration) -> Instant {
    let d = d.min(NEVER_AFTER);
    now.checked_add(d).unwrap_or(now)
}

/// The deadline of a total timeout that starts `now`; `None` (never) stays `None`.
pub fn deadline_after(now: Instant, timeout: Option<Duration>) -> Option<Instant> {
    timeout.map(|d| saturating_add(now, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake clock: instants are offsets in milliseconds from one base.
    struct Clock(Instant);
    impl Clock {
        fn new() -> Self {
            Self(Instant::now())
        }
        fn ms(&self, ms: u64) -> Instant {
            self.0 + Duration::from_millis(ms)
        }
    }

    #[test]
    fn total_ignores_progress() {
        let clock = Clock::new();
        let mut d = Deadline::new(TimeoutMode::Total, Duration::from_millis(100), clock.ms(0));
        d.progress(clock.ms(90));
        assert_eq!(d.check(clock.ms(99)), Check::WaitUntil(clock.ms(100)));
        assert_eq!(d.check(clock.ms(100)), Check::Expired);
    }

    /// spec §11 case 16: bytes every 150 ms never trip a 250 ms read timeout.
    #[test]
    fn idle_restarts_on_progress() {
        let clock = Clock::new();
        let mut d = Deadline::new(TimeoutMode::Idle, Duration::from_millis(250), clock.ms(0));
        for step in 1..=4 {
            let now = clock.ms(150 * step);
            assert_eq!(
                d.check(now),
                Check::WaitUntil(clock.ms(150 * (step - 1) + 250))
            );
            d.progress(now);
        }
        // The timer armed at 250 fires: lazily re-armed to the last progress + 250.
        assert_eq!(d.check(clock.ms(700)), Check::WaitUntil(clock.ms(850)));
        assert_eq!(d.check(clock.ms(850)), Check::Expired);
    }

    #[test]
    fn progress_never_moves_backwards() {
        let clock = Clock::new();
        let mut d = Deadline::new(TimeoutMode::Idle, Duration::from_millis(10), clock.ms(50));
        d.progress(clock.ms(20));
        assert_eq!(d.at(), clock.ms(60));
    }

    #[test]
    fn huge_timeouts_saturate() {
        let clock = Clock::new();
        let d = Deadline::new(TimeoutMode::Total, Duration::MAX, clock.ms(0));
        assert!(d.at() > clock.ms(1000 * 86_400 * 365));
        assert!(matches!(
            d.check(clock.ms(u64::from(u32::MAX))),
            Check::WaitUntil(_)
        ));
        let mut idle = Deadline::new(TimeoutMode::Idle, Duration::MAX, clock.ms(0));
        idle.progress(clock.ms(5));
        assert!(idle.at() > clock.ms(5));
        assert_eq!(saturating_add(clock.ms(0), Duration::ZERO), clock.ms(0));
        // Clamped: tokio adds a millisecond to every deadline, which must not overflow.
        let far = saturating_add(clock.ms(0), Duration::MAX);
        assert_eq!(far, clock.ms(0) + NEVER_AFTER);
        assert!(far.checked_add(Duration::from_secs(86_400 * 365)).is_some());
    }

    #[test]
    fn zero_override_means_directive() {
        let directive = Duration::from_secs(60);
        let ms = Duration::from_millis(1);
        assert_eq!(Timeout::Directive.resolve(directive), Some(directive));
        assert_eq!(Timeout::from(None).resolve(directive), Some(directive));
        assert_eq!(
            Timeout::from(Duration::ZERO).resolve(directive),
            Some(directive)
        );
        assert_eq!(Timeout::from(ms).resolve(directive), Some(ms));
        assert_eq!(Timeout::Never.resolve(directive), None);
        assert_eq!(Timeout::from(Duration::MAX).resolve(directive), None);
        assert_eq!(Timeout::from(NEVER_AFTER).resolve(directive), None);
        assert_eq!(Timeout::Directive.resolve(Duration::MAX), None);
    }

    #[test]
    fn zero_idle_means_never() {
        let directive = Duration::from_secs(60);
        assert_eq!(Timeout::Directive.resolve_idle(directive), Some(directive));
        assert_eq!(Timeout::from(Duration::ZERO).resolve_idle(directive), None);
        assert_eq!(Timeout::Directive.resolve_idle(Duration::ZERO), None);
        assert_eq!(Timeout::Never.resolve_idle(directive), None);
        assert_eq!(Timeout::from(Duration::MAX).resolve_idle(directive), None);
        let s = Duration::from_secs(1);
        assert_eq!(Timeout::from(s).resolve_idle(directive), Some(s));
    }
}
