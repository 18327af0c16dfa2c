//! Raster images, decoded within a pixel budget, searched for QR codes.
//!
//! The header is read first and decides: an image claiming more pixels
//! than [`super::AttachmentLimits::max_image_pixels`] is reported and never
//! decoded, one too small to hold a readable QR code (under
//! [`MIN_SIDE`] pixels a side: icons, tracking pixels, rules) is skipped
//! without a finding. Each image searched draws on the message's
//! `qr_images_left`, a large one more than once (one unit per started
//! [`PIXELS_PER_UNIT`] pixels), and one whose cost is more than is left is
//! not decoded at all: with the default limits, pictures of more than 4
//! megapixels (A4 scans at 300 dpi, 4K screenshots) are not searched, which
//! keeps the pixels decoded per message bounded and the scan fast.
//!
//! The rest are decoded with the image crate's own limits set (JPEGs in
//! YCbCr or grey, most of them, straight to their luma plane by the
//! image crate's own decoder, zune-jpeg, called directly), turned to
//! grey and shrunk by an integer box filter to at most [`MAX_SEARCH_SIDE`]
//! pixels a side in one pass (a QR code meant for a phone camera keeps
//! modules of several pixels; the search costs grow with the area). A
//! cheap ZXing-style look for two finder patterns (rows, then columns)
//! decides whether `rqrr`'s costly search runs: most pictures in mail stop
//! there.

use super::{Analysis, Budget, FindingCode};
use std::borrow::Cow;
use std::io::Cursor;

/// Images with a side shorter than this are not searched: a version 1 QR
/// code is 21 modules plus its quiet zone, and below about one pixel a
/// module no reader decodes it.
pub(super) const MIN_SIDE: u32 = 30;

/// Largest side searched: larger images are shrunk first. A QR code filling
/// a fifth of an 800-pixel side still has 4 pixels per module at version 10.
pub(super) const MAX_SEARCH_SIDE: usize = 800;

/// Decoded pixels that cost one unit of `qr_images_left` (one for each
/// started block of this many).
pub(super) const PIXELS_PER_UNIT: u64 = 500_000;

/// Decodes one image (when its header's size is within the budget) and
/// reports the QR codes in it.
pub(super) fn inspect_image(bytes: &[u8], budget: &mut Budget, out: &mut Analysis) {
    let Ok(reader) = image::ImageReader::new(Cursor::new(bytes)).with_guessed_format() else {
        return;
    };
    let format = reader.format();
    if format.is_none() {
        out.find(
            FindingCode::Unreadable,
            "not an image format this reader knows",
        );
        return;
    }
    let (width, height) = match reader.into_dimensions() {
        Ok(d) => d,
        Err(e) => {
            out.find(
                FindingCode::Unreadable,
                format!("image header unreadable: {e}"),
            );
            return;
        }
    };
    let pixels = u64::from(width) * u64::from(height);
    if pixels > budget.limits.max_image_pixels {
        out.find(
            FindingCode::OverBudget,
            format!("image header claims {width}×{height} pixels"),
        );
        return;
    }
    if width < MIN_SIDE || height < MIN_SIDE || width.max(height) > 6 * width.min(height) {
        // Too small, or a banner or rule: no room for a scannable code.
        return;
    }
    if !take_images(budget, pixels) {
        return;
    }
    if format == Some(image::ImageFormat::Jpeg) {
        if let Some(grey) = jpeg_luma(bytes, width, height) {
            search(
                width as usize,
                height as usize,
                &grey,
                Layout::Grey,
                budget,
                out,
            );
            return;
        }
    }
    let Ok(mut reader) = image::ImageReader::new(Cursor::new(bytes)).with_guessed_format() else {
        return;
    };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // The decoded image (at most 4 bytes a pixel, 16-bit formats 8) and
    // the decoder's own buffers.
    limits.max_alloc = Some(pixels.saturating_mul(8).saturating_add(8 << 20));
    reader.limits(limits);
    let image = match reader.decode() {
        Ok(image) => image,
        Err(e) => {
            out.find(
                FindingCode::Unreadable,
                format!("image does not decode: {e}"),
            );
            return;
        }
    };
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (layout, raw) = raw_pixels(image);
    search(w, h, &raw, layout, budget, out);
}

