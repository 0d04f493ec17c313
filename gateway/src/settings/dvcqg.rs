//! `[portal.dvcqg]`, checked: the transport with its secrets read from the
//! environment, the reply table, the status and unit mappings, and the pull.

use std::{collections::BTreeMap, collections::HashMap, time::Duration};

use motcua_adapters::dvcqg::{ReplyRules, StatusCodes, Transport, client::OAuth, inbound::UnitMap};
use motcua_schemas::{Channel, Status, UnitCode};

use crate::config::{
    Problems,
    dvcqg_file::{DvcqgSection, TransportKind},
};
use crate::network::Network;

/// The national portal's settings.
#[derive(Debug, Clone)]
pub struct DvcqgSettings {
    /// How it is reached.
    pub transport: Transport,
    /// The LGSP in front of it.
    pub oauth: Option<OAuth>,
    /// How its answers are read.
    pub rules: ReplyRules,
    /// Local status → portal code.
    pub statuses: StatusCodes,
    /// Most steps per progress request.
    pub max_steps: usize,
    /// Channels whose dossiers are synced.
    pub sync_channels: Vec<Channel>,
    /// `NguoiXuLy` of the gateway's own steps.
    pub intake_officer: String,
    /// `NguoiXuLy` when the desk named nobody.
    pub default_officer: String,
    /// Fixed record fields.
    pub constants: serde_json::Map<String, serde_json::Value>,
    /// Fixed fee-row fields.
    pub fee_constants: serde_json::Map<String, serde_json::Value>,
    /// The portal's unit ids and the units they are.
    pub units: PortalUnits,
    /// What is pulled.
    pub pull: Option<PullSettings>,
    /// Where a pushed record that does not say it gets its unit and date.
    pub push: PushSettings,
    /// The status of a pushed trade-promotion dossier sent back, when configured.
    pub promotion_status: Option<PromotionStatus>,
    /// The record field asking for collection from home.
    pub collection_field: Option<String>,
    /// The monthly satisfaction summary, when sent.
    pub ratings: Option<crate::config::dvcqg_file::RatingsSection>,
    /// Record values the sources show only in part.
    pub record_codes: motcua_adapters::dvcqg::RecordCodes,
}

