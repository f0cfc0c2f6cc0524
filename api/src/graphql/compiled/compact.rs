//! JSON text without the whitespace between its tokens. PostgreSQL gives a `json` column
//! back as the text it was stored as (Dermis stores it compact, but another tool writing
//! the database may not), and a `jsonb` value with spaces (`["a", "b"]`); the general
//! executor's answers are compact, and the two paths must give the same bytes (one content,
//! one `ETag`).

/// `json` with the whitespace outside its strings removed. The input must be valid JSON
/// (it comes from the database's JSON functions); strings, escapes included, are kept
/// byte for byte.
pub fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\n' | '\r' | '\t') {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn removes_whitespace_between_tokens_only() {
        let postgres = "{\"a b\" : \"x \\\" y\\\\\", \"c\" : [{\"d\" : null}, \n {\"d\" : 1}]}";
        let compacted = compact(postgres);
        assert_eq!(
            compacted,
            "{\"a b\":\"x \\\" y\\\\\",\"c\":[{\"d\":null},{\"d\":1}]}"
        );
        let value: serde_json::Value = serde_json::from_str(postgres).expect("valid");
        assert_eq!(
            compacted,
            serde_json::to_string(&value).expect("serialises")
        );
    }
}
