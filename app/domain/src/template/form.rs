//! The template editor's flat form and its exact conversion to and from Meta's definition, so the
//! browser edits simple fields while the server and Meta see the component structure.

use serde::{Deserialize, Serialize};
use serde_json::Map;

use super::placeholders::find;
use crate::whatsapp::graph::{
    ButtonDefinition, ButtonExample, ComponentDefinition, ComponentExample, NamedExample,
    TemplateDefinition,
};

/// One button row of the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonForm {
    /// `QUICK_REPLY`, `URL`, `PHONE_NUMBER` or `COPY_CODE`.
    pub kind: String,
    /// Label.
    pub text: String,
    /// URL (URL buttons).
    pub url: String,
    /// Example for the URL's variable, or the copy code.
    pub example: String,
    /// Phone number (call buttons).
    pub phone_number: String,
}

/// The editor's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateForm {
    /// Template name.
    pub name: String,
    /// Language code.
    pub language: String,
    /// MARKETING, UTILITY or AUTHENTICATION.
    pub category: String,
    /// `positional` or `named`.
    pub parameter_format: String,
    /// `NONE`, `TEXT`, `IMAGE`, `VIDEO`, `DOCUMENT` or `LOCATION`.
    pub header_format: String,
    /// Text header.
    pub header_text: String,
    /// Example of the header variable, or the media sample handle.
    pub header_example: String,
    /// Body.
    pub body: String,
    /// One example per distinct body variable, in order of first appearance.
    pub body_examples: Vec<String>,
    /// Footer.
    pub footer: String,
    /// Buttons in order.
    pub buttons: Vec<ButtonForm>,
}

impl Default for TemplateForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            language: "en_US".into(),
            category: "UTILITY".into(),
            parameter_format: "positional".into(),
            header_format: "NONE".into(),
            header_text: String::new(),
            header_example: String::new(),
            body: String::new(),
            body_examples: Vec::new(),
            footer: String::new(),
            buttons: Vec::new(),
        }
    }
}

/// Distinct variable names of `text`, in order of first appearance (linear in the text: the
/// editor calls it on every keystroke).
pub fn variables(text: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    find(text)
        .into_iter()
        .filter(|p| seen.insert(p.name.clone()))
        .map(|p| p.name)
        .collect()
}

fn non_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
}

impl TemplateForm {
    /// Whether variables are named.
    pub fn named(&self) -> bool {
        self.parameter_format == "named"
    }

    /// The examples of the body's variables by name, built once per preview so filling a body
    /// of n variables costs O(n), not a scan of the body per variable.
    pub fn body_examples_by_name(&self) -> std::collections::HashMap<String, String> {
        variables(&self.body)
            .into_iter()
            .zip(self.body_examples.iter().cloned())
            .collect()
    }

    /// Meta's definition of this form.
    pub fn to_definition(&self) -> TemplateDefinition {
        let named = self.named();
        let mut components = Vec::new();
        match self.header_format.as_str() {
            "NONE" | "" => {}
            "TEXT" => {
                let has_var = !find(&self.header_text).is_empty();
                let example = (has_var && !self.header_example.is_empty()).then(|| {
                    if named {
                        ComponentExample {
                            header_text_named_params: Some(vec![NamedExample {
                                param_name: variables(&self.header_text).remove(0),
                                example: self.header_example.clone(),
                            }]),
                            ..ComponentExample::default()
                        }
                    } else {
                        ComponentExample {
                            header_text: Some(vec![self.header_example.clone()]),
                            ..ComponentExample::default()
                        }
                    }
                });
                components.push(ComponentDefinition {
                    kind: "HEADER".into(),
                    format: Some("TEXT".into()),
                    text: Some(self.header_text.clone()),
                    example,
                    ..ComponentDefinition::default()
                });
            }
            media => components.push(ComponentDefinition {
                kind: "HEADER".into(),
                format: Some(media.to_string()),
                example: non_empty(&self.header_example).map(|h| ComponentExample {
                    header_handle: Some(vec![h]),
                    ..ComponentExample::default()
                }),
                ..ComponentDefinition::default()
            }),
        }
        let names = variables(&self.body);
        let examples: Vec<String> = (0..names.len())
            .map(|i| self.body_examples.get(i).cloned().unwrap_or_default())
            .collect();
        let example = (!names.is_empty()).then(|| {
            if named {
                ComponentExample {
                    body_text_named_params: Some(
                        names
                            .iter()
                            .zip(&examples)
                            .map(|(n, e)| NamedExample {
                                param_name: n.clone(),
                                example: e.clone(),
                            })
                            .collect(),
                    ),
                    ..ComponentExample::default()
                }
            } else {
                ComponentExample {
                    body_text: Some(vec![examples.clone()]),
                    ..ComponentExample::default()
                }
            }
        });
        components.push(ComponentDefinition {
            kind: "BODY".into(),
            text: Some(self.body.clone()),
            example,
            ..ComponentDefinition::default()
        });
        if let Some(footer) = non_empty(&self.footer) {
            components.push(ComponentDefinition {
                kind: "FOOTER".into(),
                text: Some(footer),
                ..ComponentDefinition::default()
            });
        }
        if !self.buttons.is_empty() {
            let buttons = self.buttons.iter().map(button_definition).collect();
            components.push(ComponentDefinition {
                kind: "BUTTONS".into(),
                buttons: Some(buttons),
                ..ComponentDefinition::default()
            });
        }
        TemplateDefinition {
            name: self.name.trim().to_string(),
            language: self.language.clone(),
            category: self.category.clone(),
            parameter_format: Some(self.parameter_format.to_uppercase()),
            message_send_ttl_seconds: None,
            components,
        }
    }

