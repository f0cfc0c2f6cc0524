//! Making an upload safe to keep and serve. An image is decoded (after its header showed it
//! within the pixel limit, so a decompression bomb is refused before any pixel is made),
//! turned as its EXIF orientation says, and encoded anew from its pixels alone: no EXIF
//! (camera, time, GPS position), XMP, comment or other metadata block survives, whatever
//! the container. A PDF is kept as sent.

use std::io::Cursor;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageReader};
use sha2::{Digest, Sha256};

use super::{MediaError, MediaType};

/// How large an upload may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file, in bytes.
    pub max_bytes: usize,
    /// Most pixels of an image (width times height, times frames for an animation).
    pub max_pixels: u64,
}

/// Quality of re-encoded JPEG photos: visually lossless for photographs.
const JPEG_QUALITY: u8 = 90;

/// The widths of responsive variants, in pixels: those below the image's own width, and
/// its own width when it is narrower than the widest.
pub const VARIANT_WIDTHS: [u32; 3] = [320, 640, 1280];

/// Quality of an AVIF upload kept as WebP: visually lossless, as [`JPEG_QUALITY`].
const KEPT_WEBP_QUALITY: f32 = 90.0;

/// Quality of the lossy WebP variants (libwebp's scale, 0 to 100).
const VARIANT_QUALITY: f32 = 78.0;

/// The variants an image of `width` x `height` pixels gets, as (width, height): derived
/// from its size alone, so they need no record of their own.
pub fn variant_sizes(width: u32, height: u32) -> Vec<(u32, u32)> {
    let widest = VARIANT_WIDTHS[VARIANT_WIDTHS.len() - 1];
    let mut widths: Vec<u32> = VARIANT_WIDTHS.into_iter().filter(|w| *w < width).collect();
    if width <= widest {
        widths.push(width);
    }
    widths
        .into_iter()
        .map(|w| {
            let h =
                (u64::from(height) * u64::from(w) + u64::from(width) / 2) / u64::from(width.max(1));
            (w, u32::try_from(h).unwrap_or(u32::MAX).max(1))
        })
        .collect()
}

/// A responsive variant: the image at a smaller width, as lossy WebP.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Its width in pixels.
    pub width: u32,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// An upload as it is kept.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The bytes to store and serve.
    pub bytes: Vec<u8>,
    /// What they are.
    pub media_type: MediaType,
    /// SHA-256 of `bytes`, in hex: the stored object's name.
    pub content_hash: String,
    /// Pixel size, for images.
    pub dimensions: Option<(u32, u32)>,
    /// `#rrggbb`, the image's average colour, for a placeholder while it loads.
    pub dominant_color: Option<String>,
    /// Responsive variants of a still image ([`variant_sizes`]).
    pub variants: Vec<Variant>,
}

/// An image encoded anew.
struct Encoded {
    bytes: Vec<u8>,
    dimensions: (u32, u32),
    colour: String,
    variants: Vec<Variant>,
}

/// Checks and prepares `bytes` for keeping. CPU-bound: call it off the async workers.
pub fn process(bytes: Vec<u8>, limits: Limits) -> Result<Processed, MediaError> {
    if bytes.len() > limits.max_bytes {
        return Err(too_many_bytes(limits.max_bytes));
    }
    let media_type = MediaType::sniff(&bytes)?;
    let encoded = match media_type {
        MediaType::Pdf => None,
        MediaType::Gif => Some(gif(&bytes, limits)?),
        MediaType::Avif => Some(still(
            super::avif::decode(&bytes, limits)?,
            MediaType::Avif,
        )?),
        other => Some(still(decode(&bytes, other, limits)?, other)?),
    };
    let (bytes, dimensions, dominant_color, variants) = match encoded {
        None => (bytes, None, None, Vec::new()),
        Some(image) => (
            image.bytes,
            Some(image.dimensions),
            Some(image.colour),
            image.variants,
        ),
    };
    let content_hash = content_hash(&bytes);
    Ok(Processed {
        bytes,
        media_type: media_type.kept_as(),
        content_hash,
        dimensions,
        dominant_color,
        variants,
    })
}

/// A still image encoded anew (as what `media_type` is kept as), with its variants.
fn still(image: DynamicImage, media_type: MediaType) -> Result<Encoded, MediaError> {
    Ok(Encoded {
        bytes: encode(&image, media_type)?,
        dimensions: (image.width(), image.height()),
        colour: average_colour(&image),
        variants: variants(&image)?,
    })
}

