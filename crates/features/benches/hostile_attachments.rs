//! Time and peak memory of one extraction on each hostile attachment, and
//! the attachment readers' cost on real mail, printed as figures (nothing
//! is asserted).
//!
//! cargo bench -p impostor-features --bench hostile_attachments
//! cargo bench -p impostor-features --bench hostile_attachments -- --corpus [PATH]
//!
//! Hostile cases each run in a child process of their own so that one
//! case's peak cannot hide another's. Targets: under one second and under
//! 100 MB of peak resident memory each.
//!
//! `--corpus` reads a corpus (default `../shared/corpora/phishing-pot-2022-2025.tar.gz`
//! from the workspace) into memory and times `MessageView::parse` +
//! `Extractor::extract` over it on one thread: messages per second overall
//! and the mean time of the messages that carry an image or a PDF.

#[path = "../tests/support/archive_files.rs"]
mod archive_files;
mod fresh_process;
#[path = "../tests/support/media_files.rs"]
mod media_files;
#[path = "../tests/support/mod.rs"]
mod support;

use fresh_process::mb;
use media_files::{png_claiming, zlib};

use impostor_features::attachment::{AttachmentKind, FindingCode};
use impostor_features::{Envelope, Extractor, MessageView};
use impostor_mailsource::{read_inputs, ReadOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Every hostile case; adding one is a line here and an arm in [`input`].
const CASES: &[&str] = &[
    "png_header_30000x30000",
    "random_png_10mb",
    "pdf_nested_arrays_100000",
    "pdf_flate_bomb_1gib",
    "pdf_many_objects_200000",
    "pdf_many_images",
    "qr_pngs_20",
    // The archive reader's cases (tests/support/archive_files.rs):
    "zip_bomb_1gib",
    "nested_zips_20",
];

fn input(case: &str) -> Vec<u8> {
    match case {
        "png_header_30000x30000" => mime_with_attachment(
            "scan.png",
            "image/png",
            &png_claiming(30_000, 30_000, 1 << 16),
        ),
        "random_png_10mb" => {
            mime_with_attachment("photo.png", "image/png", &support::Lcg(7).bytes(10 << 20))
        }
        "pdf_nested_arrays_100000" => {
            mime_with_attachment("deep.pdf", "application/pdf", &pdf_nested_arrays(100_000))
        }
        "pdf_flate_bomb_1gib" => {
            mime_with_attachment("bomb.pdf", "application/pdf", &pdf_flate_bomb(1 << 30))
        }
        "pdf_many_objects_200000" => {
            mime_with_attachment("many.pdf", "application/pdf", &pdf_many_objects(200_000))
        }
        "pdf_many_images" => {
            mime_with_attachment("images.pdf", "application/pdf", &pdf_many_images(500))
        }
        "qr_pngs_20" => many_qr_pngs(20),
        "zip_bomb_1gib" => mime_with_attachment(
            "report.zip",
            "application/zip",
            &archive_files::zip_bomb(1 << 30),
        ),
        "nested_zips_20" => mime_with_attachment(
            "nested.zip",
            "application/zip",
            &archive_files::nested_zips(20),
        ),
        other => panic!("unknown case {other}"),
    }
}

// ------------------------------------------------------------ hostile files

use archive_files::mime_with_attachment;

fn mime_with_attachments(parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    use base64::Engine as _;
    let mut m = String::from(
        "From: Jane Supplier <jane@supplier.example>\r\n\
         To: ap@kestrelfoods.com\r\n\
         Subject: Your documents\r\n\
         Date: Tue, 2 Jan 2024 10:00:00 +0000\r\n\
         Message-ID: <att@supplier.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n",
    );
    for (name, content_type, bytes) in parts {
        m.push_str(&format!(
            "--b1\r\nContent-Type: {content_type}; name=\"{name}\"\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n"
        ));
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        for line in encoded.as_bytes().chunks(76) {
            m.push_str(std::str::from_utf8(line).unwrap_or(""));
            m.push_str("\r\n");
        }
    }
    m.push_str("--b1--\r\n");
    m.into_bytes()
}

/// A PDF whose page content is `depth` nested arrays.
fn pdf_nested_arrays(depth: usize) -> Vec<u8> {
    let mut body = "[".repeat(depth);
    body.push_str(&"]".repeat(depth));
    pdf_with_objects(&[
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!("<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Foo {body} >>"),
        "<< /Length 0 >>\nstream\n\nendstream".to_string(),
    ])
}

/// A PDF whose one content stream inflates to `size` zero bytes.
fn pdf_flate_bomb(size: usize) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..size / chunk.len() {
        e.write_all(&chunk).expect("in memory");
    }
    let data = e.finish().expect("in memory");
    let mut pdf = pdf_prefix(&[
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_string(),
    ]);
    pdf.extend_from_slice(
        format!(
            "4 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n",
            data.len()
        )
        .as_bytes(),
    );
    pdf.extend_from_slice(&data);
    pdf.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R /Size 5 >>\n%%EOF\n");
    pdf
}

