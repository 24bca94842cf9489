//! Rules for a contact's free-text fields — language, time zone, tags, names — shared by the
//! contact form (shown live), the server's save and the importer, so `Mars/Olympus` or a NUL byte
//! is refused the same way everywhere, naming the field and the rule.

use crate::campaign::window;
use crate::problem::Problem;

/// Most tags one contact carries.
pub const MAX_TAGS: usize = 100;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 64;

/// Why a language code is refused, if it is: Meta's codes are a lowercase language, optionally
/// followed by `_` and a region or script (`en`, `en_US`, `pt_BR`, `zh_HK`, `fil`).
pub fn language_problem(language: &str) -> Option<Problem> {
    let (base, region) = match language.split_once('_') {
        Some((base, region)) => (base, Some(region)),
        None => (language, None),
    };
    let base_ok = (2..=3).contains(&base.len()) && base.bytes().all(|b| b.is_ascii_lowercase());
    let region_ok = region
        .is_none_or(|r| (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric()));
    (!base_ok || !region_ok).then(|| {
        Problem::new(
            "language",
            "contact.language_invalid",
            format!("“{language}” is not a language code; use one such as en, en_US or tr."),
        )
    })
}

/// Why a time zone is refused, if it is: it must be an IANA zone name.
pub fn time_zone_problem(time_zone: &str) -> Option<Problem> {
    window::zone(time_zone).is_none().then(|| {
        Problem::new(
            "time_zone",
            "contact.time_zone_unknown",
            format!("“{time_zone}” is not a time zone; use a name such as Europe/Istanbul."),
        )
    })
}

/// Why a set of tags is refused, if it is.
pub fn tags_problem(tags: &[String]) -> Option<Problem> {
    if tags.len() > MAX_TAGS {
        return Some(Problem::new(
            "tags",
            "contact.too_many_tags",
            format!("A contact can have at most {MAX_TAGS} tags."),
        ));
    }
    tags.iter().find_map(|tag| {
        if tag.chars().count() > MAX_TAG_CHARS {
            Some(Problem::new(
                "tags",
                "contact.tag_too_long",
                format!("Tags are at most {MAX_TAG_CHARS} characters; “{tag}” is longer."),
            ))
        } else if tag.chars().any(char::is_control) {
            Some(Problem::new(
                "tags",
                "contact.tag_control_character",
                "Tags cannot contain control characters.",
            ))
        } else {
            None
        }
    })
}

/// Why a name field is refused, if it is: control characters (NUL, escape …) are invisible and
/// break exports.
pub fn text_problem(field: &'static str, text: &str) -> Option<Problem> {
    text.chars().any(char::is_control).then(|| {
        Problem::new(
            field,
            "contact.control_character",
            "This field cannot contain control characters.",
        )
    })
}

/// Tags as typed in one field: separated by commas or semicolons, trimmed, empty ones dropped.
pub fn split_tags(text: &str) -> Vec<String> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every problem of a contact's editable fields (empty ones are fine: they are not set).
pub fn problems(
    first_name: &str,
    last_name: &str,
    language: &str,
    time_zone: &str,
    tags: &[String],
) -> Vec<Problem> {
    let language = language.trim();
    let time_zone = time_zone.trim();
    [
        text_problem("first_name", first_name),
        text_problem("last_name", last_name),
        (!language.is_empty())
            .then(|| language_problem(language))
            .flatten(),
        (!time_zone.is_empty())
            .then(|| time_zone_problem(time_zone))
            .flatten(),
        tags_problem(tags),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_language_codes_pass_and_others_are_named() {
        for ok in ["en", "en_US", "pt_BR", "zh_HK", "fil", "tr"] {
            assert!(language_problem(ok).is_none(), "{ok}");
        }
        for bad in [
            "English",
            "EN",
            "en-",
            "e",
            "en_",
            "en_US_POSIX",
            "en US",
            "tr\0",
        ] {
            assert_eq!(
                language_problem(bad).map(|p| p.rule),
                Some("contact.language_invalid"),
                "{bad}"
            );
        }
    }

    #[test]
    fn time_zones_must_exist() {
        assert!(time_zone_problem("Europe/Istanbul").is_none());
        assert_eq!(
            time_zone_problem("Mars/Olympus").map(|p| (p.field, p.rule)),
            Some(("time_zone", "contact.time_zone_unknown"))
        );
    }

    #[test]
    fn tags_and_names_are_bounded_and_printable() {
        assert!(tags_problem(&["vip".into(), "new".into()]).is_none());
        assert!(tags_problem(&["x".repeat(65)]).is_some());
        assert!(tags_problem(&vec!["t".to_string(); 101]).is_some());
        assert!(tags_problem(&["a\0b".into()]).is_some());
        let all = problems("Ay\0şe", "", "xx-yy", "Mars/Olympus", &[]);
        assert_eq!(
            all.iter().map(|p| p.field).collect::<Vec<_>>(),
            ["first_name", "language", "time_zone"]
        );
    }
}
