//! Meta's template rules as a lint (fact sheet §2.1–§2.2). Each [`Finding`] names a stable rule
//! id, a severity (errors block submission, warnings advise), the component, the character span
//! inside that component's text when there is one, and a sentence saying how to fix it.
//!
//! The table of rules is [`RULES`]; every rule has a test that fails without it. Meta does not
//! publish its words-per-variable threshold: Herald asks for at least `2 × variables + 1` words
//! besides the variables (the stricter of the two community rules of thumb).

use serde::{Deserialize, Serialize};

use super::placeholders::{find, Placeholder};
use crate::whatsapp::graph::{
    ButtonDefinition, ButtonExample, ComponentDefinition, TemplateDefinition,
};

/// Longest template name.
pub const MAX_NAME: usize = 512;
/// Longest body.
pub const MAX_BODY: usize = 1024;
/// Longest text header or footer.
pub const MAX_HEADER_FOOTER: usize = 60;
/// Longest button label.
pub const MAX_BUTTON_TEXT: usize = 25;
/// Longest URL of a URL button.
pub const MAX_URL: usize = 2000;
/// Longest phone number of a call button.
pub const MAX_PHONE: usize = 20;
/// Longest copy-code value (20 since 2025-12-03).
pub const MAX_COPY_CODE: usize = 20;
/// Most buttons in a template.
pub const MAX_BUTTONS: usize = 10;

/// Rule id, what it checks, and where the rule comes from.
pub const RULES: &[(&str, &str, &str)] = &[
    ("template.name.missing", "a name is given", "§2.1"),
    (
        "template.name.characters",
        "name uses lowercase letters, digits and underscores",
        "§2.1",
    ),
    (
        "template.name.too_long",
        "name is at most 512 characters",
        "§2.1",
    ),
    (
        "template.category",
        "category is MARKETING, UTILITY or AUTHENTICATION",
        "§2.1",
    ),
    (
        "template.language",
        "language looks like a Meta code (en, en_US, pt_BR…)",
        "§2.1",
    ),
    (
        "template.parameter_format",
        "parameter format is named or positional",
        "§2.1",
    ),
    (
        "template.ttl",
        "TTL within the category's range",
        "§2.1 TTL table",
    ),
    ("template.body.missing", "exactly one body", "§2.2"),
    ("template.body.empty", "the body has text", "§2.2"),
    (
        "template.body.too_long",
        "body at most 1024 characters",
        "§2.2",
    ),
    (
        "template.body.dangling_variable",
        "body does not start or end with a variable",
        "§2.2, error 2388299",
    ),
    (
        "template.body.adjacent_variables",
        "no two variables side by side",
        "§2.2",
    ),
    (
        "template.body.variable_ratio",
        "at least 2 × variables + 1 other words",
        "§2.2, error 2388293 (threshold: community rule)",
    ),
    ("template.header.duplicate", "at most one header", "§2.2"),
    ("template.header.empty", "a text header has text", "§2.2"),
    (
        "template.header.too_long",
        "text header at most 60 characters",
        "§2.2",
    ),
    (
        "template.header.variables",
        "text header has at most one variable",
        "§2.2",
    ),
    (
        "template.header.format",
        "header format is TEXT, IMAGE, VIDEO, DOCUMENT, GIF or LOCATION",
        "§2.2",
    ),
    (
        "template.header.missing_sample",
        "media header has a sample handle",
        "§2.1, §2.2",
    ),
    (
        "template.header.location_category",
        "location header only in UTILITY or MARKETING",
        "§2.2",
    ),
    (
        "template.footer.too_long",
        "footer at most 60 characters",
        "§2.2",
    ),
    (
        "template.footer.variable",
        "footer has no variables",
        "§2.2",
    ),
    (
        "template.placeholder.unbalanced",
        "every {{ has its }}",
        "§2.2 (correct double braces)",
    ),
    (
        "template.placeholder.special_characters",
        "no #, $ or % inside a placeholder",
        "§2.2",
    ),
    (
        "template.variable.format",
        "positional placeholders are numbers",
        "§2.1",
    ),
    (
        "template.variable.sequence",
        "positional variables run 1, 2, 3… without gaps",
        "§2.2",
    ),
    (
        "template.variable.name",
        "named variables are lowercase letters, digits, underscores",
        "§2.1",
    ),
    (
        "template.variable.duplicate_name",
        "each named variable appears once",
        "§2.1",
    ),
    (
        "template.variable.mixed",
        "positional and named variables are not mixed",
        "§2.1",
    ),
    (
        "template.example.missing",
        "every variable has an example",
        "§2.1, INVALID_FORMAT",
    ),
    (
        "template.example.whitespace",
        "examples have no newline, tab or 5 spaces",
        "§1.4 (error 132018)",
    ),
    ("template.buttons.count", "at most 10 buttons", "§2.2"),
    (
        "template.buttons.kind_count",
        "at most 10 quick replies, 2 URL, 1 phone, 1 copy code",
        "§2.2",
    ),
    (
        "template.buttons.grouping",
        "quick replies form one contiguous group",
        "§2.2",
    ),
    ("template.button.empty", "every button has a label", "§2.2"),
    (
        "template.button.too_long",
        "button label at most 25 characters",
        "§2.2",
    ),
    (
        "template.button.url",
        "URL is http(s) and at most 2000 characters",
        "§2.2",
    ),
    (
        "template.button.url_variable",
        "one URL variable, only at the end",
        "§2.2",
    ),
    (
        "template.button.url_example",
        "a URL variable has an example",
        "§2.2",
    ),
    (
        "template.button.phone",
        "phone number at most 20 characters, digits and +",
        "§2.2",
    ),
    (
        "template.button.copy_code",
        "copy code example 1–20 characters",
        "§2.2 (changelog 2025-12-03)",
    ),
    (
        "template.duplicate",
        "body and footer differ from other templates in the language",
        "§2.2",
    ),
    (
        "template.sensitive",
        "does not ask for card numbers, national ids or passwords (warning)",
        "§2.2",
    ),
    (
        "template.category_hint",
        "a UTILITY body that reads as promotional (warning)",
        "§2.1 re-categorisation",
    ),
];

