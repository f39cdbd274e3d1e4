//! The 2026 families through the emulator: every current family (and 5.0 lite by its alias)
//! generates; PNG output, transparent backgrounds and layer decomposition give real PNGs that the
//! `png` crate decodes; 5.0 pro refuses what its row does not take in the live service's words;
//! usage reports input images and web searches as each row says. Limits come from the catalog rows.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use seedream_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use seedream_types::catalog::{self, ModelFamily, Status};
use seedream_types::{
    ImageFormat, SEEDEDIT_3_0_I2I, SEEDREAM_4_5, SEEDREAM_5_0_FLASH, SEEDREAM_5_0_LITE, SEEDREAM_5_0_PRO,
};
use serde_json::{Value, json};

const LITE_ALIAS: &str = "doubao-seedream-5-0-lite-260128";

fn row(model: &str) -> &'static ModelFamily {
    catalog::family_of(model).expect("a catalog family")
}

fn b64_bytes(item: &Value) -> Vec<u8> {
    STANDARD.decode(item["b64_json"].as_str().unwrap_or_else(|| panic!("no b64_json in {item}"))).unwrap()
}

async fn generate(emulator: &EmulatorHandle, client: &HttpClient, body: &Value) -> Value {
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let answer = post_json(client, &url, body, &[]).await;
    assert_eq!(answer.status, 200, "{body}: {}", String::from_utf8_lossy(&answer.body));
    answer.json()
}