/// A JPEG in YCbCr or grey (nearly all of them) decoded straight to its
/// luma plane, `width` × `height` as its header said: zune-jpeg (the image
/// crate's own JPEG decoder) then skips the chroma planes' upsampling and
/// colour conversion, and the input is not copied (JPEG decoding is the
/// largest part of the attachment readers' time). None for other colour
/// spaces (CMYK, YCCK) and for any error: the image crate's path then
/// decodes (or reports) it as before.
fn jpeg_luma(bytes: &[u8], width: u32, height: u32) -> Option<Vec<u8>> {
    use zune_core::colorspace::ColorSpace;
    let options = zune_core::options::DecoderOptions::default()
        .set_strict_mode(false)
        .set_max_width(width as usize)
        .set_max_height(height as usize)
        .jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
        zune_core::bytestream::ZCursor::new(bytes),
        options,
    );
    decoder.decode_headers().ok()?;
    if !matches!(
        decoder.input_colorspace()?,
        ColorSpace::YCbCr | ColorSpace::Luma
    ) || decoder.dimensions()? != (width as usize, height as usize)
    {
        return None;
    }
    let grey = decoder.decode().ok()?;
    (grey.len() == width as usize * height as usize).then_some(grey)
}

/// How a buffer holds its pixels, 8 bits a channel, row by row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Layout {
    /// One byte a pixel.
    Grey,
    /// Grey and alpha.
    GreyAlpha,
    /// Red, green, blue.
    Rgb,
    /// Red, green, blue, alpha.
    Rgba,
}

impl Layout {
    const fn channels(self) -> usize {
        match self {
            Layout::Grey => 1,
            Layout::GreyAlpha => 2,
            Layout::Rgb => 3,
            Layout::Rgba => 4,
        }
    }
}

/// The decoded pixels as they are (no copy) in the four 8-bit layouts;
/// anything else (16-bit, float) converted to RGBA.
fn raw_pixels(image: image::DynamicImage) -> (Layout, Vec<u8>) {
    use image::DynamicImage as D;
    match image {
        D::ImageLuma8(buf) => (Layout::Grey, buf.into_raw()),
        D::ImageLumaA8(buf) => (Layout::GreyAlpha, buf.into_raw()),
        D::ImageRgb8(buf) => (Layout::Rgb, buf.into_raw()),
        D::ImageRgba8(buf) => (Layout::Rgba, buf.into_raw()),
        other => (Layout::Rgba, other.into_rgba8().into_raw()),
    }
}

fn luma(r: u8, g: u8, b: u8) -> u32 {
    (u32::from(r) * 77 + u32::from(g) * 150 + u32::from(b) * 29) >> 8
}

/// Grey over white by its alpha: a QR code is often black modules on a
/// transparent background.
fn over_white(l: u32, a: u8) -> u32 {
    let a = u32::from(a);
    let x = l * a + 255 * (255 - a);
    // x / 255 for every x this can be (l and a at most 255; a test checks
    // them all) without the division, which kept the RGBA loop from being
    // vectorised.
    (x + 1 + (x >> 8)) >> 8
}

/// One row of `layout` pixels as grey into `grey` (as many as both
/// hold). The image crate's own conversion is colour-managed and costs
/// several times the decoding.
fn grey_row(layout: Layout, row: &[u8], grey: &mut [u8]) {
    match layout {
        Layout::Grey => {
            for (g, p) in grey.iter_mut().zip(row) {
                *g = *p;
            }
        }
        Layout::GreyAlpha => {
            for (g, p) in grey.iter_mut().zip(row.chunks_exact(2)) {
                if let [l, a] = p {
                    *g = over_white(u32::from(*l), *a) as u8;
                }
            }
        }
        Layout::Rgb => {
            for (g, p) in grey.iter_mut().zip(row.chunks_exact(3)) {
                if let [r, gr, b] = p {
                    *g = luma(*r, *gr, *b) as u8;
                }
            }
        }
        Layout::Rgba => {
            for (g, p) in grey.iter_mut().zip(row.chunks_exact(4)) {
                if let [r, gr, b, a] = p {
                    *g = over_white(luma(*r, *gr, *b), *a) as u8;
                }
            }
        }
    }
}

