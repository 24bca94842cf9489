//! Text as people search it: case and accents do not matter ("ayse" finds "Ayşe", "munchen"
//! finds "München"). One rule for every search box, in the browser and on the server.

/// `text` lowercased with the diacritics of Latin letters removed, so two spellings of a name
/// compare equal. Letters outside the table are kept (lowercased) as they are.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match base_letter(c) {
            Some(base) => out.push_str(base),
            // A combining mark (decomposed input) adds nothing to the base letter.
            None if ('\u{300}'..='\u{36f}').contains(&c) => {}
            None => out.push(c),
        }
    }
    out
}

/// Whether `haystack` contains `needle`, both folded.
pub fn contains_folded(haystack: &str, needle_folded: &str) -> bool {
    needle_folded.is_empty() || fold(haystack).contains(needle_folded)
}

/// The longest word a search index keeps (in bytes); longer words are found by their start.
pub const WORD_BYTES: usize = 40;

/// The words of `text` as searches see them: folded, split at anything that is not a letter or
/// a digit, each at most [`WORD_BYTES`] long, without repeats, in order of first appearance.
/// A search finds a word by its beginning, so "ship" finds "shipped" but "hipped" does not —
/// the same rule for the index that answers on the server and for anything checked in the
/// browser.
pub fn words(text: &str) -> Vec<String> {
    let folded = fold(text);
    let mut out: Vec<String> = Vec::new();
    for word in folded.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        let mut end = word.len().min(WORD_BYTES);
        while !word.is_char_boundary(end) {
            end -= 1;
        }
        let word = &word[..end];
        if !out.iter().any(|w| w == word) {
            out.push(word.to_string());
        }
    }
    out
}

/// Whether every word of the (folded) query `wanted` begins one of `words`.
pub fn begins_words(words: &[String], wanted: &[String]) -> bool {
    wanted
        .iter()
        .all(|w| words.iter().any(|have| have.starts_with(w.as_str())))
}

fn base_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_without_their_accents_or_case() {
        assert_eq!(fold("Ayşe Yılmaz"), "ayse yilmaz");
        assert_eq!(fold("İstanbul"), "istanbul");
        assert_eq!(fold("MÜNCHEN Straße"), "munchen strasse");
        assert_eq!(fold("Zoë"), "zoe");
        // Decomposed input: e + combining acute.
        assert_eq!(fold("Re\u{301}my"), "remy");
        assert!(contains_folded("Çağla Öztürk", &fold("cagla oz")));
        assert!(!contains_folded("Çağla", &fold("ayse")));
        assert_eq!(fold("Иван"), "иван", "other scripts are only lowercased");
    }

    #[test]
    fn words_are_folded_split_at_punctuation_and_found_by_their_start() {
        assert_eq!(
            words("Is my order #A-12 shipped? Shipped, Ayşe!"),
            ["is", "my", "order", "a", "12", "shipped", "ayse"]
        );
        let long = "x".repeat(100);
        assert_eq!(words(&long)[0].len(), WORD_BYTES);
        assert_eq!(
            words("中".repeat(20).as_str())[0].len(),
            39,
            "cut at a character"
        );
        let have = words("Is my order shipped?");
        assert!(begins_words(&have, &words("ORD ship")));
        assert!(begins_words(&have, &words("shipped order")), "any order");
        assert!(!begins_words(&have, &words("hipped")));
        assert!(!begins_words(&have, &words("order refund")));
    }
}
