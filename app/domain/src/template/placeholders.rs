//! Finding `{{1}}` / `{{first_name}}` placeholders in template text.

/// One `{{…}}` occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// What is between the braces, trimmed.
    pub name: String,
    /// Byte offset of the opening `{{`.
    pub start: usize,
    /// Byte offset just after the closing `}}`.
    pub end: usize,
}

impl Placeholder {
    /// `Some(n)` for a positional placeholder `{{n}}`.
    pub fn position(&self) -> Option<u32> {
        if self.name.chars().all(|c| c.is_ascii_digit()) {
            self.name.parse().ok()
        } else {
            None
        }
    }

    /// Whether the name is a valid named parameter: lowercase letters, digits and underscores,
    /// starting with a letter.
    pub fn is_valid_name(&self) -> bool {
        let mut chars = self.name.chars();
        chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }
}

/// Every `{{…}}` in `text`, in order. An unclosed `{{` ends the scan.
pub fn find(text: &str) -> Vec<Placeholder> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| from + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        found.push(Placeholder {
            name: text[open + 2..close].trim().to_string(),
            start: open,
            end: close + 2,
        });
        from = close + 2;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_positional_and_named_placeholders_with_offsets() {
        let found = find("Hi {{1}}, your code is {{ code_2 }}.");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].position(), Some(1));
        assert_eq!((found[0].start, found[0].end), (3, 8));
        assert_eq!(found[1].name, "code_2");
        assert!(found[1].is_valid_name());
        assert!(!find("{{First}}")[0].is_valid_name());
        assert!(find("no {{ end").is_empty());
    }
}
