//! Gzip, which browsers inflate natively (`DecompressionStream`): the
//! search index's files but its doc store (LZ4, see
//! [`crate::search::index`]), and the theme's scripts and styles (see
//! [`crate::render`]).

/// libdeflate at level 1: faster than zlib-rs at any level, and smaller
/// than its level 2 on this text (the worst two-word query of the 10k
/// benchmark reads 96.5 KB instead of 99.4). Higher levels cost a tenth
/// more build time for 1-3% fewer bytes.
const GZ_LEVEL: i32 = 1;

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    thread_local! {
        // One compressor per thread: allocating one per file cost more
        // than compressing.
        static GZ: std::cell::RefCell<libdeflater::Compressor> = std::cell::RefCell::new(
            libdeflater::Compressor::new(
                libdeflater::CompressionLvl::new(GZ_LEVEL).unwrap_or_default(),
            ),
        );
    }
    GZ.with(|gz| compress(&mut gz.borrow_mut(), bytes))
}

/// Gzip at libdeflate's highest level, for files made once per build
/// and downloaded often (the theme's scripts and styles).
pub fn gzip_best(bytes: &[u8]) -> Vec<u8> {
    let mut gz = libdeflater::Compressor::new(libdeflater::CompressionLvl::best());
    compress(&mut gz, bytes)
}

fn compress(gz: &mut libdeflater::Compressor, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0; gz.gzip_compress_bound(bytes.len())];
    // The bound is enough by libdeflate's contract: no error to meet.
    let n = gz.gzip_compress(bytes, &mut out).unwrap_or(0);
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips() {
        use std::io::Read;
        for text in ["", "a", &"tham nhũng, ".repeat(20_000)] {
            for gz in [gzip(text.as_bytes()), gzip_best(text.as_bytes())] {
                let mut back = String::new();
                flate2::read::GzDecoder::new(&gz[..])
                    .read_to_string(&mut back)
                    .expect("gunzip");
                assert_eq!(back, text);
            }
        }
    }
}
