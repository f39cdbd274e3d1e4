//! Edits an image: the file given with `--image PATH`, or (without one) an image generated first.
//! Relays take it as a multipart `/images/edits` call; Ark as a generations call with a data URL.
//!
//! `cargo run -p seedream-client --example edit [-- --image PATH] [--out DIR]`

mod common;

use seedream_types::{EditRequest, GenerateRequest, ImageFile, SEEDREAM_4_0};

#[tokio::main(flavor = "current_thread")]
async fn main() -> common::Result<()> {
    let service = common::connect().await?;
    let client = &service.client;
    let args: Vec<String> = std::env::args().collect();
    let input = match args.iter().position(|arg| arg == "--image").and_then(|at| args.get(at + 1)) {
        Some(path) => ImageFile::new(path.clone(), std::fs::read(path)?),
        None => {
            let response = client.generate(&GenerateRequest::new(SEEDREAM_4_0, "an empty room, morning light")).await?;
            let image =
                response.into_inner().data.into_iter().find_map(|item| item.into_image()).ok_or("nothing generated")?;
            let bytes = client.into_image_bytes(image).await?;
            ImageFile::new(bytes.file_name("room"), bytes.into_bytes())
        }
    };
    let edit = EditRequest::new(SEEDREAM_4_0, "add a tall window on the left wall", input);
    let response = client.edit(&edit).await?;
    let mut saved = 0;
    for (index, image) in response.into_inner().data.into_iter().filter_map(|item| item.into_image()).enumerate() {
        let bytes = client.into_image_bytes(image).await?;
        println!("{}", seedream_client::save_image(&common::out_dir(), &format!("edited-{index}"), &bytes)?.display());
        saved += 1;
    }
    if saved == 0 {
        return Err("no image was saved".into());
    }
    Ok(())
}
