//! Segments: saved filters over contacts. A segment is a list of conditions (field, operator,
//! value — the shape the editor's rows have) joined by "all" or "any". [`compile`] checks it
//! once, naming the row and rule of each problem, and yields a [`Matcher`] that tests a contact
//! without allocating, so evaluating a million contacts is a scan, not a query planner.

use serde::{Deserialize, Serialize};

use super::attributes::AttributeValue;
use super::consent::{self, Category, Standing};
use super::model::Contact;
use crate::Problem;

/// One row of the segment editor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Condition {
    /// `tag`, `attribute`, `consent`, `language`, `country`, `created`, `last_inbound`,
    /// `replied` or `received_template`.
    pub field: String,
    /// Depends on the field; see [`FIELDS`].
    pub op: String,
    /// For `attribute`: the attribute's name.
    #[serde(default)]
    pub name: String,
    /// The value compared against (a tag, a date `YYYY-MM-DD`, a category, …).
    #[serde(default)]
    pub value: String,
}

/// A saved segment's definition.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SegmentDefinition {
    /// Shown in lists and the campaign wizard.
    pub name: String,
    /// `true`: every condition must hold; `false`: at least one.
    pub match_all: bool,
    /// The conditions; none selects everyone.
    pub conditions: Vec<Condition>,
}

/// Every field with its operators, for the editor's selects (and the validator).
pub const FIELDS: &[(&str, &[&str])] = &[
    ("tag", &["has", "lacks"]),
    (
        "attribute",
        &[
            "equals",
            "not_equals",
            "contains",
            "greater",
            "less",
            "exists",
            "missing",
        ],
    ),
    ("consent", &["opted_in", "opted_out", "not_opted_out"]),
    ("language", &["equals", "not_equals"]),
    ("country", &["equals", "not_equals"]),
    ("created", &["after", "before"]),
    ("last_inbound", &["after", "before"]),
    ("replied", &["yes", "no"]),
    ("received_template", &["yes", "no"]),
];

/// Operators that take no value.
fn takes_value(field: &str, op: &str) -> bool {
    !matches!(op, "exists" | "missing" | "yes" | "no") || field == "received_template"
}

