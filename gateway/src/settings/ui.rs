//! The web pages' settings, checked: operators with their roles and password hashes,
//! the idle timeout and the login limits.

use std::{path::Path, time::Duration};

use motcua_schemas::UnitCode;

use crate::config::{
    Problems, resolve,
    ui_file::{OperatorSection, OperatorsFile, UiSection},
};
use crate::network::Network;

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRole {
    /// The provincial centre: every unit, personal data, replays.
    Centre,
    /// A commune's staff: its unit and sub-units, personal data.
    Commune,
    /// An auditor: every unit, read only, no personal data.
    Auditor,
}

impl OperatorRole {
    /// The role's name in Vietnamese, for the pages.
    pub fn title(self) -> &'static str {
        match self {
            OperatorRole::Centre => "Trung tâm Phục vụ hành chính công tỉnh",
            OperatorRole::Commune => "Bộ phận Một cửa cấp xã",
            OperatorRole::Auditor => "Kiểm tra, giám sát",
        }
    }
}

/// One operator.
#[derive(Debug, Clone)]
pub struct Operator {
    /// The login name.
    pub name: String,
    /// The name shown in the pages.
    pub display_name: String,
    /// What it may do.
    pub role: OperatorRole,
    /// The unit of a commune's staff.
    pub unit: Option<UnitCode>,
    /// Argon2id PHC string.
    pub password_hash: String,
}

/// `[ui]`, checked.
#[derive(Debug, Clone)]
pub struct UiSettings {
    /// Who may log in.
    pub operators: Vec<Operator>,
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// Failed logins allowed per account, and per address, in 15 minutes.
    pub login_attempts: u32,
    /// The session key, when it comes from the environment.
    pub session_key: Option<Vec<u8>>,
}

impl Default for UiSettings {
    fn default() -> Self {
        UiSettings { operators: Vec::new(), idle: Duration::from_secs(30 * 60), login_attempts: 5, session_key: None }
    }
}

impl UiSettings {
    /// The operator called `name`.
    pub fn operator(&self, name: &str) -> Option<&Operator> {
        self.operators.iter().find(|o| o.name == name)
    }
}

fn operator(at: &str, o: &OperatorSection, network: &Network, problems: &mut Problems) -> Option<Operator> {
    let name = o.name.trim();
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        problems.add(format!("{at}.name"), "1–64 letters, digits, '.', '_' or '-'");
        return None;
    }
    let role = match o.role.as_str() {
        "centre" => OperatorRole::Centre,
        "commune" => OperatorRole::Commune,
        "auditor" => OperatorRole::Auditor,
        other => {
            problems.add(format!("{at}.role"), format!("{other:?} is not \"centre\", \"commune\" or \"auditor\""));
            return None;
        }
    };
    let unit = match (&o.unit, role) {
        (Some(unit), OperatorRole::Commune) => match unit.parse::<UnitCode>() {
            Ok(code) if network.knows(&code) => Some(code),
            _ => {
                problems.add(format!("{at}.unit"), format!("unit {unit:?} is not configured"));
                return None;
            }
        },
        (None, OperatorRole::Commune) => {
            problems.add(format!("{at}.unit"), "a commune's staff needs its unit");
            return None;
        }
        (Some(_), _) => {
            problems.add(format!("{at}.unit"), "only a commune's staff has a unit");
            return None;
        }
        (None, _) => None,
    };
    match argon2::PasswordHash::new(&o.password_hash) {
        Ok(hash) if hash.algorithm.as_str() == "argon2id" => {}
        _ => {
            problems.add(format!("{at}.password_hash"), "not an Argon2id hash (motcua operator add writes one)");
            return None;
        }
    }
    Some(Operator {
        name: name.to_owned(),
        display_name: o.display_name.clone().unwrap_or_else(|| name.to_owned()),
        role,
        unit,
        password_hash: o.password_hash.clone(),
    })
}

/// Checks `[ui]` and the operators file it names.
pub fn build(
    section: Option<&UiSection>,
    base: &Path,
    network: &Network,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> UiSettings {
    let Some(section) = section else { return UiSettings::default() };
    let mut written: Vec<(String, OperatorSection)> =
        section.operators.iter().enumerate().map(|(i, o)| (format!("ui.operators[{i}]"), o.clone())).collect();
    if let Some(file) = &section.operators_file {
        let path = resolve(base, file);
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| toml::from_str::<OperatorsFile>(&text).map_err(|e| format!("{}: {e}", path.display())))
        {
            Ok(file) => written.extend(
                file.operators.into_iter().enumerate().map(|(i, o)| (format!("ui.operators_file operators[{i}]"), o)),
            ),
            Err(e) => problems.add("ui.operators_file", format!("cannot read {}: {e}", path.display())),
        }
    }
    let mut operators: Vec<Operator> = Vec::new();
    for (at, o) in &written {
        if let Some(op) = operator(at, o, network, problems) {
            if operators.iter().any(|known| known.name == op.name) {
                problems.add(format!("{at}.name"), format!("{:?} is given twice", op.name));
                continue;
            }
            operators.push(op);
        }
    }
    if section.idle_minutes == 0 || section.idle_minutes > 24 * 60 {
        problems.add("ui.idle_minutes", "from 1 to 1440");
    }
    if section.login_attempts == 0 {
        problems.add("ui.login_attempts", "must be at least 1");
    }
    let session_key = section.session_key_env.as_ref().and_then(|var| match env(var) {
        Some(key) if key.len() >= 32 => Some(key.into_bytes()),
        Some(_) => {
            problems.add("ui.session_key_env", format!("{var} must hold at least 32 bytes"));
            None
        }
        None => {
            problems.add("ui.session_key_env", format!("the environment variable {var} is not set"));
            None
        }
    });
    UiSettings {
        operators,
        idle: Duration::from_secs(section.idle_minutes.clamp(1, 24 * 60) * 60),
        login_attempts: section.login_attempts.max(1),
        session_key,
    }
}
