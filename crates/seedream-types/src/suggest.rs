//! "Did you mean …?": the known name nearest to a misspelt one. Used for request fields (by
//! [`check`](crate::check)) and for model names (by the command line), so both suggest alike.

/// The edits between `a` and `b`: insertions, deletions, substitutions and swaps of two neighbours
/// (`promt` → `prompt` is one, `modle` → `model` is one), ignoring case.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    // Three rows of the optimal-string-alignment table: two back (for swaps), one back, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut last: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut last);
        std::mem::swap(&mut last, &mut row);
    }
    last[b.len()]
}

/// The edits a name of this length may be away from a known one and still be taken for a typo: none
/// for one or two letters (anything is near `n`), one up to five letters, else two.
pub fn typo_edits(name: &str) -> usize {
    match name.chars().count() {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    }
}

/// The entry of `known` nearest to `name`, when it is at most [`typo_edits`] away and not `name`
/// itself (the first of equally near ones).
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let most = typo_edits(name);
    known
        .into_iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(edits, _)| (1..=most).contains(edits))
        .min_by_key(|(edits, _)| *edits)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_a_gap_and_a_wrong_letter_are_one_edit_each() {
        assert_eq!(edit_distance("promt", "prompt"), 1);
        assert_eq!(edit_distance("modle", "model"), 1);
        assert_eq!(edit_distance("sise", "size"), 1);
        assert_eq!(edit_distance("Seed", "seed"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("watermrak", "watermark"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn only_near_names_are_suggested() {
        let known = ["prompt", "model", "size", "seed", "n"];
        assert_eq!(closest("promt", known), Some("prompt"));
        assert_eq!(closest("siez", known), Some("size"));
        assert_eq!(closest("x", known), None, "one letter is near everything short");
        assert_eq!(closest("prompt", known), None, "a known name is no typo");
        assert_eq!(closest("negative_prompt", known), None);
    }
}
