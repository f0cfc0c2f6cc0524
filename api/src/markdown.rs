//! Markdown to sanitized HTML (pulldown-cmark renders, ammonia removes anything executable).

use std::borrow::Cow;

use pulldown_cmark::{Options, Parser, html};

/// The HTML stored with a document when it was written, or `markdown` rendered now for a
/// row that has none yet (written before the HTML was stored, or imported).
pub fn stored_or_rendered<'a>(stored: Option<&'a str>, markdown: &str) -> Cow<'a, str> {
    match stored {
        Some(html) => Cow::Borrowed(html),
        None => Cow::Owned(to_safe_html(markdown)),
    }
}

/// Renders Markdown to HTML that is safe to insert into a page: no script, no event
/// handlers, no `javascript:` links; links get `rel="noopener noreferrer"`.
pub fn to_safe_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_SMART_PUNCTUATION;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::clean(&unsafe_html)
}

#[cfg(test)]
mod tests {
    use super::to_safe_html;

    #[test]
    fn renders_markdown() {
        assert_eq!(to_safe_html("*hi*").trim(), "<p><em>hi</em></p>");
    }

    #[test]
    fn strips_script_and_handlers() {
        let html = to_safe_html(
            "a <script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
    }
}
