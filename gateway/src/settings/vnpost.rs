//! `[postal.vnpost]`, checked: the client's secrets read from the environment, the
//! status and tracking tables, VNPost's numbers for the network's units, and the
//! desks' addresses, each desk's unit mapped to a VNPost province.

use std::{collections::HashMap, time::Duration};

use motcua_adapters::vnpost::{Auth, Grant, Paths, StatusRules};
use motcua_schemas::{Address, UnitCode};

use crate::config::{
    Problems,
    vnpost_file::{AuthSection, DeskAddress, TrackingMeaning, VnpostSection, WardFields},
};
use crate::network::Network;

pub use crate::config::vnpost_file::CodPolicy as Cod;

/// VNPost's settings.
#[derive(Debug, Clone)]
pub struct VnpostSettings {
    /// `CustomerCode`.
    pub customer_code: String,
    /// Authentication.
    pub auth: Auth,
    /// Service paths.
    pub paths: Paths,
    /// Events per tracking page.
    pub page_size: usize,
    /// Time between tracking rounds.
    pub poll_interval: Duration,
    /// The unit of `EventTime`.
    pub event_time_unit: crate::config::vnpost_file::EventTimeUnit,
    /// Orders carry a waybill code from the pool.
    pub item_codes_from_pool: bool,
    /// Warn below this many free codes.
    pub pool_low_water: usize,
    /// How `Status` answers are read.
    pub rules: StatusRules,
    /// Tracking `StatusCode` → meaning.
    pub tracking: HashMap<i64, TrackingMeaning>,
    /// `OrderNumber` suffix of collection orders.
    pub collection_suffix: String,
    /// `OrderNumber` suffix of letters, before the letter's number.
    pub letter_suffix: String,
    /// What a return collects on delivery.
    pub cod: Cod,
    /// Fixed order fields.
    pub order_constants: serde_json::Map<String, serde_json::Value>,
    /// The order fields naming each end's ward, when orders carry wards.
    pub ward_fields: Option<WardFields>,
    /// VNPost's numbers for units.
    pub numbers: PostalNumbers,
    /// The desks' addresses, by desk id.
    pub desks: HashMap<String, DeskAddress>,
}

/// VNPost's province and district numbers of the network's units (docs/PEERS.md §2.8:
/// they are not the statistics office's codes).
#[derive(Debug, Clone, Default)]
pub struct PostalNumbers {
    provinces: HashMap<String, i64>,
    districts: HashMap<String, i64>,
    wards: HashMap<String, serde_json::Value>,
}

/// VNPost's numbers for one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalPlace {
    /// Province number.
    pub province: i64,
    /// District number (0 when none).
    pub district: i64,
    /// The commune's ward identifier, if the table has one.
    pub ward: Option<serde_json::Value>,
}

impl PostalNumbers {
    /// VNPost's province and district numbers for an address: from its most specific
    /// unit up through its parents, the first unit with a province number and the
    /// first with a district number (0 when none: the district is optional). An error
    /// names the unit that has no province number.
    pub fn of(&self, network: &Network, address: &Address) -> Result<(i64, i64), String> {
        self.place(network, address).map(|p| (p.province, p.district))
    }

    /// As [`PostalNumbers::of`], with the ward of the address's own commune.
    pub fn place(&self, network: &Network, address: &Address) -> Result<PostalPlace, String> {
        let start = address.commune.as_ref().or(address.district.as_ref()).or(address.province.as_ref());
        let Some(start) = start else { return Err("the address names no unit (province, district or commune)".into()) };
        let (mut province, mut district) = (None, None);
        let mut at = Some(start.clone());
        let mut steps = 0;
        while let Some(code) = at {
            district = district.or_else(|| self.districts.get(code.as_str()).copied());
            province = province.or_else(|| self.provinces.get(code.as_str()).copied());
            at = network.unit(&code).and_then(|u| u.parent.clone());
            steps += 1;
            if province.is_some() || steps > 8 {
                break;
            }
        }
        if province.is_none()
            && let Some(p) = &address.province
        {
            province = self.provinces.get(p.as_str()).copied();
        }
        let name = network.unit(start).map_or_else(String::new, |u| format!(" ({})", u.name));
        let province = province
            .ok_or_else(|| format!("unit {start}{name} has no VNPost province number in [postal.vnpost] codes"))?;
        let ward = address.commune.as_ref().and_then(|c| self.wards.get(c.as_str()).cloned());
        Ok(PostalPlace { province, district: district.unwrap_or(0), ward })
    }
}

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn secret(env: Env<'_>, at: &str, var: &str, problems: &mut Problems) -> String {
    match env(var) {
        Some(v) if !v.is_empty() => v,
        _ => {
            problems.add(at, format!("the environment variable {var} is not set"));
            String::new()
        }
    }
}

