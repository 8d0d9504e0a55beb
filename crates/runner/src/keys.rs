//! `keys`: a key id the target does not know is rejected, whatever secret
//! signed it — the runner's own (a lookup that falls back to a default key
//! accepts), the empty secret, the key id itself — and so is a request
//! without a key id; with the target's policies named on the command line,
//! seed 001's allow-list and admin routes answer 403. (With the target's
//! admin API, the lifecycle cases in [`super::lifecycle`] run after the
//! catalog; they change the target's keys, and have no control.)

use super::probe::{Builder, Expect, Probe};
use crate::verdict::Category::Keys;
use sigconform_core::keys::Secret;
use sigconform_core::scheme::{Field, SignInput};
use sigconform_core::tamper::Recipe;
use sigconform_defects::Defect;

/// A key id no target knows.
const UNKNOWN: &str = "sigconform-unknown-key";

/// Every catalog case of the category (none for schemes without key ids).
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    if !b.has_key_ids() {
        return Vec::new();
    }
    let post = b.probe_request();
    let under = |key_id: &str| Recipe {
        input: SignInput {
            key_id: Some(key_id.into()),
            ..b.input(b.now)
        },
        ..Recipe::default()
    };
    // An unknown key id, signed with each secret a sloppy lookup gives
    // unknown ids.
    let unknown = |name: &str, description: &str, secret: &str, control: Defect| {
        let key = b.key_for(UNKNOWN, &Secret::new(secret));
        b.probe(
            Keys,
            name,
            description,
            vec![b.step_signed_by(&post, &under(UNKNOWN), &key, Expect::Reject)],
        )
        .rule(b.cite("absence-signed"))
        .control(control)
    };
    let mut out = vec![
        unknown(
            "unknown-key",
            "an unknown key id, signed with the runner's secret, is rejected",
            b.deployment.secret.expose(),
            Defect::AcceptsUnknownKeys,
        ),
        unknown(
            "unknown-key-empty-secret",
            "an unknown key id, signed with the empty secret, is rejected",
            "",
            Defect::UnknownKeysGetEmptySecret,
        ),
        unknown(
            "unknown-key-id-as-secret",
            "an unknown key id, signed with the key id as the secret, is rejected",
            UNKNOWN,
            Defect::UnknownKeysGetTheirIdAsSecret,
        ),
    ];
    out.extend(b.absence_probes(Keys, &Field::KeyId, "key-id"));
    // Seed 001's key policies, where the target's are named: a known key
    // outside a route's allow-list, and the runner's own (non-admin) key on
    // an admin route. Both verify, then get 403.
    if let Some(denied) = &b.deployment.denied_key {
        // The route is named as it is on the target's host, not below the
        // target's path.
        let req = b.request_to(b.probe_method(), &denied.path, post.body().clone());
        out.push(
            b.probe(
                Keys,
                "key-not-allowed",
                "a known key outside the route's allowed key ids gets 403",
                vec![b.step_signed_by(
                    &req,
                    &under(&denied.key_id),
                    &b.key_for(&denied.key_id, &denied.secret),
                    Expect::Forbidden,
                )],
            )
            .rule(b.cite("key-policy"))
            .control(Defect::IgnoresKeyPolicy),
        );
    }
    if let Some(path) = &b.deployment.admin_path {
        let req = b.request_to(b.probe_method(), path, post.body().clone());
        out.push(
            b.probe(
                Keys,
                "admin-route",
                "the runner's non-admin key on an admin-only route gets 403",
                vec![b.step(&req, &b.recipe(b.now), Expect::Forbidden)],
            )
            .rule(b.cite("key-policy"))
            .control(Defect::IgnoresKeyPolicy),
        );
    }
    out
}
