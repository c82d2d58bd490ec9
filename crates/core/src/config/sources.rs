//! Where settings come from: the config file (INI), `.env`, the environment and flags, merged
//! by precedence, and read back as typed values with the documented defaults.

use std::collections::HashMap;
use std::path::Path;

use super::keys::{Key, KEYS};
use crate::error::{Error, Result};

/// Raw settings by name, highest-precedence source last applied.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    values: HashMap<String, String>,
}

impl Settings {
    /// Loads config file < `.env` (current directory) < process environment.
    /// The config file is `LIGHTRAG_CONFIG` (env or `.env`) or `./config.ini` when present.
    pub fn load() -> Result<Settings> {
        let mut s = Settings::default();
        let dotenv = read_dotenv(Path::new(".env"))?;
        let env: HashMap<String, String> = std::env::vars().collect();
        let explicit = env
            .get("LIGHTRAG_CONFIG")
            .or_else(|| dotenv.get("LIGHTRAG_CONFIG"))
            .cloned();
        let file = explicit
            .clone()
            .unwrap_or_else(|| "./config.ini".to_string());
        let path = Path::new(&file);
        if path.exists() {
            s.merge(read_ini(path)?);
        } else if explicit.is_some() {
            return Err(Error::Config(format!("config file {file} does not exist")));
        }
        s.merge(dotenv);
        s.merge(env);
        Ok(s)
    }

    /// Applies values over the current ones.
    pub fn merge(&mut self, values: HashMap<String, String>) {
        self.values.extend(values);
    }

    /// Sets one value (a command-line flag: the highest precedence).
    /// Settings holding exactly `pairs` (tests, and callers that build a configuration).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Settings {
        let mut s = Settings::default();
        for (k, v) in pairs {
            s.set(k, *v);
        }
        s
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_string(), value.into());
    }

    /// The first of `names` that is set.
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .find_map(|n| self.values.get(*n))
            .map(String::as_str)
    }

    /// Typed reads of the keys in `table` (a crate's [`crate::settings_table!`]), with the
    /// table's defaults: the one reader every crate uses for its own keys.
    pub fn reader(&self, table: &'static [Key]) -> Reader<'_> {
        Reader {
            settings: self,
            table,
        }
    }

    pub(super) fn raw(&self, names: &[&str]) -> String {
        self.reader(KEYS).named(names).1
    }

    pub(super) fn parse<T: std::str::FromStr>(&self, names: &[&str]) -> Result<T> {
        self.reader(KEYS).parse(names)
    }

    pub(super) fn flag(&self, names: &[&str]) -> Result<bool> {
        self.reader(KEYS).flag(names)
    }
}

/// Reads settings with the defaults of one table of keys; errors name the key and its value.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    settings: &'a Settings,
    table: &'static [Key],
}

impl Reader<'_> {
    /// The value of the first of `names` that is set (and that name), else the documented
    /// default of the first of `names` the table knows.
    pub fn named(&self, names: &[&str]) -> (String, String) {
        for n in names {
            if let Some(v) = self.settings.values.get(*n) {
                return (n.to_string(), v.clone());
            }
        }
        let name = names
            .iter()
            .find(|n| self.table.iter().any(|k| k.name == **n))
            .unwrap_or(&names[0]);
        (
            name.to_string(),
            super::default_in(self.table, name).to_string(),
        )
    }

    /// The value, trimmed.
    pub fn raw(&self, names: &[&str]) -> String {
        self.named(names).1.trim().to_string()
    }

    /// The value parsed as `T`.
    pub fn parse<T: std::str::FromStr>(&self, names: &[&str]) -> Result<T> {
        let (name, raw) = self.named(names);
        raw.trim().parse().map_err(|_| {
            let kind = std::any::type_name::<T>();
            let kind = match kind {
                "usize" | "u64" | "u32" | "u16" => "non-negative integer",
                "f32" | "f64" => "number",
                other => other,
            };
            Error::Config(format!("{name} = '{raw}' is not a valid {kind}"))
        })
    }

    /// A finite number >= 0.
    pub fn non_negative(&self, name: &str) -> Result<f64> {
        let v: f64 = self.parse(&[name])?;
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(Error::Config(format!(
                "{name} must be a finite number >= 0"
            )))
        }
    }

    /// A boolean (`true/1/yes/t/on`, `false/0/no/f/off` or empty).
    pub fn flag(&self, names: &[&str]) -> Result<bool> {
        let (name, raw) = self.named(names);
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "t" | "on" => Ok(true),
            "false" | "0" | "no" | "f" | "off" | "" => Ok(false),
            _ => Err(Error::Config(format!(
                "{name} = '{raw}' is not a boolean (true/false)"
            ))),
        }
    }

    /// A comma-separated list, blanks dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.raw(&[name])
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

fn read_dotenv(path: &Path) -> Result<HashMap<String, String>> {
    if !path.exists() {
        return Ok(HashMap::new());
    }
    let iter = dotenvy::from_path_iter(path)
        .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
    let mut out = HashMap::new();
    for item in iter {
        let (k, v) = item.map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        out.insert(k, v);
    }
    Ok(out)
}

/// Reads an INI file: `KEY = VALUE` lines; keys in a `[section]` other than `[lightrag]`
/// become `SECTION_KEY` (so `[postgres] host` is `POSTGRES_HOST`); `#` and `;` start comments.
pub fn read_ini(path: &Path) -> Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read config file {}: {e}", path.display())))?;
    parse_ini(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

fn parse_ini(text: &str) -> std::result::Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    let mut section = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_ascii_uppercase();
            continue;
        }
        let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) else {
            return Err(format!("line {}: expected KEY = VALUE", n + 1));
        };
        let key = k.trim().to_ascii_uppercase();
        let value = v.trim().trim_matches('"').to_string();
        let full = if section.is_empty() || section == "LIGHTRAG" {
            key
        } else {
            format!("{section}_{key}")
        };
        out.insert(full, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_sections_prefix_keys() {
        let m = parse_ini("# c\nTOP_K = 9\n[postgres]\nhost = db\n[lightrag]\nchunk_size: 300\n")
            .unwrap();
        assert_eq!(m["TOP_K"], "9");
        assert_eq!(m["POSTGRES_HOST"], "db");
        assert_eq!(m["CHUNK_SIZE"], "300");
        assert!(parse_ini("garbage line").is_err());
    }
}
