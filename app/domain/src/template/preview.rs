//! What a template looks like on the phone: placeholders filled with their examples and
//! WhatsApp's formatting (`*bold*`, `_italic_`, `~strike~`, ```` ```mono``` ````) turned into styled
//! runs, so the editor's chat bubble shows what the recipient will see.

use serde::{Deserialize, Serialize};

use super::placeholders::find;

/// A run of text with one style.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// The characters.
    pub text: String,
    /// `*bold*`.
    pub bold: bool,
    /// `_italic_`.
    pub italic: bool,
    /// `~strike~`.
    pub strike: bool,
    /// ```` ```mono``` ````.
    pub mono: bool,
}

/// `text` with each placeholder replaced by `value(name)`, or left as `{{name}}` when it has none.
pub fn fill(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for p in find(text) {
        out.push_str(&text[from..p.start]);
        match value(&p.name).filter(|v| !v.is_empty()) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&text[p.start..p.end]),
        }
        from = p.end;
    }
    out.push_str(&text[from..]);
    out
}

/// The styled runs of `text`, line by line. A marker only styles when it is closed later on the
/// same line, as WhatsApp does; otherwise it is shown as typed.
pub fn format(text: &str) -> Vec<Vec<Run>> {
    text.split('\n').map(format_line).collect()
}

fn format_line(line: &str) -> Vec<Run> {
    let chars: Vec<char> = line.chars().collect();
    let mut runs: Vec<Run> = Vec::new();
    let mut style = Run::default();
    let mut current = String::new();
    let mut i = 0;
    let flush = |runs: &mut Vec<Run>, current: &mut String, style: &Run| {
        if !current.is_empty() {
            runs.push(Run {
                text: std::mem::take(current),
                ..style.clone()
            });
        }
    };
    while i < chars.len() {
        if chars[i..].starts_with(&['`', '`', '`']) {
            let closes = style.mono || contains_from(&chars, i + 3, &['`', '`', '`']);
            if closes {
                flush(&mut runs, &mut current, &style);
                style.mono = !style.mono;
                i += 3;
                continue;
            }
        }
        let c = chars[i];
        if !style.mono && matches!(c, '*' | '_' | '~') {
            let open = match c {
                '*' => style.bold,
                '_' => style.italic,
                _ => style.strike,
            };
            let toggles = open
                || (chars.get(i + 1).is_some_and(|n| !n.is_whitespace())
                    && contains_from(&chars, i + 2, &[c]));
            if toggles {
                flush(&mut runs, &mut current, &style);
                match c {
                    '*' => style.bold = !style.bold,
                    '_' => style.italic = !style.italic,
                    _ => style.strike = !style.strike,
                }
                i += 1;
                continue;
            }
        }
        current.push(c);
        i += 1;
    }
    flush(&mut runs, &mut current, &style);
    runs
}

fn contains_from(chars: &[char], from: usize, needle: &[char]) -> bool {
    from <= chars.len() && chars[from..].windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Run {
        Run {
            text: text.into(),
            ..Run::default()
        }
    }

    #[test]
    fn placeholders_take_their_examples_or_stay_visible() {
        let examples = |name: &str| (name == "1").then(|| "Pablo".to_string());
        assert_eq!(
            fill("Hi {{1}}, order {{2}}", examples),
            "Hi Pablo, order {{2}}"
        );
    }

    #[test]
    fn whatsapp_markers_style_closed_runs_only() {
        let runs = format("Get *25% off* _today_ ~only~ ```CODE```");
        let styled: Vec<(&str, bool, bool, bool, bool)> = runs[0]
            .iter()
            .map(|r| (r.text.as_str(), r.bold, r.italic, r.strike, r.mono))
            .collect();
        assert_eq!(
            styled,
            [
                ("Get ", false, false, false, false),
                ("25% off", true, false, false, false),
                (" ", false, false, false, false),
                ("today", false, true, false, false),
                (" ", false, false, false, false),
                ("only", false, false, true, false),
                (" ", false, false, false, false),
                ("CODE", false, false, false, true),
            ]
        );
        assert_eq!(format("2 * 3 = 6"), vec![vec![plain("2 * 3 = 6")]]);
        assert_eq!(format("a\nb").len(), 2);
    }
}
