//! How a deployment is described on the command line: the flags `conform`
//! and `fuzz` share (the target, its scheme and settings, the secret, TLS,
//! the headers every request carries, the body it needs, how its route is
//! probed, the reports), and what they make: the targets to probe (the
//! given ones, or the built-in reference servers) and the runner's
//! configuration for each.

use std::path::PathBuf;

use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_runner::{self as runner, Deployment, RunOptions};

use crate::built_in::{Planned, built_in};
use crate::scheme_options::SchemeOptions;

/// The flags that describe a deployment and where its reports go.
#[derive(clap::Args)]
pub struct DeploymentArgs {
    /// Server to probe: http:// or https://, host, port, and a path (and
    /// query) the probes go under, or, with --fixed-path, to. May repeat
    /// (instances of one deployment). Without one, reference servers for
    /// every scheme are started on loopback and probed.
    #[arg(long)]
    pub target: Vec<String>,
    /// Every probe goes to exactly the target URL's path (one route, such
    /// as a webhook receiver). The default for webhook and quable.
    #[arg(long, conflicts_with = "path_prefix")]
    pub fixed_path: bool,
    /// Probes go below the target URL's path (an API mounted there). The
    /// default for partner, authorization, a2a and ia-json.
    #[arg(long)]
    pub path_prefix: bool,
    /// A PEM file of CA certificates to trust for an https target (a
    /// private CA), besides the usual roots.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify an https target's certificate (self-signed staging
    /// servers). Every report says so.
    #[arg(long)]
    pub insecure: bool,
    /// 'Name: value': a header every request carries (a gateway's tenant
    /// id); may repeat.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// NAME=VAR: a header every request carries, its value from the
    /// environment variable VAR and redacted like the secret; may repeat.
    #[arg(long = "header-env", value_name = "NAME=VAR")]
    pub header_envs: Vec<String>,
    /// Where reproductions keep payloads over 1 KiB: a folder per run
    /// under this one. Default: `sigconform-artifacts` beside the first
    /// --report, else in the system's temporary folder.
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// The body the target needs (an event in its provider's envelope,
    /// a form a handler reads): the runner signs it, sends it, and makes
    /// its variations inside it. UTF-8 text.
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// The Content-Type of --body-file (default: JSON where it parses as
    /// JSON, a form where it reads as one, else application/octet-stream).
    #[arg(long, value_name = "TYPE", requires = "body_file")]
    pub content_type: Option<String>,
    /// Statuses the target refuses with besides 4xx answers about a
    /// signature, e.g. 404 for a verifier that hides its route (learned
    /// where an unsigned and a wrongly signed request both get one).
    #[arg(long, value_name = "CODE", value_delimiter = ',', num_args = 1.., value_parser = clap::value_parser!(u16).range(100..600))]
    pub reject_status: Vec<u16>,
    /// The largest body the runner sends, in bytes (the shape cases with
    /// bodies past 16 KiB, 64 KiB and 1 MiB buffers that do not fit are
    /// left out; the fuzzer's large bodies too).
    #[arg(long, value_name = "BYTES", default_value_t = runner::DEFAULT_MAX_BODY)]
    pub max_body: usize,
    /// Probe a fixed route with a query of the runner's own too (by
    /// default a fixed route is probed exactly, with a query only where
    /// the scheme signs the query).
    #[arg(long)]
    pub with_query: bool,
    /// The scheme the target verifies (this or --profile is required with
    /// --target): partner, authorization, webhook, a2a, ia-json, quable, sigv4 or rfc9421,
    /// or a built-in profile's name. Without --target: only its built-in
    /// server.
    #[arg(long, conflicts_with = "profile")]
    pub scheme: Option<String>,
    /// The profile the target verifies: a built-in profile's name (stripe,
    /// github, github-sha1, slack, standard-webhooks, svix, shopify, twilio,
    /// twilio-json, square, paddle, seed-*) or a profile file
    /// (profiles/schema.json).
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: Option<String>,
    /// Key id to sign with (ignored by webhook and quable).
    #[arg(long, default_value = "sigconform")]
    pub key_id: String,
    /// The secret (prefer --secret-env: arguments are visible to other users).
    #[arg(long, conflicts_with = "secret_env")]
    pub secret: Option<String>,
    /// Environment variable holding the secret.
    #[arg(long)]
    pub secret_env: Option<String>,
    /// The scheme's settings: its endpoint string, time limits, SigV4
    /// scope, RFC 9421 policy.
    #[command(flatten)]
    pub scheme_options: SchemeOptions,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 5)]
    pub timeout: u64,
    /// Requests in flight at once (one at a time where they write a
    /// resource, as an S3 object's PUTs do).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// json=PATH, junit=PATH or html=PATH: write a report; may repeat.
    #[arg(long)]
    pub report: Vec<String>,
}

/// The deployment the runner probes: `planned`'s instances, scheme and
/// keys, with what the deployment flags say of it (the body it needs, how
/// its route is probed, how it refuses).
pub fn deployment(
    args: &DeploymentArgs,
    planned: &Planned,
    body: Option<&runner::Body>,
) -> Deployment {
    Deployment {
        body: body.cloned(),
        fixed_route: match (args.fixed_path, args.path_prefix) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        with_query: args.with_query,
        reject_statuses: args.reject_status.clone(),
        ..planned.deployment(&args.key_id)
    }
}

