//! The built-in schemes and profiles by name, on top of the two ways a
//! scheme is made: the six seeds' schemes written in Rust
//! ([`crate::scheme`]) and the profiles run by the profile engine
//! ([`crate::profile`]). Vector files, the command line and the runner name
//! a scheme through [`SchemeRef`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scheme::{ConfigError, Scheme, SchemeConfig, SchemeId};

/// A scheme by what it is: one of the six seeds' schemes, written in Rust,
/// or a [profile](crate::profile), run by the profile engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeRef {
    /// A seed's scheme.
    Seed(SchemeId),
    /// A profile.
    Profile(std::sync::Arc<crate::profile::Profile>),
}

impl SchemeRef {
    /// Its name: the seed's id, or the profile's name.
    pub fn name(&self) -> &str {
        match self {
            SchemeRef::Seed(id) => id.as_str(),
            SchemeRef::Profile(p) => &p.name,
        }
    }

    /// Builds the scheme with `config` applied over its defaults.
    pub fn build(&self, config: &SchemeConfig) -> Result<Box<dyn Scheme>, ConfigError> {
        match self {
            SchemeRef::Seed(id) => id.build(config),
            SchemeRef::Profile(p) => Ok(Box::new(crate::profile::engine::ProfileScheme::new(
                p.clone(),
                config,
            )?)),
        }
    }

    /// A seed's id, or the name of a built-in profile.
    pub fn by_name(name: &str) -> Option<SchemeRef> {
        name.parse::<SchemeId>()
            .ok()
            .map(SchemeRef::Seed)
            .or_else(|| {
                crate::profile::Profile::built_in(name).map(|p| SchemeRef::Profile(p.into()))
            })
    }

    /// A seed's id, a built-in profile's name, or a profile file.
    pub fn resolve(name_or_path: &str) -> Result<SchemeRef, crate::profile::ProfileError> {
        match name_or_path.parse::<SchemeId>() {
            Ok(id) => Ok(SchemeRef::Seed(id)),
            Err(_) => crate::profile::Profile::resolve(name_or_path).map(SchemeRef::from),
        }
    }

    /// The rule named `name` that applies to this scheme (`docs/rules/`):
    /// its own, then for a profile the rules of profiles, then the common one.
    pub fn rule(&self, name: &str) -> Option<&'static crate::rules::Rule> {
        crate::rules::resolve(self.name(), matches!(self, SchemeRef::Profile(_)), name)
    }

    /// The six seeds' schemes, the standards' (SigV4), then every built-in
    /// profile.
    pub fn all_built_in() -> Vec<SchemeRef> {
        SchemeId::ALL
            .into_iter()
            .chain(SchemeId::STANDARDS)
            .map(SchemeRef::Seed)
            .chain(
                crate::profile::BUILT_IN
                    .iter()
                    .filter_map(|(name, _)| SchemeRef::by_name(name)),
            )
            .collect()
    }
}

impl From<SchemeId> for SchemeRef {
    fn from(id: SchemeId) -> Self {
        SchemeRef::Seed(id)
    }
}

impl From<crate::profile::Profile> for SchemeRef {
    fn from(profile: crate::profile::Profile) -> Self {
        SchemeRef::Profile(profile.into())
    }
}

impl fmt::Display for SchemeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for SchemeRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for SchemeRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        SchemeRef::by_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown scheme `{name}` (a seed's id or a built-in profile's name)"
            ))
        })
    }
}

/// The seeds' schemes the format expresses, each with the built-in profile
/// that describes it (`authorization` cannot be one: the request names the
/// headers it signs and its algorithm, the query is signed sorted, and the
/// server's policy requires headers; see the README).
pub const SEED_PROFILES: [(SchemeId, &str); 5] = {
    [
        (SchemeId::Partner, "seed-partner"),
        (SchemeId::Webhook, "seed-webhook"),
        (SchemeId::A2a, "seed-a2a"),
        (SchemeId::IaJson, "seed-ia-json"),
        (SchemeId::Quable, "seed-quable"),
    ]
};