impl DvcqgSettings {
    /// Whether a record's kept fields ask for collection from home.
    pub fn asks_for_collection(&self, extra: &serde_json::Map<String, serde_json::Value>) -> bool {
        let Some(field) = &self.collection_field else { return false };
        match extra.get(field) {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
            Some(serde_json::Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        }
    }
}

/// The portal's unit ids and the network's units.
#[derive(Debug, Clone, Default)]
pub struct PortalUnits(HashMap<String, UnitCode>);

impl UnitMap for PortalUnits {
    fn unit(&self, portal_unit: &str) -> Option<UnitCode> {
        self.0.get(portal_unit).cloned()
    }
}

/// What the poller lists.
#[derive(Debug, Clone)]
pub struct PullSettings {
    /// The portal's unit ids.
    pub units: Vec<String>,
    /// The procedures taken in (all when empty).
    pub procedures: Vec<String>,
    /// Time between rounds.
    pub interval: Duration,
    /// Days listed before the cursor's day.
    pub lookback_days: u32,
    /// The client pulled dossiers are submitted as (a pushing client of the same
    /// portal may then update them).
    pub client: String,
    /// The pull services' base URL, when not the portal's.
    pub url: Option<String>,
    /// How the pull services are reached: their own login and service paths and
    /// account, no envelope unit, no `dstcode`.
    pub transport: Transport,
    /// The fixed `Authorization: Bearer` key, if the pull service asks for one.
    pub token: Option<String>,
}

/// Reads a secret from the environment variable `var` names.
type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn secret(env: Env<'_>, at: &str, var: &Option<String>, problems: &mut Problems) -> String {
    let Some(var) = var else {
        problems.add(at, "is required");
        return String::new();
    };
    match env(var) {
        Some(v) if !v.is_empty() => v,
        _ => {
            problems.add(at, format!("the environment variable {var} is not set"));
            String::new()
        }
    }
}

fn path(at: &str, value: &Option<String>, problems: &mut Problems) -> String {
    match value {
        Some(p) if p.starts_with('/') => p.clone(),
        Some(_) => {
            problems.add(at, "must start with '/'");
            String::new()
        }
        None => {
            problems.add(at, "is required for this transport");
            String::new()
        }
    }
}

/// Checks `[portal.dvcqg.record]`: every code and flag a short string, as the portal's
/// scalars are.
fn record_codes(section: &DvcqgSection, problems: &mut Problems) -> motcua_adapters::dvcqg::RecordCodes {
    let r = &section.record;
    let at = "portal.dvcqg.record";
    let p = &r.online_payment;
    for (key, value) in [
        ("online_payment.none", &p.none),
        ("online_payment.paid", &p.paid),
        ("online_payment.unpaid", &p.unpaid),
        ("result_online", &r.result_online),
    ] {
        if value.is_empty() || value.len() > 8 {
            problems.add(format!("{at}.{key}"), "must be a code of 1–8 characters");
        }
    }
    for (component, flags) in &r.document_flags {
        for (key, value) in flags {
            if !value.is_string() {
                problems.add(
                    format!("{at}.document_flags.{component}.{key}"),
                    "must be a string, as the portal's scalars are",
                );
            }
        }
    }
    motcua_adapters::dvcqg::RecordCodes {
        no_fees: p.none.clone(),
        paid_online: p.paid.clone(),
        unpaid: p.unpaid.clone(),
        result_online: r.result_online.clone(),
        echo_object_id: r.echo_object_id,
        document_flags: r.document_flags.clone(),
    }
}

/// Checks `[portal.dvcqg]`.
pub fn check(section: &DvcqgSection, network: &Network, env: Env<'_>, problems: &mut Problems) -> DvcqgSettings {
    let at = "portal.dvcqg";
    let transport = match section.transport {
        TransportKind::Session => {
            if section.session_ttl_secs == 0 {
                problems.add(format!("{at}.session_ttl_secs"), "must be positive");
            }
            Transport::Session {
                auth_path: path(&format!("{at}.auth_path"), &section.auth_path, problems),
                service_path: path(&format!("{at}.service_path"), &section.service_path, problems),
                username: secret(env, &format!("{at}.username_env"), &section.username_env, problems),
                password: secret(env, &format!("{at}.password_env"), &section.password_env, problems),
                unit: Some(section.madonvi.clone().unwrap_or_else(|| {
                    problems.add(format!("{at}.madonvi"), "is required for the session transport");
                    String::new()
                })),
                dstcode: section.dstcode.clone(),
                session_ttl: Duration::from_secs(section.session_ttl_secs),
            }
        }
        TransportKind::Connector => Transport::Connector {
            create_path: path(&format!("{at}.create_path"), &section.create_path, problems),
            update_path: path(&format!("{at}.update_path"), &section.update_path, problems),
            progress_path: path(&format!("{at}.progress_path"), &section.progress_path, problems),
        },
    };
    let oauth = section.oauth.as_ref().map(|o| {
        if !(o.token_url.starts_with("https://") || o.token_url.starts_with("http://")) {
            problems.add(format!("{at}.oauth.token_url"), "must be an http(s) URL");
        }
        OAuth {
            token_url: o.token_url.clone(),
            client_id: o.client_id.clone(),
            client_secret: secret(
                env,
                &format!("{at}.oauth.client_secret_env"),
                &Some(o.client_secret_env.clone()),
                problems,
            ),
        }
    });
    let mut overrides = BTreeMap::new();
    for (local, portal) in &section.status_codes {
        match local.parse::<u8>().ok().and_then(Status::from_code) {
            Some(status) if !portal.trim().is_empty() => {
                overrides.insert(status.code(), portal.trim().to_owned());
            }
            _ => problems.add(format!("{at}.status_codes.{local}"), "map a local status code 1–10 to a portal code"),
        }
    }
    for (local, portal) in section.promotion_status.iter().flat_map(|p| &p.codes) {
        if local.parse::<u8>().ok().and_then(Status::from_code).is_none() || portal.trim().is_empty() {
            problems
                .add(format!("{at}.promotion_status.codes.{local}"), "map a local status code 1–10 to a portal code");
        }
    }
    for (i, rule) in section.replies.iter().enumerate() {
        if rule.error_code.is_none() && rule.message_contains.is_none() {
            problems.add(format!("{at}.replies[{i}]"), "give an error_code, a message_contains, or both");
        }
    }
    if !(1..=100).contains(&section.max_steps) {
        problems.add(format!("{at}.max_steps"), "must be from 1 to 100");
    }
    if section.sync_channels.is_empty() {
        problems.add(format!("{at}.sync_channels"), "name at least one channel");
    }
    let mut units = HashMap::new();
    for (i, m) in section.units.iter().enumerate() {
        match m.unit.parse::<UnitCode>() {
            Ok(unit) if network.knows(&unit) => {
                if units.insert(m.portal.clone(), unit).is_some() {
                    problems.add(format!("{at}.units[{i}].portal"), format!("{} is mapped twice", m.portal));
                }
            }
            _ => problems.add(format!("{at}.units[{i}].unit"), format!("unit {} is not in the network", m.unit)),
        }
    }
    for (group, unit) in
        section.push.groups.iter().map(|(g, u)| (Some(g), u)).chain(section.push.unit.iter().map(|u| (None, u)))
    {
        if !units.contains_key(unit) && unit.parse::<UnitCode>().map_or(true, |u| !network.knows(&u)) {
            let key = group.map_or_else(|| format!("{at}.push.unit"), |g| format!("{at}.push.groups.{g}"));
            problems.add(key, format!("{unit} is not mapped in portal.dvcqg.units"));
        }
    }
    let pull = section.pull.as_ref().map(|p| {
        let pat = format!("{at}.pull");
        if let Some(url) = &p.url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            problems.add(format!("{pat}.url"), "must be an http(s) URL");
        }
        if p.session_ttl_secs == 0 {
            problems.add(format!("{pat}.session_ttl_secs"), "must be positive");
        }
        let transport = Transport::Session {
            auth_path: path(&format!("{pat}.auth_path"), &Some(p.auth_path.clone()), problems),
            service_path: path(&format!("{pat}.service_path"), &Some(p.service_path.clone()), problems),
            username: secret(env, &format!("{pat}.username_env"), &p.username_env, problems),
            password: secret(env, &format!("{pat}.password_env"), &p.password_env, problems),
            unit: None,
            dstcode: None,
            session_ttl: Duration::from_secs(p.session_ttl_secs),
        };
        let token =
            p.token_env.as_ref().map(|var| secret(env, &format!("{pat}.token_env"), &Some(var.clone()), problems));
        if p.units.is_empty() {
            problems.add(format!("{at}.pull.units"), "name at least one of the portal's unit ids");
        }
        for (i, unit) in p.units.iter().enumerate() {
            if !units.contains_key(unit) && unit.parse::<UnitCode>().map_or(true, |u| !network.knows(&u)) {
                problems.add(format!("{at}.pull.units[{i}]"), format!("{unit} is not mapped in portal.dvcqg.units"));
            }
        }
        if p.interval_secs == 0 || p.lookback_days > 31 {
            problems.add(format!("{at}.pull"), "interval_secs must be positive and lookback_days at most 31");
        }
        PullSettings {
            units: p.units.clone(),
            procedures: p.procedures.clone(),
            interval: Duration::from_secs(p.interval_secs.max(1)),
            lookback_days: p.lookback_days,
            client: p.client.clone(),
            url: p.url.clone(),
            transport,
            token,
        }
    });
    DvcqgSettings {
        transport,
        oauth,
        rules: ReplyRules {
            rules: section.replies.clone(),
            success_message: section.success_message.clone(),
            success_message_on_login: section.success_message_on_login,
            otherwise: section.otherwise,
        },
        statuses: StatusCodes::with(&overrides),
        max_steps: section.max_steps.clamp(1, 100),
        sync_channels: section.sync_channels.clone(),
        intake_officer: section.intake_officer.clone(),
        default_officer: section.default_officer.clone(),
        constants: section.constants.clone(),
        fee_constants: section.fee_constants.clone(),
        units: PortalUnits(units),
        pull,
        push: PushSettings {
            unit_header: section.push.unit_header.clone().unwrap_or_else(|| "groupId".to_owned()),
            groups: section.push.groups.clone(),
            unit: section.push.unit.clone(),
            date_from_receipt: section.push.date_from_receipt,
        },
        promotion_status: section
            .promotion_status
            .as_ref()
            .map(|p| PromotionStatus { codes: p.codes.clone(), kind: p.kind.clone() }),
        collection_field: section.collection_field.clone(),
        ratings: (section.ratings.enabled
            && matches!(section.transport, crate::config::dvcqg_file::TransportKind::Session))
        .then(|| section.ratings.clone()),
        record_codes: record_codes(section, problems),
    }
}

