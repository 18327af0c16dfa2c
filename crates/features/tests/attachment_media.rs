//! The PDF and image readers on real files made by real crates (QR codes
//! by `qrcode`, PNGs by `png`, JPEGs and GIFs by `image`, PDFs by lopdf's
//! writer), and on hostile ones: header bombs, deep nesting, inflate
//! bombs, noise.

#[path = "support/archive_files.rs"]
mod archive_files;
#[path = "support/media_files.rs"]
mod media_files;

use archive_files::mime_with_attachment;
use impostor_features::attachment::{Attachment, FindingCode, LinkOrigin};
use impostor_features::{Context, Envelope, MessageView, OrgProfile};
use lopdf::{dictionary, Document, Object, Stream};
use media_files::{png_claiming, zlib};
use std::io::{Cursor, Write};
use std::sync::OnceLock;

fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        Context::builder(OrgProfile::default())
            .build()
            .expect("context builds")
    })
}

fn parse(message: &[u8]) -> MessageView {
    MessageView::parse(message, &Envelope::default(), ctx()).expect("the message parses")
}

/// The view of a message carrying `bytes` as its one attachment.
fn view_of(name: &str, content_type: &str, bytes: &[u8]) -> MessageView {
    parse(&mime_with_attachment(name, content_type, bytes))
}

fn only_attachment(view: &MessageView) -> &Attachment {
    assert_eq!(view.attachments.len(), 1, "{:#?}", view.attachments);
    view.attachments.first().expect("one attachment")
}

fn finding(a: &Attachment, code: FindingCode) -> String {
    a.findings
        .iter()
        .find(|f| f.code == code)
        .map(|f| f.detail.clone())
        .unwrap_or_else(|| panic!("no {code:?} finding in {:#?}", a.findings))
}

fn has_link(view: &MessageView, href: &str, origin: LinkOrigin) -> bool {
    view.links
        .iter()
        .any(|l| l.href == href && l.origin == origin)
}

// ------------------------------------------------------------ real files

/// A QR code of `content` as grey pixels: `scale` pixels a module, a
/// four-module quiet zone. Returns the side and the pixels.
fn qr_pixels(content: &str, scale: usize) -> (usize, Vec<u8>) {
    let code = qrcode::QrCode::new(content.as_bytes()).expect("the content fits a QR code");
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 8) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + 4, i / modules + 4);
        for y in my * scale..(my + 1) * scale {
            for x in mx * scale..(mx + 1) * scale {
                pixels[y * side + x] = 0;
            }
        }
    }
    (side, pixels)
}

/// A greyscale PNG, written by the `png` crate.
fn png_of(side: usize, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, side as u32, side as u32);
        e.set_color(png::ColorType::Grayscale);
        e.set_depth(png::BitDepth::Eight);
        let mut w = e.write_header().expect("png header");
        w.write_image_data(pixels).expect("png data");
    }
    out
}

/// The same pixels through the image crate's encoder for `format`.
fn encode_with_image(side: usize, pixels: &[u8], format: image::ImageFormat) -> Vec<u8> {
    let grey =
        image::GrayImage::from_raw(side as u32, side as u32, pixels.to_vec()).expect("pixels fit");
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(grey)
        .to_rgb8()
        .write_to(&mut out, format)
        .expect("the image encodes");
    out.into_inner()
}

fn qr_png(content: &str) -> Vec<u8> {
    let (side, pixels) = qr_pixels(content, 6);
    png_of(side, &pixels)
}

#[test]
fn a_qr_code_in_a_png_attachment_becomes_a_link_from_the_qr_code() {
    let url = "https://m365-verify.example/login?u=ap";
    let view = view_of("scan.png", "image/png", &qr_png(url));
    let a = only_attachment(&view);
    assert!(finding(a, FindingCode::QrLink).contains(url));
    assert!(
        has_link(&view, url, LinkOrigin::QrCode(0)),
        "{:#?}",
        view.links
    );
}

#[test]
fn a_qr_code_in_a_jpeg_and_in_a_gif_is_read_too() {
    let url = "https://parcel-fee.example/pay";
    let (side, pixels) = qr_pixels(url, 8);
    for (name, mime, format) in [
        ("code.jpg", "image/jpeg", image::ImageFormat::Jpeg),
        ("code.gif", "image/gif", image::ImageFormat::Gif),
    ] {
        let view = view_of(name, mime, &encode_with_image(side, &pixels, format));
        assert!(
            has_link(&view, url, LinkOrigin::QrCode(0)),
            "{name}: {:#?} {:#?}",
            view.links,
            view.attachments
        );
    }
}

