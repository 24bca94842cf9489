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
}
