//! Generated valid requests round-trip and pass validation; a request broken in one rule reports
//! exactly that field path.

use proptest::prelude::*;
use seedream_types::{
    GenerateRequest, ImageCount, ImageInput, OptimizePromptMode, ResponseFormat, SEEDEDIT_3_0_I2I, SEEDREAM_3_0_T2I,
    SEEDREAM_4_0, SEEDREAM_4_5, Size, SizePreset,
};

fn url(i: usize) -> String {
    format!("https://example.com/ref-{i}.png")
}

fn prompt() -> impl Strategy<Value = String> {
    "[a-z]{1,12}( [a-z]{1,12}){0,8}"
}

fn response_format() -> impl Strategy<Value = Option<ResponseFormat>> {
    prop_oneof![Just(None), Just(Some(ResponseFormat::Url)), Just(Some(ResponseFormat::B64Json))]
}

/// Valid `WxH` for an area range, with the ratio kept within 1/4..4.
fn pixels(min_area: u64, max_area: u64) -> impl Strategy<Value = Size> {
    (1024u32..=4096, 1024u32..=4096)
        .prop_filter("area", move |(w, h)| (min_area..=max_area).contains(&(u64::from(*w) * u64::from(*h))))
        .prop_map(|(w, h)| Size::pixels(w, h))
}

fn seedream_4(model: &'static str) -> impl Strategy<Value = GenerateRequest> {
    let is_45 = model == SEEDREAM_4_5;
    let presets = if is_45 {
        vec![SizePreset::TwoK, SizePreset::FourK]
    } else {
        vec![SizePreset::OneK, SizePreset::TwoK, SizePreset::FourK]
    };
    let min_area = if is_45 { 3_686_400 } else { 921_600 };
    let size = prop_oneof![
        Just(None),
        prop::sample::select(presets).prop_map(|p| Some(Size::Preset(p))),
        pixels(min_area, 16_777_216).prop_map(Some)
    ];
    (
        prompt(),
        0usize..=14,
        size,
        prop::option::of(1i64..=15),
        response_format(),
        any::<Option<bool>>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(prompt, refs, size, max_images, format, watermark, stream, optimize)| {
            let mut req = GenerateRequest::new(model, prompt);
            if refs > 0 {
                req = req.with_images((0..refs).map(url));
            }
            req.size = size;
            if let Some(max) = max_images {
                req = req.with_max_images(max.min(15 - refs as i64).max(1));
            }
            req.response_format = format;
            req.watermark = watermark;
            if stream {
                req = req.with_stream(true);
            }
            if optimize {
                req = req.with_optimize_prompt(OptimizePromptMode::Standard);
            }
            req
        })
}

fn seededit() -> impl Strategy<Value = GenerateRequest> {
    (
        prompt(),
        any::<bool>(),
        prop::option::of(-1i64..=2_147_483_647),
        prop::option::of(1.0f64..=10.0),
        response_format(),
    )
        .prop_map(|(prompt, adaptive, seed, scale, format)| {
            let mut req = GenerateRequest::new(SEEDEDIT_3_0_I2I, prompt).with_image(url(0));
            if adaptive {
                req = req.with_size(Size::Adaptive);
            }
            req.seed = seed;
            req.guidance_scale = scale;
            req.response_format = format;
            req
        })
}

fn seedream_3() -> impl Strategy<Value = GenerateRequest> {
    (prompt(), 512u32..=2048, 512u32..=2048, prop::option::of(-1i64..=2_147_483_647), prop::option::of(1.0f64..=10.0))
        .prop_map(|(prompt, w, h, seed, scale)| {
            let mut req = GenerateRequest::new(SEEDREAM_3_0_T2I, prompt).with_size(Size::pixels(w, h));
            req.seed = seed;
            req.guidance_scale = scale;
            req
        })
}

fn valid_request() -> impl Strategy<Value = GenerateRequest> {
    prop_oneof![seedream_4(SEEDREAM_4_0), seedream_4(SEEDREAM_4_5), seededit(), seedream_3()]
}

