//! A share's link preview: a 1200×630 PNG (the size Open Graph and Twitter cards ask
//! for) with the site's name and the share's title, drawn with Pretendard, a font that
//! covers Latin and Hangul (assets/fonts/, OFL-1.1). Drawn once per snapshot and kept.

use std::sync::LazyLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use bytes::Bytes;

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 630;

/// Left and right margin, in pixels.
const MARGIN: f32 = 88.0;
const SITE_SIZE: f32 = 44.0;
const TITLE_SIZE: f32 = 72.0;
const TITLE_LINE: f32 = TITLE_SIZE * 1.3;
const TITLE_LINES: usize = 3;

const BACKGROUND: [u8; 3] = [0x13, 0x17, 0x1f];
const ACCENT: [u8; 3] = [0x01, 0x72, 0xad];
const SITE_COLOR: [u8; 3] = [0x8e, 0xc5, 0xf0];
const TITLE_COLOR: [u8; 3] = [0xf4, 0xf6, 0xf9];

static FONT: LazyLock<FontRef<'static>> = LazyLock::new(|| {
    FontRef::try_from_slice(include_bytes!("../../assets/fonts/Pretendard-SemiBold.otf"))
        .expect("the vendored font is a valid OpenType font")
});

/// Images drawn, by share token and snapshot version (`updated_at`): an update draws a
/// new one, and the old one ages out. Bounded by bytes held.
static DRAWN: LazyLock<moka::sync::Cache<(String, i64), Bytes>> = LazyLock::new(|| {
    moka::sync::Cache::builder()
        .weigher(|_, png: &Bytes| u32::try_from(png.len()).unwrap_or(u32::MAX))
        .max_capacity(16 << 20)
        .build()
});

/// The preview of a share's snapshot, drawn the first time it is asked for.
pub fn cached(
    token: &str,
    updated_at: i64,
    site_name: &str,
    title: &str,
) -> Result<Bytes, png::EncodingError> {
    let key = (token.to_string(), updated_at);
    if let Some(png) = DRAWN.get(&key) {
        return Ok(png);
    }
    let png = Bytes::from(draw(site_name, title)?);
    DRAWN.insert(key, png.clone());
    Ok(png)
}

/// Draws the preview: the site's name above the title, which wraps onto at most three
/// lines and ends with an ellipsis when it is longer.
pub fn draw(site_name: &str, title: &str) -> Result<Vec<u8>, png::EncodingError> {
    let mut canvas = Canvas::new();
    canvas.fill(0, 0, WIDTH, HEIGHT, BACKGROUND);
    canvas.fill(0, 0, 16, HEIGHT, ACCENT);
    let width = WIDTH as f32 - 2.0 * MARGIN;
    let site = fit(site_name, PxScale::from(SITE_SIZE), width, 1);
    if let Some(line) = site.first() {
        canvas.text(line, PxScale::from(SITE_SIZE), MARGIN, 136.0, SITE_COLOR);
    }
    let lines = fit(title, PxScale::from(TITLE_SIZE), width, TITLE_LINES);
    // The title's block sits in the space below the name, centred on it.
    let block = lines.len() as f32 * TITLE_LINE;
    let top = 200.0 + ((HEIGHT as f32 - 200.0 - 60.0) - block).max(0.0) / 2.0;
    for (i, line) in lines.iter().enumerate() {
        let baseline = top + TITLE_SIZE + i as f32 * TITLE_LINE;
        canvas.text(
            line,
            PxScale::from(TITLE_SIZE),
            MARGIN,
            baseline,
            TITLE_COLOR,
        );
    }
    canvas.png()
}

/// The glyphs of `c`, or `None` for a character the font lacks (an emoji): left out
/// rather than drawn as a box.
fn glyph(c: char) -> Option<GlyphId> {
    let id = FONT.glyph_id(c);
    (id.0 != 0).then_some(id)
}

/// The width of `text` at `scale`, in pixels.
fn measure(text: &str, scale: PxScale) -> f32 {
    let font = FONT.as_scaled(scale);
    let mut width = 0.0;
    let mut previous: Option<GlyphId> = None;
    for id in text.chars().filter_map(glyph) {
        if let Some(previous) = previous {
            width += font.kern(previous, id);
        }
        width += font.h_advance(id);
        previous = Some(id);
    }
    width
}

/// `text` broken into at most `max_lines` lines of `width` pixels: between words where
/// it can, inside a word that is wider than a line (a URL, a long compound, Japanese or
/// Chinese without spaces). Text left over ends the last line with an ellipsis.
fn fit(text: &str, scale: PxScale, width: f32, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut cut = false;
    'words: for word in text.split_whitespace() {
        let joined = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if measure(&joined, scale) <= width {
            line = joined;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            if lines.len() == max_lines {
                cut = true;
                break;
            }
        }
        // The word alone: split by characters when it is wider than a line.
        for c in word.chars() {
            line.push(c);
            if measure(&line, scale) > width {
                line.pop();
                lines.push(std::mem::replace(&mut line, c.to_string()));
                if lines.len() == max_lines {
                    cut = true;
                    break 'words;
                }
            }
        }
    }
    if !cut && !line.is_empty() {
        lines.push(line);
    }
    if cut && let Some(last) = lines.last_mut() {
        while !last.is_empty() && measure(&format!("{last}…"), scale) > width {
            last.pop();
        }
        *last = format!("{}…", last.trim_end());
    }
    lines
}