/// Searches raw pixels (a PDF's image XObject) for QR codes, drawing on
/// the budget as [`inspect_image`] does. `pixels` holds `width * height`
/// pixels of `layout`, row by row; a shorter buffer is not searched.
pub(super) fn qr_in_pixels(
    width: usize,
    height: usize,
    pixels: &[u8],
    layout: Layout,
    budget: &mut Budget,
    out: &mut Analysis,
) {
    let area = (width as u64).saturating_mul(height as u64);
    let needed = area.saturating_mul(layout.channels() as u64);
    if width < MIN_SIDE as usize || height < MIN_SIDE as usize || (pixels.len() as u64) < needed {
        return;
    }
    if area > budget.limits.max_image_pixels {
        out.find(
            FindingCode::OverBudget,
            format!("PDF image claims {width}×{height} pixels"),
        );
        return;
    }
    if !take_images(budget, area) {
        return;
    }
    search(width, height, pixels, layout, budget, out);
}

/// Draws the cost of searching an image of `pixels` pixels from the
/// budget; false, and nothing drawn, when what is left does not cover it
/// (a large picture is not decoded for a search the budget cannot pay).
fn take_images(budget: &mut Budget, pixels: u64) -> bool {
    // One unit per started half megapixel: 4 megapixels take the
    // default eight.
    let units = usize::try_from(pixels.div_ceil(PIXELS_PER_UNIT).max(1)).unwrap_or(usize::MAX);
    if units > budget.qr_images_left {
        return false;
    }
    budget.qr_images_left -= units;
    true
}

/// Turns grey and shrinks (when larger than [`MAX_SEARCH_SIDE`]) in one
/// pass, and searches.
fn search(
    width: usize,
    height: usize,
    pixels: &[u8],
    layout: Layout,
    budget: &Budget,
    out: &mut Analysis,
) {
    let factor = width.max(height).div_ceil(MAX_SEARCH_SIDE).max(1);
    let (w, h) = (width / factor, height / factor);
    if w < MIN_SIDE as usize || h < MIN_SIDE as usize {
        return;
    }
    let grey: Cow<'_, [u8]> = if factor == 1 && layout == Layout::Grey {
        Cow::Borrowed(pixels)
    } else {
        Cow::Owned(shrink(width, height, pixels, layout, factor))
    };
    if !has_contrast(&grey) || !has_finder_pair(w, h, &grey) {
        // No pair of finder patterns: no QR code, and the costly search
        // is skipped (most pictures in mail end here).
        return;
    }
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        grey.get(y * w + x).copied().unwrap_or(255)
    });
    // A hostile image can draw hundreds of finder-like squares; a real
    // lure has one code, rarely two.
    for grid in prepared.detect_grids().into_iter().take(4) {
        if let Ok((_, content)) = grid.decode() {
            report(&content, budget, out);
        }
    }
}

/// Finder-pattern candidates kept per image before giving up: a page of
/// hundreds of finder-like squares is a decoy, not a code.
const MAX_FINDERS: usize = 256;

/// A finder-pattern candidate seen across a row and down its column.
#[derive(Clone, Copy, Debug)]
struct Finder {
    x: f32,
    y: f32,
    module: f32,
}

impl Finder {
    /// Two finder patterns of one code: modules of about one size, on one
    /// row or one column (codes in mail are upright), at least 10 modules
    /// apart (14 in the smallest code) and at most 170 (the largest).
    fn pairs_with(&self, other: &Finder) -> bool {
        let (big, small) = (self.module.max(other.module), self.module.min(other.module));
        if big > 2.0 * small {
            return false;
        }
        let (dx, dy) = ((self.x - other.x).abs(), (self.y - other.y).abs());
        let (near, far) = (dx.min(dy), dx.max(dy));
        near <= 2.0 * big && far >= 10.0 * small && far <= 170.0 * big
    }