/// Breaks exactly one rule that applies to the request's model; returns the field path it must report.
fn break_one_rule(mut req: GenerateRequest, which: usize) -> (GenerateRequest, &'static str) {
    let seedream_4 = req.model.starts_with("doubao-seedream-4");
    let rules: Vec<&'static str> = if seedream_4 {
        vec!["prompt", "tiny_size", "size", "max_images", "seed", "n", "image"]
    } else {
        vec!["prompt", "tiny_size", "size", "seed_range", "guidance_range", "stream", "n"]
    };
    let rule = rules[which % rules.len()];
    let path = match rule {
        "prompt" => {
            req.prompt = "   ".into();
            "prompt"
        }
        // An unknown response_format is sent as written (open values), so no longer a broken rule.
        "tiny_size" => {
            req.size = Some(serde_json::from_value(serde_json::json!("1x1")).unwrap());
            "size"
        }
        "size" => {
            req.size = Some(Size::Other("huge".into()));
            "size"
        }
        "max_images" => {
            req.sequential_image_generation_options.get_or_insert_with(Default::default).max_images = Some(16);
            "sequential_image_generation_options.max_images"
        }
        "seed" => {
            req.seed = Some(1);
            "seed"
        }
        "n" => {
            req.n = Some(ImageCount::Text("many".into()));
            "n"
        }
        "image" => {
            // Replace the first reference (or add one): the count, and so the group rules, stay as they were.
            match &mut req.image {
                Some(ImageInput::Many(many)) => {
                    many[0] = "file:///etc/passwd".into();
                    "image[0]"
                }
                _ => {
                    req.image = Some(ImageInput::One("file:///etc/passwd".into()));
                    if let Some(options) = &mut req.sequential_image_generation_options {
                        options.max_images = options.max_images.map(|max| max.min(14));
                    }
                    "image"
                }
            }
        }
        "seed_range" => {
            req.seed = Some(2_147_483_648);
            "seed"
        }
        "guidance_range" => {
            req.guidance_scale = Some(0.5);
            "guidance_scale"
        }
        "stream" => {
            req.stream = Some(true);
            "stream"
        }
        _ => unreachable!(),
    };
    (req, path)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn valid_requests_round_trip_and_pass(req in valid_request()) {
        if let Err(e) = req.validate() {
            return Err(TestCaseError::fail(format!("{e} for {}", serde_json::to_string(&req).unwrap())));
        }
        let text = serde_json::to_string(&req).unwrap();
        let back: GenerateRequest = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &req);
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }

    #[test]
    fn one_broken_rule_reports_exactly_its_field(req in valid_request(), which in 0usize..7) {
        let (broken, path) = break_one_rule(req, which);
        let error = broken.validate().expect_err("broken request must fail");
        let fields = error.fields();
        prop_assert_eq!(fields, vec![path], "{}", error);
    }

    #[test]
    fn validation_never_panics_on_arbitrary_json(value in arbitrary_json()) {
        if let Ok(req) = serde_json::from_value::<GenerateRequest>(value) {
            let _ = req.validate();
        }
    }
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "2K",
            "1K",
            "adaptive",
            "0x0",
            "4096x1",
            "auto",
            "data:image/png;base64,iVBORw0KGgo=",
            "https://a",
            SEEDREAM_4_0,
            SEEDEDIT_3_0_I2I,
            SEEDREAM_3_0_T2I
        ])
        .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    let keys = prop::sample::select(vec![
        "model",
        "prompt",
        "image",
        "size",
        "seed",
        "guidance_scale",
        "n",
        "stream",
        "watermark",
        "sequential_image_generation",
        "sequential_image_generation_options",
        "max_images",
        "response_format",
        "optimize_prompt_options",
        "mode",
        "other",
    ]);
    let tree = leaf.prop_recursive(3, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..16).prop_map(Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    });
    (prop::sample::select(vec![SEEDREAM_4_0, SEEDREAM_4_5, SEEDEDIT_3_0_I2I, SEEDREAM_3_0_T2I, "ep-x"]), tree).prop_map(
        |(model, tree)| {
            let mut object = json!({"model": model, "prompt": "p"});
            if let Value::Object(fields) = tree {
                object.as_object_mut().unwrap().extend(fields);
            }
            object
        },
    )
}
