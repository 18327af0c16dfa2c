//! PDF documents: text, link annotations, scripts and images (for QR
//! codes), within the budget.
//!
//! Before `lopdf` sees a byte, a linear pre-scan ([`prescan`]) rejects what
//! a recursive parser should not meet: arrays or dictionaries nested deeper
//! than [`MAX_NESTING`] (a stack overflow aborts the whole process and
//! cannot be caught), more objects than the limit allows, and encrypted
//! files (their objects would need decrypting before anything is read; they
//! are reported `Unreadable`). The parse itself runs under `catch_unwind`.
//!
//! Decompression is ours, never lopdf's unbounded one: object streams are
//! inflated by a load filter that draws on the message's
//! `inflated_left`; page content streams and image data are inflated with a
//! per-stream cap ([`MAX_STREAM_BYTES`]) and drawn from the same budget. Only
//! the first [`MAX_PAGES`] pages are read.
//!
//! What is read: `/Link` annotations' `/URI` actions; scripts anywhere in
//! the document (`/JS`, `/JavaScript`, `/Launch`, `/OpenAction` and `/AA`
//! that run one, embedded files); the text shown by `Tj`, `TJ`, `'` and `"`
//! in simple (single-byte or UTF-16) encodings and the links written in it;
//! image XObjects that are JPEG (`/DCTDecode`) or 8-bit grey/RGB Flate
//! data without a predictor, searched for QR codes.
//!
//! What is not: text in fonts that need their ToUnicode map (CID fonts
//! show up as no text), form XObjects' content, images with other filters
//! or predictors, and QR codes drawn as vector rectangles, which no reader
//! finds without rendering the page.

use super::{image_qr, Analysis, Budget, FindingCode};
use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};
use std::cell::Cell;
use std::io::Read;

/// Deepest nesting of arrays and dictionaries accepted.
pub(super) const MAX_NESTING: u32 = 64;

/// Pages whose content, annotations and images are read.
pub(super) const MAX_PAGES: usize = 10;

/// Largest decompressed size of one stream (content, image, object stream).
pub(super) const MAX_STREAM_BYTES: usize = 8 << 20;

/// Largest decompressed size of one page content stream read for text:
/// text operators are a small part of a page, drawings the bulk.
const MAX_CONTENT_BYTES: usize = 2 << 20;

/// Image XObjects looked at per document, on its first [`IMAGE_PAGES`]
/// pages: a QR lure puts its code up front, and decoding every picture of
/// a brochure would cost more than the rest of the scan.
const MAX_IMAGES: usize = 4;

/// Pages whose images are searched for QR codes.
const IMAGE_PAGES: usize = 2;

/// Dictionary nodes visited while looking for scripts.
const MAX_SCRIPT_NODES: usize = 200_000;

/// Reads one PDF into `out`.
pub(super) fn inspect_pdf(bytes: &[u8], budget: &mut Budget, out: &mut Analysis) {
    let scan = prescan(bytes, budget.limits.max_pdf_objects);
    if scan.too_deep {
        out.find(
            FindingCode::Unreadable,
            format!("PDF arrays or dictionaries nested more than {MAX_NESTING} deep"),
        );
        return;
    }
    if scan.objects > budget.limits.max_pdf_objects {
        out.find(
            FindingCode::OverBudget,
            format!(
                "PDF has more than {} objects",
                budget.limits.max_pdf_objects
            ),
        );
        return;
    }
    if scan.encrypted {
        out.find(FindingCode::Unreadable, "PDF is encrypted");
        return;
    }
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let document = load(bytes, budget, out)?;
        read_document(&document, budget, out);
        Some(())
    }));
    if read.is_err() {
        out.find(
            FindingCode::Unreadable,
            "the PDF reader failed on this file",
        );
    }
}

// ------------------------------------------------------------ pre-scan

/// What the pre-scan saw.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Prescan {
    /// Nesting deeper than [`MAX_NESTING`] somewhere outside streams and
    /// strings.
    pub too_deep: bool,
    /// `obj` keywords outside streams (stops counting past the limit).
    pub objects: usize,
    /// An `/Encrypt` entry.
    pub encrypted: bool,
}

