//! The scheme's settings on the command line: one group of flags that
//! `conform`, `fuzz`, `serve`, `sign` and `verify` all take, with the same
//! names, defaults and help, and the [`SchemeConfig`] they make.

use sigconform_core::scheme::SchemeConfig;

/// How the scheme is configured: its endpoint string, time limits, SigV4
/// scope and RFC 9421 policy. Each is the scheme's own default when left
/// out.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SchemeOptions {
    /// quable's ENDPOINT string; a profile's `{endpoint}` (the notification
    /// URL) or the origin of its `{url}` (conform, fuzz: default the target
    /// URL).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Past limit in the scheme's unit (default: the scheme's own rule).
    #[arg(long)]
    pub tolerance: Option<u64>,
    /// Future limit in the scheme's unit.
    #[arg(long)]
    pub future_tolerance: Option<u64>,
    /// sigv4: the region the target serves (default us-east-1; `*`: any).
    #[arg(long)]
    pub region: Option<String>,
    /// sigv4: the service the target serves (default s3: the target URL is
    /// an object the runner may write, in a bucket, and removes at the end).
    #[arg(long)]
    pub service: Option<String>,
    /// rfc9421: the components the target requires every signature to
    /// cover, separated by spaces (default `@method @authority @path`, and
    /// `content-digest` with a body); the runner's signatures cover them.
    #[arg(long, value_name = "COMPONENTS")]
    pub covered: Option<String>,
    /// rfc9421: the metadata parameters the target requires, separated by
    /// spaces (default `created keyid`; add `nonce` for the replay cases).
    #[arg(long, value_name = "PARAMETERS")]
    pub required_params: Option<String>,
    /// rfc9421: the signature label the target checks (default: the first;
    /// the runner writes `sig1`).
    #[arg(long)]
    pub label: Option<String>,
    /// rfc9421: the application `tag` the target requires.
    #[arg(long)]
    pub signature_tag: Option<String>,
}

impl SchemeOptions {
    /// The scheme settings these flags give; the endpoint string is
    /// `--endpoint`, else `default_endpoint` (a target's URL), and its URL
    /// scheme, where it has one, is what `@scheme` and `@target-uri` read.
    pub fn scheme_config(&self, default_endpoint: Option<&str>) -> SchemeConfig {
        let endpoint = self
            .endpoint
            .clone()
            .or_else(|| default_endpoint.map(str::to_owned));
        let target_scheme = endpoint
            .as_deref()
            .and_then(|endpoint| endpoint.split_once("://"))
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        SchemeConfig {
            tolerance_past: self.tolerance,
            tolerance_future: self.future_tolerance,
            endpoint,
            region: self.region.clone(),
            service: self.service.clone(),
            required_headers: self.covered.as_deref().map(words),
            required_parameters: self.required_params.as_deref().map(words),
            label: self.label.clone(),
            signature_tag: self.signature_tag.clone(),
            target_scheme,
            ..SchemeConfig::default()
        }
    }
}

/// A list given as one argument, its items separated by spaces.
fn words(list: &str) -> Vec<String> {
    list.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_make_the_scheme_settings() {
        let options = SchemeOptions {
            tolerance: Some(60),
            future_tolerance: Some(5),
            region: Some("eu-west-1".into()),
            service: Some("execute-api".into()),
            covered: Some(" @method  @path ".into()),
            required_params: Some("created keyid nonce".into()),
            label: Some("edge".into()),
            signature_tag: Some("app".into()),
            ..SchemeOptions::default()
        };
        let config = options.scheme_config(Some("HTTP://127.0.0.1:8080/api"));
        assert_eq!(config.tolerance_past, Some(60));
        assert_eq!(config.tolerance_future, Some(5));
        assert_eq!(config.region.as_deref(), Some("eu-west-1"));
        assert_eq!(config.service.as_deref(), Some("execute-api"));
        assert_eq!(
            config.required_headers,
            Some(vec!["@method".to_owned(), "@path".to_owned()])
        );
        assert_eq!(
            config.required_parameters,
            Some(vec!["created".into(), "keyid".into(), "nonce".into()])
        );
        assert_eq!(config.label.as_deref(), Some("edge"));
        assert_eq!(config.signature_tag.as_deref(), Some("app"));
        assert_eq!(
            config.endpoint.as_deref(),
            Some("HTTP://127.0.0.1:8080/api")
        );
        assert_eq!(config.target_scheme.as_deref(), Some("http"));
    }

    #[test]
    fn endpoint_is_the_flag_else_the_default_else_none() {
        let given = SchemeOptions {
            endpoint: Some("https:app.example/hook".into()),
            ..SchemeOptions::default()
        };
        let config = given.scheme_config(Some("http://127.0.0.1:1"));
        assert_eq!(config.endpoint.as_deref(), Some("https:app.example/hook"));
        // quable's endpoint string is no URL: `@scheme` keeps its default.
        assert_eq!(config.target_scheme, None);
        let config = SchemeOptions::default().scheme_config(None);
        assert_eq!(config, SchemeConfig::default());
    }
}
