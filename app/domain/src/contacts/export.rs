//! CSV lines for exports and reports: RFC 4180 quoting, and spreadsheet-formula neutralising so a
//! cell such as `=HYPERLINK(…)` that arrived in an import cannot run when the export is opened in
//! Excel or LibreOffice (OWASP "CSV injection").

use std::collections::BTreeSet;

use super::consent::{standing, Category, Standing};
use super::model::Contact;

/// One CSV field: quoted when needed, with a leading `'` when it would start a formula.
pub fn field(value: &str) -> String {
    let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_number_like(value) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// Phone numbers (`+90…`) and signed numbers are data, not formulas.
fn is_number_like(value: &str) -> bool {
    let rest = &value[1..];
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ' ')
}

/// A CSV line (with `\r\n`) from fields.
pub fn line<I, S>(fields: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = fields
        .into_iter()
        .map(|f| field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

/// The export's header line; `attributes` are the attribute columns, in order.
pub fn contact_header(attributes: &BTreeSet<String>) -> String {
    let fixed = [
        "phone",
        "first_name",
        "last_name",
        "language",
        "time_zone",
        "country",
        "tags",
        "marketing",
        "utility",
        "created",
        "wa_id",
    ];
    line(
        fixed
            .iter()
            .map(|s| s.to_string())
            .chain(attributes.iter().cloned()),
    )
}

/// One contact as an export line matching [`contact_header`].
pub fn contact_line(c: &Contact, attributes: &BTreeSet<String>) -> String {
    let consent = |cat| match standing(&c.consent, cat) {
        Standing::OptedIn => "opted_in",
        Standing::OptedOut => "opted_out",
        Standing::Unknown => "",
    };
    let fixed = [
        c.phone.clone(),
        c.first_name.clone(),
        c.last_name.clone(),
        c.language.clone().unwrap_or_default(),
        c.time_zone.clone().unwrap_or_default(),
        c.country.clone().unwrap_or_default(),
        c.tags.iter().cloned().collect::<Vec<_>>().join(";"),
        consent(Category::Marketing).into(),
        consent(Category::Utility).into(),
        crate::clock::iso_date(c.created_at_ms),
        c.wa_id.clone().unwrap_or_default(),
    ];
    line(
        fixed.into_iter().chain(
            attributes
                .iter()
                .map(|a| c.attributes.get(a).map(|v| v.display()).unwrap_or_default()),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("+905321234567"), "+905321234567");
        assert_eq!(field("-12.5"), "-12.5");
        assert_eq!(field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(line(["x", "y"]), "x,y\r\n");
    }
}
