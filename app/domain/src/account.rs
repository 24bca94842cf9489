//! Account name and password rules, shown live in the setup form and enforced by the server.

use serde::{Deserialize, Serialize};

use crate::Problem;

/// Shortest password accepted. NIST SP 800-63B asks for at least 8; a self-hosted admin console
/// reachable from the internet deserves more.
pub const PASSWORD_MIN_CHARS: usize = 12;
/// Longest password accepted, so hashing cost stays bounded for hostile input.
pub const PASSWORD_MAX_BYTES: usize = 1024;
/// Shortest username accepted.
pub const USERNAME_MIN_CHARS: usize = 3;
/// Longest username accepted.
pub const USERNAME_MAX_CHARS: usize = 64;

/// A login name that passed [`Username::parse`]: lowercase, so `Ada` and `ada` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    /// Normalises (trims, lowercases) and validates a username typed by a person.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let name = raw.trim().to_lowercase();
        let chars = name.chars().count();
        if !(USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&chars) {
            return Err(Problem::new(
                "username",
                "username.length",
                format!(
                    "Use between {USERNAME_MIN_CHARS} and {USERNAME_MAX_CHARS} characters \
                     (this one has {chars})."
                ),
            ));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(*c)))
        {
            return Err(Problem::new(
                "username",
                "username.charset",
                format!("`{bad}` is not allowed: use letters a-z, digits and . _ - @ only."),
            ));
        }
        Ok(Self(name))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every rule a new password breaks (empty when it is acceptable). `username` is the raw name the
/// person typed, so the rule "not your username" works before the name itself is valid.
pub fn password_problems(password: &str, username: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        problems.push(Problem::new(
            "password",
            "password.too_short",
            format!("Use at least {PASSWORD_MIN_CHARS} characters ({chars} so far)."),
        ));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        problems.push(Problem::new(
            "password",
            "password.too_long",
            format!("Use at most {PASSWORD_MAX_BYTES} bytes."),
        ));
    }
    let name = username.trim();
    if !name.is_empty() && password.trim().eq_ignore_ascii_case(name) {
        problems.push(Problem::new(
            "password",
            "password.is_username",
            "The password must not be the username.",
        ));
    }
    let mut distinct = password.chars().collect::<Vec<_>>();
    distinct.sort_unstable();
    distinct.dedup();
    if chars >= PASSWORD_MIN_CHARS && distinct.len() < 4 {
        problems.push(Problem::new(
            "password",
            "password.repetitive",
            "Use at least 4 different characters; repeated characters are guessed first.",
        ));
    }
    problems
}

/// Checks the "type it twice" field of a form.
pub fn confirmation_problem(password: &str, confirmation: &str) -> Option<Problem> {
    (password != confirmation).then(|| {
        Problem::new(
            "password_confirm",
            "password.mismatch",
            "The two passwords differ; type the same password twice.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(problems: &[Problem]) -> Vec<&'static str> {
        problems.iter().map(|p| p.rule).collect()
    }

    #[test]
    fn usernames_are_normalised_to_lowercase() {
        assert_eq!(
            Username::parse("  Ada.Lovelace ").unwrap().as_str(),
            "ada.lovelace"
        );
    }

    #[test]
    fn usernames_outside_the_length_bounds_are_rejected() {
        assert_eq!(Username::parse("ab").unwrap_err().rule, "username.length");
        assert_eq!(
            Username::parse(&"a".repeat(65)).unwrap_err().rule,
            "username.length"
        );
        assert!(Username::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn usernames_with_spaces_or_symbols_name_the_offending_character() {
        let problem = Username::parse("ada lovelace").unwrap_err();
        assert_eq!(problem.rule, "username.charset");
        assert!(problem.message.contains("` `"), "{}", problem.message);
    }

    #[test]
    fn a_strong_password_has_no_problems() {
        assert!(password_problems("correct horse battery", "ada").is_empty());
    }

    #[test]
    fn short_passwords_say_how_many_characters_are_missing() {
        let problems = password_problems("short", "ada");
        assert_eq!(rules(&problems), ["password.too_short"]);
        assert!(problems[0].message.contains("5 so far"));
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        assert!(password_problems("ééééééééééé", "ada")
            .iter()
            .any(|p| p.rule == "password.too_short"));
        assert!(password_problems("ééééééééeéf1", "ada").is_empty());
    }

    #[test]
    fn the_username_is_not_a_password() {
        assert!(rules(&password_problems("Administrator", "administrator"))
            .contains(&"password.is_username"));
    }

    #[test]
    fn repetitive_and_oversized_passwords_are_rejected() {
        assert_eq!(
            rules(&password_problems("aaaaaaaaaaaaaaab", "ada")),
            ["password.repetitive"]
        );
        assert_eq!(
            rules(&password_problems(&"abcd".repeat(300), "ada")),
            ["password.too_long"]
        );
    }

    #[test]
    fn confirmation_must_match() {
        assert!(confirmation_problem("a", "a").is_none());
        assert_eq!(
            confirmation_problem("a", "b").unwrap().field,
            "password_confirm"
        );
    }

    proptest::proptest! {
        #[test]
        fn validation_never_panics(password in ".{0,64}", name in ".{0,80}") {
            let _ = password_problems(&password, &name);
            let _ = Username::parse(&name);
        }
    }
}
