//! Scheme profiles: an HMAC signing scheme described as data, in
//! `profiles/<name>.yaml` (JSON Schema: `profiles/schema.json`).
//!
//! A profile says where the signature is carried (a header: bare, after a
//! prefix, as items of a `key=value` list, or as parts between
//! separators), what is signed (a [`template`] over named parts of the
//! request), the hash and the tag's encoding, how the secret becomes a key
//! (its UTF-8 bytes, base64, or `whsec_` and base64), where the timestamp,
//! key id, message id and body hash are, and the window. One engine
//! ([`engine::ProfileScheme`]) implements
//! [`crate::scheme::Scheme`] for every profile, so the verifier, the
//! reference server, the runner, the vectors and the fuzzers work for any
//! profile.
//!
//! The public webhook schemes are built in ([`BUILT_IN`]); so are the seeds'
//! schemes that the format can express, which must agree with their
//! hand-written implementations (`tests/profiles.rs`).

pub mod engine;
pub mod template;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::crypto::Algorithm;
use template::{Placeholder, Template};

/// A scheme described as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile's name (`stripe`): what case ids and reports show.
    pub name: String,
    /// What the scheme is, in a line.
    pub description: String,
    /// Where its rules come from (the provider's documentation, its SDKs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// How requests reach a verifier: to one URL (`endpoint`, the default:
    /// a webhook receiver) or to the routes of an `api`.
    #[serde(default)]
    pub delivery: DeliveryKind,
    /// The methods senders use (`endpoint` delivery; default POST).
    #[serde(default = "default_methods")]
    pub methods: Vec<String>,
    /// The HMAC's hash (SHA-1 only where a provider requires it).
    #[serde(default)]
    pub hash: Algorithm,
    /// How the configured secret becomes the HMAC key.
    #[serde(default)]
    pub secret: SecretDecoding,
    /// How tags are written.
    pub encoding: Encoding,
    /// Where the signature is carried.
    pub signature: SignatureSpec,
    /// What is signed: a [`Template`].
    pub signed: String,
    /// Where the timestamp is, its unit and the window; no timestamp
    /// without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimestampSpec>,
    /// The header of the key id; one secret without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<HeaderSpec>,
    /// The header of a signed message id or nonce (`{nonce}`), which a
    /// verifier must not accept twice within the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<NonceSpec>,
    /// A hash of the body carried in the request and checked against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_hash: Option<BodyHashSpec>,
    /// The default of the configured endpoint string (`{endpoint}`,
    /// `{url}`); a deployment configures its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// What `{prefix}` stands for in header names (a deployment may
    /// configure another).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_prefix: Option<String>,
    /// What the provider's senders deliver, and what its rules leave to a
    /// verifier (the seeds' rules when absent).
    #[serde(default, skip_serializing_if = "crate::scheme::Sender::is_default")]
    pub sender: crate::scheme::Sender,
}

fn default_methods() -> Vec<String> {
    vec!["POST".into()]
}

/// How requests reach a verifier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    /// To one URL: every probe goes to exactly the target's URL.
    #[default]
    Endpoint,
    /// To the routes of an API: probes go below the target's path.
    Api,
}

/// How a configured secret becomes the HMAC key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretDecoding {
    /// The secret's UTF-8 bytes, whatever it looks like (Stripe's
    /// `whsec_…` too).
    #[default]
    Utf8,
    /// The secret is standard base64 of the key.
    Base64,
    /// `whsec_` and then base64 of the key (Standard Webhooks, Svix); the
    /// prefix is optional.
    Whsec,
}

/// How tags are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// Lower-case hex.
    Hex,
    /// Standard base64 with padding.
    Base64,
}

/// Where the signature is carried: a header, and in it the tag bare, after
/// a literal prefix, as items of a list, or as one of its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureSpec {
    /// The header.
    pub header: String,
    /// A literal before the tag (`sha256=`, `v0=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The tags (and the timestamp) as items of a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListSpec>,
    /// The key id, timestamp and tag as parts between separators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<PartsSpec>,
}

