//! The catalog and provider a command runs with: the built-in rows extended by `--catalog` /
//! `SEEDREAM_CATALOG`, and `--provider` / `SEEDREAM_PROVIDER` for the ids' spelling and the base URL.
//!
//! Loaded once when the command starts ([`load`]), before anything is checked or sent, and read
//! everywhere after through [`current`]: a process runs one command with one catalog.

use std::sync::RwLock;

use seedream_types::catalog::{Catalog, Lifecycle, ModelFamily, Provider};

use crate::args::GlobalArgs;
use crate::failure::Failure;

/// The rows and the provider of this run.
#[derive(Debug)]
pub struct Models {
    /// The built-in rows, extended by the catalog file when one is given.
    pub catalog: Catalog,
    /// Whose ids and base URL (Volcengine unless told otherwise).
    pub provider: Provider,
}

static CURRENT: RwLock<Option<&'static Models>> = RwLock::new(None);

/// Reads `--catalog` / `SEEDREAM_CATALOG` and `--provider` / `SEEDREAM_PROVIDER`, and makes them
/// [`current`]. A catalog file that cannot be read or is malformed is a usage error naming the row
/// and the field.
pub fn load(global: &GlobalArgs) -> Result<&'static Models, Failure> {
    let catalog = match &global.catalog {
        None => Catalog::builtin().clone(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Failure::read("catalog file", path, &e))?;
            Catalog::with_file(&text).map_err(|error| {
                Failure::usage(format!("{}: {error}", path.display()))
                    .with_kind("config")
                    .with_hint("a catalog file has the format `seedream models --json` prints; `seedream schema catalog` gives its schema")
            })?
        }
    };
    let provider = global.provider.unwrap_or(Provider::Volcengine);
    // One small allocation per process, alive as long as the command.
    let models: &'static Models = Box::leak(Box::new(Models { catalog, provider }));
    *CURRENT.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(models);
    Ok(models)
}

/// The rows and provider of this run (the built-in rows and Volcengine before [`load`]).
pub fn current() -> &'static Models {
    static BUILTIN: std::sync::LazyLock<Models> =
        std::sync::LazyLock::new(|| Models { catalog: Catalog::builtin().clone(), provider: Provider::Volcengine });
    CURRENT.read().unwrap_or_else(|poisoned| poisoned.into_inner()).unwrap_or(&BUILTIN)
}

/// The family whose rules apply to `model`, by this run's catalog.
pub fn family_of(model: &str) -> Option<&'static ModelFamily> {
    current().catalog.family_of(model)
}

impl Models {
    /// The id to send for `--model`: a family key (`seedream-5.0-pro`) becomes its current id for the
    /// provider; nothing at all is the recommended family's current id; an id is sent as written.
    pub fn model(&self, named: Option<&str>) -> String {
        match named.map(str::trim).filter(|name| !name.is_empty()) {
            Some(name) => self.catalog.resolve_model(name, self.provider).to_owned(),
            None => self.catalog.default_model(self.provider).to_owned(),
        }
    }

    /// The model of a batch line or request file that names none: Seedream 4.0's current id for the
    /// provider. Batch files predate 5.0 and their lines ask for groups, which 5.0 pro does not make,
    /// so a line without a model keeps meaning the 4.0 family, spelled as the provider spells it.
    pub fn line_default(&self) -> String {
        match self.catalog.family_of(seedream_types::SEEDREAM_4_0) {
            Some(family) => family.current_id(self.provider).to_owned(),
            None => seedream_types::SEEDREAM_4_0.to_owned(),
        }
    }

    /// A request body's `model` that is a family key (`seedream-4.5`) becomes that family's current id
    /// for the provider, as `--model` does, so a batch line and a generate call send the same id.
    pub fn resolve_family_key(&self, request: &mut serde_json::Value) {
        if let Some(serde_json::Value::String(model)) = request.get_mut("model")
            && self.catalog.by_key(model).is_some()
        {
            *model = self.model(Some(model));
        }
    }