#[test]
fn a_qr_code_in_brand_colours_in_a_colour_jpeg_is_read_from_its_luma() {
    // Navy modules on a cream background: a colour (YCbCr) JPEG whose
    // luma alone is searched.
    let url = "https://brand-colour-qr.example/verify";
    let (side, pixels) = qr_pixels(url, 7);
    let rgb: Vec<u8> = pixels
        .iter()
        .flat_map(|&p| {
            if p == 0 {
                [20, 30, 90]
            } else {
                [250, 240, 200]
            }
        })
        .collect();
    let image = image::RgbImage::from_raw(side as u32, side as u32, rgb).expect("pixels fit");
    let mut jpeg = Cursor::new(Vec::new());
    image
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .expect("the image encodes");
    let view = view_of("pay.jpg", "image/jpeg", &jpeg.into_inner());
    assert!(
        has_link(&view, url, LinkOrigin::QrCode(0)),
        "{:#?} {:#?}",
        view.links,
        view.attachments
    );
}

#[test]
fn a_large_photo_sized_qr_image_is_shrunk_and_still_read() {
    let url = "https://big-scan.example/a";
    // 25 modules + quiet zone at 60 pixels a module: about 2000 pixels a side.
    let (side, pixels) = qr_pixels(url, 60);
    assert!(side > 1900);
    let view = view_of("photo.png", "image/png", &png_of(side, &pixels));
    assert!(
        has_link(&view, url, LinkOrigin::QrCode(0)),
        "{:#?}",
        view.attachments
    );
}

#[test]
fn a_qr_code_holding_a_phone_number_is_described_not_linked() {
    let view = view_of("call.png", "image/png", &qr_png("tel:+18885550199"));
    let a = only_attachment(&view);
    let detail = finding(a, FindingCode::QrOther);
    assert!(detail.contains("phone number"), "{detail}");
    assert!(detail.contains("+18885550199"), "{detail}");
    assert!(!a.has(FindingCode::QrLink));
    assert!(view
        .links
        .iter()
        .all(|l| !matches!(l.origin, LinkOrigin::QrCode(_))));
}

#[test]
fn a_bare_domain_with_a_path_in_a_qr_code_is_a_link() {
    let view = view_of("s.png", "image/png", &qr_png("pay-now.example/x7"));
    assert!(
        has_link(&view, "http://pay-now.example/x7", LinkOrigin::QrCode(0)),
        "{:#?}",
        view.links
    );
}

#[test]
fn an_image_too_small_for_a_qr_code_gives_no_finding() {
    let view = view_of("pixel.png", "image/png", &png_of(1, &[0]));
    assert!(only_attachment(&view).findings.is_empty());
}

/// A one-page PDF written by lopdf: `content` as the page's (Flate
/// compressed) content stream, the annotations and the image XObjects
/// given, `catalog_extra` added to the catalog. `modern` saves with object
/// and cross-reference streams.
fn pdf(
    content: &str,
    annots: Vec<lopdf::Dictionary>,
    images: Vec<Stream>,
    catalog_extra: lopdf::Dictionary,
    modern: bool,
) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let mut stream = Stream::new(dictionary! {}, content.as_bytes().to_vec());
    stream.compress().expect("the content compresses");
    let content_id = doc.add_object(stream);
    let annot_ids: Vec<Object> = annots
        .into_iter()
        .map(|a| doc.add_object(a).into())
        .collect();
    let mut xobjects = lopdf::Dictionary::new();
    for (i, image) in images.into_iter().enumerate() {
        let id = doc.add_object(image);
        xobjects.set(format!("Im{i}"), id);
    }
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Contents" => content_id,
        "Resources" => dictionary! {
            "Font" => dictionary! { "F1" => font_id },
            "XObject" => xobjects,
        },
        "Annots" => annot_ids,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let mut catalog = dictionary! { "Type" => "Catalog", "Pages" => pages_id };
    for (k, v) in catalog_extra {
        catalog.set(k, v);
    }
    let catalog_id = doc.add_object(catalog);
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    if modern {
        doc.save_modern(&mut out).expect("the PDF saves");
    } else {
        doc.save_to(&mut out).expect("the PDF saves");
    }
    out
}

fn link_annotation(uri: &str) -> lopdf::Dictionary {
    dictionary! {
        "Type" => "Annot",
        "Subtype" => "Link",
        "Rect" => vec![72.into(), 600.into(), 300.into(), 620.into()],
        "A" => dictionary! { "S" => "URI", "URI" => Object::string_literal(uri) },
    }
}

