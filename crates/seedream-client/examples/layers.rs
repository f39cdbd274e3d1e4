//! Seedream 5.0 pro layer decomposition: one PNG in, a base image (z-index 0) and its layers out,
//! each with its bounding box, name and description.
//!
//! `cargo run -p seedream-client --example layers [-- --image PATH.png] [--out DIR]`

mod common;

use seedream_types::image::encode_data_url;
use seedream_types::{GenerateRequest, ImageFormat, OutputFormat, SEEDREAM_5_0_PRO, Size, SizePreset};

#[tokio::main(flavor = "current_thread")]
async fn main() -> common::Result<()> {
    let service = common::connect().await?;
    let client = &service.client;
    let args: Vec<String> = std::env::args().collect();
    let png = match args.iter().position(|arg| arg == "--image").and_then(|at| args.get(at + 1)) {
        Some(path) => std::fs::read(path)?,
        None => {
            // A poster to take apart, made first.
            let poster = GenerateRequest::new(SEEDREAM_5_0_PRO, "a concert poster: a guitar, a moon, bold title")
                .with_size(SizePreset::OneK)
                .with_output_format(OutputFormat::Png);
            let image =
                client.generate(&poster).await?.into_inner().data.into_iter().find_map(|item| item.into_image());
            client.into_image_bytes(image.ok_or("no poster")?).await?.into_bytes().to_vec()
        }
    };
    let request = GenerateRequest::new(SEEDREAM_5_0_PRO, "")
        .with_image(encode_data_url(ImageFormat::Png, &png))
        .with_layer_decomposition(true)
        .with_output_format(OutputFormat::Png)
        .with_size(Size::Auto);
    let response = client.generate(&request).await?;
    let mut layers = 0;
    for image in response.into_inner().data.into_iter().filter_map(|item| item.into_image()) {
        let z = image.z_index.unwrap_or_default();
        let (name, corners) = (image.name.clone().unwrap_or_else(|| "base".into()), image.bounding_box.clone());
        let bytes = client.into_image_bytes(image).await?;
        let path = seedream_client::save_image(&common::out_dir(), &format!("poster-{z:02}"), &bytes)?;
        let place = corners.and_then(|b| b.absolute_corners()).map(|c| format!(" at {c:?}")).unwrap_or_default();
        println!("z {z:2} {name}{place}: {}", path.display());
        layers += usize::from(z > 0);
    }
    if layers < 2 {
        return Err(format!("expected at least two layers, got {layers}").into());
    }
    Ok(())
}