/// A PDF with `n` small objects besides its page tree.
fn pdf_many_objects(n: usize) -> Vec<u8> {
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_string(),
    ];
    objects.extend((0..n).map(|i| format!("<< /N {i} /A [1 2 3] >>")));
    pdf_with_objects(&objects)
}

/// A PDF with one page drawing `n` distinct 1000×1000 gray image XObjects.
fn pdf_many_images(n: usize) -> Vec<u8> {
    let pixels = zlib(&vec![200u8; 1000 * 1000]);
    let mut xobjects = String::new();
    let mut content = String::new();
    for i in 0..n {
        xobjects.push_str(&format!("/Im{i} {} 0 R ", 5 + i));
        content.push_str(&format!("q 100 0 0 100 0 0 cm /Im{i} Do Q\n"));
    }
    let mut pdf = pdf_prefix(&[
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
             /Resources << /XObject << {xobjects}>> >> >>"
        ),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len() + 1
        ),
    ]);
    for i in 0..n {
        pdf.extend_from_slice(
            format!(
                "{} 0 obj\n<< /Type /XObject /Subtype /Image /Width 1000 /Height 1000 \
                 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length {} >>\nstream\n",
                5 + i,
                pixels.len()
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(&pixels);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Root 1 0 R /Size {} >>\n%%EOF\n", 5 + n).as_bytes(),
    );
    pdf
}

/// `%PDF-1.7` and the objects numbered from 1, without a trailer.
fn pdf_prefix(objects: &[String]) -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    for (i, o) in objects.iter().enumerate() {
        pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    pdf
}

/// The objects numbered from 1 and a trailer (no cross-reference table:
/// readers rebuild it, as they must for much real mail).
fn pdf_with_objects(objects: &[String]) -> Vec<u8> {
    let mut pdf = pdf_prefix(objects);
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Root 1 0 R /Size {} >>\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// `n` PNG attachments, each a large QR code (2000×2000 pixels).
fn many_qr_pngs(n: usize) -> Vec<u8> {
    let code = qrcode::QrCode::new(b"https://pay.example/invoice?id=4711").expect("fits");
    let modules = code.width();
    let colors = code.to_colors();
    let side = 2000usize;
    let scale = side / (modules + 8);
    let mut pixels = vec![255u8; side * side];
    for y in 0..modules * scale {
        for x in 0..modules * scale {
            if colors.get((y / scale) * modules + x / scale) == Some(&qrcode::Color::Dark) {
                if let Some(p) = pixels.get_mut((y + 4 * scale) * side + x + 4 * scale) {
                    *p = 0;
                }
            }
        }
    }
    let mut png = Vec::new();
    {
        let mut e = png::Encoder::new(&mut png, side as u32, side as u32);
        e.set_color(png::ColorType::Grayscale);
        e.set_depth(png::BitDepth::Eight);
        let mut w = e.write_header().expect("header");
        w.write_image_data(&pixels).expect("data");
    }
    let names: Vec<String> = (0..n).map(|i| format!("qr{i}.png")).collect();
    let parts: Vec<(&str, &str, &[u8])> = names
        .iter()
        .map(|name| (name.as_str(), "image/png", png.as_slice()))
        .collect();
    mime_with_attachments(&parts)
}

// ------------------------------------------------------------ hostile runs

fn run_case(case: &str) {
    let ctx = support::ctx();
    let bytes = input(case);
    let m = fresh_process::measure(|| support::try_run(ctx, &bytes));
    let findings = match &m.value {
        Ok((view, _)) => view
            .attachments
            .iter()
            .flat_map(|a| a.findings.iter().map(|f| f.code.name()))
            .collect::<Vec<_>>()
            .join(","),
        Err(e) => format!("error: {e}"),
    };
    println!(
        "{case:<26} input {:>6.1} MB  {:>8.1} ms  peak RSS {:>6.1} MB (+{:>5.1} MB)  {} {}  [{findings}]",
        mb(bytes.len() as u64),
        m.elapsed.as_secs_f64() * 1e3,
        mb(m.peak),
        mb(m.grown),
        if m.elapsed < Duration::from_secs(1) { "<1s" } else { "SLOW" },
        if m.peak < 100 << 20 { "<100MB" } else { "BIG" },
    );
}

// ------------------------------------------------------------ corpus throughput

/// Thread CPU time of one parse + extract, and the view.
fn timed(extractor: &Extractor<'_>, bytes: &[u8]) -> (Duration, Option<MessageView>) {
    let envelope = Envelope::default();
    let t = cpu_time::ThreadTime::now();
    let view = MessageView::parse(bytes, &envelope, extractor.context()).ok();
    if let Some(view) = &view {
        std::hint::black_box(extractor.extract(view));
    }
    (t.elapsed(), view)
}

fn corpus(path: PathBuf) {
    let messages: Vec<Vec<u8>> = read_inputs(std::slice::from_ref(&path), &ReadOptions::default())
        .filter_map(|m| m.bytes.ok())
        .collect();
    assert!(!messages.is_empty(), "no messages in {}", path.display());
    let with_readers = support::context();
    // The same Context with no attachment read (each is still described:
    // name, type, size, hash): the readers' share is the difference.
    let mut limits = with_readers.limits().clone();
    limits.attachments.max_attachments = 0;
    let without_readers = impostor_features::Context::builder(support::org())
        .limits(limits)
        .build()
        .expect("context builds");
    let on = Extractor::new(&with_readers);
    let off = Extractor::new(&without_readers);
    // Per message: which group it is in (0 PDF, 1 image, 2 rest).
    let group: Vec<usize> = messages
        .iter()
        .map(|bytes| match timed(&on, bytes).1 {
            Some(v) if v.attachments.iter().any(|a| a.kind == AttachmentKind::Pdf) => 0,
            Some(v)
                if v.attachments
                    .iter()
                    .any(|a| a.kind == AttachmentKind::Image) =>
            {
                1
            }
            _ => 2,
        })
        .collect();
    let (mut qr, mut pdf_links, mut pdf_text) = (0usize, 0usize, 0usize);
    for bytes in &messages {
        if let (_, Some(v)) = timed(&on, bytes) {
            qr += v
                .attachments
                .iter()
                .filter(|a| a.has(FindingCode::QrLink) || a.has(FindingCode::QrOther))
                .count();
            pdf_links += v
                .attachments
                .iter()
                .filter(|a| a.has(FindingCode::PdfLink))
                .count();
            pdf_text += usize::from(
                v.attachments.iter().any(|a| a.kind == AttachmentKind::Pdf)
                    && !v.attachment_text.is_empty(),
            );
        }
    }
    // Best of five passes, the two configurations interleaved message by
    // message so that a busy machine slows both alike. Each pass runs on a
    // thread of its own: the readers' per-thread cache starts empty, as in
    // one scan of the corpus, and repeats within the corpus still hit it.
    let mut best = [[Duration::MAX; 3]; 2];
    for _ in 0..5 {
        let sums = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut sums = [[Duration::ZERO; 3]; 2];
                    for (bytes, &g) in messages.iter().zip(&group) {
                        for (c, extractor) in [&off, &on].into_iter().enumerate() {
                            let took = timed(extractor, bytes).0;
                            if let Some(s) = sums.get_mut(c).and_then(|s| s.get_mut(g)) {
                                *s += took;
                            }
                        }
                    }
                    sums
                })
                .join()
                .expect("a pass runs")
        });
        for (b, s) in best.iter_mut().zip(sums) {
            for (b, s) in b.iter_mut().zip(s) {
                *b = (*b).min(s);
            }
        }
    }
    let n = messages.len();
    let counts = [0, 1, 2].map(|g| group.iter().filter(|&&x| x == g).count());
    let us = |d: Duration, k: usize| d.as_secs_f64() * 1e6 / k.max(1) as f64;
    let total = |c: usize| best.get(c).map_or(Duration::ZERO, |b| b.iter().sum());
    println!(
        "corpus {} ({n} messages), parse + extract, thread CPU time, best of 5 passes",
        path.display()
    );
    println!("                         without readers    with readers   readers' share");
    let names = ["with a PDF", "with images (no PDF)", "the rest"];
    for (g, name) in names.iter().enumerate() {
        let off = best
            .first()
            .and_then(|b| b.get(g))
            .copied()
            .unwrap_or_default();
        let on = best
            .get(1)
            .and_then(|b| b.get(g))
            .copied()
            .unwrap_or_default();
        let k = counts.get(g).copied().unwrap_or(0);
        println!(
            "  {name:<21} {k:>5}  {:>9.1} µs/msg  {:>9.1} µs/msg  {:>+9.1} µs/msg",
            us(off, k),
            us(on, k),
            us(on, k) - us(off, k)
        );
    }
    println!(
        "  all                  {n:>5}  {:>9.1} µs/msg  {:>9.1} µs/msg  {:>+9.1} µs/msg   ({:.0} → {:.0} messages/s)",
        us(total(0), n),
        us(total(1), n),
        us(total(1), n) - us(total(0), n),
        n as f64 / total(0).as_secs_f64(),
        n as f64 / total(1).as_secs_f64(),
    );
    println!(
        "  attachments with a QR code: {qr}, PDFs with links: {pdf_links}, PDF messages with attachment text: {pdf_text}"
    );
}

