//! Structured: build a request for any scheme, sign it, verify it, then
//! change one signed byte. The untouched request verifies; the changed one
//! never does; nothing panics.
#![no_main]
mod common;

use arbitrary::Arbitrary;
use common::NOW_S;
use libfuzzer_sys::fuzz_target;
use sigconform_core::StaticKeys;
use sigconform_core::scheme::{SchemeConfig, SchemeId, SignInput};
use sigconform_core::tamper::{Recipe, SignedAs};

#[derive(Debug, Arbitrary)]
struct Input {
    scheme: u8,
    method: u8,
    path: String,
    body: Vec<u8>,
    secret: String,
    nonce: String,
    flip: usize,
}

fuzz_target!(|input: Input| {
    let id = SchemeId::ALL[usize::from(input.scheme) % SchemeId::ALL.len()];
    let config = SchemeConfig {
        endpoint: Some("https:app.example".into()),
        ..SchemeConfig::default()
    };
    let scheme = id.build(&config).unwrap();
    let body = if id == SchemeId::Partner {
        // partner signs JSON: wrap arbitrary bytes as a JSON string.
        serde_json::to_vec(&String::from_utf8_lossy(&input.body)).unwrap()
    } else {
        input.body
    };
    let Some(req) = common::request(input.method, &input.path, body) else {
        return;
    };
    if input.nonce.is_empty()
        || input.nonce.contains(|c: char| !c.is_ascii_graphic())
        || input.nonce.contains('"')
    {
        return;
    }
    let ts = if id == SchemeId::Partner {
        (NOW_S * 1000).to_string()
    } else {
        NOW_S.to_string()
    };
    let key_id = if matches!(id, SchemeId::Webhook | SchemeId::Quable) {
        "default"
    } else {
        "k"
    };
    let keys = StaticKeys::from_pairs([(key_id, input.secret.clone())]);
    let recipe = Recipe {
        input: SignInput {
            key_id: Some("k".into()),
            timestamp: ts.clone(),
            nonce: Some(input.nonce.clone()),
            ..SignInput::default()
        },
        ..Recipe::default()
    };
    let verify =
        |req: &sigconform_core::Request| common::verify(id.build(&config).unwrap(), keys.clone(), req);
    let signed = recipe
        .apply(scheme.as_ref(), &req, keys.get(key_id).unwrap())
        .unwrap();
    assert!(
        verify(&signed).is_ok(),
        "{id}: a correctly signed request was rejected: {:?}",
        verify(&signed)
    );

    // The timestamp is covered by every scheme.
    let tampered = Recipe {
        signed_as: Some(SignedAs {
            timestamp: Some(format!("{}", ts.parse::<u64>().unwrap() - 1)),
            ..SignedAs::default()
        }),
        ..recipe
    };
    let signed_other = tampered
        .apply(scheme.as_ref(), &req, keys.get(key_id).unwrap())
        .unwrap();
    assert!(
        verify(&signed_other).is_err(),
        "{id}: timestamp changed, still accepted"
    );

    // Any body bit (lowest bit for partner, whose JSON spellings can be equivalent).
    if !signed.body().is_empty() {
        let mut body = signed.body().to_vec();
        let i = input.flip % body.len();
        body[i] ^= 1;
        let mut flipped = signed.clone();
        *flipped.body_mut() = body.into();
        assert!(
            verify(&flipped).is_err(),
            "{id}: body byte {i} flipped, still accepted"
        );
    }
});