#[tokio::test]
async fn every_current_family_and_the_lite_alias_generates() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let mut models: Vec<&str> =
        catalog::families().iter().filter(|f| f.status == Status::Current).map(|f| f.model_id.as_str()).collect();
    models.extend([SEEDREAM_5_0_LITE, LITE_ALIAS]);
    assert!(models.len() >= 6, "{models:?}");
    for model in models {
        let family = row(model);
        // The row's smallest preset keeps the JPEG small.
        let preset = family.size.presets[0].as_str();
        let body = json!({"model": model, "prompt": "a lighthouse", "size": preset, "response_format": "b64_json"});
        let answer = generate(&emulator, &client, &body).await;
        assert_eq!(answer["model"], family.model_id, "{model}: the alias is answered with the dated id");
        let item = &answer["data"][0];
        let (width, height, _) = decode_jpeg(&b64_bytes(item));
        assert_eq!(item["size"], format!("{width}x{height}"), "{model}");
        let expected = family.size.presets[0].dimensions_for_ratio(1.0);
        assert_eq!((u32::from(width), u32::from(height)), (expected.width, expected.height), "{model}");
        // Pro and flash state the format and count input images; the others do not.
        assert_eq!(item.get("output_format").is_some(), family.reports_formats, "{model}: {item}");
        if family.reports_formats {
            assert_eq!(item["output_format"], "jpeg");
            assert_eq!(answer["usage"]["input_images"], 0, "{model}");
        } else {
            assert!(answer["usage"].get("input_images").is_none(), "{model}");
        }
        assert_eq!(answer["usage"]["generated_images"], 1);
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn png_output_decodes_with_the_stated_size_by_base64_and_by_link() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    for model in [SEEDREAM_5_0_PRO, SEEDREAM_5_0_FLASH] {
        let body = json!({"model": model, "prompt": "a kite", "size": "1280x720", "output_format": "png",
                          "response_format": "b64_json"});
        let answer = generate(&emulator, &client, &body).await;
        let item = &answer["data"][0];
        assert_eq!((item["output_format"].as_str(), item["size"].as_str()), (Some("png"), Some("1280x720")));
        let bytes = b64_bytes(item);
        let png = decode_png(&bytes);
        assert_eq!((png.width, png.height, png.color), (1280, 720, png::ColorType::Rgb));
        assert!(png.pixels.iter().any(|&p| p != png.pixels[0]), "not a blank image");
        // The link serves the same bytes, as a PNG.
        let linked = generate(
            &emulator,
            &client,
            &json!({"model": model, "prompt": "a kite", "size": "1280x720",
                                                            "output_format": "png"}),
        )
        .await;
        let link = linked["data"][0]["url"].as_str().unwrap();
        assert!(link.contains(".png?"), "{link}");
        let download = get(&client, link).await;
        assert_eq!(download.header("content-type"), Some("image/png"));
        assert_eq!(download.body, bytes);
        // JPEG and PNG of one request are cached apart.
        let jpeg = json!({"model": model, "prompt": "a kite", "size": "1280x720", "response_format": "b64_json"});
        let jpeg = generate(&emulator, &client, &jpeg).await;
        assert_eq!(seedream_types::image::sniff_format(&b64_bytes(&jpeg["data"][0])), Some(ImageFormat::Jpeg));
    }
    // 5.0 lite makes PNGs too but does not say so: the bytes tell.
    let body = json!({"model": SEEDREAM_5_0_LITE, "prompt": "a kite", "size": "2560x1440", "output_format": "png",
                      "response_format": "b64_json"});
    let answer = generate(&emulator, &client, &body).await;
    let item = &answer["data"][0];
    assert!(item.get("output_format").is_none(), "{item}");
    let png = decode_png(&b64_bytes(item));
    assert_eq!((png.width, png.height), (2560, 1440));
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_transparent_background_has_transparent_and_opaque_pixels() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let body = json!({"model": SEEDREAM_5_0_PRO, "prompt": "the cat alone", "image": png_data_url(64, 64, true),
                      "background": "transparent", "size": "1K", "response_format": "b64_json"});
    let answer = generate(&emulator, &client, &body).await;
    let item = &answer["data"][0];
    assert_eq!(item["output_format"], "png", "transparent output is PNG without output_format");
    assert_eq!(answer["usage"]["input_images"], 1);
    let png = decode_png(&b64_bytes(item));
    assert_eq!((png.width, png.height, png.color), (1024, 1024, png::ColorType::Rgba));
    let alphas: Vec<u8> = png.pixels.chunks_exact(4).map(|p| p[3]).collect();
    assert!(alphas.contains(&0) && alphas.contains(&255), "some pixels transparent, some opaque");
    // An input without alpha is refused by validation, with the field named.
    let opaque = json!({"model": SEEDREAM_5_0_PRO, "prompt": "p", "image": png_data_url(64, 64, false),
                        "background": "transparent"});
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let answer = post_json(&client, &url, &opaque, &[]).await;
    assert_eq!((answer.status.as_u16(), answer.error().1.as_str()), (400, "image"));
    emulator.shutdown().await;
}