/// One pass over the file's structure: strings and comments are skipped,
/// stream data is jumped over to its `endstream`.
pub(super) fn prescan(bytes: &[u8], max_objects: usize) -> Prescan {
    let mut scan = Prescan::default();
    let mut depth = 0u32;
    let mut i = 0usize;
    let byte = |i: usize| bytes.get(i).copied();
    while let Some(b) = byte(i) {
        match b {
            b'%' => {
                i = memchr::memchr2(b'\n', b'\r', bytes.get(i..).unwrap_or_default())
                    .map_or(bytes.len(), |n| i + n);
            }
            b'(' => i = skip_literal(bytes, i),
            b'[' => {
                depth += 1;
                i += 1;
            }
            b'<' if byte(i + 1) == Some(b'<') => {
                depth += 1;
                i += 2;
            }
            b'<' => {
                i = memchr::memchr(b'>', bytes.get(i..).unwrap_or_default())
                    .map_or(bytes.len(), |n| i + n + 1);
            }
            b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'>' if byte(i + 1) == Some(b'>') => {
                depth = depth.saturating_sub(1);
                i += 2;
            }
            b'/' => {
                let end = token_end(bytes, i + 1);
                if bytes.get(i..end) == Some(b"/Encrypt") {
                    scan.encrypted = true;
                }
                i = end;
            }
            _ if is_regular(b) => {
                let end = token_end(bytes, i);
                match bytes.get(i..end) {
                    Some(b"obj") => {
                        scan.objects += 1;
                        if scan.objects > max_objects {
                            return scan;
                        }
                    }
                    Some(b"stream") => {
                        // The data may hold any byte: jump to its end.
                        let rest = bytes.get(end..).unwrap_or_default();
                        i = memchr::memmem::find(rest, b"endstream")
                            .map_or(bytes.len(), |n| end + n + b"endstream".len());
                        continue;
                    }
                    _ => {}
                }
                i = end;
            }
            _ => i += 1,
        }
        if depth > MAX_NESTING {
            scan.too_deep = true;
            return scan;
        }
    }
    scan
}

fn is_regular(b: u8) -> bool {
    !b.is_ascii_whitespace() && b != 0 && !b"()<>[]{}/%".contains(&b)
}

/// Index just past the regular characters starting at `i`.
fn token_end(bytes: &[u8], i: usize) -> usize {
    let rest = bytes.get(i..).unwrap_or_default();
    i + rest
        .iter()
        .position(|&b| !is_regular(b))
        .unwrap_or(rest.len())
}

