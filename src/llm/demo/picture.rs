//! The demo model's pictures: a gradient under three discs, their colours and places
//! taken from a hash of the prompt, so each prompt has a picture of its own and always
//! the same one. A few milliseconds each.

use sha2::{Digest, Sha256};

/// The side of a picture of no given size.
const DEFAULT_SIDE: u32 = 256;
/// The longest side drawn: a 1024×1024 request gets 512×512.
const MAX_SIDE: u32 = 512;

/// The size to draw for a request's `size`: `WIDTHxHEIGHT` scaled down to fit in
/// 512×512 with its shape kept; `auto`, none or anything unreadable is 256×256.
pub fn size(size: Option<&str>) -> (u32, u32) {
    let asked = size
        .and_then(|size| size.split_once('x'))
        .and_then(|(width, height)| Some((width.parse::<u32>().ok()?, height.parse::<u32>().ok()?)))
        .filter(|&(width, height)| width > 0 && height > 0);
    let Some((width, height)) = asked else {
        return (DEFAULT_SIDE, DEFAULT_SIDE);
    };
    let longest = width.max(height);
    if longest <= MAX_SIDE {
        return (width, height);
    }
    let scale =
        |side: u32| ((u64::from(side) * u64::from(MAX_SIDE) / u64::from(longest)) as u32).max(1);
    (scale(width), scale(height))
}

/// The PNG of `prompt` at `width`×`height`.
pub fn draw(prompt: &str, width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let hash = Sha256::digest(prompt.as_bytes());
    let color = |at: usize| [hash[at], hash[at + 1], hash[at + 2]];
    let (top, bottom) = (color(0), color(3));
    let side = width.min(height) as i64;
    // Centre, radius and colour of each disc.
    let discs: Vec<(i64, i64, i64, [u8; 3])> = (0..3)
        .map(|i| {
            let at = 6 + i * 6;
            let x = i64::from(hash[at]) * i64::from(width) / 256;
            let y = i64::from(hash[at + 1]) * i64::from(height) / 256;
            let radius = (i64::from(hash[at + 2] % 96) + 32) * side / 256;
            (x, y, radius, color(at + 3))
        })
        .collect();
    let span = u64::from(width + height).saturating_sub(2).max(1);
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        for x in 0..width {
            let along = u64::from(x + y);
            let mut pixel = [0u8; 3];
            for (channel, value) in pixel.iter_mut().enumerate() {
                let (from, to) = (u64::from(top[channel]), u64::from(bottom[channel]));
                *value = ((from * (span - along) + to * along) / span) as u8;
            }
            for &(cx, cy, radius, color) in &discs {
                let (dx, dy) = (i64::from(x) - cx, i64::from(y) - cy);
                if dx * dx + dy * dy <= radius * radius {
                    pixel = color;
                }
            }
            pixels.extend_from_slice(&pixel);
        }
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(png: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        (info.width, info.height, pixels)
    }

    #[test]
    fn the_same_prompt_draws_the_same_picture_and_another_prompt_another() {
        let lighthouse = draw("a lighthouse at dawn", 256, 256).unwrap();
        assert_eq!(lighthouse, draw("a lighthouse at dawn", 256, 256).unwrap());
        let (width, height, pixels) = decoded(&lighthouse);
        assert_eq!((width, height), (256, 256));
        let (_, _, other) = decoded(&draw("a lighthouse at dusk", 256, 256).unwrap());
        let differing = pixels.iter().zip(&other).filter(|(a, b)| a != b).count();
        assert!(
            differing > pixels.len() / 2,
            "only {differing} of {} bytes differ",
            pixels.len()
        );
    }

    #[test]
    fn sizes_are_capped_at_512_with_their_shape_kept() {
        assert_eq!(size(None), (256, 256));
        assert_eq!(size(Some("auto")), (256, 256));
        assert_eq!(size(Some("0x10")), (256, 256));
        assert_eq!(size(Some("300x200")), (300, 200));
        assert_eq!(size(Some("1024x1024")), (512, 512));
        assert_eq!(size(Some("1536x1024")), (512, 341));
        assert_eq!(size(Some("1x4000000000")), (1, 512));
        let (width, height, _) = decoded(&draw("tall", 1, 512).unwrap());
        assert_eq!((width, height), (1, 512));
    }
}