/// Whether a finding blocks submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Meta would reject it: submission is blocked.
    Error,
    /// Advice: Meta may reject, re-categorise or the message may perform badly.
    Warning,
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id from [`RULES`].
    pub rule: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// `name`, `category`, `language`, `header`, `body`, `footer`, `buttons`, `ttl`.
    pub component: &'static str,
    /// The button's position, for button findings.
    pub button: Option<usize>,
    /// Character range `[start, end)` in the component's text.
    pub span: Option<(usize, usize)>,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Words that make a text promotional, for the category hint (and the sandbox's reviewer).
pub const PROMOTIONAL_WORDS: &[&str] = &[
    "sale",
    "discount",
    "% off",
    "offer",
    "promo",
    "coupon",
    "deal",
    "buy now",
    "shop now",
    "limited time",
];

/// Phrases that ask for sensitive identifiers.
const SENSITIVE_PHRASES: &[&str] = &[
    "card number",
    "credit card",
    "cvv",
    "social security",
    "national id",
    "passport number",
    "password",
    "pin code",
    "bank account number",
];

/// The first promotional word in `text`, if any (case-insensitive).
pub fn promotional_word(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    PROMOTIONAL_WORDS
        .iter()
        .copied()
        .find(|w| lower.contains(w))
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// Rules of Meta's hard size limits. A draft may break any other rule while it is being written,
/// but not these: a body of 1,000 placeholders is not a template anyone can submit, and storing it
/// would let one record make its own editor page unusable.
pub const SIZE_RULES: &[&str] = &[
    "template.name.too_long",
    "template.body.too_long",
    "template.header.too_long",
    "template.footer.too_long",
    "template.button.too_long",
    "template.buttons.count",
];

/// The first hard size limit `findings` report, if any (see [`SIZE_RULES`]).
pub fn size_limit_broken(findings: &[Finding]) -> Option<&Finding> {
    findings.iter().find(|f| SIZE_RULES.contains(&f.rule))
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Character offset of a byte offset.
fn char_at(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, chars)
}

struct Lint {
    findings: Vec<Finding>,
}

impl Lint {
    fn push(
        &mut self,
        rule: &'static str,
        severity: Severity,
        component: &'static str,
        span: Option<(usize, usize)>,
        message: impl Into<String>,
    ) {
        self.findings.push(Finding {
            rule,
            severity,
            component,
            button: None,
            span,
            message: message.into(),
        });
    }

    fn error(&mut self, rule: &'static str, component: &'static str, message: impl Into<String>) {
        self.push(rule, Severity::Error, component, None, message);
    }

    fn error_at(
        &mut self,
        rule: &'static str,
        component: &'static str,
        text: &str,
        p: &Placeholder,
        message: impl Into<String>,
    ) {
        let span = Some((char_at(text, p.start), char_at(text, p.end)));
        self.push(rule, Severity::Error, component, span, message);
    }

    fn button(&mut self, rule: &'static str, index: usize, message: impl Into<String>) {
        self.findings.push(Finding {
            rule,
            severity: Severity::Error,
            component: "buttons",
            button: Some(index),
            span: None,
            message: message.into(),
        });
    }
}

/// Every finding of `template` on its own.
pub fn lint(template: &TemplateDefinition) -> Vec<Finding> {
    lint_among(template, &[])
}

/// Every finding of a session reply (a Herald-only template sent inside the window as an
/// interactive message): the template rules that still apply — no category or example rules,
/// since Meta never reviews it — and the interactive limits the composer enforces: quick-reply
/// buttons only, distinct; up to 3 go as reply buttons (20 characters each), 4 to 10 as the rows
/// of a list (24 characters each).
pub fn lint_session_reply(template: &TemplateDefinition) -> Vec<Finding> {
    // What only Meta's review asks for; a session reply never goes to review.
    let review_only = |rule: &str| {
        matches!(
            rule,
            "template.category"
                | "template.category_hint"
                | "template.body.dangling_variable"
                | "template.body.variable_ratio"
                | "template.header.missing_sample"
                | "template.header.location_category"
                | "template.example.missing"
                | "template.example.whitespace"
                | "template.button.url_example"
                | "template.duplicate"
        )
    };
    let mut findings: Vec<Finding> = lint(template)
        .into_iter()
        .filter(|f| !review_only(f.rule))
        .collect();
    let buttons = template
        .components
        .iter()
        .filter(|c| c.kind.eq_ignore_ascii_case("BUTTONS"))
        .flat_map(|c| c.buttons.iter().flatten());
    for (index, button) in buttons.enumerate() {
        if !button.kind.eq_ignore_ascii_case("QUICK_REPLY") {
            findings.push(Finding {
                rule: "session_reply.button_kind",
                severity: Severity::Error,
                component: "buttons",
                button: Some(index),
                span: None,
                message: "a session reply's buttons are quick replies; links, calls and codes need an approved template".into(),
            });
        }
    }
    let draft = crate::conversation::compose::from_session_reply(template, |_| None);
    for problem in draft.problems() {
        let component = match problem.field {
            "buttons" => "buttons",
            "header" => "header",
            "footer" => "footer",
            _ => "body",
        };
        // A missing body is already the template rule's finding.
        if problem.rule == "graph.missing" && component == "body" {
            continue;
        }
        findings.push(Finding {
            rule: "session_reply.interactive",
            severity: Severity::Error,
            component,
            button: None,
            span: None,
            message: problem.message,
        });
    }
    findings
}

/// Every finding of `template`, including duplicates of `others` (the other templates of the
/// WhatsApp Business Account).
pub fn lint_among(template: &TemplateDefinition, others: &[TemplateDefinition]) -> Vec<Finding> {
    let mut l = Lint {
        findings: Vec::new(),
    };
    name(&mut l, &template.name);
    let category = template.category.as_str();
    if !matches!(category, "MARKETING" | "UTILITY" | "AUTHENTICATION") {
        l.error(
            "template.category",
            "category",
            "category must be MARKETING, UTILITY or AUTHENTICATION",
        );
    }
    language(&mut l, &template.language);
    let named = match template
        .parameter_format
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("positional") => false,
        Some("named") => true,
        Some(_) => {
            l.error(
                "template.parameter_format",
                "parameter_format",
                "the parameter format is named or positional",
            );
            false
        }
    };
    ttl(&mut l, category, template.message_send_ttl_seconds);
    let of_kind = |kind: &str| -> Vec<&ComponentDefinition> {
        template
            .components
            .iter()
            .filter(|c| c.kind.eq_ignore_ascii_case(kind))
            .collect()
    };
    let bodies = of_kind("BODY");
    match bodies.as_slice() {
        [body] => self::body(&mut l, body, named, category),
        [] => l.error("template.body.missing", "body", "a template needs a body"),
        _ => l.error(
            "template.body.missing",
            "body",
            "a template has exactly one body",
        ),
    }
    let headers = of_kind("HEADER");
    if headers.len() > 1 {
        l.error(
            "template.header.duplicate",
            "header",
            "a template has at most one header",
        );
    }
    for header in headers {
        self::header(&mut l, header, named, category);
    }
    for footer in of_kind("FOOTER") {
        let text = footer.text.as_deref().unwrap_or_default();
        if chars(text) > MAX_HEADER_FOOTER {
            l.push(
                "template.footer.too_long",
                Severity::Error,
                "footer",
                Some((MAX_HEADER_FOOTER, chars(text))),
                format!(
                    "the footer is {} characters; at most {MAX_HEADER_FOOTER}",
                    chars(text)
                ),
            );
        }
        for p in find(text) {
            l.error_at(
                "template.footer.variable",
                "footer",
                text,
                &p,
                "the footer cannot contain variables",
            );
        }
    }
    let buttons: Vec<&ButtonDefinition> = of_kind("BUTTONS")
        .into_iter()
        .flat_map(|c| c.buttons.iter().flatten())
        .collect();
    self::buttons(&mut l, &buttons);
    duplicate(&mut l, template, others);
    sensitive(&mut l, template);
    l.findings
}

fn name(l: &mut Lint, name: &str) {
    if name.is_empty() {
        l.error("template.name.missing", "name", "give the template a name");
    } else if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        l.error(
            "template.name.characters",
            "name",
            "the name may use only lowercase letters, digits and underscores",
        );
    } else if chars(name) > MAX_NAME {
        l.error(
            "template.name.too_long",
            "name",
            format!("the name may be at most {MAX_NAME} characters"),
        );
    }
}