    fn same_as(&self, other: &Finder) -> bool {
        let m = self.module.max(other.module);
        (self.x - other.x).abs() <= 3.0 * m && (self.y - other.y).abs() <= 3.0 * m
    }
}

/// Whether the image holds two finder patterns of one QR code, as ZXing
/// looks for them: dark-light-dark-light-dark runs in 1:1:3:1:1 along
/// every other row, confirmed down the column through the centre, with a
/// global threshold halfway between the darkest and lightest sampled
/// pixels. Rendered text and photographs give row matches often, column
/// confirmations at matching sizes and places rarely.
fn has_finder_pair(w: usize, h: usize, grey: &[u8]) -> bool {
    let (mut lo, mut hi) = (255u8, 0u8);
    for &p in grey.iter().step_by(7) {
        lo = lo.min(p);
        hi = hi.max(p);
    }
    let threshold = ((u16::from(lo) + u16::from(hi)) / 2) as u8;
    let column = Column {
        grey,
        w,
        h,
        threshold,
    };
    let mut found: Vec<Finder> = Vec::new();
    for y in (0..h).step_by(2) {
        let Some(row) = grey.get(y * w..(y + 1) * w) else {
            break;
        };
        for (x, total) in row_finders(row, threshold) {
            let Some((cy, vertical)) = column.cross_check(x, y, total) else {
                continue;
            };
            let finder = Finder {
                x: x as f32,
                y: cy,
                module: (total + vertical) as f32 / 14.0,
            };
            if found.iter().any(|f| f.same_as(&finder)) {
                continue;
            }
            if found.iter().any(|f| f.pairs_with(&finder)) {
                return true;
            }
            if found.len() >= MAX_FINDERS {
                return false;
            }
            found.push(finder);
        }
    }
    false
}

/// The centres (x of the middle run) and widths of the finder-like run
/// sequences along a row.
fn row_finders(row: &[u8], threshold: u8) -> Vec<(usize, u32)> {
    let mut hits = Vec::new();
    // The last five runs, oldest first.
    let mut runs = [0u32; 5];
    let mut count = 0usize;
    let mut dark = row.first().is_some_and(|&p| p < threshold);
    let mut len = 0u32;
    let mut close = |end: usize, len: u32, dark: bool, hits: &mut Vec<(usize, u32)>| {
        runs.rotate_left(1);
        if let Some(last) = runs.last_mut() {
            *last = len;
        }
        count += 1;
        if count >= 5 && dark && finder_ratio(&runs) {
            let [_, _, middle, d, e] = runs;
            let centre = end.saturating_sub((e + d + middle / 2) as usize);
            hits.push((centre, runs.iter().sum()));
        }
    };
    for (x, &p) in row.iter().enumerate() {
        let d = p < threshold;
        if d == dark {
            len += 1;
        } else {
            close(x, len, dark, &mut hits);
            dark = d;
            len = 1;
        }
    }
    close(row.len(), len, dark, &mut hits);
    hits
}

/// A grey image read down its columns.
struct Column<'a> {
    grey: &'a [u8],
    w: usize,
    h: usize,
    threshold: u8,
}