/// The run's options as the deployment flags say (the rest at the
/// runner's defaults).
pub fn run_options(args: &DeploymentArgs, extra_headers: Vec<runner::ExtraHeader>) -> RunOptions {
    RunOptions {
        tls: runner::TlsOptions {
            ca_cert: args.ca_cert.clone(),
            insecure: args.insecure,
        },
        extra_headers,
        max_body: args.max_body,
        timeout: std::time::Duration::from_secs(args.timeout),
        concurrency: args.concurrency,
        // Learning the deployment and the whole catalog may take the
        // per-request timeout a few times over (`--slow` adds the window:
        // the runner knows it).
        deadline: std::time::Duration::from_secs(args.timeout.saturating_mul(10).max(30)),
        ..RunOptions::default()
    }
}

/// The secret of `--secret` or `--secret-env`, if either is given.
pub fn secret(args: &DeploymentArgs) -> Result<Option<Secret>, String> {
    Ok(match (&args.secret, &args.secret_env) {
        (Some(s), _) => Some(Secret::new(s.clone())),
        (None, Some(var)) => Some(crate::secret_from_env(var)?),
        (None, None) => None,
    })
}

/// The headers of `--header 'Name: value'` and `--header-env Name=VAR`.
pub fn extra_headers(args: &DeploymentArgs) -> Result<Vec<runner::ExtraHeader>, String> {
    // The runner sets these itself, and signs some of them.
    const OWN: [&str; 3] = ["host", "content-type", "content-length"];
    let name = |text: &str, flag: &str| {
        let name = http::HeaderName::from_bytes(text.trim().as_bytes())
            .map_err(|_| format!("{flag}: `{}` is not a header name", text.trim()))?;
        if OWN.contains(&name.as_str()) {
            return Err(format!(
                "{flag}: the runner sets {name} itself (it is part of what is signed)"
            ));
        }
        Ok(name)
    };
    let mut out = Vec::new();
    for spec in &args.headers {
        let (n, value) = spec
            .split_once(':')
            .ok_or_else(|| format!("--header takes 'Name: value', not `{spec}`"))?;
        let value = value.trim();
        http::HeaderValue::from_str(value)
            .map_err(|_| format!("--header {}: not a valid header value", n.trim()))?;
        out.push(runner::ExtraHeader {
            name: name(n, "--header")?,
            value: Secret::new(value),
            from_env: None,
        });
    }
    for spec in &args.header_envs {
        let (n, var) = spec
            .split_once('=')
            .ok_or_else(|| format!("--header-env takes NAME=VAR, not `{spec}`"))?;
        let value = crate::secret_from_env(var)?;
        // The value is not shown: it is a secret.
        http::HeaderValue::from_str(value.expose())
            .map_err(|_| format!("--header-env {n}: ${var} is not a valid header value"))?;
        out.push(runner::ExtraHeader {
            name: name(n, "--header-env")?,
            value,
            from_env: Some(var.to_owned()),
        });
    }
    Ok(out)
}

/// The folder this run's reproduction payloads go to:
/// `<artifacts>/<unix seconds>-<pid>`, where `<artifacts>` is `--artifacts`,
/// else `sigconform-artifacts` beside the first report, else in the
/// system's temporary folder: nothing is written where the user did not
/// ask for files. (The folder is made only when a payload needs it.)
pub fn artifacts(args: &DeploymentArgs) -> runner::Files {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let beside_a_report = args
        .report
        .first()
        .and_then(|spec| spec.split_once('='))
        .map(|(_, path)| {
            std::path::Path::new(path)
                .parent()
                .unwrap_or(std::path::Path::new(""))
                .join("sigconform-artifacts")
        });
    let root = args
        .artifacts
        .clone()
        .or(beside_a_report)
        .unwrap_or_else(|| std::env::temp_dir().join("sigconform-artifacts"));
    runner::Files::new(root.join(format!("{seconds}-{}", std::process::id())))
}

/// The body of `--body-file`, as `--content-type` says or as its content
/// reads.
pub fn body(args: &DeploymentArgs) -> Result<Option<runner::Body>, String> {
    let Some(path) = &args.body_file else {
        return Ok(None);
    };
    let bytes = std::fs::read(path).map_err(|e| format!("--body-file {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "--body-file {}: not UTF-8 text (the runner varies the body as text)",
            path.display()
        )
    })?;
    Ok(Some(match &args.content_type {
        Some(media_type) => {
            http::HeaderValue::from_str(media_type)
                .map_err(|_| format!("--content-type: `{media_type}` is not a header value"))?;
            runner::Body::new(text, media_type.clone())
        }
        None => runner::Body::sniffed(text),
    }))
}

/// The deployments to probe: the `--target`s, instances of one (of
/// `scheme`, signed with `secret`), or the built-in servers, one each (of
/// `scheme`, or of every scheme and profile).
pub async fn plan(
    args: &DeploymentArgs,
    scheme: Option<SchemeRef>,
    secret: Option<Secret>,
) -> Result<Vec<Planned>, String> {
    if args.target.is_empty() {
        let schemes = scheme.map_or_else(SchemeRef::all_built_in, |s| vec![s]);
        // quable's endpoint string where none is given.
        let config = args
            .scheme_options
            .scheme_config(Some("https:sigconform.test/app"));
        let mut planned = Vec::new();
        for scheme in schemes {
            planned.push(built_in(scheme, &config, &args.key_id).await?);
        }
        return Ok(planned);
    }
    let scheme = scheme.ok_or("--target needs --scheme or --profile")?;
    let secret = secret.ok_or("--target needs --secret or --secret-env")?;
    // Instances of one deployment share its public endpoint: the first's.
    Ok(vec![Planned {
        scheme_config: args.scheme_options.scheme_config(Some(&args.target[0])),
        scheme,
        targets: args.target.clone(),
        secret,
        admin: None,
        denied_key: None,
        admin_path: None,
        _server: None,
    }])
}