/// Checks `[postal.vnpost]`.
pub fn check(section: &VnpostSection, network: &Network, env: Env<'_>, problems: &mut Problems) -> VnpostSettings {
    let at = "postal.vnpost";
    if section.customer_code.trim().is_empty() {
        problems.add(format!("{at}.customer_code"), "must not be empty");
    }
    let auth = match &section.auth {
        AuthSection::Oauth { token_url, key_env, secret_env, token_key_env } => {
            if !(token_url.starts_with("https://") || token_url.starts_with("http://")) {
                problems.add(format!("{at}.auth.token_url"), "must be an http(s) URL");
            }
            let grant = match (key_env, secret_env, token_key_env) {
                (Some(key), Some(secret_var), None) => Grant::Basic {
                    key: secret(env, &format!("{at}.auth.key_env"), key, problems),
                    secret: secret(env, &format!("{at}.auth.secret_env"), secret_var, problems),
                },
                (None, None, Some(var)) => {
                    Grant::Bearer(secret(env, &format!("{at}.auth.token_key_env"), var, problems))
                }
                _ => {
                    problems
                        .add(format!("{at}.auth"), "give key_env and secret_env (Basic), or token_key_env (Bearer)");
                    Grant::Bearer(String::new())
                }
            };
            Auth::OAuth { token_url: token_url.clone(), grant }
        }
        AuthSection::Static { token_env } => {
            Auth::Static(secret(env, &format!("{at}.auth.token_env"), token_env, problems))
        }
    };
    for (key, path) in [
        ("order_path", &section.order_path),
        ("cancel_path", &section.cancel_path),
        ("tracking_path", &section.tracking_path),
    ] {
        if !path.starts_with('/') {
            problems.add(format!("{at}.{key}"), "must start with '/'");
        }
    }
    if !(1..=1000).contains(&section.page_size) || section.poll_interval_secs == 0 {
        problems.add(at, "page_size must be from 1 to 1000 and poll_interval_secs positive");
    }
    let mut numbers = PostalNumbers::default();
    for (i, m) in section.codes.iter().enumerate() {
        let known = m.unit.parse::<UnitCode>().is_ok_and(|u| network.knows(&u));
        if !known {
            problems.add(format!("{at}.codes[{i}].unit"), format!("unit {} is not in the network", m.unit));
        }
        if m.province.is_none() && m.district.is_none() && m.ward.is_none() {
            problems.add(format!("{at}.codes[{i}]"), "give a province, a district or a ward");
        }
        match &m.ward {
            None => {}
            Some(serde_json::Value::Number(_)) => {}
            Some(serde_json::Value::String(w)) if !w.trim().is_empty() && w.len() <= 64 => {}
            Some(_) => problems.add(format!("{at}.codes[{i}].ward"), "must be a number or a text of 1–64 characters"),
        }
        if let Some(w) = &m.ward {
            numbers.wards.insert(m.unit.clone(), w.clone());
        }
        if let Some(p) = m.province {
            numbers.provinces.insert(m.unit.clone(), p);
        }
        if let Some(d) = m.district {
            numbers.districts.insert(m.unit.clone(), d);
        }
    }
    const WRITTEN: [&str; 18] = [
        "CustomerCode",
        "OrderNumber",
        "CODAmount",
        "ItemCode",
        "SenderProvince",
        "SenderDistrict",
        "SenderAddress",
        "SenderName",
        "SenderEmail",
        "SenderTel",
        "SenderDesc",
        "Description",
        "ReceiverName",
        "ReceiverAddress",
        "ReceiverTel",
        "ReceiverProvince",
        "ReceiverDistrict",
        "ReceiverEmail",
    ];
    for key in section.order_constants.keys() {
        if WRITTEN.contains(&key.as_str()) {
            problems.add(format!("{at}.order_constants.{key}"), "is a field the gateway writes");
        }
    }
    for (key, s) in [("collection_suffix", &section.collection_suffix), ("letter_suffix", &section.letter_suffix)] {
        if s.is_empty() || s.len() > 16 || !s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            problems.add(format!("{at}.{key}"), "must be 1–16 letters, digits, '-', '_' or '.'");
        }
    }
    if section.collection_suffix == section.letter_suffix {
        problems.add(format!("{at}.letter_suffix"), "must differ from collection_suffix");
    }
    let mut desks = HashMap::new();
    for (i, d) in section.desks.iter().enumerate() {
        if network.desk(&d.desk).is_none() {
            problems.add(format!("{at}.desks[{i}].desk"), format!("desk {:?} is not configured", d.desk));
        }
        match d.unit.parse::<UnitCode>() {
            Ok(unit) => {
                let address =
                    Address { detail: d.address.clone(), province: None, district: None, commune: Some(unit) };
                match numbers.place(network, &address) {
                    Err(e) => problems.add(format!("{at}.desks[{i}].unit"), e),
                    Ok(place) if place.ward.is_none() && section.ward_fields.is_some() => problems.add(
                        format!("{at}.desks[{i}].unit"),
                        format!("orders carry wards (ward_fields), and unit {} has no ward in codes", d.unit),
                    ),
                    Ok(_) => {}
                }
            }
            Err(_) => problems.add(format!("{at}.desks[{i}].unit"), format!("{} is not a unit code", d.unit)),
        }
        if d.address.trim().is_empty() || d.phone.trim().is_empty() {
            problems.add(format!("{at}.desks[{i}]"), "a desk's address and phone are required by VNPost");
        }
        desks.insert(d.desk.clone(), d.clone());
    }
    VnpostSettings {
        customer_code: section.customer_code.clone(),
        auth,
        paths: Paths {
            order: section.order_path.clone(),
            cancel: section.cancel_path.clone(),
            tracking: section.tracking_path.clone(),
        },
        page_size: section.page_size.clamp(1, 1000),
        poll_interval: Duration::from_secs(section.poll_interval_secs.max(1)),
        event_time_unit: section.event_time_unit,
        item_codes_from_pool: section.item_codes_from_pool,
        pool_low_water: section.pool_low_water,
        rules: StatusRules { rules: section.statuses.clone(), otherwise: section.otherwise },
        tracking: section.tracking.iter().map(|t| (t.status_code, t.meaning)).collect(),
        collection_suffix: section.collection_suffix.clone(),
        letter_suffix: section.letter_suffix.clone(),
        cod: section.cod,
        order_constants: section.order_constants.clone(),
        ward_fields: section.ward_fields.clone(),
        numbers,
        desks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_vnposts_numbers_from_its_units_or_an_error_naming_the_unit() {
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/gateway.toml");
        let settings = crate::settings::Settings::load(&sample).expect("the sample loads");
        let mut numbers = PostalNumbers::default();
        numbers.provinces.insert("15".into(), 33);
        numbers.districts.insert("04606".into(), 3320);
        let commune = |code: &str| Address {
            detail: "Bản Km 21".into(),
            province: None,
            district: None,
            commune: Some(code.parse().unwrap()),
        };
        assert_eq!(numbers.of(&settings.network, &commune("04606")), Ok((33, 3320)));
        assert_eq!(numbers.of(&settings.network, &commune("04609")), Ok((33, 0)), "the district is optional");
        let none = PostalNumbers::default();
        let err = none.of(&settings.network, &commune("04606")).unwrap_err();
        assert!(err.starts_with("unit 04606 (") && err.contains("has no VNPost province number"), "{err}");
        let empty = Address { detail: "x".into(), province: None, district: None, commune: None };
        assert!(numbers.of(&settings.network, &empty).is_err());
    }
}