    /// One line for an id that is retiring or retired, naming its successor; the request is still
    /// sent (BytePlus still serves some ids that Volcengine retired).
    pub fn lifecycle_note(&self, model: &str) -> Option<String> {
        let (family, entry) = self.catalog.lookup(model)?;
        let entry = entry.filter(|entry| entry.status.is_ending())?;
        let when = entry.date.as_deref().map(|date| format!(" on {date}")).unwrap_or_default();
        let verb = if entry.status == Lifecycle::Retired { "was retired" } else { "is being retired" };
        let successor = entry.successor.as_deref().unwrap_or(&family.model_id);
        Some(format!(
            "{model} {verb} by {}{when}; its successor is {successor} (sending anyway: some providers still serve it)",
            entry.provider
        ))
    }

    /// One line for a model that matches no family and is not an endpoint id (`ep-…`) but is a typo
    /// away from a family key or a known id. Only advice: an unknown model is sent as written.
    pub fn model_typo_note(&self, model: &str) -> Option<String> {
        if model.starts_with("ep-") || self.catalog.family_of(model).is_some() {
            return None;
        }
        let known = self.catalog.families().iter().flat_map(|family| {
            [family.key.as_str(), family.model_id.as_str()]
                .into_iter()
                .chain(family.aliases.iter().map(String::as_str))
                .chain(family.ids.iter().map(|entry| entry.id.as_str()))
        });
        let near = seedream_types::suggest::closest(model, known)?;
        Some(format!(
            "model: {model} matches no model family, so its rules are not checked (sent as written): did you mean \
             `{near}`?"
        ))
    }

    /// The hint for a 404 on `model`: the successor of a retired id, or the provider's current id of
    /// the family.
    pub fn successor_hint(&self, model: &str) -> Option<String> {
        let (family, entry) = self.catalog.lookup(model)?;
        let successor = entry
            .and_then(|entry| entry.successor.clone())
            .unwrap_or_else(|| family.current_id(self.provider).to_owned());
        (successor != model).then(|| format!("{model} may be retired here: use --model {successor}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models(provider: Provider) -> Models {
        Models { catalog: Catalog::builtin().clone(), provider }
    }

    #[test]
    fn the_default_and_family_keys_resolve_to_the_providers_current_ids() {
        let volcengine = models(Provider::Volcengine);
        assert_eq!(volcengine.model(None), seedream_types::SEEDREAM_5_0_PRO);
        assert_eq!(volcengine.model(Some("seedream-4.0")), seedream_types::SEEDREAM_4_0);
        assert_eq!(volcengine.line_default(), seedream_types::SEEDREAM_4_0);
        let mut line = serde_json::json!({"model": "seedream-4.5", "prompt": "p"});
        models(Provider::Byteplus).resolve_family_key(&mut line);
        assert_eq!(line["model"], "seedream-4-5-251128", "a family key in a line is resolved as --model is");
        assert_eq!(models(Provider::Byteplus).line_default(), "seedream-4-0-20260415", "spelled as BytePlus spells it");
        let byteplus = models(Provider::Byteplus);
        assert_eq!(byteplus.model(None), "dola-seedream-5-0-pro-260628");
        assert_eq!(byteplus.model(Some("seedream-4.5")), "seedream-4-5-251128");
        assert_eq!(byteplus.model(Some("ep-20260101-x")), "ep-20260101-x");
    }

    #[test]
    fn a_retired_id_names_its_successor_and_a_current_one_says_nothing() {
        let volcengine = models(Provider::Volcengine);
        let note = volcengine.lifecycle_note("doubao-seedream-4-0-250828").unwrap();
        assert!(note.contains("retired") && note.contains(seedream_types::SEEDREAM_4_0), "{note}");
        assert_eq!(volcengine.lifecycle_note(seedream_types::SEEDREAM_4_0), None);
        assert_eq!(volcengine.lifecycle_note("seedream-4-5-251128"), None, "BytePlus still serves it");
        let hint = volcengine.successor_hint("doubao-seedream-4-5-251128").unwrap();
        assert!(hint.contains(seedream_types::SEEDREAM_5_0_PRO), "{hint}");
    }
}