impl Column<'_> {
    fn dark(&self, x: usize, y: usize) -> bool {
        self.grey
            .get(y * self.w + x)
            .is_some_and(|&p| p < self.threshold)
    }

    /// Pixels from `y` (excluded) upwards, or downwards, of one colour,
    /// stopping past `max`.
    fn run(&self, x: usize, y: usize, up: bool, dark: bool, max: u32) -> (u32, usize) {
        let (mut n, mut y) = (0u32, y);
        loop {
            let next = if up { y.checked_sub(1) } else { Some(y + 1) };
            let Some(next) = next.filter(|&n| n < self.h) else {
                return (n, y);
            };
            if self.dark(x, next) != dark || n > max {
                return (n, y);
            }
            n += 1;
            y = next;
        }
    }

    /// Confirms a row's finder candidate at (`x`, `y`) down its column:
    /// the vertical centre and run total when the column crosses
    /// 1:1:3:1:1 runs of about the row's total.
    fn cross_check(&self, x: usize, y: usize, total: u32) -> Option<(f32, u32)> {
        if !self.dark(x, y) {
            return None;
        }
        let max = total;
        let (up_centre, top) = self.run(x, y, true, true, max);
        let (up_light, top) = self.run(x, top, true, false, max);
        let (up_dark, _) = self.run(x, top, true, true, max);
        let (down_centre, bottom) = self.run(x, y, false, true, max);
        let (down_light, bottom) = self.run(x, bottom, false, false, max);
        let (down_dark, _) = self.run(x, bottom, false, true, max);
        let runs = [
            up_dark,
            up_light,
            up_centre + 1 + down_centre,
            down_light,
            down_dark,
        ];
        let vertical: u32 = runs.iter().sum();
        if 5 * vertical.abs_diff(total) >= 2 * total || !finder_ratio(&runs) {
            return None;
        }
        let centre = y as f32 + (down_centre as f32 - up_centre as f32) / 2.0;
        Some((centre, vertical))
    }
}

/// Runs in 1:1:3:1:1 within half a module each.
fn finder_ratio(runs: &[u32; 5]) -> bool {
    let total: u32 = runs.iter().sum();
    if total < 7 {
        return false;
    }
    let module = total as f32 / 7.0;
    let slack = module / 2.0;
    let [a, b, c, d, e] = runs.map(|r| r as f32);
    (a - module).abs() < slack
        && (b - module).abs() < slack
        && (c - 3.0 * module).abs() < 3.0 * slack
        && (d - module).abs() < slack
        && (e - module).abs() < slack
}

/// Whether the image has both dark and light pixels in some number: a flat
/// or nearly flat image (a blank page, a colour block) holds no code and
/// is not worth the search. Samples one pixel in 64.
fn has_contrast(grey: &[u8]) -> bool {
    let (mut dark, mut light, mut seen) = (0usize, 0usize, 0usize);
    for &p in grey.iter().step_by(64) {
        seen += 1;
        if p < 96 {
            dark += 1;
        } else if p > 160 {
            light += 1;
        }
    }
    // A QR code is about half dark modules inside its area; with the quiet
    // zone and the rest of the picture, a few percent of each suffice.
    dark * 50 >= seen && light * 50 >= seen
}

/// `pixels` of `layout` as grey, box-filtered down by `factor` in both
/// directions (1: grey at full size).
fn shrink(width: usize, height: usize, pixels: &[u8], layout: Layout, factor: usize) -> Vec<u8> {
    let channels = layout.channels();
    let (w, h) = (width / factor, height / factor);
    if factor == 1 {
        let mut out = vec![255u8; w * h];
        grey_row(layout, pixels, &mut out);
        return out;
    }
    let mut out = Vec::with_capacity(w * h);
    let mut sums = vec![0u32; w];
    let mut row_grey = vec![0u8; w * factor];
    let area = (factor * factor) as u32;
    let stride = width * channels;
    for by in 0..h {
        sums.iter_mut().for_each(|s| *s = 0);
        for y in by * factor..(by + 1) * factor {
            let row = pixels
                .get(y * stride..y * stride + w * factor * channels)
                .unwrap_or_default();
            // Grey first, in a loop of one layout, then the block sums.
            grey_row(layout, row, &mut row_grey);
            for (chunk, sum) in row_grey.chunks_exact(factor).zip(sums.iter_mut()) {
                *sum += chunk.iter().map(|&p| u32::from(p)).sum::<u32>();
            }
        }
        out.extend(sums.iter().map(|&s| (s / area) as u8));
    }
    out
}

