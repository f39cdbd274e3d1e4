//! Generates a group of three images and saves them, each under the extension of its bytes.
//!
//! `cargo run -p seedream-client --example generate [-- --out DIR]`

mod common;

use seedream_types::{GenerateRequest, SEEDREAM_4_0, SizePreset};

#[tokio::main(flavor = "current_thread")]
async fn main() -> common::Result<()> {
    let service = common::connect().await?;
    let request = GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn, watercolour")
        .with_size(SizePreset::TwoK)
        .with_max_images(3);
    // `b64_json` answers are decoded into their files as they arrive; links are downloaded.
    let saved = service.client.generate(&request).save_to(common::out_dir(), "lighthouse").await?;
    for path in saved.paths() {
        println!("{}", path.display());
    }
    if saved.paths().is_empty() {
        return Err("no image was saved".into());
    }
    Ok(())
}
