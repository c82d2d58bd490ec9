//! Character references: `&name;` (the named entities text commonly uses), `&#NN;`, `&#xHH;`.
//! Shared with the XML of the Office formats.

/// Decodes `&name;`, `&#NN;` and `&#xHH;`; unknown references stay as written.
pub(crate) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.bytes().take(32).position(|b| b == b';');
        let decoded = semi.and_then(|end| decode_reference(&after[..end]).map(|d| (d, end)));
        match decoded {
            Some((text, end)) => {
                out.push_str(&text);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_reference(name: &str) -> Option<String> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        let c = match code {
            0 => '\u{fffd}',
            // Windows-1252 numeric references, as browsers read them.
            0x80..=0x9f => {
                let byte = [code as u8];
                return Some(
                    encoding_rs::WINDOWS_1252
                        .decode_without_bom_handling(&byte)
                        .0
                        .into_owned(),
                );
            }
            _ => char::from_u32(code).unwrap_or('\u{fffd}'),
        };
        return Some(c.to_string());
    }
    let c = match name {
        "amp" | "AMP" => "&",
        "lt" | "LT" => "<",
        "gt" | "GT" => ">",
        "quot" | "QUOT" => "\"",
        "apos" => "'",
        "nbsp" => "\u{a0}",
        "shy" | "zwnj" | "zwj" | "lrm" | "rlm" => "",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "hellip" => "…",
        "mdash" => "—",
        "ndash" => "–",
        "lsquo" => "‘",
        "rsquo" => "’",
        "sbquo" => "‚",
        "ldquo" => "“",
        "rdquo" => "”",
        "bdquo" => "„",
        "laquo" => "«",
        "raquo" => "»",
        "bull" => "•",
        "middot" => "·",
        "deg" => "°",
        "euro" => "€",
        "pound" => "£",
        "yen" => "¥",
        "cent" => "¢",
        "sect" => "§",
        "para" => "¶",
        "times" => "×",
        "divide" => "÷",
        "plusmn" => "±",
        "minus" => "−",
        "frac12" => "½",
        "frac14" => "¼",
        "frac34" => "¾",
        "micro" => "µ",
        "larr" => "←",
        "rarr" => "→",
        "uarr" => "↑",
        "darr" => "↓",
        "harr" => "↔",
        "le" => "≤",
        "ge" => "≥",
        "ne" => "≠",
        "asymp" => "≈",
        "infin" => "∞",
        "iexcl" => "¡",
        "iquest" => "¿",
        "szlig" => "ß",
        "aelig" => "æ",
        "AElig" => "Æ",
        "oelig" => "œ",
        "OElig" => "Œ",
        "thinsp" | "ensp" | "emsp" => " ",
        "dagger" => "†",
        "Dagger" => "‡",
        "permil" => "‰",
        "prime" => "′",
        "Prime" => "″",
        "alpha" => "α",
        "beta" => "β",
        "gamma" => "γ",
        "delta" => "δ",
        "pi" => "π",
        "sigma" => "σ",
        "omega" => "ω",
        "Omega" => "Ω",
        "mu" => "μ",
        "lambda" => "λ",
        _ => return latin1_letter(name),
    };
    Some(c.to_string())
}

/// Accented Latin letters such as `eacute`, `Ouml`, `ccedil`, `aring`, `ntilde`, `oslash`.
fn latin1_letter(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let base = chars.next()?;
    let accent = chars.as_str();
    let table: &[(char, &str)] = match accent {
        "acute" => &[
            ('a', "á"),
            ('e', "é"),
            ('i', "í"),
            ('o', "ó"),
            ('u', "ú"),
            ('y', "ý"),
            ('A', "Á"),
            ('E', "É"),
            ('I', "Í"),
            ('O', "Ó"),
            ('U', "Ú"),
            ('Y', "Ý"),
        ],
        "grave" => &[
            ('a', "à"),
            ('e', "è"),
            ('i', "ì"),
            ('o', "ò"),
            ('u', "ù"),
            ('A', "À"),
            ('E', "È"),
            ('I', "Ì"),
            ('O', "Ò"),
            ('U', "Ù"),
        ],
        "circ" => &[
            ('a', "â"),
            ('e', "ê"),
            ('i', "î"),
            ('o', "ô"),
            ('u', "û"),
            ('A', "Â"),
            ('E', "Ê"),
            ('I', "Î"),
            ('O', "Ô"),
            ('U', "Û"),
        ],
        "uml" => &[
            ('a', "ä"),
            ('e', "ë"),
            ('i', "ï"),
            ('o', "ö"),
            ('u', "ü"),
            ('y', "ÿ"),
            ('A', "Ä"),
            ('E', "Ë"),
            ('I', "Ï"),
            ('O', "Ö"),
            ('U', "Ü"),
        ],
        "tilde" => &[
            ('a', "ã"),
            ('n', "ñ"),
            ('o', "õ"),
            ('A', "Ã"),
            ('N', "Ñ"),
            ('O', "Õ"),
        ],
        "cedil" => &[('c', "ç"), ('C', "Ç")],
        "ring" => &[('a', "å"), ('A', "Å")],
        "slash" => &[('o', "ø"), ('O', "Ø")],
        _ => &[],
    };
    table
        .iter()
        .find(|(b, _)| *b == base)
        .map(|(_, s)| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::decode_entities;

    #[test]
    fn named_numeric_and_unknown_references() {
        assert_eq!(
            decode_entities("caf&eacute; &AElig;&oelig; &#233;&#x1F600;&#150; &bogus; &amp"),
            "café Æœ é😀– &bogus; &amp"
        );
        assert_eq!(decode_entities("&Ntilde;&ccedil;&oslash;&Aring;"), "ÑçøÅ");
        assert_eq!(decode_entities("&aelig;x"), "æx");
        assert_eq!(
            decode_entities("&elig;&lig;&zacute;"),
            "&elig;&lig;&zacute;"
        );
    }
}
