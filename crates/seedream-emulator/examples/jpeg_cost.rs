fn main() {
    for (w, h) in [(2048u32, 2048u32), (4096, 4096)] {
        let mut px = vec![0u8; (w * h * 3) as usize];
        for y in 0..h { for x in 0..w { let i = ((y * w + x) * 3) as usize; px[i] = (x / 8) as u8; px[i+1] = (y / 8) as u8; px[i+2] = ((x / 64 + y / 64) * 7) as u8; } }
        let t = std::time::Instant::now();
        let mut out = Vec::new();
        let enc = jpeg_encoder::Encoder::new(&mut out, 75);
        enc.encode(&px, w as u16, h as u16, jpeg_encoder::ColorType::Rgb).unwrap();
        println!("{w}x{h}: {:?} {} bytes", t.elapsed(), out.len());
    }
}
