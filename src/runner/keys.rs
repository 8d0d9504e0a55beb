//! `keys`: an unknown key id is rejected; with the target's policies named
//! on the command line, seed 001's allow-list and admin routes answer 403.
//! (With the target's admin API, the lifecycle cases in [`super::lifecycle`]
//! run after the catalog.)

use super::Category::Keys;
use super::probe::{Builder, Expect, Probe};
use crate::keys::Key;
use crate::scheme::SignInput;
use crate::tamper::Recipe;

/// Every catalog case of the category (none for schemes without key ids).
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    if !b.has_key_ids() {
        return Vec::new();
    }
    let post = b.base("POST", true);
    let signed_as = |key_id: &str| Recipe {
        input: SignInput {
            key_id: Some(key_id.into()),
            ..b.input(b.now)
        },
        ..Recipe::default()
    };
    let mut out = vec![b.probe(
        Keys,
        "unknown-key",
        "an unknown key id is rejected",
        vec![b.step(&post, &signed_as("sigconform-unknown-key"), Expect::Reject)],
    )];
    // Seed 001's key policies, where the target's are named: a known key
    // outside a route's allow-list, and the runner's own (non-admin) key on
    // an admin route. Both verify, then get 403.
    if let Some(denied) = &b.config.denied_key {
        // The route is named as it is on the target's host, not below the
        // target's path.
        let req = b.request_to("POST", &denied.path, post.body().clone());
        out.push(b.probe(
            Keys,
            "key-not-allowed",
            "a known key outside the route's allowed key ids gets 403",
            vec![b.step_signed_by(
                &req,
                &signed_as(&denied.key_id),
                &Key::new(denied.key_id.as_str(), &denied.secret),
                Expect::Forbidden,
            )],
        ));
    }
    if let Some(path) = &b.config.admin_path {
        let req = b.request_to("POST", path, post.body().clone());
        out.push(b.probe(
            Keys,
            "admin-route",
            "the runner's non-admin key on an admin-only route gets 403",
            vec![b.step(&req, &b.recipe(b.now), Expect::Forbidden)],
        ));
    }
    out
}