// ------------------------------------------------------------ per attachment

/// `--attachments [PATH]`: every distinct attachment of the corpus (by
/// SHA-256) read alone with [`read_file`], thread CPU time best of three:
/// the total and the costliest by kind, to see where the readers' time goes.
fn attachments(path: PathBuf) {
    use impostor_features::attachment::{read_file, AttachmentLimits};
    use mail_parser::{MessageParser, MimeHeaders};
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut files: Vec<(String, String, Vec<u8>)> = Vec::new();
    for m in read_inputs(std::slice::from_ref(&path), &ReadOptions::default()) {
        let Ok(bytes) = m.bytes else { continue };
        let Some(message) = MessageParser::default().parse(&bytes) else {
            continue;
        };
        for part in message.attachments() {
            let body = part.contents().to_vec();
            let sha = Sha256::digest(&body).to_vec();
            *seen.entry(sha).or_insert_with(|| {
                let ct = part
                    .content_type()
                    .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
                    .unwrap_or_default();
                let name = part.attachment_name().unwrap_or("").to_string();
                files.push((name, ct, body));
                0
            }) += 1;
        }
    }
    let limits = AttachmentLimits::default();
    let mut rows: Vec<(Duration, String, usize, String)> = files
        .iter()
        .map(|(name, ct, body)| {
            let mut best = Duration::MAX;
            let mut kind = String::new();
            for _ in 0..3 {
                // A fresh thread: nothing cached.
                let (took, k) = std::thread::scope(|s| {
                    s.spawn(|| {
                        let t = cpu_time::ThreadTime::now();
                        let r = read_file(Some(name), ct, body, &limits);
                        (t.elapsed(), r.attachment.kind.name().to_string())
                    })
                    .join()
                    .expect("reads")
                });
                best = best.min(took);
                kind = k;
            }
            (best, kind, body.len(), name.clone())
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut by_kind: HashMap<&str, (usize, Duration)> = HashMap::new();
    for (t, k, _, _) in &rows {
        let e = by_kind.entry(k.as_str()).or_default();
        e.0 += 1;
        e.1 += *t;
    }
    println!(
        "{} distinct attachments ({} in all), read alone, thread CPU time best of 3",
        rows.len(),
        seen.values().sum::<usize>()
    );
    for (k, (n, t)) in &by_kind {
        println!("  {k:<14} {n:>5}  total {:>9.1} ms", t.as_secs_f64() * 1e3);
    }
    for (t, k, len, name) in rows.iter().take(25) {
        println!(
            "  {:>8.2} ms  {k:<8} {:>9} B  {name}",
            t.as_secs_f64() * 1e3,
            len
        );
    }
}

/// The corpus named after a flag, else phishing-pot next to the workspace.
fn corpus_path(arg: Option<&String>) -> PathBuf {
    arg.filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/corpora/phishing-pot-2022-2025.tar.gz")
        })
}

fn main() {
    if let Some(case) = fresh_process::child_case() {
        run_case(&case);
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--attachments") {
        attachments(corpus_path(args.get(i + 1)));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--corpus") {
        corpus(corpus_path(args.get(i + 1)));
        return;
    }
    fresh_process::each_case_in_a_fresh_process("hostile attachments", CASES);
}