/// Checks a decomposition answer for a base image of `width` × `height`; returns the boxes.
fn check_layers(answer: &Value, width: u32, height: u32) -> Vec<Value> {
    let data = answer["data"].as_array().unwrap();
    let max_layers = row(SEEDREAM_5_0_PRO).layers.as_ref().unwrap().max_layers;
    assert!((3..=max_layers + 1).contains(&data.len()), "a base image and 2 to {max_layers} layers: {}", data.len());
    assert_eq!(answer["usage"]["generated_images"], data.len(), "every item is billed");
    let base = &data[0];
    assert_eq!((base["z_index"].as_i64(), base["size"].as_str()), (Some(0), Some(&*format!("{width}x{height}"))));
    let mut boxes = Vec::new();
    for (z, item) in data.iter().enumerate().skip(1) {
        assert_eq!(item["z_index"], z, "{item}");
        assert_eq!(item["output_format"], "png");
        assert!(!item["name"].as_str().unwrap().is_empty() && !item["description"].as_str().unwrap().is_empty());
        let bbox = &item["bounding_box"];
        let abs: Vec<u32> = bbox["absolute"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        let norm: Vec<f64> = bbox["normalized"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let [x1, y1, x2, y2] = abs[..] else { panic!("four corners: {bbox}") };
        assert!(x1 < x2 && x2 <= width && y1 < y2 && y2 <= height, "{bbox}");
        for (i, (&a, &n)) in abs.iter().zip(&norm).enumerate() {
            let side = if i % 2 == 0 { width } else { height };
            let exact = f64::from(a) * 1000.0 / f64::from(side);
            assert!((n - exact).abs() <= 0.5, "normalized {n} for {a} of {side}");
        }
        let png = decode_png(&b64_bytes(item));
        assert_eq!((png.width, png.height, png.color), (width, height, png::ColorType::Rgba), "layer {z}");
        let mut opaque = 0;
        for y in 0..height {
            for x in 0..width {
                let alpha = png.alpha(x, y);
                let inside = (x1..x2).contains(&x) && (y1..y2).contains(&y);
                assert!(inside || alpha == 0, "layer {z}: pixel ({x}, {y}) outside {bbox} has alpha {alpha}");
                opaque += usize::from(alpha == 255);
            }
        }
        assert!(opaque > 0, "layer {z} shows something");
        boxes.push(bbox.clone());
    }
    boxes
}

#[tokio::test]
async fn layers_are_rgba_pngs_transparent_outside_their_boxes() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let input = png_data_url(640, 480, false);
    let body = json!({"model": SEEDREAM_5_0_PRO, "prompt": "", "image": input, "layer_decomposition": true,
                      "size": "auto", "response_format": "b64_json"});
    let answer = generate(&emulator, &client, &body).await;
    let boxes = check_layers(&answer, 640, 480);
    // Deterministic from prompt and seed; another prompt, another plan.
    assert_eq!(check_layers(&generate(&emulator, &client, &body).await, 640, 480), boxes);
    let mut other = body.clone();
    other["prompt"] = json!("split the poster");
    assert_ne!(check_layers(&generate(&emulator, &client, &other).await, 640, 480), boxes);
    // Flash, a JPEG input, no size (auto is the default): the input's size.
    let jpeg = jpeg_data_url(600, 500);
    let body = json!({"model": SEEDREAM_5_0_FLASH, "image": jpeg, "layer_decomposition": true,
                      "response_format": "b64_json"});
    let answer = generate(&emulator, &client, &body).await;
    check_layers(&answer, 600, 500);
    assert_eq!(seedream_types::image::sniff_format(&b64_bytes(&answer["data"][0])), Some(ImageFormat::Jpeg));
    // Layers by link: PNGs too.
    let body = json!({"model": SEEDREAM_5_0_PRO, "prompt": "p", "image": png_data_url(512, 512, false),
                      "layer_decomposition": true});
    let answer = generate(&emulator, &client, &body).await;
    let link = answer["data"][1]["url"].as_str().unwrap();
    let download = get(&client, link).await;
    assert_eq!(download.header("content-type"), Some("image/png"));
    assert_eq!(decode_png(&download.body).color, png::ColorType::Rgba);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_5_5_decomposition_goes_past_5_0s_layers_but_stays_under_its_default_cap() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let rule = catalog::by_key("seedream-5.5").unwrap().layers.clone().unwrap();
    let pro = catalog::family_of(SEEDREAM_5_0_PRO).unwrap().layers.clone().unwrap();
    let mut most = 0;
    for prompt in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        let body = json!({"model": "dola-seedream-5-5-261028", "prompt": prompt, "image": png_data_url(512, 512, false),
                          "layer_decomposition": true, "response_format": "b64_json"});
        let answer = generate(&emulator, &client, &body).await;
        let images = answer["data"].as_array().unwrap().len();
        assert!(images <= rule.default_layers() + 1, "{images} images: over the default cap");
        most = most.max(images);
    }
    assert!(most > pro.max_layers + 1, "5.5 makes more layers than 5.0 ({most} at most)");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_moderated_layer_fails_the_whole_decomposition() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let body = json!({"model": SEEDREAM_5_0_PRO, "image": png_data_url(512, 512, false), "layer_decomposition": true});
    let answer = post_json(&client, &url, &body, &[("x-emulator-fault", "moderate;images=1")]).await;
    assert_eq!((answer.status.as_u16(), answer.error().0.as_str()), (400, "OutputImageSensitiveContentDetected"));
    emulator.shutdown().await;
}

