//! Property: a request built only from what a catalog row allows (a random family by id or alias, a
//! preset of the row in random case or a `WxH` inside its area and ratio, up to its most references as
//! small PNG data URLs or links, an output format of the row) passes `validate()` and the emulator
//! answers it 200. Bounded: 48 cases, tiny images, `response_format: url` so nothing is rendered.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use seedream_emulator::{Emulator, EmulatorConfig};
use seedream_types::catalog::{ModelFamily, families};
use seedream_types::{
    Dimensions, GenerateRequest, ImageFormat, ImageInput, OutputFormat, ResponseFormat, Size, SizeForm,
};

/// The random choices of one case; [`Choices::request`] turns them into a request the row allows.
#[derive(Debug, Clone)]
struct Choices {
    family: Index,
    by_alias: Option<Index>,
    /// 0: no size, 1: a preset (or `adaptive`), 2: `WxH`.
    size_kind: u8,
    preset: Index,
    /// Bit i upper-cases character i of the preset.
    case_mask: u32,
    /// Position in the row's area range, 0–1.
    area: f64,
    /// Position in the row's ratio range (logarithmic), 0–1.
    ratio: f64,
    references: Index,
    /// Per reference: a data URL (with its size) or a link.
    kinds: Vec<Option<(u32, u32)>>,
    output_format: Option<Index>,
}

fn choices() -> impl Strategy<Value = Choices> {
    (
        any::<Index>(),
        proptest::option::of(any::<Index>()),
        0u8..3,
        any::<Index>(),
        any::<u32>(),
        0.0..=1.0f64,
        0.0..=1.0f64,
        any::<Index>(),
        proptest::collection::vec(proptest::option::of((16u32..48, 16u32..48)), 16),
        proptest::option::of(any::<Index>()),
    )
        .prop_map(
            |(family, by_alias, size_kind, preset, case_mask, area, ratio, references, kinds, output_format)| Choices {
                family,
                by_alias,
                size_kind,
                preset,
                case_mask,
                area,
                ratio,
                references,
                kinds,
                output_format,
            },
        )
}

/// A `WxH` inside the row's area and ratio, near the chosen position.
fn pixels(family: &ModelFamily, area: f64, ratio: f64) -> Option<Dimensions> {
    let (min, max) = family.size.area.map(|a| (a.min, a.max))?;
    let (low, high) = family.size.ratio.map_or((0.25, 4.0), |r| (r.min, r.max));
    let target = min as f64 + (max - min) as f64 * area;
    let r = (low.ln() + (high.ln() - low.ln()) * ratio).exp();
    let width = ((target * r).sqrt().floor() as u32).max(1);
    let mut height = ((target / f64::from(width)).floor() as u32).max(1);
    while u64::from(width) * u64::from(height) < min {
        height += 1;
    }
    let dims = Dimensions::new(width, height);
    let fits = (min..=max).contains(&dims.area()) && family.size.ratio.is_none_or(|r| r.contains(dims));
    fits.then_some(dims)
}

impl Choices {
    fn family(&self) -> &'static ModelFamily {
        self.family.get(families())
    }

    fn request(&self) -> GenerateRequest {
        let family = self.family();
        let model = match self.by_alias.filter(|_| !family.aliases.is_empty()) {
            Some(index) => index.get(&family.aliases).as_str(),
            None => family.model_id.as_str(),
        };
        let mut request = GenerateRequest::new(model, "a quiet harbour at dawn");
        request.response_format = Some(ResponseFormat::Url);
        let preset = (!family.size.presets.is_empty()).then(|| *self.preset.get(&family.size.presets));
        let size = match (self.size_kind, preset) {
            (1, Some(preset)) => {
                let text: String = preset
                    .as_str()
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if self.case_mask >> (i % 32) & 1 == 1 { c } else { c.to_ascii_lowercase() })
                    .collect();
                Some(Size::from_wire(&text))
            }
            (1, None) if family.size.adaptive => Some(Size::Adaptive),
            (2, _) => pixels(family, self.area, self.ratio).map(|d| Size::pixels(d.width, d.height)),
            _ => None,
        };
        request.size = size;
        let refs = family.references;
        let count = refs.min + self.references.index(refs.max - refs.min + 1);
        let rule = &family.input;
        let images: Vec<String> = self.kinds[..count]
            .iter()
            .map(|kind| match kind {
                Some((w, h)) if rule.formats.contains(&ImageFormat::Png) => {
                    let dims = Dimensions::new(*w, *h);
                    let dims = if rule.ratio.contains(dims) { dims } else { Dimensions::new(*w, *w) };
                    png_data_url(dims.width, dims.height, false)
                }
                _ => "https://example.invalid/reference.png".to_owned(),
            })
            .collect();
        request.image = match images.len() {
            0 => None,
            1 if refs.single_string => Some(ImageInput::One(images[0].clone())),
            _ => Some(ImageInput::Many(images)),
        };
        request.output_format =
            self.output_format.map(|index| OutputFormat::from_wire(index.get::<String>(&family.output_formats)));
        request
    }
}

#[test]
fn requests_the_catalog_allows_validate_and_are_answered_200() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let emulator = runtime.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let client = runtime.block_on(async { client() });
    let config = Config { cases: 48, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    // What the cases covered, to show the generator reaches the rows' corners.
    let seen = std::cell::RefCell::new((std::collections::BTreeSet::new(), 0usize, 0usize));
    let result = runner.run(&choices(), |choices| {
        let request = choices.request();
        {
            let mut seen = seen.borrow_mut();
            seen.0.insert(choices.family().key.as_str());
            seen.1 += usize::from(matches!(request.size.as_ref().map(Size::form), Some(SizeForm::Pixels(_))));
            seen.2 += usize::from(request.images().iter().any(|image| image.starts_with("data:")));
        }
        if let Err(error) = request.validate() {
            return Err(TestCaseError::fail(format!("{}: {error}", choices.family().name)));
        }
        let body = serde_json::to_value(&request).unwrap();
        let answer = runtime.block_on(post_json(&client, &url, &body, &[]));
        prop_assert_eq!(
            answer.status.as_u16(),
            200,
            "{} {:?}: {}",
            choices.family().name,
            request.size,
            String::from_utf8_lossy(&answer.body)
        );
        let family = choices.family();
        prop_assert_eq!(&answer.json()["model"], family.model_id.as_str());
        Ok(())
    });
    runtime.block_on(emulator.shutdown());
    if let Err(error) = result {
        panic!("{error}");
    }
    let (families, pixel_sizes, data_urls) = seen.into_inner();
    assert!(families.len() >= 4 && pixel_sizes > 0 && data_urls > 0, "{families:?} {pixel_sizes} {data_urls}");
}
