//! Citing the rules. Every case names the rule it checks (`docs/rules/`,
//! read through [`sigconform_core::rules`]); a case that does not pass is
//! printed with the rule's id and text, as h2spec prints a requirement.

use serde::Serialize;

use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::Scheme;

/// A rule as a case cites it: its id and its text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cited {
    /// `<scope>.<name>`, as in `docs/rules/`.
    pub id: String,
    /// What it requires.
    pub text: String,
}

impl Cited {
    /// The rule named `name` for `scheme` (built as `built`): the scheme's
    /// own, else the rule of profiles, else the common one. A profile's
    /// signed string is quoted from the profile. A name no rule has keeps
    /// its would-be id and no text (a test holds that no built-in case
    /// names one).
    pub(crate) fn resolve(scheme: &SchemeRef, built: &dyn Scheme, name: &str) -> Cited {
        let Some(rule) = scheme.rule(name) else {
            return Cited {
                id: format!("{}.{name}", scheme.name()),
                text: String::new(),
            };
        };
        let mut text = rule.text.clone();
        if rule.id == "profile.signed-string" {
            text.push_str(" This profile: ");
            text.push_str(built.rule());
        }
        Cited {
            id: rule.id.clone(),
            text,
        }
    }

    /// Whether the rule was found.
    pub fn is_known(&self) -> bool {
        !self.text.is_empty()
    }
}