/// The responsive variants of `image`, widest first, each resized from the one before
/// (cheaper than from the original each time, and as sharp).
fn variants(image: &DynamicImage) -> Result<Vec<Variant>, MediaError> {
    let mut sizes = variant_sizes(image.width(), image.height());
    sizes.reverse();
    let mut source = DynamicImage::ImageRgba8(image.to_rgba8());
    let mut out = Vec::with_capacity(sizes.len());
    for (width, height) in sizes {
        if (width, height) != (source.width(), source.height()) {
            source = source.resize_exact(width, height, image::imageops::FilterType::CatmullRom);
        }
        out.push(Variant {
            width,
            bytes: lossy_webp(&source, VARIANT_QUALITY)?,
        });
    }
    out.reverse();
    Ok(out)
}

/// `image` as lossy WebP (libwebp) at `quality`.
fn lossy_webp(image: &DynamicImage, quality: f32) -> Result<Vec<u8>, MediaError> {
    let rgba = image.to_rgba8();
    let encoded = webp::Encoder::from_rgba(rgba.as_raw(), image.width(), image.height())
        .encode_simple(false, quality)
        .map_err(|e| MediaError::Storage(format!("WebP encoding failed: {e:?}")))?;
    Ok(encoded.to_vec())
}

/// The refusal of a file over `max` bytes.
pub fn too_many_bytes(max: usize) -> MediaError {
    MediaError::TooLarge(format!(
        "the file is larger than {} (DERMIS_MEDIA_MAX_BYTES)",
        human_bytes(max)
    ))
}

fn human_bytes(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{n} bytes")
    }
}

pub(super) fn too_many_pixels(width: u32, height: u32, frames: u64, max: u64) -> MediaError {
    let what = if frames > 1 {
        format!("{width} x {height} pixels in {frames} frames")
    } else {
        format!("{width} x {height} pixels")
    };
    MediaError::TooLarge(format!(
        "the image has {what}, more than the {max} pixels allowed (DERMIS_MEDIA_MAX_PIXELS)"
    ))
}

/// The decoder's own limits: no side above what the pixel limit allows, and no allocation
/// beyond four bytes per allowed pixel (twice, for a decoder's working buffers).
fn decoder_limits(limits: Limits) -> image::Limits {
    let mut decoder = image::Limits::default();
    let side = u32::try_from(limits.max_pixels).unwrap_or(u32::MAX);
    decoder.max_image_width = Some(side);
    decoder.max_image_height = Some(side);
    decoder.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    decoder
}

/// Decodes a still image after reading its size from the header, and turns it upright.
fn decode(bytes: &[u8], media_type: MediaType, limits: Limits) -> Result<DynamicImage, MediaError> {
    let damaged = |_| MediaError::Damaged(media_type.label());
    let format = media_type
        .image_format()
        .ok_or(MediaError::Damaged(media_type.label()))?;
    let reader = |bytes| {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        reader.limits(decoder_limits(limits));
        reader
    };
    let (width, height) = reader(bytes)
        .into_dimensions()
        .map_err(|e| refusal(e, media_type))?;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(too_many_pixels(width, height, 1, limits.max_pixels));
    }
    let mut decoder = reader(bytes)
        .into_decoder()
        .map_err(|e| refusal(e, media_type))?;
    // A missing or unreadable orientation leaves the image as stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(damaged)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// A decoder's error: over a limit, or damaged bytes.
fn refusal(error: image::ImageError, media_type: MediaType) -> MediaError {
    match error {
        image::ImageError::Limits(_) => MediaError::TooLarge(format!(
            "the image is larger than the pixel limit allows (DERMIS_MEDIA_MAX_PIXELS): {error}"
        )),
        _ => MediaError::Damaged(media_type.label()),
    }
}