fn language(l: &mut Lint, code: &str) {
    let mut parts = code.split('_');
    let base_ok = parts
        .next()
        .is_some_and(|b| (2..=3).contains(&b.len()) && b.chars().all(|c| c.is_ascii_lowercase()));
    let region_ok =
        parts.all(|r| (2..=3).contains(&r.len()) && r.chars().all(|c| c.is_ascii_uppercase()));
    if !(base_ok && region_ok) {
        l.error(
            "template.language",
            "language",
            "choose a language such as en, en_US or pt_BR",
        );
    }
}

fn ttl(l: &mut Lint, category: &str, ttl: Option<i64>) {
    let Some(ttl) = ttl else { return };
    let range = match category {
        "AUTHENTICATION" => 30..=900,
        "UTILITY" => 30..=43_200,
        "MARKETING" => 43_200..=2_592_000,
        _ => return,
    };
    if !(range.contains(&ttl) || (ttl == -1 && category != "MARKETING")) {
        l.error(
            "template.ttl",
            "ttl",
            format!(
                "a {category} template's time-to-live is {} to {} seconds",
                range.start(),
                range.end()
            ),
        );
    }
}

/// Stray `{{`/`}}` and special characters inside placeholders.
fn braces(l: &mut Lint, component: &'static str, text: &str, found: &[Placeholder]) {
    let mut rest = text.to_string();
    for p in found.iter().rev() {
        rest.replace_range(p.start..p.end, &" ".repeat(p.end - p.start));
    }
    if let Some(i) = rest.find("{{").or_else(|| rest.find("}}")) {
        let at = char_at(text, i);
        l.push(
            "template.placeholder.unbalanced",
            Severity::Error,
            component,
            Some((at, at + 2)),
            "a placeholder's braces do not match; write variables as {{1}} or {{name}}",
        );
    }
    for p in found {
        if p.name.contains(['#', '$', '%']) {
            l.error_at(
                "template.placeholder.special_characters",
                component,
                text,
                p,
                format!(
                    "{{{{{}}}}} contains #, $ or %; placeholders hold only a number or a name",
                    p.name
                ),
            );
        }
    }
}