#[derive(Debug, Clone)]
enum Test {
    Tag(String, bool),
    Attribute { name: String, op: AttrOp },
    Consent(Category, &'static [Standing]),
    Language(String, bool),
    Country(String, bool),
    Created { at_ms: i64, after: bool },
    LastInbound { at_ms: i64, after: bool },
    Replied(bool),
    ReceivedTemplate(String, bool),
}

#[derive(Debug, Clone)]
enum AttrOp {
    Equals(String, bool),
    Contains(String),
    Compare(f64, bool),
    Exists(bool),
}

/// A checked segment, ready to test contacts.
#[derive(Debug, Clone)]
pub struct Matcher {
    match_all: bool,
    tests: Vec<Test>,
}

/// Checks `definition`; every problem names the condition (`conditions[2].value`) and the rule.
pub fn compile(definition: &SegmentDefinition) -> Result<Matcher, Vec<Problem>> {
    let mut problems = Vec::new();
    if definition.name.trim().is_empty() {
        problems.push(Problem::new(
            "name",
            "segment.name",
            "Give the segment a name.",
        ));
    }
    let mut tests = Vec::new();
    for (i, c) in definition.conditions.iter().enumerate() {
        match compile_condition(c) {
            Ok(t) => tests.push(t),
            Err((rule, message)) => problems.push(Problem::new(
                "conditions",
                rule,
                format!("Condition {}: {message}", i + 1),
            )),
        }
    }
    if problems.is_empty() {
        Ok(Matcher {
            match_all: definition.match_all,
            tests,
        })
    } else {
        Err(problems)
    }
}

fn compile_condition(c: &Condition) -> Result<Test, (&'static str, String)> {
    let Some((_, ops)) = FIELDS.iter().find(|(f, _)| *f == c.field) else {
        return Err((
            "segment.field",
            format!("{:?} is not a field you can filter on.", c.field),
        ));
    };
    if !ops.contains(&c.op.as_str()) {
        return Err((
            "segment.operator",
            format!(
                "{:?} cannot be used with {}; use one of {}.",
                c.op,
                c.field,
                ops.join(", ")
            ),
        ));
    }
    let value = c.value.trim().to_string();
    if takes_value(&c.field, &c.op) && value.is_empty() {
        return Err(("segment.value_missing", "enter a value.".into()));
    }
    let date = |v: &str| {
        date_to_ms(v).ok_or((
            "segment.date",
            format!("{v:?} is not a date written as YYYY-MM-DD."),
        ))
    };
    Ok(match c.field.as_str() {
        "tag" => Test::Tag(value, c.op == "has"),
        "attribute" => {
            let name = c.name.trim().to_string();
            if name.is_empty() {
                return Err(("segment.attribute_name", "choose an attribute.".into()));
            }
            let op = match c.op.as_str() {
                "equals" => AttrOp::Equals(value, true),
                "not_equals" => AttrOp::Equals(value, false),
                "contains" => AttrOp::Contains(value.to_lowercase()),
                "greater" | "less" => {
                    let n = value
                        .replace(',', ".")
                        .parse::<f64>()
                        .map_err(|_| ("segment.number", format!("{value:?} is not a number.")))?;
                    AttrOp::Compare(n, c.op == "greater")
                }
                "exists" => AttrOp::Exists(true),
                _ => AttrOp::Exists(false),
            };
            Test::Attribute { name, op }
        }
        "consent" => {
            let category = Category::parse(&value).ok_or((
                "segment.category",
                format!("{value:?} is not a category; use marketing or utility."),
            ))?;
            let wanted: &'static [Standing] = match c.op.as_str() {
                "opted_in" => &[Standing::OptedIn],
                "opted_out" => &[Standing::OptedOut],
                _ => &[Standing::OptedIn, Standing::Unknown],
            };
            Test::Consent(category, wanted)
        }
        "language" => Test::Language(value.to_lowercase(), c.op == "equals"),
        "country" => Test::Country(value.to_uppercase(), c.op == "equals"),
        "created" => Test::Created {
            at_ms: date(&value)?,
            after: c.op == "after",
        },
        "last_inbound" => Test::LastInbound {
            at_ms: date(&value)?,
            after: c.op == "after",
        },
        "replied" => Test::Replied(c.op == "yes"),
        _ => Test::ReceivedTemplate(value, c.op == "yes"),
    })
}

impl Matcher {
    /// Whether `contact` belongs to the segment.
    pub fn matches(&self, contact: &Contact) -> bool {
        if self.tests.is_empty() {
            return true;
        }
        let mut results = self.tests.iter().map(|t| test(t, contact));
        if self.match_all {
            results.all(|r| r)
        } else {
            results.any(|r| r)
        }
    }
}

fn test(t: &Test, c: &Contact) -> bool {
    match t {
        Test::Tag(tag, has) => c.tags.contains(tag) == *has,
        Test::Attribute { name, op } => {
            let value = c.attributes.get(name);
            match op {
                AttrOp::Exists(wanted) => value.is_some() == *wanted,
                AttrOp::Equals(v, wanted) => {
                    value.is_some_and(|a| a.display().eq_ignore_ascii_case(v)) == *wanted
                }
                AttrOp::Contains(v) => {
                    value.is_some_and(|a| a.display().to_lowercase().contains(v.as_str()))
                }
                AttrOp::Compare(n, greater) => match value {
                    Some(AttributeValue::Number(a)) => {
                        if *greater {
                            a > n
                        } else {
                            a < n
                        }
                    }
                    _ => false,
                },
            }
        }
        Test::Consent(category, wanted) => {
            wanted.contains(&consent::standing(&c.consent, *category))
        }
        Test::Language(lang, eq) => {
            c.language
                .as_deref()
                .is_some_and(|l| l.to_lowercase() == *lang)
                == *eq
        }
        Test::Country(country, eq) => (c.country.as_deref() == Some(country.as_str())) == *eq,
        Test::Created { at_ms, after } => (c.created_at_ms >= *at_ms) == *after,
        Test::LastInbound { at_ms, after } => match c.last_inbound_ms {
            Some(t) => (t >= *at_ms) == *after,
            None => false,
        },
        Test::Replied(yes) => c.last_inbound_ms.is_some() == *yes,
        Test::ReceivedTemplate(name, yes) => c.received_templates.contains(name) == *yes,
    }
}

