//! Markdown to sanitized HTML (pulldown-cmark renders, ammonia removes anything executable).
//!
//! Markdown names a media item of the library as `media:ID`: `![alt](media:12)` shows an
//! image (with its pixel size, its responsive variants and alt text; the item's own alt text
//! when the Markdown gives none) and `[text](media:12)` links to a file. The caller looks the
//! items up ([`media_ids`]) and passes them as [`Embed`]s; an item it does not pass renders
//! as its text alone.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// How a media item named in Markdown renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    /// The address of the original.
    pub src: String,
    /// Pixel width and height, for images; files have none and render as links.
    pub size: Option<(u32, u32)>,
    /// The `srcset` value of the image's variants (may be empty).
    pub srcset: String,
    /// The item's alt text, used where the Markdown's is empty.
    pub alt: String,
}

/// The scheme that names a media item in Markdown.
const SCHEME: &str = "media:";

/// The sanitizer: ammonia's defaults, plus the attributes that make a responsive image
/// (`srcset` and `sizes`, `loading` and `decoding`). None of them can run script.
static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder.add_tag_attributes("img", ["srcset", "sizes", "loading", "decoding"]);
    builder
});

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_SMART_PUNCTUATION
}

/// The HTML stored with a document when it was written, or `markdown` rendered now for a
/// row that has none yet (written before the HTML was stored, or imported).
pub fn stored_or_rendered<'a>(stored: Option<&'a str>, markdown: &str) -> Cow<'a, str> {
    match stored {
        Some(html) => Cow::Borrowed(html),
        None => Cow::Owned(to_safe_html(markdown)),
    }
}

/// Renders Markdown to HTML that is safe to insert into a page: no script, no event
/// handlers, no `javascript:` links; links get `rel="noopener noreferrer"`. Media items
/// render as their text alone ([`render`] shows them).
pub fn to_safe_html(markdown: &str) -> String {
    render(markdown, &HashMap::new())
}

/// The ids of the media items `markdown` names (`media:ID` as an image or link address).
pub fn media_ids(markdown: &str) -> BTreeSet<i32> {
    Parser::new_ext(markdown, options())
        .filter_map(|event| match event {
            Event::Start(Tag::Image { dest_url, .. } | Tag::Link { dest_url, .. }) => {
                media_id(&dest_url)
            }
            _ => None,
        })
        .collect()
}

/// The item id of a `media:ID` address.
fn media_id(url: &str) -> Option<i32> {
    let id = url.strip_prefix(SCHEME)?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok().filter(|id| *id > 0)
}

/// Renders like [`to_safe_html`], showing the media items of `embeds` where the Markdown
/// names them.
pub fn render(markdown: &str, embeds: &HashMap<i32, Embed>) -> String {
    let mut events = Parser::new_ext(markdown, options());
    let mut out: Vec<Event<'_>> = Vec::new();
    // Inside a link to an item that is not shown: its end is dropped with its start.
    let mut dropped_link = false;
    while let Some(event) = events.next() {
        match event {
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) if media_id(&dest_url).is_some() => {
                let alt = plain_text(&mut events);
                let embed = media_id(&dest_url).and_then(|id| embeds.get(&id));
                out.push(match embed {
                    Some(embed) => Event::InlineHtml(image(embed, &alt, &title).into()),
                    None => Event::Text(alt.into()),
                });
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) if media_id(&dest_url).is_some() => {
                match media_id(&dest_url).and_then(|id| embeds.get(&id)) {
                    Some(embed) => out.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url: CowStr::from(embed.src.clone()),
                        title,
                        id,
                    })),
                    None => dropped_link = true,
                }
            }
            Event::End(TagEnd::Link) if dropped_link => dropped_link = false,
            other => out.push(other),
        }
    }
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, out.into_iter());
    CLEANER.clean(&unsafe_html).to_string()
}