/// Encodes `image` anew in its own format.
fn encode(image: &DynamicImage, media_type: MediaType) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    let failed = |e: image::ImageError| MediaError::Storage(format!("encoding failed: {e}"));
    match media_type {
        MediaType::Avif => return lossy_webp(image, KEPT_WEBP_QUALITY),
        MediaType::Jpeg => {
            // JPEG has no alpha; a decoded JPEG has none either, but CMYK or 16-bit input
            // comes out of the decoder in other layouts.
            let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
            let pixels = if image.color() == image::ColorType::L8 {
                image
            } else {
                &rgb
            };
            pixels
                .write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))
                .map_err(failed)?;
        }
        MediaType::Png => image
            .write_with_encoder(PngEncoder::new_with_quality(
                &mut out,
                CompressionType::Default,
                FilterType::Adaptive,
            ))
            .map_err(failed)?,
        MediaType::Webp => {
            // The pure-Rust WebP encoder writes lossless WebP from 8-bit RGB(A) only.
            let rgba = DynamicImage::ImageRgba8(image.to_rgba8());
            let pixels = match image.color() {
                image::ColorType::Rgb8 | image::ColorType::Rgba8 => image,
                _ => &rgba,
            };
            pixels
                .write_with_encoder(WebPEncoder::new_lossless(&mut out))
                .map_err(failed)?;
        }
        MediaType::Gif | MediaType::Pdf => {
            return Err(MediaError::Storage(format!(
                "{} is not encoded as a still image",
                media_type.label()
            )));
        }
    }
    Ok(out)
}

/// A GIF, animated or not, frame by frame: its size, frames and their timing are kept;
/// comments and application blocks (XMP) are not.
fn gif(bytes: &[u8], limits: Limits) -> Result<Encoded, MediaError> {
    let damaged = |_| MediaError::Damaged("GIF");
    let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(damaged)?;
    decoder
        .set_limits(decoder_limits(limits))
        .map_err(|e| refusal(e, MediaType::Gif))?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(too_many_pixels(width, height, 1, limits.max_pixels));
    }
    let most_frames = (limits.max_pixels / pixels.max(1)).max(1);
    let mut frames = Vec::new();
    for frame in decoder.into_frames() {
        let frame = frame.map_err(|e| refusal(e, MediaType::Gif))?;
        frames.push(frame);
        if frames.len() as u64 > most_frames {
            return Err(too_many_pixels(
                width,
                height,
                frames.len() as u64,
                limits.max_pixels,
            ));
        }
    }
    let first = frames
        .first()
        .map(|frame| DynamicImage::ImageRgba8(frame.buffer().clone()))
        .ok_or(MediaError::Damaged("GIF"))?;
    let colour = average_colour(&first);
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        let failed = |e: image::ImageError| MediaError::Storage(format!("encoding failed: {e}"));
        encoder.set_repeat(Repeat::Infinite).map_err(failed)?;
        encoder.encode_frames(frames).map_err(failed)?;
    }
    Ok(Encoded {
        bytes: out,
        dimensions: (width, height),
        colour,
        // An animation has no still variants: frontends show the original.
        variants: Vec::new(),
    })
}