/// Asserts a 400 `InvalidParameter` about `param` in the service's sentence; returns the rule text.
async fn refused(emulator: &EmulatorHandle, client: &HttpClient, body: Value, param: &str) -> String {
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let answer = post_json(client, &url, &body, &[]).await;
    assert_eq!(answer.status, 400, "{body}");
    refusal(&answer, param)
}

/// [`refused`] for an answer at hand.
fn refusal(answer: &Answer, param: &str) -> String {
    assert_eq!(answer.status, 400, "{}", String::from_utf8_lossy(&answer.body));
    let (code, got_param, kind) = answer.error();
    assert_eq!((code.as_str(), got_param.as_str(), kind.as_str()), ("InvalidParameter", param, "BadRequest"));
    let message = answer.json()["error"]["message"].as_str().unwrap().to_owned();
    let id = answer.header("x-request-id").unwrap().to_owned();
    let rule = ["is", "are"]
        .iter()
        .find_map(|verb| {
            message.strip_prefix(&format!("The parameter `{param}` specified in the request {verb} not valid: "))
        })
        .unwrap_or_else(|| panic!("not the service's pattern: {message}"));
    let rule = rule.strip_suffix(&format!(". Request id: {id}")).unwrap_or_else(|| panic!("{message}"));
    rule.to_owned()
}

#[tokio::test]
async fn pro_refuses_stream_group_tools_and_too_many_references_in_the_service_words() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let (e, c) = (&emulator, &client);
    let pro = row(SEEDREAM_5_0_PRO);
    let stream = json!({"model": SEEDREAM_5_0_PRO, "prompt": "p", "stream": true});
    assert_eq!(refused(e, c, stream, "stream").await, "stream is not supported by the current model");
    let group = json!({"model": SEEDREAM_5_0_PRO, "prompt": "p", "sequential_image_generation": "auto"});
    assert_eq!(
        refused(e, c, group, "sequential_image_generation").await,
        "sequential_image_generation is not supported by the current model"
    );
    let tools = json!({"model": SEEDREAM_5_0_PRO, "prompt": "p", "tools": [{"type": "web_search"}]});
    assert_eq!(refused(e, c, tools, "tools[0].type").await, "web_search is not supported by the current model");
    let max = pro.references.max;
    let refs: Vec<String> = (0..=max).map(|i| format!("https://example.invalid/{i}.png")).collect();
    let too_many = json!({"model": SEEDREAM_5_0_PRO, "prompt": "p", "image": refs});
    assert_eq!(refused(e, c, too_many, "image").await, format!("number of reference images cannot exceed {max}"));
    // The captured size body of 4.5, with the row's minimum.
    let min = row(SEEDREAM_4_5).size.area.unwrap().min;
    let small = json!({"model": SEEDREAM_4_5, "prompt": "p", "size": "1024x1024"});
    assert_eq!(refused(e, c, small, "size").await, format!("image size must be at least {min} pixels"));
    // The limit itself is accepted.
    let refs: Vec<String> = (0..max).map(|i| format!("https://example.invalid/{i}.png")).collect();
    let answer = generate(e, c, &json!({"model": SEEDREAM_5_0_PRO, "prompt": "p", "image": refs, "size": "1K"})).await;
    assert_eq!(answer["usage"]["input_images"], max);
    emulator.shutdown().await;
}