/// An RGB picture being drawn.
struct Canvas {
    pixels: Vec<u8>,
}

impl Canvas {
    fn new() -> Self {
        Self {
            pixels: vec![0; (WIDTH * HEIGHT * 3) as usize],
        }
    }

    fn fill(&mut self, x: u32, y: u32, width: u32, height: u32, color: [u8; 3]) {
        for row in y..(y + height).min(HEIGHT) {
            for column in x..(x + width).min(WIDTH) {
                let at = ((row * WIDTH + column) * 3) as usize;
                self.pixels[at..at + 3].copy_from_slice(&color);
            }
        }
    }

    /// Mixes `color` into a pixel by `coverage` (0 to 1), the glyph's anti-aliasing.
    fn blend(&mut self, x: i32, y: i32, color: [u8; 3], coverage: f32) {
        if x < 0 || y < 0 || x >= WIDTH as i32 || y >= HEIGHT as i32 {
            return;
        }
        let at = ((y as u32 * WIDTH + x as u32) * 3) as usize;
        let coverage = coverage.clamp(0.0, 1.0);
        for (channel, &ink) in color.iter().enumerate() {
            let under = f32::from(self.pixels[at + channel]);
            self.pixels[at + channel] = (under + (f32::from(ink) - under) * coverage).round() as u8;
        }
    }

    /// Writes one line of text, its baseline at `y`.
    fn text(&mut self, text: &str, scale: PxScale, x: f32, y: f32, color: [u8; 3]) {
        let font = FONT.as_scaled(scale);
        let mut caret = x;
        let mut previous: Option<GlyphId> = None;
        for id in text.chars().filter_map(glyph) {
            if let Some(previous) = previous {
                caret += font.kern(previous, id);
            }
            let placed = id.with_scale_and_position(scale, point(caret, y));
            caret += font.h_advance(id);
            previous = Some(id);
            if let Some(outline) = FONT.outline_glyph(placed) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    self.blend(
                        bounds.min.x as i32 + gx as i32,
                        bounds.min.y as i32 + gy as i32,
                        color,
                        coverage,
                    );
                });
            }
        }
    }

    fn png(self) -> Result<Vec<u8>, png::EncodingError> {
        let mut png = Vec::new();
        let mut encoder = png::Encoder::new(&mut png, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&self.pixels)?;
        writer.finish()?;
        Ok(png)
    }
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
    fn a_preview_is_1200_by_630_and_its_title_is_drawn() {
        let started = std::time::Instant::now();
        let png = draw("promptship", "A haiku about the sea").unwrap();
        eprintln!("drawn in {:?}, {} bytes", started.elapsed(), png.len());
        let (width, height, pixels) = decoded(&png);
        assert_eq!((width, height), (WIDTH, HEIGHT));
        let title_ink = pixels
            .chunks(3)
            .filter(|p| p[0] > 200 && p[1] > 200 && p[2] > 200)
            .count();
        assert!(title_ink > 2_000, "the title's pixels: {title_ink}");
        assert_ne!(png, draw("promptship", "Another title").unwrap());
    }

    #[test]
    fn korean_is_drawn_with_its_own_glyphs() {
        for c in "한국어 제목입니다".chars().filter(|c| !c.is_whitespace()) {
            assert!(glyph(c).is_some(), "no glyph for {c}");
        }
        let korean = draw("promptship", "한국어 제목입니다").unwrap();
        let blank = draw("promptship", "").unwrap();
        assert_ne!(korean, blank);
    }

    #[test]
    fn a_long_title_wraps_onto_three_lines_and_ends_with_an_ellipsis() {
        let scale = PxScale::from(TITLE_SIZE);
        let width = WIDTH as f32 - 2.0 * MARGIN;
        let short = fit("Short title", scale, width, TITLE_LINES);
        assert_eq!(short, ["Short title"]);
        let long = "word ".repeat(200);
        let lines = fit(&long, scale, width, TITLE_LINES);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].ends_with('…'), "{lines:?}");
        assert!(lines.iter().all(|l| measure(l, scale) <= width));
        let korean = "가나다라마바사아자차카타파하".repeat(10);
        let lines = fit(&korean, scale, width, TITLE_LINES);
        assert_eq!(lines.len(), 3, "a word wider than a line is split");
        assert!(lines[2].ends_with('…'));
        assert!(lines.iter().all(|l| measure(l, scale) <= width));
        let exact = fit("one two", scale, width, 1);
        assert_eq!(exact, ["one two"], "no ellipsis when nothing is left over");
    }
}