/// Index just past the literal string opening at `i` (balanced
/// parentheses, backslash escapes), or the end.
fn skip_literal(bytes: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while let Some(&b) = bytes.get(j) {
        match b {
            b'\\' => j += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    bytes.len()
}

// ------------------------------------------------------------ loading

thread_local! {
    /// The load filter's budget: lopdf takes a plain `fn` as filter.
    static LOAD: Cell<LoadState> = const { Cell::new(LoadState::EMPTY) };
}

#[derive(Clone, Copy, Debug)]
struct LoadState {
    inflated_left: usize,
    objects_left: usize,
    over_objects: bool,
    over_inflate: bool,
}

impl LoadState {
    const EMPTY: LoadState = LoadState {
        inflated_left: 0,
        objects_left: 0,
        over_objects: false,
        over_inflate: false,
    };
}

/// Parses the document with object streams inflated by [`load_filter`].
fn load(bytes: &[u8], budget: &mut Budget, out: &mut Analysis) -> Option<Document> {
    LOAD.set(LoadState {
        inflated_left: budget.inflated_left,
        objects_left: budget.limits.max_pdf_objects,
        over_objects: false,
        over_inflate: false,
    });
    let options = LoadOptions {
        filter: Some(load_filter),
        // Cross-reference streams are decoded by lopdf before any filter
        // sees them; they are small (a few bytes per object).
        max_decompressed_size: Some(MAX_STREAM_BYTES.min(budget.inflated_left.max(1 << 16))),
        ..LoadOptions::default()
    };
    let loaded = Document::load_mem_with_options(bytes, options);
    let state = LOAD.replace(LoadState::EMPTY);
    budget.inflated_left = state.inflated_left;
    if state.over_objects {
        out.find(
            FindingCode::OverBudget,
            format!(
                "PDF has more than {} objects",
                budget.limits.max_pdf_objects
            ),
        );
    }
    if state.over_inflate {
        out.find(
            FindingCode::OverBudget,
            "PDF object streams inflate past the decompression budget",
        );
    }
    match loaded {
        Ok(document) => Some(document),
        Err(e) => {
            out.find(FindingCode::Unreadable, format!("PDF does not parse: {e}"));
            None
        }
    }
}

/// Counts objects and inflates object streams within the budget, so that
/// lopdf never decompresses them itself. Dropped objects are lost to the
/// reading, which then reports `OverBudget`.
fn load_filter(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    let mut state = LOAD.get();
    let keep = filter_object(&mut state, object);
    LOAD.set(state);
    if !keep {
        return None;
    }
    // lopdf keeps the object it passed for a top-level object, and the
    // returned one for an object-stream member. Streams are never members,
    // so the (large) stream is not copied; the rest are small.
    match object {
        Object::Stream(_) => Some((id, Object::Null)),
        other => Some((id, other.clone())),
    }
}

fn filter_object(state: &mut LoadState, object: &mut Object) -> bool {
    if state.objects_left == 0 {
        state.over_objects = true;
        return false;
    }
    state.objects_left -= 1;
    let Object::Stream(stream) = object else {
        return true;
    };
    if !stream.dict.has_type(b"ObjStm") {
        return true;
    }
    let flate_only = matches!(filter_names(&stream.dict).as_slice(), [f] if f == b"FlateDecode");
    if !flate_only || stream.dict.has(b"DecodeParms") {
        // Not worth a decoder of our own: dropped.
        return false;
    }
    let cap = MAX_STREAM_BYTES.min(state.inflated_left);
    let (data, complete) = inflate(&stream.content, cap);
    state.inflated_left = state.inflated_left.saturating_sub(data.len());
    if !complete {
        state.over_inflate = true;
        return false;
    }
    stream.dict.remove(b"Filter");
    stream.dict.set("Length", data.len() as i64);
    stream.content = data;
    true
}

/// Inflates zlib data to at most `cap` bytes: the bytes out (what came
/// before an error in corrupt data too), and whether the stream ended
/// within the cap.
fn inflate(data: &[u8], cap: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut reader = flate2::read::ZlibDecoder::new(data).take(cap as u64 + 1);
    let _ = reader.read_to_end(&mut out);
    let complete = out.len() <= cap;
    out.truncate(cap);
    (out, complete)
}

/// A stream's filter names, in order.
fn filter_names(dict: &Dictionary) -> Vec<&[u8]> {
    match dict.get(b"Filter") {
        Ok(Object::Name(n)) => vec![n.as_slice()],
        Ok(Object::Array(a)) => a.iter().filter_map(|o| o.as_name().ok()).collect(),
        _ => Vec::new(),
    }
}

/// A stream's data decoded: unfiltered, or Flate without a predictor,
/// inflated within the budget. None for other filters or no budget left.
fn stream_data(
    document: &Document,
    id: ObjectId,
    cap: usize,
    budget: &mut Budget,
    out: &mut Analysis,
) -> Option<Vec<u8>> {
    let stream = document.get_object(id).ok()?.as_stream().ok()?;
    let filters = filter_names(&stream.dict);
    match filters.as_slice() {
        [] => Some(
            stream
                .content
                .get(..cap.min(stream.content.len()))?
                .to_vec(),
        ),
        [f] if *f == b"FlateDecode" && !stream.dict.has(b"DecodeParms") => {
            let cap = cap.min(budget.inflated_left);
            if cap == 0 {
                out.find(
                    FindingCode::OverBudget,
                    "PDF streams inflate past the decompression budget",
                );
                return None;
            }
            let (data, complete) = inflate(&stream.content, cap);
            budget.inflated_left = budget.inflated_left.saturating_sub(data.len());
            if !complete {
                out.find(
                    FindingCode::OverBudget,
                    format!("a PDF stream inflates past {cap} bytes; read that far"),
                );
            }
            Some(data)
        }
        _ => None,
    }
}

// ------------------------------------------------------------ reading

fn read_document(document: &Document, budget: &mut Budget, out: &mut Analysis) {
    scripts(document, out);
    let mut text = String::new();
    let mut images_seen: Vec<ObjectId> = Vec::new();
    for (n, page) in document.page_iter().take(MAX_PAGES).enumerate() {
        let Ok(page_dict) = document.get_dictionary(page) else {
            continue;
        };
        annotations(document, page_dict, budget, out);
        for content in document.get_page_contents(page) {
            if text.len() >= budget.limits.max_text_bytes {
                break;
            }
            if let Some(data) = stream_data(document, content, MAX_CONTENT_BYTES, budget, out) {
                content_text(&data, &mut text, budget.limits.max_text_bytes);
                text.push('\n');
            }
        }
        if n < IMAGE_PAGES {
            page_images(document, page, &mut images_seen, budget, out);
        }
    }
    let text = text.trim();
    if !text.is_empty() {
        text_links(text, budget, out);
        out.push_text(text, &budget.limits);
    }
}

/// Link annotations' URIs, and actions that launch or script.
fn annotations(document: &Document, page: &Dictionary, budget: &Budget, out: &mut Analysis) {
    let Ok(Object::Array(annots)) = page.get(b"Annots").map(|o| deref(document, o)) else {
        return;
    };
    for annot in annots.iter().take(1_000) {
        let Ok(annot) = deref(document, annot).as_dict() else {
            continue;
        };
        let Ok(action) = annot.get(b"A").map(|o| deref(document, o)) else {
            continue;
        };
        let Ok(action) = action.as_dict() else {
            continue;
        };
        if let Ok(uri) = action.get(b"URI").map(|o| deref(document, o)) {
            if let Ok(uri) = uri.as_str() {
                let uri = pdf_string(uri);
                let uri = uri.trim();
                if !uri.is_empty() {
                    out.url(uri, false, &budget.limits);
                    out.find(
                        FindingCode::PdfLink,
                        format!("PDF link annotation to {uri}"),
                    );
                }
            }
        }
    }
}

/// Follows a reference (one level: lopdf's objects hold no chains worth
/// following further).
fn deref<'a>(document: &'a Document, object: &'a Object) -> &'a Object {
    match object {
        Object::Reference(id) => document.get_object(*id).unwrap_or(&Object::Null),
        o => o,
    }
}

/// JavaScript, launch actions and embedded files anywhere in the document.
fn scripts(document: &Document, out: &mut Analysis) {
    let mut found: Vec<&'static str> = Vec::new();
    let mut note = |what: &'static str| {
        if !found.contains(&what) {
            found.push(what);
        }
    };
    let mut stack: Vec<(&Object, u8)> = document.objects.values().map(|o| (o, 0)).collect();
    let mut visited = 0usize;
    while let Some((object, depth)) = stack.pop() {
        visited += 1;
        if visited > MAX_SCRIPT_NODES {
            break;
        }
        let dict = match object {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &s.dict,
            Object::Array(a) if depth < 8 => {
                stack.extend(a.iter().map(|o| (o, depth + 1)));
                continue;
            }
            _ => continue,
        };
        for (key, value) in dict {
            match key.as_slice() {
                b"JS" => note("JavaScript (/JS)"),
                b"JavaScript" => note("a JavaScript name tree (/JavaScript)"),
                b"EmbeddedFile" | b"EmbeddedFiles" => note("an embedded file"),
                b"OpenAction" | b"AA" => {
                    let action = deref(document, value);
                    match action_kind(document, action) {
                        Some(b"JavaScript") => note("JavaScript run on opening (/OpenAction)"),
                        Some(b"Launch") => note("a program launched on opening (/Launch)"),
                        _ => {}
                    }
                }
                b"S" if value.as_name().ok() == Some(b"Launch") => {
                    note("an action that launches a program (/Launch)")
                }
                b"S" if value.as_name().ok() == Some(b"JavaScript") => {
                    note("JavaScript (/S /JavaScript)")
                }
                _ => {}
            }
            if depth < 8 && matches!(value, Object::Dictionary(_) | Object::Array(_)) {
                stack.push((value, depth + 1));
            }
        }
        if dict.has_type(b"EmbeddedFile") {
            note("an embedded file");
        }
    }
    if !found.is_empty() {
        // The most telling first: an action on opening.
        found.sort_by_key(|w| !w.contains("opening"));
        out.find(
            FindingCode::PdfScript,
            format!("PDF has {}", found.join(", ")),
        );
    }
}

/// The `/S` of an action, or of the first action in `/AA`'s dictionary.
fn action_kind<'a>(document: &'a Document, action: &'a Object) -> Option<&'a [u8]> {
    let dict = action.as_dict().ok()?;
    if let Ok(s) = dict.get(b"S").and_then(Object::as_name) {
        return Some(s);
    }
    // `/AA << /O << /S /JavaScript … >> >>`: trigger → action.
    dict.iter().find_map(|(_, a)| {
        let a = deref(document, a).as_dict().ok()?;
        let s = a.get(b"S").and_then(Object::as_name).ok()?;
        matches!(s, b"JavaScript" | b"Launch").then_some(s)
    })
}

/// Links written in the text.
fn text_links(text: &str, budget: &Budget, out: &mut Analysis) {
    let mut finder = linkify::LinkFinder::new();
    finder
        .url_must_have_scheme(false)
        .kinds(&[linkify::LinkKind::Url]);
    for link in finder.links(text).take(budget.limits.max_links) {
        let s = link.as_str();
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.")
        {
            out.url(s, false, &budget.limits);
            out.find(FindingCode::PdfLink, format!("PDF text links to {s}"));
        }
    }
}

/// Image XObjects of a page, searched for QR codes.
fn page_images(
    document: &Document,
    page: ObjectId,
    seen: &mut Vec<ObjectId>,
    budget: &mut Budget,
    out: &mut Analysis,
) {
    let Ok((direct, ids)) = document.get_page_resources(page) else {
        return;
    };
    let resources = direct.into_iter().chain(
        ids.iter()
            .filter_map(|id| document.get_dictionary(*id).ok()),
    );
    for resources in resources {
        let Ok(Object::Dictionary(xobjects)) =
            resources.get(b"XObject").map(|o| deref(document, o))
        else {
            continue;
        };
        for (_, xobject) in xobjects {
            if budget.qr_images_left == 0 || seen.len() >= MAX_IMAGES {
                return;
            }
            let Ok(id) = xobject.as_reference() else {
                continue;
            };
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            image(document, id, budget, out);
        }
    }
}

/// One image XObject: JPEG bytes go to the image reader, 8-bit grey or RGB
/// Flate data to the QR search.
fn image(document: &Document, id: ObjectId, budget: &mut Budget, out: &mut Analysis) {
    let Ok(stream) = document.get_object(id).and_then(Object::as_stream) else {
        return;
    };
    let dict = &stream.dict;
    if dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Image") {
        return;
    }
    let number = |key: &[u8]| {
        dict.get(key)
            .map(|o| deref(document, o))
            .and_then(Object::as_i64)
            .ok()
            .and_then(|n| usize::try_from(n).ok())
    };
    let (Some(width), Some(height)) = (number(b"Width"), number(b"Height")) else {
        return;
    };
    let min = image_qr::MIN_SIDE as usize;
    if width < min || height < min {
        return;
    }
    match filter_names(dict).as_slice() {
        [f] if *f == b"DCTDecode" => image_qr::inspect_image(&stream.content, budget, out),
        [f] if *f == b"FlateDecode" => {
            let components = match dict.get(b"ColorSpace").map(|o| deref(document, o)) {
                Ok(Object::Name(n)) if n == b"DeviceGray" => 1,
                Ok(Object::Name(n)) if n == b"DeviceRGB" => 3,
                _ => return,
            };
            if number(b"BitsPerComponent") != Some(8) || dict.has(b"DecodeParms") {
                return;
            }
            let area = (width as u64).saturating_mul(height as u64);
            if area > budget.limits.max_image_pixels {
                out.find(
                    FindingCode::OverBudget,
                    format!("PDF image claims {width}×{height} pixels"),
                );
                return;
            }
            let expected = width * height * components;
            let Some(data) = stream_data(document, id, expected, budget, out) else {
                return;
            };
            let layout = if components == 1 {
                image_qr::Layout::Grey
            } else {
                image_qr::Layout::Rgb
            };
            image_qr::qr_in_pixels(width, height, &data, layout, budget, out);
        }
        _ => {}
    }
}