/// A list of `key{assign}value` items: Stripe's `t=…,v1=…` (`,` and `=`),
/// Paddle's `ts=…;h1=…` (`;`, `=`), Standard Webhooks' `v1,… v1,…` (` `,
/// `,`). A tag item may repeat; any of them may match (key rotation).
/// Items with other keys are ignored (`v0`, `v1a`, `h2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSpec {
    /// What separates items.
    pub separator: char,
    /// What separates an item's key from its value.
    pub assign: char,
    /// The key of tag items (`v1`, `h1`).
    pub tag: String,
    /// The key of the timestamp item (`t`, `ts`), if the timestamp is here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// Parts between separators: `partner`'s `id.timestamp.tag`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartsSpec {
    /// What separates the parts.
    pub separator: char,
    /// What each part is, in order.
    pub fields: Vec<PartField>,
}

/// What a part of a signature header is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartField {
    /// The key id.
    KeyId,
    /// The timestamp.
    Timestamp,
    /// The tag.
    Tag,
}

/// A header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderSpec {
    /// Its name (`{prefix}` stands for the header prefix).
    pub header: String,
}

/// A signed message id or nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonceSpec {
    /// Its header.
    pub header: String,
    /// Whether accepting it twice is a failure (`enforced`, the default) or
    /// only against the provider's advice (`advised`: Standard Webhooks
    /// suggests remembering message ids).
    #[serde(default)]
    pub replay: crate::scheme::ReplayRule,
}

/// The timestamp: where it is, its unit, and the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampSpec {
    /// Its header; without one, it is in the signature (a list's timestamp
    /// item, or a part).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Seconds or milliseconds since the epoch.
    #[serde(default)]
    pub unit: Unit,
    /// How old a timestamp may be, in `unit`.
    pub past: Limit,
    /// How far in the future a timestamp may be, in `unit`.
    pub future: Limit,
}

/// A timestamp's unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Seconds (`s`).
    #[default]
    #[serde(rename = "s")]
    Seconds,
    /// Milliseconds (`ms`).
    #[serde(rename = "ms")]
    Milliseconds,
}

/// A limit of the window: an amount, or `unbounded` (Stripe checks only
/// that a timestamp is not too old).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Limit {
    /// So many units.
    Amount(u64),
    /// No limit.
    Unbounded(Unbounded),
}

/// The word `unbounded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unbounded {
    /// No limit.
    Unbounded,
}

impl Limit {
    /// The limit in units (`u64::MAX` for none).
    pub fn amount(self) -> u64 {
        match self {
            Limit::Amount(n) => n,
            Limit::Unbounded(_) => u64::MAX,
        }
    }
}

/// A hash of the body carried in the request, checked against the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyHashSpec {
    /// Its header (`a2a`'s `X-Body-Hash`) ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// ... or its query parameter (Twilio's `bodySHA256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// How it is written (of SHA-256).
    pub encoding: Encoding,
    /// Present exactly when the body is not empty (`body`), or always.
    #[serde(default)]
    pub when: BodyHashWhen,
}

/// When a body hash is in the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyHashWhen {
    /// Exactly when the body is not empty.
    #[default]
    Body,
    /// Always.
    Always,
}

/// A profile that cannot be used: where and why, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {field}: {message}", message = one_line(message))]
pub struct ProfileError {
    /// The file (or built-in name) it came from.
    pub origin: String,
    /// The field at fault.
    pub field: String,
    /// What was expected.
    pub message: String,
}

impl ProfileError {
    /// The error for `field` of the profile from `origin`.
    fn new(origin: &str, field: &str, message: String) -> ProfileError {
        ProfileError {
            origin: origin.to_owned(),
            field: field.to_owned(),
            message,
        }
    }
}

/// `text` on one line: line breaks (a placeholder name may hold one) as
/// `\n` and `\r`.
fn one_line(text: &str) -> String {
    text.replace('\n', "\\n").replace('\r', "\\r")
}

