//! Quoting for a POSIX shell, for every command line gflab builds (`/bin/sh -c` on a node, ssh's
//! remote command on a host).

/// Whether `c` needs no quoting anywhere in a word.
fn is_safe(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '@' | '%' | '+' | '=' | ':' | ',' | '.' | '/' | '_' | '-')
}

/// Quotes one word so that a POSIX shell reads it back as exactly that word.
///
/// A word made only of `[A-Za-z0-9@%+=:,./_-]` stays as it is; the empty word becomes `''`; anything
/// else is single-quoted, each `'` written as `'\''`.
///
/// ```
/// use gflab_agent::shell::quote;
///
/// assert_eq!(quote("/mnt/vol-1"), "/mnt/vol-1");
/// assert_eq!(quote("a b"), "'a b'");
/// assert_eq!(quote("it's"), r"'it'\''s'");
/// assert_eq!(quote(""), "''");
/// ```
pub fn quote(word: &str) -> String {
    if !word.is_empty() && word.chars().all(is_safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::quote;
    use proptest::prelude::*;

    /// What `sh` makes of the quoted word.
    fn through_sh(word: &str) -> String {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", quote(word)))
            .output()
            .expect("failed to run sh");
        assert!(out.status.success(), "sh failed on {:?}", quote(word));
        String::from_utf8(out.stdout).expect("sh printed invalid UTF-8")
    }

    #[test]
    fn safe_words_stay_as_they_are() {
        for word in ["glusterd", "0.0.0.0:7070", "/mnt/x-1", "a=b,c+d@e%f_g"] {
            assert_eq!(quote(word), word);
        }
    }

    #[test]
    fn other_words_are_single_quoted() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("glusterd=glusterd -N"), "'glusterd=glusterd -N'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("'"), r"''\'''");
        assert_eq!(quote("~root"), "'~root'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote("é"), "'é'");
    }

    #[test]
    fn shell_reads_back_the_word() {
        for word in [
            "",
            "a b'c\"$HOME`x`",
            "*",
            "\\",
            "x\ny",
            "'",
            "-n",
            "!x",
            "a;b|c&d",
        ] {
            assert_eq!(through_sh(word), word);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_word_survives_the_shell(word in "[^\u{0}]{0,24}") {
            prop_assert_eq!(through_sh(&word), word);
        }
    }
}