/// The average colour of `image`, as `#rrggbb`, from a small thumbnail.
fn average_colour(image: &DynamicImage) -> String {
    let small = image.thumbnail(16, 16).to_rgb8();
    let count = u64::from(small.width()) * u64::from(small.height());
    let mut sums = [0u64; 3];
    for pixel in small.pixels() {
        for (sum, channel) in sums.iter_mut().zip(pixel.0) {
            *sum += u64::from(channel);
        }
    }
    let [r, g, b] = sums.map(|sum| sum.checked_div(count).unwrap_or(0));
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The name stored bytes go by: their SHA-256, in lower-case hex.
pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_bytes: 1 << 20,
        max_pixels: 1_000_000,
    };

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            width,
            height,
            image::Rgb([200, 40, 40]),
        ));
        let mut out = Vec::new();
        image
            .write_with_encoder(PngEncoder::new(&mut out))
            .expect("encodes");
        out
    }

    /// A 40 x 20 AVIF (left half red, right half blue) whose container says "turn 90
    /// degrees counter-clockwise" and carries an Exif item with a GPS position and an XMP
    /// packet, each holding a marker (written by libavif's avifenc; tests/fixtures/media).
    const AVIF: &[u8] = include_bytes!("../../../tests/fixtures/media/photo-gps-irot90.avif");

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn an_avif_is_kept_upright_as_webp_without_its_metadata() {
        assert!(contains(AVIF, b"DERMIS-GPS-MARKER") && contains(AVIF, b"DERMIS-XMP-MARKER"));
        let kept = process(AVIF.to_vec(), LIMITS).expect("accepted");
        assert_eq!(kept.media_type, MediaType::Webp, "kept as WebP");
        assert_eq!(kept.dimensions, Some((20, 40)), "turned as irot says");
        for bytes in std::iter::once(&kept.bytes).chain(kept.variants.iter().map(|v| &v.bytes)) {
            assert!(
                !contains(bytes, b"DERMIS-GPS-MARKER") && !contains(bytes, b"DERMIS-XMP-MARKER")
            );
            assert!(
                !contains(bytes, b"Exif") && !contains(bytes, b"XMP "),
                "no metadata chunk"
            );
        }
        let image = image::load_from_memory_with_format(&kept.bytes, image::ImageFormat::WebP)
            .expect("a WebP")
            .to_rgb8();
        // The left (red) half, turned counter-clockwise, is now the bottom half.
        let (top, bottom) = (image.get_pixel(10, 5), image.get_pixel(10, 35));
        assert!(bottom[0] > 150 && bottom[2] < 100, "red below: {bottom:?}");
        assert!(top[2] > 150 && top[0] < 100, "blue above: {top:?}");
        assert_eq!(
            kept.variants.iter().map(|v| v.width).collect::<Vec<_>>(),
            vec![20]
        );
    }

    #[test]
    fn an_avif_over_the_pixel_limit_or_damaged_is_refused_and_nothing_panics() {
        let small = Limits {
            max_bytes: 1 << 20,
            max_pixels: 500,
        };
        assert!(matches!(
            process(AVIF.to_vec(), small),
            Err(MediaError::TooLarge(_))
        ));
        assert!(matches!(
            process(AVIF[..AVIF.len() / 2].to_vec(), LIMITS),
            Err(MediaError::Damaged("AVIF"))
        ));
        // Every single-byte change: accepted or refused, never a panic or a hang.
        for at in 0..AVIF.len() {
            let mut bytes = AVIF.to_vec();
            bytes[at] ^= 0x5a;
            match process(bytes, LIMITS) {
                Ok(kept) => assert!(kept.dimensions.is_some(), "byte {at}"),
                Err(
                    MediaError::Damaged(_) | MediaError::Unsupported(_) | MediaError::TooLarge(_),
                ) => {}
                Err(other) => panic!("byte {at}: {other}"),
            }
        }
    }

    #[test]
    fn an_image_is_measured_and_coloured() {
        let kept = process(png(30, 20), LIMITS).expect("accepted");
        assert_eq!(kept.media_type, MediaType::Png);
        assert_eq!(kept.dimensions, Some((30, 20)));
        assert_eq!(kept.dominant_color.as_deref(), Some("#c82828"));
        assert_eq!(kept.content_hash.len(), 64);
    }

    #[test]
    fn variants_are_lossy_webp_at_the_widths_below_the_image() {
        assert_eq!(
            variant_sizes(2000, 1000),
            vec![(320, 160), (640, 320), (1280, 640)]
        );
        assert_eq!(variant_sizes(500, 333), vec![(320, 213), (500, 333)]);
        assert_eq!(variant_sizes(64, 48), vec![(64, 48)]);
        let kept = process(png(700, 350), LIMITS).expect("accepted");
        let widths: Vec<u32> = kept.variants.iter().map(|v| v.width).collect();
        assert_eq!(widths, vec![320, 640, 700]);
        for variant in &kept.variants {
            let decoded =
                image::load_from_memory_with_format(&variant.bytes, image::ImageFormat::WebP)
                    .expect("a WebP");
            assert_eq!(
                (decoded.width(), decoded.height()),
                (variant.width, variant.width / 2)
            );
            assert!(
                variant.bytes.starts_with(b"RIFF") && &variant.bytes[12..16] == b"VP8 ",
                "lossy"
            );
        }
    }

    #[test]
    fn too_many_pixels_are_refused_from_the_header() {
        let limits = Limits {
            max_pixels: 100,
            ..LIMITS
        };
        let refused = process(png(11, 10), limits);
        assert!(matches!(refused, Err(MediaError::TooLarge(m)) if m.contains("11 x 10")));
    }

    #[test]
    fn too_many_bytes_are_refused() {
        let limits = Limits {
            max_bytes: 10,
            ..LIMITS
        };
        assert!(matches!(
            process(png(2, 2), limits),
            Err(MediaError::TooLarge(_))
        ));
    }

    #[test]
    fn a_truncated_image_is_damaged() {
        let mut bytes = png(40, 40);
        bytes.truncate(40);
        assert!(matches!(
            process(bytes, LIMITS),
            Err(MediaError::Damaged("PNG"))
        ));
    }
}
