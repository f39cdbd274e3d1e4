//! Layer decomposition's answer, planned from the request alone: how many layers (2 to the row's
//! `default_layers()`, its cap when the request sets none), where each sits, and its name and
//! description. The same prompt and seed always give the same plan.

use seedream_types::{BoundingBox, Dimensions};

/// One layer above the base image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LayerPlan {
    /// 1, 2, … from the bottom up (the base image is 0).
    pub z_index: i64,
    /// `[x1, y1, x2, y2]` in base-image pixels, the ends exclusive.
    pub bbox: [u32; 4],
    /// Whether the layer is the ellipse inscribed in its box (otherwise the whole box).
    pub ellipse: bool,
    pub name: String,
    pub description: String,
}

/// What layers are called, picked by the plan's random numbers.
const NAMES: [&str; 12] = [
    "subject",
    "shadow",
    "title text",
    "logo",
    "foliage",
    "reflection",
    "ornament",
    "foreground object",
    "frame",
    "light flare",
    "cloud",
    "caption",
];

impl LayerPlan {
    /// The box in the wire form: pixels and the same on a 0–1000 scale (rounded to the nearest).
    pub fn bounding_box(&self, base: Dimensions) -> BoundingBox {
        let [x1, y1, x2, y2] = self.bbox;
        let scale = |v: u32, side: u32| ((u64::from(v) * 1000 + u64::from(side) / 2) / u64::from(side)) as u32;
        let (w, h) = (base.width, base.height);
        BoundingBox::new(self.bbox, [scale(x1, w), scale(y1, h), scale(x2, w), scale(y2, h)])
    }
}

/// The layers for a base image of `base` pixels: the first is the background (the whole picture),
/// the others ellipses in boxes of 15 % to 60 % of each side. `key` is the request's image key.
pub(crate) fn plan(key: u64, base: Dimensions, max_layers: usize) -> Vec<LayerPlan> {
    let mut rng = fastrand::Rng::with_seed(key ^ 0x6c61_7965_7273); // "layers"
    let count = rng.usize(2..=max_layers.max(2));
    let (width, height) = (base.width, base.height);
    let mut layers = vec![LayerPlan {
        z_index: 1,
        bbox: [0, 0, width, height],
        ellipse: false,
        name: "background".into(),
        description: format!("The background of the picture, {width}x{height} pixels, behind every other layer."),
    }];
    for z in 2..=count as i64 {
        let side = |rng: &mut fastrand::Rng, full: u32| {
            let length = ((full as f32 * (0.15 + rng.f32() * 0.45)) as u32).clamp(1, full);
            let start = rng.u32(0..=full - length);
            (start, start + length)
        };
        let (x1, x2) = side(&mut rng, width);
        let (y1, y2) = side(&mut rng, height);
        let name = NAMES[rng.usize(..NAMES.len())];
        layers.push(LayerPlan {
            z_index: z,
            bbox: [x1, y1, x2, y2],
            ellipse: true,
            name: name.into(),
            description: format!(
                "A {name}: an oval of {}x{} pixels whose top left corner is at ({x1}, {y1}) on the base image.",
                x2 - x1,
                y2 - y1
            ),
        });
    }
    layers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_deterministic_and_inside_the_base() {
        let base = Dimensions::new(640, 480);
        let mut counts = std::collections::BTreeSet::new();
        for key in 0..200 {
            let layers = plan(key, base, 16);
            assert_eq!(layers, plan(key, base, 16));
            assert!((2..=16).contains(&layers.len()));
            counts.insert(layers.len());
            for (i, layer) in layers.iter().enumerate() {
                let [x1, y1, x2, y2] = layer.bbox;
                assert_eq!(layer.z_index, i as i64 + 1);
                assert!(x1 < x2 && x2 <= 640 && y1 < y2 && y2 <= 480, "{:?}", layer.bbox);
            }
        }
        assert!(counts.len() > 10, "counts vary: {counts:?}");
        let tiny = plan(1, Dimensions::new(1, 1), 16);
        assert!(tiny.iter().all(|l| l.bbox == [0, 0, 1, 1]));
        let normalized = plan(3, base, 16)[0].bounding_box(base).normalized_corners().unwrap();
        assert_eq!(normalized, [0.0, 0.0, 1000.0, 1000.0]);
    }
}
