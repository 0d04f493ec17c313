//! A node's place in the cluster: which node runs the singletons (the dispatcher, the
//! deadline clock, the pollers) and how that node hears the others' commits. The
//! leader is whoever holds a session advisory lock; its session ends with its
//! process or its connection, and another node takes the lock within a second.
//! While it leads, a node listens on the notes channel and passes the other nodes'
//! commit notes to its subscribers.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use postgres::fallible_iterator::FallibleIterator;
use tokio::sync::{mpsc::UnboundedSender, watch};

use super::{notes, session::Link};
use crate::CommitNote;

/// The session advisory lock of the leader.
const LEADER_LOCK: i64 = 0x6d6f_7463_7561;
/// How often a follower tries the lock, and a leader checks its session.
const TURN: Duration = Duration::from_millis(500);

/// What the cluster thread needs.
pub(super) struct Member {
    pub(super) link: Arc<Link>,
    /// This node's id in note payloads.
    pub(super) node: String,
    pub(super) leading: watch::Sender<bool>,
    pub(super) subscribers: Vec<UnboundedSender<CommitNote>>,
    pub(super) stop: Arc<AtomicBool>,
}

impl Member {
    /// Runs until `stop`: connects, waits for the lock, leads while the session lives.
    pub(super) fn run(mut self) {
        while !self.stop.load(Ordering::Acquire) {
            match self.link.connect() {
                Ok(client) => self.session(client),
                Err(e) => tracing::debug!(error = %e, "the cluster session cannot connect"),
            }
            if self.leading.send_replace(false) {
                tracing::warn!("this node no longer leads: its session with the database ended");
            }
            std::thread::sleep(TURN);
        }
    }

    /// One session: follow until the lock is ours, then lead until the session fails.
    fn session(&mut self, mut client: postgres::Client) {
        loop {
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            if *self.leading.borrow() {
                if !self.forward(&mut client) {
                    return;
                }
                continue;
            }
            match client.query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK]) {
                Ok(row) if row.get::<_, bool>(0) => {
                    // Listen before leading: every commit after this is heard, every
                    // one before it is in the store when the singletons start.
                    if client.batch_execute(&format!("LISTEN {}", notes::CHANNEL)).is_err() {
                        return;
                    }
                    tracing::info!("this node leads: it runs the dispatcher, the deadline clock and the pollers");
                    self.leading.send_replace(true);
                }
                Ok(_) => std::thread::sleep(TURN),
                Err(_) => return,
            }
        }
    }

    /// Passes on the other nodes' notes for one turn; false when the session failed.
    fn forward(&mut self, client: &mut postgres::Client) -> bool {
        let until = Instant::now() + TURN;
        {
            let mut notifications = client.notifications();
            let mut waiting = notifications.timeout_iter(TURN);
            while Instant::now() < until {
                match waiting.next() {
                    Ok(Some(notification)) => {
                        for note in notes::decode(&self.node, notification.payload()).unwrap_or_default() {
                            self.subscribers.retain(|s| s.send(note.clone()).is_ok());
                        }
                    }
                    Err(_) => return false,
                    Ok(None) => break,
                }
            }
        }
        client.batch_execute("SELECT 1").is_ok()
    }
}
