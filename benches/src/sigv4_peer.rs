//! The Rust peer for SigV4: the `aws-sigv4` crate (the AWS SDK for Rust's
//! signer). Verifying a SigV4 request is signing it again and comparing,
//! so its rate on a workload is how fast it signs the same requests, with
//! the same settings (S3's: the path as sent, `x-amz-content-sha256`).

use std::time::{Duration, Instant, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::measure::{Rate, best_of};
use crate::workload::{KEY_ID, Workload};

/// The signing settings of `w`'s form, with S3's path and payload rules.
fn settings(w: &Workload) -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    match w.presigned_for {
        Some(expires) => {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(expires));
        }
        None => settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256,
    }
    settings
}

/// The signature `aws-sigv4` computes for request `i` of `w` (its headers
/// as signed: those the runner's signer covered, without its own).
pub fn signature(w: &Workload, identity: &Identity, i: usize) -> Result<String, String> {
    let req = &w.requests[i];
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region("us-east-1")
        .name("s3")
        .time(UNIX_EPOCH + Duration::from_millis(w.now_ms))
        .settings(settings(w))
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let path = req.uri().path();
    // The request before signing: without the signature's own parameters.
    let query: Vec<&str> = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("X-Amz-"))
        .collect();
    let uri = format!("https://api.example.com{path}?{}", query.join("&"));
    // The headers the workload's signer covered, but those `aws-sigv4`
    // writes itself.
    let signed = signed_headers(req);
    let headers = req.headers().iter().filter_map(|(name, value)| {
        let own = matches!(name.as_str(), "x-amz-date" | "x-amz-content-sha256");
        (!own && signed.iter().any(|s| s == name.as_str()))
            .then(|| (name.as_str(), value.to_str().unwrap_or_default()))
    });
    let signable = SignableRequest::new(
        req.method().as_str(),
        uri,
        headers,
        // S3's presigned URLs sign no payload.
        match w.presigned_for {
            Some(_) => SignableBody::UnsignedPayload,
            None => SignableBody::Bytes(req.body()),
        },
    )
    .map_err(|e| e.to_string())?;
    let (_, signature) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    Ok(signature)
}

/// The header names a signed request lists (`SignedHeaders`).
fn signed_headers(req: &sigconform_core::Request) -> Vec<String> {
    let list = match req.headers().get("authorization") {
        Some(value) => value
            .to_str()
            .unwrap_or_default()
            .split("SignedHeaders=")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .unwrap_or_default()
            .to_owned(),
        None => req
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|p| p.strip_prefix("X-Amz-SignedHeaders="))
            .unwrap_or_default()
            .replace("%3B", ";"),
    };
    list.split(';').map(str::to_owned).collect()
}

/// The identity `w` was signed with, for [`signature`].
pub fn identity(w: &Workload) -> Identity {
    Credentials::new(KEY_ID, w.secret.expose(), None, None, "sigconform-bench").into()
}

/// Signatures per second of `aws-sigv4` over every request of `w`.
pub fn signatures(w: &Workload, budget: Duration) -> Rate {
    let identity = identity(w);
    best_of(budget, || {
        let started = Instant::now();
        for i in 0..w.requests.len() {
            std::hint::black_box(signature(w, &identity, i).expect("aws-sigv4 signs it"));
        }
        (w.requests.len(), started.elapsed())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigconform_core::Secret;
    use sigconform_core::registry::SchemeRef;

    /// The peer signs exactly what the workload's requests carry: the same
    /// signature, so its rate is that of the same work.
    #[test]
    fn aws_sigv4_signs_the_workload_as_it_is_signed() {
        let scheme = SchemeRef::by_name("sigv4").unwrap();
        let secret = Secret::new("bench-secret");
        let now_ms = 1_700_000_000_000;
        for w in [
            Workload::new(scheme.clone(), 1024, 2, "api.example.com", &secret, now_ms).unwrap(),
            Workload::presigned(scheme.clone(), 1024, 2, &secret, now_ms, 300).unwrap(),
        ] {
            let req = &w.requests[1];
            let ours = match w.presigned_for {
                Some(_) => req
                    .uri()
                    .query()
                    .unwrap()
                    .rsplit('=')
                    .next()
                    .unwrap()
                    .to_owned(),
                None => {
                    let value = req.headers()["authorization"].to_str().unwrap();
                    value.rsplit('=').next().unwrap().to_owned()
                }
            };
            assert_eq!(signature(&w, &identity(&w), 1).unwrap(), ours);
        }
    }
}
