//! Meta's template rules as a lint: every problem names the field and the rule, and says how to
//! fix it. The rules follow the fact sheet §2.1–§2.2; the words-per-variable ratio (which Meta
//! does not publish) uses the stricter community rule of thumb, at least 2 other words per
//! variable plus one.

use crate::problem::Problem;
use crate::whatsapp::graph::{ButtonDefinition, ComponentDefinition, TemplateDefinition};

use super::placeholders::{find, Placeholder};

/// Longest template name.
pub const MAX_NAME: usize = 512;
/// Longest body.
pub const MAX_BODY: usize = 1024;
/// Longest text header or footer.
pub const MAX_HEADER_FOOTER: usize = 60;
/// Longest button label.
pub const MAX_BUTTON_TEXT: usize = 25;

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Every problem of `template`; empty means Meta's format checks should pass.
pub fn lint(template: &TemplateDefinition) -> Vec<Problem> {
    let mut p = Vec::new();
    name(&mut p, &template.name);
    if !matches!(
        template.category.as_str(),
        "MARKETING" | "UTILITY" | "AUTHENTICATION"
    ) {
        p.push(Problem::new(
            "category",
            "template.category",
            "category must be MARKETING, UTILITY or AUTHENTICATION",
        ));
    }
    if template.language.trim().is_empty() {
        p.push(Problem::new(
            "language",
            "template.language",
            "choose a language",
        ));
    }
    let named = template
        .parameter_format
        .as_deref()
        .is_some_and(|f| f.eq_ignore_ascii_case("named"));
    let of_kind = |kind: &str| -> Vec<&ComponentDefinition> {
        template
            .components
            .iter()
            .filter(|c| c.kind.eq_ignore_ascii_case(kind))
            .collect()
    };
    let bodies = of_kind("BODY");
    match bodies.as_slice() {
        [body] => self::body(&mut p, body, named),
        [] => p.push(Problem::new(
            "body",
            "template.body.missing",
            "a template needs a body",
        )),
        _ => p.push(Problem::new(
            "body",
            "template.body.duplicate",
            "a template has exactly one body",
        )),
    }
    let headers = of_kind("HEADER");
    if headers.len() > 1 {
        p.push(Problem::new(
            "header",
            "template.header.duplicate",
            "a template has at most one header",
        ));
    }
    for header in headers {
        self::header(&mut p, header, named);
    }
    for footer in of_kind("FOOTER") {
        let text = footer.text.as_deref().unwrap_or_default();
        if chars(text) > MAX_HEADER_FOOTER {
            p.push(Problem::new(
                "footer",
                "template.footer.too_long",
                format!(
                    "the footer is {} characters; at most {MAX_HEADER_FOOTER}",
                    chars(text)
                ),
            ));
        }
        if !find(text).is_empty() {
            p.push(Problem::new(
                "footer",
                "template.footer.variable",
                "the footer cannot contain variables",
            ));
        }
    }
    let buttons: Vec<&ButtonDefinition> = of_kind("BUTTONS")
        .into_iter()
        .flat_map(|c| c.buttons.iter().flatten())
        .collect();
    self::buttons(&mut p, &buttons);
    p
}

fn name(p: &mut Vec<Problem>, name: &str) {
    if name.is_empty() {
        p.push(Problem::new(
            "name",
            "template.name.missing",
            "give the template a name",
        ));
    } else if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        p.push(Problem::new(
            "name",
            "template.name.characters",
            "the name may use only lowercase letters, digits and underscores",
        ));
    } else if chars(name) > MAX_NAME {
        p.push(Problem::new(
            "name",
            "template.name.too_long",
            format!("the name may be at most {MAX_NAME} characters"),
        ));
    }
}

fn body(p: &mut Vec<Problem>, body: &ComponentDefinition, named: bool) {
    let text = body.text.as_deref().unwrap_or_default();
    if text.trim().is_empty() {
        p.push(Problem::new(
            "body",
            "template.body.empty",
            "write the body text",
        ));
        return;
    }
    if chars(text) > MAX_BODY {
        p.push(Problem::new(
            "body",
            "template.body.too_long",
            format!("the body is {} characters; at most {MAX_BODY}", chars(text)),
        ));
    }
    let found = find(text);
    variables(p, "body", &found, named);
    if found.is_empty() {
        return;
    }
    let trimmed_start = text.len() - text.trim_start().len();
    let trimmed_end = text.trim_end().len();
    let first = &found[0];
    let last = &found[found.len() - 1];
    let ends_with_punctuation_only = text[last.end..trimmed_end]
        .chars()
        .all(|c| !c.is_alphanumeric());
    if first.start == trimmed_start || last.end == trimmed_end || ends_with_punctuation_only {
        p.push(Problem::new(
            "body",
            "template.body.dangling_variable",
            "the body cannot start or end with a variable; add words before and after it",
        ));
    }
    if found
        .windows(2)
        .any(|w| text[w[0].end..w[1].start].trim().is_empty())
    {
        p.push(Problem::new(
            "body",
            "template.body.adjacent_variables",
            "two variables stand next to each other; put words between them",
        ));
    }
    let mut plain = text.to_string();
    for placeholder in found.iter().rev() {
        plain.replace_range(placeholder.start..placeholder.end, " ");
    }
    let words = plain.split_whitespace().count();
    if words < 2 * found.len() + 1 {
        p.push(Problem::new(
            "body",
            "template.body.variable_ratio",
            format!(
                "too many variables for the length: {} variables need at least {} other words",
                found.len(),
                2 * found.len() + 1
            ),
        ));
    }
    let examples = match &body.example {
        Some(e) if named => e.body_text_named_params.as_ref().map_or(0, Vec::len),
        Some(e) => e
            .body_text
            .as_ref()
            .and_then(|rows| rows.first())
            .map_or(0, Vec::len),
        None => 0,
    };
    let distinct = distinct_names(&found);
    if examples < distinct {
        p.push(Problem::new(
            "body.example",
            "template.body.missing_examples",
            format!("give an example value for each of the {distinct} variables"),
        ));
    }
}

