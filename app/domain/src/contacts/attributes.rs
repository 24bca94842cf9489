//! Free custom attributes on a contact (`city`, `plan`, `renewal_date`, …), typed so segments can
//! compare them: text, number, date (ISO `YYYY-MM-DD`) or boolean.

use serde::{Deserialize, Serialize};

/// The type of a custom attribute, chosen per import column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    /// Any text.
    Text,
    /// A decimal number.
    Number,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// Yes or no.
    Boolean,
}

impl AttributeKind {
    /// Every kind, for selects.
    pub const ALL: [AttributeKind; 4] = [Self::Text, Self::Number, Self::Date, Self::Boolean];

    /// The lowercase name used in forms and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Date => "date",
            Self::Boolean => "boolean",
        }
    }

    /// Inverse of [`AttributeKind::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum AttributeValue {
    /// Text.
    Text(String),
    /// Number.
    Number(f64),
    /// `YYYY-MM-DD`.
    Date(String),
    /// Boolean.
    Boolean(bool),
}

impl AttributeValue {
    /// Reads a cell as `kind`; the error is a sentence naming the expected shape.
    pub fn parse(kind: AttributeKind, cell: &str) -> Result<Self, String> {
        let cell = cell.trim();
        match kind {
            AttributeKind::Text => Ok(Self::Text(cell.to_string())),
            AttributeKind::Number => cell
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Self::Number)
                .ok_or_else(|| format!("{cell:?} is not a number")),
            AttributeKind::Date => {
                if is_iso_date(cell) {
                    Ok(Self::Date(cell.to_string()))
                } else {
                    Err(format!("{cell:?} is not a date written as YYYY-MM-DD"))
                }
            }
            AttributeKind::Boolean => match cell.to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" | "x" => Ok(Self::Boolean(true)),
                "false" | "no" | "n" | "0" => Ok(Self::Boolean(false)),
                _ => Err(format!("{cell:?} is not yes/no (true, false, 1, 0)")),
            },
        }
    }

    /// The value as a cell or a template variable would show it.
    pub fn display(&self) -> String {
        match self {
            Self::Text(s) | Self::Date(s) => s.clone(),
            Self::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", *n as i64)
                } else {
                    n.to_string()
                }
            }
            Self::Boolean(b) => if *b { "true" } else { "false" }.to_string(),
        }
    }
}

/// Whether `s` is a real calendar date written `YYYY-MM-DD`.
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// The kind that fits every non-empty sample (text when they disagree or there are none).
pub fn guess_kind<'a>(samples: impl IntoIterator<Item = &'a str>) -> AttributeKind {
    let mut candidates = vec![
        AttributeKind::Number,
        AttributeKind::Date,
        AttributeKind::Boolean,
    ];
    let mut seen = false;
    for sample in samples.into_iter().map(str::trim).filter(|s| !s.is_empty()) {
        seen = true;
        candidates.retain(|k| AttributeValue::parse(*k, sample).is_ok());
    }
    match candidates.first() {
        Some(k) if seen => *k,
        _ => AttributeKind::Text,
    }
}

/// Turns a column header into an attribute name: lowercase letters, digits and underscores.
pub fn attribute_name(header: &str) -> String {
    let mut name = String::new();
    for c in header.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('_') && !name.is_empty() {
            name.push('_');
        }
    }
    name.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_parse_by_kind_with_sentences_on_failure() {
        assert_eq!(
            AttributeValue::parse(AttributeKind::Number, "12,5"),
            Ok(AttributeValue::Number(12.5))
        );
        assert!(AttributeValue::parse(AttributeKind::Number, "twelve").is_err());
        assert!(AttributeValue::parse(AttributeKind::Date, "2026-02-29").is_err());
        assert!(AttributeValue::parse(AttributeKind::Date, "2028-02-29").is_ok());
        assert_eq!(
            AttributeValue::parse(AttributeKind::Boolean, "Yes"),
            Ok(AttributeValue::Boolean(true))
        );
        assert!(AttributeValue::parse(AttributeKind::Number, "NaN").is_err());
    }

    #[test]
    fn kinds_are_guessed_from_samples() {
        assert_eq!(guess_kind(["1", "2.5", ""]), AttributeKind::Number);
        assert_eq!(guess_kind(["2026-01-01"]), AttributeKind::Date);
        assert_eq!(guess_kind(["yes", "no"]), AttributeKind::Boolean);
        assert_eq!(guess_kind(["1", "x"]), AttributeKind::Boolean);
        assert_eq!(guess_kind(["1", "abc"]), AttributeKind::Text);
        assert_eq!(guess_kind([]), AttributeKind::Text);
    }

    #[test]
    fn headers_become_attribute_names() {
        assert_eq!(attribute_name(" Renewal Date "), "renewal_date");
        assert_eq!(attribute_name("Şehir / City"), "şehir_city");
        assert_eq!(AttributeValue::Number(3.0).display(), "3");
    }
}