/// The built-in profiles: the public schemes, then the seeds' schemes the
/// format expresses, by name.
pub const BUILT_IN: [(&str, &str); 16] = [
    ("stripe", include_str!("../../profiles/stripe.yaml")),
    ("github", include_str!("../../profiles/github.yaml")),
    (
        "github-sha1",
        include_str!("../../profiles/github-sha1.yaml"),
    ),
    ("slack", include_str!("../../profiles/slack.yaml")),
    (
        "standard-webhooks",
        include_str!("../../profiles/standard-webhooks.yaml"),
    ),
    ("svix", include_str!("../../profiles/svix.yaml")),
    ("shopify", include_str!("../../profiles/shopify.yaml")),
    ("twilio", include_str!("../../profiles/twilio.yaml")),
    (
        "twilio-json",
        include_str!("../../profiles/twilio-json.yaml"),
    ),
    ("square", include_str!("../../profiles/square.yaml")),
    ("paddle", include_str!("../../profiles/paddle.yaml")),
    (
        "seed-partner",
        include_str!("../../profiles/seed-partner.yaml"),
    ),
    (
        "seed-webhook",
        include_str!("../../profiles/seed-webhook.yaml"),
    ),
    ("seed-a2a", include_str!("../../profiles/seed-a2a.yaml")),
    (
        "seed-ia-json",
        include_str!("../../profiles/seed-ia-json.yaml"),
    ),
    (
        "seed-quable",
        include_str!("../../profiles/seed-quable.yaml"),
    ),
];

impl Profile {
    /// Reads a profile from YAML; `origin` names it in errors.
    pub fn from_yaml(origin: &str, text: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = serde_saphyr::from_str(text).map_err(|e| {
            ProfileError::new(origin, "(document)", e.to_string().replace('\n', " "))
        })?;
        profile.validate(origin)?;
        Ok(profile)
    }

