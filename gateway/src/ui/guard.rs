//! Who may try a password on the login form, decided before it is checked. Failures
//! count per account and address together first (a stranger can hold only its own
//! address's attempts on an account), then per address (an office behind one NAT has
//! many operators, so four times as many), then per account across every address
//! (four times as many again): past that, an account under a distributed guessing
//! attack still accepts logins from the addresses it logged in from before, and from
//! no other until the failures age or an administrator forgives them (`motcua
//! operator unlock`). Each attempt is reserved before its password is checked, so
//! concurrent guesses are bounded; a successful one gives its reservations back.

use std::{collections::HashMap, net::IpAddr, sync::Mutex, time::Instant};

use crate::auth::attempts::{Failures, Reservation};
use crate::store::Store;

/// How many more failures an address, or an account, may have than a pair.
const WIDER: usize = 4;

/// The login form's failure limits.
pub struct Guard {
    by_pair: Failures<(String, IpAddr)>,
    by_address: Failures<IpAddr>,
    by_account: Failures<String>,
    /// The unlock count of each account this node has applied.
    unlocks_applied: Mutex<HashMap<String, u64>>,
}

/// Why an attempt may not be made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// This address has used up its attempts on this account, or on every account.
    Address,
    /// The account has used up its attempts from addresses it never logged in from.
    NewAddress,
}

/// An attempt's reservations, kept as failures unless the password was right.
pub struct Attempt {
    pair: Reservation<(String, IpAddr)>,
    address: Reservation<IpAddr>,
    account: Option<Reservation<String>>,
}

/// The address of a request the gateway could not place (counted as one).
const UNPLACED: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

impl Guard {
    /// At most `attempts` failures per account and address.
    pub fn new(attempts: u32) -> Guard {
        let pair = usize::try_from(attempts).unwrap_or(usize::MAX).max(1);
        Guard {
            by_pair: Failures::new(pair),
            by_address: Failures::new(pair.saturating_mul(WIDER)),
            by_account: Failures::new(pair.saturating_mul(WIDER * WIDER)),
            unlocks_applied: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets this node's count of `account`'s failures if an administrator forgave
    /// them since it last looked.
    fn apply_unlocks(&self, store: &Store, account: &str) {
        let Ok(unlocks) = crate::operators::unlocks(store, account) else { return };
        let mut applied = self.unlocks_applied.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if applied.get(account).copied().unwrap_or(0) != unlocks {
            self.by_account.forget(&account.to_owned());
            self.by_pair.forget_where(|(name, _)| name == account);
            applied.insert(account.to_owned(), unlocks);
        }
    }

    /// Reserves an attempt of `account` from `address`, or says why it may not be made.
    pub fn admit(&self, store: &Store, account: &str, address: Option<IpAddr>) -> Result<Attempt, Held> {
        let now = Instant::now();
        let address = address.unwrap_or(UNPLACED);
        self.apply_unlocks(store, account);
        let pair_key = (account.to_owned(), address);
        if self.by_pair.blocked(&pair_key, now) || self.by_address.blocked(&address, now) {
            return Err(Held::Address);
        }
        let account_reservation = self.by_account.reserve(account.to_owned(), now);
        if account_reservation.is_none() {
            let known = crate::operators::addresses(store, account).unwrap_or_default();
            if !known.contains(&address) {
                return Err(Held::NewAddress);
            }
        }
        let give_back = |r: Option<Reservation<String>>| {
            if let Some(r) = r {
                self.by_account.release(r);
            }
        };
        let Some(pair) = self.by_pair.reserve(pair_key, now) else {
            give_back(account_reservation);
            return Err(Held::Address);
        };
        let Some(address) = self.by_address.reserve(address, now) else {
            self.by_pair.release(pair);
            give_back(account_reservation);
            return Err(Held::Address);
        };
        Ok(Attempt { pair, address, account: account_reservation })
    }

    /// The password was right: the attempt was not a failure.
    pub fn succeeded(&self, attempt: Attempt) {
        self.by_pair.release(attempt.pair);
        self.by_address.release(attempt.address);
        if let Some(r) = attempt.account {
            self.by_account.release(r);
        }
    }
}
