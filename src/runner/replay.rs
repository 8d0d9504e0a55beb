//! `replay`: a nonce is single-use — the same request twice, the nonce
//! again in a new signature or under the key id in other letter case, a
//! request without its nonce, identical requests at the same moment, and
//! (with several targets) a request accepted by one instance sent to the
//! others.

use super::Category::Replay;
use super::probe::{Builder, Expect, Probe, recased};
use crate::scheme::SignInput;
use crate::tamper::{HeaderEdit, Recipe, SignedAs};

/// How many identical requests the concurrent replay case sends at once.
const CONCURRENT_COPIES: usize = 8;

/// Every replay case, in catalog order.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let post = b.base("POST", true);
    let has_nonce = b.has_nonce();
    let now = b.now;
    let mut out = Vec::new();

    let replayed = b.recipe(now);
    let again = if has_nonce {
        Expect::Reject
    } else {
        Expect::Either
    };
    out.push(b.probe(
        Replay,
        "identical",
        "the same request twice: the second is a replay",
        vec![
            b.step(&post, &replayed, Expect::Accept),
            b.step(&post, &replayed, again),
        ],
    ));
    // A first request accepted, then its nonce again in another one.
    let nonce_again = |name: &str, description: &str, change: &dyn Fn(&mut SignInput)| {
        let first = b.recipe(now);
        let mut input = first.input.clone();
        change(&mut input);
        let second = Recipe {
            input,
            ..Recipe::default()
        };
        b.probe(
            Replay,
            name,
            description,
            vec![
                b.step(&post, &first, Expect::Accept),
                b.step(&post, &second, Expect::Reject),
            ],
        )
    };
    if has_nonce {
        out.push(nonce_again(
            "fresh-signature",
            "the nonce again with a new timestamp and signature",
            &|input| input.timestamp = (now - 1).to_string(),
        ));
    }
    // Under the key id in other letter case: where the key lookup ignores
    // case but the nonce store does not, a replay.
    if let Some(recased) = recased(&b.config.key_id).filter(|_| has_nonce && b.has_key_ids()) {
        out.push(nonce_again(
            "key-id-case",
            "the nonce again, under the key id in other letter case",
            &|input| input.key_id = Some(recased.clone()),
        ));
    }
    if has_nonce {
        out.extend(missing_nonce(b));
        let mut step = b.step(&post, &b.recipe(now), Expect::Either);
        if let Ok(s) = step.as_mut() {
            s.copies = CONCURRENT_COPIES;
        }
        out.push(b.probe(
            Replay,
            "concurrent",
            "identical requests sent at the same moment: at most one accepted",
            vec![step],
        ));
    }
    out
}

/// A request without its nonce header, signed as if the nonce were empty:
/// a verifier that treats a missing nonce as "" accepts it, and then every
/// such request is a replayable one. (Only where the nonce has a header of
/// its own, found as the written header holding it.)
fn missing_nonce(b: &Builder<'_>) -> Option<Probe> {
    let post = b.base("POST", true);
    let input = b.input(b.now);
    let nonce = input.nonce.clone().unwrap_or_default();
    let name = b
        .scheme
        .signing_params(&post, &input)
        .map(|p| b.scheme.signature_headers(&p, "x"))
        .unwrap_or_default()
        .into_iter()
        .find(|(_, value)| *value == nonce)
        .map(|(name, _)| name.as_str().to_owned())?;
    let r = Recipe {
        input,
        signed_as: Some(SignedAs {
            nonce: Some(String::new()),
            ..SignedAs::default()
        }),
        edits: vec![HeaderEdit::Remove(name)],
        ..Recipe::default()
    };
    Some(b.probe(
        Replay,
        "missing-nonce",
        "a request without a nonce is rejected",
        vec![b.step(&post, &r, Expect::Reject)],
    ))
}
