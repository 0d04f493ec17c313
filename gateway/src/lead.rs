//! The singletons — the dispatcher, the deadline clock, the portal and tracking
//! pollers — run on the node that leads the cluster (a node alone always leads), and
//! stop when it stops leading, so that each job is delivered and each deadline mark
//! fired by one node. The store's commit notes reach them only while they run.

use std::{sync::Arc, time::Duration};

use tokio::sync::{
    mpsc::{UnboundedReceiver, unbounded_channel},
    watch,
};

use crate::{app::App, dispatch, store::CommitNote};

/// Runs the singletons whenever this node leads, until `shutdown`.
pub async fn run(
    app: Arc<App>,
    mut notes: UnboundedReceiver<CommitNote>,
    mut clock_notes: UnboundedReceiver<CommitNote>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut leading = app.store.leadership();
    loop {
        // Following: the notes are for the leader, which reads the store when it starts.
        while !*leading.borrow_and_update() {
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                changed = leading.changed() => if changed.is_err() { return },
                Some(_) = notes.recv() => {}
                Some(_) = clock_notes.recv() => {}
            }
        }
        let (term, term_ends) = watch::channel(false);
        let (to_dispatcher, dispatcher_notes) = unbounded_channel();
        let (to_clock, clock_input) = unbounded_channel();
        let (dispatcher, handle) = dispatch::start(app.core().clone(), dispatcher_notes, term_ends.clone(), grace);
        app.set_dispatch(handle);
        let singletons = [
            dispatcher,
            crate::deadlines::start(app.core().clone(), clock_input, term_ends.clone()),
            crate::peers::dvcqg::pull::start(app.core().clone(), term_ends.clone()),
            crate::peers::paygov::start(app.core().clone(), term_ends.clone()),
            crate::peers::dvcqg::ratings::start(app.core().clone(), term_ends.clone()),
            crate::peers::vnpost::tracking::start(app.core().clone(), term_ends.clone()),
            crate::audit::checkpoint::start(app.core().clone(), term_ends),
        ];
        let stopping = loop {
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => break true,
                changed = leading.changed() => {
                    if changed.is_err() || !*leading.borrow_and_update() { break false }
                }
                Some(note) = notes.recv() => { let _ = to_dispatcher.send(note); }
                Some(note) = clock_notes.recv() => { let _ = to_clock.send(note); }
            }
        };
        let _ = term.send(true);
        for task in singletons {
            let _ = task.await;
        }
        app.set_dispatch(dispatch::DispatchHandle::detached());
        if stopping {
            return;
        }
        tracing::warn!("the dispatcher, the deadline clock and the pollers stopped: another node leads now");
    }
}
