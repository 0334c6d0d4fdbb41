//! Deadlines inside one operation (spec §4.2): connect is a *total* timeout, read and send
//! are *idle* timeouts restarted by progress.
//!
//! The arithmetic is pure and saturating, so a `Duration::MAX` timeout means "practically
//! never", not a panic. A [`Deadline`] is re-armed lazily: progress only records the time,
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

/// `now + d`, or the farthest instant the platform represents near it: never panics.
pub fn saturating_add(now: Instant, d: Duration) -> Instant {
    if let Some(t) = now.checked_add(d) {
        return t;
    }
    // Halve until it fits: ends at a far-future instant (centuries on every platform).
    let mut step = d / 2;
    let mut t = now;
    while !step.is_zero() {
        if let Some(next) = t.checked_add(step) {
            t = next;
        }
        step /= 2;
    }
    t
}

/// The timeout in force: a per-object override if set and non-zero, else the directive
/// (spec §4.1: `0` means "use the directive", not "infinite").
pub fn effective_timeout(override_: Option<Duration>, directive: Duration) -> Duration {
    match override_ {
        Some(t) if !t.is_zero() => t,
        _ => directive,
    }
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
    }

    #[test]
    fn zero_override_means_directive() {
        let directive = Duration::from_secs(60);
        assert_eq!(effective_timeout(None, directive), directive);
        assert_eq!(
            effective_timeout(Some(Duration::ZERO), directive),
            directive
        );
        assert_eq!(
            effective_timeout(Some(Duration::from_millis(1)), directive),
            Duration::from_millis(1)
        );
    }
}
