//! The emulator never panics or drops a connection on bad input: mutated seed requests and garbage
//! bodies all get a 200 or a 4xx with the documented error shape, and the server keeps serving.

mod common;

use common::*;
use seedream_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

const SEEDS: [&str; 5] = [
    "seed000-seedream45-group-stream.json",
    "seed001-seedream40-multi-reference.json",
    "seed002-seededit30-i2i.json",
    "seed003-seedream45-single.json",
    "spec-seedream30-t2i.json",
];

fn random_value(rng: &mut fastrand::Rng) -> Value {
    match rng.u8(..9) {
        0 => Value::Null,
        1 => json!(rng.i64(..)),
        2 => json!(rng.f64() * 1e12 - 5e11),
        3 => json!(["x", 1, null]),
        4 => json!({"max_images": rng.i64(-5..40), "mode": "fast"}),
        5 => json!(rng.bool()),
        6 => json!(""),
        7 => json!(jpeg_data_url(rng.u32(1..64), rng.u32(1..64))),
        _ => json!(
            ["1K", "2K", "4K", "adaptive", "0x0", "99999x99999", "1280x720", "url", "b64_json", "auto"]
                [rng.usize(..10)]
        ),
    }
}

const FIELDS: [&str; 14] = [
    "model",
    "prompt",
    "image",
    "size",
    "seed",
    "guidance_scale",
    "sequential_image_generation",
    "sequential_image_generation_options",
    "n",
    "response_format",
    "stream",
    "watermark",
    "optimize_prompt_options",
    "tools",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_and_garbage_requests_get_documented_answers() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let mut rng = fastrand::Rng::with_seed(20_251_128);
    let seeds: Vec<Value> = SEEDS.iter().map(|name| fixture_json(&format!("requests/{name}"))).collect();
    let rounds = 150;
    for round in 0..rounds {
        let body: Vec<u8> = if round % 10 == 9 {
            (0..rng.usize(..200)).map(|_| rng.u8(..)).collect()
        } else {
            let mut request = seeds[rng.usize(..seeds.len())].clone();
            let object = request.as_object_mut().unwrap();
            for _ in 0..rng.usize(1..4) {
                let field = FIELDS[rng.usize(..FIELDS.len())];
                if rng.bool() {
                    object.remove(field);
                } else {
                    object.insert(field.to_owned(), random_value(&mut rng));
                }
            }
            // Keep the run short: big groups of large images are tested elsewhere.
            object.insert("response_format".into(), json!("url"));
            request.to_string().into_bytes()
        };
        let answer = send(&client, post(&url, body.clone(), &[])).await;
        match answer.status.as_u16() {
            200 => {
                if answer.header("content-type").is_some_and(|t| t.starts_with("text/event-stream")) {
                    assert_eq!(parse_sse(&answer.body).last().unwrap().data, "[DONE]");
                } else {
                    assert!(answer.json()["data"].is_array());
                }
            }
            400 => {
                let (code, _, kind) = answer.error();
                assert!(["InvalidParameter", "MissingParameter"].contains(&code.as_str()), "{code}");
                assert_eq!(kind, "BadRequest");
            }
            other => panic!("{other} for {}", String::from_utf8_lossy(&body)),
        }
    }
    assert_eq!(emulator.stats().requests, rounds);
    emulator.shutdown().await;
}