#[tokio::test]
async fn usage_reports_web_search_and_input_images_in_both_styles() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    for base in [emulator.ark_base_url(), emulator.base_url()] {
        let url = format!("{base}/images/generations");
        let search = json!({"model": SEEDREAM_5_0_LITE, "prompt": "today's weather in Paris",
                            "tools": [{"type": "web_search"}]});
        let answer = post_json(&client, &url, &search, &[]).await.json();
        assert_eq!(answer["usage"]["tool_usage"], json!({"web_search": 1}), "{base}");
        assert_eq!(answer["tools"], json!([{"type": "web_search"}]));
        assert!(answer["usage"].get("input_images").is_none(), "lite does not count input images");
        let plain = post_json(&client, &url, &json!({"model": SEEDREAM_5_0_LITE, "prompt": "p"}), &[]).await.json();
        assert!(plain.get("tools").is_none() && plain["usage"].get("tool_usage").is_none(), "{plain}");
        for (refs, expected) in
            [(vec![], 0), (vec!["https://example.invalid/a.png", "https://example.invalid/b.png"], 2)]
        {
            let mut body = json!({"model": SEEDREAM_5_0_FLASH, "prompt": "p", "size": "1K"});
            if !refs.is_empty() {
                body["image"] = json!(refs);
            }
            let answer = post_json(&client, &url, &body, &[]).await.json();
            assert_eq!(answer["usage"]["input_images"], expected, "{base}: {answer}");
        }
    }
    // Relay style keeps its own fields next to them.
    let url = format!("{}/images/generations", emulator.base_url());
    let answer = post_json(&client, &url, &json!({"model": SEEDREAM_5_0_PRO, "prompt": "p", "size": "1K"}), &[]).await;
    let usage = &answer.json()["usage"];
    assert_eq!((usage["prompt_tokens"].as_u64(), usage["input_images"].as_u64()), (Some(0), Some(0)));
    emulator.shutdown().await;
}

#[tokio::test]
async fn streamed_images_carry_the_fields_of_plain_items() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let body = json!({"model": SEEDREAM_5_0_LITE, "prompt": "two kites", "size": "2560x1440", "output_format": "png",
                      "sequential_image_generation": "auto", "sequential_image_generation_options": {"max_images": 2},
                      "tools": [{"type": "web_search"}], "response_format": "b64_json"});
    let plain = post_json(&client, &url, &body, &[]).await.json();
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let answer = post_json(&client, &url, &streamed, &[]).await;
    assert_eq!(answer.status, 200);
    let events = parse_sse(&answer.body);
    let images: Vec<Value> = events
        .iter()
        .filter(|e| e.event.as_deref() == Some("image_generation.partial_succeeded"))
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    assert_eq!(images.len(), 2);
    for (index, event) in images.iter().enumerate() {
        let mut fields = event.as_object().unwrap().clone();
        for envelope in ["type", "model", "created", "image_index"] {
            fields.remove(envelope);
        }
        assert_eq!(Value::Object(fields), plain["data"][index], "event {index}");
        assert_eq!(decode_png(&b64_bytes(event)).width, 2560);
    }
    let completed = events.iter().find(|e| e.event.as_deref() == Some("image_generation.completed")).unwrap();
    let completed: Value = serde_json::from_str(&completed.data).unwrap();
    assert_eq!(completed["usage"]["tool_usage"]["web_search"], 1);
    assert_eq!(completed["usage"]["generated_images"], 2);
    emulator.shutdown().await;
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Posts an edit form (text fields, then files) to the relay route.
async fn edit(emulator: &EmulatorHandle, client: &HttpClient, text: &[(&str, &str)], input: &[u8]) -> Answer {
    let (content_type, body) = multipart(text, &[("image", "in.png", input)]);
    let request = http::Request::post(format!("{}/images/edits", emulator.base_url()))
        .header("content-type", content_type)
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    send(client, request).await
}

