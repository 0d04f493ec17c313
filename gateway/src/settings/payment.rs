//! `[payment]`, checked: the platform's services and the gateway's partner identity
//! with its secret read from the environment, the message codes, the beneficiary of
//! each unit's fees, and the waits of an open payment.

use std::{collections::HashMap, time::Duration};

use motcua_adapters::paygov::{Partner, Services};
use motcua_schemas::UnitCode;

use super::Link;
use crate::config::{Problems, check_url, payment_file::PaymentSection};
use crate::network::Network;

pub use crate::config::payment_file::PaymentCodes;

/// The beneficiary of a unit's fees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `TKThuHuong`.
    pub account: String,
    /// `MaNHThuHuong`.
    pub bank_code: String,
    /// `TenTKThuHuong`.
    pub name: String,
}

/// The payment platform's settings.
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    /// How it is reached (its `INIT` URL as the route's).
    pub link: Link,
    /// Its services.
    pub services: Services,
    /// Who the gateway is to it.
    pub partner: Partner,
    /// A Bearer key, if it asks for one.
    pub token: Option<String>,
    /// `Ip`.
    pub ip: String,
    /// Constant codes.
    pub codes: PaymentCodes,
    /// Wait before asking after a payment.
    pub query_after: Duration,
    /// Time between rounds of asking.
    pub query_every: Duration,
    /// Time after which an unpaid payment expires.
    pub expires_after: Duration,
    accounts: HashMap<UnitCode, Account>,
}

impl PaymentSettings {
    /// The account receiving the fees of `unit`: its own, or its nearest parent's.
    pub fn account(&self, network: &Network, unit: &UnitCode) -> Option<&Account> {
        let mut at = Some(unit.clone());
        for _ in 0..8 {
            let code = at?;
            if let Some(account) = self.accounts.get(&code) {
                return Some(account);
            }
            at = network.unit(&code).and_then(|u| u.parent.clone());
        }
        None
    }
}

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Checks `[payment]`.
pub fn check(section: &PaymentSection, network: &Network, env: Env<'_>, problems: &mut Problems) -> PaymentSettings {
    let at = "payment";
    check_url(&format!("{at}.init_url"), &section.init_url, problems);
    check_url(&format!("{at}.query_url"), &section.query_url, problems);
    let mut read = |key: &str, var: &str| match env(var) {
        Some(v) if !v.is_empty() => v,
        _ => {
            problems.add(format!("{at}.{key}"), format!("the environment variable {var} is not set"));
            String::new()
        }
    };
    let secret = read("secret_env", &section.secret_env);
    let token = section.access_token_env.as_ref().map(|var| read("access_token_env", var));
    if secret.len() < 8 {
        problems.add(format!("{at}.secret_env"), "the secret must have at least 8 characters");
    }
    if section.partner.trim().is_empty() || section.ip.trim().is_empty() {
        problems.add(at, "partner (MaDoiTac) and ip are required");
    }
    if section.query_after_secs == 0 || section.query_every_secs == 0 || section.expires_after_secs == 0 {
        problems.add(at, "query_after_secs, query_every_secs and expires_after_secs must be positive");
    }
    if section.accounts.is_empty() {
        problems.add(format!("{at}.accounts"), "name the account receiving the fees of at least one unit");
    }
    let mut accounts = HashMap::new();
    for (i, a) in section.accounts.iter().enumerate() {
        match a.unit.parse::<UnitCode>() {
            Ok(unit) if network.knows(&unit) => {
                accounts.insert(
                    unit,
                    Account { account: a.account.clone(), bank_code: a.bank_code.clone(), name: a.name.clone() },
                );
            }
            _ => problems.add(format!("{at}.accounts[{i}].unit"), format!("unit {} is not in the network", a.unit)),
        }
        if a.account.trim().is_empty() || a.bank_code.trim().is_empty() || a.name.trim().is_empty() {
            problems.add(format!("{at}.accounts[{i}]"), "account, bank_code and name are required");
        }
    }
    PaymentSettings {
        link: Link {
            id: section.id.clone(),
            url: section.init_url.clone(),
            ca_file: section.ca_file.clone(),
            timeout_secs: section.timeout_secs,
            concurrency: None,
            max_answer_bytes: 1 << 20,
        },
        services: Services { init: section.init_url.clone(), query: section.query_url.clone() },
        partner: Partner { code: section.partner.clone(), secret, version: section.version.clone() },
        token,
        ip: section.ip.clone(),
        codes: section.codes.clone(),
        query_after: Duration::from_secs(section.query_after_secs),
        query_every: Duration::from_secs(section.query_every_secs.max(1)),
        expires_after: Duration::from_secs(section.expires_after_secs),
        accounts,
    }
}