/// Unix ms of UTC midnight starting `YYYY-MM-DD`.
pub fn date_to_ms(date: &str) -> Option<i64> {
    if !super::attributes::is_iso_date(date) {
        return None;
    }
    let y: i64 = date.get(0..4)?.parse().ok()?;
    let m: i64 = date.get(5..7)?.parse().ok()?;
    let d: i64 = date.get(8..10)?.parse().ok()?;
    // Howard Hinnant's days-from-civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::consent::{ConsentAction, ConsentEvent, ConsentSource};

    fn cond(field: &str, op: &str, value: &str) -> Condition {
        Condition {
            field: field.into(),
            op: op.into(),
            name: String::new(),
            value: value.into(),
        }
    }

    fn contact() -> Contact {
        let mut c = Contact {
            phone: "+905321234567".into(),
            country: Some("TR".into()),
            language: Some("tr".into()),
            created_at_ms: date_to_ms("2026-03-01").unwrap(),
            ..Contact::default()
        };
        c.tags.insert("vip".into());
        c.attributes
            .insert("score".into(), AttributeValue::Number(7.0));
        c.consent.push(ConsentEvent {
            at_ms: 0,
            action: ConsentAction::OptOut,
            categories: vec![Category::Marketing],
            source: ConsentSource::Api,
        });
        c
    }

    fn matches(match_all: bool, conditions: Vec<Condition>) -> bool {
        let def = SegmentDefinition {
            name: "s".into(),
            match_all,
            conditions,
        };
        compile(&def).unwrap().matches(&contact())
    }

    #[test]
    fn conditions_select_by_every_field() {
        assert!(matches(
            true,
            vec![cond("tag", "has", "vip"), cond("country", "equals", "tr")]
        ));
        assert!(!matches(
            true,
            vec![
                cond("tag", "has", "vip"),
                cond("consent", "not_opted_out", "marketing")
            ]
        ));
        assert!(matches(
            false,
            vec![
                cond("tag", "lacks", "vip"),
                cond("consent", "opted_out", "marketing")
            ]
        ));
        assert!(matches(
            true,
            vec![
                cond("created", "after", "2026-02-28"),
                cond("replied", "no", "")
            ]
        ));
        assert!(!matches(
            true,
            vec![cond("created", "before", "2026-03-01")]
        ));
        assert!(matches(
            true,
            vec![cond("received_template", "no", "spring_sale")]
        ));
        let mut score = cond("attribute", "greater", "5");
        score.name = "score".into();
        assert!(matches(true, vec![score.clone()]));
        score.op = "less".into();
        assert!(!matches(true, vec![score]));
        assert!(matches(true, vec![]), "no conditions: everyone");
    }

    #[test]
    fn problems_name_the_condition_and_rule() {
        let def = SegmentDefinition {
            name: " ".into(),
            match_all: true,
            conditions: vec![
                cond("colour", "is", "red"),
                cond("created", "after", "yesterday"),
                cond("tag", "has", ""),
            ],
        };
        let rules: Vec<_> = compile(&def)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.rule, p.message))
            .collect();
        assert_eq!(rules[0].0, "segment.name");
        assert_eq!(rules[1].0, "segment.field");
        assert_eq!(rules[2].0, "segment.date");
        assert!(rules[2].1.starts_with("Condition 2"));
        assert_eq!(rules[3].0, "segment.value_missing");
    }

    #[test]
    fn dates_convert_to_utc_midnight() {
        assert_eq!(date_to_ms("1970-01-01"), Some(0));
        assert_eq!(date_to_ms("2000-03-01"), Some(951_868_800_000));
        assert_eq!(date_to_ms("2026-13-01"), None);
    }
}
