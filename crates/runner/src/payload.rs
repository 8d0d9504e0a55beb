//! The other ways a body is signed, for schemes that have them (SigV4):
//! not at all (`UNSIGNED-PAYLOAD`), which a target accepts with any body,
//! and chunk by chunk (an aws-chunked upload), which it accepts as signed
//! and refuses with its chain broken in any one way: a chunk's data or
//! signature changed, the chunks reordered, each signed after the seed
//! rather than after the chunk before, the final empty chunk missing, the
//! decoded length wrong; and with a signed trailing checksum, accepted, and
//! refused with the checksum or the trailer's signature wrong. These are
//! S3's (`skip` for another `--service`);
//! for every service, a signed `x-amz-content-sha256` must be the body's.

use bytes::Bytes;

use super::probe::{Builder, Expect, Probe, Sends, Step, set_body};
use crate::verdict::Category::{Acceptance, Tamper};
use sigconform_core::request::Request;
use sigconform_core::scheme::sigv4::chunked::{ChunkPlan, Framed, Trailer};
use sigconform_core::tamper::{Header, Recipe, SignedAs};
use sigconform_defects::Defect;

/// The chunk size of the runner's chunked uploads: its body in several.
const CHUNK: usize = 16;

/// The runner's chunked uploads: its body in chunks of [`CHUNK`] bytes.
pub(super) fn plan() -> ChunkPlan {
    ChunkPlan::new(CHUNK)
}

/// Whether the target's service is S3 (SigV4's default), whose rules the
/// S3-only cases check.
pub(super) fn s3(b: &Builder<'_>) -> bool {
    service(b) == "s3"
}

/// The service the target serves (SigV4's `--service`; S3 where none is
/// given).
pub(super) fn service<'b>(b: &'b Builder<'_>) -> &'b str {
    b.deployment
        .scheme_config
        .service
        .as_deref()
        .unwrap_or("s3")
}

/// `probes`, each `skip` where the target's service is not S3.
pub(super) fn s3_only(b: &Builder<'_>, mut probes: Vec<Probe>) -> Vec<Probe> {
    if !s3(b) {
        let service = service(b);
        for probe in &mut probes {
            probe.skip = Some(format!(
                "S3 only: the target's service is {service}, where this payload form or rule does not apply"
            ));
        }
    }
    probes
}

/// For SigV4 with a service other than S3: the cases of S3's payload-hash
/// rules `skip` (another service's signer need not send
/// `x-amz-content-sha256`: a request without it is signed over its body),
/// and so is a case that cannot be built for the service (a body hash to
/// change where none is sent), rather than `error`.
pub(super) fn fit_to_service(b: &Builder<'_>, probes: &mut [Probe]) {
    let sigv4 = b
        .scheme
        .chunked(&b.probe_request(), &b.input(b.now), &plan(), &b.key)
        .is_some();
    if !sigv4 || s3(b) {
        return;
    }
    let service = service(b);
    for probe in probes.iter_mut().filter(|p| p.skip.is_none()) {
        if let Ok(Defect::OptionalField(sigconform_core::scheme::Field::BodyHash, _)) =
            &probe.control
        {
            probe.skip = Some(format!(
                "S3 only: a {service} request need not carry x-amz-content-sha256 (its body is hashed instead)"
            ));
        } else if let Sends::Steps(Err(why)) = &probe.sends {
            probe.skip = Some(format!("not for {service}: {why}"));
        }
    }
}

/// The runner's request signed as `UNSIGNED-PAYLOAD`.
pub(super) fn unsigned(b: &Builder<'_>) -> Request {
    let mut unsigned = b.probe_request();
    unsigned.headers_mut().insert(
        "x-amz-content-sha256",
        http::HeaderValue::from_static(sigconform_core::scheme::sigv4::UNSIGNED_PAYLOAD),
    );
    unsigned
}

/// The runner's request as a chunked upload framed and signed as `plan`
/// says; `None` for a scheme without chunked uploads.
fn upload(b: &Builder<'_>, plan: &ChunkPlan) -> Option<Result<Request, String>> {
    let upload = b
        .scheme
        .chunked(&b.probe_request(), &b.input(b.now), plan, &b.key)?;
    Some(upload.map_err(|e| format!("the request could not be signed: {e}")))
}