fn header(p: &mut Vec<Problem>, header: &ComponentDefinition, named: bool) {
    let format = header
        .format
        .as_deref()
        .unwrap_or("TEXT")
        .to_ascii_uppercase();
    match format.as_str() {
        "TEXT" => {
            let text = header.text.as_deref().unwrap_or_default();
            if text.trim().is_empty() {
                p.push(Problem::new(
                    "header",
                    "template.header.empty",
                    "write the header text",
                ));
            }
            if chars(text) > MAX_HEADER_FOOTER {
                p.push(Problem::new(
                    "header",
                    "template.header.too_long",
                    format!(
                        "the header is {} characters; at most {MAX_HEADER_FOOTER}",
                        chars(text)
                    ),
                ));
            }
            let found = find(text);
            if found.len() > 1 {
                p.push(Problem::new(
                    "header",
                    "template.header.variables",
                    "a text header may contain at most one variable",
                ));
            }
            variables(p, "header", &found, named);
            let has_example = header.example.as_ref().is_some_and(|e| {
                e.header_text.as_ref().is_some_and(|v| !v.is_empty())
                    || e.header_text_named_params
                        .as_ref()
                        .is_some_and(|v| !v.is_empty())
            });
            if !found.is_empty() && !has_example {
                p.push(Problem::new(
                    "header.example",
                    "template.header.missing_example",
                    "give an example value for the header variable",
                ));
            }
        }
        "IMAGE" | "VIDEO" | "DOCUMENT" | "GIF" => {
            let has_handle = header
                .example
                .as_ref()
                .and_then(|e| e.header_handle.as_ref())
                .is_some_and(|h| !h.is_empty());
            if !has_handle {
                p.push(Problem::new(
                    "header.example",
                    "template.header.missing_sample",
                    "a media header needs a sample file",
                ));
            }
        }
        "LOCATION" => {}
        _ => p.push(Problem::new(
            "header",
            "template.header.format",
            "the header format must be TEXT, IMAGE, VIDEO, DOCUMENT, GIF or LOCATION",
        )),
    }
}

/// Positional variables must be 1, 2, 3…; named ones lowercase with underscores.
fn variables(p: &mut Vec<Problem>, field: &'static str, found: &[Placeholder], named: bool) {
    if named {
        if found.iter().any(|v| !v.is_valid_name()) {
            p.push(Problem::new(
                field,
                "template.variable.name",
                "named variables use lowercase letters, digits and underscores, like {{first_name}}",
            ));
        }
        return;
    }
    let mut positions = Vec::new();
    for v in found {
        match v.position() {
            Some(n) => positions.push(n),
            None => {
                p.push(Problem::new(
                    field,
                    "template.variable.format",
                    format!(
                        "{{{{{}}}}} is not a variable; use {{{{1}}}}, {{{{2}}}}, … in order",
                        v.name
                    ),
                ));
                return;
            }
        }
    }
    positions.sort_unstable();
    positions.dedup();
    if positions
        .iter()
        .enumerate()
        .any(|(i, &n)| n as usize != i + 1)
    {
        p.push(Problem::new(
            field,
            "template.variable.sequence",
            "variables must be numbered 1, 2, 3… without gaps",
        ));
    }
}