// ------------------------------------------------------------ page text

/// Operands kept before an operator; a content stream holding more before
/// one is not text worth reading.
const MAX_OPERANDS: usize = 4_096;

enum Operand {
    Text(String),
    Number(f32),
    ArrayStart,
    Other,
}

/// Appends the text a content stream shows to `text`, up to `max` bytes.
fn content_text(data: &[u8], text: &mut String, max: usize) {
    let mut operands: Vec<Operand> = Vec::new();
    let mut i = 0usize;
    let byte = |i: usize| data.get(i).copied();
    while let Some(b) = byte(i) {
        if text.len() >= max {
            return;
        }
        let push = |operands: &mut Vec<Operand>, o: Operand| {
            if operands.len() < MAX_OPERANDS {
                operands.push(o);
            }
        };
        match b {
            b'%' => {
                i = memchr::memchr2(b'\n', b'\r', data.get(i..).unwrap_or_default())
                    .map_or(data.len(), |n| i + n);
            }
            b'(' => {
                let end = skip_literal(data, i);
                let raw = literal_bytes(data.get(i + 1..end.saturating_sub(1)).unwrap_or_default());
                push(&mut operands, decode_shown(&raw));
                i = end;
            }
            b'<' if byte(i + 1) == Some(b'<') => {
                push(&mut operands, Operand::Other);
                i += 2;
            }
            b'<' => {
                let end = memchr::memchr(b'>', data.get(i..).unwrap_or_default())
                    .map_or(data.len(), |n| i + n);
                let raw = hex_bytes(data.get(i + 1..end).unwrap_or_default());
                let text = japanese_utf16(&raw).map_or_else(|| decode_shown(&raw), Operand::Text);
                push(&mut operands, text);
                i = end + 1;
            }
            b'[' => {
                push(&mut operands, Operand::ArrayStart);
                i += 1;
            }
            b'/' => {
                push(&mut operands, Operand::Other);
                i = token_end(data, i + 1);
            }
            _ if is_regular(b) => {
                let end = token_end(data, i);
                let token = data.get(i..end).unwrap_or_default();
                i = end;
                if let Some(n) = std::str::from_utf8(token).ok().and_then(|t| t.parse().ok()) {
                    push(&mut operands, Operand::Number(n));
                    continue;
                }
                operator(token, &mut operands, text);
                if token == b"ID" {
                    // Inline image data: binary up to `EI`.
                    let rest = data.get(i..).unwrap_or_default();
                    i = memchr::memmem::find(rest, b"EI").map_or(data.len(), |n| i + n + 2);
                }
                operands.clear();
            }
            _ => i += 1,
        }
    }
}

