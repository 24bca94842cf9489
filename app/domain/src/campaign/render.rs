//! Which parts of a template take a value per recipient ([`Slot`]s), how a contact fills them
//! from the campaign's bindings, and the `components` of the send that carries them (fact sheet
//! §1.4). Values are cleaned the way Meta requires (no newlines, tabs or runs of more than four
//! spaces), so a contact's messy attribute never turns into a refused send.

use serde::{Deserialize, Serialize};

use super::draft::{BindingSource, VariableBinding};
use crate::contacts::{AttributeValue, Contact};
use crate::template::{placeholders, preview};
use crate::whatsapp::graph::{
    Parameter, SendComponent, Template, TemplateDefinition, TemplateLanguage,
};

/// Where in the template a variable sits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "component", rename_all = "snake_case")]
pub enum Slot {
    /// A variable of a text header.
    Header {
        /// `1` or the parameter name.
        name: String,
    },
    /// A variable of the body.
    Body {
        /// `1` or the parameter name.
        name: String,
    },
    /// The trailing variable of a URL button.
    Button {
        /// Zero-based button position.
        index: usize,
        /// `1`.
        name: String,
    },
}

impl Slot {
    /// How the wizard labels the slot.
    pub fn label(&self) -> String {
        match self {
            Self::Header { name } => format!("Header {{{{{name}}}}}"),
            Self::Body { name } => format!("Body {{{{{name}}}}}"),
            Self::Button { index, name } => format!("Button {} URL {{{{{name}}}}}", index + 1),
        }
    }
}

fn component<'a>(
    definition: &'a TemplateDefinition,
    kind: &str,
) -> Option<&'a crate::whatsapp::graph::ComponentDefinition> {
    definition
        .components
        .iter()
        .find(|c| c.kind.eq_ignore_ascii_case(kind))
}

/// Distinct placeholder names of `text`, positional ones in number order.
fn names(text: &str) -> Vec<String> {
    let mut found: Vec<placeholders::Placeholder> = placeholders::find(text);
    if found.iter().all(|p| p.position().is_some()) {
        found.sort_by_key(|p| p.position());
    }
    let mut out: Vec<String> = Vec::new();
    for p in found {
        if !out.contains(&p.name) {
            out.push(p.name);
        }
    }
    out
}

/// Every slot of `definition` that needs a value, in the order Meta expects them.
pub fn slots(definition: &TemplateDefinition) -> Vec<Slot> {
    let mut out = Vec::new();
    if let Some(header) = component(definition, "HEADER") {
        let is_text = header
            .format
            .as_deref()
            .is_none_or(|f| f.eq_ignore_ascii_case("TEXT"));
        if is_text {
            for name in names(header.text.as_deref().unwrap_or_default()) {
                out.push(Slot::Header { name });
            }
        }
    }
    if let Some(body) = component(definition, "BODY") {
        for name in names(body.text.as_deref().unwrap_or_default()) {
            out.push(Slot::Body { name });
        }
    }
    if let Some(buttons) = component(definition, "BUTTONS").and_then(|c| c.buttons.as_ref()) {
        for (index, button) in buttons.iter().enumerate() {
            if button.kind.eq_ignore_ascii_case("URL") {
                for name in names(button.url.as_deref().unwrap_or_default()) {
                    out.push(Slot::Button { index, name });
                }
            }
        }
    }
    out
}

/// The value a contact gives a binding before any fallback; empty when it has none.
pub fn source_value(source: &BindingSource, contact: &Contact) -> String {
    match source {
        BindingSource::FirstName => contact.first_name.clone(),
        BindingSource::LastName => contact.last_name.clone(),
        BindingSource::FullName => format!("{} {}", contact.first_name, contact.last_name)
            .trim()
            .to_string(),
        BindingSource::Phone => contact.phone.clone(),
        BindingSource::Attribute { name } => contact
            .attributes
            .get(name)
            .map(AttributeValue::display)
            .unwrap_or_default(),
        BindingSource::Fixed { value } => value.clone(),
    }
}

/// `value` as Meta accepts it in a parameter: newlines and tabs become spaces, runs of spaces
/// shrink to at most four, and the ends are trimmed.
pub fn clean(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut spaces = 0;
    for c in value.trim().chars() {
        let c = if c == '\n' || c == '\r' || c == '\t' {
            ' '
        } else {
            c
        };
        if c == ' ' {
            spaces += 1;
            if spaces > 4 {
                continue;
            }
        } else {
            spaces = 0;
        }
        out.push(c);
    }
    out
}

/// A recipient's value for every slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    /// Slot and its value, in [`slots`] order.
    pub values: Vec<(Slot, String)>,
}

/// Fills every slot of `slots` for `contact`. Empty values take the binding's fallback; a slot
/// left empty (or without a binding) is returned as the error, naming what is missing.
pub fn render(
    slots: &[Slot],
    bindings: &[VariableBinding],
    contact: &Contact,
) -> Result<Rendered, Slot> {
    let mut values = Vec::with_capacity(slots.len());
    for slot in slots {
        let binding = bindings.iter().find(|b| &b.slot == slot);
        let value = binding
            .map(|b| {
                let own = clean(&source_value(&b.source, contact));
                if own.is_empty() {
                    clean(&b.fallback)
                } else {
                    own
                }
            })
            .unwrap_or_default();
        if value.is_empty() {
            return Err(slot.clone());
        }
        values.push((slot.clone(), value));
    }
    Ok(Rendered { values })
}

fn text_parameter(name: &str, value: &str, named: bool) -> Parameter {
    Parameter::Text {
        text: value.to_string(),
        parameter_name: named.then(|| name.to_string()),
    }
}

