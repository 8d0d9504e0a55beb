//! Properties of every scheme, over arbitrary requests and keys:
//! what a signer signs, the verifier accepts; any change to a signed
//! component after signing is rejected.

use std::sync::Arc;

use proptest::prelude::*;
use sigconform_core::scheme::{SchemeConfig, SchemeId, SignInput};
use sigconform_core::tamper::{Recipe, SignedAs, TagTransform};
use sigconform_core::{FixedClock, KeyPolicy, MemoryNonceStore, Request, StaticKeys, Verifier};

const NOW_S: u64 = 1_700_000_000;

fn config() -> SchemeConfig {
    SchemeConfig {
        endpoint: Some("https:app.example/hook".into()),
        ..SchemeConfig::default()
    }
}

fn timestamp(scheme: SchemeId) -> String {
    match scheme {
        SchemeId::Partner => (NOW_S * 1000).to_string(),
        _ => NOW_S.to_string(),
    }
}

/// A request, and the parts a signer chooses.
#[derive(Debug, Clone)]
struct Input {
    scheme: SchemeId,
    method: &'static str,
    path: String,
    query: Option<String>,
    body: Vec<u8>,
    secret: String,
    nonce: String,
}

fn scheme_strategy() -> impl Strategy<Value = SchemeId> {
    prop::sample::select(SchemeId::ALL.to_vec())
}

fn body_strategy(scheme: SchemeId) -> BoxedStrategy<Vec<u8>> {
    match scheme {
        // `partner` signs canonical JSON: generate JSON documents.
        SchemeId::Partner => prop::collection::btree_map(
            "[a-zA-Z0-9_é]{0,8}",
            prop_oneof![
                any::<i32>().prop_map(serde_json::Value::from),
                "[ -~é東]{0,12}".prop_map(serde_json::Value::from),
                any::<bool>().prop_map(serde_json::Value::from),
            ],
            0..6,
        )
        .prop_map(|m| serde_json::to_vec(&m).unwrap())
        .boxed(),
        _ => prop::collection::vec(any::<u8>(), 0..200).boxed(),
    }
}

fn input_strategy() -> impl Strategy<Value = Input> {
    scheme_strategy().prop_flat_map(|scheme| {
        (
            prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE"]),
            "(/[a-zA-Z0-9._~%-]{1,12}){1,4}",
            prop::option::of("[a-z]{1,5}=[a-zA-Z0-9%+]{0,6}(&[a-z]{1,5}=[a-z0-9]{0,6}){0,3}"),
            body_strategy(scheme),
            "[ -~]{1,40}",
            "[A-Za-z0-9+/=_-]{1,24}",
        )
            .prop_map(move |(method, path, query, body, secret, nonce)| Input {
                scheme,
                method,
                path,
                query,
                body,
                secret,
                nonce,
            })
    })
}

impl Input {
    fn request(&self) -> Request {
        let uri = match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        };
        http::Request::builder()
            .method(self.method)
            .uri(uri)
            .header("host", "api.example.com")
            .header("content-type", "application/json")
            .body(self.body.clone().into())
            .unwrap()
    }

    fn keys(&self) -> StaticKeys {
        StaticKeys::from_pairs([
            ("key-1", self.secret.clone()),
            ("default", self.secret.clone()),
            ("key-2", format!("{}-other", self.secret)),
        ])
    }

    fn recipe(&self) -> Recipe {
        Recipe {
            input: SignInput {
                key_id: Some("key-1".into()),
                timestamp: timestamp(self.scheme),
                nonce: Some(self.nonce.clone()),
                ..SignInput::default()
            },
            ..Recipe::default()
        }
    }

    fn signed(&self, recipe: &Recipe) -> Request {
        let keys = self.keys();
        let key_id = recipe.secret_of.as_deref().unwrap_or(match self.scheme {
            SchemeId::Webhook | SchemeId::Quable => "default",
            _ => "key-1",
        });
        let scheme = self.scheme.build(&config()).unwrap();
        recipe
            .apply(scheme.as_ref(), &self.request(), keys.get(key_id).unwrap())
            .unwrap()
    }

    fn verify(&self, req: &Request) -> Result<String, sigconform_core::Rejection> {
        let verifier = Verifier::new(
            self.scheme.build(&config()).unwrap(),
            Arc::new(FixedClock::new(NOW_S * 1000)),
            Arc::new(MemoryNonceStore::new(64)),
            Arc::new(self.keys()),
            KeyPolicy::default(),
        );
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(verifier.verify(req))
            .map(|v| v.key_id().to_owned())
    }
}