/// The text of an image's description up to its end (as pulldown-cmark's own renderer
/// writes alt text: the words, without markup).
fn plain_text<'a>(events: &mut impl Iterator<Item = Event<'a>>) -> String {
    let mut text = String::new();
    let mut depth = 0usize;
    for event in events {
        match event {
            Event::Start(_) => depth += 1,
            Event::End(TagEnd::Image) if depth == 0 => break,
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                text.push_str(&t);
            }
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text
}

/// An item as an `<img>` (an image) or a link (a file).
fn image(embed: &Embed, alt: &str, title: &str) -> String {
    let alt = if alt.trim().is_empty() {
        embed.alt.as_str()
    } else {
        alt
    };
    let title = if title.is_empty() {
        String::new()
    } else {
        format!(" title=\"{}\"", escape(title))
    };
    let Some((width, height)) = embed.size else {
        let text = if alt.is_empty() { "file" } else { alt };
        return format!(
            "<a href=\"{}\"{title}>{}</a>",
            escape(&embed.src),
            escape(text)
        );
    };
    let srcset = if embed.srcset.is_empty() {
        String::new()
    } else {
        format!(
            " srcset=\"{}\" sizes=\"(max-width: {width}px) 100vw, {width}px\"",
            escape(&embed.srcset)
        )
    };
    format!(
        "<img src=\"{}\" width=\"{width}\" height=\"{height}\"{srcset} alt=\"{}\"{title} loading=\"lazy\" decoding=\"async\">",
        escape(&embed.src),
        escape(alt)
    )
}

/// `text` escaped for an HTML attribute or text.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{Embed, media_ids, render, to_safe_html};

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

    fn photo() -> Embed {
        Embed {
            src: "/media/ab.jpg".into(),
            size: Some((800, 600)),
            srcset: "/media/ab/320.webp 320w, /media/ab/640.webp 640w".into(),
            alt: "Needles \"close up\"".into(),
        }
    }

    #[test]
    fn names_the_media_items_of_images_and_links() {
        let ids = media_ids("![a](media:3) [b](media:12) ![c](media:x) [d](https://e/media:4)");
        assert_eq!(ids.into_iter().collect::<Vec<_>>(), [3, 12]);
    }

    #[test]
    fn an_image_item_renders_with_size_variants_and_alt() {
        let embeds = HashMap::from([(3, photo())]);
        let html = render("![](media:3) and ![A *pen*](media:3 \"t\")", &embeds);
        assert!(
            html.contains(
                "<img src=\"/media/ab.jpg\" width=\"800\" height=\"600\" srcset=\"/media/ab/320.webp 320w, /media/ab/640.webp 640w\" sizes=\"(max-width: 800px) 100vw, 800px\" alt=\"Needles &quot;close up&quot;\" loading=\"lazy\" decoding=\"async\">"
            ),
            "{html}"
        );
        assert!(html.contains("alt=\"A pen\" title=\"t\""), "{html}");
    }

    #[test]
    fn a_file_renders_as_a_link_and_a_missing_item_as_its_text() {
        let file = Embed {
            src: "/media/cd.pdf".into(),
            size: None,
            srcset: String::new(),
            alt: String::new(),
        };
        let embeds = HashMap::from([(5, file)]);
        let html = render(
            "[the leaflet](media:5), ![gone](media:6), [lost](media:7)",
            &embeds,
        );
        assert!(
            html.contains("<a href=\"/media/cd.pdf\" rel=\"noopener noreferrer\">the leaflet</a>"),
            "{html}"
        );
        assert!(html.contains(", gone, lost"), "{html}");
        assert!(!html.contains("media:"), "{html}");
    }

    #[test]
    fn an_item_cannot_smuggle_markup_through_its_alt_text() {
        let mut embed = photo();
        embed.alt = "\"><script>alert(1)</script>".into();
        let html = render("![](media:1)", &HashMap::from([(1, embed)]));
        assert!(!html.contains("<script"), "{html}");
    }
}