/// How the status of a pushed trade-promotion dossier goes back
/// (`[portal.dvcqg.promotion_status]`).
#[derive(Debug, Clone)]
pub struct PromotionStatus {
    /// Local status code → `TrangThai`.
    pub codes: std::collections::BTreeMap<String, String>,
    /// `type` of the envelope.
    pub kind: String,
}

impl PromotionStatus {
    /// The portal's code for `status`, if that status is sent.
    pub fn code(&self, status: motcua_schemas::Status) -> Option<&str> {
        self.codes.get(&status.code().to_string()).map(String::as_str)
    }
}

/// Where a pushed record that does not say it gets its unit and date
/// (`[portal.dvcqg.push]`).
#[derive(Debug, Clone)]
pub struct PushSettings {
    /// The header naming the unit.
    pub unit_header: String,
    /// The header's values and the portal unit ids they stand for.
    pub groups: std::collections::BTreeMap<String, String>,
    /// The portal unit id of a record that names none.
    pub unit: Option<String>,
    /// A record without a date is taken as submitted when it arrives.
    pub date_from_receipt: bool,
}

impl PushSettings {
    /// The portal unit id of a push without one of its own, from its `header` value.
    pub fn unit(&self, header: Option<&str>) -> Option<String> {
        let header = header.map(str::trim).filter(|h| !h.is_empty());
        header.map(|h| self.groups.get(h).cloned().unwrap_or_else(|| h.to_owned())).or_else(|| self.unit.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str) -> DvcqgSection {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn missing_secrets_and_paths_are_named() {
        let network = Network::default();
        let mut problems = Problems::default();
        let s = section("transport = \"session\"\nauth_path = \"auth\"\nusername_env = \"U\"\npassword_env = \"P\"\n");
        let env = |name: &str| (name == "U").then(|| "motcua".to_owned());
        check(&s, &network, &env, &mut problems);
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "portal.dvcqg.auth_path",
                "portal.dvcqg.service_path",
                "portal.dvcqg.password_env",
                "portal.dvcqg.madonvi"
            ]
        );
    }

    #[test]
    fn status_codes_map_local_codes_only() {
        let network = Network::default();
        let mut problems = Problems::default();
        let s = section(
            "transport = \"connector\"\ncreate_path = \"/c\"\nupdate_path = \"/u\"\nprogress_path = \"/p\"\nstatus_codes = { \"6\" = \"9\", \"11\" = \"9\" }\n",
        );
        let settings = check(&s, &network, &|_| None, &mut problems);
        assert_eq!(settings.statuses.of(Status::FinancialObligation), "9");
        assert_eq!(settings.statuses.of(Status::Processing), "4");
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["portal.dvcqg.status_codes.11"]);
    }
}