/// The changes each scheme's signature must detect (its rules: what it covers).
fn covered_mutations(input: &Input) -> Vec<(&'static str, Recipe)> {
    let base = input.recipe();
    let with = |signed_as: SignedAs| Recipe {
        signed_as: Some(signed_as),
        ..base.clone()
    };
    let ts: u64 = timestamp(input.scheme).parse().unwrap();
    let mut out = vec![
        (
            "timestamp",
            with(SignedAs {
                timestamp: Some((ts - 1).to_string()),
                ..SignedAs::default()
            }),
        ),
        (
            "tag bit",
            Recipe {
                tag_transform: Some(TagTransform::FlipFirstBit),
                ..base.clone()
            },
        ),
        (
            "tag length",
            Recipe {
                tag_transform: Some(TagTransform::Truncate),
                ..base.clone()
            },
        ),
    ];
    if matches!(
        input.scheme,
        SchemeId::Authorization | SchemeId::A2a | SchemeId::Quable
    ) {
        let other = if input.method == "PUT" { "POST" } else { "PUT" };
        out.push((
            "method",
            with(SignedAs {
                method: Some(other.into()),
                ..SignedAs::default()
            }),
        ));
    }
    if matches!(input.scheme, SchemeId::Authorization | SchemeId::A2a) {
        out.push((
            "path",
            with(SignedAs {
                path: Some(format!("{}x", input.path)),
                ..SignedAs::default()
            }),
        ));
        out.push((
            "nonce",
            with(SignedAs {
                nonce: Some(format!("{}x", input.nonce)),
                ..SignedAs::default()
            }),
        ));
    }
    if input.scheme == SchemeId::Authorization {
        out.push((
            "query",
            with(SignedAs {
                query: Some("zz=1".into()),
                ..SignedAs::default()
            }),
        ));
        out.push((
            "host",
            with(SignedAs {
                headers: vec![sigconform_core::tamper::Header(
                    "host".into(),
                    "other.example".into(),
                )],
                ..SignedAs::default()
            }),
        ));
    }
    // Signed with another secret: for schemes with key ids the header still
    // names key-1; for the others it is simply the wrong shared secret.
    out.push((
        "key",
        Recipe {
            secret_of: Some("key-2".into()),
            ..base
        },
    ));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn sign_then_verify_accepts(input in input_strategy()) {
        let req = input.signed(&input.recipe());
        prop_assert!(input.verify(&req).is_ok(), "{:?} rejected: {:?}", input.scheme, input.verify(&req));
    }

    #[test]
    fn changing_a_signed_component_is_rejected(input in input_strategy()) {
        for (what, recipe) in covered_mutations(&input) {
            let req = input.signed(&recipe);
            prop_assert!(input.verify(&req).is_err(), "{:?}: changed {what}, still accepted", input.scheme);
        }
    }

    #[test]
    fn flipping_any_body_bit_is_rejected(input in input_strategy(), index in any::<prop::sample::Index>(), bit in 0u8..8) {
        prop_assume!(!input.body.is_empty());
        let mut req = input.signed(&input.recipe());
        let mut body = req.body().to_vec();
        let i = index.index(body.len());
        // For `partner` only the lowest bit: other bits can turn one JSON
        // spelling into an equivalent one (e.g. `e` into `E` in an exponent),
        // which its canonical JSON rightly does not see.
        body[i] ^= if input.scheme == SchemeId::Partner { 1 } else { 1 << bit };
        *req.body_mut() = body.into();
        prop_assert!(input.verify(&req).is_err(), "{:?}: body byte {i} flipped, still accepted", input.scheme);
    }
}