/// Positional variables numbered 1…n; named ones well-formed and unique; never mixed.
fn variables(
    l: &mut Lint,
    component: &'static str,
    text: &str,
    found: &[Placeholder],
    named: bool,
) {
    let positional = found.iter().filter(|p| p.position().is_some()).count();
    if positional > 0 && positional < found.len() {
        l.error(
            "template.variable.mixed",
            component,
            "do not mix numbered {{1}} and named {{name}} variables",
        );
        return;
    }
    if named {
        for (i, p) in found.iter().enumerate() {
            if !p.is_valid_name() {
                l.error_at(
                    "template.variable.name",
                    component,
                    text,
                    p,
                    format!("{{{{{}}}}}: named variables use lowercase letters, digits and underscores, like {{{{first_name}}}}", p.name),
                );
            } else if found[..i].iter().any(|q| q.name == p.name) {
                l.error_at(
                    "template.variable.duplicate_name",
                    component,
                    text,
                    p,
                    format!(
                        "{{{{{}}}}} is used twice; each named variable appears once",
                        p.name
                    ),
                );
            }
        }
        return;
    }
    let mut positions = Vec::new();
    for p in found {
        match p.position() {
            Some(n) => positions.push(n),
            None => {
                l.error_at(
                    "template.variable.format",
                    component,
                    text,
                    p,
                    format!("{{{{{}}}}} is not a numbered variable; use {{{{1}}}}, {{{{2}}}}, … or switch to named variables", p.name),
                );
                return;
            }
        }
    }
    positions.sort_unstable();
    positions.dedup();
    if let Some((i, _)) = positions
        .iter()
        .enumerate()
        .find(|(i, &n)| n as usize != i + 1)
    {
        l.error(
            "template.variable.sequence",
            component,
            format!(
                "variables must be numbered 1, 2, 3… without gaps: {{{{{}}}}} is missing",
                i + 1
            ),
        );
    }
}