/// What a text operator shows, appended.
fn operator(token: &[u8], operands: &mut [Operand], text: &mut String) {
    let space = |text: &mut String, c: char| {
        if !text.is_empty() && !text.ends_with(char::is_whitespace) {
            text.push(c);
        }
    };
    match token {
        b"Tj" | b"'" | b"\"" => {
            if token != b"Tj" {
                space(text, '\n');
            }
            if let Some(Operand::Text(t)) = operands
                .iter_mut()
                .rev()
                .find(|o| matches!(o, Operand::Text(_)))
            {
                text.push_str(t);
            }
        }
        b"TJ" => {
            let start = operands
                .iter()
                .rposition(|o| matches!(o, Operand::ArrayStart))
                .unwrap_or(0);
            for o in operands.iter().skip(start) {
                match o {
                    Operand::Text(t) => text.push_str(t),
                    // A wide negative kerning is a space between words.
                    Operand::Number(n) if *n < -180.0 => space(text, ' '),
                    _ => {}
                }
            }
        }
        b"Td" | b"TD" | b"Tm" => space(text, ' '),
        b"T*" | b"ET" => space(text, '\n'),
        _ => {}
    }
}

/// A literal string's bytes with its escapes decoded.
fn literal_bytes(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut it = raw.iter().copied().peekable();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(e) = it.next() else { break };
        match e {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'\r' => {
                if it.peek() == Some(&b'\n') {
                    it.next();
                }
            }
            b'\n' => {}
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match it.peek() {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            it.next();
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            other => out.push(other),
        }
    }
    out
}

