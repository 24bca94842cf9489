//! How a spreadsheet row becomes a contact: which column means what (guessed from the headers,
//! then corrected by the user), and the per-row rules that accept a row or reject it with a
//! plain reason. The browser shows the guess and the server applies the same mapping.

use std::collections::BTreeMap;

use phonenumber::country;
use serde::{Deserialize, Serialize};

use super::attributes::{self, AttributeKind, AttributeValue};
use super::fields;
use super::model::ContactPatch;
use super::phone::{self, PhoneError};
use crate::Problem;

/// Longest cell Herald keeps; longer ones reject their row instead of bloating the store.
pub const MAX_CELL_CHARS: usize = 1024;

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum ColumnTarget {
    /// Not imported.
    Ignore,
    /// The phone number (exactly one column).
    Phone,
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// Language code.
    Language,
    /// IANA time zone.
    TimeZone,
    /// Tags, separated by commas or semicolons.
    Tags,
    /// ISO alpha-2 country the number must belong to.
    Country,
    /// A custom attribute.
    Attribute {
        /// Attribute name.
        name: String,
        /// Its type.
        kind: AttributeKind,
    },
}

impl ColumnTarget {
    /// Short label for the mapping step.
    pub fn label(&self) -> String {
        match self {
            Self::Ignore => "ignore".into(),
            Self::Phone => "phone number".into(),
            Self::FirstName => "first name".into(),
            Self::LastName => "last name".into(),
            Self::Language => "language".into(),
            Self::TimeZone => "time zone".into(),
            Self::Tags => "tags".into(),
            Self::Country => "country".into(),
            Self::Attribute { name, kind } => format!("attribute {name} ({})", kind.as_str()),
        }
    }
}

/// Header spellings recognised for each built-in field (compared lowercased, without spaces,
/// dashes and underscores). Turkish, Spanish and Portuguese spellings come from the seed vendors'
/// markets.
/// Header spellings and the field they name.
type Synonyms = (&'static [&'static str], fn() -> ColumnTarget);

const SYNONYMS: &[Synonyms] = &[
    (
        &[
            "phone",
            "phonenumber",
            "mobile",
            "mobilephone",
            "mobilenumber",
            "msisdn",
            "number",
            "telefon",
            "telefono",
            "teléfono",
            "telefone",
            "celular",
            "cep",
            "ceptelefonu",
            "gsm",
            "whatsapp",
            "whatsappnumber",
            "cell",
            "cellphone",
            "tel",
        ],
        || ColumnTarget::Phone,
    ),
    (
        &[
            "firstname",
            "name",
            "givenname",
            "ad",
            "adı",
            "isim",
            "nombre",
            "nome",
            "first",
        ],
        || ColumnTarget::FirstName,
    ),
    (
        &[
            "lastname",
            "surname",
            "familyname",
            "soyad",
            "soyadı",
            "soyisim",
            "apellido",
            "apellidos",
            "sobrenome",
            "last",
        ],
        || ColumnTarget::LastName,
    ),
    (&["language", "lang", "locale", "dil", "idioma"], || {
        ColumnTarget::Language
    }),
    (&["timezone", "tz", "zone", "saatdilimi"], || {
        ColumnTarget::TimeZone
    }),
    (
        &["tags", "tag", "labels", "label", "etiket", "etiketler"],
        || ColumnTarget::Tags,
    ),
    (
        &["country", "countrycode", "ülke", "ulke", "pais", "país"],
        || ColumnTarget::Country,
    ),
];

/// Guesses a target per column from its header and a few sample rows. Each built-in field is
/// taken by the first column that names it; other columns become attributes of a guessed type.
pub fn guess_mapping(headers: &[String], samples: &[Vec<String>]) -> Vec<ColumnTarget> {
    let mut taken: Vec<ColumnTarget> = Vec::new();
    headers
        .iter()
        .enumerate()
        .map(|(i, header)| {
            let key: String = header
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '_' | '.'))
                .collect();
            let builtin = SYNONYMS
                .iter()
                .find(|(names, _)| names.contains(&key.as_str()))
                .map(|(_, make)| make())
                .filter(|t| !taken.contains(t));
            if let Some(target) = builtin {
                taken.push(target.clone());
                return target;
            }
            let name = attributes::attribute_name(header);
            if name.is_empty() {
                return ColumnTarget::Ignore;
            }
            let kind = attributes::guess_kind(
                samples
                    .iter()
                    .filter_map(|row| row.get(i))
                    .map(String::as_str),
            );
            ColumnTarget::Attribute { name, kind }
        })
        .collect()
}

/// Choices made in the mapping step besides the columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSettings {
    /// A target per column, in file order.
    pub columns: Vec<ColumnTarget>,
    /// ISO alpha-2 country for numbers written without `+`.
    pub default_country: String,
    /// Categories the file's contacts agreed to (empty: record no consent).
    pub consent: Vec<super::Category>,
    /// Whether the first row is a header row.
    pub has_header: bool,
}

