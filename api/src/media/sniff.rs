//! What an upload is, judged from its first bytes (never from its name or the type the
//! client declared): the accepted types and their spellings live here, once.

use super::MediaError;

/// An accepted type of upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// JPEG photo.
    Jpeg,
    /// PNG image.
    Png,
    /// WebP image.
    Webp,
    /// GIF image, animated or not.
    Gif,
    /// AVIF image: accepted, and kept as WebP (see [`MediaType::kept_as`]).
    Avif,
    /// PDF document (served as uploaded: it is not an image).
    Pdf,
}

/// What editors are told the library accepts.
const ACCEPTED: &str = "JPEG, PNG, WebP, AVIF, GIF or PDF";

impl MediaType {
    /// Every accepted type.
    pub const ALL: [Self; 6] = [
        Self::Jpeg,
        Self::Png,
        Self::Webp,
        Self::Gif,
        Self::Avif,
        Self::Pdf,
    ];

    /// The IANA media type, as served in `Content-Type`.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Avif => "image/avif",
            Self::Pdf => "application/pdf",
        }
    }

    /// The file extension of its stored object and address.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Gif => "gif",
            Self::Avif => "avif",
            Self::Pdf => "pdf",
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Webp => "WebP",
            Self::Gif => "GIF",
            Self::Avif => "AVIF",
            Self::Pdf => "PDF",
        }
    }

    /// The image codec, for the types that are images.
    pub fn image_format(self) -> Option<image::ImageFormat> {
        match self {
            Self::Jpeg => Some(image::ImageFormat::Jpeg),
            Self::Png => Some(image::ImageFormat::Png),
            Self::Webp => Some(image::ImageFormat::WebP),
            Self::Gif => Some(image::ImageFormat::Gif),
            Self::Avif | Self::Pdf => None,
        }
    }

    /// Whether uploads of this type get responsive variants: still images (an animation's
    /// variants would stand still; a PDF has no pixels).
    pub fn has_variants(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png | Self::Webp | Self::Avif)
    }

    /// The type an upload of this type is kept as: itself, except AVIF, kept as WebP
    /// (decoded to be stripped of its metadata, it needs encoding anew, and Dermis carries
    /// no AV1 encoder; every browser that shows AVIF shows WebP).
    pub fn kept_as(self) -> Self {
        match self {
            Self::Avif => Self::Webp,
            other => other,
        }
    }

    /// The type a stored row names (`mime`).
    pub fn from_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.mime() == mime)
    }

    /// The type whose extension is `extension`.
    pub fn from_extension(extension: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.extension() == extension)
    }

    /// Judges `head` (the file's first bytes, at least a few hundred when the file has
    /// them) and refuses anything that is not an accepted type, naming what it is.
    pub fn sniff(head: &[u8]) -> Result<Self, MediaError> {
        if let Some(kind) = infer::get(head) {
            if let Some(accepted) = Self::from_mime(kind.mime_type()) {
                return Ok(accepted);
            }
            return Err(MediaError::Unsupported(format!(
                "this file is {} ({}), which the media library does not take: send {ACCEPTED}",
                kind.mime_type(),
                kind.extension()
            )));
        }
        if looks_like_markup(head) {
            return Err(MediaError::Unsupported(format!(
                "SVG and other markup are refused (they can carry scripts): send {ACCEPTED}"
            )));
        }
        Err(MediaError::Unsupported(format!(
            "this file's type is not recognised: send {ACCEPTED}"
        )))
    }
}

/// Text that starts like XML or HTML (SVG included), after a byte-order mark and spaces.
fn looks_like_markup(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    text[start..].starts_with(b"<")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(
            MediaType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").ok(),
            Some(MediaType::Png)
        );
        assert_eq!(MediaType::sniff(b"%PDF-1.7\n").ok(), Some(MediaType::Pdf));
        assert_eq!(
            MediaType::sniff(b"GIF89a\x01\0\x01\0").ok(),
            Some(MediaType::Gif)
        );
    }

    #[test]
    fn markup_and_unknown_bytes_are_refused_by_name() {
        let svg = MediaType::sniff(b"  <svg xmlns='http://www.w3.org/2000/svg'/>");
        assert!(matches!(svg, Err(MediaError::Unsupported(m)) if m.contains("SVG")));
        let zip = MediaType::sniff(b"PK\x03\x04\x14\0\0\0\x08\0");
        assert!(matches!(zip, Err(MediaError::Unsupported(m)) if m.contains("application/zip")));
        assert!(MediaType::sniff(b"hello").is_err());
    }

    #[test]
    fn every_type_round_trips_through_its_spellings() {
        for t in MediaType::ALL {
            assert_eq!(MediaType::from_mime(t.mime()), Some(t));
            assert_eq!(MediaType::from_extension(t.extension()), Some(t));
        }
    }
}
