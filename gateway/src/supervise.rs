//! Supervision of the gateway's long-running tasks (the dispatcher, the deadline
//! clock): a task that panics is logged, counted and restarted after a pause that
//! grows while it keeps failing, and while it is down `/readyz` says so.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use prometheus_client::metrics::{counter::Counter, family::Family};
use tokio::sync::watch;

use crate::metrics::TaskLabels;

/// Which supervised tasks are down now.
#[derive(Debug, Default)]
pub struct Tasks {
    down: Mutex<BTreeMap<&'static str, String>>,
}

impl Tasks {
    /// The tasks that are down, with why.
    pub fn down(&self) -> Vec<(&'static str, String)> {
        self.down.lock().map(|d| d.iter().map(|(k, v)| (*k, v.clone())).collect()).unwrap_or_default()
    }

    fn set(&self, name: &'static str, reason: Option<String>) {
        if let Ok(mut down) = self.down.lock() {
            match reason {
                Some(reason) => down.insert(name, reason),
                None => down.remove(name),
            };
        }
    }
}

/// The longest pause before a restart.
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// Runs the future `make` builds as task `name`, again after each panic, until it
/// ends normally or `shutdown` turns true.
pub fn spawn<F, Fut>(
    name: &'static str,
    tasks: Arc<Tasks>,
    panics: Family<TaskLabels, Counter>,
    mut shutdown: watch::Receiver<bool>,
    make: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let mut pause = Duration::from_secs(1);
        loop {
            let outcome = tokio::spawn(make()).await;
            let Err(e) = outcome else { return };
            if !e.is_panic() {
                return;
            }
            let reason = e
                .into_panic()
                .downcast::<String>()
                .map(|s| *s)
                .or_else(|p| p.downcast::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|_| "panic".to_owned());
            panics.get_or_create(&TaskLabels { task: name.to_owned() }).inc();
            tracing::error!(task = name, %reason, pause_secs = pause.as_secs(), "a gateway task panicked; restarting it");
            tasks.set(name, Some(reason));
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            pause = (pause * 2).min(MAX_PAUSE);
            tasks.set(name, None);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_panicking_task_is_counted_marked_down_and_restarted() {
        let tasks = Arc::new(Tasks::default());
        let panics = Family::<TaskLabels, Counter>::default();
        let runs = Arc::new(AtomicU32::new(0));
        let (_stop, shutdown) = watch::channel(false);
        let counted = runs.clone();
        let handle = spawn("clock", tasks.clone(), panics.clone(), shutdown, move || {
            let runs = counted.clone();
            async move {
                if runs.fetch_add(1, Ordering::SeqCst) < 2 {
                    panic!("a bug");
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(tasks.down(), [("clock", "a bug".to_owned())]);
        handle.await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 3, "restarted after each panic, until it ended");
        assert_eq!(panics.get_or_create(&TaskLabels { task: "clock".into() }).get(), 2);
        assert!(tasks.down().is_empty());
    }
}
