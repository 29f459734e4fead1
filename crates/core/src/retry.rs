//! The one retry policy both clients use. It acts only on the failure's retry advice (from the
//! registry row, or the failure kind when there is no row), honours `Retry-After`, caps the
//! attempts and the total time, never repeats a call that may already have taken effect unless
//! the call is idempotent, and reports every attempt through `tracing`.
//!
//! The policy is runtime-agnostic: [`RetryPolicy::run`] takes the sleep function (the clients
//! pass `tokio::time::sleep`), and [`RetryPolicy::decide`] is the pure decision it applies.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use crate::{Failure, Retry};

/// Whether repeating a call can change the outcome beyond the first success.
///
/// Reads and absolute setters (`setAudioVolume` to 30, power on) are idempotent; relative
/// setters (`volume +5`), launches, IRCC key presses and ThinQ control commands are not.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Idempotency {
    /// Repeating the call leaves the device as one call would.
    Idempotent,
    /// Repeating the call may act twice.
    NonIdempotent,
}

/// The limits and delays of retrying. [`RetryPolicy::default`] suits a person waiting on a
/// device; tests use tiny delays.
///
/// ```
/// use devfault_core::RetryPolicy;
/// use std::time::Duration;
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.max_attempts, 4);
/// assert_eq!(policy.max_elapsed, Duration::from_secs(30));
/// let none = RetryPolicy::never();
/// assert_eq!(none.max_attempts, 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// The most attempts of one call, the first included (1 = never retry). Default 4.
    pub max_attempts: u32,
    /// The most time from the first attempt to the start of the last one. Default 30 s.
    pub max_elapsed: Duration,
    /// The first back-off delay; each later one doubles. Default 250 ms.
    pub base_delay: Duration,
    /// The longest back-off delay. Default 8 s.
    pub max_delay: Duration,
    /// The delay before re-issuing a request the server asked to re-issue at once (BRAVIA
    /// 40000). Default 0.
    pub reissue_delay: Duration,
    /// The delay before repeating a request refused because a previous one is still in
    /// progress (BRAVIA 40003, 41400). Default 500 ms.
    pub after_previous_delay: Duration,
    /// The longest `Retry-After` the policy waits for; a longer one ends the retries and is
    /// left to the caller. Default 60 s.
    pub max_retry_after: Duration,
    /// The rate-limit window assumed when the server does not say when it reopens (ThinQ's is
    /// "per hour"). Default 1 h.
    pub quota_window: Duration,
    /// Spreads each back-off delay over its upper half at random ("equal jitter"), so that many
    /// clients refused at once do not come back at once. A server's `Retry-After` is never
    /// shortened. Default on.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            max_elapsed: Duration::from_secs(30),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            reissue_delay: Duration::ZERO,
            after_previous_delay: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            quota_window: Duration::from_secs(3600),
            jitter: true,
        }
    }
}

/// What the policy decided after a failed attempt.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Decision {
    /// Try again after this delay.
    RetryAfter(Duration),
    /// Stop and report the failure.
    Stop(StopReason),
}

/// Why the policy stopped retrying.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum StopReason {
    /// The advice says repeating will not help (never, after a state change, reauthenticate,
    /// after the quota window).
    Advice(Retry),
    /// The call may already have taken effect and is not idempotent.
    NotIdempotent,
    /// [`RetryPolicy::max_attempts`] reached.
    Attempts,
    /// The next attempt would start after [`RetryPolicy::max_elapsed`].
    Elapsed,
    /// The server asked for a wait longer than [`RetryPolicy::max_retry_after`].
    RetryAfterTooLong(Duration),
}

impl StopReason {
    /// A short phrase for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Advice(_) => "the advice says not to repeat now",
            StopReason::NotIdempotent => "the call may have taken effect and is not idempotent",
            StopReason::Attempts => "the attempts are used up",
            StopReason::Elapsed => "the time budget is used up",
            StopReason::RetryAfterTooLong(_) => "the server asked for a longer wait than allowed",
        }
    }
}

