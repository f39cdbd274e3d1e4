//! Where generated images live: a bounded cache of encoded images (JPEG or PNG), the table of download links handed
//! out (each a recipe, so a link outlives the cache entry), and the images-per-minute counters.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use seedream_types::provenance::{self, Provenance};

use crate::canvas::{Alpha, Encoding};
use crate::{jpeg, pngfile};

/// Everything that decides an image's bytes, and so the cache key: two recipes that differ only in
/// format, transparency or layer never share an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Recipe {
    pub width: u32,
    pub height: u32,
    /// Derived from (prompt, seed, index).
    pub key: u64,
    pub watermark: bool,
    /// JPEG or PNG.
    pub encoding: Encoding,
    /// Which pixels are opaque (PNG only: a JPEG recipe is always `Opaque`).
    pub alpha: Alpha,
}

impl Recipe {
    /// The key of image `index` of a request with this prompt and seed (FNV-1a: stable across runs
    /// and Rust versions, unlike the std hasher).
    pub fn key(prompt: &str, seed: i64, index: usize) -> u64 {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        let bytes = prompt.bytes().chain(seed.to_le_bytes()).chain((index as u64).to_le_bytes());
        for byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash
    }

    /// An opaque JPEG of this size and key (the emulator's default output).
    #[cfg(test)]
    pub fn jpeg(width: u32, height: u32, key: u64, watermark: bool) -> Self {
        Self { width, height, key, watermark, encoding: Encoding::Jpeg, alpha: Alpha::Opaque }
    }

    /// The file (empty only if the dimensions were not drawable, which callers rule out before). It
    /// says it is synthetic in its own metadata (XMP, [`seedream_types::provenance`]); no time is
    /// written, so the same recipe always gives the same bytes.
    pub fn render(&self) -> Bytes {
        let (width, height, key, watermark) = (self.width, self.height, self.key, self.watermark);
        let file = match self.encoding {
            Encoding::Jpeg => jpeg::synthetic_jpeg(width, height, key, watermark).ok(),
            Encoding::Png => pngfile::synthetic_png(width, height, key, watermark, self.alpha),
        };
        let marker = Provenance {
            size: Some(format!("{width}x{height}")),
            synthetic: true,
            tool: concat!("seedream-emulator ", env!("CARGO_PKG_VERSION")).to_owned(),
            ..Provenance::default()
        };
        let file = file.map(|image| provenance::embed(&image, &marker).unwrap_or(image));
        file.map(Bytes::from).unwrap_or_default()
    }
}

/// Encoded images by recipe, evicting the oldest once the total size passes a bound.
#[derive(Debug)]
pub(crate) struct ImageCache {
    inner: Mutex<CacheInner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct CacheInner {
    images: HashMap<Recipe, Bytes>,
    order: VecDeque<Recipe>,
    bytes: usize,
}

impl ImageCache {
    pub fn new(capacity: usize) -> Self {
        Self { inner: Mutex::new(CacheInner::default()), capacity }
    }

    pub fn get(&self, recipe: &Recipe) -> Option<Bytes> {
        self.lock().images.get(recipe).cloned()
    }

