//! The media library's addresses: `{public_base}/media/{hash}.{ext}` for an original and
//! `{public_base}/media/{hash}/{width}.webp` for a variant, named by the SHA-256 of the
//! bytes, so they never change at an address. Spelling them and reading them back live
//! here, for the API (which writes them into answers and HTML) and the `/media` route.

use super::{MediaType, store};

/// How the media library's addresses are spelt: `{public_base}/media/...`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    /// Prefix of public addresses (empty: paths on this server).
    pub public_base: String,
}

impl Addresses {
    /// The address of an original upload: `{public_base}/media/{hash}.{extension}`, with
    /// `query` (a signature) when given.
    pub fn url(&self, content_hash: &str, extension: &str, query: Option<&str>) -> String {
        self.address(&format!("{content_hash}.{extension}"), query)
    }

    /// The address of a variant: `{public_base}/media/{hash}/{width}.webp`.
    pub fn variant_url(&self, content_hash: &str, width: u32, query: Option<&str>) -> String {
        self.address(&format!("{content_hash}/{width}.webp"), query)
    }

    fn address(&self, path: &str, query: Option<&str>) -> String {
        let base = &self.public_base;
        match query {
            Some(query) => format!("{base}/media/{path}?{query}"),
            None => format!("{base}/media/{path}"),
        }
    }

    /// `html` with `sign(object name)` appended as the query of every media address in
    /// it (an editor's view of a draft, whose items the public may not fetch yet).
    pub fn sign_all(&self, html: &str, sign: impl Fn(&str) -> String) -> String {
        let prefix = format!("{}/media/", self.public_base);
        let mut signed = String::with_capacity(html.len() + html.len() / 4);
        let mut rest = html;
        while let Some(at) = rest.find(&prefix) {
            let start = at + prefix.len();
            let path_len = rest[start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '/'))
                .unwrap_or(rest.len() - start);
            let end = start + path_len;
            signed.push_str(&rest[..end]);
            let already = rest[end..].starts_with('?');
            if let Some(object) = MediaObject::parse(&rest[start..end]).filter(|_| !already) {
                signed.push('?');
                signed.push_str(&sign(&object.name));
            }
            rest = &rest[end..];
        }
        signed.push_str(rest);
        signed
    }
}

/// A stored object an address names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaObject {
    /// The hash of the original's bytes (who may see them is decided by it).
    pub hash: String,
    /// The object's name in the store.
    pub name: String,
    /// Its entity tag, unquoted: the hash, and the width for a variant.
    pub tag: String,
    /// Its media type.
    pub mime: &'static str,
}

impl MediaObject {
    /// The object that `path` (what follows `/media/`) names, if it names one the
    /// library could hold.
    pub fn parse(path: &str) -> Option<Self> {
        match path.split_once('/') {
            None => {
                let (hash, extension) = path.split_once('.')?;
                let media_type = MediaType::from_extension(extension).filter(|_| is_hash(hash))?;
                Some(Self {
                    hash: hash.to_owned(),
                    name: store::original(hash, media_type.extension()),
                    tag: hash.to_owned(),
                    mime: media_type.mime(),
                })
            }
            Some((hash, file)) => {
                let width = parse_variant(file).filter(|_| is_hash(hash))?;
                Some(Self {
                    hash: hash.to_owned(),
                    name: store::variant(hash, width),
                    tag: format!("{hash}-{width}w"),
                    mime: "image/webp",
                })
            }
        }
    }
}

/// Whether `text` is a SHA-256 in lowercase hex.
fn is_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The width a variant's file name (`{width}.webp`) names.
fn parse_variant(file: &str) -> Option<u32> {
    let width = file.strip_suffix(".webp")?;
    (!width.is_empty() && width.len() <= 5 && width.bytes().all(|b| b.is_ascii_digit()))
        .then(|| width.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::{Addresses, MediaObject};

    #[test]
    fn only_hash_names_of_known_types_are_addresses() {
        let hash = "a".repeat(64);
        let png = MediaObject::parse(&format!("{hash}.png")).expect("an original");
        assert_eq!(png.name, format!("originals/{hash}.png"));
        assert_eq!(png.mime, "image/png");
        let variant = MediaObject::parse(&format!("{hash}/640.webp")).expect("a variant");
        assert_eq!(variant.name, format!("variants/{hash}/640.webp"));
        assert_eq!(variant.tag, format!("{hash}-640w"));
        for bad in [
            format!("{hash}.svg"),
            format!("{}.png", "A".repeat(64)),
            "../../etc/passwd".to_owned(),
            format!("{hash}.png.png"),
            format!("{hash}/640.png"),
            format!("{hash}/.webp"),
            format!("{hash}/-1.webp"),
            format!("{hash}/99999999.webp"),
            format!("{hash}/6a.webp"),
            format!("{hash}/a/640.webp"),
        ] {
            assert_eq!(MediaObject::parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn every_media_address_in_html_is_signed_once() {
        let hash = "b".repeat(64);
        let addresses = Addresses {
            public_base: "https://cdn.example".into(),
        };
        let html = format!(
            "<img src=\"https://cdn.example/media/{hash}.jpg\" srcset=\"https://cdn.example/media/{hash}/320.webp 320w\"> <a href=\"/media/{hash}.jpg\">x</a> https://cdn.example/media/{hash}.jpg?already"
        );
        let signed = addresses.sign_all(&html, |name| format!("s={}", name.len()));
        assert_eq!(
            signed,
            format!(
                "<img src=\"https://cdn.example/media/{hash}.jpg?s=78\" srcset=\"https://cdn.example/media/{hash}/320.webp?s=82 320w\"> <a href=\"/media/{hash}.jpg\">x</a> https://cdn.example/media/{hash}.jpg?already"
            )
        );
    }
}