    /// The form of a stored definition (fields the form does not show are dropped).
    pub fn from_definition(d: &TemplateDefinition) -> Self {
        let named = d
            .parameter_format
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("named"));
        let mut form = Self {
            name: d.name.clone(),
            language: d.language.clone(),
            category: d.category.clone(),
            parameter_format: if named { "named" } else { "positional" }.into(),
            ..Self::default()
        };
        for c in &d.components {
            let example = c.example.clone().unwrap_or_default();
            match c.kind.to_ascii_uppercase().as_str() {
                "HEADER" => {
                    form.header_format = c
                        .format
                        .clone()
                        .unwrap_or_else(|| "TEXT".into())
                        .to_uppercase();
                    form.header_text = c.text.clone().unwrap_or_default();
                    form.header_example = example
                        .header_text
                        .and_then(|v| v.into_iter().next())
                        .or_else(|| {
                            example
                                .header_text_named_params
                                .and_then(|v| v.into_iter().next())
                                .map(|n| n.example)
                        })
                        .or_else(|| example.header_handle.and_then(|v| v.into_iter().next()))
                        .unwrap_or_default();
                }
                "BODY" => {
                    form.body = c.text.clone().unwrap_or_default();
                    form.body_examples =
                        match (named, example.body_text_named_params, example.body_text) {
                            (true, Some(params), _) => variables(&form.body)
                                .iter()
                                .map(|n| {
                                    params
                                        .iter()
                                        .find(|p| &p.param_name == n)
                                        .map(|p| p.example.clone())
                                        .unwrap_or_default()
                                })
                                .collect(),
                            (_, _, Some(rows)) => rows.into_iter().next().unwrap_or_default(),
                            _ => Vec::new(),
                        };
                }
                "FOOTER" => form.footer = c.text.clone().unwrap_or_default(),
                "BUTTONS" => {
                    form.buttons = c.buttons.iter().flatten().map(button_form).collect();
                }
                _ => {}
            }
        }
        form
    }
}

fn button_definition(b: &ButtonForm) -> ButtonDefinition {
    let kind = b.kind.to_uppercase();
    let example = match kind.as_str() {
        "URL" if !find(&b.url).is_empty() => Some(ButtonExample::Many(vec![b.example.clone()])),
        "COPY_CODE" => Some(ButtonExample::One(b.example.clone())),
        _ => None,
    };
    ButtonDefinition {
        text: (kind != "COPY_CODE").then(|| b.text.clone()),
        url: (kind == "URL").then(|| b.url.clone()),
        phone_number: (kind == "PHONE_NUMBER").then(|| b.phone_number.clone()),
        example,
        kind,
        extra: Map::new(),
    }
}

fn button_form(b: &ButtonDefinition) -> ButtonForm {
    ButtonForm {
        kind: b.kind.to_uppercase(),
        text: b.text.clone().unwrap_or_default(),
        url: b.url.clone().unwrap_or_default(),
        example: match &b.example {
            Some(ButtonExample::One(e)) => e.clone(),
            Some(ButtonExample::Many(v)) => v.first().cloned().unwrap_or_default(),
            None => String::new(),
        },
        phone_number: b.phone_number.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::lint::lint;

    fn form() -> TemplateForm {
        TemplateForm {
            name: "order_update".into(),
            header_format: "TEXT".into(),
            header_text: "Order {{1}}".into(),
            header_example: "#42".into(),
            body: "Hello {{1}}, your order {{2}} has shipped today.".into(),
            body_examples: vec!["Pablo".into(), "#42".into()],
            footer: "Reply STOP to opt out".into(),
            buttons: vec![
                ButtonForm {
                    kind: "QUICK_REPLY".into(),
                    text: "Stop updates".into(),
                    ..ButtonForm::default()
                },
                ButtonForm {
                    kind: "URL".into(),
                    text: "Track".into(),
                    url: "https://x.example/t/{{1}}".into(),
                    example: "42".into(),
                    ..ButtonForm::default()
                },
                ButtonForm {
                    kind: "COPY_CODE".into(),
                    example: "25OFF".into(),
                    ..ButtonForm::default()
                },
            ],
            ..TemplateForm::default()
        }
    }

    #[test]
    fn a_complete_form_is_a_clean_definition_and_round_trips() {
        let definition = form().to_definition();
        assert_eq!(lint(&definition), Vec::new());
        assert_eq!(TemplateForm::from_definition(&definition), form());
    }

    #[test]
    fn named_variables_carry_their_names_into_the_examples() {
        let named = TemplateForm {
            parameter_format: "named".into(),
            header_format: "NONE".into(),
            header_text: String::new(),
            header_example: String::new(),
            body: "Hi {{first_name}}, your code {{code}} works today and {{first_name}} again."
                .into(),
            body_examples: vec!["Ann".into(), "X1".into()],
            buttons: Vec::new(),
            ..form()
        };
        let definition = named.to_definition();
        let params = definition.components[0]
            .example
            .clone()
            .unwrap()
            .body_text_named_params
            .unwrap();
        assert_eq!(
            params
                .iter()
                .map(|p| p.param_name.as_str())
                .collect::<Vec<_>>(),
            ["first_name", "code"]
        );
        assert_eq!(TemplateForm::from_definition(&definition), named);
        assert_eq!(
            named
                .body_examples_by_name()
                .get("code")
                .map(String::as_str),
            Some("X1")
        );
    }
}