const TEXT: &str = "BT /F1 18 Tf 72 700 Td (Your invoice is overdue.) Tj T* \
                    (Call 1-888-555-0199) Tj T* [(or visit ) -300 (https://billing-desk.example/pay)] TJ ET";

#[test]
fn a_pdf_gives_its_text_its_link_annotations_and_the_links_in_its_text() {
    for modern in [false, true] {
        let bytes = pdf(
            TEXT,
            vec![link_annotation("https://secure-docs.example/open")],
            vec![],
            dictionary! {},
            modern,
        );
        let view = view_of("invoice.pdf", "application/pdf", &bytes);
        let a = only_attachment(&view);
        assert!(
            view.attachment_text.contains("Call 1-888-555-0199"),
            "modern {modern}: {:?} {:#?}",
            view.attachment_text,
            a.findings
        );
        assert!(view.attachment_text.contains("Your invoice is overdue."));
        assert!(a.has(FindingCode::PdfLink), "{:#?}", a.findings);
        assert!(
            has_link(
                &view,
                "https://secure-docs.example/open",
                LinkOrigin::Attachment(0)
            ),
            "{:#?}",
            view.links
        );
        assert!(
            has_link(
                &view,
                "https://billing-desk.example/pay",
                LinkOrigin::Attachment(0)
            ),
            "{:#?}",
            view.links
        );
        assert!(!a.has(FindingCode::Unreadable), "{:#?}", a.findings);
    }
}

fn image_xobject(side: usize, filter: &str, data: Vec<u8>, colour: &str) -> Stream {
    Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => side as i64,
            "Height" => side as i64,
            "ColorSpace" => colour,
            "BitsPerComponent" => 8,
            "Filter" => filter,
        },
        data,
    )
    .with_compression(false)
}

#[test]
fn a_qr_code_in_a_pdf_jpeg_image_is_read() {
    let url = "https://pdf-jpeg-qr.example/claim";
    let (side, pixels) = qr_pixels(url, 6);
    let jpeg = encode_with_image(side, &pixels, image::ImageFormat::Jpeg);
    let bytes = pdf(
        "q 200 0 0 200 72 400 cm /Im0 Do Q",
        vec![],
        vec![image_xobject(side, "DCTDecode", jpeg, "DeviceRGB")],
        dictionary! {},
        false,
    );
    let view = view_of("scan.pdf", "application/pdf", &bytes);
    let a = only_attachment(&view);
    assert!(a.has(FindingCode::QrLink), "{:#?}", a.findings);
    assert!(
        has_link(&view, url, LinkOrigin::QrCode(0)),
        "{:#?}",
        view.links
    );
}

#[test]
fn a_qr_code_in_a_pdf_flate_image_is_read_in_grey_and_in_rgb() {
    let url = "https://pdf-flate-qr.example/claim";
    let (side, grey) = qr_pixels(url, 5);
    let rgb: Vec<u8> = grey.iter().flat_map(|&p| [p, p, p]).collect();
    for (colour, data) in [("DeviceGray", grey.clone()), ("DeviceRGB", rgb)] {
        let bytes = pdf(
            "q 200 0 0 200 72 400 cm /Im0 Do Q",
            vec![],
            vec![image_xobject(side, "FlateDecode", zlib(&data), colour)],
            dictionary! {},
            true,
        );
        let view = view_of("scan.pdf", "application/pdf", &bytes);
        assert!(
            has_link(&view, url, LinkOrigin::QrCode(0)),
            "{colour}: {:#?} {:#?}",
            view.links,
            view.attachments
        );
    }
}

#[test]
fn a_pdf_that_runs_javascript_on_opening_is_a_pdf_script() {
    let bytes = pdf(
        TEXT,
        vec![],
        vec![],
        dictionary! {
            "OpenAction" => dictionary! {
                "S" => "JavaScript",
                "JS" => Object::string_literal("app.launchURL('https://x.example')"),
            },
        },
        false,
    );
    let view = view_of("open.pdf", "application/pdf", &bytes);
    let detail = finding(only_attachment(&view), FindingCode::PdfScript);
    assert!(detail.contains("opening"), "{detail}");
}

#[test]
fn a_plain_pdf_has_no_script_finding() {
    let bytes = pdf(TEXT, vec![], vec![], dictionary! {}, false);
    let view = view_of("plain.pdf", "application/pdf", &bytes);
    assert!(!only_attachment(&view).has(FindingCode::PdfScript));
}

// ------------------------------------------------------------ hostile files