/// A QR code's content: a link goes to the view's links (`QrLink`),
/// anything else is described (`QrOther`).
fn report(content: &str, budget: &Budget, out: &mut Analysis) {
    let content = content.trim();
    if content.is_empty() {
        return;
    }
    if let Some(link) = as_link(content) {
        out.url(&link, true, &budget.limits);
        out.find(FindingCode::QrLink, format!("QR code links to {link}"));
        return;
    }
    let shown = crate::html::truncate_at_char(content, 120);
    let ellipsis = if shown.len() < content.len() {
        "…"
    } else {
        ""
    };
    let lower = content.to_ascii_lowercase();
    let what = if lower.starts_with("tel:") || looks_like_phone(content) {
        "a phone number"
    } else if lower.starts_with("mailto:") || lower.starts_with("matmsg:") {
        "an e-mail address"
    } else if lower.starts_with("smsto:") || lower.starts_with("sms:") {
        "a text message"
    } else if lower.starts_with("wifi:") {
        "Wi-Fi credentials"
    } else {
        "text"
    };
    out.find(
        FindingCode::QrOther,
        format!("QR code holds {what}: {shown}{ellipsis}"),
    );
}

/// The content as a web link: http(s), `www.`, or a bare domain followed by
/// a path (`pay.example/x`), which phone cameras open as a link too.
fn as_link(content: &str) -> Option<String> {
    if content.chars().any(char::is_whitespace) {
        return None;
    }
    let lower = content.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Some(content.to_string());
    }
    if lower.starts_with("www.") && content.len() > 4 {
        return Some(format!("http://{content}"));
    }
    let (host, _path) = content.split_once('/')?;
    let tld = host.rsplit_once('.')?.1;
    let host_ok = host
        .chars()
        .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        && !host.starts_with('.');
    (host_ok && tld.len() >= 2 && tld.chars().all(char::is_alphabetic))
        .then(|| format!("http://{content}"))
}

