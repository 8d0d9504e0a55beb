//! The rule book: the normative rules of every scheme and profile, each
//! with a stable id and its source, as the project states them in
//! `docs/rules/*.md` (built into the library from there, through the
//! crate's `rules` link to that folder so that the package carries them:
//! the files people read are the rules the tool applies).
//!
//! A rule's id is `<scope>.<name>`: `common.window-past`,
//! `a2a.signed-string`, `stripe.list`. Vector flags and catalog cases name
//! a rule by its name; [`resolve`] (or
//! [`SchemeRef::rule`](crate::registry::SchemeRef::rule)) finds the one that
//! applies to a scheme: its own, then (for a scheme described by a profile)
//! the rules of profiles, then the common rules.

use std::sync::LazyLock;

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its stable id, `<scope>.<name>`.
    pub id: String,
    /// What it requires, in one paragraph.
    pub text: String,
    /// Where it comes from: the seed specification, a provider's
    /// documentation, a standard.
    pub source: String,
}

/// The rule files, by scope.
const FILES: [(&str, &str); 21] = [
    ("common", include_str!("../rules/common.md")),
    ("profile", include_str!("../rules/profile.md")),
    ("partner", include_str!("../rules/partner.md")),
    ("authorization", include_str!("../rules/authorization.md")),
    ("webhook", include_str!("../rules/webhook.md")),
    ("a2a", include_str!("../rules/a2a.md")),
    ("ia-json", include_str!("../rules/ia-json.md")),
    ("quable", include_str!("../rules/quable.md")),
    ("sigv4", include_str!("../rules/sigv4.md")),
    ("rfc9421", include_str!("../rules/rfc9421.md")),
    ("stripe", include_str!("../rules/stripe.md")),
    ("github", include_str!("../rules/github.md")),
    ("github-sha1", include_str!("../rules/github-sha1.md")),
    ("slack", include_str!("../rules/slack.md")),
    (
        "standard-webhooks",
        include_str!("../rules/standard-webhooks.md"),
    ),
    ("svix", include_str!("../rules/svix.md")),
    ("shopify", include_str!("../rules/shopify.md")),
    ("twilio", include_str!("../rules/twilio.md")),
    ("twilio-json", include_str!("../rules/twilio-json.md")),
    ("square", include_str!("../rules/square.md")),
    ("paddle", include_str!("../rules/paddle.md")),
];

static BOOK: LazyLock<Vec<Rule>> =
    LazyLock::new(|| FILES.iter().flat_map(|(_, text)| parse(text)).collect());

/// The rules of one file: each starts at a heading `` ## `id` ``; its
/// paragraphs up to a `Source:` line are its text.
fn parse(markdown: &str) -> Vec<Rule> {
    let mut rules = Vec::new();
    let mut current: Option<Rule> = None;
    for line in markdown.lines() {
        if let Some(id) = line.strip_prefix("## `").and_then(|l| l.strip_suffix('`')) {
            rules.extend(current.take());
            current = Some(Rule {
                id: id.to_owned(),
                text: String::new(),
                source: String::new(),
            });
        } else if let Some(rule) = current.as_mut() {
            if let Some(source) = line.strip_prefix("Source: ") {
                rule.source = source.trim().to_owned();
            } else if !line.trim().is_empty() && rule.source.is_empty() {
                if !rule.text.is_empty() {
                    rule.text.push(' ');
                }
                rule.text.push_str(line.trim());
            }
        }
    }
    rules.extend(current);
    rules
}

/// Every rule, in the order of the files.
pub fn all() -> &'static [Rule] {
    &BOOK
}

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    BOOK.iter().find(|r| r.id == id)
}

/// The rule named `name` that applies to the scheme named `scheme`: the
/// scheme's own, then for a scheme described by a profile (`is_profile`)
/// the rules of profiles, then the common one.
pub fn resolve(scheme: &str, is_profile: bool, name: &str) -> Option<&'static Rule> {
    let own = format!("{scheme}.{name}");
    let profile = is_profile.then(|| format!("profile.{name}"));
    by_id(&own)
        .or_else(|| profile.and_then(|id| by_id(&id)))
        .or_else(|| by_id(&format!("common.{name}")))
}

/// The text of the rule `id`, which the library itself quotes (a seed's
/// signed string); empty if the book lacks it, which a test forbids.
pub(crate) fn text(id: &str) -> &'static str {
    by_id(id).map_or("", |r| r.text.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_holds_rules_of_its_own_scope_each_with_text_and_source() {
        for (scope, markdown) in FILES {
            let rules = parse(markdown);
            assert!(!rules.is_empty(), "{scope}");
            for rule in rules {
                assert!(
                    rule.id.starts_with(&format!("{scope}.")),
                    "{scope}: {}",
                    rule.id
                );
                assert!(
                    !rule.text.is_empty() && !rule.source.is_empty(),
                    "{}",
                    rule.id
                );
            }
        }
    }

    /// Every file of `docs/rules/` is built in, and nothing else.
    #[test]
    fn every_rule_file_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".md")
                    .map(str::to_owned)
            })
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> = FILES.iter().map(|(s, _)| (*s).to_owned()).collect();
        built_in.sort();
        assert_eq!(built_in, on_disk);
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = all().iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len());
    }

    #[test]
    fn a_scheme_own_rule_comes_first_then_profiles_then_common() {
        let stripe = |name| resolve("stripe", true, name).unwrap().id.as_str();
        assert_eq!(stripe("list"), "stripe.list");
        assert_eq!(stripe("signed-string"), "profile.signed-string");
        assert_eq!(stripe("status"), "common.status");
        let a2a = |name| resolve("a2a", false, name).map(|r| r.id.as_str());
        assert_eq!(a2a("signed-string"), Some("a2a.signed-string"));
        assert_eq!(a2a("list"), None);
    }
}
