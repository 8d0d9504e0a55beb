//! The targets `conform` and `fuzz` probe, as the runner is configured for
//! each: a `--target`, or a built-in reference server
//! (`sigconform_server::built_in` starts those, and says what they are).

use sigconform_core::keys::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::SchemeConfig;
use sigconform_runner as runner;
use sigconform_server::built_in::{self as server_built_in, BuiltIn, Guard};

/// One deployment to probe, and what it takes.
pub struct Planned {
    /// The scheme it verifies.
    pub scheme: SchemeRef,
    /// Its instances' URLs.
    pub targets: Vec<String>,
    /// Its scheme settings.
    pub scheme_config: SchemeConfig,
    /// The secret to sign with.
    pub secret: Secret,
    /// Its key lifecycle API.
    pub admin: Option<runner::AdminAccess>,
    /// A key it knows but refuses on one route.
    pub denied_key: Option<runner::DeniedKey>,
    /// Its admin-only route.
    pub admin_path: Option<String>,
    /// A built-in server, kept running for the run.
    pub(crate) _server: Option<Guard>,
}

impl Planned {
    /// The deployment the runner probes, signed by `key_id`: this plan's
    /// instances, scheme and keys, and what else it offers, the rest at
    /// the runner's defaults.
    pub fn deployment(&self, key_id: &str) -> runner::Deployment {
        runner::Deployment {
            targets: self.targets.clone(),
            scheme_config: self.scheme_config.clone(),
            admin: self.admin.clone(),
            denied_key: self.denied_key.clone(),
            admin_path: self.admin_path.clone(),
            ..runner::Deployment::new(
                self.target(),
                self.scheme.clone(),
                key_id,
                self.secret.clone(),
            )
        }
    }

    /// The first instance's URL, naming the deployment.
    pub fn target(&self) -> &str {
        &self.targets[0]
    }
}

impl From<BuiltIn> for Planned {
    /// A built-in server as the runner's target.
    fn from(built: BuiltIn) -> Planned {
        Planned {
            scheme: built.scheme,
            targets: vec![built.target],
            scheme_config: built.scheme_config,
            secret: built.secret,
            admin: built.admin.map(|admin| runner::AdminAccess {
                url: admin.url,
                token: admin.token,
            }),
            denied_key: built.denied_key.map(|denied| runner::DeniedKey {
                key_id: denied.key_id,
                secret: denied.secret,
                path: denied.path,
            }),
            admin_path: built.admin_path,
            _server: Some(built.guard),
        }
    }
}

/// A built-in reference server for `scheme` (see
/// [`server_built_in::start_built_in`]), its client's key named `key_id`.
pub async fn built_in(
    scheme: SchemeRef,
    config: &SchemeConfig,
    key_id: &str,
) -> Result<Planned, String> {
    server_built_in::start_built_in(scheme, config, key_id)
        .await
        .map(Planned::from)
        .map_err(|e| e.to_string())
}
