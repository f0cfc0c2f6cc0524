//! AVIF uploads, decoded to pixels: by rav1d-safe (the pure-Rust port of VideoLAN's dav1d,
//! with no unsafe code in its decoding path) through `zenavif`, so that no system library
//! is needed. The container's size is checked against the pixel limit before any frame is
//! decoded, and its `irot` and `imir` properties are applied, as a JPEG's EXIF orientation
//! is. Only pixels come out: the container's Exif and XMP items are never copied.

use image::{DynamicImage, RgbImage, RgbaImage};
use zenavif::{DecoderConfig, ManagedAvifDecoder, Unstoppable};

use super::process::{Limits, too_many_pixels};
use super::{MediaError, MediaType};

/// What the decoder hands back, before it is turned upright.
struct Frame {
    width: u32,
    height: u32,
    /// 8-bit RGB or RGBA samples, row after row.
    samples: Vec<u8>,
    /// Degrees counter-clockwise (`irot`).
    rotation: u16,
    /// The mirror axis (`imir`): 0 flips left and right, 1 top and bottom.
    mirror: Option<u8>,
}

/// Decodes an AVIF still image and turns it as its container says. A young decoder meets
/// hostile input here: a panic inside it is caught and answered as a damaged file.
pub fn decode(bytes: &[u8], limits: Limits) -> Result<DynamicImage, MediaError> {
    let damaged = MediaError::Damaged(MediaType::Avif.label());
    let frame = std::panic::catch_unwind(|| read(bytes, limits)).map_err(|_| damaged)??;
    let Frame {
        width,
        height,
        samples,
        rotation,
        mirror,
    } = frame;
    let pixels = usize::try_from(u64::from(width) * u64::from(height)).unwrap_or(usize::MAX);
    let image = match samples.len().checked_div(pixels) {
        Some(3) => RgbImage::from_raw(width, height, samples).map(DynamicImage::ImageRgb8),
        Some(4) => RgbaImage::from_raw(width, height, samples).map(DynamicImage::ImageRgba8),
        _ => None,
    }
    .ok_or(MediaError::Damaged(MediaType::Avif.label()))?;
    // HEIF applies rotation before mirroring.
    let image = match rotation {
        90 => image.rotate270(),
        180 => image.rotate180(),
        270 => image.rotate90(),
        _ => image,
    };
    Ok(match mirror {
        Some(0) => image.fliph(),
        Some(1) => image.flipv(),
        _ => image,
    })
}

/// Reads the container and decodes the primary image.
fn read(bytes: &[u8], limits: Limits) -> Result<Frame, MediaError> {
    let damaged = |_| MediaError::Damaged(MediaType::Avif.label());
    let config = DecoderConfig::new().threads(1).prefer_8bit(true);
    let limited = config
        .clone()
        .frame_size_limit(u32::try_from(limits.max_pixels).unwrap_or(u32::MAX));
    // The size comes from the container and the AV1 sequence header, before any frame is
    // decoded; the decoder is bounded by the limit as well.
    let info = ManagedAvifDecoder::new(bytes, &config)
        .and_then(|decoder| decoder.probe_info())
        .map_err(damaged)?;
    if u64::from(info.width) * u64::from(info.height) > limits.max_pixels {
        return Err(too_many_pixels(
            info.width,
            info.height,
            1,
            limits.max_pixels,
        ));
    }
    let mut decoder = ManagedAvifDecoder::new(bytes, &limited).map_err(damaged)?;
    let pixels = decoder.decode(&Unstoppable).map_err(damaged)?;
    Ok(Frame {
        width: pixels.width(),
        height: pixels.height(),
        samples: pixels.copy_to_contiguous_bytes(),
        rotation: info.rotation.map_or(0, |r| r.angle),
        mirror: info.mirror.map(|m| m.axis),
    })
}