/// A hex string's bytes (odd final digit padded with 0, others skipped).
fn hex_bytes(raw: &[u8]) -> Vec<u8> {
    let digits: Vec<u8> = raw
        .iter()
        .filter_map(|&c| (c as char).to_digit(16).map(|d| d as u8))
        .collect();
    digits
        .chunks(2)
        .map(|p| match p {
            [h, l] => (h << 4) | l,
            [h] => h << 4,
            _ => 0,
        })
        .collect()
}

/// A shown string as text: UTF-16 with its byte-order mark, else one byte
/// a character (Latin-1, close enough to WinAnsi and PDFDoc for words).
/// A string mostly of control bytes is a two-byte font encoding that needs
/// the font's ToUnicode map: not text here.
fn decode_shown(raw: &[u8]) -> Operand {
    if let Some(rest) = raw.strip_prefix(&[0xFE, 0xFF]) {
        let units = rest.chunks_exact(2).map(|p| match p {
            [h, l] => u16::from_be_bytes([*h, *l]),
            _ => 0,
        });
        return Operand::Text(
            char::decode_utf16(units)
                .map(|c| c.unwrap_or('\u{FFFD}'))
                .collect(),
        );
    }
    let controls = raw
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t'))
        .count();
    if controls * 4 > raw.len() {
        return Operand::Other;
    }
    Operand::Text(
        raw.iter()
            .map(|&b| match b {
                b'\n' | b'\r' | b'\t' => ' ',
                b if b < 0x20 || b == 0x7f => ' ',
                b => char::from(b),
            })
            .collect(),
    )
}