/// A step of the runner's request as a chunked upload (see [`upload`]).
pub(super) fn chunked_step(
    b: &Builder<'_>,
    plan: &ChunkPlan,
    expect: Expect,
) -> Option<Result<Step, String>> {
    upload(b, plan).map(|r| r.map(|r| Step::signed(b.canonical_of(&r), r, expect)))
}

/// A step of the runner's chunked upload framed as `plan` says, its body
/// changed by `change` after signing.
fn changed_upload(
    b: &Builder<'_>,
    plan: &ChunkPlan,
    change: impl Fn(&mut Vec<u8>),
) -> Result<Step, String> {
    let mut upload = upload(b, plan).expect("the scheme has chunked uploads")?;
    let mut body = upload.body().to_vec();
    change(&mut body);
    *upload.body_mut() = Bytes::from(body);
    Ok(Step::signed(
        b.canonical_of(&upload),
        upload,
        Expect::Reject,
    ))
}

/// Where each chunk of an aws-chunked body starts, its line included.
fn chunk_starts(body: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    let mut at = 0;
    let chunks = Framed::read(body).map(|f| f.chunks).unwrap_or_default();
    for chunk in chunks {
        let line = format!("{:x};chunk-signature=", chunk.data.len()).len() + chunk.signature.len();
        at += line + 2 + chunk.data.len() + 2;
        starts.push(at);
    }
    starts
}

/// Every payload case, or none for a scheme without chunked uploads.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let Some(chunked) = chunked_step(b, &plan(), Expect::Accept) else {
        return Vec::new();
    };
    let refused = |name: &str, what: &str, step: Result<Step, String>, control: Defect| {
        b.probe(Tamper, name, what, vec![step])
            .rule(b.cite("payload-hash"))
            .control(control)
            .twin(b.case_id(Acceptance, "chunked-upload"))
    };
    let planned = |plan: ChunkPlan| chunked_step(b, &plan, Expect::Reject).expect("chunked");
    let mut out = vec![
        b.probe(
            Acceptance,
            "unsigned-payload",
            "a body signed as UNSIGNED-PAYLOAD is accepted",
            vec![b.step(&unsigned(b), &b.recipe(b.now), Expect::Accept)],
        )
        .rule(b.cite("payload-hash"))
        .no_control("a valid request: nothing to ignore"),
        b.probe(
            Acceptance,
            "chunked-upload",
            "a chunk-signed upload (aws-chunked) is accepted",
            vec![chunked],
        )
        .rule(b.cite("payload-hash"))
        .no_control("a valid request: nothing to ignore"),
        refused(
            "chunk-changed",
            "a chunk-signed upload with a byte of a chunk changed after signing is rejected",
            changed_upload(b, &plan(), |body| {
                // One byte of the first chunk's data, after its line.
                if let Some(line) = body.windows(2).position(|w| w == b"\r\n") {
                    body[line + 2] ^= 0x01;
                }
            }),
            Defect::ChunksNotVerified,
        ),
        refused(
            "chunk-signature-changed",
            "a chunk-signed upload with a character of its first chunk's signature changed is rejected",
            changed_upload(b, &plan(), |body| {
                let at = body
                    .windows(16)
                    .position(|w| w == b"chunk-signature=")
                    .map_or(0, |at| at + 16);
                body[at] = if body[at] == b'0' { b'1' } else { b'0' };
            }),
            Defect::OnlyFinalChunkCompared,
        ),
        refused(
            "chunks-reordered",
            "a chunk-signed upload with its first two chunks (each with its signature) in the other order is rejected",
            changed_upload(b, &plan(), |body| {
                let starts = chunk_starts(body);
                if let [first, second, third, ..] = starts[..] {
                    let mut swapped = body[second..third].to_vec();
                    swapped.extend_from_slice(&body[first..second]);
                    body.splice(first..third, swapped);
                }
            }),
            Defect::ChunksNotVerified,
        ),
        refused(
            "chunk-signed-with-seed",
            "a chunk-signed upload whose every chunk is signed after the seed signature, not after the chunk before it, is rejected",
            planned(ChunkPlan {
                chained: false,
                ..plan()
            }),
            Defect::ChunksNotChained,
        ),
        refused(
            "chunk-final-missing",
            "a chunk-signed upload without its final empty chunk (Content-Length signed as sent) is rejected",
            planned(ChunkPlan {
                final_chunk: false,
                ..plan()
            }),
            Defect::FinalChunkOptional,
        ),
        refused(
            "decoded-length-wrong",
            "a chunk-signed upload whose signed x-amz-decoded-content-length is one more than its data is rejected",
            planned(ChunkPlan {
                decoded_length: Some(b.probe_request().body().len() as u64 + 1),
                ..plan()
            }),
            Defect::DecodedLengthUnchecked,
        ),
    ];
    out.extend(trailers(b));
    out = s3_only(b, out);
    out.extend(body_hash_signed(b));
    out
}

