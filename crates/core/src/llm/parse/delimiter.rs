//! Repair of a corrupted tuple delimiter (LightRAG's `fix_tuple_delimiter_corruption`): the
//! same thirteen rewrites, in the same order, each a left-to-right, non-overlapping
//! substitution whose look-behinds see the text of that pass.

/// A matcher: given the text and a position, the end of a match starting there.
type Matcher<'a> = &'a dyn Fn(&[char], usize) -> Option<usize>;

/// Rewrites the corrupted forms of `delimiter` (whose core is `core`, `#` for `<|#|>`) to it:
/// `<|##|>`, `<|\#|>`, glued `<|>`/`<||>`, `<X|#|Y>`, `<#>`, `<|#>`, `<#|>`, `<X#|>`, `<|#X>`,
/// `<|#|` / `<|#||` (no `>`), `<|#:`, `<||#>`, glued `<||`, `|#|>`, `<|#|>|`, `||#||`.
pub fn fix_tuple_delimiter_corruption(record: &str, core: &str, delimiter: &str) -> String {
    if record.is_empty() || core.is_empty() || delimiter.is_empty() {
        return record.to_string();
    }
    let c: Vec<char> = core.chars().collect();
    let d: Vec<char> = delimiter.chars().collect();
    let cl = c.len();
    let at = |s: &[char], i: usize, p: &[char]| s.len() >= i + p.len() && s[i..i + p.len()] == *p;
    let at_str = |s: &[char], i: usize, p: &str| {
        p.chars()
            .enumerate()
            .all(|(k, ch)| s.get(i + k) == Some(&ch))
    };
    let is_ws = |s: &[char], i: usize| s.get(i).is_some_and(|ch| ch.is_whitespace());
    let not_ws = |s: &[char], i: usize| s.get(i).is_some_and(|ch| !ch.is_whitespace());
    let pipes = |s: &[char], mut i: usize| {
        let start = i;
        while s.get(i) == Some(&'|') {
            i += 1;
        }
        i - start
    };

    // <|C|*?C|>  (<|##|>, <|#||#|>)
    let r1 = |s: &[char], i: usize| {
        if !at_str(s, i, "<|") || !at(s, i + 2, &c) {
            return None;
        }
        let j = i + 2 + cl;
        (0..=pipes(s, j)).find_map(|p| {
            (at(s, j + p, &c) && at_str(s, j + p + cl, "|>")).then_some(j + p + cl + 2)
        })
    };
    // <|\C|>
    let r2 = |s: &[char], i: usize| {
        (at_str(s, i, "<|\\") && at(s, i + 3, &c) && at_str(s, i + 3 + cl, "|>"))
            .then_some(i + 5 + cl)
    };
    // (?<=\S)<\|+>(?=\S)
    let r3 = |s: &[char], i: usize| {
        if i == 0 || !not_ws(s, i - 1) || s.get(i) != Some(&'<') {
            return None;
        }
        let n = pipes(s, i + 1);
        (n > 0 && s.get(i + 1 + n) == Some(&'>') && not_ws(s, i + 2 + n)).then_some(i + 2 + n)
    };
    // <.?\|C\|.?>
    let r4 = |s: &[char], i: usize| {
        if s.get(i) != Some(&'<') {
            return None;
        }
        let from = |p: usize| -> Option<usize> {
            if !(s.get(p) == Some(&'|') && at(s, p + 1, &c) && s.get(p + 1 + cl) == Some(&'|')) {
                return None;
            }
            let q = p + 2 + cl;
            if s.get(q).is_some_and(|&x| x != '\n') && s.get(q + 1) == Some(&'>') {
                Some(q + 2)
            } else if s.get(q) == Some(&'>') {
                Some(q + 1)
            } else {
                None
            }
        };
        let one = if s.get(i + 1).is_some_and(|&x| x != '\n') {
            from(i + 2)
        } else {
            None
        };
        one.or_else(|| from(i + 1))
    };
    // <\|?C\|?>
    let r5 = |s: &[char], i: usize| {
        if s.get(i) != Some(&'<') {
            return None;
        }
        let leads: &[usize] = if s.get(i + 1) == Some(&'|') {
            &[1, 0]
        } else {
            &[0]
        };
        for &lead in leads {
            let p = i + 1 + lead;
            if !at(s, p, &c) {
                continue;
            }
            let q = p + cl;
            let trails: &[usize] = if s.get(q) == Some(&'|') {
                &[1, 0]
            } else {
                &[0]
            };
            for &t in trails {
                if s.get(q + t) == Some(&'>') {
                    return Some(q + t + 1);
                }
            }
        }
        None
    };
    // <[^|]C\|>|<\|C[^|]>
    let r6 = |s: &[char], i: usize| {
        if s.get(i) != Some(&'<') {
            return None;
        }
        if s.get(i + 1).is_some_and(|&x| x != '|')
            && at(s, i + 2, &c)
            && at_str(s, i + 2 + cl, "|>")
        {
            return Some(i + 4 + cl);
        }
        if s.get(i + 1) == Some(&'|')
            && at(s, i + 2, &c)
            && s.get(i + 2 + cl).is_some_and(|&x| x != '|')
            && s.get(i + 3 + cl) == Some(&'>')
        {
            return Some(i + 4 + cl);
        }
        None
    };
    // <\|C\|+(?!>)
    let r7 = |s: &[char], i: usize| {
        if !at_str(s, i, "<|") || !at(s, i + 2, &c) {
            return None;
        }
        let j = i + 2 + cl;
        let n = pipes(s, j);
        match (n, s.get(j + n)) {
            (0, _) => None,
            (_, Some('>')) if n >= 2 => Some(j + n - 1),
            (_, Some('>')) => None,
            _ => Some(j + n),
        }
    };
    // <\|C:(?!>)
    let r8 = |s: &[char], i: usize| {
        (at_str(s, i, "<|")
            && at(s, i + 2, &c)
            && s.get(i + 2 + cl) == Some(&':')
            && s.get(i + 3 + cl) != Some(&'>'))
        .then_some(i + 3 + cl)
    };
    // <\|+C>
    let r9 = |s: &[char], i: usize| {
        if s.get(i) != Some(&'<') {
            return None;
        }
        let n = pipes(s, i + 1);
        (1..=n).rev().find_map(|p| {
            (at(s, i + 1 + p, &c) && s.get(i + 1 + p + cl) == Some(&'>')).then_some(i + 2 + p + cl)
        })
    };
    // (?<=\S)<\|\|(?!>)
    let r10 = |s: &[char], i: usize| {
        (i > 0 && !is_ws(s, i - 1) && at_str(s, i, "<||") && s.get(i + 3) != Some(&'>'))
            .then_some(i + 3)
    };
    // (?<!<)\|C\|>
    let r11 = |s: &[char], i: usize| {
        ((i == 0 || s[i - 1] != '<')
            && s.get(i) == Some(&'|')
            && at(s, i + 1, &c)
            && at_str(s, i + 1 + cl, "|>"))
        .then_some(i + 3 + cl)
    };
    // <\|C\|>\|
    let r12 = |s: &[char], i: usize| {
        (at_str(s, i, "<|") && at(s, i + 2, &c) && at_str(s, i + 2 + cl, "|>|"))
            .then_some(i + 5 + cl)
    };
    // \|\|C\|\|
    let r13 = |s: &[char], i: usize| {
        (at_str(s, i, "||") && at(s, i + 2, &c) && at_str(s, i + 2 + cl, "||"))
            .then_some(i + 4 + cl)
    };

    let rules: [Matcher; 13] = [
        &r1, &r2, &r3, &r4, &r5, &r6, &r7, &r8, &r9, &r10, &r11, &r12, &r13,
    ];
    let mut s: Vec<char> = record.chars().collect();
    for rule in rules {
        s = substitute(&s, &d, rule);
    }
    s.into_iter().collect()
}

