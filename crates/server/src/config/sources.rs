//! Gathering raw values: defaults are implicit, then the TOML file, then the environment
//! (which wins). Values stay text here; `values` parses them.

use std::collections::HashMap;

use super::settings::{env_name, setting, CONFIG_FILE_VAR, ENV_PREFIX};

/// Where a raw value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The TOML file.
    File,
    /// An `AUTHGATE_*` environment variable.
    Env,
}

/// A value as given, with its origin.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub value: String,
    pub origin: Origin,
}

impl Raw {
    /// How error messages name the place the value came from.
    pub(super) fn label(&self, key: &str) -> String {
        match self.origin {
            Origin::Env => env_name(key),
            Origin::File => format!("{key} (config file)"),
        }
    }
}

/// The merged raw values, plus warnings about ignored input.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    values: HashMap<&'static str, Raw>,
    pub warnings: Vec<String>,
}

impl Sources {
    /// Merges the file (if any) and the environment. Unknown file keys and malformed files
    /// are errors; unknown `AUTHGATE_*` variables are warnings. An empty value counts as unset.
    pub(super) fn collect(
        file: Option<&str>,
        env: &HashMap<String, String>,
    ) -> Result<Sources, Vec<String>> {
        let mut sources = Sources::default();
        if let Some(text) = file {
            sources.read_file(text)?;
        }
        sources.read_env(env);
        Ok(sources)
    }

    /// The raw value of a key, if set anywhere.
    pub(super) fn get(&self, key: &str) -> Option<&Raw> {
        self.values.get(key)
    }

    fn set(&mut self, key: &'static str, value: String, origin: Origin) {
        if value.trim().is_empty() {
            return;
        }
        self.values.insert(key, Raw { value, origin });
    }

    fn read_file(&mut self, text: &str) -> Result<(), Vec<String>> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| vec![format!("config file: {}", e.message())])?;
        let mut errors = Vec::new();
        let mut keys: Vec<_> = table.keys().collect();
        keys.sort();
        for key in keys {
            let Some(known) = setting(key) else {
                errors.push(format!(
                    "config file: unknown key `{key}` (see `authgate --help` for the list)"
                ));
                continue;
            };
            match toml_text(&table[key]) {
                Some(value) => self.set(known.key, value, Origin::File),
                None => errors.push(format!("{key} (config file): must be a string, a number, a boolean or a list of strings")),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn read_env(&mut self, env: &HashMap<String, String>) {
        let mut unknown = Vec::new();
        for (name, value) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            match setting(&rest.to_ascii_lowercase()).filter(|_| rest == rest.to_ascii_uppercase())
            {
                Some(known) => self.set(known.key, value.clone(), Origin::Env),
                None if name == CONFIG_FILE_VAR => {}
                None => unknown.push(name.clone()),
            }
        }
        unknown.sort();
        for name in unknown {
            self.warnings.push(format!(
                "unknown environment variable {name} is ignored (a typo?)"
            ));
        }
    }
}

/// A TOML value as setting text: strings as they are, numbers and booleans printed, arrays
/// of those joined with commas.
fn toml_text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Array(items) => {
            let parts: Option<Vec<String>> = items
                .iter()
                .map(|v| {
                    if matches!(v, toml::Value::Array(_)) {
                        None
                    } else {
                        toml_text(v)
                    }
                })
                .collect();
            parts.map(|p| p.join(","))
        }
        toml::Value::Datetime(_) | toml::Value::Table(_) => None,
    }
}