/// Mostly digits with phone punctuation, 7 to 20 digits.
fn looks_like_phone(content: &str) -> bool {
    let digits = content.chars().filter(char::is_ascii_digit).count();
    (7..=20).contains(&digits)
        && content
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_recognised_with_and_without_a_scheme() {
        assert_eq!(
            as_link("https://pay.example/x").as_deref(),
            Some("https://pay.example/x")
        );
        assert_eq!(
            as_link("www.pay.example").as_deref(),
            Some("http://www.pay.example")
        );
        assert_eq!(
            as_link("pay.example/login").as_deref(),
            Some("http://pay.example/login")
        );
        assert_eq!(as_link("pay.example"), None);
        assert_eq!(as_link("call 1-888-555-0199"), None);
        assert_eq!(as_link("1.5/2"), None);
    }

    #[test]
    fn phone_numbers_are_told_from_other_text() {
        assert!(looks_like_phone("+1 (888) 555-0199"));
        assert!(!looks_like_phone("order 12345"));
    }

    /// A QR code of `content`, `scale` pixels a module, a four-module
    /// quiet zone: (side, grey pixels).
    fn qr(content: &str, scale: usize) -> (usize, Vec<u8>) {
        let code = qrcode::QrCode::new(content.as_bytes()).expect("fits");
        let modules = code.width();
        let colors = code.to_colors();
        let side = (modules + 8) * scale;
        let mut pixels = vec![255u8; side * side];
        for (i, color) in colors.iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (mx, my) = (i % modules + 4, i / modules + 4);
                for y in my * scale..(my + 1) * scale {
                    for x in mx * scale..(mx + 1) * scale {
                        pixels[y * side + x] = 0;
                    }
                }
            }
        }
        (side, pixels)
    }

    #[test]
    fn a_qr_code_has_a_finder_pair_at_any_module_size() {
        for scale in [2, 3, 5, 9] {
            let (side, pixels) = qr("https://pay.example/invoice?id=4711", scale);
            assert!(has_finder_pair(side, side, &pixels), "scale {scale}");
        }
    }

    #[test]
    fn a_lone_finder_pattern_and_stripes_are_not_a_finder_pair() {
        // One finder pattern drawn alone: rows and columns match, but
        // there is no second one.
        let side = 100;
        let mut pixels = vec![255u8; side * side];
        for y in 0..28 {
            for x in 0..28 {
                let ring = (x / 4).min(y / 4).min(6 - x / 4).min(6 - y / 4);
                if ring != 1 {
                    pixels[(y + 30) * side + x + 30] = 0;
                }
            }
        }
        assert!(!has_finder_pair(side, side, &pixels));
        // Vertical stripes in finder proportions on every row: rows match,
        // columns never do.
        let stripes: Vec<u8> = (0..side * side)
            .map(|i| {
                let x = i % side % 28;
                if (4..8).contains(&x) || (20..24).contains(&x) {
                    255
                } else {
                    0
                }
            })
            .collect();
        assert!(!has_finder_pair(side, side, &stripes));
    }

    #[test]
    fn a_colour_jpeg_decodes_to_the_luma_of_its_pixels() {
        // A gradient in colour: every row another hue, every column
        // another brightness.
        let (w, h) = (96u32, 64u32);
        let rgb: Vec<u8> = (0..h)
            .flat_map(|y| {
                (0..w).flat_map(move |x| {
                    let v = (x * 255 / w) as u8;
                    [v, (y * 4) as u8, 255 - v]
                })
            })
            .collect();
        let image = image::RgbImage::from_raw(w, h, rgb.clone()).expect("pixels fit");
        let mut jpeg = Cursor::new(Vec::new());
        image
            .write_to(&mut jpeg, image::ImageFormat::Jpeg)
            .expect("encodes");
        let grey = jpeg_luma(jpeg.get_ref(), w, h).expect("a YCbCr JPEG decodes to luma");
        assert_eq!(grey.len(), (w * h) as usize);
        let error: u64 = grey
            .iter()
            .zip(rgb.chunks_exact(3))
            .map(|(&g, p)| u64::from(g.abs_diff(luma(p[0], p[1], p[2]) as u8)))
            .sum();
        let mean = error as f64 / grey.len() as f64;
        assert!(mean < 4.0, "mean luma error {mean}");
        // A header that does not match the image, or another format: the
        // image crate's path.
        assert!(jpeg_luma(jpeg.get_ref(), w + 1, h).is_none());
        assert!(jpeg_luma(b"\x89PNG\r\n\x1a\n not a jpeg", w, h).is_none());
        // Cut short (a hostile or broken file): no panic, and never a
        // buffer of another size than the header's.
        let bytes = jpeg.get_ref();
        for cut in [2, 20, bytes.len() / 3, bytes.len() - 2] {
            let cut_short = bytes.get(..cut).expect("within the file");
            assert!(jpeg_luma(cut_short, w, h).is_none_or(|g| g.len() == (w * h) as usize));
        }
    }

    #[test]
    fn grey_over_white_divides_by_255_exactly() {
        for l in 0..=255u32 {
            for a in 0..=255u8 {
                let x = l * u32::from(a) + 255 * (255 - u32::from(a));
                assert_eq!(over_white(l, a), x / 255, "l {l} a {a}");
            }
        }
    }

    #[test]
    fn grey_and_shrink_in_one_pass_match_each_layout() {
        let grey = [0u8, 255, 10, 10, 0, 255, 10, 10];
        let rgb: Vec<u8> = grey.iter().flat_map(|&p| [p, p, p]).collect();
        let rgba: Vec<u8> = grey.iter().flat_map(|&p| [p, p, p, 255]).collect();
        // Fully transparent pixels read as white.
        let clear: Vec<u8> = grey.iter().flat_map(|&p| [p, 0]).collect();
        assert_eq!(shrink(4, 2, &grey, Layout::Grey, 2), vec![127, 10]);
        assert_eq!(shrink(4, 2, &rgb, Layout::Rgb, 2), vec![127, 10]);
        assert_eq!(shrink(4, 2, &rgba, Layout::Rgba, 2), vec![127, 10]);
        assert_eq!(shrink(4, 2, &clear, Layout::GreyAlpha, 2), vec![255, 255]);
        assert_eq!(shrink(4, 2, &rgb, Layout::Rgb, 1), grey.to_vec());
    }
}