    pub fn insert(&self, recipe: Recipe, image: Bytes) {
        if image.len() > self.capacity {
            return;
        }
        let mut inner = self.lock();
        if inner.images.contains_key(&recipe) {
            return;
        }
        inner.bytes += image.len();
        inner.images.insert(recipe, image);
        inner.order.push_back(recipe);
        while inner.bytes > self.capacity {
            let Some(oldest) = inner.order.pop_front() else { break };
            if let Some(evicted) = inner.images.remove(&oldest) {
                inner.bytes -= evicted.len();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A download link handed out.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub recipe: Recipe,
    pub signature: String,
    pub expires: Instant,
}

/// What a link lookup finds.
#[derive(Debug)]
pub(crate) enum LinkLookup {
    Found(Recipe),
    Expired,
    BadSignature,
    Unknown,
}

/// The links handed out. Expired links are kept for a while longer so they answer 403, not 404.
#[derive(Debug, Default)]
pub(crate) struct LinkTable {
    links: Mutex<(HashMap<String, Link>, u64)>,
}

impl LinkTable {
    /// Registers a link for `recipe` valid for `ttl`; returns (token, signature).
    pub fn add(&self, recipe: Recipe, ttl: Duration) -> (String, String) {
        let token = random_hex(32);
        let signature = random_hex(64);
        let now = Instant::now();
        let expires = now.checked_add(ttl).unwrap_or(now + Duration::from_secs(100 * 365 * 86_400));
        let mut guard = self.links.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (links, inserts) = &mut *guard;
        *inserts += 1;
        if inserts.is_multiple_of(1024) {
            // Forget links that expired long ago (twice their lifetime, at least an hour).
            let keep = ttl.max(Duration::from_secs(3600));
            links.retain(|_, link| link.expires.checked_add(keep).is_none_or(|forget| forget > now));
        }
        links.insert(token.clone(), Link { recipe, signature: signature.clone(), expires });
        (token, signature)
    }

    pub fn lookup(&self, token: &str, signature: Option<&str>) -> LinkLookup {
        let guard = self.links.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(link) = guard.0.get(token) else { return LinkLookup::Unknown };
        if signature != Some(link.signature.as_str()) {
            LinkLookup::BadSignature
        } else if Instant::now() >= link.expires {
            LinkLookup::Expired
        } else {
            LinkLookup::Found(link.recipe)
        }
    }
}

/// `len` random lower-case hex digits.
pub(crate) fn random_hex(len: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..len).map(|_| char::from(DIGITS[fastrand::usize(..16)])).collect()
}

/// Images per minute per API key, over a sliding 60-second window.
#[derive(Debug)]
pub(crate) struct ImageRate {
    limit: u32,
    window: Duration,
    used: Mutex<HashMap<String, VecDeque<(Instant, u32)>>>,
}

impl ImageRate {
    pub fn new(limit: u32) -> Self {
        Self { limit, window: Duration::from_secs(60), used: Mutex::new(HashMap::new()) }
    }

    /// Takes `images` from `key`'s budget, or says in how many seconds to come back.
    pub fn take(&self, key: &str, images: u32) -> Result<(), u64> {
        let now = Instant::now();
        let mut used = self.used.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entries = used.entry(key.to_owned()).or_default();
        while entries.front().is_some_and(|&(at, _)| now.duration_since(at) >= self.window) {
            entries.pop_front();
        }
        let in_window: u32 = entries.iter().map(|&(_, n)| n).sum();
        if in_window.saturating_add(images) <= self.limit {
            entries.push_back((now, images));
            return Ok(());
        }
        // Wait until enough of the window's images have aged out.
        let mut freed = self.limit.saturating_sub(in_window);
        for &(at, n) in entries.iter() {
            freed = freed.saturating_add(n);
            if freed >= images {
                let wait = self.window.saturating_sub(now.duration_since(at));
                return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
            }
        }
        Err(self.window.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_stays_within_its_bound() {
        let cache = ImageCache::new(10);
        let recipe = |key| Recipe::jpeg(1, 1, key, false);
        cache.insert(recipe(1), Bytes::from_static(b"123456"));
        cache.insert(recipe(2), Bytes::from_static(b"123456"));
        assert!(cache.get(&recipe(1)).is_none());
        assert!(cache.get(&recipe(2)).is_some());
        cache.insert(recipe(3), Bytes::from(vec![0; 11]));
        assert!(cache.get(&recipe(3)).is_none());
    }

    #[test]
    fn links_check_signature_and_expiry() {
        let table = LinkTable::default();
        let recipe = Recipe::jpeg(1, 1, 0, false);
        let (token, signature) = table.add(recipe, Duration::from_secs(60));
        assert!(matches!(table.lookup(&token, Some(&signature)), LinkLookup::Found(r) if r == recipe));
        assert!(matches!(table.lookup(&token, Some("x")), LinkLookup::BadSignature));
        assert!(matches!(table.lookup("nope", Some(&signature)), LinkLookup::Unknown));
        let (token, signature) = table.add(recipe, Duration::ZERO);
        assert!(matches!(table.lookup(&token, Some(&signature)), LinkLookup::Expired));
    }

    #[test]
    fn image_rate_limits_per_key() {
        let rate = ImageRate::new(5);
        assert_eq!(rate.take("a", 3), Ok(()));
        assert_eq!(rate.take("a", 2), Ok(()));
        let wait = rate.take("a", 1).unwrap_err();
        assert!((59..=60).contains(&wait), "{wait}");
        assert_eq!(rate.take("b", 5), Ok(()));
        assert_eq!(rate.take("c", 6), Err(60));
    }

    #[test]
    fn keys_differ_by_prompt_seed_and_index() {
        let base = Recipe::key("p", -1, 0);
        assert_eq!(base, Recipe::key("p", -1, 0));
        assert_ne!(base, Recipe::key("q", -1, 0));
        assert_ne!(base, Recipe::key("p", 1, 0));
        assert_ne!(base, Recipe::key("p", -1, 1));
    }

    #[test]
    fn the_cache_keeps_formats_and_layers_apart() {
        let cache = ImageCache::new(1 << 20);
        let jpeg = Recipe::jpeg(32, 32, 7, false);
        let png = Recipe { encoding: Encoding::Png, ..jpeg };
        let layer = Recipe { alpha: Alpha::Layer { bbox: [0, 0, 8, 8], ellipse: true }, ..png };
        for recipe in [jpeg, png, layer] {
            cache.insert(recipe, recipe.render());
        }
        let formats: Vec<_> = [jpeg, png, layer]
            .iter()
            .map(|r| seedream_types::image::sniff_format(&cache.get(r).unwrap()).unwrap())
            .collect();
        use seedream_types::ImageFormat::{Jpeg, Png};
        assert_eq!(formats, [Jpeg, Png, Png]);
        assert_ne!(cache.get(&png), cache.get(&layer));
    }

    #[test]
    fn rendered_images_say_they_are_synthetic_and_stay_deterministic() {
        let jpeg = Recipe::jpeg(40, 24, 9, false);
        let png = Recipe { encoding: Encoding::Png, ..jpeg };
        for recipe in [jpeg, png] {
            let file = recipe.render();
            assert_eq!(file, recipe.render(), "same recipe, same bytes");
            let marker = provenance::read(&file).unwrap().expect("the emulator's marker");
            assert!(marker.synthetic);
            assert!(marker.tool.starts_with("seedream-emulator "), "{}", marker.tool);
            assert_eq!(marker.size.as_deref(), Some("40x24"));
            assert!(marker.created.is_empty(), "no time, so the bytes do not change");
        }
    }
}