#[tokio::test]
async fn an_edit_form_with_layer_decomposition_answers_layers_as_generations_does() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let input = png_bytes(640, 512, false);
    let form = [("model", SEEDREAM_5_0_PRO), ("prompt", "split it"), ("layer_decomposition", "true")];
    let answer = edit(&emulator, &client, &form, &input).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let json = answer.json();
    let data = json["data"].as_array().unwrap();
    assert!(data.len() > 1, "a base and its layers, not one plain image: {json}");
    assert_eq!(data[0]["z_index"], 0);
    assert!(data[1]["bounding_box"].is_object(), "{json}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn edits_honour_output_format_and_background_by_base64_and_by_link() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    // With alpha, so that the same input serves the transparent background.
    let input = png_bytes(64, 64, true);
    for model in [SEEDREAM_5_0_PRO, SEEDREAM_5_0_FLASH] {
        let form = [("model", model), ("prompt", "make it night"), ("size", "1K"), ("output_format", "png")];
        let answer = edit(&emulator, &client, &[&form[..], &[("response_format", "b64_json")]].concat(), &input).await;
        assert_eq!(answer.status, 200, "{model}: {}", String::from_utf8_lossy(&answer.body));
        let item = &answer.json()["data"][0];
        assert_eq!(item["output_format"], "png", "{model}");
        let bytes = b64_bytes(item);
        assert!(bytes.starts_with(PNG_MAGIC), "{model}: not a PNG");
        assert_eq!(decode_png(&bytes).color, png::ColorType::Rgb);
        let linked = edit(&emulator, &client, &form, &input).await.json();
        assert_eq!(linked["data"][0]["output_format"], "png");
        let download = get(&client, linked["data"][0]["url"].as_str().unwrap()).await;
        assert_eq!(download.header("content-type"), Some("image/png"));
        assert!(download.body.starts_with(PNG_MAGIC), "{model}: the link serves no PNG");
        // `background: transparent` makes an RGBA PNG, as on the JSON path.
        let transparent = [
            ("model", model),
            ("prompt", "the cat alone"),
            ("size", "1K"),
            ("background", "transparent"),
            ("response_format", "b64_json"),
        ];
        let answer = edit(&emulator, &client, &transparent, &input).await.json();
        assert_eq!(answer["data"][0]["output_format"], "png", "{model}");
        let png = decode_png(&b64_bytes(&answer["data"][0]));
        assert_eq!(png.color, png::ColorType::Rgba);
        assert!(png.pixels.chunks_exact(4).any(|p| p[3] == 0), "{model}: some pixels transparent");
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn edits_refuse_an_output_format_as_the_json_path_does() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let input = png_bytes(64, 64, false);
    // A JPEG-only row refuses png; every row refuses a format nobody makes.
    for (model, format) in [(SEEDREAM_4_5, "png"), (SEEDREAM_5_0_PRO, "webp")] {
        let form = [("model", model), ("prompt", "p"), ("output_format", format)];
        let edited = refusal(&edit(&emulator, &client, &form, &input).await, "output_format");
        let body =
            json!({"model": model, "prompt": "p", "image": png_data_url(64, 64, false), "output_format": format});
        assert_eq!(edited, refused(&emulator, &client, body, "output_format").await, "{model}");
    }
    let form = [("model", SEEDREAM_4_5), ("prompt", "p"), ("output_format", "png")];
    let rule = refusal(&edit(&emulator, &client, &form, &input).await, "output_format");
    assert_eq!(rule, "output_format is not supported by the current model");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_streamed_answer_completes_with_the_plain_answer_top_level_tools_included() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    // The top level but for `created` (two calls) and what only one side has.
    let top = |value: &Value, only: &str| {
        let mut fields = value.as_object().unwrap_or_else(|| panic!("not an object: {value}")).clone();
        fields.remove("created");
        fields.remove(only);
        Value::Object(fields)
    };
    for tools in [Some(json!([{"type": "web_search"}])), None] {
        let mut body = json!({"model": SEEDREAM_5_0_LITE, "prompt": "today's weather in Paris", "size": "2K"});
        if let Some(tools) = &tools {
            body["tools"] = tools.clone();
        }
        let plain = generate(&emulator, &client, &body).await;
        body["stream"] = json!(true);
        let answer = post_json(&client, &url, &body, &[]).await;
        assert_eq!(answer.status, 200);
        let events = parse_sse(&answer.body);
        let completed = events.iter().find(|e| e.event.as_deref() == Some("image_generation.completed")).unwrap();
        let completed: Value = serde_json::from_str(&completed.data).unwrap();
        assert_eq!(top(&completed, "type"), top(&plain, "data"), "{tools:?}");
        assert_eq!(completed.get("tools"), tools.as_ref());
        let searches = completed["usage"].get("tool_usage").map(|usage| usage["web_search"].clone());
        assert_eq!(searches, tools.as_ref().map(|_| json!(1)));
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn edits_take_seed_guidance_scale_and_stream_as_the_json_path_does() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let input = png_bytes(64, 64, false);
    let url = format!("{}/images/generations", emulator.base_url());
    // The same seed draws the same picture by either path; another seed another one.
    let pixels = |answer: &Value| decode_jpeg(&b64_bytes(&answer["data"][0])).2;
    let mut drawn = Vec::new();
    for seed in ["7", "8"] {
        let form = [
            ("model", SEEDEDIT_3_0_I2I),
            ("prompt", "make it winter"),
            ("size", "adaptive"),
            ("seed", seed),
            ("guidance_scale", "6.5"),
            ("response_format", "b64_json"),
        ];
        let edited = edit(&emulator, &client, &form, &input).await;
        assert_eq!(edited.status, 200, "{}", String::from_utf8_lossy(&edited.body));
        let body = json!({"model": SEEDEDIT_3_0_I2I, "prompt": "make it winter", "size": "adaptive",
                          "image": png_data_url(64, 64, false), "seed": seed.parse::<i64>().unwrap(),
                          "guidance_scale": 6.5, "response_format": "b64_json"});
        let answer = post_json(&client, &url, &body, &[]).await;
        assert_eq!(answer.status, 200);
        assert_eq!(pixels(&edited.json()), pixels(&answer.json()), "seed {seed}");
        drawn.push(pixels(&edited.json()));
    }
    assert_ne!(drawn[0], drawn[1], "the seed reaches the drawing");
    // Out of range, for a row without them, or not a number: refused as the JSON path refuses.
    for (model, name, value) in [
        (SEEDEDIT_3_0_I2I, "seed", json!(-2)),
        (SEEDEDIT_3_0_I2I, "guidance_scale", json!(11)),
        (SEEDREAM_4_5, "seed", json!(7)),
    ] {
        let text = value.to_string();
        let form = [("model", model), ("prompt", "p"), (name, text.as_str())];
        let edited = refusal(&edit(&emulator, &client, &form, &input).await, name);
        let body = json!({"model": model, "prompt": "p", "image": png_data_url(64, 64, false), name: value});
        assert_eq!(edited, refused(&emulator, &client, body, name).await, "{model} {name}");
    }
    for (name, text) in [("seed", "seven"), ("guidance_scale", "NaN"), ("stream", "yes"), ("tools", "web_search")] {
        let form = [("model", SEEDREAM_5_0_LITE), ("prompt", "p"), (name, text)];
        let answer = edit(&emulator, &client, &form, &input).await;
        assert_eq!(answer.status, 400, "{name}={text}");
        assert_eq!(answer.error().1, name);
    }
    // `stream` gets the events; `tools` come back on `completed`.
    let form = [
        ("model", SEEDREAM_5_0_LITE),
        ("prompt", "p"),
        ("size", "2K"),
        ("n", "2"),
        ("stream", "true"),
        ("tools", r#"[{"type":"web_search"}]"#),
    ];
    let answer = edit(&emulator, &client, &form, &input).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.header("content-type"), Some("text/event-stream; charset=utf-8"));
    let events = parse_sse(&answer.body);
    let kinds: Vec<_> = events.iter().filter_map(|e| e.event.as_deref()).collect();
    assert_eq!(kinds.iter().filter(|k| k.ends_with("partial_succeeded")).count(), 2, "{kinds:?}");
    let completed = events.iter().find(|e| e.event.as_deref() == Some("image_generation.completed")).unwrap();
    let completed: Value = serde_json::from_str(&completed.data).unwrap();
    assert_eq!(completed["tools"], json!([{"type": "web_search"}]));
    emulator.shutdown().await;
}