/// Replaces every match of `m` (scanning left to right, no overlaps) with `with`.
fn substitute(s: &[char], with: &[char], m: Matcher) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match m(s, i) {
            Some(end) if end > i => {
                out.extend_from_slice(with);
                i = end;
            }
            _ => {
                out.push(s[i]);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(s: &str) -> String {
        fix_tuple_delimiter_corruption(s, "#", "<|#|>")
    }

    #[test]
    fn variants_are_repaired() {
        for v in [
            "<|##|>", "<|\\#|>", "<|>", "<||>", "<X|#|>", "<|#|Y>", "<#>", "<|#>", "<#|>", "<|#|",
            "<|#||", "<|#:", "<||#>", "<||", "|#|>", "<|#|>|", "||#||", "<|#||#|>", "<X#|>",
            "<|#X>", "<||#||>",
        ] {
            assert_eq!(fix(&format!("A{v}B")), "A<|#|>B", "{v}");
        }
    }

    #[test]
    fn free_text_is_left_alone() {
        assert_eq!(fix("a <|> b"), "a <|> b");
        assert_eq!(fix("x <|| y"), "x <|| y");
        assert_eq!(fix("entity<|#|>A<|#|>B"), "entity<|#|>A<|#|>B");
        assert_eq!(fix("C# and F#"), "C# and F#");
    }
}