/// Checks the mapping step's choices; each problem names the field.
pub fn validate_settings(settings: &ImportSettings) -> Vec<Problem> {
    let mut problems = Vec::new();
    let phones = settings
        .columns
        .iter()
        .filter(|c| **c == ColumnTarget::Phone)
        .count();
    if phones != 1 {
        problems.push(Problem::new(
            "columns",
            "import.phone_column",
            if phones == 0 {
                "Choose the column that holds the phone number."
            } else {
                "Only one column can be the phone number."
            },
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    for column in &settings.columns {
        if let ColumnTarget::Attribute { name, .. } = column {
            if name.is_empty()
                || name.len() > 64
                || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
            {
                problems.push(Problem::new(
                    "columns",
                    "import.attribute_name",
                    format!("Attribute name {name:?} must be 1–64 letters, digits or underscores."),
                ));
            } else if !names.insert(name.clone()) {
                problems.push(Problem::new(
                    "columns",
                    "import.attribute_duplicate",
                    format!("Two columns are mapped to attribute {name:?}; rename or ignore one."),
                ));
            }
        }
    }
    if phone::country_id(&settings.default_country).is_err() {
        problems.push(Problem::new(
            "default_country",
            "import.default_country",
            format!(
                "{:?} is not a country code; use two letters such as TR, US or BR.",
                settings.default_country
            ),
        ));
    }
    problems
}

/// Why a row was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowRejection {
    /// Stable rule id (`phone.invalid`, `import.duplicate`, …).
    pub rule: String,
    /// A sentence for the report.
    pub reason: String,
}

impl From<PhoneError> for RowRejection {
    fn from(e: PhoneError) -> Self {
        Self {
            rule: e.rule().to_string(),
            reason: e.to_string(),
        }
    }
}

impl RowRejection {
    fn new(rule: &str, reason: impl Into<String>) -> Self {
        Self {
            rule: rule.to_string(),
            reason: reason.into(),
        }
    }

    /// The row repeats a number seen earlier in the same file.
    pub fn duplicate(phone: &str, first_line: u64) -> Self {
        Self::new(
            "import.duplicate",
            format!("{phone} already appears on line {first_line} of this file"),
        )
    }
}

/// A field rule broken by a cell rejects its row (and only its row), with the rule's words.
fn reject_on(problem: Option<Problem>) -> Result<(), RowRejection> {
    match problem {
        Some(p) => Err(RowRejection::new(p.rule, p.message)),
        None => Ok(()),
    }
}

/// Reads one row with validated `settings`. `default_country` is the parsed
/// [`ImportSettings::default_country`] (parsed once per import, not per row).
pub fn map_row(
    cells: &[String],
    columns: &[ColumnTarget],
    default_country: Option<country::Id>,
) -> Result<ContactPatch, RowRejection> {
    if cells.iter().all(|c| c.trim().is_empty()) {
        return Err(RowRejection::new("import.empty_row", "the row is empty"));
    }
    let mut patch = ContactPatch::default();
    let mut phone_cell = None;
    let mut country_cell = None;
    for (i, target) in columns.iter().enumerate() {
        let cell = cells.get(i).map(String::as_str).unwrap_or("").trim();
        if cell.chars().count() > MAX_CELL_CHARS {
            return Err(RowRejection::new(
                "import.cell_too_long",
                format!(
                    "column {} is longer than {MAX_CELL_CHARS} characters",
                    i + 1
                ),
            ));
        }
        if cell.is_empty() {
            continue;
        }
        let text = || Some(cell.to_string());
        match target {
            ColumnTarget::Ignore => {}
            ColumnTarget::Phone => phone_cell = Some(cell),
            ColumnTarget::Country => country_cell = Some(cell),
            ColumnTarget::FirstName => patch.first_name = text(),
            ColumnTarget::LastName => patch.last_name = text(),
            ColumnTarget::Language => {
                reject_on(fields::language_problem(cell))?;
                patch.language = text();
            }
            ColumnTarget::TimeZone => {
                reject_on(fields::time_zone_problem(cell))?;
                patch.time_zone = text();
            }
            ColumnTarget::Tags => patch.tags.extend(fields::split_tags(cell)),
            ColumnTarget::Attribute { name, kind } => {
                let value = AttributeValue::parse(*kind, cell).map_err(|e| {
                    RowRejection::new("import.attribute_type", format!("{name}: {e}"))
                })?;
                patch.attributes.insert(name.clone(), value);
            }
        }
    }
    reject_on(fields::tags_problem(&patch.tags))?;
    let Some(phone_cell) = phone_cell else {
        return Err(PhoneError::Empty.into());
    };
    let normalized = match country_cell {
        Some(expected) => phone::normalize_in(phone_cell, default_country, expected)?,
        None => phone::normalize(phone_cell, default_country)?,
    };
    patch.phone = normalized.e164;
    patch.country = normalized.country;
    Ok(patch)
}

/// Attribute names and kinds a mapping creates, for the report and segment editors.
pub fn attribute_kinds(columns: &[ColumnTarget]) -> BTreeMap<String, AttributeKind> {
    columns
        .iter()
        .filter_map(|c| match c {
            ColumnTarget::Attribute { name, kind } => Some((name.clone(), *kind)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn headers_in_several_languages_are_recognised() {
        let headers = strings(&["Telefon", "Ad", "Soyad", "Plan", "Renewal date", "Score"]);
        let samples = vec![strings(&["0532", "A", "B", "gold", "2026-01-01", "7"])];
        let mapping = guess_mapping(&headers, &samples);
        assert_eq!(mapping[0], ColumnTarget::Phone);
        assert_eq!(mapping[1], ColumnTarget::FirstName);
        assert_eq!(mapping[2], ColumnTarget::LastName);
        assert_eq!(
            mapping[3],
            ColumnTarget::Attribute {
                name: "plan".into(),
                kind: AttributeKind::Text
            }
        );
        assert_eq!(
            mapping[4],
            ColumnTarget::Attribute {
                name: "renewal_date".into(),
                kind: AttributeKind::Date
            }
        );
        assert_eq!(
            mapping[5],
            ColumnTarget::Attribute {
                name: "score".into(),
                kind: AttributeKind::Number
            }
        );
    }

    #[test]
    fn a_second_phone_looking_column_becomes_an_attribute() {
        let mapping = guess_mapping(&strings(&["mobile", "phone"]), &[]);
        assert_eq!(mapping[0], ColumnTarget::Phone);
        assert!(matches!(mapping[1], ColumnTarget::Attribute { .. }));
    }

    #[test]
    fn settings_need_exactly_one_phone_column_and_a_country() {
        let mut settings = ImportSettings {
            columns: vec![ColumnTarget::FirstName],
            default_country: "ZZ".into(),
            consent: vec![],
            has_header: true,
        };
        let rules: Vec<_> = validate_settings(&settings)
            .iter()
            .map(|p| p.rule)
            .collect();
        assert_eq!(rules, ["import.phone_column", "import.default_country"]);
        settings.columns = vec![ColumnTarget::Phone];
        settings.default_country = "tr".into();
        assert!(validate_settings(&settings).is_empty());
    }

    #[test]
    fn rows_are_accepted_or_rejected_with_a_reason() {
        let columns = vec![
            ColumnTarget::Phone,
            ColumnTarget::FirstName,
            ColumnTarget::Tags,
            ColumnTarget::Attribute {
                name: "score".into(),
                kind: AttributeKind::Number,
            },
        ];
        let tr = phone::country_id("TR").ok();
        let ok = map_row(
            &strings(&["0532 123 45 67", "Ayşe", "vip; new", "3"]),
            &columns,
            tr,
        )
        .unwrap();
        assert_eq!(ok.phone, "+905321234567");
        assert_eq!(ok.tags, ["vip", "new"]);
        // A ragged row (fewer cells) is fine; missing cells are empty.
        assert!(map_row(&strings(&["+14155552671"]), &columns, tr).is_ok());

        let reject = |cells: &[&str]| map_row(&strings(cells), &columns, tr).unwrap_err().rule;
        assert_eq!(reject(&["", "", "", ""]), "import.empty_row");
        assert_eq!(reject(&["", "Ayşe"]), "phone.empty");
        assert_eq!(reject(&["12"]), "phone.invalid");
        assert_eq!(
            reject(&["+905321234567", "", "", "lots"]),
            "import.attribute_type"
        );
        let huge = "x".repeat(MAX_CELL_CHARS + 1);
        assert_eq!(reject(&["+905321234567", &huge]), "import.cell_too_long");
    }

    #[test]
    fn a_made_up_time_zone_or_language_rejects_only_its_row() {
        let columns = vec![
            ColumnTarget::Phone,
            ColumnTarget::TimeZone,
            ColumnTarget::Language,
        ];
        let row = |cells: &[&str]| map_row(&strings(cells), &columns, None);
        let ok = row(&["+905321234567", "Europe/Istanbul", "tr"]).unwrap();
        assert_eq!(ok.time_zone.as_deref(), Some("Europe/Istanbul"));
        assert_eq!(
            row(&["+905321234567", "Mars/Olympus", "tr"])
                .unwrap_err()
                .rule,
            "contact.time_zone_unknown"
        );
        assert_eq!(
            row(&["+905321234567", "", "Klingon"]).unwrap_err().rule,
            "contact.language_invalid"
        );
    }
}
