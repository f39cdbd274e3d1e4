//! validate + serialize: a typical text-to-image request, and a request carrying 14 data-URL images
//! (each a 512 KiB PNG-headed file), the heaviest input a Seedream 4.x request can have.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seedream_types::image::{ImageFormat, encode_data_url};
use seedream_types::{GenerateRequest, SEEDREAM_4_0, SizePreset};
use std::hint::black_box;

fn png_file(width: u32, height: u32, len: usize) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    let mut state = 0x2545_F491_u32;
    bytes.resize_with(len, || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as u8
    });
    bytes
}

fn bench(c: &mut Criterion) {
    let typical = GenerateRequest::new(SEEDREAM_4_0, "a lighthouse on a cliff at dawn, oil painting")
        .with_size(SizePreset::TwoK)
        .with_images(["https://example.com/a.png", "https://example.com/b.png"])
        .with_max_images(4)
        .with_watermark(false);
    let mut group = c.benchmark_group("validate_and_serialize");
    group.bench_function("typical", |b| {
        b.iter(|| {
            black_box(&typical).validate().unwrap();
            serde_json::to_vec(black_box(&typical)).unwrap()
        })
    });

    let file = png_file(1024, 768, 512 * 1024);
    let heavy = GenerateRequest::new(SEEDREAM_4_0, "combine these")
        .with_images((0..14).map(|_| encode_data_url(ImageFormat::Png, &file)))
        .with_max_images(1);
    let text_len: usize = heavy.images().iter().map(String::len).sum();
    group.throughput(Throughput::Bytes(text_len as u64));
    group.sample_size(20);
    group.bench_function("fourteen_data_urls", |b| {
        b.iter(|| {
            black_box(&heavy).validate().unwrap();
            serde_json::to_vec(black_box(&heavy)).unwrap()
        })
    });
    group.bench_function("fourteen_data_urls_validate_only", |b| b.iter(|| black_box(&heavy).validate().unwrap()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
