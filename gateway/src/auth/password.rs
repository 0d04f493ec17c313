//! Checking a password against its Argon2id hash. Each check takes tens of
//! milliseconds of a core and the hash's memory cost (19 MiB with the default
//! parameters), so checks run off the async threads and only a few at once, however
//! many callers guess; an unknown account is checked against a decoy hash so that it
//! costs what a known one does.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use tokio::sync::Semaphore;

/// Password checks running at once, in the whole process: with the default memory
/// cost two take under 40 MiB, and two cores are busy with them.
pub const CHECKS_AT_ONCE: usize = 2;

static CHECKS: Semaphore = Semaphore::const_new(CHECKS_AT_ONCE);

/// Hashes `secret` as an Argon2id PHC string (`basic_hash`, operators' passwords).
pub fn hash(secret: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(secret.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// A hash that no password of an account matches, checked in place of an unknown
/// account's so that guessing names tells nothing.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash("tai-khoan-khong-ton-tai").unwrap_or_default())
}

/// True when `password` matches `hash`; `None` (an unknown account) is checked
/// against the decoy and never matches. Each check made is counted on `checks`.
pub async fn verify(hash: Option<&str>, password: &str, checks: &prometheus_client::metrics::counter::Counter) -> bool {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| decoy()).to_owned();
    let password = password.to_owned();
    let Ok(_permit) = CHECKS.acquire().await else { return false };
    checks.inc();
    let matched = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false);
    known && matched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_matches_its_hash_only_and_unknown_accounts_never() {
        let h = hash("mat-khau").unwrap();
        let checks = prometheus_client::metrics::counter::Counter::default();
        assert!(verify(Some(&h), "mat-khau", &checks).await);
        assert!(!verify(Some(&h), "sai", &checks).await);
        assert!(!verify(None, "tai-khoan-khong-ton-tai", &checks).await);
        assert_eq!(checks.get(), 3, "an unknown account is checked too");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_than_a_few_checks_run_at_once() {
        let h = hash("x").unwrap();
        let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (h, running, peak) = (h.clone(), running.clone(), peak.clone());
                tokio::spawn(async move {
                    let _permit = CHECKS.acquire().await.unwrap();
                    let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    peak.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    let ok = tokio::task::spawn_blocking(move || {
                        PasswordHash::new(&h).is_ok_and(|p| Argon2::default().verify_password(b"y", &p).is_ok())
                    })
                    .await
                    .unwrap();
                    running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    ok
                })
            })
            .collect();
        for t in tasks {
            assert!(!t.await.unwrap());
        }
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= CHECKS_AT_ONCE);
    }
}
