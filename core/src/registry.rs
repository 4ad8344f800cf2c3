//! Name → plugin factory, for every plugin kind.
//!
//! Built-in plugins register at start; dynamically loaded ones (see
//! `entropo-sdk`) register the same way with [`Origin::Dynamic`]. A config or a
//! CLI flag then picks any plugin by name and parameters.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::environment::Environment;
use crate::loss::Loss;
use crate::selector::Selector;
use crate::verifier::Verifier;

/// Plugin parameters: a JSON object (a TOML table in configs).
pub type Params = serde_json::Map<String, serde_json::Value>;

/// The kinds of plugin entropo knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// A training objective ([`Loss`]).
    Loss,
    /// A best-of-N chooser ([`Selector`]).
    Selector,
    /// A trajectory scorer ([`Verifier`]).
    Verifier,
    /// A repository sandbox ([`Environment`]).
    Environment,
}

impl PluginKind {
    /// Every kind, in display order.
    pub const ALL: [PluginKind; 4] =
        [PluginKind::Loss, PluginKind::Selector, PluginKind::Verifier, PluginKind::Environment];

    /// The lowercase name (`loss`).
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Loss => "loss",
            PluginKind::Selector => "selector",
            PluginKind::Verifier => "verifier",
            PluginKind::Environment => "environment",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Origin {
    /// Compiled into entropo.
    Builtin,
    /// Loaded at run time from a shared library.
    Dynamic {
        /// The library's path.
        path: PathBuf,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builtin => f.write_str("builtin"),
            Origin::Dynamic { path } => write!(f, "dynamic ({})", path.display()),
        }
    }
}

/// What the registry knows about a plugin without creating it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PluginInfo {
    /// Its kind.
    pub kind: PluginKind,
    /// Its name, unique within the kind.
    pub name: String,
    /// One line saying what it does.
    pub description: String,
    /// Where it comes from.
    pub origin: Origin,
    /// JSON Schema of its parameters.
    pub params_schema: serde_json::Value,
}

/// Why a plugin could not be created from its parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PluginError {
    /// A parameter is unknown, missing, mistyped or out of range.
    #[error("params.{param}: {message}")]
    InvalidParam {
        /// Dotted path of the parameter (`beta`).
        param: String,
        /// What is wrong.
        message: String,
    },
    /// The plugin failed for a reason of its own.
    #[error("{0}")]
    Other(String),
}

/// Why the registry could not hand out a plugin.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegistryError {
    /// No plugin of that kind has that name.
    #[error("unknown {kind} plugin `{name}`; known {kind} plugins: {}", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    Unknown {
        /// The kind asked for.
        kind: PluginKind,
        /// The name asked for.
        name: String,
        /// The names registered for the kind.
        known: Vec<String>,
    },
    /// A second plugin tried to take a registered name.
    #[error("{kind} plugin `{name}` is already registered ({existing})")]
    Duplicate {
        /// The kind.
        kind: PluginKind,
        /// The contested name.
        name: String,
        /// Where the registered one comes from.
        existing: Origin,
    },
    /// The plugin rejected its parameters.
    #[error("{kind} plugin `{name}`: {source}")]
    Plugin {
        /// The kind.
        kind: PluginKind,
        /// The plugin.
        name: String,
        /// What it said.
        #[source]
        source: PluginError,
    },
}

/// Builds a plugin of type `T` from parameters.
pub type Factory<T> = Arc<dyn Fn(&Params) -> Result<Box<T>, PluginError> + Send + Sync>;

/// The trait objects the registry can hold; selects the family for each.
pub trait PluginType: 'static {
    /// The kind this trait object is.
    const KIND: PluginKind;
    #[doc(hidden)]
    fn family(registry: &Registry) -> &Family<Self>;
    #[doc(hidden)]
    fn family_mut(registry: &mut Registry) -> &mut Family<Self>;
}

macro_rules! plugin_type {
    ($t:ty, $kind:ident, $field:ident) => {
        impl PluginType for $t {
            const KIND: PluginKind = PluginKind::$kind;
            fn family(registry: &Registry) -> &Family<Self> {
                &registry.$field
            }
            fn family_mut(registry: &mut Registry) -> &mut Family<Self> {
                &mut registry.$field
            }
        }
    };
}