#[test]
fn a_png_header_claiming_30000_by_30000_pixels_is_over_budget_and_not_decoded() {
    let png = png_claiming(30_000, 30_000, 4096);
    let view = view_of("scan.png", "image/png", &png);
    let a = only_attachment(&view);
    let detail = finding(a, FindingCode::OverBudget);
    assert!(detail.contains("30000×30000"), "{detail}");
    assert!(!a.has(FindingCode::Unreadable), "{:#?}", a.findings);
}

#[test]
fn ten_megabytes_of_noise_declared_as_a_png_is_unreadable_at_most() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..10 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let view = view_of("photo.png", "image/png", &noise);
    let a = only_attachment(&view);
    assert_eq!(a.size_bytes, 10 << 20);
    assert!(!a.has(FindingCode::QrLink) && !a.has(FindingCode::QrOther));
    assert!(view.links.iter().all(|l| l.origin == LinkOrigin::Body));
}

#[test]
fn a_truncated_pdf_is_unreadable() {
    let whole = pdf(TEXT, vec![], vec![], dictionary! {}, false);
    let view = view_of("cut.pdf", "application/pdf", &whole[..40]);
    assert!(only_attachment(&view).has(FindingCode::Unreadable));
}

#[test]
fn a_pdf_of_100000_nested_arrays_is_unreadable_without_overflowing_the_stack() {
    let mut bytes = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /X ".to_vec();
    bytes.extend(std::iter::repeat_n(b'[', 100_000));
    bytes.extend(std::iter::repeat_n(b']', 100_000));
    bytes.extend_from_slice(b" >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    let view = view_of("deep.pdf", "application/pdf", &bytes);
    let detail = finding(only_attachment(&view), FindingCode::Unreadable);
    assert!(detail.contains("nested"), "{detail}");
}

#[test]
fn a_pdf_whose_stream_inflates_to_a_gibibyte_is_read_only_within_budget() {
    // 1 GiB of spaces deflates to about 1 MB.
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..1024 {
        e.write_all(&chunk).expect("in memory");
    }
    e.write_all(b"BT (after the bomb) Tj ET")
        .expect("in memory");
    let bomb = e.finish().expect("in memory");
    let mut bytes = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
        2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n\
        3 0 obj\n<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>\nendobj\n"
        .to_vec();
    bytes.extend_from_slice(
        format!(
            "4 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n",
            bomb.len()
        )
        .as_bytes(),
    );
    bytes.extend_from_slice(&bomb);
    bytes.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R /Size 5 >>\n%%EOF\n");
    let view = view_of("bomb.pdf", "application/pdf", &bytes);
    let a = only_attachment(&view);
    assert!(a.has(FindingCode::OverBudget), "{:#?}", a.findings);
    assert!(!view.attachment_text.contains("after the bomb"));
}

#[test]
fn a_pdf_with_more_objects_than_the_limit_is_over_budget() {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    for i in 1..=25_000 {
        bytes.extend_from_slice(format!("{i} 0 obj\n<< /N {i} >>\nendobj\n").as_bytes());
    }
    bytes.extend_from_slice(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n");
    let view = view_of("many.pdf", "application/pdf", &bytes);
    assert!(only_attachment(&view).has(FindingCode::OverBudget));
}

#[test]
fn an_encrypted_pdf_is_unreadable() {
    let bytes = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
        5 0 obj\n<< /Filter /Standard /V 2 /R 3 /O (x) /U (y) /P -4 >>\nendobj\n\
        trailer\n<< /Root 1 0 R /Encrypt 5 0 R >>\n%%EOF\n";
    let view = view_of("locked.pdf", "application/pdf", bytes);
    let detail = finding(only_attachment(&view), FindingCode::Unreadable);
    assert!(detail.contains("encrypted"), "{detail}");
}

#[test]
fn qr_search_stops_after_the_image_budget() {
    let png = qr_png("https://one-of-many.example/q");
    let mut message = mime_with_attachment("a.png", "image/png", &png);
    // Twelve copies of the part: the budget searches eight.
    let part_start = message
        .windows(b"--=_att_boundary\r\nContent-Type: image/png".len())
        .position(|w| w == b"--=_att_boundary\r\nContent-Type: image/png")
        .expect("the image part");
    let end = message.len() - b"--=_att_boundary--\r\n".len();
    let part = message[part_start..end].to_vec();
    let mut tail = message.split_off(end);
    for _ in 0..11 {
        message.extend_from_slice(&part);
    }
    message.append(&mut tail);
    let view = parse(&message);
    assert_eq!(view.attachments.len(), 12);
    let found = view
        .attachments
        .iter()
        .filter(|a| a.has(FindingCode::QrLink))
        .count();
    assert_eq!(found, 8);
}