/// A hex string of two-byte codes that read as Japanese in UTF-16 (a CID
/// font whose codes are Unicode, as many generators write them): its text.
/// Without the font's ToUnicode map this is a guess, taken only when every
/// unit is ASCII, kana, CJK punctuation, a CJK ideograph or a full-width
/// form and some unit is kana or CJK punctuation (Latin text paired into
/// units almost never is).
fn japanese_utf16(raw: &[u8]) -> Option<String> {
    if raw.len() < 2 || !raw.len().is_multiple_of(2) {
        return None;
    }
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|p| match p {
            [h, l] => u16::from_be_bytes([*h, *l]),
            _ => 0,
        })
        .collect();
    let kana = |u: u16| (0x3000..=0x30FF).contains(&u);
    let allowed = |u: u16| {
        (0x0020..=0x007E).contains(&u)
            || kana(u)
            || (0x4E00..=0x9FFF).contains(&u)
            || (0xFF00..=0xFFEF).contains(&u)
    };
    if !units.iter().all(|&u| allowed(u)) || !units.iter().any(|&u| kana(u)) {
        return None;
    }
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or('\u{FFFD}'))
            .collect(),
    )
}

/// Text in a PDF string object: UTF-16 with its mark, else bytes as
/// Latin-1.
fn pdf_string(raw: &[u8]) -> String {
    match decode_shown(raw) {
        Operand::Text(t) => t,
        _ => String::from_utf8_lossy(raw).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_byte_codes_that_read_as_japanese_are_text_and_latin_pairs_are_not() {
        // ご請求書 as a CID font with Unicode codes writes it.
        let raw = hex_bytes(b"30548ACB6C4266F8");
        assert_eq!(japanese_utf16(&raw).as_deref(), Some("ご請求書"));
        // "Pay now!" paired into units reads as ideographs, never kana.
        assert_eq!(japanese_utf16(b"Pay now!"), None);
        assert_eq!(japanese_utf16(&hex_bytes(b"3054")).as_deref(), Some("ご"));
        assert_eq!(japanese_utf16(&hex_bytes(b"30")), None);
    }

    #[test]
    fn the_prescan_rejects_deep_nesting_but_not_brackets_in_strings_or_streams() {
        let deep = format!("%PDF-1.4\n1 0 obj\n{}\nendobj", "[".repeat(100));
        assert!(prescan(deep.as_bytes(), 100).too_deep);
        let hidden = format!(
            "%PDF-1.4\n1 0 obj\n({})\nendobj\n2 0 obj\n<< /Length 100 >>\nstream\n{}\nendstream\nendobj",
            "[".repeat(100),
            "<<".repeat(100)
        );
        let scan = prescan(hidden.as_bytes(), 100);
        assert!(!scan.too_deep);
        assert_eq!(scan.objects, 2);
    }

    #[test]
    fn the_prescan_sees_encryption() {
        assert!(prescan(b"trailer << /Encrypt 5 0 R >>", 10).encrypted);
        assert!(!prescan(b"trailer << /Encrypted 5 0 R >>", 10).encrypted);
    }

    #[test]
    fn shown_text_is_read_from_text_operators() {
        let mut text = String::new();
        content_text(
            b"BT /F1 12 Tf 72 700 Td (Call 1-888-555-0199) Tj T* [(Pay) -250 (now\\051)] TJ \
              <48656C6C6F> Tj ET",
            &mut text,
            1000,
        );
        assert_eq!(text, "Call 1-888-555-0199\nPay now)Hello\n");
    }

    #[test]
    fn literal_escapes_decode() {
        assert_eq!(literal_bytes(b"a\\(b\\)\\101\\\nc"), b"a(b)Ac");
    }
}