plugin_type!(dyn Loss, Loss, losses);
plugin_type!(dyn Selector, Selector, selectors);
plugin_type!(dyn Verifier, Verifier, verifiers);
plugin_type!(dyn Environment, Environment, environments);

/// The registered plugins of one kind.
pub struct Family<T: ?Sized> {
    entries: BTreeMap<String, (PluginInfo, Factory<T>)>,
}

impl<T: ?Sized> Default for Family<T> {
    fn default() -> Self {
        Family { entries: BTreeMap::new() }
    }
}

/// Every plugin entropo can use, by kind and name.
///
/// ```
/// use entropo_core::loss::{Loss, LossBatch, LossError, LossOutput};
/// use entropo_core::registry::{Registry, builtin};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// #[serde(deny_unknown_fields)]
/// struct ZeroParams { #[serde(default)] scale: f64 }
///
/// struct Zero;
/// impl Loss for Zero {
///     fn name(&self) -> &str { "zero" }
///     fn compute(&self, b: &LossBatch) -> Result<LossOutput, LossError> {
///         Ok(LossOutput { grads: entropo_core::loss::LossGrads::zeros_like(b), ..Default::default() })
///     }
/// }
///
/// let mut reg = Registry::new();
/// let (info, factory) = builtin::<dyn Loss, ZeroParams>("zero", "always zero", |_p| Ok(Box::new(Zero)));
/// reg.register(info, factory).unwrap();
/// assert!(reg.create::<dyn Loss>("zero", &Default::default()).is_ok());
/// let err = reg.create::<dyn Loss>("zer0", &Default::default()).err().unwrap();
/// assert_eq!(err.to_string(), "unknown loss plugin `zer0`; known loss plugins: zero");
/// let bad: entropo_core::registry::Params = serde_json::from_str(r#"{"scal": 1}"#).unwrap();
/// assert_eq!(
///     reg.create::<dyn Loss>("zero", &bad).err().unwrap().to_string(),
///     "loss plugin `zero`: params.scal: unknown field `scal`, expected `scale`"
/// );
/// ```
#[derive(Default)]
pub struct Registry {
    losses: Family<dyn Loss>,
    selectors: Family<dyn Selector>,
    verifiers: Family<dyn Verifier>,
    environments: Family<dyn Environment>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a plugin; a name already taken within its kind is an error.
    pub fn register<T: PluginType + ?Sized>(
        &mut self,
        info: PluginInfo,
        factory: Factory<T>,
    ) -> Result<(), RegistryError> {
        debug_assert_eq!(info.kind, T::KIND, "plugin info kind must match the trait");
        let family = T::family_mut(self);
        if let Some((existing, _)) = family.entries.get(&info.name) {
            return Err(RegistryError::Duplicate {
                kind: T::KIND,
                name: info.name.clone(),
                existing: existing.origin.clone(),
            });
        }
        family.entries.insert(info.name.clone(), (info, factory));
        Ok(())
    }

    /// Adds several plugins of one kind, all or none: if any name is taken
    /// (or repeated among `entries`), nothing is registered.
    ///
    /// ```
    /// use entropo_core::{Registry, Verifier};
    /// use entropo_core::registry::builtin;
    /// # struct Half;
    /// # impl Verifier for Half {
    /// #     fn name(&self) -> &str { "half" }
    /// #     fn score(&self, _: &entropo_core::types::Task, _: &entropo_core::types::Trajectory) -> Result<f64, entropo_core::verifier::VerifierError> { Ok(0.5) }
    /// # }
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct NoParams {}
    /// let entry = || builtin::<dyn Verifier, NoParams>("half", "always 0.5", |_| Ok(Box::new(Half)));
    /// let mut reg = Registry::new();
    /// reg.register_all([entry()]).unwrap();
    /// assert!(reg.register_all([entry()]).is_err());
    /// let mut fresh = Registry::new();
    /// assert!(fresh.register_all([entry(), entry()]).is_err());
    /// assert_eq!(fresh.infos().count(), 0, "nothing registered");
    /// ```
    pub fn register_all<T: PluginType + ?Sized>(
        &mut self,
        entries: impl IntoIterator<Item = (PluginInfo, Factory<T>)>,
    ) -> Result<(), RegistryError> {
        let entries: Vec<_> = entries.into_iter().collect();
        let mut names = std::collections::BTreeSet::new();
        for (info, _) in &entries {
            let existing = T::family(self).entries.get(&info.name).map(|(i, _)| i.origin.clone());
            let existing = match existing {
                Some(origin) => Some(origin),
                None if !names.insert(info.name.as_str()) => Some(info.origin.clone()),
                None => None,
            };
            if let Some(existing) = existing {
                return Err(RegistryError::Duplicate { kind: T::KIND, name: info.name.clone(), existing });
            }
        }
        for (info, factory) in entries {
            self.register(info, factory)?;
        }
        Ok(())
    }

