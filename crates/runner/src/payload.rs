//! The other ways a body is signed, for schemes that have them (SigV4):
//! not at all (`UNSIGNED-PAYLOAD`), which a target accepts with any body,
//! and chunk by chunk (an aws-chunked upload), which it accepts as signed
//! and refuses with a chunk changed after signing.

use bytes::Bytes;

use super::Category::{Acceptance, Tamper};
use super::probe::{Builder, Expect, Probe, Step};
use sigconform_server::Defect;

/// The chunk size of the runner's chunked uploads: its body in several.
const CHUNK: usize = 16;

/// Every payload case, or none for a scheme without chunked uploads.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let req = b.probe_request();
    let input = b.input(b.now);
    let Some(upload) = b.scheme.chunked(&req, &input, CHUNK, &b.key) else {
        return Vec::new();
    };
    let chunked = upload.map_err(|e| format!("the request could not be signed: {e}"));
    let changed = chunked.clone().map(|mut upload| {
        // One byte of the first chunk's data, after its line.
        let mut body = upload.body().to_vec();
        if let Some(line) = body.windows(2).position(|w| w == b"\r\n") {
            body[line + 2] ^= 0x01;
        }
        *upload.body_mut() = Bytes::from(body);
        upload
    });
    let mut unsigned = req.clone();
    unsigned.headers_mut().insert(
        "x-amz-content-sha256",
        http::HeaderValue::from_static("UNSIGNED-PAYLOAD"),
    );
    vec![
        b.probe(
            Acceptance,
            "unsigned-payload",
            "a body signed as UNSIGNED-PAYLOAD is accepted",
            vec![b.step(&unsigned, &b.recipe(b.now), Expect::Accept)],
        )
        .rule(b.cite("payload-hash"))
        .no_control("a valid request: nothing to ignore"),
        b.probe(
            Acceptance,
            "chunked-upload",
            "a chunk-signed upload (aws-chunked) is accepted",
            vec![chunked.map(|r| Step::signed(b.canonical_of(&r), r, Expect::Accept))],
        )
        .rule(b.cite("payload-hash"))
        .no_control("a valid request: nothing to ignore"),
        b.probe(
            Tamper,
            "chunk-changed",
            "a chunk-signed upload with a byte of a chunk changed after signing is rejected",
            vec![changed.map(|r| Step::signed(b.canonical_of(&r), r, Expect::Reject))],
        )
        .rule(b.cite("payload-hash"))
        .control(Defect::ChunksNotVerified)
        .twin(b.case_id(Acceptance, "chunked-upload")),
    ]
}
