//! Streams a group of images: each is saved as soon as its event arrives, a failed one is reported
//! and the stream goes on.
//!
//! `cargo run -p seedream-client --example stream [-- --out DIR]`

mod common;

use futures_util::StreamExt as _;
use seedream_types::{GenerateRequest, ImageItem, SEEDREAM_4_5, StreamGatherer};

#[tokio::main(flavor = "current_thread")]
async fn main() -> common::Result<()> {
    let service = common::connect().await?;
    let client = &service.client;
    let request = GenerateRequest::new(SEEDREAM_4_5, "four seasons of one tree").with_max_images(4).with_stream(true);
    let mut events = client.generate(&request).stream().await?;
    let mut gatherer = StreamGatherer::new();
    let mut saved = 0;
    while let Some(event) = events.next().await {
        match gatherer.note(event?) {
            Some((index, ImageItem::Image(image))) => {
                let bytes = client.into_image_bytes(image).await?;
                let path = seedream_client::save_image(&common::out_dir(), &format!("season-{index}"), &bytes)?;
                println!("{}", path.display());
                saved += 1;
            }
            Some((index, ImageItem::Failed(failed))) => eprintln!("image {index} failed: {}", failed.error.message),
            None => {}
        }
    }
    println!("{saved} images; usage: {:?}", gatherer.usage());
    if saved == 0 {
        return Err("no image was saved".into());
    }
    Ok(())
}
