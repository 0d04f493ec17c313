//! A connection's clock: whether it has asked anything yet, how many requests it
//! has in flight and when the last one ended, so that a connection that completes
//! TLS and then says nothing (or only the HTTP/2 preface), or sits idle between
//! requests, gives its slot back.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

/// How long a connection may wait at each stage.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// From the end of the TLS handshake (or the accept, without TLS) to the first
    /// request's headers.
    pub first_request: Duration,
    /// Without a request in flight, between one request and the next.
    pub idle: Duration,
}

/// Which deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// No request arrived in time.
    BeforeFirstRequest,
    /// No request for the idle time.
    Idle,
}

/// What the requests of one connection report.
#[derive(Debug)]
pub struct Activity {
    born: Instant,
    asked: AtomicBool,
    in_flight: AtomicUsize,
    /// When the last request ended, in milliseconds after `born`.
    last_ended_ms: AtomicU64,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            born: Instant::now(),
            asked: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            last_ended_ms: AtomicU64::new(0),
        }
    }
}

/// A request in flight; its end is recorded when dropped.
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let elapsed = u64::try_from(self.0.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.0.last_ended_ms.store(elapsed, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Activity {
    /// Records the start of a request.
    pub fn begin(self: &Arc<Self>) -> Busy {
        self.asked.store(true, Ordering::Release);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(self.clone())
    }

    /// Resolves when a deadline has passed; never while a request is in flight.
    pub async fn expired(&self, deadlines: Deadlines) -> Expired {
        let mut deadline = self.born + deadlines.first_request;
        loop {
            tokio::time::sleep_until(deadline.into()).await;
            if !self.asked.load(Ordering::Acquire) {
                return Expired::BeforeFirstRequest;
            }
            let now = Instant::now();
            if self.in_flight.load(Ordering::Acquire) > 0 {
                deadline = now + deadlines.idle;
                continue;
            }
            let last = self.born + Duration::from_millis(self.last_ended_ms.load(Ordering::Acquire));
            if now >= last + deadlines.idle {
                return Expired::Idle;
            }
            deadline = last + deadlines.idle;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Deadlines = Deadlines { first_request: Duration::from_millis(50), idle: Duration::from_millis(80) };

    #[tokio::test]
    async fn a_silent_connection_expires_before_its_first_request() {
        let activity = Activity::default();
        assert_eq!(activity.expired(SHORT).await, Expired::BeforeFirstRequest);
    }

    #[tokio::test]
    async fn a_request_in_flight_holds_the_connection_and_idleness_ends_it() {
        let activity = Arc::new(Activity::default());
        let busy = activity.begin();
        let watch = {
            let activity = activity.clone();
            tokio::spawn(async move { (activity.expired(SHORT).await, Instant::now()) })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!watch.is_finished(), "a request is still in flight");
        let ended = Instant::now();
        drop(busy);
        let (verdict, at) = watch.await.unwrap();
        assert_eq!(verdict, Expired::Idle);
        assert!(at >= ended + SHORT.idle - Duration::from_millis(5), "idle counted from the request's end");
    }
}
