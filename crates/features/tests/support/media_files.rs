//! Hand-built image files the attachment tests and the hostile-attachment
//! bench share (the bench includes this file through `#[path]`): what no
//! encoder would write, such as a PNG whose header claims more pixels than
//! its data holds.
#![allow(dead_code)]

use std::io::Write;

/// `bytes` zlib-compressed (flate2).
pub fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory")
}

/// One PNG chunk: length, kind, data and the CRC-32 of kind and data.
fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// A valid PNG signature and IHDR claiming `w`×`h` 8-bit RGB, then
/// `zeros` compressed zero bytes of data and IEND.
pub fn png_claiming(w: u32, h: u32, zeros: usize) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(&mut png, b"IDAT", &zlib(&vec![0u8; zeros]));
    png_chunk(&mut png, b"IEND", &[]);
    png
}
