//! Telling citizens (docs/NOTIFY.md): the message templates every channel shares, and
//! one module per channel — e-mail over SMTP (`email`), an SMS provider's HTTP call as
//! configured (`sms`), Zalo OA template messages (`zalo`). Nothing here logs an address
//! or a number.

pub mod email;
pub mod sms;
pub mod zalo;

/// The placeholders a template may use, with what each stands for.
pub const PLACEHOLDERS: [(&str, &str); 10] = [
    ("ho_ten", "the applicant's name"),
    ("ma_ho_so", "the dossier code"),
    ("ten_thu_tuc", "the procedure's name"),
    ("co_quan", "the unit handling it"),
    ("ngay_tiep_nhan", "when it was received"),
    ("ngay_hen_tra", "the appointment for the result"),
    ("ngay_hen_tra_moi", "the new appointment of an apology"),
    ("ly_do", "the reason of an apology"),
    ("giay_to_bo_sung", "the papers a supplement asks for"),
    ("tra_cuu", "where the dossier can be looked up"),
];

/// The placeholder starting at `text` (`{name}`, the name of lower-case letters and
/// `_`), with its length; any other brace is a brace (a JSON body needs no escaping).
fn placeholder(text: &str) -> Option<(&str, usize)> {
    let rest = text.strip_prefix('{')?;
    let end = rest.find(|c: char| !(c.is_ascii_lowercase() || c == '_'))?;
    (end > 0 && rest[end..].starts_with('}')).then(|| (&rest[..end], end + 2))
}

/// Every placeholder name in `template`, in order.
pub fn placeholder_names(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    for (at, _) in template.match_indices('{') {
        if let Some((name, _)) = placeholder(&template[at..]) {
            names.push(name);
        }
    }
    names
}

/// The placeholders of `template` that are not known.
pub fn unknown_placeholders(template: &str) -> Vec<String> {
    placeholder_names(template)
        .into_iter()
        .filter(|name| !PLACEHOLDERS.iter().any(|(p, _)| p == name))
        .map(str::to_owned)
        .collect()
}

/// `template` with each `{name}` replaced by `escape(value)` (an unknown one by
/// nothing).
pub fn render(template: &str, values: &[(&str, String)], escape: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match placeholder(&rest[open..]) {
            Some((name, len)) => {
                if let Some((_, value)) = values.iter().find(|(n, _)| *n == name) {
                    out.push_str(&escape(value));
                }
                rest = &rest[open + len..];
            }
            None => {
                out.push('{');
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_escaped_and_checked() {
        let values = [("ma_ho_so", "H38-1".to_owned()), ("ho_ten", "Lò \"Thị\" Mai".to_owned())];
        let json = |v: &str| serde_json::to_string(v).unwrap_or_default().trim_matches('"').to_owned();
        assert_eq!(
            render(r#"{"text": "Hồ sơ {ma_ho_so} của {ho_ten}{ly_do}"}"#, &values, json),
            r#"{"text": "Hồ sơ H38-1 của Lò \"Thị\" Mai"}"#
        );
        assert_eq!(unknown_placeholders(r#"{ma_ho_so} {so_dien_thoai} {"x": 1}"#), vec!["so_dien_thoai".to_owned()]);
    }
}