    /// Reads the profile file at `path`.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ProfileError::new(&origin, "(file)", e.to_string()))?;
        Profile::from_yaml(&origin, &text)
    }

    /// The built-in profile `name` (each parsed once, when first asked for).
    pub fn built_in(name: &str) -> Option<Profile> {
        static PARSED: std::sync::OnceLock<Vec<Profile>> = std::sync::OnceLock::new();
        let parsed = PARSED.get_or_init(|| {
            BUILT_IN
                .iter()
                .map(|(name, text)| {
                    Profile::from_yaml(name, text).expect("built-in profiles are valid")
                })
                .collect()
        });
        parsed.iter().find(|p| p.name == name).cloned()
    }

    /// A built-in profile by name, or else a profile file.
    pub fn resolve(name_or_path: &str) -> Result<Profile, ProfileError> {
        if let Some(profile) = Profile::built_in(name_or_path) {
            return Ok(profile);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            return Err(ProfileError::new(
                name_or_path,
                "(profile)",
                format!(
                    "neither a built-in profile ({}) nor a file",
                    BUILT_IN.map(|(n, _)| n).join(", ")
                ),
            ));
        }
        Profile::load(path)
    }

    /// The signed string's template (valid once the profile loaded).
    pub fn template(&self) -> Template {
        Template::parse(&self.signed).expect("validated when loaded")
    }

    /// The signature header's literals (prefix, separators, item keys) are
    /// printable ASCII: a verifier reads a header value as visible ASCII
    /// and refuses anything else, so a profile with `Ϗ0=` as its prefix
    /// would reject every signature it makes (found by the `profile_load`
    /// fuzz target). A prefix may not start with a space either: HTTP
    /// strips a value's leading whitespace (RFC 9110, section 5.5).
    fn check_signature_literals(&self, origin: &str) -> Result<(), ProfileError> {
        let signature = &self.signature;
        if let Some(prefix) = signature.prefix.as_deref().filter(|p| p.starts_with(' ')) {
            return Err(ProfileError::new(
                origin,
                "signature.prefix",
                format!(
                    "{prefix:?} cannot be written in a header value (HTTP strips its leading space)"
                ),
            ));
        }
        let mut literals: Vec<(&str, String)> = Vec::new();
        if let Some(prefix) = &signature.prefix {
            literals.push(("signature.prefix", prefix.clone()));
        }
        if let Some(list) = &signature.list {
            literals.push(("signature.list.separator", list.separator.to_string()));
            literals.push(("signature.list.assign", list.assign.to_string()));
            literals.push(("signature.list.tag", list.tag.clone()));
            if let Some(key) = &list.timestamp {
                literals.push(("signature.list.timestamp", key.clone()));
            }
        }
        if let Some(parts) = &signature.parts {
            literals.push(("signature.parts.separator", parts.separator.to_string()));
        }
        let printable = |text: &str| text.bytes().all(|b| (b' '..=b'~').contains(&b));
        match literals.into_iter().find(|(_, text)| !printable(text)) {
            Some((field, text)) => Err(ProfileError::new(
                origin,
                field,
                format!("{text:?} cannot be written in a header value (printable ASCII only)"),
            )),
            None => Ok(()),
        }
    }

    /// Every check that needs more than the file's syntax.
    fn validate(&self, origin: &str) -> Result<(), ProfileError> {
        let template = Template::parse(&self.signed)
            .map_err(|e| ProfileError::new(origin, "signed", e.to_string()))?;
        self.check_header(origin, "signature.header", &self.signature.header)?;
        self.check_signature_literals(origin)?;
        self.check_signature_format(origin)?;
        if let Some(list) = &self.signature.list {
            self.check_list(origin, list)?;
        }
        if let Some(parts) = &self.signature.parts {
            self.check_parts(origin, parts)?;
        }
        self.check_timestamp(origin, &template)?;
        self.check_other_fields(origin, &template)?;
        self.check_one_field_per_header(origin)?;
        self.check_delivery(origin, &template)?;
        self.check_sender(origin)
    }

    /// What the sender delivers can be sent: media types and header values
    /// are header values, header names are names, and none of those
    /// headers is one the signature occupies.
    fn check_sender(&self, origin: &str) -> Result<(), ProfileError> {
        let sender = &self.sender;
        for media_type in &sender.media_types {
            if media_type.is_empty() || http::HeaderValue::from_str(media_type).is_err() {
                return fail(
                    origin,
                    "sender.media_types",
                    format!("`{media_type}` is not a media type"),
                );
            }
        }
        for (name, value) in &sender.headers {
            self.check_header(origin, "sender.headers", name)?;
            if http::HeaderValue::from_str(value).is_err() {
                return fail(
                    origin,
                    "sender.headers",
                    format!("{name}: `{value}` is not a header value"),
                );
            }
            let signed = self
                .header_fields()
                .into_iter()
                .any(|(_, h)| h.eq_ignore_ascii_case(name));
            if signed {
                return fail(
                    origin,
                    "sender.headers",
                    format!("{name} carries a field of the signature"),
                );
            }
        }
        Ok(())
    }

    /// `name` (after `{prefix}`) is a header name.
    fn check_header(&self, origin: &str, field: &str, name: &str) -> Result<(), ProfileError> {
        let name = name.replace("{prefix}", self.header_prefix.as_deref().unwrap_or(""));
        match http::HeaderName::from_bytes(name.as_bytes()) {
            Ok(_) => Ok(()),
            Err(_) => fail(
                origin,
                field,
                format!("`{name}` is not a valid header name"),
            ),
        }
    }

    /// The signature header has at most one layout.
    fn check_signature_format(&self, origin: &str) -> Result<(), ProfileError> {
        let formats = [
            self.signature.prefix.is_some(),
            self.signature.list.is_some(),
            self.signature.parts.is_some(),
        ];
        if formats.iter().filter(|f| **f).count() > 1 {
            return fail(
                origin,
                "signature",
                "at most one of prefix, list and parts (none: the tag is the header's whole value)"
                    .into(),
            );
        }
        Ok(())
    }

    /// Whether a tag in this profile's encoding may hold `c`: such a
    /// separator would cut tags apart.
    fn in_tags(&self, c: char) -> bool {
        match self.encoding {
            Encoding::Hex => c.is_ascii_hexdigit(),
            Encoding::Base64 => c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='),
        }
    }

    /// A list's separator, assign character and keys tell its items apart.
    fn check_list(&self, origin: &str, list: &ListSpec) -> Result<(), ProfileError> {
        if list.separator == list.assign || self.in_tags(list.separator) {
            return fail(
                origin,
                "signature.list.separator",
                format!(
                    "`{}` cannot separate items (it is the assign character, or a tag may hold it)",
                    list.separator
                ),
            );
        }
        let keys = [Some(&list.tag), list.timestamp.as_ref()];
        for key in keys.into_iter().flatten() {
            if key.is_empty() || key.contains([list.separator, list.assign]) {
                return fail(
                    origin,
                    "signature.list",
                    format!(
                        "`{key}` is not an item key (empty, or holds the separator or the assign character)"
                    ),
                );
            }
        }
        if list.timestamp.as_ref() == Some(&list.tag) {
            return fail(
                origin,
                "signature.list.timestamp",
                "the timestamp's key is the tag's".into(),
            );
        }
        Ok(())
    }

    /// Parts hold the tag, each field once, between a separator no tag holds.
    fn check_parts(&self, origin: &str, parts: &PartsSpec) -> Result<(), ProfileError> {
        if self.in_tags(parts.separator) {
            return fail(
                origin,
                "signature.parts.separator",
                format!(
                    "`{}` cannot separate parts: a tag may hold it",
                    parts.separator
                ),
            );
        }
        if !parts.fields.contains(&PartField::Tag) {
            return fail(
                origin,
                "signature.parts.fields",
                "the parts must hold the tag".into(),
            );
        }
        let mut seen = parts.fields.clone();
        seen.sort_by_key(|f| *f as u8);
        seen.dedup();
        if seen.len() != parts.fields.len() {
            return fail(
                origin,
                "signature.parts.fields",
                "a field appears twice".into(),
            );
        }
        Ok(())
    }

    /// Whether the signature's parts carry `field`.
    fn in_signature(&self, field: PartField) -> bool {
        self.signature
            .parts
            .as_ref()
            .is_some_and(|p| p.fields.contains(&field))
    }

    /// A timestamp is in exactly one place, and described wherever it is
    /// carried or signed.
    fn check_timestamp(&self, origin: &str, template: &Template) -> Result<(), ProfileError> {
        let list_timestamp = self
            .signature
            .list
            .as_ref()
            .is_some_and(|l| l.timestamp.is_some());
        let in_parts = self.in_signature(PartField::Timestamp);
        match &self.timestamp {
            Some(t) => {
                let places = [t.header.is_some(), list_timestamp, in_parts];
                if places.iter().filter(|p| **p).count() != 1 {
                    return fail(
                        origin,
                        "timestamp",
                        "the timestamp must be in exactly one place: timestamp.header, signature.list.timestamp or a part".into(),
                    );
                }
                match &t.header {
                    Some(h) => self.check_header(origin, "timestamp.header", h),
                    None => Ok(()),
                }
            }
            None if list_timestamp || in_parts => fail(
                origin,
                "timestamp",
                "the signature carries a timestamp: say its unit and window".into(),
            ),
            None if template.uses(&Placeholder::Timestamp) => {
                fail(origin, "signed", "`{timestamp}` without a timestamp".into())
            }
            None => Ok(()),
        }
    }

    /// The key id, nonce and body hash: carried once, and described
    /// wherever the signed string uses them.
    fn check_other_fields(&self, origin: &str, template: &Template) -> Result<(), ProfileError> {
        if self.key_id.is_some() && self.in_signature(PartField::KeyId) {
            return fail(
                origin,
                "key_id",
                "the key id is already a part of the signature".into(),
            );
        }
        if let Some(k) = &self.key_id {
            self.check_header(origin, "key_id.header", &k.header)?;
        }
        match (&self.nonce, template.uses(&Placeholder::Nonce)) {
            (Some(n), _) => self.check_header(origin, "nonce.header", &n.header)?,
            (None, true) => return fail(origin, "signed", "`{nonce}` without a nonce".into()),
            (None, false) => {}
        }
        match (&self.body_hash, template.uses(&Placeholder::BodyHash)) {
            (Some(b), _) => self.check_body_hash(origin, b),
            (None, true) => fail(origin, "signed", "`{body_hash}` without a body_hash".into()),
            (None, false) => Ok(()),
        }
    }

    /// A body hash is in a header or in a query parameter it can be
    /// written into as it is (unreserved characters only).
    fn check_body_hash(&self, origin: &str, hash: &BodyHashSpec) -> Result<(), ProfileError> {
        match (&hash.header, &hash.query) {
            (Some(h), None) => self.check_header(origin, "body_hash.header", h),
            (None, Some(q)) => {
                let unreserved =
                    |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
                if q.is_empty() || !q.chars().all(unreserved) {
                    return fail(
                        origin,
                        "body_hash.query",
                        format!(
                            "`{q}` is not a query parameter name (letters, digits, `-`, `.`, `_`, `~`)"
                        ),
                    );
                }
                Ok(())
            }
            _ => fail(
                origin,
                "body_hash",
                "exactly one of header and query".into(),
            ),
        }
    }

    /// Each header carries one field.
    fn check_one_field_per_header(&self, origin: &str) -> Result<(), ProfileError> {
        let mut names = self.header_fields();
        names.sort_by(|a, b| a.1.cmp(&b.1));
        match names.windows(2).find(|w| w[0].1 == w[1].1) {
            Some(pair) => fail(
                origin,
                pair[1].0,
                format!("`{}` is already {}", pair[1].1, pair[0].0),
            ),
            None => Ok(()),
        }
    }

    /// The headers that carry the signature's fields, each with the field
    /// of the profile that names it, in lower case.
    fn header_fields(&self) -> Vec<(&'static str, String)> {
        [
            ("signature.header", Some(&self.signature.header)),
            (
                "timestamp.header",
                self.timestamp.as_ref().and_then(|t| t.header.as_ref()),
            ),
            ("key_id.header", self.key_id.as_ref().map(|k| &k.header)),
            ("nonce.header", self.nonce.as_ref().map(|n| &n.header)),
            (
                "body_hash.header",
                self.body_hash.as_ref().and_then(|b| b.header.as_ref()),
            ),
        ]
        .into_iter()
        .filter_map(|(field, name)| Some((field, name?.to_ascii_lowercase())))
        .collect()
    }

    /// The endpoint, the hash and the methods say what a sender does.
    fn check_delivery(&self, origin: &str, template: &Template) -> Result<(), ProfileError> {
        let uses_endpoint =
            template.uses(&Placeholder::Endpoint) || template.uses(&Placeholder::Url);
        if uses_endpoint && self.endpoint.as_deref() == Some("") {
            return fail(origin, "endpoint", "an empty endpoint".into());
        }
        if self.hash == Algorithm::Sha1 && self.name.starts_with("seed-") {
            return fail(
                origin,
                "hash",
                "sha1 is for providers that require it".into(),
            );
        }
        if self.delivery == DeliveryKind::Endpoint && self.methods.is_empty() {
            return fail(
                origin,
                "methods",
                "an endpoint needs at least one method".into(),
            );
        }
        Ok(())
    }
}