impl RetryPolicy {
    /// A policy that makes one attempt only.
    pub fn never() -> RetryPolicy {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// Sets the attempt cap (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> RetryPolicy {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the total time cap.
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> RetryPolicy {
        self.max_elapsed = elapsed;
        self
    }

    /// Sets every delay at once (back-off base and cap, after-previous), for tests that must be
    /// fast; `Retry-After` is still honoured.
    pub fn with_delays(mut self, base: Duration, max: Duration) -> RetryPolicy {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self.after_previous_delay = base;
        self
    }

    /// Turns jitter on or off.
    pub fn with_jitter(mut self, jitter: bool) -> RetryPolicy {
        self.jitter = jitter;
        self
    }

    /// Sets the longest `Retry-After` honoured.
    pub fn with_max_retry_after(mut self, wait: Duration) -> RetryPolicy {
        self.max_retry_after = wait;
        self
    }

    /// Sets the assumed rate-limit window.
    pub fn with_quota_window(mut self, window: Duration) -> RetryPolicy {
        self.quota_window = window;
        self
    }

    /// The back-off delay before attempt `attempt + 1` (attempt counts from 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Decides what follows attempt number `attempt` (from 1) of a call that failed with
    /// `failure`, `elapsed` after the first attempt began. The delay is before jitter, which
    /// [`RetryPolicy::run`] applies.
    ///
    /// ```
    /// use devfault_core::{Decision, Failure, FailureKind, Idempotency, Retry, RetryPolicy, StopReason};
    /// use std::time::Duration;
    /// let policy = RetryPolicy::default();
    /// let busy = Failure::new("bravia", FailureKind::Http, "Service Unavailable")
    ///     .with_status(503).with_retry(Retry::BackOff);
    /// let idem = Idempotency::Idempotent;
    /// assert_eq!(policy.decide(&busy, idem, 1, Duration::ZERO), Decision::RetryAfter(Duration::from_millis(250)));
    /// assert_eq!(policy.decide(&busy, idem, 2, Duration::ZERO), Decision::RetryAfter(Duration::from_millis(500)));
    /// assert_eq!(policy.decide(&busy, idem, 4, Duration::ZERO), Decision::Stop(StopReason::Attempts));
    /// // A timeout of a control command: it may have run, so it is not repeated.
    /// let timeout = Failure::new("thinq", FailureKind::Timeout, "no reply");
    /// assert_eq!(policy.decide(&timeout, Idempotency::NonIdempotent, 1, Duration::ZERO),
    ///     Decision::Stop(StopReason::NotIdempotent));
    /// ```
    pub fn decide(
        &self,
        failure: &Failure,
        idempotency: Idempotency,
        attempt: u32,
        elapsed: Duration,
    ) -> Decision {
        let mut delay = match failure.retry {
            Retry::BackOff => self.backoff(attempt),
            Retry::ReissueNow => self.reissue_delay,
            Retry::AfterPrevious => self.after_previous_delay,
            advice @ (Retry::Never
            | Retry::AfterStateChange
            | Retry::Reauthenticate
            | Retry::AfterQuotaReset) => return Decision::Stop(StopReason::Advice(advice)),
        };
        if failure.outcome_unknown && idempotency == Idempotency::NonIdempotent {
            return Decision::Stop(StopReason::NotIdempotent);
        }
        if let Some(retry_after) = failure.retry_after {
            let wait = retry_after.wait_from(SystemTime::now());
            if wait > self.max_retry_after {
                return Decision::Stop(StopReason::RetryAfterTooLong(wait));
            }
            delay = delay.max(wait);
        }
        if attempt >= self.max_attempts {
            return Decision::Stop(StopReason::Attempts);
        }
        if elapsed.saturating_add(delay) > self.max_elapsed {
            return Decision::Stop(StopReason::Elapsed);
        }
        Decision::RetryAfter(delay)
    }

    /// The delay actually slept: with [`RetryPolicy::jitter`], a back-off delay `d` becomes a
    /// random delay from `d/2` to `d`; a delay set by `Retry-After` is kept.
    fn jittered(&self, delay: Duration, failure: &Failure) -> Duration {
        if !self.jitter || failure.retry != Retry::BackOff || failure.retry_after.is_some() {
            return delay;
        }
        let half = delay / 2;
        half + half.mul_f64(random_fraction())
    }

    /// Runs `attempt_fn` until it succeeds or [`RetryPolicy::decide`] stops, sleeping with
    /// `sleep` in between. The failure returned has [`Failure::attempts`] set and, for a rate
    /// limit, [`Failure::reopens`]. Every attempt is reported through `tracing` under the target
    /// `devfault::retry` with the call's name.
    pub async fn run<T, F, Fut, S, SFut>(
        &self,
        call: &str,
        idempotency: Idempotency,
        mut attempt_fn: F,
        sleep: S,
    ) -> Result<T, Failure>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
        S: Fn(Duration) -> SFut,
        SFut: Future<Output = ()>,
    {
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            match attempt_fn(attempt).await {
                Ok(value) if attempt > 1 => {
                    tracing::info!(target: "devfault::retry", call, attempt, "succeeded after retrying");
                    return Ok(value);
                }
                Ok(value) => {
                    tracing::debug!(target: "devfault::retry", call, attempt, "succeeded");
                    return Ok(value);
                }
                Err(mut failure) => {
                    failure.attempts = attempt;
                    let decision = self.decide(&failure, idempotency, attempt, started.elapsed());
                    match decision {
                        Decision::RetryAfter(delay) => {
                            let delay = self.jittered(delay, &failure);
                            tracing::warn!(
                                target: "devfault::retry", call, attempt,
                                kind = failure.kind.as_str(), code = failure.code.as_deref(),
                                status = failure.status, retry = failure.retry.as_str(),
                                delay_ms = delay.as_millis() as u64,
                                "failed: {}; retrying", failure.message
                            );
                            sleep(delay).await;
                            attempt += 1;
                        }
                        Decision::Stop(reason) => {
                            if attempt == 1 {
                                // A first answer that is not retried is the caller's to report.
                                tracing::debug!(
                                    target: "devfault::retry", call, attempt,
                                    kind = failure.kind.as_str(), code = failure.code.as_deref(),
                                    status = failure.status, retry = failure.retry.as_str(),
                                    "failed: {}; not retried: {}", failure.message, reason.as_str()
                                );
                            } else {
                                tracing::warn!(
                                    target: "devfault::retry", call, attempt,
                                    kind = failure.kind.as_str(), code = failure.code.as_deref(),
                                    status = failure.status, retry = failure.retry.as_str(),
                                    "failed: {}; giving up: {}", failure.message, reason.as_str()
                                );
                            }
                            return Err(
                                failure.with_reopen_estimate(SystemTime::now(), self.quota_window)
                            );
                        }
                    }
                }
            }
        }
    }
}