fn distinct_names(found: &[Placeholder]) -> usize {
    let mut names: Vec<&str> = found.iter().map(|v| v.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

fn buttons(p: &mut Vec<Problem>, buttons: &[&ButtonDefinition]) {
    let count = |kind: &str| {
        buttons
            .iter()
            .filter(|b| b.kind.eq_ignore_ascii_case(kind))
            .count()
    };
    if buttons.len() > 10 {
        p.push(Problem::new(
            "buttons",
            "template.buttons.count",
            "at most 10 buttons",
        ));
    }
    for (kind, max) in [("URL", 2), ("PHONE_NUMBER", 1), ("COPY_CODE", 1)] {
        if count(kind) > max {
            p.push(Problem::new(
                "buttons",
                "template.buttons.kind_count",
                format!("at most {max} {kind} button(s)"),
            ));
        }
    }
    for b in buttons {
        let text = b.text.as_deref().unwrap_or_default();
        if !b.kind.eq_ignore_ascii_case("COPY_CODE") && text.trim().is_empty() {
            p.push(Problem::new(
                "buttons.text",
                "template.button.empty",
                "every button needs a label",
            ));
        }
        if chars(text) > MAX_BUTTON_TEXT {
            p.push(Problem::new(
                "buttons.text",
                "template.button.too_long",
                format!("button label \"{text}\" is longer than {MAX_BUTTON_TEXT} characters"),
            ));
        }
        if b.kind.eq_ignore_ascii_case("URL") {
            let url = b.url.as_deref().unwrap_or_default();
            let vars = find(url);
            if !(url.starts_with("https://") || url.starts_with("http://")) || chars(url) > 2000 {
                p.push(Problem::new(
                    "buttons.url",
                    "template.button.url",
                    "a URL button needs an http(s) address of at most 2000 characters",
                ));
            }
            if vars.len() > 1 || vars.first().is_some_and(|v| v.end != url.len()) {
                p.push(Problem::new(
                    "buttons.url",
                    "template.button.url_variable",
                    "a URL may have one variable, only at its end",
                ));
            }
        }
        if b.kind.eq_ignore_ascii_case("PHONE_NUMBER")
            && chars(b.phone_number.as_deref().unwrap_or_default()) > 20
        {
            p.push(Problem::new(
                "buttons.phone_number",
                "template.button.phone",
                "a phone number may be at most 20 characters",
            ));
        }
    }
    // Quick replies mixed with other buttons must form one contiguous group.
    let quick: Vec<bool> = buttons
        .iter()
        .map(|b| b.kind.eq_ignore_ascii_case("QUICK_REPLY"))
        .collect();
    let groups = quick.windows(2).filter(|w| w[0] != w[1]).count();
    if groups > 1 {
        p.push(Problem::new(
            "buttons",
            "template.buttons.grouping",
            "quick-reply buttons must be next to each other, before or after the others",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(components: serde_json::Value) -> TemplateDefinition {
        serde_json::from_value(json!({"name":"order_update","language":"en_US",
            "category":"UTILITY","components":components}))
        .unwrap()
    }

    fn rules(t: &TemplateDefinition) -> Vec<&'static str> {
        lint(t).into_iter().map(|p| p.rule).collect()
    }

    #[test]
    fn a_well_formed_template_passes() {
        let t = template(json!([
            {"type":"HEADER","format":"TEXT","text":"Order {{1}}","example":{"header_text":["#42"]}},
            {"type":"BODY","text":"Hello {{1}}, your order {{2}} has shipped today.",
             "example":{"body_text":[["Pablo","#42"]]}},
            {"type":"FOOTER","text":"Reply STOP to opt out"},
            {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop updates"},
              {"type":"URL","text":"Track","url":"https://x.example/t/{{1}}","example":["42"]}]}]));
        assert_eq!(rules(&t), Vec::<&str>::new());
    }

    #[test]
    fn metas_variable_rules_are_caught() {
        let dangling = template(json!([{"type":"BODY","text":"{{1}} is your code for today",
            "example":{"body_text":[["1"]]}}]));
        assert_eq!(rules(&dangling), ["template.body.dangling_variable"]);
        let gap = template(
            json!([{"type":"BODY","text":"Hi {{1}} and {{3}} welcome to the shop",
            "example":{"body_text":[["a","b"]]}}]),
        );
        assert_eq!(rules(&gap), ["template.variable.sequence"]);
        let adjacent = template(
            json!([{"type":"BODY","text":"Dear customer {{1}} {{2}} thanks for all the fish",
            "example":{"body_text":[["a","b"]]}}]),
        );
        assert_eq!(rules(&adjacent), ["template.body.adjacent_variables"]);
        let crowded = template(json!([{"type":"BODY","text":"Hi {{1}} {{2}}x {{3}} ok",
            "example":{"body_text":[["a","b","c"]]}}]));
        assert!(rules(&crowded).contains(&"template.body.variable_ratio"));
        let no_examples =
            template(json!([{"type":"BODY","text":"Hello {{1}}, welcome to our shop"}]));
        assert_eq!(rules(&no_examples), ["template.body.missing_examples"]);
    }

    #[test]
    fn names_lengths_and_buttons_are_checked() {
        let mut t = template(json!([{"type":"BODY","text":"x".repeat(1025)},
            {"type":"FOOTER","text":"y".repeat(61)},
            {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"a"},
              {"type":"URL","text":"b","url":"https://x/{{1}}/y"},{"type":"QUICK_REPLY","text":"c"}]}]));
        t.name = "Order Update".into();
        assert_eq!(
            rules(&t),
            [
                "template.name.characters",
                "template.body.too_long",
                "template.footer.too_long",
                "template.button.url_variable",
                "template.buttons.grouping"
            ]
        );
    }
}