fn distinct_names(found: &[Placeholder]) -> usize {
    let mut names: Vec<&str> = found.iter().map(|v| v.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

fn example_whitespace(l: &mut Lint, component: &'static str, values: &[&str]) {
    if values
        .iter()
        .any(|v| v.contains(['\n', '\t']) || v.contains("     "))
    {
        l.error(
            "template.example.whitespace",
            component,
            "example values cannot contain new lines, tabs or more than 4 spaces in a row",
        );
    }
}

fn body(l: &mut Lint, body: &ComponentDefinition, named: bool, category: &str) {
    let text = body.text.as_deref().unwrap_or_default();
    if text.trim().is_empty() {
        l.error("template.body.empty", "body", "write the body text");
        return;
    }
    if chars(text) > MAX_BODY {
        l.push(
            "template.body.too_long",
            Severity::Error,
            "body",
            Some((MAX_BODY, chars(text))),
            format!("the body is {} characters; at most {MAX_BODY}", chars(text)),
        );
    }
    let found = find(text);
    braces(l, "body", text, &found);
    variables(l, "body", text, &found, named);
    if category == "UTILITY" {
        if let Some(word) = promotional_word(text) {
            l.push(
                "template.category_hint",
                Severity::Warning,
                "body",
                None,
                format!(
                    "\"{word}\" reads as promotional: Meta will approve this template as MARKETING"
                ),
            );
        }
    }
    if found.is_empty() {
        return;
    }
    let first = &found[0];
    let last = &found[found.len() - 1];
    let before_first = text[..first.start].trim();
    let after_last = &text[last.end..];
    if before_first.is_empty() || after_last.chars().all(|c| !c.is_alphanumeric()) {
        let culprit = if before_first.is_empty() { first } else { last };
        l.error_at(
            "template.body.dangling_variable",
            "body",
            text,
            culprit,
            "the body cannot start or end with a variable; add words before and after it",
        );
    }
    for pair in found.windows(2) {
        if text[pair[0].end..pair[1].start].trim().is_empty() {
            l.error_at(
                "template.body.adjacent_variables",
                "body",
                text,
                &pair[1],
                "two variables stand next to each other; put words between them",
            );
        }
    }
    let mut plain = text.to_string();
    for placeholder in found.iter().rev() {
        plain.replace_range(placeholder.start..placeholder.end, " ");
    }
    let words = plain.split_whitespace().count();
    if words < 2 * found.len() + 1 {
        l.error(
            "template.body.variable_ratio",
            "body",
            format!(
                "too many variables for the length: {} variables need at least {} other words",
                found.len(),
                2 * found.len() + 1
            ),
        );
    }
    let examples: Vec<&str> = match &body.example {
        Some(e) if named => e
            .body_text_named_params
            .iter()
            .flatten()
            .map(|n| n.example.as_str())
            .collect(),
        Some(e) => e
            .body_text
            .as_ref()
            .and_then(|rows| rows.first())
            .map(|row| row.iter().map(String::as_str).collect())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let distinct = distinct_names(&found);
    if examples.len() < distinct || examples.iter().any(|e| e.trim().is_empty()) {
        l.error(
            "template.example.missing",
            "body",
            format!("give an example value for each of the {distinct} variables"),
        );
    }
    example_whitespace(l, "body", &examples);
}

fn header(l: &mut Lint, header: &ComponentDefinition, named: bool, category: &str) {
    let format = header
        .format
        .as_deref()
        .unwrap_or("TEXT")
        .to_ascii_uppercase();
    match format.as_str() {
        "TEXT" => {
            let text = header.text.as_deref().unwrap_or_default();
            if text.trim().is_empty() {
                l.error("template.header.empty", "header", "write the header text");
            }
            if chars(text) > MAX_HEADER_FOOTER {
                l.push(
                    "template.header.too_long",
                    Severity::Error,
                    "header",
                    Some((MAX_HEADER_FOOTER, chars(text))),
                    format!(
                        "the header is {} characters; at most {MAX_HEADER_FOOTER}",
                        chars(text)
                    ),
                );
            }
            let found = find(text);
            braces(l, "header", text, &found);
            if let Some(extra) = found.get(1) {
                l.error_at(
                    "template.header.variables",
                    "header",
                    text,
                    extra,
                    "a text header may contain at most one variable",
                );
            }
            variables(l, "header", text, &found, named);
            let examples: Vec<&str> = header
                .example
                .as_ref()
                .map(|e| {
                    e.header_text
                        .iter()
                        .flatten()
                        .map(String::as_str)
                        .chain(
                            e.header_text_named_params
                                .iter()
                                .flatten()
                                .map(|n| n.example.as_str()),
                        )
                        .collect()
                })
                .unwrap_or_default();
            if !found.is_empty() && examples.iter().all(|e| e.trim().is_empty()) {
                l.error(
                    "template.example.missing",
                    "header",
                    "give an example value for the header variable",
                );
            }
            example_whitespace(l, "header", &examples);
        }
        "IMAGE" | "VIDEO" | "DOCUMENT" | "GIF" => {
            let has_handle = header
                .example
                .as_ref()
                .and_then(|e| e.header_handle.as_ref())
                .is_some_and(|h| !h.is_empty());
            if !has_handle {
                l.error(
                    "template.header.missing_sample",
                    "header",
                    "a media header needs a sample file",
                );
            }
        }
        "LOCATION" => {
            if !matches!(category, "UTILITY" | "MARKETING") {
                l.error(
                    "template.header.location_category",
                    "header",
                    "a location header is allowed only in UTILITY and MARKETING templates",
                );
            }
        }
        _ => l.error(
            "template.header.format",
            "header",
            "the header format must be TEXT, IMAGE, VIDEO, DOCUMENT, GIF or LOCATION",
        ),
    }
}

fn buttons(l: &mut Lint, buttons: &[&ButtonDefinition]) {
    let count = |kind: &str| {
        buttons
            .iter()
            .filter(|b| b.kind.eq_ignore_ascii_case(kind))
            .count()
    };
    if buttons.len() > MAX_BUTTONS {
        l.error(
            "template.buttons.count",
            "buttons",
            format!("at most {MAX_BUTTONS} buttons"),
        );
    }
    for (kind, label, max) in [
        ("QUICK_REPLY", "quick-reply", 10),
        ("URL", "URL", 2),
        ("PHONE_NUMBER", "phone", 1),
        ("COPY_CODE", "copy-code", 1),
    ] {
        if count(kind) > max {
            l.error(
                "template.buttons.kind_count",
                "buttons",
                format!("at most {max} {label} button(s)"),
            );
        }
    }
    for (i, b) in buttons.iter().enumerate() {
        let text = b.text.as_deref().unwrap_or_default();
        let kind = b.kind.to_ascii_uppercase();
        if kind != "COPY_CODE" && text.trim().is_empty() {
            l.button("template.button.empty", i, "every button needs a label");
        }
        if chars(text) > MAX_BUTTON_TEXT {
            l.button(
                "template.button.too_long",
                i,
                format!("button label \"{text}\" is longer than {MAX_BUTTON_TEXT} characters"),
            );
        }
        match kind.as_str() {
            "URL" => {
                let url = b.url.as_deref().unwrap_or_default();
                if !(url.starts_with("https://") || url.starts_with("http://"))
                    || chars(url) > MAX_URL
                {
                    l.button(
                        "template.button.url",
                        i,
                        "a URL button needs an http(s) address of at most 2000 characters",
                    );
                }
                let vars = find(url);
                if vars.len() > 1 || vars.first().is_some_and(|v| v.end != url.len()) {
                    l.button(
                        "template.button.url_variable",
                        i,
                        "a URL may have one variable, only at its end",
                    );
                }
                let has_example = match &b.example {
                    Some(ButtonExample::Many(v)) => v.iter().any(|e| !e.trim().is_empty()),
                    Some(ButtonExample::One(e)) => !e.trim().is_empty(),
                    None => false,
                };
                if !vars.is_empty() && !has_example {
                    l.button(
                        "template.button.url_example",
                        i,
                        "give an example for the URL's variable",
                    );
                }
            }
            "PHONE_NUMBER" => {
                let phone = b.phone_number.as_deref().unwrap_or_default();
                let well_formed = phone
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-'))
                    && phone.chars().any(|c| c.is_ascii_digit());
                if chars(phone) > MAX_PHONE || !well_formed {
                    l.button(
                        "template.button.phone",
                        i,
                        "a phone number has digits (and +), at most 20 characters",
                    );
                }
            }
            "COPY_CODE" => {
                let code = match &b.example {
                    Some(ButtonExample::One(c)) => c.as_str(),
                    Some(ButtonExample::Many(v)) => v.first().map_or("", String::as_str),
                    None => "",
                };
                if code.trim().is_empty() || chars(code) > MAX_COPY_CODE {
                    l.button(
                        "template.button.copy_code",
                        i,
                        format!("a copy-code example is 1 to {MAX_COPY_CODE} characters"),
                    );
                }
            }
            _ => {}
        }
    }
    let quick: Vec<bool> = buttons
        .iter()
        .map(|b| b.kind.eq_ignore_ascii_case("QUICK_REPLY"))
        .collect();
    if quick.windows(2).filter(|w| w[0] != w[1]).count() > 1 {
        l.error(
            "template.buttons.grouping",
            "buttons",
            "quick-reply buttons must be next to each other, before or after the others",
        );
    }
}

fn text_of<'a>(template: &'a TemplateDefinition, kind: &str) -> &'a str {
    template
        .components
        .iter()
        .find(|c| c.kind.eq_ignore_ascii_case(kind))
        .and_then(|c| c.text.as_deref())
        .unwrap_or_default()
}

/// Meta rejects a body and footer identical to another template's in the same language.
fn duplicate(l: &mut Lint, template: &TemplateDefinition, others: &[TemplateDefinition]) {
    if template.category == "AUTHENTICATION" {
        return;
    }
    let wording = |t: &TemplateDefinition| {
        (
            text_of(t, "BODY").trim().to_string(),
            text_of(t, "FOOTER").trim().to_string(),
        )
    };
    let mine = wording(template);
    if let Some(other) = others
        .iter()
        .find(|o| o.language == template.language && o.name != template.name && wording(o) == mine)
    {
        l.error(
            "template.duplicate",
            "body",
            format!(
                "the body and footer are the same as template {}; Meta rejects duplicates",
                other.name
            ),
        );
    }
}

fn sensitive(l: &mut Lint, template: &TemplateDefinition) {
    let all: String = template
        .components
        .iter()
        .filter_map(|c| c.text.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if let Some(phrase) = SENSITIVE_PHRASES.iter().find(|p| all.contains(*p)) {
        l.push(
            "template.sensitive",
            Severity::Warning,
            "body",
            None,
            format!("asking for a {phrase} breaks WhatsApp's policy; Meta rejects such templates"),
        );
    }
}

#[cfg(test)]
mod tests;