/// A number in [0, 1) from the standard library's per-process random hash keys: random enough
/// to spread retries, without a dependency.
fn random_fraction() -> f64 {
    use std::hash::BuildHasher;
    let bits = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FailureKind, RetryAfter};
    use std::cell::{Cell, RefCell};

    fn api(retry: Retry) -> Failure {
        Failure::new("test", FailureKind::Api, "x").with_code("1", None).with_retry(retry)
    }

    /// Polls a future that never waits on anything (the test sleeps are no-ops).
    fn block_on<F: Future>(future: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut future = std::pin::pin!(future);
        let mut context = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
                return value;
            }
        }
    }

    #[test]
    fn advice_decides_whether_to_retry() {
        let policy = RetryPolicy::default();
        let idem = Idempotency::Idempotent;
        for advice in
            [Retry::Never, Retry::AfterStateChange, Retry::Reauthenticate, Retry::AfterQuotaReset]
        {
            assert_eq!(
                policy.decide(&api(advice), idem, 1, Duration::ZERO),
                Decision::Stop(StopReason::Advice(advice))
            );
        }
        assert_eq!(
            policy.decide(&api(Retry::ReissueNow), idem, 1, Duration::ZERO),
            Decision::RetryAfter(Duration::ZERO)
        );
        assert_eq!(
            policy.decide(&api(Retry::AfterPrevious), idem, 1, Duration::ZERO),
            Decision::RetryAfter(Duration::from_millis(500))
        );
    }

    #[test]
    fn a_server_refusal_may_be_repeated_even_for_a_non_idempotent_call() {
        // The server answered with a code: the command was not carried out.
        let policy = RetryPolicy::default();
        let busy = api(Retry::BackOff);
        assert!(!busy.outcome_unknown);
        assert!(matches!(
            policy.decide(&busy, Idempotency::NonIdempotent, 1, Duration::ZERO),
            Decision::RetryAfter(_)
        ));
        let garbage = Failure::new("test", FailureKind::Unreadable, "<html>");
        assert_eq!(
            policy.decide(&garbage, Idempotency::NonIdempotent, 1, Duration::ZERO),
            Decision::Stop(StopReason::NotIdempotent)
        );
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let policy = RetryPolicy::default();
        let idem = Idempotency::Idempotent;
        let told =
            api(Retry::BackOff).with_retry_after(Some(RetryAfter::Delay(Duration::from_secs(3))));
        assert_eq!(
            policy.decide(&told, idem, 1, Duration::ZERO),
            Decision::RetryAfter(Duration::from_secs(3))
        );
        let long =
            api(Retry::BackOff).with_retry_after(Some(RetryAfter::Delay(Duration::from_secs(600))));
        assert_eq!(
            policy.decide(&long, idem, 1, Duration::ZERO),
            Decision::Stop(StopReason::RetryAfterTooLong(Duration::from_secs(600)))
        );
    }

    #[test]
    fn time_and_attempts_are_capped() {
        let policy = RetryPolicy::default().with_max_elapsed(Duration::from_secs(1));
        let idem = Idempotency::Idempotent;
        assert_eq!(
            policy.decide(&api(Retry::BackOff), idem, 1, Duration::from_millis(900)),
            Decision::Stop(StopReason::Elapsed)
        );
        assert_eq!(policy.backoff(1), Duration::from_millis(250));
        assert_eq!(policy.backoff(40), Duration::from_secs(8));
    }

    #[test]
    fn run_counts_attempts_and_sleeps_between_them() {
        let policy = RetryPolicy::default()
            .with_delays(Duration::from_millis(1), Duration::from_millis(4))
            .with_jitter(false);
        let slept = RefCell::new(Vec::new());
        let calls = Cell::new(0);
        let result = block_on(policy.run(
            "test",
            Idempotency::Idempotent,
            |attempt| {
                calls.set(calls.get() + 1);
                async move { if attempt < 3 { Err(api(Retry::BackOff)) } else { Ok(attempt) } }
            },
            |delay| {
                slept.borrow_mut().push(delay);
                async {}
            },
        ));
        assert_eq!(result.ok(), Some(3));
        assert_eq!(calls.get(), 3);
        assert_eq!(*slept.borrow(), [Duration::from_millis(1), Duration::from_millis(2)]);

        let failed: Result<(), Failure> = block_on(policy.run(
            "test",
            Idempotency::Idempotent,
            |_| async { Err(api(Retry::BackOff)) },
            |_| async {},
        ));
        assert_eq!(failed.map_err(|f| f.attempts).err(), Some(4));
    }

    #[test]
    fn jitter_keeps_the_upper_half_and_never_shortens_retry_after() {
        let policy = RetryPolicy::default();
        let second = Duration::from_secs(1);
        let spread: Vec<Duration> =
            (0..64).map(|_| policy.jittered(second, &api(Retry::BackOff))).collect();
        assert!(spread.iter().all(|d| (second / 2..=second).contains(d)), "{spread:?}");
        assert!(spread.iter().any(|d| *d != spread[0]), "the delays differ: {spread:?}");
        let told = api(Retry::BackOff).with_retry_after(Some(RetryAfter::Delay(second)));
        assert_eq!(policy.jittered(second, &told), second);
        assert_eq!(policy.jittered(second, &api(Retry::AfterPrevious)), second);
        assert_eq!(policy.with_jitter(false).jittered(second, &api(Retry::BackOff)), second);
    }

    #[test]
    fn every_attempt_is_reported_through_tracing() {
        #[derive(Clone, Default)]
        struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().map_err(|_| std::io::ErrorKind::Other)?.extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let policy = RetryPolicy::default().with_delays(Duration::ZERO, Duration::ZERO);
        tracing::subscriber::with_default(subscriber, || {
            let result: Result<(), Failure> = block_on(policy.run(
                "system.getPowerStatus@1.0",
                Idempotency::Idempotent,
                |_| async { Err(api(Retry::BackOff)) },
                |_| async {},
            ));
            assert!(result.is_err());
        });
        let text = String::from_utf8(buffer.0.lock().expect("lock").clone()).expect("UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        for (index, line) in lines.iter().enumerate() {
            assert!(line.contains(&format!("attempt={}", index + 1)), "{line}");
            assert!(
                line.contains("system.getPowerStatus@1.0") && line.contains("devfault::retry"),
                "{line}"
            );
        }
        assert!(lines[3].contains("giving up: the attempts are used up"), "{}", lines[3]);
    }

    #[test]
    fn a_rate_limit_is_not_retried_and_says_when_the_window_reopens() {
        let policy = RetryPolicy::default();
        let before = SystemTime::now();
        let failed: Result<(), Failure> = block_on(policy.run(
            "test",
            Idempotency::Idempotent,
            |_| async { Err(api(Retry::AfterQuotaReset)) },
            |_| async {},
        ));
        let failure = failed.expect_err("fails");
        assert_eq!(failure.attempts, 1);
        let reopen = failure.reopens.expect("a reopen time");
        assert!(reopen.estimated);
        assert!(reopen.at >= before + Duration::from_secs(3600));
    }
}
