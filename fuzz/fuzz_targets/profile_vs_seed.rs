//! Two implementations of one scheme: each seed's hand-written scheme and
//! the seed's profile (`profiles/seed-*.yaml`) on the same random request,
//! signed by one of them and then changed in one header or the body. Both
//! must derive the same canonical string and give the same verdict, with
//! the same reason.
#![no_main]
mod common;

use arbitrary::Arbitrary;
use common::NOW_S;
use libfuzzer_sys::fuzz_target;
use sigconform_core::registry::SEED_PROFILES;
use sigconform_core::scheme::{SchemeConfig, SchemeId, SignInput};
use sigconform_core::registry::SchemeRef;
use sigconform_core::tamper::Recipe;
use sigconform_core::{Secret, StaticKeys};

#[derive(Debug, Arbitrary)]
struct Input {
    seed: u8,
    method: u8,
    path: String,
    body: Vec<u8>,
    nonce: String,
    sign_with_profile: bool,
    /// A header of the signed request to set to `value`, or the body.
    change: Option<(u8, Vec<u8>)>,
    skew: i16,
}

fuzz_target!(|input: Input| {
    let (seed, name) = SEED_PROFILES[usize::from(input.seed) % SEED_PROFILES.len()];
    let config = SchemeConfig {
        endpoint: Some("https:app.example".into()),
        ..SchemeConfig::default()
    };
    let written = SchemeRef::Seed(seed);
    let described = SchemeRef::by_name(name).unwrap();
    let Some(req) = common::request(input.method, &input.path, input.body) else {
        return;
    };
    if input.nonce.is_empty() || input.nonce.contains(|c: char| !c.is_ascii_graphic()) {
        return;
    }
    let signer = if input.sign_with_profile {
        &described
    } else {
        &written
    }
    .build(&config)
    .unwrap();
    let now = if seed == SchemeId::Partner {
        NOW_S * 1000
    } else {
        NOW_S
    };
    let timestamp = now.saturating_add_signed(i64::from(input.skew)).to_string();
    let recipe = Recipe {
        input: SignInput {
            key_id: Some("k".into()),
            timestamp,
            nonce: Some(input.nonce),
            ..SignInput::default()
        },
        ..Recipe::default()
    };
    let secret = Secret::new("fuzz-secret");
    let key = signer.key("k", &secret).unwrap();
    // partner cannot sign a body that is not JSON: neither can its profile.
    let Ok(mut signed) = recipe.apply(signer.as_ref(), &req, &key) else {
        return;
    };
    match input.change {
        Some((at, value)) => {
            let names: Vec<_> = signed.headers().keys().cloned().collect();
            if names.is_empty() {
                return;
            }
            let name = names[usize::from(at) % names.len()].clone();
            match http::HeaderValue::from_bytes(&value) {
                Ok(value) => {
                    signed.headers_mut().insert(name, value);
                }
                Err(_) => *signed.body_mut() = value.into(),
            }
        }
        None => {}
    }
    let verdict = |scheme: &SchemeRef| {
        let keys = StaticKeys::from_pairs([("k", "fuzz-secret"), ("default", "fuzz-secret")]);
        common::verify(scheme.build(&config).unwrap(), keys, &signed)
            .map(|v| v.key_id().to_owned())
            .map_err(|r| r.code())
    };
    let canonical = |scheme: &SchemeRef| {
        let scheme = scheme.build(&config).unwrap();
        scheme.parse(&signed).ok().and_then(|params| {
            let mut out = Vec::new();
            scheme
                .canonicalize(&signed, &params, &mut out)
                .ok()
                .map(|()| out)
        })
    };
    assert_eq!(
        canonical(&written),
        canonical(&described),
        "{name}: canonical strings differ"
    );
    assert_eq!(
        verdict(&written),
        verdict(&described),
        "{name}: verdicts differ"
    );
});