/// A profile error about `field` of the file `origin`.
fn fail<T>(origin: &str, field: &str, message: String) -> Result<T, ProfileError> {
    Err(ProfileError::new(origin, field, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_loads_under_its_name() {
        for (name, text) in BUILT_IN {
            let profile = Profile::from_yaml(name, text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(profile.name, name);
            assert_eq!(Profile::resolve(name).unwrap(), profile);
        }
    }

    #[test]
    fn a_bad_profile_gets_one_line_naming_where_and_why() {
        let good = BUILT_IN[0].1;
        for (change, field, expected) in [
            (
                (
                    "signed: \"{timestamp}.{body}\"",
                    "signed: \"{tmestamp}.{body}\"",
                ),
                "signed",
                "unknown placeholder `{tmestamp}`",
            ),
            (
                ("encoding: hex", "encoding: hexadecimal"),
                "(document)",
                "hexadecimal",
            ),
            (
                ("header: Stripe-Signature", "header: \"Stripe Signature\""),
                "signature.header",
                "not a valid header name",
            ),
            (("  past: 300", "  pasts: 300"), "(document)", "pasts"),
        ] {
            let text = good.replace(change.0, change.1);
            assert_ne!(text, good, "{change:?} changed nothing");
            let error = Profile::from_yaml("bad.yaml", &text).unwrap_err();
            let line = error.to_string();
            assert!(!line.contains('\n'), "{line}");
            assert!(line.starts_with("bad.yaml: "), "{line}");
            assert_eq!(error.field, field, "{line}");
            assert!(line.contains(expected), "{line}");
        }
        let missing = Profile::resolve("no-such-profile").unwrap_err().to_string();
        assert!(
            missing.contains("stripe") && missing.contains("neither"),
            "{missing}"
        );
    }
}