/// The `template` object of the send carrying `rendered`.
pub fn template_message(definition: &TemplateDefinition, rendered: &Rendered) -> Template {
    let named = definition
        .parameter_format
        .as_deref()
        .is_some_and(|f| f.eq_ignore_ascii_case("NAMED"));
    let mut header = Vec::new();
    let mut body = Vec::new();
    let mut buttons: Vec<(usize, Parameter)> = Vec::new();
    for (slot, value) in &rendered.values {
        match slot {
            Slot::Header { name } => header.push(text_parameter(name, value, named)),
            Slot::Body { name } => body.push(text_parameter(name, value, named)),
            Slot::Button { index, .. } => buttons.push((
                *index,
                Parameter::Text {
                    text: value.clone(),
                    parameter_name: None,
                },
            )),
        }
    }
    let mut components = Vec::new();
    for (kind, parameters) in [("header", header), ("body", body)] {
        if !parameters.is_empty() {
            components.push(SendComponent {
                kind: kind.into(),
                sub_type: None,
                index: None,
                parameters,
            });
        }
    }
    for (index, parameter) in buttons {
        components.push(SendComponent {
            kind: "button".into(),
            sub_type: Some("url".into()),
            index: Some(index.to_string()),
            parameters: vec![parameter],
        });
    }
    Template {
        name: definition.name.clone(),
        language: TemplateLanguage {
            code: definition.language.clone(),
            policy: None,
        },
        components,
    }
}

/// The body as the recipient will read it, for previews.
pub fn body_text(definition: &TemplateDefinition, rendered: &Rendered) -> String {
    let text = component(definition, "BODY")
        .and_then(|c| c.text.as_deref())
        .unwrap_or_default();
    preview::fill(text, |name| {
        rendered.values.iter().find_map(|(slot, value)| match slot {
            Slot::Body { name: n } if n == name => Some(value.clone()),
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn definition(body: &str, named: bool) -> TemplateDefinition {
        serde_json::from_value(json!({
            "name": "order_update", "language": "en_US", "category": "UTILITY",
            "parameter_format": if named { "NAMED" } else { "POSITIONAL" },
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                {"type": "BODY", "text": body},
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "Stop"},
                    {"type": "URL", "text": "Track", "url": "https://shop.example/t/{{1}}"}
                ]}
            ]
        }))
        .unwrap()
    }

    fn contact() -> Contact {
        let mut c = Contact {
            phone: "+905321234567".into(),
            first_name: "Ayşe".into(),
            ..Contact::default()
        };
        c.attributes
            .insert("order".into(), AttributeValue::Text("A-17\n\tX".into()));
        c
    }

    fn bind(slot: Slot, source: BindingSource, fallback: &str) -> VariableBinding {
        VariableBinding {
            slot,
            source,
            fallback: fallback.into(),
        }
    }

    #[test]
    fn slots_cover_header_body_in_number_order_and_url_buttons() {
        let slots = slots(&definition("Hi {{2}} and {{1}}, again {{1}}", false));
        let labels: Vec<String> = slots.iter().map(Slot::label).collect();
        assert_eq!(
            labels,
            [
                "Header {{1}}",
                "Body {{1}}",
                "Body {{2}}",
                "Button 2 URL {{1}}"
            ]
        );
    }

    #[test]
    fn values_come_from_the_contact_then_the_fallback_and_are_cleaned() {
        let def = definition("Hi {{1}}, order {{2}} ships.", false);
        let slots = slots(&def);
        let body = |n: &str| Slot::Body { name: n.into() };
        let bindings = vec![
            bind(
                Slot::Header { name: "1".into() },
                BindingSource::Attribute {
                    name: "order".into(),
                },
                "",
            ),
            bind(body("1"), BindingSource::LastName, "friend"),
            bind(
                body("2"),
                BindingSource::Attribute {
                    name: "order".into(),
                },
                "",
            ),
            bind(
                Slot::Button {
                    index: 1,
                    name: "1".into(),
                },
                BindingSource::Fixed {
                    value: "abc".into(),
                },
                "",
            ),
        ];
        let rendered = render(&slots, &bindings, &contact()).unwrap();
        assert_eq!(
            body_text(&def, &rendered),
            "Hi friend, order A-17  X ships."
        );
        let message = template_message(&def, &rendered);
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["components"][0]["type"], "header");
        assert_eq!(json["components"][1]["parameters"][0]["text"], "friend");
        assert_eq!(json["components"][2]["sub_type"], "url");
        assert_eq!(json["components"][2]["index"], "1");
        assert_eq!(json["components"][2]["parameters"][0]["text"], "abc");
    }

    #[test]
    fn a_slot_without_value_or_fallback_is_reported_missing() {
        let def = definition("Hi {{1}}", false);
        let slots = slots(&def);
        let err = render(&slots, &[], &contact()).unwrap_err();
        assert_eq!(err, Slot::Header { name: "1".into() });
    }

    #[test]
    fn named_templates_send_parameter_names() {
        let def = definition("Hi {{first_name}}", true);
        let slots: Vec<Slot> = slots(&def)
            .into_iter()
            .filter(|s| matches!(s, Slot::Body { .. }))
            .collect();
        let bindings = vec![bind(slots[0].clone(), BindingSource::FirstName, "")];
        let rendered = render(&slots, &bindings, &contact()).unwrap();
        let json = serde_json::to_value(template_message(&def, &rendered)).unwrap();
        assert_eq!(
            json["components"][0]["parameters"][0]["parameter_name"],
            "first_name"
        );
        assert_eq!(json["components"][0]["parameters"][0]["text"], "Ayşe");
    }

    #[test]
    fn cleaning_keeps_four_spaces_and_drops_line_breaks() {
        assert_eq!(clean(" a\nb\t\tc       d "), "a b  c    d");
    }
}