    /// Creates the plugin `name` of kind `T` with `params`.
    pub fn create<T: PluginType + ?Sized>(
        &self,
        name: &str,
        params: &Params,
    ) -> Result<Box<T>, RegistryError> {
        let (_, factory) = T::family(self).entries.get(name).ok_or_else(|| RegistryError::Unknown {
            kind: T::KIND,
            name: name.to_string(),
            known: T::family(self).entries.keys().cloned().collect(),
        })?;
        factory(params).map_err(|source| RegistryError::Plugin {
            kind: T::KIND,
            name: name.to_string(),
            source,
        })
    }

    /// Creates a plugin only to check `name` and `params`, by kind.
    pub fn check(&self, kind: PluginKind, name: &str, params: &Params) -> Result<(), RegistryError> {
        match kind {
            PluginKind::Loss => self.create::<dyn Loss>(name, params).map(drop),
            PluginKind::Selector => self.create::<dyn Selector>(name, params).map(drop),
            PluginKind::Verifier => self.create::<dyn Verifier>(name, params).map(drop),
            PluginKind::Environment => self.create::<dyn Environment>(name, params).map(drop),
        }
    }

    /// What is known about the plugin `name` of `kind`.
    pub fn info(&self, kind: PluginKind, name: &str) -> Option<&PluginInfo> {
        self.infos().find(|i| i.kind == kind && i.name == name)
    }

    /// Every registered plugin, by kind then name.
    pub fn infos(&self) -> impl Iterator<Item = &PluginInfo> {
        fn of<T: ?Sized>(f: &Family<T>) -> impl Iterator<Item = &PluginInfo> {
            f.entries.values().map(|(info, _)| info)
        }
        of(&self.losses)
            .chain(of(&self.selectors))
            .chain(of(&self.verifiers))
            .chain(of(&self.environments))
    }
}

/// Deserialises a plugin's typed parameters, naming the offending parameter
/// on error (`beta: invalid type: string "x", expected f64`).
///
/// ```
/// use entropo_core::registry::{Params, parse_params};
/// #[derive(Debug, serde::Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct P { beta: f64 }
/// let params: Params = serde_json::from_str(r#"{"beta": "x"}"#).unwrap();
/// let err = parse_params::<P>(&params).unwrap_err();
/// assert!(err.to_string().starts_with("params.beta: invalid type"));
/// ```
pub fn parse_params<P: DeserializeOwned>(params: &Params) -> Result<P, PluginError> {
    let value = serde_json::Value::Object(params.clone());
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        PluginError::InvalidParam { param: error_key(&path, &message), message }
    })
}

/// The dotted key a deserialisation error is about: serde_path_to_error's
/// path, extended by the field serde names in an "unknown field" message.
pub(crate) fn error_key(path: &str, message: &str) -> String {
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.find('`').map(|end| rest[..end].to_string()));
    match (path, unknown) {
        (".", Some(field)) => field,
        (".", None) => "<root>".to_string(),
        (p, Some(field)) if p != field && !p.ends_with(&format!(".{field}")) => format!("{p}.{field}"),
        (p, _) => p.to_string(),
    }
}

/// Info and factory for a built-in plugin whose parameters are the struct `P`
/// (its JSON Schema becomes the plugin's `params_schema`).
pub fn builtin<T, P>(
    name: &str,
    description: &str,
    make: impl Fn(P) -> Result<Box<T>, PluginError> + Send + Sync + 'static,
) -> (PluginInfo, Factory<T>)
where
    T: PluginType + ?Sized,
    P: DeserializeOwned + JsonSchema,
{
    let info = PluginInfo {
        kind: T::KIND,
        name: name.to_string(),
        description: description.to_string(),
        origin: Origin::Builtin,
        params_schema: schemars::schema_for!(P).to_value(),
    };
    let factory: Factory<T> = Arc::new(move |params: &Params| make(parse_params::<P>(params)?));
    (info, factory)
}