/// A chunked upload with a signed trailing checksum
/// (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`): accepted; refused with
/// the checksum of other data (signed), or the trailer's signature
/// changed.
fn trailers(b: &Builder<'_>) -> Vec<Probe> {
    let with_trailer = |checksum: Option<String>| ChunkPlan {
        trailer: Some(Trailer { checksum }),
        ..plan()
    };
    let twin = b.case_id(Acceptance, "chunked-upload-trailer");
    let other_data = sigconform_core::crypto::TagEncoding::Base64
        .encode(&sigconform_core::crypto::sha256(b"not the data sent"));
    let refused = |name: &str, what: &str, step: Result<Step, String>, control: Defect| {
        b.probe(Tamper, name, what, vec![step])
            .rule(b.cite("payload-hash"))
            .control(control)
            .twin(twin.clone())
    };
    vec![
        b.probe(
            Acceptance,
            "chunked-upload-trailer",
            "a chunk-signed upload with a signed trailing checksum (x-amz-checksum-sha256) is accepted",
            vec![
                chunked_step(b, &with_trailer(None), Expect::Accept)
                    .expect("the scheme has chunked uploads"),
            ],
        )
        .rule(b.cite("payload-hash"))
        .no_control("a valid request: nothing to ignore"),
        refused(
            "trailer-checksum-wrong",
            "a chunk-signed upload whose signed trailing checksum is another data's is rejected",
            chunked_step(b, &with_trailer(Some(other_data)), Expect::Reject)
                .expect("the scheme has chunked uploads"),
            Defect::TrailerChecksumUnchecked,
        ),
        refused(
            "trailer-signature-changed",
            "a chunk-signed upload with a character of its trailer's signature changed is rejected",
            changed_upload(b, &with_trailer(None), |body| {
                let marker = b"x-amz-trailer-signature:";
                if let Some(at) = body.windows(marker.len()).position(|w| w == marker) {
                    let at = at + marker.len();
                    body[at] = if body[at] == b'0' { b'1' } else { b'0' };
                }
            }),
            Defect::TrailerSignatureUnchecked,
        ),
    ]
}

/// For a service other than S3, whose signers need not send
/// `x-amz-content-sha256`: one signed with the body's hash, then the body
/// changed (S3's `tamper/body` is this case).
fn body_hash_signed(b: &Builder<'_>) -> Option<Probe> {
    if s3(b) {
        return None;
    }
    let mut signed = b.probe_request();
    let hash = sigconform_core::crypto::TagEncoding::LowerHex
        .encode(&sigconform_core::crypto::sha256(signed.body()));
    signed.headers_mut().insert(
        "x-amz-content-sha256",
        http::HeaderValue::from_str(&hash).expect("hex is a header value"),
    );
    let mut sent = signed.clone();
    set_body(&mut sent, &b.other_body());
    let recipe = Recipe {
        signed_as: Some(SignedAs {
            body: Some(b.probe_body().into()),
            headers: vec![Header(
                "content-length".into(),
                b.probe_body().len().to_string(),
            )],
            ..SignedAs::default()
        }),
        ..b.recipe(b.now)
    };
    Some(
        b.probe(
            Tamper,
            "body-with-content-sha256",
            "the body changed after signing, its hash signed in x-amz-content-sha256 (a verifier that trusts the header accepts it)",
            vec![b.step(&sent, &recipe, Expect::Reject)],
        )
        .rule(b.cite("payload-hash"))
        .control(Defect::TrustsBodyHash),
    )
}
